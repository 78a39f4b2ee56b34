//! The admin token: `Authorization: Bearer`, compared in constant time.

use super::Reply;

/// The wrangler secret holding the admin token for `POST /refresh`.
pub const ADMIN_TOKEN_SECRET: &str = "EDGECHECK_ADMIN_TOKEN";

/// Checks `Authorization: Bearer <token>` against the admin token, in constant
/// time, for the admin routes (`POST /refresh`, `/health?view=full`). Without a
/// configured token they are closed (403). A missing, empty or wrong token gets
/// the same 401 with `WWW-Authenticate: Bearer`, which never says which it was.
pub fn authorize(authorization: Option<&str>, token: Option<&str>) -> Result<(), Reply> {
    use subtle::ConstantTimeEq;
    let Some(token) = token.filter(|t| !t.is_empty()) else {
        return Err(Reply::error(
            403,
            "forbidden",
            format!("this route is closed: set the {ADMIN_TOKEN_SECRET} secret"),
        ));
    };
    // RFC 9110: the scheme is case-insensitive, followed by one or more spaces.
    let given = authorization
        .and_then(|h| h.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map_or("", |(_, token)| token.trim_start_matches(' '));
    if bool::from(given.as_bytes().ct_eq(token.as_bytes())) {
        Ok(())
    } else {
        let mut reply = Reply::error(401, "unauthorized", "send Authorization: Bearer <admin token>".into());
        reply.set("www-authenticate", "Bearer".into());
        Err(reply)
    }
}
