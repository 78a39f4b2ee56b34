//! The vantage quorum: several probers' reports merged into one verdict per
//! origin (table-driven), and its properties: an agreeing vantage never changes
//! the merged verdict, one dissenting vantage never flips an origin when the
//! quorum is above 1, arrival order never matters, and a slow verdict (each
//! vantage judging its own latency) from fewer vantages than the quorum never
//! makes an origin degraded.

use edgecheck_core::aggregate::Probe;
use edgecheck_core::classify::{Health, Reason, Verdict};
use edgecheck_core::config::Config;
use edgecheck_core::monitor::{advance_merged, Kind};
use edgecheck_core::vantage::{merge, quorum_verdict, trace_colo, Report, RoundInProgress, VantageState};
use proptest::prelude::*;

use super::valid;

/// Three vantages, a quorum, two shards of two origins.
fn fleet(quorum: &str) -> Config {
    valid(&format!(
        r#"
[settings]
vantages = ["enam", "weur", "apac"]
vantage_quorum = {quorum}
shard_size = 2
[regions.r]
min_up = 1
[[origins]]
name = "a"
region = "r"
url = "https://a.example.com/"
[[origins]]
name = "b"
region = "r"
url = "https://b.example.com/"
[[origins]]
name = "c"
region = "r"
url = "https://c.example.com/"
"#
    ))
}

/// `u` up, `d` degraded, `x` down (503), `t` timeout (network-class).
fn probe(code: char) -> Probe {
    let (health, reason, http_status) = match code {
        'u' => (Health::Up, Reason::Ok, Some(200)),
        'd' => (Health::Degraded, Reason::BodyDegraded, Some(200)),
        'x' => (Health::Down, Reason::StatusMismatch, Some(503)),
        't' => (Health::Down, Reason::Timeout, None),
        other => panic!("no probe code {other}"),
    };
    Probe { verdict: Verdict { health, reason, http_status, condition: None }, latency_ms: Some(10) }
}

/// The reports of vantage `v`: `codes` has one code per origin (a, b, c), or is
/// `-` for a vantage that did not report.
fn reports(c: &Config, v: usize, codes: &str) -> Vec<Report> {
    if codes == "-" {
        return Vec::new();
    }
    let probes: Vec<Probe> = codes.chars().map(probe).collect();
    (0..c.shard_count())
        .map(|s| Report {
            fleet: "f".into(),
            round: 0,
            colo: None,
            vantage: v,
            shard: s,
            canary_ok: true,
            duration_ms: 5,
            probes: probes[c.shard(s)].to_vec(),
            details: Vec::new(),
        })
        .collect()
}

/// The merged health of each origin (`?` without a quorum) and each vantage's state.
fn check(quorum: &str, vantages: [&str; 3], expected: &str, states: [VantageState; 3]) {
    let c = fleet(quorum);
    let all = (0..3).flat_map(|v| reports(&c, v, vantages[v])).collect();
    let (merged, dropped) = merge(&c, "f", 1_000, 50, all);
    assert!(dropped.is_empty(), "{dropped:?}");
    let got: String = merged
        .probes
        .iter()
        .map(|p| match p.map(|p| p.verdict.health) {
            Some(Health::Up) => 'u',
            Some(Health::Degraded) => 'd',
            Some(Health::Down) => 'x',
            None => '?',
        })
        .collect();
    assert_eq!((got.as_str(), merged.vantages.as_slice()), (expected, &states[..]), "{quorum} {vantages:?}");
}

