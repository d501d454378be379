#!/usr/bin/env bash
# Builds the browser bundle with Trunk (see Trunk.toml): the frontend crate to wasm with the
# size profile, wasm-bindgen, wasm-opt -Oz, plus the stylesheet and favicon, into
# target/site/pkg where the server serves /pkg from.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/tools/node_modules/.bin:$HOME/.cargo/bin:$PATH"
trunk build --release --cargo-profile wasm-release "$@"
for f in frontend.js frontend_bg.wasm registry-dash.css favicon.svg; do
  [ -s "target/site/pkg/$f" ] || { echo "build-site: target/site/pkg/$f is missing" >&2; exit 1; }
done
wasm=target/site/pkg/frontend_bg.wasm
printf 'wasm bundle: %s bytes raw, %s bytes gzip\n' "$(stat -c %s "$wasm")" "$(gzip -9c "$wasm" | wc -c)"
