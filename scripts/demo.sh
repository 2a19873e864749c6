#!/usr/bin/env bash
# Sets everything up (packages, build, demo models, a demo secret) and runs the
# broker in the foreground on the built-in demo configuration. Ctrl-C stops it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh" "$root/build"

mkdir -p "$root/build/demo"
secret="$root/build/demo/secret"
if [ ! -s "$secret" ]; then
  (umask 077 && head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$secret")
fi

cat <<TXT

botmodels demo: broker on tcp://127.0.0.1:8089 serving the models double and mlp.
In another shell:
  export BOTMODELS_CONFIG=$root/deploy/demo.toml
  $root/build/bin/botmodels status
  $root/build/bin/botmodels infer double --json '{"x": [1, 2, 3]}'

TXT
exec "$root/build/bin/botmodels-broker" --config "$root/deploy/demo.toml"
