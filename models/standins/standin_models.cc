#include "models/standins/standin_models.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "models/pipelines/whisper_tokens.h"
#include "models/standins/transformer_parts.h"
#include "models/torchscript/script_model.h"

namespace botmodels {
namespace {

namespace fs = std::filesystem;
using Parameters = std::map<std::string, torch::Tensor>;

constexpr int64_t kWidth = 32;     // the tiny stand-ins' model width
constexpr int64_t kFrames = 1500;  // Whisper's encoder states per 30 s window
constexpr int64_t kMels = 80;
constexpr int64_t kWhisperVocab = 51767;  // tiny: GPT-2's 50257 and the specials below
constexpr int64_t kWhisperContext = 448;
constexpr int64_t kBlipVocab = 30523;  // BERT's 30522 and [DEC]
constexpr int64_t kBlipContext = 64;
constexpr int64_t kSide = 64, kPatch = 16;  // px: 16 patches of 16×16
constexpr TransformerSize kTiny{kWidth, 2, 2, 2 * kWidth};

// A weight of `shape` with entries N(0, 1/fan_in): activations keep their scale.
torch::Tensor Weight(std::vector<int64_t> shape, int64_t fan_in) {
  return torch::randn(shape) / std::sqrt(static_cast<double>(fan_in));
}

void Save(const fs::path& path, const ScriptPart& part) {
  SaveScript(path.string(), part.source, part.parameters);
}

// The decoder in the current exporters' form (with a KV cache) as `name`.pt,
// and the same weights in the old form (no cache) as `name`_uncached.pt.
void SaveDecoder(const fs::path& dir, const std::string& name, const TransformerSize& size,
                 int64_t vocab, int64_t context) {
  const ScriptPart cached = TextDecoder(size, vocab, context, /*cached=*/true);
  ScriptPart uncached = TextDecoder(size, vocab, context, /*cached=*/false);
  uncached.parameters = cached.parameters;
  Save(dir / (name + ".pt"), cached);
  Save(dir / (name + "_uncached.pt"), uncached);
}

void WriteText(const fs::path& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

void Copy(const fs::path& from, const fs::path& to) {
  fs::copy_file(from, to, fs::copy_options::overwrite_existing);
}

}  // namespace

namespace {

// Whisper's <|0.00|> to <|30.00|>, 0.02 s apart, from id `first`.
void AddTimestamps(nlohmann::json& added, int64_t first) {
  for (int step = 0; step <= 1500; ++step) {
    char name[16];
    std::snprintf(name, sizeof name, "<|%.2f|>", step * 0.02);
    added[name] = first + step;
  }
}

// The tiny stand-in's special tokens: three languages, then
// <|startofprev|> and the timestamps: 51 767 tokens in all.
std::string TinyWhisperAddedTokens() {
  nlohmann::json added = nlohmann::json::parse(R"({"<|endoftext|>": 50256,
 "<|startoftranscript|>": 50257, "<|en|>": 50258, "<|pt|>": 50259, "<|de|>": 50260,
 "<|translate|>": 50261, "<|transcribe|>": 50262, "<|nospeech|>": 50263,
 "<|notimestamps|>": 50264, "<|startofprev|>": 50265})");
  AddTimestamps(added, 50266);
  return added.dump(1) + "\n";
}

// Whisper's special tokens in an English-only model's layout, after GPT-2's
// vocabulary: <|startoftranscript|>, 99 languages, the tasks, <|startoflm|>,
// <|startofprev|>, <|nocaptions|>, <|notimestamps|>, then <|0.00|> to
// <|30.00|>: 51 864 tokens in all.
std::string WhisperAddedTokens() {
  nlohmann::json added;
  int64_t id = 50256;
  added["<|endoftext|>"] = id++;
  added["<|startoftranscript|>"] = id++;
  for (const std::string& code : WhisperTokens::Codes()) added["<|" + code + "|>"] = id++;
  for (const char* name : {"<|translate|>", "<|transcribe|>", "<|startoflm|>", "<|startofprev|>",
                           "<|nocaptions|>", "<|notimestamps|>"}) {
    added[name] = id++;
  }
  AddTimestamps(added, id);
  return added.dump(1) + "\n";
}

}  // namespace

void WriteWhisperStandin(const std::string& repository, const std::string& fixtures,
                         StandinSize size) {
  const bool tiny = size == StandinSize::kTiny;
  const char* name = tiny                         ? "whisper-standin"
                     : size == StandinSize::kBase ? "whisper-base-standin"
                                                  : "whisper-small-standin";
  const fs::path dir = fs::path(repository) / name;
  fs::create_directories(dir);
  torch::manual_seed(1405);
  // Whisper-base: 512 wide, 6 + 6 layers of 8 heads; Whisper-small: 768, 12 + 12 of 12.
  const TransformerSize shape = tiny                         ? kTiny
                                : size == StandinSize::kBase ? TransformerSize{512, 8, 6, 2048}
                                                             : TransformerSize{768, 12, 12, 3072};
  // The tiny encoder has no blocks: its convolutions are enough for the tests.
  TransformerSize encoder = shape;
  if (tiny) encoder.layers = 0;
  Save(dir / "encoder.pt", AudioEncoder(encoder, kMels, kFrames));
  // 51 865: a multilingual Whisper's vocabulary, one more than the tokens below.
  SaveDecoder(dir, "decoder", shape, tiny ? kWhisperVocab : 51865, kWhisperContext);
  Copy(fs::path(fixtures) / "gpt2/encoder.json", dir / "vocab.json");
  Copy(fs::path(fixtures) / "gpt2/vocab.bpe", dir / "merges.txt");
  WriteText(dir / "added_tokens.json", tiny ? TinyWhisperAddedTokens() : WhisperAddedTokens());
  WriteText(dir / "model.toml",
            std::string(R"(# A stand-in for an exported Whisper: random weights, real tokenizer
# (models/standins/standin_models.h). Its text is noise.
backend = "whisper"
devices = ["cpu"]
)") + (tiny ? "threads = 1\n" : "threads = 2\npreload = true\ntimeout_ms = 600000\n") +
                R"(
[options]
n_mels = 80
multilingual = true
max_target_positions = 448
begin_suppress_tokens = [220, 50256]
)" +
                (tiny ? "max_new_tokens = 8\nmax_seconds = 120\n"
                        "# Greedy only, no fallback: the tests decode it by hand.\n"
                        "temperatures = [0.0]\n"
                      : "max_new_tokens = 224\n"
                        "# One sample per window: the bench times 100 sampled tokens.\n"
                        "best_of = 1\n"));
}

