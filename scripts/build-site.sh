#!/usr/bin/env bash
# Builds the browser bundle with Trunk (see Trunk.toml): the frontend crate to wasm with the
# size profile, wasm-bindgen, wasm-opt -Oz, plus the stylesheet and favicon. Then names the
# JS, wasm and stylesheet after one content hash (frontend-<hash>.js, frontend-<hash>_bg.wasm,
# frontend-<hash>.css: served with immutable caching), writes brotli and gzip copies next to
# them (served as they are: the server compresses nothing per visitor), and records the name
# in pkg/site.json, which the server reads at start-up. Output: target/site/pkg, served at /pkg.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/tools/node_modules/.bin:$HOME/.cargo/bin:$PATH"
pkg=target/site/pkg
trunk build --release --cargo-profile wasm-release "$@"
for f in frontend.js frontend_bg.wasm registry-dash.css favicon.svg; do
  [ -s "$pkg/$f" ] || { echo "build-site: $pkg/$f is missing" >&2; exit 1; }
done

# Earlier builds' hashed files and compressed copies go: only this build is served.
rm -f "$pkg"/frontend-* "$pkg"/*.br "$pkg"/*.gz "$pkg/site.json"
hash=$(cat "$pkg/frontend.js" "$pkg/frontend_bg.wasm" "$pkg/registry-dash.css" | sha256sum | cut -c1-16)
name="frontend-$hash"
mv "$pkg/frontend.js" "$pkg/$name.js"
mv "$pkg/frontend_bg.wasm" "$pkg/${name}_bg.wasm"
mv "$pkg/registry-dash.css" "$pkg/$name.css"
rm -f "$pkg/index.html"
node scripts/precompress.mjs "$pkg/$name.js" "$pkg/${name}_bg.wasm" "$pkg/$name.css" "$pkg/favicon.svg"
printf '{"output_name":"%s"}\n' "$name" > "$pkg/site.json"

wasm="$pkg/${name}_bg.wasm"
printf 'wasm bundle %s: %s bytes raw, %s brotli, %s gzip\n' "$name" "$(stat -c %s "$wasm")" \
  "$(stat -c %s "$wasm.br")" "$(stat -c %s "$wasm.gz")"
