//! Property test of the simulator's matching engine: whatever orders three accounts send while
//! the market walks, every asset is conserved (accounts + fees = start + what external
//! liquidity handed over), nothing goes negative, and locked funds are exactly what open
//! orders hold.

use std::collections::BTreeMap;

use mako::sim::SimConfig;
use mako::sim::exchange::{Exchange, NewOrder};
use mako::sim::orders::{OrderType, Tif};
use mako::sim::walk::Walk;
use mako::types::{Price, Qty, Side};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    Place {
        account: usize,
        buy: bool,
        kind: u8,
        tif: u8,
        ticks: i64,
        lots: i64,
    },
    Cancel {
        account: usize,
        nth: usize,
    },
    Walk {
        steps: u8,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..3usize, any::<bool>(), 0..3u8, 0..3u8, -30..30i64, 1..4000i64)
            .prop_map(|(account, buy, kind, tif, ticks, lots)| Op::Place { account, buy, kind, tif, ticks, lots }),
        2 => (0..3usize, 0..8usize).prop_map(|(account, nth)| Op::Cancel { account, nth }),
        2 => (1..20u8).prop_map(|steps| Op::Walk { steps }),
    ]
}

fn config() -> SimConfig {
    let t: toml::Table = r#"
        levels = 40
        maker_fee = "0.0002"
        taker_fee = "0.00075"
        [[symbols]]
        levels = 30
        [[accounts]]
        api_key = "a"
        secret = "a"
        balances = { BTC = "2", USDT = "100000" }
        [[accounts]]
        api_key = "b"
        secret = "b"
        balances = { BTC = "0.5", USDT = "3000" }
        [[accounts]]
        api_key = "c"
        secret = "c"
        balances = { BTC = "5", USDT = "0" }
    "#
    .replace("levels = 40\n", "")
    .parse()
    .unwrap();
    SimConfig::from_table(&t).unwrap()
}

fn check(ex: &Exchange) -> Result<(), TestCaseError> {
    let mut assets: BTreeMap<String, i128> = BTreeMap::new();
    for a in &ex.accounts {
        for (k, b) in &a.balances {
            prop_assert!(b.free >= 0 && b.locked >= 0, "negative balance {k}: {b:?}");
            *assets.entry(k.clone()).or_default() += (b.free + b.locked) as i128;
        }
    }
    let mut expected: BTreeMap<String, i128> = BTreeMap::new();
    for start in &ex.initial {
        for (k, v) in start {
            *expected.entry(k.clone()).or_default() += *v as i128;
        }
    }
    for (k, v) in &ex.external {
        *expected.entry(k.clone()).or_default() += *v as i128;
    }
    for (k, v) in &ex.fees {
        *assets.entry(k.clone()).or_default() += *v as i128;
    }
    for k in expected.keys().chain(assets.keys()) {
        prop_assert_eq!(
            assets.get(k).copied().unwrap_or(0),
            expected.get(k).copied().unwrap_or(0),
            "asset {} not conserved",
            k
        );
    }
    // Locked funds are exactly what open orders hold.
    for (i, a) in ex.accounts.iter().enumerate() {
        let mut held: BTreeMap<&str, i64> = BTreeMap::new();
        for o in ex.orders.values().filter(|o| o.account == i) {
            if o.status.is_open() {
                let asset = if o.side == Side::Buy { "USDT" } else { "BTC" };
                *held.entry(asset).or_default() += o.locked;
            } else {
                prop_assert_eq!(o.locked, 0, "closed order {} still holds funds", o.order_id);
            }
        }
        for (k, b) in &a.balances {
            prop_assert_eq!(
                b.locked,
                held.get(k.as_str()).copied().unwrap_or(0),
                "account {} asset {} locked",
                i,
                k
            );
        }
    }
    let (bid, ask) = ex.symbols[0].book.top_of_book();
    if let (Some(b), Some(a)) = (bid, ask) {
        prop_assert!(b.0 < a.0, "book crossed: {:?} {:?}", b, a);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]
    #[test]
    fn fills_fees_and_balances_add_up(seed in 0u64..1000, ops in proptest::collection::vec(op(), 1..60)) {
        let cfg = config();
        let mut ex = Exchange::new(&cfg, false);
        let mut walk = Walk::new(seed);
        walk.seed_books(&mut ex);
        let tick = cfg.symbols[0].tick_size.units();
        let step = cfg.symbols[0].step_size.units();
        for op in ops {
            match op {
                Op::Place { account, buy, kind, tif, ticks, lots } => {
                    let side = if buy { Side::Buy } else { Side::Sell };
                    let mid = ex.symbols[0].book.best(Side::Buy).map_or(cfg.symbols[0].start_price, |l| l.0);
                    let kind = [OrderType::Limit, OrderType::Market, OrderType::LimitMaker][kind as usize];
                    let tif = [Tif::Gtc, Tif::Ioc, Tif::Fok][tif as usize];
                    let req = NewOrder {
                        symbol: 0,
                        side,
                        kind,
                        tif: if kind == OrderType::Limit { tif } else { Tif::Gtc },
                        price: if kind == OrderType::Market { Price::ZERO } else { Price::from_units(mid.units() + ticks * tick) },
                        qty: Qty::from_units(lots * step),
                        quote_qty: Price::ZERO,
                        client_order_id: None,
                        reduce_only: false,
                    };
                    let _ = ex.place(account, req);
                }
                Op::Cancel { account, nth } => {
                    let ids: Vec<u64> = ex.open_orders(account, Some(0)).iter().map(|o| o.order_id).collect();
                    if let Some(id) = ids.get(nth % ids.len().max(1)) {
                        prop_assert!(ex.cancel(account, 0, Some(*id), None, None).is_ok());
                    }
                }
                Op::Walk { steps } => {
                    for _ in 0..steps {
                        walk.step(&mut ex);
                    }
                }
            }
            ex.take_events();
            check(&ex)?;
        }
        // Cancelling everything unlocks everything.
        for a in 0..3 {
            let _ = ex.cancel_all(a, 0);
        }
        check(&ex)?;
        prop_assert!(ex.accounts.iter().all(|a| a.balances.values().all(|b| b.locked == 0)));
    }
}
