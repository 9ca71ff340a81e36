//! The simulator's perpetual accounts, with literal values: isolated margin held by orders and
//! moved into the position by fills, fees in the quote asset, PnL realized on closing, the
//! isolated liquidation price, funding at the funding time at the mark (the book's mid), a
//! reduce-only order refused when it would add, and a liquidation at the mark that cancels the
//! account's orders. Three accounts trade with one another on an otherwise empty book, so
//! every price is the test's own. Then a property test: whatever orders the accounts send
//! while the market walks and funding and liquidations run, the quote asset is conserved
//! (accounts + fees = start + what the venue's clearing paid) and the locked balance is
//! exactly what open orders and positions hold.

use mako::sim::SimConfig;
use mako::sim::exchange::{Exchange, NewOrder};
use mako::sim::orders::{OrderType, Tif};
use mako::sim::walk::Walk;
use mako::types::{FundingRate, Price, Qty, Side};
use proptest::prelude::*;

fn config(levels: usize) -> SimConfig {
    let t: toml::Table = format!(
        r#"
        maker_fee = "0.0002"
        taker_fee = "0.00055"
        [[symbols]]
        symbol = "BTCUSDT"
        kind = "linear-perpetual"
        leverage = "10"
        maintenance_margin = "0.005"
        tick_size = "1"
        step_size = "0.001"
        min_qty = "0.001"
        min_notional = "5"
        levels = {levels}
        [[accounts]]
        api_key = "a"
        secret = "a"
        balances = {{ USDT = "10000" }}
        [[accounts]]
        api_key = "b"
        secret = "b"
        balances = {{ USDT = "10000" }}
        [[accounts]]
        api_key = "c"
        secret = "c"
        balances = {{ USDT = "10000" }}
    "#
    )
    .parse()
    .unwrap();
    SimConfig::from_table(&t).unwrap()
}

fn p(s: &str) -> Price {
    Price::parse(s).unwrap()
}

fn limit(side: Side, price: &str, qty: &str, reduce_only: bool) -> NewOrder {
    NewOrder {
        symbol: 0,
        side,
        kind: OrderType::Limit,
        tif: Tif::Gtc,
        price: p(price),
        qty: Qty::parse(qty).unwrap(),
        quote_qty: Price::ZERO,
        client_order_id: None,
        reduce_only,
    }
}

/// `(free, locked)` of an account's USDT, as decimals.
fn usdt(ex: &Exchange, account: usize) -> (String, String) {
    let b = ex.accounts[account].balances["USDT"];
    (
        Price::from_units(b.free).to_string(),
        Price::from_units(b.locked).to_string(),
    )
}

fn pair(free: &str, locked: &str) -> (String, String) {
    (free.to_owned(), locked.to_owned())
}

#[test]
fn margin_fills_pnl_funding_and_liquidation_with_literal_values() {
    let mut ex = Exchange::new(&config(10), false);
    // B rests a sell of 0.1 at 60000: it would open a short, so it holds 6000 / 10.
    ex.place(1, limit(Side::Sell, "60000", "0.1", false))
        .unwrap();
    assert_eq!(usdt(&ex, 1), pair("9400", "600"));
    // A buys it as taker: margin 600 into the position, fee 6000 × 0.00055 = 3.3.
    let (_, fills) = ex
        .place(0, limit(Side::Buy, "60000", "0.1", false))
        .unwrap();
    assert_eq!(fills.len(), 1);
    assert_eq!(fills[0].commission, p("3.3").units());
    assert_eq!(fills[0].commission_asset, "USDT");
    assert_eq!(usdt(&ex, 0), pair("9396.7", "600"));
    // B as maker pays 6000 × 0.0002 = 1.2; its order's margin became the position's.
    assert_eq!(usdt(&ex, 1), pair("9398.8", "600"));
    let a = ex.position(0, 0);
    assert_eq!(
        (a.size, a.cost, a.margin),
        (p("0.1").units(), p("6000").units(), p("600").units())
    );
    assert_eq!(ex.position(1, 0).size, -p("0.1").units());
    // Isolated liquidation: 600 margin less 30 maintenance (0.5 % of 6000) over 0.1 BTC is a
    // 5700 move: 54300 for the long, 65700 for the short.
    assert_eq!(ex.liquidation_price(0, 0), Some(p("54300")));
    assert_eq!(ex.liquidation_price(1, 0), Some(p("65700")));

    // C quotes 0.05 at 61000 / 61002: the mark is the mid, 61001.
    ex.place(2, limit(Side::Buy, "61000", "0.05", false))
        .unwrap();
    ex.place(2, limit(Side::Sell, "61002", "0.05", false))
        .unwrap();
    assert_eq!(ex.mark_price(0), Some(p("61001")));
    assert_eq!(usdt(&ex, 2), pair("9389.99", "610.01"));
    // Funding at 0.0001: the first tick sets the next funding time (2000), the second pays:
    // 0.1 × 61001 × 0.0001 = 0.61001, from the long to the short.
    let rate = FundingRate::parse("0.0001").unwrap();
    ex.perp_tick(1500, rate, 1000);
    assert!(ex.funding.is_empty());
    ex.perp_tick(2000, rate, 1000);
    assert_eq!(ex.funding.len(), 2);
    assert_eq!(ex.funding[0].amount, p("0.61001").units());
    assert_eq!(ex.funding[0].time_ms, 2000);
    assert_eq!(ex.funding[1].amount, -p("0.61001").units());
    assert_eq!(usdt(&ex, 0), pair("9396.08999", "600"));
    assert_eq!(usdt(&ex, 1), pair("9399.41001", "600"));
    ex.perp_tick(2500, rate, 1000);
    assert_eq!(ex.funding.len(), 2, "once per funding time");

    // A reduce-only buy would add to A's long: refused, nothing held.
    let e = ex
        .place(0, limit(Side::Buy, "61000", "0.01", true))
        .unwrap_err();
    assert_eq!(e.code, -2022);
    // A closes half into C's bid: PnL 0.05 × (61000 − 60000) = 50, half the margin (300)
    // freed, taker fee 3050 × 0.00055 = 1.6775.
    ex.place(0, limit(Side::Sell, "61000", "0.05", true))
        .unwrap();
    assert_eq!(usdt(&ex, 0), pair("9744.41249", "300"));
    let a = ex.position(0, 0);
    assert_eq!((a.size, a.realized), (p("0.05").units(), p("50").units()));
    // C's bid opened a long of 0.05: its 305 of order margin is now the position's, less
    // the maker fee 0.61.
    assert_eq!(usdt(&ex, 2), pair("9389.38", "610.01"));

    // The market falls: C replaces its quotes with 54000 / 54002 (mark 54001). A's long
    // (liquidation 54300) and C's (61000 − (305 − 15.25) / 0.05 = 55205) are liquidated at
    // the mark; B's short is not.
    ex.cancel_all(2, 0).unwrap();
    ex.place(1, limit(Side::Buy, "54000", "0.01", true))
        .unwrap();
    ex.place(1, limit(Side::Sell, "54002", "0.01", false))
        .unwrap();
    assert_eq!(ex.mark_price(0), Some(p("54001")));
    ex.perp_tick(2600, rate, 1000);
    let liquidated: Vec<usize> = ex.liquidations.iter().map(|l| l.account).collect();
    assert_eq!(liquidated, vec![0, 2]);
    // A: 0.05 × 54001 − 3000 = −299.95 realized, its 300 margin back.
    assert_eq!(ex.liquidations[0].pnl, -p("299.95").units());
    assert_eq!(usdt(&ex, 0), pair("9744.46249", "0"));
    let a = ex.position(0, 0);
    assert_eq!((a.size, a.margin, a.realized), (0, 0, -p("249.95").units()));
    assert_eq!(ex.position(1, 0).size, -p("0.1").units());
}

