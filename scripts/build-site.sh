#!/usr/bin/env bash
# Builds the browser bundle, split by page, into target/site/pkg (served at /pkg):
#
#   1. cargo compiles the frontend crate (feature hydrate) to wasm32 with the size profile,
#      linked with --emit-relocs so the splitter can follow every call;
#   2. bundle-split cuts it at the #[lazy] page groups of app::routes: a main module with
#      what every page needs, chunks loaded when a page needs them, their JS loader and the
#      manifest Leptos reads to preload a rendered page's chunks (see bundle-split/src);
#   3. wasm-bindgen writes the JS glue for the main module (keeping lld's exports, which the
#      chunks link against), wasm-opt -Oz shrinks every module;
#   4. everything goes into one directory named after its content hash, pkg/<hash>/ (served
#      with immutable caching: a new build is a new directory, so a page's modules never mix
#      builds), with brotli and gzip copies next to each file (served as they are: the
#      server compresses nothing per visitor); pkg/site.json names the directory, and the
#      server reads it at start-up.
#
# WASM_OPT_EXTRA=-g keeps the function names in every module, for profiling in a browser.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/tools/node_modules/.bin:$HOME/.cargo/bin:$PATH"
pkg=target/site/pkg
stage=target/bundle

# .cargo/config.toml gives every build `--cfg erase_components`. A RUSTFLAGS variable
# replaces that setting, and a bundle and a server that disagree on it do not hydrate.
for flags in "${RUSTFLAGS-}" "${CARGO_ENCODED_RUSTFLAGS-}"; do
  if [ -n "$flags" ] && [[ "$flags" != *erase_components* ]]; then
    echo "build-site: RUSTFLAGS replaces .cargo/config.toml's --cfg erase_components;" \
      "add it to RUSTFLAGS for this build and the server's (they must agree)" >&2
    exit 1
  fi
done

rm -rf "$stage"
mkdir -p "$stage/out"
cargo rustc --locked -p frontend --lib --crate-type cdylib --target wasm32-unknown-unknown \
  --profile wasm-release -- -C link-arg=--emit-relocs
cargo run --locked --quiet --release -p bundle-split -- \
  target/wasm32-unknown-unknown/wasm-release/frontend.wasm "$stage/frontend.wasm" "$stage/out"
wasm-bindgen --target web --keep-lld-exports --no-demangle --no-typescript \
  --out-dir "$stage/out" --out-name frontend "$stage/frontend.wasm"
# One wasm-opt per module, as many at once as there are cores (the main module is the
# longest, so it starts first). Its warning about rustc's name subsections is noise.
optimize='wasm-opt -Oz ${WASM_OPT_EXTRA:-} --enable-bulk-memory --enable-nontrapping-float-to-int "$0" -o "$0" \
  2>"$0.log" || { cat "$0.log" >&2; exit 1; }
  grep -v "unknown name subsection" "$0.log" >&2; rm -f "$0.log"'
{ echo "$stage/out/frontend_bg.wasm"; find "$stage/out" -name '*.wasm' ! -name frontend_bg.wasm; } |
  xargs -P "$(nproc)" -I{} bash -c "$optimize" {}
cp style/registry-dash.css "$stage/out/frontend.css"
for f in frontend.js frontend_bg.wasm frontend.css __wasm_split_manifest.json; do
  [ -s "$stage/out/$f" ] || { echo "build-site: $stage/out/$f is missing" >&2; exit 1; }
done

hash=$(cd "$stage/out" && find . -type f | LC_ALL=C sort | xargs sha256sum | sha256sum | cut -c1-16)
# Only this build is served: earlier builds' directories go.
rm -rf "$pkg"
mkdir -p "$pkg"
mv "$stage/out" "$pkg/$hash"
cp public/favicon.svg "$pkg/"
node scripts/precompress.mjs "$pkg/favicon.svg" \
  $(find "$pkg/$hash" -type f \( -name '*.js' -o -name '*.wasm' -o -name '*.css' \))
printf '{"bundle":"%s"}\n' "$hash" > "$pkg/site.json"
node scripts/bundle-report.mjs "$pkg/$hash"
