//! Coinstore spot public market data (exchanges.md §6.5): `<symbol>@depth@<N>` limited-level
//! snapshots (`b`/`a` lists of `[price, qty]`, each push the whole top of the book),
//! `<symbol>@trade` (single pushes and `data` batches, with the taker's side), the 24 h
//! `ticker` (read for nothing: it has no bid or ask), the `resp`/`echo` replies with their code
//! `C`, and the per-session sequence `S` every server message carries. Decoded through
//! simd-json's tape into reused buffers: nothing is allocated per frame once warm.
//!
//! Where the documentation leaves the wire form open, the readings are listed in
//! [`super::UNCONFIRMED`].

use simd_json::prelude::*;
use simd_json::tape::{Tape, Value};

use crate::book::Level;
use crate::types::{DecimalError, InstrumentId, Price, Qty, Side, TradeId, TradePrint, UnixNanos};

pub use crate::venue::md::InstTable;

/// Why a frame was refused (counted by the caller; never fatal).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CoinstoreMdError {
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
    #[error("book level with a zero price")]
    ZeroPrice,
    #[error("symbol is not one of this connection's")]
    UnknownInstrument,
    #[error("message type this feed does not read")]
    UnknownType,
}

impl CoinstoreMdError {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Json => "invalid JSON",
            Self::Missing(_) => "missing field",
            Self::WrongType(_) => "field has the wrong type",
            Self::Decimal { .. } => "malformed decimal",
            Self::ZeroPrice => "book level with a zero price",
            Self::UnknownInstrument => "symbol is not one of this connection's",
            Self::UnknownType => "message type this feed does not read",
        }
    }
}

/// One decoded frame. `seq` is the session sequence `S` when the message carries one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decoded {
    pub seq: Option<u64>,
    pub msg: Msg,
}

/// What a frame holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Msg {
    /// A `depth` snapshot of `instrument`: its levels are the parser's `bids` and `asks`.
    Depth { instrument: InstrumentId },
    /// `trade` pushes: read the parser's `trades`.
    Trades,
    /// A `resp` or `echo` reply; `ok` when its code `C` is 200 (or absent).
    Reply { ok: bool, code: u64 },
    /// A JSON `pong` (or `ping`) op.
    Pong,
    /// A message the feed reads nothing from (`ticker`, `kline`).
    Other,
}

/// The parser: simd-json's working memory and the decoded levels and trades, all reused.
pub struct CoinstoreMdParser {
    insts: InstTable,
    scratch: Vec<u8>,
    buffers: simd_json::Buffers,
    tape: Tape<'static>,
    pub bids: Vec<Level>,
    pub asks: Vec<Level>,
    pub trades: Vec<TradePrint>,
}

impl CoinstoreMdParser {
    /// `insts` maps Coinstore's REST spelling (`BTCUSDT`) to instruments.
    pub fn new(insts: InstTable, levels: usize) -> Self {
        Self {
            insts,
            scratch: Vec::with_capacity(1 << 16),
            buffers: simd_json::Buffers::new(1 << 16),
            tape: Tape(Vec::new()),
            bids: Vec::with_capacity(levels),
            asks: Vec::with_capacity(levels),
            trades: Vec::with_capacity(64),
        }
    }

    pub fn insts(&self) -> &InstTable {
        &self.insts
    }

    /// Adds a symbol (replay tools; allocates).
    pub fn add(&mut self, symbol: &str, id: InstrumentId) {
        self.insts.insert(symbol, id);
    }

    /// Decodes one text frame.
    pub fn parse(&mut self, frame: &[u8]) -> Result<Decoded, CoinstoreMdError> {
        self.scratch.clear();
        self.scratch.extend_from_slice(frame);
        let mut tape = std::mem::replace(&mut self.tape, Tape(Vec::new())).reset();
        let res = match simd_json::fill_tape(&mut self.scratch, &mut self.buffers, &mut tape) {
            Ok(()) => {
                let mut out = Out {
                    bids: &mut self.bids,
                    asks: &mut self.asks,
                    trades: &mut self.trades,
                };
                decode(tape.as_value(), &self.insts, &mut out)
            }
            Err(_) => Err(CoinstoreMdError::Json),
        };
        self.tape = tape.reset();
        res
    }
}

