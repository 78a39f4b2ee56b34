//! The operator API's list documents, as the core makes them, against their
//! JSON Schemas (`docs/schema/drain-list.schema.json`,
//! `docs/schema/maintenance-list.schema.json`): a fleet with a declared
//! one-off window and a declared weekly one, a state with an API window and
//! drains (one lapsed), and the empty lists. The core's own tests
//! (`crates/edgecheck-core/tests/core`) check the same documents field by
//! field; the end-to-end tests check the worker's answers against the same
//! schemas. Also the 413 of operator bodies against the error schema, and the
//! documents that name a failed condition (`assertion_failed`): `/health`,
//! `/health/{region}`, `/health/{origin}`, health+json, `/history` and the
//! full view.

use std::path::Path;

use edgecheck_core::aggregate::{Probe, Round};
use edgecheck_core::classify::{assess, Outcome};
use edgecheck_core::config::{parse_toml, Config, Named};
use edgecheck_core::detail::ProbeDetail;
use edgecheck_core::drain::Drain;
use edgecheck_core::http::{self, Extras, MonitorCall, Reply, Target, Variant};
use edgecheck_core::maintenance::Window;
use edgecheck_core::monitor::{advance, Snapshot};
use edgecheck_core::uptime::Uptimes;
use edgecheck_core::view::shown;
use serde_json::Value;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// 2026-12-06T22:30:00Z, a Sunday.
const NOW: u64 = 1_796_596_200_000;

const FLEET: &str = r#"
[regions.east]
[regions.west]
[[origins]]
name = "e1"
region = "east"
url = "https://e1.example.com/"
[[origins]]
name = "w1"
region = "west"
url = "https://w1.example.com/"
[[maintenance]]
id = "west-upgrade"
reason = "kernel upgrade"
regions = ["west"]
start = "2026-12-06T22:00:00Z"
end = "2026-12-06T23:00:00Z"
[[maintenance]]
id = "saturday"
reason = "patching"
weekly = { days = ["sat", "sun"], start = "23:30", minutes = 60 }
"#;

fn fleet() -> Config {
    Config::from_raw(&parse_toml(FLEET).unwrap()).unwrap()
}

fn assert_schema(schema: &str, reply: &Reply, what: &str) -> Value {
    let doc: Value = serde_json::from_str(reply.body.as_deref().unwrap()).unwrap();
    let text = std::fs::read_to_string(Path::new(ROOT).join("docs/schema").join(schema)).unwrap();
    let schema_doc: Value = serde_json::from_str(&text).unwrap();
    let validator = jsonschema::validator_for(&schema_doc).unwrap_or_else(|e| panic!("{schema} is not a schema: {e}"));
    let errors: Vec<String> = validator.iter_errors(&doc).map(|e| format!("{} at {}", e, e.instance_path)).collect();
    assert!(errors.is_empty(), "{what} does not match {schema}:\n{}\n{doc}", errors.join("\n"));
    doc
}

