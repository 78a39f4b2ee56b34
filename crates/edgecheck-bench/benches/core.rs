//! CPU cost of the pure core on the host (criterion): classifying a health body,
//! aggregating a fleet, rendering `/health`. `scripts/bench.sh` runs these and
//! reports them in BENCHMARKS.md, beside the same operations run as wasm in workerd.

use criterion::{criterion_group, criterion_main, Criterion};
use edgecheck_bench as fixtures;

fn benches(c: &mut Criterion) {
    for op in fixtures::OPS {
        let run = fixtures::prepare(op).expect("every op in OPS is prepared");
        c.bench_function(op, |b| b.iter(&run));
    }
}

criterion_group!(core, benches);
criterion_main!(core);
