#include <gtest/gtest.h>

#include <set>
#include <sstream>
#include <stdexcept>

#include "common/broker_config.h"
#include "models/registry/model_config.h"
#include "models/registry/model_families.h"
#include "models/speech/tts_spec.h"
#include "models/vision/ocr_spec.h"
#include "tests/testutil.h"

namespace botmodels {
namespace {

using testing::TempDir;
using testing::WriteFile;

constexpr char kGoodModel[] = R"(devices = ["cpu", "cuda:1"]
gpu_memory_fraction = 0.25
cpu_affinity = [0, 1]
replicas = 2
queue_size = 8
timeout_ms = 1500
preload = true
memory_limit_mb = 64
memory_mb = 900
precision = "int8"

[[inputs]]
name = "x"
dtype = "float32"
shape = [-1, 4]

[[inputs]]
name = "prompt"
dtype = "string"

[[outputs]]
name = "y"
dtype = "float16"
)";

void WriteModel(const TempDir& dir, const std::string& name, const std::string& toml) {
  WriteFile(dir / (name + "/model.toml"), toml);
  WriteFile(dir / (name + "/model.pt"), "not read by the config loader");
}

TEST(ModelConfig, ReadsEveryField) {
  TempDir dir;
  WriteModel(dir, "m", kGoodModel);
  auto c = LoadModelConfig(dir / "m");
  ASSERT_OK(c);
  EXPECT_EQ(c->name, "m");
  EXPECT_EQ(c->devices, (std::vector<std::string>{"cpu", "cuda:1"}));
  EXPECT_EQ(c->replicas, 2u);
  EXPECT_EQ(c->queue_size, 8u);
  EXPECT_EQ(c->timeout, std::chrono::milliseconds(1500));
  EXPECT_TRUE(c->preload);
  EXPECT_EQ(c->memory_limit_mb, 64u);
  EXPECT_EQ(c->memory_mb, 900u);
  EXPECT_DOUBLE_EQ(c->gpu_memory_fraction, 0.25);
  EXPECT_EQ(c->cpu_affinity, (std::vector<int64_t>{0, 1}));
  EXPECT_EQ(c->precision, Precision::kInt8);
  ASSERT_EQ(c->inputs.size(), 2u);
  EXPECT_EQ(c->inputs[0].shape, (std::vector<int64_t>{-1, 4}));
  EXPECT_EQ(c->inputs[1].dtype, protocol::DType::kString);
  EXPECT_EQ(c->outputs[0].dtype, protocol::DType::kFloat16);
  EXPECT_FALSE(c->outputs[0].shape.has_value());
  EXPECT_EQ(c->model_path(), c->dir + "/model.pt");
}

struct BadCase {
  std::string toml;
  std::string expect;  // substring of the error
};

TEST(ModelConfig, BadConfigsNameFileLineAndField) {
  const std::vector<BadCase> cases = {
      {"queue_size = \"ten\"\n[[inputs]]\nname=\"x\"\ndtype=\"float32\"\n[[outputs]]\nname=\"y\"\n"
       "dtype=\"float32\"\n",
       "model.toml:1: field 'queue_size': expected an integer"},
      {"queue_szie = 3\n", "model.toml:1: field 'queue_szie': unknown option"},
      {"replicas = 0\n", "field 'replicas': must be between 1"},
      {"devices = [\"gpu\"]\n[[inputs]]\nname=\"x\"\ndtype=\"float32\"\n[[outputs]]\nname=\"y\"\n"
       "dtype=\"float32\"\n",
       "model.toml:1: field 'devices': 'gpu' is not"},
      {"devices = [\"cuda:128\"]\n",
       "field 'devices': 'cuda:128' is not auto, cpu, cuda or cuda:N"},
      {"[[inputs]]\nname = \"x\"\ndtype = \"float33\"\n", "model.toml:3: field 'inputs[0].dtype'"},
      {"[[inputs]]\nname = \"x\"\ndtype = \"float32\"\nshape = [-2]\n",
       "field 'inputs[0].shape': dims are >= 0"},
      {"[[outputs]]\nname=\"y\"\ndtype=\"float32\"\n", "field 'inputs': declare at least one"},
      {"name = \"other\"\n", "field 'name': 'other' differs from the folder name"},
      {"queue_size = [\n", "model.toml:"},
      {"backend = \"onnx\"\n", "field 'backend': 'onnx' is not one of torchscript, identity, ocr"},
      {"backend = \"ocr\"\n[options]\nvoice = \"slt\"\n", "field 'options.voice': unknown option"},
      {"backend = \"ocr\"\n[options]\npsm = 14\n", "field 'options.psm': must be between 0 and 13"},
      {"backend = \"tts\"\n[options]\nrate = 9\n", "field 'options.rate': must be between"},
      {"backend = \"qrcode\"\n[options]\nec_level = \"X\"\n", "'X' is not L, M, Q or H"},
      {"backend = \"stt\"\n[[inputs]]\nname=\"x\"\ndtype=\"bytes\"\n",
       "field 'inputs': the stt backend declares its own inputs and outputs"},
      {"backend = \"barcode\"\ndevices = [\"cuda:0\"]\n", "the barcode backend runs on the CPU"},
      {"[options]\nlanguage = \"eng\"\n", "field 'options.language': unknown option"},
      {"[[inputs]]\nname=\"x\"\ndtype=\"value\"\n[[outputs]]\nname=\"y\"\ndtype=\"float32\"\n",
       "field 'inputs': a torchscript model takes tensors, strings and bytes, not 'value' ('x')"},
      {"gpu_memory_fraction = 1.5\n", "field 'gpu_memory_fraction': must be between 0"},
      {"cpu_affinity = [0, -1]\n", "field 'cpu_affinity': core -1 does not exist"},
      {"precision = \"fp8\"\n", "field 'precision': 'fp8' is not fp32, int8, fp16 or bf16"},
      {"backend = \"ocr\"\nprecision = \"int8\"\n",
       "field 'precision': the ocr backend runs in fp32 only"},
      {"max_batch_size = 8\n[[inputs]]\nname=\"x\"\ndtype=\"float32\"\nshape=[4]\n"
       "[[outputs]]\nname=\"y\"\ndtype=\"float32\"\n",
       "field 'max_batch_size': batching needs every input to be a tensor whose shape starts with "
       "a free dim (-1); input 'x' is not"},
      {"max_batch_size = 8\n[[inputs]]\nname=\"x\"\ndtype=\"float32\"\nshape=[-1]\n"
       "[[outputs]]\nname=\"y\"\ndtype=\"string\"\n",
       "batching needs every output to be a tensor; 'y' is not"},
      {"backend = \"identity\"\n[[inputs]]\nname=\"x\"\ndtype=\"float32\"\n[[outputs]]\n"
       "name=\"y\"\ndtype=\"float32\"\n[[outputs]]\nname=\"z\"\ndtype=\"float32\"\n",
       "the identity backend returns its inputs"},
  };
  for (const auto& c : cases) {
    TempDir dir;
    WriteModel(dir, "m", c.toml);
    auto config = LoadModelConfig(dir / "m");
    ASSERT_FALSE(config.ok()) << c.toml;
    EXPECT_NE(config.status().message().find(c.expect), std::string::npos)
        << "got: " << config.status().message();
  }
}

TEST(ModelConfig, OnlyACreditLeftUnsetWithoutBatchingAdapts) {
  TempDir dir;
  const std::string io =
      "[[inputs]]\nname=\"x\"\ndtype=\"float32\"\nshape=[-1, 4]\n"
      "[[outputs]]\nname=\"y\"\ndtype=\"float32\"\n";
  WriteModel(dir, "unset", io);
  WriteModel(dir, "set", "max_inflight = 2\n" + io);
  WriteModel(dir, "batched", "max_batch_size = 16\n" + io);
  auto unset = LoadModelConfig(dir / "unset");
  ASSERT_OK(unset);
  EXPECT_TRUE(unset->credit_adapts);
  EXPECT_EQ(unset->max_inflight, 2u);  // where it starts
  EXPECT_FALSE(LoadModelConfig(dir / "set")->credit_adapts);
  EXPECT_FALSE(LoadModelConfig(dir / "batched")->credit_adapts);
}

TEST(ModelConfig, BatchingDefaultsItsCreditToTwoBatches) {
  TempDir dir;
  const std::string io =
      "[[inputs]]\nname=\"x\"\ndtype=\"float32\"\nshape=[-1, 4]\n"
      "[[outputs]]\nname=\"y\"\ndtype=\"float32\"\n";
  WriteModel(dir, "batched", "max_batch_size = 16\nmax_queue_delay_us = 500\n" + io);
  WriteModel(dir, "set", "max_batch_size = 16\nmax_inflight = 5\n" + io);
  WriteModel(dir, "plain", io);
  auto batched = LoadModelConfig(dir / "batched");
  ASSERT_OK(batched);
  EXPECT_TRUE(batched->batching());
  EXPECT_EQ(batched->max_batch_size, 16u);
  EXPECT_EQ(batched->max_queue_delay, std::chrono::microseconds(500));
  EXPECT_EQ(batched->max_inflight, 32u);  // one batch runs while the next forms
  EXPECT_EQ(LoadModelConfig(dir / "set")->max_inflight, 5u);
  auto plain = LoadModelConfig(dir / "plain");
  EXPECT_FALSE(plain->batching());
  EXPECT_EQ(plain->max_inflight, 2u);
}

TEST(ModelConfig, ANativeBackendDeclaresItsOwnInputsAndReadsItsOptions) {
  testing::TempDir dir;
  testing::WriteFile(
      dir / "ocr/model.toml",
      "backend = \"ocr\"\n[options]\nlanguage = \"deu\"\npsm = 6\nmax_pixels = 1000\n");
  auto c = LoadModelConfig(dir / "ocr");
  ASSERT_OK(c);
  EXPECT_EQ(c->backend, BackendKind::kOcr);
  const auto& ocr = c->options.Get<OcrOptions>();
  EXPECT_EQ(ocr.language, "deu");
  EXPECT_EQ(ocr.psm, 6);
  EXPECT_EQ(ocr.max_pixels, 1000u);
  ASSERT_EQ(c->inputs.size(), 3u);
  EXPECT_EQ(c->inputs[0].name, "image");
  EXPECT_FALSE(c->inputs[0].optional);
  EXPECT_TRUE(c->inputs[1].optional);  // language
  EXPECT_EQ(c->devices, std::vector<std::string>{"auto"});
  // Requests are checked against what the backend declares.
  protocol::TensorViews in;
  EXPECT_FALSE(c->CheckInputs(in).ok());  // the image is required
  const std::string png = "png bytes";
  in["image"] = {protocol::DType::kBytes, {}, png};
  EXPECT_OK(c->CheckInputs(in));
  in["language"] = {protocol::DType::kBytes, {}, png};
  EXPECT_FALSE(c->CheckInputs(in).ok());  // a string, not bytes
}

TEST(ModelConfig, OptionsAreComparedByValueAndReadAsTheirFamilysType) {
  TempDir dir;
  WriteFile(dir / "a/model.toml", "backend = \"ocr\"\n[options]\npsm = 6\n");
  WriteFile(dir / "b/model.toml", "backend = \"ocr\"\n[options]\npsm = 6\n");
  WriteFile(dir / "c/model.toml", "backend = \"ocr\"\n[options]\npsm = 7\n");
  auto a = LoadModelConfig(dir / "a"), b = LoadModelConfig(dir / "b"),
       c = LoadModelConfig(dir / "c");
  ASSERT_OK(a);
  ASSERT_OK(b);
  ASSERT_OK(c);
  EXPECT_EQ(a->options, b->options);  // a reload sees no change
  EXPECT_NE(a->options, c->options);  // ...and sees this one
  EXPECT_NE(a->options, FamilyOptions());
  EXPECT_THROW(a->options.Get<TtsOptions>(), std::logic_error);  // another family's struct
  EXPECT_EQ(FamilyOptions().Get<TtsOptions>(), TtsOptions{});    // none: the defaults
}

TEST(ModelFamilies, EveryFamilyIsFoundByItsNameAndListedInErrors) {
  for (const ModelFamily& family : ModelFamilies()) {
    const ModelFamily* found = FindFamily(family.name);
    ASSERT_NE(found, nullptr) << family.name;
    EXPECT_EQ(&FamilyOf(found->kind), found);
    EXPECT_EQ(BackendName(family.kind), family.name);
    EXPECT_NE(BackendNames().find(family.name), std::string::npos);
    // A family that declares its own inputs names each once.
    if (family.specs == nullptr) continue;
    const BackendSpecs specs = family.specs();
    for (const auto* list : {&specs.inputs, &specs.outputs}) {
      std::set<std::string> names;
      for (const auto& spec : *list) EXPECT_TRUE(names.insert(spec.name).second) << spec.name;
    }
  }
  EXPECT_EQ(FindFamily("tensorflow"), nullptr);
}

TEST(ModelConfig, AnUnknownBackendIsAnErrorNamingEveryFamily) {
  TempDir dir;
  WriteFile(dir / "m/model.toml", "backend = \"tensorflow\"\n");
  auto c = LoadModelConfig(dir / "m");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("video_diffusion"), std::string::npos)
      << c.status().message();
}

