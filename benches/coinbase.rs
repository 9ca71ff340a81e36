//! Coinbase Advanced Trade: frame → domain object through the engine's `CoinbaseMd` (what a
//! feed runs), beside a serde_json baseline (structs with `String` fields, then the same
//! fixed-point parsing and book), and the cost of a JWT per REST request.
//!
//! There is no recorded Coinbase capture in the repository: the frames are generated in the
//! documented shapes (exchanges.md §4.3 samples): a 200-level `level2` snapshot of BTC-USD,
//! then 1,000 `update` messages of 1–3 levels each with consecutive `sequence_num`s, and
//! 1,000 `ticker` messages. Each pass over the updates starts from the snapshot again, out
//! of the timed region. Times are per frame.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use mako::book::{BookCache, L2Book, Level, TopOfBook};
use mako::types::{
    ClientOrderId, InstrumentId, OrderKind, Price, Qty, Side, TimeInForce, UnixNanos,
};
use mako::venue::coinbase::CoinbaseMd;
use mako::venue::coinbase::jwt::{JwtSigner, REST_HOST};
use mako::venue::coinbase::rest::CoinbaseRest;
use mako::venue::md::{Handled, MarketData, SyncLimits};
use mako::venue::order::PlaceOrder;
use mako::venue::rest::RestCodec;
use serde::Deserialize;
use serde_json::json;

const ID: InstrumentId = InstrumentId(0);
const TS: &str = "2023-02-09T20:32:50.714964855Z";

fn price(units: i64) -> String {
    format!("{}.{:02}", units / 100, units % 100)
}

struct Corpora {
    snapshot: Vec<u8>,
    updates: Vec<Vec<u8>>,
    tickers: Vec<Vec<u8>>,
}

/// A deterministic walk (no RNG crate): a linear congruential step.
fn step(s: &mut u64) -> u64 {
    *s = s.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
    *s >> 33
}

fn load() -> Corpora {
    let mid = 2_192_150i64; // 21921.50 in cents
    let mut ups = Vec::new();
    for k in 1..=200 {
        ups.push(json!({"side": "bid", "event_time": TS, "price_level": price(mid - k), "new_quantity": "0.5"}));
        ups.push(json!({"side": "offer", "event_time": TS, "price_level": price(mid + k), "new_quantity": "0.5"}));
    }
    let snapshot =
        json!({"channel": "l2_data", "client_id": "", "timestamp": TS, "sequence_num": 0,
        "events": [{"type": "snapshot", "product_id": "BTC-USD", "updates": ups}]})
        .to_string()
        .into_bytes();
    let mut s = 7u64;
    let mut updates = Vec::new();
    for seq in 1..=1000u64 {
        let n = 1 + step(&mut s) % 3;
        let ups: Vec<_> = (0..n)
            .map(|_| {
                let off = 1 + (step(&mut s) % 150) as i64;
                let bid = step(&mut s).is_multiple_of(2);
                let qty = match step(&mut s) % 4 {
                    0 => "0".to_owned(),
                    q => format!("0.{q}1234567"),
                };
                let (side, p) = if bid { ("bid", mid - off) } else { ("offer", mid + off) };
                json!({"side": side, "event_time": TS, "price_level": price(p), "new_quantity": qty})
            })
            .collect();
        updates.push(
            json!({"channel": "l2_data", "client_id": "", "timestamp": TS, "sequence_num": seq,
                   "events": [{"type": "update", "product_id": "BTC-USD", "updates": ups}]})
            .to_string()
            .into_bytes(),
        );
    }
    let tickers = (1..=1000u64)
        .map(|seq| {
            let b = mid - 1 - (step(&mut s) % 3) as i64;
            json!({"channel": "ticker", "client_id": "", "timestamp": TS, "sequence_num": seq,
                "events": [{"type": "update", "tickers": [{"type": "ticker", "product_id": "BTC-USD",
                    "price": price(b), "volume_24_h": "16038.28770938", "low_24_h": "21835.29",
                    "high_24_h": "23011.18", "low_52_w": "15460", "high_52_w": "48240",
                    "price_percent_chg_24_h": "-4.15775596190603",
                    "best_bid": price(b), "best_bid_quantity": "8000.21",
                    "best_ask": price(b + 2), "best_ask_quantity": "8038.07770938"}]}]})
            .to_string()
            .into_bytes()
        })
        .collect();
    Corpora {
        snapshot,
        updates,
        tickers,
    }
}

fn md() -> CoinbaseMd {
    CoinbaseMd::new(&[("BTC-USD", ID)], SyncLimits::default())
}

/// Times `iters` frames of `corpus`, starting each pass over it from `reset` (untimed).
fn walk<S>(
    corpus: &[Vec<u8>],
    iters: u64,
    state: &mut S,
    reset: impl Fn(&mut S),
    mut frame: impl FnMut(&mut S, &[u8]),
) -> Duration {
    let mut total = Duration::ZERO;
    let mut left = iters as usize;
    while left > 0 {
        reset(state);
        let n = left.min(corpus.len());
        let t = Instant::now();
        for f in &corpus[..n] {
            frame(state, black_box(f));
        }
        total += t.elapsed();
        left -= n;
    }
    total
}

