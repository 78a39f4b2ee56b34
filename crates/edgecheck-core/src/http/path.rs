//! The answers every route shares, whatever its path: the CORS preflight
//! (204), the 404 message for an unknown name and the 405 with `Allow`, and a
//! scope's name in a path. Below the routes (`ping`, `admin`, `route`).

use super::Reply;
use crate::config::{Config, Named};
use crate::text::printable;

/// The name of a region or an origin, as it appears in a path.
pub(super) fn named_str(config: &Config, named: Named) -> &str {
    match named {
        Named::Region(r) => &config.regions()[r].name,
        Named::Origin(i) => &config.origins()[i].name,
    }
}

/// The 204 answer to `OPTIONS` (a CORS preflight) on a route allowing `allow`.
pub(super) fn preflight(allow: &str) -> Reply {
    let mut reply = Reply::no_content();
    reply.set("allow", allow.into());
    reply.set("access-control-allow-methods", allow.into());
    reply.set("access-control-allow-headers", "authorization, accept".into());
    reply.set("access-control-max-age", "86400".into());
    reply
}

/// The 404 message for a name that is neither a region nor an origin.
pub(super) fn no_such_name(name: &str) -> String {
    format!("no region or origin is called \"{}\"", printable(name))
}

/// The JSON 405 for `method` on a route that takes `wanted`, with `Allow: allow`.
pub(super) fn method_not_allowed(method: &str, wanted: &str, allow: &str) -> Reply {
    let mut reply = Reply::error(405, "method_not_allowed", format!("{method} is not allowed here; use {wanted}"));
    reply.set("allow", allow.into());
    reply
}
