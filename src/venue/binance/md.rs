//! Binance Spot market-data events and `MdParser`, which turns one WebSocket frame (combined
//! `{"stream":..,"data":..}` or raw payload) or one REST depth snapshot into an event.
//!
//! Two decoders sit behind `MdParser::parse`:
//! - the fast path (`md_fast`) reads the exact shape Binance sends (keys in Binance's order,
//!   no whitespace) straight from the bytes, validating every field it reads;
//! - anything it does not recognise goes to the general decoder (`md_generic`, simd-json's
//!   tape with reused buffers), which accepts any valid JSON layout and is the authority on
//!   errors.
//!
//! Both fill the parser's reusable level buffers; events borrow from them, so parsing
//! allocates nothing once the buffers have grown to the largest frame seen.

use crate::book::Level;
use crate::types::{DecimalError, InstrumentId, Price, Qty, UnixNanos};

use super::md_fast;
use super::md_generic::Generic;
use super::symbols::SymbolTable;

/// The unit of Binance's event and trade timestamps on this connection (`timeUnit=` in the URL).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum TimeUnit {
    /// The default.
    #[default]
    Millis,
    /// With `timeUnit=MICROSECOND`.
    Micros,
}

impl TimeUnit {
    #[inline]
    pub(super) fn to_nanos(self, v: u64) -> UnixNanos {
        match self {
            TimeUnit::Millis => UnixNanos::from_millis(v),
            TimeUnit::Micros => UnixNanos::from_micros(v),
        }
    }
}

/// `<symbol>@bookTicker`: the best bid and ask after book update `update_id`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BookTicker {
    pub instrument: InstrumentId,
    /// The order book update id (`u`) this top of book reflects.
    pub update_id: u64,
    pub bid: Level,
    pub ask: Level,
}

/// `<symbol>@depth[@100ms]`: absolute quantities of the levels changed by updates
/// `first_update_id..=final_update_id` (`U`..=`u`); a zero quantity removes the level.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DepthUpdate<'a> {
    pub instrument: InstrumentId,
    pub event_time: UnixNanos,
    /// `U`; never above `final_update_id`.
    pub first_update_id: u64,
    /// `u`.
    pub final_update_id: u64,
    /// Prices are positive; quantities may be zero.
    pub bids: &'a [Level],
    pub asks: &'a [Level],
}

/// `<symbol>@trade`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Trade {
    pub instrument: InstrumentId,
    pub event_time: UnixNanos,
    pub trade_id: u64,
    pub price: Price,
    pub qty: Qty,
    pub trade_time: UnixNanos,
    /// `m`: the buyer was the maker, so the aggressor sold.
    pub buyer_is_maker: bool,
}

/// `GET /api/v3/depth`: the book as of update `last_update_id`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DepthSnapshot<'a> {
    /// The REST answer names no symbol: `None` unless the frame said which instrument it is.
    pub instrument: Option<InstrumentId>,
    pub last_update_id: u64,
    pub bids: &'a [Level],
    pub asks: &'a [Level],
}

