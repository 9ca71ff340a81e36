//! Derivatives in the vocabulary: what an instrument is (spot, linear or inverse perpetual),
//! how its quantities count (base units or contracts of a size), and the arithmetic every room
//! shares for it — value, PnL, funding, margin and liquidation price — in integers, never
//! through `f64`.
//!
//! Amounts are in the instrument's **settlement asset at `10^-16`** (the scale of
//! [`Notional`]): the quote asset for spot and linear perpetuals (USDT), the base asset for
//! inverse perpetuals (BTC for BTCUSD). Linear values are exact. Inverse values divide by a
//! price (`qty × size / price`), which a decimal cannot always hold: each such division is
//! truncated toward zero at `10^-16`, eight digits finer than any venue settles.
//!
//! The liquidation price is the isolated-margin formula the venues publish (Bybit's "Entry
//! Price − (Initial Margin − Maintenance Margin) / Position Size", the inverse form from the
//! same balance of margin and loss), with the maintenance margin taken on the position's value
//! at entry and no fees; it is rounded to the tick **toward the entry** (a long's up, a short's
//! down), so a distance check never sees liquidation farther away than it is.

use super::fixed::{Notional, Price, Qty, Rate, SCALE};
use super::market::FundingRate;
use super::side::Side;

/// What an instrument is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum InstrumentKind {
    #[default]
    Spot,
    /// Margined and settled in the quote asset (USDT), PnL linear in price.
    LinearPerpetual,
    /// Margined and settled in the base asset (BTC for BTCUSD), a contract worth a fixed
    /// amount of quote; PnL in the base asset, linear in `1 / price`.
    InversePerpetual,
}

impl InstrumentKind {
    pub const ALL: [InstrumentKind; 3] = [
        InstrumentKind::Spot,
        InstrumentKind::LinearPerpetual,
        InstrumentKind::InversePerpetual,
    ];

    /// The config spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            InstrumentKind::Spot => "spot",
            InstrumentKind::LinearPerpetual => "linear-perpetual",
            InstrumentKind::InversePerpetual => "inverse-perpetual",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn is_perpetual(self) -> bool {
        self != InstrumentKind::Spot
    }
}

/// How the venue counts an instrument's quantities.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum QtyUnit {
    /// In the base asset (Binance, Bybit linear, CoinDCX).
    #[default]
    Base,
    /// In contracts of [`Contract::size`] (Delta, OKX swaps, every inverse perpetual).
    Contracts,
}

impl QtyUnit {
    pub fn as_str(self) -> &'static str {
        match self {
            QtyUnit::Base => "base",
            QtyUnit::Contracts => "contracts",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [QtyUnit::Base, QtyUnit::Contracts]
            .into_iter()
            .find(|u| u.as_str() == s)
    }
}

/// Isolated (each position its own margin) or cross (the account's balance backs every
/// position).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum MarginMode {
    #[default]
    Isolated,
    Cross,
}

impl MarginMode {
    pub fn as_str(self) -> &'static str {
        match self {
            MarginMode::Isolated => "isolated",
            MarginMode::Cross => "cross",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [MarginMode::Isolated, MarginMode::Cross]
            .into_iter()
            .find(|m| m.as_str() == s)
    }
}

/// A perpetual's margin settings, set at start from config (and checked against the venue
/// where it reports them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Margin {
    pub mode: MarginMode,
    /// The leverage the position is opened with (`10` = 10×): initial margin = value / this.
    pub leverage: Rate,
    /// The maintenance-margin rate of the position's risk tier (`0.005` = 0.5 %).
    pub maintenance: Rate,
    /// Funding every this many milliseconds from 00:00 UTC (8 h on most venues).
    pub funding_interval_ms: u64,
}

