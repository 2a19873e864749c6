#!/usr/bin/env bash
# Sets everything up (packages, build, demo models, demo keys) and runs the
# broker in the foreground on the built-in demo configuration. Ctrl-C stops it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh" "$root/build"

mkdir -p "$root/build/demo"
keys="$root/build/demo/keys.toml"
if [ ! -s "$keys" ]; then
  # Two keys: "demo" (admin) for the CLI, "app" (infer) for an application.
  random_secret() { head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
  (umask 077 && cat >"$keys" <<TOML
[[key]]
id = "demo"
role = "admin"
secret = "$(random_secret)"

[[key]]
id = "app"
role = "infer"
secret = "$(random_secret)"
TOML
  )
fi

cat <<TXT

botmodels demo: broker on tcp://127.0.0.1:8089 serving double, mlp, ocr, barcode,
qrcode, tts and stt. In another shell:
  export BOTMODELS_CONFIG=$root/deploy/demo.toml
  $root/build/bin/botmodels status
  $root/build/bin/botmodels infer double --json '{"x": [1, 2, 3]}'
  $root/build/bin/botmodels infer tts --text "Hello from botmodels." --out hello.wav
  $root/build/bin/botmodels infer stt --file hello.wav
  $root/build/bin/botmodels infer qrcode --text "https://example.org" --out qr.png
  $root/build/bin/botmodels infer barcode --file qr.png
  $root/build/bin/botmodels infer ocr --file scan.png

TXT
exec "$root/build/bin/botmodels-broker" --config "$root/deploy/demo.toml"
