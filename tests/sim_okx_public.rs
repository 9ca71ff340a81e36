//! The simulator's OKX public front end, checked the way an OKX client reads it, from OKX's
//! documentation (exchanges.md §2): subscribe answers, the books snapshot and updates whose
//! `prevSeqId` chains to the previous `seqId` and whose checksum is the CRC32 of the levels
//! the client holds (recomputed here from the message strings), `bbo-tbt`, `trades`, text
//! ping/pong, errors, and the public REST book and time.

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use common::start_sim;
use serde_json::{Value, json};
use tungstenite::Message;

fn sim() -> mako::sim::SimHandle {
    start_sim(
        "[[symbols]]\nsymbol = \"BTCUSDT\"\nbase = \"BTC\"\nstart_price = \"60000\"\nlevels = 30\n",
    )
}

/// A client-side book keyed by price; sizes kept as the venue's strings for the checksum.
#[derive(Default)]
struct Book {
    bids: BTreeMap<u64, (String, String)>,
    asks: BTreeMap<u64, (String, String)>,
}

fn key(p: &str) -> u64 {
    // Prices here have at most 8 decimals: an exact integer key.
    let (i, f) = p.split_once('.').unwrap_or((p, ""));
    let f = format!("{f:0<8}");
    i.parse::<u64>().unwrap() * 100_000_000 + f.parse::<u64>().unwrap()
}

impl Book {
    fn apply(&mut self, d: &Value) {
        for (side, map) in [("bids", &mut self.bids), ("asks", &mut self.asks)] {
            for l in d[side].as_array().unwrap() {
                let (p, q) = (l[0].as_str().unwrap(), l[1].as_str().unwrap());
                if q == "0" {
                    map.remove(&key(p));
                } else {
                    map.insert(key(p), (p.to_owned(), q.to_owned()));
                }
            }
        }
    }

    /// The documented checksum: top 25 of each side interleaved, CRC32 as a signed i32.
    fn checksum(&self) -> i32 {
        let bids: Vec<_> = self.bids.values().rev().take(25).collect();
        let asks: Vec<_> = self.asks.values().take(25).collect();
        let mut parts = Vec::new();
        for i in 0..bids.len().max(asks.len()) {
            for side in [&bids, &asks] {
                if let Some((p, q)) = side.get(i) {
                    parts.push(p.as_str());
                    parts.push(q.as_str());
                }
            }
        }
        crc32fast::hash(parts.join(":").as_bytes()) as i32
    }
}

