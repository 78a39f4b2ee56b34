// `wrangler dev` for the end-to-end tests and the benchmarks: the same local
// workerd runtime, started through wrangler's own API (`unstable_startWorker`)
// so that its devtools inspector can be turned off, which the CLI cannot do.
//
// Why: with the inspector on, wrangler enables the devtools Network domain in
// workerd and echoes every event of every subrequest (about three per fetch)
// to its node process as a separate HTTP request, each kept alive for 5 s.
// A 1,000-origin round then holds some 3,000 extra sockets in workerd and
// spends CPU on them; none of that exists in production, and none of it is
// edgecheck's. See ARCHITECTURE.md ("A round's resources are bounded").
//
// Usage (run in the directory of the worker's wrangler.toml):
//   node scripts/wrangler-dev.mjs --config wrangler.toml --ip 127.0.0.1 --port 8787 \
//        [--persist-to DIR] [--test-scheduled] [--log-level warn]
// The process serves until SIGTERM or SIGINT, then disposes of the worker.
import { parseArgs } from "node:util";
import { unstable_startWorker } from "wrangler";

const { values } = parseArgs({
  options: {
    config: { type: "string", default: "wrangler.toml" },
    ip: { type: "string", default: "127.0.0.1" },
    port: { type: "string" },
    "persist-to": { type: "string" },
    "test-scheduled": { type: "boolean", default: false },
    "log-level": { type: "string", default: "warn" },
  },
});
if (values.port === undefined || !/^\d+$/.test(values.port)) {
  console.error("wrangler-dev.mjs: --port <number> is required");
  process.exit(2);
}

const worker = await unstable_startWorker({
  config: values.config,
  dev: {
    remote: false,
    inspector: false,
    server: { hostname: values.ip, port: Number(values.port) },
    persist: values["persist-to"] ?? ".wrangler/state",
    testScheduled: values["test-scheduled"],
    logLevel: values["log-level"],
    watch: false,
    liveReload: false,
  },
});
await worker.ready;

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await worker.dispose();
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
