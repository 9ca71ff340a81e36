//! The simulator's Coinstore public front end, read the way a Coinstore client reads it, from
//! Coinstore's documentation (exchanges.md §6.5 and its wscat transcript), with serde_json
//! rather than the engine's codec: the greeting, a SUB answered by its echo and
//! `sub.channel.success`, `S` one more on every message, `depth@20` whole snapshots equal to
//! the simulator's book, trades with the taker's side, the ticker, the numeric-id form of a
//! stream, LIST, errors, the JSON pong accepted, and a lost depth push seen as a jump in `S`.

mod common;

use std::time::{Duration, Instant};

use common::start_sim;
use mako::types::{Price, Qty, Side};
use serde_json::{Value, json};
use tungstenite::Message;

const SYMBOL: &str =
    "[[symbols]]\nsymbol = \"BTCUSDT\"\nbase = \"BTC\"\nstart_price = \"60000\"\nlevels = 30\n";

type Ws = tungstenite::WebSocket<tungstenite::stream::MaybeTlsStream<std::net::TcpStream>>;

/// The next text message as JSON; `None` when the connection closed.
fn next(ws: &mut Ws) -> Option<Value> {
    loop {
        match ws.read() {
            Ok(Message::Text(t)) => {
                let s = t.as_str();
                return Some(serde_json::from_str(s).unwrap_or_else(|e| panic!("{s}: {e}")));
            }
            Ok(Message::Close(_)) | Err(_) => return None,
            Ok(_) => {}
        }
    }
}

/// Reads messages, checking each `S` is one more than the last, until `pick` takes one
/// (within 20 s).
fn until(ws: &mut Ws, s: &mut u64, mut pick: impl FnMut(&Value) -> bool) -> Value {
    let end = Instant::now() + Duration::from_secs(20);
    while Instant::now() < end {
        let v = next(ws).expect("connection open");
        let got = v["S"].as_u64().unwrap_or_else(|| panic!("no S: {v}"));
        assert_eq!(got, *s + 1, "S runs one by one: {v}");
        *s = got;
        if pick(&v) {
            return v;
        }
    }
    panic!("nothing picked within 20 s");
}

fn connect(url: &str) -> (Ws, u64, String) {
    let (mut ws, _) = tungstenite::connect(url).unwrap();
    let hello = next(&mut ws).unwrap();
    assert_eq!(
        (&hello["S"], &hello["T"], &hello["C"], &hello["M"]),
        (
            &json!(1),
            &json!("resp"),
            &json!(200),
            &json!("established")
        )
    );
    let sid = hello["sid"].as_str().unwrap().to_owned();
    (ws, 1, sid)
}

fn levels(v: &Value) -> Vec<(Price, Qty)> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|l| {
            let l = l.as_array().unwrap();
            assert_eq!(l.len(), 2, "[price, qty]");
            (
                Price::parse(l[0].as_str().unwrap()).unwrap(),
                Qty::parse(l[1].as_str().unwrap()).unwrap(),
            )
        })
        .collect()
}

