//! Notifications: what a round tells each channel, through the store as the
//! monitor commits it, and how deliveries are settled and shaped.

use std::collections::BTreeMap;

use edgecheck_core::config::Config;
use edgecheck_core::monitor::advance;
use edgecheck_core::notify::deliver::{self, pool_patch, request};
use edgecheck_core::notify::{self, Action, Notice, NotifyState, Outcome};
use edgecheck_core::store::{self, Memory, MemoryStore, Store, Write};
use serde_json::{json, Value};

use super::{config, round, valid};

use super::cases::fleet;

const HOOK: &str = r#"
[[notify]]
name = "hook"
kind = "webhook"
url_secret = "HOOK_URL"
signing_secret = "HOOK_SECRET"
global = true
origins = ["*"]
"#;

/// Runs rounds (`codes` per origin) through the store as the monitor does;
/// returns the memory and, per round, the notices it queued.
fn rounds(
    store: &MemoryStore,
    c: &Config,
    mut memory: Option<Memory>,
    rounds: &[(u64, &str)],
) -> (Memory, Vec<Vec<Notice>>) {
    let mut queued = Vec::new();
    for &(at, codes) in rounds {
        let before: Vec<u64> = pending_seqs(memory.as_ref());
        let next = advance(c, memory.as_ref().map(|m| &m.state), &round(at, codes), true);
        let (m, problems) = store::record(store, c, memory, next);
        assert!(problems.is_empty(), "{problems:?}");
        queued.push(
            m.notify
                .values()
                .flat_map(|cs| &cs.pending)
                .filter(|p| !before.contains(&p.seq))
                .map(|p| p.notice.clone())
                .collect(),
        );
        memory = Some(m);
    }
    (memory.expect("a round"), queued)
}

fn pending_seqs(memory: Option<&Memory>) -> Vec<u64> {
    memory.map(|m| m.notify.values().flat_map(|cs| cs.pending.iter().map(|p| p.seq)).collect()).unwrap_or_default()
}

fn secrets(name: &str) -> Option<String> {
    match name {
        "HOOK_URL" => Some("http://127.0.0.1:9/hook".into()),
        // Standard Webhooks' example secret.
        "HOOK_SECRET" => Some("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".into()),
        "PD_KEY" => Some("R0UTINGKEY".into()),
        "CF_TOKEN" => Some("cf-token".into()),
        _ => None,
    }
}

#[test]
fn bad_channels_stop_the_build_naming_the_field() {
    for (text, field, message) in super::cases::notify() {
        let errs = config(&text).expect_err(&text);
        assert!(
            errs.iter().any(|e| e.field == field && e.message.contains(message)),
            "{text}: expected {field}: …{message}…, got {errs:?}"
        );
    }
    let ok = valid(&fleet(2, HOOK));
    assert_eq!(ok.channels().len(), 1);
    assert!(ok.channels()[0].events.vantage && ok.channels()[0].covers.global);
}

#[test]
fn a_round_tells_each_channel_one_rolled_up_notice() {
    let c = valid(&fleet(200, HOOK));
    let store = MemoryStore::default();
    let up = "u".repeat(200);
    let down = "x".repeat(200);
    let (memory, queued) = rounds(&store, &c, None, &[(0, &up), (15_000, &down), (30_000, &down)]);
    assert!(queued[0].is_empty(), "a first up is a baseline, not news: {:?}", queued[0]);
    assert_eq!(queued[1].len(), 1, "200 origins down in one round: one notice");
    let notice = &queued[1][0];
    assert_eq!(notice.counts.get("down"), Some(&201), "200 origins and the global view");
    assert_eq!(notice.changes.len(), 201);
    assert_eq!(notice.changes[0].scope, "global");
    assert_eq!(notice.changes[1].name, "o000");
    assert_eq!(notice.changes[1].from.as_deref(), Some("up"));
    assert_eq!(notice.id, "hook-15000-1");
    assert!(queued[2].is_empty(), "nothing changed: nothing told");
    // The queued notice is in storage, written in the round's commit.
    assert_eq!(store.outbox().len(), 1);
    assert_eq!(memory.notify["hook"].pending.len(), 1);
}

