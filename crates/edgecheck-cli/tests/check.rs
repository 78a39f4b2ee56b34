//! `edgecheck check` as users and their CI run it: every config error the
//! core's tables hold (crates/edgecheck-core/tests/cases), a valid file, a
//! file that cannot be read, bytes that are not TOML or not UTF-8, an empty
//! file and one past the fleet limit; each by its exit code (0 valid, 1
//! invalid, 2 unreadable, as `promtool check config`) and its message, which
//! names the file and the field.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

#[path = "../../edgecheck-core/tests/cases/config_errors.rs"]
mod cases;

/// Runs `edgecheck` with `args`.
fn edgecheck(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_edgecheck"))
        .args(args)
        .env_remove("EDGECHECK_CONFIG")
        .output()
        .expect("edgecheck runs")
}

/// `edgecheck check <file>` on `bytes` written to `dir/name`: (exit code, stdout, stderr, the file).
fn check_bytes(dir: &Path, name: &str, bytes: &[u8]) -> (i32, String, String, PathBuf) {
    let file = dir.join(name);
    std::fs::write(&file, bytes).unwrap();
    let out = edgecheck(&["check".as_ref(), file.as_os_str()]);
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.code().expect("edgecheck exits"), text(&out.stdout), text(&out.stderr), file)
}

#[test]
fn every_config_error_exits_1_naming_the_file_and_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let rows = cases::all();
    assert!(rows.len() > 100, "the tables hold every case: {}", rows.len());
    for (n, (table, text, field, fragment)) in rows.iter().enumerate() {
        let (code, stdout, stderr, file) = check_bytes(dir.path(), &format!("{table}-{n}.toml"), text.as_bytes());
        assert_eq!(code, 1, "{table} row {n} ({field}): exit {code}\n{stdout}{stderr}\nfor:\n{text}");
        assert!(stderr.starts_with(&format!("edgecheck: config error in {}:\n", file.display())), "{stderr}");
        // Each problem on its own line: `  <field>: <message>`.
        let named = stderr
            .lines()
            .any(|line| line.strip_prefix("  ").is_some_and(|l| l.starts_with(field) && l.contains(fragment)));
        assert!(named, "{table} row {n}: no line names {field} with {fragment:?}:\n{stderr}");
        assert!(stdout.is_empty(), "an invalid config prints nothing on stdout: {stdout}");
    }
}

#[test]
fn a_valid_file_exits_0_and_writes_its_fleet_document() {
    let dir = tempfile::tempdir().unwrap();
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../edgecheck.toml");
    let out_dir = dir.path().join("build");
    let out = edgecheck(&["check".as_ref(), shipped.as_os_str(), "--out".as_ref(), out_dir.as_os_str()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        stdout.contains("is valid: 10 origins (10 probed, 0 heartbeat checks) in 3 regions, 3 probers"),
        "{stdout}"
    );
    let document = std::fs::read_to_string(out_dir.join("fleet.txt")).unwrap();
    let (config, digest) = edgecheck_core::config::Config::from_fleet_document(&document).unwrap();
    assert_eq!(config.origins().len(), 10);
    assert!(stdout.contains(&format!("fleet sha256 {digest}")), "{stdout}");
    // The same file checked again writes the same bytes.
    let again = edgecheck(&["check".as_ref(), shipped.as_os_str(), "--out".as_ref(), out_dir.as_os_str()]);
    assert_eq!(again.status.code(), Some(0));
    assert_eq!(std::fs::read_to_string(out_dir.join("fleet.txt")).unwrap(), document);
    // Without --out nothing is written.
    let (code, _, _, _) = check_bytes(dir.path(), "copy.toml", &std::fs::read(&shipped).unwrap());
    assert_eq!(code, 0);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2, "only build/ and copy.toml");
}

#[test]
fn warnings_are_printed_and_do_not_fail_the_check() {
    let dir = tempfile::tempdir().unwrap();
    let mut text =
        String::from("[settings]\ndeadline_ms = 3000\nprobe_timeout_ms = 1000\nshard_size = 60\nvantages = [\"enam\", \"weur\", \"apac\"]\n[regions.r]\n");
    for i in 0..120 {
        text += &format!("[[origins]]\nname = \"o{i}\"\nregion = \"r\"\nurl = \"https://o{i}.example.com/\"\n");
    }
    let (code, stdout, stderr, file) = check_bytes(dir.path(), "busy.toml", text.as_bytes());
    assert_eq!(code, 0, "{stdout}{stderr}");
    let prefix = format!("edgecheck: warning: {}: ", file.display());
    for field in ["settings.deadline_ms", "settings.shard_size", "settings.refresh_s"] {
        assert!(stderr.lines().any(|l| l.starts_with(&format!("{prefix}{field}: "))), "no {field} warning:\n{stderr}");
    }
}

#[test]
fn bytes_that_are_no_config_exit_1_and_a_missing_file_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let over_the_limit = (0..10_001).fold(String::from("[settings]\nshard_size = 1000\n[regions.r]\n"), |toml, i| {
        toml + &format!("[[origins]]\nname = \"o{i}\"\nregion = \"r\"\nurl = \"https://o{i}.example.com/\"\n")
    });
    let rows: [(&str, &[u8], &str); 5] = [
        ("empty.toml", b"", "  regions: "),
        ("not-toml.toml", b"<?xml version=\"1.0\"?><fleet/>", "  (syntax): TOML parse error"),
        ("latin1.toml", b"[regions.r]\n# caf\xe9\n", "  (encoding): not UTF-8 (invalid byte at offset 17)"),
        ("binary.toml", &[0, 159, 146, 150, 255, 0], "  (encoding): not UTF-8"),
        ("huge.toml", over_the_limit.as_bytes(), "  origins: "),
    ];
    for (name, bytes, line) in rows {
        let (code, stdout, stderr, file) = check_bytes(dir.path(), name, bytes);
        assert_eq!(code, 1, "{name}: {stdout}{stderr}");
        assert!(stderr.starts_with(&format!("edgecheck: config error in {}:\n", file.display())), "{name}: {stderr}");
        assert!(stderr.contains(line), "{name}: expected {line:?} in:\n{stderr}");
    }
    // Unreadable: a missing file, a directory.
    for path in [dir.path().join("missing.toml"), dir.path().to_path_buf()] {
        let out = edgecheck(&["check".as_ref(), path.as_os_str()]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.starts_with(&format!("edgecheck: cannot check {}: ", path.display())), "{stderr}");
    }
    // An output that cannot be written: 2, and the check's verdict still printed.
    let blocker = dir.path().join("a-file");
    std::fs::write(&blocker, "").unwrap();
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../edgecheck.toml");
    let out = edgecheck(&["check".as_ref(), shipped.as_os_str(), "--out".as_ref(), blocker.as_os_str()]);
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    // Bad usage: 2, as clap answers it.
    assert_eq!(edgecheck(&["verify".as_ref()]).status.code(), Some(2));
}
