//! `mako bench` end to end: the simulator and the engine as two processes over loopback,
//! stamps collected, the `.hgrm` files and the plot written; and the throughput mode.
//! Nothing here asserts a latency: only that samples exist and the files are well formed. A
//! short smoke run (8 s): the figures come from `mako bench --for 25s` outside the tests.

use std::process::Command;
use std::sync::Mutex;

/// Each `mako bench` pins its engine's hot thread to core 1 and spins it: two at once (the
/// test harness runs a file's tests in parallel) would share that core. One at a time.
static ONE_BENCH: Mutex<()> = Mutex::new(());

#[test]
fn loopback_bench_writes_percentiles_hgrm_and_plot() {
    let _one = ONE_BENCH.lock().unwrap_or_else(|e| e.into_inner());
    let out = std::env::temp_dir().join(format!("mako-bench-{}", std::process::id()));
    let run = Command::new(env!("CARGO_BIN_EXE_mako"))
        .args([
            "bench",
            "--config",
            "config/bench.toml",
            "--for",
            "8s",
            "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "stdout:\n{stdout}\nstderr:\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(stdout.contains("idle spin"), "placement stated: {stdout}");
    assert!(stdout.contains("tick-to-trade (frame written -> first order.place read): p50"));
    let hgrm = mako::latency::read_hgrm(&out.join("tick-to-trade.hgrm")).unwrap();
    assert!(hgrm.count() > 0, "no tick-to-trade samples");
    let svg = std::fs::read_to_string(out.join("tick-to-trade.svg")).unwrap();
    assert!(svg.starts_with("<svg") || svg.contains("<svg"));
    let engine = std::fs::read_to_string(out.join("engine.toml")).unwrap();
    assert!(!engine.contains("[sim]") && engine.contains("MAKO_BENCH_API_KEY"));
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn throughput_mode_publishes_every_ticker() {
    let _one = ONE_BENCH.lock().unwrap_or_else(|e| e.into_inner());
    let run = Command::new(env!("CARGO_BIN_EXE_mako"))
        .args([
            "bench",
            "--config",
            "config/bench.toml",
            "--throughput",
            "--for",
            "1s",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(run.status.success(), "{stdout}");
    assert!(
        stdout.contains("28040 bookTicker frames of 41249 frames"),
        "{stdout}"
    );
    assert!(stdout.contains("(28037 of 28037 published"), "{stdout}");
}
