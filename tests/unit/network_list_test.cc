#include "common/network_list.h"

#include <gtest/gtest.h>

#include "tests/testutil.h"

namespace botmodels {
namespace {

TEST(NetworkList, AddressesInsideTheirNetworksOnlyMatch) {
  auto list = NetworkList::Parse({"127.0.0.0/8", "::1", "10.1.0.0/16", "fd00::/8", "192.168.1.7"});
  ASSERT_OK(list);
  for (const char* in : {"127.0.0.1", "127.255.0.9", "::1", "10.1.200.3", "fd12:3456::1",
                         "192.168.1.7", "::ffff:127.0.0.1"}) {
    EXPECT_TRUE(list->Contains(in)) << in;
  }
  for (const char* out : {"128.0.0.1", "10.2.0.1", "::2", "fe80::1", "192.168.1.8",
                          "::ffff:10.2.0.1", "", "localhost", "127.0.0.1/8"}) {
    EXPECT_FALSE(list->Contains(out)) << out;
  }
}

TEST(NetworkList, PrefixesNotOnByteBoundariesAndTheExtremes) {
  auto list = NetworkList::Parse({"172.16.0.0/12"});
  ASSERT_OK(list);
  EXPECT_TRUE(list->Contains("172.31.255.255"));
  EXPECT_FALSE(list->Contains("172.32.0.0"));
  auto all = NetworkList::Parse({"0.0.0.0/0"});
  ASSERT_OK(all);
  EXPECT_TRUE(all->Contains("8.8.8.8"));
  EXPECT_FALSE(all->Contains("2001:db8::1"));  // every IPv4 address, no IPv6 one
  EXPECT_FALSE(NetworkList().Contains("127.0.0.1"));
}

TEST(NetworkList, WhatIsNotANetworkIsAnErrorNamingIt) {
  for (const char* bad : {"127.0.0.0/33", "::/129", "127.0.0.0/", "127.0.0.0/x", "localhost",
                          "10.0.0.0/-1", "1.2.3.4/0008", ""}) {
    auto list = NetworkList::Parse({"::1", bad});
    ASSERT_FALSE(list.ok()) << bad;
    EXPECT_NE(list.status().message().find(std::string("'") + bad + "'"), std::string::npos)
        << list.status().message();
  }
}

}  // namespace
}  // namespace botmodels
