#!/usr/bin/env bash
# The GPU check (docs/models.md#the-gpu-check), made for the bare CUDA host
# lent for it: a PyTorch (CUDA) and transformers, a compiler, cmake, and
# none of our Debian libraries. What the build needs comes in the bundle
# scripts/device-bundle.sh downloads (.device/debs), unpacked here into a
# prefix of our own, never into /. Stages, each timed and logged:
#  1. host: torch, transformers, CUDA, the C++ ABI, the compiler;
#  2. unpack: the bundle into WORK/prefix;
#  3. configure and build (BOTMODELS_GPU_CHECK: the torch backends, the
#     pipelines, diffusion, botmodels-run-pipeline, their tests) against the
#     host's libtorch, on every core; linked: what they load is the bundle's;
#  4. tests: the CUDA tests, the pipelines' tests on the device;
#  5. generate: random tiny Whisper, BLIP captioning and BLIP VQA from
#     transformers configs (no download), exported with tools/export/, our
#     pipelines' token ids equal to transformers' generate(), greedy and beam;
#  6. diffusion: the stand-ins in float16: the same seed gives the same PNG
#     twice, and a size past the memory estimate is out_of_memory at once.
# (No video: FFmpeg is not in the bundle; see docs/models.md.)
# --quick: stages 1-4 with the CUDA tests (precision and the KV cache on the
# GPU among them) and one pipeline check (the diffusion stand-in), for a fix
# and a rerun inside the host's time.
# --cpu: the rehearsal without a GPU: every stage on the CPU.
# With OUT set: OUT/summary.json (each stage's status and seconds) and OUT/logs.
# Usage: scripts/gpu-check.sh [--quick] [--cpu] [WORK_DIR]
#   env: PYTHON (python3), DEVICE (cuda:0), BUNDLE (.device), TORCH_CMAKE_PREFIX
#   (default: the host torch's torch.utils.cmake_prefix_path)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
quick=0
cpu=0
work=""
while (($#)); do
  case $1 in
    --quick) quick=1 ;;
    --cpu) cpu=1 ;;
    *) work=$1 ;;
  esac
  shift
done
work=$(mkdir -p "${work:-$root/build-gpu-check}" && cd "${work:-$root/build-gpu-check}" && pwd)
python=${PYTHON:-python3}
device=${DEVICE:-cuda:0}
((cpu)) && device=cpu
bundle=${BUNDLE:-$root/.device}
out=${OUT:-$work/out}
logs=$out/logs
prefix=$work/prefix
build=$work/build
mkdir -p "$logs"

# Each stage: its log, its time, its status in the summary; the first
# failure ends the run with the log's end printed.
summary=()
started=$(date +%s)
write_summary() {
  local result=$1 stages
  stages=$(IFS=,; echo "${summary[*]}")
  printf '{"result": "%s", "device": "%s", "quick": %s, "seconds": %s, "stages": [%s]}\n' \
    "$result" "$device" "$([[ $quick == 1 ]] && echo true || echo false)" \
    "$(($(date +%s) - started))" "$stages" >"$out/summary.json"
}
stage() {
  local name=$1 t0 secs status=passed
  shift
  echo "gpu-check: $name ..."
  t0=$(date +%s.%N)
  # In a subshell of its own with errexit on: a function called as
  # `f || ...` would run with errexit ignored, and its first failure lost.
  set +e
  (set -e; "$@") >"$logs/$name.log" 2>&1
  (($? == 0)) || status=failed
  set -e
  secs=$(awk -v t0="$t0" -v t1="$(date +%s.%N)" 'BEGIN { printf "%.1f", t1 - t0 }')
  summary+=("{\"stage\": \"$name\", \"status\": \"$status\", \"seconds\": $secs}")
  echo "gpu-check: $name $status in $secs s"
  if [[ $status == failed ]]; then
    tail -n 40 "$logs/$name.log"
    echo "gpu-check: $name FAILED (log: $logs/$name.log)"
    write_summary failed
    exit 1
  fi
}

