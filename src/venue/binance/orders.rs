//! Binance Spot order encoding: the REST query strings and WebSocket API requests for new
//! orders, cancels and queries, each signed over exactly the bytes the venue will verify.

use crate::types::{ClientOrderId, Price, Qty, Side};
use crate::types::{OrderKind, TimeInForce};

use super::sign::{HmacSigner, QueryBuilder, percent_encode_into};

/// A new order as the venue needs it. Prices and quantities are already on the grid.
#[derive(Debug, Clone, Copy)]
pub struct NewOrder<'a> {
    pub symbol: &'a str,
    pub side: Side,
    pub kind: OrderKind,
    pub tif: TimeInForce,
    pub price: Price,
    pub qty: Qty,
    pub cid: &'a ClientOrderId,
    pub price_decimals: u32,
    pub qty_decimals: u32,
}

/// How a WebSocket API request is authenticated.
#[derive(Clone, Copy)]
pub enum WsAuth<'a> {
    /// `apiKey` and a hex HMAC-SHA256 `signature` on every request.
    Hmac,
    /// `apiKey` and a base64 Ed25519 `signature` on every request (before `session.logon`
    /// has been answered).
    Ed25519(&'a ed25519_dalek::SigningKey),
    /// The connection is logged on (`session.logon`): no `apiKey`, no signature.
    Session,
}

impl std::fmt::Debug for WsAuth<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            WsAuth::Hmac => "Hmac",
            WsAuth::Ed25519(_) => "Ed25519(***)",
            WsAuth::Session => "Session",
        })
    }
}

/// What the signed parts of every request share.
#[derive(Debug, Clone, Copy)]
pub struct Auth<'a> {
    pub api_key: &'a str,
    pub signer: &'a HmacSigner,
    pub recv_window_ms: u64,
    pub timestamp_ms: u64,
    /// How WebSocket API requests carry it (REST always signs with `signer`).
    pub ws: WsAuth<'a>,
}

pub fn kind_str(k: OrderKind) -> &'static str {
    match k {
        OrderKind::Limit => "LIMIT",
        OrderKind::LimitMaker => "LIMIT_MAKER",
        OrderKind::Market => "MARKET",
    }
}

pub fn tif_str(t: TimeInForce) -> &'static str {
    match t {
        TimeInForce::Gtc => "GTC",
        TimeInForce::Ioc => "IOC",
        TimeInForce::Fok => "FOK",
    }
}

/// `POST /api/v3/order` query (signed). ACK responses: fills arrive on the user stream, where
/// they carry cumulative figures (see `gateway::order`).
pub fn rest_new_order<'b>(o: &NewOrder<'_>, auth: &Auth<'_>, buf: &'b mut Vec<u8>) -> &'b [u8] {
    let mut q = QueryBuilder::new(buf)
        .str("symbol", o.symbol)
        .str("side", o.side.as_upper())
        .str("type", kind_str(o.kind));
    if o.kind == OrderKind::Limit {
        q = q.str("timeInForce", tif_str(o.tif));
    }
    q = q.qty("quantity", o.qty, o.qty_decimals);
    if o.kind != OrderKind::Market {
        q = q.price("price", o.price, o.price_decimals);
    }
    q.str("newClientOrderId", o.cid.as_str())
        .str("newOrderRespType", "ACK")
        .u64("recvWindow", auth.recv_window_ms)
        .u64("timestamp", auth.timestamp_ms)
        .sign(auth.signer)
}

/// `DELETE /api/v3/order` (cancel by client id) or `GET /api/v3/order` (query by client id):
/// the same parameters.
pub fn rest_by_client_id<'b>(
    symbol: &str,
    cid: &ClientOrderId,
    auth: &Auth<'_>,
    buf: &'b mut Vec<u8>,
) -> &'b [u8] {
    QueryBuilder::new(buf)
        .str("symbol", symbol)
        .str("origClientOrderId", cid.as_str())
        .u64("recvWindow", auth.recv_window_ms)
        .u64("timestamp", auth.timestamp_ms)
        .sign(auth.signer)
}

