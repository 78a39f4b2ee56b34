#!/usr/bin/env python3
"""edgecheck benchmarks: run by scripts/bench.sh; prints a table and writes BENCHMARKS.md.

Every figure comes from this run, side by side, on this machine:

1. latency overhead of a probing round (POST /refresh, cache bypassed) over the slowest origin;
2. deadline adherence with hanging and dripping origins;
3. throughput of cached /ready and /health against hello-world Rust and JS workers (wrk);
4. gzip size of the deployable bundle against a hello-world workers-rs build;
5. CPU of the pure core (criterion, host);
6. probe load on the origins under 1,000 concurrent public requests.

Servers listen on 127.0.0.1 only and every one is stopped when the run ends.
"""

import concurrent.futures
import gzip
import json
import math
import os
import platform
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "target" / "bench"
WRANGLER = ROOT / "node_modules" / ".bin" / "wrangler"
WRANGLER_DEV = ROOT / "scripts" / "wrangler-dev.mjs"
DEMO = ROOT / "target" / "debug" / "demo_origins"
ADMIN = "bench-admin-token"
MAX_IN_FLIGHT = 6
STARTED = []  # processes to stop at exit


def log(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request(method, url, headers=None, timeout=60):
    req = urllib.request.Request(url, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, dict(r.headers), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read().decode()


def stop(proc):
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=5)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        proc.wait()


def start(cmd, cwd=None, stdout=subprocess.DEVNULL, env=None):
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=stdout, stderr=subprocess.DEVNULL, stdin=subprocess.PIPE,
                            start_new_session=True, env=env)
    STARTED.append(proc)
    return proc


class Fleet:
    """demo_origins with the given (name, mode) pairs."""

    def __init__(self, specs):
        self.proc = start([str(DEMO), "--control", "127.0.0.1:0", "--until-stdin-closes"]
                          + [f"{n}={m}" for n, m in specs], stdout=subprocess.PIPE)
        doc = json.loads(self.proc.stdout.readline())
        self.control, self.ports = doc["control"], doc["origins"]

    def url(self, name):
        return f"http://127.0.0.1:{self.ports[name]}/health"

    def hits(self):
        _, _, body = request("GET", f"http://127.0.0.1:{self.control}/origins")
        return {n: o["hits"] for n, o in json.loads(body).items()}

    def close(self):
        stop(self.proc)


def edgecheck_config(fleet, names, settings):
    toml = f"[settings]\n{settings}\n[regions.a]\n[regions.b]\n"
    for i, name in enumerate(names):
        toml += f'[[origins]]\nname = "{name}"\nregion = "{"ab"[i % 2]}"\nurl = "{fleet.url(name)}"\n'
    return toml


