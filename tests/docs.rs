//! The snippets of the integration guides (`docs/*.md`, and README.md's) are checked by the tools
//! they are written for: every fenced `yaml` block parses (yaml-rust2), every
//! `json` block parses, `yaml prometheus-config` blocks pass
//! `promtool check config` and `yaml prometheus-rules` blocks pass
//! `promtool check rules` (promtool from Debian's `prometheus`, installed by
//! `scripts/setup.sh`), and `toml edgecheck` blocks are whole fleets that
//! edgecheck's own validation (what `edgecheck check` runs) accepts.

use std::path::{Path, PathBuf};
use std::process::Command;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// A fenced code block: its file, first line, info string and text.
struct Block {
    file: PathBuf,
    line: usize,
    info: String,
    text: String,
}

fn blocks(file: &Path) -> Vec<Block> {
    let text = std::fs::read_to_string(file).unwrap();
    let mut out = Vec::new();
    let mut open: Option<Block> = None;
    for (n, line) in text.lines().enumerate() {
        match (&mut open, line.trim_start().strip_prefix("```")) {
            (None, Some(info)) => {
                open = Some(Block { file: file.into(), line: n + 1, info: info.trim().into(), text: String::new() })
            }
            (Some(_), Some(_)) => out.extend(open.take()),
            (Some(block), None) => {
                block.text.push_str(line);
                block.text.push('\n');
            }
            (None, None) => {}
        }
    }
    assert!(open.is_none(), "{}: a code block is not closed", file.display());
    out
}

fn guides() -> Vec<Block> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(Path::new(ROOT).join("docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "docs/*.md");
    let mut out: Vec<Block> = files.iter().flat_map(|f| blocks(f)).collect();
    // README.md's config reference is a whole fleet too (`toml edgecheck`);
    // its other blocks are excerpts (`..` in JSON), not checked here.
    out.extend(blocks(&Path::new(ROOT).join("README.md")).into_iter().filter(|b| b.info == "toml edgecheck"));
    out
}

fn promtool(args: &[&str], block: &Block) {
    let dir = Path::new(ROOT).join("target/docs-check");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(format!("{}-{}.yml", block.file.file_stem().unwrap().to_string_lossy(), block.line));
    std::fs::write(&file, &block.text).unwrap();
    let out = Command::new("promtool")
        .args(args)
        .arg(&file)
        .output()
        .expect("promtool runs (scripts/setup.sh installs Debian's prometheus)");
    assert!(
        out.status.success(),
        "{}:{}: promtool {}: {}{}",
        block.file.display(),
        block.line,
        args.join(" "),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn every_guide_snippet_is_checked_by_its_tool() {
    let blocks = guides();
    let mut checked = [0usize; 5];
    for block in &blocks {
        let mut words = block.info.split_whitespace();
        let where_ = format!("{}:{}", block.file.display(), block.line);
        match (words.next(), words.next()) {
            (Some("yaml"), kind) => {
                let docs = yaml_rust2::YamlLoader::load_from_str(&block.text)
                    .unwrap_or_else(|e| panic!("{where_}: not YAML: {e}\n{}", block.text));
                assert!(!docs.is_empty() && !docs[0].is_null(), "{where_}: empty YAML");
                checked[0] += 1;
                match kind {
                    Some("prometheus-config") => {
                        promtool(&["check", "config"], block);
                        checked[1] += 1;
                    }
                    Some("prometheus-rules") => {
                        promtool(&["check", "rules"], block);
                        checked[2] += 1;
                    }
                    _ => {}
                }
            }
            (Some("toml"), Some("edgecheck")) => {
                let raw = edgecheck_core::config::parse_toml(&block.text)
                    .unwrap_or_else(|e| panic!("{where_}: not an edgecheck.toml: {e:?}\n{}", block.text));
                edgecheck_core::config::Config::from_raw(&raw)
                    .unwrap_or_else(|e| panic!("{where_}: edgecheck refuses it: {e:?}\n{}", block.text));
                checked[4] += 1;
            }
            (Some("json"), _) => {
                serde_json::from_str::<serde_json::Value>(&block.text)
                    .unwrap_or_else(|e| panic!("{where_}: not JSON: {e}\n{}", block.text));
                checked[3] += 1;
            }
            _ => {}
        }
    }
    let [yaml, config, rules, json, fleets] = checked;
    assert!(
        yaml >= 4 && config >= 1 && rules >= 1 && json >= 2 && fleets >= 3,
        "checked {checked:?} of {} blocks",
        blocks.len()
    );
}