TEST(ModelConfig, TheIdentityBackendNeedsNoModelFile) {
  TempDir dir;
  WriteFile(dir / "echo/model.toml",
            "backend = \"identity\"\n[[inputs]]\nname=\"x\"\ndtype=\"float32\"\n"
            "[[outputs]]\nname=\"y\"\ndtype=\"float32\"\n");
  auto c = LoadModelConfig(dir / "echo");
  ASSERT_OK(c);
  EXPECT_EQ(c->backend, BackendKind::kIdentity);
}

TEST(ModelConfig, MissingModelFileIsAnError) {
  TempDir dir;
  WriteFile(dir / "m/model.toml", kGoodModel);
  auto c = LoadModelConfig(dir / "m");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("field 'file'"), std::string::npos);
}

TEST(ModelConfig, CheckInputsValidatesNamesDtypesAndShapes) {
  TempDir dir;
  WriteModel(dir, "m", kGoodModel);
  auto c = LoadModelConfig(dir / "m");
  ASSERT_OK(c);
  protocol::NamedTensors in;
  in["x"] = testing::Floats({3, 4}, std::vector<float>(12));
  in["prompt"] = {protocol::DType::kString, {}, "hi"};
  EXPECT_OK(c->CheckInputs(protocol::ViewsOf(in)));

  auto bad = in;
  bad["x"] = testing::Floats({3, 5}, std::vector<float>(15));
  EXPECT_NE(
      c->CheckInputs(protocol::ViewsOf(bad)).message().find("shape [3, 5], model expects [-1, 4]"),
      std::string::npos);
  bad = in;
  bad["x"].dtype = protocol::DType::kInt32;
  EXPECT_NE(c->CheckInputs(protocol::ViewsOf(bad)).message().find("dtype int32"),
            std::string::npos);
  bad = in;
  bad.erase("prompt");
  EXPECT_NE(c->CheckInputs(protocol::ViewsOf(bad)).message().find("'prompt' is missing"),
            std::string::npos);
  bad = in;
  bad["z"] = in["x"];
  EXPECT_NE(c->CheckInputs(protocol::ViewsOf(bad)).message().find("no input 'z'"),
            std::string::npos);
}

