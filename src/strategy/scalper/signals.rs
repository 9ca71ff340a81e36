//! The scalper's decisions as pure functions over integers: the entry filter on the market's
//! spread, momentum over the last mids, the entry size (band, throttle, drawdown, balance
//! cap, lot), the fee filter, the venue choice and the exits.

use std::time::Duration;

use crate::types::{Price, Qty, SCALE, Side, UnixNanos};

use super::params::{BandParams, Fees};

const PPM: i128 = 1_000_000;

/// The market's spread in ppm of its mid (0 for a crossed or empty book).
pub fn spread_ppm(bid: Price, ask: Price) -> i64 {
    let (b, a) = (i128::from(bid.units()), i128::from(ask.units()));
    if b <= 0 || a <= b {
        return 0;
    }
    // (a − b) / ((a + b) / 2) × 10^6
    ((a - b) * 2 * PPM / (a + b)) as i64
}

/// The entry filter: the market's spread is at least `min_ppm` of its mid (exact).
pub fn spread_ok(bid: Price, ask: Price, min_ppm: u32) -> bool {
    let (b, a) = (i128::from(bid.units()), i128::from(ask.units()));
    b > 0 && a > b && (a - b) * 2 * PPM >= i128::from(min_ppm) * (a + b)
}

/// The last mids of one market, oldest first: a ring of `window` slots allocated once.
#[derive(Debug, Clone)]
pub struct Momentum {
    mids: Vec<i64>,
    /// Where the next mid goes.
    head: usize,
    len: usize,
}

impl Momentum {
    pub fn new(window: usize) -> Self {
        debug_assert!(window >= 2, "Invariant: a momentum window holds two mids or more");
        Self {
            mids: vec![0; window],
            head: 0,
            len: 0,
        }
    }

    pub fn push(&mut self, mid: Price) {
        self.mids[self.head] = mid.units();
        self.head = (self.head + 1) % self.mids.len();
        self.len = (self.len + 1).min(self.mids.len());
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn clear(&mut self) {
        self.len = 0;
    }

    fn oldest(&self) -> i64 {
        let n = self.mids.len();
        self.mids[(self.head + n - self.len) % n]
    }

    fn newest(&self) -> i64 {
        let n = self.mids.len();
        self.mids[(self.head + n - 1) % n]
    }

    /// The change from the oldest kept mid to the newest, ppm of the oldest; `None` with
    /// fewer than `min` mids.
    pub fn change_ppm(&self, min: usize) -> Option<i64> {
        if self.len < min.max(2) {
            return None;
        }
        let first = i128::from(self.oldest());
        if first <= 0 {
            return None;
        }
        Some(((i128::from(self.newest()) - first) * PPM / first) as i64)
    }

    /// Buy on a rise of at least `eps_ppm`, sell on a fall of as much; `None` otherwise.
    pub fn signal(&self, min: usize, eps_ppm: u32) -> Option<Side> {
        let c = self.change_ppm(min)?;
        if c.unsigned_abs() < u64::from(eps_ppm) || c == 0 {
            return None;
        }
        Some(if c > 0 { Side::Buy } else { Side::Sell })
    }
}

/// `max(0.4, 1 − 0.6 × loss / max_loss)` for today's loss (≤ 0 when the day is up), both in
/// the same units.
pub fn drawdown_factor(loss: i128, max_loss: i128) -> f64 {
    if loss <= 0 || max_loss <= 0 {
        return 1.0;
    }
    let ratio = (loss as f64 / max_loss as f64).min(1.0);
    (1.0 - 0.6 * ratio).max(0.4)
}

/// The size of an entry at `price`: the band's quote size × its throttle × the drawdown
/// factor, at most `cap_ppm` of `available` (quote for a buy; base for a sell, since a spot
/// short sells only what is held), rounded down to the lot. Zero when nothing fits.
pub fn entry_qty(
    band: &BandParams,
    drawdown: f64,
    side: Side,
    price: Price,
    available: Qty,
    cap_ppm: u32,
    lot: Qty,
) -> Qty {
    if !price.is_positive() || !lot.is_positive() {
        return Qty::ZERO;
    }
    let quote = (band.quote_size.units() as f64 * band.throttle * drawdown).floor() as i128;
    let cap = i128::from(available.units().max(0)) * i128::from(cap_ppm) / PPM;
    let p = i128::from(price.units());
    let qty = match side {
        Side::Buy => quote.min(cap) * i128::from(SCALE) / p,
        Side::Sell => (quote * i128::from(SCALE) / p).min(cap),
    };
    let lot = i128::from(lot.units());
    Qty::from_units((qty / lot * lot) as i64)
}

/// The fee filter. The expected edge of an entry is what a winning exit earns: the take-profit
/// move of the mid, less the spread an IOC entry pays (it buys at the ask and its exit sells
/// at the bid: half a spread each way; a post-only entry joins the near touch and pays none).
/// It must beat the round trip's fees: entry (maker when post-only, else taker) plus the
/// IOC exit's taker fee.
pub fn edge_pays(take_profit_ppm: u32, spread_ppm: i64, fees: Fees, post_only: bool) -> bool {
    let (edge, entry_fee) = if post_only {
        (i64::from(take_profit_ppm), fees.maker_ppm)
    } else {
        (i64::from(take_profit_ppm) - spread_ppm, fees.taker_ppm)
    };
    edge > i64::from(entry_fee) + i64::from(fees.taker_ppm)
}

/// One venue's case for entering a market: its band's rank (0 = best) and the spread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Candidate {
    /// The caller's index (which market).
    pub market: usize,
    pub band_rank: usize,
    pub spread_ppm: i64,
}

