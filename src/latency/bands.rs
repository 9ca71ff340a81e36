//! Band selection: the band table from config, the statistic that picks a band, and the
//! hysteresis that decides when a venue actually changes band. Pure logic, no clock.

use std::time::Duration;

use hdrhistogram::Histogram;

use crate::config::{BandConfig, Statistic};

use super::LatencyError;

/// One latency band as strategies read it.
#[derive(Debug, Clone, PartialEq)]
pub struct Band {
    pub name: String,
    /// Upper bound of the statistic for this band, ns; `None` for the catch-all last band.
    pub max_latency_ns: Option<u64>,
    /// The minimum spread a strategy quotes in this band.
    pub min_spread_bps: u32,
    /// Multiplier on order sizes in this band.
    pub size_multiplier: f64,
    /// Minimum time between order actions of one strategy in this band.
    pub throttle: Duration,
}

/// Bands ordered from best (index 0) to most defensive (the last). Indices fit a `u8`.
#[derive(Debug, Clone, PartialEq)]
pub struct BandTable {
    bands: Vec<Band>,
}

impl BandTable {
    /// Most bands a table holds (indices are published as `u8`).
    pub const MAX_BANDS: usize = 255;

    /// Builds the table from the validated config. The config room checks the bands
    /// thoroughly; this re-checks only what band selection relies on.
    pub fn from_config(bands: &[BandConfig]) -> Result<Self, LatencyError> {
        if bands.is_empty() || bands.len() > Self::MAX_BANDS {
            return Err(LatencyError::Bands(format!(
                "need 1 to {} bands, got {}",
                Self::MAX_BANDS,
                bands.len()
            )));
        }
        let mut out = Vec::with_capacity(bands.len());
        let mut prev: Option<u64> = None;
        for b in bands {
            let max_latency_ns = b
                .max_latency
                .map(|d| d.as_nanos().min(u64::MAX as u128) as u64);
            if let (Some(p), Some(m)) = (prev, max_latency_ns)
                && m <= p
            {
                return Err(LatencyError::Bands(format!(
                    "band {:?}: max_latency must be above the previous band's",
                    b.name
                )));
            }
            if max_latency_ns.is_none() && out.len() + 1 != bands.len() {
                return Err(LatencyError::Bands(format!(
                    "band {:?}: only the last band may have no bound",
                    b.name
                )));
            }
            prev = max_latency_ns.or(prev);
            out.push(Band {
                name: b.name.clone(),
                max_latency_ns,
                min_spread_bps: b.min_spread_bps,
                size_multiplier: b.size_multiplier,
                throttle: b.throttle,
            });
        }
        Ok(Self { bands: out })
    }

    pub fn len(&self) -> usize {
        self.bands.len()
    }

    pub fn is_empty(&self) -> bool {
        self.bands.is_empty()
    }

    pub fn bands(&self) -> &[Band] {
        &self.bands
    }

    pub fn get(&self, index: u8) -> Option<&Band> {
        self.bands.get(index as usize)
    }

    /// Index of the most defensive band (the last).
    pub fn defensive(&self) -> u8 {
        (self.bands.len().saturating_sub(1)) as u8
    }

    /// The best band whose bound the statistic does not exceed; the last band if none.
    pub fn classify(&self, statistic_ns: u64) -> u8 {
        self.bands
            .iter()
            .position(|b| b.max_latency_ns.is_none_or(|m| statistic_ns <= m))
            .map_or(self.defensive(), |i| i as u8)
    }
}

/// The configured statistic of a window histogram, ns; `None` when it holds no sample.
pub fn statistic_of(h: &Histogram<u64>, s: Statistic) -> Option<u64> {
    if h.is_empty() {
        return None;
    }
    Some(match s {
        Statistic::P50 => h.value_at_quantile(0.50),
        Statistic::P90 => h.value_at_quantile(0.90),
        Statistic::P99 => h.value_at_quantile(0.99),
        Statistic::Mean => h.mean().round() as u64,
    })
}

/// What one evaluation saw for a venue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Observation {
    /// The statistic over the window, ns.
    Fresh(u64),
    /// No measurement newer than `stale_after`.
    Stale,
}

/// A band change decided by the selector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    pub from: u8,
    pub to: u8,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Direction {
    Worse,
    Better,
}

