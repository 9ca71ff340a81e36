//! A simulator's shared state without its threads or sockets, for the `sim_http` and
//! `sim_ws` targets, and the request signing the fuzzer cannot do itself: `NOW` and `SIGN`
//! in a request are replaced by the current time and a valid signature.
#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::{Arc, OnceLock};

use mako::sim::bench::BenchStamps;
use mako::sim::exchange::Exchange;
use mako::sim::hub::{Hub, Mailbox, Outbound};
use mako::sim::limits::Limits;
use mako::sim::{Faults, Shared, SimConfig};
use parking_lot::Mutex;

/// The one account's API key and secret (short, so the fuzzer finds the key).
pub const KEY: &str = "k";
pub const SECRET: &str = "s";

fn config() -> SimConfig {
    static CFG: OnceLock<SimConfig> = OnceLock::new();
    CFG.get_or_init(|| {
        let mut c = SimConfig::default();
        c.accounts.truncate(1);
        c.accounts[0].api_key = KEY.into();
        c.accounts[0].secret = SECRET.into();
        c
    })
    .clone()
}

/// A fresh simulator state, as `Simulator::start` builds it, with no thread started.
pub fn shared() -> Arc<Shared> {
    let cfg = config();
    Arc::new(Shared {
        ex: Mutex::new(Exchange::new(&cfg, false)),
        hub: Hub::default(),
        faults: Faults::new(&cfg.faults, 42),
        limits: Limits::new(cfg.limits.clone()),
        bench: BenchStamps::new(cfg.bench),
        shutdown: AtomicBool::new(false),
        paused: AtomicBool::new(false),
        next_conn: AtomicU64::new(1),
        conns: Mutex::new(HashMap::new()),
        conn_threads: Mutex::new(Vec::new()),
        rest_log: Mutex::new(Default::default()),
        coinstore: Default::default(),
        cfg,
    })
}

/// A connection's mailbox and the receiving end its thread would drain.
pub fn mailbox() -> (Mailbox, crossbeam_channel::Receiver<Outbound>) {
    // One poll and waker for every mailbox; nothing polls it (wakes are only counted).
    static WAKER: OnceLock<(Mutex<mio::Poll>, Arc<mio::Waker>)> = OnceLock::new();
    let (_, waker) = WAKER.get_or_init(|| {
        let poll = mio::Poll::new().expect("poll");
        let waker = Arc::new(mio::Waker::new(poll.registry(), mio::Token(0)).expect("waker"));
        (Mutex::new(poll), waker)
    });
    let (tx, rx) = crossbeam_channel::unbounded();
    (
        Mailbox {
            tx,
            waker: Arc::clone(waker),
        },
        rx,
    )
}

/// Moves the exchange's events to the subscribers' mailboxes, as the market thread does.
pub fn dispatch(shared: &Shared) {
    let mut ex = shared.ex.lock();
    shared.hub.dispatch(&mut ex, &shared.faults);
}

pub fn now_ms() -> u64 {
    mako::sim::exchange::now_ms()
}

/// Hex HMAC-SHA256 (Binance).
pub fn sign_hex(payload: &str) -> String {
    mako::sim::auth::hmac_hex(SECRET, payload.as_bytes())
}

/// Base64 HMAC-SHA256 (OKX).
pub fn sign_base64(payload: &str) -> String {
    let b = mako::venue::sign::HmacSigner::from_bytes(SECRET.as_bytes())
        .sign_base64(payload.as_bytes());
    String::from_utf8_lossy(&b).into_owned()
}

/// `2020-12-08T09:08:57.715Z` now.
pub fn iso_now() -> String {
    let mut out = [0u8; 24];
    mako::venue::okx::sign::iso_millis(now_ms(), &mut out);
    String::from_utf8_lossy(&out).into_owned()
}
