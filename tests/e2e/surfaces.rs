//! The surfaces people plug into: the page in a real browser, Prometheus, schemas, HEAD.

use super::*;

pub(crate) fn surfaces_fleet() -> Vec<(String, String)> {
    pairs(&[("api-a", "spring"), ("api-b", "hassette"), ("search-a", "refuse"), ("search-b", "elasticsearch-yellow")])
}

pub(crate) fn surfaces_config(fleet: &Fleet) -> String {
    let mut toml = String::from(
        "[settings]\nprobe_timeout_ms = 800\ndeadline_ms = 2000\nrefresh_s = 4\nrise = 1\nfall = 1\n[regions.us-east]\n[regions.eu-west]\nmin_up = \"all\"\n",
    );
    for (name, region) in [("api-a", "us-east"), ("api-b", "us-east"), ("search-a", "eu-west"), ("search-b", "eu-west")]
    {
        toml += &format!(
            "[[origins]]\nname = \"{name}\"\nregion = \"{region}\"\nurl = \"{}\"\n",
            fleet.url(name, "/health")
        );
    }
    toml
}

/// Validates `doc` against `docs/schema/<schema>`.
pub(crate) fn assert_schema(schema: &str, doc: &Value, what: &str) {
    let text = std::fs::read_to_string(Path::new(ROOT).join("docs/schema").join(schema))
        .unwrap_or_else(|e| panic!("docs/schema/{schema}: {e}"));
    let schema_doc: Value = serde_json::from_str(&text).unwrap();
    let validator = jsonschema::validator_for(&schema_doc).unwrap_or_else(|e| panic!("{schema} is not a schema: {e}"));
    let errors: Vec<String> = validator.iter_errors(doc).map(|e| format!("{} at {}", e, e.instance_path)).collect();
    assert!(errors.is_empty(), "{what} does not match {schema}:\n{}\n{doc}", errors.join("\n"));
}

/// `GET path` with `Accept`; (status, content type, body).
pub(crate) fn get_with(worker: &Worker, path: &str, accept: Option<&str>) -> (u16, String, String) {
    let mut req = ureq::http::Request::builder().method("GET").uri(worker.url(path));
    if let Some(accept) = accept {
        req = req.header("accept", accept);
    }
    let mut response = agent().run(req.body(()).unwrap()).unwrap();
    let content_type = response.headers().get("content-type").map_or(String::new(), |v| v.to_str().unwrap().into());
    (response.status().as_u16(), content_type, response.body_mut().read_to_string().unwrap())
}

/// Runs headless Chromium on `args` (Debian's `chromium`, installed by setup.sh).
pub(crate) fn chromium(profile: &Path, args: &[&str]) -> std::process::Output {
    Command::new("chromium")
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run"])
        .args(["--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars"])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .output()
        .expect("chromium runs (scripts/setup.sh installs Debian's chromium)")
}

/// Lays `html` out in headless Chromium in a `width`-px viewport and runs the
/// test's `script` there (a JavaScript expression whose value is JSON), as
/// `(viewport width, value)`. Chromium's window is at least 500 px wide, so
/// the page is laid out in an iframe of `width` px (`srcdoc`, same origin),
/// where its media queries see that width.
pub(crate) fn laid_out(profile: &Path, dir: &Path, html: &str, width: u32, script: &str) -> (u64, Value) {
    let measure = format!(
        "<script>{{const w=document.documentElement.clientWidth;const value=({script});\
         const pre=parent.document.createElement('pre');pre.id='fit';pre.textContent=JSON.stringify({{viewport:w,value}});\
         parent.document.body.appendChild(pre)}}</script>"
    );
    let page = html.replacen("</body>", &format!("{measure}</body>"), 1);
    let srcdoc = page.replace('&', "&amp;").replace('"', "&quot;");
    let frame = dir.join(format!("fit-{width}.html"));
    std::fs::write(
        &frame,
        format!(r#"<!doctype html><html><body style="margin:0"><iframe width="{width}" height="4000" style="border:0" srcdoc="{srcdoc}"></iframe></body></html>"#),
    )
    .unwrap();
    let out = chromium(profile, &["--window-size=800,1000", "--dump-dom", &format!("file://{}", frame.display())]);
    assert!(out.status.success(), "chromium --dump-dom failed: {}", String::from_utf8_lossy(&out.stderr));
    let dom = String::from_utf8_lossy(&out.stdout).into_owned();
    let json = dom
        .split_once("<pre id=\"fit\">")
        .and_then(|(_, rest)| rest.split_once("</pre>"))
        .unwrap_or_else(|| panic!("the measuring script did not run:\n{dom}"))
        .0
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&");
    let fit: Value = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}: {json}"));
    (fit["viewport"].as_u64().unwrap(), fit["value"].clone())
}