#[test]
fn a_restart_a_redeploy_and_a_new_fleet_tell_nothing_unchanged() {
    let c = valid(&fleet(3, HOOK));
    let store = MemoryStore::default();
    let (memory, queued) = rounds(&store, &c, None, &[(0, "uuu"), (15_000, "xuu")]);
    assert_eq!(queued[1].len(), 1);
    // A restart: the state read back, with its queue and what was told.
    let (restored, problems) = store::restore(&store, &c, 20_000);
    assert!(problems.is_empty(), "{problems:?}");
    let restored = restored.unwrap();
    assert_eq!(restored.notify, memory.notify, "what was told and the queue read back");
    let (_, queued) = rounds(&store, &c, Some(restored), &[(30_000, "xuu")]);
    assert!(queued[0].is_empty(), "a restart re-tells nothing: {:?}", queued[0]);
    // A new fleet (one origin more): the unchanged origins tell nothing; the new one's up is a baseline.
    let bigger = valid(&fleet(4, HOOK));
    let (restored, _) = store::restore(&store, &bigger, 40_000);
    let (_, queued) = rounds(&store, &bigger, restored, &[(45_000, "xuuu")]);
    assert!(queued[0].is_empty(), "{:?}", queued[0]);
}

#[test]
fn a_failed_commit_tells_nothing_and_the_next_round_tells_it() {
    let c = valid(&fleet(2, HOOK));
    let store = MemoryStore::default();
    let (memory, _) = rounds(&store, &c, None, &[(0, "uu")]);
    store.fail_writes.set(true);
    let next = advance(&c, Some(&memory.state), &round(15_000, "xu"), true);
    let (memory, problems) = store::record(&store, &c, Some(memory), next);
    assert_eq!(problems.len(), 1);
    assert!(memory.notify["hook"].pending.is_empty(), "not committed, not queued");
    assert!(store.outbox().is_empty());
    store.fail_writes.set(false);
    let (_, queued) = rounds(&store, &c, Some(memory), &[(30_000, "xu")]);
    assert_eq!(queued[0].len(), 1, "told by the next round");
    assert_eq!(queued[0][0].changes[1].to, "down");
}

#[test]
fn answers_are_settled_retried_dropped_or_waited_for() {
    let c = valid(&fleet(2, HOOK));
    let channel = &c.channels()[0];
    let store = MemoryStore::default();
    let (mut memory, _) = rounds(&store, &c, None, &[(0, "uu"), (15_000, "xu"), (30_000, "uu")]);
    let cs = memory.notify.get_mut("hook").unwrap();
    assert_eq!(cs.pending.len(), 2, "down, then up again");
    let first = cs.pending[0].seq;
    let at = 30_000;
    let due = |state: &NotifyState, now| notify::due(state, now);
    assert_eq!(due(&memory.notify, at), vec![("hook".to_string(), first)], "only the oldest of a channel is attempted");
    let cs = memory.notify.get_mut("hook").unwrap();

    let answered = |status| Outcome::Answered { status, retry_after: None };
    let s = notify::settle(channel, cs, first, &answered(503), at);
    assert!(s.log.unwrap().contains("answered 503"));
    assert_eq!(cs.pending[0].attempts, 1);
    let wait = cs.pending[0].due_ms - at;
    assert!((500..=1000).contains(&wait), "first retry within the first backoff: {wait} ms");

    let s = notify::settle(channel, cs, first, &Outcome::Answered { status: 429, retry_after: Some("7".into()) }, at);
    assert!(s.writes.iter().any(|w| matches!(w, Write::Enqueue { .. })));
    assert_eq!(cs.pending[0].due_ms, at + 7_000, "Retry-After is honoured");

    let s = notify::settle(channel, cs, first, &Outcome::SecretMissing("HOOK_URL".into()), at);
    assert_eq!(cs.pending[0].attempts, 2, "a missing secret is not an attempt");
    assert!(s.log.unwrap().contains("the secret HOOK_URL is not set"));

    let s = notify::settle(channel, cs, first, &answered(204), at);
    assert!(s.log.is_none());
    assert_eq!(cs.pending.len(), 1);
    assert_eq!((cs.stats.delivered, cs.stats.last_success_ms), (1, Some(at)));
    assert!(s.writes.contains(&Write::Dequeue { channel: "hook".into(), seq: first }));

    let second = cs.pending[0].seq;
    let s = notify::settle(channel, cs, second, &answered(404), at);
    assert!(s.log.unwrap().contains("dropped"), "a 404 never succeeds");
    assert_eq!((cs.stats.dropped, cs.pending.len()), (1, 0));
    assert_eq!(cs.stats.last_error.as_deref(), Some("answered 404"));

    // Retried until the maximum age, then dropped.
    let (mut memory, _) = rounds(&store, &c, Some(memory), &[(45_000, "xu")]);
    let cs = memory.notify.get_mut("hook").unwrap();
    let seq = cs.pending[0].seq;
    let late = 45_000 + u64::from(channel.max_age_s) * 1000;
    let s = notify::settle(channel, cs, seq, &Outcome::TimedOut, late);
    assert!(s.log.unwrap().contains("dropped"));
    assert!(cs.pending.is_empty());
}

