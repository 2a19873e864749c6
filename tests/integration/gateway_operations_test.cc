// The gateway in operation: concurrency, both broker links, health and
// restarts, eviction, overload and deadlines, a gateway on its own over
// TLS, and failover to a second broker (gateway_fixture.h).
#include <gtest/gtest.h>
#include <httplib.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <boost/process.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "tests/broker_harness.h"
#include "tests/integration/gateway_fixture.h"
#include "tests/testutil.h"

namespace botmodels {
namespace {

using namespace gateway_test;

TEST_F(Gateway, AnswersSixtyFourConcurrentRequests) {
  ASSERT_NO_FATAL_FAILURE(Start({"barcode"}));
  constexpr int kClients = 64;
  std::vector<std::thread> clients;
  std::vector<int> statuses(kClients);
  std::vector<std::string> data(kClients);
  for (int i = 0; i < kClients; ++i) {
    clients.emplace_back([&, i] {
      auto r = Upload("/api/vision/barcode", QrPng("code " + std::to_string(i)), "image.png",
                      "image/png");
      statuses[i] = r ? r->status : -1;
      if (r && r->status == 200) data[i] = json::parse(r->body)["data"];
    });
  }
  for (auto& c : clients) c.join();
  for (int i = 0; i < kClients; ++i) {
    EXPECT_EQ(statuses[i], 200) << i;
    EXPECT_EQ(data[i], "code " + std::to_string(i));
  }
}

// broker_link = "libzmq" (what CURVE uses): the same answers through libzmq's DEALER.
TEST_F(Gateway, AnswersThroughLibzmqAsThroughItsOwnZmtp) {
  ASSERT_NO_FATAL_FAILURE(
      Start({"barcode"}, "broker_link = \"libzmq\"\n", "", true, {}, "", {"double"}));
  constexpr int kClients = 16;
  std::vector<std::thread> clients;
  std::vector<std::string> data(kClients);
  for (int i = 0; i < kClients; ++i) {
    clients.emplace_back([&, i] {
      auto r = Upload("/api/vision/barcode", QrPng("code " + std::to_string(i)), "image.png",
                      "image/png");
      if (r && r->status == 200) data[i] = json::parse(r->body)["data"];
    });
  }
  for (auto& c : clients) c.join();
  for (int i = 0; i < kClients; ++i) EXPECT_EQ(data[i], "code " + std::to_string(i));
  for (int i = 0; i < 200; ++i) {
    auto r = PostJson("/api/infer/double", {{"inputs", {{"x", {1.5, -2, 0.1, 4}}}}});
    ASSERT_TRUE(r) << i;
    ASSERT_EQ(r->status, 200) << r->body;
  }
}

TEST_F(Gateway, HealthFollowsTheBrokerAndTheBrokerRestartsAKilledGateway) {
  ASSERT_NO_FATAL_FAILURE(Start({"barcode", "ocr", "tts", "stt"}));
  ASSERT_TRUE(WaitHealth(200)) << broker_->log();
  const json health = json::parse(Http().Get("/api/health")->body);
  EXPECT_EQ(health["status"], "healthy");
  EXPECT_EQ(health["device"], "cpu");
  EXPECT_EQ(health["models"]["ocr"], "ready");

  const std::string marker = "started gateway, pid ";
  const std::string log = broker_->log();
  const auto at = log.find(marker);
  ASSERT_NE(at, std::string::npos) << log;
  const int pid = std::stoi(log.substr(at + marker.size()));
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  // Restarted after the backoff (on another port: this test's config asks for any free one).
  port_ = Port(2);
  ASSERT_TRUE(WaitHealth(200)) << broker_->log();
  EXPECT_NE(broker_->log().find("restarted gateway"), std::string::npos);
  auto r = Upload("/api/vision/qrcode", QrPng("again"), "image.png", "image/png");
  ASSERT_TRUE(r);
  EXPECT_EQ(json::parse(r->body)["data"], "again");
}

// A model evicted for idleness is healthy: its next request starts it.
TEST_F(Gateway, AnEvictedModelStaysHealthyAndItsNextRequestIsServed) {
  ASSERT_NO_FATAL_FAILURE(Start({"barcode", "ocr", "tts", "stt"}, "", "idle_unload_s = 1\n"));
  ASSERT_TRUE(broker_->WaitStatus([](const protocol::Reply& r) {
    return std::all_of(r.workers.begin(), r.workers.end(), [](const protocol::WorkerInfo& w) {
      return w.state == protocol::WorkerStatus::kEvicted;
    });
  })) << broker_->log();
  auto health = Http().Get("/api/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200) << health->body;
  EXPECT_EQ(json::parse(health->body)["models"]["barcode"], "ready");
  auto r = Upload("/api/vision/qrcode", QrPng("woken"), "image.png", "image/png");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(json::parse(r->body)["data"], "woken");
}

TEST_F(Gateway, AFullQueueIs429WithRetryAfterAndAPassedDeadlineIs504) {
  ASSERT_NO_FATAL_FAILURE(Start({"barcode", "ocr"}, "[gateway.timeouts]\nvision_ocr = 1\n",
                                "queue_size = 1\nmax_inflight = 1\n"));
  auto page = media::RenderText("A deadline of one millisecond", 32);
  auto late = Upload("/api/vision/ocr", media::PixToPng(page.get()), "image.png", "image/png");
  ASSERT_TRUE(late);
  EXPECT_EQ(late->status, 504) << late->body;
  EXPECT_EQ(json::parse(late->body)["code"], "deadline_exceeded");

  constexpr int kClients = 16;
  const std::string qr = QrPng("busy");
  std::vector<std::thread> clients;
  std::vector<int> statuses(kClients);
  std::vector<std::string> retry_after(kClients);
  for (int i = 0; i < kClients; ++i) {
    clients.emplace_back([&, i] {
      auto r = Upload("/api/vision/barcode", qr, "image.png", "image/png");
      statuses[i] = r ? r->status : -1;
      if (r) retry_after[i] = r->get_header_value("Retry-After");
    });
  }
  for (auto& c : clients) c.join();
  int overloaded = 0;
  for (int i = 0; i < kClients; ++i) {
    EXPECT_TRUE(statuses[i] == 200 || statuses[i] == 429) << statuses[i];
    if (statuses[i] == 429) {
      ++overloaded;
      EXPECT_EQ(retry_after[i], "1");
    }
  }
  EXPECT_GT(overloaded, 0) << "16 at once into a queue of 1";
  EXPECT_LT(overloaded, kClients);
}

// A self-signed certificate for 127.0.0.1 (P-256, a day), written as PEM.
void WriteCertificate(const fs::path& cert_path, const fs::path& key_path) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* cert = X509_new();
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert), 24 * 3600);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("127.0.0.1"), -1, -1, 0);
  X509_set_issuer_name(cert, name);
  X509_sign(cert, key, EVP_sha256());
  FILE* out = std::fopen(cert_path.c_str(), "w");
  PEM_write_X509(out, cert);
  std::fclose(out);
  out = std::fopen(key_path.c_str(), "w");
  PEM_write_PrivateKey(out, key, nullptr, nullptr, 0, nullptr, nullptr);
  std::fclose(out);
  fs::permissions(key_path, fs::perms::owner_read | fs::perms::owner_write);
  X509_free(cert);
  EVP_PKEY_free(key);
}

