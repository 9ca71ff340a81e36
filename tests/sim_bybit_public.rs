//! The simulator's Bybit public front end, checked the way a Bybit client reads it, from
//! Bybit's documentation (exchanges.md §3.2–3.3) and with serde_json rather than the engine's
//! codec: the subscribe answer then the snapshot, deltas each one `u` on that keep a local
//! book equal to the simulator's top 50, errors for unknown and repeated topics and for more
//! than 10 spot args, the ping's pong (spot and linear shapes), trades with UUID-shaped ids,
//! and the linear ticker (snapshot with the mark at the mid on the tick grid, then deltas of changed
//! fields only).

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use common::start_sim;
use mako::types::{Price, Qty, Side};
use serde_json::{Value, json};
use tungstenite::Message;

const SYMBOL: &str =
    "[[symbols]]\nsymbol = \"BTCUSDT\"\nbase = \"BTC\"\nstart_price = \"60000\"\nlevels = 80\n";

type Ws = tungstenite::WebSocket<tungstenite::stream::MaybeTlsStream<std::net::TcpStream>>;

/// The next text message as JSON; `None` when closed.
fn next(ws: &mut Ws) -> Option<Value> {
    loop {
        match ws.read() {
            Ok(Message::Text(t)) => {
                return Some(serde_json::from_str(t.as_str()).expect("Bybit sends JSON text"));
            }
            Ok(Message::Close(_)) | Err(_) => return None,
            Ok(_) => {}
        }
    }
}

fn connect(url: String) -> Ws {
    tungstenite::connect(url).unwrap().0
}

/// `[["price","size"], …]` into a side of a local book (`"0"` deletes).
fn apply(side: &mut BTreeMap<Price, Qty>, levels: &Value) {
    for l in levels.as_array().unwrap() {
        let p = Price::parse(l[0].as_str().unwrap()).unwrap();
        let q = Qty::parse(l[1].as_str().unwrap()).unwrap();
        if q.is_zero() {
            side.remove(&p);
        } else {
            side.insert(p, q);
        }
    }
}

#[test]
fn orderbook_snapshot_then_deltas_keep_the_top_50() {
    let s = start_sim(SYMBOL);
    let mut ws = connect(format!("{}/v5/public/spot", s.bybit_ws_url()));
    ws.send(Message::text(
        r#"{"req_id":"a1","op":"subscribe","args":["orderbook.50.BTCUSDT"]}"#,
    ))
    .unwrap();
    let ack = next(&mut ws).unwrap();
    assert_eq!(
        (&ack["success"], &ack["ret_msg"], &ack["req_id"], &ack["op"]),
        (&json!(true), &json!(""), &json!("a1"), &json!("subscribe"))
    );
    assert!(ack["conn_id"].is_string());
    let snap = next(&mut ws).unwrap();
    assert_eq!(
        (&snap["topic"], &snap["type"], &snap["data"]["s"]),
        (
            &json!("orderbook.50.BTCUSDT"),
            &json!("snapshot"),
            &json!("BTCUSDT")
        )
    );
    let (mut bids, mut asks) = (BTreeMap::new(), BTreeMap::new());
    apply(&mut bids, &snap["data"]["b"]);
    apply(&mut asks, &snap["data"]["a"]);
    assert_eq!((bids.len(), asks.len()), (50, 50));
    let mut u = snap["data"]["u"].as_u64().unwrap();
    assert!(u > 1, "a first u of 1 would announce a restart");
    let mut seq = snap["data"]["seq"].as_u64().unwrap();
    for _ in 0..20 {
        let d = next(&mut ws).unwrap();
        assert_eq!(d["type"], "delta", "{d}");
        let du = d["data"]["u"].as_u64().unwrap();
        assert_eq!(du, u + 1, "each delta is one u on");
        u = du;
        let ds = d["data"]["seq"].as_u64().unwrap();
        assert!(ds >= seq, "seq never goes back");
        seq = ds;
        assert!(d["ts"].is_u64() && d["cts"].is_u64());
        apply(&mut bids, &d["data"]["b"]);
        apply(&mut asks, &d["data"]["a"]);
    }
    // Paused, the last delta leaves the client's book equal to the simulator's top 50.
    s.pause_market(true);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (sb, sa) = s.with_exchange(|ex| {
            let b = &ex.symbols[0].book;
            (b.top(Side::Buy, 50), b.top(Side::Sell, 50))
        });
        let mine_b: Vec<(Price, Qty)> = bids.iter().rev().map(|(p, q)| (*p, *q)).collect();
        let mine_a: Vec<(Price, Qty)> = asks.iter().map(|(p, q)| (*p, *q)).collect();
        if mine_b == sb && mine_a == sa {
            break;
        }
        assert!(Instant::now() < deadline, "the client's book never matched");
        // Read what is still on its way (the socket times out when nothing is).
        if let tungstenite::stream::MaybeTlsStream::Plain(t) = ws.get_mut() {
            t.set_read_timeout(Some(Duration::from_millis(300))).ok();
        }
        if let Some(d) = next(&mut ws) {
            assert_eq!(d["data"]["u"].as_u64(), Some(u + 1));
            u += 1;
            apply(&mut bids, &d["data"]["b"]);
            apply(&mut asks, &d["data"]["a"]);
        }
    }
}

