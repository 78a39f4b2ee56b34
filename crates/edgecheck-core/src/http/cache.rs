//! The Cache API in front of the monitor: it holds the round's published
//! snapshot ([`crate::publish::Published`]), one document per deployment,
//! never a rendered answer; and where a public answer's snapshot came from.

use super::Reply;

/// Says where the snapshot a public answer was rendered from came from:
/// [`Source::Memory`], [`Source::Cache`] or [`Source::Monitor`].
pub const CACHE_STATUS_HEADER: &str = "x-edgecheck-cache";

/// Cache keys are URLs under this origin, which no request can name.
pub const CACHE_ORIGIN: &str = "https://edgecheck.cache.invalid";

/// Where the snapshot of an answer came from, as [`CACHE_STATUS_HEADER`] says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// `memory`: the isolate already held it; no I/O.
    Memory,
    /// `hit`: read from the Cache API by this request.
    Cache,
    /// `miss`: this request asked the monitor.
    Monitor,
}

impl Source {
    /// The header value.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Memory => "memory",
            Source::Cache => "hit",
            Source::Monitor => "miss",
        }
    }
}

/// The identity of a deployment in its cache keys: the worker's monitor (a
/// Durable Object id, unique to the worker and its namespace) and the digest of
/// the embedded fleet (so a changed fleet never serves the old one's snapshot).
pub fn deployment(monitor_id: &str, fleet_digest: &str) -> String {
    let clean = |s: &str| s.chars().filter(|c| c.is_ascii_alphanumeric()).take(64).collect::<String>();
    format!("{}.{}", clean(monitor_id), clean(fleet_digest))
}

/// The Cache API key of the deployment's published snapshot:
/// `<CACHE_ORIGIN>/<deployment>/snapshot`. `caches.default` is one cache per
/// zone; another deployment, or this one with another fleet, never shares it.
pub fn snapshot_key(deployment: &str) -> String {
    format!("{CACHE_ORIGIN}/{deployment}/snapshot")
}

/// The Cache API's copy of a published snapshot (`json`), kept `ttl_s`
/// seconds ([`crate::publish::cache_ttl_s`]).
pub fn snapshot_copy(json: String, ttl_s: u64) -> Reply {
    let mut copy = Reply::with_body(200, "application/json", Some(json));
    copy.set("cache-control", format!("public, max-age={ttl_s}"));
    copy
}

/// An answer as served: [`CACHE_STATUS_HEADER`] says where its snapshot came
/// from; no body for HEAD.
pub fn served(mut answer: Reply, source: Source, head: bool) -> Reply {
    answer.set(CACHE_STATUS_HEADER, source.as_str().into());
    answer.for_head(head)
}
