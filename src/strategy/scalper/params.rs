//! Parameters of the latency-adaptive scalper (`kind = "scalper"`): the seed's names and
//! defaults, its per-band table (the band's ENTRY filter on the market's spread, its size and
//! its throttle factor), exits, daily limits and per-venue fees.

use std::time::Duration;

use crate::strategy::params::{ParamErrors, ParamReader};
use crate::types::Price;

/// What the scalper does in one latency band. The band's name is the latency monitor's; the
/// figures are the scalper's own (the spread maker's `min_spread_bps` on the monitor's band is
/// a QUOTING spread and plays no part here).
#[derive(Debug, Clone, PartialEq)]
pub struct BandParams {
    pub name: String,
    /// Entry filter: the market's spread must be at least this, in parts per million of the
    /// mid (the seed's `min_spread_pct` × 10 000: 0.03 % = 300 ppm).
    pub entry_min_spread_ppm: u32,
    /// Size of an entry in quote units before the throttle and drawdown factors.
    pub quote_size: Price,
    /// The band's throttle factor on size, in (0, 1].
    pub throttle: f64,
}

/// A venue's fee rates in parts per million of the notional (negative: a rebate).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fees {
    pub maker_ppm: i32,
    pub taker_ppm: i32,
}

/// Fees assumed for a venue the `fees` table does not name: 0.1 % either way (no rebate),
/// so an unnamed venue never looks cheaper than it may be.
pub const UNNAMED_VENUE_FEES: Fees = Fees {
    maker_ppm: 1_000,
    taker_ppm: 1_000,
};

#[derive(Debug, Clone, PartialEq)]
pub struct ScalperParams {
    /// Best band first; a venue in a band not listed trades as the last one.
    pub bands: Vec<BandParams>,
    /// Mids kept per market for momentum (the seed's 10) and the fewest it decides on (5).
    pub momentum_window: usize,
    pub momentum_min_updates: usize,
    /// Least move of the mid over the window, ppm (the seed's `eps_pct` 0.01 % = 100 ppm).
    pub momentum_eps_ppm: u32,
    /// Exits: take-profit and stop-loss as moves of the mid from where the entry was decided,
    /// ppm (the spread an entry pays is left to the fee filter), and the time stop.
    pub take_profit_ppm: u32,
    pub stop_loss_ppm: u32,
    pub time_stop: Duration,
    /// Entries as post-only orders at the near touch instead of IOC at the far touch; an
    /// unfilled post-only entry is cancelled after `entry_timeout`.
    pub post_only: bool,
    pub entry_timeout: Duration,
    /// Exit orders are IOC limits this far beyond the touch (they fill at the touch or better
    /// up to it, never past it).
    pub exit_collar_bps: u32,
    /// Round trips per UTC day (the seed's 250).
    pub max_trades_per_day: u32,
    /// Loss per UTC day, fees included, at which entries stop (the seed's 50).
    pub max_daily_loss: Price,
    /// Most of the venue's free balance one entry may use, ppm (the seed's 95 %).
    pub balance_cap_ppm: u32,
    /// A market waits this long after a round trip or a failed entry before it enters again.
    pub cooldown: Duration,
    /// Fees by venue name (the seed's Binance −0.01 % / 0.04 %, OKX −0.01 % / 0.05 %).
    pub fees: Vec<(String, Fees)>,
    pub cancel_on_shutdown: bool,
}

pub const KNOWN: &[&str] = &[
    "bands",
    "momentum_window",
    "momentum_min_updates",
    "momentum_eps_percent",
    "take_profit_percent",
    "stop_loss_percent",
    "time_stop",
    "post_only",
    "entry_timeout",
    "exit_collar_bps",
    "max_trades_per_day",
    "max_daily_loss",
    "balance_cap_percent",
    "cooldown",
    "fees",
    "cancel_on_shutdown",
];

/// The seed's bands: name, entry min spread %, quote size, throttle.
pub const SEED_BANDS: [(&str, f64, &str, f64); 4] = [
    ("aggressive", 0.03, "600", 1.0),
    ("normal", 0.05, "550", 0.9),
    ("cautious", 0.07, "500", 0.7),
    ("defensive", 0.10, "350", 0.5),
];

/// Percent to parts per million.
fn ppm(percent: f64) -> i64 {
    (percent * 10_000.0).round() as i64
}