/// How a quantity of an instrument is valued. `Copy` and a few words, so the risk engine keeps
/// one per position.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Contract {
    pub kind: InstrumentKind,
    pub unit: QtyUnit,
    /// Linear: base asset per contract (Delta's BTCUSD: 0.001 BTC). Inverse: quote asset per
    /// contract (1 USD). Ignored when quantities count in the base asset.
    pub size: Qty,
}

const SCALE_I: i128 = SCALE as i128;

/// `a / b` rounded up (`up`) or down, for positive `b`.
fn div_round(a: i128, b: i128, up: bool) -> i128 {
    let q = a.div_euclid(b);
    if up && a.rem_euclid(b) != 0 { q + 1 } else { q }
}

impl Contract {
    /// A spot instrument: one unit of quantity is one unit of the base asset.
    pub const SPOT: Contract = Contract {
        kind: InstrumentKind::Spot,
        unit: QtyUnit::Base,
        size: Qty::from_units(SCALE),
    };

    /// A linear perpetual counted in the base asset (Bybit's BTCUSDT).
    pub const LINEAR_BASE: Contract = Contract {
        kind: InstrumentKind::LinearPerpetual,
        unit: QtyUnit::Base,
        size: Qty::from_units(SCALE),
    };

    /// Base units per unit of quantity, at `10^-8` (1 for quantities in base).
    fn base_per_unit(&self) -> i128 {
        match self.unit {
            QtyUnit::Base => SCALE_I,
            QtyUnit::Contracts => i128::from(self.size.units()),
        }
    }

    /// The base-asset quantity of `qty` venue units, when it is exact (linear and spot).
    /// `None` for inverse contracts (their base worth depends on the price), or a product finer
    /// than `10^-8` or too large.
    pub fn base_qty(&self, qty: Qty) -> Option<Qty> {
        if self.kind == InstrumentKind::InversePerpetual {
            return None;
        }
        let p = i128::from(qty.units()) * self.base_per_unit();
        if p % SCALE_I != 0 {
            return None;
        }
        i64::try_from(p / SCALE_I).ok().map(Qty::from_units)
    }

    /// The venue quantity worth `base` of the base asset, when it is a whole multiple of the
    /// contract (linear and spot); `None` otherwise.
    pub fn venue_qty(&self, base: Qty) -> Option<Qty> {
        if self.kind == InstrumentKind::InversePerpetual {
            return None;
        }
        let num = i128::from(base.units()) * SCALE_I;
        let per = self.base_per_unit();
        if per == 0 || num % per != 0 {
            return None;
        }
        i64::try_from(num / per).ok().map(Qty::from_units)
    }

    /// An amount a strategy books as price × venue quantity (`10^-16`), as the quote value it
    /// is: times the contract's base per unit (1 for spot and quantities in base). `None` for
    /// inverse contracts, whose value is not linear in the price.
    pub fn quote_of_price_qty(&self, v: i128) -> Option<i128> {
        (self.kind != InstrumentKind::InversePerpetual).then(|| v * self.base_per_unit() / SCALE_I)
    }

    /// The quote-asset value of `qty` at `price`, `10^-16` quote units: `price × base` for
    /// spot and linear, `qty × size` for inverse (a contract is worth its size whatever the
    /// price).
    pub fn quote_value(&self, qty: Qty, price: Price) -> i128 {
        let q = i128::from(qty.units());
        match (self.kind, self.unit) {
            (InstrumentKind::InversePerpetual, _) => q * i128::from(self.size.units()),
            // `× SCALE / SCALE` is exact: left out, the 128-bit division (`__divti3`, most
            // of a spot order check's cost) goes with it.
            (_, QtyUnit::Base) => i128::from(price.units()) * q,
            _ => i128::from(price.units()) * q * self.base_per_unit() / SCALE_I,
        }
    }

    /// The base-asset value of inverse contracts at `price`: `qty × size / price`, `10^-16`
    /// base units, truncated. Zero for a non-positive price.
    fn inverse_base_value(&self, qty: Qty, price: Price) -> i128 {
        if price.units() <= 0 {
            return 0;
        }
        i128::from(qty.units()) * i128::from(self.size.units()) * SCALE_I
            / i128::from(price.units())
    }

