use super::*;
use crate::runtime::{FullPolicy, Rx, bounded};

fn q(s: &str) -> Qty {
    Qty::parse(s).unwrap()
}

fn drain(rx: &Rx<OrderIntent>) -> Vec<OrderIntent> {
    let mut v = vec![];
    rx.drain(64, |i| v.push(i));
    v
}

#[test]
fn orders_go_to_their_instruments_venue_and_open_orders_stay_true() {
    let (main_tx, main_rx) = bounded("main", 8, FullPolicy::Backpressure);
    let (second_tx, second_rx) = bounded("second", 8, FullPolicy::Backpressure);
    let (a, b, undeclared) = (InstrumentId(0), InstrumentId(3), InstrumentId(9));
    let s = StrategyId(2);
    let mut sink = IntentSink::new(main_tx, CidMinter::new(1, s), s, a).with_market(b, second_tx);
    let spec = |instrument| OrderSpec {
        reduce_only: false,
        instrument,
        side: Side::Buy,
        kind: OrderKind::Limit,
        tif: TimeInForce::Ioc,
        price: Price::parse("10").unwrap(),
        qty: q("1"),
    };
    let on_b = sink.place(spec(b), UnixNanos(5)).unwrap();
    let on_a = sink.limit(
        Side::Sell,
        Price::parse("11").unwrap(),
        q("2"),
        true,
        UnixNanos(6),
    );
    assert!(sink.place(spec(undeclared), UnixNanos(7)).is_none());
    let b_sent = drain(&second_rx);
    assert!(
        matches!(b_sent[..], [OrderIntent::New(n)] if n.cid == on_b && n.tif == TimeInForce::Ioc && n.tick_at == UnixNanos(5))
    );
    assert!(
        matches!(drain(&main_rx)[..], [OrderIntent::New(n)] if n.cid == on_a && n.kind == OrderKind::LimitMaker)
    );
    assert_eq!(sink.open_orders().len(), 2);
    // A cancel goes where the order is; cancel-all goes everywhere.
    sink.cancel(on_b);
    assert!(matches!(drain(&second_rx)[..], [OrderIntent::Cancel { cid, .. }] if cid == on_b));
    assert!(drain(&main_rx).is_empty());
    sink.cancel_all();
    assert_eq!(drain(&second_rx).len(), 1);
    assert_eq!(drain(&main_rx).len(), 1);
    // Updates keep the open orders: a partial fill, then the end.
    let mut u = OrderUpdate {
        cid: on_a,
        strategy: s,
        status: OrderStatus::PartiallyFilled,
        side: Side::Sell,
        price: Price::parse("11").unwrap(),
        qty: q("2"),
        filled_qty: q("0.5"),
        fill: None,
        refused: None,
        fee_correction: None,
        at: UnixNanos(8),
    };
    sink.observe(&u);
    let o = sink.open_orders().iter().find(|o| o.cid == on_a).unwrap();
    assert_eq!(
        (o.filled, o.status),
        (q("0.5"), OrderStatus::PartiallyFilled)
    );
    // Amend keeps instrument, side and type, under a new id, on the same venue.
    let moved = sink
        .amend(on_a, Price::parse("12").unwrap(), q("1.5"), UnixNanos(9))
        .unwrap();
    assert!(
        matches!(drain(&main_rx)[..], [OrderIntent::Replace { cid, new }] if cid == on_a && new.cid == moved && new.kind == OrderKind::LimitMaker && new.side == Side::Sell)
    );
    u.status = OrderStatus::Cancelled;
    sink.observe(&u);
    assert!(sink.open_orders().iter().all(|o| o.cid != on_a));
    assert!(
        sink.amend(on_a, Price::parse("12").unwrap(), q("1"), UnixNanos(10))
            .is_none()
    );
}

