//! edgecheck: a health aggregator for fleets of origins, running at the edge as a
//! Cloudflare Worker.
//!
//! The crate is a pure core and a thin shell (see `ARCHITECTURE.md`):
//!
//! - [`config`]: `edgecheck.toml`, its raw shape and its validation;
//! - [`classify`]: one probe's outcome to `up` / `degraded` / `down` and a reason;
//! - [`aggregate`]: verdicts to per-region health and the global view;
//! - [`monitor`]: hysteresis, fail-static and history: the state machine of rounds;
//! - [`render`]: the public JSON documents;
//! - [`http`]: routes and every answer's status code, headers and body;
//! - `shell` (wasm32, feature `shell`, on by default): the worker entry points,
//!   the `Monitor` Durable Object, fan-out, fetch and timers.
//!
//! The core does no I/O, reads no clock and never touches `worker` types; it is
//! tested on the host with `cargo test`.

pub mod aggregate;
pub mod classify;
pub mod config;
pub mod http;
pub mod monitor;
pub mod render;

#[cfg(all(target_arch = "wasm32", feature = "shell"))]
mod shell;

/// The fleet embedded at build time by `build.rs` (from `edgecheck.toml`, or the
/// file named by `EDGECHECK_CONFIG`): a `Config` that `Config::from_raw` built, as JSON.
pub const EMBEDDED_CONFIG_JSON: &str = include_str!(concat!(env!("OUT_DIR"), "/edgecheck.config.json"));

/// Loads the embedded fleet, once per isolate. `build.rs` validated it and stops
/// the build on any error, so the worker carries no TOML parser, no URL parser
/// and no validation code.
pub fn embedded_config() -> config::Config {
    serde_json::from_str(EMBEDDED_CONFIG_JSON).expect("build.rs embeds a validated Config as JSON")
}
