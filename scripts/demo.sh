#!/usr/bin/env bash
# Sets up, builds and runs the dashboard against the embedded GitLab double:
# open http://127.0.0.1:3000 and pick a demo user. Configure a real GitLab with the
# environment or a TOML file instead (README.md, "Configuration").
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build-release.sh
exec target/release/registry-dash --demo "$@"