#[derive(Deserialize)]
struct Msg<E> {
    #[allow(dead_code)]
    channel: String,
    sequence_num: u64,
    timestamp: String,
    events: Vec<E>,
}

#[derive(Deserialize)]
struct L2Event {
    #[allow(dead_code)]
    r#type: String,
    product_id: String,
    updates: Vec<L2Update>,
}

#[derive(Deserialize)]
struct L2Update {
    side: String,
    price_level: String,
    new_quantity: String,
}

#[derive(Deserialize)]
struct TickerEvent {
    tickers: Vec<TickerJson>,
}

#[derive(Deserialize)]
struct TickerJson {
    product_id: String,
    best_bid: String,
    best_bid_quantity: String,
    best_ask: String,
    best_ask_quantity: String,
}

fn synced(m: &mut CoinbaseMd, snapshot: &[u8]) {
    m.on_connection_switch();
    let h = m.on_frame(snapshot);
    debug_assert!(matches!(h, Ok(Handled::Book { .. })));
}

fn bench_level2(c: &mut Criterion, k: &Corpora) {
    let mut g = c.benchmark_group("coinbase level2 update -> applied");
    let mut m = md();
    g.bench_function("mako", |b| {
        b.iter_custom(|iters| {
            walk(
                &k.updates,
                iters,
                &mut m,
                |m| synced(m, &k.snapshot),
                |m, f| {
                    let _ = black_box(m.on_frame(f));
                },
            )
        })
    });
    let cache = BookCache::new(1);
    let mut writer = cache.writer(ID).expect("writer");
    let mut m = md();
    g.bench_function("mako, applied and published to the cache", |b| {
        b.iter_custom(|iters| {
            walk(
                &k.updates,
                iters,
                &mut m,
                |m| synced(m, &k.snapshot),
                |m, f| {
                    if let Ok(Handled::Book { .. }) = m.on_frame(f)
                        && let Some(book) = m.book(ID)
                    {
                        writer.publish(book, UnixNanos(1), UnixNanos(2));
                    }
                },
            )
        })
    });
    let fresh = |book: &mut L2Book| {
        let f: Msg<L2Event> = serde_json::from_slice(&k.snapshot).expect("json");
        book.clear();
        for u in &f.events[0].updates {
            let side = if u.side == "bid" {
                Side::Buy
            } else {
                Side::Sell
            };
            book.apply_level(
                side,
                Price::parse(&u.price_level).unwrap_or_default(),
                Qty::parse(&u.new_quantity).unwrap_or_default(),
            );
        }
    };
    let mut book = L2Book::with_capacity(8192);
    g.bench_function("serde_json String structs + fixed parse, applied", |b| {
        b.iter_custom(|iters| {
            walk(&k.updates, iters, &mut book, fresh, |book, f| {
                let m: Msg<L2Event> = serde_json::from_slice(f).expect("json");
                black_box((&m.timestamp, m.sequence_num, &m.events[0].product_id));
                for u in &m.events[0].updates {
                    let side = if u.side == "bid" {
                        Side::Buy
                    } else {
                        Side::Sell
                    };
                    book.apply_level(
                        side,
                        Price::parse(&u.price_level).unwrap_or_default(),
                        Qty::parse(&u.new_quantity).unwrap_or_default(),
                    );
                }
                black_box(book.best_bid());
            })
        })
    });
    g.finish();
}

fn bench_ticker(c: &mut Criterion, k: &Corpora) {
    let mut g = c.benchmark_group("coinbase ticker -> published");
    let cache = BookCache::new(1);
    let mut writer = cache.writer(ID).expect("writer");
    let mut m = md();
    let publish = |w: &mut mako::book::CacheWriter, bid: Level, ask: Level, id: u64| {
        w.publish_top(TopOfBook {
            bid,
            ask,
            update_id: id,
            exchange_ts: UnixNanos(1),
            recv_ts: UnixNanos(2),
            seq: 0,
            valid: true,
        });
    };
    g.bench_function("mako", |b| {
        b.iter_custom(|iters| {
            walk(
                &k.tickers,
                iters,
                &mut m,
                |m| m.on_connection_switch(),
                |m, f| {
                    if let Ok(Handled::Bbo {
                        bid,
                        ask,
                        update_id,
                        ..
                    }) = m.on_frame(f)
                    {
                        publish(&mut writer, bid, ask, update_id);
                    }
                },
            )
        })
    });
    let mut n = 0u64;
    g.bench_function("serde_json String structs + fixed parse, published", |b| {
        b.iter_custom(|iters| {
            walk(
                &k.tickers,
                iters,
                &mut n,
                |_| {},
                |n, f| {
                    let m: Msg<TickerEvent> = serde_json::from_slice(f).expect("json");
                    let t = &m.events[0].tickers[0];
                    black_box((&m.timestamp, &t.product_id));
                    let bid = Level {
                        price: Price::parse(&t.best_bid).unwrap_or_default(),
                        qty: Qty::parse(&t.best_bid_quantity).unwrap_or_default(),
                    };
                    let ask = Level {
                        price: Price::parse(&t.best_ask).unwrap_or_default(),
                        qty: Qty::parse(&t.best_ask_quantity).unwrap_or_default(),
                    };
                    *n += 1;
                    publish(&mut writer, bid, ask, m.sequence_num + *n);
                },
            )
        })
    });
    g.finish();
}

