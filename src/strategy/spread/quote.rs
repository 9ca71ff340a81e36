//! The spread maker's quoting rule, as pure functions of the book, the inventory and the
//! venue's latency band: where to quote, how much, and when a resting quote must move.

use crate::types::{Instrument, Notional, Price, Qty, UnixNanos, bps_of};

use super::params::SpreadParams;

/// The part of a latency band the quoting rule uses.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BandTerms {
    pub min_spread_bps: u32,
    /// Multiplier on quote sizes (0 < m ≤ 10).
    pub size_multiplier: f64,
}

/// Balances the strategy may quote from: base and quote asset, free plus what its own
/// resting quotes hold (a resting quote is replaced, so its funds are available to it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Inventory {
    pub base: Qty,
    /// Quote-asset amount at `10^-8`.
    pub quote: Price,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quote {
    pub price: Price,
    pub qty: Qty,
}

/// What the strategy wants resting on each side; `None` means no quote on that side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Targets {
    pub bid: Option<Quote>,
    pub ask: Option<Quote>,
    /// Inventory deviation from the target, in bp of portfolio value (+ = too much base).
    pub deviation_bps: i64,
}

/// Where to quote now. Prices are on the tick grid, sizes on the lot grid, and a side that
/// cannot meet the instrument's minimums, the balances or the hard inventory limit is `None`.
pub fn targets(
    p: &SpreadParams,
    inst: &Instrument,
    best_bid: Price,
    best_ask: Price,
    inv: Inventory,
    band: BandTerms,
) -> Targets {
    let mut out = Targets::default();
    if !best_bid.is_positive() || best_ask <= best_bid {
        return out;
    }
    let mid = (best_bid.units() + best_ask.units()) / 2;
    // Inventory: share of portfolio value in base, against the target.
    let base_value =
        i128::from(inv.base.units()) * i128::from(mid) / i128::from(crate::types::SCALE);
    let total = base_value + i128::from(inv.quote.units());
    let deviation_bps = if total > 0 {
        // In 64-bit integers when both fit (the usual case): the same quotient, no library
        // call for a 128-bit division.
        let share = match (i64::try_from(base_value * 10_000), i64::try_from(total)) {
            (Ok(n), Ok(d)) => n / d,
            _ => (base_value * 10_000 / total) as i64,
        };
        share - i64::from(p.target_base_bps)
    } else {
        0
    };
    out.deviation_bps = deviation_bps;
    // Skew x in [-10 000, 10 000] (bp of full effect).
    let x = (deviation_bps * 10_000 / i64::from(p.inventory_range_bps)).clamp(-10_000, 10_000);
    // Too much base (x > 0): shift both quotes down to sell more and buy less.
    let center = mid - bps_of(bps_of(mid, i64::from(p.skew_bps)), x);
    let spread_bps = i64::from(p.spread_bps.max(band.min_spread_bps));
    let half = bps_of(mid, spread_bps) / 2;
    let tick = inst.tick_size;
    let mut bid_px = Price::from_units(center - half).floor_to(tick);
    let mut ask_px = Price::from_units(center + half).ceil_to(tick);
    // Never cross the book (post-only would be rejected; a taker would pay the spread).
    if bid_px >= best_ask {
        bid_px = Price::from_units(best_ask.units() - tick.units());
    }
    if ask_px <= best_bid {
        ask_px = Price::from_units(best_bid.units() + tick.units());
    }
    // Sizes: band multiplier, then inventory skew (bid × (1 − x), ask × (1 + x)).
    let base_size = (p.order_size.units() as f64 * band.size_multiplier) as i64;
    let bid_qty =
        Qty::from_units(bps_of(base_size, (10_000 - x).clamp(0, 20_000))).floor_to(inst.lot_size);
    let ask_qty =
        Qty::from_units(bps_of(base_size, (10_000 + x).clamp(0, 20_000))).floor_to(inst.lot_size);
    let hard = i64::from(p.hard_limit_bps);
    let usable = |q: Quote| inst.check_order(q.price, q.qty).is_ok();
    let bid = Quote {
        price: bid_px,
        qty: bid_qty,
    };
    let ask = Quote {
        price: ask_px,
        qty: ask_qty,
    };
    let affordable_bid = Notional::of(bid.price, bid.qty) <= Notional::from_price(inv.quote);
    let affordable_ask = ask.qty <= inv.base;
    if deviation_bps < hard && bid_px.is_positive() && usable(bid) && affordable_bid {
        out.bid = Some(bid);
    }
    if deviation_bps > -hard && usable(ask) && affordable_ask {
        out.ask = Some(ask);
    }
    // No self-cross, whatever the rounding did.
    if let (Some(b), Some(a)) = (out.bid, out.ask)
        && b.price >= a.price
    {
        out.bid = None;
        out.ask = None;
    }
    out
}

