//! Coinstore spot (exchanges.md §6): signing, the public market-data codec and book rule
//! (`depth@N` limited-level snapshots, the session sequence `S`), `mako decode`'s normalised
//! records, the REST order codec (`rest`: place, cancel, cancel all, order info by client id,
//! open orders, the match list, balances) and the order session (`session`) on the 2022 docs'
//! private WebSocket (LOGIN, `!@order`, `!@account`). Only the simulator is known to speak
//! that private WebSocket: the 2024 docs no longer describe it.

/// `mako decode`: Coinstore messages as normalised records.
pub mod decode;
pub mod fills;
/// Coinstore's side of the market-data seam.
pub mod handler;
/// Public market-data decoding.
pub mod md;
/// The 2022 docs' private WebSocket: LOGIN, order and account pushes.
pub mod private;
/// Signed REST order entry and queries.
pub mod rest;
/// The order session on the private WebSocket, and the id book it shares with `rest`.
pub mod session;
/// The two-step HMAC valid inside a 30-second bucket.
pub mod sign;
/// The book rule: each depth snapshot replaces the book; a gap in `S` resyncs.
pub mod sync;

pub use handler::CoinstoreMd;

/// What this venue's code assumes where Coinstore's documentation (as of Aug 2024, read
/// through forks of the official docs; exchanges.md §6) leaves the wire form open. None of it
/// has been checked against the live venue; the README's Coinstore row lists the same.
pub const UNCONFIRMED: &[&str] = &[
    "depth pushes are whole snapshots of the top N levels (the docs' sample comments say \
     'to be updated', but no diff stream or sequence is documented): each replaces the book",
    "a push carries the envelope's S and T beside its payload fields (the wscat transcript's \
     trade), or a data list of payloads (the batched trade sample); the docs' depth, ticker \
     and kline samples show the payload alone, so a push without T is typed by its fields",
    "pushes name the symbol as REST spells it (BTCUSDT) in `symbol`; streams are subscribed \
     by the lowercase symbol (btcusdt@depth@20), not the numeric instrument id the docs also \
     mention",
    "a gap in S means any message may have been lost: every book waits for a new connection",
    "the JSON pong {\"op\":\"pong\",\"epochMillis\":…} is accepted unsolicited, and sent \
     with epochMillis 0 when the connection has been silent for 5 s",
    "takerSide BULL (in the docs' batched trade sample) is read as BUY",
    "a reply's C is 200 on success; any other code is an error reply",
    "the private LOGIN, account and order channels of the 2022 docs are still served, \
     their pushes come with T order/account, and the login needs no signature",
    "the LOGIN is answered {\"T\":\"resp\",\"C\":200,\"M\":\"login.success\"} (any resp \
     with C 200 whose M names login), and its channels (!@order, !@account) are then \
     subscribed; any other C is a refusal",
    "REST paths sit under /api on the host (rest_url = https://api.coinstore.com)",
    "an order not yet known by its ordId is cancelled with clOrdId in the cancel body (the \
     docs cancel by ordId only)",
    "the match list (GET /api/trade/match/accountMatches?symbol=&ordId=) is newest first, \
     its fee currency (feeCurrencyId) is the pair's base or quote id (as in the docs' \
     sample), and a feeCurrency name, where an answer carries one, wins",
    "without private_ws_url, fills are polled from that list's latest page (pageSize \
     default 20, not set); older trades of a burst come from the sweep and order queries",
    "a market buy is sent with ordQty (the docs ask for ordAmt, a quote amount)",
    "HTTP 429 is the only rate-limit answer; the codec counts its own requests against \
     120 per 3 s per user",
];
