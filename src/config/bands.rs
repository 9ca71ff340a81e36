//! `[latency]`: the rolling window, hysteresis and bands that pick how boldly strategies quote,
//! and the defaults taken from the latency-scalper seed.

use std::time::Duration;

use super::error::ConfigErrors;
use super::fields::{self, Checked, Reported, join};
use super::model::{BandConfig, LatencyConfig, Statistic};
use super::raw::{RawBand, RawLatency, RawList, RawStatistic};

/// The seed's `LATENCY_BANDS` (latency-scalper-binance-okx), in the model's terms.
///
/// | band       | seed `max_ms` | seed `min_spread_pct` | seed `size_usd` | seed `throttle` |
/// |------------|---------------|-----------------------|-----------------|-----------------|
/// | aggressive | 40            | 0.03 %                | 600             | 1.0             |
/// | normal     | 70            | 0.05 %                | 550             | 0.9             |
/// | cautious   | 85            | 0.07 %                | 500             | 0.7             |
/// | defensive  | (9999)        | 0.10 %                | 350             | 0.5             |
///
/// Mapping:
/// - `max_latency` = `max_ms`; the defensive band's 9999 was a catch-all, so it has none.
/// - `min_spread_bps` = `min_spread_pct × 100` (0.03 % = 3 bps).
/// - `size_multiplier` = `size_usd / 600`, so the aggressive band sizes at 1.0 and each
///   strategy's own size parameter stays the unit: 1.0, 0.9167, 0.8333, 0.5833.
/// - `throttle`: the seed's factor was a relative trading rate (1.0 = full rate) that scaled
///   size and venue preference. Here it becomes the minimum time between one strategy's order
///   actions, `100ms × (1/throttle − 1)` rounded to the millisecond: 0, 11, 43, 100 ms. At full
///   rate nothing is held back; at half rate a strategy acts at most every 100 ms.
pub fn default_bands() -> Vec<BandConfig> {
    let band =
        |name: &str, max_ms: Option<u64>, bps: u32, size_usd: f64, throttle_ms: u64| BandConfig {
            name: name.to_owned(),
            max_latency: max_ms.map(Duration::from_millis),
            min_spread_bps: bps,
            size_multiplier: size_usd / 600.0,
            throttle: Duration::from_millis(throttle_ms),
        };
    vec![
        band("aggressive", Some(40), 3, 600.0, 0),
        band("normal", Some(70), 5, 550.0, 11),
        band("cautious", Some(85), 7, 500.0, 43),
        band("defensive", None, 10, 350.0, 100),
    ]
}

/// Defaults of the `[latency]` keys other than the bands.
pub const DEFAULT_WINDOW: Duration = Duration::from_secs(30);
pub const DEFAULT_EVALUATE_EVERY: Duration = Duration::from_secs(1);
pub const DEFAULT_DEGRADE_AFTER: u32 = 2;
pub const DEFAULT_RECOVER_AFTER: u32 = 5;
pub const DEFAULT_STALE_AFTER: Duration = Duration::from_secs(10);
pub const DEFAULT_PROBE_INTERVAL: Duration = Duration::from_secs(1);

/// Largest size multiplier a band may have.
const MAX_SIZE_MULTIPLIER: f64 = 10.0;

/// Checks `[latency]` (absent: `None`, all defaults) and its bands (absent: the seed's).
pub(super) fn latency(
    raw: Option<&RawLatency>,
    bands: Option<&RawList<RawBand>>,
    errors: &mut ConfigErrors,
) -> Checked<LatencyConfig> {
    let default = RawLatency::default();
    let r = raw.unwrap_or(&default);
    let p = |k: &str| join("latency", k);
    let window = fields::positive_duration(errors, &p("window"), r.window.as_ref(), DEFAULT_WINDOW);
    let evaluate_every = fields::positive_duration(
        errors,
        &p("evaluate_every"),
        r.evaluate_every.as_ref(),
        DEFAULT_EVALUATE_EVERY,
    );
    let stale_after = fields::positive_duration(
        errors,
        &p("stale_after"),
        r.stale_after.as_ref(),
        DEFAULT_STALE_AFTER,
    );
    let probe_interval = fields::positive_duration(
        errors,
        &p("probe_interval"),
        r.probe_interval.as_ref(),
        DEFAULT_PROBE_INTERVAL,
    );
    let mut ok = true;
    if let (Ok(w), Ok(e)) = (window, evaluate_every)
        && e > w
    {
        errors.push(
            p("evaluate_every"),
            "must not be longer than latency.window",
        );
        ok = false;
    }
    let degrade_after = r.degrade_after.unwrap_or(DEFAULT_DEGRADE_AFTER);
    let recover_after = r.recover_after.unwrap_or(DEFAULT_RECOVER_AFTER);
    if degrade_after < 1 {
        errors.push(p("degrade_after"), "must be at least 1");
        ok = false;
    }
    if recover_after < degrade_after {
        errors.push(
            p("recover_after"),
            format!(
                "{recover_after} is below degrade_after ({degrade_after}); recovering must take at \
                 least as long as degrading, or bands flap"
            ),
        );
        ok = false;
    }
    let statistic = match r.statistic {
        None | Some(RawStatistic::P90) => Statistic::P90,
        Some(RawStatistic::P50) => Statistic::P50,
        Some(RawStatistic::P99) => Statistic::P99,
        Some(RawStatistic::Mean) => Statistic::Mean,
    };
    let bands = match bands {
        None => Ok(default_bands()),
        Some(list) => check_bands(list, errors),
    };
    if !ok {
        return Err(Reported);
    }
    Ok(LatencyConfig {
        window: window?,
        statistic,
        evaluate_every: evaluate_every?,
        degrade_after,
        recover_after,
        stale_after: stale_after?,
        probe_interval: probe_interval?,
        bands: bands?,
    })
}

