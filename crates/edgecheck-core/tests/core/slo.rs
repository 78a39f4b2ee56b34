//! Error budgets (`[[slo]]`, `slo.rs`): the objectives' config and its
//! errors, what a round counts (and leaves out), burn rates and budgets
//! against the SRE workbook's arithmetic, the multiwindow alerts on an
//! origin that fails one probe in five, the counts' rows at their worst,
//! and what a burn-rate alert tells each channel.

use edgecheck_core::config::slo::{Bad, Layout, MAX_SLOS};
use edgecheck_core::config::{BurnAlert, Severity};
use edgecheck_core::drain::Drain;
use edgecheck_core::monitor::{advance_merged, MonitorState};
use edgecheck_core::notify::{burn_notices, Action};
use edgecheck_core::slo::{
    alerts, budget_remaining, default_alerts, slices, AlertChange, Budget, Slice, SloAdd, SloCounts, Sums, Transition,
    MAX_BUCKETS,
};
use edgecheck_core::store::MAX_ROW_BYTES;
use edgecheck_core::time::{DAY_MS, HOUR_MS, MINUTE_MS};
use edgecheck_core::vantage::Merged;

use proptest::prelude::*;

use super::*;

/// An hour-aligned time (2026-11-19T04:00:00Z), so that every bucket
/// boundary below can be checked by hand.
const T0: u64 = 1_795_492_800_000;

#[test]
fn slo_errors_name_their_field() {
    assert_eq!(T0 % DAY_MS % HOUR_MS, 0);
    for (text, field, message) in super::cases::slo() {
        let errs = config(&text).expect_err(&text);
        assert!(
            errs.iter().any(|e| e.field == field && e.message.contains(message)),
            "{text}\nexpected {field}: ...{message}..., got {errs:?}"
        );
    }
}

/// Two regions, `r0` (`o000`) and `r1` (`o001`), a webhook `hook`, and `slos`.
fn fleet_with(slos: &str) -> Config {
    let hook = "[[notify]]\nname = \"hook\"\nkind = \"webhook\"\nurl_secret = \"U\"\nsigning_secret = \"S\"\n";
    valid(&cases::fleet(2, &format!("{hook}{slos}")))
}

#[test]
fn an_objective_takes_the_workbook_defaults() {
    let c = fleet_with("[[slo]]\nname = \"fleet\"\nobjective = 99.9\n[[slo]]\nname = \"edge\"\norigin = \"o001\"\nobjective = 99.5\nwindow_days = 28\nbad = [\"degraded\", \"down\"]\nchannels = [\"hook\"]\n[[slo]]\nname = \"west\"\nregion = \"r1\"\nobjective = 99\n");
    let [fleet, edge, west] = c.slos() else { panic!("{:?}", c.slos()) };
    assert_eq!((fleet.scope, fleet.window_days, fleet.bad, fleet.channels.len()), (None, 30, Bad::Down, 0));
    assert_eq!(fleet.alerts, default_alerts());
    assert_eq!(
        (edge.scope, edge.window_days, edge.bad, &edge.channels[..]),
        (Some(Named::Origin(1)), 28, Bad::DownOrDegraded, &[0][..])
    );
    assert_eq!(west.scope, Some(Named::Region(1)));
    // 99.9 % leaves 0.1 % of the slices: over 30 days, 43.2 minutes.
    assert!((fleet.budget() - 0.001).abs() < 1e-12 && (fleet.target() - 0.999).abs() < 1e-12);
    // The default pairs: 1 h, 5 min, 30 min under 5 h, in 1-minute buckets
    // (a fifth of 5 min), 60 of them for the hour; 6 h and 3 d in hour
    // buckets, 720 of them for 30 days.
    let layout = Layout { fine_ms: MINUTE_MS, fine_buckets: 60, coarse_ms: HOUR_MS, coarse_buckets: 720 };
    assert_eq!(fleet.layout(), layout);
    assert_eq!(edge.layout().coarse_buckets, 28 * 24);
    assert_eq!(
        (layout.width_of(5 * MINUTE_MS), layout.width_of(HOUR_MS), layout.width_of(6 * HOUR_MS)),
        (MINUTE_MS, MINUTE_MS, HOUR_MS)
    );
}

#[test]
fn windows_scale_down_through_config() {
    // For end-to-end tests: a round every 6 s, a page on 60 s and 12 s.
    let c = valid(&cases::fleet(2, "[[slo]]\nname = \"quick\"\nobjective = 99.9\nwindow_days = 1\n[[slo.alerts]]\nseverity = \"page\"\nlong_window = \"60s\"\nshort_window = \"12s\"\nburn_rate = 14.4\n[[slo.alerts]]\nseverity = \"ticket\"\nlong_window = \"2m\"\nshort_window = \"30s\"\nburn_rate = 1\n").replace("[settings]\n", "[settings]\nrefresh_s = 6\n"));
    let slo = &c.slos()[0];
    let alert = |severity, long_ms, short_ms, burn_rate| BurnAlert { severity, long_ms, short_ms, burn_rate };
    assert_eq!(
        slo.alerts,
        vec![alert(Severity::Page, 60_000, 12_000, 14.4), alert(Severity::Ticket, 120_000, 30_000, 1.0)]
    );
    // 12 s / 5 is 2.4 s, in whole seconds 2 s; 2 min of them is 60.
    assert_eq!(slo.layout(), Layout { fine_ms: 2_000, fine_buckets: 60, coarse_ms: HOUR_MS, coarse_buckets: 24 });
    // Its windows are summed from those; a 1-hour burn rate, which no pair
    // alerts on, from the hours (not from the 2 minutes the fine ones span).
    let layout = slo.layout();
    assert_eq!((layout.width_of(12_000), layout.width_of(120_000), layout.width_of(HOUR_MS)), (2_000, 2_000, HOUR_MS));
}

