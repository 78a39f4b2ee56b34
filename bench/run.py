#!/usr/bin/env python3
"""edgecheck benchmarks: run by scripts/bench.sh; prints a table and writes BENCHMARKS.md.

Every figure comes from this run, side by side, on this machine:

1. latency overhead of a probing round (POST /refresh, cache bypassed) over the slowest origin;
2. deadline adherence with hanging and dripping origins;
3. throughput of cached /ready and /health against hello-world Rust and JS workers (wrk);
4. gzip size of the deployable bundle against a hello-world workers-rs build;
5. CPU of the pure core (criterion, host);
6. probe load on the origins under 1,000 concurrent public requests;
7. scale: 1,000 origins in 20 shards from 1 and 3 vantages, with and without
   hanging origins, and the fleet limit (10,000 origins, shards of 500, 3 vantages).

`run.py scale` runs section 7 alone and replaces it in BENCHMARKS.md.

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
    """demo_origins with the given (name, mode) pairs; `shared`: every origin on
    one port, named by the first path segment (`--shared-port`)."""

    def __init__(self, specs, shared=False):
        self.shared = shared
        self.proc = start([str(DEMO), "--control", "127.0.0.1:0", "--until-stdin-closes"]
                          + (["--shared-port", "0"] if shared else [])
                          + [f"{n}={m}" for n, m in specs], stdout=subprocess.PIPE)
        doc = json.loads(self.proc.stdout.readline())
        self.control, self.ports = doc["control"], doc["origins"]

    def url(self, name):
        prefix = f"/{name}" if self.shared else ""
        return f"http://127.0.0.1:{self.ports[name]}{prefix}/health"

    def hits(self):
        _, _, body = request("GET", f"http://127.0.0.1:{self.control}/origins")
        return {n: o["hits"] for n, o in json.loads(body).items()}

    def set_mode(self, name, mode):
        status, _, body = request("POST", f"http://127.0.0.1:{self.control}/origins/{name}/mode/{mode}")
        assert status == 200, (name, mode, status, body)

    def reset_waiting(self):
        request("POST", f"http://127.0.0.1:{self.control}/waiting/reset")

    def max_waiting(self):
        """The most requests waiting for headers at once since the last reset."""
        return json.loads(request("GET", f"http://127.0.0.1:{self.control}/waiting")[2])["max"]

    def close(self):
        stop(self.proc)


def edgecheck_config(fleet, names, settings):
    toml = f"[settings]\n{settings}\n[regions.a]\n[regions.b]\n"
    for i, name in enumerate(names):
        toml += f'[[origins]]\nname = "{name}"\nregion = "{"ab"[i % 2]}"\nurl = "{fleet.url(name)}"\n'
    return toml


def build_edgecheck(name, config, fault_injection=False):
    """Builds the worker for `config` as scripts/build-worker.sh does; with
    `fault_injection`, with the cargo feature of the e2e builds (its hooks are
    variables in .dev.vars, off unless set)."""
    d = WORK / name
    d.mkdir(parents=True, exist_ok=True)
    (d / "edgecheck.toml").write_text(config)
    log(f"building the worker for {name}")
    env = dict(os.environ, EDGECHECK_CONFIG=str(d / "edgecheck.toml"))
    features = ["--", "--features", "fault-injection"] if fault_injection else []
    subprocess.run(["bash", str(ROOT / "scripts/build-worker.sh"), "--out-dir", str(d / "build")] + features,
                   env=env, cwd=str(ROOT), check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wrangler_toml = (f'name = "bench-{name}"\nmain = "build/entry.mjs"\ncompatibility_date = "2026-04-01"\n'
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
        status, _, body = request("POST", self.url("/refresh"), {"Authorization": f"Bearer {ADMIN}"}, timeout=180)
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


THROUGHPUT_RUNS = 3


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

    # All three run at once; wrk runs each target for 5 s, in turn, three
    # times over, and the medians are kept, so that a machine that slows down
    # during the run weighs on every target alike.
    targets = [("hello-js", hello_js, ["/"]), ("hello-rs", hello_rs, ["/"]), ("edgecheck", d, ["/ready", "/health"])]
    workers = {label: Worker(path_dir) for label, path_dir, _ in targets}
    for label, _, paths in targets:
        for path in paths:
            for _ in range(5):  # warm the isolate
                request("GET", workers[label].url(path))
            status, headers, _ = request("GET", workers[label].url(path))
            if label == "edgecheck":
                assert headers.get("x-edgecheck-cache") == "memory", headers
    samples = {}
    for _ in range(THROUGHPUT_RUNS):
        for label, _, paths in targets:
            for path in paths:
                samples.setdefault(f"{label} {path}", []).append(wrk(workers[label].url(path), seconds=5))
    for worker in workers.values():
        worker.close()
    fleet.close()
    rows = {}
    for key, runs in samples.items():
        rows[key] = (statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs), sum(r[2] for r in runs))
        log(f"throughput {key}: {', '.join(f'{r[0]:.0f}' for r in runs)} req/s; median {rows[key][0]:.0f}")
    for key, (rps, p99, errors) in rows.items():
        results.append({"section": "throughput", "what": key, "rps": rps, "p99_ms": p99, "errors": errors,
                        "runs": ", ".join(f"{r[0]:.0f}" for r in samples[key]),
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
    """1,000 concurrent public requests on a cold isolate, then 1,000 more a
    refresh later: probes counted at the origins, and the monitor's calls
    counted as the answers that asked it (`x-edgecheck-cache: miss`); with the
    Cache API, and without it (the fault-injection hook EDGECHECK_FAULT_NO_CACHE,
    which skips every Cache API call, as on a `*.workers.dev` hostname)."""
    names = [f"o{i}" for i in range(6)]
    refresh_s = 2
    fleet = Fleet([(n, "spring") for n in names])
    d = build_edgecheck("probe-load", edgecheck_config(
        fleet, names, f"probe_timeout_ms = 500\ndeadline_ms = 1500\nrefresh_s = {refresh_s}"), fault_injection=True)
    for label, extra in [("with the Cache API", ""), ("without it", 'EDGECHECK_FAULT_NO_CACHE="1"\n')]:
        (d / ".dev.vars").write_text(f'EDGECHECK_ADMIN_TOKEN="{ADMIN}"\n' + extra)
        shutil.rmtree(d / "state", ignore_errors=True)
        worker = Worker(d)
        worker.refresh()
        before = fleet.hits()
        t = time.perf_counter()

        def one(i):
            path = random.choice(["/health", "/ready", "/health/o1", "/ready/a"])
            # Under 1,000 connections at once wrangler dev's proxy now and then
            # loses a request (cloudflare/workers-sdk#15317); as in the e2e
            # test, such a request is sent again, at most twice, and counted.
            for attempt in range(3):
                try:
                    status, headers, _ = request("GET", worker.url(f"{path}?r={random.random()}&i={i}"), timeout=20)
                    return status, headers.get("x-edgecheck-cache"), attempt
                except OSError:
                    if attempt == 2:
                        raise

        answers = []
        for burst in range(2):
            if burst:
                time.sleep(refresh_s + 1)
            with concurrent.futures.ThreadPoolExecutor(max_workers=1000) as pool:
                answers += list(pool.map(one, range(1000)))
        elapsed = time.perf_counter() - t
        after = fleet.hits()
        worker.close()
        probes = [after[n] - before[n] for n in names]
        allowed = math.floor(elapsed / refresh_s) + 1
        asked = sum(1 for _, source, _ in answers if source == "miss")
        results.append({"section": "probe_load", "what": label, "requests": len(answers),
                        "ok": sum(1 for status, _, _ in answers if status == 200), "elapsed_s": elapsed,
                        "resent": sum(attempts for _, _, attempts in answers),
                        "max_probes": max(probes), "allowed": allowed, "naive": len(answers), "asked": asked,
                        "from_cache": sum(1 for _, source, _ in answers if source == "hit"),
                        "refreshes": elapsed / refresh_s})
        log(f"probe load {label}: at most {max(probes)} probes per origin in {elapsed:.1f} s (allowed {allowed}); "
            f"{asked} answers asked the monitor")
    fleet.close()


SCALE_TIMEOUT_MS, SCALE_DEADLINE_MS = 2000, 6000
LIMIT_N, LIMIT_SHARD, LIMIT_DEADLINE_MS = 10_000, 500, 60_000
VANTAGE_HINTS = ["enam", "weur", "apac"]


def scale_config(fleet, names, shard, vantages, timeout_ms, deadline_ms, regions=10):
    hints = ", ".join(f'"{h}"' for h in VANTAGE_HINTS[:vantages])
    toml = (f"[settings]\nprobe_timeout_ms = {timeout_ms}\ndeadline_ms = {deadline_ms}\nrefresh_s = 600\n"
            f"shard_size = {shard}\nrise = 1\nfall = 1\n" + (f"vantages = [{hints}]\n" if vantages > 1 else ""))
    toml += "".join(f"[regions.r{r}]\n" for r in range(regions))
    for i, name in enumerate(names):
        toml += f'[[origins]]\nname = "{name}"\nregion = "r{i % regions}"\nurl = "{fleet.url(name)}"\n'
    return toml


def statuses(doc):
    """(status, reason) per origin of a /health document."""
    return {o["name"]: (o["status"], o["reason"]) for r in doc["regions"].values() for o in r["origins"]}


def scale(results):
    """1,000 origins answering in 10 ms in 20 shards of 50, from 1 and 3
    vantages, with no slow origin and with the first origin of every shard
    hanging; every refresh checked for the verdicts it must give."""
    n, shard, fast_ms, runs = 1000, 50, 10, 5
    names = [f"o{i:04d}" for i in range(n)]
    hanging = set(names[::shard])
    fleet = Fleet([(name, f"delay-{fast_ms}") for name in names], shared=True)
    for vantages in (1, 3):
        d = build_edgecheck(f"scale-{vantages}v", scale_config(fleet, names, shard, vantages, SCALE_TIMEOUT_MS,
                                                               SCALE_DEADLINE_MS))
        worker = Worker(d)
        for slow in (False, True):
            for name in hanging:
                fleet.set_mode(name, "hang" if slow else f"delay-{fast_ms}")
            worker.refresh()  # rise = fall = 1: this round sets every verdict
            fleet.reset_waiting()
            samples, rounds = [], []
            cpu, wall = workerd_cpu_s(worker.proc), time.perf_counter()
            for _ in range(runs):
                elapsed, doc = worker.refresh()
                seen = statuses(doc)
                assert len(seen) == n, len(seen)
                for name, got in seen.items():
                    want = ("down", "timeout") if slow and name in hanging else ("up", "ok")
                    assert got == want, (name, got, want)
                assert all(v["state"] == "reporting" for v in doc["vantages"].values()), doc["vantages"]
                assert doc["duration_ms"] <= SCALE_DEADLINE_MS, doc["duration_ms"]
                samples.append(elapsed * 1000)
                rounds.append(doc["duration_ms"])
            busy = (workerd_cpu_s(worker.proc) - cpu) / (time.perf_counter() - wall)
            waiting = fleet.max_waiting()
            ideal = SCALE_TIMEOUT_MS if slow else math.ceil(shard / MAX_IN_FLIGHT) * fast_ms
            p50 = percentile(samples, 50)
            results.append({
                "section": "scale", "n": n, "shards": n // shard, "vantages": vantages, "slow": slow, "runs": runs,
                "p50": p50, "round_p50": percentile(rounds, 50), "round_max": max(rounds), "ideal": ideal,
                "ratio": percentile(rounds, 50) / ideal, "probers": n // shard * vantages, "waiting": waiting,
                "busy": busy,
            })
            log(f"scale N={n} vantages={vantages} hanging={slow}: refresh p50 {percentile(rounds, 50):.0f} ms "
                f"(ideal {ideal} ms), client p50 {p50:.0f} ms, at most {waiting} waiting at the origins")
        worker.close()
    fleet.close()


def workerd_procs(proc):
    """(/proc/<pid> directory, fields of its stat after the command) of each
    workerd process in the process group `proc` started."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) == proc.pid and "workerd" in (stat.parent / "comm").read_text():
                yield stat.parent, fields
        except (OSError, IndexError, ValueError):
            pass


