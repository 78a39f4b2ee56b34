#!/usr/bin/env bash
# Installs what a fresh machine lacks to build, run and test edgecheck. Idempotent:
# every step is skipped when its tool is already there at the right version.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
export PATH="$HOME/.cargo/bin:$PATH"
say() { printf 'setup: %s\n' "$*" >&2; }

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

# The lints of scripts/test.sh.
for component in clippy rustfmt; do
  if ! rustup component list --installed | grep -q "^$component"; then
    say "adding the $component component"
    rustup component add "$component"
  fi
done

if [ "$(worker-build --version 2>/dev/null)" != "0.8.7" ]; then
  say "installing worker-build 0.8.7 (about 8 minutes on 2 cores)"
  cargo install --locked worker-build --version 0.8.7
fi

# wasm-bindgen-cli must be exactly the wasm-bindgen version in Cargo.lock.
want=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/[^0-9.]/, ""); print; exit }' Cargo.lock)
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$want" ]; then
  say "installing wasm-bindgen-cli $want (about 5 minutes on 2 cores)"
  # --locked first; this registry mirror lacks some locked versions, so fall back.
  cargo install --locked wasm-bindgen-cli --version "$want" || cargo install wasm-bindgen-cli --version "$want"
fi

# The fuzz targets (scripts/fuzz.sh): cargo-fuzz, built with this toolchain.
if ! cargo fuzz --version >/dev/null 2>&1; then
  say "installing cargo-fuzz (about 1 minute on 2 cores)"
  cargo install --locked cargo-fuzz
fi

if ! npm ls --depth=0 >/dev/null 2>&1; then
  say "installing npm packages from package-lock.json"
  npm ci --no-audit --no-fund
fi

# The browser and Prometheus tests: Debian's chromium (headless) and promtool.
missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v promtool >/dev/null || missing+=(prometheus)
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]} (Debian packages, for the status page and Prometheus tests)"
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1 ||
    { $sudo apt-get update -qq && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"; }
fi

# The demo fleet's header secret, for `wrangler dev` (never committed).
[ -f .dev.vars ] || cp .dev.vars.example .dev.vars
say "ready"
