//! The harness: demo fleets, worker builds, `wrangler dev` runs and HTTP helpers.

use super::*;

/// A running `demo_origins`; killed on drop (and it exits when our stdin pipe closes).
pub(crate) struct Fleet {
    pub(crate) child: Child,
    pub(crate) _stdin: ChildStdin,
    pub(crate) control: u16,
    pub(crate) ports: BTreeMap<String, u16>,
    /// Every origin on one port, named by the first path segment.
    pub(crate) shared: bool,
}

/// `demo_origins`, built by [`prepare`].
pub(crate) fn demo_origins() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| Path::new(ROOT).join("target"), PathBuf::from);
    target.join("debug").join("demo_origins")
}

impl Fleet {
    /// `specs`: (origin name, mode); `shared`: every origin on one port.
    pub(crate) fn start(specs: &[(String, String)], shared: bool) -> Fleet {
        let mut child = Command::new(demo_origins())
            .args(["--control", "127.0.0.1:0", "--until-stdin-closes"])
            .args(if shared { &["--shared-port", "0"][..] } else { &[] })
            .args(specs.iter().map(|(name, mode)| format!("{name}={mode}")))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("demo_origins starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).expect("demo_origins prints its ports");
        let doc: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("bad demo_origins line {line:?}: {e}"));
        let ports =
            doc["origins"].as_object().unwrap().iter().map(|(k, v)| (k.clone(), v.as_u64().unwrap() as u16)).collect();
        let control = doc["control"].as_u64().unwrap() as u16;
        Fleet { _stdin: child.stdin.take().unwrap(), child, control, ports, shared }
    }

    pub(crate) fn url(&self, name: &str, path: &str) -> String {
        let prefix = if self.shared { format!("/{name}") } else { String::new() };
        format!("http://127.0.0.1:{}{prefix}{path}", self.ports[name])
    }

    /// Requests `name` has answered or is answering.
    pub(crate) fn hits(&self, name: &str) -> u64 {
        let (_, body) = request("GET", &format!("http://127.0.0.1:{}/origins", self.control));
        let doc: Value = serde_json::from_str(&body).unwrap();
        doc[name]["hits"].as_u64().unwrap_or_else(|| panic!("no origin {name}: {doc}"))
    }

    pub(crate) fn set(&self, name: &str, mode: &str) {
        let (status, body) = request("POST", &format!("http://127.0.0.1:{}/origins/{name}/mode/{mode}", self.control));
        assert_eq!(status, 200, "{body}");
    }
}

impl Drop for Fleet {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The worker built with one config, running in `wrangler dev`.
pub(crate) struct Worker {
    pub(crate) child: Child,
    pub(crate) port: u16,
}

pub(crate) fn e2e_dir(name: &str) -> PathBuf {
    Path::new(ROOT).join("target/e2e").join(name)
}

/// The one wasm every test runs, built once by [`build_wasm`].
pub(crate) fn wasm_dir() -> PathBuf {
    Path::new(ROOT).join("target/e2e-wasm/build")
}

/// `edgecheck` (crates/edgecheck-cli), built by [`prepare`].
pub(crate) fn edgecheck_cli() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| Path::new(ROOT).join("target"), PathBuf::from);
    target.join("debug").join("edgecheck")
}

/// Runs `scripts/build-worker.sh --out-dir <out> -- --features fault-injection`
/// (the fault-injection hook of src/prober.rs) with `env`; its exit status and
/// output (stdout + stderr).
pub(crate) fn build_worker(out: &Path, env: &[(&str, &Path)]) -> (bool, String) {
    let mut command = Command::new("bash");
    command.current_dir(ROOT).arg(Path::new(ROOT).join("scripts/build-worker.sh")).arg("--out-dir").arg(out).args([
        "--",
        "--features",
        "fault-injection",
    ]);
    for (name, value) in env {
        command.env(name, value);
    }
    let out = command.output().expect("bash runs scripts/build-worker.sh");
    let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

/// Builds the one wasm of every test (without a fleet: each test writes its own).
pub(crate) fn build_wasm() -> (bool, String) {
    build_worker(&wasm_dir(), &[("EDGECHECK_FLEET", Path::new("none"))])
}

/// Gives test `name` its fleet: writes `config` as its `edgecheck.toml`, runs
/// `edgecheck check` on it into `<name>/build/fleet.txt`, and puts the entry
/// module and the one wasm (a link) beside it. Returns the check's exit
/// status and its output (stdout + stderr).
pub(crate) fn build(name: &str, config: &str) -> (bool, String) {
    let dir = e2e_dir(name);
    let out = dir.join("build");
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&out).unwrap();
    let config_path = dir.join("edgecheck.toml");
    std::fs::write(&config_path, config).unwrap();
    let check = Command::new(edgecheck_cli())
        .arg("check")
        .arg(&config_path)
        .arg("--out")
        .arg(&out)
        .output()
        .expect("edgecheck runs");
    let text = String::from_utf8_lossy(&check.stdout).into_owned() + &String::from_utf8_lossy(&check.stderr);
    beside_wasm(&out, &wasm_dir());
    (check.status.success(), text)
}

