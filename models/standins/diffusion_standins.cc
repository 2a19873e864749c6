#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "models/standins/standin_models.h"
#include "models/torchscript/script_model.h"

namespace botmodels {
namespace {

namespace fs = std::filesystem;
using Parameters = std::map<std::string, torch::Tensor>;

constexpr int64_t kWidth = 32;    // the text encoder's width
constexpr int64_t kHidden = 16;   // the denoiser's and the VAE's channels
constexpr int64_t kLatents = 4;   // latent channels, as Stable Diffusion's
constexpr int64_t kContext = 77;  // CLIP's
// Words whose merges the vocabulary holds; the rest is spelled by bytes.
constexpr const char* kWords[] = {"a",   "red", "bicycle", "photo", "of", "the",
                                  "cat", "on",  "street",  "warm",  "up"};

torch::Tensor Weight(std::vector<int64_t> shape, int64_t fan_in) {
  return torch::randn(shape) / std::sqrt(static_cast<double>(fan_in));
}

std::string Utf8(int cp) {
  std::string out;
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
  return out;
}

void WriteText(const fs::path& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

// CLIP's layout: the byte symbols (GPT-2's bytes_to_unicode), the same with
// "</w>", the merges' results, then the start and end tokens.
void WriteVocabulary(const fs::path& dir) {
  nlohmann::json vocab = nlohmann::json::object();
  std::vector<std::string> bytes;
  int next = 256;
  for (int b = 0; b < 256; ++b) {
    const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE;
    bytes.push_back(Utf8(printable ? b : next++));
  }
  for (const std::string& s : bytes) vocab[s] = vocab.size();
  for (const std::string& s : bytes) vocab[s + "</w>"] = vocab.size();
  std::string merges = "#version: 0.2\n";
  for (const std::string word : kWords) {
    std::string left(1, word[0]);
    for (size_t i = 1; i < word.size(); ++i) {
      std::string right(1, word[i]);
      if (i + 1 == word.size()) right += "</w>";
      if (vocab.contains(left + right)) {
        left += right;
        continue;
      }
      merges += left + " " + right + "\n";
      left += right;
      vocab[left] = vocab.size();
    }
  }
  vocab["<|startoftext|>"] = vocab.size();
  vocab["<|endoftext|>"] = vocab.size();
  WriteText(dir / "vocab.json", vocab.dump());
  WriteText(dir / "merges.txt", merges);
}

// Causal self-attention over the 77 positions, as CLIP's text model.
constexpr char kTextEncoder[] = R"(
def forward(self, ids):
    x = torch.embedding(self.embed, ids) + self.pos
    q = torch.matmul(x, self.wq)
    k = torch.matmul(x, self.wk)
    v = torch.matmul(x, self.wv)
    mask = torch.triu(torch.full([77, 77], -1e9, dtype=x.dtype, device=x.device), 1)
    x = x + torch.matmul(torch.softmax(torch.matmul(q, k.transpose(1, 2)) * 0.1767767 + mask, -1), v)
    return torch.layer_norm(x, [32], None, None, 1e-5)
)";

// The timestep's sinusoidal embedding and the mean text embedding shift the
// hidden channels, as a UNet's resnet blocks take them.
constexpr char kConditioning[] = R"(
def condition(self, timestep, context):
    freqs = torch.exp(torch.arange(8, device=timestep.device) * -1.1512925)
    args = timestep.float()[:, None] * freqs[None]
    temb = torch.matmul(torch.cat([torch.cos(args), torch.sin(args)], 1), self.wt)
    return temb + torch.matmul(context.float().mean(1), self.wc)
)";

constexpr char kImageDenoiser[] = R"(
def forward(self, sample, timestep, context):
    c = self.condition(timestep, context).to(sample.dtype)
    h = torch.conv2d(sample, self.w1, self.b1, [1], [1]) + c[:, :, None, None]
    return torch.conv2d(torch.silu(h), self.w2, self.b2, [1], [1])
)";

