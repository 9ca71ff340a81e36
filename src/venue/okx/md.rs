//! OKX v5 public market data (exchanges.md §2.3): `bbo-tbt`, `trades`, `books` (snapshot and
//! update, `seqId`/`prevSeqId`, `checksum`), `tickers`, the subscribe/error/notice events, the
//! text `pong`, and the REST book snapshot (`GET /api/v5/market/books`). Decoded through
//! simd-json's tape into reused buffers: nothing is allocated per frame once warm.

use simd_json::prelude::*;
use simd_json::tape::{Tape, Value};

use crate::book::Level;
use crate::types::{DecimalError, InstrumentId, Price, Qty, Side, TradeId, TradePrint, UnixNanos};

/// Why a frame was refused (counted by the caller; never fatal).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum OkxMdError {
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
    #[error("book level is not [price, size, \"0\", count]")]
    BadLevel,
    #[error("book level with a zero price")]
    ZeroPrice,
    #[error("instId is not one of this connection's")]
    UnknownInstrument,
    #[error("channel this feed does not read")]
    UnknownChannel,
    #[error("message this feed does not read")]
    UnknownMessage,
    #[error("the venue answered with code {0}")]
    VenueCode(i64),
}

impl OkxMdError {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Json => "invalid JSON",
            Self::Missing(_) => "missing field",
            Self::WrongType(_) => "field has the wrong type",
            Self::Decimal { .. } => "malformed decimal",
            Self::BadLevel => "book level is not [price, size, \"0\", count]",
            Self::ZeroPrice => "book level with a zero price",
            Self::UnknownInstrument => "instId is not one of this connection's",
            Self::UnknownChannel => "channel this feed does not read",
            Self::UnknownMessage => "message this feed does not read",
            Self::VenueCode(_) => "the venue answered with an error code",
        }
    }
}

/// One decoded frame; book levels are in the parser's `bids`/`asks`, trades in `trades`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Msg {
    /// A `books` push (or a REST snapshot, `snapshot: true`). `seq`/`prev` are absent in
    /// captures from before OKX added them; `checksum` is 0 when absent or deprecated.
    Book {
        instrument: InstrumentId,
        snapshot: bool,
        seq: Option<i64>,
        prev: Option<i64>,
        checksum: i32,
        ts: UnixNanos,
    },
    Bbo {
        instrument: InstrumentId,
        bid: Level,
        ask: Level,
        seq: Option<i64>,
        ts: UnixNanos,
    },
    /// `trades` pushes: read `OkxMdParser::trades`.
    Trades,
    /// A `subscribe` answer, or an `error` event (`ok: false`).
    Event {
        ok: bool,
    },
    /// A `notice` event; 64008: the connection closes soon for an upgrade.
    Notice {
        code: i64,
    },
    Pong,
    /// A channel the feed reads nothing from (`tickers`).
    Ignored,
}

pub use crate::venue::md::InstTable;

/// The parser: simd-json's working memory and the decoded levels and trades, all reused.
pub struct OkxMdParser {
    insts: InstTable,
    /// `insts` as the hand-shaped reader matches them; rebuilt before the next frame when
    /// `insts_mut` was called.
    keys: super::md_fast::Keys,
    keys_stale: bool,
    scratch: Vec<u8>,
    buffers: simd_json::Buffers,
    tape: Tape<'static>,
    pub bids: Vec<Level>,
    pub asks: Vec<Level>,
    /// Every price and size of the last book message was written in its shortest form (what
    /// the checksum is rebuilt from); false when one was not (e.g. `"0.10"`).
    pub canonical: bool,
    pub trades: Vec<TradePrint>,
    misses: u64,
}

impl OkxMdParser {
    pub fn new(insts: InstTable, levels: usize) -> Self {
        Self {
            keys: super::md_fast::Keys::new(&insts),
            keys_stale: false,
            insts,
            scratch: Vec::with_capacity(1 << 16),
            buffers: simd_json::Buffers::new(1 << 16),
            tape: Tape(Vec::new()),
            bids: Vec::with_capacity(levels),
            asks: Vec::with_capacity(levels),
            canonical: true,
            trades: Vec::with_capacity(64),
            misses: 0,
        }
    }

    pub fn insts(&self) -> &InstTable {
        &self.insts
    }

    pub fn insts_mut(&mut self) -> &mut InstTable {
        self.keys_stale = true;
        &mut self.insts
    }

    /// Decodes one WebSocket frame: `bbo-tbt`, `trades` and `books` of OKX's own shape by
    /// the hand-shaped reader, everything else (and anything it misses) by simd-json's tape.
    #[inline]
    pub fn parse(&mut self, frame: &[u8]) -> Result<Msg, OkxMdError> {
        if frame == b"pong" {
            return Ok(Msg::Pong);
        }
        if self.keys_stale {
            self.keys = super::md_fast::Keys::new(&self.insts);
            self.keys_stale = false;
        }
        let out = super::md_fast::Out {
            trades: &mut self.trades,
            bids: &mut self.bids,
            asks: &mut self.asks,
            canonical: &mut self.canonical,
        };
        if let Some(m) = super::md_fast::parse(frame, &self.keys, out) {
            return Ok(m);
        }
        self.misses += 1;
        self.with_tape(frame, None)
    }

