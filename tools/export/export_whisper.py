#!/usr/bin/env python3
"""Turns a Hugging Face Whisper checkpoint into a botmodels model folder:

  encoder.pt     mel float32 [1, n_mels, 3000] -> states [1, 1500, d_model]
  decoder.pt     (tokens int64 [rows, T], states [rows, 1500, d_model])
                 -> logits [rows, vocab] of each row's last position
  vocab.json, merges.txt, added_tokens.json   the BPE tokenizer
  model.toml     backend = "whisper" and its [options]

Run on a machine with PyTorch and transformers (docs/models.md):

  python3 tools/export/export_whisper.py --model openai/whisper-small \\
      --out /var/lib/botmodels/models/whisper

--model is a hub name (downloaded) or a local folder (save_pretrained's).
The traced parts are checked against the model on other lengths and row
counts before they are written.
"""
import os

import torch
from transformers import WhisperForConditionalGeneration, WhisperTokenizer

from export_common import added_vocab, arguments, save_vocabulary, trace, write_json, write_model_toml


class Encoder(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.encoder = model.model.encoder

    def forward(self, mel):
        return self.encoder(mel).last_hidden_state


class Decoder(torch.nn.Module):
    """The decoder without a KV cache: the whole sequence each step."""

    def __init__(self, model):
        super().__init__()
        self.decoder = model.model.decoder
        self.proj_out = model.proj_out

    def forward(self, tokens, states):
        hidden = self.decoder(input_ids=tokens, encoder_hidden_states=states,
                              use_cache=False).last_hidden_state
        return self.proj_out(hidden[:, -1])


def main():
    args = arguments(__doc__)

    model = WhisperForConditionalGeneration.from_pretrained(args.model).eval()
    tokenizer = WhisperTokenizer.from_pretrained(args.model)
    config, generation = model.config, model.generation_config
    n_mels = config.num_mel_bins

    added = added_vocab(tokenizer)
    sot = added["<|startoftranscript|>"]
    notimestamps = added["<|notimestamps|>"]
    multilingual = bool(getattr(generation, "is_multilingual", "<|en|>" in added and
                                "<|transcribe|>" in added))
    prompt = [sot] + ([added["<|en|>"], added["<|transcribe|>"]] if multilingual else []) + [
        notimestamps]

    mel = torch.randn(1, n_mels, 3000)
    encoder = Encoder(model)
    trace(encoder, (mel,), [(torch.randn(1, n_mels, 3000),)], os.path.join(args.out, "encoder.pt"))
    with torch.no_grad():
        states = encoder(mel)

    def tokens(rows, length):
        body = torch.randint(0, 50000, (rows, max(0, length - len(prompt))))
        return torch.cat([torch.tensor([prompt] * rows)[:, :length], body], dim=1)

    trace(Decoder(model), (tokens(1, 6), states),
          [(tokens(1, 1), states), (tokens(1, 4), states), (tokens(3, 9), states.expand(3, -1, -1)),
           (tokens(2, 40), states.expand(2, -1, -1))],
          os.path.join(args.out, "decoder.pt"))

    save_vocabulary(tokenizer, args.out, ["vocab.json", "merges.txt"])
    write_json(os.path.join(args.out, "added_tokens.json"), added)
    options = {
        "n_mels": n_mels,
        "multilingual": multilingual,
        "max_target_positions": config.max_target_positions,
        # transformers 5 keeps these only in the generation config.
        "suppress_tokens": list(generation.suppress_tokens or
                                getattr(config, "suppress_tokens", None) or []),
        "begin_suppress_tokens": list(generation.begin_suppress_tokens or
                                      getattr(config, "begin_suppress_tokens", None) or []),
        "max_new_tokens": min(224, config.max_target_positions // 2),
    }
    write_model_toml(args.out, f"Whisper, exported from {args.model} by tools/export/export_whisper.py",
                     "whisper", options, args.device)


if __name__ == "__main__":
    main()