/// Hysteresis for one venue.
///
/// Every evaluation classifies the statistic into a target band. The current band changes
/// only after `degrade_after` consecutive evaluations all point to a worse band, or
/// `recover_after` consecutive evaluations all point to a better one (recovering is meant
/// to be slower). It then moves to the band *all* of those evaluations support: the mildest
/// degradation, or the smallest improvement, among them. An evaluation that agrees with the
/// current band, or points the other way, restarts the count. A stale venue falls to the
/// defensive band at once: staleness has already waited `stale_after`.
#[derive(Debug, Clone)]
pub struct BandSelector {
    current: u8,
    defensive: u8,
    degrade_after: u32,
    recover_after: u32,
    direction: Option<Direction>,
    streak: u32,
    /// The band every evaluation of the current streak supports.
    agreed: u8,
}

impl BandSelector {
    /// Starts in the defensive band: nothing is known about the venue yet.
    pub fn new(table: &BandTable, degrade_after: u32, recover_after: u32) -> Self {
        let defensive = table.defensive();
        Self {
            current: defensive,
            defensive,
            degrade_after: degrade_after.max(1),
            recover_after: recover_after.max(1),
            direction: None,
            streak: 0,
            agreed: defensive,
        }
    }

    pub fn current(&self) -> u8 {
        self.current
    }

    /// Feeds one evaluation; returns the change it caused, if any.
    pub fn evaluate(&mut self, table: &BandTable, obs: Observation) -> Option<Transition> {
        let target = match obs {
            Observation::Stale => {
                self.restart();
                return self.move_to(self.defensive);
            }
            Observation::Fresh(ns) => table.classify(ns),
        };
        if target == self.current {
            self.restart();
            return None;
        }
        let dir = if target > self.current {
            Direction::Worse
        } else {
            Direction::Better
        };
        if self.direction != Some(dir) {
            self.direction = Some(dir);
            self.streak = 0;
            self.agreed = target;
        }
        self.streak += 1;
        self.agreed = match dir {
            Direction::Worse => self.agreed.min(target),
            Direction::Better => self.agreed.max(target),
        };
        let needed = match dir {
            Direction::Worse => self.degrade_after,
            Direction::Better => self.recover_after,
        };
        if self.streak < needed {
            return None;
        }
        let to = self.agreed;
        self.restart();
        self.move_to(to)
    }

    fn restart(&mut self) {
        self.direction = None;
        self.streak = 0;
    }

