#!/usr/bin/env bash
# Runs every test: host unit tests of the pure core, then the end-to-end tests that
# build the worker, run it in workerd (wrangler dev) and probe demo origins on loopback.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
"$root/scripts/setup.sh"
export WRANGLER_SEND_METRICS=false
cargo test --all-targets -- --test-threads=4
