//! The `doh` fuzz target: libFuzzer's input to [`common::doh::run`]
//! (`common/doh.rs`); `tests/fuzz_corpora.rs` replays `fuzz/corpus/doh/`
//! through the same function.

#![no_main]

mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| common::doh::run(data));
