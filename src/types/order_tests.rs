use super::*;
use proptest::prelude::*;

const T: UnixNanos = UnixNanos(1);

fn q(units: i64) -> Qty {
    Qty::from_int(units)
}
fn usdt() -> AssetCode {
    AssetCode::new(b"USDT").unwrap()
}
/// 10 units at 100 quote each.
fn order() -> Order {
    let cid = ClientOrderId::mint(1, StrategyId(0), 1).unwrap();
    Order::new(
        cid,
        StrategyId(0),
        InstrumentId(0),
        Side::Buy,
        OrderKind::Limit,
        TimeInForce::Gtc,
        Price::from_int(100),
        q(10),
        T,
    )
}
fn trade(id: u64, cum: i64) -> OrderEvent {
    OrderEvent::Trade {
        venue_order_id: 7.into(),
        trade_id: id.into(),
        last_qty: q(1),
        last_price: Price::from_int(100),
        cum_qty: q(cum),
        cum_quote: Notional::of(Price::from_int(100), q(cum)),
        fee: Qty::from_units(1000),
        fee_asset: usdt(),
        is_maker: true,
        at: T,
    }
}
fn ended(kind: VenueFinal, cum: i64) -> OrderEvent {
    OrderEvent::Ended {
        kind,
        venue_order_id: Some(7.into()),
        cum_qty: q(cum),
        cum_quote: Notional::of(Price::from_int(100), q(cum)),
        at: T,
    }
}
fn accepted() -> OrderEvent {
    OrderEvent::Accepted {
        venue_order_id: 7.into(),
        at: T,
    }
}
fn snapshot(status: SnapshotStatus, cum: i64) -> OrderEvent {
    OrderEvent::Snapshot {
        venue_order_id: 7.into(),
        status,
        cum_qty: q(cum),
        cum_quote: Notional::of(Price::from_int(100), q(cum)),
        terms: None,
        at: T,
    }
}

/// Applies events, returning the order and the sum of fill quantities it reported.
fn run(events: &[OrderEvent]) -> (Order, Qty, usize) {
    let mut o = order();
    let mut filled = Qty::ZERO;
    let mut anomalies = 0;
    for e in events {
        let r = o.apply(e);
        if let Some(f) = r.fill {
            filled = filled.checked_add(f.qty).unwrap();
        }
        anomalies += usize::from(r.anomaly.is_some());
    }
    (o, filled, anomalies)
}

#[test]
fn fees_count_in_the_quote_when_paid_in_it_or_rated_by_the_venue() {
    let inr = AssetCode::new(b"INR").unwrap();
    let bnb = AssetCode::new(b"BNB").unwrap();
    let mut o = order();
    let fee = |s: &str| Qty::parse(s).unwrap();
    // Without a rate only quote-asset fees count.
    assert_eq!(o.fee_in_quote(usdt(), fee("0.5"), "USDT"), Some(fee("0.5")));
    assert_eq!(o.fee_in_quote(inr, fee("40.05"), "USDT"), None);
    o.fee_rate = Some((inr, Price::parse("89").unwrap()));
    // 40.05 INR at 89 INR per USDT is 0.45 USDT exactly; 1 INR is 0.011235955…,
    // 0.01123596 at 10^-8 (nearest); a negative correction rounds the same way.
    assert_eq!(o.fee_in_quote(inr, fee("40.05"), "USDT"), Some(fee("0.45")));
    assert_eq!(
        o.fee_in_quote(inr, fee("1"), "USDT"),
        Some(fee("0.01123596"))
    );
    assert_eq!(
        o.fee_in_quote(inr, Qty::from_units(-100_000_000), "USDT"),
        Some(Qty::from_units(-1_123_596))
    );
    // Another asset than the rated one is not converted.
    assert_eq!(o.fee_in_quote(bnb, fee("1"), "USDT"), None);
    let trades = [
        (TradeId::from(1u64), fee("40.05"), inr),
        (TradeId::from(2u64), fee("0.001"), bnb),
    ];
    let _ = o.set_fees(&trades);
    assert_eq!(o.quote_fees("USDT"), fee("0.45"));
    // A rate that is not positive converts nothing.
    o.fee_rate = Some((inr, Price::ZERO));
    assert_eq!(o.quote_fees("USDT"), Qty::ZERO);
}

