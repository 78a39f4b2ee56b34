//! A config error stops the build and names the file and the field.

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
    assert!(!ok, "the build must fail:\n{output}");
    let file = e2e_dir(p.name).join("edgecheck.toml");
    assert!(output.contains(&format!("config error in {}", file.display())), "{output}");
    assert!(output.contains("origins[1].url: scheme \"ftp\" is not allowed"), "{output}");
}
