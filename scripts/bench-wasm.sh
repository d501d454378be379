#!/usr/bin/env bash
# The cleanup-policy engine benchmark as the browser runs it: compiled to WebAssembly with the
# browser bundle's size profile (opt-level z, LTO) and run in Node's V8. Prints numbers only.
set -euo pipefail
cd "$(dirname "$0")/.."
rustup target list --installed | grep -qx wasm32-wasip1 || rustup target add wasm32-wasip1
cargo build --quiet --profile wasm-release --target wasm32-wasip1 -p wasm-bench
echo "node $(node --version), WebAssembly (wasm32-wasip1, profile wasm-release)"
node --no-warnings scripts/bench-wasm.mjs target/wasm32-wasip1/wasm-release/wasm-bench.wasm