#[test]
fn a_quantity_down_only_venue_amends_a_smaller_size_in_place_and_replaces_the_rest() {
    let (tx, rx) = bounded("main", 8, FullPolicy::Backpressure);
    let s = StrategyId(0);
    let mut sink = IntentSink::new(tx, CidMinter::new(1, s), s, InstrumentId(0))
        .with_amend_limits(InstrumentId(0), AmendLimits::QuantityDownOnly);
    let px = |p: &str| Price::parse(p).unwrap();
    let bid = sink.limit(Side::Buy, px("10"), q("2"), true, UnixNanos(1));
    assert_eq!(drain(&rx).len(), 1);
    // Same price, smaller: in place, the order keeps its id.
    assert_eq!(sink.amend(bid, px("10"), q("1.5"), UnixNanos(2)), Some(bid));
    assert!(matches!(
        drain(&rx)[..],
        [OrderIntent::Amend { cid, qty, .. }] if cid == bid && qty == q("1.5")
    ));
    // A new price (or a larger size): cancel-replace under a new id.
    let moved = sink.amend(bid, px("10.1"), q("2"), UnixNanos(3)).unwrap();
    assert_ne!(moved, bid);
    assert!(matches!(
        drain(&rx)[..],
        [OrderIntent::Replace { cid, new }] if cid == bid && new.cid == moved
    ));
}

#[test]
fn gathered_intents_wait_for_the_release_and_leave_in_order() {
    let (tx, rx) = bounded("main", 8, FullPolicy::Backpressure);
    let s = StrategyId(0);
    let mut sink = IntentSink::new(tx, CidMinter::new(1, s), s, InstrumentId(0));
    let px = |p: &str| Price::parse(p).unwrap();
    let (bid, ask) = (
        sink.limit(Side::Buy, px("10"), q("1"), true, UnixNanos(1)),
        sink.limit(Side::Sell, px("11"), q("1"), true, UnixNanos(1)),
    );
    assert_eq!(drain(&rx).len(), 2, "outside a gather, intents go at once");
    sink.gather();
    let bid2 = sink.replace(bid, Side::Buy, px("10.1"), q("1"), true, UnixNanos(2));
    let ask2 = sink.replace(ask, Side::Sell, px("10.9"), q("1"), true, UnixNanos(2));
    assert!(drain(&rx).is_empty(), "held until the release");
    assert_eq!(sink.pending(), 2);
    assert_eq!(sink.release(), 2);
    assert!(matches!(
        drain(&rx)[..],
        [
            OrderIntent::Replace { cid: c1, new: n1 },
            OrderIntent::Replace { cid: c2, new: n2 },
        ] if c1 == bid && n1.cid == bid2 && c2 == ask && n2.cid == ask2
    ));
    sink.cancel(bid2);
    assert_eq!(drain(&rx).len(), 1, "released: at once again");
}

#[test]
fn several_instruments_on_one_venue_share_its_route_and_keep_their_own_positions() {
    let (tx, rx) = bounded("binance", 8, FullPolicy::Backpressure);
    let s = StrategyId(0);
    let (btc, eth) = (InstrumentId(0), InstrumentId(1));
    let mut sink = IntentSink::new(tx, CidMinter::new(1, s), s, btc).with_market_beside(eth, btc);
    let inst = |id, sym: &str, base: &str| {
        Instrument::new(
            id,
            VenueId(0),
            sym,
            base,
            "USDT",
            Price::parse("0.01").unwrap(),
            q("0.001"),
        )
        .unwrap()
    };
    let board = PositionBoard::new(1, 2, 1);
    let mut p = Position::default();
    p.apply_fill(
        Side::Buy,
        q("3"),
        Price::parse("10").unwrap().notional(q("3")),
    );
    board.set_position(s, eth, p);
    let mut env = Env::new(
        None,
        vec![inst(btc, "BTCUSDT", "BTC"), inst(eth, "ETHUSDT", "ETH")],
        Some(board),
    );
    let band = Band {
        name: "n".into(),
        max_latency_ns: None,
        min_spread_bps: 0,
        size_multiplier: 1.0,
        throttle: std::time::Duration::ZERO,
    };
    let cx = StrategyCtx {
        now: UnixNanos(1),
        book: TopOfBook::default(),
        tick_at: UnixNanos::ZERO,
        band: &band,
        halted: false,
        intents: &mut sink,
        env: &mut env,
    };
    assert_eq!(cx.position_of(eth).qty(), q("3"));
    assert_eq!(cx.position(), Position::default());
    let spec = OrderSpec {
        reduce_only: false,
        instrument: eth,
        side: Side::Sell,
        kind: OrderKind::Limit,
        tif: TimeInForce::Ioc,
        price: Price::parse("10").unwrap(),
        qty: q("1"),
    };
    assert!(cx.intents.place(spec, UnixNanos(2)).is_some());
    cx.intents.cancel_all();
    let sent = drain(&rx);
    assert!(matches!(sent[0], OrderIntent::New(n) if n.instrument == eth));
    assert_eq!(sent.len(), 2, "one cancel-all for the venue: {sent:?}");
}

