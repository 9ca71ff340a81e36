//! OKX corpora and rows (`--venue okx`): `bbo-tbt`, `trades` and `books` updates of the
//! OKX capture (see `corpus::load_okx`), through a serde_json baseline, mako
//! (feature `mako`) and NautilusTrader's OKX adapter (feature `nautilus-okx`).
//!
//! Checksum (validation pass only, order-independent, like the Binance rows' but exact):
//! prices and sizes in units of 1e-8 (OKX BTC-USDT: tick 0.1, lot 1e-8, so no rounding),
//! plus, per record, what every parser here carries:
//! - `bbo-tbt`: best bid price and size, best ask price and size, event time (ns);
//! - `trades`: price, size, aggressor side, trade id, trade time (ns);
//! - `books`: every level's price, size (0 = delete) and side, and the frame's event time.
//! Not covered: sequence ids, OKX's CRC32 value, order counts (mako checks the CRC32 and
//! drops the counts; Nautilus keeps `seqId` as the deltas' sequence and drops the CRC32).

#![allow(unused_imports, unused_variables)]

use std::hint::black_box;

use serde::Deserialize;

use crate::ck::mix4;
use crate::corpus::{Corpora, Corpus, Kind, OKX_INST, OkxLoadNotes};
use crate::fixed::parse_fixed8;
use crate::harness::{Case, Form, Stage};

#[cfg(feature = "nautilus-okx")]
pub fn dec8(d: rust_decimal::Decimal) -> i64 {
    use rust_decimal::prelude::ToPrimitive;
    (d * rust_decimal::Decimal::from(100_000_000i64)).round().to_i64().unwrap_or(i64::MIN)
}

#[inline]
pub fn ck_quote(bid_px: i64, bid_sz: i64, ask_px: i64, ask_sz: i64, ts_ns: u64) -> u64 {
    mix4(mix4(bid_px, bid_sz, ask_px, ask_sz) as i64, ts_ns as i64, 0, 0)
}
#[inline]
pub fn ck_trade(px: i64, sz: i64, sell: bool, trade_id: u64, ts_ns: u64) -> u64 {
    mix4(mix4(px, sz, sell as i64, trade_id as i64) as i64, ts_ns as i64, 1, 0)
}
#[inline]
pub fn ck_level(px: i64, sz: i64, sell: bool) -> u64 {
    mix4(px, sz, sell as i64, 2)
}
#[inline]
pub fn ck_book_frame(ts_ns: u64) -> u64 {
    mix4(ts_ns as i64, 3, 0, 0)
}

pub fn print_corpus_table(c: &Corpora, notes: &OkxLoadNotes) {
    println!();
    println!("| corpus | frames | records | avg frame bytes | levels/frame |");
    println!("|---|---:|---:|---:|---:|");
    for (k, records, lv) in [
        (Kind::OkxBbo, c.okx_bbo.len(), "1+1".to_string()),
        (Kind::OkxTrades, notes.trades_records, "-".to_string()),
        (Kind::OkxBooks, c.okx_books.len(), format!("{:.1}", notes.book_levels as f64 / c.okx_books.len().max(1) as f64)),
    ] {
        let co = c.get(k);
        println!("| {} | {} | {} | {:.1} | {} |", k.name(), co.len(), records, co.bytes_full() as f64 / co.len().max(1) as f64, lv);
    }
    println!(
        "bbo-tbt frames are built from the capture's {} `tickers` pushes; trades and books frames carry the fields OKX sends today \
         and the 2022 capture predates (trades: count/seqId; books: prevSeqId/seqId); books snapshot: {} bytes (resync only)",
        notes.tickers,
        c.okx_snapshot.len()
    );
    #[cfg(feature = "mako")]
    {
        // mako's hand-shaped reader must take every frame (a miss falls back to simd-json)
        let mut p = crate::peer_mako_okx::parser();
        let mut n = 0;
        for co in [&c.okx_bbo, &c.okx_trades, &c.okx_books] {
            for f in &co.frames {
                let _ = p.parse(co.full(f));
                n += 1;
            }
        }
        let _ = p.parse(&c.okx_snapshot);
        println!("mako OkxMdParser: {} of {} frames (and the snapshot) missed its fast reader", p.fast_misses(), n);
    }
}

// ---------- serde_json baseline: borrowed &str structs + i64 fixed point ----------

#[derive(Deserialize)]
struct Push<'a, T> {
    #[serde(borrow)]
    arg: Arg<'a>,
    data: Vec<T>,
}

#[derive(Deserialize)]
struct Arg<'a> {
    #[serde(borrow)]
    channel: &'a str,
    #[serde(rename = "instId", borrow)]
    inst_id: &'a str,
}