def build_edgecheck(name, config):
    d = WORK / name
    d.mkdir(parents=True, exist_ok=True)
    (d / "edgecheck.toml").write_text(config)
    log(f"building the worker for {name}")
    env = dict(os.environ, EDGECHECK_CONFIG=str(d / "edgecheck.toml"))
    subprocess.run(["bash", str(ROOT / "scripts/build-worker.sh"), "--out-dir", str(d / "build")],
                   env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wrangler_toml = (f'name = "bench-{name}"\nmain = "build/worker/shim.mjs"\ncompatibility_date = "2026-04-01"\n'
                     '[[durable_objects.bindings]]\nname = "MONITOR"\nclass_name = "Monitor"\n'
                     '[[durable_objects.bindings]]\nname = "PROBER"\nclass_name = "Prober"\n'
                     '[[migrations]]\ntag = "v1"\nnew_sqlite_classes = ["Monitor"]\n'
                     '[[migrations]]\ntag = "v2"\nnew_sqlite_classes = ["Prober"]\n')
    (d / "wrangler.toml").write_text(wrangler_toml)
    (d / ".dev.vars").write_text(f'EDGECHECK_ADMIN_TOKEN="{ADMIN}"\n')
    shutil.rmtree(d / "state", ignore_errors=True)
    return d


class Worker:
    """wrangler dev (workerd) running the worker described by dir/wrangler.toml."""

    def __init__(self, d):
        self.port = free_port()
        # wrangler dev through its API with the devtools inspector off, as the e2e tests run it:
        # the inspector echoes every subrequest to node and would be measured with edgecheck.
        self.proc = start(["node", str(WRANGLER_DEV), "--config", "wrangler.toml", "--ip", "127.0.0.1",
                           "--port", str(self.port), "--persist-to", "state", "--log-level", "error"],
                          cwd=d, env=dict(os.environ, WRANGLER_SEND_METRICS="false"))
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                if request("GET", self.url("/live"), timeout=5)[0] in (200, 404):
                    return
            except OSError:
                pass
            time.sleep(0.25)
        raise RuntimeError(f"wrangler dev in {d} did not start")

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def refresh(self):
        """One probing round now; returns (client seconds, /health document)."""
        t = time.perf_counter()
        status, _, body = request("POST", self.url("/refresh"), {"Authorization": f"Bearer {ADMIN}"})
        elapsed = time.perf_counter() - t
        assert status == 200, body
        return elapsed, json.loads(body)

    def close(self):
        stop(self.proc)


def percentile(values, p):
    values = sorted(values)
    k = (len(values) - 1) * p / 100
    lo, hi = math.floor(k), math.ceil(k)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


# ---------------------------------------------------------------------------


def latency(results):
    slow_ms, fast_ms = 200, 10
    for n, runs in [(6, 30), (50, 30), (200, 20)]:
        names = [f"o{i:03d}" for i in range(n)]
        fleet = Fleet([(name, f"delay-{slow_ms if i == 0 else fast_ms}") for i, name in enumerate(names)])
        d = build_edgecheck(f"latency-{n}", edgecheck_config(
            fleet, names, "probe_timeout_ms = 2000\ndeadline_ms = 5000\nrefresh_s = 600\nmax_in_flight = 6"))
        worker = Worker(d)
        for _ in range(3):
            worker.refresh()
        samples = [worker.refresh()[0] * 1000 for _ in range(runs)]
        worker.close()
        fleet.close()
        # The slow origin holds one slot; the others share the rest in waves.
        waves = math.ceil((n - 1) / (MAX_IN_FLIGHT - 1))
        model = max(slow_ms, waves * fast_ms) if n > MAX_IN_FLIGHT else slow_ms
        p50, p99 = percentile(samples, 50), percentile(samples, 99)
        results.append({
            "section": "latency", "n": n, "runs": runs, "p50": p50, "p99": p99, "model": model,
            "overhead_p50": p50 - slow_ms, "overhead_p99": p99 - slow_ms, "ratio_p50": p50 / model,
        })
        log(f"latency N={n}: p50 {p50:.0f} ms, p99 {p99:.0f} ms, model {model} ms")


def deadline(results):
    n, deadline_ms, runs = 50, 2000, 20
    names = [f"o{i:02d}" for i in range(n)]
    modes = ["hang"] * 10 + ["drip"] * 5 + ["delay-10"] * 35
    fleet = Fleet(list(zip(names, modes)))
    d = build_edgecheck("deadline", edgecheck_config(
        fleet, names, f"probe_timeout_ms = 1000\ndeadline_ms = {deadline_ms}\nrefresh_s = 600\nmax_in_flight = 6"))
    worker = Worker(d)
    worker.refresh()
    times, durations = [], []
    for _ in range(runs):
        elapsed, doc = worker.refresh()
        times.append(elapsed * 1000)
        durations.append(doc["duration_ms"])
    worker.close()
    fleet.close()
    results.append({"section": "deadline", "n": n, "runs": runs, "deadline_ms": deadline_ms,
                    "worst_ms": max(times), "p50_ms": percentile(times, 50), "worst_round_ms": max(durations)})
    log(f"deadline: worst {max(times):.0f} ms against {deadline_ms} ms")


def wrk(url, seconds=10, connections=32):
    out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", url],
                         capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    scale = {"us": 0.001, "ms": 1, "s": 1000}[p99.group(2)]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return rps, float(p99.group(1)) * scale, int(non2xx.group(1)) if non2xx else 0


def throughput_and_size(results):
    names = [f"o{i}" for i in range(6)]
    fleet = Fleet([(n, "spring") for n in names])
    d = build_edgecheck("cached", edgecheck_config(
        fleet, names, "probe_timeout_ms = 1000\ndeadline_ms = 2000\nrefresh_s = 3600\nmax_in_flight = 6"))
    hello_rs = build_peer("hello-rs", WORK / "hello-rs")
    hello_js = WORK / "hello-js"
    hello_js.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "bench" / "hello-js" / "index.js", hello_js / "index.js")
    (hello_js / "wrangler.toml").write_text('name = "hello-js"\nmain = "index.js"\ncompatibility_date = "2026-04-01"\n')

    rows = {}
    for label, path_dir, paths in [("hello-js", hello_js, ["/"]), ("hello-rs", hello_rs, ["/"]),
                                   ("edgecheck", d, ["/ready", "/health"])]:
        worker = Worker(path_dir)
        for path in paths:
            for _ in range(5):  # warm the isolate and the Cache API
                request("GET", worker.url(path))
            status, headers, _ = request("GET", worker.url(path))
            if label == "edgecheck":
                assert headers.get("x-edgecheck-cache") == "hit", headers
            rps, p99, errors = wrk(worker.url(path))
            rows[f"{label} {path}"] = (rps, p99, errors)
            log(f"throughput {label} {path}: {rps:.0f} req/s, p99 {p99:.1f} ms")
        worker.close()
    fleet.close()
    for key, (rps, p99, errors) in rows.items():
        results.append({"section": "throughput", "what": key, "rps": rps, "p99_ms": p99, "errors": errors,
                        "vs_js": rps / rows["hello-js /"][0], "vs_rs": rps / rows["hello-rs /"][0]})

    def bundle(build):
        files = [build / "index_bg.wasm", build / "index.js", build / "worker" / "shim.mjs"]
        raw = sum(f.stat().st_size for f in files)
        gz = sum(len(gzip.compress(f.read_bytes(), 9)) for f in files)
        return raw, gz, (build / "index_bg.wasm").stat().st_size

    for label, build in [("edgecheck", d / "build"), ("hello-rs", hello_rs / "build")]:
        raw, gz, wasm = bundle(build)
        results.append({"section": "size", "what": label, "raw": raw, "gzip": gz, "wasm": wasm})
    ours = next(r for r in results if r["section"] == "size" and r["what"] == "edgecheck")
    peer = next(r for r in results if r["section"] == "size" and r["what"] == "hello-rs")
    ours["vs_hello"] = ours["gzip"] / peer["gzip"]
    peer["vs_hello"] = 1.0
    for label, dir_ in [("edgecheck", d), ("hello-rs", hello_rs)]:
        profile = dir_ / "worker-startup.cpuprofile"
        profile.unlink(missing_ok=True)
        out = subprocess.run([str(WRANGLER), "check", "startup", "--config", "wrangler.toml"], cwd=dir_,
                             capture_output=True, text=True, timeout=300,
                             env=dict(os.environ, WRANGLER_SEND_METRICS="false"))
        ms = None
        if out.returncode == 0 and profile.exists():
            doc = json.loads(profile.read_text())
            ms = (doc["endTime"] - doc["startTime"]) / 1000  # the profile counts microseconds
        results.append({"section": "startup", "what": label, "ms": ms})