fn next_json(
    ws: &mut tungstenite::WebSocket<tungstenite::stream::MaybeTlsStream<std::net::TcpStream>>,
) -> Value {
    loop {
        match ws.read().unwrap() {
            Message::Text(t) if t.as_str() != "pong" => {
                return serde_json::from_str(t.as_str()).unwrap();
            }
            Message::Text(_) | Message::Ping(_) | Message::Pong(_) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
}

#[test]
fn books_chain_and_checksums_as_documented() {
    let s = sim();
    let (mut ws, _) = tungstenite::connect(s.okx_public_ws_url()).unwrap();
    ws.send(Message::text(
        json!({"id": "7", "op": "subscribe", "args": [
            {"channel": "books", "instId": "BTC-USDT"},
            {"channel": "bbo-tbt", "instId": "BTC-USDT"},
            {"channel": "trades", "instId": "BTC-USDT"},
            {"channel": "books", "instId": "DOGE-USDT"},
        ]})
        .to_string(),
    ))
    .unwrap();
    let mut book = Book::default();
    let (mut seq, mut updates, mut bbos, mut trades, mut subscribed, mut errors) =
        (None::<i64>, 0, 0, 0, 0, 0);
    let until = Instant::now() + Duration::from_secs(30);
    while (updates < 20 || bbos < 3 || trades < 1) && Instant::now() < until {
        let v = next_json(&mut ws);
        match (v["event"].as_str(), v["arg"]["channel"].as_str()) {
            (Some("subscribe"), _) => subscribed += 1,
            (Some("error"), _) => {
                assert_eq!(v["code"], "60018");
                errors += 1;
            }
            (None, Some("books")) => {
                let d = &v["data"][0];
                if v["action"] == "snapshot" {
                    assert_eq!(d["prevSeqId"], -1);
                    book = Book::default();
                } else {
                    assert_eq!(v["action"], "update");
                    assert_eq!(d["prevSeqId"].as_i64(), seq, "prevSeqId continues seqId");
                    updates += 1;
                }
                book.apply(d);
                assert_eq!(
                    d["checksum"].as_i64(),
                    Some(i64::from(book.checksum())),
                    "after {} (update {updates}): bids {:?} asks {:?}",
                    v,
                    book.bids.values().rev().take(25).collect::<Vec<_>>(),
                    book.asks.values().take(25).collect::<Vec<_>>()
                );
                seq = d["seqId"].as_i64();
                assert!(d["ts"].as_str().unwrap().parse::<u64>().is_ok());
            }
            (None, Some("bbo-tbt")) => {
                let d = &v["data"][0];
                assert_eq!(d["bids"].as_array().unwrap().len(), 1);
                assert!(
                    key(d["bids"][0][0].as_str().unwrap()) < key(d["asks"][0][0].as_str().unwrap())
                );
                bbos += 1;
            }
            (None, Some("trades")) => {
                let t = &v["data"][0];
                assert_eq!(t["instId"], "BTC-USDT");
                assert!(matches!(t["side"].as_str(), Some("buy" | "sell")));
                trades += 1;
            }
            other => panic!("unexpected message {other:?}: {v}"),
        }
    }
    assert_eq!((subscribed, errors), (3, 1));
    assert!(
        updates >= 20 && bbos >= 3 && trades >= 1,
        "{updates} {bbos} {trades}"
    );
    // The text keepalive.
    ws.send(Message::text("ping")).unwrap();
    let until = Instant::now() + Duration::from_secs(10);
    let mut pong = false;
    while !pong && Instant::now() < until {
        if let Message::Text(t) = ws.read().unwrap() {
            pong = t.as_str() == "pong";
        }
    }
    assert!(pong);
}

#[test]
fn public_rest_books_and_time() {
    let s = sim();
    let get = |path: &str| -> Value {
        let body = ureq::get(format!("{}{path}", s.okx_rest_url()))
            .call()
            .unwrap()
            .body_mut()
            .read_to_string()
            .unwrap();
        serde_json::from_str(&body).unwrap()
    };
    // The simulated market fills its book as it starts: wait for five levels a side.
    let b = common::wait_for(Duration::from_secs(20), || {
        let b = get("/api/v5/market/books?instId=BTC-USDT&sz=5");
        let full = |k: &str| b["data"][0][k].as_array().is_some_and(|a| a.len() == 5);
        (full("bids") && full("asks")).then_some(b)
    })
    .expect("a book five levels deep");
    assert_eq!(b["code"], "0");
    let d = &b["data"][0];
    assert_eq!(d["asks"][0].as_array().unwrap().len(), 4);
    assert!(d["seqId"].as_i64().is_some());
    let bad = get("/api/v5/market/books?instId=NOPE-USDT");
    assert_eq!(bad["code"], "51001");
    let t = get("/api/v5/public/time");
    assert!(t["data"][0]["ts"].as_str().unwrap().parse::<u64>().is_ok());
}

/// OKX drops a connection nothing was pushed to for 30 s (here 500 ms): a silent client is
/// closed; one that sends text `ping` (each answered `pong`, which is a push) is kept for as
/// long as it pings, and closed once it stops.
#[test]
fn idle_connections_are_dropped_and_pings_keep_them() {
    let s = start_sim(
        "okx_idle_timeout_ms = 500\n[[symbols]]\nsymbol = \"BTCUSDT\"\nbase = \"BTC\"\nstart_price = \"60000\"\n",
    );
    let closed = |ws: &mut tungstenite::WebSocket<_>| loop {
        match ws.read() {
            Ok(Message::Close(_)) | Err(_) => return true,
            Ok(Message::Text(t)) => panic!("nothing was asked, yet {t}"),
            Ok(_) => {}
        }
    };
    let started = Instant::now();
    let (mut silent, _) = tungstenite::connect(s.okx_public_ws_url()).unwrap();
    assert!(closed(&mut silent));
    assert!(started.elapsed() >= Duration::from_millis(500));

    let (mut pinging, _) = tungstenite::connect(s.okx_public_ws_url()).unwrap();
    let began = Instant::now();
    let mut pongs = 0;
    // Fifteen pings 100 ms apart: 1.5 s, three idle limits, and every one answered.
    while pongs < 15 {
        std::thread::sleep(Duration::from_millis(100));
        pinging.send(Message::text("ping")).unwrap();
        match pinging.read().unwrap() {
            Message::Text(t) if t.as_str() == "pong" => pongs += 1,
            other => panic!("expected pong, got {other:?}"),
        }
    }
    assert!(began.elapsed() >= Duration::from_millis(1500));
    // Silent again: closed.
    assert!(closed(&mut pinging));
}