#[test]
fn the_fleet_document_carries_objectives_and_only_when_there_are_some() {
    let c = fleet_with("[[slo]]\nname = \"edge\"\norigin = \"o001\"\nobjective = 99.95\nchannels = [\"hook\"]\n");
    let (read, _) = Config::from_fleet_document(&c.fleet_document()).unwrap();
    assert_eq!(read, c);
    // A fleet without objectives keeps the document (and digest) it had.
    let none = fleet_with("");
    assert!(!none.fleet_document().contains("slos"), "{}", none.fleet_document());
    assert!(c.fleet_document().contains("\"slos\":[{\"name\":\"edge\""));
}

/// `n` slices, one every `step_ms` from [`T0`], slice `i` bad when `bad(i)`;
/// the counts and the time of the last.
fn counted(slo: &edgecheck_core::config::Slo, step_ms: u64, n: usize, bad: impl Fn(usize) -> bool) -> (SloCounts, u64) {
    let mut counts = SloCounts::new(slo.layout());
    for i in 0..n {
        let slice = if bad(i) { Slice::Bad } else { Slice::Good };
        counts.add(&slo.name, slice, T0 + i as u64 * step_ms);
    }
    (counts, T0 + (n as u64 - 1) * step_ms)
}

#[test]
fn burn_rates_and_budget_follow_the_workbook() {
    let c = fleet_with("[[slo]]\nname = \"s\"\nobjective = 99.9\n");
    let slo = &c.slos()[0];
    let s15 = 15_000;
    type Pattern = fn(usize) -> bool;
    // (what, step, slices, which are bad, window, expected good and bad, expected burn rate)
    let rows: [(&str, u64, usize, Pattern, u64, Sums, f64); 7] = [
        // Every slice of the hour in the hour's window (the first bucket
        // that starts after now - 1 h is T0's): nothing burnt.
        ("an hour all good", s15, 240, |_| false, HOUR_MS, Sums { good: 240, bad: 0 }, 0.0),
        // 48 of 240 bad: an error ratio of 0.2, over a budget of 0.001: 200.
        ("an hour, one in five bad", s15, 240, |i| i % 5 == 4, HOUR_MS, Sums { good: 192, bad: 48 }, 200.0),
        // The last 5 min: now is T0 + 3585 s, the window's buckets start
        // after T0 + 3240 s, so T0 + 3300 s .. 3585 s: 20 slices, 4 bad.
        ("its last 5 minutes", s15, 240, |i| i % 5 == 4, 5 * MINUTE_MS, Sums { good: 16, bad: 4 }, 200.0),
        // The last 30 min: T0 + 1800 s .. 3585 s, 120 slices, 24 bad: 200.
        ("its last 30 minutes", s15, 240, |i| i % 5 == 4, 30 * MINUTE_MS, Sums { good: 96, bad: 24 }, 200.0),
        // 6 h of one bad in 100 (14 of 1,440, in hour buckets from T0):
        // 14 / 1440 / 0.001 = 9.72, over the 6-hour page's 6.
        (
            "six hours, one in a hundred bad",
            s15,
            1440,
            |i| i % 100 == 99,
            6 * HOUR_MS,
            Sums { good: 1426, bad: 14 },
            14.0 / 1440.0 / 0.001,
        ),
        // 3 days at one slice a minute, one in a thousand bad: 4 of 4,320,
        // 0.926, under the ticket's 1.
        (
            "three days, one in a thousand bad",
            MINUTE_MS,
            4320,
            |i| i % 1000 == 999,
            3 * DAY_MS,
            Sums { good: 4316, bad: 4 },
            4.0 / 4320.0 / 0.001,
        ),
        // 30 days at one a minute, 43 of 43,200 bad: 0.995, the budget
        // (43.2 slices) nearly spent.
        (
            "thirty days, 43 minutes bad",
            MINUTE_MS,
            43_200,
            |i| i < 43,
            30 * DAY_MS,
            Sums { good: 43_157, bad: 43 },
            43.0 / 43_200.0 / 0.001,
        ),
    ];
    for (what, step, n, bad, window, sums, rate) in rows {
        let (counts, now) = counted(slo, step, n, bad);
        assert_eq!(counts.sums(window, now), sums, "{what}");
        let got = counts.burn_rate(slo, window, now);
        assert!((got - rate).abs() < 1e-6 * rate.max(1.0), "{what}: burn rate {got}, expected {rate}");
    }
    // The budget over 30 days: 43.2 minutes at 99.9 %. With 43 of 43,200
    // minutes bad, 0.2 of them are left: a ratio of 0.2 / 43.2.
    let (counts, now) = counted(slo, MINUTE_MS, 43_200, |i| i < 43);
    let budget = budget_remaining(slo, &counts, now);
    assert!((budget.minutes - 0.2).abs() < 1e-6 && (budget.ratio - 0.2 / 43.2).abs() < 1e-9, "{budget:?}");
    // Nothing counted: the whole budget. Overspent: below 0 (an hour at
    // one in five bad has spent 200 times what its slices allow).
    assert_eq!(budget_remaining(slo, &SloCounts::new(slo.layout()), T0).ratio, 1.0);
    let (counts, now) = counted(slo, s15, 240, |i| i % 5 == 4);
    assert!((budget_remaining(slo, &counts, now).ratio + 199.0).abs() < 1e-6);
}

/// One round of a one-origin fleet at `at`: the origin answers 200 (`u`)
/// or 503 (`x`).
fn step(c: &Config, prev: Option<&MonitorState>, at: u64, code: &str) -> MonitorState {
    advance(c, prev, &round(at, code), true).state
}

