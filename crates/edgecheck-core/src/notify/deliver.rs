//! The requests that deliver a [`Notice`], one shape per channel kind, each
//! within its service's documented limits; the shell sends them and hands the
//! answers to [`super::settle`].
//!
//! - `webhook`: `{type, timestamp, data}` signed as the Standard Webhooks
//!   specification says (`webhook-id`, `webhook-timestamp` in seconds,
//!   `webhook-signature` = `v1,` + base64 HMAC-SHA256 of `id.timestamp.body`
//!   keyed by the `whsec_` secret's base64-decoded bytes);
//! - `slack`: an incoming-webhook message, `text` plus `blocks` (a section's
//!   text at most 3,000 characters, `text` at most 40,000);
//! - `discord`: an execute-webhook message, `content` (at most 2,000
//!   characters) plus one embed (description at most 4,096, 6,000 in all),
//!   mentions disabled;
//! - `pagerduty`: an Events API v2 `trigger` or `resolve` at `/v2/enqueue`,
//!   `dedup_key` = `edgecheck-<channel>` (summary at most 1,024 characters);
//! - a burn-rate alert's notice ([`Notice::burn`]): the webhook's `type` is
//!   `edgecheck.burn_rate`; Slack and Discord get its headline
//!   ([`burn_headline`]); PagerDuty a `trigger` (`critical` for a page,
//!   `warning` for a ticket) or `resolve` under the pair's own dedup key
//!   ([`super::burn_dedup_key`]), apart from the channel's incident;
//! - `cloudflare_pool`: `GET` the pool, then `PATCH` only `enabled`, or the
//!   whole `origins` array with one origin's `enabled` changed and every
//!   other field as it was read ([`pool_patch`]).

use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

use super::{Action, BurnNotice, Notice, Outcome, Told};
use crate::classify::Reason;
use crate::config::{Channel, ChannelKind};
use crate::slo::Transition;
use crate::time::rfc3339;

/// One HTTP request to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutRequest {
    pub method: &'static str,
    /// Holds secrets (a Slack webhook URL is one): never logged or shown.
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<String>,
}

/// Slack: the most characters in a section block's text.
pub const SLACK_SECTION_CHARS: usize = 3_000;
/// Discord: the most characters in `content`.
pub const DISCORD_CONTENT_CHARS: usize = 2_000;
/// Discord: the most characters in an embed's description.
pub const DISCORD_DESCRIPTION_CHARS: usize = 4_096;
/// PagerDuty: the most characters in `payload.summary`.
pub const PAGERDUTY_SUMMARY_CHARS: usize = 1_024;

/// The first (for most kinds, the only) request delivering `notice`.
/// `secret` reads a wrangler secret by name; `now_ms` is the send time (the
/// webhook's timestamp). A secret not set is [`Outcome::SecretMissing`].
pub fn request(
    channel: &Channel,
    notice: &Notice,
    secret: &dyn Fn(&str) -> Option<String>,
    now_ms: u64,
) -> Result<OutRequest, Outcome> {
    let read = |name: &str| secret(name).ok_or_else(|| Outcome::SecretMissing(name.to_string()));
    let json_post = |url: String, body: Value| OutRequest {
        method: "POST",
        url,
        headers: vec![("content-type".into(), "application/json".into())],
        body: Some(body.to_string()),
    };
    match &channel.kind {
        ChannelKind::Webhook { url_secret, signing_secret } => {
            let url = read(url_secret)?;
            let key = signing_key(&read(signing_secret)?)?;
            let body = webhook_body(notice).to_string();
            let timestamp = (now_ms / 1000).to_string();
            let signature = sign(&key, &notice.id, &timestamp, &body);
            Ok(OutRequest {
                method: "POST",
                url,
                headers: vec![
                    ("content-type".into(), "application/json".into()),
                    ("webhook-id".into(), notice.id.clone()),
                    ("webhook-timestamp".into(), timestamp),
                    ("webhook-signature".into(), format!("v1,{signature}")),
                ],
                body: Some(body),
            })
        }
        ChannelKind::Slack { url_secret } => Ok(json_post(read(url_secret)?, slack_body(notice))),
        ChannelKind::Discord { url_secret } => Ok(json_post(read(url_secret)?, discord_body(notice))),
        ChannelKind::PagerDuty { routing_key_secret, base_url } => {
            let key = read(routing_key_secret)?;
            Ok(json_post(format!("{base_url}/v2/enqueue"), pagerduty_body(channel, notice, &key)))
        }
        ChannelKind::CloudflarePool { api_token_secret, .. } => {
            let token = read(api_token_secret)?;
            Ok(OutRequest {
                method: "GET",
                url: pool_url(channel),
                headers: vec![("authorization".into(), format!("Bearer {token}"))],
                body: None,
            })
        }
    }
}

