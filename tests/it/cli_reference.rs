//! docs/cli.md is `--help`; completions and man pages come from the same definitions.

use crate::common::*;

#[test]
fn cli_reference_matches_help() {
    let want = vulnmail::cli::reference_markdown();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/cli.md");
    if std::env::var_os("VULNMAIL_BLESS").is_some() {
        std::fs::write(&path, &want).unwrap();
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == want,
        "docs/cli.md is out of date with --help: run `VULNMAIL_BLESS=1 cargo test --test it cli_reference`"
    );
    // The reference covers every command.
    for c in ["vulnmail init", "vulnmail key publish", "vulnmail key check", "vulnmail secrets status"] {
        assert!(want.contains(&format!("## `{c}`")), "{c}");
    }
}

#[test]
fn completions_and_man_pages_are_generated() {
    let env = Env::new();
    let o = env.vm().args(["completions", "bash"]).output().unwrap();
    assert!(stdout(ok(&o)).contains("_vulnmail"), "bash completion function");
    let o = env.vm().args(["completions", "zsh"]).output().unwrap();
    assert!(stdout(ok(&o)).contains("#compdef vulnmail"));
    let dir = env.path("man");
    env.vm().args(["man", "--out"]).arg(&dir).assert().success();
    let page = std::fs::read_to_string(dir.join("vulnmail-key-publish.1")).unwrap();
    assert!(page.contains(".TH") && page.contains("security.txt"), "{page}");
    assert!(dir.join("vulnmail.1").is_file() && dir.join("vulnmail-init.1").is_file());
}

#[test]
fn every_command_has_an_example_in_its_help() {
    fn walk(cmd: &clap::Command, path: &str) {
        for sub in cmd.get_subcommands() {
            if sub.get_name() == "help" {
                continue;
            }
            let name = format!("{path} {}", sub.get_name());
            if sub.has_subcommands() {
                walk(sub, &name);
                continue;
            }
            let long = sub.get_long_about().map(|s| s.to_string()).unwrap_or_default();
            assert!(long.contains("Example:"), "`{name} --help` has no example");
            let about = sub.get_about().map(|s| s.to_string()).unwrap_or_default();
            assert!(!about.ends_with('.'), "`{name}`: first line ends with a full stop");
        }
    }
    walk(&vulnmail::cli::command(), "vulnmail");
}

#[test]
fn a_closed_pipe_exits_quietly() {
    let env = Env::new();
    let bin = assert_cmd::cargo::cargo_bin("vulnmail");
    let o = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("'{}' completions bash | head -c 10 >/dev/null; echo \"rc=${{PIPESTATUS:-?}}\"", bin.display()))
        .env("HOME", env.home())
        .output()
        .unwrap();
    assert!(!stderr(&o).contains("panicked") && !stderr(&o).contains("error"), "{}", stderr(&o));
}