#[test]
fn scripted_sequences() {
    use OrderStatus::*;
    let sent = OrderEvent::Sent { at: T };
    let table: Vec<(&str, Vec<OrderEvent>, OrderStatus, i64, usize)> = vec![
        (
            "normal life",
            vec![sent, accepted(), trade(1, 4), trade(2, 10)],
            Filled,
            10,
            0,
        ),
        (
            "fill before ack",
            vec![sent, trade(1, 4), accepted()],
            PartiallyFilled,
            4,
            0,
        ),
        (
            "duplicate trades",
            vec![sent, accepted(), trade(1, 4), trade(1, 4), trade(1, 4)],
            PartiallyFilled,
            4,
            0,
        ),
        (
            "cancel answer before the fill it includes",
            vec![
                sent,
                accepted(),
                ended(VenueFinal::Cancelled, 3),
                trade(1, 3),
            ],
            Cancelled,
            3,
            0,
        ),
        (
            "missed trade recovered by a later one",
            vec![sent, accepted(), trade(2, 6)],
            PartiallyFilled,
            6,
            0,
        ),
        (
            "fill arriving after cancel",
            vec![
                sent,
                accepted(),
                ended(VenueFinal::Cancelled, 0),
                trade(1, 2),
            ],
            Cancelled,
            2,
            0,
        ),
        (
            "cancel racing the final fill",
            vec![
                sent,
                accepted(),
                trade(1, 10),
                ended(VenueFinal::Cancelled, 10),
            ],
            Filled,
            10,
            0,
        ),
        (
            "rejected by venue",
            vec![sent, OrderEvent::RejectedByVenue { code: -2010, at: T }],
            Rejected,
            0,
            0,
        ),
        (
            "rejection after acceptance is ignored",
            vec![
                sent,
                accepted(),
                OrderEvent::RejectedByVenue { code: -1, at: T },
            ],
            Acked,
            0,
            1,
        ),
        (
            "query finds it filled",
            vec![sent, snapshot(SnapshotStatus::Filled, 10)],
            Filled,
            10,
            0,
        ),
        (
            "query finds it open with fills",
            vec![sent, snapshot(SnapshotStatus::Open, 5)],
            PartiallyFilled,
            5,
            0,
        ),
        (
            "query finds it cancelled",
            vec![sent, accepted(), snapshot(SnapshotStatus::Cancelled, 2)],
            Cancelled,
            2,
            0,
        ),
        (
            "unknown to the venue after sending",
            vec![sent, OrderEvent::Unknown { at: T }],
            Rejected,
            0,
            0,
        ),
        (
            "unknown after acceptance is an anomaly",
            vec![sent, accepted(), OrderEvent::Unknown { at: T }],
            Acked,
            0,
            1,
        ),
        (
            "expired IOC with partial fill",
            vec![sent, trade(1, 3), ended(VenueFinal::Expired, 3)],
            Expired,
            3,
            0,
        ),
        (
            "overfill is clamped",
            vec![sent, trade(1, 12)],
            Filled,
            10,
            1,
        ),
    ];
    for (name, events, status, filled, anomalies) in table {
        let (o, sum, n_anom) = run(&events);
        assert_eq!(o.status, status, "{name}");
        assert_eq!(o.filled_qty, q(filled), "{name}");
        assert_eq!(
            sum,
            q(filled),
            "{name}: fills reported add up to the cumulative"
        );
        assert_eq!(n_anom, anomalies, "{name}");
    }
}

#[test]
fn reconciled_fills_have_no_trade_id_and_fees_count_once() {
    let mut o = order();
    let r = o.apply(&snapshot(SnapshotStatus::Open, 2));
    assert_eq!(r.fill.map(|f| (f.qty, f.trade_id)), Some((q(2), None)));
    o.apply(&trade(5, 2));
    o.apply(&trade(6, 3));
    o.apply(&trade(6, 3));
    assert_eq!(
        o.fee_in(usdt()),
        Qty::from_units(1000),
        "only trade 6 was new"
    );
    assert_eq!(o.last_trade_id, Some(6.into()));
}

#[test]
fn cancel_request_is_idempotent() {
    let mut o = order();
    assert!(o.request_cancel());
    assert!(!o.request_cancel());
    o.apply(&ended(VenueFinal::Cancelled, 0));
    assert!(!o.cancel_pending);
    assert!(!o.request_cancel(), "final orders cannot be cancelled");
    assert_eq!(o.leaves_qty(), Qty::ZERO);
}