fn bench_jwt(c: &mut Criterion) {
    // The official SDK's published test credentials (exchanges.md §4.1).
    let name = "organizations/test-organization/apiKeys/test-api-key";
    let ec = "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIKwf3Uox30cRWzRBOPoPOH5p0Gpb0Dt8zUKXUEM5fMkGoAoGCCqGSM49\nAwEHoUQDQgAEbAtpLlSZYVOwYICz+uEyxcS29vRIujiES/gQ1DC7FV4zK4JuYE9v\nqDyGZQYjdXHLM7I6f/QnnOITL+dXYWBHRA==\n-----END EC PRIVATE KEY-----\n";
    let ed =
        "k0BUni0p0vZG1BdpVjS6ogBJ7kxm630AJ2dN+tuputDOKsRAwgyrpEQLeBtS1znTmzPX6Xr2eOWpzx6nW8knkA==";
    let mut g = c.benchmark_group("coinbase JWT per REST request");
    for (label, secret) in [("ES256", ec), ("EdDSA", ed)] {
        let s = JwtSigner::from_parts(name, secret).expect("key");
        g.bench_function(label, |b| {
            b.iter(|| {
                s.rest_token(
                    black_box(1_700_000_000),
                    "POST",
                    REST_HOST,
                    "/api/v3/brokerage/orders",
                )
                .map(|t| t.len())
            })
        });
    }
    g.finish();
}

/// The gateway thread's share of placing an order: `codec.place` now writes the body alone
/// (the REST worker mints the JWT), beside what it cost when the codec signed too (the same
/// body plus the token the worker now mints), in the same run.
fn bench_place(c: &mut Criterion) {
    let name = "organizations/test-organization/apiKeys/test-api-key";
    let ec = "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIKwf3Uox30cRWzRBOPoPOH5p0Gpb0Dt8zUKXUEM5fMkGoAoGCCqGSM49\nAwEHoUQDQgAEbAtpLlSZYVOwYICz+uEyxcS29vRIujiES/gQ1DC7FV4zK4JuYE9v\nqDyGZQYjdXHLM7I6f/QnnOITL+dXYWBHRA==\n-----END EC PRIVATE KEY-----\n";
    let ed =
        "k0BUni0p0vZG1BdpVjS6ogBJ7kxm630AJ2dN+tuputDOKsRAwgyrpEQLeBtS1znTmzPX6Xr2eOWpzx6nW8knkA==";
    let cid = ClientOrderId::parse("sb-42").expect("cid");
    let order = PlaceOrder {
        reduce_only: false,
        symbol: "BTC-USD",
        cid: &cid,
        side: Side::Buy,
        kind: OrderKind::LimitMaker,
        tif: TimeInForce::Gtc,
        price: Price::parse("30000.5").expect("price"),
        qty: Qty::parse("0.015").expect("qty"),
        price_decimals: 2,
        qty_decimals: 8,
    };
    let mut g = c.benchmark_group("coinbase place on the gateway thread");
    for (label, secret) in [("ES256", ec), ("EdDSA", ed)] {
        let mut codec =
            CoinbaseRest::with_signer(JwtSigner::from_parts(name, secret).expect("key"), REST_HOST);
        let mint = codec.plan().bearer.expect("coinbase mints a bearer token");
        let mut buf = Vec::with_capacity(512);
        let mut token = String::with_capacity(512);
        g.bench_function(format!("{label} codec.place, unsigned (now)"), |b| {
            b.iter(|| {
                let h = codec.place(black_box(&order), 1_700_000_000_000, &mut buf);
                assert!(h.bearer);
                buf.len()
            })
        });
        g.bench_function(format!("{label} codec.place + JWT (before)"), |b| {
            b.iter(|| {
                let h = codec.place(black_box(&order), 1_700_000_000_000, &mut buf);
                assert!(mint.mint(h.method, h.path, 1_700_000_000, &mut token));
                buf.len() + token.len()
            })
        });
    }
    g.finish();
}

fn all(c: &mut Criterion) {
    let k = load();
    // The walk must really apply every update, or the timings mean nothing.
    let mut m = md();
    synced(&mut m, &k.snapshot);
    for u in &k.updates {
        assert!(
            matches!(
                m.on_frame(u),
                Ok(Handled::Book {
                    event: mako::venue::md::SyncEvent::Applied,
                    ..
                })
            ),
            "an update was not applied"
        );
    }
    bench_level2(c, &k);
    bench_ticker(c, &k);
    bench_jwt(c);
    bench_place(c);
}

criterion_group! {
    name = coinbase;
    config = Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    targets = all
}
criterion_main!(coinbase);
