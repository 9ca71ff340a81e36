//! Time bars built from trade prints: one builder per instrument and width, fed every trade of
//! its instrument in arrival order and the clock. A bar covers `[open_time, open_time + width)`
//! of the venue's trade time; it closes when a trade of a later bar arrives, or when the clock
//! passes its end by the grace (so a quiet market still closes its bars on time). Bars with no
//! trade are emitted as flat bars at the previous close, marked `flat`.
//!
//! The clock that closes quiet bars is the venue's, as the last trade showed it: local time
//! less how far the last trade's receipt was behind its trade time. Live, that is the
//! delivery delay (milliseconds); against a replayed recording, whose trade times are the
//! recording's, it is the recording's age, so bars still follow the recording's time.

use crate::types::{InstrumentId, Notional, Price, Qty, Side, TradeEvent, UnixNanos};

/// One closed time bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Candle {
    pub instrument: InstrumentId,
    /// Bar width in nanoseconds.
    pub width_ns: u64,
    /// Start of the bar (venue trade time, aligned to the width).
    pub open_time: UnixNanos,
    pub open: Price,
    pub high: Price,
    pub low: Price,
    pub close: Price,
    /// Base quantity traded.
    pub volume: Qty,
    /// Base quantity bought by takers (aggressor buy).
    pub buy_volume: Qty,
    /// Base quantity sold by takers (aggressor sell).
    pub sell_volume: Qty,
    /// Quote quantity traded (exact).
    pub quote_volume: Notional,
    pub trades: u32,
    /// No trade fell in this bar: every price is the previous close and volumes are zero.
    pub flat: bool,
    /// Trade prints were lost (the strategy fell behind) while this bar was open: its figures
    /// may be short.
    pub incomplete: bool,
}

impl Candle {
    pub fn close_time(&self) -> UnixNanos {
        self.open_time.plus_nanos(self.width_ns)
    }
}

/// Builds one instrument's bars of one width.
#[derive(Debug, Clone)]
pub struct CandleBuilder {
    instrument: InstrumentId,
    width_ns: u64,
    grace_ns: u64,
    open: Option<Candle>,
    /// Close of the last emitted bar: the price of flat bars.
    last_close: Option<Price>,
    /// Trades older than the open bar (out of order across a bar boundary): not in any bar.
    pub late_trades: u64,
    /// Flat bars emitted so far.
    pub flat_bars: u64,
    /// Receipt minus trade time of the last trade: local clock → venue clock.
    lag_ns: i64,
}

/// At most this many flat bars are emitted for one gap (a day of 1 s bars); a longer silence
/// restarts the series at the next trade.
const MAX_FLAT_RUN: u64 = 86_400;

impl CandleBuilder {
    /// `grace_ns`: how long past a bar's end the clock must be before the bar closes without
    /// a trade of the next bar (covers the venue's clock ahead of ours and delivery delay).
    pub fn new(instrument: InstrumentId, width_ns: u64, grace_ns: u64) -> Self {
        assert!(width_ns > 0, "a candle width must be positive");
        Self {
            instrument,
            width_ns,
            grace_ns,
            open: None,
            last_close: None,
            late_trades: 0,
            flat_bars: 0,
            lag_ns: 0,
        }
    }

    pub fn instrument(&self) -> InstrumentId {
        self.instrument
    }

    pub fn width_ns(&self) -> u64 {
        self.width_ns
    }

    fn bar_start(&self, t: UnixNanos) -> u64 {
        t.0 - t.0 % self.width_ns
    }

    /// The bar in progress, if any trade opened it.
    pub fn current(&self) -> Option<&Candle> {
        self.open.as_ref()
    }

    /// Prints were lost: the open bar (or the next one) is marked incomplete.
    pub fn mark_hole(&mut self) {
        if let Some(c) = &mut self.open {
            c.incomplete = true;
        }
    }

