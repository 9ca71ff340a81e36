//! OKX frame → domain object, on the real OKX capture's frames (tests/fixtures/okx), through
//! the engine's OKX `MarketData` (`OkxMd`, what the feed runs): `bbo-tbt` → top of book,
//! `trades` → delivered trades, `books` update → parsed, applied to a synced book and its
//! CRC32 checksum verified (and, in a second row, published to the book cache). Baselines in
//! the same run: serde_json into structs with `String` fields, then the same fixed-point
//! parsing (and, for books, the same book, without the checksum).
//!
//! The capture has no `bbo-tbt` channel: its frames are built from the capture's `tickers`
//! (best bid/ask and sizes) in `bbo-tbt`'s documented shape. Times are per frame.
//!
//! `top of book, same quotes, same binary`: `bbo-tbt` against Binance's bookTicker like for
//! like (`SameQuotes`: every bookTicker of the Binance recording and the same quote as an OKX
//! push, as many distinct frames each), the codecs alone and each venue's `on_frame`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group};
use mako::book::{BookCache, L2Book, Level};
use mako::feed::record::RecordReader;
use mako::types::{InstrumentId, Price, Qty, Side, UnixNanos};
use mako::venue::md::{Handled, MarketData, SyncLimits};
use mako::venue::okx::OkxMd;
use mako::venue::okx::md::{InstTable, Msg, OkxMdParser};
use serde::Deserialize;

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/okx/OKX.ws.1.0");
const INST: &str = "BTC-USDT";
const ID: InstrumentId = InstrumentId(0);

struct Corpora {
    bbo: Vec<Vec<u8>>,
    trades: Vec<Vec<u8>>,
    snapshot: Vec<u8>,
    updates: Vec<Vec<u8>>,
}

fn load() -> Corpora {
    let mut c = Corpora {
        bbo: vec![],
        trades: vec![],
        snapshot: vec![],
        updates: vec![],
    };
    let mut r = RecordReader::open(FIXTURE).expect("fixture");
    while let Some(rec) = r.next() {
        let f = rec.expect("fixture line").frame.to_vec();
        let v: serde_json::Value = serde_json::from_slice(&f).expect("json");
        if v["arg"]["instId"] != INST || v.get("data").is_none() {
            continue;
        }
        match v["arg"]["channel"].as_str() {
            Some("books") if v["action"] == "snapshot" => c.snapshot = f,
            Some("books") => c.updates.push(f),
            Some("trades") => c.trades.push(f),
            Some("tickers") => {
                let t = &v["data"][0];
                let bbo = serde_json::json!({"arg": {"channel": "bbo-tbt", "instId": INST}, "data": [{
                    "asks": [[t["askPx"], t["askSz"], "0", "1"]],
                    "bids": [[t["bidPx"], t["bidSz"], "0", "1"]],
                    "ts": t["ts"], "seqId": c.bbo.len() + 1,
                }]});
                c.bbo.push(bbo.to_string().into_bytes());
            }
            _ => {}
        }
    }
    assert!(!c.snapshot.is_empty() && !c.updates.is_empty() && !c.trades.is_empty());
    c
}

fn parser() -> OkxMdParser {
    let mut t = InstTable::default();
    t.insert(INST, ID);
    OkxMdParser::new(t, 64)
}

fn md() -> OkxMd {
    OkxMd::new(&[(INST, ID)], SyncLimits::default())
}

/// Walks `corpus` one frame per iteration (as `feed_parse`'s: no division per frame).
fn cycle<'a>(corpus: &'a [Vec<u8>], i: &mut usize) -> &'a [u8] {
    let f = &corpus[*i];
    *i += 1;
    if *i == corpus.len() {
        *i = 0;
    }
    f
}

// ---- serde_json baseline types ----

#[derive(Deserialize)]
struct Push<T> {
    #[allow(dead_code)]
    arg: Arg,
    data: Vec<T>,
}

#[derive(Deserialize)]
struct Arg {
    #[allow(dead_code)]
    channel: String,
    #[serde(rename = "instId")]
    #[allow(dead_code)]
    inst_id: String,
}

#[derive(Deserialize)]
struct BookJson {
    asks: Vec<[String; 4]>,
    bids: Vec<[String; 4]>,
    ts: String,
}

#[derive(Deserialize)]
struct TradeJson {
    #[serde(rename = "tradeId")]
    trade_id: String,
    px: String,
    sz: String,
    side: String,
    ts: String,
}

