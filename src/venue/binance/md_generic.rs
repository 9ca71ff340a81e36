//! The general decoder: any valid JSON layout of the Binance market-data frames (other key
//! order, whitespace, extra fields, escapes), via simd-json's tape with reused buffers. It is
//! the authority on what is an error and why.

use simd_json::prelude::*;
use simd_json::tape::{Tape, Value};

use super::md::{BookTicker, Ctx, Head, Levels, MdError, Trade, level};
use crate::book::Level;
use crate::types::{InstrumentId, Price, Qty, UnixNanos};

/// simd-json's working memory, kept between frames.
pub(super) struct Generic {
    /// A mutable copy of the frame (simd-json unescapes in place).
    scratch: Vec<u8>,
    buffers: simd_json::Buffers,
    /// Empty between calls; `'static` because it borrows nothing while empty.
    tape: Tape<'static>,
}

impl Generic {
    pub fn new() -> Self {
        Self {
            scratch: Vec::with_capacity(4096),
            buffers: simd_json::Buffers::new(4096),
            tape: Tape(Vec::new()),
        }
    }

    pub fn parse(
        &mut self,
        frame: &[u8],
        ctx: Ctx<'_>,
        levels: &mut Levels,
    ) -> Result<Head, MdError> {
        self.scratch.clear();
        self.scratch.extend_from_slice(frame);
        let mut tape = std::mem::replace(&mut self.tape, Tape(Vec::new())).reset();
        let res = match simd_json::fill_tape(&mut self.scratch, &mut self.buffers, &mut tape) {
            Ok(()) => decode(tape.as_value(), ctx, levels),
            Err(_) => Err(MdError::Json),
        };
        self.tape = tape.reset();
        if res.is_err() {
            levels.clear();
        }
        res
    }
}

/// Where a payload's instrument comes from (see `md_fast::Sym`).
#[derive(Clone, Copy)]
enum Sym {
    Known(InstrumentId),
    Lookup,
}

fn decode(root: Value<'_, '_>, ctx: Ctx<'_>, levels: &mut Levels) -> Result<Head, MdError> {
    if root.as_object().is_none() {
        return Err(MdError::NotObject);
    }
    if let Some(stream) = root.get("stream") {
        let name = stream.into_string().ok_or(MdError::WrongType("stream"))?;
        let data = root.get("data").ok_or(MdError::Missing("data"))?;
        if data.as_object().is_none() {
            return Err(MdError::WrongType("data"));
        }
        let event = match data.get("e") {
            Some(e) => Some(e.into_string().ok_or(MdError::WrongType("e"))?),
            None => None,
        };
        if event == Some("serverShutdown") {
            return shutdown(data, ctx);
        }
        let (sym, kind) = name.split_once('@').ok_or(MdError::UnknownStream)?;
        let id = ctx
            .symbols
            .by_stream(sym.as_bytes())
            .ok_or(MdError::UnknownSymbol)?;
        let sym = Sym::Known(id);
        return match (kind, event) {
            ("bookTicker", _) => book_ticker(data, ctx, sym),
            ("depth" | "depth@100ms", Some("depthUpdate")) => depth(data, ctx, sym, levels),
            ("trade", Some("trade")) => trade(data, ctx, sym),
            ("depth" | "depth@100ms" | "trade", None) => Err(MdError::Missing("e")),
            ("depth" | "depth@100ms" | "trade", Some(_)) => Err(MdError::EventMismatch),
            _ => Err(MdError::UnknownStream),
        };
    }
    if root.get("lastUpdateId").is_some() {
        let last = uint(root, "lastUpdateId")?;
        side(root, "bids", &mut levels.bids)?;
        side(root, "asks", &mut levels.asks)?;
        // Binance's answer names no symbol; a recording's snapshot line carries `"symbol"`
        // (see `feed::record`) so a multi-instrument replay can route it.
        let instrument = match root.get("symbol") {
            Some(_) => Some(
                ctx.symbols
                    .by_symbol(string(root, "symbol")?.as_bytes())
                    .ok_or(MdError::UnknownSymbol)?,
            ),
            None => None,
        };
        return Ok(Head::Snapshot { instrument, last });
    }
    if let Some(e) = root.get("e") {
        return match e.into_string().ok_or(MdError::WrongType("e"))? {
            "depthUpdate" => depth(root, ctx, Sym::Lookup, levels),
            "trade" => trade(root, ctx, Sym::Lookup),
            "serverShutdown" => shutdown(root, ctx),
            _ => Err(MdError::UnknownEvent),
        };
    }
    if root.get("u").is_some() && root.get("b").is_some() {
        return book_ticker(root, ctx, Sym::Lookup);
    }
    if root.get("result").is_some() || root.get("error").is_some() {
        let id = root.get("id").and_then(|v| v.as_u64());
        let ok = root.get("error").is_none_or(|e| e.is_null());
        return Ok(Head::CommandReply { id, ok });
    }
    Err(MdError::UnknownEvent)
}

