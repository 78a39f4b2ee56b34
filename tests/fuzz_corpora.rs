//! The fuzz corpora as ordinary tests: every file of `fuzz/corpus/<target>/`
//! replayed through the target's own body (`fuzz/fuzz_targets/common/<target>.rs`,
//! the `run` that libFuzzer calls in `scripts/fuzz.sh`), so that a seed, or a
//! crash kept as one, fails `cargo test` on every run, with no nightly and no
//! libFuzzer.

use std::panic::{self, AssertUnwindSafe};
use std::path::Path;

#[path = "../fuzz/fuzz_targets/common/mod.rs"]
mod common;

/// Runs `run` on every file of `fuzz/corpus/<target>/`, in name order, and
/// fails naming each file that panicked (its panic message is printed above).
fn replay(target: &str, run: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus").join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("a corpus entry").path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{} holds no corpus file", dir.display());

    let mut crashed = Vec::new();
    for path in &files {
        let data = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        eprintln!("{target}: replaying {}", path.display());
        if panic::catch_unwind(AssertUnwindSafe(|| run(&data))).is_err() {
            crashed.push(path.display().to_string());
        }
    }
    assert!(crashed.is_empty(), "{target}: {} of {} corpus files crash: {crashed:#?}", crashed.len(), files.len());
    println!("{target}: {} corpus files replayed without a crash", files.len());
}

#[test]
fn the_config_corpus_replays_without_a_crash() {
    replay("config", common::config::run);
}

#[test]
fn the_classify_corpus_replays_without_a_crash() {
    replay("classify", common::classify::run);
}

#[test]
fn the_conditions_corpus_replays_without_a_crash() {
    replay("conditions", common::conditions::run);
}

#[test]
fn the_doh_corpus_replays_without_a_crash() {
    replay("doh", common::doh::run);
}

#[test]
fn the_route_corpus_replays_without_a_crash() {
    replay("route", common::route::run);
}

#[test]
fn the_render_corpus_replays_without_a_crash() {
    replay("render", common::render::run);
}