#[test]
fn retry_waits_double_capped_with_jitter() {
    let cap = 300_000;
    let waits: Vec<u64> = (0..30).map(|a| notify::retry_wait_ms("hook-1-1", a, cap)).collect();
    for (a, w) in waits.iter().enumerate() {
        let ceiling = (1000u64 << a.min(20)).min(cap);
        assert!((ceiling / 2..=ceiling).contains(w), "attempt {a}: {w} ms outside [{}, {ceiling}]", ceiling / 2);
        assert_eq!(notify::retry_floor_ms(a as u32, cap), ceiling / 2);
    }
    assert!(notify::retry_wait_ms("a", 30, 5_000) <= 5_000, "a channel's retry_max_s caps the backoff");
    assert_ne!(notify::retry_wait_ms("a", 5, cap), notify::retry_wait_ms("b", 5, cap), "jitter differs across notices");
}

#[test]
fn retry_after_is_read_as_seconds_or_an_http_date() {
    // 2015-10-21T07:28:00Z is 1,445,412,480 s after the epoch.
    let at = 1_445_412_480_000;
    assert_eq!(notify::retry_after_ms(" 12 ", at), Some(12_000));
    assert_eq!(notify::retry_after_ms("Wed, 21 Oct 2015 07:28:30 GMT", at), Some(30_000), "IMF-fixdate");
    assert_eq!(notify::retry_after_ms("Wednesday, 21-Oct-15 07:29:00 GMT", at), Some(60_000), "RFC 850");
    assert_eq!(notify::retry_after_ms("Wed Oct 21 07:28:05 2015", at), Some(5_000), "asctime");
    assert_eq!(notify::retry_after_ms("Wed, 21 Oct 2015 07:00:00 GMT", at), Some(0), "a date past is now");
    assert_eq!(notify::retry_after_ms("soon", at), None);
    assert_eq!(notify::retry_after_ms("-5", at), None);
}

#[test]
fn a_retry_after_holds_the_notice_until_then_floored_and_within_its_max_age() {
    let c = valid(&fleet(2, HOOK));
    let channel = &c.channels()[0];
    let store = MemoryStore::default();
    let (mut memory, _) = rounds(&store, &c, None, &[(0, "uu"), (15_000, "xu"), (30_000, "uu")]);
    let cs = memory.notify.get_mut("hook").unwrap();
    let (first, second) = (cs.pending[0].seq, cs.pending[1].seq);
    let limited = |v: &str| Outcome::Answered { status: 429, retry_after: Some(v.into()) };
    let at = 31_000;
    let s = notify::settle(channel, cs, first, &limited("60"), at);
    assert!(s.log.unwrap().contains("as its Retry-After asks"));
    assert_eq!(cs.pending[0].due_ms, at + 60_000, "held for its Retry-After");
    assert_eq!(notify::due(&memory.notify, at + 59_999), Vec::new(), "nothing of the channel jumps the queue");
    assert_eq!(notify::due(&memory.notify, at + 60_000), vec![("hook".to_string(), first)]);
    let cs = memory.notify.get_mut("hook").unwrap();
    let s = notify::settle(channel, cs, first, &limited("0"), at + 60_000);
    assert!(s.log.is_some());
    let wait = cs.pending[0].due_ms - (at + 60_000);
    assert_eq!(wait, notify::retry_floor_ms(1, 300_000), "Retry-After: 0 waits the backoff's floor");
    let dated = Outcome::Answered { status: 503, retry_after: Some("Thu, 01 Jan 1970 00:02:00 GMT".into()) };
    notify::settle(channel, cs, first, &dated, 100_000);
    assert_eq!(cs.pending[0].due_ms, 120_000, "a 503's HTTP-date is honoured");
    // Longer than the notice has left: dropped at once, logged and counted.
    let s = notify::settle(channel, cs, first, &limited("999999"), 120_000);
    let log = s.log.unwrap();
    assert!(log.contains("dropped") && log.contains("Retry-After 999999 s, past its max_age_s of 86400"), "{log}");
    assert_eq!((cs.stats.dropped, cs.pending[0].seq), (1, second), "the next notice is the head now");
    // A redirect is never followed: dropped, and said so.
    let s = notify::settle(channel, cs, second, &Outcome::Answered { status: 302, retry_after: None }, 121_000);
    assert!(s.log.unwrap().contains("answered 302, a redirect (never followed)"));
    assert_eq!(cs.stats.dropped, 2);
}

