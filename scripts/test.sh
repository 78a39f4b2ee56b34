#!/usr/bin/env bash
# Runs every test of the workspace: host tests of the pure core (crates/edgecheck-core),
# then the end-to-end tests (tests/e2e.rs), which first build every test worker, one
# at a time, and then run them in workerd (wrangler dev) against demo origins on loopback.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
"$root/scripts/setup.sh"
export WRANGLER_SEND_METRICS=false
# --all-targets also smoke-runs the criterion benchmarks once each.
cargo test --workspace --all-targets