TEST_F(Gateway, RunsOnItsOwnFromAGatewayOnlyConfigOverTls) {
  ASSERT_NO_FATAL_FAILURE(Start({"barcode"}, "", "", /*with_gateway=*/false));
  WriteCertificate(dir_ / "cert.pem", dir_ / "key.pem");
  // What another host's gateway reads: the broker's frontend, its own broker
  // key, [gateway]; no [models].
  testing::WriteFile(
      dir_ / "gateway.toml",
      "[broker]\nfrontend = \"" + broker_->frontend() + "\"\n[auth]\nkeys_file = \"keys.toml\"\n" +
          GatewaySection("tls_cert_file = \"cert.pem\"\ntls_key_file = \"key.pem\"\n"));
  const std::string log = (dir_ / "gateway.log").string();
  boost::process::child gateway = OwnGateway(log);
  const int port = OwnGatewayPort(log, "https");
  ASSERT_GT(port, 0) << testing::ReadFile(log);
  httplib::SSLClient https("127.0.0.1", port);
  https.enable_server_certificate_verification(false);  // self-signed
  httplib::MultipartFormDataItems items = {{"file", QrPng("over tls"), "image.png", "image/png"}};
  auto r = https.Post("/api/vision/qrcode", Key(), items);
  ASSERT_TRUE(r) << httplib::to_string(r.error());
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(json::parse(r->body)["data"], "over tls");
  // Plain HTTP on the TLS port gets nothing.
  httplib::Client plain("127.0.0.1", port);
  auto refused = plain.Get("/api/health");
  EXPECT_TRUE(!refused || refused->status != 200);
  // SIGTERM: it finishes and exits cleanly.
  ::kill(gateway.id(), SIGTERM);
  gateway.wait();
  EXPECT_EQ(gateway.exit_code(), 0) << testing::ReadFile(log);
  EXPECT_NE(testing::ReadFile(log).find("gateway stopped"), std::string::npos);
}