fn pool_url(channel: &Channel) -> String {
    match &channel.kind {
        ChannelKind::CloudflarePool { base_url, account_id, pool_id, .. } => {
            format!("{base_url}/accounts/{account_id}/load_balancers/pools/{pool_id}")
        }
        _ => String::new(),
    }
}

/// A Cloudflare pool's `PATCH`, from the `GET` answer (`status`, `body`: the
/// API's `{success, errors, result}` envelope): `enabled` on the pool, or the
/// pool's `origins` array as read with one origin's `enabled` set (the API
/// replaces the array whole, so every other origin and field is sent as it
/// was). [`Outcome::AlreadyDone`] when the pool is already as asked; the
/// `GET`'s own failure as its outcome.
pub fn pool_patch(
    channel: &Channel,
    notice: &Notice,
    secret: &dyn Fn(&str) -> Option<String>,
    status: u16,
    body: &str,
) -> Result<OutRequest, Outcome> {
    let (ChannelKind::CloudflarePool { api_token_secret, pool_origin, .. }, Action::Pool { enabled }) =
        (&channel.kind, &notice.action)
    else {
        return Err(Outcome::Impossible("not a Cloudflare pool notice".into()));
    };
    if !(200..300).contains(&status) {
        return Err(Outcome::Answered { status, retry_after: None });
    }
    let token = secret(api_token_secret).ok_or_else(|| Outcome::SecretMissing(api_token_secret.clone()))?;
    let envelope: Value = serde_json::from_str(body)
        .map_err(|_| Outcome::Failed("the Cloudflare API answered something that is not JSON".into()))?;
    if envelope["success"] != Value::Bool(true) {
        return Err(Outcome::Failed(format!("the Cloudflare API answered success = false: {}", envelope["errors"])));
    }
    let pool = &envelope["result"];
    let patch = match pool_origin {
        None => {
            if pool["enabled"].as_bool() == Some(*enabled) {
                return Err(Outcome::AlreadyDone);
            }
            json!({ "enabled": enabled })
        }
        Some(name) => {
            let mut origins = pool["origins"].as_array().cloned().unwrap_or_default();
            let Some(origin) = origins.iter_mut().find(|o| o["name"].as_str() == Some(name)) else {
                return Err(Outcome::Impossible(format!("the pool has no origin named {name:?}")));
            };
            if origin["enabled"].as_bool() == Some(*enabled) {
                return Err(Outcome::AlreadyDone);
            }
            origin["enabled"] = Value::Bool(*enabled);
            json!({ "origins": origins })
        }
    };
    Ok(OutRequest {
        method: "PATCH",
        url: pool_url(channel),
        headers: vec![
            ("authorization".into(), format!("Bearer {token}")),
            ("content-type".into(), "application/json".into()),
        ],
        body: Some(patch.to_string()),
    })
}

/// A Standard Webhooks secret's key: the base64 after `whsec_` (raw base64
/// is accepted too).
fn signing_key(secret: &str) -> Result<Vec<u8>, Outcome> {
    let encoded = secret.strip_prefix("whsec_").unwrap_or(secret);
    base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .map_err(|_| Outcome::Impossible("the signing secret is not whsec_ followed by base64".into()))
}

