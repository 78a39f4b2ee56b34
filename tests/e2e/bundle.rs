//! The fleet is bound at deploy time: one wasm for every fleet, each fleet
//! document checked by its digest when the isolate starts.

use super::*;

/// Builds test `name`'s worker whole with `config`, as `wrangler deploy`
/// does: `scripts/build-worker.sh` with `EDGECHECK_CONFIG` (the check, the
/// wasm, the entry module) into `<name>/build`.
pub(crate) fn build_whole(name: &str, config: &str) -> (bool, String) {
    let dir = e2e_dir(name);
    let _ = std::fs::remove_dir_all(dir.join("build"));
    std::fs::create_dir_all(&dir).unwrap();
    let config_path = dir.join("edgecheck.toml");
    std::fs::write(&config_path, config).unwrap();
    build_worker(&dir.join("build"), &[("EDGECHECK_CONFIG", &config_path)])
}

/// The `.wasm` files under `dir` (links followed), by path, with their SHA-256 in hex.
fn wasm_digests(root: &Path) -> BTreeMap<String, String> {
    use sha2::Digest;
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "wasm") {
                let digest = sha2::Sha256::digest(std::fs::read(&path).unwrap());
                let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
                out.insert(path.strip_prefix(root).unwrap().display().to_string(), hex);
            }
        }
    }
    out
}

pub(crate) fn one_wasm_serves_every_fleet(p: &Prepared) {
    let (ok, output) = &p.build;
    assert!(ok, "building the first fleet's worker failed:\n{output}");
    let (ok, output) = p.also.as_ref().expect("the second fleet is built");
    assert!(ok, "building the second fleet's worker failed:\n{output}");
    let second = format!("{}-b", p.name);

    // Two fleets, two fleet documents, the same wasm to the byte.
    let (first_build, second_build) = (e2e_dir(p.name).join("build"), e2e_dir(&second).join("build"));
    let (first_wasm, second_wasm) = (wasm_digests(&first_build), wasm_digests(&second_build));
    assert!(!first_wasm.is_empty(), "no wasm under {}", first_build.display());
    assert_eq!(first_wasm, second_wasm, "the wasm differs between two fleets");
    let document = |build: &Path| std::fs::read_to_string(build.join("fleet.txt")).unwrap();
    assert_ne!(document(&first_build), document(&second_build), "two fleets, one fleet document");

    // Each serves its own fleet: a's origin is up, b's (503) down; neither knows the other's.
    let first = p.fresh_worker();
    let health = first.until("/health", 60, |doc| doc["status"] == "ok");
    assert_eq!(origins(&health).keys().collect::<Vec<_>>(), ["a"], "{health}");
    assert_eq!(first.get("/health/b").0, 404);
    drop(first);
    let _ = std::fs::remove_dir_all(e2e_dir(&second).join("state"));
    let other = Worker::run(&second);
    let health = other.until("/health", 60, |doc| doc["status"] == "down");
    assert_eq!(origins(&health).keys().collect::<Vec<_>>(), ["b"], "{health}");
    assert_eq!(other.get("/health/a").0, 404);
    drop(other);

    // A fleet document changed after its check: every route, /live included,
    // answers the JSON 500 that says so, and nothing is probed.
    let tampered = format!("{}-tampered", p.name);
    let build = e2e_dir(&tampered).join("build");
    let _ = std::fs::remove_dir_all(e2e_dir(&tampered));
    std::fs::create_dir_all(&build).unwrap();
    beside_wasm(&build, &first_build);
    let original = document(&first_build);
    let edited = original.replacen("\"refresh_s\":2", "\"refresh_s\":3", 1);
    assert_ne!(edited, original, "the fleet document holds refresh_s = 2: {original}");
    std::fs::write(build.join("fleet.txt"), edited).unwrap();
    let hits = p.fleet.hits("a");
    let damaged = Worker::run_answering(&tampered, &tampered, &e2e_dir(&tampered).join("state"), "", 500);
    for path in ["/live", "/ready", "/health", "/health/a", "/metrics", "/"] {
        let (status, body) = request("GET", &damaged.url(path));
        assert_eq!(status, 500, "{path}: {body}");
        let doc: Value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path}: not JSON ({e}): {body}"));
        assert_eq!(doc["error"], "fleet_document_invalid", "{path}: {doc}");
        assert!(doc["message"].as_str().unwrap().contains("changed after it was checked"), "{path}: {doc}");
        assert_schema("error.schema.json", &doc, path);
    }
    // Three refreshes of the damaged fleet's 2 s would have probed a.
    std::thread::sleep(Duration::from_secs(6));
    assert_eq!(p.fleet.hits("a"), hits, "a worker with a damaged fleet document probed");
}