/// One decoded frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MdEvent<'a> {
    BookTicker(BookTicker),
    Depth(DepthUpdate<'a>),
    Trade(Trade),
    Snapshot(DepthSnapshot<'a>),
    /// The server will close this connection soon: reconnect.
    ServerShutdown {
        event_time: UnixNanos,
    },
    /// The reply to a `SUBSCRIBE`-style control message (`{"result":null,"id":1}`).
    CommandReply {
        /// Numeric ids only; `None` for string or null ids.
        id: Option<u64>,
        /// `false` when the reply carries an `error`.
        ok: bool,
    },
}

/// Why a frame was refused. The caller counts these; none is fatal to the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MdError {
    #[error("invalid JSON")]
    Json,
    #[error("frame is not a JSON object")]
    NotObject,
    #[error("missing field {0:?}")]
    Missing(&'static str),
    #[error("field {0:?} has the wrong type")]
    WrongType(&'static str),
    #[error("field {field:?}: {err}")]
    Decimal {
        field: &'static str,
        err: DecimalError,
    },
    #[error("depth level is not a [price, qty] pair of strings")]
    BadLevel,
    #[error("depth level with a zero price")]
    ZeroPrice,
    #[error("first update id U is after final update id u")]
    BadUpdateRange,
    #[error("unknown or unsupported stream name")]
    UnknownStream,
    #[error("symbol is not in this connection's table")]
    UnknownSymbol,
    #[error("the payload's symbol differs from the stream name's")]
    SymbolMismatch,
    #[error("unknown event type")]
    UnknownEvent,
    #[error("event type differs from the stream name's")]
    EventMismatch,
}

impl MdError {
    /// What went wrong, without the detail (for the venue-neutral `HandleError`).
    pub fn as_str(self) -> &'static str {
        match self {
            MdError::Json => "invalid JSON",
            MdError::NotObject => "frame is not a JSON object",
            MdError::Missing(_) => "missing field",
            MdError::WrongType(_) => "field has the wrong type",
            MdError::Decimal { .. } => "malformed decimal",
            MdError::BadLevel => "depth level is not a [price, qty] pair of strings",
            MdError::ZeroPrice => "depth level with a zero price",
            MdError::BadUpdateRange => "first update id U is after final update id u",
            MdError::UnknownStream => "unknown or unsupported stream name",
            MdError::UnknownSymbol => "symbol is not in this connection's table",
            MdError::SymbolMismatch => "the payload's symbol differs from the stream name's",
            MdError::UnknownEvent => "unknown event type",
            MdError::EventMismatch => "event type differs from the stream name's",
        }
    }
}

/// What a decoder found, without the level slices (those are in the parser's buffers).
#[derive(Clone, Copy, Debug)]
pub(super) enum Head {
    BookTicker(BookTicker),
    Depth {
        instrument: InstrumentId,
        event_time: UnixNanos,
        first: u64,
        last: u64,
    },
    Trade(Trade),
    Snapshot {
        instrument: Option<InstrumentId>,
        last: u64,
    },
    ServerShutdown {
        event_time: UnixNanos,
    },
    CommandReply {
        id: Option<u64>,
        ok: bool,
    },
}

/// What both decoders need besides the bytes.
#[derive(Clone, Copy)]
pub(super) struct Ctx<'t> {
    pub symbols: &'t SymbolTable,
    pub time_unit: TimeUnit,
}

/// Reusable per-frame level storage. Invariant: after a successful decode of a depth update
/// or snapshot it holds exactly that frame's levels, in frame order.
#[derive(Debug, Default)]
pub(super) struct Levels {
    pub bids: Vec<Level>,
    pub asks: Vec<Level>,
}

impl Levels {
    #[inline]
    pub fn clear(&mut self) {
        self.bids.clear();
        self.asks.clear();
    }
}

/// Parses Binance Spot market-data frames for the symbols in its table. One per connection;
/// owns the buffers its events borrow.
pub struct MdParser {
    symbols: SymbolTable,
    time_unit: TimeUnit,
    levels: Levels,
    generic: Generic,
    /// Frames the fast path did not take (valid or not). Diagnostic only.
    fast_misses: u64,
}

impl MdParser {
    /// A parser for `symbols`, with room for `level_capacity` levels per side before its
    /// buffers grow (size it for the REST snapshot limit you request, e.g. 5000).
    pub fn new(symbols: SymbolTable, time_unit: TimeUnit, level_capacity: usize) -> Self {
        Self {
            symbols,
            time_unit,
            levels: Levels {
                bids: Vec::with_capacity(level_capacity),
                asks: Vec::with_capacity(level_capacity),
            },
            generic: Generic::new(),
            fast_misses: 0,
        }
    }

    pub fn symbols(&self) -> &SymbolTable {
        &self.symbols
    }

    /// Mutable access to add symbols (start-up and replay tools only; allocates).
    pub fn symbols_mut(&mut self) -> &mut SymbolTable {
        &mut self.symbols
    }

