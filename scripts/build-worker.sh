#!/usr/bin/env bash
# The [build] command in wrangler.toml (so plain `npx wrangler dev` / `deploy` work).
#
# 1. The fleet: `edgecheck check` validates edgecheck.toml (or $EDGECHECK_CONFIG)
#    with the core's own code and writes the fleet document, <out>/fleet.txt.
#    A config error stops here, naming the file and the field, before anything
#    is built, run or uploaded.
# 2. The wasm: worker-build with local tools (it cannot download wasm-bindgen or
#    wasm-opt from GitHub on these machines). The wasm does not depend on the
#    fleet, so it is skipped when its inputs (sources, manifests, lock file,
#    arguments) are those of the last build in <out>: a config change
#    redeploys in seconds, without compiling Rust.
# 3. The entry module, src/entry.mjs, copied to <out>/entry.mjs (wrangler.toml's main).
#
# Arguments go to worker-build (the end-to-end tests pass --out-dir and, after
# `--`, cargo's arguments, such as the tests' features); <out> is its --out-dir, default
# build. EDGECHECK_FLEET=none skips step 1 (the tests write a fleet per case).
# Run elsewhere than the project root (the benchmarks build their hello-world
# peer with it), only step 2 runs.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
export PATH="$HOME/.cargo/bin:$PATH"
export WASM_BINDGEN_BIN="${WASM_BINDGEN_BIN:-$HOME/.cargo/bin/wasm-bindgen}"
export WASM_OPT_BIN="${WASM_OPT_BIN:-$root/node_modules/.bin/wasm-opt}"
export ESBUILD_BIN="${ESBUILD_BIN:-$root/node_modules/.bin/esbuild}"
for tool in worker-build "$WASM_BINDGEN_BIN" "$WASM_OPT_BIN" "$ESBUILD_BIN"; do
  command -v "$tool" >/dev/null || { echo "edgecheck: $tool is missing; run scripts/setup.sh" >&2; exit 1; }
done

out=build
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  case "${args[i]}" in
    --) break ;;
    --out-dir) out="${args[i + 1]:-build}" ;;
    --out-dir=*) out="${args[i]#--out-dir=}" ;;
  esac
done

# worker-build, then the names section dropped: worker-build 0.8.7 makes
# wasm-opt keep it (about a fifth of the wasm). EDGECHECK_KEEP_NAMES=1 keeps
# it, for twiggy (BENCHMARKS.md, section 4). Panics still log their message
# and place (console_error_panic_hook).
build_wasm() {
  worker-build --release "$@"
  if [ "${EDGECHECK_KEEP_NAMES:-0}" != 1 ]; then
    local features=(mutable-globals sign-ext nontrapping-float-to-int bulk-memory multivalue reference-types exception-handling)
    "$WASM_OPT_BIN" "${features[@]/#/--enable-}" --strip-debug --strip-producers \
      "$out/index_bg.wasm" -o "$out/index_bg.stripped.wasm"
    mv "$out/index_bg.stripped.wasm" "$out/index_bg.wasm"
  fi
}

if [ "$(pwd -P)" != "$(cd "$root" && pwd -P)" ]; then
  build_wasm "$@"
  exit 0
fi

if [ "${EDGECHECK_FLEET:-}" != none ]; then
  cargo run --quiet --manifest-path "$root/Cargo.toml" -p edgecheck-cli --bin edgecheck -- \
    check "${EDGECHECK_CONFIG:-edgecheck.toml}" --out "$out"
fi

# What the wasm is built from; the fleet is not among it.
stamp="$(
  {
    printf '%s\n' "$*" "$(worker-build --version)" "$("$WASM_BINDGEN_BIN" --version)" "${EDGECHECK_KEEP_NAMES:-0}"
    find src crates/edgecheck-core/src -type f -print0 | sort -z | xargs -0 sha256sum
    sha256sum Cargo.toml Cargo.lock crates/edgecheck-core/Cargo.toml scripts/build-worker.sh
  } | sha256sum | cut -c1-64
)"
if [ -f "$out/worker/shim.mjs" ] && [ "$(cat "$out/.wasm-inputs" 2>/dev/null)" = "$stamp" ]; then
  echo "edgecheck: the wasm in $out is up to date (its inputs are unchanged)" >&2
else
  rm -f "$out/.wasm-inputs"
  build_wasm "$@"
  echo "$stamp" >"$out/.wasm-inputs"
fi
cp src/entry.mjs "$out/entry.mjs"