#[test]
fn the_merged_verdict_is_the_quorum_th_worst() {
    use VantageState::{Isolated as I, Missing as M, Reporting as R};
    let rows: &[(&str, [&str; 3], &str, [VantageState; 3])] = &[
        // majority of 3 is 2: one vantage seeing a down changes nothing, two make it down.
        ("\"majority\"", ["uuu", "uuu", "uuu"], "uuu", [R, R, R]),
        ("\"majority\"", ["xuu", "uuu", "uuu"], "uuu", [R, R, R]),
        ("\"majority\"", ["xuu", "xuu", "uuu"], "xuu", [R, R, R]),
        ("\"majority\"", ["xdu", "duu", "uuu"], "duu", [R, R, R]),
        ("\"majority\"", ["xdx", "dxu", "uuu"], "ddu", [R, R, R]),
        // all: only a failure seen from every vantage counts.
        ("\"all\"", ["xxx", "xxu", "xuu"], "xuu", [R, R, R]),
        // 1: any vantage decides.
        ("1", ["uux", "uuu", "xuu"], "xux", [R, R, R]),
        // A vantage that reaches nothing is isolated and does not vote.
        ("\"majority\"", ["ttt", "uuu", "uxu"], "uuu", [I, R, R]),
        ("\"majority\"", ["ttt", "xuu", "xuu"], "xuu", [I, R, R]),
        // A missing vantage does not vote; with too few voters the origin has no verdict.
        ("\"majority\"", ["-", "uuu", "xux"], "uuu", [M, R, R]),
        ("\"majority\"", ["-", "ttt", "uxu"], "???", [M, I, R]),
        ("\"all\"", ["-", "uuu", "uuu"], "???", [M, R, R]),
        ("1", ["-", "-", "-"], "???", [M, M, M]),
        // A timeout among answers is a vote like any other.
        ("\"majority\"", ["tuu", "tuu", "uuu"], "xuu", [R, R, R]),
    ];
    for &(quorum, vantages, expected, states) in rows {
        check(quorum, vantages, expected, states);
    }
}

#[test]
fn reports_of_another_fleet_or_prober_are_dropped() {
    let c = fleet("\"majority\"");
    let mut all = reports(&c, 0, "xxx");
    all[0].fleet = "old".into();
    all.extend(reports(&c, 1, "uuu"));
    all.push(Report { vantage: 7, ..reports(&c, 2, "uuu")[0].clone() });
    all.push(Report { shard: 9, ..reports(&c, 2, "uuu")[0].clone() });
    all.push(Report { probes: Vec::new(), ..reports(&c, 2, "uuu")[0].clone() });
    all.extend(reports(&c, 1, "xxx")); // a second report of vantage 1, never counted twice
    let (merged, dropped) = merge(&c, "f", 0, 0, all);
    let whys: Vec<&str> = dropped.iter().map(|d| d.why).collect();
    assert_eq!(
        whys,
        [
            "built for another fleet",
            "no such prober in this fleet",
            "no such prober in this fleet",
            "wrong number of probes for its shard",
            "a second report for the same prober",
            "a second report for the same prober"
        ]
    );
    // Vantage 0 gave only its second shard: it votes on c only.
    assert_eq!(merged.by_vantage[0][0], None);
    assert_eq!(merged.by_vantage[2][0].map(|p| p.verdict.health), Some(Health::Down));
    assert_eq!(merged.probes[0], None, "a: only vantage 1 voted, 2 needed");
}

#[test]
fn latency_is_the_median_of_the_voters() {
    let with = |ms| Probe { latency_ms: Some(ms), ..probe('u') };
    assert_eq!(quorum_verdict(&[with(30), with(10), with(20)], 2).unwrap().latency_ms, Some(20));
    assert_eq!(quorum_verdict(&[with(31), with(10)], 1).unwrap().latency_ms, Some(20));
    assert_eq!(quorum_verdict(&[with(5)], 2), None);
}

/// One refresh at `at` ms: vantage `v` reports `codes[v]` ([`reports`]).
fn refresh(c: &Config, at: u64, codes: [&str; 3]) -> edgecheck_core::vantage::Merged {
    let all = (0..3).flat_map(|v| reports(c, v, codes[v])).collect();
    merge(c, "f", at, 10, all).0
}

#[test]
fn vantage_changes_are_history_and_stale_origins_keep_their_status() {
    let c = fleet("\"majority\"");
    let refresh = |at, codes: [&str; 3]| refresh(&c, at, codes);
    let first = advance_merged(&c, None, &refresh(0, ["uuu", "uuu", "uuu"]));
    assert!(first.changes.iter().all(|ch| ch.kind != Kind::Vantage), "reporting from the start is no news");
    let second = advance_merged(&c, Some(&first.state), &refresh(10_000, ["-", "ttt", "uxu"]));
    let vantage_changes: Vec<(&str, Option<&str>, &str)> = second
        .changes
        .iter()
        .filter(|ch| ch.kind == Kind::Vantage)
        .map(|ch| (ch.name.as_str(), ch.from.as_deref(), ch.to.as_str()))
        .collect();
    assert_eq!(vantage_changes, [("enam", Some("reporting"), "missing"), ("weur", Some("reporting"), "isolated")]);
    let b = &second.state.origins["b"];
    assert_eq!((b.health, b.stale), (Some(Health::Up), true), "no quorum: the last status, stale");
    assert_eq!(second.state.vantages["enam"].reported_at_ms, Some(0));
    let third = advance_merged(&c, Some(&second.state), &refresh(20_000, ["uuu", "uuu", "uuu"]));
    let back: Vec<&str> = third.changes.iter().filter(|ch| ch.kind == Kind::Vantage).map(|ch| ch.to.as_str()).collect();
    assert_eq!(back, ["reporting", "reporting"]);
    assert!(!third.state.origins["b"].stale);
}

