//! Binance WebSocket API session decode, old (`serde_json::Value`) vs new (the typed fast
//! path, `venue::binance::typed`), same run: an `executionReport` NEW, an `executionReport`
//! TRADE, an `outboundAccountPosition` (two balances), an `order.place` answer (ACK with
//! `rateLimits`) and an `order.place` error answer (-2010, the order refused), each through
//! `Session::on_frame` (the events the gateway gets), frames as the simulator sends them.
//!
//! With `MAKO_CALLGRIND=<case> MAKO_CALLGRIND_N=<n>` the binary instead decodes that case's
//! frame n times and exits (cases: `new-old`, `new-typed`, `trade-old`, `trade-typed`,
//! `balances-old`, `balances-typed`, `place-old`, `place-typed`, `reject-old`,
//! `reject-typed`, and `place-none`: the requests put in flight, no answer decoded): run it
//! under `valgrind --tool=callgrind` at two n and divide the difference for instructions per
//! frame (for `place-*` and `reject-*`, at one n, minus `place-none`, divided by n).

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group};
use mako::config::Secret;
use mako::types::order::{OrderKind, TimeInForce};
use mako::types::{ClientOrderId, Price, Qty, Side, StrategyId, UnixNanos};
use mako::venue::binance::session::{Session, SessionEvent};

fn cid() -> ClientOrderId {
    ClientOrderId::mint(1_723_161_254_206, StrategyId(1), 1).unwrap()
}

fn exec_new() -> String {
    format!(
        r#"{{"subscriptionId":0,"event":{{"e":"executionReport","E":1765049000123,"s":"BTCUSDT","c":"{}","S":"BUY","o":"LIMIT","f":"GTC","q":"0.01000000","p":"50000.00000000","P":"0.00000000","F":"0.00000000","g":-1,"C":"","x":"NEW","X":"NEW","r":"NONE","i":1000123,"l":"0.00000000","z":"0.00000000","L":"0.00000000","n":"0","N":null,"T":1765049000123,"t":-1,"I":2000456,"w":true,"m":false,"M":false,"O":1765049000123,"Z":"0.00000000","Y":"0.00000000","Q":"0.00000000","W":1765049000123,"V":"EXPIRE_MAKER"}}}}"#,
        cid()
    )
}

fn exec_trade() -> String {
    format!(
        r#"{{"subscriptionId":0,"event":{{"e":"executionReport","E":1765049000456,"s":"BTCUSDT","c":"{}","S":"BUY","o":"LIMIT","f":"GTC","q":"0.01000000","p":"50000.00000000","P":"0.00000000","F":"0.00000000","g":-1,"C":"","x":"TRADE","X":"PARTIALLY_FILLED","r":"NONE","i":1000123,"l":"0.00400000","z":"0.00400000","L":"50000.00000000","n":"0.20000000","N":"USDT","T":1765049000456,"t":3000789,"I":2000457,"w":true,"m":true,"M":true,"O":1765049000123,"Z":"200.00000000","Y":"200.00000000","Q":"0.00000000","W":1765049000123,"V":"EXPIRE_MAKER"}}}}"#,
        cid()
    )
}

fn place_answer(id: u64) -> String {
    format!(
        r#"{{"id":"{id}","status":200,"result":{{"symbol":"BTCUSDT","orderId":1000123,"orderListId":-1,"clientOrderId":"{}","transactTime":1765049000123}},"rateLimits":[{{"rateLimitType":"ORDERS","interval":"SECOND","intervalNum":10,"limit":50,"count":1}},{{"rateLimitType":"ORDERS","interval":"DAY","intervalNum":1,"limit":160000,"count":1}},{{"rateLimitType":"REQUEST_WEIGHT","interval":"MINUTE","intervalNum":1,"limit":6000,"count":3}}]}}"#,
        cid()
    )
}

fn balances() -> String {
    r#"{"subscriptionId":0,"event":{"e":"outboundAccountPosition","E":1765049000456,"u":1765049000456,"B":[{"a":"BTC","f":"1.00400000","l":"0.00000000"},{"a":"USDT","f":"99299.80000000","l":"500.00000000"}]}}"#.to_owned()
}

fn reject_answer(id: u64) -> String {
    format!(
        r#"{{"id":"{id}","status":400,"error":{{"code":-2010,"msg":"Order would immediately match and take."}},"rateLimits":[{{"rateLimitType":"ORDERS","interval":"SECOND","intervalNum":10,"limit":50,"count":1}},{{"rateLimitType":"ORDERS","interval":"DAY","intervalNum":1,"limit":160000,"count":1}},{{"rateLimitType":"REQUEST_WEIGHT","interval":"MINUTE","intervalNum":1,"limit":6000,"count":3}}]}}"#
    )
}

