#!/usr/bin/env bash
# The HTTP gateway's instructions and malloc calls per request, counted by
# callgrind: unlike replies/s on a shared VM, the same from run to run, so a
# change of a few percent shows. The gateway runs under callgrind while
# `botmodels bench --parts gateway --concurrency 16` loads it ((f) and (h),
# about half each); the counters are zeroed once it has started.
#
#   scripts/gateway-callgrind.sh [GATEWAY_BINARY [BENCH_OPTIONS...]]
#
# GATEWAY_BINARY defaults to build/bin/botmodels-gateway; BENCH_OPTIONS go to
# the bench, e.g. `--gateway-model mlp` for 512 floats each way.
#
# Needs valgrind and gawk (apt-get install valgrind gawk); about a minute.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
gateway=$(realpath "${1:-$root/build/bin/botmodels-gateway}")
shift $(($# > 0 ? 1 : 0))
for tool in valgrind callgrind_control gawk; do
  command -v "$tool" >/dev/null || { echo "needs $tool: apt-get install valgrind gawk" >&2; exit 1; }
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Named as the gateway, so that the bench finds it among the broker's
# children; callgrind runs beneath it and gets its SIGTERM.
cat >"$work/botmodels-gateway" <<EOF
#!/bin/sh
valgrind -q --tool=callgrind --callgrind-out-file=$work/callgrind.out "$gateway" "\$@" &
child=\$!
echo \$child >$work/pid
trap 'kill -TERM \$child' TERM INT
wait \$child
EOF
chmod +x "$work/botmodels-gateway"

"$root/build/bin/botmodels" bench --parts gateway --concurrency 16 --held-idle 0 --held-slow 0 \
  --duration-ms 3000 --gateway-binary "$work/botmodels-gateway" "$@" >"$work/bench.txt" 2>&1 &
bench=$!
for _ in $(seq 300); do [ -s "$work/pid" ] && break; sleep 0.2; done
[ -s "$work/pid" ] || { cat "$work/bench.txt" >&2; echo "the gateway did not start" >&2; exit 1; }
sleep 8  # start-up and the bench's health checks, under callgrind
callgrind_control -z "$(cat "$work/pid")" >/dev/null 2>&1
wait "$bench" || { cat "$work/bench.txt" >&2; exit 1; }
for _ in $(seq 100); do [ -s "$work/callgrind.out" ] && break; sleep 0.2; done

# Calls are counted from callgrind's "calls=" lines under each called
# function ("cfn="), whose names are compressed to "(id)" after their first use.
gawk '
  /^(summary|totals):/ { total = $2 }
  /^c?fn=\(/ {
    match($0, /\(([0-9]+)\)/, m); id = m[1]
    rest = substr($0, RSTART + RLENGTH + 1); if (rest != "") name[id] = rest
    if ($0 ~ /^cfn/) called = id
  }
  /^calls=/ { split(substr($1, 7), n, " "); calls[called] += n[1] }
  END {
    for (id in name) {
      if (name[id] ~ /^botmodels::Gateway::Handle\(/) requests += calls[id]
      if (name[id] ~ /^botmodels::ModelRoutes::Infer\(/) f += calls[id]
      if (name[id] ~ /^botmodels::OipRoutes::Infer\(/) h += calls[id]
      if (name[id] == "malloc") mallocs += calls[id]
    }
    if (requests == 0) { print "no request counted" > "/dev/stderr"; exit 1 }
    printf "requests %d ((f) %d, (h) %d): %.0f instructions and %.1f mallocs per request\n",
           requests, f, h, total / requests, mallocs / requests
  }' "$work/callgrind.out"