/// Runs `pattern(j)` rounds (true: a failed probe) after 6 hours of good
/// ones, every 15 s from [`T0`], through `monitor::advance` with `fall = 3`;
/// returns, per pattern round, the alert changes, and checks that the
/// damped status never leaves `up`.
fn one_in_five(rounds: usize, pattern: impl Fn(usize) -> bool) -> Vec<Vec<(usize, Transition)>> {
    let c = valid(&format!("{BASE}fall = 3\n[[slo]]\nname = \"a-availability\"\norigin = \"a\"\nobjective = 99.9\n"));
    let slo = &c.slos()[0];
    let mut counts = SloCounts::new(slo.layout());
    let (mut state, mut firing, mut out) = (None::<MonitorState>, Vec::new(), Vec::new());
    let history = 6 * 240;
    for k in 0..history + rounds {
        let at = T0 + k as u64 * 15_000;
        let failed = k >= history && pattern(k - history);
        let next = step(&c, state.as_ref(), at, if failed { "x" } else { "u" });
        assert_eq!(next.origins["a"].health, Some(Health::Up), "the damped status stays up (round {k})");
        let [slice] = slices(&c, &next)[..] else { panic!() };
        assert_eq!(slice, if failed { Slice::Bad } else { Slice::Good });
        counts.add(&slo.name, slice, at);
        let changes = alerts(slo, &counts, at, &firing);
        for change in &changes {
            match change.transition {
                Transition::Firing => firing.push(change.pair),
                Transition::Resolved => firing.retain(|&p| p != change.pair),
            }
        }
        if k >= history {
            out.push(changes.iter().map(|ch| (ch.pair, ch.transition)).collect());
        }
        state = Some(next);
    }
    out
}

/// The pattern round (1-based) at which `pair` first does `what`.
fn first(changes: &[Vec<(usize, Transition)>], pair: usize, what: Transition) -> Option<usize> {
    changes.iter().position(|round| round.contains(&(pair, what))).map(|j| j + 1)
}

#[test]
fn one_failure_in_five_pages_while_the_origin_stays_up() {
    // After 6 h of good rounds, every fifth probe fails (rounds 5, 10, ...):
    // an error ratio of 0.2, a burn rate of 200 against 99.9 %. `fall = 3`
    // never sees 3 failures in a row, so the damped status stays `up`.
    let changes = one_in_five(60, |j| j % 5 == 4);
    // Page, 1 h and 5 min over 14.4: the hour must hold more than
    // 14.4 × 0.001 × 240 = 3.456 bad slices: the 4th, at round 20. There
    // the hour's buckets (T0 + 5 h + 300 s on) hold 240 slices, 4 bad:
    // 16.7 (at round 15, 3 of 239: 12.6); the last 5 min: 4 of 20, 200.
    assert_eq!(first(&changes, 0, Transition::Firing), Some(20));
    // Page, 6 h and 30 min over 6: the 6 h window's hour buckets start at
    // T0 + 1 h, so it holds 1,201 + j slices at round j + 1: 8 bad of 1,240
    // (6.45) at round 40; 7 of 1,235 (5.67) at round 35 is not over.
    assert_eq!(first(&changes, 1, Transition::Firing), Some(40));
    // Ticket, 3 d and 6 h over 1: 3 d holds every slice, 2 bad of 1,450
    // (1.38) at round 10, where 6 h holds 2 of 1,210 (1.65); 1 of 1,445
    // (0.69) at round 5 is not.
    assert_eq!(first(&changes, 2, Transition::Firing), Some(10));
    assert!(changes.iter().flatten().all(|&(_, t)| t == Transition::Firing), "nothing resolves while it burns");
}

#[test]
fn a_page_resolves_when_its_short_window_falls_back() {
    // The same origin heals after its page (round 20: bad slices at rounds
    // 5, 10, 15, 20; the last at T0 + 6 h + 285 s, in the minute bucket of
    // T0 + 6 h + 240 s). The 5-minute window leaves that bucket out once
    // now - 300 s reaches T0 + 6 h + 240 s: at T0 + 6 h + 540 s, round 37.
    let changes = one_in_five(60, |j| j < 20 && j % 5 == 4);
    assert_eq!(first(&changes, 0, Transition::Firing), Some(20));
    assert_eq!(first(&changes, 0, Transition::Resolved), Some(37));
    // The long window alone (still over 14.4 at round 37: 4 of 240) holds nothing open.
    assert_eq!(changes.iter().flatten().filter(|&&(p, _)| p == 0).count(), 2);
}