proptest! {
    // Any arrival order, with any duplication, of the events of one order's life ends in
    // the same state, and the fills reported add up to exactly the venue's cumulative.
    #[test]
    fn arrival_order_and_duplicates_do_not_matter(
        cuts in proptest::collection::btree_set(1i64..10, 0..5),
        cancel in any::<bool>(),
        perm in proptest::collection::vec(any::<u16>(), 1..24),
    ) {
        let mut cums: Vec<i64> = cuts.into_iter().collect();
        let last = if cancel { *cums.last().unwrap_or(&0) } else { cums.push(10); 10 };
        let mut events = vec![OrderEvent::Sent { at: T }, accepted()];
        for (i, c) in cums.iter().enumerate() {
            events.push(trade(i as u64 + 1, *c));
        }
        if cancel {
            events.push(ended(VenueFinal::Cancelled, last));
        }
        // Shuffle with duplicates: each draw picks an event (all are included at least once).
        let mut shuffled = events.clone();
        for p in &perm {
            shuffled.push(events[usize::from(*p) % events.len()]);
        }
        let n = shuffled.len();
        for (i, p) in perm.iter().enumerate() {
            shuffled.swap(i % n, usize::from(*p) % n);
        }
        let (o, sum, _) = run(&shuffled);
        prop_assert_eq!(o.filled_qty, q(last));
        prop_assert_eq!(sum, q(last));
        prop_assert_eq!(o.filled_quote, Notional::of(Price::from_int(100), q(last)));
        let want = if last == 10 { OrderStatus::Filled } else if cancel { OrderStatus::Cancelled } else { OrderStatus::PartiallyFilled };
        prop_assert_eq!(o.status, want);
    }
}

#[test]
fn a_query_answer_settles_an_amend_whose_outcome_was_lost() {
    let p = |x: &str| Price::parse(x).unwrap();
    let qty = |x: &str| Qty::parse(x).unwrap();
    let mut o = order();
    o.apply(&OrderEvent::Sent { at: T });
    o.apply(&OrderEvent::Accepted {
        venue_order_id: 7.into(),
        at: T,
    });
    let query = |price: &str, size: &str, cum: &str| OrderEvent::Snapshot {
        venue_order_id: 7.into(),
        status: SnapshotStatus::Open,
        cum_qty: qty(cum),
        cum_quote: Notional::of(p("100"), qty(cum)),
        terms: Some((p(price), qty(size))),
        at: T,
    };
    // No amend pending: our terms are the venue's last confirmed ones; a query's differ
    // only if it is older, and changes nothing.
    let (p0, q0) = (o.price, o.qty);
    let r = o.apply(&query("99", "2", "0"));
    assert!(!r.changed && (o.price, o.qty) == (p0, q0));
    // An amend was sent and neither its answer nor its push came: the venue's terms win
    // and the amend is settled, with the fill the query reports.
    o.amend_pending = true;
    let r = o.apply(&query("101", "3", "1"));
    assert!(r.changed && !o.amend_pending, "{r:?}");
    assert_eq!((o.price, o.qty), (p("101"), qty("3")));
    assert_eq!(r.fill.map(|f| f.qty), Some(qty("1")));
    assert_eq!(o.status, OrderStatus::PartiallyFilled);
    // The amend never took effect: the same terms, and it is no longer pending.
    o.amend_pending = true;
    let r = o.apply(&query("101", "3", "1"));
    assert!(r.changed && !o.amend_pending && (o.price, o.qty) == (p("101"), qty("3")));
    // A quantity below what filled is impossible: ignored, counted.
    o.amend_pending = true;
    let r = o.apply(&query("101", "0.5", "1"));
    assert!(r.anomaly.is_some() && o.amend_pending && o.qty == qty("3"));
}

#[test]
fn an_amend_in_place_changes_price_and_quantity_and_a_refusal_changes_nothing() {
    let mut o = Order::new(
        ClientOrderId::mint(1_700_000_000_000, StrategyId(0), 1).unwrap(),
        StrategyId(0),
        InstrumentId(0),
        Side::Buy,
        OrderKind::LimitMaker,
        TimeInForce::Gtc,
        Price::parse("100").unwrap(),
        Qty::parse("2").unwrap(),
        T,
    );
    o.apply(&OrderEvent::Accepted {
        venue_order_id: VenueOrderId::new(b"9").unwrap(),
        at: T,
    });
    o.amend_pending = true;
    let r = o.apply(&OrderEvent::AmendRejected { code: 51503, at: T });
    assert!(r.changed && !o.amend_pending);
    assert_eq!(
        (o.price, o.qty),
        (Price::parse("100").unwrap(), Qty::parse("2").unwrap())
    );
    o.amend_pending = true;
    let r = o.apply(&OrderEvent::Amended {
        price: Price::parse("101").unwrap(),
        qty: Qty::parse("3").unwrap(),
        at: T,
    });
    assert!(r.changed && !o.amend_pending && r.fill.is_none());
    assert_eq!(
        (o.price, o.qty),
        (Price::parse("101").unwrap(), Qty::parse("3").unwrap())
    );
    assert_eq!(o.status, OrderStatus::Acked);
    // Below what filled: ignored, counted as an anomaly.
    o.filled_qty = Qty::parse("1").unwrap();
    let r = o.apply(&OrderEvent::Amended {
        price: Price::parse("101").unwrap(),
        qty: Qty::parse("0.5").unwrap(),
        at: T,
    });
    assert!(r.anomaly.is_some());
    assert_eq!(o.qty, Qty::parse("3").unwrap());
}