fn level(l: &[String; 4]) -> Level {
    Level {
        price: Price::parse(&l[0]).unwrap_or_default(),
        qty: Qty::parse(&l[1]).unwrap_or_default(),
    }
}

fn bench_bbo(c: &mut Criterion, k: &Corpora) {
    let mut g = c.benchmark_group("okx bbo-tbt frame -> top of book");
    let mut m = md();
    let mut i = 0;
    g.bench_function("mako", |b| {
        b.iter(|| match m.on_frame(black_box(cycle(&k.bbo, &mut i))) {
            Ok(Handled::Bbo { bid, .. }) => black_box(bid).price.units(),
            _ => 0,
        })
    });
    let mut general = parser();
    let mut i = 0;
    g.bench_function("mako general decoder (simd-json tape)", |b| {
        b.iter(
            || match general.parse_generic(black_box(cycle(&k.bbo, &mut i))) {
                Ok(Msg::Bbo { bid, .. }) => black_box(bid).price.units(),
                _ => 0,
            },
        )
    });
    let mut i = 0;
    g.bench_function("serde_json String structs + fixed parse", |b| {
        b.iter(|| {
            let f: Push<BookJson> =
                serde_json::from_slice(black_box(cycle(&k.bbo, &mut i))).expect("json");
            let d = &f.data[0];
            black_box((level(&d.bids[0]), level(&d.asks[0]), d.ts.len()))
        })
    });
    g.finish();
}

fn bench_trades(c: &mut Criterion, k: &Corpora) {
    let mut g = c.benchmark_group("okx trades frame -> trades delivered");
    let mut m = md();
    let mut i = 0;
    g.bench_function("mako", |b| {
        b.iter(|| {
            let _ = m.on_frame(black_box(cycle(&k.trades, &mut i)));
            let t = m.trades();
            let n = t.len();
            for x in t.drain(..) {
                black_box(x);
            }
            n
        })
    });
    let mut general = parser();
    let mut i = 0;
    g.bench_function("mako general decoder (simd-json tape)", |b| {
        b.iter(
            || match general.parse_generic(black_box(cycle(&k.trades, &mut i))) {
                Ok(Msg::Trades) => black_box(general.trades.len()),
                _ => 0,
            },
        )
    });
    let mut i = 0;
    g.bench_function("serde_json String structs + fixed parse", |b| {
        b.iter(|| {
            let f: Push<TradeJson> =
                serde_json::from_slice(black_box(cycle(&k.trades, &mut i))).expect("json");
            for t in &f.data {
                black_box((
                    t.trade_id.len(),
                    Price::parse(&t.px).unwrap_or_default(),
                    Qty::parse(&t.sz).unwrap_or_default(),
                    t.side == "buy",
                    t.ts.parse::<u64>().unwrap_or_default(),
                ));
            }
            f.data.len()
        })
    });
    g.finish();
}

/// Times `iters` updates applied in order: each pass starts from a fresh book synced on the
/// snapshot (untimed) and walks the capture's updates.
fn walk_updates<S>(
    k: &Corpora,
    iters: u64,
    mut fresh: impl FnMut() -> S,
    mut step: impl FnMut(&mut S, &[u8]),
) -> Duration {
    let mut total = Duration::ZERO;
    let mut left = iters as usize;
    while left > 0 {
        let mut s = fresh();
        let n = left.min(k.updates.len());
        let t = Instant::now();
        for u in &k.updates[..n] {
            step(&mut s, black_box(u));
        }
        total += t.elapsed();
        left -= n;
    }
    total
}

