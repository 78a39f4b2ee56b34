//! Each rule has one home. These tests read the sources of the core
//! (`crates/edgecheck-core/src`) and of the shell (`src`) and fail when a rule
//! is written a second time, or a decision the core owns appears in the shell.
//! A table of behaviour (`readiness_is_one_rule` and the like) cannot see a
//! second copy that agrees with the first today; these can.

use std::path::{Path, PathBuf};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// Every `.rs` file under `dir`, as (path relative to the workspace, text).
fn sources(dir: &str) -> Vec<(String, String)> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let mut files = Vec::new();
    walk(&Path::new(ROOT).join(dir), &mut files);
    files.sort();
    assert!(!files.is_empty(), "no sources under {dir}");
    files
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).unwrap();
            (path.strip_prefix(ROOT).unwrap().display().to_string(), text)
        })
        .collect()
}

/// Lines of code (comments left out) under the `dirs` holding `needle`, as
/// `file:line`.
fn places(dirs: &[&str], needle: &str) -> Vec<String> {
    let mut out = Vec::new();
    for dir in dirs {
        for (file, text) in sources(dir) {
            for (n, line) in text.lines().enumerate() {
                let code = line.trim_start();
                if !code.starts_with("//") && code.contains(needle) {
                    out.push(format!("{file}:{}", n + 1));
                }
            }
        }
    }
    out
}

fn files_of(places: &[String]) -> Vec<&str> {
    let mut files: Vec<&str> = places.iter().map(|p| p.split(':').next().unwrap()).collect();
    files.dedup();
    files
}

const CORE: &str = "crates/edgecheck-core/src";
const SHELL: &str = "src";

#[test]
fn readiness_is_decided_only_in_the_shown_view() {
    let defined = places(&[CORE, SHELL], "fn readiness(");
    assert_eq!(files_of(&defined), ["crates/edgecheck-core/src/aggregate.rs"], "{defined:?}");
    let calls: Vec<String> =
        places(&[CORE, SHELL], "readiness(").into_iter().filter(|p| !defined.contains(p)).collect();
    assert!(!calls.is_empty());
    assert_eq!(files_of(&calls), ["crates/edgecheck-core/src/view.rs"], "readiness applied outside view::shown");
}

#[test]
fn never_probed_is_skipped_in_one_place_per_layer() {
    // The monitor's placeholder for an origin no round has probed, and the
    // view's for an origin the state does not hold: nowhere else, and never
    // as a string in a renderer.
    let skipped = places(&[CORE, SHELL], "Reason::Skipped");
    let homes: Vec<&String> =
        skipped.iter().filter(|p| !p.starts_with("crates/edgecheck-core/src/classify.rs:")).collect();
    assert_eq!(
        files_of(&homes.iter().map(|s| s.to_string()).collect::<Vec<_>>()),
        ["crates/edgecheck-core/src/monitor.rs", "crates/edgecheck-core/src/view.rs"],
        "{homes:?}"
    );
    assert_eq!(places(&[CORE, SHELL], "map_or(\"skipped\""), Vec::<String>::new());
}

#[test]
fn who_votes_is_decided_in_one_place() {
    let homes = places(&[CORE, SHELL], "== VantageState::Reporting");
    assert_eq!(files_of(&homes), ["crates/edgecheck-core/src/vantage.rs"], "{homes:?}");
    assert_eq!(homes.len(), 1, "only VantageState::votes: {homes:?}");
    assert!(places(&[CORE, SHELL], ".votes()").len() >= 2, "the merge and the shown disagreement ask it");
}

#[test]
fn unknown_is_decided_in_one_place() {
    // Snapshot::status is the only rule that turns a view unknown: nothing
    // else compares an age with max_stale_s (validation only bounds it).
    let rules: Vec<String> = places(&[CORE, SHELL], ".max_stale_s")
        .into_iter()
        .filter(|p| !p.starts_with("crates/edgecheck-core/src/config/"))
        .collect();
    assert_eq!(files_of(&rules), ["crates/edgecheck-core/src/monitor.rs"], "{rules:?}");
    assert_eq!(places(&[CORE, SHELL], "fn status(&self, config: &Config, damped: &View)").len(), 1);
}

#[test]
fn config_is_sealed_and_nothing_downstream_rechecks_it() {
    let text = std::fs::read_to_string(Path::new(ROOT).join(CORE).join("config/mod.rs")).unwrap();
    let start = text.find("pub struct Config {").expect("the Config struct");
    let body = &text[start..start + text[start..].find("\n}").unwrap()];
    assert!(!body.lines().skip(1).any(|l| l.trim_start().starts_with("pub ")), "a pub field of Config: {body}");
    let derive = text[..start].lines().rev().find(|l| l.starts_with("#[derive(")).unwrap();
    assert!(!derive.contains("Deserialize"), "only from_raw and from_embedded_json make a Config: {derive}");
    let rechecks: Vec<String> = places(&[CORE, SHELL], ".max(1)")
        .into_iter()
        .filter(|p| !p.starts_with("crates/edgecheck-core/src/config/validate.rs:"))
        .collect();
    assert_eq!(rechecks, Vec::<String>::new(), "a validated value re-checked downstream");
}

#[test]
fn status_codes_come_from_the_view_not_from_rendered_text() {
    for needle in ["== \"fail\"", "== \"pass\"", "== \"warn\"", "contains(\"fail\")"] {
        assert_eq!(places(&[CORE, SHELL], needle), Vec::<String>::new(), "{needle}");
    }
}