namespace {

// A BLIP-style model's tokenizer, pre-processor and model.toml, for images
// of `side` px.
void WriteCaptionFiles(const fs::path& dir, const std::string& fixtures, int64_t side, bool vqa,
                       int64_t context, int max_new_tokens, int threads) {
  Copy(fs::path(fixtures) / "bert/vocab.txt", dir / "vocab.txt");
  WriteText(dir / "added_tokens.json", "{\"[DEC]\": 30522}\n");
  WriteText(dir / "preprocessor_config.json", R"({
  "do_convert_rgb": true, "do_normalize": true, "do_rescale": true, "do_resize": true,
  "image_mean": [0.48145466, 0.4578275, 0.40821073],
  "image_std": [0.26862954, 0.26130258, 0.27577711],
  "resample": 3, "rescale_factor": 0.00392156862745098,
  "size": {"height": )" + std::to_string(side) + ", \"width\": " +
                                                  std::to_string(side) + "}\n}\n");
  WriteText(dir / "model.toml",
            std::string("# A stand-in for an exported BLIP ") + (vqa ? "VQA model" : "captioner") +
                R"(: random weights, real tokenizer
# (models/standins/standin_models.h). Its text is noise.
backend = "caption"
devices = ["cpu"]
threads = )" + std::to_string(threads) +
                R"(

[options]
)" + (vqa ? "question_encoder = \"question_encoder.pt\"\n" : "") +
                "added_tokens = \"added_tokens.json\"\nmax_positions = " + std::to_string(context) +
                "\nmax_new_tokens = " + std::to_string(max_new_tokens) + "\n");
}

}  // namespace

void WriteCaptionStandins(const std::string& repository, const std::string& fixtures) {
  torch::manual_seed(1406);
  // The tiny vision encoder has no blocks: its patches are enough for the tests.
  const ScriptPart vision = VisionEncoder({kWidth, 2, 0, 2 * kWidth}, kSide, kPatch);
  const ScriptPart decoder = TextDecoder(kTiny, kBlipVocab, kBlipContext, /*cached=*/true);
  ScriptPart uncached = TextDecoder(kTiny, kBlipVocab, kBlipContext, /*cached=*/false);
  uncached.parameters = decoder.parameters;
  for (const bool vqa : {false, true}) {
    const fs::path dir = fs::path(repository) / (vqa ? "vqa-standin" : "caption-standin");
    fs::create_directories(dir);
    Save(dir / "vision_encoder.pt", vision);
    Save(dir / "text_decoder.pt", decoder);
    Save(dir / "text_decoder_uncached.pt", uncached);
    if (vqa) {
      SaveScript((dir / "question_encoder.pt").string(), R"(
def forward(self, ids, states):
    x = torch.embedding(self.embed, ids) + self.pos[:ids.size(1)]
    q = torch.matmul(x, self.cq)
    k = torch.matmul(states, self.ck)
    v = torch.matmul(states, self.cv)
    x = x + torch.matmul(torch.softmax(torch.matmul(q, k.transpose(1, 2)) * 0.1767767, -1), v)
    return torch.layer_norm(x, [32], None, None, 1e-5)
)",
                 {{"embed", torch::randn({kBlipVocab, kWidth})},
                  {"pos", torch::randn({kBlipContext, kWidth}) * 0.1},
                  {"cq", Weight({kWidth, kWidth}, kWidth)},
                  {"ck", Weight({kWidth, kWidth}, kWidth)},
                  {"cv", Weight({kWidth, kWidth}, kWidth)}});
    }
    WriteCaptionFiles(dir, fixtures, kSide, vqa, kBlipContext, 12, 1);
  }
}

void WriteBlipBaseStandin(const std::string& repository, const std::string& fixtures) {
  const fs::path dir = fs::path(repository) / "caption-base-standin";
  fs::create_directories(dir);
  torch::manual_seed(1407);
  // BLIP-base: a ViT-B/16 at 384 px and a BERT-base text decoder (768 wide,
  // 12 layers of 12 heads; 30 524 tokens, 512 positions).
  const TransformerSize base{768, 12, 12, 3072};
  Save(dir / "vision_encoder.pt", VisionEncoder(base, 384, 16));
  SaveDecoder(dir, "text_decoder", base, 30524, 512);
  WriteCaptionFiles(dir, fixtures, 384, /*vqa=*/false, 512, 20, 2);
}

}  // namespace botmodels
