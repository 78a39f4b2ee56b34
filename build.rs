//! Reads the fleet from `edgecheck.toml` (or the file named by `EDGECHECK_CONFIG`),
//! validates it into a `Config` with the core crate, and embeds that as JSON.
//! A config error stops the build with the file, the field path and the problem.

use std::path::PathBuf;
use std::{env, fs, process};

use edgecheck_core::config;

fn main() {
    println!("cargo:rerun-if-env-changed=EDGECHECK_CONFIG");
    let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let file = match env::var_os("EDGECHECK_CONFIG") {
        Some(path) => manifest_dir.join(path),
        None => manifest_dir.join("edgecheck.toml"),
    };
    println!("cargo:rerun-if-changed={}", file.display());

    let raw = match load(&file) {
        Ok(raw) => raw,
        Err(errors) => fail(&file, &errors),
    };
    let config = match config::Config::from_raw(&raw) {
        Ok(config) => config,
        Err(errors) => fail(&file, &errors.iter().map(ToString::to_string).collect::<Vec<_>>()),
    };
    for w in config.warnings() {
        println!("cargo:warning=edgecheck: {}: {}: {}", file.display(), w.field, w.message);
    }
    let out_dir = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let json = serde_json::to_string(&config).expect("Config serializes");
    // The fleet's digest goes into every cache key, so a changed fleet never
    // serves the old one's answers: SipHash-1-3 (std's DefaultHasher, fixed
    // keys) of the embedded JSON, as 16 hex digits.
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    std::hash::Hasher::write(&mut hasher, json.as_bytes());
    let digest = format!("{:016x}", std::hash::Hasher::finish(&hasher));
    fs::write(out_dir.join("edgecheck.config.json"), json).expect("OUT_DIR is writable");
    fs::write(out_dir.join("edgecheck.fleet-digest"), digest).expect("OUT_DIR is writable");
}

/// Reads and parses the file.
fn load(file: &std::path::Path) -> Result<config::RawConfig, Vec<String>> {
    let text = fs::read_to_string(file).map_err(|e| {
        vec![format!("cannot read the file: {e} (set EDGECHECK_CONFIG to another file, or create edgecheck.toml)")]
    })?;
    config::parse_toml(&text).map_err(|e| vec![e.to_string()])
}

fn fail(file: &std::path::Path, errors: &[String]) -> ! {
    // cargo shows a failing build script's stderr; wrangler shows cargo's output.
    eprintln!("\nedgecheck: config error in {}:", file.display());
    for e in errors {
        eprintln!("  {}", e.trim_end().replace('\n', "\n    "));
    }
    eprintln!();
    for e in errors {
        println!("cargo:warning=edgecheck: config error in {}: {}", file.display(), e.lines().next().unwrap_or(""));
    }
    process::exit(1);
}
