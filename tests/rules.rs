//! Each rule has one home. These tests read the sources of the core
//! (`crates/edgecheck-core/src`) and of the shell (`src`) and fail when a rule
//! is written a second time, or a decision the core owns appears in the shell.
//! A table of behaviour (`readiness_is_one_rule` and the like) cannot see a
//! second copy that agrees with the first today; these can.

use std::collections::{BTreeMap, BTreeSet};
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
    assert!(!derive.contains("Deserialize"), "only from_raw and from_fleet_document make a Config: {derive}");
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
    for dir in [CORE, SHELL, "tests", "crates/edgecheck-core/tests", "fuzz/fuzz_targets", "crates/edgecheck-cli"] {
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

/// Each vantage judges its own latency: the shell makes every probe with
/// `Probe::assessed` (the whole rule table, `slow` and the conditions
/// included, with the probe's own latency), never with `classify` alone,
/// which leaves the latency out, nor builds a `Probe` or a verdict itself.
#[test]
fn the_shell_judges_each_probe_with_its_latency() {
    for needle in ["classify(", "judge(", "assess(", "Probe::judged(", "Probe {", "Verdict {"] {
        assert_eq!(places(&[SHELL], needle), Vec::<String>::new(), "the shell judges a probe itself: {needle}");
    }
    let judged = places(&[SHELL], "Probe::assessed(");
    assert_eq!((judged.len(), files_of(&judged)), (2, vec!["src/probe.rs"]), "a probe sent and one skipped");
}

/// Every reason class (`classify::Reason::ALL`) is in every schema that
/// enumerates reasons (an `enum` holding `connect_error`), which enumerate
/// nothing else, and README.md names each in backticks: a new reason (`slow`,
/// say) is added to each document's schema and to the docs.
#[test]
fn every_reason_is_in_every_schema_that_lists_reasons_and_in_the_readme() {
    use edgecheck_core::classify::Reason;
    fn enums<'v>(value: &'v serde_json::Value, out: &mut Vec<&'v Vec<serde_json::Value>>) {
        match value {
            serde_json::Value::Object(map) => {
                for (key, v) in map {
                    match v.as_array() {
                        Some(items) if key == "enum" && items.iter().any(|i| i == "connect_error") => out.push(items),
                        _ => enums(v, out),
                    }
                }
            }
            serde_json::Value::Array(items) => items.iter().for_each(|v| enums(v, out)),
            _ => {}
        }
    }
    let reasons: BTreeSet<&str> = Reason::ALL.iter().map(|r| r.as_str()).collect();
    let mut listed = 0;
    let mut schemas: Vec<PathBuf> =
        std::fs::read_dir(Path::new(ROOT).join("docs/schema")).unwrap().map(|e| e.unwrap().path()).collect();
    schemas.sort();
    for path in schemas {
        let schema: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let mut found = Vec::new();
        enums(&schema, &mut found);
        for items in found {
            let names: BTreeSet<&str> = items.iter().filter_map(|i| i.as_str()).collect();
            assert_eq!(names, reasons, "the reasons of {}", path.display());
            listed += 1;
        }
    }
    assert!(listed >= 6, "the health, region, origin, full, health+json and history schemas list reasons: {listed}");
    let readme = std::fs::read_to_string(Path::new(ROOT).join("README.md")).unwrap();
    let missing: Vec<&&str> = reasons.iter().filter(|r| !readme.contains(&format!("`{r}`"))).collect();
    assert!(missing.is_empty(), "reasons README.md does not name: {missing:?}");
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

/// The core is a stack of layers: `crates/edgecheck-core/src/lib.rs` lists its
/// modules "in dependency order", lowest first, and each directory's
/// submodules in a second list (`- `config/`: `raw`, `check`, ...`). Every
/// `crate::<module>` path (`use crate::{a, b::c}` groups too) must name a
/// module listed before the file's own; inside a directory, every `super::`
/// path from a submodule must name a sibling listed before it, or an item of
/// the directory's `mod.rs` (one re-exported from a sibling counts as that
/// sibling). Comments, doc comments and string literals are left out; code
/// under `#[cfg(test)]` is held to the same order (the core has none today:
/// its tests live in `crates/edgecheck-core/tests`). An order admits no
/// circle, so this also fails on any import circle, and names it.
#[test]
fn the_core_imports_only_downward() {
    let lib = std::fs::read_to_string(Path::new(ROOT).join(CORE).join("lib.rs")).unwrap();
    let (order, sub_orders) = layer_orders(&lib);
    let files = sources(CORE);

    // The lists are complete and name only what exists.
    let mut problems = Vec::new();
    let declared: Vec<String> = code_of(&lib)
        .lines()
        .filter_map(|l| l.trim().strip_prefix("pub mod ").and_then(|m| m.strip_suffix(';')).map(str::to_string))
        .collect();
    for m in &declared {
        if !order.contains(m) {
            problems.push(format!("lib.rs: module `{m}` is missing from the dependency order in lib.rs's doc"));
        }
    }
    for m in &order {
        if !declared.contains(m) {
            problems.push(format!("lib.rs: the dependency order lists `{m}`, which is no module"));
        }
    }
    let mut subs_on_disk: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (file, _) in &files {
        if let (_, Some(dir), Some(sub)) = place_of(file) {
            subs_on_disk.entry(dir).or_default().push(sub);
        }
    }
    for (dir, subs) in &subs_on_disk {
        let listed = sub_orders.get(dir).cloned().unwrap_or_default();
        for sub in subs.iter().filter(|s| !listed.contains(s)) {
            problems.push(format!("lib.rs: `{dir}/{sub}.rs` is missing from the order of `{dir}/` in lib.rs's doc"));
        }
        for sub in listed.iter().filter(|s| !subs.contains(s)) {
            problems.push(format!("lib.rs: the order of `{dir}/` lists `{sub}`, which is no file"));
        }
    }
    for dir in sub_orders.keys().filter(|d| !subs_on_disk.contains_key(*d)) {
        problems.push(format!("lib.rs: an order for `{dir}/`, which has no submodules"));
    }

    // What each directory's mod.rs re-exports from its submodules, by name.
    let mut reexports: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for (dir, subs) in &subs_on_disk {
        let parent = &files.iter().find(|(f, _)| f.ends_with(&format!("/{dir}/mod.rs"))).unwrap().1;
        let map = reexports.entry(dir.clone()).or_default();
        for (sub, names) in pub_uses(&code_of(parent), subs) {
            let names = if names == ["*"] {
                let text = &files.iter().find(|(f, _)| f.ends_with(&format!("/{dir}/{sub}.rs"))).unwrap().1;
                items_of(&code_of(text))
            } else {
                names
            };
            for name in names {
                map.insert(name, sub.clone());
            }
        }
    }

    // Every edge, then those that do not go down.
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut upward = Vec::new();
    for (file, text) in files.iter().filter(|(f, _)| !f.ends_with("/src/lib.rs")) {
        let (top, dir, sub) = place_of(file);
        let code = code_of(text);
        for (line, root, (first, seconds)) in paths_in(&code) {
            let site = format!("{file}:{line}");
            // The top-level module the path reaches, and the names it takes in it.
            let (to_top, items) = match (root.as_str(), &sub) {
                ("super", Some(_)) if first == "super" => match seconds.first() {
                    Some(top) => (top.clone(), Vec::new()),
                    None => continue,
                },
                ("super", Some(_)) => (top.clone(), vec![first.clone()]),
                _ => (first.clone(), seconds.clone()),
            };
            if to_top != top {
                let (Some(from), Some(to)) =
                    (order.iter().position(|m| *m == top), order.iter().position(|m| *m == to_top))
                else {
                    problems.push(format!("{site}: `{to_top}` is not a module of the dependency order"));
                    continue;
                };
                edges.entry(top.clone()).or_default().insert(to_top.clone());
                if to >= from {
                    upward.push((site, top.clone(), to_top.clone(), order.clone()));
                }
                continue;
            }
            // Inside a directory: a sibling, or an item of mod.rs (which may be a sibling's).
            let (Some(dir), Some(sub)) = (&dir, &sub) else { continue };
            // A directory without an order is reported above.
            let Some(subs) = sub_orders.get(dir) else { continue };
            for item in items {
                if item == "*" {
                    problems.push(format!(
                        "{site}: `use super::*` in `{dir}/{sub}.rs` hides which siblings it uses; name the items"
                    ));
                    continue;
                }
                let sibling =
                    if subs.contains(&item) { Some(item.clone()) } else { reexports[dir].get(&item).cloned() };
                let Some(sibling) = sibling.filter(|s| s != sub && subs.contains(s)) else { continue };
                let (from, to) =
                    (subs.iter().position(|s| s == sub).unwrap(), subs.iter().position(|s| *s == sibling).unwrap());
                let (a, b) = (format!("{dir}/{sub}"), format!("{dir}/{sibling}"));
                edges.entry(a.clone()).or_default().insert(b.clone());
                if to >= from {
                    let listed = subs.iter().map(|s| format!("{dir}/{s}")).collect();
                    upward.push((format!("{site} (`{item}`)"), a, b, listed));
                }
            }
        }
    }
    for (site, from, to, listed) in upward {
        // Name the circle the edge closes, if the code already goes back.
        let circle = path_between(&edges, &to, &from).map_or_else(
            || "no circle yet, but the order forbids it".to_string(),
            |path| format!("it closes the import circle {from} -> {}", path.join(" -> ")),
        );
        problems.push(format!(
            "{site}: `{from}` imports `{to}`, which is not below it in the dependency order ({}); {circle}. Move what it needs below `{from}`, or reorder the list in lib.rs if the layering really changed",
            listed.join(" < ")
        ));
    }
    assert!(problems.is_empty(), "the core must import only downward:\n{}", problems.join("\n"));
}

/// The dependency order of lib.rs's doc (the list after "in dependency
/// order") and each directory's order of submodules (`- `dir/`: `a`, `b`;`).
fn layer_orders(lib: &str) -> (Vec<String>, BTreeMap<String, Vec<String>>) {
    let doc: Vec<&str> = lib.lines().filter_map(|l| l.strip_prefix("//!")).map(str::trim).collect();
    let ticked = |line: &str| -> Vec<String> { line.split('`').skip(1).step_by(2).map(str::to_string).collect() };
    let start =
        doc.iter().position(|l| l.contains("in dependency order")).expect("lib.rs says \"in dependency order\"");
    let mut order = Vec::new();
    let mut in_list = false;
    for line in &doc[start..] {
        match line.strip_prefix("- [`") {
            Some(_) => {
                in_list = true;
                order.push(ticked(line)[0].clone());
            }
            None if in_list && line.is_empty() => break,
            None => {}
        }
    }
    let mut subs = BTreeMap::new();
    for line in &doc {
        let names = ticked(line);
        if let (true, Some(dir)) = (line.starts_with("- `"), names.first().and_then(|d| d.strip_suffix('/'))) {
            subs.insert(dir.to_string(), names[1..].to_vec());
        }
    }
    assert!(order.len() > 1, "no dependency order in lib.rs's doc");
    (order, subs)
}

/// Where a core file sits: its top-level module, and for a submodule file
/// (`http/route.rs`) its directory and name; `mod.rs` is the directory itself.
fn place_of(file: &str) -> (String, Option<String>, Option<String>) {
    let rel = file.strip_prefix(CORE).unwrap().trim_start_matches('/').trim_end_matches(".rs");
    match rel.split('/').collect::<Vec<_>>()[..] {
        [top] => (top.to_string(), None, None),
        [dir, "mod"] => (dir.to_string(), Some(dir.to_string()), None),
        [dir, sub] => (dir.to_string(), Some(dir.to_string()), Some(sub.to_string())),
        _ => panic!("{file}: the core's modules are at most one directory deep"),
    }
}

/// `text` with comments (doc comments too) and string and char literals
/// blanked out, lines kept.
fn code_of(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let blank = |c: char| if c == '\n' { '\n' } else { ' ' };
    let mut i = 0;
    while i < chars.len() {
        let next = chars.get(i + 1).copied();
        if chars[i] == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                out.push(' ');
                i += 1;
            }
        } else if chars[i] == '/' && next == Some('*') {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    out.push_str("  ");
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    out.push_str("  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    out.push(blank(chars[i]));
                    i += 1;
                }
            }
        } else if chars[i] == '"' {
            out.push(' ');
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                let escaped = chars[i] == '\\';
                out.push(blank(chars[i]));
                i += 1;
                if escaped && i < chars.len() {
                    out.push(blank(chars[i]));
                    i += 1;
                }
            }
            out.push(' ');
            i += 1;
        } else if chars[i] == '\'' && (next == Some('\\') || chars.get(i + 2) == Some(&'\'')) {
            // A char literal ('"', '\'', '\u{7f}'), not a lifetime.
            let end =
                if next == Some('\\') { (i + 3..chars.len()).find(|&j| chars[j] == '\'').unwrap() } else { i + 2 };
            (i..=end).for_each(|_| out.push(' '));
            i = end + 1;
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

/// A path in the code: (line, root, (its first segment, the segments after it)).
type Reached = (usize, String, (String, Vec<String>));

/// Every `crate::` and `super::` path in `code`: (line, root, (its first
/// segment, the segments after it)); a `{a, b::{c, d}}` group gives one path
/// per member (`a`, and `b` with `[c, d]`).
fn paths_in(code: &str) -> Vec<Reached> {
    fn ident(c: char) -> bool {
        c.is_ascii_alphanumeric() || c == '_'
    }
    // The members of the group or the path at `rest`: (first segment, next segments).
    fn members(rest: &str) -> Vec<(String, Vec<String>)> {
        let rest = rest.trim_start();
        if let Some(group) = rest.strip_prefix('{') {
            let (mut depth, mut member, mut out) = (0, String::new(), Vec::new());
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        out.extend(members(&std::mem::take(&mut member)));
                        continue;
                    }
                    _ => {}
                }
                member.push(c);
            }
            out.extend(members(&member));
            return out;
        }
        if rest.starts_with('*') {
            return vec![("*".to_string(), Vec::new())];
        }
        let first: String = rest.chars().take_while(|&c| ident(c)).collect();
        if first.is_empty() || first == "self" {
            return Vec::new();
        }
        let after = rest[first.len()..].trim_start();
        let next = after.strip_prefix("::").map(members).unwrap_or_default();
        vec![(first, next.into_iter().map(|(f, _)| f).collect())]
    }
    let mut out = Vec::new();
    for root in ["crate", "super"] {
        let needle = format!("{root}::");
        for (at, _) in code.match_indices(&needle) {
            if code[..at].chars().next_back().is_some_and(|c| ident(c) || c == '$' || c == ':') {
                continue;
            }
            let line = code[..at].matches('\n').count() + 1;
            for member in members(&code[at + needle.len()..]) {
                out.push((line, root.to_string(), member));
            }
        }
    }
    out.sort();
    out
}

