//! The `config` fuzz target: libFuzzer's input to [`common::config::run`]
//! (`common/config.rs`); `tests/fuzz_corpora.rs` replays `fuzz/corpus/config/`
//! through the same function.

#![no_main]

mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| common::config::run(data));
