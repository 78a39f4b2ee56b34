// The worker's entry module. scripts/build-worker.sh copies it next to the
// fleet document (build/entry.mjs, build/fleet.txt), and wrangler.toml's
// `main` names it. It hands the fleet document, bundled as a text module
// (wrangler's default rule for *.txt), to the wasm through one global, then
// exports the worker-build shim's handlers and Durable Object classes. The
// wasm reads and checks the document on its first request (src/runtime.rs,
// `fleet`), so its bytes are the same whatever the fleet.
import fleet from "./fleet.txt";
export * from "./worker/shim.mjs";
export { default } from "./worker/shim.mjs";

globalThis.EDGECHECK_FLEET = fleet;