#[test]
fn a_round_in_progress_keeps_each_prober_once() {
    let c = fleet("\"majority\"");
    let mut round = RoundInProgress::start(&c, 0);
    assert_eq!((round.deadline_at_ms, round.merge_by_ms), (5_000, 7_000), "the deadline, then the grace");
    assert_eq!(round.call(2, 1).round, 0);
    let mine = |v, codes| reports(&c, v, codes);
    let mut whys = Vec::new();
    let mut offer = |report: Report| whys.push(round.accept(&c, "f", report).err().map(|d| d.why));
    offer(mine(0, "uuu")[0].clone());
    offer(Report { round: 99, ..mine(0, "uuu")[1].clone() });
    offer(Report { fleet: "other".into(), ..mine(0, "uuu")[1].clone() });
    offer(mine(0, "xxx")[0].clone());
    offer(Report { vantage: 3, ..mine(0, "uuu")[0].clone() });
    offer(Report { probes: Vec::new(), ..mine(1, "uuu")[0].clone() });
    assert_eq!(
        whys,
        [
            None,
            Some("not for the round in progress (late, or for another round)"),
            Some("built for another fleet"),
            Some("a second report for the same prober"),
            Some("no such prober in this fleet"),
            Some("wrong number of probes for its shard"),
        ]
    );
    assert_eq!((round.reported(), round.is_complete()), (1, false));
    assert_eq!(round.missing(&c), ["enam.1", "weur.0", "weur.1", "apac.0", "apac.1"]);
    for report in (0..3).flat_map(|v| mine(v, "uuu")).skip(1) {
        round.accept(&c, "f", report).unwrap();
    }
    assert!(round.is_complete());
    let merged = round.finish(&c, "f", 2_500);
    assert_eq!((merged.checked_at_ms, merged.duration_ms, merged.fleet.as_str()), (0, 2_500, "f"));
    assert!(merged.probes.iter().all(|p| p.is_some_and(|p| p.verdict.health == Health::Up)));
}

#[test]
fn the_colo_comes_from_cloudflare_trace_only() {
    let trace = b"fl=1f1\nh=www.cloudflare.com\nip=192.0.2.1\nts=1764547200.1\ncolo=LHR\nloc=GB\n";
    let cases: &[(&str, &[u8], Option<&str>)] = &[
        ("https://www.cloudflare.com/cdn-cgi/trace", trace, Some("LHR")),
        ("http://127.0.0.1:9/cdn-cgi/trace?x=1", b"colo=SJC\r\nloc=US\r\n", Some("SJC")),
        ("https://example.com/health", trace, None),
        ("https://www.cloudflare.com/cdn-cgi/trace", b"no colo here", None),
        ("https://www.cloudflare.com/cdn-cgi/trace", b"colo=<script>\n", None),
        ("https://www.cloudflare.com/cdn-cgi/trace", b"colo=\n", None),
        ("https://www.cloudflare.com/cdn-cgi/trace", &[0xff, 0xfe], None),
    ];
    for (url, body, want) in cases {
        assert_eq!(trace_colo(url, body).as_deref(), *want, "{url} {body:?}");
    }
    // Per vantage, kept across refreshes until a prober says otherwise.
    let c = fleet("\"majority\"");
    let with_colo = |v, colo: Option<&'static str>| {
        reports(&c, v, "uuu").into_iter().map(move |r| Report { colo: colo.map(String::from), ..r })
    };
    let all = with_colo(0, Some("IAD")).chain(with_colo(1, None)).chain(with_colo(2, Some("SIN"))).collect();
    let merged = merge(&c, "f", 0, 10, all).0;
    assert_eq!(merged.colos, [Some("IAD".to_string()), None, Some("SIN".to_string())]);
    let first = advance_merged(&c, None, &merged);
    let again = merge(&c, "f", 10_000, 10, (0..3).flat_map(|v| reports(&c, v, "uuu")).collect()).0;
    let second = advance_merged(&c, Some(&first.state), &again);
    assert_eq!(second.state.vantages["enam"].colo.as_deref(), Some("IAD"));
    assert_eq!(second.state.vantages["weur"].colo, None);
}

