//! Unit tests of the risk engine: each rule, limits combined, per-instrument positions.

use super::*;

fn p(s: &str) -> Price {
    Price::parse(s).unwrap()
}
fn q(s: &str) -> Qty {
    Qty::parse(s).unwrap()
}
const I0: InstrumentId = InstrumentId(0);
const NOW: UnixNanos = UnixNanos(1_700_000_000_000_000_000);

fn engine(global: RiskLimits, own: RiskLimits) -> RiskEngine {
    RiskEngine::new(
        global,
        &[(own, InstrumentId(0))],
        1,
        KillSwitch::default(),
        NOW,
    )
}

fn order(side: Side, price: &str, qty: &str) -> OrderCheck {
    OrderCheck {
        strategy: StrategyId(0),
        instrument: InstrumentId(0),
        side,
        price: p(price),
        qty: q(qty),
        mid: Some(p("100")),
        reduce_only: false,
    }
}

#[test]
fn each_rule_fires() {
    let table: Vec<(&str, RiskLimits, OrderCheck, Result<(), Rule>)> = vec![
        (
            "no limits",
            RiskLimits::default(),
            order(Side::Buy, "99", "5"),
            Ok(()),
        ),
        (
            "qty",
            RiskLimits {
                max_order_qty: Some(q("1")),
                ..Default::default()
            },
            order(Side::Buy, "99", "1.5"),
            Err(Rule::MaxOrderQty),
        ),
        (
            "notional",
            RiskLimits {
                max_order_notional: Some(p("100")),
                ..Default::default()
            },
            order(Side::Buy, "99", "1.1"),
            Err(Rule::MaxOrderNotional),
        ),
        (
            "position",
            RiskLimits {
                max_position: Some(q("2")),
                ..Default::default()
            },
            order(Side::Sell, "101", "2.5"),
            Err(Rule::MaxPosition),
        ),
        (
            "collar ok",
            RiskLimits {
                price_collar_bps: Some(100),
                ..Default::default()
            },
            order(Side::Buy, "99", "1"),
            Ok(()),
        ),
        (
            "collar",
            RiskLimits {
                price_collar_bps: Some(100),
                ..Default::default()
            },
            order(Side::Buy, "98.9", "1"),
            Err(Rule::PriceCollar),
        ),
        (
            "no book",
            RiskLimits {
                price_collar_bps: Some(100),
                ..Default::default()
            },
            OrderCheck {
                mid: None,
                reduce_only: false,
                ..order(Side::Buy, "99", "1")
            },
            Err(Rule::NoReferencePrice),
        ),
        (
            "open orders",
            RiskLimits {
                max_open_orders: Some(0),
                ..Default::default()
            },
            order(Side::Buy, "99", "1"),
            Err(Rule::MaxOpenOrders),
        ),
        (
            "trades per day",
            RiskLimits {
                max_trades_per_day: Some(0),
                ..Default::default()
            },
            order(Side::Buy, "99", "1"),
            Err(Rule::MaxTradesPerDay),
        ),
    ];
    for (name, own, o, want) in table {
        let mut r = engine(RiskLimits::default(), own);
        assert_eq!(r.check(&o, NOW), want, "{name}");
        let counted: u64 = r.rejections().map(|(_, n)| n).sum();
        assert_eq!(
            counted,
            u64::from(want.is_err()),
            "{name}: rejections are counted"
        );
    }
}

#[test]
fn global_and_strategy_limits_combine_to_the_stricter() {
    let mut r = engine(
        RiskLimits {
            max_order_qty: Some(q("1")),
            ..Default::default()
        },
        RiskLimits {
            max_order_qty: Some(q("3")),
            ..Default::default()
        },
    );
    assert_eq!(
        r.check(&order(Side::Buy, "99", "2"), NOW),
        Err(Rule::MaxOrderQty)
    );
}