    /// The position's value in the settlement asset at `price`, `10^-16`: what margin,
    /// funding and notional limits are taken on.
    pub fn settle_value(&self, qty: Qty, price: Price) -> i128 {
        match self.kind {
            InstrumentKind::InversePerpetual => self.inverse_base_value(qty, price),
            _ => self.quote_value(qty, price),
        }
    }

    /// What a fill of `qty` at `price` books as cost into an average-cost position
    /// ([`crate::risk::Position`]), in the settlement asset at `10^-16`: its quote value for
    /// spot and linear; minus its base value for inverse, so that the same average-cost
    /// arithmetic yields inverse PnL (`qty × size × (1/entry − 1/exit)`) in the base asset.
    pub fn fill_cost(&self, qty: Qty, price: Price) -> Notional {
        Notional(match self.kind {
            InstrumentKind::InversePerpetual => -self.inverse_base_value(qty, price),
            _ => self.quote_value(qty, price),
        })
    }

    /// Unrealized PnL at `mark` of a position of `qty` venue units (signed, `10^-8`) whose
    /// open cost is `cost` (as booked by [`Contract::fill_cost`]), settlement asset at
    /// `10^-16`.
    pub fn unrealized(&self, qty: i64, cost: i128, mark: Price) -> i128 {
        let v = self.fill_cost(Qty::from_units(qty.abs()), mark).0;
        v * i128::from(qty.signum()) - cost
    }

    /// The average entry price of a position of `qty` (unsigned) whose open cost is `cost`
    /// (unsigned, as booked by [`Contract::fill_cost`]), truncated to `10^-8`. `None` for
    /// an empty position.
    pub fn entry_price(&self, qty: Qty, cost: i128) -> Option<Price> {
        if qty.units() <= 0 || cost <= 0 {
            return None;
        }
        let q = i128::from(qty.units());
        let units = match self.kind {
            // cost = qty · size / entry (base at 10^-16).
            InstrumentKind::InversePerpetual => q * i128::from(self.size.units()) * SCALE_I / cost,
            // cost = entry · base (quote at 10^-16).
            _ => cost * SCALE_I / (q * self.base_per_unit()),
        };
        i64::try_from(units).ok().map(Price::from_units)
    }

    /// PnL of holding `qty` from `entry` to `exit` on `side` (a long is `Buy`), settlement
    /// asset at `10^-16`.
    pub fn pnl(&self, side: Side, qty: Qty, entry: Price, exit: Price) -> i128 {
        let d = self.fill_cost(qty, exit).0 - self.fill_cost(qty, entry).0;
        d * i128::from(side.sign())
    }

    /// The funding a position of `qty` venue units (signed: long positive) pays at `mark` and
    /// `rate`: positive is paid by the holder, negative received. A positive rate makes longs
    /// pay shorts. Settlement asset at `10^-16`: position value × rate.
    pub fn funding(&self, qty: i64, mark: Price, rate: FundingRate) -> i128 {
        let value = self.settle_value(Qty::from_units(qty.abs()), mark);
        value * i128::from(rate.units()) / SCALE_I * i128::from(qty.signum())
    }

    /// Initial margin of `qty` at `price` with `leverage`: value / leverage, settlement asset
    /// at `10^-16`, rounded up. `None` for a non-positive leverage.
    pub fn initial_margin(&self, qty: Qty, price: Price, leverage: Rate) -> Option<i128> {
        if leverage.units() <= 0 {
            return None;
        }
        let v = self.settle_value(qty, price);
        Some(div_round(v * SCALE_I, i128::from(leverage.units()), true))
    }