TEST(Repository, LoadsAllModelsSortedOrOnlyTheNamedOnes) {
  TempDir dir;
  WriteModel(dir, "b", kGoodModel);
  WriteModel(dir, "a", kGoodModel);
  auto all = LoadRepository(dir.path(), {});
  ASSERT_OK(all);
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].name, "a");
  auto some = LoadRepository(dir.path(), {"b"});
  ASSERT_OK(some);
  EXPECT_EQ(some->size(), 1u);
  EXPECT_FALSE(LoadRepository(dir.path(), {"missing"}).ok());
  EXPECT_FALSE(LoadRepository(dir.path(), {"../etc"}).ok());
}

TEST(BrokerConfig, ResolvesPathsAgainstTheConfigFolder) {
  TempDir dir;
  WriteFile(dir / "conf/b.toml", R"([broker]
frontend = "tcp://127.0.0.1:9999"
backend = "ipc://run/backend.sock"
heartbeat_ms = 100
liveness_ms = 400
[auth]
keys_file = "keys.toml"
key_id = "k1"
key_role = "admin"
worker_secret_file = "/etc/botmodels/worker.secret"
max_clock_skew_ms = 5000
replay_cache_size = 5000
[curve]
secret_key_file = "broker.key"
frontend = true
client_keys = "clients.allow"
[limits]
max_message_bytes = 1048576
max_tensors = 4
max_rank = 3
max_elements = 1000
max_depth = 10
max_items = 100
[models]
repository = "../repo"
serve = ["a"]
[supervisor]
restart_backoff_min_ms = 10
restart_backoff_max_ms = 20
)");
  auto c = LoadBrokerConfig(dir / "conf/b.toml");
  ASSERT_OK(c);
  EXPECT_EQ(c->frontend, "tcp://127.0.0.1:9999");
  EXPECT_EQ(c->backend, "ipc://" + (dir / "conf/run/backend.sock"));
  EXPECT_EQ(c->auth.keys_file, dir / "conf/keys.toml");
  EXPECT_EQ(c->auth.worker_secret_file, "/etc/botmodels/worker.secret");
  EXPECT_EQ(c->auth.key_role, protocol::Role::kAdmin);
  EXPECT_EQ(c->auth.replay_cache_size, 5000);
  EXPECT_EQ(c->curve.secret_key_file, dir / "conf/broker.key");
  EXPECT_EQ(c->curve.client_keys, dir / "conf/clients.allow");
  EXPECT_TRUE(c->curve.frontend);
  EXPECT_FALSE(c->curve.backend);
  EXPECT_EQ(c->limits.max_message_bytes, 1048576);
  EXPECT_EQ(c->limits.max_tensors, 4u);
  EXPECT_EQ(c->limits.max_rank, 3u);
  EXPECT_EQ(c->limits.max_elements, 1000u);
  EXPECT_EQ(c->limits.max_depth, 10u);
  EXPECT_EQ(c->limits.max_items, 100u);
  EXPECT_EQ(c->repository, dir / "repo");
  EXPECT_EQ(c->auth.key_id, "k1");
  EXPECT_EQ(c->auth.mode, AuthMode::kHmac);
  EXPECT_EQ(c->heartbeat, std::chrono::milliseconds(100));
  EXPECT_EQ(c->backoff_max, std::chrono::milliseconds(20));
  EXPECT_EQ(c->serve, std::vector<std::string>{"a"});
}