fn bench_books(c: &mut Criterion, k: &Corpora) {
    let mut g = c.benchmark_group("okx books update -> applied (checksum verified)");
    let synced = || {
        let mut m = md();
        let _ = m.on_frame(&k.snapshot);
        m
    };
    g.bench_function("mako", |b| {
        b.iter_custom(|iters| {
            walk_updates(k, iters, synced, |m, f| {
                let _ = black_box(m.on_frame(f));
            })
        })
    });
    let cache = BookCache::new(1);
    let mut writer = cache.writer(ID).expect("writer");
    g.bench_function("mako, applied and published to the cache", |b| {
        b.iter_custom(|iters| {
            walk_updates(k, iters, synced, |m, f| {
                if let Ok(Handled::Book { .. }) = m.on_frame(f)
                    && let Some(book) = m.book(ID)
                {
                    writer.publish(book, UnixNanos(1), UnixNanos(2));
                }
            })
        })
    });
    let fresh_book = || {
        let f: Push<BookJson> = serde_json::from_slice(&k.snapshot).expect("json");
        let mut b = L2Book::with_capacity(8192);
        b.apply_snapshot(
            0,
            f.data[0].bids.iter().map(level),
            f.data[0].asks.iter().map(level),
        );
        b
    };
    g.bench_function(
        "serde_json String structs + fixed parse, applied (no checksum)",
        |b| {
            b.iter_custom(|iters| {
                walk_updates(k, iters, fresh_book, |book, f| {
                    let p: Push<BookJson> = serde_json::from_slice(f).expect("json");
                    for l in &p.data[0].bids {
                        let l = level(l);
                        book.apply_level(Side::Buy, l.price, l.qty);
                    }
                    for l in &p.data[0].asks {
                        let l = level(l);
                        book.apply_level(Side::Sell, l.price, l.qty);
                    }
                    black_box(book.best_bid());
                })
            })
        },
    );
    g.finish();
}

fn benches(c: &mut Criterion) {
    let k = load();
    // The replay itself must verify every checksum, or the timings mean nothing.
    let mut m = md();
    let _ = m.on_frame(&k.snapshot);
    for u in &k.updates {
        let _ = m.on_frame(u);
    }
    let sc = m.sync_counters(ID).expect("counters");
    assert_eq!(sc.checksum_mismatches, 0);
    assert_eq!(sc.checksums_verified as usize, k.updates.len() + 1);
    bench_bbo(c, &k);
    bench_trades(c, &k);
    bench_books(c, &k);
    bench_same_quotes(c);
}

criterion_group! {
    name = okx;
    config = Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    targets = benches
}

/// A recorded frame and its receive time in milliseconds.
type Timed = (Vec<u8>, u64);

/// Binance's bookTicker and trade frames from the start of its recording (the frames of
/// `benches/feed_parse.rs`), at most `max` of each, with each bookTicker's receive time.
fn binance_frames(max: usize) -> (Vec<Timed>, Vec<Vec<u8>>) {
    const BINANCE: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/binance-spot/btcusdt_20240808.gz"
    );
    let (mut tickers, mut trades) = (vec![], vec![]);
    let mut r = RecordReader::open(BINANCE).expect("fixture");
    while let Some(rec) = r.next() {
        let rec = rec.expect("fixture line");
        let f = rec.frame;
        if f.starts_with(b"{\"stream\":\"btcusdt@bookTicker\"") && tickers.len() < max {
            tickers.push((f.to_vec(), rec.recv.0 / 1_000_000));
        } else if f.starts_with(b"{\"stream\":\"btcusdt@trade\"") && trades.len() < max {
            trades.push(f.to_vec());
        }
        if tickers.len() == max && trades.len() == max {
            break;
        }
    }
    (tickers, trades)
}

/// Binance's decimal text (`61837.63000000`, always eight decimals) in OKX's shortest form
/// (`61837.63`).
fn shortest(d: &str) -> &str {
    if d.contains('.') {
        d.trim_end_matches('0').trim_end_matches('.')
    } else {
        d
    }
}

/// The same quotes in both venues' layouts: each Binance bookTicker frame, and its quote as an
/// OKX `bbo-tbt` push in the documented shape (the same bid, ask and sizes in OKX's shortest
/// decimals, the update id as `seqId`, the frame's receive time as `ts`). Both sides then
/// decode the same numbers, as many distinct frames each.
struct SameQuotes {
    binance: Vec<Vec<u8>>,
    okx: Vec<Vec<u8>>,
}

fn same_quotes(max: usize) -> SameQuotes {
    let (tickers, _) = binance_frames(max);
    let okx = tickers
        .iter()
        .map(|(f, ms)| {
            let v: serde_json::Value = serde_json::from_slice(f).expect("json");
            let d = &v["data"];
            let s = |k: &str| shortest(d[k].as_str().expect("a decimal string")).to_owned();
            serde_json::json!({"arg": {"channel": "bbo-tbt", "instId": INST}, "data": [{
                "asks": [[s("a"), s("A"), "0", "1"]],
                "bids": [[s("b"), s("B"), "0", "1"]],
                "ts": ms.to_string(), "seqId": d["u"],
            }]})
            .to_string()
            .into_bytes()
        })
        .collect();
    SameQuotes {
        binance: tickers.into_iter().map(|(f, _)| f).collect(),
        okx,
    }
}

