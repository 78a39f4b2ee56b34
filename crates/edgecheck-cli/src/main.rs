//! `edgecheck`, the host command beside the worker.
//!
//! `edgecheck check [FILE] [--out DIR]` reads a fleet config (`FILE`, else
//! `$EDGECHECK_CONFIG`, else `edgecheck.toml`), parses and validates it with
//! the core's own code ([`parse_toml`], [`Config::from_raw`]) and prints every
//! problem at once, each naming the file, the field and what is wrong, then the
//! warnings (a prober's deadline, the Free plan's subrequests and Durable
//! Object requests a day). With `--out DIR` it also writes the fleet document
//! the worker reads, `DIR/fleet.txt` ([`Config::fleet_document`]: a header
//! with the SHA-256 digest, then the validated config as JSON).
//!
//! Exit codes, as `promtool check config`: 0 valid, 1 invalid, 2 the file
//! (or `--out`) could not be read or written, or bad usage.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use edgecheck_core::config::{parse_toml, Config, FLEET_DOCUMENT_HEADER};

/// The fleet document's file name inside `--out`.
const FLEET_FILE: &str = "fleet.txt";

#[derive(Parser)]
#[command(
    name = "edgecheck",
    version,
    about = "Checks an edgecheck fleet config and writes the fleet document the worker reads"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Validates a config; exit 0 valid, 1 invalid, 2 unreadable.
    Check {
        /// The config file; default $EDGECHECK_CONFIG, else edgecheck.toml.
        file: Option<PathBuf>,
        /// Also write the fleet document, DIR/fleet.txt, for the worker's bundle.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
}

/// Why a check failed, with its exit code.
enum Failure {
    /// Exit 1: the file was read but is not a valid config; every problem.
    Invalid(Vec<String>),
    /// Exit 2: the file (or the output) could not be read (or written).
    Unreadable(String),
}

fn main() -> ExitCode {
    // clap exits 2 on bad usage, as a check that could not run.
    let Command::Check { file, out } = Cli::parse().command;
    let file = file
        .or_else(|| std::env::var_os("EDGECHECK_CONFIG").map(PathBuf::from))
        .unwrap_or_else(|| "edgecheck.toml".into());
    match check(&file, out.as_deref()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Invalid(errors)) => {
            eprintln!("edgecheck: config error in {}:", file.display());
            for e in &errors {
                eprintln!("  {}", e.trim_end().replace('\n', "\n    "));
            }
            ExitCode::from(1)
        }
        Err(Failure::Unreadable(why)) => {
            eprintln!("edgecheck: cannot check {}: {why}", file.display());
            ExitCode::from(2)
        }
    }
}

/// Checks `file`; with `out`, writes its fleet document there.
fn check(file: &Path, out: Option<&Path>) -> Result<(), Failure> {
    let bytes = std::fs::read(file).map_err(|e| {
        Failure::Unreadable(format!("{e} (name another file, set EDGECHECK_CONFIG, or create edgecheck.toml)"))
    })?;
    let text = String::from_utf8(bytes).map_err(|e| {
        Failure::Invalid(vec![format!(
            "(encoding): not UTF-8 (invalid byte at offset {}); TOML files are UTF-8",
            e.utf8_error().valid_up_to()
        )])
    })?;
    let raw = parse_toml(&text).map_err(|e| Failure::Invalid(vec![e.to_string()]))?;
    let config =
        Config::from_raw(&raw).map_err(|errors| Failure::Invalid(errors.iter().map(ToString::to_string).collect()))?;
    for w in config.warnings() {
        eprintln!("edgecheck: warning: {}: {}: {}", file.display(), w.field, w.message);
    }
    let document = config.fleet_document();
    let digest = document.lines().next().and_then(|header| header.strip_prefix(FLEET_DOCUMENT_HEADER)).unwrap_or("");
    let probed = config.probed();
    println!(
        "edgecheck: {} is valid: {} origins ({} probed, {} heartbeat checks) in {} regions, {} probers; fleet sha256 {digest}",
        file.display(),
        config.origins().len(),
        probed,
        config.origins().len() - probed,
        config.regions().len(),
        config.probers().count(),
    );
    if let Some(dir) = out {
        write_document(dir, &document)
            .map_err(|e| Failure::Unreadable(format!("writing {}: {e}", dir.join(FLEET_FILE).display())))?;
        println!("edgecheck: wrote {}", dir.join(FLEET_FILE).display());
    }
    Ok(())
}

/// Writes `document` to `dir/fleet.txt` whole or not at all (a temporary file
/// renamed over it), so a bundle never takes half a document.
fn write_document(dir: &Path, document: &str) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let partial = dir.join(format!(".{FLEET_FILE}.{}", std::process::id()));
    std::fs::write(&partial, document)?;
    std::fs::rename(&partial, dir.join(FLEET_FILE))
}