def workerd_rss_kib(proc):
    """Resident memory of the workerd processes started by `proc`, KiB."""
    total = 0
    for d, _ in workerd_procs(proc):
        try:
            total += int(re.search(r"VmRSS:\s+(\d+)", (d / "status").read_text()).group(1))
        except (OSError, AttributeError):
            pass
    return total


def workerd_cpu_s(proc):
    """CPU seconds (user + system) used so far by the workerd processes started by `proc`."""
    ticks = sum(int(f[11]) + int(f[12]) for _, f in workerd_procs(proc))
    return ticks / os.sysconf("SC_CLK_TCK")


def largest_stored(d):
    """The largest row and the largest value in the monitor's SQLite file
    under d/state: (row bytes, value bytes, table)."""
    import sqlite3
    best = (0, 0, "")
    for path in d.glob("state/**/*.sqlite"):
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        tables = [t for (t,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        if "origin_state" not in tables:
            db.close()
            continue
        for table in ("monitor_state", "origin_state", "changes", "rollups"):
            cols = [c[1] for c in db.execute(f"PRAGMA table_info({table})")]
            row = " + ".join(f"length({c})" for c in cols)
            value = ", ".join(f"length({c})" for c in cols)
            big_row = db.execute(f"SELECT coalesce(max({row}), 0) FROM {table}").fetchone()[0]
            big_value = db.execute(f"SELECT coalesce(max(max({value}, 0)), 0) FROM {table}").fetchone()[0]
            if big_row > best[0]:
                best = (big_row, max(best[1], big_value), table)
            else:
                best = (best[0], max(best[1], big_value), best[2])
        db.close()
    return best


def limit(results):
    """The fleet limit: 10,000 origins answering in 10 ms, in shards of 500,
    from 3 vantages."""
    n, shard, fast_ms, runs, vantages = LIMIT_N, LIMIT_SHARD, 10, 3, 3
    names = [f"o{i:05d}" for i in range(n)]
    fleet = Fleet([(name, f"delay-{fast_ms}") for name in names], shared=True)
    d = build_edgecheck("limit", scale_config(fleet, names, shard, vantages, SCALE_TIMEOUT_MS, LIMIT_DEADLINE_MS,
                                              regions=20))
    worker = Worker(d)
    rss_before = workerd_rss_kib(worker.proc)
    worker.refresh()
    fleet.reset_waiting()
    samples, rounds, probes, counts = [], [], [], []
    cpu, wall = workerd_cpu_s(worker.proc), time.perf_counter()
    for _ in range(runs):
        before = sum(fleet.hits().values())
        elapsed, doc = worker.refresh()
        probes.append(sum(fleet.hits().values()) - before)
        seen = statuses(doc)
        assert len(seen) == n, len(seen)
        counts.append(sum(1 for s in seen.values() if s == ("up", "ok")))
        samples.append(elapsed * 1000)
        rounds.append(doc["duration_ms"])
    busy = (workerd_cpu_s(worker.proc) - cpu) / (time.perf_counter() - wall)
    rss_after = workerd_rss_kib(worker.proc)
    sizes = {}
    for path in ("/health", "/health?detailed=false"):
        status, headers, body = request("GET", worker.url(path), timeout=180)
        assert status in (200, 503), (path, status)
        sizes[path] = len(body.encode())
    waiting = fleet.max_waiting()
    worker.close()
    fleet.close()
    row, value, table = largest_stored(d)
    ideal = math.ceil(shard / MAX_IN_FLIGHT) * fast_ms
    results.append({
        "section": "limit", "n": n, "shard": shard, "vantages": vantages, "runs": runs,
        "client_p50": percentile(samples, 50), "round_p50": percentile(rounds, 50), "round_max": max(rounds),
        "ideal": ideal, "deadline_ms": LIMIT_DEADLINE_MS, "probes_min": min(probes), "probes_max": max(probes),
        "up_min": min(counts), "health_bytes": sizes["/health"], "summary_bytes": sizes["/health?detailed=false"],
        "row_bytes": row, "value_bytes": value, "row_table": table, "rss_before_kib": rss_before,
        "rss_after_kib": rss_after, "waiting": waiting, "busy": busy,
    })
    log(f"limit: refresh p50 {percentile(rounds, 50):.0f} ms, {min(probes)}..{max(probes)} probes a round, "
        f"at least {min(counts)} of {n} up, /health {sizes['/health']} bytes, largest row {row} bytes ({table}), "
        f"workerd RSS {rss_before} -> {rss_after} KiB")


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

    for r in [r for r in results if r["section"] in ("cpu", "render", "checks")]:
        k = max(20, int(0.3e9 / (r["ns"] * 2)))  # about 0.3 s of work at twice the host cost
        per_ns = (timed(f"/{r['what']}/{k}") - timed(f"/{r['what']}/0")) / k * 1e9
        r["wasm_ns"], r["iterations"] = per_ns, k
        r["slowdown"] = per_ns / r["ns"]
        log(f"wasm {r['what']}: {fmt_ns(per_ns)} ({per_ns / r['ns']:.1f}x the host)")
    worker.close()


CORE_OPS = ["classify_200B", "classify_4KB", "aggregate_50", "aggregate_1000", "render_health_50",
            "render_health_1000", "reuse_health_1000", "parse_snapshot_1000"]
LIMIT_OPS = ["render_health_10000x3", "render_summary_10000x3"]
# Section 9: an origin's conditions on a 64 KiB answer, against the same answer judged without them.
CHECK_OPS = ["classify_64KB", "conditions_64KB"]


def checks_section(results, when):
    """Section 9 of BENCHMARKS.md, as lines."""
    rows = {r["what"]: r for r in results if r["section"] == "checks"}
    base, conds = rows["classify_64KB"], rows["conditions_64KB"]
    out = ["## 9. Conditions on a 64 KiB answer\n",
           f"{when}, `scripts/bench.sh checks`, on {machine()}. `conditions_64KB` judges a 64 KiB Spring Boot",
           "answer (the default `max_body_bytes`) with the eight conditions of `edgecheck_bench::CONDITION_SET`",
           "(the status, a header, the body's text, a pattern over the body, two JSONPath values, a filter under",
           "`count()` and a `length()`), every one holding so that every one runs; `classify_64KB` is the same",
           "answer judged without conditions (the body is parsed once either way). Host: criterion, median;",
           "wasm: as in section 5. The ideal named: the conditions' own cost is the difference.\n"]
    out += table(["operation", "host", "wasm in workerd", "K", "wasm / host"],
                 [[r["what"], fmt_ns(r["ns"]), fmt_ns(r["wasm_ns"]), r["iterations"], f"{r['slowdown']:.1f}"]
                  for r in (base, conds)])
    out += ["", f"The eight conditions cost {fmt_ns(conds['wasm_ns'] - base['wasm_ns'])} in workerd "
                f"({conds['wasm_ns'] / base['wasm_ns']:.2f}x the judgement without them), "
                f"{fmt_ns(conds['ns'] - base['ns'])} on the host."]
    return out


def criterion(results, names, section="cpu"):
    log(f"running criterion benchmarks of the core: {', '.join(names)}")
    subprocess.run(["cargo", "bench", "-p", "edgecheck-bench", "--bench", "core", "--", "--warm-up-time", "1",
                    "--measurement-time", "3", "(^|/)(" + "|".join(names) + ")$"],
                   cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for name in names:
        found = ROOT / "target" / "criterion" / name
        if not found.exists():
            found = ROOT / "target" / "criterion" / "limit" / name
        est = json.loads((found / "new" / "estimates.json").read_text())
        results.append({"section": section, "what": name, "ns": est["median"]["point_estimate"]})


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


def scale_section(results, when=None):
    """Section 7 of BENCHMARKS.md, as lines; `when` names a run of its own."""
    def section(name):
        return [r for r in results if r["section"] == name]

    out = ["## 7. Scale: probers in parallel, and the fleet limit\n"]
    if when:
        out += [f"Run of its own: {when}, `scripts/bench.sh scale`, on {machine()}.\n"]
    out += ["A round: the monitor's alarm asks every prober (one Durable Object per vantage and shard) to run it;",
            "each answers at once, probes its shard in an alarm of its own with the whole deadline (at most 6",
            "requests waiting for headers), and reports in a call of its own. The monitor merges when every report",
            "is in. Refresh = the round's `duration_ms` (from its start to the merge); client = the client's",
            "`POST /refresh`, which also renders and transfers the `/health` answer. `rise = fall = 1`, and every",
            "refresh measured is checked: every origin up (`ok`), every hanging one down (`timeout`), every vantage",
            "`reporting`. Waiting: the most requests the origins saw waiting for headers at once, all probers",
            "together. Locally every prober runs in the one workerd on this machine's 2 cores, beside the origins.\n",
            "The ideal is the physical limit. With a hanging origin: one probe timeout (2,000 ms), which no design",
            "can beat, plus the merge. Without: a prober's 50 origins in waves of 6 at 10 ms, ⌈50 / 6⌉ × 10 =",
            "90 ms, plus the merge.\n"]
    out += table(["origins", "shards", "vantages", "probers", "hanging", "runs", "refresh p50 ms", "refresh max ms",
                  "client p50 ms", "ideal ms", "refresh p50 / ideal", "most waiting at origins",
                  "workerd CPU s per s"],
                 [[r["n"], r["shards"], r["vantages"], r["probers"], "1 per shard" if r["slow"] else "none", r["runs"],
                   f"{r['round_p50']:.0f}", r["round_max"], f"{r['p50']:.0f}", r["ideal"], f"{r['ratio']:.2f}",
                   r["waiting"], f"{r['busy']:.2f}"] for r in section("scale")])
    rows = {(r["vantages"], r["slow"]): r for r in section("scale")}
    if (1, False) in rows and (3, False) in rows:
        one, three = rows[(1, False)], rows[(3, False)]
        out += ["", f"Without slow origins, 3 vantages take {three['round_p50'] / one['round_p50']:.1f}× the refresh of 1"
                " for 3× the probes. The last column is the CPU that the one local workerd process (every prober and"
                " the monitor) used per second of wall time: near 1, it had a whole core to itself and the round was"
                " bound by that core, not by the schedule; on Cloudflare each prober is its own Durable Object. The"
                " hanging rows are the schedule's test: one probe timeout is the floor, and the refresh came within"
                f" {max(r['ratio'] for r in section('scale') if r['slow']):.2f}× of it. With hanging origins the count"
                " of waiting requests includes the hung requests of earlier rounds: `demo_origins` holds a hung"
                " request (up to 600 s) after the prober has given up on it."]
    for r in section("limit"):
        out += ["", f"### The fleet limit: {r['n']:,} origins in shards of {r['shard']} from {r['vantages']} vantages\n",
                f"Origins answer in 10 ms; `deadline_ms = {r['deadline_ms']}`; {r['runs']} measured refreshes after a",
                "first. Largest stored row and value: read from the monitor's SQLite file after the run. Memory: the",
                "resident set of the whole workerd (monitor, 60 probers, isolate) after start and after the rounds; the",
                "monitor's share is not separable locally.\n"]
        out += table(["measure", "value"], [
            ["refresh p50 / max ms", f"{r['round_p50']:.0f} / {r['round_max']}"],
            ["client p50 ms", f"{r['client_p50']:.0f}"],
            ["ideal ms (⌈500 / 6⌉ × 10)", r["ideal"]],
            ["probes per round (hits at the origins)", f"{r['probes_min']}..{r['probes_max']}"],
            ["origins up in the worst refresh", f"{r['up_min']} of {r['n']}"],
            ["most waiting at origins", r["waiting"]],
            ["workerd CPU s per s during the rounds", f"{r['busy']:.2f}"],
            ["largest stored row bytes (table)", f"{r['row_bytes']} ({r['row_table']})"],
            ["largest stored value bytes (limit 2,000,000)", r["value_bytes"]],
            ["`/health` bytes", r["health_bytes"]],
            ["`/health?detailed=false` bytes", r["summary_bytes"]],
            ["workerd RSS after start / after the rounds, MiB",
             f"{r['rss_before_kib'] / 1024:.0f} / {r['rss_after_kib'] / 1024:.0f}"],
        ])
        out += ["", f"{r['probes_max']:,} probes in {r['round_p50'] / 1000:.1f} s is"
                f" {r['probes_max'] / r['round_p50'] * 1000:,.0f} probes a second, every prober in the one local workerd"
                f" at {r['busy']:.2f} CPU seconds a second: bound by that core, and within the deadline. The state"
                " fits: the largest"
                f" row is {r['row_bytes']:,} bytes against the 2,000,000 a row may hold. `/health` in full is"
                f" {r['health_bytes'] / 1e6:.1f} MB (every origin with one entry per vantage)."]
        full = next((x for x in section("render") if x["what"] == "render_health_10000x3"), None)
        if full and full["wasm_ns"] > 10e6:
            out += [f"Its render in workerd ({full['wasm_ns'] / 1e6:.0f} ms, below) is over the Free plan's 10 ms of CPU"
                    " per request: at this size, status pages should read `/health?detailed=false` or"
                    " `/health/{region}`."]
    if section("render"):
        out += ["", "Render time of the fleet limit's answers (10,000 origins merged from 3 vantages), measured as in",
                "section 5: criterion on the host, and the same operation as wasm in workerd.\n"]
        out += table(["operation", "host", "wasm in workerd", "K", "wasm / host"],
                     [[r["what"], fmt_ns(r["ns"]), fmt_ns(r["wasm_ns"]), r["iterations"], f"{r['slowdown']:.1f}"]
                      for r in section("render")])
    out += ["", "Cost in Durable Object requests (arithmetic on the design, not measured): a round is billed one alarm",
            "of the monitor plus, per prober, the monitor's call, the prober's alarm and its report: 1 + 3 × probers.",
            "At the defaults (1 vantage, 1 shard, `refresh_s = 15`, 5,760 rounds a day): 4 a round, 23,040 a day.",
            "At 20 shards × 3 vantages (the fleet limit in shards of 500) on the same refresh: 181 a round,",
            "1,042,560 a day, ten times the Free plan's 100,000; `refresh_s = 180` brings it to 86,880."]
    return out


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
    out += ["\n## 3. Throughput of served answers\n",
            "wrk, 2 threads, 32 connections, against `wrangler dev` (one workerd per worker, all three running):",
            f"each target for 5 s in turn, {THROUGHPUT_RUNS} times over; the table gives the medians. edgecheck's",
            "answers are rendered from the snapshot its isolate holds (`x-edgecheck-cache: memory`).\n",
            ]
    out += table(["what", "req/s (median)", "runs, req/s", "p99 ms", "non-2xx", "vs hello-world JS",
                  "vs hello-world Rust"],
                 [[r["what"], f"{r['rps']:.0f}", r.get("runs", ""), f"{r['p99_ms']:.1f}", r["errors"],
                   f"{r['vs_js']:.2f}", f"{r['vs_rs']:.2f}"] for r in section("throughput")])
    out += ["\n## 4. Size and startup\n",
            "Deployable bundle: `index_bg.wasm` + `index.js` + `worker/shim.mjs`, built the same way (worker-build",
            "0.8.7, LTO, wasm-opt, the names section dropped; edgecheck `opt-level = \"z\"` and `-Oz`), gzip level 9.",
            "Section 8 breaks it down.\n",
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
    out += ["\n## 6. Probe load and monitor calls under public traffic\n",
            "Two bursts of 1,000 concurrent GETs of `/health`, `/ready`, `/health/o1`, `/ready/a` with random query",
            "strings, the first on a cold isolate, the second a refresh later; `refresh_s = 2`; probes counted at",
            "the origins; monitor calls counted as the answers that asked the monitor (`x-edgecheck-cache: miss`).",
            "\"Without the Cache API\": the same build with the fault-injection hook `EDGECHECK_FAULT_NO_CACHE=1`,",
            "which skips every Cache API call, as on a `*.workers.dev` hostname. Locally one isolate serves all.",
            "A request without an answer in 20 s (wrangler dev's proxy loses one now and then under 1,000",
            "connections, cloudflare/workers-sdk#15317) is sent again, at most twice, and counted.\n",
            ]
    out += table(["run", "requests", "200s", "sent again", "seconds", "refreshes", "monitor calls",
                  "from the Cache API", "most probes at one origin", "allowed by refresh", "without a monitor"],
                 [[r["what"], r["requests"], r["ok"], r["resent"], f"{r['elapsed_s']:.1f}", f"{r['refreshes']:.1f}",
                   r["asked"], r["from_cache"], r["max_probes"], r["allowed"], r["naive"]]
                  for r in section("probe_load")])
    out += scale_section(results)
    return "\n".join(out) + "\n"


SERVING = ["3", "4", "5", "6"]

# The deployed files of a build (the fleet document apart: its size is the fleet's).
DEPLOYED = ["entry.mjs", "index_bg.wasm", "index.js", "worker/shim.mjs"]


def crate_of(name):
    """The crate a twiggy item belongs to: the first path segment of its name
    (`<serde_json::de::...>` is serde_json's); data and custom sections apart."""
    if name.startswith(("data segment", "custom section", '"')) or " subsection" in name:
        return "(data and sections)"
    m = re.match(r"[<&\s]*(?:mut |dyn |impl )?([A-Za-z_][A-Za-z0-9_]*)::", name)
    return m.group(1) if m else "(unnamed: glue and generics)"


def bundle_section(when):
    """Section 8: the production bundle (the demo config), its gzip size, and
    what its wasm is made of by crate and by function (twiggy, on the same
    build with its names section kept)."""
    twiggy = shutil.which("twiggy") or str(Path.home() / ".cargo/bin/twiggy")
    if not Path(twiggy).exists():
        log("installing twiggy")
        subprocess.run(["cargo", "install", "--locked", "twiggy"], check=True)
    builds = {}
    for label, keep in [("deployed", "0"), ("names kept", "1")]:
        out = WORK / "bundle" / label.replace(" ", "-")
        log(f"building the worker ({label})")
        subprocess.run(["bash", str(ROOT / "scripts/build-worker.sh"), "--out-dir", str(out)], cwd=ROOT, check=True,
                       env=dict(os.environ, EDGECHECK_KEEP_NAMES=keep), stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        builds[label] = out
    rows = []
    for label, out in builds.items():
        raw = sum((out / f).stat().st_size for f in DEPLOYED)
        gz = sum(len(gzip.compress((out / f).read_bytes(), 9)) for f in DEPLOYED)
        wasm = (out / "index_bg.wasm").stat().st_size
        wasm_gz = len(gzip.compress((out / "index_bg.wasm").read_bytes(), 9))
        rows.append([label, raw, gz, wasm, wasm_gz])
    fleet = (builds["deployed"] / "fleet.txt").stat().st_size
    top = subprocess.run([twiggy, "top", "-n", "1000000", "-f", "csv", str(builds["names kept"] / "index_bg.wasm")],
                         capture_output=True, text=True, check=True).stdout
    items = [(r["Name"], int(r["ShallowSize"])) for r in __import__("csv").DictReader(top.splitlines())]
    names_bytes = sum(b for n, b in items if n in ('"function names" subsection', '"data names" subsection'))
    code = [(n, b) for n, b in items if n not in ('"function names" subsection', '"data names" subsection')]
    total = sum(b for _, b in code)
    crates = {}
    for n, b in code:
        crates[crate_of(n)] = crates.get(crate_of(n), 0) + b
    out = ["## 8. What the bundle is made of\n",
           f"{when}, `scripts/bench.sh bundle`: the production build of the demo config (`scripts/build-worker.sh`:",
           "worker-build 0.8.7, `opt-level = \"z\"`, LTO, wasm-opt `-Oz`, then the names section dropped), and the same",
           "build with its names section kept for twiggy 0.8 (`twiggy top`), whose items are summed by the crate",
           "their name starts with. Deployed files: " + ", ".join(f"`{f}`" for f in DEPLOYED) + "; gzip level 9.",
           f"The fleet document (`fleet.txt`, {fleet:,} bytes for the demo's 10 origins) is the fleet's, not the code's.\n"]
    out += table(["build", "deployed bytes", "deployed gzip bytes", "wasm bytes", "wasm gzip bytes"], rows)
    out += ["", f"The wasm by crate ({total:,} bytes without the {names_bytes:,} of names; twiggy's shallow sizes):\n"]
    out += table(["crate", "bytes", "share"],
                 [[c, f"{b:,}", f"{b / total:.1%}"] for c, b in sorted(crates.items(), key=lambda x: -x[1])[:16]])
    out += ["", "The largest functions:\n"]
    out += table(["function", "bytes"],
                 [[f"`{n[:110]}`", f"{b:,}"] for n, b in sorted(code, key=lambda x: -x[1])
                  if not n.startswith(("data segment", "custom section"))][:12])
    return out


def splice(old, new, numbers):
    """`old` (BENCHMARKS.md) with its sections numbered `numbers` replaced by those of `new`."""
    def split(text):
        head, *parts = text.split("\n## ")
        return head, {p.split(".", 1)[0]: p for p in parts}
    head, old_parts = split(old)
    _, new_parts = split(new)
    parts = [new_parts[n].rstrip("\n") + "\n" if n in numbers else p for n, p in old_parts.items()]
    return "\n## ".join([head] + parts)


def serving_header(old, when):
    """The head of BENCHMARKS.md after `serving`: which run each section comes from."""
    first = re.search(r"(?:Latest run|Sections 1 and 2): (.*?), `scripts/bench.sh`, on (.*?)\.(?: Sections|\n)", old)
    earlier = f"{first.group(1)}, `scripts/bench.sh`, on {first.group(2)}" if first else "an earlier run"
    return ("# Benchmarks\n\n"
            f"Sections 1 and 2: {earlier}. Sections 3 to 6: {when}, `scripts/bench.sh serving`,"
            f" on {machine()}. Section 7: `scripts/bench.sh scale`, a run of its own (its date is in it).\n"
            "Servers on 127.0.0.1, origins are `demo_origins`. Each worker runs in `wrangler dev` started by\n"
            "`scripts/wrangler-dev.mjs`, with wrangler's devtools inspector off (with it on, every subrequest's\n"
            "devtools events also go to wrangler's node process).\n")


def main():
    mode = sys.argv[1] if sys.argv[1:] else "all"
    if sys.argv[2:] or mode not in ("all", "scale", "serving", "bundle", "checks"):
        sys.exit("usage: bench/run.py [scale|serving|bundle|checks]  (scale: section 7 alone; serving: sections 3"
                 " to 6; bundle: section 8; checks: section 9; each replaces only its sections in BENCHMARKS.md)")
    WORK.mkdir(parents=True, exist_ok=True)
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    if mode in ("all", "bundle"):
        bundle = bundle_section(when)
    if mode == "bundle":
        old = (ROOT / "BENCHMARKS.md").read_text()
        cut, after = old.find("\n## 8. "), old.find("\n## 9. ")
        rest = "" if after < 0 else "\n" + old[after:].lstrip("\n")
        text = (old if cut < 0 else old[:cut]).rstrip("\n") + "\n\n" + "\n".join(bundle) + "\n" + rest
        (ROOT / "BENCHMARKS.md").write_text(text)
        print("\n".join(bundle))
        return
    if not shutil.which("wrk"):
        sys.exit("bench: wrk is missing; scripts/bench.sh installs it")
    results = []
    try:
        if mode == "all":
            latency(results)
            deadline(results)
        if mode in ("all", "serving"):
            throughput_and_size(results)
            probe_load(results)
        if mode in ("all", "scale"):
            scale(results)
            limit(results)
        if mode in ("all", "serving"):
            criterion(results, CORE_OPS)
        if mode in ("all", "scale"):
            criterion(results, LIMIT_OPS, "render")
        if mode in ("all", "checks"):
            criterion(results, CHECK_OPS, "checks")
        wasm_core(results)
    finally:
        for proc in STARTED:
            stop(proc)
    old = (ROOT / "BENCHMARKS.md").read_text()
    # Sections after 9 are written by hand from host tests (10: error budgets); kept as they are.
    later = old.find("\n## 10. ")
    kept = "" if later < 0 else "\n" + old[later:].lstrip("\n")
    if mode == "checks":
        cut = old.find("\n## 9. ")
        text = (old if cut < 0 else old[:cut]).rstrip("\n") + "\n\n" + "\n".join(checks_section(results, when)) + "\n"
        text += kept
    elif mode == "scale":
        after = old.find("\n## 8. ")
        head = old[:old.index("## 7. ")]
        text = head + "\n".join(scale_section(results, when)) + "\n" + ("" if after < 0 else old[after:])
    elif mode == "serving":
        text = splice(old, report(results, when), SERVING)
        text = serving_header(old, when) + text[text.index("\n## 1. "):]
    else:
        text = (report(results, when) + "\n" + "\n".join(bundle) + "\n\n"
                + "\n".join(checks_section(results, when)) + "\n" + kept)
    (ROOT / "BENCHMARKS.md").write_text(text)
    (WORK / f"results-{mode}.json").write_text(json.dumps(results, indent=1))
    print(text)


if __name__ == "__main__":
    main()
