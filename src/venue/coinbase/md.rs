//! Coinbase Advanced Trade public market data (exchanges.md §4.3): `l2_data` (the `level2`
//! channel: `snapshot` and `update` events of absolute quantities), `ticker`,
//! `market_trades`, `heartbeats`, `subscriptions`, the other channels (read for their
//! `sequence_num` only) and `error` messages. Decoded through simd-json's tape into reused
//! buffers: nothing is allocated per frame once warm.

use simd_json::prelude::*;
use simd_json::tape::{Tape, Value};

use crate::book::Level;
use crate::types::{DecimalError, InstrumentId, Price, Qty, Side, TradeId, TradePrint, UnixNanos};

pub use crate::venue::md::InstTable;

/// Why a frame was refused (counted by the caller; never fatal).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CoinbaseMdError {
    #[error("invalid JSON")]
    Json,
    #[error("missing field {0:?}")]
    Missing(&'static str),
    #[error("field {0:?} has the wrong type")]
    WrongType(&'static str),
    #[error("field {field:?}: {err}")]
    Decimal {
        field: &'static str,
        err: DecimalError,
    },
    #[error("timestamp is not RFC 3339 UTC")]
    BadTime,
    #[error("book level with a zero price")]
    ZeroPrice,
    #[error("product_id is not one of this connection's")]
    UnknownInstrument,
    #[error("channel this feed does not read")]
    UnknownChannel,
}

impl CoinbaseMdError {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Json => "invalid JSON",
            Self::Missing(_) => "missing field",
            Self::WrongType(_) => "field has the wrong type",
            Self::Decimal { .. } => "malformed decimal",
            Self::BadTime => "timestamp is not RFC 3339 UTC",
            Self::ZeroPrice => "book level with a zero price",
            Self::UnknownInstrument => "product_id is not one of this connection's",
            Self::UnknownChannel => "channel this feed does not read",
        }
    }
}

/// One `level2` event of a frame: its levels are `bids[bids.0..bids.1]` and
/// `asks[asks.0..asks.1]` of the parser's buffers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct L2Event {
    pub instrument: InstrumentId,
    pub snapshot: bool,
    pub bids: (usize, usize),
    pub asks: (usize, usize),
}

/// One decoded frame. `seq` is the message's `sequence_num` (per connection, every channel).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Msg {
    /// `l2_data`: read the parser's `events`, `bids` and `asks`. `ts` is the message's
    /// `timestamp`.
    L2 { seq: u64, ts: UnixNanos },
    /// A `ticker` item (the last of the message when it holds several).
    Ticker {
        seq: u64,
        instrument: InstrumentId,
        bid: Level,
        ask: Level,
        ts: UnixNanos,
    },
    /// `market_trades`: read the parser's `trades`.
    Trades { seq: u64 },
    /// `heartbeats`, `subscriptions` and the channels the feed reads nothing from
    /// (`candles`, `status`, `ticker_batch`): only their sequence number counts.
    Sequenced { seq: u64 },
    /// `{"type":"error","message":…}`: a refused subscribe.
    Error,
}

impl Msg {
    pub fn seq(self) -> Option<u64> {
        match self {
            Msg::L2 { seq, .. }
            | Msg::Ticker { seq, .. }
            | Msg::Trades { seq }
            | Msg::Sequenced { seq } => Some(seq),
            Msg::Error => None,
        }
    }
}

/// The parser: simd-json's working memory and the decoded levels and trades, all reused.
pub struct CoinbaseMdParser {
    insts: InstTable,
    scratch: Vec<u8>,
    buffers: simd_json::Buffers,
    tape: Tape<'static>,
    pub bids: Vec<Level>,
    pub asks: Vec<Level>,
    pub events: Vec<L2Event>,
    pub trades: Vec<TradePrint>,
}

impl CoinbaseMdParser {
    pub fn new(insts: InstTable, levels: usize) -> Self {
        Self {
            insts,
            scratch: Vec::with_capacity(1 << 16),
            buffers: simd_json::Buffers::new(1 << 16),
            tape: Tape(Vec::new()),
            bids: Vec::with_capacity(levels),
            asks: Vec::with_capacity(levels),
            events: Vec::with_capacity(16),
            trades: Vec::with_capacity(64),
        }
    }

    pub fn insts(&self) -> &InstTable {
        &self.insts
    }

    pub fn insts_mut(&mut self) -> &mut InstTable {
        &mut self.insts
    }