#[test]
fn a_refusing_channel_folds_its_queue_within_its_bounds_and_names_what_it_folded() {
    use notify::{MAX_PENDING_BYTES, MAX_PENDING_NOTICES};
    let c = valid(&fleet(3, HOOK));
    let store = MemoryStore::default();
    // 100 rounds of churn: o000 flaps every round, o001 goes down once, o002 stays up.
    let codes: Vec<(u64, &str)> = (0..100u64)
        .map(|i| {
            (
                i * 15_000,
                if i % 2 == 0 {
                    "uuu"
                } else if i < 50 {
                    "xuu"
                } else {
                    "xxu"
                },
            )
        })
        .collect();
    let mut memory: Option<Memory> = None;
    let mut sent: BTreeMap<String, String> = BTreeMap::new();
    let mut most = 0;
    for chunk in codes.chunks(1) {
        let (mut m, _) = rounds(&store, &c, memory, chunk);
        let cs = m.notify.get_mut("hook").unwrap();
        let bytes: usize = cs.pending.iter().map(|p| p.bytes).sum();
        assert!(cs.pending.len() <= MAX_PENDING_NOTICES, "{} notices queued", cs.pending.len());
        assert!(bytes <= MAX_PENDING_BYTES, "{bytes} bytes queued");
        most = most.max(cs.pending.len());
        // The receiver refuses the head each round: it has seen its body.
        let Some(head) = cs.pending.first().cloned() else {
            memory = Some(m);
            continue;
        };
        let body = deliver::webhook_body(&head.notice).to_string();
        assert!(
            sent.get(&head.notice.id).is_none_or(|b| b == &body),
            "the id {} was reused for another body",
            head.notice.id
        );
        sent.insert(head.notice.id.clone(), body);
        let refused = Outcome::Answered { status: 503, retry_after: None };
        let settled = notify::settle(&c.channels()[0], cs, head.seq, &refused, chunk[0].0);
        store.commit(&settled.writes).unwrap();
        memory = Some(m);
    }
    assert_eq!(most, MAX_PENDING_NOTICES, "the queue grows to its bound, not past it");
    let memory = memory.unwrap();
    // What is stored is what is held: a restart reads back the same queue.
    let (stored, ..) = store::restore(&store, &c, 1_500_000);
    let stored = stored.unwrap();
    assert_eq!(stored.notify["hook"].pending, memory.notify["hook"].pending);
    let pending = &memory.notify["hook"].pending;
    let folded: Vec<_> = pending.iter().filter(|p| p.notice.folded.is_some()).collect();
    assert_eq!(folded.len(), 1, "one folded notice, after the head");
    let f = &folded[0].notice;
    let summary = f.folded.as_ref().unwrap();
    assert!(summary.notices > 1 && summary.transitions >= summary.notices, "{summary:?}");
    let a = f.changes.iter().find(|t| t.name == "o000").expect("origin o000 is named");
    assert!(a.transitions.unwrap() >= 2, "a's flaps are counted: {a:?}");
    let body = deliver::webhook_body(f);
    assert_eq!(body["data"]["folded"]["notices"], json!(summary.notices));
    assert!(deliver::headline(f).contains("notices folded"), "{}", deliver::headline(f));
    // Delivered in order, the queue ends in the current state: the last
    // notice's global status and each scope's last `to`.
    let last = pending.last().unwrap();
    assert_eq!(last.notice.overall, memory.state.overall.map(|t| t.status.health().as_str().to_string()));
    let mut last: BTreeMap<&str, &str> = BTreeMap::new();
    for told in pending.iter().flat_map(|p| &p.notice.changes) {
        last.insert(&told.name, &told.to);
    }
    assert_eq!(last.get("o000"), Some(&"down"), "the last round left o000 down: {last:?}");
    assert_eq!(last.get("o001"), Some(&"down"), "and o001: {last:?}");
}