/// `POST /api/v3/order/cancelReplace` query (signed): cancels `old` by client id and places
/// `o`, `STOP_ON_FAILURE`, ACK.
pub fn rest_cancel_replace<'b>(
    o: &NewOrder<'_>,
    old: &ClientOrderId,
    auth: &Auth<'_>,
    buf: &'b mut Vec<u8>,
) -> &'b [u8] {
    let mut q = QueryBuilder::new(buf)
        .str("symbol", o.symbol)
        .str("side", o.side.as_upper())
        .str("type", kind_str(o.kind))
        .str("cancelReplaceMode", CANCEL_REPLACE_MODE);
    if o.kind == OrderKind::Limit {
        q = q.str("timeInForce", tif_str(o.tif));
    }
    q = q.qty("quantity", o.qty, o.qty_decimals);
    if o.kind != OrderKind::Market {
        q = q.price("price", o.price, o.price_decimals);
    }
    q.str("cancelOrigClientOrderId", old.as_str())
        .str("newClientOrderId", o.cid.as_str())
        .str("newOrderRespType", "ACK")
        .u64("recvWindow", auth.recv_window_ms)
        .u64("timestamp", auth.timestamp_ms)
        .sign(auth.signer)
}

/// `PUT /api/v3/order/amend/keepPriority` query (signed): `cid`'s quantity down to `new_qty`,
/// the order keeping its client id.
pub fn rest_amend_keep_priority<'b>(
    symbol: &str,
    cid: &ClientOrderId,
    new_qty: Qty,
    qty_decimals: u32,
    auth: &Auth<'_>,
    buf: &'b mut Vec<u8>,
) -> &'b [u8] {
    QueryBuilder::new(buf)
        .str("symbol", symbol)
        .str("origClientOrderId", cid.as_str())
        .str("newClientOrderId", cid.as_str())
        .qty("newQty", new_qty, qty_decimals)
        .u64("recvWindow", auth.recv_window_ms)
        .u64("timestamp", auth.timestamp_ms)
        .sign(auth.signer)
}

/// Signed query with only the symbol (open orders, cancel all); `symbol = None` for account.
pub fn rest_signed_symbol<'b>(
    symbol: Option<&str>,
    auth: &Auth<'_>,
    buf: &'b mut Vec<u8>,
) -> &'b [u8] {
    let mut q = QueryBuilder::new(buf);
    if let Some(s) = symbol {
        q = q.str("symbol", s);
    }
    q.u64("recvWindow", auth.recv_window_ms)
        .u64("timestamp", auth.timestamp_ms)
        .sign(auth.signer)
}

/// Parameters of a WebSocket API request, in alphabetical order (the order they are signed
/// in), with values as written to JSON.
struct WsParams<'p> {
    /// `(name, value, quoted)`; sorted by name before use.
    items: [(&'static str, &'p [u8], bool); 16],
    len: usize,
}

impl<'p> WsParams<'p> {
    fn new() -> Self {
        Self {
            items: [("", &[], false); 16],
            len: 0,
        }
    }
    fn push(&mut self, k: &'static str, v: &'p [u8], quoted: bool) {
        debug_assert!(
            self.len < self.items.len(),
            "Invariant: at most 16 parameters"
        );
        self.items[self.len] = (k, v, quoted);
        self.len += 1;
    }
    /// Sorts, signs, and writes `{"id":..,"method":..,"params":{..,"signature":..}}`; on a
    /// logged-on session without `apiKey` and `signature`.
    fn write(
        mut self,
        id: &str,
        method: &str,
        auth: &Auth<'_>,
        payload: &mut Vec<u8>,
        out: &mut Vec<u8>,
    ) {
        if matches!(auth.ws, WsAuth::Session) {
            self.remove("apiKey");
        }
        let items = &mut self.items[..self.len];
        items.sort_unstable_by(|a, b| a.0.cmp(b.0));
        payload.clear();
        for (i, (k, v, _)) in items.iter().enumerate() {
            if i > 0 {
                payload.push(b'&');
            }
            payload.extend_from_slice(k.as_bytes());
            payload.push(b'=');
            payload.extend_from_slice(v);
        }
        out.clear();
        out.extend_from_slice(b"{\"id\":\"");
        out.extend_from_slice(id.as_bytes());
        out.extend_from_slice(b"\",\"method\":\"");
        out.extend_from_slice(method.as_bytes());
        out.extend_from_slice(b"\",\"params\":{");
        for (k, v, quoted) in items.iter() {
            out.push(b'"');
            out.extend_from_slice(k.as_bytes());
            out.extend_from_slice(b"\":");
            if *quoted {
                out.push(b'"');
                out.extend_from_slice(v);
                out.push(b'"');
            } else {
                out.extend_from_slice(v);
            }
            out.push(b',');
        }
        match auth.ws {
            WsAuth::Session => {
                out.pop(); // the last comma
                out.extend_from_slice(b"}}");
                return;
            }
            WsAuth::Hmac => {
                out.extend_from_slice(b"\"signature\":\"");
                out.extend_from_slice(&auth.signer.sign_hex(payload));
            }
            WsAuth::Ed25519(key) => {
                out.extend_from_slice(b"\"signature\":\"");
                crate::venue::ed25519::sign_base64(key, payload, out);
            }
        }
        out.extend_from_slice(b"\"}}");
    }