/// The elements of `html` that reach outside a `width`-px viewport, as laid
/// out by headless Chromium ([`laid_out`]): `(viewport width, ["tag.class right-edge", …])`.
pub(crate) fn overflowing(profile: &Path, dir: &Path, html: &str, width: u32) -> (u64, Vec<String>) {
    const WIDE: &str = "[...document.querySelectorAll('body *')].filter(e=>{const r=e.getBoundingClientRect();\
        return r.width>0&&(r.right>w+0.5||r.left<-0.5)}).map(e=>e.tagName.toLowerCase()+'.'+e.className+' '+Math.round(e.getBoundingClientRect().right))";
    let (viewport, wide) = laid_out(profile, dir, html, width, WIDE);
    (viewport, wide.as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect())
}

/// Each response-time chart of `html` as headless Chromium draws it at
/// `width` px: `{label, width, height, bars: [p50 bar heights, px], fill, background}`.
pub(crate) fn latency_charts(profile: &Path, dir: &Path, html: &str, width: u32) -> Vec<Value> {
    const CHARTS: &str = "[...document.querySelectorAll('svg.lat')].map(s=>{const r=s.getBoundingClientRect();\
        const bars=[...s.querySelectorAll('rect.p50')];return {label:s.getAttribute('aria-label'),width:r.width,height:r.height,\
        bars:bars.map(b=>b.getBoundingClientRect().height),fill:bars.length?getComputedStyle(bars[0]).fill:null,\
        background:getComputedStyle(document.body).backgroundColor}})";
    laid_out(profile, dir, html, width, CHARTS).1.as_array().unwrap().clone()
}

/// The page, as a phone shows it: no element wider than a 390 px viewport.
pub(crate) fn assert_fits_a_phone(profile: &Path, dir: &Path, html: &str) {
    let (viewport, wide) = overflowing(profile, dir, html, 390);
    assert_eq!(viewport, 390, "laid out at 390 px");
    assert!(wide.is_empty(), "elements reach outside a 390 px viewport: {wide:?}");
}

