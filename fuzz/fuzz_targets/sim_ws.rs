#![no_main]
//! The simulator's WebSocket sessions: what any client can send over `/ws-api/v3` (Binance
//! WebSocket API), `/ws/v5/private` and `/ws/v5/public` (OKX), and the Binance market
//! streams. Each line of the input is one text message, given to one session of each kind
//! sharing a fresh simulator state (`Session::on_text`); after each message the exchange's
//! events are dispatched and every session renders what reached its mailbox
//! (`Session::render`). Every reply and rendered frame must be JSON (or OKX's `pong`).
//!
//! The fuzzer cannot sign: `"timestamp":"NOW"` and `"signature":"SIGN"` in WebSocket API
//! params, and `"timestamp":"NOW"` / `"sign":"SIGN"` in an OKX login, are replaced by the
//! time and a valid signature (account key `k`, secret `s`, OKX passphrase
//! `mako-sim-passphrase`), so logon, order entry and the user data pushes are reached.
#[path = "../common/sim.rs"]
mod sim;

use std::collections::VecDeque;

use libfuzzer_sys::fuzz_target;
use mako::sim::hub::Outbound;
use mako::sim::okx_private::OkxPrivateSession;
use mako::sim::okx_public::OkxPublicSession;
use mako::sim::ws::{Queue, Session};
use mako::sim::ws_api::ApiSession;
use mako::sim::ws_market::{MarketSession, parse_path};
use serde_json::Value;

/// Fills in `NOW` and `SIGN` placeholders; `None` when there are none.
fn sign(text: &str) -> Option<String> {
    if !text.contains("NOW") && !text.contains("SIGN") {
        return None;
    }
    let mut v: Value = serde_json::from_str(text).ok()?;
    let now = sim::now_ms();
    if let Some(p) = v.get_mut("params").and_then(Value::as_object_mut) {
        if p.get("timestamp").and_then(Value::as_str) == Some("NOW") {
            p.insert("timestamp".into(), now.into());
        }
        if p.get("signature").and_then(Value::as_str) == Some("SIGN") {
            let sig = sim::sign_hex(&mako::sim::auth::ws_payload(p));
            p.insert("signature".into(), sig.into());
        }
    }
    if let Some(args) = v.get_mut("args").and_then(Value::as_array_mut) {
        for a in args.iter_mut().filter_map(Value::as_object_mut) {
            if a.get("timestamp").and_then(Value::as_str) == Some("NOW") {
                a.insert("timestamp".into(), (now / 1000).to_string().into());
            }
            if a.get("sign").and_then(Value::as_str) == Some("SIGN") {
                let ts = a.get("timestamp").and_then(Value::as_str).unwrap_or("");
                let sig = sim::sign_base64(&format!("{ts}GET/users/self/verify"));
                a.insert("sign".into(), sig.into());
            }
        }
    }
    Some(v.to_string())
}

fn check(q: &mut Queue, what: &str) {
    for (_, frame) in q.drain(..) {
        if let Some(f) = frame {
            assert!(
                f == "pong" || serde_json::from_str::<Value>(&f).is_ok(),
                "{what} sent a frame that is not JSON: {f:?}"
            );
        }
    }
}

struct Conn {
    name: &'static str,
    session: Box<dyn Session>,
    rx: crossbeam_channel::Receiver<Outbound>,
    open: bool,
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let shared = sim::shared();
    let mut conns = Vec::new();
    let mut add = |name, make: &dyn Fn(mako::sim::hub::Mailbox, u64) -> Box<dyn Session>| {
        let (mb, rx) = sim::mailbox();
        let conn = shared
            .next_conn
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        conns.push(Conn {
            name,
            session: make(mb, conn),
            rx,
            open: true,
        });
    };
    add("ws-api", &|mb, c| {
        Box::new(ApiSession::new(shared.clone(), c, mb))
    });
    add("okx-private", &|mb, c| {
        Box::new(OkxPrivateSession::new(shared.clone(), c, mb))
    });
    add("okx-public", &|mb, c| {
        Box::new(OkxPublicSession::new(shared.clone(), c, mb))
    });
    add("market", &|mb, c| {
        let init = parse_path(&shared, "/stream", "streams=btcusdt@trade/btcusdt@depth")
            .expect("a valid stream path");
        Box::new(MarketSession::new(shared.clone(), c, mb, init))
    });

    let mut q: Queue = VecDeque::new();
    for line in text.split('\n').take(16) {
        let signed = sign(line);
        let msg = signed.as_deref().unwrap_or(line);
        for c in conns.iter_mut().filter(|c| c.open) {
            c.open = c.session.on_text(msg, &mut q);
            check(&mut q, c.name);
        }
        sim::dispatch(&shared);
        for c in conns.iter_mut() {
            while let Ok(o) = c.rx.try_recv() {
                if let Some((_, Some(f))) = c.session.render(o) {
                    assert!(
                        serde_json::from_str::<Value>(&f).is_ok(),
                        "{} rendered a frame that is not JSON: {f:?}",
                        c.name
                    );
                }
            }
        }
    }
});