struct Out<'a> {
    bids: &'a mut Vec<Level>,
    asks: &'a mut Vec<Level>,
    trades: &'a mut Vec<TradePrint>,
}

fn field<'t, 'i>(v: Value<'t, 'i>, k: &'static str) -> Result<Value<'t, 'i>, CoinstoreMdError> {
    v.get(k).ok_or(CoinstoreMdError::Missing(k))
}

fn string<'i>(v: Value<'_, 'i>, k: &'static str) -> Result<&'i str, CoinstoreMdError> {
    field(v, k)?
        .into_string()
        .ok_or(CoinstoreMdError::WrongType(k))
}

fn number(v: Value<'_, '_>, k: &'static str) -> Result<u64, CoinstoreMdError> {
    field(v, k)?.as_u64().ok_or(CoinstoreMdError::WrongType(k))
}

fn price(s: &str, k: &'static str) -> Result<Price, CoinstoreMdError> {
    Price::parse(s).map_err(|err| CoinstoreMdError::Decimal { field: k, err })
}

fn qty(s: &str, k: &'static str) -> Result<Qty, CoinstoreMdError> {
    Qty::parse(s).map_err(|err| CoinstoreMdError::Decimal { field: k, err })
}

/// The instrument a push is for: its `symbol` (`BTCUSDT`, as REST spells it), or else the
/// symbol part of its `channel` (`btcusdt@depth@20`, lowercase), compared without case.
fn instrument(insts: &InstTable, v: Value<'_, '_>) -> Result<InstrumentId, CoinstoreMdError> {
    if let Some(s) = v.get("symbol").and_then(|s| s.into_string()) {
        return insts.get(s).ok_or(CoinstoreMdError::UnknownInstrument);
    }
    let channel = string(v, "channel")?;
    let sym = channel.split('@').next().unwrap_or("");
    insts
        .iter()
        .find(|(s, _)| s.eq_ignore_ascii_case(sym))
        .map(|(_, id)| id)
        .ok_or(CoinstoreMdError::UnknownInstrument)
}

/// `[["price","qty"(,direction)], …]` onto `out` (REST adds a direction, 1 or -1).
fn levels(v: Value<'_, '_>, k: &'static str, out: &mut Vec<Level>) -> Result<(), CoinstoreMdError> {
    out.clear();
    let Some(list) = v.get(k) else {
        // A side with no levels may be left out.
        return Ok(());
    };
    let list = list.as_array().ok_or(CoinstoreMdError::WrongType(k))?;
    for l in list.iter() {
        let pair = l.as_array().ok_or(CoinstoreMdError::WrongType(k))?;
        let mut it = pair.iter();
        let (Some(p), Some(q)) = (it.next(), it.next()) else {
            return Err(CoinstoreMdError::WrongType(k));
        };
        let p = p.into_string().ok_or(CoinstoreMdError::WrongType(k))?;
        let q = q.into_string().ok_or(CoinstoreMdError::WrongType(k))?;
        let level = Level {
            price: price(p, k)?,
            qty: qty(q, k)?,
        };
        if level.price.is_zero() {
            return Err(CoinstoreMdError::ZeroPrice);
        }
        if !level.qty.is_zero() {
            out.push(level);
        }
    }
    Ok(())
}

/// The taker's side: `BUY` or `SELL`; the docs' batch sample spells a buy `BULL`.
fn taker_side(s: &str) -> Result<Side, CoinstoreMdError> {
    match s {
        "BUY" | "BULL" => Ok(Side::Buy),
        "SELL" => Ok(Side::Sell),
        _ => Err(CoinstoreMdError::WrongType("takerSide")),
    }
}