host() {
  "$python" - "$cpu" <<'PY'
import importlib.util, platform, sys, torch
cpu = sys.argv[1] == "1"
if importlib.util.find_spec("transformers"):
    import transformers
    version = transformers.__version__
elif cpu:
    version = "absent (the generate stage is skipped)"
else:
    sys.exit("no transformers: the generate stage needs it")
print(f"python {platform.python_version()}, torch {torch.__version__}, "
      f"transformers {version}, glibc {platform.libc_ver()[1]}")
print(f"CUDA {torch.version.cuda}, devices: {torch.cuda.device_count()}")
for i in range(torch.cuda.device_count()):
    print(f"  cuda:{i} {torch.cuda.get_device_name(i)}")
if not cpu and not torch.cuda.is_available():
    sys.exit("this PyTorch sees no CUDA device (--cpu runs the check without one)")
if not torch.compiled_with_cxx11_abi():
    sys.exit("this libtorch uses the pre-C++11 ABI; the bundle's C++ libraries use the C++11 ABI")
PY
  "${CXX:-c++}" --version | head -n 1
  cmake --version | head -n 1
  # torch's CMake files look for the CUDA toolkit when torch was built with CUDA.
  if command -v nvcc >/dev/null; then nvcc --version | tail -n 1; else echo "no nvcc on PATH"; fi
}

