#!/usr/bin/python3
"""Reference numbers for tests/unit/log_mel_test.cc, computed once with
numpy (Debian's python3-numpy) from the published algorithms:

- the mel filter bank of librosa.filters.mel(sr=16000, n_fft=400, n_mels=N)
  with its defaults (Slaney's mel scale, htk=False, norm="slaney"), which is
  what Whisper's assets/mel_filters.npz holds;
- Whisper's log_mel_spectrogram (whisper/audio.py): a periodic Hann window of
  400, hop 160, centered with reflect padding (torch.stft's defaults), the
  last frame dropped, power spectrum, filters @ power, log10 with a 1e-10
  floor, clamped to max - 8, then (x + 4) / 4.

This is an independent implementation (numpy's FFT, float64), written from
those descriptions; the product computes the same with libtorch in float32.
Run:  /usr/bin/python3 tools/reference/whisper_mel.py > tests/fixtures/whisper_mel.json
"""
import json

import numpy as np

SR, N_FFT, HOP = 16000, 400, 160


def hz_to_mel(f):
    f = np.asanyarray(f, dtype=np.float64)
    f_sp = 200.0 / 3
    mels = f / f_sp
    min_log_hz, min_log_mel, logstep = 1000.0, 1000.0 / f_sp, np.log(6.4) / 27.0
    return np.where(f >= min_log_hz, min_log_mel + np.log(np.maximum(f, 1e-30) / min_log_hz) / logstep, mels)


def mel_to_hz(m):
    m = np.asanyarray(m, dtype=np.float64)
    f_sp = 200.0 / 3
    freqs = f_sp * m
    min_log_hz, min_log_mel, logstep = 1000.0, 1000.0 / f_sp, np.log(6.4) / 27.0
    return np.where(m >= min_log_mel, min_log_hz * np.exp(logstep * (m - min_log_mel)), freqs)


def mel_filters(n_mels):
    fftfreqs = np.fft.rfftfreq(n=N_FFT, d=1.0 / SR)
    mel_f = mel_to_hz(np.linspace(hz_to_mel(0.0), hz_to_mel(SR / 2.0), n_mels + 2))
    fdiff = np.diff(mel_f)
    ramps = np.subtract.outer(mel_f, fftfreqs)
    weights = np.zeros((n_mels, len(fftfreqs)))
    for i in range(n_mels):
        lower = -ramps[i] / fdiff[i]
        upper = ramps[i + 2] / fdiff[i + 1]
        weights[i] = np.maximum(0, np.minimum(lower, upper))
    weights *= (2.0 / (mel_f[2:n_mels + 2] - mel_f[:n_mels]))[:, np.newaxis]
    return weights.astype(np.float32).astype(np.float64)  # librosa returns float32


def log_mel(audio, filters):
    padded = np.pad(audio, N_FFT // 2, mode="reflect")
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(N_FFT) / N_FFT)  # periodic Hann
    frames = 1 + (len(padded) - N_FFT) // HOP
    power = np.stack([np.abs(np.fft.rfft(padded[t * HOP:t * HOP + N_FFT] * window)) ** 2
                      for t in range(frames)], axis=1)[:, :-1]
    spec = np.log10(np.maximum(filters @ power, 1e-10))
    spec = np.maximum(spec, spec.max() - 8.0)
    return (spec + 4.0) / 4.0


def test_signal():
    """One second: 440 Hz and 3 kHz tones, a chirp, and a click, deterministic."""
    t = np.arange(SR) / SR
    x = 0.5 * np.sin(2 * np.pi * 440 * t) + 0.25 * np.sin(2 * np.pi * 3000 * t)
    x += 0.1 * np.sin(2 * np.pi * (200 * t + 2000 * t * t))
    x[8000] += 0.9
    return x


def main():
    out = {}
    for n_mels in (80, 128):
        f = mel_filters(n_mels)
        out[f"filters_{n_mels}"] = {
            "row_sums": [float(v) for v in f.sum(axis=1)],
            "row_argmax": [int(v) for v in f.argmax(axis=1)],
            "row_max": [float(v) for v in f.max(axis=1)],
            "nonzero": int((f > 0).sum()),
        }
    f80 = mel_filters(80)
    spec = log_mel(test_signal(), f80)
    cells = [(0, 0), (5, 10), (10, 50), (20, 99), (30, 25), (45, 75), (60, 1), (79, 99)]
    out["log_mel_80"] = {
        "frames": int(spec.shape[1]),
        "row_means": [float(v) for v in spec.mean(axis=1)],
        "frame_means": [float(v) for v in spec.mean(axis=0)],
        "cells": [[r, c, float(spec[r, c])] for r, c in cells],
        "max": float(spec.max()),
        "min": float(spec.min()),
    }
    silence = log_mel(np.zeros(SR // 10), f80)
    out["log_mel_80_silence"] = {"frames": int(silence.shape[1]), "value": float(silence.max())}
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