/// What a mod.rs re-exports (`pub use sub::{a, b}`, `pub use sub::*`) from
/// each of `subs`: (submodule, names); `["*"]` for a glob.
fn pub_uses(code: &str, subs: &[String]) -> Vec<(String, Vec<String>)> {
    let flat = code.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut out = Vec::new();
    for statement in flat.split(';') {
        let Some(path) = statement.trim().strip_prefix("pub use ") else { continue };
        let path = path.trim_start_matches("self::");
        let Some((sub, rest)) = path.split_once("::") else { continue };
        if !subs.iter().any(|s| s == sub) {
            continue;
        }
        let names = rest
            .trim_matches(|c| c == '{' || c == '}' || c == ' ')
            .split(',')
            .map(|n| n.rsplit(" as ").next().unwrap().trim().to_string())
            .filter(|n| !n.is_empty())
            .collect();
        out.push((sub.to_string(), names));
    }
    out
}

/// The names of the items a file makes visible to its parent (`pub`,
/// `pub(crate)`, `pub(super)`): what a glob re-export of it brings.
fn items_of(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in code.lines() {
        let line = line.trim_start();
        let Some(rest) = ["pub(super) ", "pub(crate) ", "pub "].iter().find_map(|p| line.strip_prefix(p)) else {
            continue;
        };
        let words: Vec<&str> =
            rest.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).filter(|w| !w.is_empty()).collect();
        let kinds = ["fn", "struct", "enum", "const", "static", "type", "trait", "mod"];
        if let Some(k) = words.iter().position(|w| kinds.contains(w)) {
            if let Some(name) = words.get(k + 1) {
                out.push(name.to_string());
            }
        }
    }
    out
}