/// The Standard Webhooks signature of `id.timestamp.body` under `key`, base64.
pub fn sign(key: &[u8], id: &str, timestamp: &str, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// The webhook's JSON: `{type: "edgecheck.changes", timestamp, data: {id,
/// channel, round, status, counts, changes, more}}`; `status` is the global
/// view after the round. A folded notice ([`super::fold`]) adds `data.folded:
/// {notices, transitions, since}` and each change its `transitions`.
pub fn webhook_body(notice: &Notice) -> Value {
    if let Some(burn) = &notice.burn {
        return burn_webhook_body(notice, burn);
    }
    let mut body = json!({
        "type": "edgecheck.changes",
        "timestamp": rfc3339(notice.round_ms),
        "data": {
            "id": notice.id,
            "channel": notice.channel,
            "round": rfc3339(notice.round_ms),
            "status": notice.overall,
            "counts": notice.counts,
            "changes": notice.changes,
            "more": notice.more,
        }
    });
    if let Some(folded) = &notice.folded {
        body["data"]["folded"] = json!({
            "notices": folded.notices,
            "transitions": folded.transitions,
            "since": rfc3339(folded.since_round_ms),
        });
    }
    body
}

/// A burn-rate alert's webhook: `{type: "edgecheck.burn_rate", timestamp,
/// data: {id, channel, round, state, slo, scope, name, objective, severity,
/// long_window, short_window, burn_rate, long_rate, short_rate,
/// budget_remaining: {ratio, minutes}}}`; `state` is `firing` or
/// `resolved`, the rates are multiples of the budget's even spend.
fn burn_webhook_body(notice: &Notice, burn: &BurnNotice) -> Value {
    json!({
        "type": "edgecheck.burn_rate",
        "timestamp": rfc3339(notice.round_ms),
        "data": {
            "id": notice.id,
            "channel": notice.channel,
            "round": rfc3339(notice.round_ms),
            "state": burn.transition,
            "slo": burn.slo,
            "scope": burn.scope,
            "name": burn.name,
            "objective": burn.objective,
            "severity": burn.severity,
            "long_window": burn.long_window,
            "short_window": burn.short_window,
            "burn_rate": burn.burn_rate,
            "long_rate": burn.long_rate,
            "short_rate": burn.short_rate,
            "budget_remaining": {"ratio": burn.budget_ratio, "minutes": burn.budget_minutes},
        }
    })
}

/// A burn-rate alert in one line: `edgecheck: SLO api-availability (origin
/// api) page firing: burn rate 16.7 over 1h, 200 over 5m (over 14.4);
/// 62.5% of the budget left`, or `... page resolved: 3.20 over 5m (at or
/// under 14.4) ...`.
pub fn burn_headline(burn: &BurnNotice) -> String {
    let scope = match burn.scope.as_str() {
        "global" => "the fleet".to_string(),
        scope => format!("{scope} {}", burn.name),
    };
    let rates = match burn.transition {
        Transition::Firing => format!(
            "firing: burn rate {} over {}, {} over {} (over {})",
            rate(burn.long_rate),
            burn.long_window,
            rate(burn.short_rate),
            burn.short_window,
            burn.burn_rate
        ),
        Transition::Resolved => format!(
            "resolved: burn rate {} over {} (at or under {})",
            rate(burn.short_rate),
            burn.short_window,
            burn.burn_rate
        ),
    };
    format!(
        "edgecheck: SLO {} ({scope}) {} {rates}; {:.1}% of the budget left",
        burn.slo,
        burn.severity.as_str(),
        burn.budget_ratio * 100.0
    )
}

/// A burn rate with three significant digits at most: `16.7`, `200`, `0.412`.
fn rate(r: f64) -> String {
    if r >= 100.0 {
        format!("{r:.0}")
    } else if r >= 10.0 {
        format!("{r:.1}")
    } else {
        format!("{r:.2}")
    }
}

/// The one-line summary: `edgecheck: 2 down, 1 up` (a pool: what was set;
/// a burn-rate alert: [`burn_headline`]).
pub fn headline(notice: &Notice) -> String {
    if let Some(burn) = &notice.burn {
        return burn_headline(burn);
    }
    if let Action::Pool { enabled } = notice.action {
        let followed = notice.changes.first().map(|c| c.name.as_str()).unwrap_or("its scope");
        return format!(
            "edgecheck: {} the pool ({followed} is {})",
            if enabled { "enabled" } else { "disabled" },
            if enabled { "ready" } else { "not ready" }
        );
    }
    let order = ["down", "drained", "degraded", "up", "isolated", "missing", "reporting"];
    let parts: Vec<String> =
        order.iter().filter_map(|s| notice.counts.get(*s).filter(|n| **n > 0).map(|n| format!("{n} {s}"))).collect();
    let head =
        if parts.is_empty() { "edgecheck: no change".into() } else { format!("edgecheck: {}", parts.join(", ")) };
    match &notice.folded {
        Some(f) => format!("{head} ({} notices folded, since {})", f.notices, rfc3339(f.since_round_ms)),
        None => head,
    }
}

/// One change as a line: `origin api-1: up → down (timeout)`, with the slow
/// threshold (`(slow, over 800 ms)`) or the failed condition
/// (`(assertion_failed: db)`); in a folded notice, with how many changes it
/// went through: `origin api-1: up → up (3 changes)`.
pub fn line(told: &Told) -> String {
    let who = if told.scope == "global" { "global".to_string() } else { format!("{} {}", told.scope, told.name) };
    let from = told.from.as_deref().unwrap_or("new");
    let mut notes: Vec<String> = told
        .reason
        .iter()
        .map(|r| match (r, told.degraded_after_ms, told.condition) {
            (Reason::Slow, Some(ms), _) => format!("slow, over {ms} ms"),
            (Reason::AssertionFailed, _, Some(c)) => format!("assertion_failed: {}", c.as_str()),
            _ => r.as_str().to_string(),
        })
        .collect();
    if let Some(n) = told.transitions.filter(|n| *n > 1) {
        notes.push(format!("{n} changes"));
    }
    match notes.is_empty() {
        true => format!("{who}: {from} → {}", told.to),
        false => format!("{who}: {from} → {} ({})", told.to, notes.join("; ")),
    }
}

/// The notice's lines joined by `\n`, as many as fit in `budget` characters
/// with a last `… and N more` line for the rest.
pub fn lines_within(notice: &Notice, budget: usize) -> String {
    let total = notice.changes.len() + notice.more;
    let mut out = String::new();
    let mut used = 0;
    for (i, told) in notice.changes.iter().enumerate() {
        let line = line(told);
        let rest = total - i - 1;
        // Room for this line and, if more follow, the "and N more" line.
        let tail = if rest > 0 { 24 } else { 0 };
        if used + line.chars().count() + 1 + tail > budget {
            let more = format!("… and {} more", total - i);
            out.push_str(&more);
            return out;
        }
        used += line.chars().count() + 1;
        out.push_str(&line);
        out.push('\n');
    }
    if notice.more > 0 {
        out.push_str(&format!("… and {} more", notice.more));
    }
    out.trim_end().to_string()
}

fn truncate_chars(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
        cut.push('…');
        cut
    }
}