#[derive(Debug, Clone)]
enum Op {
    Place {
        account: usize,
        buy: bool,
        ticks: i64,
        lots: i64,
        market: bool,
        reduce_only: bool,
    },
    Cancel {
        account: usize,
    },
    Walk {
        steps: u8,
    },
    Tick,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        5 => (0..3usize, any::<bool>(), -20..20i64, 1..400i64, any::<bool>(), any::<bool>())
            .prop_map(|(account, buy, ticks, lots, market, reduce_only)| Op::Place { account, buy, ticks, lots, market, reduce_only }),
        1 => (0..3usize).prop_map(|account| Op::Cancel { account }),
        2 => (1..30u8).prop_map(|steps| Op::Walk { steps }),
        2 => Just(Op::Tick),
    ]
}

fn check(ex: &Exchange) -> Result<(), TestCaseError> {
    let mut held = 0i128;
    for a in &ex.accounts {
        let b = a.balances.get("USDT").copied().unwrap_or_default();
        held += i128::from(b.free) + i128::from(b.locked);
    }
    let start: i128 = ex.initial.iter().map(|s| i128::from(s["USDT"])).sum();
    let external = i128::from(ex.external.get("USDT").copied().unwrap_or(0));
    let fees = i128::from(ex.fees.get("USDT").copied().unwrap_or(0));
    prop_assert_eq!(held + fees, start + external, "USDT conserved");
    for (i, a) in ex.accounts.iter().enumerate() {
        let orders: i64 = ex
            .orders
            .values()
            .filter(|o| o.account == i && o.status.is_open())
            .map(|o| o.locked)
            .sum();
        let positions: i64 = a.positions.values().map(|p| p.margin).sum();
        let locked = a.balances.get("USDT").map_or(0, |b| b.locked);
        prop_assert_eq!(locked, orders + positions, "account {} locked", i);
        for p in a.positions.values() {
            prop_assert!(p.margin >= 0 && p.cost >= 0, "{p:?}");
            prop_assert_eq!(p.size == 0, p.cost == 0, "{:?}", p);
        }
        prop_assert!(
            a.balances.keys().all(|k| k == "USDT"),
            "perpetuals move only USDT"
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn perpetual_accounts_conserve_quote_and_hold_exact_margins(ops in prop::collection::vec(op(), 1..120)) {
        let mut ex = Exchange::new(&config(30), false);
        let mut walk = Walk::new(7);
        walk.seed_books(&mut ex);
        let rate = FundingRate::parse("0.0003").unwrap();
        let mut now = 1_000u64;
        for op in ops {
            match op {
                Op::Place { account, buy, ticks, lots, market, reduce_only } => {
                    let (b, a) = ex.symbols[0].book.top_of_book();
                    let Some(mid) = b.zip(a).map(|(b, a)| (b.0.units() + a.0.units()) / 2) else { continue };
                    let tick = p("1").units();
                    let price = Price::from_units(mid - mid.rem_euclid(tick) + ticks * tick);
                    let mut req = limit(if buy { Side::Buy } else { Side::Sell }, "1", "1", reduce_only);
                    req.price = price;
                    req.qty = Qty::from_units(lots * p("0.001").units());
                    if market {
                        req.kind = OrderType::Market;
                    }
                    let _ = ex.place(account, req);
                }
                Op::Cancel { account } => { let _ = ex.cancel_all(account, 0); }
                Op::Walk { steps } => {
                    for _ in 0..steps {
                        walk.step(&mut ex);
                    }
                }
                Op::Tick => {
                    now += 700;
                    ex.perp_tick(now, rate, 1000);
                }
            }
            let _ = ex.take_events();
            check(&ex)?;
        }
    }
}