/// A path of edges from `from` to `to`, as the nodes after `from`.
fn path_between(edges: &BTreeMap<String, BTreeSet<String>>, from: &str, to: &str) -> Option<Vec<String>> {
    let mut came: BTreeMap<&str, &str> = BTreeMap::new();
    let mut queue = std::collections::VecDeque::from([from]);
    while let Some(node) = queue.pop_front() {
        if node == to {
            let mut path = vec![to.to_string()];
            let mut at = to;
            while at != from {
                at = came[at];
                path.push(at.to_string());
            }
            path.reverse();
            return Some(path);
        }
        for next in edges.get(node).into_iter().flatten() {
            if next != from && !came.contains_key(next.as_str()) {
                came.insert(next, node);
                queue.push_back(next);
            }
        }
    }
    None
}

#[test]
fn the_code_map_names_every_file() {
    // Every source file of the worker, the crates and the tests is named in
    // ARCHITECTURE.md's code map, in backticks, by its path relative to where
    // it is named: a paragraph that opens with "`<dir>/`" sets the root of
    // the lines after it ("Elsewhere:" sets none), and a bullet that opens with "`<dir>/`" names
    // files inside that directory. A map that misses a file does not show
    // the design.
    let text = std::fs::read_to_string(Path::new(ROOT).join("ARCHITECTURE.md")).unwrap();
    let start = text.find("\n## Code map").expect("a code map");
    let end = text[start + 1..].find("\n## ").map_or(text.len(), |e| start + 1 + e);
    let opening = |line: &str| -> Option<String> {
        let rest = line.strip_prefix('`')?;
        let dir = &rest[..rest.find('`')?];
        dir.ends_with('/').then(|| dir.to_string())
    };
    let (mut root, mut sub, mut named) = (String::new(), String::new(), std::collections::BTreeSet::new());
    for line in text[start..end].lines() {
        if line.trim() == "Elsewhere:" {
            root.clear();
        } else if let Some(dir) = opening(line) {
            root = dir;
        }
        if let Some(item) = line.strip_prefix("- ") {
            sub = opening(item).unwrap_or_default();
        } else if !line.starts_with("  ") {
            sub.clear();
        }
        for token in line.split('`').skip(1).step_by(2) {
            for base in [format!("{root}{sub}"), root.clone(), sub.clone(), String::new()] {
                named.insert(format!("{base}{token}"));
            }
        }
    }
    let mut files: Vec<String> = ["src", "tests", "crates"]
        .into_iter()
        .flat_map(sources)
        .map(|(file, _)| file)
        .chain(["src/entry.mjs".to_string()])
        .collect();
    files.retain(|f| !named.contains(f));
    assert_eq!(files, Vec::<String>::new(), "not named in ARCHITECTURE.md's code map");
}
