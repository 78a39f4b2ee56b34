//! The `route` fuzz target: libFuzzer's input to [`common::route::run`]
//! (`common/route.rs`); `tests/fuzz_corpora.rs` replays `fuzz/corpus/route/`
//! through the same function.

#![no_main]

mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| common::route::run(data));
