//! Risk for perpetuals: contract values, the leverage cap, the liquidation distance, the
//! position value limit, PnL in the settlement asset and funding in the day's loss.

use super::*;
use crate::types::{InstrumentKind, MarginMode, QtyUnit, Rate, VenueId};

fn p(s: &str) -> Price {
    Price::parse(s).unwrap()
}
fn q(s: &str) -> Qty {
    Qty::parse(s).unwrap()
}
/// A decimal to 10^-16 units.
fn e16(units_e8: i64) -> i128 {
    i128::from(units_e8) * i128::from(crate::types::SCALE)
}
const I0: InstrumentId = InstrumentId(0);
const S0: StrategyId = StrategyId(0);
const NOW: UnixNanos = UnixNanos(1_700_000_000_000_000_000);

fn perp(contract: Contract, leverage: &str) -> Instrument {
    let mut i = Instrument::new(
        I0,
        VenueId(0),
        "BTCUSDT",
        "BTC",
        "USDT",
        p("0.5"),
        q("0.001"),
    )
    .unwrap();
    i.contract = contract;
    i.margin = Some(Margin {
        mode: MarginMode::Isolated,
        leverage: Rate::parse(leverage).unwrap(),
        maintenance: Rate::parse("0.005").unwrap(),
        funding_interval_ms: 8 * 3_600_000,
    });
    i
}

fn engine(limits: RiskLimits, instrument: &Instrument) -> RiskEngine {
    RiskEngine::new(
        RiskLimits::default(),
        &[(limits, I0)],
        1,
        KillSwitch::default(),
        NOW,
    )
    .with_instrument_specs(std::slice::from_ref(instrument))
}

fn order(side: Side, price: &str, qty: &str, mid: &str) -> OrderCheck {
    OrderCheck {
        strategy: S0,
        instrument: I0,
        side,
        price: p(price),
        qty: q(qty),
        mid: Some(p(mid)),
        reduce_only: false,
    }
}

fn fill(r: &mut RiskEngine, side: Side, price: &str, qty: &str) {
    let (pr, qt) = (p(price), q(qty));
    r.on_fill(S0, I0, side, qt, pr.notional(qt), Qty::ZERO, NOW);
}

const DELTA_BTC: Contract = Contract {
    kind: InstrumentKind::LinearPerpetual,
    unit: QtyUnit::Contracts,
    size: Qty::from_units(100_000),
};
const INVERSE_USD: Contract = Contract {
    kind: InstrumentKind::InversePerpetual,
    unit: QtyUnit::Contracts,
    size: Qty::from_units(100_000_000),
};

#[test]
fn a_position_whose_liquidation_would_come_too_close_is_refused() {
    let limits = RiskLimits {
        min_liquidation_distance_bps: Some(1_000),
        ..RiskLimits::default()
    };
    // 10×: a long from 50 000 is liquidated at 45 250, 9.5 % below the mid: refused.
    let mut r = engine(limits.clone(), &perp(Contract::LINEAR_BASE, "10"));
    assert_eq!(
        r.check(&order(Side::Buy, "50000", "1", "50000"), NOW),
        Err(Rule::LiquidationDistance)
    );
    // A short from 50 000 at 10×: 54 750, 9.5 % above: refused as well.
    assert_eq!(
        r.check(&order(Side::Sell, "50000", "1", "50000"), NOW),
        Err(Rule::LiquidationDistance)
    );
    // 5×: 40 250, 19.5 % below: accepted.
    let mut r = engine(limits.clone(), &perp(Contract::LINEAR_BASE, "5"));
    assert_eq!(
        r.check(&order(Side::Buy, "50000", "1", "50000"), NOW),
        Ok(())
    );
    // Without a mid there is nothing to measure the distance from.
    let mut o = order(Side::Buy, "50000", "1", "50000");
    o.mid = None;
    assert_eq!(r.check(&o, NOW), Err(Rule::NoReferencePrice));
    // Long 1 BTC at 10× already (liquidation 45 250): selling it down is always allowed.
    let mut r = engine(limits, &perp(Contract::LINEAR_BASE, "10"));
    fill(&mut r, Side::Buy, "50000", "1");
    assert_eq!(
        r.check(&order(Side::Sell, "50000", "0.5", "50000"), NOW),
        Ok(())
    );
    let refused = r
        .rejections()
        .find(|(rule, _)| *rule == Rule::LiquidationDistance)
        .unwrap()
        .1;
    assert_eq!(refused, 0);
}

#[test]
fn the_leverage_cap_refuses_an_instrument_set_above_it() {
    let limits = RiskLimits {
        max_leverage: Some(Rate::from_int(5)),
        ..RiskLimits::default()
    };
    let mut r = engine(limits.clone(), &perp(Contract::LINEAR_BASE, "10"));
    assert_eq!(
        r.check(&order(Side::Buy, "50000", "0.01", "50000"), NOW),
        Err(Rule::MaxLeverage)
    );
    let mut r = engine(limits, &perp(Contract::LINEAR_BASE, "5"));
    assert_eq!(
        r.check(&order(Side::Buy, "50000", "0.01", "50000"), NOW),
        Ok(())
    );
}