/// Whether a resting quote should be replaced by `target`: its price moved past the
/// tolerance, its size by more than 20 %, or it is older than `refresh_interval`.
pub fn needs_replace(
    p: &SpreadParams,
    resting: Quote,
    placed_at: UnixNanos,
    target: Quote,
    now: UnixNanos,
) -> bool {
    let moved = (resting.price.units() - target.price.units()).abs();
    let tolerance = bps_of(resting.price.units(), i64::from(p.stale_tolerance_bps));
    // Sizes follow inventory continuously; only a change of more than a fifth is worth the
    // lost queue position.
    let size_moved = (resting.qty.units() - target.qty.units()).abs() * 5 > resting.qty.units();
    moved > tolerance || size_moved || now.since(placed_at) >= p.refresh_interval.as_nanos() as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{InstrumentId, VenueId};
    use std::time::Duration;

    fn inst() -> Instrument {
        let mut i = Instrument::new(
            InstrumentId(0),
            VenueId(0),
            "BTCUSDT",
            "BTC",
            "USDT",
            Price::parse("0.01").unwrap(),
            Qty::parse("0.00001").unwrap(),
        )
        .unwrap();
        i.min_notional = Price::parse("5").unwrap();
        i
    }
    fn params() -> SpreadParams {
        SpreadParams::from_table(&"order_size = \"0.01\"".parse().unwrap()).unwrap()
    }
    fn px(s: &str) -> Price {
        Price::parse(s).unwrap()
    }
    fn q(s: &str) -> Qty {
        Qty::parse(s).unwrap()
    }
    const NORMAL: BandTerms = BandTerms {
        min_spread_bps: 0,
        size_multiplier: 1.0,
    };
    /// 1 BTC and 60 000 USDT at a 60 000 mid: exactly 50/50.
    fn balanced() -> Inventory {
        Inventory {
            base: q("1"),
            quote: px("60000"),
        }
    }

    #[test]
    fn quotes_around_the_mid_on_the_grid() {
        let t = targets(
            &params(),
            &inst(),
            px("59999.99"),
            px("60000.01"),
            balanced(),
            NORMAL,
        );
        // 200 bp around 60 000: 59 400 / 60 600.
        assert_eq!(
            t.bid,
            Some(Quote {
                price: px("59400"),
                qty: q("0.01")
            })
        );
        assert_eq!(
            t.ask,
            Some(Quote {
                price: px("60600"),
                qty: q("0.01")
            })
        );
        assert_eq!(t.deviation_bps, 0);
        let i = inst();
        for s in [t.bid.unwrap(), t.ask.unwrap()] {
            assert!(i.check_order(s.price, s.qty).is_ok());
        }
    }

    #[test]
    fn odd_mids_round_outward_to_the_tick() {
        let t = targets(
            &params(),
            &inst(),
            px("61837.63"),
            px("61837.64"),
            balanced(),
            NORMAL,
        );
        let (b, a) = (t.bid.unwrap().price, t.ask.unwrap().price);
        let i = inst();
        assert!(i.check_price(b).is_ok() && i.check_price(a).is_ok());
        let mid = (61837.63 + 61837.64) / 2.0;
        assert!(
            (a.to_f64() - b.to_f64()) / mid >= 0.02,
            "spread never narrower than asked"
        );
    }

    #[test]
    fn band_widens_spread_and_shrinks_size() {
        let defensive = BandTerms {
            min_spread_bps: 400,
            size_multiplier: 0.5,
        };
        let t = targets(
            &params(),
            &inst(),
            px("59999.99"),
            px("60000.01"),
            balanced(),
            defensive,
        );
        assert_eq!(
            t.bid,
            Some(Quote {
                price: px("58800"),
                qty: q("0.005")
            })
        );
        assert_eq!(
            t.ask,
            Some(Quote {
                price: px("61200"),
                qty: q("0.005")
            })
        );
    }

    #[test]
    fn inventory_skews_prices_and_sizes() {
        // 1.2 BTC vs 48 000 USDT at 60 000: 60 % base, 10 points over a 20-point range: x = 0.5.
        let long = Inventory {
            base: q("1.2"),
            quote: px("48000"),
        };
        let t = targets(
            &params(),
            &inst(),
            px("59999.99"),
            px("60000.01"),
            long,
            NORMAL,
        );
        assert_eq!(t.deviation_bps, 1000);
        let (b, a) = (t.bid.unwrap(), t.ask.unwrap());
        // Center shifted down by 25 bp (half of skew_bps 50) to 59 850; spread stays 2 % of the mid.
        assert_eq!(b.price, px("59250"));
        assert_eq!(a.price, px("60450"));
        assert_eq!((b.qty, a.qty), (q("0.005"), q("0.015")));
    }

    #[test]
    fn hard_limit_stops_the_side_that_adds_to_inventory() {
        let very_long = Inventory {
            base: q("1.7"),
            quote: px("18000"),
        }; // 85 % base
        let t = targets(
            &params(),
            &inst(),
            px("59999.99"),
            px("60000.01"),
            very_long,
            NORMAL,
        );
        assert_eq!(t.bid, None);
        assert!(t.ask.is_some());
        let very_short = Inventory {
            base: q("0.2"),
            quote: px("108000"),
        }; // 10 % base
        let t = targets(
            &params(),
            &inst(),
            px("59999.99"),
            px("60000.01"),
            very_short,
            NORMAL,
        );
        assert!(t.bid.is_some());
        assert_eq!(t.ask, None);
    }

    #[test]
    fn never_crosses_the_book_or_itself() {
        let mut p = params();
        p.spread_bps = 1; // narrower than the book's own spread
        let t = targets(
            &p,
            &inst(),
            px("59990.00"),
            px("60010.00"),
            balanced(),
            NORMAL,
        );
        let (b, a) = (t.bid.unwrap().price, t.ask.unwrap().price);
        assert!(b < px("60010.00") && a > px("59990.00") && b < a);
        // A crossed or empty book gives no quotes at all.
        assert_eq!(
            targets(&p, &inst(), px("60010"), px("59990"), balanced(), NORMAL),
            Targets::default()
        );
    }

    #[test]
    fn sides_below_minimums_or_unaffordable_are_dropped() {
        let mut p = params();
        p.order_size = q("0.00005"); // 3 USDT notional < 5 minimum
        let t = targets(
            &p,
            &inst(),
            px("59999.99"),
            px("60000.01"),
            balanced(),
            NORMAL,
        );
        assert_eq!((t.bid, t.ask), (None, None));
        let broke = Inventory {
            base: q("0.005"),
            quote: px("100"),
        };
        let t = targets(
            &params(),
            &inst(),
            px("59999.99"),
            px("60000.01"),
            broke,
            NORMAL,
        );
        assert_eq!(t.bid, None, "cannot pay for 0.01 BTC");
        assert_eq!(t.ask, None, "holds less than 0.01 BTC");
    }

    #[test]
    fn requotes_on_tolerance_size_or_age() {
        let p = params();
        let rest = Quote {
            price: px("60000"),
            qty: q("0.01"),
        };
        let t0 = UnixNanos(0);
        let now = UnixNanos(Duration::from_secs(1).as_nanos() as u64);
        // 50 bp of 60 000 = 300.
        assert!(!needs_replace(
            &p,
            rest,
            t0,
            Quote {
                price: px("60299"),
                qty: q("0.01")
            },
            now
        ));
        assert!(needs_replace(
            &p,
            rest,
            t0,
            Quote {
                price: px("60301"),
                qty: q("0.01")
            },
            now
        ));
        assert!(needs_replace(
            &p,
            rest,
            t0,
            Quote {
                price: px("60000"),
                qty: q("0.02")
            },
            now
        ));
        let later = UnixNanos(Duration::from_secs(30).as_nanos() as u64);
        assert!(
            needs_replace(&p, rest, t0, rest, later),
            "older than refresh_interval"
        );
    }
}