    /// Decodes one WebSocket frame.
    pub fn parse(&mut self, frame: &[u8]) -> Result<Msg, CoinbaseMdError> {
        self.scratch.clear();
        self.scratch.extend_from_slice(frame);
        let mut tape = std::mem::replace(&mut self.tape, Tape(Vec::new())).reset();
        let res = match simd_json::fill_tape(&mut self.scratch, &mut self.buffers, &mut tape) {
            Ok(()) => {
                let mut out = Out {
                    bids: &mut self.bids,
                    asks: &mut self.asks,
                    events: &mut self.events,
                    trades: &mut self.trades,
                };
                decode(tape.as_value(), &self.insts, &mut out)
            }
            Err(_) => Err(CoinbaseMdError::Json),
        };
        self.tape = tape.reset();
        res
    }
}

struct Out<'a> {
    bids: &'a mut Vec<Level>,
    asks: &'a mut Vec<Level>,
    events: &'a mut Vec<L2Event>,
    trades: &'a mut Vec<TradePrint>,
}

fn field<'t, 'i>(v: Value<'t, 'i>, k: &'static str) -> Result<Value<'t, 'i>, CoinbaseMdError> {
    v.get(k).ok_or(CoinbaseMdError::Missing(k))
}

fn string<'i>(v: Value<'_, 'i>, k: &'static str) -> Result<&'i str, CoinbaseMdError> {
    field(v, k)?
        .into_string()
        .ok_or(CoinbaseMdError::WrongType(k))
}

fn price(s: &str, k: &'static str) -> Result<Price, CoinbaseMdError> {
    Price::parse(s).map_err(|err| CoinbaseMdError::Decimal { field: k, err })
}

fn qty(s: &str, k: &'static str) -> Result<Qty, CoinbaseMdError> {
    Qty::parse(s).map_err(|err| CoinbaseMdError::Decimal { field: k, err })
}

fn instrument(insts: &InstTable, v: Value<'_, '_>) -> Result<InstrumentId, CoinbaseMdError> {
    insts
        .get(string(v, "product_id")?)
        .ok_or(CoinbaseMdError::UnknownInstrument)
}

fn decode(
    root: Value<'_, '_>,
    insts: &InstTable,
    out: &mut Out<'_>,
) -> Result<Msg, CoinbaseMdError> {
    if root.as_object().is_none() {
        return Err(CoinbaseMdError::WrongType("message"));
    }
    let Some(channel) = root.get("channel") else {
        return match root.get("type").and_then(|t| t.into_string()) {
            Some("error") => Ok(Msg::Error),
            _ => Err(CoinbaseMdError::Missing("channel")),
        };
    };
    let channel = channel
        .into_string()
        .ok_or(CoinbaseMdError::WrongType("channel"))?;
    let seq = field(root, "sequence_num")?
        .as_u64()
        .ok_or(CoinbaseMdError::WrongType("sequence_num"))?;
    let events = field(root, "events")?
        .as_array()
        .ok_or(CoinbaseMdError::WrongType("events"))?;
    match channel {
        "l2_data" => {
            let ts = rfc3339(string(root, "timestamp")?)?;
            out.bids.clear();
            out.asks.clear();
            out.events.clear();
            for e in events.iter() {
                let snapshot = match string(e, "type")? {
                    "snapshot" => true,
                    "update" => false,
                    _ => return Err(CoinbaseMdError::WrongType("type")),
                };
                let instrument = instrument(insts, e)?;
                let (b0, a0) = (out.bids.len(), out.asks.len());
                let updates = field(e, "updates")?
                    .as_array()
                    .ok_or(CoinbaseMdError::WrongType("updates"))?;
                for u in updates.iter() {
                    let level = Level {
                        price: price(string(u, "price_level")?, "price_level")?,
                        qty: qty(string(u, "new_quantity")?, "new_quantity")?,
                    };
                    if level.price.is_zero() {
                        return Err(CoinbaseMdError::ZeroPrice);
                    }
                    match string(u, "side")? {
                        "bid" => out.bids.push(level),
                        // The docs name the ask side `offer`.
                        "offer" | "ask" => out.asks.push(level),
                        _ => return Err(CoinbaseMdError::WrongType("side")),
                    }
                }
                out.events.push(L2Event {
                    instrument,
                    snapshot,
                    bids: (b0, out.bids.len()),
                    asks: (a0, out.asks.len()),
                });
            }
            Ok(Msg::L2 { seq, ts })
        }
        "ticker" => {
            let ts = rfc3339(string(root, "timestamp")?)?;
            let mut last = None;
            for e in events.iter() {
                let tickers = field(e, "tickers")?
                    .as_array()
                    .ok_or(CoinbaseMdError::WrongType("tickers"))?;
                for t in tickers.iter() {
                    let instrument = instrument(insts, t)?;
                    let bid = Level {
                        price: price(string(t, "best_bid")?, "best_bid")?,
                        qty: qty(string(t, "best_bid_quantity")?, "best_bid_quantity")?,
                    };
                    let ask = Level {
                        price: price(string(t, "best_ask")?, "best_ask")?,
                        qty: qty(string(t, "best_ask_quantity")?, "best_ask_quantity")?,
                    };
                    last = Some((instrument, bid, ask));
                }
            }
            let (instrument, bid, ask) = last.ok_or(CoinbaseMdError::Missing("tickers"))?;
            Ok(Msg::Ticker {
                seq,
                instrument,
                bid,
                ask,
                ts,
            })
        }
        "market_trades" => {
            out.trades.clear();
            for e in events.iter() {
                let trades = field(e, "trades")?
                    .as_array()
                    .ok_or(CoinbaseMdError::WrongType("trades"))?;
                for t in trades.iter() {
                    // `side` is the maker's (exchanges.md §4.3): the aggressor is the other
                    // (unconfirmed: `super::UNCONFIRMED`).
                    let aggressor = match string(t, "side")? {
                        "BUY" => Side::Sell,
                        "SELL" => Side::Buy,
                        _ => return Err(CoinbaseMdError::WrongType("side")),
                    };
                    let time = rfc3339(string(t, "time")?)?;
                    out.trades.push(TradePrint {
                        instrument: instrument(insts, t)?,
                        trade_id: TradeId::new(string(t, "trade_id")?.as_bytes())
                            .ok_or(CoinbaseMdError::WrongType("trade_id"))?,
                        price: price(string(t, "price")?, "price")?,
                        qty: qty(string(t, "size")?, "size")?,
                        aggressor,
                        trade_time: time,
                        event_time: time,
                    });
                }
            }
            // Coinbase batches a channel's trades newest first; the feed wants oldest first.
            out.trades.sort_by_key(|t| t.trade_time);
            Ok(Msg::Trades { seq })
        }
        "heartbeats" | "subscriptions" | "candles" | "status" | "ticker_batch" => {
            Ok(Msg::Sequenced { seq })
        }
        _ => Err(CoinbaseMdError::UnknownChannel),
    }
}

