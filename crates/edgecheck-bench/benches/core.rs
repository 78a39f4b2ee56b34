//! CPU cost of the pure core on the host (criterion): classifying a health body,
//! aggregating a fleet, rendering `/health`. `scripts/bench.sh` runs these and
//! reports them in BENCHMARKS.md, beside the same operations run as wasm in workerd.

use criterion::{criterion_group, criterion_main, Criterion};
use edgecheck_bench as fixtures;

fn benches(c: &mut Criterion) {
    for op in fixtures::OPS {
        let run = fixtures::prepare(op).expect("every op in OPS is prepared");
        if op.ends_with("x3") {
            // Tens of ms each: criterion's fewest samples (10), in the group
            // `limit` (results in target/criterion/limit/<op>).
            let mut group = c.benchmark_group("limit");
            group.sample_size(10);
            group.bench_function(op, |b| b.iter(&run));
            group.finish();
        } else {
            c.bench_function(op, |b| b.iter(&run));
        }
    }
}

criterion_group!(core, benches);
criterion_main!(core);
