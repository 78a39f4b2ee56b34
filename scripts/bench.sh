#!/usr/bin/env bash
# The benchmark command of README.md (not part of the tests): installs what is
# missing, then measures latency, deadline adherence, cached throughput, size,
# CPU, probe load and scale side by side, prints the table and writes BENCHMARKS.md.
# `scripts/bench.sh scale` runs only section 7 (scale), `scripts/bench.sh serving` only sections
# 3 to 6 (throughput, size, CPU of the core, probe load and monitor calls); each replaces only its
# sections in BENCHMARKS.md; `scripts/bench.sh bundle` only section 8 (what the bundle is made of, by
# crate and function, with twiggy); `scripts/bench.sh checks` only section 9 (an origin's conditions on a
# 64 KiB answer, host and wasm).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
bash scripts/setup.sh
if ! command -v wrk >/dev/null; then
  echo "bench: installing wrk (Debian package)" >&2
  apt-get install -y wrk >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }
fi
cargo build --quiet -p demo-origins --bin demo_origins
exec python3 bench/run.py "$@"
