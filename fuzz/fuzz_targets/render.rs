//! The `render` fuzz target: libFuzzer's input to [`common::render::run`]
//! (`common/render.rs`); `tests/fuzz_corpora.rs` replays `fuzz/corpus/render/`
//! through the same function.

#![no_main]

mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| common::render::run(data));
