// botmodels-json-bench: what the gateway's /api/infer JSON costs per request,
// the fast path (gateway/infer_json.h: simdjson in, written directly out)
// beside the reference one (nlohmann::json and client/json_tensors.h), in
// the same run, on [1, 4] and [1, 512] float32 inputs (docs/performance.md).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <string>

#include "client/json_tensors.h"
#include "gateway/infer_json.h"

namespace {

using namespace botmodels;
using Clock = std::chrono::steady_clock;

constexpr int kCalls = 20'000;  // per timing: tens of ms even for 4 floats
constexpr int kRounds = 5;      // the best of five: the machine's noise filtered out

// µs per call of `f`, the best of kRounds.
template <typename F>
double MicrosPerCall(F&& f) {
  double best = 1e300;
  for (int round = 0; round < kRounds; ++round) {
    const auto start = Clock::now();
    for (int i = 0; i < kCalls; ++i) f();
    best = std::min(best, std::chrono::duration<double, std::micro>(Clock::now() - start).count());
  }
  return best / kCalls;
}

}  // namespace

int main() {
  std::mt19937 random(1);
  std::uniform_real_distribution<float> uniform(-1, 1);
  const std::vector<protocol::TensorSpec> specs{{"x", protocol::DType::kFloat32, std::nullopt}};
  std::printf("%-8s %14s %14s %6s %14s %14s %6s\n", "floats", "read nlohmann", "read simdjson",
              "ratio", "write nlohmann", "write direct", "ratio");
  for (int width : {4, 512}) {
    std::string body = "{\"inputs\": {\"x\": [[";
    for (int i = 0; i < width; ++i) body += (i ? ", " : "") + std::to_string(uniform(random));
    body += "]]}}";
    bool envelope = false;
    const protocol::NamedTensors outputs = *ParseInferBody(body, specs, &envelope);
    size_t sink = 0;  // keeps the work from being optimized away
    const double read_reference = MicrosPerCall(
        [&] { sink += TensorsFromJson(nlohmann::json::parse(body)["inputs"], specs)->size(); });
    const double read_fast =
        MicrosPerCall([&] { sink += ParseInferBody(body, specs, &envelope)->size(); });
    const double write_reference = MicrosPerCall([&] {
      sink += nlohmann::json({{"outputs", TensorsToJson(outputs)}}).dump().size();
    });
    const double write_fast = MicrosPerCall([&] { sink += InferReplyJson(outputs).size(); });
    std::printf("%-8d %11.2f us %11.2f us %5.1fx %11.2f us %11.2f us %5.1fx\n", width,
                read_reference, read_fast, read_reference / read_fast, write_reference, write_fast,
                write_reference / write_fast);
    if (sink == 0) return 1;
  }
  return 0;
}
