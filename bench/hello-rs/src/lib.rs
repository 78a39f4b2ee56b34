//! Hello world in workers-rs: the smallest worker built the way edgecheck is.

use worker::{event, Context, Env, Request, Response, Result};

#[event(fetch)]
async fn fetch(_req: Request, _env: Env, _ctx: Context) -> Result<Response> {
    Response::ok("{\"status\":\"ok\"}")
}