#[test]
fn the_alarm_wakes_for_a_due_notice() {
    use notify::alarm_in_ms;
    let c = valid(&fleet(2, HOOK));
    let store = MemoryStore::default();
    let (memory, _) = rounds(&store, &c, None, &[(0, "uu"), (15_000, "xu")]);
    assert_eq!(alarm_in_ms(9_000, &NotifyState::new(), 16_000), 9_000, "nothing due: the round's time");
    assert_eq!(alarm_in_ms(9_000, &memory.notify, 20_000), 1_000, "a notice due: soon, at least 1 s");
    // "{}" (a channel row with only its record) reads back as nothing told.
    let restored = notify::restore(&c, vec![("hook".into(), "{}".into(), "{}".into())], Vec::new());
    assert!(restored.2.is_empty(), "{:?}", restored.2);
}

#[test]
// The reference verifier checks the timestamp against the host's clock, so the
// send time is the host's now (a test, not the core).
#[allow(clippy::disallowed_methods, clippy::disallowed_types)]
fn a_webhook_is_signed_as_standard_webhooks_says() {
    let c = valid(&fleet(2, HOOK));
    let store = MemoryStore::default();
    let (_, queued) = rounds(&store, &c, None, &[(0, "uu"), (15_000, "xu")]);
    // The verifier checks the timestamp against its own clock.
    let now_ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64;
    let req = request(&c.channels()[0], &queued[1][0], &secrets, now_ms).unwrap();
    assert_eq!((req.method, req.url.as_str()), ("POST", "http://127.0.0.1:9/hook"));
    let mut headers = http::HeaderMap::new();
    for (name, value) in &req.headers {
        headers.insert(http::HeaderName::from_bytes(name.as_bytes()).unwrap(), value.parse().unwrap());
    }
    assert_eq!(headers["webhook-id"], "hook-15000-1");
    assert_eq!(headers["webhook-timestamp"], (now_ms / 1000).to_string().as_str());
    // Verified by the Standard Webhooks reference library, not by our code.
    let verifier = standardwebhooks::Webhook::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
    let body = req.body.unwrap();
    verifier.verify(body.as_bytes(), &headers).expect("the signature verifies");
    let doc: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(doc["type"], "edgecheck.changes");
    let changes = doc["data"]["changes"].as_array().unwrap();
    assert_eq!(
        changes.last().unwrap(),
        &json!({"scope": "origin", "name": "o000", "from": "up", "to": "down", "reason": "status_mismatch"})
    );
    // Tampered: refused.
    let tampered = body.replace("down", "up");
    assert!(verifier.verify(tampered.as_bytes(), &headers).is_err());
}

const PAGER: &str = r#"
[[notify]]
name = "pager"
kind = "pagerduty"
routing_key_secret = "PD_KEY"
base_url = "http://127.0.0.1:9"
regions = ["r0"]
"#;

#[test]
fn pagerduty_opens_one_incident_and_resolves_it() {
    let c = valid(&fleet(2, PAGER));
    let store = MemoryStore::default();
    // r0 holds o000; rounds: up, down, down, up.
    let (_, queued) = rounds(&store, &c, None, &[(0, "uu"), (15_000, "xu"), (30_000, "xu"), (45_000, "uu")]);
    let actions: Vec<Vec<Action>> = queued.iter().map(|n| n.iter().map(|n| n.action.clone()).collect()).collect();
    assert_eq!(
        actions,
        vec![vec![], vec![Action::Trigger { severity: "critical".into() }], vec![], vec![Action::Resolve]]
    );
    let channel = &c.channels()[0];
    let sent = request(channel, &queued[1][0], &secrets, 0).unwrap();
    assert_eq!((sent.method, sent.url.as_str()), ("POST", "http://127.0.0.1:9/v2/enqueue"), "base_url + /v2/enqueue");
    let trigger: Value = serde_json::from_str(&sent.body.unwrap()).unwrap();
    let resolve: Value =
        serde_json::from_str(&request(channel, &queued[3][0], &secrets, 0).unwrap().body.unwrap()).unwrap();
    assert_eq!(trigger["event_action"], "trigger");
    assert_eq!(trigger["payload"]["severity"], "critical");
    assert_eq!(trigger["payload"]["source"], "edgecheck");
    assert!(trigger["payload"]["summary"].as_str().unwrap().contains("region r0: up → down"));
    assert_eq!(resolve["event_action"], "resolve");
    assert_eq!(trigger["dedup_key"], resolve["dedup_key"], "one incident: the same dedup_key");
    assert_eq!(trigger["routing_key"], "R0UTINGKEY");
}

