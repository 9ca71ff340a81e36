//! The signal bot's rules as plain state over the clock, with no orders in sight:
//! confirmation (a signal must hold for a while; a flicker resets it), cooldown after a trade,
//! the bot's own safety limits per UTC day, the exits, and the DCA schedule.

use crate::types::{Price, UnixNanos};

use super::score::Signal;

const DAY_NS: u64 = 86_400_000_000_000;

/// A signal must be seen continuously for `period_ns` before it counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Confirmation {
    period_ns: u64,
    /// The signal being confirmed and since when it has held.
    pending: Option<(Signal, UnixNanos)>,
}

impl Confirmation {
    pub fn new(period_ns: u64) -> Self {
        Self {
            period_ns,
            pending: None,
        }
    }

    pub fn set_period(&mut self, period_ns: u64) {
        self.period_ns = period_ns;
    }

    /// The signal of the latest reading: the same one keeps its start, anything else starts
    /// over (`None` clears).
    pub fn observe(&mut self, s: Option<Signal>, now: UnixNanos) {
        self.pending = match (self.pending, s) {
            (Some((held, since)), Some(s)) if held == s => Some((held, since)),
            (_, Some(s)) => Some((s, now)),
            (_, None) => None,
        };
    }

    /// The signal, once it has held for the whole period.
    pub fn confirmed(&self, now: UnixNanos) -> Option<Signal> {
        let (s, since) = self.pending?;
        (now.since(since) >= self.period_ns).then_some(s)
    }

    /// The signal being confirmed and the time left (zero once confirmed).
    pub fn pending(&self, now: UnixNanos) -> Option<(Signal, u64)> {
        let (s, since) = self.pending?;
        Some((s, self.period_ns.saturating_sub(now.since(since))))
    }

    /// Acted on: the same signal must hold a whole period again before it counts again.
    pub fn restart(&mut self, now: UnixNanos) {
        if let Some((_, since)) = &mut self.pending {
            *since = now;
        }
    }
}

/// No new trade until a while after the last one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Cooldown {
    until: UnixNanos,
}

impl Cooldown {
    pub fn start(&mut self, now: UnixNanos, period_ns: u64) {
        self.until = self.until.max(now.plus_nanos(period_ns));
    }

    pub fn active(&self, now: UnixNanos) -> bool {
        now < self.until
    }

    pub fn remaining(&self, now: UnixNanos) -> u64 {
        self.until.since(now)
    }
}

/// The bot's own limits (on top of the engine's risk).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    /// Quote one trade may buy, 10^-8.
    pub max_per_trade: i64,
    /// Realized loss in a UTC day after which entries stop, quote 10^-16.
    pub max_daily_loss: i128,
    pub max_open_positions: u32,
    pub max_trades_per_day: u32,
}

/// Why a new entry (or tranche) is not sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Blocked {
    DailyLoss,
    TradesPerDay,
    OpenPositions,
    MaxPerTrade,
}

impl Blocked {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::DailyLoss => "max_daily_loss",
            Self::TradesPerDay => "max_trades_per_day",
            Self::OpenPositions => "max_open_positions",
            Self::MaxPerTrade => "max_per_trade",
        }
    }
}

/// The day's entries and realized PnL, rolled at UTC midnight.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Day {
    day: u64,
    pub entries: u32,
    /// Realized PnL of trades closed today, quote 10^-16.
    pub realized: i128,
}

impl Day {
    pub fn roll(&mut self, now: UnixNanos) {
        let d = now.0 / DAY_NS;
        if d != self.day {
            *self = Self {
                day: d,
                ..Self::default()
            };
        }
    }

    /// A trade opened at `opened_at` ended having bought nothing: it gives back its entry,
    /// unless the day has rolled since (the new day never counted it).
    pub fn unopen(&mut self, opened_at: UnixNanos) {
        if opened_at.0 / DAY_NS == self.day {
            self.entries = self.entries.saturating_sub(1);
        }
    }

    /// The day's PnL with open trades' `open_pnl` (at the bid) added: what the daily loss
    /// limit counts.
    fn pnl(&self, open_pnl: i128) -> i128 {
        self.realized.saturating_add(open_pnl)
    }

