#pragma once

#include <torch/script.h>

#include <cstdint>
#include <map>
#include <string>

namespace botmodels {

// A transformer's size: `layers` pre-LayerNorm blocks of `heads` attention
// heads over `width` features, an MLP of `ffn` hidden units (Whisper's and
// ViT's layout; BERT's post-LayerNorm costs the same).
struct TransformerSize {
  int64_t width = 32;
  int64_t heads = 2;
  int64_t layers = 2;
  int64_t ffn = 64;
};

// A TorchScript part to write with SaveScript: its source and its weights.
struct ScriptPart {
  std::string source;
  std::map<std::string, torch::Tensor> parameters;
};

// Random-weight parts with exactly the exporters' interfaces
// (tools/export/, docs/models.md), at any size: what a model costs does not
// depend on its weights' values. Weights come from torch's generator: seed
// it first for the same parts on every build.
//
// Whisper's encoder: mel [1, mels, 2 × frames] -> two convolutions (the
// second of stride 2), `layers` blocks -> states [1, frames, width].
ScriptPart AudioEncoder(const TransformerSize& size, int64_t mels, int64_t frames);
// A ViT: pixels [1, 3, side, side] -> patches of `patch` px, a class token,
// `layers` blocks -> states [1, 1 + (side / patch)², width].
ScriptPart VisionEncoder(const TransformerSize& size, int64_t side, int64_t patch);
// A text decoder over encoder states: causal self-attention, cross-attention,
// an MLP per block, then logits over `vocab` (an output projection of its
// own: tied to the embedding, random weights would repeat the last token).
// `cached` (the current exporters' form):
//   cross(states [1, S, width]) -> cross keys and values [layers, 2, 1, heads, S, head_dim]
//   forward(tokens int64 [rows, T], cross [.., rows, ..], cache [layers, 2, rows, heads, P,
//           head_dim]) -> (logits [rows, vocab] of each row's last token, the cache with the
//           T new positions appended: [.., P + T, ..])
// else (old exports): forward(tokens [rows, T], states [rows, S, width]) -> logits [rows,
// vocab], the whole sequence each call. Both forms of one set of weights compute the same
// logits.
ScriptPart TextDecoder(const TransformerSize& size, int64_t vocab, int64_t context, bool cached);

}  // namespace botmodels
