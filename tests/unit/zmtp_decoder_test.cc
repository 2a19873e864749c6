#include "gateway/zmtp/zmtp_decoder.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "gateway/zmtp/zmtp_frames.h"

namespace botmodels {
namespace {

// What a decoder handed out, one line per command or message.
struct Seen {
  std::vector<std::string> lines;
  ZmtpDecoder::Handlers handlers{
      [this](std::string_view name, std::string_view data) {
        lines.push_back("command " + std::string(name) + " " + std::to_string(data.size()));
        return Status();
      },
      [this](std::span<const std::string_view> frames) {
        std::string line = "message";
        for (std::string_view f : frames) line += " " + std::string(f);
        lines.push_back(line);
        return Status();
      }};
};

// Feeds `bytes` `chunk` bytes at a time.
Status Feed(ZmtpDecoder& decoder, std::string_view bytes, size_t chunk, Seen& seen) {
  while (!bytes.empty()) {
    const size_t n = std::min(chunk, bytes.size());
    std::span<char> room = decoder.Prepare(n);
    std::copy_n(bytes.data(), n, room.data());
    BOTMODELS_RETURN_IF_ERROR(decoder.Commit(n, seen.handlers));
    bytes.remove_prefix(n);
  }
  return Status();
}

std::string Message(const std::vector<std::string>& frames) {
  std::string out;
  for (size_t i = 0; i < frames.size(); ++i) {
    AppendZmtpFrameHeader(out, frames[i].size(), i + 1 < frames.size());
    out += frames[i];
  }
  return out;
}

std::string Greeting(std::string_view mechanism = "NULL") {
  std::string g = ZmtpGreeting();
  g.replace(12, 20, std::string(20, '\0'));
  g.replace(12, mechanism.size(), mechanism);
  return g;
}

TEST(ZmtpDecoder, ReadsAStreamTheSameHoweverItIsCut) {
  const std::string big(300, 'b');  // an 8-byte size
  const std::string stream = Greeting() + ZmtpReady("ROUTER") + Message({"one"}) +
                             Message({"a", big, "c"}) +
                             ZmtpCommand("PING", std::string_view("\x00\x0a"
                                                                  "ctx",
                                                                  5)) +
                             Message({""});
  const std::vector<std::string> expected{"command READY 22", "message one",
                                          "message a " + big + " c", "command PING 5", "message "};
  for (size_t chunk : {1, 2, 7, 64, 65, 1000}) {
    ZmtpDecoder decoder(1 << 20);
    Seen seen;
    ASSERT_TRUE(Feed(decoder, stream, chunk, seen).ok()) << "chunk " << chunk;
    EXPECT_EQ(seen.lines, expected) << "chunk " << chunk;
    EXPECT_EQ(decoder.peer_minor_version(), 1);
  }
}

TEST(ZmtpDecoder, HandsOutNothingUntilAMessageIsWhole) {
  ZmtpDecoder decoder(1 << 20);
  Seen seen;
  const std::string message = Message({"head", "tail"});
  ASSERT_TRUE(Feed(decoder, Greeting() + message.substr(0, message.size() - 1), 5, seen).ok());
  EXPECT_TRUE(seen.lines.empty());
  ASSERT_TRUE(Feed(decoder, message.substr(message.size() - 1), 1, seen).ok());
  EXPECT_EQ(seen.lines, std::vector<std::string>{"message head tail"});
}

TEST(ZmtpDecoder, RefusesAnotherSecurityMechanismByName) {
  ZmtpDecoder decoder(1 << 20);
  Seen seen;
  const Status s = Feed(decoder, Greeting("CURVE"), 64, seen);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("CURVE"), std::string::npos) << s.message();
}

TEST(ZmtpDecoder, RefusesBytesThatAreNotZmtp) {
  ZmtpDecoder decoder(1 << 20);
  Seen seen;
  std::string http = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n";
  http.resize(ZmtpDecoder::kGreetingBytes, ' ');
  EXPECT_FALSE(Feed(decoder, http, 64, seen).ok());
  std::string old = Greeting();
  old[10] = 2;  // ZMTP 2.0
  ZmtpDecoder second(1 << 20);
  EXPECT_FALSE(Feed(second, old, 64, seen).ok());
}

TEST(ZmtpDecoder, RefusesAMessageOverItsLimitBeforeItsBytesArrive) {
  ZmtpDecoder decoder(1000);
  Seen seen;
  // A frame that says it holds 1 GiB: refused from its 9-byte header.
  std::string header;
  AppendZmtpFrameHeader(header, size_t{1} << 30, false);
  EXPECT_FALSE(Feed(decoder, Greeting() + header, 100, seen).ok());
  // Frames under the limit alone but over it together.
  ZmtpDecoder second(1000);
  EXPECT_FALSE(
      Feed(second, Greeting() + Message({std::string(600, 'x'), std::string(600, 'y')}), 100, seen)
          .ok());
  EXPECT_TRUE(seen.lines.empty());
}

TEST(ZmtpDecoder, RefusesFramesThatBreakTheProtocol) {
  const std::vector<std::pair<std::string, std::string>> cases{
      {"reserved flag bits", std::string("\x08\x01x", 3)},
      {"a command with MORE", std::string("\x05\x01x", 3)},
      {"a command in a message", Message({"a", "b"}).substr(0, 3) + ZmtpCommand("PING", "\0\0")},
      {"a command's name past its frame", std::string("\x04\x02\x09x", 4)},
      {"an empty command", std::string("\x04\x00", 2)},
  };
  for (const auto& [what, bytes] : cases) {
    ZmtpDecoder decoder(1 << 20);
    Seen seen;
    EXPECT_FALSE(Feed(decoder, Greeting() + bytes, 3, seen).ok()) << what;
  }
  std::string many;
  for (size_t i = 0; i <= ZmtpDecoder::kMaxFramesPerMessage; ++i)
    AppendZmtpFrameHeader(many, 0, true);
  ZmtpDecoder decoder(1 << 20);
  Seen seen;
  EXPECT_FALSE(Feed(decoder, Greeting() + many, 1000, seen).ok()) << "too many frames";
}

TEST(ZmtpDecoder, AHandlersErrorEndsTheStream) {
  ZmtpDecoder decoder(1 << 20);
  ZmtpDecoder::Handlers refuse{
      nullptr, [](std::span<const std::string_view>) { return InvalidRequest("no"); }};
  const std::string bytes = Greeting() + Message({"x"});
  std::span<char> room = decoder.Prepare(bytes.size());
  std::copy(bytes.begin(), bytes.end(), room.data());
  EXPECT_FALSE(decoder.Commit(bytes.size(), refuse).ok());
}

TEST(ZmtpFrames, ReadyNamesTheSocketTypeAndPropertiesAreFound) {
  const std::string ready = ZmtpReady("DEALER");
  // flags, size, then name-size "READY" and the properties.
  const std::string_view data = std::string_view(ready).substr(2 + 1 + 5);
  EXPECT_EQ(ZmtpProperty(data, "Socket-Type"), "DEALER");
  EXPECT_EQ(ZmtpProperty(data, "socket-type"), "DEALER");
  EXPECT_EQ(ZmtpProperty(data, "Identity"), "");
  EXPECT_EQ(ZmtpProperty(data.substr(0, data.size() - 1), "Socket-Type"), "") << "cut short";
}

}  // namespace
}  // namespace botmodels
