#!/usr/bin/env bash
# Runs every check of the workspace: rustfmt and clippy (-D warnings), host tests of the pure core (crates/edgecheck-core),
# then the end-to-end tests (tests/e2e/), which first build every test worker, one
# at a time, and then run them in workerd (wrangler dev) against demo origins on loopback;
# last, the fuzz targets of the core (scripts/fuzz.sh).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
"$root/scripts/setup.sh"
export WRANGLER_SEND_METRICS=false
# Lints first: formatting, then clippy with warnings as errors. The core's
# clippy.toml (crates/edgecheck-core) disallows clocks, files, sockets and the
# environment there, so an impure core fails here.
cargo fmt --all --check
cargo clippy --workspace --all-targets -- -D warnings
# --all-targets also smoke-runs the criterion benchmarks once each.
cargo test --workspace --all-targets
# Then each fuzz target of the core for FUZZ_SECONDS (default 15; cargo test
# has already replayed their corpora, tests/fuzz_corpora.rs); a crash fails.
"$root/scripts/fuzz.sh"
