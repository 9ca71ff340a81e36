//! Parameters of the signal bot (`kind = "signal"`): the seed's names and defaults
//! (`shared/seeds/signal-bots-coinbase.md`: 5-minute confirmation, 15-minute cooldown, $25 per
//! trade, $100 daily loss) plus the indicator periods, score weights and temperature bands,
//! which the seed names without figures; their defaults are the usual ones (RSI 14 at 30/70,
//! MA 10/20, MACD 12/26/9).

use std::time::Duration;

use crate::strategy::indicators::{Macd, Rsi, Sma};
use crate::strategy::params::{ParamErrors, ParamReader};
use crate::types::Price;

/// How an entry order is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryMode {
    /// A post-only limit at the near touch (the best bid for a buy), re-priced when the touch
    /// moves away and given up after `entry_timeout`.
    PostOnly,
    /// An IOC limit at the far touch moved by `collar_percent` (fills at once or not at all).
    Ioc,
}

/// The weights of the three components in the score (not negative, not all zero).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Weights {
    pub rsi: f64,
    pub ma: f64,
    pub macd: f64,
}

/// Lower bounds of `|score|` for each temperature: `cool < warm < hot <= 1`; below `cool` is
/// frozen. A score at or beyond `hot` is a signal (buy above zero, sell below).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bands {
    pub hot: f64,
    pub warm: f64,
    pub cool: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SignalParams {
    /// Candle width the indicators run on.
    pub candle: Duration,
    pub rsi_period: usize,
    /// RSI at or below `rsi_buy` counts fully for buying, at or above `rsi_sell` fully for
    /// selling, linearly between.
    pub rsi_buy: f64,
    pub rsi_sell: f64,
    /// Moving-average crossover: simple averages of the closes.
    pub ma_fast: usize,
    pub ma_slow: usize,
    /// The fast average this far above (below) the slow one, in percent of the slow one,
    /// counts fully for buying (selling).
    pub ma_full_percent: f64,
    pub macd_fast: usize,
    pub macd_slow: usize,
    pub macd_signal: usize,
    /// The MACD histogram this large, in percent of the close, counts fully.
    pub macd_full_percent: f64,
    pub weights: Weights,
    pub bands: Bands,
    /// A signal must hold this long before the bot acts (the seed's 5 minutes).
    pub confirmation: Duration,
    /// After each trade (an order that filled), no new entry or signal exit for this long
    /// (the seed's 15 minutes). Take-profit, stop-loss and maximum holding time are never
    /// delayed by it.
    pub cooldown: Duration,
    /// Size of one trade in quote units (split into `dca_tranches`).
    pub trade_size: Price,
    /// Safety limits of this bot, on top of the engine's risk: the most quote one trade may
    /// buy, the loss in a UTC day (trades closed that day, plus open ones at the bid) after
    /// which entries and further tranches stop, trades open at once, and
    /// entries in a UTC day.
    pub max_per_trade: Price,
    pub max_daily_loss: Price,
    pub max_open_positions: u32,
    pub max_trades_per_day: u32,
    pub entry: EntryMode,
    /// An unfilled post-only entry is cancelled after this long.
    pub entry_timeout: Duration,
    /// A post-only entry follows the touch when it moves away.
    pub reprice: bool,
    /// IOC orders (IOC entries, every exit) are limits this far past the far touch.
    pub collar_percent: f64,
    /// Exits: on a confirmed opposite signal, at a gain or loss from the average entry price
    /// (in percent; 0 = off), after holding this long (zero = off).
    pub exit_on_signal: bool,
    pub take_profit_percent: f64,
    pub stop_loss_percent: f64,
    pub max_hold: Duration,
    /// DCA: the trade is bought in this many equal tranches, `dca_interval` apart.
    pub dca_tranches: u32,
    pub dca_interval: Duration,
    pub cancel_on_shutdown: bool,
}

pub const KNOWN: &[&str] = &[
    "candle",
    "rsi_period",
    "rsi_buy",
    "rsi_sell",
    "ma_fast",
    "ma_slow",
    "ma_full_percent",
    "macd_fast",
    "macd_slow",
    "macd_signal",
    "macd_full_percent",
    "weight_rsi",
    "weight_ma",
    "weight_macd",
    "hot",
    "warm",
    "cool",
    "confirmation",
    "cooldown",
    "trade_size",
    "max_per_trade",
    "max_daily_loss",
    "max_open_positions",
    "max_trades_per_day",
    "entry",
    "entry_timeout",
    "reprice",
    "collar_percent",
    "exit_on_signal",
    "take_profit_percent",
    "stop_loss_percent",
    "max_hold",
    "dca_tranches",
    "dca_interval",
    "cancel_on_shutdown",
];

