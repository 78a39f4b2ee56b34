//! CPU cost of the pure core on the host (criterion): classifying a health body,
//! aggregating a fleet, rendering `/health`. `scripts/bench.sh` runs these and
//! reports them in BENCHMARKS.md.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use edgecheck::aggregate::{aggregate, Probe, Round};
use edgecheck::classify::{classify, Health, Outcome, Reason, Verdict};
use edgecheck::config::{parse_toml, Config};
use edgecheck::http::{answer, Target};
use edgecheck::monitor::{advance, Snapshot};
use edgecheck::render::Uptimes;

fn fleet(n: usize) -> Config {
    let regions = n.min(4);
    let mut toml: String = (1..=regions).map(|r| format!("[regions.r{r}]\n")).collect();
    for i in 0..n {
        let region = i % regions + 1;
        toml += &format!(
            "[[origins]]\nname = \"o{i}\"\nregion = \"r{region}\"\nurl = \"https://o{i}.example.com/health\"\n"
        );
    }
    Config::from_raw(&parse_toml(&toml).unwrap()).unwrap()
}

/// A Spring Boot body of about `size` bytes: real components, padded with details.
fn spring_body(size: usize) -> Vec<u8> {
    let mut components = String::new();
    let mut i = 0;
    while components.len() + 40 < size {
        components += &format!("\"c{i}\":{{\"status\":\"UP\",\"details\":{{\"v\":{i}}}}},");
        i += 1;
    }
    let body = format!("{{\"status\":\"UP\",\"components\":{{{}}}}}", components.trim_end_matches(','));
    body.into_bytes()
}

fn probes(n: usize) -> Vec<Probe> {
    (0..n)
        .map(|i| {
            let health = [Health::Up, Health::Up, Health::Degraded, Health::Down][i % 4];
            Probe { verdict: Verdict { health, reason: Reason::Ok, http_status: Some(200) }, latency_ms: Some(12) }
        })
        .collect()
}

fn benches(c: &mut Criterion) {
    let one = fleet(1);
    for (label, size) in [("classify_200B", 200), ("classify_4KB", 4096)] {
        let outcome =
            Outcome::Answered { status: 200, content_type: Some("application/json".into()), body: spring_body(size) };
        c.bench_function(label, |b| b.iter(|| classify(black_box(&one.origins[0]), black_box(&outcome))));
    }
    for n in [50, 1000] {
        let config = fleet(n);
        let healths: Vec<Health> = probes(n).iter().map(|p| p.verdict.health).collect();
        c.bench_function(&format!("aggregate_{n}"), |b| b.iter(|| aggregate(black_box(&config), black_box(&healths))));
        let round = Round { checked_at_ms: 1_795_000_000_000, duration_ms: 40, probes: probes(n) };
        let state = advance(&config, None, &round, true).state;
        let uptimes = Uptimes::new();
        c.bench_function(&format!("render_health_{n}"), |b| {
            b.iter(|| {
                let snap = Snapshot { state: black_box(&state), now_ms: 1_795_000_003_000 };
                answer(&config, Target::Health, &snap, &uptimes, &[])
            })
        });
    }
}

criterion_group!(core, benches);
criterion_main!(core);