#[test]
fn errors_pings_and_limits() {
    let s = start_sim(SYMBOL);
    let mut spot = connect(format!("{}/v5/public/spot", s.bybit_ws_url()));
    spot.send(Message::text(
        r#"{"op":"subscribe","args":["publicTrade.BTCUSDT","orderbook.40.BTCUSDT","kline.1.BTCUSDT"]}"#,
    ))
    .unwrap();
    let err = next(&mut spot).unwrap();
    assert_eq!(err["success"], false);
    assert_eq!(
        err["ret_msg"],
        "error:handler not found,topic:orderbook.40.BTCUSDT;error:handler not found,topic:kline.1.BTCUSDT"
    );
    spot.send(Message::text(
        r#"{"op":"subscribe","args":["publicTrade.BTCUSDT"]}"#,
    ))
    .unwrap();
    let again = next(&mut spot).unwrap();
    assert_eq!(
        (&again["success"], &again["ret_msg"]),
        (
            &json!(false),
            &json!("error:already subscribed,topic:publicTrade.BTCUSDT")
        )
    );
    let eleven: Vec<String> = (0..11).map(|k| format!("publicTrade.X{k}")).collect();
    spot.send(Message::text(
        json!({"op": "subscribe", "args": eleven}).to_string(),
    ))
    .unwrap();
    let over = next(&mut spot).unwrap();
    assert_eq!(
        (&over["success"], &over["ret_msg"]),
        (&json!(false), &json!("args size >10"))
    );
    // The spot pong, as the reference's sample: no req_id when none was sent.
    spot.send(Message::text(r#"{"op":"ping"}"#)).unwrap();
    let pong = loop {
        let m = next(&mut spot).unwrap();
        if m.get("topic").is_none() {
            break m;
        }
    };
    assert_eq!(
        (&pong["success"], &pong["ret_msg"], &pong["op"]),
        (&json!(true), &json!("pong"), &json!("ping"))
    );
    assert!(pong.get("req_id").is_none());

    // The walk's own trades: ids UUID-shaped, the taker's side.
    let trade = loop {
        let m = next(&mut spot).unwrap();
        if m["topic"] == "publicTrade.BTCUSDT" {
            break m;
        }
    };
    let t = &trade["data"][0];
    assert_eq!(t["i"].as_str().unwrap().len(), 36, "{t}");
    assert!(t["S"] == "Buy" || t["S"] == "Sell");
    assert!(Qty::parse(t["v"].as_str().unwrap()).unwrap() > Qty::ZERO);

    // Linear: the pong carries req_id, tickers start with a snapshot then carry changes.
    let mut lin = connect(format!("{}/v5/public/linear", s.bybit_ws_url()));
    lin.send(Message::text(r#"{"req_id":"p","op":"ping"}"#))
        .unwrap();
    let pong = next(&mut lin).unwrap();
    assert_eq!(
        (&pong["req_id"], &pong["ret_msg"]),
        (&json!("p"), &json!("pong"))
    );
    lin.send(Message::text(
        r#"{"op":"subscribe","args":["tickers.BTCUSDT"]}"#,
    ))
    .unwrap();
    let ack = next(&mut lin).unwrap();
    assert_eq!(
        (&ack["success"], &ack["req_id"]),
        (&json!(true), &json!(""))
    );
    let snap = next(&mut lin).unwrap();
    assert_eq!(
        (&snap["topic"], &snap["type"]),
        (&json!("tickers.BTCUSDT"), &json!("snapshot"))
    );
    let d = &snap["data"];
    for k in [
        "markPrice",
        "indexPrice",
        "fundingRate",
        "nextFundingTime",
        "bid1Price",
        "ask1Price",
        "lastPrice",
    ] {
        assert!(d[k].is_string(), "snapshot without {k}: {d}");
    }
    assert_eq!(d["fundingRate"], "0.0001");
    let next_funding: u64 = d["nextFundingTime"].as_str().unwrap().parse().unwrap();
    assert_eq!(next_funding % (8 * 3600 * 1000), 0);
    let mark = Price::parse(d["markPrice"].as_str().unwrap()).unwrap();
    let (bid, ask) = (
        Price::parse(d["bid1Price"].as_str().unwrap()).unwrap(),
        Price::parse(d["ask1Price"].as_str().unwrap()).unwrap(),
    );
    // The mark is the mid on the tick grid (0.01), rounded down: what the core funds and
    // liquidates at.
    let mid = (bid.units() + ask.units()) / 2;
    assert_eq!(
        mark.units(),
        mid - mid % 1_000_000,
        "mark = mid on the tick grid"
    );
    let delta = next(&mut lin).unwrap();
    assert_eq!(delta["type"], "delta");
    let dd = delta["data"].as_object().unwrap();
    assert!(dd.contains_key("symbol"));
    assert!(
        !dd.contains_key("fundingRate") && !dd.contains_key("nextFundingTime"),
        "a delta carries only what changed: {delta}"
    );
    assert!(dd.len() >= 2, "{delta}");
}