#[test]
fn a_full_gateway_inbox_holds_intents_in_order() {
    let (tx, rx) = bounded("main", 1, FullPolicy::Backpressure);
    let s = StrategyId(0);
    let mut sink = IntentSink::new(tx, CidMinter::new(1, s), s, InstrumentId(0));
    let p = Price::parse("1").unwrap();
    let first = sink.limit(Side::Buy, p, q("1"), false, UnixNanos(1));
    let second = sink.limit(Side::Buy, p, q("1"), false, UnixNanos(2));
    assert_eq!(sink.pending(), 1);
    assert!(matches!(rx.try_recv(), Some(OrderIntent::New(n)) if n.cid == first));
    assert_eq!(sink.flush(), 1);
    assert!(matches!(rx.try_recv(), Some(OrderIntent::New(n)) if n.cid == second));
}

#[test]
fn a_market_order_is_an_ioc_limit_at_the_collar_on_the_tick() {
    let (tx, rx) = bounded("main", 8, FullPolicy::Backpressure);
    let s = StrategyId(0);
    let inst = Instrument::new(
        InstrumentId(0),
        VenueId(0),
        "SOLUSDT",
        "SOL",
        "USDT",
        Price::parse("0.01").unwrap(),
        q("0.001"),
    )
    .unwrap();
    let mut sink = IntentSink::new(tx, CidMinter::new(1, s), s, InstrumentId(0));
    let mut env = Env::detached(vec![inst]);
    let band = Band {
        name: "n".into(),
        max_latency_ns: None,
        min_spread_bps: 0,
        size_multiplier: 1.0,
        throttle: std::time::Duration::ZERO,
    };
    let level = |p: &str| crate::book::Level {
        price: Price::parse(p).unwrap(),
        qty: q("1"),
    };
    let mut cx = StrategyCtx {
        now: UnixNanos(1),
        book: TopOfBook {
            bid: level("149.99"),
            ask: level("150.01"),
            valid: true,
            ..TopOfBook::default()
        },
        tick_at: UnixNanos(1),
        band: &band,
        halted: false,
        intents: &mut sink,
        env: &mut env,
    };
    // 150.01 × (1 + 25 bp) = 150.385025 → down to the tick; 149.99 × (1 − 25 bp) up.
    cx.market(InstrumentId(0), Side::Buy, q("1"), 25).unwrap();
    cx.market(InstrumentId(0), Side::Sell, q("1"), 25).unwrap();
    cx.book.valid = false;
    assert!(cx.market(InstrumentId(0), Side::Sell, q("1"), 25).is_none());
    let sent: Vec<(Side, String, TimeInForce, OrderKind)> = drain(&rx)
        .into_iter()
        .map(|i| match i {
            OrderIntent::New(n) => (n.side, n.price.to_string(), n.tif, n.kind),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        sent,
        vec![
            (
                Side::Buy,
                "150.38".into(),
                TimeInForce::Ioc,
                OrderKind::Limit
            ),
            (
                Side::Sell,
                "149.62".into(),
                TimeInForce::Ioc,
                OrderKind::Limit
            ),
        ]
    );
}
