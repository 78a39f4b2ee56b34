//! `GET /{op}/{iterations}` runs one of the core benchmark operations that many
//! times in workerd and answers `{"op","iterations","checksum"}`. The client
//! times requests with 0 and with many iterations; the difference per iteration
//! is the operation's cost as wasm.

use edgecheck_bench as fixtures;
use worker::{event, Context, Env, Request, Response, Result};

#[event(fetch)]
async fn fetch(req: Request, _env: Env, _ctx: Context) -> Result<Response> {
    let path = req.path();
    let mut parts = path.trim_matches('/').split('/');
    let op = parts.next().unwrap_or("");
    let iterations: usize = parts.next().and_then(|n| n.parse().ok()).unwrap_or(0);
    let Some(run) = fixtures::prepare(op) else {
        return Response::error(format!("unknown op; try one of {:?}", fixtures::OPS), 404);
    };
    let checksum: usize = (0..iterations).map(|_| run()).fold(0, usize::wrapping_add);
    Response::from_json(&serde_json::json!({ "op": op, "iterations": iterations, "checksum": checksum }))
}