/// `2023-02-09T20:32:50.714964855Z` (any number of fractional digits, UTC) as Unix
/// nanoseconds.
pub fn rfc3339(s: &str) -> Result<UnixNanos, CoinbaseMdError> {
    let b = s.as_bytes();
    if b.len() < 20 || b[b.len() - 1] != b'Z' {
        return Err(CoinbaseMdError::BadTime);
    }
    let num = |r: std::ops::Range<usize>| -> Result<u64, CoinbaseMdError> {
        let d = b.get(r).ok_or(CoinbaseMdError::BadTime)?;
        if !d.iter().all(u8::is_ascii_digit) {
            return Err(CoinbaseMdError::BadTime);
        }
        Ok(d.iter().fold(0, |a, &c| a * 10 + u64::from(c - b'0')))
    };
    let seps = [(4, b'-'), (7, b'-'), (10, b'T'), (13, b':'), (16, b':')];
    if seps.iter().any(|&(i, c)| b[i] != c) {
        return Err(CoinbaseMdError::BadTime);
    }
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || sec > 60 {
        return Err(CoinbaseMdError::BadTime);
    }
    let mut nanos = 0u64;
    match b[19] {
        b'Z' if b.len() == 20 => {}
        b'.' => {
            let frac = &b[20..b.len() - 1];
            if frac.is_empty() || !frac.iter().all(u8::is_ascii_digit) {
                return Err(CoinbaseMdError::BadTime);
            }
            for k in 0..9 {
                nanos = nanos * 10 + frac.get(k).map_or(0, |&c| u64::from(c - b'0'));
            }
        }
        _ => return Err(CoinbaseMdError::BadTime),
    }
    let days = days_from_civil(y as i64, mo as u32, d as u32);
    let secs = days * 86_400 + (h * 3600 + mi * 60 + sec) as i64;
    u64::try_from(secs)
        .ok()
        .and_then(|s| s.checked_mul(1_000_000_000))
        .and_then(|ns| ns.checked_add(nanos))
        .map(UnixNanos)
        .ok_or(CoinbaseMdError::BadTime)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_reads_coinbase_timestamps() {
        let cases: &[(&str, Option<u64>)] = &[
            ("1970-01-01T00:00:00Z", Some(0)),
            (
                "2023-02-09T20:32:50.714964855Z",
                Some(1_675_974_770_714_964_855),
            ),
            ("2019-08-14T20:42:27.265Z", Some(1_565_815_347_265_000_000)),
            ("2024-02-29T00:00:00.5Z", Some(1_709_164_800_500_000_000)),
            ("2023-02-09 20:32:50Z", None),
            ("2023-02-09T20:32:50+01:00", None),
            ("2023-13-09T20:32:50Z", None),
            ("2023-02-09T20:32:50.Z", None),
            ("0001-01-01T00:00:00Z", None),
            ("", None),
        ];
        for (s, want) in cases {
            assert_eq!(rfc3339(s).ok().map(|t| t.0), *want, "{s}");
        }
    }
}