/// Slack mrkdwn escapes `&`, `<` and `>`.
fn slack_escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// The Slack message: `text` (the notification's fallback) and three blocks.
pub fn slack_body(notice: &Notice) -> Value {
    let head = slack_escape(&headline(notice));
    let lines = slack_escape(&lines_within(notice, SLACK_SECTION_CHARS - 16));
    let mut blocks = vec![json!({"type": "section", "text": {"type": "mrkdwn", "text": format!("*{head}*")}})];
    if !lines.is_empty() {
        blocks.push(json!({"type": "section", "text": {"type": "mrkdwn", "text": lines}}));
    }
    blocks.push(json!({"type": "context", "elements": [{"type": "mrkdwn", "text": format!("round {} · {}", rfc3339(notice.round_ms), notice.id)}]}));
    json!({ "text": truncate_chars(&format!("{head}\n{lines}"), SLACK_SECTION_CHARS), "blocks": blocks })
}

/// The Discord message: `content` (the headline) and one embed with the lines.
pub fn discord_body(notice: &Notice) -> Value {
    let count = |s: &str| notice.counts.get(s).copied().unwrap_or(0);
    let burning = notice.burn.as_ref().filter(|b| b.transition == Transition::Firing);
    let color = if burning.is_some_and(|b| b.severity == crate::config::Severity::Page) || count("down") > 0 {
        0xd7_2c_2c
    } else if burning.is_some()
        || count("drained") > 0
        || count("degraded") > 0
        || count("isolated") > 0
        || count("missing") > 0
    {
        0xe0_a1_00
    } else {
        0x2e_a0_43
    };
    json!({
        "content": truncate_chars(&headline(notice), DISCORD_CONTENT_CHARS),
        "allowed_mentions": {"parse": []},
        "embeds": [{
            "title": truncate_chars(&headline(notice), 256),
            "description": lines_within(notice, DISCORD_DESCRIPTION_CHARS - 16),
            "color": color,
            "timestamp": rfc3339(notice.round_ms),
            "footer": {"text": notice.id},
        }]
    })
}