    /// Adds a trade of this builder's instrument; emits the bars it closes, oldest first.
    pub fn on_trade(&mut self, t: &TradeEvent, mut emit: impl FnMut(Candle)) {
        let lag = i128::from(t.recv_ts.0) - i128::from(t.trade_time.0);
        self.lag_ns = lag.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64;
        let start = self.bar_start(t.trade_time);
        if let Some(c) = &self.open
            && start < c.open_time.0
        {
            self.late_trades += 1;
            return;
        }
        if self.open.is_some_and(|c| start > c.open_time.0) {
            self.close_through(start, &mut emit);
        }
        let c = self.open.get_or_insert(Candle {
            instrument: self.instrument,
            width_ns: self.width_ns,
            open_time: UnixNanos(start),
            open: t.price,
            high: t.price,
            low: t.price,
            close: t.price,
            volume: Qty::ZERO,
            buy_volume: Qty::ZERO,
            sell_volume: Qty::ZERO,
            quote_volume: Notional(0),
            trades: 0,
            flat: false,
            incomplete: false,
        });
        if c.trades == 0 {
            // The bar's first trade (it may have been held open flat): it sets the open.
            (c.open, c.high, c.low, c.flat) = (t.price, t.price, t.price, false);
        }
        c.high = c.high.max(t.price);
        c.low = c.low.min(t.price);
        c.close = t.price;
        c.volume = Qty::from_units(c.volume.units() + t.qty.units());
        match t.aggressor {
            Side::Buy => c.buy_volume = Qty::from_units(c.buy_volume.units() + t.qty.units()),
            Side::Sell => c.sell_volume = Qty::from_units(c.sell_volume.units() + t.qty.units()),
        }
        c.quote_volume = Notional(c.quote_volume.0 + Notional::of(t.price, t.qty).0);
        c.trades += 1;
    }

    /// The clock moved to `now` (same time base as trade times): closes the open bar and any
    /// whole empty bars that ended at least `grace` ago.
    pub fn on_clock(&mut self, now: UnixNanos, mut emit: impl FnMut(Candle)) {
        let Some(c) = &self.open else { return };
        let venue_now = (i128::from(now.0) - i128::from(self.lag_ns)).max(0);
        let Some(ready) = u64::try_from(venue_now)
            .ok()
            .and_then(|v| v.checked_sub(self.grace_ns))
        else {
            return;
        };
        let end = c.open_time.0 + self.width_ns;
        if ready < end {
            return;
        }
        // Every bar that ended by `ready` closes; the bar `ready` falls in stays open (flat
        // until a trade arrives).
        let through = self.bar_start(UnixNanos(ready));
        self.close_through(through, &mut emit);
        if let Some(close) = self.last_close {
            self.open = Some(self.flat_bar(through, close));
        }
    }

    fn flat_bar(&self, start: u64, close: Price) -> Candle {
        Candle {
            instrument: self.instrument,
            width_ns: self.width_ns,
            open_time: UnixNanos(start),
            open: close,
            high: close,
            low: close,
            close,
            volume: Qty::ZERO,
            buy_volume: Qty::ZERO,
            sell_volume: Qty::ZERO,
            quote_volume: Notional(0),
            trades: 0,
            flat: true,
            incomplete: false,
        }
    }

    /// Emits the open bar and flat bars up to (not including) the bar starting at `next`.
    fn close_through(&mut self, next: u64, emit: &mut impl FnMut(Candle)) {
        let Some(c) = self.open.take() else {
            return;
        };
        if c.open_time.0 >= next {
            self.open = Some(c);
            return;
        }
        let close = c.close;
        if c.flat {
            self.flat_bars += 1;
        }
        emit(c);
        self.last_close = Some(close);
        let mut t = c.open_time.0 + self.width_ns;
        let mut run = 0;
        while t < next && run < MAX_FLAT_RUN {
            emit(self.flat_bar(t, close));
            self.flat_bars += 1;
            t += self.width_ns;
            run += 1;
        }
    }
}