#[test]
fn the_shell_leaves_the_probe_budget_and_the_canary_rule_to_the_core() {
    // The budget: cutting a timeout to the deadline, or skipping past it.
    for needle in [".min(deadline", "deadline_at -", ">= deadline_at", "Outcome::Skipped"] {
        let shell: Vec<String> = places(&[SHELL], needle)
            .into_iter()
            .filter(|p| needle != "Outcome::Skipped" || !p.starts_with("src/probe.rs:"))
            .collect();
        assert_eq!(shell, Vec::<String>::new(), "the shell decides the probe budget: {needle}");
    }
    assert_eq!(places(&[SHELL], "probe_budget(").len(), 2, "the origin's and the canary's");
    // The canary: any answer counts; which outcomes do is the core's rule.
    assert_eq!(places(&[SHELL], "Outcome::Answered { body, .. } => (true"), Vec::<String>::new());
    assert_eq!(places(&[SHELL], "canary_answered(").len(), 1);
}

#[test]
fn the_shell_has_one_timeout_race_and_one_probe_request_builder() {
    for needle in ["Delay::from(", "select("] {
        let found = places(&[SHELL], needle);
        assert_eq!((found.len(), files_of(&found)), (1, vec!["src/runtime.rs"]), "one timeout race: {needle}");
    }
    let builders = places(&[SHELL], "RequestInit::new()");
    let in_probe: Vec<&String> = builders.iter().filter(|p| p.starts_with("src/probe.rs:")).collect();
    assert_eq!(in_probe.len(), 1, "one probe-request builder: {in_probe:?}");
    assert_eq!(places(&[SHELL], "\"connection\", \"close\"").len(), 1, "Connection: close is set in one place");
}

#[test]
fn fault_injection_is_compiled_only_with_its_feature() {
    // Each hook is one constant, compiled only with the feature: a silent
    // vantage (prober.rs) and no Cache API (snapshot.rs).
    let hooks = places(&[SHELL], "const NO_CACHE: &str = \"EDGECHECK_FAULT_")
        .into_iter()
        .chain(places(&[SHELL], "const SILENT_VANTAGES: &str = \"EDGECHECK_FAULT_"))
        .collect::<Vec<_>>();
    assert_eq!(hooks.len(), 2, "{hooks:?}");
    assert_eq!(places(&[SHELL], "\"EDGECHECK_FAULT_").len(), 2, "no hook outside its constant");
    for hook in &hooks {
        let (file, text) = sources(SHELL).into_iter().find(|(f, _)| hook.starts_with(f.as_str())).unwrap();
        let line: usize = hook.rsplit(':').next().unwrap().parse().unwrap();
        let before = text.lines().nth(line - 2).unwrap();
        assert_eq!(before.trim(), "#[cfg(feature = \"fault-injection\")]", "{file}:{line}");
    }
    let build = std::fs::read_to_string(Path::new(ROOT).join("scripts/build-worker.sh")).unwrap();
    assert!(!build.contains("fault-injection"), "the production build never enables it");
}

#[test]
fn every_test_the_docs_name_exists() {
    // A name of four or more words in backticks in the docs (a test, a metric,
    // a function) must be in the code: an invariant "held by" a test that was
    // renamed or deleted is held by nothing.
    let mut code = String::new();
    for dir in [CORE, SHELL, "tests", "crates/edgecheck-core/tests", "fuzz/fuzz_targets", "build.rs"] {
        let path = Path::new(ROOT).join(dir);
        if path.is_file() {
            code += &std::fs::read_to_string(path).unwrap();
        } else {
            code += &sources(dir).into_iter().map(|(_, text)| text).collect::<String>();
        }
    }
    let word = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_';
    let mut missing = Vec::new();
    for doc in ["ARCHITECTURE.md", "README.md", "SECURITY.md", "docs/fault-matrix.md"] {
        let text = std::fs::read_to_string(Path::new(ROOT).join(doc)).unwrap();
        for (i, quoted) in text.split('`').enumerate() {
            let is_name = i % 2 == 1
                && quoted.split('_').count() >= 4
                && quoted.starts_with(|c: char| c.is_ascii_lowercase())
                && quoted.chars().all(word);
            let found = code.match_indices(quoted).any(|(at, _)| {
                let before = code[..at].chars().next_back().is_none_or(|c| !word(c));
                let after = code[at + quoted.len()..].chars().next().is_none_or(|c| !word(c));
                before && after
            });
            if is_name && !found {
                missing.push(format!("{doc}: `{quoted}`"));
            }
        }
    }
    assert!(missing.is_empty(), "named in the docs, absent from the code: {missing:?}");
}

/// Every error code a public answer can carry is in `docs/schema/error.schema.json`:
/// each `Reply::error(<status>, "<code>", …)` of the core, but for the codes
/// of the calls between the worker's own objects, which no client sees.
#[test]
fn every_error_code_is_in_the_error_schema() {
    const INTERNAL: [&str; 3] = ["bad_prober_call", "bad_report", "report_dropped"];
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(Path::new(ROOT).join("docs/schema/error.schema.json")).unwrap())
            .unwrap();
    let documented: Vec<&str> =
        schema["properties"]["error"]["enum"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    let mut missing = Vec::new();
    for (file, text) in sources(CORE) {
        for (at, call) in text.match_indices("Reply::error(") {
            let rest = &text[at + call.len()..];
            // `<status>,` then the code as a string literal (a variable is the caller's literal).
            let Some(after_status) =
                rest.trim_start().trim_start_matches(|c: char| c.is_ascii_digit()).strip_prefix(',')
            else {
                continue;
            };
            let Some(code) = after_status.trim_start().strip_prefix('"').and_then(|s| s.split('"').next()) else {
                continue;
            };
            if !documented.contains(&code) && !INTERNAL.contains(&code) {
                missing.push(format!("{file}: {code}"));
            }
        }
    }
    assert!(missing.is_empty(), "error codes not in docs/schema/error.schema.json: {missing:?}");
}
