//! A TCP check (`kind = "tcp"`): what it connects to, what it sends and the
//! reply it expects, and the checks of those keys. The shell opens the
//! connection with the runtime's `connect()` (Cloudflare's TCP sockets API);
//! [`crate::classify`] judges what came back.

use serde::{Deserialize, Serialize};

use super::check::Errors;
use super::raw::RawOrigin;

/// The most bytes `send` and `expect_reply` may hold, each.
pub const MAX_TCP_BYTES: usize = 512;

/// The one port the platform never connects to: SMTP's 25 (Cloudflare's TCP
/// sockets API refuses it, as most clouds do, against spam).
pub const REFUSED_PORT: u16 = 25;

/// A TCP check's rule: connect to `host`:`port` (with a TLS handshake when
/// `tls`), write `send` if any, and read until the reply starts with
/// `expect_reply` if any. Up when all of that happens within the origin's
/// `timeout_ms`; the latency is the time to connect (and to finish the
/// handshake), or to the expected reply when there is one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TcpCheck {
    /// A DNS name or an IP address; an IPv6 address without its brackets.
    pub host: String,
    /// 1 to 65535, never [`REFUSED_PORT`].
    pub port: u16,
    /// Bytes written once connected (`"PING\r\n"`), at most [`MAX_TCP_BYTES`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub send: Option<String>,
    /// The first bytes the peer must answer (`"+PONG"`, `"SSH-2.0-"`), at most
    /// [`MAX_TCP_BYTES`]; `None`: connecting is enough.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expect_reply: Option<String>,
    /// Whether a TLS handshake is part of the check (an expired, untrusted or
    /// wrongly named certificate fails it with reason `tls_error`); only with
    /// an `expect_reply`, whose first bytes complete the handshake.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub tls: bool,
}

impl TcpCheck {
    /// The check as a URL, for the admin token's full view only: `tcp://host:port`
    /// or `tls://host:port` (brackets around an IPv6 address).
    pub fn address(&self) -> String {
        let scheme = if self.tls { "tls" } else { "tcp" };
        if self.host.contains(':') {
            format!("{scheme}://[{}]:{}", self.host, self.port)
        } else {
            format!("{scheme}://{}:{}", self.host, self.port)
        }
    }
}

/// Keys only a TCP check has, with whether `o` sets each.
pub(super) fn tcp_keys(o: &RawOrigin) -> [(&'static str, bool); 4] {
    [
        ("target", o.target.is_some()),
        ("send", o.send.is_some()),
        ("expect_reply", o.expect_reply.is_some()),
        ("tls", o.tls.is_some()),
    ]
}

/// A TCP check's own keys, each problem naming its field under `path`.
pub(super) fn tcp_check(path: &str, o: &RawOrigin, errs: &mut Errors) -> TcpCheck {
    let field = |key: &str| format!("{path}.{key}");
    let (host, port) = match o.target.as_deref() {
        Some(target) => target_of(&field("target"), target, errs),
        None => {
            errs.push(field("target"), "missing: a TCP check needs a \"host:port\" to connect to");
            (String::new(), 0)
        }
    };
    let bytes = |key: &str, value: Option<&String>, errs: &mut Errors| {
        let value = value?;
        if value.is_empty() || value.len() > MAX_TCP_BYTES {
            errs.push(field(key), format!("{} bytes; write 1 to {MAX_TCP_BYTES}", value.len()));
        }
        Some(value.clone())
    };
    let tls = o.tls.unwrap_or(false);
    if tls && o.expect_reply.is_none() {
        errs.push(
            field("tls"),
            "a TLS check needs expect_reply: the handshake completes with the first bytes of the reply (set send too when the client speaks first)",
        );
    }
    TcpCheck {
        host,
        port,
        send: bytes("send", o.send.as_ref(), errs),
        expect_reply: bytes("expect_reply", o.expect_reply.as_ref(), errs),
        tls,
    }
}

/// `host:port`, `[v6]:port`: the host (without brackets) and the port.
fn target_of(field: &str, raw: &str, errs: &mut Errors) -> (String, u16) {
    let mut refuse = |why: String| {
        errs.push(field, why);
        (raw.to_string(), 0)
    };
    if raw.contains("://") || raw.contains('/') {
        return refuse(format!("\"{raw}\" is not a \"host:port\": write no scheme and no path"));
    }
    let (host, port) = if let Some(rest) = raw.strip_prefix('[') {
        match rest.split_once("]:") {
            Some((v6, port)) if v6.parse::<std::net::Ipv6Addr>().is_ok() => (v6, port),
            _ => return refuse(format!("\"{raw}\" is not \"[IPv6 address]:port\"")),
        }
    } else {
        match raw.rsplit_once(':') {
            None => return refuse(format!("\"{raw}\" has no port: write \"host:port\", as \"db.internal:5432\"")),
            Some((host, _)) if host.contains(':') => {
                return refuse(format!("\"{raw}\": write an IPv6 address in brackets, as \"[2001:db8::1]:6379\""))
            }
            Some(split) => split,
        }
    };
    let host_ok = !host.is_empty()
        && host.len() <= 253
        && host.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | ':'));
    if !host_ok {
        return refuse(format!("\"{host}\" is not a host name or an IP address"));
    }
    match port.parse::<u16>() {
        Ok(REFUSED_PORT) => refuse(format!(
            "port {REFUSED_PORT} (SMTP) is refused by the platform's TCP sockets; check the relay on 587 or 465"
        )),
        Ok(port) if port > 0 => (host.to_ascii_lowercase(), port),
        _ => refuse(format!("\"{port}\" is not a port: write 1 to 65535")),
    }
}
