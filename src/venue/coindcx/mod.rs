//! CoinDCX futures (exchanges.md §7): Socket.IO v2 / Engine.IO 3 framing, the public
//! market-data decoder (`depth-snapshot`, `new-trade`, `price-change`, `currentPrices`), the
//! snapshot-only book rule, marks, `mako decode`'s normalised records, request signing, the
//! REST order codec and the private channel's order session (with the matching of venue
//! orders to mako's client ids, which CoinDCX does not take). No I/O.
//!
//! What the reference leaves unconfirmed and this folder decides is listed once, in
//! [`UNCONFIRMED`]; the README's CoinDCX row repeats it.

/// `mako decode`: CoinDCX frames and event payloads as normalised records.
pub mod decode;
/// CoinDCX's side of the market-data seam.
pub mod handler;
/// Which venue order is which of mako's (CoinDCX futures take no client order id).
pub mod ids;
/// The margin currency (USDT or INR): what mako decides where the docs are silent.
pub mod margin;
/// Public market-data decoding (an event's argument).
pub mod md;
/// The private channel's updates (orders, positions, balances), decoded.
pub mod private;
/// Orders, cancels, queries and the wallet over signed REST.
pub mod rest;
/// The order edit as the gateway's amend, and the open-orders list read in pages.
pub mod rest_list;
/// The private channel `coindcx` as the gateway's order session.
pub mod session;
/// REST and private-channel signing.
pub mod sign;
/// Engine.IO 3 / Socket.IO v2 packets, emits and the client's heartbeat.
pub mod socketio;
/// The book rule: each snapshot replaces the book; `vs` orders them; quiet books go stale.
pub mod sync;

pub use handler::CoindcxMd;
pub use margin::{DEFAULT_MARGIN, edits_margin};

/// The config's venue kind name.
pub const KIND: &str = "coindcx-futures";

/// Facts the reference does not confirm, and what mako does about each (checked against the
/// docs as stored, never against the live venue):
///
/// 1. Socket.IO version: the docs pin `socket.io-client` 2.4.0, so the stream is taken to
///    speak Engine.IO 3 (`/socket.io/?EIO=3&transport=websocket`, the client pings every
///    `pingInterval`). General Socket.IO knowledge, not a CoinDCX statement.
/// 2. An event's argument: the samples show only the inner object; the docs' client code
///    reads `response.data`. mako takes `{"channel":…, "event":…, "data":…}` with `data` an
///    object or a string holding one, and also the bare object; the pair of an event that
///    names none (`depth-snapshot`, `price-change`) comes from `channel`, or is the
///    connection's only pair.
/// 3. `new-trade`'s `m` ("1 if maker") is read as "the buyer was the maker", so `m = 1` is a
///    sell-side taker (Binance's convention). Trades carry no id: mako's is `T × 1024` plus
///    the trade's rank among this connection's trades of the same `T`.
/// 4. `currentPrices@futures#update`'s sample carries the mark (`mp`) only: the mark update
///    sets the index to the mark and the funding rate to 0 (no funding is known from the
///    stream, so paper funding on CoinDCX pays nothing).
/// 5. The order-book push rate is not documented: a book without a snapshot for 5 s
///    ([`handler::DEFAULT_STALE_AFTER`]) is marked stale.
/// 6. The 25 s `ping` event is the docs' sample client's habit; whether the server answers it
///    is not documented (mako expects nothing back).
/// 7. Create-order has no client order id: orders are matched by venue id, or by pair, side,
///    price, quantity and a time window ([`ids`]).
/// 8. Request details the reference leaves open: the price as a string and `total_quantity`
///    as a number (the docs' sample), no `leverage` on orders (the position's applies),
///    `post_only` and `reduce_only` flags, `page`/`size` as strings, the order list's
///    answer in the create answer's item shape (newest first), `GET /wallets` with a signed
///    JSON body, its `balance` read as the total and `locked_balance` as margin held within
///    it, an order's fees as its cumulative `fee_amount`, the edit body and its answer (the
///    order item; USDT margin only) and the cancel-all body, a list page shorter than `size`
///    being the last ([`rest_list`]).
/// 9. Error statuses: 400/401/422 refuse, 404 means no such order, 429 carries no
///    `Retry-After`; no timestamp or signature code is documented.
/// 10. The private channel's join is not acknowledged: the namespace's `40` marks it
///     subscribed; a refused join is read from a `44` error packet.
/// 11. INR margin ([`margin`]): one wallet per venue block, named on create, the order list,
///     positions and the leverage update; items of the other wallet ignored; the conversion
///     price the venue's (read, never chosen); an INR order's `fee_amount` in INR; edit for
///     USDT only, INR orders re-priced by cancel + new.
pub const UNCONFIRMED: &[&str] = &[
    "Engine.IO 3 (Socket.IO v2) framing, from the docs' client version",
    "event argument envelope {channel, event, data} (data an object or a JSON string)",
    "new-trade m = 1 means the buyer was the maker (seller took); trade ids minted by mako",
    "currentPrices carries mark only: index = mark, funding rate 0",
    "book stale after 5 s without a depth-snapshot",
    "the 25 s ping event gets no documented answer",
    "no client order id: venue orders matched by id, or by terms and a time window",
    "order body details: price string, quantity number, no leverage, post_only, reduce_only",
    "order list and wallet answers in the create / balance-update item shapes",
    "wallet balance read as total, locked_balance as margin within it",
    "an order's fees from its cumulative fee_amount",
    "edit body {id, price, total_quantity}, answered by the order item; USDT margin only",
    "cancel-all body (encoded, not driven by the gateway)",
    "an order-list page shorter than size is the last (no total, no largest size documented)",
    "400/401/422 refuse, 404 no such order, 429 without Retry-After",
    "the private join is unacknowledged: 40 marks it subscribed, 44 refuses",
    "INR margin: margin_currency_short_name on create, list, positions and update_leverage",
    "INR margin: the conversion price is the venue's per order (how it is chosen: undocumented)",
    "INR margin: an INR order's fee_amount, margin and PnL are in INR",
    "INR margin: edit is USDT-only, so INR orders are re-priced by cancel + new",
];