def probe_load(results):
    names = [f"o{i}" for i in range(6)]
    refresh_s = 2
    fleet = Fleet([(n, "spring") for n in names])
    d = build_edgecheck("probe-load", edgecheck_config(
        fleet, names, f"probe_timeout_ms = 500\ndeadline_ms = 1500\nrefresh_s = {refresh_s}"))
    worker = Worker(d)
    worker.refresh()
    before = fleet.hits()
    t = time.perf_counter()

    def one(i):
        path = random.choice(["/health", "/ready", "/health/o1", "/ready/a"])
        return request("GET", worker.url(f"{path}?r={random.random()}&i={i}"))[0]

    with concurrent.futures.ThreadPoolExecutor(max_workers=1000) as pool:
        statuses = list(pool.map(one, range(1000)))
    elapsed = time.perf_counter() - t
    after = fleet.hits()
    worker.close()
    fleet.close()
    probes = [after[n] - before[n] for n in names]
    allowed = math.floor(elapsed / refresh_s) + 1
    results.append({"section": "probe_load", "requests": 1000, "ok": statuses.count(200), "elapsed_s": elapsed,
                    "max_probes": max(probes), "allowed": allowed, "naive": 1000})
    log(f"probe load: at most {max(probes)} probes per origin in {elapsed:.1f} s (allowed {allowed})")


