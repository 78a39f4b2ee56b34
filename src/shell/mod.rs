//! The worker shell: the `fetch` entry point. It routes with [`crate::http`],
//! runs a probing round when the route needs one, and turns the core's
//! [`crate::http::Reply`] into a `worker::Response`. Nothing here decides health.

mod probe;

use std::sync::OnceLock;

use worker::{event, Context, Env, Headers, Request, Response, ResponseBuilder, Result};

use crate::aggregate::aggregate;
use crate::config::Config;
use crate::http::{self, Dispatch, Reply};

/// The validated fleet, parsed once per isolate.
fn config() -> &'static Config {
    static CONFIG: OnceLock<Config> = OnceLock::new();
    CONFIG.get_or_init(crate::embedded_config)
}

#[event(start)]
fn start() {
    console_error_panic_hook::set_once();
}

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> Result<Response> {
    let config = config();
    let method = req.method().to_string();
    let url = req.url()?;
    let reply = match http::dispatch(config, &method, url.path()) {
        Dispatch::Answer(reply) => reply,
        Dispatch::Probe(target) => {
            let round = probe::round(config, &env).await;
            let view = aggregate(config, &round.probes);
            let reply = http::answer(config, target, &round, &view);
            if method == "HEAD" {
                reply.without_body()
            } else {
                reply
            }
        }
    };
    to_response(reply)
}

fn to_response(reply: Reply) -> Result<Response> {
    let headers = Headers::new();
    for (name, value) in &reply.headers {
        headers.set(name, value)?;
    }
    let builder = ResponseBuilder::new()
        .with_status(reply.status)
        .with_headers(headers);
    Ok(match reply.body {
        Some(body) => builder.fixed(body.into_bytes()),
        None => builder.empty(),
    })
}
