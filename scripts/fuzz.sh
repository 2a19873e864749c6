#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz (clang, ASan + UBSan) and runs
# each from its seed corpus. A crash leaves its input in build-fuzz/crash-*.
# Usage: scripts/fuzz.sh [--runs N] [--time SECONDS | --long SECONDS] [target...]
#   default: --runs 5000 on every target, one after the other: the smoke run
#   scripts/test.sh does; --time: each target that long, one after the other;
#   --long: every target at once for SECONDS (the machine's cores shared),
#   then a table of executions, time and findings per target (docs/security.md).
#   --runs with --time or --long: a target stops at whichever comes first, so
#   fast targets that reach N hand their core to the slow ones.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$root/build-fuzz
runs=()
limit=()
long=0
targets=()
while (($#)); do
  case $1 in
    --runs) runs=("-runs=$2"); shift 2 ;;
    --time) limit=("-max_total_time=$2"); shift 2 ;;
    --long) limit=("-max_total_time=$2"); long=1; shift 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done
((${#runs[@]} + ${#limit[@]})) || runs=(-runs=5000)
limit+=("${runs[@]}")
((${#targets[@]})) || targets=(client_request worker_message model_config keys_file broker_config value
  image_decoder audio_decoder tokenizers infer_json oip_json http_request zmtp_decoder)

CC=clang CXX=clang++ cmake -S "$root" -B "$build" -DBOTMODELS_FUZZ=ON \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j "$(nproc)" >/dev/null

export LSAN_OPTIONS="suppressions=$root/tests/lsan.supp:print_suppressions=0"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if ((long)); then
  # Every target at once; what each finds (a crash, a timeout, a leak) goes
  # to this run's folder, and the table comes when the last one stops.
  findings=$build/long-$(date +%Y%m%d-%H%M%S)
  mkdir -p "$findings"
  for target in "${targets[@]}"; do
    mkdir -p "$work/$target"
    nice "$build/bin/fuzz_$target" "${limit[@]}" -print_final_stats=1 \
      -artifact_prefix="$findings/$target-" "$work/$target" \
      "$root/tests/fuzz/corpus/$target" >"$work/$target.log" 2>&1 &
  done
  wait || true
  echo "| target | executions | seconds | findings |"
  echo "|---|---:|---:|---|"
  failed=0
  for target in "${targets[@]}"; do
    log=$work/$target.log
    # The final stats; a target that stopped on a finding has only its progress lines.
    executed=$(grep -oE '^(stat::number_of_executed_units: |#)[0-9]+' "$log" | tail -n 1 |
      grep -oE '[0-9]+$' || true)
    secs=$(grep -oE 'Done [0-9]+ runs in [0-9]+ second' "$log" | tail -n 1 | grep -oE 'in [0-9]+' |
      grep -oE '[0-9]+' || echo "stopped")
    found=$(ls "$findings" | grep "^$target-" | tr '\n' ' ' || true)
    if grep -qE '^==[0-9]+==ERROR|deadly signal' "$log"; then
      failed=1
      found=${found:-"$(grep -m1 -oE 'ERROR: [A-Za-z]+: [a-z-]+' "$log")"}
    fi
    echo "| \`$target\` | ${executed:-?} | ${secs:-?} | ${found:-none} |"
  done
  echo "fuzz: findings, if any, are in $findings"
  exit $failed
fi

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