#[test]
fn the_maintenance_list_follows_its_schema() {
    let config = fleet();
    let body = r#"{"id": "db", "reason": "db move", "origins": ["w1"], "start": "2026-12-07T01:00:00Z", "end": "2026-12-07T02:00:00Z"}"#;
    let Ok(MonitorCall::StartMaintenance { window }) = http::maintenance_call(&config, None, body, NOW) else {
        panic!("the API window is valid")
    };
    let fleet_window = r#"{"reason": "everything", "end": "2026-12-06T23:30:00Z"}"#;
    let Ok(MonitorCall::StartMaintenance { window: everything }) =
        http::maintenance_call(&config, None, fleet_window, NOW)
    else {
        panic!("the fleet's API window is valid")
    };
    let started: Vec<Window> = vec![window, everything];
    let doc =
        assert_schema("maintenance-list.schema.json", &http::maintenance_list(&config, &started, NOW), "the list");
    let ids: Vec<(&str, &str, bool)> = doc["windows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| (w["id"].as_str().unwrap(), w["source"].as_str().unwrap(), w["open"].as_bool().unwrap()))
        .collect();
    assert_eq!(
        ids,
        [
            ("west-upgrade", "config", true),
            ("saturday", "config", false),
            ("db", "api", false),
            ("api-1796596200000", "api", true)
        ]
    );
    // Inside the weekly window (Sunday 23:45): open, with a current and a next occurrence.
    let doc = assert_schema(
        "maintenance-list.schema.json",
        &http::maintenance_list(&config, &started, NOW + 75 * 60_000),
        "the list at 23:45",
    );
    assert!(doc["windows"][1]["current"].is_object() && doc["windows"][1]["next"].is_object(), "{doc}");
    assert_schema("maintenance-list.schema.json", &http::maintenance_list(&config, &[], 0), "no API window");
}

#[test]
fn the_drain_list_follows_its_schema() {
    let config = fleet();
    let mut drains = std::collections::BTreeMap::new();
    for (name, until_ms) in [("west", None), ("e1", Some(NOW + 60_000)), ("w1", Some(NOW - 1))] {
        drains.insert(name.to_string(), Drain { reason: format!("{name} work"), since_ms: NOW - 60_000, until_ms });
    }
    let doc = assert_schema("drain-list.schema.json", &http::drain_list(&config, &drains, NOW), "the list");
    let names: Vec<(&str, &str)> = doc["drains"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["name"].as_str().unwrap(), d["kind"].as_str().unwrap()))
        .collect();
    assert_eq!(names, [("e1", "origin"), ("west", "region")], "w1's drain lapsed: {doc}");
    assert_eq!((doc["drains"][0]["until"].is_string(), &doc["drains"][1]["until"]), (true, &Value::Null));
    assert_schema("drain-list.schema.json", &http::drain_list(&config, &Default::default(), NOW), "no drain");
}

#[test]
fn the_one_413_of_operator_bodies_follows_the_error_schema() {
    let too_large = http::body_too_large(Some(http::MAX_OPERATOR_BODY_BYTES + 1), 0).unwrap();
    assert_eq!(too_large.status, 413);
    let doc = assert_schema("error.schema.json", &too_large, "the 413");
    assert_eq!(doc["error"], "payload_too_large");
}

#[test]
fn the_408_and_the_utf8_400_of_operator_bodies_follow_the_error_schema() {
    let timed_out = http::body_timed_out();
    assert_eq!(timed_out.status, 408);
    let doc = assert_schema("error.schema.json", &timed_out, "the 408");
    assert_eq!(doc["error"], "request_timeout");
    let not_utf8 = http::body_text(vec![b'{', 0xff, b'}']).unwrap_err();
    assert_eq!(not_utf8.status, 400);
    let doc = assert_schema("error.schema.json", &not_utf8, "the 400 of a body not UTF-8");
    assert_eq!(doc["error"], "bad_request");
}

/// An origin judged slow (reason `slow`, its `degraded_after_ms` shown) in
/// every `/health` document, health+json and `/history`, against their schemas.
#[test]
fn a_slow_origin_follows_the_health_schemas() {
    let config =
        Config::from_raw(&parse_toml(&format!("[settings]\ndegraded_after_ms = 800\n{FLEET}")).unwrap()).unwrap();
    let ok = Outcome::Answered { status: 200, content_type: None, headers: Vec::new(), body: Vec::new() };
    let probes = config.origins().iter().zip([900, 20]).map(|(o, ms)| Probe::judged(o, &ok, Some(ms))).collect();
    let advanced = advance(&config, None, &Round { checked_at_ms: NOW, duration_ms: 901, probes }, true);
    let view = shown(&config, Snapshot { state: &advanced.state, now_ms: NOW + 1_000 });
    let uptimes = Default::default();
    let extras = || Extras {
        uptimes: Some(&uptimes),
        changes: &advanced.changes,
        daily: None,
        notify: None,
        latency: None,
        slo: None,
    };
    let answer = |target, variant| http::answer(&config, target, variant, &view, extras());
    let doc = assert_schema("health.schema.json", &answer(Target::Health, Variant::Full), "/health");
    let e1 = &doc["regions"]["east"]["origins"][0];
    assert_eq!((e1["reason"].as_str(), e1["degraded_after_ms"].as_u64()), (Some("slow"), Some(800)), "{doc}");
    assert_schema("health-region.schema.json", &answer(Target::HealthRegion(0), Variant::Full), "/health/east");
    assert_schema("health-origin.schema.json", &answer(Target::HealthOrigin(0), Variant::Full), "/health/e1");
    let doc = assert_schema("health-json.schema.json", &answer(Target::Health, Variant::HealthJson), "health+json");
    assert_eq!(doc["checks"]["east:e1"][0]["output"], "slow");
    let doc = assert_schema("history.schema.json", &answer(Target::History, Variant::Full), "/history");
    assert!(doc["changes"].as_array().unwrap().iter().any(|c| c["reason"] == "slow"), "{doc}");
    let full = http::detail(&config, &view, &uptimes, &[], &Default::default());
    assert_schema("health-full.schema.json", &full, "/health?view=full");
}