#[test]
fn maintenance_drains_and_cut_off_rounds_count_as_neither() {
    // Four objectives: the fleet, r0, o000, and o001 counting degraded as bad.
    let slos = "[[slo]]\nname = \"fleet\"\nobjective = 99.9\n\
                [[slo]]\nname = \"r0\"\nregion = \"r0\"\nobjective = 99.9\n\
                [[slo]]\nname = \"o000\"\norigin = \"o000\"\nobjective = 99.9\n\
                [[slo]]\nname = \"o001\"\norigin = \"o001\"\nobjective = 99.9\nbad = [\"down\", \"degraded\"]\n";
    let window = format!(
        "[[maintenance]]\nid = \"m\"\nreason = \"disk swap\"\norigins = [\"o000\"]\nstart = \"{}\"\nend = \"{}\"\n",
        edgecheck_core::time::rfc3339(T0 + 60_000),
        edgecheck_core::time::rfc3339(T0 + 120_000)
    );
    let c = fleet_with(&format!("{slos}{window}"));
    use Slice::{Bad as B, Excluded as E, Good as G};
    let at = |s: u64| T0 + s * 1000;
    let merged = |s: u64, codes: &str| Merged::single(&round(at(s), codes), true);
    let first = advance_merged(&c, None, &merged(0, "uu")).state;
    // (what, the state a round left, each objective's slice)
    let mut rows: Vec<(&str, MonitorState, [Slice; 4])> = Vec::new();
    rows.push(("all up", first.clone(), [G, G, G, G]));
    let degraded = advance_merged(&c, Some(&first), &merged(15, "ud")).state;
    // Degraded: good where only down is bad (the fleet, the origin), bad
    // for o001, which counts degraded too.
    rows.push(("o001 degraded", degraded, [G, G, G, B]));
    let down = advance_merged(&c, Some(&first), &merged(15, "xu")).state;
    // The undamped verdict counts at once (rise and fall are 1 here, but the
    // slice never waits for them); r0's quorum of 1 fails, the fleet's
    // min_regions_up of 1 holds: degraded, good.
    rows.push(("o000 down", down, [G, B, B, G]));
    // The canary failed: self-isolated, every objective excluded.
    let isolated = advance(&c, Some(&first), &round(at(15), "xx"), false).state;
    rows.push(("self-isolated", isolated, [E, E, E, E]));
    // Every probe timed out: self-isolated too.
    let timed_out = advance_merged(&c, Some(&first), &merged(15, "tt")).state;
    rows.push(("every probe timed out", timed_out, [E, E, E, E]));
    // No merged verdict for o000 (too few vantages voted): it, its region
    // and the fleet cannot be judged; o001 can.
    let mut cut = merged(15, "xx");
    cut.probes[0] = None;
    let stale = advance_merged(&c, Some(&first), &cut).state;
    rows.push(("o000 stale", stale, [E, E, E, B]));
    // In o000's maintenance window (from 60 s to 120 s): o000 is
    // excluded though down; r0, which the window does not name, is bad.
    let planned = advance_merged(&c, Some(&first), &merged(90, "xu")).state;
    rows.push(("o000 in maintenance", planned, [G, B, E, G]));
    // o000 drained: excluded; in r0's quorum it counts as down (the shown
    // view's rule), so r0 is bad; the fleet is degraded, good.
    let mut before = first.clone();
    before.drains.insert("o000".into(), Drain { reason: "swap".into(), since_ms: at(5), until_ms: None });
    let drained = advance_merged(&c, Some(&before), &merged(15, "uu")).state;
    rows.push(("o000 drained", drained, [G, B, E, G]));
    // r0 drained: r0 and its origin excluded; the fleet counts r0 as down,
    // its one region of two: degraded, still good.
    let mut before = first.clone();
    before.drains.insert("r0".into(), Drain { reason: "swap".into(), since_ms: at(5), until_ms: None });
    let drained = advance_merged(&c, Some(&before), &merged(15, "uu")).state;
    rows.push(("r0 drained", drained, [G, E, E, G]));
    for (what, state, expected) in rows {
        assert_eq!(slices(&c, &state), expected, "{what}");
    }
    // An excluded slice writes nothing and counts nowhere.
    let slo = &c.slos()[0];
    let mut counts = SloCounts::new(slo.layout());
    assert!(counts.add(&slo.name, E, T0).is_empty());
    assert_eq!((counts.sums(HOUR_MS, T0), counts.buckets()), (Sums::default(), 0));
}

#[test]
fn counts_are_rows_that_restore() {
    let c = fleet_with("[[slo]]\nname = \"s\"\nobjective = 99.9\n");
    let slo = &c.slos()[0];
    let mut counts = SloCounts::new(slo.layout());
    let mut rows: Vec<(u64, u64, u32, u32)> = Vec::new();
    for i in 0..2_000u64 {
        let slice = if i % 7 == 0 { Slice::Bad } else { Slice::Good };
        let adds = counts.add(&slo.name, slice, T0 + i * 15_000);
        // One row per bucket touched: its minute's and its hour's.
        assert_eq!(adds.iter().map(|a| a.width_ms).collect::<Vec<_>>(), [MINUTE_MS, HOUR_MS]);
        rows.extend(adds.iter().map(|a| (a.width_ms, a.bucket_ms, a.good, a.bad)));
    }
    let now = T0 + 1_999 * 15_000;
    // What storage holds (every row added, never pruned) reads back as the
    // counts that were kept; a row of another width (the windows changed)
    // or dated after now (damage) is left out.
    rows.push((2 * MINUTE_MS, T0, 5, 5));
    rows.push((MINUTE_MS, now + MINUTE_MS, 5, 5));
    let restored = SloCounts::restore(slo.layout(), rows, now);
    assert_eq!(restored, counts);
    // The fine ring keeps the hour it needs, the coarse one the 30 days.
    assert_eq!(counts.buckets(), 60 + 9, "{counts:?}");
}

