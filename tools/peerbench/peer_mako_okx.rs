//! mako rows on the OKX corpora (feature `mako`): the engine's OKX market data, `OkxMd`
//! (`mako::venue::okx`), the `MarketData` the feed runs per frame, and its codec alone.
//!
//! - `bbo-tbt`: `OkxMd::on_frame` → `Handled::Bbo` (top of book).
//! - `trades`: `OkxMd::on_frame` → `Handled::Trades`, then the trades drained.
//! - `books` update: `OkxMdParser::parse` → fixed-point levels (parse only, the work
//!   NautilusTrader's `parse_book_msg_vec` does), and `OkxMd::on_frame` → parsed, applied
//!   to a book synced on the capture's snapshot, and the OKX CRC32 verified. That book is
//!   resynced on the snapshot at the start of every pass, outside the timing.

use mako::types::{InstrumentId, Side};
use mako::venue::md::{MarketData, SyncLimits};
use mako::venue::okx::OkxMd;
use mako::venue::okx::md::{InstTable, OkxMdParser};

pub const ID: InstrumentId = InstrumentId(0);

pub fn md() -> OkxMd {
    OkxMd::new(&[(crate::corpus::OKX_INST, ID)], SyncLimits::default())
}

pub fn parser() -> OkxMdParser {
    let mut t = InstTable::default();
    t.insert(crate::corpus::OKX_INST, ID);
    OkxMdParser::new(t, 64)
}

/// A handler whose book is synced on `snapshot`.
pub fn synced(snapshot: &[u8]) -> OkxMd {
    let mut m = md();
    m.on_frame(snapshot).expect("snapshot");
    m
}

/// Checksum of a parsed book message's levels (the parser's `bids`/`asks`).
pub fn ck_levels(p: &OkxMdParser, ts_ns: u64) -> u64 {
    let mut s = crate::okx::ck_book_frame(ts_ns);
    for l in &p.bids {
        s = s.wrapping_add(crate::okx::ck_level(l.price.units(), l.qty.units(), false));
    }
    for l in &p.asks {
        s = s.wrapping_add(crate::okx::ck_level(l.price.units(), l.qty.units(), true));
    }
    s
}

/// After `on_frame` applied an update: every level of it (read by `check`, a separate
/// parser) must be what the book now holds at that price; then the levels' checksum.
pub fn ck_applied(m: &OkxMd, check: &mut OkxMdParser, frame: &[u8]) -> Option<u64> {
    let ts = match check.parse(frame).ok()? {
        mako::venue::okx::md::Msg::Book { ts, .. } => ts,
        _ => return None,
    };
    let book = m.book(ID)?;
    for (side, levels) in [(Side::Buy, &check.bids), (Side::Sell, &check.asks)] {
        for l in levels {
            if book.qty_at(side, l.price) != l.qty {
                return None;
            }
        }
    }
    Some(ck_levels(check, ts.0))
}
