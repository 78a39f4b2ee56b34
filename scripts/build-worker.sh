#!/usr/bin/env bash
# The [build] command in wrangler.toml (so plain `npx wrangler dev` / `deploy` work):
# runs worker-build with local tools, because worker-build cannot download
# wasm-bindgen or wasm-opt from GitHub on these machines. Extra arguments go to
# worker-build (the end-to-end tests pass --out-dir). Builds the crate in the
# current directory (wrangler runs it from the project root; the benchmarks also
# build their hello-world peer with it).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
export PATH="$HOME/.cargo/bin:$PATH"
export WASM_BINDGEN_BIN="${WASM_BINDGEN_BIN:-$HOME/.cargo/bin/wasm-bindgen}"
export WASM_OPT_BIN="${WASM_OPT_BIN:-$root/node_modules/.bin/wasm-opt}"
export ESBUILD_BIN="${ESBUILD_BIN:-$root/node_modules/.bin/esbuild}"
for tool in worker-build "$WASM_BINDGEN_BIN" "$WASM_OPT_BIN" "$ESBUILD_BIN"; do
  command -v "$tool" >/dev/null || { echo "edgecheck: $tool is missing; run scripts/setup.sh" >&2; exit 1; }
done
exec worker-build --release "$@"
