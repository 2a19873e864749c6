#include "models/standins/standin_models.h"

#include <filesystem>
#include <fstream>
#include <map>
#include <stdexcept>

#include "models/torchscript/script_model.h"

namespace botmodels {
namespace {

namespace fs = std::filesystem;
using Parameters = std::map<std::string, torch::Tensor>;

constexpr int64_t kWidth = 32;     // every stand-in's model width
constexpr int64_t kFrames = 1500;  // Whisper's encoder states per 30 s window
constexpr int64_t kMels = 80;
constexpr int64_t kWhisperVocab = 50265;  // GPT-2's 50257 and the specials below
constexpr int64_t kWhisperContext = 448;
constexpr int64_t kBlipVocab = 30523;  // BERT's 30522 and [DEC]
constexpr int64_t kBlipContext = 64;
constexpr int64_t kSide = 64, kPatch = 16;  // px: 16 patches of 16×16

// A weight of `shape` with entries N(0, 1/fan_in): activations keep their scale.
torch::Tensor Weight(std::vector<int64_t> shape, int64_t fan_in) {
  return torch::randn(shape) / std::sqrt(static_cast<double>(fan_in));
}

// Self-attention over the tokens (causal), cross-attention over `states`,
// then the logits of the last position through an output projection (not
// the embedding: tied to it, random weights would repeat the last token).
constexpr char kDecoderSource[] = R"(
def forward(self, tokens, states):
    length = tokens.size(1)
    x = torch.embedding(self.embed, tokens) + self.pos[:length]
    q = torch.matmul(x, self.wq)
    k = torch.matmul(x, self.wk)
    v = torch.matmul(x, self.wv)
    mask = torch.triu(torch.full([length, length], -1e9, dtype=x.dtype, device=x.device), 1)
    x = x + torch.matmul(torch.softmax(torch.matmul(q, k.transpose(1, 2)) * 0.1767767 + mask, -1), v)
    cq = torch.matmul(x, self.cq)
    ck = torch.matmul(states, self.ck)
    cv = torch.matmul(states, self.cv)
    x = x + torch.matmul(torch.softmax(torch.matmul(cq, ck.transpose(1, 2)) * 0.1767767, -1), cv)
    h = torch.layer_norm(x[:, -1], [32], None, None, 1e-5)
    return torch.matmul(h, self.out)
)";

Parameters DecoderParameters(int64_t vocab, int64_t context) {
  Parameters p;
  p["embed"] = torch::randn({vocab, kWidth});
  p["pos"] = torch::randn({context, kWidth}) * 0.1;
  for (const char* name : {"wq", "wk", "wv", "cq", "ck", "cv"})
    p[name] = Weight({kWidth, kWidth}, kWidth);
  p["out"] = Weight({kWidth, vocab}, 1);
  return p;
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

void WriteWhisperStandin(const std::string& repository, const std::string& fixtures) {
  const fs::path dir = fs::path(repository) / "whisper-standin";
  fs::create_directories(dir);
  torch::manual_seed(1405);
  SaveScript((dir / "encoder.pt").string(), R"(
def forward(self, mel):
    x = torch.gelu(torch.conv1d(mel, self.conv1_w, self.conv1_b, [1], [1]))
    x = torch.gelu(torch.conv1d(x, self.conv2_w, self.conv2_b, [2], [1]))
    x = x.permute(0, 2, 1) + self.pos
    return torch.layer_norm(x, [32], None, None, 1e-5)
)",
             {{"conv1_w", Weight({kWidth, kMels, 3}, kMels * 3)},
              {"conv1_b", torch::zeros({kWidth})},
              {"conv2_w", Weight({kWidth, kWidth, 3}, kWidth * 3)},
              {"conv2_b", torch::zeros({kWidth})},
              {"pos", torch::randn({kFrames, kWidth}) * 0.1}});
  SaveScript((dir / "decoder.pt").string(), kDecoderSource,
             DecoderParameters(kWhisperVocab, kWhisperContext));
  Copy(fs::path(fixtures) / "gpt2/encoder.json", dir / "vocab.json");
  Copy(fs::path(fixtures) / "gpt2/vocab.bpe", dir / "merges.txt");
  WriteText(dir / "added_tokens.json",
            R"({"<|endoftext|>": 50256, "<|startoftranscript|>": 50257, "<|en|>": 50258,
 "<|pt|>": 50259, "<|de|>": 50260, "<|translate|>": 50261, "<|transcribe|>": 50262,
 "<|nospeech|>": 50263, "<|notimestamps|>": 50264}
)");
  WriteText(dir / "model.toml",
            R"(# A stand-in for an exported Whisper: random weights, real tokenizer
# (models/standins/standin_models.h). Its text is noise.
backend = "whisper"
devices = ["cpu"]
threads = 1

[options]
n_mels = 80
multilingual = true
max_target_positions = 448
begin_suppress_tokens = [220, 50256]
max_new_tokens = 8
max_seconds = 120
)");
}

void WriteCaptionStandins(const std::string& repository, const std::string& fixtures) {
  torch::manual_seed(1406);
  const std::string vision = R"(
def forward(self, pixels):
    x = torch.conv2d(pixels, self.patch_w, self.patch_b, [16])
    x = x.flatten(2).permute(0, 2, 1) + self.pos
    return torch.layer_norm(x, [32], None, None, 1e-5)
)";
  const Parameters vision_parameters{
      {"patch_w", Weight({kWidth, 3, kPatch, kPatch}, 3 * kPatch * kPatch)},
      {"patch_b", torch::zeros({kWidth})},
      {"pos", torch::randn({(kSide / kPatch) * (kSide / kPatch), kWidth}) * 0.1}};
  const Parameters decoder_parameters = DecoderParameters(kBlipVocab, kBlipContext);
  for (const bool vqa : {false, true}) {
    const fs::path dir = fs::path(repository) / (vqa ? "vqa-standin" : "caption-standin");
    fs::create_directories(dir);
    SaveScript((dir / "vision_encoder.pt").string(), vision, vision_parameters);
    SaveScript((dir / "text_decoder.pt").string(), kDecoderSource, decoder_parameters);
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
    Copy(fs::path(fixtures) / "bert/vocab.txt", dir / "vocab.txt");
    WriteText(dir / "added_tokens.json", "{\"[DEC]\": 30522}\n");
    WriteText(dir / "preprocessor_config.json", R"({
  "do_convert_rgb": true, "do_normalize": true, "do_rescale": true, "do_resize": true,
  "image_mean": [0.48145466, 0.4578275, 0.40821073],
  "image_std": [0.26862954, 0.26130258, 0.27577711],
  "resample": 3, "rescale_factor": 0.00392156862745098,
  "size": {"height": 64, "width": 64}
}
)");
    WriteText(dir / "model.toml", std::string("# A stand-in for an exported BLIP ") +
                                      (vqa ? "VQA model" : "captioner") +
                                      R"(: random weights, real tokenizer
# (models/standins/standin_models.h). Its text is noise.
backend = "caption"
devices = ["cpu"]
threads = 1

[options]
)" + (vqa ? "question_encoder = \"question_encoder.pt\"\n" : "") +
                                      R"(added_tokens = "added_tokens.json"
max_positions = 64
max_new_tokens = 12
)");
  }
}

}  // namespace botmodels
