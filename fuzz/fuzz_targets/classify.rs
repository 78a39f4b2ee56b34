//! The `classify` fuzz target: libFuzzer's input to [`common::classify::run`]
//! (`common/classify.rs`); `tests/fuzz_corpora.rs` replays `fuzz/corpus/classify/`
//! through the same function.

#![no_main]

mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| common::classify::run(data));