    /// Whether a new trade may open now, with `open` trades open whose PnL at the bid is
    /// `open_pnl`.
    pub fn new_trade(&self, l: &Limits, open: u32, open_pnl: i128) -> Result<(), Blocked> {
        if self.pnl(open_pnl) <= -l.max_daily_loss {
            Err(Blocked::DailyLoss)
        } else if self.entries >= l.max_trades_per_day {
            Err(Blocked::TradesPerDay)
        } else if open >= l.max_open_positions {
            Err(Blocked::OpenPositions)
        } else {
            Ok(())
        }
    }

    /// Whether a trade that bought `spent` (quote 10^-8) may buy `more`; a loss past the limit
    /// (open trades' `open_pnl` included) stops further tranches too.
    pub fn tranche(&self, l: &Limits, spent: i64, more: i64, open_pnl: i128) -> Result<(), Blocked> {
        if self.pnl(open_pnl) <= -l.max_daily_loss {
            Err(Blocked::DailyLoss)
        } else if spent.saturating_add(more) > l.max_per_trade {
            Err(Blocked::MaxPerTrade)
        } else {
            Ok(())
        }
    }
}

/// Why a position is closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitReason {
    Signal,
    TakeProfit,
    StopLoss,
    MaxHold,
}

impl ExitReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Signal => "signal",
            Self::TakeProfit => "take_profit",
            Self::StopLoss => "stop_loss",
            Self::MaxHold => "max_hold",
        }
    }
}

/// The exit rules, from the parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Exits {
    pub on_signal: bool,
    /// Gain and loss from the average entry, parts per million (0 = off).
    pub take_profit_ppm: u32,
    pub stop_loss_ppm: u32,
    /// 0 = off.
    pub max_hold_ns: u64,
}

impl Exits {
    /// Whether a long bought at `entry` on average, opened at `opened`, should close now with
    /// the bid at `bid`; `sell` is a confirmed sell signal and `cooling` a cooldown in force
    /// (which holds back a signal exit only). Stop-loss comes first, then take-profit,
    /// holding time and the signal.
    pub fn due(
        &self,
        entry: Price,
        bid: Price,
        opened: UnixNanos,
        now: UnixNanos,
        sell: bool,
        cooling: bool,
    ) -> Option<ExitReason> {
        let move_ppm = |ppm: u32| i128::from(entry.units()) * i128::from(ppm) / 1_000_000;
        let (e, b) = (i128::from(entry.units()), i128::from(bid.units()));
        if entry.is_positive() && bid.is_positive() {
            if self.stop_loss_ppm > 0 && b <= e - move_ppm(self.stop_loss_ppm) {
                return Some(ExitReason::StopLoss);
            }
            if self.take_profit_ppm > 0 && b >= e + move_ppm(self.take_profit_ppm) {
                return Some(ExitReason::TakeProfit);
            }
        }
        if self.max_hold_ns > 0 && now.since(opened) >= self.max_hold_ns {
            return Some(ExitReason::MaxHold);
        }
        (self.on_signal && sell && !cooling).then_some(ExitReason::Signal)
    }
}

/// DCA: a trade of `total` quote bought in `tranches` equal parts, `interval_ns` apart from
/// its start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dca {
    pub tranches: u32,
    pub interval_ns: u64,
}

impl Dca {
    /// Quote of tranche `k` (0-based), 10^-8: equal parts, the last one takes the remainder.
    pub fn size(&self, total: i64, k: u32) -> i64 {
        let n = i64::from(self.tranches.max(1));
        let part = total / n;
        if i64::from(k) + 1 == n {
            total - part * (n - 1)
        } else {
            part
        }
    }