/// Bands ordered by strictly increasing `max_latency`, only the last without one.
fn check_bands(list: &RawList<RawBand>, errors: &mut ConfigErrors) -> Checked<Vec<BandConfig>> {
    if list.items.is_empty() {
        errors.push(
            "latency.bands",
            "needs at least one band; remove the key to use the defaults",
        );
        return Err(Reported);
    }
    let mut out = Vec::with_capacity(list.items.len());
    let mut ok = list.all_ok();
    let last = list.items.len() - 1;
    let mut previous: Option<(Duration, &str)> = None;
    for (i, b) in list.ok() {
        let path = format!("latency.bands[{i}]");
        let p = |k: &str| join(&path, k);
        ok &= fields::name(errors, &p("name"), &b.name).is_ok();
        if let Some((j, _)) = list.ok().find(|(j, o)| *j < i && o.name == b.name) {
            errors.push(
                p("name"),
                format!("{:?} is already the name of latency.bands[{j}]", b.name),
            );
            ok = false;
        }
        let max_latency = match (&b.max_latency, i == last) {
            (None, true) => None,
            (None, false) => {
                errors.push(
                    p("max_latency"),
                    "is missing; only the last band (the catch-all) has no max_latency",
                );
                ok = false;
                None
            }
            (Some(_), true) => {
                errors.push(
                    p("max_latency"),
                    "must be absent on the last band: it catches every latency above the others",
                );
                ok = false;
                None
            }
            (Some(s), false) => {
                match fields::positive_duration(errors, &p("max_latency"), Some(s), Duration::ZERO)
                {
                    Ok(d) => {
                        if let Some((prev, prev_name)) = previous
                            && d <= prev
                        {
                            errors.push(
                            p("max_latency"),
                            format!(
                                "must be above the previous band's ({prev_name:?}, {}): bands go \
                                 from the lowest latency to the highest",
                                super::duration::format_duration(prev)
                            ),
                        );
                            ok = false;
                        }
                        previous = Some((d, b.name.as_str()));
                        Some(d)
                    }
                    Err(Reported) => {
                        ok = false;
                        None
                    }
                }
            }
        };
        if !(b.size_multiplier > 0.0 && b.size_multiplier <= MAX_SIZE_MULTIPLIER) {
            errors.push(
                p("size_multiplier"),
                format!(
                    "{} is outside (0, {MAX_SIZE_MULTIPLIER}]",
                    b.size_multiplier
                ),
            );
            ok = false;
        }
        let throttle =
            fields::duration(errors, &p("throttle"), b.throttle.as_ref(), Duration::ZERO);
        ok &= throttle.is_ok();
        out.push(BandConfig {
            name: b.name.clone(),
            max_latency,
            min_spread_bps: b.min_spread_bps,
            size_multiplier: b.size_multiplier,
            throttle: throttle.unwrap_or_default(),
        });
    }
    if ok { Ok(out) } else { Err(Reported) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::raw::DurationStr;

    fn band(name: &str, max: Option<&str>, mult: f64) -> Option<RawBand> {
        Some(RawBand {
            name: name.to_owned(),
            max_latency: max.map(|s| DurationStr(s.to_owned())),
            min_spread_bps: 5,
            size_multiplier: mult,
            throttle: None,
        })
    }

    fn check(items: Vec<Option<RawBand>>) -> (Option<Vec<BandConfig>>, Vec<String>) {
        let mut errors = ConfigErrors::default();
        let list = RawList {
            items,
            broken_names: Vec::new(),
        };
        let r = check_bands(&list, &mut errors).ok();
        (r, errors.iter().map(ToString::to_string).collect())
    }

    #[test]
    fn defaults_follow_the_seed() {
        let b = default_bands();
        let names: Vec<_> = b.iter().map(|b| b.name.as_str()).collect();
        assert_eq!(names, ["aggressive", "normal", "cautious", "defensive"]);
        let bps: Vec<_> = b.iter().map(|b| b.min_spread_bps).collect();
        assert_eq!(bps, [3, 5, 7, 10]);
        assert_eq!(b[0].max_latency, Some(Duration::from_millis(40)));
        assert_eq!(b[3].max_latency, None);
        assert_eq!(b[0].size_multiplier, 1.0);
        assert!((b[3].size_multiplier - 350.0 / 600.0).abs() < 1e-12);
        assert!(b.windows(2).all(|w| w[0].throttle < w[1].throttle));
        // The defaults pass their own validation.
        let raw: Vec<_> = b
            .iter()
            .map(|b| {
                Some(RawBand {
                    name: b.name.clone(),
                    max_latency: b
                        .max_latency
                        .map(|d| DurationStr(format!("{}ms", d.as_millis()))),
                    min_spread_bps: b.min_spread_bps,
                    size_multiplier: b.size_multiplier,
                    throttle: Some(DurationStr(format!("{}ms", b.throttle.as_millis()))),
                })
            })
            .collect();
        let (r, errs) = check(raw);
        assert!(errs.is_empty(), "{errs:?}");
        assert_eq!(r.unwrap().len(), 4);
    }

    #[test]
    fn band_rules() {
        type Case = (Vec<Option<RawBand>>, &'static [&'static str]);
        let cases: Vec<Case> = vec![
            (
                vec![band("a", Some("40ms"), 1.0), band("b", None, 0.5)],
                &[],
            ),
            (vec![band("only", None, 1.0)], &[]),
            (vec![], &["latency.bands"]),
            (
                vec![band("a", Some("40ms"), 1.0)],
                &["latency.bands[0].max_latency"],
            ),
            (
                vec![band("a", None, 1.0), band("b", None, 1.0)],
                &["latency.bands[0].max_latency"],
            ),
            (
                vec![
                    band("a", Some("70ms"), 1.0),
                    band("b", Some("40ms"), 1.0),
                    band("c", None, 1.0),
                ],
                &["latency.bands[1].max_latency"],
            ),
            (
                vec![
                    band("a", Some("40ms"), 1.0),
                    band("b", Some("40ms"), 1.0),
                    band("c", None, 1.0),
                ],
                &["latency.bands[1].max_latency"],
            ),
            (
                vec![band("a", Some("40ms"), 0.0), band("b", None, 11.0)],
                &[
                    "latency.bands[0].size_multiplier",
                    "latency.bands[1].size_multiplier",
                ],
            ),
            (
                vec![band("a", Some("40ms"), f64::NAN), band("b", None, 10.0)],
                &["latency.bands[0].size_multiplier"],
            ),
            (
                vec![band("a", Some("40ms"), 1.0), band("a", None, 1.0)],
                &["latency.bands[1].name"],
            ),
            (
                vec![band("a", Some("forty"), 1.0), band("b", None, 1.0)],
                &["latency.bands[0].max_latency"],
            ),
        ];
        for (items, want) in cases {
            let (r, errs) = check(items);
            let paths: Vec<&str> = errs.iter().map(|e| e.split(": ").next().unwrap()).collect();
            assert_eq!(paths, want, "{errs:#?}");
            assert_eq!(r.is_some(), want.is_empty());
        }
    }

    #[test]
    fn hysteresis() {
        for (degrade, recover, want) in [
            (Some(2), Some(5), &[][..]),
            (Some(3), Some(3), &[][..]),
            (Some(0), Some(5), &["latency.degrade_after"][..]),
            (Some(4), Some(2), &["latency.recover_after"][..]),
            (None, Some(1), &["latency.recover_after"][..]),
        ] {
            let raw = RawLatency {
                degrade_after: degrade,
                recover_after: recover,
                ..Default::default()
            };
            let mut errors = ConfigErrors::default();
            let r = latency(Some(&raw), None, &mut errors);
            let paths: Vec<&str> = errors.iter().map(|e| e.path.as_str()).collect();
            assert_eq!(paths, want);
            assert_eq!(r.is_ok(), want.is_empty());
        }
    }

    #[test]
    fn evaluation_fits_the_window() {
        let raw = RawLatency {
            window: Some(DurationStr("1s".into())),
            evaluate_every: Some(DurationStr("2s".into())),
            ..Default::default()
        };
        let mut errors = ConfigErrors::default();
        assert!(latency(Some(&raw), None, &mut errors).is_err());
        assert_eq!(
            errors.iter().map(|e| e.path.as_str()).collect::<Vec<_>>(),
            ["latency.evaluate_every"]
        );
    }
}