#[test]
fn sub_echo_depth_snapshots_trades_and_ticker() {
    let s = start_sim(SYMBOL);
    let (mut ws, mut seq, sid) = connect(&s.coinstore_ws_url());
    ws.send(Message::text(
        r#"{"op":"SUB","channel":["btcusdt@depth@20","btcusdt@trade","1@ticker"],"id":7}"#,
    ))
    .unwrap();
    let echo = until(&mut ws, &mut seq, |_| true);
    assert_eq!(
        (&echo["T"], &echo["C"], &echo["M"], &echo["sid"]),
        (
            &json!("echo"),
            &json!(200),
            &json!("command.received"),
            &json!(sid)
        )
    );
    assert_eq!(echo["echo"]["op"], "SUB");
    assert_eq!(echo["echo"]["id"], 7);
    let names: Vec<&str> = echo["echo"]["channel"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["btcusdt@depth@20", "btcusdt@trade", "1@ticker"]);
    assert_eq!(
        echo["echo"]["channel"][1]["type"],
        json!({"name": "trade", "auth": "PUB"})
    );
    let ok = until(&mut ws, &mut seq, |_| true);
    assert_eq!(
        (&ok["T"], &ok["M"]),
        (&json!("resp"), &json!("sub.channel.success"))
    );

    // Depth: whole snapshots of 20 levels a side, the best bid under the best ask.
    let d = until(&mut ws, &mut seq, |v| v["T"] == "depth");
    assert_eq!(
        (&d["channel"], &d["symbol"], &d["level"], &d["instrumentId"]),
        (
            &json!("btcusdt@depth@20"),
            &json!("BTCUSDT"),
            &json!(20),
            &json!(1)
        )
    );
    let (b, a) = (levels(&d["b"]), levels(&d["a"]));
    assert_eq!((b.len(), a.len()), (20, 20));
    assert!(b[0].0 < a[0].0);
    assert!(b.windows(2).all(|w| w[0].0 > w[1].0) && a.windows(2).all(|w| w[0].0 < w[1].0));

    // Paused, a snapshot equals the simulator's book.
    s.pause_market(true);
    let mut equal = false;
    for _ in 0..50 {
        let d = until(&mut ws, &mut seq, |v| v["T"] == "depth");
        let sim = s.with_exchange(|ex| {
            (
                ex.symbols[0].book.top(Side::Buy, 20),
                ex.symbols[0].book.top(Side::Sell, 20),
            )
        });
        if (levels(&d["b"]), levels(&d["a"])) == sim {
            equal = true;
            break;
        }
    }
    assert!(
        equal,
        "a paused market's snapshot equals the simulator's top 20"
    );
    s.pause_market(false);

    // Trades and the ticker (by the numeric id).
    let t = until(&mut ws, &mut seq, |v| v["T"] == "trade");
    assert_eq!(
        (&t["channel"], &t["symbol"]),
        (&json!("btcusdt@trade"), &json!("BTCUSDT"))
    );
    assert!(
        matches!(t["takerSide"].as_str(), Some("BUY" | "SELL")),
        "{t}"
    );
    assert!(
        t["tradeId"].as_u64().is_some() && t["ts"].as_u64().is_some(),
        "{t}"
    );
    assert_eq!(t["time"].as_u64(), t["ts"].as_u64().map(|ms| ms / 1000));
    assert!(Qty::parse(t["volume"].as_str().unwrap()).unwrap() > Qty::ZERO);
    let k = until(&mut ws, &mut seq, |v| v["T"] == "ticker");
    assert_eq!(
        (&k["channel"], &k["symbol"]),
        (&json!("1@ticker"), &json!("BTCUSDT"))
    );
    for f in ["open", "high", "low", "close"] {
        assert!(Price::parse(k[f].as_str().unwrap()).is_ok(), "{k}");
    }
    assert!(
        k.get("bid").is_none(),
        "Coinstore's WS ticker has no bid or ask"
    );

    // LIST names the three channels; the JSON pong is accepted and not answered.
    ws.send(Message::text(r#"{"op":"pong","epochMillis":1604040975}"#))
        .unwrap();
    ws.send(Message::text(r#"{"op":"LIST","id":2}"#)).unwrap();
    let list = until(&mut ws, &mut seq, |v| v["T"] == "resp");
    let mut subs: Vec<&str> = list["subs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    subs.sort_unstable();
    assert_eq!(subs, ["1@ticker", "btcusdt@depth@20", "btcusdt@trade"]);

    // UNSUB: no more depth.
    ws.send(Message::text(
        r#"{"op":"UNSUB","channel":["btcusdt@depth@20"],"id":3}"#,
    ))
    .unwrap();
    let r = until(&mut ws, &mut seq, |v| v["T"] == "resp");
    assert_eq!(r["M"], "unsub.channel.success");
    let end = Instant::now() + Duration::from_millis(600);
    while Instant::now() < end {
        let v = until(&mut ws, &mut seq, |_| true);
        assert_ne!(v["T"], "depth", "{v}");
    }
}

#[test]
fn bad_commands_are_answered_with_an_error_code() {
    let s = start_sim(SYMBOL);
    let (mut ws, mut seq, _) = connect(&s.coinstore_ws_url());
    for bad in [
        r#"{"op":"SUB","channel":["ethusdt@depth@20"],"id":1}"#,
        r#"{"op":"SUB","channel":["BTCUSDT@trade"],"id":1}"#,
        r#"{"op":"SUB","channel":["btcusdt@depth@7"],"id":1}"#,
        r#"{"op":"SUB","channel":["btcusdt@nope"],"id":1}"#,
        r#"{"op":"HELLO","id":1}"#,
        "not json",
    ] {
        ws.send(Message::text(bad)).unwrap();
        let e = until(&mut ws, &mut seq, |_| true);
        assert_eq!(
            (&e["T"], &e["C"]),
            (&json!("resp"), &json!(400)),
            "{bad}: {e}"
        );
        assert!(e["M"].as_str().is_some_and(|m| !m.is_empty()), "{e}");
    }
    // Nothing was subscribed: no pushes follow.
    ws.send(Message::text(r#"{"op":"LIST","id":2}"#)).unwrap();
    let list = until(&mut ws, &mut seq, |_| true);
    assert_eq!(list["subs"], json!([]));
}

#[test]
fn a_lost_depth_push_is_a_jump_in_s() {
    let s = start_sim(SYMBOL);
    let (mut ws, mut seq, _) = connect(&s.coinstore_ws_url());
    ws.send(Message::text(
        r#"{"op":"SUB","channel":["btcusdt@depth@5"],"id":1}"#,
    ))
    .unwrap();
    let _ = until(&mut ws, &mut seq, |v| v["T"] == "depth");
    assert_eq!(
        levels(&until(&mut ws, &mut seq, |v| v["T"] == "depth")["b"]).len(),
        5
    );
    s.faults().set_depth_gap_every(3);
    let end = Instant::now() + Duration::from_secs(20);
    let mut jumped = false;
    while Instant::now() < end && !jumped {
        let v = next(&mut ws).unwrap();
        let got = v["S"].as_u64().unwrap();
        assert!(got > seq, "S never goes back");
        jumped = got > seq + 1;
        seq = got;
    }
    assert!(jumped, "a withheld push leaves a hole in S");
}