fn health() -> impl Strategy<Value = char> {
    prop_oneof![Just('u'), Just('d'), Just('x'), Just('t')]
}

fn codes() -> impl Strategy<Value = String> {
    proptest::collection::vec(health(), 3).prop_map(|v| v.into_iter().collect())
}

fn merged_healths(c: &Config, all: Vec<Report>) -> Vec<Option<Verdict>> {
    merge(c, "f", 0, 0, all).0.probes.iter().map(|p| p.map(|p| p.verdict)).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Arrival order never changes the merged verdicts.
    #[test]
    fn arrival_order_does_not_matter(a in codes(), b in codes(), c3 in codes(), seed in any::<u64>()) {
        let c = fleet("\"majority\"");
        let all: Vec<Report> = [&a, &b, &c3].iter().enumerate().flat_map(|(v, codes)| reports(&c, v, codes)).collect();
        let mut shuffled = all.clone();
        let n = shuffled.len();
        for i in 0..n {
            let j = (seed.wrapping_mul(6364136223846793005).wrapping_add(i as u64) % n as u64) as usize;
            shuffled.swap(i, j);
        }
        prop_assert_eq!(merged_healths(&c, all), merged_healths(&c, shuffled));
    }

    /// The merged result depends on which reports came in time, never on
    /// their order, their repeats, or on reports that came after the merge.
    #[test]
    fn the_merge_does_not_depend_on_order_or_timing_of_reports(
        a in codes(), b in codes(), c3 in codes(), seed in any::<u64>(), cut in 0usize..=6, repeats in 0usize..4,
    ) {
        let c = fleet("\"majority\"");
        let all: Vec<Report> = [&a, &b, &c3].iter().enumerate().flat_map(|(v, codes)| reports(&c, v, codes)).collect();
        let mut arrivals = all.clone();
        let n = arrivals.len();
        for i in 0..n {
            let j = (seed.wrapping_mul(6364136223846793005).wrapping_add(i as u64 * 1442695040888963407) % n as u64) as usize;
            arrivals.swap(i, j);
        }
        // Some arrive twice (a retried delivery), right after themselves.
        for r in 0..repeats.min(n) {
            let again = arrivals[r * 2 % arrivals.len()].clone();
            arrivals.insert(r * 2 % arrivals.len(), again);
        }
        // The first `cut` distinct probers' reports arrive before the merge; the rest after.
        let mut round = RoundInProgress::start(&c, 0);
        let mut in_time = Vec::new();
        for report in arrivals {
            let key = (report.vantage, report.shard);
            if (in_time.len() < cut || in_time.contains(&key)) && round.accept(&c, "f", report).is_ok() {
                in_time.push(key);
            }
        }
        let merged = round.finish(&c, "f", 7_000);
        let expected: Vec<Report> = all.into_iter().filter(|r| in_time.contains(&(r.vantage, r.shard))).collect();
        let (alone, _) = merge(&c, "f", 0, 7_000, expected);
        prop_assert_eq!(merged, alone);
    }

    /// One dissenting vantage never flips an origin when the quorum is above 1:
    /// with two vantages agreeing on a health, the third cannot change it.
    #[test]
    fn one_dissenting_vantage_never_flips(agreed in health(), dissent in health()) {
        let c = fleet("\"majority\"");
        let agreed: String = std::iter::repeat_n(agreed, 3).collect();
        let dissent: String = std::iter::repeat_n(dissent, 3).collect();
        let base: Vec<Report> = [&agreed, &agreed, &agreed].iter().enumerate().flat_map(|(v, k)| reports(&c, v, k)).collect();
        let one_off: Vec<Report> = [&agreed, &dissent, &agreed].iter().enumerate().flat_map(|(v, k)| reports(&c, v, k)).collect();
        let healths = |all| merged_healths(&c, all).into_iter().map(|v| v.map(|v| v.health)).collect::<Vec<_>>();
        let (before, after) = (healths(base), healths(one_off));
        // A vantage that saw only timeouts is isolated instead: it cannot vote at all.
        if agreed.starts_with('t') {
            prop_assert!(before.iter().all(Option::is_none));
        } else {
            prop_assert_eq!(before, after);
        }
    }

    /// A vantage that agrees with the merged verdict never changes it.
    #[test]
    fn an_agreeing_vantage_changes_nothing(a in codes(), b in codes(), c3 in codes()) {
        let c = fleet("\"majority\"");
        let all: Vec<Report> = [&a, &b, &c3].iter().enumerate().flat_map(|(v, k)| reports(&c, v, k)).collect();
        let (merged, _) = merge(&c, "f", 0, 0, all.clone());
        // Replace vantage 2 by one that says exactly the merged verdict, where there is one.
        if merged.probes.iter().all(Option::is_some) && merged.vantages[2] == VantageState::Reporting {
            let agreeing: String = merged.probes.iter().map(|p| match p.unwrap().verdict.health {
                Health::Up => 'u', Health::Degraded => 'd', Health::Down => 'x',
            }).collect();
            let mut again: Vec<Report> = all.into_iter().filter(|r| r.vantage != 2).collect();
            again.extend(reports(&c, 2, &agreeing));
            let health = |all| merged_healths(&c, all).into_iter().map(|v| v.map(|v| v.health)).collect::<Vec<_>>();
            prop_assert_eq!(health(again), merged.probes.iter().map(|p| p.map(|p| p.verdict.health)).collect::<Vec<_>>());
        }
    }
}

