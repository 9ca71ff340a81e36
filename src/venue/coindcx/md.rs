//! CoinDCX futures public market data (exchanges.md §7.5): the argument of a Socket.IO event,
//! decoded through simd-json's tape into reused buffers (nothing allocated per frame once
//! warm). `depth-snapshot` (`vs`, `ts`, `asks`/`bids` as price→quantity maps), `new-trade`
//! (`T`, `p`, `q`, `m`, `s`), `price-change` (`p`, `T`) and `currentPrices@futures#update`
//! (`prices` per pair, the mark `mp`). How an event's argument wraps the sample's object is
//! not documented; see [`super::UNCONFIRMED`].

use simd_json::prelude::*;
use simd_json::tape::{Tape, Value};

use crate::book::Level;
use crate::types::{DecimalError, InstrumentId, Price, Qty, Side, TradeId, TradePrint, UnixNanos};

pub use crate::venue::md::InstTable;

/// The events this decoder reads.
pub const DEPTH_SNAPSHOT: &str = "depth-snapshot";
pub const NEW_TRADE: &str = "new-trade";
pub const PRICE_CHANGE: &str = "price-change";
pub const CURRENT_PRICES: &str = "currentPrices@futures#update";

/// Why an event's argument was refused (counted by the caller; never fatal).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CoindcxMdError {
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
    #[error("pair is not one of this connection's")]
    UnknownInstrument,
    #[error("event names no pair and this connection carries more than one")]
    Unrouted,
    #[error("event this feed does not read")]
    UnknownEvent,
}

impl CoindcxMdError {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Json => "invalid JSON",
            Self::Missing(_) => "missing field",
            Self::WrongType(_) => "field has the wrong type",
            Self::Decimal { .. } => "malformed decimal",
            Self::ZeroPrice => "book level with a zero price",
            Self::UnknownInstrument => "pair is not one of this connection's",
            Self::Unrouted => "event names no pair and the connection carries several",
            Self::UnknownEvent => "event this feed does not read",
        }
    }
}

/// One decoded event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Msg {
    /// `depth-snapshot`: the levels are the parser's `bids` and `asks`, in the message's order.
    Depth {
        instrument: InstrumentId,
        vs: u64,
        ts_ms: u64,
    },
    /// `new-trade`: the parser's `trades` holds it.
    Trade,
    /// `price-change`: the last traded price.
    LastPrice {
        instrument: InstrumentId,
        price: Price,
        ts_ms: u64,
    },
    /// `currentPrices@futures#update`: the parser's `marks` holds this connection's pairs
    /// that carried a mark (`mp`).
    Marks { ts_ms: u64 },
}

/// The parser: simd-json's working memory and the decoded levels, trades and marks, reused.
pub struct CoindcxMdParser {
    insts: InstTable,
    scratch: Vec<u8>,
    /// The inner JSON when an envelope's `data` is a string.
    inner: Vec<u8>,
    buffers: simd_json::Buffers,
    tape: Tape<'static>,
    inner_tape: Tape<'static>,
    /// Trades of the same `T` seen so far on this connection (CoinDCX trades carry no id).
    last_trade: (u64, u64),
    pub bids: Vec<Level>,
    pub asks: Vec<Level>,
    pub trades: Vec<TradePrint>,
    pub marks: Vec<(InstrumentId, Price)>,
}

impl CoindcxMdParser {
    pub fn new(insts: InstTable, levels: usize) -> Self {
        Self {
            insts,
            scratch: Vec::with_capacity(1 << 16),
            inner: Vec::with_capacity(1 << 16),
            buffers: simd_json::Buffers::new(1 << 16),
            tape: Tape(Vec::new()),
            inner_tape: Tape(Vec::new()),
            last_trade: (0, 0),
            bids: Vec::with_capacity(levels),
            asks: Vec::with_capacity(levels),
            trades: Vec::with_capacity(4),
            marks: Vec::with_capacity(8),
        }
    }

    pub fn insts(&self) -> &InstTable {
        &self.insts
    }

    /// Adds a pair (replay tools; allocates).
    pub fn add(&mut self, pair: &str, id: InstrumentId) {
        self.insts.insert(pair, id);
    }

    /// A new connection: trade ids restart.
    pub fn reset(&mut self) {
        self.last_trade = (0, 0);
    }