# dpkg-deb where the host has it; else Python reads the ar archive and its
# data.tar.xz. Absolute symlinks are made to point inside the prefix.
unpack() {
  local debs=("$bundle"/debs/*.deb)
  [[ -f ${debs[0]} ]] || { echo "no bundle in $bundle/debs: run scripts/device-bundle.sh"; return 1; }
  rm -rf "$prefix" && mkdir -p "$prefix"
  if command -v dpkg-deb >/dev/null; then
    for deb in "${debs[@]}"; do dpkg-deb -x "$deb" "$prefix"; done
  else
    "$python" - "$prefix" "${debs[@]}" <<'PY'
import io, sys, tarfile
prefix = sys.argv[1]
for deb in sys.argv[2:]:
    with open(deb, "rb") as f:
        assert f.read(8) == b"!<arch>\n", deb
        while header := f.read(60):
            name, size = header[:16].decode().strip().rstrip("/"), int(header[48:58])
            data = f.read(size + size % 2)[:size]
            if name.startswith("data.tar"):
                with tarfile.open(fileobj=io.BytesIO(data)) as tar:
                    tar.extractall(prefix, **({"filter": "tar"} if hasattr(tarfile, "tar_filter") else {}))
PY
  fi
  find "$prefix" -type l -lname '/*' | while read -r link; do
    ln -sfn "$prefix$(readlink "$link")" "$link"  # e.g. libz.so -> /lib/.../libz.so.1.2.13
  done
  echo "unpacked ${#debs[@]} packages into $prefix ($(du -sh "$prefix" | cut -f1))"
}

configure() {
  local torch_prefix=${TORCH_CMAKE_PREFIX:-$("$python" -c 'import torch; print(torch.utils.cmake_prefix_path)')}
  local lib=$prefix/usr/lib/x86_64-linux-gnu lib2=$prefix/lib/x86_64-linux-gnu
  # pkg-config: the bundle's .pc files, their /usr paths under the prefix;
  # the host's pkg-config if it has one, else the bundle's pkgconf.
  export PKG_CONFIG_LIBDIR=$lib/pkgconfig:$prefix/usr/share/pkgconfig
  export PKG_CONFIG_SYSROOT_DIR=$prefix
  local pkg_config
  pkg_config=$(command -v pkg-config || true)
  if [[ -z $pkg_config ]]; then
    pkg_config=$work/pkg-config
    printf '#!/bin/sh\nLD_LIBRARY_PATH=%s exec %s "$@"\n' "$lib" "$prefix/usr/bin/pkgconf" \
      >"$pkg_config"
    chmod +x "$pkg_config"
  fi
  local generator=()
  command -v ninja >/dev/null && generator=(-G Ninja)
  # Debian's multiarch headers (OpenSSL's configuration) are not on the
  # compiler's path under a prefix. DT_RPATH (not RUNPATH): the bundle's
  # libraries find what they load there too.
  cmake -S "$root" -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
    -DBOTMODELS_GPU_CHECK=ON -DCMAKE_PREFIX_PATH="$torch_prefix;$prefix/usr" \
    -DPKG_CONFIG_EXECUTABLE="$pkg_config" -DOPENSSL_ROOT_DIR="$prefix/usr" \
    -DCMAKE_CXX_FLAGS="-isystem $prefix/usr/include/x86_64-linux-gnu" \
    -DCMAKE_EXE_LINKER_FLAGS="-Wl,--disable-new-dtags -Wl,-rpath,$lib:$lib2"
}

# The libraries our binaries name, other than torch's and the compiler's
# runtimes (C, C++, and OpenMP's libgomp: our kernels split work with
# at::parallel_for, which needs -fopenmp), load from the prefix: the
# bundle's builds, not a same-named library of the host's.
linked() {
  local binary=$build/bin/botmodels-run-pipeline name path failed=0
  for name in $(readelf -d "$binary" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
    [[ $name =~ ^lib(torch|c10|c|m|stdc\+\+|gcc_s|gomp|pthread|dl)[._-] ]] && continue
    path=$(ldd "$binary" | awk -v n="$name" '$1 == n { print $3 }')
    echo "$name => $path"
    [[ $path == "$prefix"/* ]] || { echo "  not from the bundle"; failed=1; }
  done
  return $failed
}

tests() {
  local filter=()
  ((quick)) && filter=(-R 'Cuda\.|GpuMemory|MemoryBudget|Precision\.|CachedDecoder\.')
  (cd "$build" && BOTMODELS_TEST_DEVICE=$device ctest -j "$(nproc)" --output-on-failure \
    "${filter[@]}")
}

generate() {
  "$python" "$root/tools/export/tiny_models.py" "$work/hf"
  for name in whisper caption vqa; do
    local exporter=$root/tools/export/export_caption.py
    [[ $name == whisper ]] && exporter=$root/tools/export/export_whisper.py
    "$python" "$exporter" --model "$work/hf/$name" --out "$work/models/$name" --device "$device"
  done
  "$python" "$root/tools/export/check_generate.py" "$build/bin/botmodels-run-pipeline" \
    "$work/hf" "$work/models" "$device"
}

diffusion() {
  local run=$build/bin/botmodels-run-pipeline standins=$build/standin-models
  for i in 1 2; do
    "$run" "$standins/sd-standin" --device "$device" --prompt "a red bicycle" --seed 3 \
      --width 256 --height 192 --out "$work/sd-$i.png"
  done
  cmp "$work/sd-1.png" "$work/sd-2.png" || { echo "the same seed gave two images"; return 1; }
  rm -rf "$work/sd-huge" && cp -r "$standins/sd-standin" "$work/sd-huge"
  sed -i 's/^memory_per_pixel = .*/memory_per_pixel = 1048576/' "$work/sd-huge/model.toml"
  local answer
  if answer=$("$run" "$work/sd-huge" --device "$device" --prompt "a cat" --width 2048 \
    --height 2048 2>&1); then
    echo "2048 x 2048 at 1 MiB per pixel should not fit: $answer"
    return 1
  fi
  grep -q out_of_memory <<<"$answer" || { echo "expected out_of_memory: $answer"; return 1; }
  echo "same seed, same PNG; past the estimate: out_of_memory"
}

stage host host
stage unpack unpack
stage configure configure
if ((quick)); then
  stage build cmake --build "$build" -j "$(nproc)" --target cuda_test memory_budget_test \
    botmodels-run-pipeline standin_models
else
  stage build cmake --build "$build" -j "$(nproc)"
fi
stage linked linked
stage tests tests
if ((quick)); then
  :
elif ((cpu)) && ! "$python" -c 'import transformers' 2>/dev/null; then
  summary+=('{"stage": "generate", "status": "skipped", "seconds": 0}')
  echo "gpu-check: generate skipped: no transformers here"
else
  stage generate generate
fi
stage diffusion diffusion
write_summary passed
echo "gpu-check: all checks passed in $(($(date +%s) - started)) s; summary: $out/summary.json"