#[test]
fn a_canary_answers_with_any_status_and_nothing_else() {
    use edgecheck_core::classify::Outcome;
    use edgecheck_core::vantage::canary_answered;
    let answered = |status| Outcome::Answered { status, content_type: None, headers: Vec::new(), body: Vec::new() };
    let rows: &[(Outcome, bool)] = &[
        (answered(200), true),
        (answered(503), true),
        (answered(404), true),
        (Outcome::BodyTooLarge { status: 200 }, true),
        (Outcome::Timeout { status: Some(200) }, false),
        (Outcome::Timeout { status: None }, false),
        (Outcome::ConnectError, false),
        (Outcome::Skipped, false),
        (Outcome::SecretMissing, false),
        (Outcome::RequestInvalid, false),
    ];
    for (outcome, want) in rows {
        assert_eq!(canary_answered(outcome), *want, "{outcome:?}");
    }
}

/// The page names the vantages that see an origin failing below the quorum,
/// and has a line per vantage with its state and the age of its last report.
#[test]
fn the_page_shows_the_vantages_and_who_sees_a_failure() {
    use edgecheck_core::monitor::Snapshot;
    use edgecheck_core::render::page::status_page;
    use edgecheck_core::view::shown;
    let c = fleet("\"majority\"");
    let refresh = |at, codes: [&str; 3]| refresh(&c, at, codes);
    let first = advance_merged(&c, None, &refresh(0, ["uuu", "uuu", "uuu"]));
    // apac sees b down: below the majority, so b stays up, marked; enam does not report.
    let second = advance_merged(&c, Some(&first.state), &refresh(10_000, ["-", "uuu", "uxu"]));
    let view = shown(&c, Snapshot { state: &second.state, now_ms: 12_000 });
    let html = status_page(&c, &view, None, &Default::default(), &second.changes, &Default::default());
    let row = |name: &str| {
        let at = html.find(&format!("<th scope=\"row\">{name}</th>")).unwrap_or_else(|| panic!("{name}: {html}"));
        html[at..at + html[at..].find("</tr>").unwrap()].to_string()
    };
    assert!(
        row("b").contains("✓</span> Up</span> <small class=\"s-degraded\">· failing from apac</small>"),
        "{}",
        row("b")
    );
    assert!(!row("a").contains("failing from"), "{}", row("a"));
    for line in [
        "<li><strong>enam</strong> <span class=\"s-unknown\"><span aria-hidden=\"true\">?</span> Missing</span> (no report in the last round: it does not vote) · last report 12 s ago</li>",
        "<li><strong>weur</strong> <span class=\"s-up\"><span aria-hidden=\"true\">✓</span> Reporting</span> · last report 2 s ago</li>",
        "<li><strong>apac</strong> <span class=\"s-up\"><span aria-hidden=\"true\">✓</span> Reporting</span> · last report 2 s ago</li>",
    ] {
        assert!(html.contains(line), "missing {line:?} in\n{html}");
    }
}

