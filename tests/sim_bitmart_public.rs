//! The simulator's BitMart public front end, checked the way a BitMart client reads it, from
//! BitMart's documentation (exchanges.md §5.6), with flate2's own raw-DEFLATE reader rather
//! than the engine's inflater: subscribe answers as text, data pushes as compressed binary
//! frames, the increase100 snapshot then updates each one version on, a snapshot `request`
//! answered at the current version, errors, ping/pong, the idle close and the topic limit.

mod common;

use std::io::Read;
use std::time::{Duration, Instant};

use common::start_sim;
use serde_json::{Value, json};
use tungstenite::Message;

const SYMBOL: &str =
    "[[symbols]]\nsymbol = \"BTCUSDT\"\nbase = \"BTC\"\nstart_price = \"60000\"\nlevels = 30\n";

type Ws = tungstenite::WebSocket<tungstenite::stream::MaybeTlsStream<std::net::TcpStream>>;

/// The next message: text as it came, binary inflated (raw DEFLATE); `None` when closed.
fn next(ws: &mut Ws) -> Option<(bool, String)> {
    loop {
        match ws.read() {
            Ok(Message::Text(t)) => return Some((false, t.as_str().to_owned())),
            Ok(Message::Binary(b)) => {
                let mut s = String::new();
                flate2::read::DeflateDecoder::new(&b[..])
                    .read_to_string(&mut s)
                    .expect("a binary frame is raw DEFLATE");
                return Some((true, s));
            }
            Ok(Message::Close(_)) | Err(_) => return None,
            Ok(_) => {}
        }
    }
}

fn json(s: &str) -> Value {
    serde_json::from_str(s).unwrap_or_else(|e| panic!("{s}: {e}"))
}

#[test]
fn depth_snapshot_updates_request_and_replies() {
    let s = start_sim(SYMBOL);
    let (mut ws, _) = tungstenite::connect(s.bitmart_ws_url()).unwrap();
    ws.send(Message::text(
        r#"{"op":"subscribe","args":["spot/depth/increase100:BTC_USDT","spot/nope:BTC_USDT"]}"#,
    ))
    .unwrap();
    assert_eq!(
        next(&mut ws),
        Some((
            false,
            r#"{"event":"subscribe","topic":"spot/depth/increase100:BTC_USDT"}"#.into()
        ))
    );
    let (binary, snap) = next(&mut ws).unwrap();
    assert!(binary, "data pushes are compressed binary frames");
    let snap = json(&snap);
    assert_eq!(snap["table"], "spot/depth/increase100");
    let d = &snap["data"][0];
    assert_eq!(
        (d["symbol"].as_str(), d["type"].as_str()),
        (Some("BTC_USDT"), Some("snapshot"))
    );
    assert_eq!(d["bids"].as_array().unwrap().len(), 30);
    assert_eq!(d["asks"].as_array().unwrap().len(), 30);
    let mut version = d["version"].as_u64().unwrap();
    let (binary, err) = next(&mut ws).unwrap();
    assert!(!binary);
    assert_eq!(
        json(&err),
        json!({"event": "subscribe", "errorCode": "90004", "errorMessage": "Invalid channel param"})
    );
    // Updates: each one version on, levels as [price, size].
    let mut updates = 0;
    while updates < 5 {
        let (binary, text) = next(&mut ws).unwrap();
        let v = json(&text);
        assert!(binary);
        let d = &v["data"][0];
        assert_eq!(d["type"], "update");
        assert_eq!(d["version"].as_u64(), Some(version + 1), "{text}");
        version += 1;
        updates += 1;
    }
    // A snapshot request is answered with the book at the version reached.
    ws.send(Message::text(
        r#"{"op":"request","args":["spot/depth/increase100:BTC_USDT"]}"#,
    ))
    .unwrap();
    let answered = loop {
        let v = json(&next(&mut ws).unwrap().1);
        let d = &v["data"][0];
        if d["type"] == "snapshot" {
            break d["version"].as_u64().unwrap();
        }
        version = d["version"].as_u64().unwrap();
    };
    assert_eq!(answered, version);
    // ping → pong (text); a request for a channel not subscribed is refused.
    ws.send(Message::text("ping")).unwrap();
    ws.send(Message::text(
        r#"{"op":"request","args":["spot/depth/increase100:ETH_USDT"]}"#,
    ))
    .unwrap();
    let mut seen = (false, false);
    while seen != (true, true) {
        let (binary, text) = next(&mut ws).unwrap();
        if text == "pong" {
            assert!(!binary);
            seen.0 = true;
        } else if text.contains("\"event\"") {
            assert_eq!(json(&text)["event"], "request");
            assert_eq!(json(&text)["errorCode"], "90004");
            seen.1 = true;
        }
    }
}

