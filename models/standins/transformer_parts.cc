#include "models/standins/transformer_parts.h"

#include <cmath>
#include <utility>
#include <vector>

namespace botmodels {
namespace {

using Parameters = std::map<std::string, torch::Tensor>;

// `source` with each $NAME replaced by its value.
std::string Substitute(std::string source, const TransformerSize& size) {
  const int64_t head = size.width / size.heads;
  const std::vector<std::pair<std::string, std::string>> values{
      {"$WIDTH", std::to_string(size.width)},
      {"$HEADS", std::to_string(size.heads)},
      {"$HEAD_DIM", std::to_string(head)},
      {"$LAYERS", std::to_string(size.layers)},
      {"$SCALE", std::to_string(1.0 / std::sqrt(static_cast<double>(head)))}};
  for (const auto& [name, value] : values) {
    for (size_t at = source.find(name); at != std::string::npos; at = source.find(name, at)) {
      source.replace(at, name.size(), value);
      at += value.size();
    }
  }
  return source;
}

// `layers` weights of [out, in] with entries N(0, 1/in): activations keep their scale.
torch::Tensor Linear(int64_t layers, int64_t out, int64_t in) {
  return torch::randn({layers, out, in}) / std::sqrt(static_cast<double>(in));
}
torch::Tensor Bias(int64_t layers, int64_t out) { return torch::randn({layers, out}) * 0.02; }

// Multi-head attention and the MLP, shared by every part. Heads are
// [rows, heads, T, head_dim].
constexpr char kHelpers[] = R"(
def split(self, x):
    return x.view(x.size(0), x.size(1), $HEADS, $HEAD_DIM).transpose(1, 2)

def attend(self, q, k, v, mask: Optional[Tensor]):
    scores = torch.matmul(q, k.transpose(2, 3)) * $SCALE
    if mask is not None:
        scores = scores + mask
    x = torch.matmul(torch.softmax(scores, -1), v)
    return x.transpose(1, 2).reshape(x.size(0), x.size(2), $WIDTH)

def mlp(self, x, i: int):
    h = torch.layer_norm(x, [$WIDTH], self.mlp_ln_w[i], self.mlp_ln_b[i], 1e-5)
    h = torch.gelu(torch.linear(h, self.fc1_w[i], self.fc1_b[i]))
    return x + torch.linear(h, self.fc2_w[i], self.fc2_b[i])

def encoder_block(self, x, i: int):
    h = torch.layer_norm(x, [$WIDTH], self.attn_ln_w[i], self.attn_ln_b[i], 1e-5)
    q = self.split(torch.linear(h, self.q_w[i], self.q_b[i]))
    k = self.split(torch.linear(h, self.k_w[i], None))
    v = self.split(torch.linear(h, self.v_w[i], self.v_b[i]))
    x = x + torch.linear(self.attend(q, k, v, None), self.o_w[i], self.o_b[i])
    return self.mlp(x, i)
)";

// Self-attention (query, key, value, output) and the MLP of `layers` blocks.
void AddBlocks(const TransformerSize& s, Parameters& p) {
  const int64_t l = s.layers, w = s.width;
  p["attn_ln_w"] = torch::ones({l, w});
  p["attn_ln_b"] = torch::zeros({l, w});
  for (const char* name : {"q", "k", "v", "o"}) p[std::string(name) + "_w"] = Linear(l, w, w);
  for (const char* name : {"q", "v", "o"}) p[std::string(name) + "_b"] = Bias(l, w);
  p["mlp_ln_w"] = torch::ones({l, w});
  p["mlp_ln_b"] = torch::zeros({l, w});
  p["fc1_w"] = Linear(l, s.ffn, w);
  p["fc1_b"] = Bias(l, s.ffn);
  p["fc2_w"] = Linear(l, w, s.ffn);
  p["fc2_b"] = Bias(l, w);
  p["final_ln_w"] = torch::ones({w});
  p["final_ln_b"] = torch::zeros({w});
}

}  // namespace

ScriptPart AudioEncoder(const TransformerSize& size, int64_t mels, int64_t frames) {
  ScriptPart part;
  part.source = Substitute(std::string(kHelpers) + R"(
def forward(self, mel):
    x = torch.gelu(torch.conv1d(mel, self.conv1_w, self.conv1_b, [1], [1]))
    x = torch.gelu(torch.conv1d(x, self.conv2_w, self.conv2_b, [2], [1]))
    x = x.permute(0, 2, 1) + self.pos
    for i in range($LAYERS):
        x = self.encoder_block(x, i)
    return torch.layer_norm(x, [$WIDTH], self.final_ln_w, self.final_ln_b, 1e-5)
)",
                           size);
  const int64_t w = size.width;
  Parameters& p = part.parameters;
  p["conv1_w"] = torch::randn({w, mels, 3}) / std::sqrt(static_cast<double>(mels * 3));
  p["conv1_b"] = torch::zeros({w});
  p["conv2_w"] = torch::randn({w, w, 3}) / std::sqrt(static_cast<double>(w * 3));
  p["conv2_b"] = torch::zeros({w});
  p["pos"] = torch::randn({frames, w}) * 0.1;
  AddBlocks(size, p);
  return part;
}

