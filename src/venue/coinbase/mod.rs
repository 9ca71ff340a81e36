//! Coinbase Advanced Trade (spot): codecs and signing, pure code with no I/O
//! (exchanges.md §4): CDP key JWTs, the market-data channels and the `level2` book rule
//! (`sequence_num` per connection), and `mako decode`'s normalised records; the REST order
//! codec (`rest`), the `user` channel session (`session`) and the product check (`products`).
//!
//! Where Coinbase's documentation leaves the wire form or a figure open, the code keeps one
//! reading, and every such reading is listed in [`UNCONFIRMED`] (each place in the code
//! points here). None of them has been checked against the live venue: `mode = "live"` runs
//! on them as they stand.

/// `mako decode`: Coinbase messages as normalised records.
pub mod decode;
/// Coinbase's side of the market-data seam.
pub mod handler;
/// CDP API key JWTs (ES256 and EdDSA): signing and verification.
pub mod jwt;
/// Public market-data decoding.
pub mod md;
/// Private answers decoded: orders, fills, accounts, failure reasons.
pub mod private;
/// `/products` filters and the `-USDC` market-data alias rule.
pub mod products;
/// Order entry and queries over REST, each request with its own JWT.
pub mod rest;
/// The `user` channel as the gateway's order session (orders themselves go over REST).
pub mod session;
/// The book rule: `sequence_num` per connection, `level2` snapshots and absolute updates.
pub mod sync;

pub use handler::CoinbaseMd;

/// What this venue's code assumes where Coinbase's documentation (exchanges.md §4, read
/// through the official SDK, third-party clients and a retired docs page) leaves the wire
/// form or a figure open. None of it has been checked against the live venue; the README's
/// Coinbase row lists the same. Each entry names the code that holds the reading.
pub const UNCONFIRMED: &[&str] = &[
    // REST requests (rest.rs)
    "GET /orders/historical/batch takes order_ids=<id> to fetch one order, product_ids=<id> \
     to list one product's orders, order_status=OPEN for the open ones, and limit=250 as its \
     page size (rest.rs: LIST_LIMIT, list_for, open_orders)",
    "the order list and the fills list page with has_next and cursor; the cursor of the next \
     page is sent back as cursor=<value> with the same query (rest.rs: next_page); a fills \
     answer without has_next is taken to have more when its page is full (FILL_LIMIT 100)",
    "GET /accounts takes limit=250 and one page holds every account (rest.rs: account; no \
     cursor is followed)",
    "a lookup by client id lists the product's orders newest first, every status, and the \
     order is found by its client_order_id within the pages followed (rest.rs: list_for, \
     one_order)",
    // Failure reasons (private.rs)
    "the cancel failure reasons UNKNOWN_CANCEL_ORDER, COMMANDER_REJECTED_CANCEL_ORDER and \
     DUPLICATE_CANCEL_REQUEST mean the order is gone or already final (not found); \
     UNKNOWN_CANCEL_FAILURE_REASON and UNKNOWN_FAILURE_REASON leave the outcome unknown (it is \
     queried); every other reason is a refusal (private.rs: classify)",
    "a create-order refusal names its reason in error_response.error, or in \
     new_order_failure_reason / preview_failure_reason when error is a generic UNKNOWN_* one \
     (private.rs: create_failure; field shapes from the SDK types and third-party code)",
    "a non-2xx answer other than 5xx, 429 and 404 (400, 401, 403) means nothing was done: a \
     create is rejected, a cancel refused (rest.rs: on_answer)",
    // Fees and figures (private.rs, session.rs)
    "commissions (the fills list's commission, an order's total_fees) are charged in the \
     product's quote currency, BTC-USD in USD (private.rs: quote_asset, fill_fees)",
    "an order's cumulative quote is the user channel's filled_value, else average price × \
     filled size (session.rs: on_order; private.rs: quote_from_avg)",
    "decimals finer than 8 places are cut to 8, towards zero (private.rs: qty_of)",
    // Rate limits (rest.rs)
    "30 private REST requests per second per user: the figure of a retired docs page \
     (exchanges.md §4.4), kept on the engine's side as a sliding 1 s window over every \
     private request (rest.rs: PRIVATE_REQUESTS_PER_S, windows)",
    "x-ratelimit-reset is a Unix time in seconds when it is 10^9 or more, else seconds from \
     now; without it the window is taken to be a second (rest.rs: read_rate_headers)",
    // The user channel (session.rs)
    "the user channel's sequence_num counts every message of the connection (heartbeats \
     included) from the connection's first, so any jump is a lost message (session.rs)",
    "PENDING, QUEUED and CANCEL_QUEUED are open states; FAILED never traded (private.rs: \
     state_of)",
    // Products (products.rs)
    "GET /products takes product_type=SPOT and product_ids repeated once per product, and an \
     item is tradable when status is online and trading_disabled is not true (products.rs)",
    "a -USDC product other than USDT-USDC and EURC-USDC shares its -USD product's market \
     data (products.rs: market_data_product)",
    // Market data (md.rs, sync.rs)
    "the market-data sequence_num starts again on every connection (the docs' samples all \
     show 0), and a level2 message carries one product's events (sync.rs, handler.rs)",
    "market_trades side is the maker's side: the aggressor is the other (md.rs)",
];