    /// When tranche `k` is due for a trade started at `start`.
    pub fn due_at(&self, start: UnixNanos, k: u32) -> UnixNanos {
        start.plus_nanos(self.interval_ns.saturating_mul(u64::from(k)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = 1_000_000_000;

    fn t(s: u64) -> UnixNanos {
        UnixNanos(1_700_000_000 * S + s * S)
    }

    #[test]
    fn a_signal_that_holds_five_minutes_is_confirmed() {
        let mut c = Confirmation::new(300 * S);
        c.observe(Some(Signal::Buy), t(0));
        c.observe(Some(Signal::Buy), t(60));
        assert_eq!(c.confirmed(t(299)), None);
        assert_eq!(c.pending(t(120)), Some((Signal::Buy, 180 * S)));
        assert_eq!(c.confirmed(t(300)), Some(Signal::Buy));
        assert_eq!(c.pending(t(400)), Some((Signal::Buy, 0)));
        // Acted on: it must hold a whole period again.
        c.restart(t(400));
        assert_eq!(c.confirmed(t(699)), None);
        assert_eq!(c.confirmed(t(700)), Some(Signal::Buy));
    }

    #[test]
    fn a_signal_that_flickers_never_fires() {
        let mut c = Confirmation::new(300 * S);
        // Buy for four minutes, one reading without it, buy again: the clock starts over.
        for (at, s) in [
            (0, Some(Signal::Buy)),
            (240, Some(Signal::Buy)),
            (250, None),
            (260, Some(Signal::Buy)),
            (500, Some(Signal::Buy)),
        ] {
            c.observe(s, t(at));
            assert_eq!(c.confirmed(t(at)), None, "at {at}");
        }
        assert_eq!(c.confirmed(t(559)), None);
        assert_eq!(c.confirmed(t(560)), Some(Signal::Buy));
        // Flipping to sell starts over too.
        c.observe(Some(Signal::Sell), t(561));
        assert_eq!(c.confirmed(t(800)), None);
        assert_eq!(c.confirmed(t(861)), Some(Signal::Sell));
        // No period: at once.
        let mut now = Confirmation::new(0);
        now.observe(Some(Signal::Sell), t(1));
        assert_eq!(now.confirmed(t(1)), Some(Signal::Sell));
    }

    #[test]
    fn the_cooldown_lasts_fifteen_minutes_from_the_last_trade() {
        let mut c = Cooldown::default();
        assert!(!c.active(t(0)));
        c.start(t(0), 900 * S);
        assert!(c.active(t(899)));
        assert_eq!(c.remaining(t(600)), 300 * S);
        assert!(!c.active(t(900)));
        assert_eq!(c.remaining(t(901)), 0);
        // A later trade extends it; an earlier end never shortens it.
        c.start(t(800), 900 * S);
        assert!(c.active(t(1699)));
        c.start(t(801), 10 * S);
        assert!(c.active(t(1699)));
    }

    const LIMITS: Limits = Limits {
        max_per_trade: 25 * 100_000_000,
        max_daily_loss: 100 * 10_000_000_000_000_000,
        max_open_positions: 1,
        max_trades_per_day: 2,
    };

    #[test]
    fn safety_limits_stop_entries_and_roll_at_utc_midnight() {
        let mut d = Day::default();
        d.roll(t(0));
        assert_eq!(d.new_trade(&LIMITS, 0, 0), Ok(()));
        assert_eq!(d.new_trade(&LIMITS, 1, 0), Err(Blocked::OpenPositions));
        d.entries = 2;
        assert_eq!(d.new_trade(&LIMITS, 0, 0), Err(Blocked::TradesPerDay));
        d.entries = 1;
        // A loss of exactly $100 stops entries and further tranches.
        let usd = 10_000_000_000_000_000;
        d.realized = -100 * usd;
        assert_eq!(d.new_trade(&LIMITS, 0, 0), Err(Blocked::DailyLoss));
        assert_eq!(d.tranche(&LIMITS, 0, 1, 0), Err(Blocked::DailyLoss));
        d.realized = -99 * usd;
        assert_eq!(d.new_trade(&LIMITS, 0, 0), Ok(()));
        // An open trade $1 down at the bid makes it $100: stopped; $1 up, it is $98.
        assert_eq!(d.new_trade(&LIMITS, 0, -usd), Err(Blocked::DailyLoss));
        assert_eq!(d.tranche(&LIMITS, 0, 1, -usd), Err(Blocked::DailyLoss));
        assert_eq!(d.new_trade(&LIMITS, 0, usd), Ok(()));
        // $20 bought, $5 more fits in $25, $5.01 does not.
        assert_eq!(d.tranche(&LIMITS, 2_000_000_000, 500_000_000, 0), Ok(()));
        assert_eq!(
            d.tranche(&LIMITS, 2_000_000_000, 501_000_000, 0),
            Err(Blocked::MaxPerTrade)
        );
        // The next UTC day starts clean.
        let midnight = UnixNanos((t(0).0 / (86_400 * S) + 1) * 86_400 * S);
        d.roll(UnixNanos(midnight.0 - 1));
        assert_eq!(d.entries, 1);
        d.roll(midnight);
        assert_eq!((d.entries, d.realized), (0, 0));
    }

    #[test]
    fn a_trade_that_bought_nothing_gives_its_entry_back_the_same_day_only() {
        let mut d = Day::default();
        d.roll(t(0));
        d.entries = 2;
        assert_eq!(d.new_trade(&LIMITS, 0, 0), Err(Blocked::TradesPerDay));
        d.unopen(t(0));
        assert_eq!((d.entries, d.new_trade(&LIMITS, 0, 0)), (1, Ok(())));
        // Opened before midnight, given up after it: the new day never counted it.
        let midnight = UnixNanos((t(0).0 / (86_400 * S) + 1) * 86_400 * S);
        d.roll(midnight);
        d.entries = 1;
        d.unopen(UnixNanos(midnight.0 - 1));
        assert_eq!(d.entries, 1);
        d.unopen(midnight);
        assert_eq!(d.entries, 0);
        d.unopen(midnight);
        assert_eq!(d.entries, 0);
    }

    fn p(s: &str) -> Price {
        Price::parse(s).unwrap()
    }

    #[test]
    fn each_exit_fires_on_its_own_rule() {
        let x = Exits {
            on_signal: true,
            take_profit_ppm: 30_000,
            stop_loss_ppm: 20_000,
            max_hold_ns: 3_600 * S,
        };
        let e = p("100");
        let due = |bid: &str, held: u64, sell: bool, cooling: bool| {
            x.due(e, p(bid), t(0), t(held), sell, cooling)
        };
        assert_eq!(due("101", 60, false, false), None);
        assert_eq!(due("103", 60, false, false), Some(ExitReason::TakeProfit));
        assert_eq!(due("102.99", 60, false, false), None);
        assert_eq!(due("98", 60, false, false), Some(ExitReason::StopLoss));
        assert_eq!(due("98.01", 60, false, false), None);
        assert_eq!(due("100", 3_600, false, false), Some(ExitReason::MaxHold));
        assert_eq!(due("100", 60, true, false), Some(ExitReason::Signal));
        // The cooldown holds back the signal exit, never the protective ones.
        assert_eq!(due("100", 60, true, true), None);
        assert_eq!(due("97", 60, true, true), Some(ExitReason::StopLoss));
        // Stop-loss before the time stop; rules at zero are off.
        assert_eq!(due("90", 7_200, true, false), Some(ExitReason::StopLoss));
        let off = Exits {
            on_signal: false,
            take_profit_ppm: 0,
            stop_loss_ppm: 0,
            max_hold_ns: 0,
        };
        assert_eq!(off.due(e, p("1"), t(0), t(1_000_000), true, false), None);
    }

    #[test]
    fn dca_splits_the_trade_into_equal_tranches_on_a_schedule() {
        let d = Dca {
            tranches: 3,
            interval_ns: 60 * S,
        };
        // $25 in three: 8.33333333, 8.33333333 and the remainder 8.33333334.
        let sizes: Vec<i64> = (0..3).map(|k| d.size(2_500_000_000, k)).collect();
        assert_eq!(sizes, vec![833_333_333, 833_333_333, 833_333_334]);
        assert_eq!(sizes.iter().sum::<i64>(), 2_500_000_000);
        assert_eq!(d.due_at(t(10), 0), t(10));
        assert_eq!(d.due_at(t(10), 2), t(130));
        let one = Dca {
            tranches: 1,
            interval_ns: 0,
        };
        assert_eq!(one.size(2_500_000_000, 0), 2_500_000_000);
    }
}