#[test]
fn the_counts_rows_fit_the_platform_at_the_fleet_limit() {
    // The most buckets one objective keeps: 90 days of hours (2,160) and
    // 1,440 fine ones (windows of 1 min and 4 h 48 min: 12-second buckets).
    let text = format!("[[slo]]\nname = \"{}\"\nobjective = 99.999\nwindow_days = 90\n", "s".repeat(64))
        + "\
                [[slo.alerts]]\nseverity = \"page\"\nlong_window = \"4h 48m\"\nshort_window = \"1m\"\nburn_rate = 14.4\n\
                [[slo.alerts]]\nseverity = \"ticket\"\nlong_window = \"90d\"\nshort_window = \"6h\"\nburn_rate = 1\n";
    let c = fleet_with(&text);
    let slo = &c.slos()[0];
    assert_eq!(slo.name.len(), 64);
    let layout = slo.layout();
    assert_eq!((layout.fine_ms, layout.fine_buckets, layout.coarse_buckets), (12_000, 1_440, 2_160));
    // Every bucket full, every count at its largest.
    let now = T0 + 90 * DAY_MS;
    let fine = (0..1_440u64).map(|k| (12_000, now - now % 12_000 - k * 12_000, u32::MAX, u32::MAX));
    let coarse = (0..2_160u64).map(|k| (HOUR_MS, now - now % HOUR_MS - k * HOUR_MS, u32::MAX, u32::MAX));
    let counts = SloCounts::restore(layout, fine.chain(coarse), now);
    assert_eq!(counts.buckets(), MAX_BUCKETS);
    assert_eq!(MAX_BUCKETS, 3_600);
    // Sums never overflow: 2,160 buckets of u32::MAX in u64 (the 90-day
    // window's buckets start after T0, at T0 + 1 h .. T0 + 90 d).
    assert_eq!(counts.sums(90 * DAY_MS, now).bad, 2_160 * u64::from(u32::MAX));
    // Each row is one bucket: a name of 64 bytes and five integers.
    let mut counts = counts;
    let rows = counts.add(&slo.name, Slice::Bad, now);
    assert_eq!(rows.len(), 2);
    assert_eq!(rows, edgecheck_core::slo::adds(slo, Slice::Bad, now), "the model writes what a round writes");
    let row = SloAdd {
        slo: slo.name.clone(),
        width_ms: u64::MAX,
        bucket_ms: u64::MAX,
        good: u32::MAX,
        bad: u32::MAX,
        keep_until_ms: u64::MAX,
    };
    assert_eq!(row.value_bytes(), SloAdd::MAX_VALUE_BYTES);
    assert!(rows.iter().all(|r| r.value_bytes() <= SloAdd::MAX_VALUE_BYTES));
    assert!(row.value_bytes() < MAX_ROW_BYTES);
    // Per objective at the worst: 3,600 rows of 104 bytes, 374,400 bytes; at
    // the fleet limit (10,000 objectives) 3.744 GB in 36 million rows (under
    // a Durable Object's 10 GB), and a round adds to 20,000 of them (2.08 MB).
    assert_eq!(MAX_BUCKETS * SloAdd::MAX_VALUE_BYTES, 374_400);
    assert_eq!(MAX_SLOS * MAX_BUCKETS * SloAdd::MAX_VALUE_BYTES, 3_744_000_000);
    assert_eq!(MAX_SLOS * 2 * SloAdd::MAX_VALUE_BYTES, 2_080_000);
}

#[test]
fn a_burn_alert_tells_each_channel_the_objective_its_pair_rates_and_budget() {
    let pd = "[[notify]]\nname = \"pd\"\nkind = \"pagerduty\"\nrouting_key_secret = \"K\"\n";
    let slo = "[[slo]]\nname = \"edge\"\norigin = \"o001\"\nobjective = 99.9\nchannels = [\"pd\", \"hook\"]\n\
               [[slo]]\nname = \"quiet\"\nobjective = 99\n";
    let c = fleet_with(&format!("{pd}{slo}"));
    let [edge, quiet] = c.slos() else { panic!() };
    let fired = |pair, transition, long_rate, short_rate| AlertChange { pair, transition, long_rate, short_rate };
    let changes = [fired(0, Transition::Firing, 16.7, 200.0), fired(2, Transition::Firing, 1.38, 1.65)];
    let budget = Budget { ratio: -0.5, minutes: -21.6 };
    let told = burn_notices(&c, edge, &changes, budget, T0);
    let who: Vec<(&str, &Action, &str)> =
        told.iter().map(|(ch, n)| (ch.as_str(), &n.action, n.dedup_key.as_str())).collect();
    let trigger = |severity: &str| Action::Trigger { severity: severity.into() };
    // PagerDuty: critical for the page, warning for the ticket, one incident
    // each; the webhook a message each. In the order the objective names them.
    assert_eq!(
        who,
        [
            ("pd", &trigger("critical"), "edgecheck-slo-edge-page-1h-5m"),
            ("pd", &trigger("warning"), "edgecheck-slo-edge-ticket-3d-6h"),
            ("hook", &Action::Message, "edgecheck-slo-edge-page-1h-5m"),
            ("hook", &Action::Message, "edgecheck-slo-edge-ticket-3d-6h"),
        ]
    );
    let (_, page) = &told[0];
    assert_eq!((page.slo.as_str(), page.scope.as_str(), page.name.as_str()), ("edge", "origin", "o001"));
    assert_eq!((page.severity, page.long_window.as_str(), page.short_window.as_str()), (Severity::Page, "1h", "5m"));
    assert_eq!((page.objective, page.burn_rate, page.long_rate, page.short_rate), (99.9, 14.4, 16.7, 200.0));
    assert_eq!((page.budget_ratio, page.budget_minutes, page.round_ms), (-0.5, -21.6, T0));
    // Its resolve closes the same incident.
    let resolved = burn_notices(&c, edge, &[fired(0, Transition::Resolved, 16.7, 0.0)], budget, T0 + 15_000);
    assert_eq!(resolved[0].0, "pd");
    assert_eq!(
        (&resolved[0].1.action, resolved[0].1.dedup_key.as_str()),
        (&Action::Resolve, "edgecheck-slo-edge-page-1h-5m")
    );
    assert_eq!(resolved[1].1.action, Action::Message);
    // An objective that names no channel tells no one (it is still shown).
    assert_eq!(burn_notices(&c, quiet, &changes, budget, T0), []);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Any slices at any times, and any stored rows, damaged ones included:
    /// nothing panics, the buckets stay within the layout, a window never
    /// holds more slices than were counted, and the rows a round writes read
    /// back as the counts kept.
    #[test]
    fn counts_never_panic_and_read_back_from_their_rows(
        steps in proptest::collection::vec((0u64..400_000, 0u8..3), 1..200),
        junk in proptest::collection::vec((any::<u64>(), any::<u64>(), any::<u32>(), any::<u32>()), 0..20),
        start in prop_oneof![Just(0u64), Just(T0), 0u64..=253_402_300_799_999],
        window in prop_oneof![Just(0u64), Just(5 * MINUTE_MS), Just(HOUR_MS), Just(3 * DAY_MS), Just(30 * DAY_MS), any::<u64>()],
        now in prop_oneof![Just(0u64), Just(u64::MAX), any::<u64>()],
    ) {
        let c = fleet_with("[[slo]]\nname = \"s\"\nobjective = 99.9\n");
        let slo = &c.slos()[0];
        let layout = slo.layout();
        let mut counts = SloCounts::new(layout);
        let (mut at, mut counted, mut rows) = (start, 0u64, Vec::new());
        for (gap, kind) in steps {
            at += gap;
            let slice = [Slice::Good, Slice::Bad, Slice::Excluded][usize::from(kind)];
            counted += u64::from(slice != Slice::Excluded);
            rows.extend(counts.add(&slo.name, slice, at).into_iter().map(|r| (r.width_ms, r.bucket_ms, r.good, r.bad)));
            prop_assert!(counts.buckets() <= layout.fine_buckets + layout.coarse_buckets);
            prop_assert!(counts.sums(window, at).total() <= counted);
        }
        prop_assert_eq!(&SloCounts::restore(layout, rows.clone(), at), &counts);
        let damaged = SloCounts::restore(layout, rows.into_iter().chain(junk), now);
        let _ = (damaged.sums(window, now), budget_remaining(slo, &damaged, now), alerts(slo, &damaged, now, &[0, 1, 2]));
        prop_assert!(damaged.buckets() <= layout.fine_buckets + layout.coarse_buckets);
    }
}