#[derive(Deserialize)]
struct BookRaw<'a> {
    #[serde(borrow)]
    asks: Vec<[&'a str; 4]>,
    #[serde(borrow)]
    bids: Vec<[&'a str; 4]>,
    ts: &'a str,
}

#[derive(Deserialize)]
struct TradeRaw<'a> {
    #[serde(rename = "tradeId", borrow)]
    trade_id: &'a str,
    px: &'a str,
    sz: &'a str,
    side: &'a str,
    ts: &'a str,
}

fn fx(s: &str) -> Option<i64> {
    parse_fixed8(s.as_bytes())
}
fn ms_to_ns(s: &str) -> Option<u64> {
    s.parse::<u64>().ok().map(|ms| ms * 1_000_000)
}

pub fn cases(corpora: &Corpora) -> Vec<Case<'_>> {
    let bbo = &corpora.okx_bbo;
    let tr = &corpora.okx_trades;
    let bk = &corpora.okx_books;
    let lv_total: usize = bk
        .frames
        .iter()
        .map(|f| {
            let p: Push<BookRaw> = serde_json::from_slice(bk.full(f)).expect("books");
            p.data.iter().map(|d| d.bids.len() + d.asks.len()).sum::<usize>()
        })
        .sum();
    let mut cases: Vec<Case<'_>> = Vec::new();
    let form = Form::Frame;

    // =====================================================================
    // Baseline: serde_json &str structs + i64 fixed point (no dispatch, no book)
    // =====================================================================
    frame_case!(cases, "serde_json", "&str push + i64 fixed", Stage::Full, form, bbo, 0, (), |_s, b, _f, check| {
        let p: Push<BookRaw> = serde_json::from_slice(b).ok()?;
        if p.arg.inst_id != OKX_INST || p.arg.channel != "bbo-tbt" { return None; }
        let d = p.data.first()?;
        let (bid, ask) = (d.bids.first()?, d.asks.first()?);
        let q = (fx(bid[0])?, fx(bid[1])?, fx(ask[0])?, fx(ask[1])?, ms_to_ns(d.ts)?);
        Some(if check { ck_quote(q.0, q.1, q.2, q.3, q.4) } else { black_box(&q); 0 })
    });
    frame_case!(cases, "serde_json", "&str push + i64 fixed", Stage::Full, form, tr, 0, (), |_s, b, _f, check| {
        let p: Push<TradeRaw> = serde_json::from_slice(b).ok()?;
        if p.arg.inst_id != OKX_INST || p.arg.channel != "trades" { return None; }
        let mut s = 0u64;
        for t in &p.data {
            let v = (fx(t.px)?, fx(t.sz)?, t.side == "sell", t.trade_id.parse::<u64>().ok()?, ms_to_ns(t.ts)?);
            if check {
                s = s.wrapping_add(ck_trade(v.0, v.1, v.2, v.3, v.4));
            } else {
                black_box(&v);
            }
        }
        Some(s)
    });
    frame_case!(cases, "serde_json", "&str push + i64 fixed -> levels (no book)", Stage::Full, form, bk, lv_total, Vec::<(i64, i64, bool)>::with_capacity(128), |lv, b, _f, check| {
        let p: Push<BookRaw> = serde_json::from_slice(b).ok()?;
        if p.arg.inst_id != OKX_INST || p.arg.channel != "books" { return None; }
        let d = p.data.first()?;
        lv.clear();
        for l in &d.bids {
            lv.push((fx(l[0])?, fx(l[1])?, false));
        }
        for l in &d.asks {
            lv.push((fx(l[0])?, fx(l[1])?, true));
        }
        let ts = ms_to_ns(d.ts)?;
        Some(if check {
            lv.iter().fold(ck_book_frame(ts), |a, &(p, q, s)| a.wrapping_add(ck_level(p, q, s)))
        } else {
            black_box((&*lv, ts));
            0
        })
    });

    // =====================================================================
    // mako: OkxMd::on_frame (what its feed runs) and OkxMdParser::parse
    // =====================================================================
    #[cfg(feature = "mako")]
    {
        use crate::peer_mako_okx as pm;
        use mako::venue::md::{Handled, MarketData};
        use mako::venue::okx::md::Msg;

        frame_case!(cases, "mako", "OkxMd::on_frame -> top of book", Stage::Full, form, bbo, 0, pm::md(), |m, b, _f, check| {
            match m.on_frame(b) {
                Ok(Handled::Bbo { bid, ask, event_time, .. }) => Some(if check {
                    ck_quote(bid.price.units(), bid.qty.units(), ask.price.units(), ask.qty.units(), event_time?.0)
                } else {
                    black_box((&bid, &ask, &event_time));
                    0
                }),
                _ => None,
            }
        });
        frame_case!(cases, "mako", "OkxMd::on_frame -> trades delivered", Stage::Full, form, tr, 0, pm::md(), |m, b, _f, check| {
            match m.on_frame(b) {
                Ok(Handled::Trades) => {
                    let mut s = 0u64;
                    for t in m.trades().drain(..) {
                        if check {
                            s = s.wrapping_add(ck_trade(
                                t.price.units(),
                                t.qty.units(),
                                t.aggressor == mako::types::Side::Sell,
                                t.trade_id.as_str().parse().unwrap_or(u64::MAX),
                                t.trade_time.0,
                            ));
                        } else {
                            black_box(&t);
                        }
                    }
                    Some(s)
                }
                _ => None,
            }
        });
        frame_case!(cases, "mako", "OkxMdParser::parse -> levels (no book)", Stage::Full, form, bk, lv_total, pm::parser(), |p, b, _f, check| {
            match p.parse(b) {
                Ok(Msg::Book { ts, .. }) => Some(if check {
                    pm::ck_levels(&p, ts.0)
                } else {
                    black_box((&p.bids, &p.asks));
                    0
                }),
                _ => None,
            }
        });
        let snapshot: &[u8] = &corpora.okx_snapshot;
        let first = bk.full(&bk.frames[0]).as_ptr();
        frame_case!(cases, "mako", "OkxMd::on_frame -> applied + CRC32 verified", Stage::Full, form, bk, lv_total, (pm::synced(snapshot), pm::parser()), |st, b, _f, check| {
            let (m, chk) = &mut st;
            if b.as_ptr() == first {
                // a new pass: resync the book on the snapshot, untimed
                crate::harness::untimed(|| m.on_frame(snapshot).ok());
            }
            let r = m.on_frame(b);
            match r {
                Ok(Handled::Book { event: mako::venue::md::SyncEvent::Applied, .. }) => {
                    if check { pm::ck_applied(m, chk, b) } else { black_box(&r); Some(0) }
                }
                _ => None,
            }
        });
    }

    // =====================================================================
    // NautilusTrader: nautilus-okx 0.57.0 (handler decode + data-client parse)
    // =====================================================================
    #[cfg(feature = "nautilus-okx")]
    {
        use crate::peer_nautilus_okx as pn;
        use nautilus_core::UnixNanos;

        for (c, name) in [(bbo, "from_str::<OKXWsFrame>"), (tr, "from_str::<OKXWsFrame>"), (bk, "from_str::<OKXWsFrame>")] {
            let lv = if c.kind == Kind::OkxBooks { lv_total } else { 0 };
            frame_case!(cases, "nautilus-okx 0.57", name, Stage::Decode, form, c, lv, pn::Ctx::new(), |ctx, b, f, check| {
                let fr = pn::decode(b)?;
                Some(if check {
                    // checksum through the rest of the path, so the row is comparable
                    let t = UnixNanos::from(f.recv_ns);
                    match c.kind {
                        Kind::OkxBbo => pn::ck_quotes(&pn::bbo(&mut ctx, b, t)?),
                        Kind::OkxTrades => pn::ck_trades(&pn::trades(&mut ctx, b, t)?),
                        _ => pn::ck_books(&pn::books(&ctx, b, t)?),
                    }
                } else {
                    black_box(&fr);
                    0
                })
            });
        }
        frame_case!(cases, "nautilus-okx 0.57", "OKXWsFrame + from_value + QuoteCache::process", Stage::Full, form, bbo, 0, pn::Ctx::new(), |ctx, b, f, check| {
            let v = pn::bbo(&mut ctx, b, UnixNanos::from(f.recv_ns))?;
            if v.is_empty() { return None; }
            Some(if check { pn::ck_quotes(&v) } else { black_box(&v); 0 })
        });
        frame_case!(cases, "nautilus-okx 0.57", "OKXWsFrame + parse_ws_message_data", Stage::Full, form, tr, 0, pn::Ctx::new(), |ctx, b, f, check| {
            let v = pn::trades(&mut ctx, b, UnixNanos::from(f.recv_ns))?;
            if v.is_empty() { return None; }
            Some(if check { pn::ck_trades(&v) } else { black_box(&v); 0 })
        });
        frame_case!(cases, "nautilus-okx 0.57", "OKXWsFrame + parse_book_msg_vec", Stage::Full, form, bk, lv_total, pn::Ctx::new(), |ctx, b, f, check| {
            let v = pn::books(&ctx, b, UnixNanos::from(f.recv_ns))?;
            if v.is_empty() { return None; }
            Some(if check { pn::ck_books(&v) } else { black_box(&v); 0 })
        });
    }
    cases
}