#[test]
fn position_value_counts_contracts_at_their_size() {
    let limits = RiskLimits {
        max_position_notional: Some(p("1000")),
        max_order_notional: Some(p("1000")),
        ..RiskLimits::default()
    };
    let mut r = engine(limits, &perp(DELTA_BTC, "10"));
    // 20 contracts of 0.001 BTC at 60 000: 1 200 USDT, above both limits.
    assert_eq!(
        r.check(&order(Side::Buy, "60000", "20", "60000"), NOW),
        Err(Rule::MaxOrderNotional)
    );
    // 16 contracts: 960 USDT; and with 10 more open on the same side, 1 560: refused.
    assert_eq!(
        r.check(&order(Side::Buy, "60000", "16", "60000"), NOW),
        Ok(())
    );
    r.on_order_opened(S0, I0, Side::Buy, q("10"));
    assert_eq!(
        r.check(&order(Side::Buy, "60000", "16", "60000"), NOW),
        Err(Rule::MaxPositionNotional)
    );
}

#[test]
fn pnl_is_in_the_settlement_asset_for_contracts_and_inverse() {
    // 20 contracts of 0.001 BTC from 60 000 to 60 500: 10 USDT.
    let mut r = engine(RiskLimits::default(), &perp(DELTA_BTC, "10"));
    fill(&mut r, Side::Buy, "60000", "20");
    assert_eq!(r.day_pnl(S0, |_| Some(p("60250"))), e16(500_000_000));
    fill(&mut r, Side::Sell, "60500", "20");
    assert_eq!(r.realized_net(S0), e16(1_000_000_000));
    // 1 000 USD inverse long from 50 000 to 40 000: −0.005 BTC.
    let mut r = engine(RiskLimits::default(), &perp(INVERSE_USD, "10"));
    fill(&mut r, Side::Buy, "50000", "1000");
    assert_eq!(r.day_pnl(S0, |_| Some(p("40000"))), e16(-500_000));
    fill(&mut r, Side::Sell, "40000", "1000");
    assert_eq!(r.realized_net(S0), e16(-500_000));
}

#[test]
fn funding_paid_counts_in_the_days_loss() {
    let limits = RiskLimits {
        max_daily_loss: Some(p("5")),
        ..RiskLimits::default()
    };
    let mut r = engine(limits, &perp(Contract::LINEAR_BASE, "10"));
    fill(&mut r, Side::Buy, "30000", "2");
    assert_eq!(
        r.check(&order(Side::Sell, "30000", "0.1", "30000"), NOW),
        Ok(())
    );
    // 2 BTC at mark 30 000 and 0.01 %: 6 USDT paid, more than the 5 allowed.
    let paid = Contract::LINEAR_BASE.funding(
        q("2").units(),
        p("30000"),
        crate::types::FundingRate::parse("0.0001").unwrap(),
    );
    r.on_funding(S0, I0, paid);
    assert_eq!(r.position(S0).unwrap().funding, e16(600_000_000));
    assert_eq!(
        r.check(&order(Side::Sell, "30000", "0.1", "30000"), NOW),
        Err(Rule::MaxDailyLoss)
    );
}

#[test]
fn reduce_only_orders_must_reduce_a_perpetual_position() {
    let reducing = |side, qty| OrderCheck {
        reduce_only: true,
        ..order(side, "50000", qty, "50000")
    };
    // Spot has no reduce-only.
    let mut spot = Instrument::new(
        I0,
        VenueId(0),
        "BTCUSDT",
        "BTC",
        "USDT",
        p("0.5"),
        q("0.001"),
    )
    .unwrap();
    spot.margin = None;
    let mut r = engine(RiskLimits::default(), &spot);
    fill(&mut r, Side::Buy, "50000", "1");
    assert_eq!(
        r.check(&reducing(Side::Sell, "0.5"), NOW),
        Err(Rule::ReduceOnly)
    );
    // Long 1 on a perpetual: selling up to 1 reduces; buying, or selling 2, does not.
    let limits = RiskLimits {
        max_position: Some(q("0.5")),
        ..RiskLimits::default()
    };
    let mut r = engine(limits, &perp(Contract::LINEAR_BASE, "10"));
    fill(&mut r, Side::Buy, "50000", "1");
    assert_eq!(r.check(&reducing(Side::Sell, "0.5"), NOW), Ok(()));
    assert_eq!(r.check(&reducing(Side::Sell, "1"), NOW), Ok(()));
    assert_eq!(
        r.check(&reducing(Side::Buy, "0.1"), NOW),
        Err(Rule::ReduceOnly)
    );
    assert_eq!(
        r.check(&reducing(Side::Sell, "2"), NOW),
        Err(Rule::ReduceOnly)
    );
    // Flat: nothing to reduce.
    let mut r = engine(RiskLimits::default(), &perp(Contract::LINEAR_BASE, "10"));
    assert_eq!(
        r.check(&reducing(Side::Sell, "0.1"), NOW),
        Err(Rule::ReduceOnly)
    );
}
