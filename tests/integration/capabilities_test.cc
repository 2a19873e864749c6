// The native backends behind a real broker, in botmodels-worker-native
// processes: OCR, barcodes, QR codes, speech, and streamed replies.
#include <gtest/gtest.h>
#include <signal.h>
#include <sndfile.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "common/process_info.h"
#include "common/value.h"
#include "models/codecs/wav.h"
#include "testing/media.h"
#include "tests/broker_harness.h"
#include "tests/testutil.h"

namespace botmodels {
namespace {

using nlohmann::json;
using protocol::DType;
using testing::BrokerHarness;

void WriteModel(const BrokerHarness& broker, const std::string& name, const std::string& toml) {
  testing::WriteFile(broker.repository() + "/" + name + "/model.toml", toml);
}

protocol::Tensor Text(std::string s) { return {DType::kString, {}, std::move(s)}; }
protocol::Tensor Bytes(std::string s) { return {DType::kBytes, {}, std::move(s)}; }

// Whether the process maps libtorch (its RSS and start-up time are libtorch's).
bool MapsLibtorch(int64_t pid) {
  std::ifstream maps("/proc/" + std::to_string(pid) + "/maps");
  const std::string text{std::istreambuf_iterator<char>(maps), {}};
  return text.find("libtorch") != std::string::npos || text.find("libc10") != std::string::npos;
}

// A long text: `words` words of plain English.
std::string LongText(int words) {
  static const char* kWords[] = {"the",     "service", "reads", "every", "message", "and",
                                 "answers", "with",    "a",     "clear", "voice."};
  std::string text;
  for (int i = 0; i < words; ++i) text += std::string(kWords[i % 11]) + " ";
  return text;
}

class Capabilities : public ::testing::Test {
 protected:
  void SetUp() override {
    WriteModel(broker_, "ocr", "backend = \"ocr\"\npreload = true\n");
    WriteModel(broker_, "barcode", "backend = \"barcode\"\n");
    WriteModel(broker_, "qrcode", "backend = \"qrcode\"\n");
    WriteModel(broker_, "tts", "backend = \"tts\"\npreload = true\n");
    WriteModel(broker_, "stt", "backend = \"stt\"\npreload = true\n");
    ASSERT_NO_FATAL_FAILURE(broker_.Start(5));
    client_ = broker_.NewClient();
  }
  Result<protocol::NamedTensors> Infer(const std::string& model, protocol::NamedTensors inputs) {
    return client_->Infer(model, std::move(inputs));
  }

  BrokerHarness broker_;
  std::unique_ptr<Client> client_;
};

TEST_F(Capabilities, NativeWorkersServeWithoutLibtorch) {
  ASSERT_TRUE(broker_.WaitStatus([](const protocol::Reply& r) {
    return std::all_of(r.workers.begin(), r.workers.end(), [](const auto& w) { return w.pid > 0; });
  }));
  for (const std::string id : {"ocr-0", "barcode-0", "qrcode-0", "tts-0", "stt-0"}) {
    const auto worker = broker_.Worker(id);
    EXPECT_FALSE(MapsLibtorch(worker.pid)) << id;
  }
}

TEST_F(Capabilities, OcrReadsRenderedTextAndABadImageCostsOnlyItsOwnRequest) {
  auto text = media::RenderText("Invoice 2026-11 total 42.50", 32);
  auto bad = Infer("ocr", {{"image", Bytes(media::PngHeaderClaiming(50000, 50000))}});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), ErrorCode::kInvalidRequest);
  EXPECT_NE(bad.status().message().find("max_pixels"), std::string::npos);
  const int64_t pid = broker_.Worker("ocr-0").pid;
  auto read = Infer("ocr", {{"image", Bytes(media::PixToPng(text.get()))}});
  ASSERT_OK(read);
  EXPECT_EQ(read->at("text").data, "Invoice 2026-11 total 42.50\n");
  EXPECT_EQ(broker_.Worker("ocr-0").pid, pid);  // the same process served on
  auto unknown = Infer("ocr", {{"image", Bytes("x")}, {"colour", Text("red")}});
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("has no input 'colour'"), std::string::npos);
}

TEST_F(Capabilities, AQrCodeMadeByOneModelIsReadByAnother) {
  auto png = Infer("qrcode", {{"text", Text("https://example.org/grüße?x=1")}});
  ASSERT_OK(png);
  auto codes = Infer("barcode", {{"image", png->at("image")}});
  ASSERT_OK(codes);
  const json list = json::parse(ValueToJson(codes->at("codes").data));
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["text"], "https://example.org/grüße?x=1");
}

TEST_F(Capabilities, SpeechSynthesizedByTtsIsTranscribedBySttAsAnOggOpusVoiceNote) {
  auto speech = Infer("tts", {{"text", Text("Please call me back in the morning.")}});
  ASSERT_OK(speech);
  int rate = 0;
  const auto samples = ReadWavSamples(speech->at("audio").data, &rate);
  // WhatsApp sends Ogg/Opus at 48 kHz: the same speech, resampled crudely for the test.
  std::vector<int16_t> at48(samples.size() * 3);
  for (size_t i = 0; i < at48.size(); ++i) at48[i] = samples[i / 3];
  const std::string opus = media::EncodeAudio(at48, 48000, 1, SF_FORMAT_OGG | SF_FORMAT_OPUS);
  auto heard = Infer("stt", {{"audio", Bytes(opus)}});
  ASSERT_OK(heard);
  EXPECT_LE(media::WordErrorRate("Please call me back in the morning.", heard->at("text").data),
            0.35)
      << heard->at("text").data;
}