/// Makes `out` a bundle of the wasm built in `wasm` and the fleet document
/// `out/fleet.txt`: the entry module copied in, `worker/` linked to `wasm`'s.
pub(crate) fn beside_wasm(out: &Path, wasm: &Path) {
    std::fs::copy(Path::new(ROOT).join("src/entry.mjs"), out.join("entry.mjs")).unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(wasm.join("worker"), out.join("worker")).unwrap();
}

/// A port free on 127.0.0.1 for a worker, below Linux's ephemeral range
/// (32768–60999). A port from `bind(0)` could be one a demo origin in mode
/// `refuse` released, and the worker would then answer that origin's probes.
pub(crate) fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let base = std::process::id().wrapping_mul(7_919);
    for _ in 0..10_000 {
        let port = 20_000 + base.wrapping_add(NEXT.fetch_add(1, Ordering::Relaxed)) % 12_000;
        if TcpListener::bind(("127.0.0.1", port as u16)).is_ok() {
            return port as u16;
        }
    }
    panic!("no free port in 20000-31999 on 127.0.0.1");
}

/// The processes of process group `group` (wrangler, its workerd and theirs).
fn group_members(group: u32) -> usize {
    let group = group.to_string();
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter(|entry| {
            let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
            // pid (comm) state ppid pgrp ...: the comm may hold spaces, so split after ')'.
            let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
            let mut fields = after.split_whitespace();
            let state = fields.next();
            state != Some("Z") && fields.nth(1) == Some(group.as_str())
        })
        .count()
}

/// Waits until every process of `group` is gone (at most 30 s): a stopped
/// worker's workerd may still be going away, its last round committing, and
/// a worker started on the same state, or an edit of it, must come after.
fn wait_group_gone(group: u32) {
    let started = Instant::now();
    while group_members(group) > 0 {
        assert!(started.elapsed() < Duration::from_secs(30), "worker group {group} still runs 30 s after its stop");
        std::thread::sleep(Duration::from_millis(50));
    }
}

impl Worker {
    /// Runs the last build of `name` in `wrangler dev`, keeping its persisted state.
    pub(crate) fn run(name: &str) -> Worker {
        Worker::run_with_state(name, &e2e_dir(name).join("state"))
    }

    /// Runs the last build of `name`, its state (Durable Objects, Cache API)
    /// persisted in `state`, which several workers may share.
    pub(crate) fn run_with_state(name: &str, state: &Path) -> Worker {
        Worker::run_with(name, state, "")
    }

    /// Runs the last build of `name` with `state` and extra `.dev.vars` lines.
    pub(crate) fn run_with(name: &str, state: &Path, extra_vars: &str) -> Worker {
        Worker::run_as(name, name, state, extra_vars)
    }

    /// Runs the last build of `name` as the worker `as_name` (whose Durable
    /// Objects, in `state`, it takes over: a redeploy), with extra `.dev.vars` lines.
    pub(crate) fn run_as(name: &str, as_name: &str, state: &Path, extra_vars: &str) -> Worker {
        Worker::run_answering(name, as_name, state, extra_vars, 200)
    }

