//! The Binance session's own requests against the simulator's WebSocket API: every answer
//! and user-stream event the simulator sends (place, status, cancel, cancel-replace,
//! keep-priority amend, a trade) is fed to two sessions, one on the typed fast path, one on
//! the `serde_json::Value` path; they must tell the same, and the order path's frames must
//! take the fast path. With `MAKO_CAPTURE_SIM_FRAMES=<file>` the frames are also written
//! there (how `tests/fixtures/binance-wsapi-sim/frames.txt` was made).

#[path = "binance_typed/pair.rs"]
mod pair;
mod sim_support;

use mako::types::{Price, Qty};
use pair::{Pair, Req};
use serde_json::Value;
use sim_support::*;
use tungstenite::Message;

struct Run {
    ws: Ws,
    pair: Pair,
    captured: Vec<String>,
    fast: usize,
}

impl Run {
    /// Sends `req`; feeds every frame to the pair until the answer to it; returns it.
    fn request(&mut self, req: Req, kind: &str, price: Price, qty: Qty) -> Value {
        let (id, bytes) = self.pair.request(req, price, qty, now_ms());
        let text = String::from_utf8(bytes.to_vec()).unwrap();
        self.ws.send(Message::text(text)).unwrap();
        loop {
            let t = next_text(&mut self.ws).expect("connection open");
            let v: Value = serde_json::from_str(&t).unwrap();
            let answer = v["id"].as_str() == Some(id.to_string().as_str());
            self.feed(&t, &v, if answer { kind } else { "event" });
            if answer {
                return v;
            }
        }
    }

    fn feed(&mut self, text: &str, v: &Value, kind: &str) {
        let fast = self.pair.feed(text.as_bytes());
        let hot = v["event"]["e"] == "executionReport" || (v["status"] == 200 && kind != "event");
        if hot && kind != "subscribe" {
            assert!(fast, "{kind} frame not on the fast path: {text}");
            self.captured.push(format!("{kind} {text}"));
        }
        self.fast += usize::from(fast);
    }

    /// Feeds frames until one satisfies `f`.
    fn until(&mut self, f: impl Fn(&Value) -> bool) -> Value {
        loop {
            let t = next_text(&mut self.ws).expect("connection open");
            let v: Value = serde_json::from_str(&t).unwrap();
            self.feed(&t, &v, "event");
            if f(&v) {
                return v;
            }
        }
    }
}

#[test]
fn the_simulators_answers_and_events_decode_alike() {
    let sim = start("");
    sim.pause_market(true);
    let mut run = Run {
        ws: ws_connect(&sim.ws_api_url()),
        pair: Pair::new(KEY, SECRET),
        captured: Vec::new(),
        fast: 0,
    };
    // The user data stream (signed subscription).
    let (_, bytes) = run.pair.request_subscribe(now_ms());
    let text = String::from_utf8(bytes.to_vec()).unwrap();
    run.ws.send(Message::text(text)).unwrap();
    run.until(|v| v["status"] == 200);

    let (a, b) = (pair::cid(11), pair::cid(12));
    let px = Price::parse("50000.00").unwrap();
    let v = run.request(Req::Place(a), "place", px, Qty::parse("0.01").unwrap());
    assert_eq!(v["status"], 200, "{v}");
    run.until(|v| v["event"]["x"] == "NEW");
    let v = run.request(Req::Status(a), "status", px, Qty::parse("0.01").unwrap());
    assert_eq!(v["status"], 200, "{v}");
    let v = run.request(Req::Amend(a), "amend", px, Qty::parse("0.005").unwrap());
    assert_eq!(v["status"], 200, "{v}");
    run.until(|v| v["event"]["x"] == "REPLACED");
    let px2 = Price::parse("50001.00").unwrap();
    let v = run.request(
        Req::Replace(a, b),
        "replace",
        px2,
        Qty::parse("0.01").unwrap(),
    );
    assert_eq!(v["status"], 200, "{v}");
    run.until(|v| v["event"]["x"] == "NEW" && v["event"]["c"] == b.as_str());
    let v = run.request(Req::Cancel(b), "cancel", px2, Qty::parse("0.01").unwrap());
    assert_eq!(v["status"], 200, "{v}");
    run.until(|v| v["event"]["x"] == "CANCELED");
    // A buy far above the market trades at once: a TRADE report.
    let c = pair::cid(13);
    let v = run.request(
        Req::Place(c),
        "place",
        Price::parse("90000.00").unwrap(),
        Qty::parse("0.002").unwrap(),
    );
    assert_eq!(v["status"], 200, "{v}");
    run.until(|v| v["event"]["x"] == "TRADE");
    assert!(run.fast >= 10, "{}", run.fast);
    if let Ok(path) = std::env::var("MAKO_CAPTURE_SIM_FRAMES") {
        std::fs::write(path, run.captured.join("\n") + "\n").unwrap();
    }
}
