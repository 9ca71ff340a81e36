//! Bybit v5 public market data (exchanges.md §3.3): `orderbook.{depth}.{symbol}` (a
//! `snapshot` then `delta`s with the update id `u` and the cross sequence `seq`),
//! `publicTrade.{symbol}` (taker trades with UUID-like ids), `tickers.{symbol}` (spot: last
//! price; linear: a snapshot then deltas of the changed fields only, with mark, index and
//! funding), the `op` replies to subscribes and pings. Decoded through simd-json's tape into
//! reused buffers: nothing is allocated per frame once warm.

use simd_json::prelude::*;
use simd_json::tape::{Tape, Value};

use crate::book::Level;
use crate::types::{
    DecimalError, FundingRate, InstrumentId, Price, Qty, Side, TradeId, TradePrint, UnixNanos,
};

pub use crate::venue::md::InstTable;

/// Why a frame was refused (counted by the caller; never fatal).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BybitMdError {
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
    #[error("trade id is not printable ASCII of at most 36 bytes")]
    TradeId,
    #[error("symbol is not one of this connection's")]
    UnknownInstrument,
    #[error("topic this feed does not read")]
    UnknownTopic,
}

impl BybitMdError {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Json => "invalid JSON",
            Self::Missing(_) => "missing field",
            Self::WrongType(_) => "field has the wrong type",
            Self::Decimal { .. } => "malformed decimal",
            Self::ZeroPrice => "book level with a zero price",
            Self::TradeId => "malformed trade id",
            Self::UnknownInstrument => "symbol is not one of this connection's",
            Self::UnknownTopic => "topic this feed does not read",
        }
    }
}

/// The fields a `tickers` message carried (a linear delta carries only the changed ones; an
/// empty string counts as absent).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TickerFields {
    pub last: Option<Price>,
    pub mark: Option<Price>,
    pub index: Option<Price>,
    pub funding_rate: Option<FundingRate>,
    pub next_funding_ms: Option<u64>,
}

/// One decoded frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Msg {
    /// `orderbook.{depth}`: the levels are the parser's `bids` and `asks`. `depth` is the
    /// topic's depth (1 is Bybit's snapshot-only best bid/offer).
    Book {
        instrument: InstrumentId,
        depth: u32,
        snapshot: bool,
        u: u64,
        seq: u64,
        ts_ms: u64,
    },
    /// `publicTrade`: read the parser's `trades`.
    Trades,
    /// `tickers`.
    Ticker {
        instrument: InstrumentId,
        snapshot: bool,
        fields: TickerFields,
        ts_ms: u64,
    },
    /// The answer to a `subscribe` / `unsubscribe` (`success`).
    Reply { ok: bool },
    /// The answer to `{"op":"ping"}` (public: `"ret_msg":"pong"`; private: `"op":"pong"`).
    Pong,
}

/// The parser: simd-json's working memory and the decoded levels and trades, all reused.
pub struct BybitMdParser {
    insts: InstTable,
    scratch: Vec<u8>,
    buffers: simd_json::Buffers,
    tape: Tape<'static>,
    pub bids: Vec<Level>,
    pub asks: Vec<Level>,
    pub trades: Vec<TradePrint>,
}

impl BybitMdParser {
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
    pub fn parse(&mut self, frame: &[u8]) -> Result<Msg, BybitMdError> {
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
            Err(_) => Err(BybitMdError::Json),
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

fn field<'t, 'i>(v: Value<'t, 'i>, k: &'static str) -> Result<Value<'t, 'i>, BybitMdError> {
    v.get(k).ok_or(BybitMdError::Missing(k))
}

fn string<'i>(v: Value<'_, 'i>, k: &'static str) -> Result<&'i str, BybitMdError> {
    field(v, k)?.into_string().ok_or(BybitMdError::WrongType(k))
}

fn number(v: Value<'_, '_>, k: &'static str) -> Result<u64, BybitMdError> {
    field(v, k)?.as_u64().ok_or(BybitMdError::WrongType(k))
}

fn price(s: &str, k: &'static str) -> Result<Price, BybitMdError> {
    Price::parse(s).map_err(|err| BybitMdError::Decimal { field: k, err })
}

fn qty(s: &str, k: &'static str) -> Result<Qty, BybitMdError> {
    Qty::parse(s).map_err(|err| BybitMdError::Decimal { field: k, err })
}

/// An optional text field; `""` (which Bybit sends for fields without a value) is absent.
fn opt_text<'i>(v: Value<'_, 'i>, k: &'static str) -> Result<Option<&'i str>, BybitMdError> {
    match v.get(k) {
        None => Ok(None),
        Some(x) => match x.into_string() {
            Some("") => Ok(None),
            Some(s) => Ok(Some(s)),
            None => Err(BybitMdError::WrongType(k)),
        },
    }
}

fn opt_price(v: Value<'_, '_>, k: &'static str) -> Result<Option<Price>, BybitMdError> {
    opt_text(v, k)?.map(|s| price(s, k)).transpose()
}

