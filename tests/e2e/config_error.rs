//! A config error stops the check, and so `wrangler dev` and `wrangler
//! deploy` (their `[build]` command checks first), naming the file and the
//! field. Every other config error is a row of the check command's table
//! (crates/edgecheck-cli/tests/check.rs).

use super::*;

/// A fleet whose second origin has an ftp URL; the first is the demo origin.
pub(crate) fn bad_config(fleet: &Fleet) -> String {
    format!(
        "[regions.r]\n[[origins]]\nname = \"ok\"\nregion = \"r\"\nurl = \"{}\"\n[[origins]]\nname = \"bad\"\nregion = \"r\"\nurl = \"ftp://b.example.com/\"\n",
        fleet.url("ok", "/health")
    )
}

pub(crate) fn a_config_error_stops_the_build_naming_file_and_field(p: &Prepared) {
    let (ok, output) = &p.build;
    assert!(!ok, "the check must fail:\n{output}");
    let file = e2e_dir(p.name).join("edgecheck.toml");
    assert!(output.contains(&format!("config error in {}", file.display())), "{output}");
    assert!(output.contains("origins[1].url: scheme \"ftp\" is not allowed"), "{output}");
    assert!(!e2e_dir(p.name).join("build/fleet.txt").exists(), "a refused config left a fleet document");

    // `wrangler dev` with the project's wrangler.toml: its [build] command
    // checks the file first, so the worker never starts.
    let port = free_port();
    let log = e2e_dir(p.name).join("wrangler-dev.log");
    let mut command = Command::new("node");
    command
        .current_dir(ROOT)
        .arg("scripts/wrangler-dev.mjs")
        .args(["--config", "wrangler.toml", "--ip", "127.0.0.1", "--port", &port.to_string()])
        .arg("--persist-to")
        .arg(e2e_dir(p.name).join("state"))
        .env("EDGECHECK_CONFIG", &file)
        .env("WRANGLER_SEND_METRICS", "false")
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&log).unwrap())
        .stderr(std::fs::File::create(e2e_dir(p.name).join("wrangler-dev.err")).unwrap());
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    let mut child = command.spawn().expect("node runs scripts/wrangler-dev.mjs");
    let output = || {
        std::fs::read_to_string(&log).unwrap_or_default()
            + &std::fs::read_to_string(e2e_dir(p.name).join("wrangler-dev.err")).unwrap_or_default()
    };
    let started = Instant::now();
    let mut exited = None;
    while started.elapsed() < Duration::from_secs(120) {
        assert!(
            try_request("GET", &format!("http://127.0.0.1:{port}/live")).is_none(),
            "wrangler dev served a refused config"
        );
        if let Ok(Some(status)) = child.try_wait() {
            exited = Some(status);
            break;
        }
        if output().contains("origins[1].url") {
            break;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    let group = format!("-{}", child.id());
    let _ = Command::new("kill").args(["-KILL", "--", &group]).stderr(Stdio::null()).status();
    let _ = child.wait();
    let text = output();
    assert!(exited.is_none_or(|status| !status.success()), "wrangler dev exited 0:\n{text}");
    assert!(
        text.contains(&format!("config error in {}", file.display())),
        "wrangler dev did not name the file:\n{text}"
    );
    assert!(
        text.contains("origins[1].url: scheme \"ftp\" is not allowed"),
        "wrangler dev did not name the field:\n{text}"
    );
}
