//! BitMart spot public market data (exchanges.md §5.6): `spot/depth/increase100` (a
//! `snapshot` then `update`s of absolute quantities, each with the book's `version`),
//! `spot/ticker` (best bid and ask), `spot/trade` (taker trades), the `event` replies to
//! subscribes and snapshot requests, and the text `pong`. Decoded through simd-json's tape
//! into reused buffers: nothing is allocated per frame once warm. Frames arrive inflated
//! (the handler inflates binary ones first).

use simd_json::prelude::*;
use simd_json::tape::{Tape, Value};

use crate::book::Level;
use crate::types::{DecimalError, InstrumentId, Price, Qty, Side, TradeId, TradePrint, UnixNanos};

pub use crate::venue::md::InstTable;

/// The incremental depth channel this feed keeps books from.
pub const DEPTH_CHANNEL: &str = "spot/depth/increase100";

/// Why a frame was refused (counted by the caller; never fatal).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BitmartMdError {
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
    #[error("table this feed does not read")]
    UnknownTable,
}

impl BitmartMdError {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Json => "invalid JSON",
            Self::Missing(_) => "missing field",
            Self::WrongType(_) => "field has the wrong type",
            Self::Decimal { .. } => "malformed decimal",
            Self::ZeroPrice => "book level with a zero price",
            Self::UnknownInstrument => "symbol is not one of this connection's",
            Self::UnknownTable => "table this feed does not read",
        }
    }
}

/// One `spot/depth/increase100` item of a frame: its levels are `bids[bids.0..bids.1]` and
/// `asks[asks.0..asks.1]` of the parser's buffers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DepthEvent {
    pub instrument: InstrumentId,
    pub snapshot: bool,
    pub version: u64,
    pub ms: u64,
    pub bids: (usize, usize),
    pub asks: (usize, usize),
}

/// One decoded frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Msg {
    /// `spot/depth/increase100`: read the parser's `events`, `bids` and `asks`.
    Depth,
    /// A `spot/ticker` item (the last of the frame when it holds several).
    Ticker {
        instrument: InstrumentId,
        bid: Level,
        ask: Level,
        ms: u64,
    },
    /// `spot/trade`: read the parser's `trades`.
    Trades,
    /// `{"event":…}`: a subscribe (or other request) answered, `ok` unless it carries an
    /// `errorCode`.
    Event { ok: bool },
    /// The text `pong`.
    Pong,
    /// A table the feed reads nothing from (`spot/depth5`, klines).
    Other,
}

/// The last trade time seen per instrument and how many trades shared it: BitMart's trades
/// carry no id, so each gets `ms_t × 1000 + k` (k counting trades of the same millisecond),
/// which rises with time as the feed's duplicate check expects.
#[derive(Debug, Clone, Copy, Default)]
struct TradeClock {
    ms: u64,
    k: u64,
}

/// The parser: simd-json's working memory and the decoded levels and trades, all reused.
pub struct BitmartMdParser {
    insts: InstTable,
    scratch: Vec<u8>,
    buffers: simd_json::Buffers,
    tape: Tape<'static>,
    clocks: Vec<(InstrumentId, TradeClock)>,
    pub bids: Vec<Level>,
    pub asks: Vec<Level>,
    pub events: Vec<DepthEvent>,
    pub trades: Vec<TradePrint>,
}

impl BitmartMdParser {
    pub fn new(insts: InstTable, levels: usize) -> Self {
        let clocks = insts
            .iter()
            .map(|(_, id)| (id, TradeClock::default()))
            .collect();
        Self {
            insts,
            scratch: Vec::with_capacity(1 << 16),
            buffers: simd_json::Buffers::new(1 << 16),
            tape: Tape(Vec::new()),
            clocks,
            bids: Vec::with_capacity(levels),
            asks: Vec::with_capacity(levels),
            events: Vec::with_capacity(16),
            trades: Vec::with_capacity(64),
        }
    }

    pub fn insts(&self) -> &InstTable {
        &self.insts
    }

    /// Adds a symbol (replay tools; allocates).
    pub fn add(&mut self, symbol: &str, id: InstrumentId) {
        if self.insts.get(symbol).is_none() {
            self.insts.insert(symbol, id);
            self.clocks.push((id, TradeClock::default()));
        }
    }

    /// Decodes one text frame (already inflated).
    pub fn parse(&mut self, frame: &[u8]) -> Result<Msg, BitmartMdError> {
        if frame == b"pong" {
            return Ok(Msg::Pong);
        }
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
                    clocks: &mut self.clocks,
                };
                decode(tape.as_value(), &self.insts, &mut out)
            }
            Err(_) => Err(BitmartMdError::Json),
        };
        self.tape = tape.reset();
        res
    }
}

struct Out<'a> {
    bids: &'a mut Vec<Level>,
    asks: &'a mut Vec<Level>,
    events: &'a mut Vec<DepthEvent>,
    trades: &'a mut Vec<TradePrint>,
    clocks: &'a mut Vec<(InstrumentId, TradeClock)>,
}

fn field<'t, 'i>(v: Value<'t, 'i>, k: &'static str) -> Result<Value<'t, 'i>, BitmartMdError> {
    v.get(k).ok_or(BitmartMdError::Missing(k))
}

fn string<'i>(v: Value<'_, 'i>, k: &'static str) -> Result<&'i str, BitmartMdError> {
    field(v, k)?
        .into_string()
        .ok_or(BitmartMdError::WrongType(k))
}

