//! The simulator's CoinDCX futures stream, checked the way a Socket.IO v2 client reads it
//! (Engine.IO 3 framing as published; CoinDCX's channels and payloads from exchanges.md §7.5)
//! with raw frames and serde_json rather than the engine's codec: the open packet and `40`,
//! ping → pong, `join` of a book channel bringing `depth-snapshot`s of 20 levels a side as
//! price→quantity maps with a rising `vs` that equal the simulator's book, `leave` stopping
//! them, `new-trade` and `price-change` for a trade, and `currentPrices` with mark = mid.

mod common;

use std::time::{Duration, Instant};

use common::start_sim;
use mako::types::{Price, Qty, Side};
use serde_json::{Value, json};
use tungstenite::Message;

const SYMBOL: &str = "[[symbols]]\nsymbol = \"BTCUSDT\"\nbase = \"BTC\"\nquote = \"USDT\"\nstart_price = \"60000\"\nlevels = 80\n";

type Ws = tungstenite::WebSocket<tungstenite::stream::MaybeTlsStream<std::net::TcpStream>>;

fn connect(s: &mako::sim::SimHandle) -> Ws {
    let url = format!(
        "{}/socket.io/?EIO=3&transport=websocket",
        s.coindcx_ws_url()
    );
    tungstenite::connect(url).unwrap().0
}

/// The next text frame; `None` when closed.
fn next_text(ws: &mut Ws) -> Option<String> {
    loop {
        match ws.read() {
            Ok(Message::Text(t)) => return Some(t.as_str().to_owned()),
            Ok(Message::Close(_)) | Err(_) => return None,
            Ok(_) => {}
        }
    }
}

/// The next `42` event as (name, argument, payload parsed from `data`), skipping other frames.
fn next_event(ws: &mut Ws) -> (String, Value, Value) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        let t = next_text(ws).expect("open connection");
        let Some(body) = t.strip_prefix("42") else {
            continue;
        };
        let v: Value = serde_json::from_str(body).unwrap();
        let name = v[0].as_str().unwrap().to_owned();
        let arg = v[1].clone();
        let data: Value = serde_json::from_str(arg["data"].as_str().unwrap()).unwrap();
        return (name, arg, data);
    }
    panic!("no event within 30 s");
}

fn join(ws: &mut Ws, channel: &str) {
    ws.send(Message::text(format!(
        "42{}",
        json!(["join", {"channelName": channel}])
    )))
    .unwrap();
}