#[test]
fn position_counts_open_orders_and_allows_reducing() {
    let mut r = engine(
        RiskLimits::default(),
        RiskLimits {
            max_position: Some(q("2")),
            ..Default::default()
        },
    );
    let s = StrategyId(0);
    r.on_order_opened(s, I0, Side::Buy, q("1.5"));
    assert_eq!(
        r.check(&order(Side::Buy, "99", "1"), NOW),
        Err(Rule::MaxPosition),
        "1.5 open + 1 > 2"
    );
    r.on_order_reduced(s, I0, Side::Buy, q("1.5"), false);
    r.on_fill(
        s,
        I0,
        Side::Buy,
        q("1.5"),
        p("99").notional(q("1.5")),
        Qty::ZERO,
        NOW,
    );
    assert_eq!(
        r.check(&order(Side::Buy, "99", "1"), NOW),
        Err(Rule::MaxPosition)
    );
    assert_eq!(
        r.check(&order(Side::Sell, "101", "1"), NOW),
        Ok(()),
        "reducing is allowed"
    );
    assert_eq!(r.position(s).unwrap().qty(), q("1.5"));
}

#[test]
fn daily_loss_trips_the_kill_switch_and_resets_next_day() {
    let mut r = engine(
        RiskLimits::default(),
        RiskLimits {
            max_daily_loss: Some(p("10")),
            ..Default::default()
        },
    );
    let s = StrategyId(0);
    r.on_fill(
        s,
        I0,
        Side::Buy,
        q("1"),
        p("100").notional(q("1")),
        Qty::ZERO,
        NOW,
    );
    // Marked at 95: −5, fine. At 89: −11 > 10.
    assert_eq!(
        r.check(
            &OrderCheck {
                mid: Some(p("95")),
                reduce_only: false,
                ..order(Side::Sell, "95", "1")
            },
            NOW
        ),
        Ok(())
    );
    assert_eq!(
        r.check(
            &OrderCheck {
                mid: Some(p("89")),
                reduce_only: false,
                ..order(Side::Sell, "89", "1")
            },
            NOW
        ),
        Err(Rule::MaxDailyLoss)
    );
    assert!(r.kill_switch().is_tripped());
    assert_eq!(r.kill_switch().reason(), KillReason::DailyLoss);
    assert_eq!(
        r.check(&order(Side::Buy, "99", "1"), NOW),
        Err(Rule::KillSwitch)
    );
    r.kill_switch().reset();
    assert_eq!(r.check(&order(Side::Buy, "99", "1"), NOW), Ok(()));
}

#[test]
fn order_rate_is_limited_and_refused_orders_spend_no_token() {
    let mut r = engine(
        RiskLimits::default(),
        RiskLimits {
            max_orders_per_sec: Some(2),
            max_order_qty: Some(q("1")),
            ..Default::default()
        },
    );
    assert_eq!(
        r.check(&order(Side::Buy, "99", "5"), NOW),
        Err(Rule::MaxOrderQty)
    );
    assert_eq!(r.check(&order(Side::Buy, "99", "1"), NOW), Ok(()));
    assert_eq!(r.check(&order(Side::Buy, "99", "1"), NOW), Ok(()));
    assert_eq!(
        r.check(&order(Side::Buy, "99", "1"), NOW),
        Err(Rule::OrderRate)
    );
    assert_eq!(
        r.check(&order(Side::Buy, "99", "1"), NOW.plus_nanos(500_000_000)),
        Ok(())
    );
}

#[test]
fn open_orders_are_limited_at_a_non_zero_count_and_free_up_as_orders_end() {
    let mut r = engine(
        RiskLimits::default(),
        RiskLimits {
            max_open_orders: Some(2),
            ..Default::default()
        },
    );
    let s = StrategyId(0);
    for _ in 0..2 {
        assert_eq!(r.check(&order(Side::Buy, "99", "1"), NOW), Ok(()));
        r.on_order_opened(s, I0, Side::Buy, q("1"));
    }
    assert_eq!(r.open_orders(s), 2);
    assert_eq!(
        r.check(&order(Side::Buy, "99", "1"), NOW),
        Err(Rule::MaxOpenOrders)
    );
    // A partial fill leaves the order open; its end frees the slot.
    r.on_order_reduced(s, I0, Side::Buy, q("0.4"), false);
    assert_eq!(
        r.check(&order(Side::Buy, "99", "1"), NOW),
        Err(Rule::MaxOpenOrders)
    );
    r.on_order_reduced(s, I0, Side::Buy, q("0.6"), true);
    assert_eq!(r.open_orders(s), 1);
    assert_eq!(r.check(&order(Side::Buy, "99", "1"), NOW), Ok(()));
}

