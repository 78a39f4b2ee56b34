//! The monitor's state machine: hysteresis, fail-static, the canary, recorded changes.

use super::*;

/// Runs rounds 15 s apart from t = 0; each string gives `a` and `b` (see [`probes`]). Returns, after each round, the damped statuses
/// of `a` and `b`, the global status shown, and whether the snapshot is stale.
fn run(config: &Config, rounds: &[&str]) -> Vec<(String, &'static str, bool)> {
    let mut state = None;
    let mut out = Vec::new();
    for (n, codes) in rounds.iter().enumerate() {
        let at = n as u64 * 15_000;
        let next = advance(config, state.as_ref(), &round(at, codes), true).state;
        let snap = Snapshot { state: &next, now_ms: at };
        let damped: String = ["a", "b"]
            .iter()
            .map(|name| match next.origins[*name].health {
                Some(Health::Up) => 'u',
                Some(Health::Degraded) => 'd',
                Some(Health::Down) => 'x',
                None => '?',
            })
            .collect();
        out.push((
            damped,
            snap.status(config, &edgecheck_core::monitor::damped_view(config, &next.origins))
                .map_or("unknown", Overall::as_str),
            snap.stale(),
        ));
        state = Some(next);
    }
    out
}

#[test]
fn hysteresis_rise_fall_and_first_probe() {
    let c = valid(PAIR); // a: rise 2, fall 3 (defaults); b: rise 1, fall 1.
    let rows: &[(&[&str], &str)] = &[
        // The first probe decides directly.
        (&["xu"], "xu"),
        (&["dx"], "dx"),
        // a needs 3 consecutive worse probes to fall; b falls at once.
        (&["uu", "xx", "xx", "xx"], "xx"),
        (&["uu", "xx", "xx"], "ux"),
        (&["uu", "xx", "xx", "uu", "xx", "xx"], "ux"),
        // Worse probes of mixed levels count together; the last decides.
        (&["uu", "dd", "xd", "xx"], "xx"),
        // a needs 2 consecutive better probes to rise.
        (&["xx", "uu"], "xu"),
        (&["xx", "uu", "uu"], "uu"),
        (&["xx", "uu", "xx", "uu"], "xu"),
        (&["xx", "du", "uu"], "uu"),
        // A flapping origin never flips a damped status with fall > 1 and rise > 1.
        (&["uu", "xu", "uu", "xu", "uu", "xu", "uu"], "uu"),
    ];
    for &(rounds, expected) in rows {
        let got = run(&c, rounds);
        assert_eq!(got.last().unwrap().0, expected, "{rounds:?}: {got:?}");
    }
}

#[test]
fn self_isolated_rounds_keep_statuses_then_turn_unknown() {
    let c = valid(PAIR); // max_stale_s = 60; rounds every 15 s.
                         // Two good rounds, then every origin refused or timing out: stale, statuses
                         // kept, then unknown.
    let got = run(&c, &["uu", "uu", "rr", "tr", "rt", "tt", "rr", "uu"]);
    let shown: Vec<(&str, &str, bool)> = got.iter().map(|(d, s, st)| (d.as_str(), *s, *st)).collect();
    assert_eq!(
        shown,
        [
            ("uu", "ok", false),
            ("uu", "ok", false),
            ("uu", "ok", true),      // 15 s stale
            ("uu", "ok", true),      // 30 s
            ("uu", "ok", true),      // 45 s
            ("uu", "ok", true),      // 60 s: not more than max_stale_s
            ("uu", "unknown", true), // 75 s
            ("uu", "ok", false),     // a good round ends it
        ]
    );
    // One origin refused while another answers is not isolation: it is data.
    assert_eq!(run(&c, &["uu", "ur"]).last().unwrap().clone(), ("ux".to_string(), "degraded", false));
    // A first round that is isolated knows nothing: unknown, not down.
    assert_eq!(run(&c, &["rr"])[0], ("??".to_string(), "unknown", true));
    // Down for a reason that is not network-class is never isolation.
    assert_eq!(run(&c, &["uu", "xx", "xx", "xx"]).last().unwrap().clone(), ("xx".to_string(), "down", false));
}

#[test]
fn a_failed_canary_isolates_the_round() {
    let c = valid(PAIR);
    let first = advance(&c, None, &round(0, "uu"), true);
    let second = advance(&c, Some(&first.state), &round(15_000, "xx"), false); // the canary failed
    assert!(second.state.isolated);
    // Only the vantage's own change is recorded: it became isolated.
    let changes: Vec<(Kind, &str, &str)> =
        second.changes.iter().map(|ch| (ch.kind, ch.name.as_str(), ch.to.as_str())).collect();
    assert_eq!(changes, [(Kind::Vantage, "default", "isolated")]);
    assert_eq!(second.state.origins["b"].health, Some(Health::Up));
    assert!(second.state.origins["b"].stale, "the kept status is marked stale");
    assert_eq!(second.state.origins["b"].last.verdict.health, Health::Down, "the raw probe is still shown");
}

