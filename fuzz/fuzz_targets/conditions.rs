//! The `conditions` fuzz target: libFuzzer's input to
//! [`common::conditions::run`] (`common/conditions.rs`); `tests/fuzz_corpora.rs`
//! replays `fuzz/corpus/conditions/` through the same function.

#![no_main]

mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| common::conditions::run(data));
