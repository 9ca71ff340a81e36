#![no_main]
//! Binance market data, as the feed reads it.
//!
//! - `mako::fuzzing::binance_md`: `MdParser::parse` (hand-shaped fast path, falling back to
//!   the general decoder) and `parse_generic` agree (Debug of the `Result`), then
//!   `parse_snapshot`.
//! - The same agreement with the parser of `tests/binance_md_props.rs` (level capacity
//!   5000, where `mako::fuzzing` uses 64), and with microsecond time stamps.
//! - A parser that has decoded every earlier input gives the same answer as a fresh one (no
//!   state such as stale levels leaks from one frame into the next).
//! - `parse_snapshot` agrees with `parse`: a snapshot naming no symbol or instrument 0 is
//!   accepted with the same update id, anything else is refused.
//! - `stream_symbol`, `mako decode`'s Binance decoder, and the feed's handler (decoder plus
//!   book synchronisation), fed the input's lines as successive frames, never panic.
use std::cell::RefCell;

use libfuzzer_sys::fuzz_target;
use mako::types::InstrumentId;
use mako::venue::binance::handler::SpotMdHandler;
use mako::venue::binance::{MdEvent, MdParser, SymbolTable, TimeUnit};
use mako::venue::md::SyncLimits;

fn table() -> SymbolTable {
    let mut t = SymbolTable::new();
    t.insert("btcusdt", InstrumentId(0)).unwrap();
    t.insert("ethusdt", InstrumentId(1)).unwrap();
    t
}

fn parser(unit: TimeUnit, levels: usize) -> MdParser {
    MdParser::new(table(), unit, levels)
}

/// Both decoders, as `agree` in tests/binance_md_props.rs.
fn agree(p: &mut MdParser, data: &[u8]) -> Result<String, String> {
    let fast = p
        .parse(data)
        .map(|e| format!("{e:?}"))
        .map_err(|e| format!("{e:?}"));
    let general = p
        .parse_generic(data)
        .map(|e| format!("{e:?}"))
        .map_err(|e| format!("{e:?}"));
    assert_eq!(
        fast,
        general,
        "fast and general Binance decoders disagree on {:?}",
        String::from_utf8_lossy(data)
    );
    fast
}

thread_local! {
    /// Used by every input in turn.
    static USED: RefCell<MdParser> = RefCell::new(parser(TimeUnit::Millis, 5000));
}

thread_local! {
    static HANDLER: RefCell<SpotMdHandler> = RefCell::new(SpotMdHandler::new(table(), TimeUnit::Millis,
        SyncLimits {
            book_levels: 16,
            max_buffered_diffs: 4,
            max_buffered_levels: 64,
            max_pending_tickers: 2,
        },
    ));
}

fuzz_target!(|data: &[u8]| {
    mako::fuzzing::binance_md(data);

    let mut fresh = parser(TimeUnit::Millis, 5000);
    let first = agree(&mut fresh, data);
    let again = USED.with(|u| agree(&mut u.borrow_mut(), data));
    assert_eq!(
        first, again,
        "a used parser answers differently from a fresh one"
    );
    let _ = agree(&mut parser(TimeUnit::Micros, 5000), data);

    // parse_snapshot is parse, narrowed to snapshots of the instrument asked for.
    let last = match fresh.parse(data) {
        Ok(MdEvent::Snapshot(s)) if s.instrument.is_none_or(|i| i == InstrumentId(0)) => {
            Some(s.last_update_id)
        }
        _ => None,
    };
    let snap = fresh.parse_snapshot(data, InstrumentId(0)).map(|s| {
        assert_eq!(s.instrument, Some(InstrumentId(0)));
        s.last_update_id
    });
    assert_eq!(snap.ok(), last, "parse_snapshot disagrees with parse");

    if let Some(sym) = mako::venue::binance::md::stream_symbol(data) {
        assert!(!sym.is_empty() && sym.bytes().all(|b| b.is_ascii_alphanumeric()));
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = mako::venue::binance::decode::decode(text);
    }

    // The feed's path, on a handler kept from input to input (its books hold large
    // ladders): reconnected first, so every book starts again from a snapshot.
    HANDLER.with(|h| {
        let h = &mut *h.borrow_mut();
        h.on_reconnect();
        for (k, frame) in data.split(|&b| b == b'\n').enumerate() {
            let _ = match frame.strip_prefix(b"SNAPSHOT ") {
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