/// `[["price","size"], …]` onto `out`.
fn levels(v: Value<'_, '_>, k: &'static str, out: &mut Vec<Level>) -> Result<(), BybitMdError> {
    out.clear();
    let list = field(v, k)?.as_array().ok_or(BybitMdError::WrongType(k))?;
    for l in list.iter() {
        let pair = l.as_array().ok_or(BybitMdError::WrongType(k))?;
        let mut it = pair.iter();
        let (Some(p), Some(q)) = (it.next(), it.next()) else {
            return Err(BybitMdError::WrongType(k));
        };
        let p = p.into_string().ok_or(BybitMdError::WrongType(k))?;
        let q = q.into_string().ok_or(BybitMdError::WrongType(k))?;
        let level = Level {
            price: price(p, k)?,
            qty: qty(q, k)?,
        };
        if level.price.is_zero() {
            return Err(BybitMdError::ZeroPrice);
        }
        out.push(level);
    }
    Ok(())
}

fn snapshot_type(root: Value<'_, '_>) -> Result<bool, BybitMdError> {
    match string(root, "type")? {
        "snapshot" => Ok(true),
        "delta" => Ok(false),
        _ => Err(BybitMdError::WrongType("type")),
    }
}

fn decode(root: Value<'_, '_>, insts: &InstTable, out: &mut Out<'_>) -> Result<Msg, BybitMdError> {
    if root.as_object().is_none() {
        return Err(BybitMdError::WrongType("message"));
    }
    let Some(topic) = root.get("topic") else {
        return control(root);
    };
    let topic = topic
        .into_string()
        .ok_or(BybitMdError::WrongType("topic"))?;
    let (name, rest) = topic.split_once('.').ok_or(BybitMdError::UnknownTopic)?;
    let ts_ms = number(root, "ts")?;
    match name {
        "orderbook" => {
            let (depth, symbol) = rest.split_once('.').ok_or(BybitMdError::UnknownTopic)?;
            let depth = depth.parse().map_err(|_| BybitMdError::UnknownTopic)?;
            let data = field(root, "data")?;
            if string(data, "s")? != symbol {
                return Err(BybitMdError::WrongType("s"));
            }
            let instrument = insts.get(symbol).ok_or(BybitMdError::UnknownInstrument)?;
            levels(data, "b", out.bids)?;
            levels(data, "a", out.asks)?;
            Ok(Msg::Book {
                instrument,
                depth,
                snapshot: snapshot_type(root)?,
                u: number(data, "u")?,
                seq: number(data, "seq")?,
                ts_ms,
            })
        }
        "publicTrade" => {
            let instrument = insts.get(rest).ok_or(BybitMdError::UnknownInstrument)?;
            let data = field(root, "data")?
                .as_array()
                .ok_or(BybitMdError::WrongType("data"))?;
            out.trades.clear();
            for t in data.iter() {
                if string(t, "s")? != rest {
                    return Err(BybitMdError::WrongType("s"));
                }
                // `S` is the taker's side (exchanges.md §3.3).
                let aggressor = match string(t, "S")? {
                    "Buy" => Side::Buy,
                    "Sell" => Side::Sell,
                    _ => return Err(BybitMdError::WrongType("S")),
                };
                let trade_id =
                    TradeId::new(string(t, "i")?.as_bytes()).ok_or(BybitMdError::TradeId)?;
                let time = UnixNanos::from_millis(number(t, "T")?);
                out.trades.push(TradePrint {
                    instrument,
                    trade_id,
                    price: price(string(t, "p")?, "p")?,
                    qty: qty(string(t, "v")?, "v")?,
                    aggressor,
                    trade_time: time,
                    event_time: time,
                });
            }
            Ok(Msg::Trades)
        }
        "tickers" => {
            let instrument = insts.get(rest).ok_or(BybitMdError::UnknownInstrument)?;
            let data = field(root, "data")?;
            if string(data, "symbol")? != rest {
                return Err(BybitMdError::WrongType("symbol"));
            }
            let next_funding_ms = opt_text(data, "nextFundingTime")?
                .map(|s| {
                    s.parse::<u64>()
                        .map_err(|_| BybitMdError::WrongType("nextFundingTime"))
                })
                .transpose()?;
            let funding_rate = opt_text(data, "fundingRate")?
                .map(|s| {
                    FundingRate::parse(s).map_err(|err| BybitMdError::Decimal {
                        field: "fundingRate",
                        err,
                    })
                })
                .transpose()?;
            Ok(Msg::Ticker {
                instrument,
                snapshot: snapshot_type(root)?,
                fields: TickerFields {
                    last: opt_price(data, "lastPrice")?,
                    mark: opt_price(data, "markPrice")?,
                    index: opt_price(data, "indexPrice")?,
                    funding_rate,
                    next_funding_ms,
                },
                ts_ms,
            })
        }
        _ => Err(BybitMdError::UnknownTopic),
    }
}

/// A message without a topic: the answer to an `op`.
fn control(root: Value<'_, '_>) -> Result<Msg, BybitMdError> {
    let op = string(root, "op")?;
    if op == "pong" {
        return Ok(Msg::Pong);
    }
    let ok = field(root, "success")?
        .as_bool()
        .ok_or(BybitMdError::WrongType("success"))?;
    match op {
        "ping" if ok && opt_text(root, "ret_msg")? == Some("pong") => Ok(Msg::Pong),
        "ping" | "subscribe" | "unsubscribe" => Ok(Msg::Reply { ok }),
        _ => Err(BybitMdError::WrongType("op")),
    }
}