/// Three vantages with `vantage_quorum = quorum`, one origin `a` whose own
/// `degraded_after_ms` is 500, with `rise` and `fall`, and `degraded_is_ready`.
fn slow_fleet(quorum: usize, rise: u32, fall: u32, degraded_is_ready: bool) -> Config {
    valid(&format!(
        r#"
[settings]
vantages = ["enam", "weur", "apac"]
vantage_quorum = {quorum}
degraded_is_ready = {degraded_is_ready}
[regions.r]
[[origins]]
name = "a"
region = "r"
url = "https://a.example.com/"
degraded_after_ms = 500
rise = {rise}
fall = {fall}
"#
    ))
}

/// One refresh at `at` ms in which every vantage got a healthy answer from
/// `a`, vantage `v` in `latencies[v]` ms, each judged by its own prober
/// ([`Probe::judged`]), then merged by the quorum.
fn timed_refresh(c: &Config, at: u64, latencies: [u64; 3]) -> edgecheck_core::vantage::Merged {
    use edgecheck_core::classify::Outcome;
    let ok = Outcome::Answered { status: 200, content_type: None, headers: Vec::new(), body: b"OK".to_vec() };
    let all = latencies
        .iter()
        .enumerate()
        .map(|(v, &ms)| Report {
            fleet: "f".into(),
            round: at,
            colo: None,
            vantage: v,
            shard: 0,
            canary_ok: true,
            duration_ms: ms,
            probes: vec![Probe::judged(&c.origins()[0], &ok, Some(ms))],
            details: Vec::new(),
        })
        .collect();
    merge(c, "f", at, 1_000, all).0
}

/// The latencies of one refresh: vantage `v` slow (501 to 1999 ms) when bit
/// `v` of `mask` is set, else fast (0 to 500 ms, the threshold included).
fn latencies(mask: u8, fast: [u64; 3], slow: [u64; 3]) -> [u64; 3] {
    std::array::from_fn(|v| if mask & (1 << v) != 0 { slow[v] } else { fast[v] })
}

/// `mask` with its highest set bits cleared until fewer than `quorum` are set.
fn below(mut mask: u8, quorum: usize) -> u8 {
    while mask.count_ones() as usize >= quorum {
        mask &= !(1 << (7 - mask.leading_zeros()));
    }
    mask
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// A slow verdict from fewer vantages than the quorum never makes an
    /// origin degraded. Each vantage judges its own latency; the others answer
    /// healthy in time. Through any run of refreshes, with any quorum, rise and
    /// fall, the merged verdict stays `up` (`ok`), the origin's status never
    /// leaves `up`, no change is recorded after the first status, and the
    /// shown view names the slow vantages in `failing_from`.
    #[test]
    fn a_slow_verdict_from_fewer_vantages_than_the_quorum_never_degrades(
        quorum in 1usize..=3,
        rise in 1u32..=3,
        fall in 1u32..=3,
        refreshes in proptest::collection::vec(
            (0u8..8, proptest::array::uniform3(0u64..=500), proptest::array::uniform3(501u64..2_000)),
            1..10,
        ),
    ) {
        use edgecheck_core::monitor::Snapshot;
        use edgecheck_core::view::shown;
        let c = slow_fleet(quorum, rise, fall, false);
        let mut state = None;
        for (n, (mask, fast, slow)) in refreshes.into_iter().enumerate() {
            let mask = below(mask, quorum);
            let at = n as u64 * 15_000;
            let merged = timed_refresh(&c, at, latencies(mask, fast, slow));
            let verdict = merged.probes[0].expect("every vantage votes").verdict;
            prop_assert_eq!((verdict.health, verdict.reason), (Health::Up, Reason::Ok), "mask {:03b}", mask);
            let slow_votes = merged.by_vantage[0].iter().filter(|p| p.unwrap().verdict.reason == Reason::Slow).count();
            prop_assert_eq!(slow_votes, mask.count_ones() as usize, "each vantage judged its own latency");
            let next = advance_merged(&c, state.as_ref(), &merged);
            prop_assert_eq!(next.state.origins["a"].health, Some(Health::Up));
            let origin_changes: Vec<_> = next.changes.iter().filter(|ch| ch.kind == Kind::Origin).collect();
            prop_assert!(n == 0 || origin_changes.is_empty(), "{:?}", origin_changes);
            let view = shown(&c, Snapshot { state: &next.state, now_ms: at + 1_000 });
            let named: Vec<&str> = ["enam", "weur", "apac"].into_iter().enumerate()
                .filter(|(v, _)| mask & (1 << v) != 0).map(|(_, name)| name).collect();
            prop_assert_eq!(view.disagreement(&c, 0).failing_from, named);
            prop_assert!(view.origin(&c, 0).ready);
            state = Some(next.state);
        }
    }

    /// The merged verdict is `degraded`, `slow`, exactly when at least the
    /// quorum of vantages judged their own answer slow; else `up`.
    #[test]
    fn the_merged_verdict_is_slow_exactly_when_the_quorum_is(
        quorum in 1usize..=3,
        mask in 0u8..8,
        fast in proptest::array::uniform3(0u64..=500),
        slow in proptest::array::uniform3(501u64..2_000),
    ) {
        let c = slow_fleet(quorum, 1, 1, false);
        let verdict = timed_refresh(&c, 0, latencies(mask, fast, slow)).probes[0].unwrap().verdict;
        let expected = if mask.count_ones() as usize >= quorum { (Health::Degraded, Reason::Slow) } else { (Health::Up, Reason::Ok) };
        prop_assert_eq!((verdict.health, verdict.reason, verdict.http_status), (expected.0, expected.1, Some(200)));
    }
}

