#pragma once

#include <string>

namespace botmodels {

// Tiny stand-ins for exported Whisper and BLIP-style models: the parts
// tools/export/ writes (same files, same TorchScript signatures, same
// model.toml), with random weights from fixed seeds and real tokenizers,
// so that the pipelines run end to end where no real weights exist.
// Their text is noise; what they prove is the plumbing, against an
// independent computation in the tests. `fixtures` is tests/fixtures
// (GPT-2's BPE files, BERT's vocabulary). Each writes
// <repository>/<name>/. Throw on script or I/O errors.
//
// Decoders come in the exporters' cached form (decoder.pt, text_decoder.pt)
// and, with the same weights, in the old uncached one (*_uncached.pt).

// The sizes: tiny for the tests; Whisper-base's and Whisper-small's (and
// BLIP-base's) for the benchmarks (hundreds of MB: written on demand).
enum class StandinSize { kTiny, kBase, kSmall };

// whisper-standin (tiny): 80 mel bins, width 32, GPT-2's vocabulary plus
// Whisper's special tokens for three languages (en, pt, de), <|startofprev|>
// and the timestamps; greedy decoding without temperature fallback.
// whisper-base-standin and whisper-small-standin: Whisper-base's and
// -small's shapes, GPT-2's vocabulary plus an English-only Whisper's
// special tokens (all 99 languages, timestamps), 51 865 logits.
void WriteWhisperStandin(const std::string& repository, const std::string& fixtures,
                         StandinSize size = StandinSize::kTiny);
// caption-standin (a captioner) and vqa-standin (with a question encoder):
// 64×64 pixels in 16 patches, width 32, BERT's vocabulary plus [DEC].
void WriteCaptionStandins(const std::string& repository, const std::string& fixtures);
// caption-base-standin: BLIP-base's shapes (a ViT-B/16 at 384 px, a
// BERT-base-sized text decoder), BERT's vocabulary plus [DEC].
void WriteBlipBaseStandin(const std::string& repository, const std::string& fixtures);
// sd-standin (text to image) and video-standin (text to video): a CLIP-style
// text encoder (width 32) over a small CLIP-style vocabulary (every byte,
// with and without "</w>", and the merges of a few words), a denoiser of
// two convolutions conditioned on the timestep and the text, and a VAE
// decoder that upsamples 4 latent channels 8 times into RGB in [-1, 1].
void WriteDiffusionStandins(const std::string& repository);

}  // namespace botmodels
