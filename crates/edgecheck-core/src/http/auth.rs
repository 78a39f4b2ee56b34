//! The admin token: `Authorization: Bearer`, compared in constant time.

use super::Reply;

/// The wrangler secret holding the admin token for `POST /refresh`.
pub const ADMIN_TOKEN_SECRET: &str = "EDGECHECK_ADMIN_TOKEN";

/// Checks `Authorization: Bearer <token>` against the admin token, in constant
/// time, for the admin routes (`POST /refresh`, `/health?view=full`). Without a
/// configured token they are closed (403). A missing, empty or wrong token gets
/// the same 401 with `WWW-Authenticate: Bearer`, which never says which it was.
pub fn authorize(authorization: Option<&str>, token: Option<&str>) -> Result<(), Reply> {
    check_token(bearer(authorization), token, ADMIN_TOKEN_SECRET, "send Authorization: Bearer <admin token>")
}

/// The token of `Authorization: Bearer <token>`; `""` without one. RFC 9110:
/// the scheme is case-insensitive, followed by one or more spaces.
pub(super) fn bearer(authorization: Option<&str>) -> &str {
    authorization
        .and_then(|h| h.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map_or("", |(_, token)| token.trim_start_matches(' '))
}

/// Compares `given` with `token`, the value of the secret `secret`, in
/// constant time: 403 while the secret is unset or empty, the one 401 (with
/// `WWW-Authenticate: Bearer` and `hint`) for a missing, empty or wrong token.
pub(super) fn check_token(given: &str, token: Option<&str>, secret: &str, hint: &str) -> Result<(), Reply> {
    let Some(token) = token.filter(|t| !t.is_empty()) else {
        return Err(Reply::error(403, "forbidden", format!("this route is closed: set the {secret} secret")));
    };
    matches(given, token, hint)
}

/// Compares `given` with `token` (set, not empty) in constant time: the one
/// 401 of [`unauthorized`] when they differ.
pub(super) fn matches(given: &str, token: &str, hint: &str) -> Result<(), Reply> {
    use subtle::ConstantTimeEq;
    if bool::from(given.as_bytes().ct_eq(token.as_bytes())) {
        Ok(())
    } else {
        Err(unauthorized(hint))
    }
}

/// The one 401 of a token: `WWW-Authenticate: Bearer` and `hint`, whatever
/// was wrong (no token, an empty one, a wrong one, or, for a ping, a check
/// whose secret is not set).
pub(super) fn unauthorized(hint: &str) -> Reply {
    let mut reply = Reply::error(401, "unauthorized", hint.to_string());
    reply.set("www-authenticate", "Bearer".into());
    reply
}
