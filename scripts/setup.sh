#!/usr/bin/env bash
# Installs what building and testing need, each only when missing, all pinned:
#   wasm32 target, wasm-bindgen-cli (= the wasm-bindgen in Cargo.lock), wasm-opt (npm
#   binaryen 132); with --tests also leptosfmt and cargo-machete (the view-macro format
#   and unused-dependency checks), Debian's redis-server and haproxy (the multi-replica
#   tests start them on loopback) and Python's kubernetes-validate (pinned, in a venv under
#   target/); with --e2e all that and Debian's Chromium and the Playwright packages; with
#   --bench Debian's wrk (the throughput benchmark's load generator).
# Nothing is downloaded from GitHub: every tool comes from crates.io, npm or Debian.
set -euo pipefail
cd "$(dirname "$0")/.."

WASM_BINDGEN_VERSION=0.2.130
LEPTOSFMT_VERSION=0.1.33
MACHETE_VERSION=0.9.2
want_e2e=false
want_tests=false
want_bench=false
case "${1:-}" in
  --e2e) want_e2e=true; want_tests=true ;;
  --tests) want_tests=true ;;
  --bench) want_bench=true ;;
  "") ;;
  *) echo "usage: scripts/setup.sh [--tests|--e2e|--bench]" >&2; exit 2 ;;
esac

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
export PATH="$HOME/.cargo/bin:$PATH"

locked_bindgen=$(grep -A1 '^name = "wasm-bindgen"$' Cargo.lock | sed -n 's/^version = "\(.*\)"/\1/p')
if [ "$locked_bindgen" != "$WASM_BINDGEN_VERSION" ]; then
  echo "Cargo.lock has wasm-bindgen $locked_bindgen but setup pins $WASM_BINDGEN_VERSION: update both together." >&2
  exit 1
fi

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$WASM_BINDGEN_VERSION" ]; then
  say "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (about 3 minutes)"
  # Not --locked: one of its locked dependencies is no longer on crates.io.
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force
fi

npm_install() { # dir
  local dir=$1 stamp=$1/node_modules/.installed-lock
  if [ ! -f "$stamp" ] || ! cmp -s "$dir/package-lock.json" "$stamp"; then
    say "installing npm packages in $dir"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
    cp "$dir/package-lock.json" "$stamp"
  fi
}
npm_install tools

apt_install() { # package...
  export DEBIAN_FRONTEND=noninteractive
  [ -n "${apt_updated:-}" ] || { apt-get update -qq; apt_updated=1; }
  apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

if $want_tests; then
  if [ "$(leptosfmt --version 2>/dev/null | awk '{print $2}')" != "$LEPTOSFMT_VERSION" ]; then
    say "installing leptosfmt $LEPTOSFMT_VERSION (about 2 minutes)"
    CARGO_PROFILE_RELEASE_LTO=false cargo install leptosfmt --version "$LEPTOSFMT_VERSION" --locked --force
  fi
  if [ "$(cargo-machete --version 2>/dev/null)" != "$MACHETE_VERSION" ]; then
    say "installing cargo-machete $MACHETE_VERSION (about a minute)"
    CARGO_PROFILE_RELEASE_LTO=false cargo install cargo-machete --version "$MACHETE_VERSION" --locked --force
  fi
  missing=()
  [ -x /usr/bin/redis-server ] || missing+=(redis-server)
  [ -x /usr/sbin/haproxy ] || missing+=(haproxy)
  command -v python3 >/dev/null || missing+=(python3 python3-venv)
  if [ ${#missing[@]} -gt 0 ]; then
    say "installing Debian's ${missing[*]} (the multi-replica tests start them on loopback)"
    apt_install "${missing[@]}"
    # Debian's packages start system-wide services where an init system runs; the tests
    # start their own on free ports, so none is needed.
    for service in redis-server haproxy; do
      service "$service" stop >/dev/null 2>&1 || true
    done
  fi
  venv=target/validate-venv stamp=target/validate-venv/.installed-requirements
  if [ ! -f "$stamp" ] || ! cmp -s deploy/requirements-validate.txt "$stamp"; then
    say "installing kubernetes-validate (pinned) in $venv"
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --no-deps -r deploy/requirements-validate.txt
    cp deploy/requirements-validate.txt "$stamp"
  fi
fi

if $want_bench && ! command -v wrk >/dev/null; then
  say "installing Debian's wrk (the throughput benchmark's load generator)"
  apt_install wrk
fi

if $want_e2e; then
  if [ ! -x /usr/bin/chromium ]; then
    say "installing Debian's chromium"
    apt_install chromium
  fi
  npm_install end2end
fi

# Fetch every crate now, so the builds after this need no network.
cargo fetch --locked -q
