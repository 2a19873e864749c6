#!/bin/sh
# Runs while the image builds (see Containerfile): fails the build unless
# every program finds its libraries and the broker serves the demo model.
set -eu
if ldd /usr/local/bin/botmodels* | grep "not found"; then exit 1; fi
botmodels-worker --probe-devices >/dev/null

work=$(mktemp -d)
botmodels-make-demo-models "$work/models"
cp -r /usr/local/share/botmodels/native-models/tts "$work/models/"
cat >"$work/broker.toml" <<TOML
[broker]
frontend = "ipc://$work/clients"
backend = "ipc://$work/workers"
[auth]
mode = "none"
[http]
listen = ""
[models]
repository = "$work/models"
TOML
botmodels-broker --config "$work/broker.toml" >"$work/broker.log" 2>&1 &
broker=$!
answer=$(botmodels --endpoint "ipc://$work/clients" --timeout 60000 infer double \
  --json '{"x": [1, 2, 3]}') || true
speech=$(botmodels --endpoint "ipc://$work/clients" --timeout 60000 infer tts \
  --text "Hello." --out "$work/hello.wav") || true
kill -INT "$broker" && wait "$broker" || true
case "$speech" in
  *'"sample_rate":16000'*) ;;
  *) echo "smoke: tts answered '$speech'" >&2; cat "$work/broker.log" >&2; exit 1 ;;
esac
expected='{"outputs":{"y":{"data":[2.0,4.0,6.0],"dtype":"float32","shape":[3]}}}'
if [ "$answer" != "$expected" ]; then
  echo "smoke: expected $expected, got '$answer'" >&2
  cat "$work/broker.log" >&2
  exit 1
fi
rm -rf "$work"
echo "smoke: the image serves the demo model and speaks"