/// The production path: `store::record` counts each round's slice in
/// storage's rows, reads the windows back and keeps the pairs firing, and
/// agrees round by round with the model ([`one_in_five`]) through a restart
/// (`store::restore`) and a commit that fails.
#[test]
fn rounds_count_in_storage_and_alert_as_the_model_through_a_restart_and_a_failed_commit() {
    use edgecheck_core::store::{self, Memory, MemoryStore};
    let channels = "[[notify]]\nname = \"hook\"\nkind = \"webhook\"\nurl_secret = \"U\"\nsigning_secret = \"S\"\n\
                    [[notify]]\nname = \"pd\"\nkind = \"pagerduty\"\nrouting_key_secret = \"K\"\n";
    let c = valid(&format!(
        "{BASE}fall = 3\n{channels}[[slo]]\nname = \"a-availability\"\norigin = \"a\"\nobjective = 99.9\n\
         channels = [\"hook\", \"pd\"]\n"
    ));
    let slo = &c.slos()[0];
    let db = MemoryStore::default();
    let mut memory: Option<Memory> = None;
    let history = 6 * 240;
    let (restart, failed_commit) = (history + 30, history + 45);
    let mut firing_at: Vec<(usize, usize)> = Vec::new();
    for k in 0..history + 60 {
        let at = T0 + k as u64 * 15_000;
        let failed = k >= history && (k - history) % 5 == 4;
        let next = advance(&c, memory.as_ref().map(|m| &m.state), &round(at, if failed { "x" } else { "u" }), true);
        if k == restart {
            let (restored, problems) = store::restore(&db, &c, at);
            assert!(problems.is_empty(), "{problems:?}");
            let restored = restored.expect("a stored state");
            assert_eq!(restored.slo, memory.as_ref().unwrap().slo, "a restart reads back the same windows and pairs");
            memory = Some(restored);
        }
        db.fail_writes.set(k == failed_commit);
        let before = memory.as_ref().map(|m| m.slo.clone()).unwrap_or_default();
        let (served, problems) = store::record(&db, &c, memory, next);
        let (sums, state) = &served.slo["a-availability"];
        if k == failed_commit {
            assert_eq!(problems.len(), 1, "{problems:?}");
            assert_eq!(served.slo, before, "a failed commit counts nothing and fires nothing");
        } else {
            assert!(problems.is_empty(), "round {k}: {problems:?}");
            // The windows are what the rows sum to after the commit.
            let read = store::slo_sums(&db, &c, at).unwrap();
            assert_eq!(&read["a-availability"], sums, "round {k}");
        }
        let pairs = state.firing_pairs(slo);
        let was = before.get("a-availability").map(|(_, s)| s.firing_pairs(slo)).unwrap_or_default();
        for &pair in pairs.iter().filter(|p| !was.contains(p)) {
            firing_at.push((pair, k + 1 - history));
        }
        assert!(was.iter().all(|p| pairs.contains(p)), "round {k}: nothing resolves while it burns");
        memory = Some(served);
    }
    // The model's rounds (one_failure_in_five_pages_while_the_origin_stays_up).
    let mut by_pair = firing_at.clone();
    by_pair.sort_unstable();
    assert_eq!(by_pair, [(0, 20), (1, 40), (2, 10)]);

    // Each pair that fired is one notice per channel, in the order they
    // fired, written in its round's commit; the origin's status told nothing.
    let outbox = db.outbox();
    let queued = |channel: &str| -> Vec<edgecheck_core::notify::Notice> {
        outbox
            .iter()
            .filter(|((c, _), _)| c == channel)
            .map(|(_, json)| serde_json::from_str::<edgecheck_core::notify::Pending>(json).unwrap().notice)
            .collect()
    };
    for channel in ["hook", "pd"] {
        let notices = queued(channel);
        let pairs: Vec<(String, String)> = notices
            .iter()
            .map(|n| {
                let b = n.burn.as_ref().expect("only burn-rate notices");
                (b.long_window.clone(), b.short_window.clone())
            })
            .collect();
        assert_eq!(pairs, [("3d", "6h"), ("1h", "5m"), ("6h", "30m")].map(|(l, s)| (l.into(), s.into())));
    }
    let hook = &queued("hook")[1];
    let webhook = edgecheck_core::notify::deliver::webhook_body(hook);
    assert_eq!(webhook["type"], "edgecheck.burn_rate");
    assert_eq!(webhook["data"]["state"], "firing");
    assert_eq!(webhook["data"]["severity"], "page");
    assert_eq!(webhook["data"]["slo"], "a-availability");
    assert!(webhook["data"]["long_rate"].as_f64().unwrap() > 14.4, "{webhook}");
    let pd = &queued("pd");
    let pd_channel = &c.channels()[1];
    let events: Vec<serde_json::Value> =
        pd.iter().map(|n| edgecheck_core::notify::deliver::pagerduty_body(pd_channel, n, "K")).collect();
    let severities: Vec<&str> = events.iter().map(|e| e["payload"]["severity"].as_str().unwrap()).collect();
    assert_eq!(severities, ["warning", "critical", "critical"], "a ticket, then two pages");
    let keys: std::collections::BTreeSet<&str> = events.iter().map(|e| e["dedup_key"].as_str().unwrap()).collect();
    assert_eq!(keys.len(), 3, "one dedup key per pair: {keys:?}");
    assert!(keys.iter().all(|k| k.starts_with("edgecheck-slo-a-availability-")), "{keys:?}");
    assert!(events.iter().all(|e| e["event_action"] == "trigger"));
    // The restart at pattern round 30 re-queued nothing: the ids are unique.
    let ids: std::collections::BTreeSet<&str> = pd.iter().map(|n| n.id.as_str()).collect();
    assert_eq!(ids.len(), pd.len());
}

