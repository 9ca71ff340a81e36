//! mako rows: mako's own Binance Spot codec (`mako::venue::binance::MdParser::parse`), the
//! per-frame work its feed does before the book sync, on the same corpora as the peers.

use crate::ck;
use mako::types::InstrumentId;
use mako::venue::binance::{MdParser, SymbolTable, TimeUnit};

pub fn parser() -> MdParser {
    let mut t = SymbolTable::new();
    t.insert("btcusdt", InstrumentId(0)).expect("symbol");
    MdParser::new(t, TimeUnit::Millis, 8192)
}

#[inline]
pub fn ck_level(px: i64, qty: i64, side: i64) -> u64 {
    ck::mix4(ck::px8(px), ck::qty8(qty), side, 0)
}
