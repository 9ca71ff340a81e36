#![no_main]
//! OKX market data, as the feed reads it.
//!
//! - `mako::fuzzing::okx_md`: two parsers with the same `InstTable` (BTC-USDT, SOL-USDT),
//!   one through `parse` (hand-shaped reader, falling back to simd-json's tape), one through
//!   `parse_generic`: both fail together, or both succeed with the same message (Debug) and
//!   the same `bids`, `asks`, `trades` and `canonical` left in the parser; then
//!   `parse_rest_books`.
//! - A parser that has decoded every earlier input answers like a fresh one (same message,
//!   and for book and trade messages the same levels and trades).
//! - `parse_rest_books` fails or succeeds the same way on two fresh parsers, levels included.
//! - `mako decode`'s OKX decoder, and the feed's handler `OkxMd` (decoder, book sync,
//!   checksums) fed the input's lines as successive frames (`REST ` + body: a REST book
//!   answer), never panic.
use std::cell::RefCell;

use libfuzzer_sys::fuzz_target;
use mako::types::InstrumentId;
use mako::venue::md::{MarketData, SyncLimits};
use mako::venue::okx::OkxMd;
use mako::venue::okx::md::{InstTable, Msg, OkxMdParser};

fn parser() -> OkxMdParser {
    let mut t = InstTable::default();
    t.insert("BTC-USDT", InstrumentId(0));
    t.insert("SOL-USDT", InstrumentId(1));
    OkxMdParser::new(t, 64)
}

/// The message and, for messages whose data is left in the parser, that data.
fn decoded(p: &mut OkxMdParser, data: &[u8], rest: bool) -> Result<String, String> {
    let r = if rest {
        p.parse_rest_books(data, InstrumentId(0))
    } else {
        p.parse(data)
    };
    match r {
        Ok(m @ Msg::Book { .. }) => Ok(format!("{m:?} {:?} {:?} {}", p.bids, p.asks, p.canonical)),
        Ok(m @ Msg::Trades) => Ok(format!("{m:?} {:?}", p.trades)),
        Ok(m) => Ok(format!("{m:?}")),
        Err(e) => Err(format!("{e:?}")),
    }
}

thread_local! {
    static USED: RefCell<OkxMdParser> = RefCell::new(parser());
}

thread_local! {
    static HANDLER: RefCell<OkxMd> = RefCell::new(OkxMd::new(&[("BTC-USDT", InstrumentId(0)), ("SOL-USDT", InstrumentId(1))],
        SyncLimits {
            book_levels: 16,
            max_buffered_diffs: 4,
            max_buffered_levels: 64,
            max_pending_tickers: 2,
        },
    ));
}

fuzz_target!(|data: &[u8]| {
    mako::fuzzing::okx_md(data);

    let fresh = decoded(&mut parser(), data, false);
    let used = USED.with(|u| decoded(&mut u.borrow_mut(), data, false));
    assert_eq!(
        fresh, used,
        "a used OKX parser answers differently from a fresh one"
    );

    let a = decoded(&mut parser(), data, true);
    let b = USED.with(|u| decoded(&mut u.borrow_mut(), data, true));
    assert_eq!(
        a, b,
        "parse_rest_books depends on what the parser decoded before"
    );

    if let Ok(text) = std::str::from_utf8(data) {
        let _ = mako::venue::okx::decode::decode(text);
    }

    // The feed's path, on a handler kept from input to input (its books hold large
    // ladders): reconnected first, so every book starts again from a snapshot.
    HANDLER.with(|h| {
        let h = &mut *h.borrow_mut();
        h.on_reconnect();
        for (k, frame) in data.split(|&b| b == b'\n').enumerate() {
            let _ = match frame.strip_prefix(b"REST ") {
                Some(body) => h.on_snapshot(InstrumentId((k % 2) as u32), body),
                None => h.on_frame(frame),
            };
            if k % 7 == 6 {
                h.on_reconnect();
            }
        }
        for id in [InstrumentId(0), InstrumentId(1)] {
            if let Some(b) = h.book(id) {
                let _ = (b.best_bid(), b.best_ask());
            }
        }
    });
});
