#!/usr/bin/env python3
"""Turns a Hugging Face BLIP checkpoint (captioning, or visual question
answering) into a botmodels model folder:

  vision_encoder.pt    pixels float32 [1, 3, H, W] -> states [1, patches, width]
  question_encoder.pt  (VQA only) (ids int64 [1, Q], image states) -> states [1, Q, width]
  text_decoder.pt      with a KV cache (docs/models.md#decoder-parts):
                       cross(states) -> keys and values [layers, 2, 1, heads, N, head_dim]
                       forward(ids int64 [rows, T], cross, cache [layers, 2, rows, heads, P,
                       head_dim]) -> (logits [rows, vocab] of each row's last token, the cache
                       with the T new positions)
  vocab.txt, added_tokens.json   the WordPiece tokenizer
  preprocessor_config.json       transformers' image processor config
  model.toml           backend = "caption" and its [options]

Run on a machine with PyTorch and transformers (docs/models.md):

  python3 tools/export/export_caption.py --model Salesforce/blip-image-captioning-base \\
      --out /var/lib/botmodels/models/caption
  python3 tools/export/export_caption.py --model Salesforce/blip-vqa-base \\
      --out /var/lib/botmodels/models/vqa

The traced parts are checked against the model on other lengths and row
counts before they are written: the cached decoder, step by step, against
transformers' text decoder over the whole sequence.
"""
import os

import torch
from transformers import (BlipConfig, BlipForConditionalGeneration, BlipForQuestionAnswering,
                          BlipProcessor)

from export_common import (added_vocab, arguments, attend, causal_mask, save_vocabulary,
                           split_heads, trace, trace_cached_decoder, write_json, write_model_toml)


class Vision(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.vision = model.vision_model

    def forward(self, pixels):
        return self.vision(pixel_values=pixels).last_hidden_state


class Question(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.encoder = model.text_encoder

    def forward(self, ids, states):
        return self.encoder(input_ids=ids, encoder_hidden_states=states).last_hidden_state


class Decoder(torch.nn.Module):
    """The text decoder without a KV cache, the whole sequence each step: the
    reference the cached one is checked against (and the old exports' form)."""

    def __init__(self, model):
        super().__init__()
        self.decoder = model.text_decoder

    def forward(self, ids, states):
        return self.decoder(input_ids=ids, encoder_hidden_states=states,
                            use_cache=False).logits[:, -1]


class CachedDecoder(torch.nn.Module):
    """BLIP's text decoder step with a KV cache, written over transformers'
    BERT layers (post-LayerNorm: self-attention, cross-attention, MLP) and
    its prediction head, whose module names have held from 4.2x to 5.x."""

    def __init__(self, model):
        super().__init__()
        self.bert = model.text_decoder.bert
        self.head = model.text_decoder.cls.predictions
        self.heads = self.bert.encoder.layer[0].attention.self.num_attention_heads

    def cross(self, states):
        kv = []
        for layer in self.bert.encoder.layer:
            a = layer.crossattention.self
            kv.append(torch.stack([split_heads(a.key(states), self.heads),
                                   split_heads(a.value(states), self.heads)]))
        return torch.stack(kv)

    def forward(self, ids, cross, cache):
        past, length = cache.size(4), ids.size(1)
        e = self.bert.embeddings
        positions = torch.arange(length, device=ids.device) + past
        x = e.LayerNorm(e.word_embeddings(ids) + e.position_embeddings(positions))
        mask = causal_mask(length, past, ids.device)
        kv = []
        for i, layer in enumerate(self.bert.encoder.layer):
            a = layer.attention
            k = torch.cat([cache[i, 0], split_heads(a.self.key(x), self.heads)], 2)
            v = torch.cat([cache[i, 1], split_heads(a.self.value(x), self.heads)], 2)
            kv.append(torch.stack([k, v]))
            h = attend(split_heads(a.self.query(x), self.heads), k, v, mask)
            x = a.output.LayerNorm(a.output.dense(h) + x)
            c = layer.crossattention
            h = attend(split_heads(c.self.query(x), self.heads), cross[i, 0], cross[i, 1])
            x = c.output.LayerNorm(c.output.dense(h) + x)
            h = layer.intermediate.intermediate_act_fn(layer.intermediate.dense(x))
            x = layer.output.LayerNorm(layer.output.dense(h) + x)
        t = self.head.transform
        x = t.LayerNorm(t.transform_act_fn(t.dense(x[:, -1])))
        return self.head.decoder(x), torch.stack(kv)


def main():
    args = arguments(__doc__)

    vqa = "QuestionAnswering" in " ".join(BlipConfig.from_pretrained(args.model).architectures or [])
    cls = BlipForQuestionAnswering if vqa else BlipForConditionalGeneration
    model = cls.from_pretrained(args.model).eval()
    processor = BlipProcessor.from_pretrained(args.model)
    tokenizer, text = processor.tokenizer, model.config.text_config
    size = processor.image_processor.size
    height, width = (size["height"], size["width"]) if isinstance(size, dict) else (size, size)

    pixels = torch.randn(1, 3, height, width)
    vision = Vision(model)
    trace(vision, (pixels,), [(torch.randn(1, 3, height, width),)],
          os.path.join(args.out, "vision_encoder.pt"))
    with torch.no_grad():
        image = vision(pixels)
    ids = lambda rows, length: torch.cat(  # noqa: E731
        [torch.full((rows, 1), text.bos_token_id), torch.randint(1000, 29000, (rows, length - 1))], 1)
    states = image
    if vqa:
        question = Question(model)
        q = torch.tensor([tokenizer("what is in the picture?").input_ids])
        trace(question, (q, image), [(torch.tensor([tokenizer("is it red?").input_ids]), image)],
              os.path.join(args.out, "question_encoder.pt"))
        with torch.no_grad():
            states = question(q, image)
    trace_cached_decoder(CachedDecoder(model).eval(), Decoder(model).eval(), states, ids(1, 2),
                         os.path.join(args.out, "text_decoder.pt"))

    save_vocabulary(tokenizer, args.out, ["vocab.txt"])
    write_json(os.path.join(args.out, "added_tokens.json"), added_vocab(tokenizer))
    processor.image_processor.save_pretrained(args.out)  # preprocessor_config.json
    if not os.path.exists(os.path.join(args.out, "preprocessor_config.json")):
        write_json(os.path.join(args.out, "preprocessor_config.json"),
                   processor.image_processor.to_dict())
    token = tokenizer.convert_ids_to_tokens
    options = {
        "tokenizer": "wordpiece",
        "vocab": "vocab.txt",
        "added_tokens": "added_tokens.json",
        "lowercase": bool(getattr(tokenizer, "do_lower_case", True)),
        "bos_token": token(text.bos_token_id),
        "eos_token": token(text.sep_token_id),
        "cls_token": tokenizer.cls_token,
        "sep_token": tokenizer.sep_token,
        "max_positions": text.max_position_embeddings,
        "max_new_tokens": 30,
    }
    if vqa:
        options["question_encoder"] = "question_encoder.pt"
    write_model_toml(args.out, f"BLIP, exported from {args.model} by tools/export/export_caption.py",
                     "caption", options, args.device)


if __name__ == "__main__":
    main()