TEST_F(Capabilities, TheFirstTtsChunkArrivesBeforeTheFinalReplyAndTheChunksHoldTheSpeech) {
  const std::string text = LongText(120);
  using Clock = std::chrono::steady_clock;
  std::vector<Clock::time_point> arrivals;
  std::string pcm;
  const auto start = Clock::now();
  auto final_reply = client_->Stream(testing::InferRequest("tts", {{"text", Text(text)}}),
                                     [&](const protocol::Reply& partial) {
                                       arrivals.push_back(Clock::now());
                                       EXPECT_TRUE(partial.more);
                                       pcm += partial.outputs.at("pcm").data;
                                     });
  const auto done = Clock::now();
  ASSERT_OK(final_reply);
  ASSERT_OK(final_reply->status);
  EXPECT_FALSE(final_reply->more);
  EXPECT_EQ(final_reply->outputs.count("audio"), 0u);
  EXPECT_EQ(final_reply->outputs.at("voice").data, "slt");
  ASSERT_GE(arrivals.size(), 3u);
  // The first of some 12 sentences is out while the others are still being synthesized: a
  // stream, not a whole reply cut up at the end (a ratio, not a speed: it holds on any machine).
  EXPECT_LT(arrivals.front() - start, (done - start) / 2);
  // 120 words of speech: some 40 s at 16 kHz, and every chunk is whole samples.
  EXPECT_EQ(pcm.size() % 2, 0u);
  EXPECT_GT(pcm.size() / 2, 16000u * 20);
  // An unstreamed request gets the same speech in one WAV (the engine's own variation aside).
  auto whole = Infer("tts", {{"text", Text(text)}});
  ASSERT_OK(whole);
  EXPECT_NEAR(static_cast<double>(whole->at("audio").data.size() - 44), pcm.size(),
              pcm.size() * 0.05);
}

TEST_F(Capabilities, AWorkerKilledMidStreamEndsTheStreamWithOneFinalError) {
  const int64_t pid = broker_.Worker("tts-0").pid;
  int partials = 0;
  auto final_reply = client_->Stream(testing::InferRequest("tts", {{"text", Text(LongText(3000))}}),
                                     [&](const protocol::Reply&) {
                                       if (++partials == 1)
                                         ::kill(static_cast<pid_t>(pid), SIGKILL);
                                     });
  ASSERT_OK(final_reply);
  EXPECT_EQ(final_reply->status.code(), ErrorCode::kWorkerCrashed);
  EXPECT_TRUE(final_reply->retryable);
  EXPECT_NE(final_reply->status.message().find("not retried"), std::string::npos)
      << final_reply->status.message();
  EXPECT_GE(partials, 1);
  // Nothing follows the final reply, and a fresh process serves the next request.
  EXPECT_FALSE(client_->Receive(std::chrono::milliseconds(300)));
  ASSERT_TRUE(broker_.WaitStatus([pid](const protocol::Reply& r) {
    for (const auto& w : r.workers) {
      if (w.id == "tts-0") return w.pid != pid && w.state == protocol::WorkerStatus::kReady;
    }
    return false;
  }));
  EXPECT_OK(Infer("tts", {{"text", Text("Back again.")}}));
}

TEST_F(Capabilities, AClientThatStopsReadingDoesNotGrowTheBrokersMemoryPastABound) {
  // Some 25 minutes of eSpeak NG speech (~65 MB of PCM) to a client that reads nothing.
  auto reader = broker_.NewClient();
  auto request =
      testing::InferRequest("tts", {{"text", Text(LongText(4000))}, {"voice", Text("en")}});
  request.stream = true;
  const uint64_t served_before = broker_.Worker("tts-0").served;
  const int64_t broker_rss_before = RssBytes(broker_.pid());
  const std::string id = reader->Send(request);
  int64_t broker_rss_peak = broker_rss_before;
  // The worker synthesizes it all (bounded by max_text_bytes) while nobody reads,
  // until its final reply reaches the broker (`served` counts final replies).
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < until) {
    broker_rss_peak = std::max(broker_rss_peak, RssBytes(broker_.pid()));
    if (broker_.Worker("tts-0").served > served_before) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_GT(broker_.Worker("tts-0").served, served_before) << "the synthesis did not end";
  // The bound: 1000 queued replies (BrokerSockets::kClientQueue) of at most ~0.35 s of
  // 22 kHz audio (~16 KB) each, plus slack for the allocator: far below the stream.
  constexpr int64_t kBound = 1000 * 16'000 + (24 << 20);
#if defined(__SANITIZE_ADDRESS__)
  // AddressSanitizer holds freed memory in quarantine (256 MB): RSS is not live memory there.
  (void)kBound;
#else
  EXPECT_LT(broker_rss_peak - broker_rss_before, kBound);
#endif
  std::cout << "broker RSS grew " << (broker_rss_peak - broker_rss_before) / 1e6
            << " MB while a stalled client's stream ran\n";
  // The reader now finds the partials that fit, then one final error.
  int partials = 0;
  std::optional<protocol::Reply> last;
  while (auto reply = reader->Receive(std::chrono::seconds(5))) {
    ASSERT_EQ(reply->id, id);
    if (!reply->more) {
      last = reply;
      break;
    }
    ++partials;
  }
  ASSERT_TRUE(last);
  EXPECT_EQ(last->status.code(), ErrorCode::kOverloaded) << last->status.message();
  EXPECT_NE(last->status.message().find("ended the stream"), std::string::npos);
  EXPECT_GT(partials, 100);
  EXPECT_FALSE(reader->Receive(std::chrono::milliseconds(200)));
}

}  // namespace
}  // namespace botmodels