pub(crate) fn the_surfaces_people_plug_into(p: &Prepared) {
    let worker = p.fresh_worker();
    let health = worker
        .until("/health", 20, |h| h["status"] == "degraded" && origins(h)["search-a"]["reason"] == "connect_error");
    assert_schema("health.schema.json", &health, "/health");

    // The status page, rendered by a real browser.
    let (status, content_type, html) = get_with(&worker, "/", Some("text/html"));
    assert_eq!((status, content_type.as_str()), (200, "text/html; charset=utf-8"), "{html}");
    let dir = e2e_dir(p.name);
    let profile = dir.join("chromium-profile");
    let dom = chromium(&profile, &["--dump-dom", &worker.url("/")]);
    assert!(dom.status.success(), "chromium --dump-dom failed: {}", String::from_utf8_lossy(&dom.stderr));
    let dom = String::from_utf8_lossy(&dom.stdout).into_owned();
    for needle in [
        "<title>Fleet status: Degraded</title>",
        "<main>",
        "Degraded",
        "us-east",
        "eu-west",
        "search-a",
        "connect_error",
        "Recent changes",
        "last 30 days",
    ] {
        assert!(dom.contains(needle), "the rendered page lacks {needle:?}:\n{dom}");
    }
    assert!(!dom.contains("127.0.0.1"), "no address on the page");
    let shot = dir.join("status-page.png");
    let _ = std::fs::remove_file(&shot);
    let out =
        chromium(&profile, &[&format!("--screenshot={}", shot.display()), "--window-size=412,1500", &worker.url("/")]);
    assert!(out.status.success(), "chromium --screenshot failed: {}", String::from_utf8_lossy(&out.stderr));
    let png = std::fs::read(&shot).expect("the screenshot is kept as a test artifact");
    assert!(png.starts_with(b"\x89PNG") && png.len() > 10_000, "{} bytes", png.len());
    eprintln!("e2e: status page screenshot at {}", shot.display());
    assert_fits_a_phone(&profile, &dir, &html);

    // Latency history: a response-time chart per origin, drawn by Chromium
    // on a laptop and on a phone; an origin that answers has a bar this hour,
    // in the text colour, on the page's background.
    for width in [800, 390] {
        let charts = latency_charts(&profile, &dir, &html, width);
        assert_eq!(charts.len(), 4, "a chart per origin at {width} px: {charts:?}");
        let api = charts.iter().find(|c| c["label"].as_str().unwrap().starts_with("api-a,")).unwrap();
        let label = api["label"].as_str().unwrap();
        assert!(label.starts_with("api-a, response time, last 24 hours: p50 ") && label.ends_with(" ms"), "{api}");
        assert!(
            api["width"].as_f64().unwrap() >= 100.0 && api["height"].as_f64().unwrap() >= 20.0,
            "{width} px: {api}"
        );
        let bars = api["bars"].as_array().unwrap();
        assert!(!bars.is_empty() && bars.iter().all(|h| h.as_f64().unwrap() > 0.0), "{width} px: {api}");
        assert_eq!(api["fill"], "rgb(31, 35, 40)", "the light scheme's text colour: {api}");
        assert_ne!(api["fill"], api["background"], "{api}");
        let refused = charts.iter().find(|c| c["label"].as_str().unwrap().starts_with("search-a,")).unwrap();
        assert_eq!(refused["label"], "search-a, response time, last 24 hours: no data", "refused: no sample");
        assert_eq!(refused["bars"], json!([]), "{refused}");
    }
    let (_, api) = worker.get("/health/api-a");
    let hour = &api["latency"]["1h"];
    let (count, p50, p95, max) =
        (hour["count"].as_u64(), hour["p50_ms"].as_u64(), hour["p95_ms"].as_u64(), hour["max_ms"].as_u64());
    assert!(count >= Some(1) && p50 <= p95 && p95 <= max && max >= api["latency_ms"].as_u64(), "{api}");
    let (_, refused) = worker.get("/health/search-a");
    assert_eq!(refused["latency"], json!({"1h": null, "24h": null, "7d": null}), "{refused}");

    // Prometheus: the exposition parses and lints clean with promtool.
    let (status, content_type, metrics) = get_with(&worker, "/metrics", None);
    assert_eq!((status, content_type.as_str()), (200, "text/plain; version=0.0.4; charset=utf-8"));
    assert!(
        metrics.contains("edgecheck_origin_status{region=\"eu-west\",origin=\"search-a\",state=\"down\"} 1"),
        "{metrics}"
    );
    assert!(metrics.contains("edgecheck_region_ready{region=\"us-east\"} 1"), "{metrics}");
    for percentile in ["p50", "p95"] {
        let series = format!(
            "edgecheck_origin_latency_{percentile}_seconds{{region=\"us-east\",origin=\"api-a\",window=\"1h\"}} "
        );
        assert!(metrics.lines().any(|l| l.starts_with(&series)), "no {series} in {metrics}");
    }
    assert!(!metrics.contains("origin=\"search-a\",window="), "no percentiles without samples: {metrics}");
    promtool_check(&metrics);

    // health+json by Accept and by query; plain JSON for an Accept that matches nothing.
    for (path, accept) in [("/health", Some("application/health+json")), ("/health?format=health+json", None)] {
        let (status, content_type, body) = get_with(&worker, path, accept);
        assert_eq!((status, content_type.as_str()), (200, "application/health+json"), "{path}: {body}");
        let doc: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(
            (doc["status"].as_str(), doc["checks"]["eu-west:search-a"][0]["status"].as_str()),
            (Some("warn"), Some("fail"))
        );
        assert_schema("health-json.schema.json", &doc, path);
    }
    let (_, content_type, _) = get_with(&worker, "/health", Some("text/csv"));
    assert_eq!(content_type, "application/json");
    let (status, _, body) = get_with(&worker, "/health?format=xml", None);
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("format=xml"), "{body}");

    // Detail levels.
    let (_, _, summary) = get_with(&worker, "/health?detailed=false", None);
    let summary: Value = serde_json::from_str(&summary).unwrap();
    assert!(summary["regions"]["us-east"].get("origins").is_none(), "{summary}");
    assert_schema("health.schema.json", &summary, "/health?detailed=false");

    // Readable readiness, same status codes as the JSON.
    let (status, content_type, text) = get_with(&worker, "/ready/eu-west?verbose", None);
    assert_eq!((status, content_type.as_str()), (503, "text/plain; charset=utf-8"));
    assert!(text.contains("[-]search-a down: connect_error\n"), "{text}");
    assert!(text.contains("[-]search-b degraded: body_degraded\n"), "{text}");
    assert!(text.ends_with("readiness check failed: eu-west is down\n"), "{text}");
    let (status, _, text) = get_with(&worker, "/ready?verbose", None);
    assert_eq!(status, 503);
    assert!(text.starts_with("[-]eu-west down") && text.contains("[+]us-east ok"), "{text}");
    assert_eq!(get_with(&worker, "/ready/us-east?verbose", None).0, 200);

    // Badges.
    let (status, content_type, body) = get_with(&worker, "/badge/global.json", None);
    assert_eq!((status, content_type.as_str()), (200, "application/json"));
    let badge: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(badge, json!({"schemaVersion": 1, "label": "edgecheck", "message": "degraded", "color": "yellow"}));
    assert_schema("badge.schema.json", &badge, "/badge/global.json");
    let (status, content_type, svg) = get_with(&worker, "/badge/search-a.svg", None);
    assert_eq!((status, content_type.as_str()), (200, "image/svg+xml; charset=utf-8"));
    assert!(svg.starts_with("<svg") && svg.contains("<title>search-a: down</title>"), "{svg}");
    for (path, named) in [("/badge/nowhere.svg", "nowhere"), ("/badge/global.png", "global.png")] {
        let (status, content_type, body) = get_with(&worker, path, None);
        assert_eq!((status, content_type.as_str()), (404, "application/json"), "{path}");
        assert!(body.contains(named), "{path}: {body}");
        assert_schema("error.schema.json", &serde_json::from_str(&body).unwrap(), path);
    }

    // Every other JSON document against its schema.
    for (path, schema) in [
        ("/live", "live.schema.json"),
        ("/ready", "ready.schema.json"),
        ("/ready/us-east", "ready-region.schema.json"),
        ("/health/eu-west", "health-region.schema.json"),
        ("/health/eu-west?detailed=false", "health-region.schema.json"),
        ("/health/search-a", "health-origin.schema.json"),
        ("/history", "history.schema.json"),
        ("/history/search-a", "history.schema.json"),
        ("/nowhere", "error.schema.json"),
    ] {
        let (_, _, body) = get_with(&worker, path, None);
        let doc: Value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path}: {e}: {body}"));
        assert_schema(schema, &doc, path);
    }

    // HEAD everywhere: the status and headers of GET, its Content-Length, no body.
    for path in [
        "/",
        "/metrics",
        "/badge/global.svg",
        "/ready?verbose",
        "/health?format=health+json",
        "/live",
        "/nowhere",
        "/refresh",
    ] {
        let mut head = worker.call("HEAD", path);
        let mut get = worker.call("GET", path);
        assert_eq!(head.status(), get.status(), "{path}");
        assert_eq!(head.headers()["content-type"], get.headers()["content-type"], "{path}");
        let length: usize = head
            .headers()
            .get("content-length")
            .map_or_else(|| panic!("HEAD {path}: no Content-Length"), |v| v.to_str().unwrap().parse().unwrap());
        let body = get.body_mut().read_to_string().unwrap();
        // An age in the body may gain a digit between the two requests (and
        // /refresh's 405 names the method: HEAD is one letter longer than GET).
        assert!(length.abs_diff(body.len()) <= 2, "HEAD {path}: Content-Length {length}, GET's body {}", body.len());
        assert_eq!(head.body_mut().read_to_string().unwrap(), "", "{path}");
    }
}