fn binance_parser() -> mako::venue::binance::MdParser {
    use mako::venue::binance::{MdParser, SymbolTable, TimeUnit};
    let mut t = SymbolTable::new();
    t.insert("btcusdt", InstrumentId(0)).expect("symbol");
    MdParser::new(t, TimeUnit::Millis, 8192)
}

/// Binance's `MarketData` (what the feed runs), as `OkxMd` is OKX's.
fn binance_md() -> mako::venue::binance::handler::SpotMdHandler {
    use mako::venue::binance::{SymbolTable, TimeUnit};
    let mut t = SymbolTable::new();
    t.insert("btcusdt", InstrumentId(0)).expect("symbol");
    mako::venue::binance::handler::SpotMdHandler::new(t, TimeUnit::Millis, SyncLimits::default())
}

/// `bbo-tbt` against bookTicker in one binary, on the same quotes (every bookTicker of the
/// Binance recording, and the same quotes in OKX's layout), as many distinct frames each:
/// the codecs alone (frame → parsed top of book), then each venue's `MarketData::on_frame`
/// (OKX: counted and returned; Binance: counted, checked against its book's sync and
/// returned).
fn bench_same_quotes(c: &mut Criterion) {
    let q = same_quotes(usize::MAX);
    let mut g = c.benchmark_group("top of book, same quotes, same binary");
    let mut p = parser();
    let mut i = 0;
    g.bench_function("okx bbo-tbt codec (OkxMdParser::parse)", |b| {
        b.iter(|| match p.parse(black_box(cycle(&q.okx, &mut i))) {
            Ok(Msg::Bbo { bid, .. }) => black_box(bid).price.units(),
            _ => 0,
        })
    });
    let mut p = binance_parser();
    let mut i = 0;
    g.bench_function("binance bookTicker codec (MdParser::parse)", |b| {
        b.iter(|| match p.parse(black_box(cycle(&q.binance, &mut i))) {
            Ok(mako::venue::binance::MdEvent::BookTicker(t)) => black_box(t).bid.price.units(),
            _ => 0,
        })
    });
    let mut m = md();
    let mut i = 0;
    g.bench_function("okx bbo-tbt OkxMd::on_frame", |b| {
        b.iter(|| match m.on_frame(black_box(cycle(&q.okx, &mut i))) {
            Ok(Handled::Bbo { bid, .. }) => black_box(bid).price.units(),
            _ => 0,
        })
    });
    let mut m = binance_md();
    let mut i = 0;
    g.bench_function("binance bookTicker SpotMdHandler::on_frame", |b| {
        b.iter(|| match m.on_frame(black_box(cycle(&q.binance, &mut i))) {
            Ok(Handled::Bbo { bid, .. }) => black_box(bid).price.units(),
            _ => 0,
        })
    });
    // As few distinct frames as the capture's 31 `bbo-tbt` frames (the `okx bbo-tbt` group):
    // what cycling a short corpus does to the same codecs.
    let (okx31, bin31) = (&q.okx[..31], &q.binance[..31]);
    let mut p = parser();
    let mut i = 0;
    g.bench_function("okx bbo-tbt codec, first 31 frames cycled", |b| {
        b.iter(|| match p.parse(black_box(cycle(okx31, &mut i))) {
            Ok(Msg::Bbo { bid, .. }) => black_box(bid).price.units(),
            _ => 0,
        })
    });
    let mut p = binance_parser();
    let mut i = 0;
    g.bench_function("binance bookTicker codec, first 31 frames cycled", |b| {
        b.iter(|| match p.parse(black_box(cycle(bin31, &mut i))) {
            Ok(mako::venue::binance::MdEvent::BookTicker(t)) => black_box(t).bid.price.units(),
            _ => 0,
        })
    });
    g.finish();
}

