//! `mako check` run as a user runs it: every example in `config/` passes, every broken fixture
//! in `tests/fixtures/config/` fails with exactly the key paths it declares, and no secret
//! value from any file ever reaches the output.
//!
//! Fixtures declare what they expect in comments: `# expect: <key path>` for each error
//! (`{file}` stands for the fixture's own path), `# secret: <value>` for each value that must
//! never be printed.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn mako(args: &[&Path]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mako"))
        .arg("check")
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the mako binary runs")
}

/// The `.toml` files in a directory of the crate, as paths relative to the crate root.
fn toml_files(dir: &str) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<PathBuf> = std::fs::read_dir(root.join(dir))
        .expect("directory exists")
        .map(|e| e.expect("readable entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .map(|p| p.strip_prefix(root).expect("under the crate").to_path_buf())
        .collect();
    files.sort();
    files
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Values of `# <tag>: <value>` comment lines.
fn declared(path: &Path, tag: &str) -> Vec<String> {
    let body = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).unwrap();
    let prefix = format!("# {tag}: ");
    body.lines()
        .filter_map(|l| l.trim().strip_prefix(&prefix))
        .map(|v| v.trim().replace("{file}", &path.display().to_string()))
        .collect()
}

/// Key paths of the error lines `mako check` printed (`  <path>: <message>`).
fn reported_paths(stderr: &str) -> Vec<String> {
    stderr
        .lines()
        .filter_map(|l| l.strip_prefix("  "))
        .filter_map(|l| l.split_once(": ").map(|(p, _)| p.to_owned()))
        .collect()
}

#[test]
fn every_example_config_passes() {
    let files = toml_files("config");
    let names: Vec<String> = files.iter().map(|p| p.display().to_string()).collect();
    assert!(names.contains(&"config/demo.toml".to_owned()), "{names:?}");
    assert!(
        names.contains(&"config/example.toml".to_owned()),
        "{names:?}"
    );
    let args: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    let out = mako(&args);
    let stdout = text(&out.stdout);
    let stderr = text(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(0),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    for name in &names {
        assert!(
            stdout.lines().any(
                |l| l == format!("ok: {name}") || l == format!("ok: {name} (simulator config)")
            ),
            "{name} not ok:\n{stdout}"
        );
    }
    assert!(stderr.is_empty(), "{stderr}");
}

#[test]
fn broken_fixtures_report_exactly_their_declared_paths() {
    let files = toml_files("tests/fixtures/config");
    assert!(files.len() >= 3, "{files:?}");
    for file in &files {
        let want: BTreeSet<String> = declared(file, "expect").into_iter().collect();
        assert!(
            !want.is_empty(),
            "{} declares no expected errors",
            file.display()
        );
        let out = mako(&[file]);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{}:\n{stderr}", file.display());
        assert!(
            stderr.starts_with(&format!("error: {}: ", file.display())),
            "{}:\n{stderr}",
            file.display()
        );
        let got: BTreeSet<String> = reported_paths(&stderr).into_iter().collect();
        let missing: Vec<_> = want.difference(&got).collect();
        let unexpected: Vec<_> = got.difference(&want).collect();
        assert!(
            missing.is_empty() && unexpected.is_empty(),
            "{}: missing {missing:?}, unexpected {unexpected:?}\n{stderr}",
            file.display()
        );
        assert!(
            text(&out.stdout).is_empty(),
            "nothing is ok in {}",
            file.display()
        );
    }
}

#[test]
fn no_secret_value_reaches_the_output() {
    let mut checked = 0;
    for file in toml_files("tests/fixtures/config") {
        let secrets = declared(&file, "secret");
        let out = mako(&[&file]);
        let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
        for secret in &secrets {
            assert!(
                !all.contains(secret.as_str()),
                "{} printed {secret:?}:\n{all}",
                file.display()
            );
            // Nor a recognisable piece of it.
            let head = &secret[..secret.len().min(12)];
            assert!(
                !all.contains(head),
                "{} printed part of {secret:?}:\n{all}",
                file.display()
            );
            checked += 1;
        }
    }
    assert!(
        checked >= 4,
        "fixtures declare too few secrets to test ({checked})"
    );
}

#[test]
fn good_and_bad_files_together() {
    let good = Path::new("config/demo.toml");
    let bad = Path::new("tests/fixtures/config/broken.toml");
    let out = mako(&[good, bad]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stdout)
            .lines()
            .any(|l| l == "ok: config/demo.toml")
    );
    assert!(text(&out.stderr).starts_with("error: tests/fixtures/config/broken.toml: "));
}

#[test]
fn missing_file_is_an_error_naming_it() {
    let out = mako(&[Path::new("config/no-such-file.toml")]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("config/no-such-file.toml: cannot read the file"),
        "{stderr}"
    );
}

#[test]
fn bad_usage_exits_2() {
    let out = mako(&[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("usage: mako check <config>..."));
    let out = mako(&[Path::new("--strict"), Path::new("config/demo.toml")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("unknown option \"--strict\""));
}

#[test]
fn warnings_do_not_fail_a_check() {
    // example.toml names credentials in the environment; unset here, they are warnings.
    let out = Command::new(env!("CARGO_BIN_EXE_mako"))
        .args(["check", "config/example.toml"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("BINANCE_API_KEY")
        .env("BINANCE_API_SECRET", "set-for-this-test")
        .output()
        .expect("the mako binary runs");
    assert_eq!(out.status.code(), Some(0));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains(
            "  warning: venues[0].api_key_env: environment variable BINANCE_API_KEY is not set"
        ),
        "{stdout}"
    );
    assert!(!stdout.contains("BINANCE_API_SECRET"), "{stdout}");
    assert!(!stdout.contains("set-for-this-test"), "{stdout}");
}