TEST(BrokerConfig, DeviceLimitsApplyByNameAndCudaCoversEveryGpuWithoutItsOwn) {
  TempDir dir;
  WriteFile(dir / "b.toml", R"([models]
repository = "r"
[devices.cpu]
max_resident_models = 2
[devices.cuda]
memory_budget_mb = 70000
[devices."cuda:1"]
max_resident_models = 1
memory_budget_mb = 20000
)");
  auto c = LoadBrokerConfig(dir / "b.toml");
  ASSERT_OK(c);
  EXPECT_EQ(LimitsOf(c->devices, "cpu"), (DeviceLimits{2, 0}));
  EXPECT_EQ(LimitsOf(c->devices, "cuda:0"), (DeviceLimits{0, 70000}));
  EXPECT_EQ(LimitsOf(c->devices, "cuda:1"), (DeviceLimits{1, 20000}));
  EXPECT_FALSE(LimitsOf({}, "cpu").limited());
}

TEST(BrokerConfig, RejectsBadValuesWithFileLineAndField) {
  const std::vector<BadCase> cases = {
      {"[models]\n", "field 'models.repository' is missing"},
      {"[auth]\nmode = \"open\"\n[models]\nrepository = \"r\"\n",
       "b.toml:2: field 'auth.mode': must be \"hmac\" or \"none\""},
      {"[broker]\nheartbeat_ms = 1000\nliveness_ms = 1500\n[models]\nrepository = \"r\"\n",
       "b.toml:3: field 'broker.liveness_ms': must be at least twice"},
      {"[brokr]\n", "field 'brokr': unknown option"},
      {"[broker]\nfrontnd = \"x\"\n", "b.toml:2: field 'broker.frontnd': unknown option"},
      {"[broker]\nlog_level = \"loud\"\n[models]\nrepository = \"r\"\n",
       "b.toml:2: field 'broker.log_level': must be trace, debug"},
      {"[auth]\nkey_role = \"root\"\n[models]\nrepository = \"r\"\n",
       "b.toml:2: field 'auth.key_role': must be \"infer\" or \"admin\""},
      {"[curve]\nfrontend = true\n[models]\nrepository = \"r\"\n",
       "field 'curve.secret_key_file' is missing"},
      {"[limits]\nmax_depth = 2\n[models]\nrepository = \"r\"\n",
       "b.toml:2: field 'limits.max_depth'"},
      {"[limits]\nmax_message_bytes = 10\n[models]\nrepository = \"r\"\n",
       "b.toml:2: field 'limits.max_message_bytes'"},
      {"[devices.gpu0]\nmax_resident_models = 1\n[models]\nrepository = \"r\"\n",
       "field 'devices.gpu0': expected a device"},
      {"[devices.cpu]\nmax_models = 1\n[models]\nrepository = \"r\"\n",
       "b.toml:2: field 'devices.cpu.max_models': unknown option"},
      {"[devices.cpu]\nmemory_budget_mb = -1\n[models]\nrepository = \"r\"\n",
       "b.toml:2: field 'devices.cpu.memory_budget_mb'"},
  };
  for (const auto& c : cases) {
    TempDir dir;
    WriteFile(dir / "b.toml", c.toml);
    auto config = LoadBrokerConfig(dir / "b.toml");
    ASSERT_FALSE(config.ok()) << c.toml;
    EXPECT_NE(config.status().message().find(c.expect), std::string::npos)
        << "got: " << config.status().message();
  }
}