ScriptPart VisionEncoder(const TransformerSize& size, int64_t side, int64_t patch) {
  ScriptPart part;
  part.source = Substitute(std::string(kHelpers) + R"(
def forward(self, pixels):
    x = torch.conv2d(pixels, self.patch_w, self.patch_b, [)" +
                               std::to_string(patch) + R"(])
    x = x.flatten(2).permute(0, 2, 1)
    x = torch.cat([self.cls.expand(x.size(0), 1, $WIDTH), x], 1) + self.pos
    for i in range($LAYERS):
        x = self.encoder_block(x, i)
    return torch.layer_norm(x, [$WIDTH], self.final_ln_w, self.final_ln_b, 1e-5)
)",
                           size);
  const int64_t w = size.width, patches = (side / patch) * (side / patch);
  Parameters& p = part.parameters;
  p["patch_w"] =
      torch::randn({w, 3, patch, patch}) / std::sqrt(static_cast<double>(3 * patch * patch));
  p["patch_b"] = torch::zeros({w});
  p["cls"] = torch::randn({1, 1, w}) * 0.1;
  p["pos"] = torch::randn({1 + patches, w}) * 0.1;
  AddBlocks(size, p);
  return part;
}

ScriptPart TextDecoder(const TransformerSize& size, int64_t vocab, int64_t context, bool cached) {
  // `step` is the cached form; the old one runs it from an empty cache.
  std::string source = std::string(kHelpers) + R"(
def cross(self, states):
    kv = []
    for i in range($LAYERS):
        k = self.split(torch.linear(states, self.ck_w[i], None))
        v = self.split(torch.linear(states, self.cv_w[i], self.cv_b[i]))
        kv.append(torch.stack([k, v]))
    return torch.stack(kv)

def step(self, tokens, cross, cache):
    past = cache.size(4)
    length = tokens.size(1)
    x = torch.embedding(self.embed, tokens) + self.pos[past:past + length]
    mask = torch.triu(torch.full([length, past + length], -1e9, dtype=x.dtype, device=x.device),
                      past + 1)
    kv = []
    for i in range($LAYERS):
        h = torch.layer_norm(x, [$WIDTH], self.attn_ln_w[i], self.attn_ln_b[i], 1e-5)
        q = self.split(torch.linear(h, self.q_w[i], self.q_b[i]))
        k = torch.cat([cache[i, 0], self.split(torch.linear(h, self.k_w[i], None))], 2)
        v = torch.cat([cache[i, 1], self.split(torch.linear(h, self.v_w[i], self.v_b[i]))], 2)
        kv.append(torch.stack([k, v]))
        x = x + torch.linear(self.attend(q, k, v, mask), self.o_w[i], self.o_b[i])
        h = torch.layer_norm(x, [$WIDTH], self.cross_ln_w[i], self.cross_ln_b[i], 1e-5)
        q = self.split(torch.linear(h, self.cq_w[i], self.cq_b[i]))
        x = x + torch.linear(self.attend(q, cross[i, 0], cross[i, 1], None), self.co_w[i],
                             self.co_b[i])
        x = self.mlp(x, i)
    h = torch.layer_norm(x[:, -1], [$WIDTH], self.final_ln_w, self.final_ln_b, 1e-5)
    return torch.linear(h, self.out, None), torch.stack(kv)
)";
  source += cached ? R"(
def forward(self, tokens, cross, cache):
    return self.step(tokens, cross, cache)
)"
                   : R"(
def forward(self, tokens, states):
    cross = self.cross(states)
    empty = torch.zeros([$LAYERS, 2, tokens.size(0), $HEADS, 0, $HEAD_DIM], dtype=states.dtype,
                        device=states.device)
    return self.step(tokens, cross, empty)[0]
)";
  ScriptPart part;
  part.source = Substitute(std::move(source), size);
  const int64_t l = size.layers, w = size.width;
  Parameters& p = part.parameters;
  p["embed"] = torch::randn({vocab, w});
  p["pos"] = torch::randn({context, w}) * 0.1;
  AddBlocks(size, p);
  p["cross_ln_w"] = torch::ones({l, w});
  p["cross_ln_b"] = torch::zeros({l, w});
  for (const char* name : {"cq", "ck", "cv", "co"}) p[std::string(name) + "_w"] = Linear(l, w, w);
  for (const char* name : {"cq", "cv", "co"}) p[std::string(name) + "_b"] = Bias(l, w);
  p["out"] = torch::randn({vocab, w}) / std::sqrt(static_cast<double>(w)) * 4;
  return part;
}

}  // namespace botmodels
