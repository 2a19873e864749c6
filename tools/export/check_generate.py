#!/usr/bin/env python3
"""Checks botmodels' pipelines against transformers: runs each exported
tiny model (tiny_models.py, then export_*.py) through botmodels-run-pipeline
and the original through transformers' generate() on the same inputs, greedy
and with beam search, and compares the generated token ids. Exits 1 on any
difference. Works with transformers 4.4x and 5.x. Used by scripts/gpu-check.sh:

  python3 tools/export/check_generate.py RUNNER HF_DIR MODELS_DIR DEVICE
"""
import json
import math
import struct
import subprocess
import sys
import tempfile
import wave
import os

import numpy as np
import torch
from PIL import Image
from transformers import (AutoTokenizer, BlipForConditionalGeneration, BlipForQuestionAnswering,
                          BlipImageProcessor, GenerationMixin, WhisperFeatureExtractor,
                          WhisperForConditionalGeneration)

MAX_NEW = 8
QUESTION = "what is in the picture?"


def write_inputs(folder):
    """A 5 s chirp (16 kHz WAV) and a 64×64 gradient (PNG)."""
    wav, png = os.path.join(folder, "chirp.wav"), os.path.join(folder, "photo.png")
    samples = [int(9000 * math.sin(2 * math.pi * (200 + 150 * i / 16000) * i / 16000))
               for i in range(5 * 16000)]
    with wave.open(wav, "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(16000)
        w.writeframes(b"".join(struct.pack("<h", s) for s in samples))
    image = Image.new("RGB", (64, 64))
    image.putdata([(4 * x, 255 - 4 * y, (x * y) % 256) for y in range(64) for x in range(64)])
    image.save(png)
    return wav, np.array(samples, dtype=np.float32) / 32768, png, image


def ours(runner, model, file, device, *args):
    out = subprocess.run([runner, model, "--file", file, "--device", device,
                          "--max-new-tokens", str(MAX_NEW), *args],
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def strip(sequence, prompt_length, stops):
    ids = sequence[prompt_length:].tolist()
    while ids and ids[-1] in stops:
        ids.pop()
    return ids


def main():
    runner, hf, models, device = sys.argv[1:5]
    failures = 0
    with tempfile.TemporaryDirectory() as folder:
        wav, audio, png, image = write_inputs(folder)

        whisper = WhisperForConditionalGeneration.from_pretrained(os.path.join(hf, "whisper"))
        whisper = whisper.to(device).eval()
        features = WhisperFeatureExtractor(feature_size=80)(
            audio, sampling_rate=16000, return_tensors="pt").input_features.to(device)
        with torch.no_grad():
            first = whisper(features, decoder_input_ids=torch.tensor([[50257]], device=device))
        detected = {50258: "en", 50259: "pt", 50260: "de"}[
            50258 + first.logits[0, -1, 50258:50261].argmax().item()]
        # generate() decodes greedily: no temperature fallback on our side either.
        with open(os.path.join(models, "whisper", "model.toml"), "a", encoding="utf-8") as toml:
            toml.write("temperatures = [0.0]\n")
        got = ours(runner, os.path.join(models, "whisper"), wav, device)
        print(f"whisper language: ours {got['language']}, transformers {detected}")
        failures += got["language"] != detected
        prompt = torch.tensor([[50257, 50258, 50262, 50264]], device=device)
        for beams in (1, 3):
            with torch.no_grad():
                # GenerationMixin's generate: Whisper's own adds its long-form logic.
                want = GenerationMixin.generate(
                    whisper, inputs=features, decoder_input_ids=prompt, max_new_tokens=MAX_NEW,
                    num_beams=beams, do_sample=False, suppress_tokens=list(range(50257, 50265)),
                    begin_suppress_tokens=[220, 50256], eos_token_id=50256, pad_token_id=50256)
            want = strip(want[0], prompt.shape[1], {50256})
            got = ours(runner, os.path.join(models, "whisper"), wav, device,
                       "--language", "en", "--beams", str(beams))["segments"][0]["tokens"]
            print(f"whisper, {beams} beam(s): ours {got}, transformers {want}")
            failures += got != want

        for name, cls in (("caption", BlipForConditionalGeneration), ("vqa", BlipForQuestionAnswering)):
            model = cls.from_pretrained(os.path.join(hf, name)).to(device).eval()
            # The Pillow-based image processor, which ours follows, not the
            # torchvision one (BlipImageProcessorFast) a processor may pick.
            pixels = BlipImageProcessor.from_pretrained(os.path.join(hf, name))(
                image, return_tensors="pt").pixel_values.to(device)
            inputs = {"pixel_values": pixels}
            if name == "vqa":
                question = AutoTokenizer.from_pretrained(os.path.join(hf, name))(
                    QUESTION, return_tensors="pt").to(device)
                inputs.update(input_ids=question.input_ids, attention_mask=question.attention_mask)
            for beams in (1, 3):
                with torch.no_grad():
                    want = model.generate(**inputs, max_new_tokens=MAX_NEW, num_beams=beams,
                                          do_sample=False)
                want = strip(want[0], 1, {102, 0})  # after [DEC]; [SEP] and padding off
                args = ["--beams", str(beams)] + (["--question", QUESTION] if name == "vqa" else [])
                got = ours(runner, os.path.join(models, name), png, device, *args)["tokens"]
                print(f"{name}, {beams} beam(s): ours {got}, transformers {want}")
                failures += got != want
    print("check_generate: " + ("all equal" if not failures else f"{failures} difference(s)"))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
