//! Two deployments in one zone share one Cache API store and never each other's snapshot.

use super::*;

pub(crate) fn two_deployments_in_one_zone_never_share_answers(p: &Prepared) {
    let (ok, output) = p.also.as_ref().expect("the second deployment is built");
    assert!(ok, "second build failed:\n{output}");
    let shared = e2e_dir(p.name).join("shared-state");
    let _ = std::fs::remove_dir_all(&shared);
    let a = Worker::run_with_state(p.name, &shared);
    let b = Worker::run_with_state(&format!("{}-b", p.name), &shared);
    let (mut a_hit, mut b_hit) = (false, false);
    for _ in 0..60 {
        for (worker, count, ready, hit) in [(&a, 2, 200, &mut a_hit), (&b, 1, 503, &mut b_hit)] {
            let mut health = worker.call("GET", "/health");
            let cache = health.headers()["x-edgecheck-cache"].to_str().unwrap().to_string();
            let doc: Value = serde_json::from_str(&health.body_mut().read_to_string().unwrap()).unwrap();
            assert_eq!(doc["origin_count"], count, "a deployment served another's /health ({cache}): {doc}");
            let answer = worker.call("GET", "/ready");
            assert_eq!(answer.status().as_u16(), ready, "a deployment served another's /ready");
            *hit |= cache != "miss";
        }
        if a_hit && b_hit {
            break;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    assert!(a_hit && b_hit, "both deployments answer without their monitor: a {a_hit}, b {b_hit}");
}