TEST(BrokerConfig, TheShippedProductionConfigIsValid) {
  auto c = LoadBrokerConfig(BOTMODELS_SOURCE_DIR "/deploy/production.toml");
  ASSERT_OK(c);
  EXPECT_TRUE(c->curve.frontend && c->curve.backend);
  EXPECT_EQ(c->http_listen, "0.0.0.0:8090");
  EXPECT_EQ(c->auth.keys_file, BOTMODELS_SOURCE_DIR "/deploy/keys.toml");
}

TEST(BrokerConfig, TheDemoConfigServesOnlyThisMachineWithoutAKey) {
  auto c = LoadBrokerConfig(BOTMODELS_SOURCE_DIR "/deploy/demo.toml");
  ASSERT_OK(c);
  ASSERT_TRUE(c->gateway);
  EXPECT_EQ(c->gateway->listen.rfind("127.0.0.1:", 0), 0u);
  EXPECT_TRUE(c->gateway->keyless_from.Contains("127.0.0.1"));
  EXPECT_TRUE(c->gateway->keyless_from.Contains("::1"));
  EXPECT_FALSE(c->gateway->keyless_from.Contains("192.168.1.10"));
}

TEST(BrokerConfig, TheKubernetesConfigMapHoldsAValidConfig) {
  // The block under "broker.toml: |", indented four spaces.
  std::istringstream yaml(
      testing::ReadFile(BOTMODELS_SOURCE_DIR "/deploy/kubernetes/botmodels.yaml"));
  std::string line, toml;
  bool inside = false;
  while (std::getline(yaml, line)) {
    if (line.find("broker.toml: |") != std::string::npos) {
      inside = true;
    } else if (inside && line.rfind("    ", 0) == 0) {
      toml += line.substr(4) + "\n";
    } else if (inside) {
      break;
    }
  }
  ASSERT_FALSE(toml.empty());
  testing::TempDir dir;
  testing::WriteFile(dir / "broker.toml", toml);
  auto c = LoadBrokerConfig(dir / "broker.toml");
  ASSERT_OK(c);
  EXPECT_FALSE(c->local_workers);
  EXPECT_EQ(c->backend, "tcp://0.0.0.0:8091");
}

}  // namespace
}  // namespace botmodels
