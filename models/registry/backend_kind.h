#pragma once

namespace botmodels {

// What runs a model's forward: `backend` in model.toml. Each kind has one
// row in the registry (model_families.cc) and one case in the factory of the
// worker that serves it (docs/architecture.md, "Adding a family").
enum class BackendKind {
  kTorchScript,     // `file` is a TorchScript module (torch::jit::load)
  kIdentity,        // no file, no torch: outputs are the inputs (benchmarks, smoke tests)
  kOcr,             // Tesseract 5 (LSTM): text, words and boxes in an image
  kBarcode,         // ZXing-cpp: every barcode and QR code in an image
  kQrCode,          // ZXing-cpp: a QR code of a text, as a PNG
  kTts,             // Flite (English voices) and eSpeak NG (~100 languages): text to speech
  kStt,             // PocketSphinx (US English): speech to text
  kWhisper,         // pipeline: Whisper speech to text over TorchScript parts
  kCaption,         // pipeline: image captioning / visual question answering (BLIP-style)
  kDiffusion,       // pipeline: text to image (Stable Diffusion-style latent diffusion)
  kVideoDiffusion,  // pipeline: text to video (the same, over latents with a frames dimension)
};

}  // namespace botmodels