/// Storage of the objectives: a removed objective's rows are dropped (at
/// restore, with a log line, and by the next round), a damaged state row
/// starts with no pair firing and is rewritten, and a bucket is pruned once
/// no window of its objective reaches it.
#[test]
fn objectives_rows_are_dropped_repaired_and_pruned() {
    use edgecheck_core::store::{self, MemoryStore};
    let two = fleet_with(
        "[[slo]]\nname = \"fleet\"\nobjective = 99.9\n[[slo]]\nname = \"edge\"\nregion = \"r0\"\nobjective = 99.0\n",
    );
    let db = MemoryStore::default();
    let mut memory = None;
    for k in 0..3u64 {
        let at = T0 + k * 30_000;
        let next = advance(&two, memory.as_ref().map(|m: &store::Memory| &m.state), &round(at, "uu"), true);
        memory = Some(store::record(&db, &two, memory, next).0);
    }
    let names: std::collections::BTreeSet<String> = db.slo_buckets().keys().map(|k| k.0.clone()).collect();
    assert_eq!(names, ["edge".to_string(), "fleet".to_string()].into());
    // Each round adds to one fine and one hour bucket per objective: 3 good slices in each.
    let fleet = &memory.as_ref().unwrap().slo["fleet"].0;
    assert_eq!(fleet.get(5 * MINUTE_MS), Sums { good: 3, bad: 0 });
    assert_eq!(fleet.get(30 * DAY_MS), Sums { good: 3, bad: 0 });

    // "edge" is removed from the config; its state row is damaged too.
    let one = fleet_with("[[slo]]\nname = \"fleet\"\nobjective = 99.9\n");
    db.put_raw_slo_state("edge", "{\"firing\": 7}");
    db.put_raw_slo_state("fleet", "not json");
    let at = T0 + 3 * 30_000;
    let (restored, problems) = store::restore(&db, &one, at);
    let text: Vec<String> = problems.iter().map(|p| p.0.clone()).collect();
    assert!(text.iter().any(|p| p.contains("\"edge\" is no longer configured")), "{text:?}");
    assert!(text.iter().any(|p| p.contains("state of objective \"fleet\" is damaged")), "{text:?}");
    let restored = restored.unwrap();
    assert_eq!(restored.slo.keys().collect::<Vec<_>>(), ["fleet"]);
    assert_eq!(restored.slo["fleet"].0.get(5 * MINUTE_MS), Sums { good: 3, bad: 0 }, "the counts of one that stays");
    assert!(db.slo_buckets().keys().all(|k| k.0 == "fleet"), "edge's buckets are dropped");
    let (again, problems) = store::restore(&db, &one, at);
    assert!(problems.is_empty(), "the repairs were committed: {problems:?}");
    assert_eq!(again.unwrap().slo, restored.slo);

    // A bucket dated after now (a clock gone wrong) would count in every
    // window until then: deleted on load, with the log line of damaged times.
    db.put_raw_slo_bucket("fleet", MINUTE_MS, at + DAY_MS, (0, 1_000, at + 2 * DAY_MS));
    let (dated, problems) = store::restore(&db, &one, at);
    let text: Vec<String> = problems.iter().map(|p| p.0.clone()).collect();
    assert!(text.iter().any(|p| p.contains("dated after now")), "{text:?}");
    assert!(db.slo_buckets().keys().all(|k| k.2 <= at), "{:?}", db.slo_buckets());
    assert_eq!(
        dated.unwrap().slo["fleet"].0.get(5 * MINUTE_MS),
        Sums { good: 3, bad: 0 },
        "the future bucket never counted"
    );

    // A fine bucket is kept as long as the longest fine window (1 h) reaches
    // it; the hour buckets for the objective's 30 days.
    let late = T0 + HOUR_MS + 2 * MINUTE_MS;
    let next = advance(&one, Some(&restored.state), &round(late, "uu"), true);
    let (_, problems) = store::record(&db, &one, Some(restored), next);
    assert!(problems.is_empty(), "{problems:?}");
    let kept = db.slo_buckets();
    assert!(kept.keys().all(|(_, width, bucket)| *width == HOUR_MS || *bucket >= T0 + MINUTE_MS), "{kept:?}");
    assert!(kept.keys().any(|(_, width, bucket)| *width == HOUR_MS && *bucket == T0), "{kept:?}");
    assert!(kept.values().all(|(_, _, keep_until)| *keep_until > late));
}