#[test]
fn trades_per_day_are_limited_at_a_non_zero_count_and_reset_at_utc_midnight() {
    let mut r = engine(
        RiskLimits::default(),
        RiskLimits {
            max_trades_per_day: Some(3),
            ..Default::default()
        },
    );
    let s = StrategyId(0);
    // NOW is 22:13:20 UTC; the day ends 6 400 s later.
    let midnight = UnixNanos((NOW.0 / NS_PER_DAY + 1) * NS_PER_DAY);
    let fill = |r: &mut RiskEngine, at: UnixNanos| {
        let n = Notional::of(p("100"), q("0.1"));
        r.on_fill(s, I0, Side::Buy, q("0.1"), n, Qty::ZERO, at);
    };
    for _ in 0..3 {
        assert_eq!(r.check(&order(Side::Buy, "99", "0.1"), NOW), Ok(()));
        fill(&mut r, NOW);
    }
    assert_eq!(r.trades_today(s), 3);
    assert_eq!(
        r.check(&order(Side::Buy, "99", "0.1"), NOW),
        Err(Rule::MaxTradesPerDay)
    );
    // Still refused one nanosecond before midnight; allowed from midnight on.
    assert_eq!(
        r.check(&order(Side::Buy, "99", "0.1"), UnixNanos(midnight.0 - 1)),
        Err(Rule::MaxTradesPerDay)
    );
    assert_eq!(r.check(&order(Side::Buy, "99", "0.1"), midnight), Ok(()));
    assert_eq!(r.trades_today(s), 0);
    fill(&mut r, midnight);
    assert_eq!(r.trades_today(s), 1);
    let rejected: u64 = r
        .rejections()
        .filter(|(rule, _)| *rule == Rule::MaxTradesPerDay)
        .map(|(_, n)| n)
        .sum();
    assert_eq!(rejected, 2);
}

