#!/usr/bin/env bash
# The checks that need a GPU host with PyTorch (a CUDA build) and
# transformers, and no internet (docs/models.md#checking-the-pipelines):
#  1. builds botmodels against that PyTorch's libtorch and runs the CUDA
#     tests (Cuda.*) and the pipelines' tests on the GPU;
#  2. builds random-initialized tiny Whisper, BLIP captioning and BLIP VQA
#     models from transformers configs (tools/export/tiny_models.py), exports
#     them with tools/export/, runs our pipelines on them on the GPU, and
#     checks that the token ids equal transformers' generate() on the same
#     inputs, greedy and with beam search (tools/export/check_generate.py);
#  3. runs the diffusion stand-ins on the GPU (float16): the same seed gives
#     the same PNG twice, a video comes out, and a size past the memory
#     estimate is out_of_memory at once.
# Needs the build dependencies of scripts/setup.sh. Takes a few minutes.
# Usage: scripts/gpu-check.sh [WORK_DIR]   (PYTHON=python3, DEVICE=cuda:0)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mkdir -p "${1:-$root/build-gpu-check}" && cd "${1:-$root/build-gpu-check}" && pwd)
python=${PYTHON:-python3}
device=${DEVICE:-cuda:0}

"$python" - <<'PY'
import sys, torch, transformers
print(f"torch {torch.__version__}, transformers {transformers.__version__}, "
      f"CUDA devices: {torch.cuda.device_count()}")
if not torch.cuda.is_available():
    sys.exit("gpu-check: this PyTorch sees no CUDA device")
if not torch.compiled_with_cxx11_abi():
    sys.exit("gpu-check: this libtorch uses the pre-C++11 ABI; botmodels links C++ libraries "
             "built with the C++11 ABI (use a cxx11-ABI libtorch)")
PY
prefix=$("$python" -c 'import torch; print(torch.utils.cmake_prefix_path)')

cmake -S "$root" -B "$work/build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$work/build" -j"$(nproc)" --target botmodels-run-pipeline cuda_test \
  pipeline_backend_tests pipeline_tests diffusion_tests standin_models
(cd "$work/build" && ctest -R 'Cuda\.|WhisperBackend|CaptionBackend|PipelineBackends|ImagePreprocessor|NoiseSchedule|Samplers|Diffusion' \
  --output-on-failure)

"$python" "$root/tools/export/tiny_models.py" "$work/hf"
for name in whisper caption vqa; do
  exporter=$root/tools/export/export_caption.py
  [[ $name == whisper ]] && exporter=$root/tools/export/export_whisper.py
  "$python" "$exporter" --model "$work/hf/$name" --out "$work/models/$name" --device "$device"
done
"$python" "$root/tools/export/check_generate.py" "$work/build/bin/botmodels-run-pipeline" \
  "$work/hf" "$work/models" "$device"
run=$work/build/bin/botmodels-run-pipeline
standins=$work/build/standin-models
for i in 1 2; do
  "$run" "$standins/sd-standin" --device "$device" --prompt "a red bicycle" --seed 3 \
    --width 256 --height 192 --out "$work/sd-$i.png"
done
cmp "$work/sd-1.png" "$work/sd-2.png" || { echo "gpu-check: the same seed gave two images"; exit 1; }
"$run" "$standins/video-standin" --device "$device" --prompt "a red bicycle" --num-frames 12 \
  --out "$work/video.mp4"
rm -rf "$work/sd-huge" && cp -r "$standins/sd-standin" "$work/sd-huge"
sed -i 's/^memory_per_pixel = .*/memory_per_pixel = 1048576/' "$work/sd-huge/model.toml"
if out=$("$run" "$work/sd-huge" --device "$device" --prompt "a cat" --width 2048 --height 2048 2>&1); then
  echo "gpu-check: 2048 x 2048 at 1 MiB per pixel should not fit: $out"; exit 1
fi
grep -q out_of_memory <<<"$out" || { echo "gpu-check: expected out_of_memory: $out"; exit 1; }
echo "gpu-check: all checks passed"