    /// The general decoder alone (tests and benches compare it with `parse`).
    pub fn parse_generic(&mut self, frame: &[u8]) -> Result<Msg, OkxMdError> {
        if frame == b"pong" {
            return Ok(Msg::Pong);
        }
        self.with_tape(frame, None)
    }

    /// Frames the hand-shaped reader did not take (books, events, unexpected shapes).
    pub fn fast_misses(&self) -> u64 {
        self.misses
    }

    /// Decodes a REST book answer for `instrument` (`{"code":"0","data":[{asks,bids,ts,…}]}`).
    pub fn parse_rest_books(
        &mut self,
        body: &[u8],
        instrument: InstrumentId,
    ) -> Result<Msg, OkxMdError> {
        self.with_tape(body, Some(instrument))
    }

    fn with_tape(&mut self, bytes: &[u8], rest: Option<InstrumentId>) -> Result<Msg, OkxMdError> {
        self.scratch.clear();
        self.scratch.extend_from_slice(bytes);
        let mut tape = std::mem::replace(&mut self.tape, Tape(Vec::new())).reset();
        let res = match simd_json::fill_tape(&mut self.scratch, &mut self.buffers, &mut tape) {
            Ok(()) => {
                let mut out = Out {
                    bids: &mut self.bids,
                    asks: &mut self.asks,
                    canonical: &mut self.canonical,
                    trades: &mut self.trades,
                };
                match rest {
                    Some(id) => rest_books(tape.as_value(), id, &mut out),
                    None => decode(tape.as_value(), &self.insts, &mut out),
                }
            }
            Err(_) => Err(OkxMdError::Json),
        };
        self.tape = tape.reset();
        res
    }
}

struct Out<'a> {
    bids: &'a mut Vec<Level>,
    asks: &'a mut Vec<Level>,
    canonical: &'a mut bool,
    trades: &'a mut Vec<TradePrint>,
}

fn field<'t, 'i>(v: Value<'t, 'i>, k: &'static str) -> Result<Value<'t, 'i>, OkxMdError> {
    v.get(k).ok_or(OkxMdError::Missing(k))
}

fn string<'i>(v: Value<'_, 'i>, k: &'static str) -> Result<&'i str, OkxMdError> {
    field(v, k)?.into_string().ok_or(OkxMdError::WrongType(k))
}

/// OKX writes numbers as strings (`"ts":"1597026383085"`), except `seqId`, `prevSeqId` and
/// `checksum`; either form is read.
fn int(v: Value<'_, '_>, k: &'static str) -> Result<i64, OkxMdError> {
    let f = field(v, k)?;
    if let Some(n) = f.as_i64() {
        return Ok(n);
    }
    f.into_string()
        .and_then(|s| s.parse().ok())
        .ok_or(OkxMdError::WrongType(k))
}

fn opt_int(v: Value<'_, '_>, k: &'static str) -> Result<Option<i64>, OkxMdError> {
    match v.get(k) {
        None => Ok(None),
        Some(_) => int(v, k).map(Some),
    }
}

fn millis(v: Value<'_, '_>, k: &'static str) -> Result<UnixNanos, OkxMdError> {
    let ms = int(v, k)?;
    u64::try_from(ms)
        .map(UnixNanos::from_millis)
        .map_err(|_| OkxMdError::WrongType(k))
}

/// Whether a decimal string is in the shortest form the engine writes back.
#[inline]
pub(super) fn shortest(s: &[u8]) -> bool {
    let int_part = s.split(|&b| b == b'.').next().unwrap_or(s);
    let lead_zero = int_part.len() > 1 && int_part[0] == b'0';
    let frac_end_zero = s.contains(&b'.') && matches!(s.last(), Some(b'0' | b'.'));
    !lead_zero && !frac_end_zero
}

fn levels(
    v: Value<'_, '_>,
    k: &'static str,
    out: &mut Vec<Level>,
    canonical: &mut bool,
) -> Result<(), OkxMdError> {
    out.clear();
    let arr = field(v, k)?.as_array().ok_or(OkxMdError::WrongType(k))?;
    for l in arr.iter() {
        let l = l.as_array().ok_or(OkxMdError::BadLevel)?;
        let p = l
            .get(0)
            .and_then(|x| x.into_string())
            .ok_or(OkxMdError::BadLevel)?;
        let q = l
            .get(1)
            .and_then(|x| x.into_string())
            .ok_or(OkxMdError::BadLevel)?;
        *canonical &= shortest(p.as_bytes()) && shortest(q.as_bytes());
        let price = Price::parse(p).map_err(|err| OkxMdError::Decimal {
            field: "price",
            err,
        })?;
        let qty = Qty::parse(q).map_err(|err| OkxMdError::Decimal { field: "size", err })?;
        if price.is_zero() {
            return Err(OkxMdError::ZeroPrice);
        }
        out.push(Level { price, qty });
    }
    Ok(())
}