impl ScalperParams {
    pub fn from_table(t: &toml::Table) -> Result<Self, ParamErrors> {
        let mut r = ParamReader::new(t, KNOWN);
        let bands = match t.get("bands") {
            None => SEED_BANDS
                .iter()
                .map(|(name, pct, size, throttle)| BandParams {
                    name: (*name).to_owned(),
                    entry_min_spread_ppm: ppm(*pct) as u32,
                    quote_size: Price::parse(size).unwrap_or(Price::ZERO),
                    throttle: *throttle,
                })
                .collect(),
            Some(v) => read_bands(v, &mut r),
        };
        let momentum_window = r.int("momentum_window", 10, 2, 1_000) as usize;
        let momentum_min_updates = r.int("momentum_min_updates", 5, 2, 1_000) as usize;
        if momentum_min_updates > momentum_window {
            r.error(
                "momentum_min_updates",
                format!("must be at most momentum_window ({momentum_window})"),
            );
        }
        let momentum_eps_ppm = ppm(r.number("momentum_eps_percent", 0.01, 100.0)) as u32;
        let take_profit_ppm = ppm(r.number("take_profit_percent", 0.15, 100.0)) as u32;
        let stop_loss_ppm = ppm(r.number("stop_loss_percent", 0.10, 100.0)) as u32;
        if take_profit_ppm == 0 {
            r.error("take_profit_percent", "must be above 0");
        }
        if stop_loss_ppm == 0 {
            r.error("stop_loss_percent", "must be above 0");
        }
        let time_stop = r.duration("time_stop", Duration::from_secs(180));
        let post_only = r.flag("post_only", false);
        let entry_timeout = r.duration("entry_timeout", Duration::from_secs(2));
        let exit_collar_bps = r.int("exit_collar_bps", 10, 0, 1_000);
        let max_trades_per_day = r.int("max_trades_per_day", 250, 1, 1_000_000);
        let max_daily_loss = r.price("max_daily_loss").unwrap_or(Price::from_int(50));
        let balance_cap_ppm = ppm(r.number("balance_cap_percent", 95.0, 100.0)) as u32;
        let cooldown = r.duration("cooldown", Duration::from_secs(1));
        let fees = match t.get("fees") {
            None => vec![
                (
                    "binance".to_owned(),
                    Fees {
                        maker_ppm: -100,
                        taker_ppm: 400,
                    },
                ),
                (
                    "okx".to_owned(),
                    Fees {
                        maker_ppm: -100,
                        taker_ppm: 500,
                    },
                ),
            ],
            Some(v) => read_fees(v, &mut r),
        };
        let cancel_on_shutdown = r.flag("cancel_on_shutdown", true);
        r.finish(Self {
            bands,
            momentum_window,
            momentum_min_updates,
            momentum_eps_ppm,
            take_profit_ppm,
            stop_loss_ppm,
            time_stop,
            post_only,
            entry_timeout,
            exit_collar_bps,
            max_trades_per_day,
            max_daily_loss,
            balance_cap_ppm,
            cooldown,
            fees,
            cancel_on_shutdown,
        })
    }

    /// The band a venue in band `name` trades as, and its rank (0 = best): an unknown name
    /// (e.g. `none` when no latency monitor runs) is the last, most defensive band.
    pub fn band(&self, name: Option<&str>) -> (usize, &BandParams) {
        let last = self.bands.len() - 1;
        let i = name
            .and_then(|n| self.bands.iter().position(|b| b.name == n))
            .unwrap_or(last);
        (i, &self.bands[i])
    }

    /// The fees of the venue named `venue`.
    pub fn fees_of(&self, venue: &str) -> Fees {
        self.fees
            .iter()
            .find(|(n, _)| n == venue)
            .map_or(UNNAMED_VENUE_FEES, |(_, f)| *f)
    }
}

/// `bands = [{ name, entry_min_spread_percent, quote_size, throttle }, ...]`, best first.
fn read_bands(v: &toml::Value, r: &mut ParamReader<'_>) -> Vec<BandParams> {
    let Some(list) = v.as_array().filter(|l| !l.is_empty()) else {
        r.error("bands", "must be a non-empty array of band tables, best first");
        return Vec::new();
    };
    let mut out = Vec::with_capacity(list.len());
    for (i, b) in list.iter().enumerate() {
        let key = format!("bands[{i}]");
        let Some(b) = b.as_table() else {
            r.error(&key, "must be a table");
            continue;
        };
        let mut br = ParamReader::new(
            b,
            &["name", "entry_min_spread_percent", "quote_size", "throttle"],
        );
        let name = match b.get("name") {
            Some(toml::Value::String(s)) if !s.is_empty() => s.clone(),
            _ => {
                br.error("name", "is required (the latency band's name)");
                String::new()
            }
        };
        let spread = ppm(br.number("entry_min_spread_percent", 0.0, 100.0)) as u32;
        let quote_size = br.price("quote_size");
        if quote_size.is_none() && !br.has("quote_size") {
            br.error("quote_size", "is required (entry size in quote units)");
        }
        let throttle = br.number("throttle", 1.0, 1.0);
        if throttle <= 0.0 {
            br.error("throttle", "must be above 0");
        }
        for (k, m) in br.errors {
            r.error(&format!("{key}.{k}"), m);
        }
        out.push(BandParams {
            name,
            entry_min_spread_ppm: spread,
            quote_size: quote_size.unwrap_or(Price::ZERO),
            throttle,
        });
    }
    out
}