/// PagerDuty's dedup key for a channel: one incident per channel.
pub fn dedup_key(channel: &Channel) -> String {
    format!("edgecheck-{}", channel.name)
}

/// The Events API v2 event: a `trigger` (summary, source `edgecheck`,
/// severity `critical` for down and `warning` for degraded, the counts and
/// first changes as custom details) or a `resolve`.
pub fn pagerduty_body(channel: &Channel, notice: &Notice, routing_key: &str) -> Value {
    if let Some(burn) = &notice.burn {
        return match &notice.action {
            Action::Trigger { severity } => json!({
                "routing_key": routing_key,
                "event_action": "trigger",
                "dedup_key": burn.dedup_key,
                "payload": {
                    "summary": truncate_chars(&burn_headline(burn), PAGERDUTY_SUMMARY_CHARS),
                    "source": "edgecheck",
                    "severity": severity,
                    "timestamp": rfc3339(notice.round_ms),
                    "component": burn.slo,
                    "class": "burn_rate",
                    "custom_details": burn_webhook_body(notice, burn)["data"],
                }
            }),
            _ => json!({"routing_key": routing_key, "event_action": "resolve", "dedup_key": burn.dedup_key}),
        };
    }
    match &notice.action {
        Action::Trigger { severity } => {
            let summary = truncate_chars(
                &format!("{}: {}", headline(notice), lines_within(notice, 900).replace('\n', "; ")),
                PAGERDUTY_SUMMARY_CHARS,
            );
            let changes: Vec<String> = notice.changes.iter().take(50).map(line).collect();
            json!({
                "routing_key": routing_key,
                "event_action": "trigger",
                "dedup_key": dedup_key(channel),
                "payload": {
                    "summary": summary,
                    "source": "edgecheck",
                    "severity": severity,
                    "timestamp": rfc3339(notice.round_ms),
                    "component": channel.name,
                    "custom_details": {"counts": notice.counts, "changes": changes, "more": notice.more + notice.changes.len().saturating_sub(50), "notice": notice.id, "folded": notice.folded.as_ref().map(|f| f.notices)},
                }
            })
        }
        _ => json!({"routing_key": routing_key, "event_action": "resolve", "dedup_key": dedup_key(channel)}),
    }
}