const POOL: &str = r#"
[[notify]]
name = "lb"
kind = "cloudflare_pool"
api_token_secret = "CF_TOKEN"
base_url = "http://127.0.0.1:9/client/v4"
account_id = "0123456789abcdef0123456789abcdef"
pool_id = "fedcba9876543210fedcba9876543210"
pool_origin = "east-1"
follows = "r0"
"#;

#[test]
fn a_cloudflare_pool_follows_readiness_and_holds_when_isolated() {
    let c = valid(&fleet(2, POOL));
    let store = MemoryStore::default();
    // `t` everywhere: a self-isolated round, which sets nothing.
    let (_, queued) =
        rounds(&store, &c, None, &[(0, "uu"), (15_000, "xu"), (30_000, "tt"), (45_000, "tt"), (60_000, "uu")]);
    let actions: Vec<Vec<Action>> = queued.iter().map(|n| n.iter().map(|n| n.action.clone()).collect()).collect();
    assert_eq!(
        actions,
        vec![vec![], vec![Action::Pool { enabled: false }], vec![], vec![], vec![Action::Pool { enabled: true }]]
    );
    let channel = &c.channels()[0];
    let notice = &queued[1][0];
    let get = request(channel, notice, &secrets, 0).unwrap();
    assert_eq!(get.method, "GET");
    assert_eq!(
        get.url,
        "http://127.0.0.1:9/client/v4/accounts/0123456789abcdef0123456789abcdef/load_balancers/pools/fedcba9876543210fedcba9876543210"
    );
    assert!(get.headers.contains(&("authorization".into(), "Bearer cf-token".into())));
    let pool = json!({"success": true, "errors": [], "messages": [], "result": {
    "id": "fedcba9876543210fedcba9876543210", "name": "east", "enabled": true, "minimum_origins": 1,
    "origins": [
        {"name": "east-1", "address": "192.0.2.1", "enabled": true, "weight": 0.5, "header": {"Host": ["a.example.com"]}},
        {"name": "east-2", "address": "192.0.2.2", "enabled": true, "weight": 1}
    ]}});
    let patch = pool_patch(channel, notice, &secrets, 200, &pool.to_string()).unwrap();
    assert_eq!(patch.method, "PATCH");
    let body: Value = serde_json::from_str(&patch.body.unwrap()).unwrap();
    assert_eq!(
        body,
        json!({"origins": [
            {"name": "east-1", "address": "192.0.2.1", "enabled": false, "weight": 0.5, "header": {"Host": ["a.example.com"]}},
            {"name": "east-2", "address": "192.0.2.2", "enabled": true, "weight": 1}
        ]}),
        "only east-1's enabled changes; every other field is sent as it was read"
    );
    // Already as asked: nothing to send; a 403 is the GET's own outcome.
    let disabled = pool.to_string().replacen("\"enabled\":true,\"header\"", "\"enabled\":false,\"header\"", 1);
    assert_eq!(pool_patch(channel, notice, &secrets, 200, &disabled), Err(Outcome::AlreadyDone));
    assert_eq!(
        pool_patch(channel, notice, &secrets, 403, "{}"),
        Err(Outcome::Answered { status: 403, retry_after: None })
    );
}

#[test]
fn chat_messages_stay_within_their_services_limits() {
    let channels = r#"
[[notify]]
name = "slack"
kind = "slack"
url_secret = "HOOK_URL"
origins = ["*"]
[[notify]]
name = "discord"
kind = "discord"
url_secret = "HOOK_URL"
origins = ["*"]
"#;
    let c = valid(&fleet(600, channels));
    let store = MemoryStore::default();
    let (_, queued) = rounds(&store, &c, None, &[(0, &"u".repeat(600)), (15_000, &"x".repeat(600))]);
    let by_channel: BTreeMap<&str, &Notice> = queued[1].iter().map(|n| (n.channel.as_str(), n)).collect();
    let slack = deliver::slack_body(by_channel["slack"]);
    assert!(slack["text"].as_str().unwrap().chars().count() <= 40_000);
    assert!(slack["blocks"].as_array().unwrap().len() <= 50);
    for block in slack["blocks"].as_array().unwrap() {
        if let Some(text) = block["text"]["text"].as_str() {
            assert!(text.chars().count() <= 3_000, "a section of {} characters", text.chars().count());
        }
    }
    assert!(slack["blocks"][1]["text"]["text"].as_str().unwrap().ends_with("more"), "the rest is counted");
    assert!(slack["blocks"][0]["text"]["text"].as_str().unwrap().contains("600 down"));
    let discord = deliver::discord_body(by_channel["discord"]);
    assert!(discord["content"].as_str().unwrap().chars().count() <= 2_000);
    let embed = &discord["embeds"][0];
    let description = embed["description"].as_str().unwrap().chars().count();
    assert!(description <= 4_096, "{description}");
    assert!(description + embed["title"].as_str().unwrap().chars().count() <= 6_000);
    assert_eq!(discord["allowed_mentions"], json!({"parse": []}));
}