/// Rise and fall apply to `slow` as to any change, and `degraded_is_ready`
/// decides readiness as for any degraded origin: with a majority of 3 slow
/// (2 of 3), `a` goes `degraded` (reason `slow`) after `fall` refreshes, and
/// back `up` after `rise` fast ones; from one vantage it stays `up`.
#[test]
fn a_slow_quorum_degrades_after_fall_and_recovers_after_rise() {
    use edgecheck_core::monitor::Snapshot;
    use edgecheck_core::view::shown;
    for degraded_is_ready in [false, true] {
        let c = slow_fleet(2, 2, 3, degraded_is_ready);
        let mut state = None;
        let mut seen = Vec::new();
        // 2 fast refreshes, 1 slow from one vantage, 3 slow from two, 2 fast again.
        let plan: [[u64; 3]; 8] = [
            [100, 100, 100],
            [100, 500, 100],
            [900, 100, 100],
            [900, 900, 100],
            [900, 100, 501],
            [100, 700, 700],
            [100, 100, 100],
            [100, 100, 100],
        ];
        for (n, latencies) in plan.into_iter().enumerate() {
            let at = n as u64 * 15_000;
            let next = advance_merged(&c, state.as_ref(), &timed_refresh(&c, at, latencies));
            let view = shown(&c, Snapshot { state: &next.state, now_ms: at + 1_000 });
            let origin = view.origin(&c, 0);
            seen.push((origin.status.unwrap().as_str(), origin.reason.as_str(), origin.ready));
            let moved: Vec<(&str, &str)> = next
                .changes
                .iter()
                .filter(|ch| ch.kind == Kind::Origin && ch.from.is_some())
                .map(|ch| (ch.to.as_str(), ch.reason.map_or("", |r| r.as_str())))
                .collect();
            match n {
                5 => assert_eq!(moved, [("degraded", "slow")], "after fall = 3 slow refreshes"),
                7 => assert_eq!(moved, [("up", "ok")], "after rise = 2 fast refreshes"),
                _ => assert!(moved.is_empty(), "refresh {n}: {moved:?}"),
            }
            state = Some(next.state);
        }
        let r = degraded_is_ready;
        assert_eq!(
            seen,
            [
                ("up", "ok", true),
                ("up", "ok", true),
                ("up", "ok", true),
                ("up", "slow", true),
                ("up", "slow", true),
                ("degraded", "slow", r),
                ("degraded", "ok", r),
                ("up", "ok", true),
            ],
            "degraded_is_ready = {r}"
        );
    }
}
