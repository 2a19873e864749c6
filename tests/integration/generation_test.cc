// Image and video generation behind a real broker, in botmodels-worker
// processes, on the stand-in models (random weights): PNGs of the size
// asked for, reproducible by seed, progress in order, a deadline that
// stops the run between steps, memory checked before a run, MP4s read
// back, and the CLI writing a file.
#include <gtest/gtest.h>
#include <leptonica/allheaders.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "common/value.h"
#include "tests/broker_harness.h"
#include "tests/testutil.h"
#include "tests/video_probe.h"

namespace botmodels {
namespace {

using nlohmann::json;
using protocol::DType;
using testing::BrokerHarness;
namespace fs = std::filesystem;

protocol::Tensor Text(std::string s) { return {DType::kString, {}, std::move(s)}; }
protocol::Tensor Int(int64_t x) { return {DType::kValue, {}, ValueWriter().Int(x).Take()}; }
json Value(const protocol::NamedTensors& outputs, const std::string& name) {
  return json::parse(ValueToJson(outputs.at(name).data));
}

// The size of a PNG, read by Leptonica; 0 x 0 when it is none.
std::pair<int, int> PngSize(const std::string& png) {
  Pix* pix = pixReadMem(reinterpret_cast<const l_uint8*>(png.data()), png.size());
  if (!pix) return {0, 0};
  const std::pair<int, int> size{pixGetWidth(pix), pixGetHeight(pix)};
  pixDestroy(&pix);
  return size;
}

class Generation : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* name : {"sd-standin", "video-standin"}) {
      fs::copy(std::string(BOTMODELS_STANDIN_MODELS) + "/" + name,
               broker_.repository() + "/" + name, fs::copy_options::recursive);
    }
    // Room for a run long enough that a deadline surely falls inside it.
    const std::string toml = broker_.repository() + "/sd-standin/model.toml";
    testing::WriteFile(toml, testing::ReadFile(toml) + "max_steps = 1000\n");
    ASSERT_NO_FATAL_FAILURE(broker_.Start(2));
    client_ = broker_.NewClient();
  }

  protocol::Request Image(int64_t seed, int steps) {
    protocol::Request request;
    request.op = protocol::Op::kInfer;
    request.model = "sd-standin";
    request.inputs = {{"prompt", Text("a red bicycle")},
                      {"seed", Int(seed)},
                      {"steps", Int(steps)},
                      {"width", Int(96)},
                      {"height", Int(64)}};
    return request;
  }

  BrokerHarness broker_;
  std::unique_ptr<Client> client_;
};

TEST_F(Generation, ImagesComeReproduciblyWithTheirProgressInOrder) {
  std::vector<int> steps;
  auto streamed = client_->Stream(Image(9, 4), [&](const protocol::Reply& partial) {
    EXPECT_EQ(Value(partial.outputs, "steps"), 4);
    steps.push_back(Value(partial.outputs, "step"));
  });
  ASSERT_OK(streamed);
  ASSERT_TRUE(streamed->status.ok()) << streamed->status.message();
  EXPECT_EQ(steps, (std::vector<int>{1, 2, 3, 4}));
  const std::string png = streamed->outputs.at("image").data;
  EXPECT_EQ(PngSize(png), (std::pair{96, 64}));
  EXPECT_EQ(Value(streamed->outputs, "seed"), 9);

  auto again = client_->Call(Image(9, 4));  // unstreamed: the same bytes
  ASSERT_OK(again);
  ASSERT_TRUE(again->status.ok()) << again->status.message();
  EXPECT_EQ(again->outputs.at("image").data, png);
  auto other = client_->Call(Image(10, 4));
  ASSERT_OK(other);
  EXPECT_NE(other->outputs.at("image").data, png) << "another seed, another image";
}

TEST_F(Generation, ADeadlineMidRunEndsItAndTheWorkerServesOnAtOnce) {
  // 1000 steps at 1024 × 1024 take many seconds; the deadline comes after a few.
  protocol::Request request = Image(1, 1000);
  request.inputs["width"] = Int(1024);
  request.inputs["height"] = Int(1024);
  request.timeout_ms = 1500;
  int partials = 0;
  auto reply = client_->Stream(std::move(request), [&](const protocol::Reply&) { ++partials; });
  ASSERT_OK(reply);
  EXPECT_EQ(reply->status.code(), ErrorCode::kDeadlineExceeded) << reply->status.message();
  EXPECT_GT(partials, 0) << "the run had started";
  EXPECT_LT(partials, 1000);
  // Had the worker run on, the next request would wait seconds for it.
  const auto pid = broker_.Worker("sd-standin-0").pid;
  auto next = client_->Infer("sd-standin", {{"prompt", Text("a cat")}}, 3000);
  ASSERT_OK(next);
  EXPECT_EQ(broker_.Worker("sd-standin-0").pid, pid) << "stopped, not killed";
}

TEST_F(Generation, ASizeThatCannotFitIsOutOfMemoryAtOnce) {
  // The stand-in's worker holds at most 512 MiB; 2048 × 2048 needs ~1 GiB.
  auto big = client_->Infer(
      "sd-standin", {{"prompt", Text("a cat")}, {"width", Int(2048)}, {"height", Int(2048)}});
  EXPECT_EQ(big.status().code(), ErrorCode::kOutOfMemory) << big.status().message();
  auto fine = client_->Infer("sd-standin", {{"prompt", Text("a cat")}});
  ASSERT_OK(fine);
  EXPECT_EQ(PngSize(fine->at("image").data), (std::pair{64, 64})) << "the model's default size";
}

TEST_F(Generation, VideoIsAnMp4WithTheFramesAndRateAskedFor) {
  auto out =
      client_->Infer("video-standin",
                     {{"prompt", Text("a red bicycle")}, {"num_frames", Int(12)}, {"fps", Int(6)}});
  ASSERT_OK(out);
  auto info = testing::ProbeVideo(out->at("video").data);
  ASSERT_OK(info);
  EXPECT_EQ(info->codec, "h264");
  EXPECT_EQ(info->frames, 12);
  EXPECT_DOUBLE_EQ(info->fps, 6);
  EXPECT_EQ(info->width, 64);
  EXPECT_EQ(info->height, 64);
}

TEST_F(Generation, TheCliWritesTheImageToAFile) {
  testing::TempDir dir;
  auto run = testing::RunCli(broker_, {"infer", "sd-standin", "--text", "a red bicycle", "--out",
                                       dir / "bike.png", "--stream"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.err.find("step 4/4"), std::string::npos) << "progress on stderr: " << run.err;
  const json result = json::parse(run.out);
  EXPECT_TRUE(result["outputs"]["seed"].is_number_integer()) << result;
  EXPECT_EQ(PngSize(testing::ReadFile(dir / "bike.png")), (std::pair{64, 64}));
}

}  // namespace
}  // namespace botmodels
