//! nautilus-okx 0.57.0 peer (feature `nautilus-okx`): NautilusTrader's OKX public
//! WebSocket path on the OKX corpora, through the crate's public API only.
//!
//! 0.57.0 is the newest release whose `rust-version` (1.95.0) this toolchain meets
//! (0.58–0.60 declare 1.96, 0.67 needs newer still). Its production path per text frame
//! (paths relative to `nautilus-okx-0.57.0/src/`):
//!
//! 1. `websocket/handler.rs:471` `parse_raw_message`: `serde_json::from_str::<OKXWsFrame>`.
//!    `OKXWsFrame`'s own `Deserialize` (`websocket/messages.rs:249`) reads the whole frame
//!    into a `serde_json::Value` first, then picks the variant: `books` pushes (they carry
//!    `action`) become `BookData { data: Vec<OKXBookMsg> }` (`from_value` of the data),
//!    other pushes `Data { arg, data: Value }`.
//! 2. `handler.rs:328` `route_data_message` (private; a match on the channel) turns `Data`
//!    into `OKXWsMessage::ChannelData { channel, inst_id, data }`.
//! 3. `data.rs:289` `handle_ws_message` (the data client, private), per message:
//!    - `BookData` → `websocket/parse.rs:432` `parse_book_msg_vec` → `Data::Deltas`
//!      (`OrderBookDeltas`, one delta per level, `Decimal::from_str` + `from_decimal_dp`).
//!    - `bbo-tbt` → `serde_json::from_value::<Vec<OKXBookMsg>>(data)`, then
//!      `common/parse.rs` `parse_price`/`parse_quantity` on the first bid and ask and
//!      `QuoteCache::process` (nautilus-common) → `QuoteTick` (`data.rs:436-473`).
//!    - `trades` → `websocket/parse.rs:1933` `parse_ws_message_data` →
//!      `parse_trade_msg_vec` (`from_value::<Vec<OKXTradeMsg>>`) → `Data::Trade`.
//!
//! Steps 2 and 3 are private; they are replayed here with the same public calls in the
//! same order. Left out, as in the harness's Binance rows: the instrument-cache lookup
//! (`instruments_by_symbol.get`), the clock read for `ts_init` (the frame's receive time is
//! used) and the channel send.

use ahash::AHashMap;
use nautilus_common::cache::quote::QuoteCache;
use nautilus_core::UnixNanos;
use nautilus_model::{
    data::{Data, QuoteTick},
    enums::{AggressorSide, OrderSide},
    identifiers::InstrumentId,
    instruments::InstrumentAny,
    types::{Price, Quantity},
};
use nautilus_okx::{
    common::parse::{parse_millisecond_timestamp, parse_price, parse_quantity},
    websocket::{
        enums::OKXWsChannel,
        messages::{NautilusWsMessage, OKXBookMsg, OKXWsFrame},
        parse::{parse_book_msg_vec, parse_ws_message_data},
    },
};
use ustr::Ustr;

/// BTC-USDT spot as OKX lists it: tick 0.1 (price precision 1), lot 0.00000001 (size 8).
pub const PRICE_PRECISION: u8 = 1;
pub const SIZE_PRECISION: u8 = 8;

/// The data client's per-connection state the replayed steps need.
pub struct Ctx {
    pub instrument_id: InstrumentId,
    pub quote_cache: QuoteCache,
    pub funding_cache: AHashMap<Ustr, (Ustr, u64)>,
    pub instruments: AHashMap<Ustr, InstrumentAny>,
}

impl Ctx {
    pub fn new() -> Self {
        Self {
            instrument_id: InstrumentId::from("BTC-USDT.OKX"),
            quote_cache: QuoteCache::new(),
            funding_cache: AHashMap::new(),
            instruments: AHashMap::new(),
        }
    }
}

/// Step 1 alone: the handler's frame decode.
#[inline]
pub fn decode(frame: &[u8]) -> Option<OKXWsFrame> {
    // the handler gets a tungstenite `Utf8Bytes` text frame: the `&str` is free here
    let text = std::str::from_utf8(frame).ok()?;
    serde_json::from_str::<OKXWsFrame>(text).ok()
}