fn session(typed: bool) -> Session {
    let mut s = Session::new(&Secret::new("k"), &Secret::new("s"), 5_000);
    s.set_typed_decoder(typed);
    s
}

/// Puts `n` place requests in flight; their answers (ids in order), each made by `answer`.
fn in_flight(
    s: &mut Session,
    n: usize,
    buf: &mut Vec<u8>,
    answer: fn(u64) -> String,
) -> Vec<Vec<u8>> {
    (0..n)
        .map(|_| {
            s.place(
                "BTCUSDT",
                &cid(),
                Side::Buy,
                OrderKind::Limit,
                TimeInForce::Gtc,
                Price::from_int(50_000),
                Qty::parse("0.01").unwrap(),
                2,
                5,
                1,
                buf,
            );
            let v: serde_json::Value = serde_json::from_slice(buf).unwrap();
            answer(v["id"].as_str().unwrap().parse().unwrap()).into_bytes()
        })
        .collect()
}

/// Decodes each answer in turn (untimed setup in batches the in-flight ring holds).
fn answers(
    s: &mut Session,
    iters: u64,
    out: &mut Vec<SessionEvent>,
    answer: fn(u64) -> String,
) -> Duration {
    let mut buf = Vec::with_capacity(512);
    let mut spent = Duration::ZERO;
    let mut left = iters;
    while left > 0 {
        let n = left.min(2048);
        let frames = in_flight(s, n as usize, &mut buf, answer);
        let t = Instant::now();
        for f in &frames {
            out.clear();
            s.on_frame(black_box(f), UnixNanos(1), out);
        }
        spent += t.elapsed();
        left -= n;
    }
    assert!(matches!(
        out[0],
        SessionEvent::Order { .. } | SessionEvent::PlaceRejected { .. }
    ));
    spent
}

fn decode(c: &mut Criterion) {
    let mut g = c.benchmark_group("binance_session_decode");
    for (name, frame, events) in [
        ("executionReport NEW", exec_new(), 1),
        ("executionReport TRADE", exec_trade(), 1),
        ("outboundAccountPosition", balances(), 2),
    ] {
        for typed in [false, true] {
            let mut s = session(typed);
            let mut out = Vec::with_capacity(8);
            let label = format!("{name} {}", if typed { "typed" } else { "Value" });
            g.bench_function(label, |b| {
                b.iter(|| {
                    out.clear();
                    s.on_frame(black_box(frame.as_bytes()), UnixNanos(1), &mut out);
                    black_box(&out);
                })
            });
            // Skipped by a name filter: nothing ran, nothing to check.
            if !out.is_empty() {
                assert_eq!(out.len(), events);
                assert_eq!(s.typed_frames() > 0, typed);
            }
        }
    }
    type Answer = fn(u64) -> String;
    let kinds: [(&str, Answer); 2] = [
        ("order.place answer", place_answer),
        ("order.place error answer (-2010)", reject_answer),
    ];
    for (name, answer) in kinds {
        for typed in [false, true] {
            let mut s = session(typed);
            let mut out = Vec::with_capacity(8);
            let label = format!("{name} {}", if typed { "typed" } else { "Value" });
            g.bench_function(label, |b| {
                b.iter_custom(|iters| answers(&mut s, iters, &mut out, answer))
            });
            if !out.is_empty() {
                assert_eq!(s.typed_frames() > 0, typed);
            }
        }
    }
    g.finish();
}

/// `MAKO_CALLGRIND` mode (see the module doc): true when it ran.
fn callgrind() -> bool {
    let Ok(case) = std::env::var("MAKO_CALLGRIND") else {
        return false;
    };
    let n: usize = std::env::var("MAKO_CALLGRIND_N")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(10_000);
    let (kind, path) = case.split_once('-').expect("case like new-typed");
    let mut s = session(path == "typed");
    let mut out = Vec::with_capacity(8);
    if kind == "place" || kind == "reject" {
        let mut buf = Vec::with_capacity(512);
        let answer = if kind == "place" {
            place_answer
        } else {
            reject_answer
        };
        let frames = in_flight(&mut s, n.min(4096), &mut buf, answer);
        if path != "none" {
            for f in &frames {
                out.clear();
                s.on_frame(black_box(f), UnixNanos(1), &mut out);
            }
        }
    } else {
        let frame = match kind {
            "new" => exec_new(),
            "trade" => exec_trade(),
            _ => balances(),
        };
        for _ in 0..n {
            out.clear();
            s.on_frame(black_box(frame.as_bytes()), UnixNanos(1), &mut out);
        }
    }
    println!("{case} x{n}: typed frames {}", s.typed_frames());
    true
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = decode
}

fn main() {
    if callgrind() {
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
