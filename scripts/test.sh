#!/usr/bin/env bash
# Runs every test: host unit tests of the pure core, then the end-to-end tests that
# build the worker, run it in workerd (wrangler dev) and probe demo origins on loopback.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
"$root/scripts/setup.sh"
export WRANGLER_SEND_METRICS=false
# Four test threads: the end-to-end tests mostly wait on workerd and origins.
# (An environment variable, not `-- --test-threads`: the criterion bench target,
# smoke-run by --all-targets, rejects libtest's flags.)
export RUST_TEST_THREADS=4
cargo test --all-targets