/// A width in config form: `1s`, `5s`, `1m`, `5m`, `15m`, `1h`, `4h`, `1d` (any whole number
/// of seconds, minutes, hours or days).
pub fn parse_width(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let split = s
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(|| format!("candle width {s:?} has no unit (s, m, h or d)"))?;
    let (n, unit) = s.split_at(split);
    let n: u64 = n
        .parse()
        .map_err(|_| format!("candle width {s:?} does not start with a whole number"))?;
    let unit_ns: u64 = match unit {
        "s" => 1_000_000_000,
        "m" => 60_000_000_000,
        "h" => 3_600_000_000_000,
        "d" => 86_400_000_000_000,
        _ => return Err(format!("candle width {s:?}: the unit must be s, m, h or d")),
    };
    if n == 0 {
        return Err(format!("candle width {s:?} must be positive"));
    }
    n.checked_mul(unit_ns)
        .ok_or_else(|| format!("candle width {s:?} is too long"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{TradeId, VenueId};

    const S: u64 = 1_000_000_000;

    fn px(s: &str) -> Price {
        Price::parse(s).unwrap()
    }

    fn trade(at_ms: u64, price: &str, qty: &str, side: Side) -> TradeEvent {
        TradeEvent {
            venue: VenueId(0),
            instrument: InstrumentId(0),
            trade_id: TradeId::from_u64(at_ms),
            price: px(price),
            qty: Qty::parse(qty).unwrap(),
            aggressor: side,
            trade_time: UnixNanos(at_ms * 1_000_000),
            exchange_ts: UnixNanos(at_ms * 1_000_000),
            recv_ts: UnixNanos(at_ms * 1_000_000),
        }
    }

    #[test]
    fn bars_take_ohlc_volumes_and_close_on_the_next_bars_trade() {
        let mut b = CandleBuilder::new(InstrumentId(0), S, 0);
        let mut out = vec![];
        b.on_trade(&trade(10_000, "100", "1", Side::Buy), |c| out.push(c));
        b.on_trade(&trade(10_200, "103", "2", Side::Sell), |c| out.push(c));
        b.on_trade(&trade(10_900, "99", "1", Side::Buy), |c| out.push(c));
        assert!(out.is_empty());
        b.on_trade(&trade(11_100, "101", "1", Side::Buy), |c| out.push(c));
        assert_eq!(out.len(), 1);
        let c = out[0];
        assert_eq!(c.open_time, UnixNanos(10 * S));
        assert_eq!(
            (c.open, c.high, c.low, c.close),
            (px("100"), px("103"), px("99"), px("99"))
        );
        assert_eq!(c.volume, Qty::parse("4").unwrap());
        assert_eq!(c.buy_volume, Qty::parse("2").unwrap());
        assert_eq!(c.sell_volume, Qty::parse("2").unwrap());
        // 100×1 + 103×2 + 99×1 = 405 quote.
        assert_eq!(c.quote_volume, Notional::from_price(px("405")));
        assert_eq!(c.trades, 3);
        assert!(!c.flat && !c.incomplete);
    }

    #[test]
    fn quiet_bars_close_on_the_clock_as_flat_bars() {
        let mut b = CandleBuilder::new(InstrumentId(0), S, 100_000_000);
        let mut out = vec![];
        b.on_trade(&trade(10_500, "100", "1", Side::Buy), |c| out.push(c));
        // End of bar 10 is 11.0 s; with 100 ms grace it closes at 11.1 s, not before.
        b.on_clock(UnixNanos(11 * S + 50_000_000), |c| out.push(c));
        assert!(out.is_empty());
        b.on_clock(UnixNanos(11 * S + 100_000_000), |c| out.push(c));
        assert_eq!(out.len(), 1);
        assert!(!out[0].flat);
        // Three more seconds of silence: bars 11, 12, 13 close flat at 100.
        b.on_clock(UnixNanos(14 * S + 200_000_000), |c| out.push(c));
        assert_eq!(out.len(), 4);
        for (k, c) in out[1..].iter().enumerate() {
            assert!(c.flat);
            assert_eq!(c.open_time, UnixNanos((11 + k as u64) * S));
            assert_eq!((c.open, c.close, c.trades), (px("100"), px("100"), 0));
        }
        // A trade in bar 14 (open flat) makes it a real bar.
        b.on_trade(&trade(14_300, "102", "1", Side::Sell), |c| out.push(c));
        b.on_trade(&trade(15_000, "102", "1", Side::Sell), |c| out.push(c));
        let c = out.last().unwrap();
        assert_eq!(c.open_time, UnixNanos(14 * S));
        assert!(!c.flat);
        assert_eq!(
            (c.open, c.high, c.low, c.close),
            (px("102"), px("102"), px("102"), px("102"))
        );
    }

    #[test]
    fn a_replayed_recordings_bars_follow_its_own_time() {
        // Trades recorded two years before they are replayed: the clock that closes quiet
        // bars is the recording's (receipt minus the lag the last trade showed).
        const YEARS: u64 = 2 * 365 * 86_400 * S;
        let mut b = CandleBuilder::new(InstrumentId(0), S, 100_000_000);
        let mut out = vec![];
        let mut t = trade(10_500, "100", "1", Side::Buy);
        t.recv_ts = UnixNanos(t.trade_time.0 + YEARS);
        b.on_trade(&t, |c| out.push(c));
        b.on_clock(UnixNanos(YEARS + 11 * S), |c| out.push(c));
        assert!(
            out.is_empty(),
            "bar 10 is open until 11.1 s of the recording's time"
        );
        b.on_clock(UnixNanos(YEARS + 12 * S + 100_000_000), |c| out.push(c));
        let bars: Vec<_> = out.iter().map(|c| (c.open_time.0 / S, c.flat)).collect();
        assert_eq!(bars, vec![(10, false), (11, true)]);
        let mut t = trade(12_400, "101", "1", Side::Buy);
        t.recv_ts = UnixNanos(t.trade_time.0 + YEARS);
        b.on_trade(&t, |c| out.push(c));
        assert_eq!(b.current().map(|c| c.open_time.0 / S), Some(12));
    }

    #[test]
    fn a_gap_between_trades_is_filled_with_flat_bars() {
        let mut b = CandleBuilder::new(InstrumentId(0), S, 0);
        let mut out = vec![];
        b.on_trade(&trade(1_000, "5", "1", Side::Buy), |c| out.push(c));
        b.on_trade(&trade(4_000, "6", "1", Side::Buy), |c| out.push(c));
        let flags: Vec<_> = out.iter().map(|c| (c.open_time.0 / S, c.flat)).collect();
        assert_eq!(flags, vec![(1, false), (2, true), (3, true)]);
        assert_eq!(b.flat_bars, 2);
    }

    #[test]
    fn late_trades_and_holes_are_counted() {
        let mut b = CandleBuilder::new(InstrumentId(0), S, 0);
        let mut out = vec![];
        b.on_trade(&trade(2_000, "5", "1", Side::Buy), |c| out.push(c));
        b.on_trade(&trade(1_999, "5", "1", Side::Buy), |c| out.push(c));
        assert_eq!(b.late_trades, 1);
        b.mark_hole();
        b.on_trade(&trade(3_000, "5", "1", Side::Buy), |c| out.push(c));
        assert!(out[0].incomplete);
        assert_eq!(out[0].trades, 1);
    }

    #[test]
    fn widths_parse() {
        assert_eq!(parse_width("1s"), Ok(S));
        assert_eq!(parse_width("5m"), Ok(300 * S));
        assert_eq!(parse_width("4h"), Ok(4 * 3600 * S));
        assert_eq!(parse_width("1d"), Ok(86_400 * S));
        for bad in ["", "s", "0s", "5", "5x", "1.5m", "-1s"] {
            assert!(parse_width(bad).is_err(), "{bad:?}");
        }
    }
}