/// `OKX_MD_COUNT=<kind>:<n>`: decodes `n` frames of one kind, prints a checksum of what was
/// decoded and exits, for instruction counts under callgrind (two runs with different `n`,
/// subtracted, give instructions per frame without the loading; docs/performance.md has the
/// commands). Kinds: `okx-bbo`, `okx-trades` (`OkxMd::on_frame`, as the criterion rows),
/// `okx-bbo-parse`, `okx-trades-parse` (the codec alone), `okx-books` (`n` walks of the
/// capture's updates from a synced book), `binance-ticker`, `binance-trade` (Binance's
/// `MdParser::parse`, as `feed_parse`'s rows); on the same quotes in both layouts
/// ([`SameQuotes`], 4,096 frames each): `same-okx-parse` / `same-binance-parse` (the codecs)
/// and `same-okx-md` / `same-binance-md` (each venue's `MarketData::on_frame`).
fn count(spec: &str) {
    use mako::venue::binance::MdEvent;
    let (kind, n) = spec.split_once(':').expect("OKX_MD_COUNT=<kind>:<n>");
    let n: usize = n.parse().expect("a frame count");
    let mut sum = 0u64;
    if let Some(kind) = kind.strip_prefix("binance-") {
        let (tickers, trades) = binance_frames(512);
        let tickers: Vec<Vec<u8>> = tickers.into_iter().map(|(f, _)| f).collect();
        let mut p = binance_parser();
        let corpus = if kind == "ticker" { &tickers } else { &trades };
        let mut i = 0;
        for _ in 0..n {
            sum += match p.parse(black_box(cycle(corpus, &mut i))) {
                Ok(MdEvent::BookTicker(t)) => t.update_id,
                Ok(MdEvent::Trade(t)) => t.trade_id,
                _ => 1 << 40,
            };
        }
        println!("{spec}: {sum}");
        return;
    }
    if let Some(kind) = kind.strip_prefix("same-") {
        // The same quotes in both layouts (`SameQuotes`): 4,096 distinct frames each.
        let q = same_quotes(4096);
        let (mut okx, mut okx_md, mut bin, mut bin_md) =
            (parser(), md(), binance_parser(), binance_md());
        let mut i = 0;
        for _ in 0..n {
            sum += match kind {
                "okx-parse" => match okx.parse(black_box(cycle(&q.okx, &mut i))) {
                    Ok(Msg::Bbo { bid, .. }) => bid.price.units() as u64,
                    _ => 1 << 40,
                },
                "okx-md" => match okx_md.on_frame(black_box(cycle(&q.okx, &mut i))) {
                    Ok(Handled::Bbo { bid, .. }) => bid.price.units() as u64,
                    _ => 1 << 40,
                },
                "binance-parse" => match bin.parse(black_box(cycle(&q.binance, &mut i))) {
                    Ok(MdEvent::BookTicker(t)) => t.bid.price.units() as u64,
                    _ => 1 << 40,
                },
                "binance-md" => match bin_md.on_frame(black_box(cycle(&q.binance, &mut i))) {
                    Ok(Handled::Bbo { bid, .. }) => bid.price.units() as u64,
                    _ => 1 << 40,
                },
                _ => panic!("unknown kind same-{kind}"),
            };
        }
        println!(
            "{spec}: {sum} (fast-path misses: okx {}, binance {})",
            okx.fast_misses(),
            bin.fast_misses()
        );
        return;
    }
    let k = load();
    let (mut m, mut p, mut i) = (md(), parser(), 0);
    match kind {
        "okx-bbo" => {
            for _ in 0..n {
                if let Ok(Handled::Bbo { bid, .. }) = m.on_frame(black_box(cycle(&k.bbo, &mut i))) {
                    sum += bid.price.units() as u64;
                }
            }
        }
        "okx-bbo-parse" => {
            for _ in 0..n {
                if let Ok(Msg::Bbo { bid, .. }) = p.parse(black_box(cycle(&k.bbo, &mut i))) {
                    sum += bid.price.units() as u64;
                }
            }
        }
        "okx-trades" => {
            for _ in 0..n {
                let _ = m.on_frame(black_box(cycle(&k.trades, &mut i)));
                for t in m.trades().drain(..) {
                    sum += black_box(t).price.units() as u64;
                }
            }
        }
        "okx-trades-parse" => {
            for _ in 0..n {
                if let Ok(Msg::Trades) = p.parse(black_box(cycle(&k.trades, &mut i))) {
                    sum += p.trades.iter().map(|t| t.qty.units() as u64).sum::<u64>();
                }
            }
        }
        "okx-books" => {
            for _ in 0..n {
                let mut m = md();
                let _ = m.on_frame(&k.snapshot);
                for u in &k.updates {
                    sum += u64::from(m.on_frame(black_box(u)).is_ok());
                }
            }
        }
        _ => panic!("unknown kind {kind}"),
    }
    println!("{spec}: {sum} (fast-path misses {})", p.fast_misses());
}

fn main() {
    if let Ok(spec) = std::env::var("OKX_MD_COUNT") {
        count(&spec);
        return;
    }
    okx();
    Criterion::default().configure_from_args().final_summary();
}
