#!/usr/bin/env python3
"""Random-initialized tiny Whisper, BLIP captioning and BLIP VQA models,
built from transformers configs with the tokenizers of tests/fixtures (no
download): what scripts/gpu-check.sh exports and checks our pipelines
against. Writes OUT/whisper, OUT/caption and OUT/vqa (save_pretrained).
Works with transformers 4.4x and 5.x.

  python3 tools/export/tiny_models.py OUT
"""
import os
import shutil
import sys
import tempfile

import torch
from transformers import (BertTokenizer, BlipConfig, BlipForConditionalGeneration,
                          BlipForQuestionAnswering, BlipImageProcessor, BlipProcessor,
                          WhisperConfig, WhisperForConditionalGeneration, WhisperTokenizer)

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../tests/fixtures")
# Whisper's special tokens after GPT-2's 50257 entries, as the *.en models
# number them, with three languages.
SPECIALS = ["<|startoftranscript|>", "<|en|>", "<|pt|>", "<|de|>", "<|translate|>",
            "<|transcribe|>", "<|nospeech|>", "<|notimestamps|>"]


def load_tokenizer(cls, files):
    """`cls` from fixture files copied under the names from_pretrained reads:
    transformers 5 builds tokenizers from files only through from_pretrained."""
    with tempfile.TemporaryDirectory() as folder:
        for source, name in files.items():
            shutil.copy(os.path.join(FIXTURES, source), os.path.join(folder, name))
        return cls.from_pretrained(folder)


def whisper(out):
    tokenizer = load_tokenizer(WhisperTokenizer, {"gpt2/encoder.json": "vocab.json",
                                                  "gpt2/vocab.bpe": "merges.txt"})
    tokenizer.add_special_tokens({"additional_special_tokens": SPECIALS})
    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in SPECIALS}
    assert ids["<|startoftranscript|>"] == 50257 and ids["<|notimestamps|>"] == 50264, ids
    config = WhisperConfig(vocab_size=50265, num_mel_bins=80, d_model=64, encoder_layers=2,
                           decoder_layers=2, encoder_attention_heads=2, decoder_attention_heads=2,
                           encoder_ffn_dim=128, decoder_ffn_dim=128, max_target_positions=448,
                           bos_token_id=50256, eos_token_id=50256, pad_token_id=50256,
                           decoder_start_token_id=50257, suppress_tokens=[],
                           begin_suppress_tokens=[220, 50256])
    model = WhisperForConditionalGeneration(config).eval()
    generation = model.generation_config
    generation.is_multilingual = True
    generation.lang_to_id = {t: ids[t] for t in ("<|en|>", "<|pt|>", "<|de|>")}
    generation.task_to_id = {"translate": ids["<|translate|>"], "transcribe": ids["<|transcribe|>"]}
    generation.no_timestamps_token_id = ids["<|notimestamps|>"]
    generation.suppress_tokens, generation.begin_suppress_tokens = [], [220, 50256]
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)


def blip(out, vqa):
    tokenizer = load_tokenizer(BertTokenizer, {"bert/vocab.txt": "vocab.txt"})
    tokenizer.add_special_tokens({"bos_token": "[DEC]", "additional_special_tokens": ["[ENC]"]})
    assert tokenizer.convert_tokens_to_ids("[DEC]") == 30522
    config = BlipConfig(
        text_config=dict(vocab_size=30524, hidden_size=64, encoder_hidden_size=64,
                         num_hidden_layers=2, num_attention_heads=2, intermediate_size=128,
                         max_position_embeddings=64, bos_token_id=30522, sep_token_id=102,
                         pad_token_id=0),
        vision_config=dict(hidden_size=64, num_hidden_layers=2, num_attention_heads=2,
                           intermediate_size=128, image_size=64, patch_size=16),
        projection_dim=64)
    model = (BlipForQuestionAnswering if vqa else BlipForConditionalGeneration)(config).eval()
    model.save_pretrained(out)
    BlipProcessor(image_processor=BlipImageProcessor(size={"height": 64, "width": 64}),
                  tokenizer=tokenizer).save_pretrained(out)


def main():
    out = sys.argv[1]
    torch.manual_seed(1407)
    whisper(os.path.join(out, "whisper"))
    blip(os.path.join(out, "caption"), vqa=False)
    blip(os.path.join(out, "vqa"), vqa=True)
    print(f"wrote tiny models to {out}")


if __name__ == "__main__":
    main()