    /// Decodes event `name`'s argument `args` (the JSON text after the event name).
    pub fn parse(&mut self, name: &str, args: &[u8]) -> Result<Msg, CoindcxMdError> {
        let event = match name {
            DEPTH_SNAPSHOT => Event::Depth,
            NEW_TRADE => Event::Trade,
            PRICE_CHANGE => Event::Price,
            CURRENT_PRICES => Event::Marks,
            _ => return Err(CoindcxMdError::UnknownEvent),
        };
        self.scratch.clear();
        self.scratch.extend_from_slice(args);
        let mut tape = std::mem::replace(&mut self.tape, Tape(Vec::new())).reset();
        let mut inner_tape = std::mem::replace(&mut self.inner_tape, Tape(Vec::new())).reset();
        let res = match simd_json::fill_tape(&mut self.scratch, &mut self.buffers, &mut tape) {
            Err(_) => Err(CoindcxMdError::Json),
            Ok(()) => {
                let root = tape.as_value();
                let (channel, data) = envelope(root);
                let mut out = Out {
                    insts: &self.insts,
                    channel,
                    last_trade: &mut self.last_trade,
                    bids: &mut self.bids,
                    asks: &mut self.asks,
                    trades: &mut self.trades,
                    marks: &mut self.marks,
                };
                match data {
                    Data::Object(v) => decode(event, v, &mut out),
                    Data::Text(s) => {
                        self.inner.clear();
                        self.inner.extend_from_slice(s.as_bytes());
                        match simd_json::fill_tape(
                            &mut self.inner,
                            &mut self.buffers,
                            &mut inner_tape,
                        ) {
                            Ok(()) => decode(event, inner_tape.as_value(), &mut out),
                            Err(_) => Err(CoindcxMdError::Json),
                        }
                    }
                }
            }
        };
        self.inner_tape = inner_tape.reset();
        self.tape = tape.reset();
        res
    }
}

#[derive(Clone, Copy)]
enum Event {
    Depth,
    Trade,
    Price,
    Marks,
}

enum Data<'t, 'i> {
    Object(Value<'t, 'i>),
    Text(&'i str),
}

/// `{"channel":…, "event":…, "data":…}` or the payload itself: the channel (if named) and
/// the payload (an object, or a string holding one).
fn envelope<'t, 'i>(root: Value<'t, 'i>) -> (Option<&'i str>, Data<'t, 'i>) {
    let channel = root.get("channel").and_then(|c| c.into_string());
    match root.get("data") {
        Some(d) if d.as_object().is_some() => (channel, Data::Object(d)),
        Some(d) => match d.into_string() {
            Some(s) => (channel, Data::Text(s)),
            // `data` of another shape (the candlestick's list): the root is the payload.
            None => (channel, Data::Object(root)),
        },
        None => (channel, Data::Object(root)),
    }
}

struct Out<'a, 'c> {
    insts: &'a InstTable,
    channel: Option<&'c str>,
    last_trade: &'a mut (u64, u64),
    bids: &'a mut Vec<Level>,
    asks: &'a mut Vec<Level>,
    trades: &'a mut Vec<TradePrint>,
    marks: &'a mut Vec<(InstrumentId, Price)>,
}

impl Out<'_, '_> {
    /// The instrument an event without a pair field is for: the pair its channel names
    /// (`B-BTC_USDT@orderbook@20-futures`), else the connection's only instrument.
    fn route(&self) -> Result<InstrumentId, CoindcxMdError> {
        if let Some(ch) = self.channel {
            let pair = ch.split('@').next().unwrap_or(ch);
            return self
                .insts
                .get(pair)
                .ok_or(CoindcxMdError::UnknownInstrument);
        }
        let mut it = self.insts.iter();
        match (it.next(), it.next()) {
            (Some((_, id)), None) => Ok(id),
            _ => Err(CoindcxMdError::Unrouted),
        }
    }
}

fn field<'t, 'i>(v: Value<'t, 'i>, k: &'static str) -> Result<Value<'t, 'i>, CoindcxMdError> {
    v.get(k).ok_or(CoindcxMdError::Missing(k))
}

fn string<'i>(v: Value<'_, 'i>, k: &'static str) -> Result<&'i str, CoindcxMdError> {
    field(v, k)?
        .into_string()
        .ok_or(CoindcxMdError::WrongType(k))
}

/// A millisecond time or version: an integer, or a float whose integer part is taken (`RT`
/// is `1705516416271.6133` in the docs).
fn millis(v: Value<'_, '_>, k: &'static str) -> Result<u64, CoindcxMdError> {
    let x = field(v, k)?;
    if let Some(n) = x.as_u64() {
        return Ok(n);
    }
    match x.as_f64() {
        Some(f) if (0.0..1.8e19).contains(&f) => Ok(f as u64),
        _ => Err(CoindcxMdError::WrongType(k)),
    }
}

fn price(s: &str, k: &'static str) -> Result<Price, CoindcxMdError> {
    Price::parse(s).map_err(|err| CoindcxMdError::Decimal { field: k, err })
}