    /// Drops parameter `k` (the `apiKey` of a logged-on session).
    fn remove(&mut self, k: &str) {
        if let Some(i) = self.items[..self.len].iter().position(|it| it.0 == k) {
            self.items.copy_within(i + 1..self.len, i);
            self.len -= 1;
        }
    }
}

/// Scratch space for number formatting, so WS API encoding allocates nothing once warm.
#[derive(Default)]
pub struct WsScratch {
    price: [u8; 32],
    qty: [u8; 32],
    ts: Digits,
    rw: Digits,
    /// The signed payload (kept for `mako sign`-style debugging and tests).
    pub payload: Vec<u8>,
}

/// A number's decimal digits, written again only when the number changes (a request's
/// `timestamp` changes at most once a millisecond, its `recvWindow` never).
#[derive(Default)]
struct Digits {
    buf: [u8; 20],
    /// The digits are `buf[start..]`, for `value`.
    start: usize,
    value: Option<u64>,
}

impl Digits {
    #[inline]
    fn of(&mut self, v: u64) -> &[u8] {
        if self.value != Some(v) {
            self.start = write_u64(v, &mut self.buf);
            self.value = Some(v);
        }
        &self.buf[self.start..]
    }
}

/// `v`'s decimal digits, written at the end of `buf`.
pub(super) fn decimal(v: u64, buf: &mut [u8; 20]) -> &str {
    let start = write_u64(v, buf);
    // Only ASCII digits were written.
    std::str::from_utf8(&buf[start..]).unwrap_or("")
}

