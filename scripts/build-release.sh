#!/usr/bin/env bash
# Builds what production runs: the browser bundle (target/site) and the release server
# (target/release/registry-dash), with the setup and site scripts the tests run. The
# Dockerfile runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
bash scripts/setup.sh
bash scripts/build-site.sh
cargo build --locked --release -p server --bin registry-dash