/// `bbo-tbt` frame → `QuoteTick`s (steps 1–3).
#[inline]
pub fn bbo(ctx: &mut Ctx, frame: &[u8], ts_init: UnixNanos) -> Option<Vec<QuoteTick>> {
    let OKXWsFrame::Data { arg, data } = decode(frame)? else { return None };
    if !matches!(arg.channel, OKXWsChannel::BboTbt) {
        return None;
    }
    arg.inst_id?;
    let msgs: Vec<OKXBookMsg> = serde_json::from_value(data).ok()?;
    let mut out = Vec::with_capacity(msgs.len());
    for msg in &msgs {
        let bid = msg.bids.first();
        let ask = msg.asks.first();
        let bid_price = bid.and_then(|e| parse_price(&e.price, PRICE_PRECISION).ok());
        let bid_size = bid.and_then(|e| parse_quantity(&e.size, SIZE_PRECISION).ok());
        let ask_price = ask.and_then(|e| parse_price(&e.price, PRICE_PRECISION).ok());
        let ask_size = ask.and_then(|e| parse_quantity(&e.size, SIZE_PRECISION).ok());
        let ts_event = parse_millisecond_timestamp(msg.ts);
        if let Ok(q) =
            ctx.quote_cache.process(ctx.instrument_id, bid_price, ask_price, bid_size, ask_size, ts_event, ts_init)
        {
            out.push(q);
        }
    }
    Some(out)
}

/// `trades` frame → `Data::Trade`s (steps 1–3).
#[inline]
pub fn trades(ctx: &mut Ctx, frame: &[u8], ts_init: UnixNanos) -> Option<Vec<Data>> {
    let OKXWsFrame::Data { arg, data } = decode(frame)? else { return None };
    arg.inst_id?;
    match parse_ws_message_data(
        &arg.channel,
        data,
        &ctx.instrument_id,
        PRICE_PRECISION,
        SIZE_PRECISION,
        ts_init,
        &mut ctx.funding_cache,
        &ctx.instruments,
    ) {
        Ok(Some(NautilusWsMessage::Data(v))) => Some(v),
        _ => None,
    }
}

/// `books` frame → `Data::Deltas` (steps 1 and 3).
#[inline]
pub fn books(ctx: &Ctx, frame: &[u8], ts_init: UnixNanos) -> Option<Vec<Data>> {
    let OKXWsFrame::BookData { arg, action, data } = decode(frame)? else { return None };
    arg.inst_id?;
    parse_book_msg_vec(data, &ctx.instrument_id, PRICE_PRECISION, SIZE_PRECISION, action, ts_init).ok()
}

// ---------- checksums (validation pass only), units of 1e-8 ----------
fn u8p(p: &Price) -> i64 {
    crate::okx::dec8(p.as_decimal())
}
fn u8q(q: &Quantity) -> i64 {
    crate::okx::dec8(q.as_decimal())
}

pub fn ck_quotes(v: &[QuoteTick]) -> u64 {
    v.iter()
        .map(|q| {
            crate::okx::ck_quote(u8p(&q.bid_price), u8q(&q.bid_size), u8p(&q.ask_price), u8q(&q.ask_size), q.ts_event.as_u64())
        })
        .fold(0u64, u64::wrapping_add)
}

pub fn ck_trades(v: &[Data]) -> u64 {
    v.iter()
        .map(|d| match d {
            Data::Trade(t) => crate::okx::ck_trade(
                u8p(&t.price),
                u8q(&t.size),
                matches!(t.aggressor_side, AggressorSide::Seller),
                t.trade_id.as_str().parse().unwrap_or(u64::MAX),
                t.ts_event.as_u64(),
            ),
            _ => 0,
        })
        .fold(0u64, u64::wrapping_add)
}

pub fn ck_books(v: &[Data]) -> u64 {
    let mut s = 0u64;
    for d in v {
        if let Data::Deltas(d) = d {
            for x in &d.deltas {
                let sell = matches!(x.order.side, OrderSide::Sell);
                s = s.wrapping_add(crate::okx::ck_level(u8p(&x.order.price), u8q(&x.order.size), sell));
            }
            s = s.wrapping_add(crate::okx::ck_book_frame(d.ts_event.as_u64()));
        }
    }
    s
}