    fn move_to(&mut self, to: u8) -> Option<Transition> {
        if to == self.current {
            return None;
        }
        let from = self.current;
        self.current = to;
        Some(Transition { from, to })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::latency::measurement::new_histogram;

    const MS: u64 = 1_000_000;

    /// The seed scalper's bands: aggressive ≤ 40 ms, normal ≤ 70, cautious ≤ 85, defensive.
    fn table() -> BandTable {
        let band = |name: &str, ms: Option<u64>| BandConfig {
            name: name.into(),
            max_latency: ms.map(Duration::from_millis),
            min_spread_bps: 3,
            size_multiplier: 1.0,
            throttle: Duration::from_millis(100),
        };
        BandTable::from_config(&[
            band("aggressive", Some(40)),
            band("normal", Some(70)),
            band("cautious", Some(85)),
            band("defensive", None),
        ])
        .unwrap()
    }

    const AGG: u8 = 0;
    const NOR: u8 = 1;
    const CAU: u8 = 2;
    const DEF: u8 = 3;

    #[test]
    fn thresholds_are_inclusive_upper_bounds() {
        let t = table();
        let cases = [
            (0, AGG),
            (40 * MS, AGG),
            (40 * MS + 1, NOR),
            (70 * MS, NOR),
            (71 * MS, CAU),
            (85 * MS, CAU),
            (85 * MS + 1, DEF),
            (u64::MAX, DEF),
        ];
        for (ns, band) in cases {
            assert_eq!(t.classify(ns), band, "{ns} ns");
        }
    }

    #[test]
    fn tables_that_selection_cannot_use_are_refused() {
        let b = |ms: Option<u64>| BandConfig {
            name: "b".into(),
            max_latency: ms.map(Duration::from_millis),
            min_spread_bps: 1,
            size_multiplier: 1.0,
            throttle: Duration::ZERO,
        };
        assert!(BandTable::from_config(&[]).is_err());
        assert!(
            BandTable::from_config(&[b(Some(50)), b(Some(40)), b(None)]).is_err(),
            "bounds must rise"
        );
        assert!(
            BandTable::from_config(&[b(None), b(Some(40))]).is_err(),
            "catch-all must be last"
        );
        let only_bounded = BandTable::from_config(&[b(Some(10)), b(Some(20))]).unwrap();
        assert_eq!(
            only_bounded.classify(25 * MS),
            1,
            "above every bound: the last band"
        );
    }

    /// Runs a scripted sequence (ms, or `None` for stale) and returns the band after each.
    fn run(degrade_after: u32, recover_after: u32, script: &[Option<u64>]) -> Vec<u8> {
        let t = table();
        let mut s = BandSelector::new(&t, degrade_after, recover_after);
        script
            .iter()
            .map(|o| {
                let obs = o.map_or(Observation::Stale, |ms| Observation::Fresh(ms * MS));
                let before = s.current();
                if let Some(tr) = s.evaluate(&t, obs) {
                    assert_eq!(tr.from, before);
                    assert_eq!(tr.to, s.current());
                    assert_ne!(tr.from, tr.to);
                }
                s.current()
            })
            .collect()
    }

    /// (what it shows, degrade_after, recover_after, script in ms or stale, bands after each).
    type Case = (
        &'static str,
        u32,
        u32,
        &'static [Option<u64>],
        &'static [u8],
    );

    #[test]
    fn scripted_sequences() {
        let cases: &[Case] = &[
            (
                "starts defensive, recovers only after recover_after agreeing evaluations",
                1,
                3,
                &[Some(10), Some(10), Some(10), Some(10)],
                &[DEF, DEF, AGG, AGG],
            ),
            (
                "degrading needs degrade_after agreeing evaluations",
                2,
                1,
                &[Some(10), Some(60), Some(60), Some(60)],
                &[AGG, AGG, NOR, NOR],
            ),
            (
                "one spike does not degrade",
                2,
                1,
                &[Some(10), Some(90), Some(10), Some(90), Some(10)],
                &[AGG, AGG, AGG, AGG, AGG],
            ),
            (
                "a streak moves to the mildest band all its evaluations support",
                3,
                1,
                &[Some(10), Some(90), Some(60), Some(80)],
                &[AGG, AGG, AGG, NOR],
            ),
            (
                "recovery moves to the smallest improvement all evaluations support",
                1,
                3,
                &[Some(90), Some(10), Some(60), Some(30)],
                &[DEF, DEF, DEF, NOR],
            ),
            (
                "an evaluation pointing the other way restarts the count",
                2,
                2,
                &[
                    Some(10),
                    Some(10),
                    Some(60),
                    Some(60),
                    Some(10),
                    Some(90),
                    Some(10),
                    Some(10),
                ],
                &[DEF, AGG, AGG, NOR, NOR, NOR, NOR, AGG],
            ),
            (
                "recovering is slower than degrading",
                1,
                3,
                &[
                    Some(10),
                    Some(10),
                    Some(10),
                    Some(80),
                    Some(10),
                    Some(10),
                    Some(10),
                ],
                &[DEF, DEF, AGG, CAU, CAU, CAU, AGG],
            ),
            (
                "stale falls to defensive at once, then recovers by the normal rule",
                2,
                2,
                &[Some(10), Some(10), None, Some(10), Some(10)],
                &[DEF, AGG, DEF, DEF, AGG],
            ),
            (
                "stale interrupts a streak",
                2,
                2,
                &[Some(10), Some(10), Some(60), None, Some(60), Some(10)],
                &[DEF, AGG, AGG, DEF, DEF, NOR],
            ),
        ];
        for (name, degrade, recover, script, want) in cases {
            assert_eq!(run(*degrade, *recover, script), *want, "{name}");
        }
    }

    #[test]
    fn zero_counts_act_as_one() {
        assert_eq!(run(0, 0, &[Some(10), Some(90)]), vec![AGG, DEF]);
    }

    #[test]
    fn statistics_of_a_window() {
        let mut h = new_histogram();
        assert_eq!(statistic_of(&h, Statistic::P50), None);
        for ms in 1..=100u64 {
            h.saturating_record(ms * MS);
        }
        let near = |got: Option<u64>, want_ms: u64| {
            let got = got.unwrap();
            // 3 significant digits: within 0.1%.
            assert!(
                got.abs_diff(want_ms * MS) <= want_ms * MS / 1000,
                "{got} vs {want_ms} ms"
            );
        };
        near(statistic_of(&h, Statistic::P50), 50);
        near(statistic_of(&h, Statistic::P90), 90);
        near(statistic_of(&h, Statistic::P99), 99);
        let mean = statistic_of(&h, Statistic::Mean).unwrap();
        assert!(mean.abs_diff(50_500_000) <= 50_500, "{mean}");
    }
}
