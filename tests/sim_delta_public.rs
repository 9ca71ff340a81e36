//! The simulator's Delta public front end, checked the way a Delta client reads it, from
//! Delta's documentation (reference/delta.md §3) and with serde_json rather than the engine's
//! codec: the subscriptions answer then the `ob_updates` snapshot, updates each one `seq` on
//! whose `cs` is the CRC32 of the client's own top 10 strings and which keep a local book equal
//! to the simulator's; refused channels, the ping's pong, heartbeats once enabled, `ob_l1`,
//! `trades` (`r` the buyer's role), `mark_price` (`MARK:` symbols) and `funding_rate` in
//! percent.

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use common::start_sim;
use mako::types::{Price, Qty, Side};
use serde_json::{Value, json};
use tungstenite::Message;

const SYMBOL: &str = "[[symbols]]\nsymbol = \"BTCUSD\"\nbase = \"BTC\"\nquote = \"USD\"\n\
    tick_size = \"0.5\"\nmin_price = \"0.5\"\nstep_size = \"1\"\nmin_qty = \"1\"\n\
    max_qty = \"1000000\"\nmin_notional = \"0\"\nstart_price = \"60000\"\nlevels = 40\n";

type Ws = tungstenite::WebSocket<tungstenite::stream::MaybeTlsStream<std::net::TcpStream>>;

/// The next text message as JSON; `None` when closed or nothing came within the timeout.
fn next(ws: &mut Ws) -> Option<Value> {
    loop {
        match ws.read() {
            Ok(Message::Text(t)) => {
                return Some(serde_json::from_str(t.as_str()).expect("Delta sends JSON text"));
            }
            Ok(Message::Close(_)) | Err(_) => return None,
            Ok(_) => {}
        }
    }
}

/// The next message of `ty` (others skipped).
fn next_of(ws: &mut Ws, ty: &str) -> Value {
    for _ in 0..10_000 {
        let v = next(ws).expect("connection open");
        if v["type"] == ty {
            return v;
        }
    }
    panic!("no {ty}");
}

fn connect(url: String) -> Ws {
    let ws = tungstenite::connect(url).unwrap().0;
    if let tungstenite::stream::MaybeTlsStream::Plain(t) = ws.get_ref() {
        t.set_read_timeout(Some(Duration::from_secs(20))).ok();
    }
    ws
}

/// A side as the client keeps it: price → (price string, size string).
type Side_ = BTreeMap<Price, (String, String)>;

fn apply(side: &mut Side_, levels: &Value) {
    for l in levels.as_array().unwrap() {
        let (ps, qs) = (l[0].as_str().unwrap(), l[1].as_str().unwrap());
        let p = Price::parse(ps).unwrap();
        if Qty::parse(qs).unwrap().is_zero() {
            side.remove(&p);
        } else {
            side.insert(p, (ps.to_owned(), qs.to_owned()));
        }
    }
}

/// Delta's checksum from the client's own strings: top 10 asks ascending | bids descending.
fn checksum(bids: &Side_, asks: &Side_) -> u32 {
    let join = |it: &mut dyn Iterator<Item = &(String, String)>| {
        it.take(10)
            .map(|(p, q)| format!("{p}:{q}"))
            .collect::<Vec<_>>()
            .join(",")
    };
    let text = format!(
        "{}|{}",
        join(&mut asks.values()),
        join(&mut bids.values().rev())
    );
    crc32fast::hash(text.as_bytes())
}

fn sub(ws: &mut Ws, kind: &str, channels: Value) {
    let m = json!({"type": kind, "payload": {"channels": channels}});
    ws.send(Message::text(m.to_string())).unwrap();
}