/// Writes `v`'s digits at the end of `out`; returns where they start.
fn write_u64(v: u64, out: &mut [u8; 20]) -> usize {
    let mut i = out.len();
    let mut v = v;
    loop {
        i -= 1;
        out[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    i
}

/// `order.place` over the WebSocket API, signed; the request id is `req_id`.
pub fn ws_new_order(
    o: &NewOrder<'_>,
    auth: &Auth<'_>,
    req_id: &str,
    scratch: &mut WsScratch,
    out: &mut Vec<u8>,
) {
    if matches!(auth.ws, WsAuth::Session) {
        logged_on::head(
            req_id,
            b"order.place\",\"params\":{\"newClientOrderId\":\"",
            out,
        );
        out.extend_from_slice(o.cid.as_bytes());
        logged_on::order_terms(o, auth, scratch, out);
        return;
    }
    ws_new_order_params(o, auth, req_id, scratch, out);
}

/// `ws_new_order` through `WsParams` (any authentication).
fn ws_new_order_params(
    o: &NewOrder<'_>,
    auth: &Auth<'_>,
    req_id: &str,
    scratch: &mut WsScratch,
    out: &mut Vec<u8>,
) {
    let pn = o.price.write_fixed(o.price_decimals, &mut scratch.price);
    let qn = o.qty.write_fixed(o.qty_decimals, &mut scratch.qty);
    let WsScratch {
        price,
        qty,
        ts,
        rw,
        payload,
    } = scratch;
    let mut p = WsParams::new();
    p.push("apiKey", auth.api_key.as_bytes(), true);
    p.push("newClientOrderId", o.cid.as_bytes(), true);
    p.push("newOrderRespType", b"ACK", true);
    if o.kind != OrderKind::Market {
        p.push("price", &price[..pn], true);
    }
    p.push("quantity", &qty[..qn], true);
    p.push("recvWindow", rw.of(auth.recv_window_ms), false);
    p.push("side", o.side.as_upper().as_bytes(), true);
    p.push("symbol", o.symbol.as_bytes(), true);
    if o.kind == OrderKind::Limit {
        p.push("timeInForce", tif_str(o.tif).as_bytes(), true);
    }
    p.push("timestamp", ts.of(auth.timestamp_ms), false);
    p.push("type", kind_str(o.kind).as_bytes(), true);
    p.write(req_id, "order.place", auth, payload, out);
}

/// How a cancel-replace treats a failed cancel: mako always sends `STOP_ON_FAILURE` (a new
/// order is placed only once the old one is cancelled, so the two never rest together).
pub const CANCEL_REPLACE_MODE: &str = "STOP_ON_FAILURE";

/// `order.cancelReplace` over the WebSocket API: cancels `old` (by client id) and places `o`
/// (its `newClientOrderId` the new order's id) in one request, `STOP_ON_FAILURE`, ACK.
pub fn ws_cancel_replace(
    o: &NewOrder<'_>,
    old: &ClientOrderId,
    auth: &Auth<'_>,
    req_id: &str,
    scratch: &mut WsScratch,
    out: &mut Vec<u8>,
) {
    if matches!(auth.ws, WsAuth::Session) {
        logged_on::head(
            req_id,
            b"order.cancelReplace\",\"params\":{\"cancelOrigClientOrderId\":\"",
            out,
        );
        out.extend_from_slice(old.as_bytes());
        out.extend_from_slice(
            b"\",\"cancelReplaceMode\":\"STOP_ON_FAILURE\",\"newClientOrderId\":\"",
        );
        out.extend_from_slice(o.cid.as_bytes());
        logged_on::order_terms(o, auth, scratch, out);
        return;
    }
    ws_cancel_replace_params(o, old, auth, req_id, scratch, out);
}

/// `ws_cancel_replace` through `WsParams` (any authentication).
fn ws_cancel_replace_params(
    o: &NewOrder<'_>,
    old: &ClientOrderId,
    auth: &Auth<'_>,
    req_id: &str,
    scratch: &mut WsScratch,
    out: &mut Vec<u8>,
) {
    let pn = o.price.write_fixed(o.price_decimals, &mut scratch.price);
    let qn = o.qty.write_fixed(o.qty_decimals, &mut scratch.qty);
    let WsScratch {
        price,
        qty,
        ts,
        rw,
        payload,
    } = scratch;
    let mut p = WsParams::new();
    p.push("apiKey", auth.api_key.as_bytes(), true);
    p.push("cancelOrigClientOrderId", old.as_bytes(), true);
    p.push("cancelReplaceMode", CANCEL_REPLACE_MODE.as_bytes(), true);
    p.push("newClientOrderId", o.cid.as_bytes(), true);
    p.push("newOrderRespType", b"ACK", true);
    if o.kind != OrderKind::Market {
        p.push("price", &price[..pn], true);
    }
    p.push("quantity", &qty[..qn], true);
    p.push("recvWindow", rw.of(auth.recv_window_ms), false);
    p.push("side", o.side.as_upper().as_bytes(), true);
    p.push("symbol", o.symbol.as_bytes(), true);
    if o.kind == OrderKind::Limit {
        p.push("timeInForce", tif_str(o.tif).as_bytes(), true);
    }
    p.push("timestamp", ts.of(auth.timestamp_ms), false);
    p.push("type", kind_str(o.kind).as_bytes(), true);
    p.write(req_id, "order.cancelReplace", auth, payload, out);
}

/// `order.amend.keepPriority`: reduces open order `cid`'s quantity to `new_qty` in place (it
/// keeps its place in the queue). `newClientOrderId` is the order's own id, so the order keeps
/// it (Binance would otherwise give it a random one).
#[allow(clippy::too_many_arguments)]
pub fn ws_amend_keep_priority(
    symbol: &str,
    cid: &ClientOrderId,
    new_qty: Qty,
    qty_decimals: u32,
    auth: &Auth<'_>,
    req_id: &str,
    scratch: &mut WsScratch,
    out: &mut Vec<u8>,
) {
    let qn = new_qty.write_fixed(qty_decimals, &mut scratch.qty);
    let WsScratch {
        qty,
        ts,
        rw,
        payload,
        ..
    } = scratch;
    let mut p = WsParams::new();
    p.push("apiKey", auth.api_key.as_bytes(), true);
    p.push("newClientOrderId", cid.as_bytes(), true);
    p.push("newQty", &qty[..qn], true);
    p.push("origClientOrderId", cid.as_bytes(), true);
    p.push("recvWindow", rw.of(auth.recv_window_ms), false);
    p.push("symbol", symbol.as_bytes(), true);
    p.push("timestamp", ts.of(auth.timestamp_ms), false);
    p.write(req_id, "order.amend.keepPriority", auth, payload, out);
}

/// A signed WebSocket API request whose parameters are the symbol and the original client
/// order id: `order.cancel` and `order.status`.
pub fn ws_by_client_id(
    method: &str,
    symbol: &str,
    cid: &ClientOrderId,
    auth: &Auth<'_>,
    req_id: &str,
    scratch: &mut WsScratch,
    out: &mut Vec<u8>,
) {
    if matches!(auth.ws, WsAuth::Session) {
        logged_on::by_client_id(method, symbol, cid, auth, req_id, scratch, out);
        return;
    }
    ws_by_client_id_params(method, symbol, cid, auth, req_id, scratch, out);
}

/// `ws_by_client_id` through `WsParams` (any authentication).
fn ws_by_client_id_params(
    method: &str,
    symbol: &str,
    cid: &ClientOrderId,
    auth: &Auth<'_>,
    req_id: &str,
    scratch: &mut WsScratch,
    out: &mut Vec<u8>,
) {
    let WsScratch {
        ts, rw, payload, ..
    } = scratch;
    let mut p = WsParams::new();
    p.push("apiKey", auth.api_key.as_bytes(), true);
    p.push("origClientOrderId", cid.as_bytes(), true);
    p.push("recvWindow", rw.of(auth.recv_window_ms), false);
    p.push("symbol", symbol.as_bytes(), true);
    p.push("timestamp", ts.of(auth.timestamp_ms), false);
    p.write(req_id, method, auth, payload, out);
}

/// `myTrades` for one order (weight 5): the venue's list of the order's trades and fees.
pub fn ws_my_trades(
    symbol: &str,
    venue_order_id: crate::types::VenueOrderId,
    auth: &Auth<'_>,
    req_id: &str,
    scratch: &mut WsScratch,
    out: &mut Vec<u8>,
) {
    let WsScratch {
        ts, rw, payload, ..
    } = scratch;
    let mut p = WsParams::new();
    p.push("apiKey", auth.api_key.as_bytes(), true);
    p.push("orderId", venue_order_id.as_str().as_bytes(), false);
    p.push("recvWindow", rw.of(auth.recv_window_ms), false);
    p.push("symbol", symbol.as_bytes(), true);
    p.push("timestamp", ts.of(auth.timestamp_ms), false);
    p.write(req_id, "myTrades", auth, payload, out);
}

/// A signed WebSocket API request with only the key and timestamp (and an optional symbol):
/// `userDataStream.subscribe.signature`, `openOrders.status`, `account.status`.
pub fn ws_signed_simple(
    method: &str,
    symbol: Option<&str>,
    auth: &Auth<'_>,
    req_id: &str,
    scratch: &mut WsScratch,
    out: &mut Vec<u8>,
) {
    let WsScratch {
        ts, rw, payload, ..
    } = scratch;
    let mut p = WsParams::new();
    p.push("apiKey", auth.api_key.as_bytes(), true);
    p.push("recvWindow", rw.of(auth.recv_window_ms), false);
    if let Some(s) = symbol {
        p.push("symbol", s.as_bytes(), true);
    }
    p.push("timestamp", ts.of(auth.timestamp_ms), false);
    p.write(req_id, method, auth, payload, out);
}

/// `session.logon`: `apiKey` and `timestamp`, signed with the session's key (Ed25519, base64).
pub fn ws_logon(auth: &Auth<'_>, req_id: &str, scratch: &mut WsScratch, out: &mut Vec<u8>) {
    let WsScratch { ts, payload, .. } = scratch;
    let mut p = WsParams::new();
    p.push("apiKey", auth.api_key.as_bytes(), true);
    p.push("timestamp", ts.of(auth.timestamp_ms), false);
    p.write(req_id, "session.logon", auth, payload, out);
}

/// A request without parameters on a logged-on session (`userDataStream.subscribe`).
pub fn ws_unsigned(method: &str, req_id: &str, out: &mut Vec<u8>) {
    out.clear();
    out.extend_from_slice(b"{\"id\":\"");
    out.extend_from_slice(req_id.as_bytes());
    out.extend_from_slice(b"\",\"method\":\"");
    out.extend_from_slice(method.as_bytes());
    out.extend_from_slice(b"\"}");
}

/// The order path's requests on a session logged on with `session.logon`: no `apiKey` and
/// no signature, so nothing to sort or sign. Written in one pass, the constant parts as
/// literals (`WsParams::write` copies each name, quote and comma on its own: ~47 copies a
/// request), giving the same bytes as `WsParams` with `WsAuth::Session` (tested).
mod logged_on {
    use super::{Auth, NewOrder, OrderKind, WsScratch, kind_str, tif_str};
    use crate::types::ClientOrderId;

    /// `{"id":"<req_id>","method":"` then `method_params`: the method, `","params":{"` and
    /// the first parameter's name with its opening quote.
    #[inline]
    pub(super) fn head(req_id: &str, method_params: &[u8], out: &mut Vec<u8>) {
        out.clear();
        out.extend_from_slice(b"{\"id\":\"");
        out.extend_from_slice(req_id.as_bytes());
        out.extend_from_slice(b"\",\"method\":\"");
        out.extend_from_slice(method_params);
    }

    /// After the new order's client id: `newOrderRespType` to `type`, and the closing braces.
    #[inline]
    pub(super) fn order_terms(
        o: &NewOrder<'_>,
        auth: &Auth<'_>,
        scratch: &mut WsScratch,
        out: &mut Vec<u8>,
    ) {
        out.extend_from_slice(b"\",\"newOrderRespType\":\"ACK");
        if o.kind != OrderKind::Market {
            let n = o.price.write_fixed(o.price_decimals, &mut scratch.price);
            out.extend_from_slice(b"\",\"price\":\"");
            out.extend_from_slice(&scratch.price[..n]);
        }
        let n = o.qty.write_fixed(o.qty_decimals, &mut scratch.qty);
        out.extend_from_slice(b"\",\"quantity\":\"");
        out.extend_from_slice(&scratch.qty[..n]);
        out.extend_from_slice(b"\",\"recvWindow\":");
        out.extend_from_slice(scratch.rw.of(auth.recv_window_ms));
        out.extend_from_slice(b",\"side\":\"");
        out.extend_from_slice(o.side.as_upper().as_bytes());
        out.extend_from_slice(b"\",\"symbol\":\"");
        out.extend_from_slice(o.symbol.as_bytes());
        if o.kind == OrderKind::Limit {
            out.extend_from_slice(b"\",\"timeInForce\":\"");
            out.extend_from_slice(tif_str(o.tif).as_bytes());
        }
        out.extend_from_slice(b"\",\"timestamp\":");
        out.extend_from_slice(scratch.ts.of(auth.timestamp_ms));
        out.extend_from_slice(b",\"type\":\"");
        out.extend_from_slice(kind_str(o.kind).as_bytes());
        out.extend_from_slice(b"\"}}");
    }

    /// `order.cancel` / `order.status` by client id.
    pub(super) fn by_client_id(
        method: &str,
        symbol: &str,
        cid: &ClientOrderId,
        auth: &Auth<'_>,
        req_id: &str,
        scratch: &mut WsScratch,
        out: &mut Vec<u8>,
    ) {
        head(req_id, method.as_bytes(), out);
        out.extend_from_slice(b"\",\"params\":{\"origClientOrderId\":\"");
        out.extend_from_slice(cid.as_bytes());
        out.extend_from_slice(b"\",\"recvWindow\":");
        out.extend_from_slice(scratch.rw.of(auth.recv_window_ms));
        out.extend_from_slice(b",\"symbol\":\"");
        out.extend_from_slice(symbol.as_bytes());
        out.extend_from_slice(b"\",\"timestamp\":");
        out.extend_from_slice(scratch.ts.of(auth.timestamp_ms));
        out.extend_from_slice(b"}}");
    }
}

/// Percent-encodes a symbol for a REST path (non-ASCII symbols exist on Binance).
pub fn encode_symbol(symbol: &str, out: &mut Vec<u8>) {
    percent_encode_into(symbol.as_bytes(), out);
}

#[cfg(test)]
#[path = "orders_tests.rs"]
mod tests;
