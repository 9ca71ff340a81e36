//! Shared helpers for end-to-end tests against the in-process simulator.
#![allow(dead_code)]

pub mod gateway_rig;

use std::time::{Duration, Instant};

use mako::sim::{SimConfig, SimHandle, Simulator};

/// A simulator on an ephemeral loopback port with the random walk, one BTCUSDT market and
/// the documentation's test account.
pub fn start_sim(extra: &str) -> SimHandle {
    let text = format!("port = 0\nseed = 7\nwalk_interval_ms = 20\n{extra}");
    let table: toml::Table = text.parse().expect("sim config");
    let cfg = SimConfig::from_table(&table).expect("valid sim config");
    Simulator::start(cfg).expect("simulator starts")
}

/// Polls `f` until it returns `Some`, for at most `limit`.
pub fn wait_for<T>(limit: Duration, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let until = Instant::now() + limit;
    loop {
        if let Some(v) = f() {
            return Some(v);
        }
        if Instant::now() >= until {
            return None;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}
