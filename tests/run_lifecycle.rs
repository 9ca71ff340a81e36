//! `mako run` starts the configured hosts and stops cleanly: after `--for`, and on SIGTERM
//! or SIGINT, within the configured shutdown time.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn config(dir: &std::path::Path) -> std::path::PathBuf {
    let text = format!(
        r#"
[engine]
name = "lifecycle"
mode = "paper"
data_dir = "{}"

[[venues]]
name = "binance"
kind = "binance-spot"
ws_url = "ws://127.0.0.1:1"
rest_url = "http://127.0.0.1:1"

[[instruments]]
venue = "binance"
symbol = "BTCUSDT"
base = "BTC"
quote = "USDT"
tick_size = "0.01"
lot_size = "0.00001"

[runtime]
shutdown_timeout = "5s"

[status]
console_interval = "200ms"
"#,
        dir.join("data").display()
    );
    let path = dir.join("lifecycle.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn tempdir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("mako-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn run_for_a_duration_then_stop_cleanly() {
    let dir = tempdir("run-for");
    let out = Command::new(env!("CARGO_BIN_EXE_mako"))
        .args(["run", config(&dir).to_str().unwrap(), "--for", "1s"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "stdout: {stdout}\nstderr: {stderr}");
    assert!(stderr.contains("engine stopped cleanly"), "{stderr}");
    assert!(
        stdout.contains("[paper] up"),
        "the status line ran: {stdout}"
    );
    assert!(dir.join("data").is_dir(), "data dir created");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn signals_stop_the_engine_within_the_shutdown_timeout() {
    for (sig, name) in [("-TERM", "sigterm"), ("-INT", "sigint")] {
        let dir = tempdir(name);
        let mut child = Command::new(env!("CARGO_BIN_EXE_mako"))
            .args(["run", config(&dir).to_str().unwrap()])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Wait until the engine is up: the first status line proves the hosts run.
        let mut stdout = child.stdout.take().unwrap();
        let mut first = [0u8; 8];
        std::io::Read::read_exact(&mut stdout, &mut first).unwrap();
        assert_eq!(&first, b"[paper] ");
        let sent = Instant::now();
        let kill = Command::new("kill")
            .args([sig, &child.id().to_string()])
            .status()
            .unwrap();
        assert!(kill.success());
        let status = loop {
            if let Some(s) = child.try_wait().unwrap() {
                break s;
            }
            assert!(
                sent.elapsed() < Duration::from_secs(30),
                "{name}: engine did not exit"
            );
            std::thread::sleep(Duration::from_millis(10));
        };
        let mut err = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
        assert!(status.success(), "{name}: {status:?}\n{err}");
        assert!(err.contains("engine stopped cleanly"), "{name}: {err}");
        std::fs::remove_dir_all(&dir).ok();
    }
}