fn decode(root: Value<'_, '_>, insts: &InstTable, out: &mut Out<'_>) -> Result<Msg, OkxMdError> {
    if root.as_object().is_none() {
        return Err(OkxMdError::UnknownMessage);
    }
    if let Some(event) = root.get("event") {
        return match event.into_string().ok_or(OkxMdError::WrongType("event"))? {
            "subscribe" | "unsubscribe" => Ok(Msg::Event { ok: true }),
            "error" => Ok(Msg::Event { ok: false }),
            "notice" => Ok(Msg::Notice {
                code: int(root, "code")?,
            }),
            // channel-conn-count and the like: nothing for the feed.
            _ => Ok(Msg::Ignored),
        };
    }
    let arg = field(root, "arg")?;
    let channel = string(arg, "channel")?;
    let instrument = insts
        .get(string(arg, "instId")?)
        .ok_or(OkxMdError::UnknownInstrument)?;
    let data = field(root, "data")?
        .as_array()
        .ok_or(OkxMdError::WrongType("data"))?;
    match channel {
        "books" | "books-l2-tbt" | "books50-l2-tbt" => {
            let snapshot = match root.get("action") {
                Some(a) => a.into_string().ok_or(OkxMdError::WrongType("action"))? == "snapshot",
                None => false,
            };
            let d = data.get(0).ok_or(OkxMdError::Missing("data"))?;
            book(d, instrument, snapshot, out)
        }
        "bbo-tbt" | "books5" => {
            let d = data.get(0).ok_or(OkxMdError::Missing("data"))?;
            levels(d, "bids", out.bids, out.canonical)?;
            levels(d, "asks", out.asks, out.canonical)?;
            let (Some(&bid), Some(&ask)) = (out.bids.first(), out.asks.first()) else {
                return Err(OkxMdError::BadLevel);
            };
            Ok(Msg::Bbo {
                instrument,
                bid,
                ask,
                seq: opt_int(d, "seqId")?,
                ts: millis(d, "ts")?,
            })
        }
        "trades" | "trades-all" => {
            out.trades.clear();
            for t in data.iter() {
                let id = string(t, "tradeId")?;
                let aggressor = match string(t, "side")? {
                    "buy" => Side::Buy,
                    "sell" => Side::Sell,
                    _ => return Err(OkxMdError::WrongType("side")),
                };
                let ts = millis(t, "ts")?;
                out.trades.push(TradePrint {
                    instrument,
                    trade_id: TradeId::new(id.as_bytes())
                        .ok_or(OkxMdError::WrongType("tradeId"))?,
                    price: Price::parse(string(t, "px")?)
                        .map_err(|err| OkxMdError::Decimal { field: "px", err })?,
                    qty: Qty::parse(string(t, "sz")?)
                        .map_err(|err| OkxMdError::Decimal { field: "sz", err })?,
                    aggressor,
                    trade_time: ts,
                    event_time: ts,
                });
            }
            Ok(Msg::Trades)
        }
        "tickers" => Ok(Msg::Ignored),
        _ => Err(OkxMdError::UnknownChannel),
    }
}

fn book(
    d: Value<'_, '_>,
    instrument: InstrumentId,
    snapshot: bool,
    out: &mut Out<'_>,
) -> Result<Msg, OkxMdError> {
    *out.canonical = true;
    levels(d, "bids", out.bids, out.canonical)?;
    levels(d, "asks", out.asks, out.canonical)?;
    let checksum = opt_int(d, "checksum")?.unwrap_or(0);
    Ok(Msg::Book {
        instrument,
        snapshot,
        seq: opt_int(d, "seqId")?,
        prev: opt_int(d, "prevSeqId")?,
        checksum: i32::try_from(checksum).map_err(|_| OkxMdError::WrongType("checksum"))?,
        ts: millis(d, "ts")?,
    })
}

fn rest_books(
    root: Value<'_, '_>,
    instrument: InstrumentId,
    out: &mut Out<'_>,
) -> Result<Msg, OkxMdError> {
    let code = int(root, "code")?;
    if code != 0 {
        return Err(OkxMdError::VenueCode(code));
    }
    let data = field(root, "data")?
        .as_array()
        .ok_or(OkxMdError::WrongType("data"))?;
    let d = data.get(0).ok_or(OkxMdError::Missing("data"))?;
    let msg = book(d, instrument, true, out)?;
    // A REST snapshot has no `prevSeqId`.
    Ok(match msg {
        Msg::Book {
            seq, checksum, ts, ..
        } => Msg::Book {
            instrument,
            snapshot: true,
            seq,
            prev: None,
            checksum,
            ts,
        },
        other => other,
    })
}
