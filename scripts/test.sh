#!/usr/bin/env bash
# Sets everything up (packages, build, demo models) and runs the whole test
# suite: the ctest suite, then a short run of every fuzz target.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh" "$root/build"
(cd "$root/build" && ctest --output-on-failure -j "$(nproc)" --timeout 300)
"$root/scripts/fuzz.sh" --runs 5000