/// An origin whose condition fails (reason `assertion_failed`, the condition
/// named) in every `/health` document, health+json, `/history` and the full
/// view (what it saw), against their schemas.
#[test]
fn a_failed_condition_follows_the_health_schemas() {
    let text = FLEET.replace(
        "url = \"https://e1.example.com/\"\n",
        "url = \"https://e1.example.com/\"\nrise = 1\nfall = 1\n[[origins.conditions]]\nname = \"db\"\njson = \"$.db\"\nop = \"==\"\nvalue = \"up\"\n",
    );
    let config = Config::from_raw(&parse_toml(&text).unwrap()).unwrap();
    let answer = |body: &str| Outcome::Answered {
        status: 200,
        content_type: Some("application/json".into()),
        headers: vec![("content-type".into(), "application/json".into())],
        body: body.as_bytes().to_vec(),
    };
    let round = |at: u64, db: &str| {
        let probes: Vec<Probe> = config
            .origins()
            .iter()
            .map(|o| Probe::judged(o, &answer(&format!(r#"{{"db":"{db}"}}"#)), Some(9)))
            .collect();
        Round { checked_at_ms: at, duration_ms: 20, probes }
    };
    let first = advance(&config, None, &round(NOW - 30_000, "up"), true);
    let second = advance(&config, Some(&first.state), &round(NOW - 15_000, "down"), true);
    let state = second.state;
    let view = shown(&config, Snapshot { state: &state, now_ms: NOW });
    let uptimes = Uptimes::new();
    let extras = Extras {
        uptimes: Some(&uptimes),
        changes: &second.changes,
        daily: None,
        notify: None,
        latency: None,
        slo: None,
    };
    let answer_of = |target, variant| http::answer(&config, target, variant, &view, extras);
    let doc = assert_schema("health.schema.json", &answer_of(Target::Health, Variant::Full), "/health");
    let e1 = &doc["regions"]["east"]["origins"][0];
    assert_eq!((&e1["reason"], &e1["condition"]), (&Value::from("assertion_failed"), &Value::from("db")), "{e1}");
    assert_schema("health-region.schema.json", &answer_of(Target::HealthRegion(0), Variant::Full), "/health/east");
    let doc =
        assert_schema("health-origin.schema.json", &answer_of(Target::HealthOrigin(0), Variant::Full), "/health/e1");
    assert_eq!(doc["condition"], "db", "{doc}");
    assert_schema("health-json.schema.json", &answer_of(Target::Health, Variant::HealthJson), "health+json");
    let doc = assert_schema(
        "history.schema.json",
        &answer_of(Target::HistoryOf(Named::Origin(0)), Variant::Full),
        "/history/e1",
    );
    assert!(doc.to_string().contains("assertion_failed"), "{doc}");
    let judged = assess(&config.origins()[0], &answer(r#"{"db":"down"}"#), None);
    let mut details = vec![None; config.origins().len()];
    details[0] = Some(ProbeDetail::new(None, Vec::new(), Some(br#"{"db":"down"}"#)).with_assertion(&judged));
    let full = http::detail(&config, &view, &uptimes, &details, &Default::default());
    let doc = assert_schema("health-full.schema.json", &full, "the full view");
    assert_eq!(doc["probes"]["e1"]["assertion"]["seen"], "\"down\"", "{doc}");
    assert_eq!(doc["probes"]["w1"]["assertion"], Value::Null);
}

/// `/slo` and `/slo/{name}` against their schemas, before any round (no
/// slices) and after rounds of a failing origin whose page fires; and
/// `/slo?format=openslo` read as YAML, with its `SLO` and `AlertPolicy`
/// documents in OpenSLO v1's shape.
#[test]
fn the_error_budgets_follow_their_schemas_and_openslo() {
    use edgecheck_core::publish::{answer, Published};
    use edgecheck_core::store::{self, MemoryStore};
    let text = format!(
        "{FLEET}\n[[slo]]\nname = \"e1-availability\"\norigin = \"e1\"\nobjective = 99.9\n\
         [[slo]]\nname = \"fleet\"\nobjective = 99.5\nwindow_days = 28\nbad = [\"down\", \"degraded\"]\n"
    );
    let config = Config::from_raw(&parse_toml(&text).unwrap()).unwrap();
    let db = MemoryStore::default();
    let mut memory: Option<store::Memory> = None;
    let publish = |memory: &store::Memory| Published {
        fleet: "f".into(),
        state: memory.state.clone(),
        uptimes: Uptimes::new(),
        daily: Default::default(),
        changes: Vec::new(),
        latency: Default::default(),
        notify: Default::default(),
        slo: memory.slo.clone(),
    };
    for k in 0..40u64 {
        let at = NOW + k * 15_000;
        let failed = k >= 20 && k % 5 == 0;
        let answered = |status| Outcome::Answered { status, content_type: None, headers: Vec::new(), body: Vec::new() };
        let probes = config
            .origins()
            .iter()
            .map(|o| Probe::judged(o, &answered(if failed && o.name == "e1" { 503 } else { 200 }), Some(20)))
            .collect();
        let next = advance(
            &config,
            memory.as_ref().map(|m| &m.state),
            &Round { checked_at_ms: at, duration_ms: 20, probes },
            true,
        );
        memory = Some(store::record(&db, &config, memory, next).0);
        if k == 0 || k == 39 {
            let doc = publish(memory.as_ref().unwrap());
            let all = answer(&config, &doc, Target::Slo, Variant::Full, at + 1_000);
            let all = assert_schema("slo.schema.json", &all, "/slo");
            let one = answer(&config, &doc, Target::SloOf(0), Variant::Full, at + 1_000);
            let one = assert_schema("slo-one.schema.json", &one, "/slo/e1-availability");
            assert_eq!(all["objectives"][0], one);
            if k == 39 {
                assert_eq!(one["slices"]["bad"], 4, "{one}");
                let page = &one["alerts"][0];
                assert_eq!((page["severity"].as_str(), page["firing"].as_bool()), (Some("page"), Some(true)), "{one}");
            }
        }
    }
    let doc = publish(memory.as_ref().unwrap());
    let yaml = answer(&config, &doc, Target::Slo, Variant::OpenSlo, NOW);
    assert_eq!(yaml.status, 200);
    let docs = yaml_rust2::YamlLoader::load_from_str(yaml.body.as_deref().unwrap()).expect("a YAML stream");
    let text = |y: &yaml_rust2::Yaml| y.as_str().unwrap_or_default().to_string();
    let kinds: Vec<String> = docs.iter().map(|d| text(&d["kind"])).collect();
    assert_eq!(
        kinds,
        ["SLO", "AlertPolicy", "AlertPolicy", "AlertPolicy", "SLO", "AlertPolicy", "AlertPolicy", "AlertPolicy"]
    );
    assert!(docs.iter().all(|d| text(&d["apiVersion"]) == "openslo/v1"));
    let slo = &docs[0];
    assert_eq!(text(&slo["metadata"]["name"]), "e1-availability");
    assert_eq!(text(&slo["spec"]["budgetingMethod"]), "Timeslices");
    assert_eq!(slo["spec"]["objectives"][0]["target"].as_f64(), Some(0.999));
    assert_eq!(text(&slo["spec"]["timeWindow"][0]["duration"]), "30d");
    assert_eq!(text(&docs[4]["spec"]["timeWindow"][0]["duration"]), "28d");
    let policies: Vec<String> = slo["spec"]["alertPolicies"].as_vec().unwrap().iter().map(text).collect();
    assert_eq!(policies, ["e1-availability-page-1h-5m", "e1-availability-page-6h-30m", "e1-availability-ticket-3d-6h"]);
    let page = &docs[1];
    assert_eq!(text(&page["metadata"]["name"]), "e1-availability-page-1h-5m");
    let condition = &page["spec"]["conditions"][0]["spec"]["condition"];
    assert_eq!((text(&condition["kind"]), text(&condition["op"])), ("burnrate".into(), "gt".into()));
    assert_eq!(condition["threshold"].as_f64(), Some(14.4));
    assert_eq!(text(&condition["lookbackWindow"]), "1h");
    assert_eq!(text(&page["metadata"]["annotations"]["edgecheck/short-window"]), "5m");
}