    /// [`Worker::run_as`], started once `/live` answers `live_status` (a
    /// worker whose fleet document is damaged answers it 500).
    pub(crate) fn run_answering(name: &str, as_name: &str, state: &Path, extra_vars: &str, live_status: u16) -> Worker {
        let dir = e2e_dir(name);
        let wrangler_toml = format!(
            "name = \"edgecheck-e2e-{as_name}\"\nmain = \"build/entry.mjs\"\ncompatibility_date = \"2026-04-01\"\n\
             [[durable_objects.bindings]]\nname = \"MONITOR\"\nclass_name = \"Monitor\"\n\
             [[durable_objects.bindings]]\nname = \"PROBER\"\nclass_name = \"Prober\"\n\
             [[migrations]]\ntag = \"v1\"\nnew_sqlite_classes = [\"Monitor\"]\n\
             [[migrations]]\ntag = \"v2\"\nnew_sqlite_classes = [\"Prober\"]\n\
             [triggers]\ncrons = [\"* * * * *\"]\n"
        );
        std::fs::write(dir.join("wrangler.toml"), wrangler_toml).unwrap();
        // E2E_BAD_HEADER: dotenv turns the \n into a line break, which no header value may carry.
        let vars = format!(
            "E2E_TOKEN=\"{SECRET}\"\nEDGECHECK_ADMIN_TOKEN=\"{ADMIN}\"\nE2E_BAD_HEADER=\"line one\\nline two\"\n"
        );
        std::fs::write(dir.join(".dev.vars"), vars + extra_vars).unwrap();
        let port = free_port();
        // wrangler dev through its API, with the devtools inspector off (see the script).
        let wrangler = Path::new(ROOT).join("scripts/wrangler-dev.mjs");
        let mut command = Command::new("node");
        command
            .current_dir(&dir)
            .arg(&wrangler)
            .args(["--config", "wrangler.toml", "--ip", "127.0.0.1", "--port", &port.to_string()])
            .args(["--log-level", "warn"])
            .arg("--persist-to")
            .arg(state)
            .arg("--test-scheduled")
            .env("WRANGLER_SEND_METRICS", "false")
            .stdin(Stdio::null());
        // The worker's log lines, for a failing test's reader: every run of
        // this worker appended to target/e2e/<name>/worker.log.
        let log = std::fs::OpenOptions::new().create(true).append(true).open(dir.join("worker.log")).unwrap();
        command.stdout(log.try_clone().unwrap()).stderr(log);
        #[cfg(unix)]
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let child = command
            .spawn()
            .unwrap_or_else(|e| panic!("{} does not start ({e}); run scripts/setup.sh", wrangler.display()));
        let worker = Worker { child, port };
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(120) {
            if try_request("GET", &worker.url("/live")).is_some_and(|(status, _)| status == live_status) {
                return worker;
            }
            std::thread::sleep(Duration::from_millis(250));
        }
        panic!("wrangler dev did not answer /live with {live_status} within 120 s");
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub(crate) fn get(&self, path: &str) -> (u16, Value) {
        let (status, body) = request("GET", &self.url(path));
        let doc = serde_json::from_str(&body).unwrap_or_else(|e| panic!("GET {path}: not JSON ({e}): {body:?}"));
        (status, doc)
    }

    /// Polls `GET path` until `done` holds for its JSON body, for at most `secs`
    /// seconds; returns the last body.
    pub(crate) fn until(&self, path: &str, secs: u64, done: impl Fn(&Value) -> bool) -> Value {
        let started = Instant::now();
        loop {
            let (_, doc) = self.get(path);
            if done(&doc) {
                return doc;
            }
            assert!(
                started.elapsed() < Duration::from_secs(secs),
                "{path} never met the condition in {secs} s; last: {doc}"
            );
            std::thread::sleep(Duration::from_millis(300));
        }
    }

    /// `GET /health?view=full` with the admin token: the monitor's own view,
    /// answered from its memory (never a held snapshot or a cached copy).
    /// Panics unless it is a 200 with a JSON body.
    pub(crate) fn full(&self) -> Value {
        let mut answer = self.call_with("GET", "/health?view=full", &[("authorization", &format!("Bearer {ADMIN}"))]);
        let status = answer.status().as_u16();
        let body = answer.body_mut().read_to_string().unwrap();
        assert_eq!(status, 200, "/health?view=full: {body}");
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("/health?view=full: not JSON ({e}): {body:?}"))
    }

    pub(crate) fn call(&self, method: &str, path: &str) -> ureq::http::Response<ureq::Body> {
        self.call_with(method, path, &[])
    }

    /// `method path` with extra request headers.
    pub(crate) fn call_with(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
    ) -> ureq::http::Response<ureq::Body> {
        let mut builder = ureq::http::Request::builder().method(method).uri(self.url(path));
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        agent().run(builder.body(()).unwrap()).unwrap()
    }

    /// The resident memory of this worker's workerd processes (`VmRSS`), KiB.
    pub(crate) fn workerd_rss_kib(&self) -> u64 {
        Worker::workerd_of_group(self.child.id())
            .iter()
            .filter_map(|workerd| {
                let status = std::fs::read_to_string(workerd.join("status")).ok()?;
                let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
                line.split_whitespace().nth(1)?.parse::<u64>().ok()
            })
            .sum()
    }

    /// The open file descriptors of this worker's workerd process.
    pub(crate) fn workerd_fds(&self) -> usize {
        Worker::fds_of_group(self.child.id())
    }