#[test]
fn changes_are_recorded_for_origins_regions_and_the_view() {
    use edgecheck_core::monitor::Kind;
    let c = valid(PAIR);
    let first = advance(&c, None, &round(0, "uu"), true);
    let kinds: Vec<(Kind, &str, Option<&str>, &str)> =
        first.changes.iter().map(|c| (c.kind, c.name.as_str(), c.from.as_deref(), c.to.as_str())).collect();
    assert_eq!(
        kinds,
        [
            (Kind::Origin, "a", None, "up"),
            (Kind::Origin, "b", None, "up"),
            (Kind::Region, "r", None, "up"),
            (Kind::Global, "", None, "ok")
        ]
    );
    let second = advance(&c, Some(&first.state), &round(15_000, "ux"), true);
    let kinds: Vec<(Kind, &str, Option<&str>, &str)> =
        second.changes.iter().map(|c| (c.kind, c.name.as_str(), c.from.as_deref(), c.to.as_str())).collect();
    assert_eq!(
        kinds,
        [
            (Kind::Origin, "b", Some("up"), "down"),
            (Kind::Region, "r", Some("up"), "degraded"),
            (Kind::Global, "", Some("ok"), "degraded")
        ]
    );
    assert_eq!(second.changes[0].reason, Some(Reason::StatusMismatch));
    assert_eq!(second.state.origins["a"].since_ms, 0, "a did not change");
    assert_eq!(second.state.origins["b"].since_ms, 15_000);
    // An isolated round records no origin, region or global change (only the
    // vantage's own).
    let third = advance(&c, Some(&second.state), &round(30_000, "tr"), true);
    assert!(third.changes.iter().all(|ch| ch.kind == Kind::Vantage) && third.state.isolated);
    assert!(edgecheck_core::uptime::rollup_adds(&c, &third).is_empty());
    let adds = edgecheck_core::uptime::rollup_adds(&c, &second);
    let rows: Vec<(&str, u64, u64, [u32; 3])> =
        adds.iter().map(|a| (a.name.as_str(), a.width_ms, a.bucket_ms, [a.up, a.degraded, a.down])).collect();
    assert_eq!(
        rows,
        [
            ("a", 60_000, 0, [1, 0, 0]),
            ("a", 3_600_000, 0, [1, 0, 0]),
            ("b", 60_000, 0, [0, 0, 1]),
            ("b", 3_600_000, 0, [0, 0, 1]),
            ("r", 60_000, 0, [0, 1, 0]),
            ("r", 3_600_000, 0, [0, 1, 0]),
        ]
    );
}

proptest! {
    /// The order in which probe results arrive does not change the outcome.
    #[test]
    fn arrival_order_does_not_change_the_outcome(codes in "[udx]{7}", seed in any::<u64>()) {
        let c = valid(FLEET);
        let probes = probes(&codes);
        let mut arrivals: Vec<(usize, Probe)> = probes.iter().copied().enumerate().collect();
        let sorted = Round::from_arrivals(0, 1, 7, arrivals.clone());
        // A deterministic shuffle from the seed.
        let mut x = seed | 1;
        for i in (1..arrivals.len()).rev() {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;
            arrivals.swap(i, (x % (i as u64 + 1)) as usize);
        }
        let shuffled = Round::from_arrivals(0, 1, 7, arrivals);
        prop_assert_eq!(&shuffled, &sorted);
        prop_assert_eq!(advance(&c, None, &shuffled, true), advance(&c, None, &sorted, true));
    }

    /// A single bad probe never flips an up origin when fall > 1.
    #[test]
    fn a_single_bad_probe_never_flips_an_up_origin(fall in 2u32..=10, history in "[ud]{1,12}", bad in "[dx]") {
        let c = valid(&PAIR.replace("fall = 1", &format!("fall = {fall}")));
        let mut state = advance(&c, None, &round(0, "uu"), true).state;
        // Any history of good and degraded-then-recovered probes, ending up.
        for (n, h) in history.chars().chain("uuuuuuuuuu".chars()).enumerate() {
            let codes: String = [h, h].iter().collect();
            state = advance(&c, Some(&state), &round(n as u64 * 15_000, &codes), true).state;
        }
        prop_assert_eq!(state.origins["b"].health, Some(Health::Up));
        let next = advance(&c, Some(&state), &round(1_000_000, &format!("u{bad}")), true);
        prop_assert_eq!(next.state.origins["b"].health, Some(Health::Up));
        prop_assert!(next.changes.is_empty());
    }
}