/// A refusing receiver's queue of burn-rate notices stays within the
/// outbox's bound: past it, each pair keeps its newest notice (a trigger
/// then a resolve leaves the resolve), in queue order, the head untouched;
/// and should more pairs wait than the bound holds, the oldest are dropped
/// and counted.
#[test]
fn burn_notices_fold_to_each_pairs_newest_within_the_bound() {
    use edgecheck_core::notify::{fold, plan, ChannelState, NotifyState, MAX_PENDING_NOTICES};
    let pd = "[[notify]]\nname = \"pd\"\nkind = \"pagerduty\"\nrouting_key_secret = \"K\"\n";
    let slos: String = (0..12)
        .map(|k| format!("[[slo]]\nname = \"s{k:02}\"\norigin = \"o001\"\nobjective = 99.9\nchannels = [\"pd\"]\n"))
        .collect();
    let c = fleet_with(&format!("{pd}{slos}"));
    let state = step(&c, None, T0, "uu");
    let budget = Budget { ratio: 0.5, minutes: 21.6 };
    let mut told = NotifyState::new();
    // Round by round, objective k's page fires, then resolves: 24 notices
    // queued for 12 pairs, never delivered.
    for (round, transition) in [Transition::Firing, Transition::Resolved].into_iter().enumerate() {
        for (k, slo) in c.slos().iter().enumerate() {
            let at = T0 + (round * 12 + k) as u64 * 15_000;
            let change = AlertChange { pair: 0, transition, long_rate: 20.0, short_rate: 20.0 };
            let burns = burn_notices(&c, slo, &[change], budget, at);
            let planned = plan(&c, &told, Some(&state), &state, at, &burns);
            told = planned.state;
            let queue = &told["pd"].pending;
            assert!(queue.len() <= MAX_PENDING_NOTICES, "{} queued", queue.len());
            assert!(queue.windows(2).all(|w| w[0].seq < w[1].seq), "in order");
        }
    }
    let queue = &told["pd"].pending;
    let seen: Vec<(String, Transition)> = queue
        .iter()
        .map(|p| {
            let b = p.notice.burn.as_ref().unwrap();
            (b.slo.clone(), b.transition)
        })
        .collect();
    // The head (s00's trigger, maybe in flight) stays; every pair's newest
    // notice (its resolve) is queued, after any of its older ones, and a
    // folded trigger is never left without its resolve.
    assert_eq!(seen[0], ("s00".into(), Transition::Firing), "{seen:?}");
    for k in 0..12 {
        let name = format!("s{k:02}");
        let mine: Vec<Transition> = seen[1..].iter().filter(|(n, _)| *n == name).map(|(_, t)| *t).collect();
        assert_eq!(mine.last(), Some(&Transition::Resolved), "{name}: {seen:?}");
        assert!(mine.len() <= 2 && (mine.len() == 1 || mine[0] == Transition::Firing), "{name}: {seen:?}");
    }
    assert!(seen.len() < 24, "folded: {seen:?}");
    assert_eq!(told["pd"].stats.dropped, 0, "12 pairs fit: nothing dropped");

    // 20 pairs waiting at once do not fit: the oldest are dropped, counted.
    let mut cs: ChannelState = told["pd"].clone();
    let many: Vec<_> = (0..20)
        .flat_map(|k| {
            let mut slo = c.slos()[0].clone();
            slo.name = format!("x{k:02}");
            burn_notices(
                &c,
                &slo,
                &[AlertChange { pair: 0, transition: Transition::Firing, long_rate: 20.0, short_rate: 20.0 }],
                budget,
                T0,
            )
        })
        .collect();
    for (i, (_, burn)) in many.into_iter().enumerate() {
        let mut pending = cs.pending[0].clone();
        pending.seq = 1_000 + i as u64;
        pending.notice.burn = Some(burn);
        cs.pending.push(pending);
        fold("pd", &mut cs);
        assert!(cs.pending.len() <= MAX_PENDING_NOTICES);
    }
    assert!(cs.stats.dropped > 0, "the oldest pairs were dropped and counted");
    assert_eq!(cs.pending.last().unwrap().notice.burn.as_ref().unwrap().slo, "x19", "the newest is kept");
}

/// A short window with no slice (the checker stopped, or every round cut
/// off) holds a firing pair: no data is not good news. The first good slice
/// after it resolves the pair.
#[test]
fn a_short_window_without_slices_holds_a_firing_pair() {
    let c = fleet_with("[[slo]]\nname = \"edge\"\norigin = \"o001\"\nobjective = 99.9\n");
    let slo = &c.slos()[0];
    // An hour of rounds every 15 s, one in five bad: every pair fires.
    let (counts, now) = counted(slo, 15_000, 240, |k| k % 5 == 4);
    let fired: Vec<usize> = alerts(slo, &counts, now, &[]).iter().map(|a| a.pair).collect();
    assert_eq!(fired, [0, 1, 2]);
    // Ten minutes without a slice: the 5-minute window is empty, the page holds.
    let later = now + 10 * MINUTE_MS;
    assert_eq!(counts.sums(5 * MINUTE_MS, later).total(), 0);
    assert_eq!(alerts(slo, &counts, later, &fired), []);
    // One good slice: the page's short window holds slices again, none bad.
    let mut counts = counts;
    counts.add(&slo.name, Slice::Good, later);
    let resolved: Vec<(usize, Transition)> =
        alerts(slo, &counts, later, &fired).iter().map(|a| (a.pair, a.transition)).collect();
    assert_eq!(resolved, [(0, Transition::Resolved)]);
}