    /// Number of frames the fast path handed to the general decoder.
    pub fn fast_misses(&self) -> u64 {
        self.fast_misses
    }

    /// Decodes one frame: combined-stream, raw payload, or REST depth snapshot.
    #[inline]
    pub fn parse(&mut self, frame: &[u8]) -> Result<MdEvent<'_>, MdError> {
        let ctx = Ctx {
            symbols: &self.symbols,
            time_unit: self.time_unit,
        };
        let head = match md_fast::parse(frame, ctx, &mut self.levels) {
            Ok(h) => h,
            Err(md_fast::Miss) => {
                self.fast_misses += 1;
                self.generic.parse(frame, ctx, &mut self.levels)?
            }
        };
        Ok(self.event(head))
    }

    /// Decodes with the general decoder only. The reference the fast path is tested against,
    /// and the baseline it is benchmarked against.
    pub fn parse_generic(&mut self, frame: &[u8]) -> Result<MdEvent<'_>, MdError> {
        let ctx = Ctx {
            symbols: &self.symbols,
            time_unit: self.time_unit,
        };
        let head = self.generic.parse(frame, ctx, &mut self.levels)?;
        Ok(self.event(head))
    }

    /// Decodes a REST depth snapshot known to be for `instrument` (the caller asked for it).
    pub fn parse_snapshot(
        &mut self,
        body: &[u8],
        instrument: InstrumentId,
    ) -> Result<DepthSnapshot<'_>, MdError> {
        match self.parse(body)? {
            MdEvent::Snapshot(s) if s.instrument.is_none_or(|i| i == instrument) => {
                Ok(DepthSnapshot {
                    instrument: Some(instrument),
                    ..s
                })
            }
            MdEvent::Snapshot(_) => Err(MdError::SymbolMismatch),
            _ => Err(MdError::UnknownEvent),
        }
    }

    #[inline]
    fn event(&self, head: Head) -> MdEvent<'_> {
        let (bids, asks) = (&self.levels.bids[..], &self.levels.asks[..]);
        match head {
            Head::BookTicker(t) => MdEvent::BookTicker(t),
            Head::Depth {
                instrument,
                event_time,
                first,
                last,
            } => MdEvent::Depth(DepthUpdate {
                instrument,
                event_time,
                first_update_id: first,
                final_update_id: last,
                bids,
                asks,
            }),
            Head::Trade(t) => MdEvent::Trade(t),
            Head::Snapshot { instrument, last } => MdEvent::Snapshot(DepthSnapshot {
                instrument,
                last_update_id: last,
                bids,
                asks,
            }),
            Head::ServerShutdown { event_time } => MdEvent::ServerShutdown { event_time },
            Head::CommandReply { id, ok } => MdEvent::CommandReply { id, ok },
        }
    }
}

/// The symbol part of a combined frame's stream name (`btcusdt` in
/// `{"stream":"btcusdt@trade",..`), if the frame starts that way. For replay tools that build
/// their symbol table from what a recording contains.
pub fn stream_symbol(frame: &[u8]) -> Option<&str> {
    let rest = frame.strip_prefix(b"{\"stream\":\"")?;
    let end = rest.iter().position(|&b| b == b'@' || b == b'"')?;
    let sym = std::str::from_utf8(&rest[..end]).ok()?;
    (!sym.is_empty() && sym.bytes().all(|b| b.is_ascii_alphanumeric())).then_some(sym)
}

/// Checks one `[price, qty]` pair the same way in both decoders.
#[inline]
pub(super) fn level(price: &[u8], qty: &[u8]) -> Result<Level, MdError> {
    let price = Price::parse_bytes(price).map_err(|err| MdError::Decimal {
        field: "price",
        err,
    })?;
    let qty = Qty::parse_bytes(qty).map_err(|err| MdError::Decimal { field: "qty", err })?;
    if price.is_zero() {
        return Err(MdError::ZeroPrice);
    }
    Ok(Level { price, qty })
}

#[cfg(test)]
#[path = "md_tests.rs"]
mod tests;
