//! Error budgets (`[[slo]]`): the objectives' config and its errors.

use edgecheck_core::config::slo::{default_alerts, Bad, Layout};
use edgecheck_core::config::{BurnAlert, Severity};
use edgecheck_core::time::{DAY_MS, HOUR_MS, MINUTE_MS};

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
