#!/usr/bin/env python3
"""Turns a Hugging Face Whisper checkpoint into a botmodels model folder:

  encoder.pt     mel float32 [1, n_mels, 3000] -> states [1, 1500, d_model]
  decoder.pt     with a KV cache (docs/models.md#decoder-parts):
                 cross(states) -> keys and values [layers, 2, 1, heads, 1500, head_dim]
                 forward(tokens int64 [rows, T], cross, cache [layers, 2, rows, heads, P,
                 head_dim]) -> (logits [rows, vocab] of each row's last token, the cache
                 with the T new positions)
  vocab.json, merges.txt, added_tokens.json   the BPE tokenizer
  model.toml     backend = "whisper" and its [options]

Run on a machine with PyTorch and transformers (docs/models.md):

  python3 tools/export/export_whisper.py --model openai/whisper-small \\
      --out /var/lib/botmodels/models/whisper

--model is a hub name (downloaded) or a local folder (save_pretrained's).
The traced parts are checked against the model on other lengths and row
counts before they are written: the cached decoder, step by step, against
transformers' decoder over the whole sequence.
"""
import os

import torch
from transformers import WhisperForConditionalGeneration, WhisperTokenizer

from export_common import (added_vocab, arguments, attend, causal_mask, save_vocabulary,
                           split_heads, trace, trace_cached_decoder, write_json, write_model_toml)


class Encoder(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.encoder = model.model.encoder

    def forward(self, mel):
        return self.encoder(mel).last_hidden_state


class Decoder(torch.nn.Module):
    """The decoder without a KV cache, the whole sequence each step: the
    reference the cached one is checked against (and the old exports' form)."""

    def __init__(self, model):
        super().__init__()
        self.decoder = model.model.decoder
        self.proj_out = model.proj_out

    def forward(self, tokens, states):
        hidden = self.decoder(input_ids=tokens, encoder_hidden_states=states,
                              use_cache=False).last_hidden_state
        return self.proj_out(hidden[:, -1])


class CachedDecoder(torch.nn.Module):
    """Whisper's decoder step with a KV cache, written over transformers'
    layers (pre-LayerNorm: self-attention, cross-attention, MLP), whose
    module names have held from 4.2x to 5.x; the cache API has not."""

    def __init__(self, model):
        super().__init__()
        self.decoder = model.model.decoder
        self.proj_out = model.proj_out
        self.heads = self.decoder.layers[0].self_attn.num_heads

    def cross(self, states):
        kv = [torch.stack([split_heads(layer.encoder_attn.k_proj(states), self.heads),
                           split_heads(layer.encoder_attn.v_proj(states), self.heads)])
              for layer in self.decoder.layers]
        return torch.stack(kv)

    def forward(self, tokens, cross, cache):
        past, length = cache.size(4), tokens.size(1)
        positions = torch.arange(length, device=tokens.device) + past
        x = self.decoder.embed_tokens(tokens) + self.decoder.embed_positions.weight[positions]
        mask = causal_mask(length, past, tokens.device)
        kv = []
        for i, layer in enumerate(self.decoder.layers):
            a = layer.self_attn
            h = layer.self_attn_layer_norm(x)
            k = torch.cat([cache[i, 0], split_heads(a.k_proj(h), self.heads)], 2)
            v = torch.cat([cache[i, 1], split_heads(a.v_proj(h), self.heads)], 2)
            kv.append(torch.stack([k, v]))
            x = x + a.out_proj(attend(split_heads(a.q_proj(h), self.heads), k, v, mask))
            c = layer.encoder_attn
            h = layer.encoder_attn_layer_norm(x)
            x = x + c.out_proj(attend(split_heads(c.q_proj(h), self.heads), cross[i, 0], cross[i, 1]))
            x = x + layer.fc2(layer.activation_fn(layer.fc1(layer.final_layer_norm(x))))
        return self.proj_out(self.decoder.layer_norm(x[:, -1])), torch.stack(kv)


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

    trace_cached_decoder(CachedDecoder(model).eval(), Decoder(model).eval(), states,
                         torch.tensor([prompt]), os.path.join(args.out, "decoder.pt"))

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
