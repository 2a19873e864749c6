#include "tests/testutil.h"

#include <stdlib.h>

#include <cstring>
#include <fstream>
#include <random>
#include <regex>
#include <set>
#include <sstream>

namespace botmodels::testing {

namespace fs = std::filesystem;

TempDir::TempDir() {
  std::string tmpl = (fs::temp_directory_path() / "botmodels-test-XXXXXX").string();
  if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

void WriteFile(const std::string& path, const std::string& text) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream out(path, std::ios::binary);
  out << text;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::map<std::string, double> ParseMetrics(const std::string& text) {
  static const std::regex kSample(
      R"(^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[a-zA-Z_][a-zA-Z0-9_]*="(?:\\.|[^"\\])*")"
      R"((?:,[a-zA-Z_][a-zA-Z0-9_]*="(?:\\.|[^"\\])*")*\})? ([-+0-9.eE]+|[+-]Inf|NaN)$)");
  static const std::regex kType(R"(^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram)$)");
  std::map<std::string, double> samples;
  std::set<std::string> families;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::smatch m;
    if (std::regex_match(line, m, kType)) {
      families.insert(m[1]);
    } else if (line.rfind("# HELP ", 0) == 0) {
      continue;
    } else if (std::regex_match(line, m, kSample)) {
      std::string family = m[1];
      for (const char* suffix : {"_bucket", "_sum", "_count"}) {
        if (!families.contains(family) && family.ends_with(suffix)) {
          family.resize(family.size() - std::strlen(suffix));
        }
      }
      EXPECT_TRUE(families.contains(family)) << "no # TYPE for " << line;
      samples[std::string(m[1]) + std::string(m[2])] = std::stod(m[3]);
    } else {
      ADD_FAILURE() << "not Prometheus text: '" << line << "'";
    }
  }
  return samples;
}

protocol::Request InferRequest(const std::string& model, protocol::NamedTensors inputs) {
  protocol::Request r;
  r.op = protocol::Op::kInfer;
  r.model = model;
  r.inputs = std::move(inputs);
  return r;
}

ModelConfig WriteModelConfig(const TempDir& dir, const std::string& name, const std::string& toml) {
  WriteFile(dir / name + "/model.toml", toml);
  auto config = LoadModelConfig(dir / name);
  EXPECT_TRUE(config.ok()) << config.status().message();
  return config.ok() ? *config : ModelConfig{};
}

Result<protocol::NamedTensors> RunModel(ModelBackend& backend,
                                        const protocol::NamedTensors& inputs) {
  auto outputs = backend.Infer(protocol::ViewsOf(inputs));
  if (!outputs.ok()) return outputs.status();
  protocol::NamedTensors copied;
  for (const auto& [name, view] : outputs->views) copied.emplace(name, protocol::Copy(view));
  return copied;
}

std::string TestDevice() {
  const char* device = std::getenv("BOTMODELS_TEST_DEVICE");
  return device && *device ? device : "cpu";
}

protocol::Tensor Floats(std::vector<int64_t> shape, const std::vector<float>& values) {
  protocol::Tensor t;
  t.dtype = protocol::DType::kFloat32;
  t.shape = std::move(shape);
  t.data.assign(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float));
  return t;
}

protocol::Tensor RandomFloats(std::vector<int64_t> shape, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist;
  std::vector<float> values(static_cast<size_t>(*protocol::ElementCount(shape)));
  for (float& v : values) v = dist(rng);
  return Floats(std::move(shape), values);
}

std::vector<float> ToFloats(const protocol::Tensor& t) {
  std::vector<float> values(t.data.size() / sizeof(float));
  std::memcpy(values.data(), t.data.data(), values.size() * sizeof(float));
  return values;
}

void WriteSecret(const std::string& path, const std::string& text) {
  WriteFile(path, text);
  fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write);
}

}  // namespace botmodels::testing