#[test]
fn the_session_opens_and_answers_pings() {
    let s = start_sim(SYMBOL);
    let mut ws = connect(&s);
    let open = next_text(&mut ws).unwrap();
    let o: Value = serde_json::from_str(open.strip_prefix('0').expect("open packet")).unwrap();
    assert!(o["sid"].as_str().is_some_and(|s| !s.is_empty()));
    assert_eq!(
        (o["pingInterval"].as_u64(), o["pingTimeout"].as_u64()),
        (Some(25_000), Some(20_000))
    );
    assert_eq!(next_text(&mut ws).as_deref(), Some("40"));
    ws.send(Message::text("2")).unwrap();
    assert_eq!(next_text(&mut ws).as_deref(), Some("3"));
    ws.send(Message::text("2probe")).unwrap();
    assert_eq!(next_text(&mut ws).as_deref(), Some("3probe"));
    // The docs' keepalive event gets no answer; a ping after it still does.
    ws.send(Message::text(r#"42["ping",{"data":"Ping message"}]"#))
        .unwrap();
    ws.send(Message::text("2")).unwrap();
    assert_eq!(next_text(&mut ws).as_deref(), Some("3"));
}

#[test]
fn depth_snapshots_are_the_simulators_top_20_with_rising_versions() {
    let s = start_sim(SYMBOL);
    let mut ws = connect(&s);
    join(&mut ws, "B-BTC_USDT@orderbook@20-futures");
    s.pause_market(true);
    let mut last_vs = 0;
    let mut equal = 0;
    for _ in 0..5 {
        let (name, arg, d) = next_event(&mut ws);
        assert_eq!(name, "depth-snapshot");
        assert_eq!(
            (&arg["channel"], &arg["event"], &d["pr"]),
            (
                &json!("B-BTC_USDT@orderbook@20-futures"),
                &json!("depth-snapshot"),
                &json!("futures")
            )
        );
        let vs = d["vs"].as_u64().unwrap();
        assert!(vs > last_vs, "vs {vs} after {last_vs}");
        last_vs = vs;
        assert!(d["ts"].as_u64().unwrap() > 1_700_000_000_000);
        let side = |k: &str| -> Vec<(Price, Qty)> {
            let mut v: Vec<(Price, Qty)> = d[k]
                .as_object()
                .unwrap()
                .iter()
                .map(|(p, q)| {
                    (
                        Price::parse(p).unwrap(),
                        Qty::parse(q.as_str().unwrap()).unwrap(),
                    )
                })
                .collect();
            v.sort();
            v
        };
        let (mut bids, asks) = (side("bids"), side("asks"));
        bids.reverse();
        assert_eq!((bids.len(), asks.len()), (20, 20));
        let sim = s.with_exchange(|ex| {
            (
                ex.symbols[0].book.top(Side::Buy, 20),
                ex.symbols[0].book.top(Side::Sell, 20),
            )
        });
        if (bids.clone(), asks.clone()) == sim {
            equal += 1;
        }
    }
    // Paused: every snapshot after the first is the book at rest.
    assert!(
        equal >= 4,
        "{equal} of 5 snapshots equal the simulator's book"
    );
    ws.send(Message::text(format!(
        "42{}",
        json!(["leave", {"channelName": "B-BTC_USDT@orderbook@20-futures"}])
    )))
    .unwrap();
    // After the leave (and whatever was already in flight), nothing more comes.
    std::thread::sleep(Duration::from_millis(300));
    if let tungstenite::stream::MaybeTlsStream::Plain(tcp) = ws.get_mut() {
        tcp.set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
    }
    let mut late = 0;
    while let Ok(m) = ws.read() {
        if matches!(m, Message::Text(_)) {
            late += 1;
        }
    }
    assert_eq!(late, 0);
}

#[test]
fn trades_prices_and_marks() {
    let s = start_sim(SYMBOL);
    let mut ws = connect(&s);
    join(&mut ws, "B-BTC_USDT@trades-futures");
    join(&mut ws, "B-BTC_USDT@prices-futures");
    let (mut trade, mut price) = (None, None);
    while trade.is_none() || price.is_none() {
        let (name, arg, d) = next_event(&mut ws);
        match name.as_str() {
            "new-trade" => {
                assert_eq!(arg["channel"], "B-BTC_USDT@trades-futures");
                trade = Some(d);
            }
            "price-change" => {
                assert_eq!(arg["channel"], "B-BTC_USDT@prices-futures");
                price = Some(d);
            }
            other => panic!("unexpected event {other}"),
        }
    }
    let t = trade.unwrap();
    assert_eq!((&t["s"], &t["pr"]), (&json!("B-BTC_USDT"), &json!("f")));
    assert!(Price::parse(t["p"].as_str().unwrap()).is_ok());
    assert!(Qty::parse(t["q"].as_str().unwrap()).unwrap() > Qty::ZERO);
    assert!(matches!(t["m"].as_u64(), Some(0 | 1)));
    assert!(t["T"].as_u64().unwrap() > 1_700_000_000_000);
    let p = price.unwrap();
    assert_eq!(p["pr"], "f");
    assert!(Price::parse(p["p"].as_str().unwrap()).is_ok());

    let mut ws = connect(&s);
    join(&mut ws, "currentPrices@futures@rt");
    s.pause_market(true);
    let mid = s.with_exchange(|ex| {
        let (b, a) = ex.symbols[0].book.top_of_book();
        Price::from_units((b.unwrap().0.units() + a.unwrap().0.units()) / 2)
    });
    let mut seen = false;
    for _ in 0..3 {
        let (name, arg, d) = next_event(&mut ws);
        assert_eq!(name, "currentPrices@futures#update");
        assert_eq!(arg["channel"], "currentPrices@futures@rt");
        assert_eq!(d["pr"], "futures");
        let mp = &d["prices"]["B-BTC_USDT"]["mp"];
        // `mp` is a JSON number, as in the docs' sample.
        assert!(mp.is_number(), "{d}");
        seen |= Price::parse(&mp.to_string()).unwrap() == mid;
    }
    assert!(seen, "a mark equal to the paused mid {mid}");
}
