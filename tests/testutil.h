#pragma once

// Helpers shared by the tests: a fake clock, temporary folders, files,
// tensors, a model run in process. The harness that runs a real broker (and
// its real workers) on private ipc endpoints is broker_harness.h.

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/protocol.h"
#include "common/status.h"
#include "models/model_backend.h"
#include "testing/loopback.h"

#define ASSERT_OK(expr)                                         \
  do {                                                          \
    const auto& _r = (expr);                                    \
    ASSERT_TRUE(_r.ok()) << ::botmodels::testing::Describe(_r); \
  } while (0)
#define EXPECT_OK(expr)                                         \
  do {                                                          \
    const auto& _r = (expr);                                    \
    EXPECT_TRUE(_r.ok()) << ::botmodels::testing::Describe(_r); \
  } while (0)

namespace botmodels::testing {

inline std::string Describe(const Status& s) { return s.ToString(); }
template <typename T>
std::string Describe(const Result<T>& r) {
  return r.ok() ? "ok" : r.status().ToString();
}

// A clock that moves only when told.
class FakeClock final : public Clock {
 public:
  TimePoint Now() const override { return now_; }
  void Advance(duration d) { now_ += d; }

 private:
  TimePoint now_ = TimePoint{} + std::chrono::hours(1);
};

// A fresh folder under $TMPDIR, removed with its contents on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

void WriteFile(const std::string& path, const std::string& text);
// WriteFile, then mode 0600, as secret files must be.
void WriteSecret(const std::string& path, const std::string& text);
std::string ReadFile(const std::string& path);

// A float32 tensor of `shape` filled with values from `seed`.
protocol::Tensor RandomFloats(std::vector<int64_t> shape, uint32_t seed);
// An infer request for `model`; the client assigns its id.
protocol::Request InferRequest(const std::string& model, protocol::NamedTensors inputs);
// Parses the Prometheus text format strictly: every sample line must be
// well-formed and belong to a family declared by # TYPE. Returns sample →
// value ("name{labels}" as written); fails the test on a bad line.
std::map<std::string, double> ParseMetrics(const std::string& text);

// Writes `toml` as <dir>/<name>/model.toml and loads it; fails the test if it does not load.
ModelConfig WriteModelConfig(const TempDir& dir, const std::string& name, const std::string& toml);

// One forward of `backend` on owned inputs, with the outputs copied out.
Result<protocol::NamedTensors> RunModel(ModelBackend& backend,
                                        const protocol::NamedTensors& inputs);
// The device the pipelines' backend tests run their models on:
// $BOTMODELS_TEST_DEVICE (scripts/gpu-check.sh sets cuda:0), else "cpu".
std::string TestDevice();
protocol::Tensor Floats(std::vector<int64_t> shape, const std::vector<float>& values);
std::vector<float> ToFloats(const protocol::Tensor& t);

inline constexpr char kTestSecret[] = "test-secret-0123456789abcdef";  // >= 16 bytes
inline constexpr char kTestKeyId[] = "test";                           // role admin
inline constexpr char kTestInferSecret[] = "infer-secret-0123456789abcdef";
inline constexpr char kTestInferKeyId[] = "reader";  // role infer

}  // namespace botmodels::testing
