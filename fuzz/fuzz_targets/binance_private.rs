#![no_main]
//! See `mako::fuzzing::binance_private`. Also: the Binance session's typed fast path
//! (`venue::binance::typed`) and its `serde_json::Value` path tell the same for every frame
//! (events and request weight), with a place, cancel, status, keep-priority amend and
//! cancel-replace in flight (request ids 1 to 5).
use libfuzzer_sys::fuzz_target;
use mako::config::Secret;
use mako::types::order::{OrderKind, TimeInForce};
use mako::types::{ClientOrderId, Price, Qty, Side, StrategyId, UnixNanos};
use mako::venue::binance::session::Session;
use mako::venue::order::PlaceOrder;

fn session(typed: bool) -> Session {
    let mut s = Session::new(&Secret::new("k"), &Secret::new("s"), 5_000);
    s.set_typed_decoder(typed);
    let a = ClientOrderId::mint(1, StrategyId(0), 1).unwrap();
    let b = ClientOrderId::mint(1, StrategyId(0), 2).unwrap();
    let mut buf = Vec::new();
    let (px, q) = (Price::from_int(100), Qty::from_int(1));
    s.place(
        "BTCUSDT",
        &a,
        Side::Buy,
        OrderKind::Limit,
        TimeInForce::Gtc,
        px,
        q,
        2,
        5,
        1,
        &mut buf,
    );
    s.cancel("BTCUSDT", &a, 1, &mut buf);
    s.status("BTCUSDT", &a, 1, &mut buf);
    s.amend_keep_priority("BTCUSDT", &a, q, 5, 1, &mut buf);
    let o = PlaceOrder {
        symbol: "BTCUSDT",
        cid: &b,
        side: Side::Buy,
        kind: OrderKind::Limit,
        tif: TimeInForce::Gtc,
        price: px,
        qty: q,
        price_decimals: 2,
        qty_decimals: 5,
        reduce_only: false,
    };
    s.cancel_replace(&a, &o, 1, &mut buf);
    s
}

fuzz_target!(|data: &[u8]| {
    mako::fuzzing::binance_private(data);
    let (mut fast, mut slow) = (session(true), session(false));
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for frame in data.split(|c| *c == b'\n') {
        a.clear();
        b.clear();
        fast.on_frame(frame, UnixNanos(1), &mut a);
        slow.on_frame(frame, UnixNanos(1), &mut b);
        assert_eq!(a, b, "typed and Value paths differ");
        assert_eq!(
            (fast.weight_used, fast.weight_limit),
            (slow.weight_used, slow.weight_limit)
        );
    }
});