#[test]
fn ticker_and_trades_follow_the_documented_fields() {
    let s = start_sim(SYMBOL);
    let (mut ws, _) = tungstenite::connect(s.bitmart_ws_url()).unwrap();
    ws.send(Message::text(
        r#"{"op":"subscribe","args":["spot/ticker:BTC_USDT","spot/trade:BTC_USDT"]}"#,
    ))
    .unwrap();
    let (mut ticker, mut trade) = (None, None);
    while ticker.is_none() || trade.is_none() {
        let (_, text) = next(&mut ws).expect("the connection stays open");
        let v = json(&text);
        match v["table"].as_str() {
            Some("spot/ticker") => ticker = Some(v),
            Some("spot/trade") => trade = Some(v),
            _ => {}
        }
    }
    let t = &ticker.unwrap()["data"][0];
    assert_eq!(t["symbol"], "BTC_USDT");
    let px = |k: &str| t[k].as_str().unwrap().parse::<f64>().unwrap();
    assert!(px("bid_px") < px("ask_px") && px("bid_sz") > 0.0 && px("ask_sz") > 0.0);
    assert!(t["ms_t"].as_u64().is_some());
    let t = &trade.unwrap()["data"][0];
    assert_eq!(t["symbol"], "BTC_USDT");
    assert!(matches!(t["side"].as_str(), Some("buy" | "sell")));
    assert!(t["price"].as_str().is_some() && t["size"].as_str().is_some());
    assert!(t["ms_t"].as_u64().is_some() && t["s_t"].as_u64().is_some());
}

/// BitMart closes a connection nothing was pushed to for 20 s (here 500 ms): a silent one
/// is closed, one that pings is kept while it pings; more than 20 topics closes at once.
#[test]
fn idle_connections_are_closed_and_so_is_a_subscribe_over_the_topic_limit() {
    let s = start_sim(&format!("bitmart_idle_timeout_ms = 500\n{SYMBOL}"));
    let started = Instant::now();
    let (mut silent, _) = tungstenite::connect(s.bitmart_ws_url()).unwrap();
    assert_eq!(next(&mut silent), None);
    assert!(started.elapsed() >= Duration::from_millis(500));

    let (mut pinging, _) = tungstenite::connect(s.bitmart_ws_url()).unwrap();
    let began = Instant::now();
    for _ in 0..15 {
        std::thread::sleep(Duration::from_millis(100));
        pinging.send(Message::text("ping")).unwrap();
        assert_eq!(next(&mut pinging), Some((false, "pong".into())));
    }
    assert!(began.elapsed() >= Duration::from_millis(1500));

    let (mut greedy, _) = tungstenite::connect(s.bitmart_ws_url()).unwrap();
    let topics: Vec<String> = (0..21).map(|_| "spot/ticker:BTC_USDT".to_owned()).collect();
    greedy
        .send(Message::text(
            json!({"op": "subscribe", "args": topics}).to_string(),
        ))
        .unwrap();
    assert_eq!(next(&mut greedy), None, "over 20 topics: disconnected");
}