fn field<'t, 'i>(v: Value<'t, 'i>, k: &'static str) -> Result<Value<'t, 'i>, MdError> {
    v.get(k).ok_or(MdError::Missing(k))
}

fn uint(v: Value<'_, '_>, k: &'static str) -> Result<u64, MdError> {
    field(v, k)?.as_u64().ok_or(MdError::WrongType(k))
}

fn string<'i>(v: Value<'_, 'i>, k: &'static str) -> Result<&'i str, MdError> {
    field(v, k)?.into_string().ok_or(MdError::WrongType(k))
}

fn price(v: Value<'_, '_>, k: &'static str) -> Result<Price, MdError> {
    Price::parse(string(v, k)?).map_err(|err| MdError::Decimal { field: k, err })
}

fn qty(v: Value<'_, '_>, k: &'static str) -> Result<Qty, MdError> {
    Qty::parse(string(v, k)?).map_err(|err| MdError::Decimal { field: k, err })
}

fn time(v: Value<'_, '_>, k: &'static str, ctx: Ctx<'_>) -> Result<UnixNanos, MdError> {
    Ok(ctx.time_unit.to_nanos(uint(v, k)?))
}

fn instrument(v: Value<'_, '_>, ctx: Ctx<'_>, sym: Sym) -> Result<InstrumentId, MdError> {
    let s = string(v, "s")?.as_bytes();
    match sym {
        Sym::Known(id) if ctx.symbols.is_symbol_of(id, s) => Ok(id),
        Sym::Known(_) => Err(MdError::SymbolMismatch),
        Sym::Lookup => ctx.symbols.by_symbol(s).ok_or(MdError::UnknownSymbol),
    }
}

fn side(v: Value<'_, '_>, k: &'static str, out: &mut Vec<Level>) -> Result<(), MdError> {
    out.clear();
    let arr = field(v, k)?.as_array().ok_or(MdError::WrongType(k))?;
    for pair in arr.iter() {
        let pair = pair.as_array().ok_or(MdError::BadLevel)?;
        if pair.len() != 2 {
            return Err(MdError::BadLevel);
        }
        let p = pair
            .get(0)
            .and_then(|x| x.into_string())
            .ok_or(MdError::BadLevel)?;
        let q = pair
            .get(1)
            .and_then(|x| x.into_string())
            .ok_or(MdError::BadLevel)?;
        out.push(level(p.as_bytes(), q.as_bytes())?);
    }
    Ok(())
}

fn book_ticker(v: Value<'_, '_>, ctx: Ctx<'_>, sym: Sym) -> Result<Head, MdError> {
    let update_id = uint(v, "u")?;
    let instrument = instrument(v, ctx, sym)?;
    Ok(Head::BookTicker(BookTicker {
        instrument,
        update_id,
        bid: Level {
            price: price(v, "b")?,
            qty: qty(v, "B")?,
        },
        ask: Level {
            price: price(v, "a")?,
            qty: qty(v, "A")?,
        },
    }))
}

fn depth(v: Value<'_, '_>, ctx: Ctx<'_>, sym: Sym, levels: &mut Levels) -> Result<Head, MdError> {
    let event_time = time(v, "E", ctx)?;
    let instrument = instrument(v, ctx, sym)?;
    let first = uint(v, "U")?;
    let last = uint(v, "u")?;
    if first > last {
        return Err(MdError::BadUpdateRange);
    }
    side(v, "b", &mut levels.bids)?;
    side(v, "a", &mut levels.asks)?;
    Ok(Head::Depth {
        instrument,
        event_time,
        first,
        last,
    })
}

fn trade(v: Value<'_, '_>, ctx: Ctx<'_>, sym: Sym) -> Result<Head, MdError> {
    let event_time = time(v, "E", ctx)?;
    let instrument = instrument(v, ctx, sym)?;
    let buyer_is_maker = field(v, "m")?.as_bool().ok_or(MdError::WrongType("m"))?;
    Ok(Head::Trade(Trade {
        instrument,
        event_time,
        trade_id: uint(v, "t")?,
        price: price(v, "p")?,
        qty: qty(v, "q")?,
        trade_time: time(v, "T", ctx)?,
        buyer_is_maker,
    }))
}

fn shutdown(v: Value<'_, '_>, ctx: Ctx<'_>) -> Result<Head, MdError> {
    Ok(Head::ServerShutdown {
        event_time: time(v, "E", ctx)?,
    })
}
