//! Decimals as venues write them, read into the engine's fixed point.

use crate::types::Qty;

/// A decimal that may carry more than 8 fractional digits (OKX and Coinbase fees, balances
/// and sizes), cut to 8 (towards zero), and its sign.
pub fn floor8(s: &str) -> Option<(bool, Qty)> {
    let (neg, abs) = match s.strip_prefix('-') {
        Some(a) => (true, a),
        None => (false, s),
    };
    // Only ASCII digits can be cut by byte position; anything else is not a decimal.
    let cut = match abs.split_once('.') {
        Some((i, f)) if f.len() > 8 => abs.get(..i.len() + 1 + 8)?,
        _ => abs,
    };
    Qty::parse(cut).ok().map(|q| (neg, q))
}