const MIN: Duration = Duration::from_secs(60);

fn price(s: &str) -> Price {
    match Price::parse(s) {
        Ok(p) => p,
        Err(_) => unreachable!("literal default {s:?} is a decimal"),
    }
}

impl SignalParams {
    pub fn from_table(t: &toml::Table) -> Result<Self, ParamErrors> {
        let mut r = ParamReader::new(t, KNOWN);
        let candle = r.duration("candle", MIN);
        if candle < Duration::from_millis(100) {
            r.error("candle", "must be at least 100ms");
        }
        let period = |r: &mut ParamReader<'_>, key: &str, default: u32| {
            r.int(key, default, 1, 10_000) as usize
        };
        let rsi_period = period(&mut r, "rsi_period", 14);
        if Rsi::new(rsi_period).is_err() {
            r.error("rsi_period", "must be at least 2");
        }
        let rsi_buy = r.number("rsi_buy", 30.0, 100.0);
        let rsi_sell = r.number("rsi_sell", 70.0, 100.0);
        if rsi_buy >= rsi_sell {
            r.error(
                "rsi_sell",
                format!("must be above rsi_buy ({rsi_buy} >= {rsi_sell})"),
            );
        }
        let ma_fast = period(&mut r, "ma_fast", 10);
        let ma_slow = period(&mut r, "ma_slow", 20);
        if ma_fast >= ma_slow {
            r.error(
                "ma_slow",
                format!("must be longer than ma_fast ({ma_fast} >= {ma_slow})"),
            );
        }
        debug_assert!(Sma::new(ma_fast).is_ok(), "Invariant: periods are >= 1");
        let ma_full_percent = r.number("ma_full_percent", 0.5, 100.0);
        let macd_fast = period(&mut r, "macd_fast", 12);
        let macd_slow = period(&mut r, "macd_slow", 26);
        let macd_signal = period(&mut r, "macd_signal", 9);
        if macd_fast >= macd_slow {
            r.error(
                "macd_slow",
                format!("must be longer than macd_fast ({macd_fast} >= {macd_slow})"),
            );
        } else if let Err(e) = Macd::new(macd_fast, macd_slow, macd_signal) {
            r.error("macd_fast", e.to_string());
        }
        let macd_full_percent = r.number("macd_full_percent", 0.1, 100.0);
        for (key, v) in [
            ("ma_full_percent", ma_full_percent),
            ("macd_full_percent", macd_full_percent),
        ] {
            if v <= 0.0 {
                r.error(key, "must be above 0");
            }
        }
        let weights = Weights {
            rsi: r.number("weight_rsi", 0.4, 1_000.0),
            ma: r.number("weight_ma", 0.3, 1_000.0),
            macd: r.number("weight_macd", 0.3, 1_000.0),
        };
        if weights.rsi + weights.ma + weights.macd <= 0.0 {
            r.error("weight_rsi", "the three weights must not all be 0");
        }
        let bands = Bands {
            hot: r.number("hot", 0.5, 1.0),
            warm: r.number("warm", 0.3, 1.0),
            cool: r.number("cool", 0.1, 1.0),
        };
        if !(bands.cool < bands.warm && bands.warm < bands.hot) || bands.cool <= 0.0 {
            r.error(
                "hot",
                format!(
                    "the bands must rise: 0 < cool < warm < hot <= 1 (got cool {}, warm {}, hot {})",
                    bands.cool, bands.warm, bands.hot
                ),
            );
        }
        let confirmation = r.duration("confirmation", 5 * MIN);
        let cooldown = r.duration("cooldown", 15 * MIN);
        let trade_size = r.price("trade_size").unwrap_or_else(|| price("25"));
        let max_per_trade = r.price("max_per_trade").unwrap_or_else(|| price("25"));
        let max_daily_loss = r.price("max_daily_loss").unwrap_or_else(|| price("100"));
        if trade_size > max_per_trade {
            r.error(
                "trade_size",
                format!("{trade_size} is above max_per_trade {max_per_trade}"),
            );
        }
        let max_open_positions = r.int("max_open_positions", 1, 1, 100);
        let max_trades_per_day = r.int("max_trades_per_day", 10, 1, 100_000);
        let entry = match r.choice("entry", &["post_only", "ioc"]) {
            Some("ioc") => EntryMode::Ioc,
            _ => EntryMode::PostOnly,
        };
        let entry_timeout = r.duration("entry_timeout", MIN);
        if entry_timeout.is_zero() {
            r.error("entry_timeout", "must be above zero");
        }
        let reprice = r.flag("reprice", true);
        let collar_percent = r.number("collar_percent", 0.5, 10.0);
        let exit_on_signal = r.flag("exit_on_signal", true);
        let take_profit_percent = r.number("take_profit_percent", 3.0, 1_000.0);
        let stop_loss_percent = r.number("stop_loss_percent", 2.0, 99.0);
        let max_hold = r.duration("max_hold", 24 * 60 * MIN);
        let dca_tranches = r.int("dca_tranches", 1, 1, 20);
        let dca_interval = r.duration("dca_interval", MIN);
        if dca_tranches > 1 && dca_interval.is_zero() {
            r.error("dca_interval", "must be above zero when dca_tranches > 1");
        }
        let cancel_on_shutdown = r.flag("cancel_on_shutdown", true);
        r.finish(Self {
            candle,
            rsi_period,
            rsi_buy,
            rsi_sell,
            ma_fast,
            ma_slow,
            ma_full_percent,
            macd_fast,
            macd_slow,
            macd_signal,
            macd_full_percent,
            weights,
            bands,
            confirmation,
            cooldown,
            trade_size,
            max_per_trade,
            max_daily_loss,
            max_open_positions,
            max_trades_per_day,
            entry,
            entry_timeout,
            reprice,
            collar_percent,
            exit_on_signal,
            take_profit_percent,
            stop_loss_percent,
            max_hold,
            dca_tranches,
            dca_interval,
            cancel_on_shutdown,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<SignalParams, ParamErrors> {
        SignalParams::from_table(&s.parse().unwrap())
    }

    #[test]
    fn the_seeds_defaults() {
        let p = parse("").unwrap();
        assert_eq!(p.confirmation, Duration::from_secs(300));
        assert_eq!(p.cooldown, Duration::from_secs(900));
        assert_eq!(p.trade_size, price("25"));
        assert_eq!(p.max_per_trade, price("25"));
        assert_eq!(p.max_daily_loss, price("100"));
        assert_eq!((p.rsi_period, p.rsi_buy, p.rsi_sell), (14, 30.0, 70.0));
        assert_eq!((p.ma_fast, p.ma_slow), (10, 20));
        assert_eq!((p.macd_fast, p.macd_slow, p.macd_signal), (12, 26, 9));
        assert_eq!(
            p.weights,
            Weights {
                rsi: 0.4,
                ma: 0.3,
                macd: 0.3
            }
        );
        assert_eq!(
            p.bands,
            Bands {
                hot: 0.5,
                warm: 0.3,
                cool: 0.1
            }
        );
        assert_eq!(p.entry, EntryMode::PostOnly);
        assert_eq!((p.dca_tranches, p.max_open_positions), (1, 1));
    }

    #[test]
    fn every_problem_is_reported_with_its_key() {
        let errs = parse(
            r#"rsi_buy = 80
               ma_fast = 30
               macd_fast = 26
               weight_rsi = 0
               weight_ma = 0
               weight_macd = 0
               warm = 0.9
               trade_size = "50"
               entry = "market"
               dca_tranches = 3
               dca_interval = "0s"
               candle = "10ms"
               colour = 1"#,
        )
        .unwrap_err();
        let keys: Vec<&str> = errs.iter().map(|(k, _)| k.as_str()).collect();
        for k in [
            "colour",
            "candle",
            "rsi_sell",
            "ma_slow",
            "macd_slow",
            "weight_rsi",
            "hot",
            "trade_size",
            "entry",
            "dca_interval",
        ] {
            assert!(keys.contains(&k), "{k} missing from {errs:?}");
        }
        let msg = &errs.iter().find(|(k, _)| k == "trade_size").unwrap().1;
        assert_eq!(msg, "50 is above max_per_trade 25");
    }
}