#[test]
fn ob_updates_snapshot_then_updates_chain_by_seq_and_checksum() {
    let s = start_sim(SYMBOL);
    let mut ws = connect(s.delta_ws_url());
    sub(
        &mut ws,
        "subscribe",
        json!([{"name": "ob_updates", "symbols": ["BTCUSD"]}]),
    );
    let ack = next(&mut ws).unwrap();
    assert_eq!(
        ack,
        json!({"type": "subscriptions", "channels": [{"name": "ob_updates", "symbols": ["BTCUSD"]}]})
    );
    let snap = next(&mut ws).unwrap();
    assert_eq!(
        (&snap["type"], &snap["action"], &snap["sy"]),
        (&json!("ob_updates"), &json!("snapshot"), &json!("BTCUSD"))
    );
    let (mut bids, mut asks) = (BTreeMap::new(), BTreeMap::new());
    apply(&mut bids, &snap["b"]);
    apply(&mut asks, &snap["a"]);
    assert_eq!((bids.len(), asks.len()), (40, 40));
    // Prices in the tick's decimals, sizes in whole contracts.
    let (p0, q0) = bids.values().next_back().unwrap();
    assert!(p0.ends_with(".0") || p0.ends_with(".5"), "{p0}");
    assert!(q0.bytes().all(|b| b.is_ascii_digit()), "{q0}");
    assert_eq!(snap["cs"].as_u64(), Some(u64::from(checksum(&bids, &asks))));
    let mut seq = snap["seq"].as_u64().unwrap();
    for _ in 0..20 {
        let d = next(&mut ws).unwrap();
        assert_eq!(
            (&d["type"], &d["action"]),
            (&json!("ob_updates"), &json!("update")),
            "{d}"
        );
        assert_eq!(
            d["seq"].as_u64(),
            Some(seq + 1),
            "each update is one seq on"
        );
        seq += 1;
        assert!(d["ts"].is_u64());
        apply(&mut bids, &d["b"]);
        apply(&mut asks, &d["a"]);
        assert_eq!(
            d["cs"].as_u64(),
            Some(u64::from(checksum(&bids, &asks))),
            "{d}"
        );
    }
    // Paused, the last update leaves the client's book equal to the simulator's.
    s.pause_market(true);
    let deadline = Instant::now() + Duration::from_secs(20);
    if let tungstenite::stream::MaybeTlsStream::Plain(t) = ws.get_mut() {
        t.set_read_timeout(Some(Duration::from_millis(300))).ok();
    }
    loop {
        let (sb, sa) = s.with_exchange(|ex| {
            let b = &ex.symbols[0].book;
            (b.top(Side::Buy, 1000), b.top(Side::Sell, 1000))
        });
        let mine_b: Vec<Price> = bids.keys().rev().copied().collect();
        let mine_a: Vec<Price> = asks.keys().copied().collect();
        let sim_b: Vec<Price> = sb.iter().map(|l| l.0).collect();
        let sim_a: Vec<Price> = sa.iter().map(|l| l.0).collect();
        if mine_b == sim_b && mine_a == sim_a {
            break;
        }
        assert!(Instant::now() < deadline, "the client's book never matched");
        if let Some(d) = next(&mut ws) {
            assert_eq!(d["seq"].as_u64(), Some(seq + 1));
            seq += 1;
            apply(&mut bids, &d["b"]);
            apply(&mut asks, &d["a"]);
        }
    }
    // A lost update (the gap fault) spends its seq.
    s.pause_market(false);
    s.faults().set_depth_gap_every(3);
    if let tungstenite::stream::MaybeTlsStream::Plain(t) = ws.get_mut() {
        t.set_read_timeout(Some(Duration::from_secs(20))).ok();
    }
    let mut jumped = false;
    for _ in 0..30 {
        let d = next_of(&mut ws, "ob_updates");
        let n = d["seq"].as_u64().unwrap();
        assert!(n > seq);
        jumped |= n > seq + 1;
        seq = n;
    }
    assert!(jumped, "a lost update shows as a seq jump");
}

