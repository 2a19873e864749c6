#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz (clang, ASan + UBSan) and runs
# each from its seed corpus. A crash leaves its input in build-fuzz/crash-*.
# Usage: scripts/fuzz.sh [--runs N | --time SECONDS] [target...]
#   default: --runs 5000 on every target, the smoke run scripts/test.sh does;
#   a long run: scripts/fuzz.sh --time 3600 (docs/security.md).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$root/build-fuzz
limit=(-runs=5000)
targets=()
while (($#)); do
  case $1 in
    --runs) limit=("-runs=$2"); shift 2 ;;
    --time) limit=("-max_total_time=$2"); shift 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done
((${#targets[@]})) || targets=(client_request worker_message model_config keys_file broker_config value
  image_decoder audio_decoder tokenizers)

CC=clang CXX=clang++ cmake -S "$root" -B "$build" -DBOTMODELS_FUZZ=ON \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j "$(nproc)" >/dev/null

export LSAN_OPTIONS="suppressions=$root/tests/lsan.supp:print_suppressions=0"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for target in "${targets[@]}"; do
  # New inputs go to a scratch folder: the committed seeds stay as they are.
  mkdir -p "$work/$target"
  if ! "$build/bin/fuzz_$target" "${limit[@]}" -artifact_prefix="$build/crash-$target-" \
      "$work/$target" "$root/tests/fuzz/corpus/$target" 2>"$work/$target.log"; then
    tail -n 60 "$work/$target.log"
    echo "fuzz: $target FAILED; the input is in $build/crash-$target-*" >&2
    exit 1
  fi
  echo "fuzz: $target: $(grep -E '^(Done|stat::number_of_executed_units)' "$work/$target.log" | tail -n 1)"
done