fn qty(s: &str, k: &'static str) -> Result<Qty, CoindcxMdError> {
    Qty::parse(s).map_err(|err| CoindcxMdError::Decimal { field: k, err })
}

/// A decimal written as a JSON string or number (`mp` is a number: `2.87559482`). simd-json
/// has made a number an f64; Rust prints an f64 in its shortest round-trip form, which is the
/// decimal the venue wrote whenever that had at most 17 significant digits. Printed into a
/// stack buffer: nothing is allocated.
fn price_any(v: Value<'_, '_>, k: &'static str) -> Result<Price, CoindcxMdError> {
    use std::io::Write;
    if let Some(s) = v.into_string() {
        return price(s, k);
    }
    let mut buf = [0u8; 64];
    let mut cur = std::io::Cursor::new(&mut buf[..]);
    let written = if let Some(n) = v.as_u64() {
        write!(cur, "{n}")
    } else {
        match v.as_f64() {
            Some(f) if f.is_finite() && f >= 0.0 => write!(cur, "{f}"),
            _ => return Err(CoindcxMdError::WrongType(k)),
        }
    };
    let n = cur.position() as usize;
    match (written, std::str::from_utf8(&buf[..n])) {
        (Ok(()), Ok(s)) => price(s, k),
        _ => Err(CoindcxMdError::WrongType(k)),
    }
}

/// `{"price":"qty", …}` onto `out` in the message's order (the maps are unordered: `"2410"`
/// comes before `"2409.77"` in the docs' sample; the book sorts on loading).
fn levels(v: Value<'_, '_>, k: &'static str, out: &mut Vec<Level>) -> Result<(), CoindcxMdError> {
    out.clear();
    let map = field(v, k)?
        .as_object()
        .ok_or(CoindcxMdError::WrongType(k))?;
    for (p, q) in map.iter() {
        let q = q.into_string().ok_or(CoindcxMdError::WrongType(k))?;
        let level = Level {
            price: price(p, k)?,
            qty: qty(q, k)?,
        };
        if level.price.is_zero() {
            return Err(CoindcxMdError::ZeroPrice);
        }
        out.push(level);
    }
    Ok(())
}

fn decode(ev: Event, v: Value<'_, '_>, out: &mut Out<'_, '_>) -> Result<Msg, CoindcxMdError> {
    if v.as_object().is_none() {
        return Err(CoindcxMdError::WrongType("data"));
    }
    match ev {
        Event::Depth => {
            let instrument = out.route()?;
            levels(v, "bids", out.bids)?;
            levels(v, "asks", out.asks)?;
            Ok(Msg::Depth {
                instrument,
                vs: millis(v, "vs")?,
                ts_ms: millis(v, "ts")?,
            })
        }
        Event::Trade => {
            let pair = string(v, "s")?;
            let instrument = out
                .insts
                .get(pair)
                .ok_or(CoindcxMdError::UnknownInstrument)?;
            let t_ms = millis(v, "T")?;
            // `m` = 1: the buyer was the maker, so the seller took (see UNCONFIRMED).
            let aggressor = match field(v, "m")?.as_u64() {
                Some(1) => Side::Sell,
                Some(0) => Side::Buy,
                _ => match field(v, "m")?.as_bool() {
                    Some(true) => Side::Sell,
                    Some(false) => Side::Buy,
                    None => return Err(CoindcxMdError::WrongType("m")),
                },
            };
            let (last_t, n) = *out.last_trade;
            let n = if last_t == t_ms { n + 1 } else { 0 };
            *out.last_trade = (t_ms, n);
            let time = UnixNanos::from_millis(t_ms);
            out.trades.clear();
            out.trades.push(TradePrint {
                instrument,
                trade_id: TradeId::from_u64(t_ms.saturating_mul(1024).saturating_add(n)),
                price: price(string(v, "p")?, "p")?,
                qty: qty(string(v, "q")?, "q")?,
                aggressor,
                trade_time: time,
                event_time: time,
            });
            Ok(Msg::Trade)
        }
        Event::Price => Ok(Msg::LastPrice {
            instrument: out.route()?,
            price: price(string(v, "p")?, "p")?,
            ts_ms: millis(v, "T")?,
        }),
        Event::Marks => {
            let prices = field(v, "prices")?
                .as_object()
                .ok_or(CoindcxMdError::WrongType("prices"))?;
            out.marks.clear();
            for (pair, p) in prices.iter() {
                let Some(id) = out.insts.get(pair) else {
                    continue;
                };
                if let Some(mp) = p.get("mp") {
                    out.marks.push((id, price_any(mp, "mp")?));
                }
            }
            Ok(Msg::Marks {
                ts_ms: millis(v, "ts")?,
            })
        }
    }
}
