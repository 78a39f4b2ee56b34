//! The pure core of edgecheck, a health aggregator for fleets of origins that
//! runs at the edge as a Cloudflare Worker. It does no I/O, reads no clock and
//! knows no `worker` type: times, probe outcomes and storage come in from the
//! worker shell (the `edgecheck` crate), and decisions go out as data.
//!
//! The modules, in dependency order:
//!
//! - [`config`]: the validated fleet ([`config::Config`]), the raw shape of
//!   `edgecheck.toml` and its validation;
//! - [`classify`]: one probe's outcome to `up` / `degraded` / `down` and a reason;
//! - [`aggregate`]: verdicts to per-region health and the global view; the
//!   readiness rule;
//! - [`heartbeat`]: heartbeat checks, judged from the pings they send;
//! - [`vantage`]: the vantage quorum, several probers' reports merged into one
//!   verdict per origin;
//! - [`monitor`]: hysteresis, fail-static and history, the state machine of rounds;
//! - [`notify`]: what each notification channel is told after a round, the
//!   requests that deliver it, and its retries;
//! - [`uptime`]: uptime windows and rollup buckets;
//! - [`schedule`]: when the alarm fires, when a request needs a round, what is
//!   past retention;
//! - [`store`]: the storage port, its in-memory implementation, and what a round
//!   writes and an answer reads;
//! - [`view`]: the view one answer shows, `unknown` included, computed once;
//! - [`detail`]: what the public view hides, for the admin token's full view;
//! - [`render`]: every public document's wire shape, mapped from the view;
//! - [`http`]: routes, the monitor call, and every answer's status, headers
//!   and body;
//! - [`publish`]: the round's published snapshot, the public answers rendered
//!   from it where they are served, and when an isolate asks for a newer one.

pub mod aggregate;
pub mod classify;
pub mod config;
pub mod detail;
pub mod drain;
pub mod heartbeat;
pub mod http;
pub mod latency;
pub mod maintenance;
pub mod monitor;
pub mod notify;
pub mod publish;
pub mod render;
pub mod schedule;
pub mod store;
pub mod uptime;
pub mod vantage;
pub mod view;