fn number(v: Value<'_, '_>, k: &'static str) -> Result<u64, BitmartMdError> {
    field(v, k)?.as_u64().ok_or(BitmartMdError::WrongType(k))
}

fn price(s: &str, k: &'static str) -> Result<Price, BitmartMdError> {
    Price::parse(s).map_err(|err| BitmartMdError::Decimal { field: k, err })
}

fn qty(s: &str, k: &'static str) -> Result<Qty, BitmartMdError> {
    Qty::parse(s).map_err(|err| BitmartMdError::Decimal { field: k, err })
}

fn instrument(insts: &InstTable, v: Value<'_, '_>) -> Result<InstrumentId, BitmartMdError> {
    insts
        .get(string(v, "symbol")?)
        .ok_or(BitmartMdError::UnknownInstrument)
}

/// `[["price","size"], …]` onto `out`.
fn levels(
    v: Value<'_, '_>,
    k: &'static str,
    out: &mut Vec<Level>,
) -> Result<(usize, usize), BitmartMdError> {
    let start = out.len();
    let list = field(v, k)?
        .as_array()
        .ok_or(BitmartMdError::WrongType(k))?;
    for l in list.iter() {
        let pair = l.as_array().ok_or(BitmartMdError::WrongType(k))?;
        let mut it = pair.iter();
        let (Some(p), Some(q)) = (it.next(), it.next()) else {
            return Err(BitmartMdError::WrongType(k));
        };
        let p = p.into_string().ok_or(BitmartMdError::WrongType(k))?;
        let q = q.into_string().ok_or(BitmartMdError::WrongType(k))?;
        let level = Level {
            price: price(p, k)?,
            qty: qty(q, k)?,
        };
        if level.price.is_zero() {
            return Err(BitmartMdError::ZeroPrice);
        }
        out.push(level);
    }
    Ok((start, out.len()))
}

fn decode(
    root: Value<'_, '_>,
    insts: &InstTable,
    out: &mut Out<'_>,
) -> Result<Msg, BitmartMdError> {
    if root.as_object().is_none() {
        return Err(BitmartMdError::WrongType("message"));
    }
    let Some(table) = root.get("table") else {
        if root.get("event").is_some() {
            return Ok(Msg::Event {
                ok: root.get("errorCode").is_none(),
            });
        }
        return Err(BitmartMdError::Missing("table"));
    };
    let table = table
        .into_string()
        .ok_or(BitmartMdError::WrongType("table"))?;
    let data = field(root, "data")?
        .as_array()
        .ok_or(BitmartMdError::WrongType("data"))?;
    match table {
        DEPTH_CHANNEL => {
            out.bids.clear();
            out.asks.clear();
            out.events.clear();
            for d in data.iter() {
                let snapshot = match string(d, "type")? {
                    "snapshot" => true,
                    "update" => false,
                    _ => return Err(BitmartMdError::WrongType("type")),
                };
                let instrument = instrument(insts, d)?;
                let version = number(d, "version")?;
                let ms = number(d, "ms_t")?;
                let bids = levels(d, "bids", out.bids)?;
                let asks = levels(d, "asks", out.asks)?;
                out.events.push(DepthEvent {
                    instrument,
                    snapshot,
                    version,
                    ms,
                    bids,
                    asks,
                });
            }
            Ok(Msg::Depth)
        }
        "spot/ticker" => {
            let mut last = None;
            for t in data.iter() {
                let instrument = instrument(insts, t)?;
                let bid = Level {
                    price: price(string(t, "bid_px")?, "bid_px")?,
                    qty: qty(string(t, "bid_sz")?, "bid_sz")?,
                };
                let ask = Level {
                    price: price(string(t, "ask_px")?, "ask_px")?,
                    qty: qty(string(t, "ask_sz")?, "ask_sz")?,
                };
                last = Some(Msg::Ticker {
                    instrument,
                    bid,
                    ask,
                    ms: number(t, "ms_t")?,
                });
            }
            last.ok_or(BitmartMdError::Missing("data"))
        }
        "spot/trade" => {
            out.trades.clear();
            for t in data.iter() {
                let instrument = instrument(insts, t)?;
                // `side` is the taker's (exchanges.md §5.6).
                let aggressor = match string(t, "side")? {
                    "buy" => Side::Buy,
                    "sell" => Side::Sell,
                    _ => return Err(BitmartMdError::WrongType("side")),
                };
                let ms = number(t, "ms_t")?;
                let clock = out
                    .clocks
                    .iter_mut()
                    .find(|(id, _)| *id == instrument)
                    .map(|(_, c)| c)
                    .ok_or(BitmartMdError::UnknownInstrument)?;
                if ms == clock.ms {
                    clock.k += 1;
                } else {
                    *clock = TradeClock { ms, k: 0 };
                }
                let id = ms.saturating_mul(1000).saturating_add(clock.k.min(999));
                let time = UnixNanos::from_millis(ms);
                out.trades.push(TradePrint {
                    instrument,
                    trade_id: TradeId::from_u64(id),
                    price: price(string(t, "price")?, "price")?,
                    qty: qty(string(t, "size")?, "size")?,
                    aggressor,
                    trade_time: time,
                    event_time: time,
                });
            }
            Ok(Msg::Trades)
        }
        t if t.starts_with("spot/depth") || t.starts_with("spot/kline") => Ok(Msg::Other),
        _ => Err(BitmartMdError::UnknownTable),
    }
}
