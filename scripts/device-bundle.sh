#!/usr/bin/env bash
# Downloads the Debian 12 packages that the GPU check's build needs
# (BOTMODELS_GPU_CHECK: headers, pkg-config and CMake files, and the runtime
# libraries with what they load) into .device/debs, for scripts/gpu-check.sh
# to unpack into a prefix on a bare CUDA host that has none of them; then
# prints the bundle's size. Run here, with Debian's registry reachable;
# carry `.device` with the working tree (64 MiB in all).
# Usage: scripts/device-bundle.sh [DIR]   (default: .device)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/.device}

# What the GPU check's build includes or links (CMakeLists.txt, BOTMODELS_GPU_CHECK).
dev=(libzmq3-dev cppzmq-dev libmsgpack-cxx-dev libspdlog-dev libfmt-dev libtomlplusplus-dev
  libsodium-dev libssl-dev nlohmann-json3-dev libcli11-dev libgtest-dev zlib1g-dev
  libleptonica-dev libpng-dev libsndfile1-dev libsamplerate0-dev libpcre2-dev libutf8proc-dev
  libzxing-dev libstb-dev
  libflac-dev libogg-dev libvorbis-dev libopus-dev libmpg123-dev)  # sndfile.pc requires their .pc
# zlib1g: libz.so of zlib1g-dev points at it; pkgconf: for a host without pkg-config.
runtime=(libzmq5 libspdlog1.10 libfmt9 libtomlplusplus3 libsodium23 libssl3 liblept5
  libpng16-16 libsndfile1 libsamplerate0 libpcre2-8-0 libutf8proc2 libzxing2 libstb0 zlib1g
  pkgconf libpkgconf3)
# Any host that builds C++ has these: they are not carried.
base=(libc6 libgcc-s1 libstdc++6)

# The runtime libraries' closure: each dependency's first alternative,
# recursively, less the base system (Debian's priority "required": what
# the packages above depend on, not what they are).
declare -A seen=() asked=()
for p in "${base[@]}"; do seen[$p]=base; done
for p in "${runtime[@]}"; do asked[$p]=1; done
queue=("${runtime[@]}")
closure=()
while ((${#queue[@]})); do
  p=${queue[0]}
  queue=("${queue[@]:1}")
  [[ -n ${seen[$p]:-} ]] && continue
  seen[$p]=1
  info=$(apt-cache show --no-all-versions "$p" 2>/dev/null) || {
    echo "device-bundle: no package $p" >&2
    exit 1
  }
  [[ -z ${asked[$p]:-} ]] && grep -q '^Priority: required' <<<"$info" && continue
  closure+=("$p")
  deps=$(sed -n 's/^\(Pre-\)\?Depends: //p' <<<"$info" | tr ',' '\n' |
    sed 's/|.*//; s/(.*)//; s/:any//; s/ //g' | grep -v '^$' || true)
  for d in $deps; do [[ -z ${seen[$d]:-} ]] && queue+=("$d"); done
done

rm -rf "$out/debs"
mkdir -p "$out/debs"
(cd "$out/debs" && apt-get download "${dev[@]}" "${closure[@]}" >/dev/null)
printf '%s\n' "${dev[@]}" "${closure[@]}" >"$out/packages.txt"
echo "device-bundle: $(ls "$out/debs" | wc -l) packages, $(du -sh "$out/debs" | cut -f1) in $out/debs"
echo "device-bundle: with the working tree: $(du -sch "$out" $(git -C "$root" ls-files | sed "s|^|$root/|") 2>/dev/null | tail -1 | cut -f1) (the carry limit is 64 MiB)"
