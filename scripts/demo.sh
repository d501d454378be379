#!/usr/bin/env bash
# Sets up, builds and runs the dashboard against the embedded GitLab double:
# open http://127.0.0.1:3000 and pick a demo user. Configure a real GitLab with the
# environment or a TOML file instead (README.md, "Configuration").
#
# The demo runs the server's development build (dependencies optimised, as the tests build
# them): on a fresh machine it compiles in about 8 minutes where the release build takes
# 21. Production uses scripts/build-release.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
bash scripts/setup.sh
bash scripts/build-site.sh
cargo build --locked -p server --bin registry-dash
exec target/debug/registry-dash --demo "$@"