/// `fees = { <venue> = { maker_percent, taker_percent }, ... }`.
fn read_fees(v: &toml::Value, r: &mut ParamReader<'_>) -> Vec<(String, Fees)> {
    let Some(t) = v.as_table() else {
        r.error("fees", "must be a table of venue = { maker_percent, taker_percent }");
        return Vec::new();
    };
    let mut out = Vec::with_capacity(t.len());
    for (venue, f) in t {
        let mut rate = |k: &str| -> i32 {
            let key = format!("fees.{venue}.{k}");
            match f.get(k) {
                Some(toml::Value::Float(x)) if x.abs() <= 10.0 => ppm(*x) as i32,
                Some(toml::Value::Integer(x)) if x.abs() <= 10 => ppm(*x as f64) as i32,
                _ => {
                    r.error(&key, "must be a percentage between -10 and 10");
                    0
                }
            }
        };
        let fees = Fees {
            maker_ppm: rate("maker_percent"),
            taker_ppm: rate("taker_percent"),
        };
        if let Some(extra) = f
            .as_table()
            .and_then(|t| t.keys().find(|k| *k != "maker_percent" && *k != "taker_percent"))
        {
            r.error(&format!("fees.{venue}.{extra}"), "unknown key");
        }
        out.push((venue.clone(), fees));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(s: &str) -> toml::Table {
        toml::from_str(s).unwrap()
    }

    #[test]
    fn defaults_are_the_seeds() {
        let p = ScalperParams::from_table(&toml::Table::new()).unwrap();
        let bands: Vec<_> = p
            .bands
            .iter()
            .map(|b| (b.name.as_str(), b.entry_min_spread_ppm, b.quote_size.to_string(), b.throttle))
            .collect();
        assert_eq!(
            bands,
            [
                ("aggressive", 300, "600".to_string(), 1.0),
                ("normal", 500, "550".to_string(), 0.9),
                ("cautious", 700, "500".to_string(), 0.7),
                ("defensive", 1_000, "350".to_string(), 0.5),
            ]
        );
        assert_eq!((p.momentum_window, p.momentum_min_updates, p.momentum_eps_ppm), (10, 5, 100));
        assert_eq!(p.time_stop, Duration::from_secs(180));
        assert_eq!((p.max_trades_per_day, p.max_daily_loss), (250, Price::from_int(50)));
        assert_eq!(p.balance_cap_ppm, 950_000);
        assert_eq!(p.fees_of("binance"), Fees { maker_ppm: -100, taker_ppm: 400 });
        assert_eq!(p.fees_of("okx"), Fees { maker_ppm: -100, taker_ppm: 500 });
        assert_eq!(p.fees_of("kraken"), UNNAMED_VENUE_FEES);
        // An unknown band name (no latency monitor: "none") trades as defensive.
        assert_eq!(p.band(Some("none")).0, 3);
        assert_eq!(p.band(None).1.name, "defensive");
        assert_eq!(p.band(Some("normal")).0, 1);
    }

    #[test]
    fn every_bad_key_is_reported() {
        let t = table(
            r#"
            momentum_window = 4
            momentum_min_updates = 5
            take_profit_percent = 0
            time_stop = 3
            bands = [{ name = "fast", entry_min_spread_percent = 0.02, throttle = 1.5 }]
            fees = { binance = { maker_percent = -0.01, taker = 0.04 } }
            colour = "red"
            "#,
        );
        let mut keys: Vec<String> = ScalperParams::from_table(&t)
            .unwrap_err()
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        keys.sort();
        assert_eq!(
            keys,
            [
                "bands[0].quote_size",
                "bands[0].throttle",
                "colour",
                "fees.binance.taker",
                "fees.binance.taker_percent",
                "momentum_min_updates",
                "take_profit_percent",
                "time_stop",
            ]
        );
    }

    #[test]
    fn bands_and_fees_are_read_from_config() {
        let t = table(
            r#"
            bands = [{ name = "fast", entry_min_spread_percent = 0.02, quote_size = "100", throttle = 0.8 },
                     { name = "slow", entry_min_spread_percent = 0.2, quote_size = "50", throttle = 0.25 }]
            fees = { okx = { maker_percent = 0.02, taker_percent = 0.06 } }
            "#,
        );
        let p = ScalperParams::from_table(&t).unwrap();
        assert_eq!(p.band(Some("fast")).1.entry_min_spread_ppm, 200);
        assert_eq!(p.band(Some("aggressive")).1.name, "slow");
        assert_eq!(p.fees_of("okx"), Fees { maker_ppm: 200, taker_ppm: 600 });
        assert_eq!(p.fees_of("binance"), UNNAMED_VENUE_FEES);
    }
}