#[test]
fn positions_are_per_instrument_and_daily_loss_sums_them() {
    // One strategy with two instruments on this venue (ids 0 and 1); max position 2 each.
    let (a, b) = (I0, InstrumentId(1));
    let mut r = RiskEngine::new(
        RiskLimits::default(),
        &[(
            RiskLimits {
                max_position: Some(q("2")),
                max_daily_loss: Some(p("10")),
                max_open_orders: Some(3),
                ..Default::default()
            },
            a,
        )],
        2,
        KillSwitch::default(),
        NOW,
    )
    .with_instruments(StrategyId(0), &[b]);
    let s = StrategyId(0);
    let on = |i: InstrumentId, side, price: &str, qty: &str, mid: &str| OrderCheck {
        instrument: i,
        mid: Some(p(mid)),
        reduce_only: false,
        ..order(side, price, qty)
    };
    // 1.5 open to buy on `a` does not count against `b`.
    r.on_order_opened(s, a, Side::Buy, q("1.5"));
    assert_eq!(
        r.check(&on(a, Side::Buy, "99", "1", "100"), NOW),
        Err(Rule::MaxPosition)
    );
    assert_eq!(r.check(&on(b, Side::Buy, "99", "1", "100"), NOW), Ok(()));
    // Fills land on their instrument; trades and open orders count for the strategy.
    r.on_order_reduced(s, a, Side::Buy, q("1.5"), true);
    r.on_fill(
        s,
        a,
        Side::Buy,
        q("1"),
        p("100").notional(q("1")),
        q("0.1"),
        NOW,
    );
    r.on_fill(
        s,
        b,
        Side::Buy,
        q("2"),
        p("50").notional(q("2")),
        q("0.2"),
        NOW,
    );
    assert_eq!(r.position(s).unwrap().qty(), q("1"));
    assert_eq!(r.position_of(s, b).unwrap().qty(), q("2"));
    assert_eq!(r.trades_today(s), 2);
    assert_eq!(r.open_orders(s), 0);
    // b is full (2), a is not.
    assert_eq!(
        r.check(&on(b, Side::Buy, "50", "0.1", "50"), NOW),
        Err(Rule::MaxPosition)
    );
    // Day PnL over both, each at its own mark: a at 97 (−3), b at 48 (−4), fees −0.3.
    let at = |r: &RiskEngine| r.day_pnl(s, |i| Some(if i == a { p("97") } else { p("48") }));
    assert_eq!(at(&r), -73 * Notional::SCALE / 10);
    // A check marks its own instrument and keeps the other's last mark: a at 100 (0), b at
    // 45.5 (−9), fees −0.3: −9.3, allowed; b at 45: −10.3, refused.
    assert_eq!(
        r.check(&on(a, Side::Sell, "100", "0.1", "100"), NOW),
        Ok(())
    );
    assert_eq!(
        r.check(&on(b, Side::Sell, "45.5", "0.1", "45.5"), NOW),
        Ok(())
    );
    assert_eq!(r.day_pnl(s, |_| None), -93 * Notional::SCALE / 10);
    assert_eq!(
        r.check(&on(b, Side::Sell, "45", "0.1", "45"), NOW),
        Err(Rule::MaxDailyLoss)
    );
    // Realized over both legs, minus fees: close a at 101 (+1), b at 51 (+2) − 0.3.
    r.kill_switch().reset();
    r.on_fill(
        s,
        a,
        Side::Sell,
        q("1"),
        p("101").notional(q("1")),
        Qty::ZERO,
        NOW,
    );
    r.on_fill(
        s,
        b,
        Side::Sell,
        q("2"),
        p("51").notional(q("2")),
        Qty::ZERO,
        NOW,
    );
    assert_eq!(r.realized_net(s), 27 * Notional::SCALE / 10);
}

#[test]
fn an_amend_is_checked_in_place_of_the_quantity_it_replaces() {
    let mut r = engine(
        RiskLimits::default(),
        RiskLimits {
            max_position: Some(q("2")),
            max_open_orders: Some(1),
            price_collar_bps: Some(100),
            ..Default::default()
        },
    );
    let s = StrategyId(0);
    r.on_order_opened(s, I0, Side::Buy, q("1.5"));
    // As a new order, 1.8 more would pass neither the position nor the open-order limit.
    assert_eq!(
        r.check(&order(Side::Buy, "99", "1.8"), NOW),
        Err(Rule::MaxOpenOrders)
    );
    // As the open 1.5 amended to 1.8: 1.8 ≤ 2, and the order is already open.
    assert_eq!(
        r.check_amend(&order(Side::Buy, "99", "1.8"), q("1.5"), NOW),
        Ok(())
    );
    assert_eq!(
        r.check_amend(&order(Side::Buy, "99", "2.5"), q("1.5"), NOW),
        Err(Rule::MaxPosition)
    );
    // The collar applies to the new price.
    assert_eq!(
        r.check_amend(&order(Side::Buy, "90", "1"), q("1.5"), NOW),
        Err(Rule::PriceCollar)
    );
    // Once amended, the open quantity is the new one: 1.8 open, 0.3 more would pass 2.
    r.on_order_resized(s, I0, Side::Buy, q("1.5"), q("1.8"));
    assert_eq!(
        r.check_amend(&order(Side::Buy, "99", "0.5"), Qty::ZERO, NOW),
        Err(Rule::MaxPosition)
    );
    assert_eq!(
        r.check_amend(&order(Side::Buy, "99", "0.2"), Qty::ZERO, NOW),
        Ok(())
    );
}
