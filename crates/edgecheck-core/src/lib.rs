//! The pure core of edgecheck, a health aggregator for fleets of origins that
//! runs at the edge as a Cloudflare Worker. It does no I/O, reads no clock and
//! knows no `worker` type: times, probe outcomes and storage come in from the
//! worker shell (the `edgecheck` crate), and decisions go out as data.
//!
//! The modules, in dependency order, lowest first: a module uses only the
//! modules listed before it, never one at its own place or after it, so the
//! core is a stack of layers with no import circle (`tests/rules.rs`,
//! `the_core_imports_only_downward`, reads this list and checks every
//! `crate::` and `super::` path against it):
//!
//! - [`text`]: what a request asked for, cut to be named in an error;
//! - [`time`]: ms since the Unix epoch: minutes, hours, days, buckets and
//!   RFC 3339;
//! - [`dns`]: DNS checks over DNS over HTTPS (RFC 8484): the query, the
//!   answer's wire format (RFC 1035) read without panicking, and its
//!   judgement;
//! - [`config`]: the validated fleet ([`config::Config`]), the raw shape of
//!   `edgecheck.toml`, its validation, and the maintenance windows it declares
//!   ([`config::window`]);
//! - [`assertion`]: an origin's conditions judged on one answer, within the
//!   bytes read;
//! - [`classify`]: one probe's outcome to `up` / `degraded` / `down` and a reason;
//! - [`aggregate`]: verdicts to per-region health and the global view; the
//!   readiness rule;
//! - [`detail`]: what the public view hides, for the admin token's full view;
//! - [`drain`]: draining a region or an origin, and a drain request's body;
//! - [`heartbeat`]: heartbeat checks, judged from the pings they send;
//! - [`vantage`]: the vantage quorum, several probers' reports merged into one
//!   verdict per origin;
//! - [`maintenance`]: which windows are open and what they cover, their
//!   history, and the admin API's requests;
//! - [`monitor`]: hysteresis, fail-static and history, the state machine of rounds;
//! - [`view`]: the view one answer shows, `unknown` included, computed once;
//! - [`uptime`]: uptime windows and rollup buckets;
//! - [`slo`]: error budgets: each round's slice of every objective, its
//!   counts in buckets, burn rates, the budget left, and the burn-rate alerts;
//! - [`latency`]: latency histograms and percentiles per window;
//! - [`schedule`]: when the alarm fires, when a request needs a round, what is
//!   past retention;
//! - [`write`](mod@write): one write of a round, the rows storage keeps;
//! - [`notify`]: what each notification channel is told after a round, the
//!   requests that deliver it, and its retries;
//! - [`store`]: the storage port, its in-memory implementation, and what a round
//!   writes (its notices included) and an answer reads;
//! - [`render`]: every public document's wire shape, mapped from the view;
//! - [`http`]: routes, the monitor call, and every answer's status, headers
//!   and body;
//! - [`publish`]: the round's published snapshot, the public answers rendered
//!   from it where they are served, and when an isolate asks for a newer one.
//!
//! Inside a directory the submodules are ordered the same way, lowest first
//! (each uses only those before it); the directory's own `mod.rs` may use
//! all of them, and they may use its own items (not, through it, a sibling's):
//!
//! - `config/`: `raw`, `check`, `window`, `condition`, `tcp`, `maintenance`, `notify`, `slo`, `settings`, `origin`, `validate`;
//! - `http/`: `path`, `auth`, `cache`, `call`, `ping`, `admin`, `route`, `answer`;
//! - `notify/`: `outbox`, `burn`, `plan`, `deliver`;
//! - `store/`: `memory`, `read`, `repair`, `round`, `operator`;
//! - `render/`: `health_json`, `verbose`, `badge`, `detail`, `slo`, `metrics`, `page`
//!   (only metrics and page use another: slo, for the objectives shown).

pub mod aggregate;
pub mod assertion;
pub mod classify;
pub mod config;
pub mod detail;
pub mod dns;
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
pub mod slo;
pub mod store;
pub mod text;
pub mod time;
pub mod uptime;
pub mod vantage;
pub mod view;
pub mod write;
