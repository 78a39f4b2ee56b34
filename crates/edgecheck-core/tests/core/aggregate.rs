//! Aggregation: quorums, critical origins, the global view, readiness with `degraded_is_ready`.

use super::*;

/// Regions are in name order: east, south, west. Origins: e1 e2 e3(critical) w1 w2 w3 s1.
#[test]
fn aggregation_quorum_critical_and_global() {
    use Health::*;
    let c = valid(FLEET);
    let rows: &[(&str, [Health; 3], Overall)] = &[
        ("uuuuuuu", [Up, Up, Up], Overall::Ok),
        ("duuuuuu", [Degraded, Up, Up], Overall::Degraded),
        ("xuuuuuu", [Degraded, Up, Up], Overall::Degraded),
        ("xxuuuuu", [Down, Up, Up], Overall::Degraded),
        ("uuxuuuu", [Down, Up, Up], Overall::Degraded),
        ("uudxxuu", [Degraded, Up, Down], Overall::Degraded),
        ("uuudxuu", [Up, Up, Degraded], Overall::Degraded),
        ("uuuxxuu", [Up, Up, Down], Overall::Degraded),
        ("uuuuuud", [Up, Degraded, Up], Overall::Degraded),
        ("uuuuuux", [Up, Down, Up], Overall::Degraded),
        ("xxuuuux", [Down, Down, Up], Overall::Down),
        ("xxxxxxx", [Down, Down, Down], Overall::Down),
        ("ddddddd", [Degraded, Degraded, Degraded], Overall::Degraded),
    ];
    for &(codes, regions, overall) in rows {
        let view = aggregate(&c, &healths(codes));
        let got: Vec<Health> = view.regions.iter().map(|r| r.health).collect();
        assert_eq!((got.as_slice(), view.overall), (&regions[..], overall), "{codes}");
        for r in &view.regions {
            assert_eq!(r.up + r.degraded + r.down, r.total);
        }
    }
}

#[test]
fn degraded_is_ready_opens_readiness_for_degraded_only() {
    let c = valid(&FLEET.replace("min_regions_up = 2", "min_regions_up = 2\ndegraded_is_ready = true"));
    // (probes, global status, whether the global view, the first region and its first origin are ready)
    for (codes, overall, ready) in [("duuuuuu", Overall::Degraded, true), ("xxuuuux", Overall::Down, false)] {
        let state = advance(&c, None, &round(1_000, codes), true).state;
        let view = shown(&c, Snapshot { state: &state, now_ms: 2_000 });
        let first = view.origin(&c, 0);
        assert_eq!((view.status, view.ready, view.regions[0].ready, first.ready), (Some(overall), ready, ready, ready));
    }
}

fn health_strategy() -> impl Strategy<Value = Health> {
    prop_oneof![Just(Health::Up), Just(Health::Degraded), Just(Health::Down)]
}

proptest! {
    /// Making any origin healthier never makes a region or the view worse.
    #[test]
    fn healthier_origin_never_worsens_the_view(
        before in prop::collection::vec(health_strategy(), 7),
        i in 0usize..7,
        better in health_strategy(),
    ) {
        let c = valid(FLEET);
        let mut after = before.clone();
        after[i] = after[i].max(better);
        let (b, a) = (aggregate(&c, &before), aggregate(&c, &after));
        prop_assert!(a.overall >= b.overall);
        for (rb, ra) in b.regions.iter().zip(&a.regions) {
            prop_assert!(ra.health >= rb.health);
        }
    }
}