// Latents [B, C, F, h, w]: a spatial convolution, one across frames, one back.
constexpr char kVideoDenoiser[] = R"(
def forward(self, sample, timestep, context):
    c = self.condition(timestep, context).to(sample.dtype)
    h = torch.conv3d(sample, self.w1, self.b1, [1], [0, 1, 1]) + c[:, :, None, None, None]
    h = torch.silu(torch.conv3d(h, self.wf, self.bf, [1], [1, 0, 0]))
    return torch.conv3d(h, self.w2, self.b2, [1], [0, 1, 1])
)";

constexpr char kVaeDecoder[] = R"(
def forward(self, z):
    h = torch.silu(torch.conv2d(z, self.w1, self.b1, [1], [1]))
    h = h.repeat_interleave(8, 2).repeat_interleave(8, 3)
    h = torch.silu(torch.conv2d(h, self.w2, self.b2, [1], [1]))
    return torch.tanh(torch.conv2d(h, self.w3, self.b3, [1], [1]))
)";

Parameters ConditioningParameters() {
  return {{"wt", Weight({16, kHidden}, 16)}, {"wc", Weight({kWidth, kHidden}, kWidth)}};
}

void WriteModel(const fs::path& dir, bool video) {
  fs::create_directories(dir);
  WriteVocabulary(dir);
  const int64_t vocab = 512 + 64;  // bytes twice, merges (fewer than 64), two specials
  SaveScript((dir / "text_encoder.pt").string(), kTextEncoder,
             {{"embed", torch::randn({vocab, kWidth})},
              {"pos", torch::randn({kContext, kWidth}) * 0.1},
              {"wq", Weight({kWidth, kWidth}, kWidth)},
              {"wk", Weight({kWidth, kWidth}, kWidth)},
              {"wv", Weight({kWidth, kWidth}, kWidth)}});
  Parameters denoiser = ConditioningParameters();
  if (video) {
    denoiser["w1"] = Weight({kHidden, kLatents, 1, 3, 3}, kLatents * 9);
    denoiser["wf"] = Weight({kHidden, kHidden, 3, 1, 1}, kHidden * 3);
    denoiser["bf"] = torch::zeros({kHidden});
    denoiser["w2"] = Weight({kLatents, kHidden, 1, 3, 3}, kHidden * 9);
  } else {
    denoiser["w1"] = Weight({kHidden, kLatents, 3, 3}, kLatents * 9);
    denoiser["w2"] = Weight({kLatents, kHidden, 3, 3}, kHidden * 9);
  }
  denoiser["b1"] = torch::zeros({kHidden});
  denoiser["b2"] = torch::zeros({kLatents});
  SaveScript((dir / "denoiser.pt").string(),
             std::string(kConditioning) + (video ? kVideoDenoiser : kImageDenoiser), denoiser);
  SaveScript((dir / "vae_decoder.pt").string(), kVaeDecoder,
             {{"w1", Weight({kHidden, kLatents, 3, 3}, kLatents * 9)},
              {"b1", torch::zeros({kHidden})},
              {"w2", Weight({kHidden, kHidden, 3, 3}, kHidden * 9)},
              {"b2", torch::zeros({kHidden})},
              {"w3", Weight({3, kHidden, 3, 3}, kHidden * 9)},
              {"b3", torch::zeros({3})}});
  WriteText(dir / "model.toml", std::string(R"(# A stand-in for an exported )") +
                                    (video ? "text-to-video model" : "Stable Diffusion") +
                                    R"(: random weights, a small CLIP-style
# vocabulary (models/standins/standin_models.h). Its pictures are noise.
backend = ")" + (video ? "video_diffusion" : "diffusion") +
                                    R"("
devices = ["cpu"]
threads = 1
# A worker's cap: with memory_per_pixel, a 2048 × 2048 request is out_of_memory at once.
memory_limit_mb = 512

[options]
scheduler = "dpmpp_2m"
steps = )" + (video ? "3" : "4") + R"(
width = 64
height = 64
# Bytes per output pixel at the peak: four 16-channel float32 maps at full size.
memory_per_pixel = 256
)" + (video ? "frames = 8\nfps = 8\nvae_batch = 4\n" : ""));
}

}  // namespace

void WriteDiffusionStandins(const std::string& repository) {
  torch::manual_seed(1407);
  WriteModel(fs::path(repository) / "sd-standin", /*video=*/false);
  WriteModel(fs::path(repository) / "video-standin", /*video=*/true);
}

}  // namespace botmodels