#[test]
fn what_a_channel_told_fits_a_row_at_the_fleet_limit() {
    // 10,000 origins and 10,000 regions with 64-character names, all down at
    // once, told to a channel that covers everything.
    let long = |kind: &str, i: usize| format!("{kind}-{i:05}-{}", "x".repeat(64 - kind.len() - 7));
    let mut text = String::from("[settings]\nshard_size = 1000\nrise = 1\nfall = 1\n");
    for i in 0..10_000 {
        text += &format!("[regions.{}]\n", long("region", i));
    }
    for i in 0..10_000 {
        text += &format!(
            "[[origins]]\nname = \"{}\"\nregion = \"{}\"\nurl = \"https://o{i}.example.com/\"\n",
            long("origin", i),
            long("region", i)
        );
    }
    text += "[[notify]]\nname = \"everything\"\nkind = \"webhook\"\nurl_secret = \"U\"\nsigning_secret = \"S\"\n\
             global = true\nregions = [\"*\"]\norigins = [\"*\"]\n";
    let c = valid(&text);
    assert_eq!(long("origin", 1).len(), 64);
    let store = MemoryStore::default();
    let (memory, queued) = rounds(&store, &c, None, &[(0, &"u".repeat(10_000)), (15_000, &"x".repeat(10_000))]);
    assert_eq!(queued[1].len(), 1);
    assert_eq!(queued[1][0].changes.len(), notify::NOTICE_CHANGES, "the first 1,000 listed");
    assert_eq!(queued[1][0].more, 20_001 - notify::NOTICE_CHANGES, "the rest counted");
    assert_eq!(memory.notify["everything"].notified.statuses.len(), 20_001);
    let largest = store.largest_value.get();
    assert!(largest <= store::MAX_ROW_BYTES, "{largest} bytes");
    assert!(largest < 1_900_000, "{largest} bytes");
    let outbox = store.outbox();
    let notice = outbox.values().next().unwrap();
    assert!(notice.len() < 200_000, "a notice row of {} bytes", notice.len());
}

/// A channel on every origin and on region `r1`, and a maintenance window
/// over `r1` from 30 s to 90 s after the epoch.
const HELD: &str = r#"
[[notify]]
name = "ops"
kind = "webhook"
url_secret = "HOOK_URL"
signing_secret = "HOOK_SECRET"
regions = ["r1"]
origins = ["*"]
[[maintenance]]
id = "r1-work"
reason = "switch swap"
regions = ["r1"]
start = "1970-01-01T00:00:30Z"
end = "1970-01-01T00:01:30Z"
"#;