    /// The open file descriptors of the workerd processes (wrangler runs two)
    /// in process group `group`.
    pub(crate) fn fds_of_group(group: u32) -> usize {
        Worker::workerd_of_group(group)
            .iter()
            .map(|workerd| std::fs::read_dir(workerd.join("fd")).map_or(0, |fds| fds.count()))
            .sum()
    }

    /// The `/proc/<pid>` directories of the workerd processes in process group `group`.
    fn workerd_of_group(group: u32) -> Vec<PathBuf> {
        let group = group.to_string();
        std::fs::read_dir("/proc")
            .unwrap()
            .flatten()
            .filter(|entry| entry.file_name().to_string_lossy().bytes().all(|b| b.is_ascii_digit()))
            .filter(|entry| {
                let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
                // pid (comm) state ppid pgrp ...: the comm may hold spaces, so split after ')'.
                let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
                let pgrp = after.split_whitespace().nth(2);
                stat.contains("(workerd)") && pgrp == Some(group.as_str())
            })
            .map(|entry| entry.path())
            .collect()
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        // wrangler runs workerd as a child: stop the whole process group.
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-TERM", "--", &group]).status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        // Whatever did not stop on TERM; the group is usually gone by now.
        let _ = Command::new("kill").args(["-KILL", "--", &group]).stderr(Stdio::null()).status();
        let _ = self.child.wait();
        wait_group_gone(self.child.id());
    }
}

pub(crate) fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

pub(crate) fn try_request(method: &str, url: &str) -> Option<(u16, String)> {
    let req = ureq::http::Request::builder().method(method).uri(url).body(()).ok()?;
    let mut response = agent().run(req).ok()?;
    let status = response.status().as_u16();
    let mut body = String::new();
    response.body_mut().as_reader().read_to_string(&mut body).ok()?;
    Some((status, body))
}

/// Parses and lints `metrics` with `promtool check metrics` (Prometheus's
/// own tool, which scripts/setup.sh installs); panics with its output if it
/// finds a problem.
pub(crate) fn promtool_check(metrics: &str) {
    let mut promtool = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool runs (scripts/setup.sh installs Debian's prometheus)");
    std::io::Write::write_all(&mut promtool.stdin.take().unwrap(), metrics.as_bytes()).unwrap();
    let checked = promtool.wait_with_output().unwrap();
    assert!(
        checked.status.success(),
        "promtool check metrics: {}{}",
        String::from_utf8_lossy(&checked.stdout),
        String::from_utf8_lossy(&checked.stderr)
    );
}

pub(crate) fn request(method: &str, url: &str) -> (u16, String) {
    try_request(method, url).unwrap_or_else(|| panic!("{method} {url} failed"))
}

/// The origins of `/health`, by name.
pub(crate) fn origins(health: &Value) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    for region in health["regions"].as_object().unwrap().values() {
        for origin in region["origins"].as_array().unwrap() {
            out.insert(origin["name"].as_str().unwrap().to_string(), origin.clone());
        }
    }
    out
}

impl Worker {
    /// Kills workerd and wrangler at once (SIGKILL, as a crash would), without
    /// the orderly stop of [`Drop`]; the state on disk is left as it was.
    pub(crate) fn crash(mut self) {
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).stderr(Stdio::null()).status();
        let _ = self.child.wait();
        wait_group_gone(self.child.id());
        // Drop then only finds the group gone.
    }
}

impl Prepared {
    /// Runs the worker built for this test with fresh state and extra `.dev.vars` lines.
    pub(crate) fn fresh_worker_with(&self, vars: &str) -> Worker {
        let (ok, output) = &self.build;
        assert!(ok, "worker build failed (run scripts/setup.sh first?):\n{output}");
        let _ = std::fs::remove_dir_all(e2e_dir(self.name).join("state"));
        Worker::run_with(self.name, &e2e_dir(self.name).join("state"), vars)
    }
}

/// Receivers started while a test's config is written (its URLs go into the
/// config), by test and name, kept until the harness ends ([`stop_receivers`]).
static RECEIVERS: std::sync::Mutex<BTreeMap<String, Arc<Receiver>>> = std::sync::Mutex::new(BTreeMap::new());

/// The receiver `key`, started by `start` the first time it is asked for.
pub(crate) fn receiver(key: &str, start: impl FnOnce() -> Receiver) -> Arc<Receiver> {
    RECEIVERS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .entry(key.to_string())
        .or_insert_with(|| Arc::new(start()))
        .clone()
}

/// Stops every receiver (each stops its server on drop).
pub(crate) fn stop_receivers() {
    RECEIVERS.lock().unwrap_or_else(|e| e.into_inner()).clear();
}
