#!/usr/bin/env bash
# Fuzzes the pure core (crates/edgecheck-core) with cargo-fuzz (libFuzzer):
# scripts/fuzz.sh [target...]. Targets (fuzz/fuzz_targets/): config, classify,
# conditions, doh, route, render; all of them without arguments. Each runs
# FUZZ_SECONDS (default 15: short, since `cargo test` already replays every
# committed seed through the same code on every run, tests/fuzz_corpora.rs;
# raise it to search longer). Exits non-zero if any target finds a crash; the crashing input is
# under fuzz/artifacts/<target>/.
#
# libFuzzer grows its corpus in fuzz/target/corpus/<target>, seeded from the
# committed fuzz/corpus/<target> on every run, so fuzz/corpus stays exactly the
# committed seeds. FUZZ_FRESH=1 starts from the seeds alone.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

all_targets=(config classify conditions doh route render)
seconds="${FUZZ_SECONDS:-15}"

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz: installing cargo-fuzz" >&2
  cargo install --locked cargo-fuzz
fi

# libFuzzer needs -Z flags (the sanitizer): nightly if there is one, else
# stable with RUSTC_BOOTSTRAP=1.
if rustup toolchain list 2>/dev/null | grep '^nightly' >/dev/null; then
  toolchain=(+nightly)
  echo "fuzz: toolchain nightly ($(cargo +nightly --version))"
else
  toolchain=()
  export RUSTC_BOOTSTRAP=1
  echo "fuzz: toolchain stable with RUSTC_BOOTSTRAP=1 ($(cargo --version); no nightly installed)"
fi

if [ "$#" -gt 0 ]; then
  targets=("$@")
else
  targets=("${all_targets[@]}")
fi
for t in "${targets[@]}"; do
  if [ ! -d "fuzz/corpus/$t" ]; then
    echo "fuzz: no target \"$t\"; targets: ${all_targets[*]}" >&2
    exit 2
  fi
done

crashed=()
for t in "${targets[@]}"; do
  scratch="fuzz/target/corpus/$t"
  if [ "${FUZZ_FRESH:-0}" = 1 ]; then
    rm -rf "$scratch"
  fi
  mkdir -p "$scratch" "fuzz/target/logs"
  cp fuzz/corpus/"$t"/* "$scratch"/
  log="fuzz/target/logs/$t.log"
  echo "fuzz: $t for ${seconds}s (corpus $scratch, log $log)"
  if cargo "${toolchain[@]}" fuzz run "$t" "$scratch" -- \
      -max_total_time="$seconds" -rss_limit_mb=2048 >"$log" 2>&1; then
    runs="$(grep -o 'Done [0-9]* runs in [0-9]* second' "$log" | tail -n 1 || true)"
    echo "fuzz: $t: no crash (${runs:-no summary})"
  else
    crashed+=("$t")
    input="$(sed -n 's/.*Test unit written to //p' "$log" | head -n 1)"
    tail -n 40 "$log" >&2
    if [ -n "$input" ]; then
      echo "fuzz: $t: CRASH, input $input (see $log)" >&2
    else
      echo "fuzz: $t: FAILED without a crashing input (build error?); see $log" >&2
    fi
  fi
done

if [ "${#crashed[@]}" -gt 0 ]; then
  echo "fuzz: failed: ${crashed[*]}" >&2
  exit 1
fi
echo "fuzz: ${targets[*]}: no crash"
