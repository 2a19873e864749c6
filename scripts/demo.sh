#!/usr/bin/env bash
# Sets everything up (packages, build, demo models, demo keys) and runs the
# broker in the foreground on the built-in demo configuration. Ctrl-C stops it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh" "$root/build"

mkdir -p "$root/build/demo/files"
random_secret() { head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
keys="$root/build/demo/keys.toml"
if ! grep -q '"gateway"' "$keys" 2>/dev/null; then
  # Three broker keys: "demo" (admin) for the CLI, "app" (infer) for an
  # application, "gateway" (infer) for the HTTP gateway.
  rm -f "$keys"
  (umask 077 && cat >"$keys" <<TOML
[[key]]
id = "demo"
role = "admin"
secret = "$(random_secret)"

[[key]]
id = "app"
role = "infer"
secret = "$(random_secret)"

[[key]]
id = "gateway"
role = "infer"
secret = "$(random_secret)"
TOML
  )
fi
gateway_keys="$root/build/demo/gateway-keys.toml"
if [ ! -s "$gateway_keys" ]; then
  # The X-API-Key botserver sends (its botmodels-api-key setting).
  (umask 077 && cat >"$gateway_keys" <<TOML
[[key]]
id = "botserver"
role = "infer"
key = "$(random_secret)"
TOML
  )
fi

cat <<TXT

botmodels demo: broker on tcp://127.0.0.1:8089 serving double, mlp, ocr, barcode,
qrcode, tts and stt; the HTTP gateway on http://127.0.0.1:8085. In another shell:
  export BOTMODELS_CONFIG=$root/deploy/demo.toml
  $root/build/bin/botmodels status
  $root/build/bin/botmodels infer double --json '{"x": [1, 2, 3]}'
  $root/build/bin/botmodels infer tts --text "Hello from botmodels." --out hello.wav
  $root/build/bin/botmodels infer stt --file hello.wav
  $root/build/bin/botmodels infer qrcode --text "https://example.org" --out qr.png
  $root/build/bin/botmodels infer barcode --file qr.png
  $root/build/bin/botmodels infer ocr --file scan.png

  key=\$(sed -n 's/^key = "\\(.*\\)"/\\1/p' $gateway_keys)
  curl -s -H "X-API-Key: \$key" -H 'Content-Type: application/json' \\
       -d '{"prompt": "Hello from the gateway."}' http://127.0.0.1:8085/api/speech/generate
  curl -s -H "X-API-Key: \$key" -F file=@qr.png http://127.0.0.1:8085/api/vision/qrcode

TXT
exec "$root/build/bin/botmodels-broker" --config "$root/deploy/demo.toml"
