#!/usr/bin/env bash
# Compiles the CUDA-only code (#ifdef BOTMODELS_WITH_CUDA) against Debian's
# libtorch headers and the CUDA headers of Debian's non-free nvidia-cuda-dev,
# so it cannot rot on hosts without a GPU. It checks that the code compiles;
# running it needs a CUDA build of libtorch and a GPU (docs/operations.md#gpus).
# Downloads about 780 MB once, into build-cuda-check/ (needs network).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$root/build-cuda-check
cuda=$work/cuda

if [[ ! -f $cuda/usr/include/cuda_runtime_api.h ]]; then
  mkdir -p "$work/apt/lists/partial" "$work/apt/cache/archives/partial"
  echo "deb http://deb.debian.org/debian bookworm non-free" >"$work/apt/sources.list"
  apt=(-o "Dir::Etc::SourceList=$work/apt/sources.list" -o Dir::Etc::SourceParts=/dev/null
    -o "Dir::State::Lists=$work/apt/lists" -o "Dir::Cache=$work/apt/cache")
  apt-get "${apt[@]}" update >/dev/null
  (cd "$work" && apt-get "${apt[@]}" download nvidia-cuda-dev >/dev/null 2>&1)
  mkdir -p "$cuda"
  dpkg-deb --fsys-tarfile "$work"/nvidia-cuda-dev_*.deb | tar -x -C "$cuda" --wildcards '*/include/*'
  rm -f "$work"/nvidia-cuda-dev_*.deb
fi

# c10's CUDA headers include a header that a CUDA build of PyTorch generates.
macros=$work/generated/c10/cuda/impl/cuda_cmake_macros.h
mkdir -p "$(dirname "$macros")"
echo "#define C10_CUDA_BUILD_SHARED_LIBS" >"$macros"

cmake -S "$root" -B "$work/build" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_CXX_FLAGS="-DBOTMODELS_WITH_CUDA -isystem $cuda/usr/include -isystem $work/generated" \
  >/dev/null
for source in $(grep -rl BOTMODELS_WITH_CUDA "$root/models" "$root/worker" --include='*.cc'); do
  folder=$(dirname "${source#"$root"/}")  # e.g. models/torchscript: its build folder too
  make -s -C "$work/build/$folder" "$(basename "$source").o"
  echo "check-cuda: $folder/$(basename "$source") compiles with CUDA"
done