def scale(results):
    """Rounds over 200 and 1,000 origins answering in 10 ms, in 1, 4 and 20
    shards, from 1 vantage and (1,000 in 20 shards) from 3."""
    fast_ms, runs = 10, 10
    for n in (200, 1000):
        names = [f"o{i:04d}" for i in range(n)]
        fleet = Fleet([(name, f"delay-{fast_ms}") for name in names])
        cases = [(1, 1), (4, 1), (20, 1)] + ([(20, 3)] if n == 1000 else [])
        for shards, vantages in cases:
            shard_size = math.ceil(n / shards)
            hints = ', '.join(f'"{h}"' for h in ["enam", "weur", "apac"][:vantages])
            settings = (f"probe_timeout_ms = 2000\ndeadline_ms = 30000\nrefresh_s = 600\nshard_size = {shard_size}"
                        + (f"\nvantages = [{hints}]" if vantages > 1 else ""))
            d = build_edgecheck(f"scale-{n}-{shards}-{vantages}", edgecheck_config(fleet, names, settings))
            worker = Worker(d)
            for _ in range(2):
                worker.refresh()
            request("POST", f"http://127.0.0.1:{fleet.control}/waiting/reset")
            samples, rounds = [], []
            for _ in range(runs):
                elapsed, doc = worker.refresh()
                assert doc["origin_count"] == n, doc["origin_count"]
                samples.append(elapsed * 1000)
                rounds.append(doc["duration_ms"])
            _, _, body = request("GET", f"http://127.0.0.1:{fleet.control}/waiting")
            waiting = json.loads(body)["max"]
            worker.close()
            ideal = math.ceil(n / (MAX_IN_FLIGHT * shards)) * fast_ms
            p50 = percentile(samples, 50)
            results.append({
                "section": "scale", "n": n, "shards": shards, "vantages": vantages, "runs": runs,
                "p50": p50, "round_p50": percentile(rounds, 50), "ideal": ideal, "ratio": p50 / ideal,
                "prober_subrequests": shard_size, "monitor_calls": shards * vantages, "waiting": waiting,
            })
            log(f"scale N={n} shards={shards} vantages={vantages}: p50 {p50:.0f} ms (ideal {ideal} ms), "
                f"at most {waiting} requests waiting at the origins")
        fleet.close()