    /// The price at which a position of `qty` on `side` (long = `Buy`) entered at `entry`,
    /// backed by `margin` (settlement asset, `10^-16`), is liquidated with the maintenance
    /// margin rate `mmr`; rounded to `tick` toward the entry. `None` when no price liquidates
    /// it (the margin covers any move) or the inputs are degenerate.
    pub fn liquidation_price(
        &self,
        side: Side,
        qty: Qty,
        entry: Price,
        margin: i128,
        mmr: Rate,
        tick: Price,
    ) -> Option<Price> {
        if qty.units() <= 0 || entry.units() <= 0 || tick.units() <= 0 {
            return None;
        }
        let long = side == Side::Buy;
        let at_entry = self.settle_value(qty, entry);
        let maintenance = at_entry * i128::from(mmr.units()) / SCALE_I;
        let spare = margin - maintenance;
        // The exact liquidation price as num / den in price units of 10^-8, rounded toward
        // the entry: up for a long, down for a short.
        let units = match self.kind {
            InstrumentKind::InversePerpetual => {
                // Long: qty·size / P = value_at_entry + spare; short: … − spare.
                let den = if long {
                    at_entry + spare
                } else {
                    at_entry - spare
                };
                if den <= 0 {
                    return None;
                }
                let num = i128::from(qty.units()) * i128::from(self.size.units()) * SCALE_I;
                div_round(num, den, long)
            }
            _ => {
                // P = entry ∓ spare / base.
                let per_base = i128::from(qty.units()) * self.base_per_unit();
                let shift = div_round(spare * SCALE_I, per_base, !long);
                let p = if long {
                    i128::from(entry.units()) - shift
                } else {
                    i128::from(entry.units()) + shift
                };
                if p <= 0 {
                    return None;
                }
                p
            }
        };
        let t = i128::from(tick.units());
        let on_tick = div_round(units, t, long) * t;
        i64::try_from(on_tick).ok().map(Price::from_units)
    }
}

/// Converts `10^-16` settlement units to the `10^-8` of `Price`/`Qty`, truncated toward zero
/// (for records and reports of funding and PnL).
pub fn to_e8(v: i128) -> i64 {
    (v / SCALE_I).clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
}

/// The next funding time strictly after `now_ms` on a grid of `interval_ms` from the epoch
/// (Bybit, Binance and Delta fund at 00:00, 08:00 and 16:00 UTC: an 8-hour grid).
pub fn next_funding_ms(now_ms: u64, interval_ms: u64) -> u64 {
    if interval_ms == 0 {
        return u64::MAX;
    }
    (now_ms / interval_ms + 1) * interval_ms
}

#[cfg(test)]
mod tests {
    #[test]
    fn quote_value_in_base_units_is_the_scaled_product() {
        // The formula with the scale multiplied in and divided out again, as it was.
        let scaled = |p: i64, q: i64| i128::from(p) * i128::from(q) * SCALE_I / SCALE_I;
        let values = [
            0,
            1,
            7,
            99_999_999,
            SCALE,
            6_168_599_000_000,
            -3,
            i64::from(i32::MAX),
        ];
        for c in [Contract::SPOT, Contract::LINEAR_BASE] {
            for &p in &values {
                for &q in &values {
                    let v = c.quote_value(Qty::from_units(q), Price::from_units(p));
                    assert_eq!(v, scaled(p, q), "{p} × {q}");
                }
            }
        }
    }

    use super::*;

    fn p(s: &str) -> Price {
        Price::parse(s).unwrap()
    }
    fn q(s: &str) -> Qty {
        Qty::parse(s).unwrap()
    }
    fn r(s: &str) -> Rate {
        Rate::parse(s).unwrap()
    }
    fn fr(s: &str) -> FundingRate {
        FundingRate::parse(s).unwrap()
    }
    /// A decimal string to 10^-16 units.
    fn e16(s: &str) -> i128 {
        let neg = s.starts_with('-');
        let s = s.trim_start_matches('-');
        let (int, frac) = s.split_once('.').unwrap_or((s, ""));
        let frac = format!("{frac:0<16}");
        let v = int.parse::<i128>().unwrap() * 10i128.pow(16) + frac.parse::<i128>().unwrap();
        if neg { -v } else { v }
    }

