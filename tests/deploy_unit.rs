//! `deploy/mako.service` as an operator installs it: the restart policy with its limits, the
//! config check before start on a config that is in `config/` and passes `mako check`, the
//! hardening and the dedicated user, the data directory writable, and a credential for every
//! secret file the config names; and `systemd-analyze verify` accepts it (with the binary
//! paths pointed at the built `mako`) where the machine has systemd-analyze.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

const UNIT: &str = include_str!("../deploy/mako.service");

/// Every `key=value` of every section, in order (keys may repeat).
fn parse(unit: &str) -> HashMap<String, Vec<(String, String)>> {
    let mut out: HashMap<String, Vec<(String, String)>> = HashMap::new();
    let mut section = String::new();
    for line in unit.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(s) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = s.to_owned();
            continue;
        }
        let (k, v) = line.split_once('=').expect("key=value");
        out.entry(section.clone())
            .or_default()
            .push((k.trim().to_owned(), v.trim().to_owned()));
    }
    out
}

fn values<'a>(
    unit: &'a HashMap<String, Vec<(String, String)>>,
    sec: &str,
    key: &str,
) -> Vec<&'a str> {
    unit.get(sec)
        .into_iter()
        .flatten()
        .filter(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .collect()
}

fn one<'a>(unit: &'a HashMap<String, Vec<(String, String)>>, sec: &str, key: &str) -> &'a str {
    match values(unit, sec, key).as_slice() {
        [v] => v,
        other => panic!("[{sec}] {key}: expected one value, found {other:?}"),
    }
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The config file the unit runs, as the repository holds it (`/etc/mako/<name>` is
/// `config/<name>`).
fn repo_config(unit: &HashMap<String, Vec<(String, String)>>) -> PathBuf {
    let pre = one(unit, "Service", "ExecStartPre");
    let path = pre
        .strip_prefix("/usr/local/bin/mako check ")
        .unwrap_or_else(|| panic!("ExecStartPre is `mako check <config>`: {pre}"));
    assert_eq!(
        one(unit, "Service", "ExecStart"),
        format!("/usr/local/bin/mako run {path}"),
        "the unit runs the config it checked"
    );
    let name = Path::new(path).file_name().expect("a file name");
    root().join("config").join(name)
}

#[test]
fn the_unit_restarts_with_limits_checks_its_config_and_is_hardened() {
    let unit = parse(UNIT);
    assert_eq!(one(&unit, "Service", "Restart"), "on-failure");
    assert!(!one(&unit, "Service", "RestartSec").is_empty());
    let burst: u32 = one(&unit, "Unit", "StartLimitBurst").parse().unwrap();
    assert!((1..=10).contains(&burst), "{burst}");
    assert!(!one(&unit, "Unit", "StartLimitIntervalSec").is_empty());
    assert_eq!(one(&unit, "Service", "User"), "mako");
    assert_eq!(one(&unit, "Service", "Group"), "mako");
    for (key, want) in [
        ("NoNewPrivileges", "yes"),
        ("ProtectSystem", "strict"),
        ("ProtectHome", "yes"),
        ("PrivateTmp", "yes"),
        ("StateDirectory", "mako"),
        ("UMask", "0077"),
    ] {
        assert_eq!(one(&unit, "Service", key), want, "{key}");
    }

    // The config it checks is in config/ and passes `mako check`.
    let config_path = repo_config(&unit);
    assert!(
        config_path.is_file(),
        "{} is not in config/",
        config_path.display()
    );
    let out = Command::new(env!("CARGO_BIN_EXE_mako"))
        .arg("check")
        .arg(&config_path)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "mako check {}: {}",
        config_path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&config_path).unwrap();
    let config = mako::config::parse(&text, &config_path).expect("valid config");

    // Its data directory is the one the unit makes writable under ProtectSystem=strict.
    let data = config.engine.data_dir.display().to_string();
    assert_eq!(data, "/var/lib/mako");
    assert!(values(&unit, "Service", "ReadWritePaths").contains(&data.as_str()));
    assert_eq!(one(&unit, "Service", "WorkingDirectory"), data);

    // Every secret file the config names is a credential the unit loads, from a source
    // outside the repository and the state directory.
    let creds: HashMap<&str, &str> = values(&unit, "Service", "LoadCredential")
        .into_iter()
        .map(|v| v.split_once(':').expect("name:path"))
        .collect();
    let named: Vec<&str> = text
        .lines()
        .filter_map(|l| l.split_once('='))
        .filter(|(k, _)| k.trim().ends_with("_file"))
        .map(|(_, v)| v.split('#').next().unwrap().trim().trim_matches('"'))
        .collect();
    assert!(named.len() >= 3, "{named:?}");
    for path in named {
        let name = path
            .strip_prefix("/run/credentials/mako.service/")
            .unwrap_or_else(|| panic!("{path} is not a credential of mako.service"));
        let source = creds
            .get(name)
            .unwrap_or_else(|| panic!("no LoadCredential={name}:..."));
        assert!(source.starts_with("/etc/mako/credentials/"), "{source}");
    }
}

/// `systemd-analyze verify` prints a line naming the file for every problem it finds (an
/// unknown key, a bad value, a missing executable) and exits 0 on warnings, so the test reads
/// its output. A copy with a misspelled key shows that the check can fail.
#[test]
fn systemd_analyze_verify_accepts_the_unit() {
    let Ok(probe) = Command::new("systemd-analyze").arg("--version").output() else {
        println!("skipped: systemd-analyze is not installed on this machine");
        return;
    };
    assert!(probe.status.success());
    let dir = std::env::temp_dir().join(format!("mako-unit-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let unit = UNIT.replace("/usr/local/bin/mako", env!("CARGO_BIN_EXE_mako"));
    let verify = |name: &str, text: &str| -> String {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        let out = Command::new("systemd-analyze")
            .arg("verify")
            .arg(&path)
            .output()
            .unwrap();
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        all.lines()
            .filter(|l| l.contains(name))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(verify("mako.service", &unit), "", "systemd-analyze verify");
    let spoiled = unit.replace("ProtectSystem=strict", "ProtectSystm=strict");
    let complaint = verify("spoiled.service", &spoiled);
    assert!(complaint.contains("ProtectSystm"), "{complaint:?}");
    let _ = std::fs::remove_dir_all(&dir);
}