#[test]
fn a_window_holds_notices_and_its_end_tells_only_what_differs() {
    let c = valid(&fleet(2, HELD));
    // o001 is in r1, under the window; o000 is not. (rounds, the rounds that
    // queue a notice, each with its changes as (name, from, to).)
    type Change<'a> = (&'a str, Option<&'a str>, &'a str);
    type Told<'a> = &'a [(usize, &'a [Change<'a>])];
    const O001_DOWN: &[Change] = &[("r1", Some("up"), "down"), ("o001", Some("up"), "down")];
    const O001_UP: &[Change] = &[("r1", Some("down"), "up"), ("o001", Some("down"), "up")];
    let rows: &[(&[(u64, &str)], Told)] = &[
        // Down and back within the window: nothing, during or after it.
        (&[(0, "uu"), (30_000, "ux"), (45_000, "uu"), (60_000, "ux"), (75_000, "uu"), (90_000, "uu")], &[]),
        // Down within the window and still down past its end: told once, at the end.
        (
            &[(0, "uu"), (30_000, "ux"), (45_000, "uu"), (60_000, "ux"), (90_000, "ux"), (105_000, "ux")],
            &[(4, O001_DOWN)],
        ),
        // Already down (and told) before the window, still down after it: not told again.
        (
            &[(0, "uu"), (15_000, "ux"), (30_000, "ux"), (60_000, "uu"), (90_000, "ux"), (105_000, "ux")],
            &[(1, O001_DOWN)],
        ),
        // Down before, back during the window and up after it: the recovery is told at the end.
        (&[(0, "uu"), (15_000, "ux"), (30_000, "uu"), (90_000, "uu")], &[(1, O001_DOWN), (3, O001_UP)]),
        // The origin outside the window is told at once.
        (&[(0, "uu"), (45_000, "xu")], &[(1, &[("o000", Some("up"), "down")])]),
    ];
    for (sequence, expected) in rows {
        let (_, queued) = rounds(&MemoryStore::default(), &c, None, sequence);
        for (k, notices) in queued.iter().enumerate() {
            let Some((_, changes)) = expected.iter().find(|(at, _)| *at == k) else {
                assert!(notices.is_empty(), "{sequence:?}: round {k} told {notices:?}");
                continue;
            };
            assert_eq!(notices.len(), 1, "{sequence:?}: round {k}");
            let got: Vec<Change> =
                notices[0].changes.iter().map(|t| (t.name.as_str(), t.from.as_deref(), t.to.as_str())).collect();
            assert_eq!(got, *changes, "{sequence:?}: round {k}");
        }
    }
}

/// A slow origin is told with its threshold and a failed condition with its
/// name: in the chat line and in the webhook's JSON.
#[test]
fn a_slow_origin_and_a_failed_condition_are_told_with_their_threshold_and_name() {
    use edgecheck_core::aggregate::{Probe, Round};
    use edgecheck_core::classify::Outcome as Seen;
    let c = valid(&format!(
        "[settings]\nrise = 1\nfall = 1\n[regions.r]\n\
         [[origins]]\nname = \"s\"\nregion = \"r\"\nurl = \"https://s.example.com/\"\ndegraded_after_ms = 300\n\
         [[origins]]\nname = \"c\"\nregion = \"r\"\nurl = \"https://c.example.com/\"\n\
         [[origins.conditions]]\nname = \"db\"\njson = \"$.db\"\nop = \"==\"\nvalue = \"up\"\n{HOOK}"
    ));
    let answer = |db: &str| Seen::Answered {
        status: 200,
        content_type: Some("application/json".into()),
        headers: Vec::new(),
        body: format!(r#"{{"db":"{db}"}}"#).into_bytes(),
    };
    let round = |at: u64, s_ms: u64, db: &str| Round {
        checked_at_ms: at,
        duration_ms: 10,
        probes: vec![
            Probe::judged(&c.origins()[0], &answer("up"), Some(s_ms)),
            Probe::judged(&c.origins()[1], &answer(db), Some(5)),
        ],
    };
    let store = MemoryStore::default();
    let mut memory = None;
    for (at, s_ms, db) in [(0, 10, "up"), (15_000, 900, "down")] {
        let next = advance(&c, memory.as_ref().map(|m: &Memory| &m.state), &round(at, s_ms, db), true);
        let (m, problems) = store::record(&store, &c, memory, next);
        assert!(problems.is_empty(), "{problems:?}");
        memory = Some(m);
    }
    let notice = &memory.unwrap().notify["hook"].pending[0].notice;
    let lines: Vec<String> = notice.changes.iter().map(deliver::line).collect();
    assert!(lines.contains(&"origin s: up → degraded (slow, over 300 ms)".to_string()), "{lines:?}");
    assert!(lines.contains(&"origin c: up → down (assertion_failed: db)".to_string()), "{lines:?}");
    let body: Value = serde_json::to_value(&notice.changes).unwrap();
    let told = |name: &str| body.as_array().unwrap().iter().find(|t| t["name"] == name).unwrap().clone();
    assert_eq!((told("s")["reason"].clone(), told("s")["degraded_after_ms"].clone()), (json!("slow"), json!(300)));
    assert_eq!((told("c")["reason"].clone(), told("c")["condition"].clone()), (json!("assertion_failed"), json!("db")));
    assert_eq!(told("c").get("degraded_after_ms"), None, "the threshold goes with slow only");
}