    const DELTA_BTC: Contract = Contract {
        kind: InstrumentKind::LinearPerpetual,
        unit: QtyUnit::Contracts,
        size: Qty::from_units(100_000), // 0.001 BTC per contract
    };
    const INVERSE_USD: Contract = Contract {
        kind: InstrumentKind::InversePerpetual,
        unit: QtyUnit::Contracts,
        size: Qty::from_units(100_000_000), // 1 USD per contract
    };

    #[test]
    fn kinds_units_and_modes_parse_their_config_spellings() {
        for k in InstrumentKind::ALL {
            assert_eq!(InstrumentKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(
            InstrumentKind::parse("linear-perpetual"),
            Some(InstrumentKind::LinearPerpetual)
        );
        assert_eq!(InstrumentKind::parse("perp"), None);
        assert_eq!(QtyUnit::parse("contracts"), Some(QtyUnit::Contracts));
        assert_eq!(MarginMode::parse("cross"), Some(MarginMode::Cross));
        assert!(!InstrumentKind::Spot.is_perpetual());
    }

    #[test]
    fn contracts_convert_to_base_exactly_or_not_at_all() {
        assert_eq!(DELTA_BTC.base_qty(q("20")), Some(q("0.02")));
        assert_eq!(DELTA_BTC.venue_qty(q("0.02")), Some(q("20")));
        // Half a contract is a quantity (whether the venue takes it is the lot size's
        // business); 10^-8 of a contract is 10^-11 BTC, which a base quantity cannot hold.
        assert_eq!(DELTA_BTC.venue_qty(q("0.0005")), Some(q("0.5")));
        assert_eq!(DELTA_BTC.base_qty(q("0.00000001")), None);
        assert_eq!(Contract::LINEAR_BASE.base_qty(q("1.5")), Some(q("1.5")));
        assert_eq!(Contract::SPOT.venue_qty(q("1.5")), Some(q("1.5")));
        assert_eq!(INVERSE_USD.base_qty(q("100")), None);
        assert_eq!(INVERSE_USD.venue_qty(q("1")), None);
    }

    #[test]
    fn values_in_quote_and_in_the_settlement_asset() {
        // 20 contracts of 0.001 BTC at 60 000: 0.02 BTC, 1 200 USDT.
        assert_eq!(DELTA_BTC.quote_value(q("20"), p("60000")), e16("1200"));
        assert_eq!(DELTA_BTC.settle_value(q("20"), p("60000")), e16("1200"));
        // 1 000 USD contracts are worth 1 000 USD at any price, 0.02 BTC at 50 000.
        assert_eq!(INVERSE_USD.quote_value(q("1000"), p("50000")), e16("1000"));
        assert_eq!(INVERSE_USD.settle_value(q("1000"), p("50000")), e16("0.02"));
        // 100 USD at 30 000: 0.00333… BTC, truncated at 10^-16.
        assert_eq!(
            INVERSE_USD.settle_value(q("100"), p("30000")),
            e16("0.0033333333333333")
        );
    }

    #[test]
    fn pnl_long_and_short_linear_and_inverse() {
        let lin = Contract::LINEAR_BASE;
        assert_eq!(
            lin.pnl(Side::Buy, q("0.5"), p("50000"), p("51000")),
            e16("500")
        );
        assert_eq!(
            lin.pnl(Side::Sell, q("0.5"), p("50000"), p("51000")),
            e16("-500")
        );
        assert_eq!(
            DELTA_BTC.pnl(Side::Buy, q("20"), p("60000"), p("60500")),
            e16("10")
        );
        // Inverse: 1 000 USD long from 50 000 to 40 000: 1000/50000 − 1000/40000 = −0.005 BTC.
        assert_eq!(
            INVERSE_USD.pnl(Side::Buy, q("1000"), p("50000"), p("40000")),
            e16("-0.005")
        );
        assert_eq!(
            INVERSE_USD.pnl(Side::Sell, q("1000"), p("50000"), p("40000")),
            e16("0.005")
        );
        // And up to 60 000: 0.02 − 0.0166666666666666 (truncated) = 0.0033333333333334.
        assert_eq!(
            INVERSE_USD.pnl(Side::Buy, q("1000"), p("50000"), p("60000")),
            e16("0.0033333333333334")
        );
    }

    #[test]
    fn unrealized_from_the_booked_cost_agrees_with_pnl() {
        // Long 1 000 USD inverse from 50 000, marked at 40 000.
        let cost = INVERSE_USD.fill_cost(q("1000"), p("50000")).0;
        assert_eq!(
            INVERSE_USD.unrealized(q("1000").units(), cost, p("40000")),
            e16("-0.005")
        );
        // Short 0.5 BTC linear from 50 000 (cost signed like the position), marked at 49 000.
        let cost = -Contract::LINEAR_BASE.fill_cost(q("0.5"), p("50000")).0;
        assert_eq!(
            Contract::LINEAR_BASE.unrealized(-q("0.5").units(), cost, p("49000")),
            e16("500")
        );
    }

    /// A grid's price × quantity of 30 Delta contracts at 60 000 is 1 800 USD (0.03 BTC), not
    /// 1 800 000; in base units it is itself; inverse has no linear value.
    #[test]
    fn price_times_venue_quantity_as_quote_value() {
        let booked = i128::from(p("60000").units()) * i128::from(q("30").units());
        assert_eq!(DELTA_BTC.quote_of_price_qty(booked), Some(e16("1800")));
        assert_eq!(
            Contract::LINEAR_BASE.quote_of_price_qty(e16("1800")),
            Some(e16("1800"))
        );
        assert_eq!(Contract::SPOT.quote_of_price_qty(e16("5")), Some(e16("5")));
        assert_eq!(INVERSE_USD.quote_of_price_qty(e16("5")), None);
    }

    #[test]
    fn entry_price_from_the_booked_cost() {
        // 0.02 BTC (20 contracts) for 1 200 USDT: 60 000.
        assert_eq!(
            DELTA_BTC.entry_price(q("20"), e16("1200")),
            Some(p("60000"))
        );
        // 1 000 USD at 50 000 and 1 000 at 40 000: 0.045 BTC for 2 000 USD, a harmonic mean
        // of 44 444.44444444 (truncated).
        let cost = INVERSE_USD.fill_cost(q("1000"), p("50000")).0
            + INVERSE_USD.fill_cost(q("1000"), p("40000")).0;
        assert_eq!(
            INVERSE_USD.entry_price(q("2000"), -cost),
            Some(p("44444.44444444"))
        );
        assert_eq!(Contract::LINEAR_BASE.entry_price(Qty::ZERO, 1), None);
    }

    #[test]
    fn funding_longs_pay_shorts_when_the_rate_is_positive() {
        let lin = Contract::LINEAR_BASE;
        // 2 BTC long at mark 30 000, rate 0.01 %: pays 6 USDT; the short receives 6.
        assert_eq!(
            lin.funding(q("2").units(), p("30000"), fr("0.0001")),
            e16("6")
        );
        assert_eq!(
            lin.funding(-q("2").units(), p("30000"), fr("0.0001")),
            e16("-6")
        );
        // A negative rate: the long receives.
        assert_eq!(
            lin.funding(q("2").units(), p("30000"), fr("-0.000125")),
            e16("-7.5")
        );
        // Inverse: 10 000 USD long at mark 50 000 (0.2 BTC) × 0.01 % = 0.00002 BTC.
        assert_eq!(
            INVERSE_USD.funding(q("10000").units(), p("50000"), fr("0.0001")),
            e16("0.00002")
        );
        assert_eq!(lin.funding(0, p("30000"), fr("0.0001")), 0);
    }

    #[test]
    fn initial_margin_is_value_over_leverage() {
        assert_eq!(
            Contract::LINEAR_BASE.initial_margin(q("0.5"), p("50000"), r("10")),
            Some(e16("2500"))
        );
        assert_eq!(
            INVERSE_USD.initial_margin(q("1000"), p("50000"), r("4")),
            Some(e16("0.005"))
        );
        // 100 / 3 rounds up.
        assert_eq!(
            Contract::LINEAR_BASE.initial_margin(q("1"), p("100"), r("3")),
            Some(e16("33.3333333333333334"))
        );
        assert_eq!(
            Contract::LINEAR_BASE.initial_margin(q("1"), p("100"), Rate::ZERO),
            None
        );
    }

    #[test]
    fn liquidation_prices_linear_and_inverse_isolated() {
        let lin = Contract::LINEAR_BASE;
        let lev = r("10");
        let mmr = r("0.005");
        let tick = p("0.5");
        // Linear 1 BTC at 50 000, 10×: margin 5 000, maintenance 250.
        // Long: 50 000 − 4 750 = 45 250; short: 54 750 (= entry × (1 ∓ 1/10 ± 0.005)).
        let im = lin.initial_margin(q("1"), p("50000"), lev).unwrap();
        assert_eq!(im, e16("5000"));
        assert_eq!(
            lin.liquidation_price(Side::Buy, q("1"), p("50000"), im, mmr, tick),
            Some(p("45250"))
        );
        assert_eq!(
            lin.liquidation_price(Side::Sell, q("1"), p("50000"), im, mmr, tick),
            Some(p("54750"))
        );
        // Inverse 1 000 USD at 50 000, 10×: long at 50 000 / 1.095 = 45 662.100456…, rounded
        // up to the tick: 45 662.5; short at 50 000 / 0.905 = 55 248.618784…, rounded down:
        // 55 248.5.
        let im = INVERSE_USD
            .initial_margin(q("1000"), p("50000"), lev)
            .unwrap();
        assert_eq!(im, e16("0.002"));
        assert_eq!(
            INVERSE_USD.liquidation_price(Side::Buy, q("1000"), p("50000"), im, mmr, tick),
            Some(p("45662.5"))
        );
        assert_eq!(
            INVERSE_USD.liquidation_price(Side::Sell, q("1000"), p("50000"), im, mmr, tick),
            Some(p("55248.5"))
        );
        // Contracts of 0.001 BTC: 20 contracts at 60 000 with 120 USDT of margin (10×),
        // maintenance 6: long at 60 000 − 114 / 0.02 = 54 300.
        assert_eq!(
            DELTA_BTC.liquidation_price(Side::Buy, q("20"), p("60000"), e16("120"), mmr, tick),
            Some(p("54300"))
        );
        // A long backed by more margin than its value cannot be liquidated (1×, no price
        // above zero); an inverse short backed by more than its value neither.
        let full = lin.initial_margin(q("1"), p("50000"), r("1")).unwrap() + e16("1000");
        assert_eq!(
            lin.liquidation_price(Side::Buy, q("1"), p("50000"), full, mmr, tick),
            None
        );
        assert_eq!(
            INVERSE_USD.liquidation_price(
                Side::Sell,
                q("1000"),
                p("50000"),
                e16("0.03"),
                mmr,
                tick
            ),
            None
        );
    }

    #[test]
    fn funding_times_on_an_eight_hour_grid() {
        let h8 = 8 * 3_600_000;
        // 2024-08-08 05:00 UTC → 08:00 UTC; exactly at 08:00 → 16:00.
        assert_eq!(next_funding_ms(1_723_093_200_000, h8), 1_723_104_000_000);
        assert_eq!(next_funding_ms(1_723_104_000_000, h8), 1_723_132_800_000);
        assert_eq!(to_e8(e16("-7.5")), -750_000_000);
    }
}
