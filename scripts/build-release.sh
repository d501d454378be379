#!/usr/bin/env bash
# Builds what production runs: the browser bundle (target/site) and the release server
# (target/release/registry-dash). scripts/demo.sh and the Dockerfile both run exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
bash scripts/setup.sh
bash scripts/build-site.sh
cargo build --locked --release -p server --bin registry-dash