fn trade(
    insts: &InstTable,
    t: Value<'_, '_>,
    out: &mut Vec<TradePrint>,
) -> Result<(), CoinstoreMdError> {
    let instrument = instrument(insts, t)?;
    let id = number(t, "tradeId")?;
    // `ts` is in ms; `time` in s when `ts` is missing.
    let time = match t.get("ts").and_then(|v| v.as_u64()) {
        Some(ms) => UnixNanos::from_millis(ms),
        None => UnixNanos::from_millis(number(t, "time")?.saturating_mul(1000)),
    };
    out.push(TradePrint {
        instrument,
        trade_id: TradeId::from_u64(id),
        price: price(string(t, "price")?, "price")?,
        qty: qty(string(t, "volume")?, "volume")?,
        aggressor: taker_side(string(t, "takerSide")?)?,
        trade_time: time,
        event_time: time,
    });
    Ok(())
}

/// The kind of push: `T` when the message names it, else read off its fields (the docs'
/// samples of payloads leave the envelope out).
fn kind<'i>(root: Value<'_, 'i>, item: Value<'_, 'i>) -> Result<&'i str, CoinstoreMdError> {
    if let Some(t) = root.get("T") {
        return t.into_string().ok_or(CoinstoreMdError::WrongType("T"));
    }
    if item.get("b").is_some() || item.get("a").is_some() {
        Ok("depth")
    } else if item.get("tradeId").is_some() {
        Ok("trade")
    } else if item.get("startTime").is_some() {
        Ok("kline")
    } else if item.get("close").is_some() {
        Ok("ticker")
    } else {
        Err(CoinstoreMdError::Missing("T"))
    }
}

fn decode(
    root: Value<'_, '_>,
    insts: &InstTable,
    out: &mut Out<'_>,
) -> Result<Decoded, CoinstoreMdError> {
    if root.as_object().is_none() {
        return Err(CoinstoreMdError::WrongType("message"));
    }
    let seq = match root.get("S") {
        None => None,
        Some(s) => Some(s.as_u64().ok_or(CoinstoreMdError::WrongType("S"))?),
    };
    if let Some(op) = root.get("op") {
        return match op.into_string() {
            Some("pong" | "ping") => Ok(Decoded {
                seq,
                msg: Msg::Pong,
            }),
            _ => Err(CoinstoreMdError::UnknownType),
        };
    }
    // A push is its payload with the envelope's fields beside it, or a `data` list (or
    // object, as REST answers) of payloads.
    let data = root.get("data");
    let first = match data {
        Some(d) => match d.as_array() {
            Some(list) => list.iter().next().unwrap_or(d),
            None => d,
        },
        None => root,
    };
    let msg = match kind(root, first)? {
        "resp" | "echo" => {
            let code = match root.get("C") {
                None => 200,
                Some(c) => c.as_u64().ok_or(CoinstoreMdError::WrongType("C"))?,
            };
            Msg::Reply {
                ok: code == 200,
                code,
            }
        }
        "depth" => {
            if data.is_some_and(|d| d.as_array().is_some()) {
                return Err(CoinstoreMdError::WrongType("data"));
            }
            let instrument = instrument(insts, first)?;
            levels(first, "b", out.bids)?;
            levels(first, "a", out.asks)?;
            Msg::Depth { instrument }
        }
        "trade" => {
            out.trades.clear();
            match data.and_then(|d| d.as_array()) {
                Some(list) => {
                    for t in list.iter() {
                        trade(insts, t, out.trades)?;
                    }
                }
                None => trade(insts, first, out.trades)?,
            }
            Msg::Trades
        }
        "ticker" | "kline" => Msg::Other,
        _ => return Err(CoinstoreMdError::UnknownType),
    };
    Ok(Decoded { seq, msg })
}