def build_peer(crate, out):
    """Builds bench/<crate> with worker-build, sharing one target dir among the peers."""
    log(f"building {crate}")
    env = dict(os.environ, CARGO_TARGET_DIR=str(WORK / "peers-target"))
    subprocess.run(["bash", str(ROOT / "scripts/build-worker.sh"), "--out-dir", str(out / "build")],
                   cwd=ROOT / "bench" / crate, env=env, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    (out / "wrangler.toml").write_text(f'name = "{crate}"\nmain = "build/worker/shim.mjs"\n'
                                       'compatibility_date = "2026-04-01"\n')
    return out


def wasm_core(results):
    """The criterion operations compiled to wasm and run in workerd: per-operation
    time from the difference between K iterations and none in one request."""
    worker = Worker(build_peer("core-wasm", WORK / "core-wasm"))

    def timed(path):
        samples = []
        for _ in range(7):
            t = time.perf_counter()
            status, _, body = request("GET", worker.url(path))
            samples.append(time.perf_counter() - t)
            assert status == 200, body
        return statistics.median(samples)

    for r in [r for r in results if r["section"] == "cpu"]:
        k = max(20, int(0.3e9 / (r["ns"] * 2)))  # about 0.3 s of work at twice the host cost
        per_ns = (timed(f"/{r['what']}/{k}") - timed(f"/{r['what']}/0")) / k * 1e9
        r["wasm_ns"], r["iterations"] = per_ns, k
        r["slowdown"] = per_ns / r["ns"]
        log(f"wasm {r['what']}: {fmt_ns(per_ns)} ({per_ns / r['ns']:.1f}x the host)")
    worker.close()


def criterion(results):
    log("running criterion benchmarks of the core")
    subprocess.run(["cargo", "bench", "-p", "edgecheck-bench", "--bench", "core", "--", "--warm-up-time", "1", "--measurement-time", "3"],
                   cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for name in ["classify_200B", "classify_4KB", "aggregate_50", "aggregate_1000", "render_health_50",
                 "render_health_1000"]:
        est = json.loads((ROOT / "target" / "criterion" / name / "new" / "estimates.json").read_text())
        results.append({"section": "cpu", "what": name, "ns": est["median"]["point_estimate"]})


# ---------------------------------------------------------------------------


def machine():
    cpu = next((l.split(":", 1)[1].strip() for l in Path("/proc/cpuinfo").read_text().splitlines()
                if l.startswith("model name")), platform.processor())
    mem = next((l.split(":", 1)[1].strip() for l in Path("/proc/meminfo").read_text().splitlines()
                if l.startswith("MemTotal")), "?")
    workerd = subprocess.run([str(ROOT / "node_modules/.bin/workerd"), "--version"], capture_output=True,
                             text=True).stdout.strip()
    return f"{cpu}, {os.cpu_count()} cores, {mem} RAM, {platform.system()} {platform.release()}; {workerd}"


def fmt_ns(ns):
    return f"{ns / 1000:.2f} µs" if ns >= 1000 else f"{ns:.0f} ns"


def table(header, rows):
    """A Markdown table: a header row, its rule, one line per row."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]


def report(results, when):
    def section(name):
        return [r for r in results if r["section"] == name]

    out = [f"# Benchmarks\n", f"Latest run: {when}, `scripts/bench.sh`, on {machine()}.",
           "Every figure below comes from that one run; servers on 127.0.0.1, origins are `demo_origins`.\n"
           "Each worker runs in `wrangler dev` started by `scripts/wrangler-dev.mjs`, with wrangler's devtools\n"
           "inspector off (with it on, every subrequest's devtools events also go to wrangler's node process).\n"]
    out += ["## 1. Latency of a probing round (`POST /refresh`, cache bypassed)\n",
            "Origins answer after 10 ms, one after 200 ms; `max_in_flight = 6`. Overhead = client time − 200 ms.",
            "The model is the ideal schedule: the slow origin holds one slot while the others share five slots in",
            "waves of 10 ms, i.e. max(200, ⌈(N−1)/5⌉ × 10) ms.\n",
            ]
    out += table(["N", "runs", "p50 ms", "p99 ms", "overhead p50 ms", "overhead p99 ms", "model ms", "p50 / model"],
                 [[r["n"], r["runs"], f"{r['p50']:.0f}", f"{r['p99']:.0f}", f"{r['overhead_p50']:.0f}",
                   f"{r['overhead_p99']:.0f}", r["model"], f"{r['ratio_p50']:.2f}"] for r in section("latency")])
    out += ["\n## 2. Deadline adherence\n",
            "50 origins: 10 hang, 5 drip a byte a second, 35 answer in 10 ms; `probe_timeout_ms = 1000`.\n",
            ]
    out += table(["runs", "deadline ms", "worst response ms", "p50 response ms", "worst round (`duration_ms`)",
                  "worst / deadline"],
                 [[r["runs"], r["deadline_ms"], f"{r['worst_ms']:.0f}", f"{r['p50_ms']:.0f}", r["worst_round_ms"],
                   f"{r['worst_ms'] / r['deadline_ms']:.2f}"] for r in section("deadline")])
    out += ["\n## 3. Throughput of cached answers\n",
            "wrk, 2 threads, 32 connections, 10 s each, against `wrangler dev` (one workerd per worker, run one",
            "after another in this run). edgecheck answers come from the Cache API (`x-edgecheck-cache: hit`).\n",
            ]
    out += table(["what", "req/s", "p99 ms", "non-2xx", "vs hello-world JS", "vs hello-world Rust"],
                 [[r["what"], f"{r['rps']:.0f}", f"{r['p99_ms']:.1f}", r["errors"], f"{r['vs_js']:.2f}",
                   f"{r['vs_rs']:.2f}"] for r in section("throughput")])
    out += ["\n## 4. Size and startup\n",
            "Deployable bundle: `index_bg.wasm` + `index.js` + `worker/shim.mjs`, built the same way (worker-build",
            "0.8.7, `opt-level = \"s\"`, LTO, wasm-opt), gzip level 9.\n",
            ]
    out += table(["build", "bytes", "gzip bytes", "wasm bytes", "gzip vs hello-world"],
                 [[r["what"], r["raw"], r["gzip"], r["wasm"], f"{r['vs_hello']:.2f}"] for r in section("size")])
    out += ["", "Startup: the span of the CPU profile `wrangler check startup` records locally (it says the figure is",
            "for understanding, not what Cloudflare will measure).\n"]
    out += table(["build", "startup ms"],
                 [[r["what"], "did not run" if r["ms"] is None else f"{r['ms']:.1f}"] for r in section("startup")])
    out += ["\n## 5. CPU of the pure core\n",
            "Host: criterion, median. Wasm: the same operations (`crates/edgecheck-bench`) built into a worker",
            "(`bench/core-wasm`, same profile) and run in workerd: (time of a request running K iterations − time",
            "of one running none) / K, medians of 7 requests each.\n",
            ]
    out += table(["operation", "host", "wasm in workerd", "K", "wasm / host"],
                 [[r["what"], fmt_ns(r["ns"]), fmt_ns(r["wasm_ns"]), r["iterations"], f"{r['slowdown']:.1f}"]
                  for r in section("cpu")])
    out += ["\n## 6. Probe load under public traffic\n",
            "1,000 concurrent GETs of `/health`, `/ready`, `/health/o1`, `/ready/a` with random query strings;",
            "`refresh_s = 2`; hits counted at the origins.\n",
            ]
    out += table(["requests", "200s", "seconds", "most probes at one origin", "allowed by refresh", "without a monitor"],
                 [[r["requests"], r["ok"], f"{r['elapsed_s']:.1f}", r["max_probes"], r["allowed"], r["naive"]]
                  for r in section("probe_load")])
    out += ["\n## 7. Scale: shards and vantages\n",
            "Origins answer in 10 ms. A refresh asks every prober (one per vantage and shard, each its own Durable",
            "Object) for its shard, at most 6 prober calls open at a time; each prober probes 6 origins at a time.",
            "Time is the client's `POST /refresh`; `duration_ms` is the monitor's refresh. The ideal assumes every",
            "shard probes in parallel: ⌈N / (6 × shards)⌉ × 10 ms. Subrequests of the busiest prober: its shard;",
            "the monitor makes one Durable Object call per prober. Waiting: the most requests the origins saw",
            "waiting for headers at once, all probers together (each prober holds at most 6). Locally every prober",
            "runs in the one workerd on the machine's 2 cores, next to the origins, so shards cannot run as in",
            "parallel as on Cloudflare; the gap between client time and `duration_ms` is the rendering and transfer",
            "of the `/health` answer (each origin with one entry per vantage).\n",
            ]
    out += table(["N", "shards", "vantages", "runs", "p50 ms", "refresh p50 ms", "ideal ms", "p50 / ideal",
                  "busiest prober's subrequests", "monitor's prober calls", "most waiting at origins"],
                 [[r["n"], r["shards"], r["vantages"], r["runs"], f"{r['p50']:.0f}", f"{r['round_p50']:.0f}",
                   r["ideal"], f"{r['ratio']:.1f}", r["prober_subrequests"], r["monitor_calls"], r["waiting"]]
                  for r in section("scale")])
    three = [r for r in section("scale") if r["vantages"] == 3]
    one = [r for r in section("scale") if r["n"] == 1000 and r["shards"] == 20 and r["vantages"] == 1]
    if three and one:
        out += ["", f"3 vantages against 1 (1,000 origins, 20 shards): {three[0]['p50'] / one[0]['p50']:.2f}× the "
                f"refresh time, 3× the probes and prober calls."]
    return "\n".join(out) + "\n"


def main():
    if not shutil.which("wrk"):
        sys.exit("bench: wrk is missing; scripts/bench.sh installs it")
    WORK.mkdir(parents=True, exist_ok=True)
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    results = []
    try:
        latency(results)
        deadline(results)
        throughput_and_size(results)
        probe_load(results)
        scale(results)
        criterion(results)
        wasm_core(results)
    finally:
        for proc in STARTED:
            stop(proc)
    text = report(results, when)
    (ROOT / "BENCHMARKS.md").write_text(text)
    (WORK / "results.json").write_text(json.dumps(results, indent=1))
    print(text)


if __name__ == "__main__":
    main()