#[test]
fn control_messages_and_refusals() {
    let s = start_sim(SYMBOL);
    let mut ws = connect(s.delta_ws_url());
    ws.send(Message::text(r#"{"type":"ping"}"#)).unwrap();
    assert_eq!(next(&mut ws).unwrap(), json!({"type": "pong"}));
    // An unknown channel and ob_updates with "all" are refused; an unknown symbol is acked.
    sub(
        &mut ws,
        "subscribe",
        json!([
            {"name": "candles_1x", "symbols": ["BTCUSD"]},
            {"name": "ob_updates", "symbols": ["all"]},
            {"name": "ob_l1", "symbols": ["NOPEUSD"]}
        ]),
    );
    let ack = next(&mut ws).unwrap();
    assert_eq!(ack["type"], "subscriptions");
    let chans = ack["channels"].as_array().unwrap();
    assert_eq!(chans[0], json!({"name": "ob_l1", "symbols": ["NOPEUSD"]}));
    assert_eq!(
        chans[1]["error"],
        "subscription forbidden on this invalid channel"
    );
    assert!(chans[2]["error"].as_str().unwrap().contains("ob_updates"));
    ws.send(Message::text(r#"{"type":"subscribe","payload":{}}"#))
        .unwrap();
    assert_eq!(
        next(&mut ws).unwrap(),
        json!({"type": "error", "message": "Subscription forbidden: Invalid channel array"})
    );
    // Unsubscribing without symbols drops the channel.
    sub(&mut ws, "unsubscribe", json!([{"name": "ob_l1"}]));
    assert_eq!(
        next(&mut ws).unwrap(),
        json!({"type": "subscriptions", "channels": []})
    );
}

#[test]
fn bbo_trades_mark_funding_and_heartbeats() {
    let s = start_sim(SYMBOL);
    let mut ws = connect(s.delta_ws_url());
    ws.send(Message::text(r#"{"type":"enable_heartbeat"}"#))
        .unwrap();
    sub(
        &mut ws,
        "subscribe",
        json!([
            {"name": "ob_l1", "symbols": ["BTCUSD"]},
            {"name": "trades", "symbols": ["BTCUSD"]},
            {"name": "mark_price", "symbols": ["MARK:BTCUSD"]},
            {"name": "funding_rate", "symbols": ["BTCUSD"]}
        ]),
    );
    let ack = next_of(&mut ws, "subscriptions");
    assert_eq!(ack["channels"].as_array().unwrap().len(), 4);
    let mut seen = BTreeMap::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while seen.len() < 5 && Instant::now() < deadline {
        let v = next(&mut ws).unwrap();
        let ty = v["type"].as_str().unwrap().to_owned();
        match ty.as_str() {
            "ob_l1" => {
                let bp = Price::parse(v["bp"].as_str().unwrap()).unwrap();
                let ap = Price::parse(v["ap"].as_str().unwrap()).unwrap();
                assert!(bp < ap, "{v}");
                assert!(v["bs"].as_str().unwrap().parse::<u64>().is_ok(), "{v}");
                assert_eq!(v["sy"], "BTCUSD");
            }
            "trades" => {
                assert!(v["r"] == "m" || v["r"] == "t", "{v}");
                assert!(v["s"].is_number() && v["t"].is_u64(), "{v}");
                Price::parse(v["p"].as_str().unwrap()).unwrap();
            }
            "mark_price" => {
                assert_eq!(v["sy"], "MARK:BTCUSD");
                Price::parse(v["p"].as_str().unwrap()).unwrap();
            }
            "funding_rate" => {
                // sim.delta_funding_rate 0.0001 = 0.01 % per 8 hours.
                assert_eq!(v["fr"].as_f64(), Some(0.01), "{v}");
                assert_eq!(v["fi"], 28800);
                assert_eq!(v["nfr"].as_u64().unwrap() % (8 * 3600 * 1_000_000), 0);
            }
            "heartbeat" => {}
            other => panic!("unexpected {other}: {v}"),
        }
        seen.insert(ty, v);
    }
    assert_eq!(
        seen.keys().map(String::as_str).collect::<Vec<_>>(),
        vec!["funding_rate", "heartbeat", "mark_price", "ob_l1", "trades"]
    );
}