/// The candidate in the better band, then with the wider spread (the first on a tie).
pub fn choose(candidates: &[Candidate]) -> Option<Candidate> {
    candidates.iter().copied().reduce(|best, c| {
        if (c.band_rank, -c.spread_ppm) < (best.band_rank, -best.spread_ppm) {
            c
        } else {
            best
        }
    })
}

/// Why a trade is closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitReason {
    TakeProfit,
    StopLoss,
    TimeStop,
}

impl ExitReason {
    pub fn as_str(self) -> &'static str {
        match self {
            ExitReason::TakeProfit => "take_profit",
            ExitReason::StopLoss => "stop_loss",
            ExitReason::TimeStop => "time_stop",
        }
    }
}

/// The exits a trade is watched for, in ppm of the mid and time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Exits {
    pub take_profit_ppm: u32,
    pub stop_loss_ppm: u32,
    pub time_stop: Duration,
}

/// The exit a trade entered on `side` when the mid was `entry_mid` calls for at `mid`: the
/// mid's move in its favour reaching the take-profit, against it the stop-loss (moves of the
/// mid, so the spread paid on entry does not stop a trade by itself), then the time stop.
pub fn exit_reason(
    side: Side,
    entry_mid: Price,
    mid: Price,
    opened_at: UnixNanos,
    now: UnixNanos,
    x: &Exits,
) -> Option<ExitReason> {
    let e = i128::from(entry_mid.units());
    let (tp, sl) = (i128::from(x.take_profit_ppm), i128::from(x.stop_loss_ppm));
    let m = i128::from(mid.units()) * PPM;
    let hit = match side {
        _ if e <= 0 || m <= 0 => None,
        Side::Buy if m >= e * (PPM + tp) => Some(ExitReason::TakeProfit),
        Side::Buy if m <= e * (PPM - sl) => Some(ExitReason::StopLoss),
        Side::Sell if m <= e * (PPM - tp) => Some(ExitReason::TakeProfit),
        Side::Sell if m >= e * (PPM + sl) => Some(ExitReason::StopLoss),
        _ => None,
    };
    hit.or_else(|| {
        (now.0.saturating_sub(opened_at.0) >= x.time_stop.as_nanos() as u64)
            .then_some(ExitReason::TimeStop)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strategy::scalper::params::ScalperParams;

    fn px(s: &str) -> Price {
        Price::parse(s).unwrap()
    }
    fn q(s: &str) -> Qty {
        Qty::parse(s).unwrap()
    }

    #[test]
    fn the_spread_filter_compares_the_markets_spread_in_percent_of_mid() {
        // (ask − bid) / mid: 0.03 / 100.015 = 0.029995 % < 0.03 %; 0.04 / 100.02 = 0.03999 %.
        let table = [
            ("100.00", "100.03", 300, false),
            ("100.00", "100.04", 300, true),
            ("100.00", "100.04", 500, false),
            ("100.00", "100.10", 1_000, false), // 0.1 / 100.05 = 0.09995 %
            ("100.00", "100.11", 1_000, true),
            ("100.00", "100.00", 0, false),
            ("100.05", "100.00", 0, false),
        ];
        for (bid, ask, min, want) in table {
            assert_eq!(spread_ok(px(bid), px(ask), min), want, "{bid}/{ask} vs {min} ppm");
        }
        assert_eq!(spread_ppm(px("100.00"), px("100.05")), 499);
        assert_eq!(spread_ppm(px("150.00"), px("150.15")), 999);
    }

    #[test]
    fn momentum_needs_the_minimum_of_mids_and_uses_the_oldest_kept() {
        let mut m = Momentum::new(10);
        for mid in ["100.00", "100.005", "100.01", "100.02"] {
            m.push(px(mid));
        }
        // Four mids: too few (min 5), whatever the move.
        assert_eq!((m.change_ppm(5), m.signal(5, 100)), (None, None));
        m.push(px("100.02"));
        assert_eq!(m.change_ppm(5), Some(200));
        assert_eq!(m.signal(5, 100), Some(Side::Buy));
        assert_eq!(m.signal(5, 201), None);
        // Full buffer: 100 then nine mids at 100.05 (+500 ppm); the eleventh push drops 100.
        let mut full = Momentum::new(10);
        full.push(px("100"));
        for _ in 0..9 {
            full.push(px("100.05"));
        }
        assert_eq!((full.len(), full.change_ppm(5)), (10, Some(500)));
        full.push(px("100.05"));
        assert_eq!((full.len(), full.change_ppm(5)), (10, Some(0)));
        assert_eq!(full.signal(5, 100), None);
        // Down by exactly eps (−100 ppm) is a sell; clearing starts over.
        let mut down = Momentum::new(10);
        for mid in ["100", "100", "100", "99.995", "99.99"] {
            down.push(px(mid));
        }
        assert_eq!(down.signal(5, 100), Some(Side::Sell));
        down.clear();
        assert_eq!(down.signal(5, 100), None);
    }

    #[test]
    fn size_is_the_bands_quote_size_times_throttle_times_drawdown_capped_and_on_the_lot() {
        let p = ScalperParams::from_table(&toml::Table::new()).unwrap();
        let (lot, price, plenty) = (q("0.001"), px("150"), q("100000"));
        let size = |band: &str, dd: f64, side: Side, avail: Qty| {
            let (_, b) = p.band(Some(band));
            entry_qty(b, dd, side, price, avail, 950_000, lot).to_string()
        };
        // 600 × 1.0 / 150 = 4; 550 × 0.9 = 495 → 3.3; 500 × 0.7 = 350 → 2.333;
        // 350 × 0.5 = 175 → 1.166 (down to the lot).
        assert_eq!(size("aggressive", 1.0, Side::Buy, plenty), "4");
        assert_eq!(size("normal", 1.0, Side::Buy, plenty), "3.3");
        assert_eq!(size("cautious", 1.0, Side::Buy, plenty), "2.333");
        assert_eq!(size("defensive", 1.0, Side::Buy, plenty), "1.166");
        assert_eq!(size("none", 1.0, Side::Buy, plenty), "1.166");
        // Drawdown: 10 of 50 lost → 0.88: 600 × 0.88 = 528 → 3.52.
        assert_eq!(size("aggressive", drawdown_factor(10, 50), Side::Buy, plenty), "3.52");
        // Balance cap: 95 % of 300 USDT free = 285 → 1.9; a short sells at most 95 % of the
        // 2 SOL held = 1.9; with nothing held, nothing.
        assert_eq!(size("aggressive", 1.0, Side::Buy, q("300")), "1.9");
        assert_eq!(size("aggressive", 1.0, Side::Sell, q("2")), "1.9");
        assert_eq!(size("aggressive", 1.0, Side::Sell, Qty::ZERO), "0");
    }

    #[test]
    fn the_drawdown_factor_falls_with_the_days_loss_to_a_floor_of_0_4() {
        let table = [
            (-20, 1.0),
            (0, 1.0),
            (10, 0.88),
            (25, 0.7),
            (40, 0.52),
            (50, 0.4),
            (80, 0.4),
        ];
        for (loss, want) in table {
            let got = drawdown_factor(loss, 50);
            assert!((got - want).abs() < 1e-12, "loss {loss}: {got} != {want}");
        }
    }

    #[test]
    fn the_better_band_wins_then_the_wider_spread() {
        let c = |market, band_rank, spread_ppm| Candidate {
            market,
            band_rank,
            spread_ppm,
        };
        // Binance normal with the wider spread, OKX aggressive: OKX.
        assert_eq!(choose(&[c(0, 1, 600), c(1, 0, 400)]).unwrap().market, 1);
        // Same band: the wider spread.
        assert_eq!(choose(&[c(0, 2, 700), c(1, 2, 900)]).unwrap().market, 1);
        // A tie keeps the first.
        assert_eq!(choose(&[c(0, 0, 500), c(1, 0, 500)]).unwrap().market, 0);
        assert_eq!(choose(&[]), None);
    }

    #[test]
    fn the_fee_filter_needs_the_take_profit_to_beat_the_round_trip() {
        let binance = Fees {
            maker_ppm: -100,
            taker_ppm: 400,
        };
        // IOC: 1500 − a 399 ppm spread = 1101 > 400 + 400.
        assert!(edge_pays(1_500, 399, binance, false));
        // A wide spread eats the edge: 1500 − 800 = 700.
        assert!(!edge_pays(1_500, 800, binance, false));
        // Exactly the fees does not pay.
        assert!(!edge_pays(1_200, 400, binance, false));
        // Post-only pays no spread and the maker rate: 800 > −100 + 400.
        assert!(edge_pays(800, 399, binance, true));
    }

    #[test]
    fn each_exit_fires_on_its_own_condition() {
        let x = Exits {
            take_profit_ppm: 1_500,
            stop_loss_ppm: 1_000,
            time_stop: Duration::from_secs(180),
        };
        let t0 = UnixNanos(1_000_000_000_000);
        let later = |s: u64| t0.plus_nanos(s * 1_000_000_000);
        let e = px("100");
        let table = [
            // A long: the mid up 0.15 % takes profit, down 0.10 % stops the loss.
            (Side::Buy, "100.15", 1, Some(ExitReason::TakeProfit)),
            (Side::Buy, "100.149", 1, None),
            (Side::Buy, "99.90", 1, Some(ExitReason::StopLoss)),
            (Side::Buy, "99.901", 1, None),
            (Side::Buy, "100.05", 179, None),
            (Side::Buy, "100.05", 180, Some(ExitReason::TimeStop)),
            // A short: the other way round.
            (Side::Sell, "99.85", 1, Some(ExitReason::TakeProfit)),
            (Side::Sell, "100.10", 1, Some(ExitReason::StopLoss)),
            (Side::Sell, "100.09", 1, None),
            (Side::Sell, "99.95", 200, Some(ExitReason::TimeStop)),
        ];
        for (side, mid, secs, want) in table {
            let got = exit_reason(side, e, px(mid), t0, later(secs), &x);
            assert_eq!(got, want, "{side:?} mid {mid} after {secs} s");
        }
    }
}