// A gateway on its own with a second broker to fail over to: killing its
// broker costs botserver no request.
TEST_F(Gateway, MovesItsRequestsToTheNextBrokerWhenItsBrokerIsKilled) {
  ASSERT_NO_FATAL_FAILURE(Start({"barcode"}, "", "", /*with_gateway=*/false));
  BrokerHarness second;
  testing::WriteFile(second.repository() + "/barcode/model.toml",
                     "backend = \"barcode\"\npreload = true\n");
  ASSERT_NO_FATAL_FAILURE(second.Start(1));
  testing::WriteFile(dir_ / "gateway.toml",
                     "[broker]\nfrontend = \"" + broker_->frontend() +
                         "\"\n[auth]\nkeys_file = \"keys.toml\"\n" +
                         GatewaySection("failover_brokers = [\"" + second.frontend() + "\"]\n"));
  const std::string log = (dir_ / "gateway.log").string();
  boost::process::child gateway = OwnGateway(log);
  port_ = OwnGatewayPort(log, "http");
  ASSERT_GT(port_, 0) << testing::ReadFile(log);
  auto first = Upload("/api/vision/qrcode", QrPng("first broker"), "a.png", "image/png");
  ASSERT_TRUE(first && first->status == 200) << (first ? first->body : "no reply");

  broker_->Stop(SIGKILL);
  std::vector<std::thread> clients;
  std::atomic<int> answered{0};
  for (int i = 0; i < 8; ++i) {
    clients.emplace_back([&, i] {
      const std::string text = "after the kill " + std::to_string(i);
      auto r = Upload("/api/vision/qrcode", QrPng(text), "a.png", "image/png");
      ASSERT_TRUE(r) << httplib::to_string(r.error());
      ASSERT_EQ(r->status, 200) << r->body;
      EXPECT_EQ(json::parse(r->body)["data"], text);
      ++answered;
    });
  }
  for (std::thread& t : clients) t.join();
  EXPECT_EQ(answered.load(), 8);
  EXPECT_NE(testing::ReadFile(log).find("unanswered requests to " + second.frontend()),
            std::string::npos)
      << testing::ReadFile(log);
  ::kill(gateway.id(), SIGTERM);
  gateway.wait();
}

}  // namespace
}  // namespace botmodels
