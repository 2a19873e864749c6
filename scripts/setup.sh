#!/usr/bin/env bash
# Installs what botmodels needs (only what is missing), then builds it and the demo
# models. Idempotent: a second run only rebuilds what changed.
# Usage: scripts/setup.sh [build-dir]   (default: build)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}

packages=(build-essential cmake pkg-config libzmq3-dev cppzmq-dev libmsgpack-cxx-dev
  libtorch-dev libopenblas0 libboost-dev libboost-filesystem-dev libspdlog-dev libgtest-dev
  libsodium-dev libssl-dev iproute2 libtomlplusplus-dev libcli11-dev nlohmann-json3-dev libcpp-httplib-dev libsimdjson-dev
  clang  # clang: libFuzzer targets (scripts/fuzz.sh)
  # Native backends (docs/models.md), with Debian's pretrained data:
  libtesseract-dev libleptonica-dev tesseract-ocr-eng tesseract-ocr-deu  # OCR; deu: the second-language test
  libzxing-dev                                                          # barcodes and QR codes
  flite1-dev libespeak-ng-dev espeak-ng-data                            # text-to-speech
  libpocketsphinx-dev libsphinxbase-dev pocketsphinx-en-us              # speech-to-text
  libsndfile1-dev libsamplerate0-dev                                    # audio in: WAV, FLAC, Ogg, Opus, MP3
  libmp3lame-dev                                                        # audio out: MP3 (OpenAI's speech)
  libpcre2-dev                                                          # pipelines: GPT-2's BPE split (Unicode classes)
  libutf8proc-dev                                                       # pipelines: BERT's WordPiece (NFD, Unicode categories)
  libpng-dev                                                            # diffusion: PNGs with text chunks
  libavcodec-dev libavformat-dev libavutil-dev libswscale-dev           # video diffusion: H.264 MP4 (libx264)
  libstb-dev fonts-dejavu-core                                          # tests: text rendered into images
  chromium)                                                             # tests: the status page in a browser
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
# Each torch translation unit needs ~1 GB: two jobs fit the smallest supported machine.
cmake --build "$build" -j "$(nproc)"
