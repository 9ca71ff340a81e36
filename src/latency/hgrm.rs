//! The `.hgrm` percentile-distribution text of HdrHistogram (`outputPercentileDistribution`
//! with 5 ticks per half distance and a scaling ratio of 1000: values in microseconds), its
//! writer, and a reader for `mako latency-report`.
//!
//! The table and its three `#[...]` footer lines are byte for byte what HdrHistogram's Java
//! implementation prints for the same histogram, so its plotters and tools read our files.
//! mako adds one more footer line after them, `#[mako venue=... measurement=... unit=us
//! scaling_ratio=1000]`, naming what was measured; readers of the standard format skip it.

use std::fmt::Write as _;
use std::path::Path;

use hdrhistogram::Histogram;

use super::LatencyError;

/// Values are recorded in ns and written in µs: `value_ns / SCALING_RATIO`.
pub const SCALING_RATIO: f64 = 1000.0;
/// Percentile ticks per half distance to 100%, as HdrHistogram's tools default to.
pub const TICKS_PER_HALF_DISTANCE: u32 = 5;
/// Decimals of values in the table (HdrHistogram prints the histogram's significant digits).
const VALUE_DECIMALS: usize = 3;

/// What a file is about, carried in mako's extra footer line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HgrmMeta {
    pub venue: String,
    pub measurement: String,
}

/// Renders `h` as `.hgrm` text. `meta`, when given, adds mako's footer line.
pub fn to_hgrm(h: &Histogram<u64>, meta: Option<&HgrmMeta>) -> String {
    let mut out = String::with_capacity(8 * 1024);
    // `fmt::Write` into a String cannot fail.
    let _ = writeln!(
        out,
        "{:>12} {:>14} {:>10} {:>14}\n",
        "Value", "Percentile", "TotalCount", "1/(1-Percentile)"
    );
    let mut total = 0u64;
    for v in h.iter_quantiles(TICKS_PER_HALF_DISTANCE) {
        total += v.count_since_last_iteration();
        let value = v.value_iterated_to() as f64 / SCALING_RATIO;
        let q = v.quantile_iterated_to();
        if q < 1.0 {
            let _ = writeln!(
                out,
                "{value:12.VALUE_DECIMALS$} {q:2.12} {total:10} {:14.2}",
                1.0 / (1.0 - q)
            );
        } else {
            let _ = writeln!(out, "{value:12.VALUE_DECIMALS$} {q:2.12} {total:10}");
        }
    }
    let (mean, stdev, max) = if h.is_empty() {
        (0.0, 0.0, 0.0)
    } else {
        (
            h.mean() / SCALING_RATIO,
            h.stdev() / SCALING_RATIO,
            h.highest_equivalent(h.max()) as f64 / SCALING_RATIO,
        )
    };
    let _ = writeln!(
        out,
        "#[Mean    = {mean:12.VALUE_DECIMALS$}, StdDeviation   = {stdev:12.VALUE_DECIMALS$}]"
    );
    let _ = writeln!(
        out,
        "#[Max     = {max:12.VALUE_DECIMALS$}, Total count    = {:12}]",
        h.len()
    );
    let _ = writeln!(
        out,
        "#[Buckets = {:12}, SubBuckets     = {:12}]",
        h.buckets(),
        sub_bucket_count(h.sigfig())
    );
    if let Some(m) = meta {
        let _ = writeln!(
            out,
            "#[mako venue={} measurement={} unit=us scaling_ratio={SCALING_RATIO}]",
            token(&m.venue),
            token(&m.measurement)
        );
    }
    out
}

/// HdrHistogram's sub-bucket count: `2 * 10^sigfig` rounded up to a power of two.
fn sub_bucket_count(sigfig: u8) -> u64 {
    (2 * 10u64.pow(u32::from(sigfig))).next_power_of_two()
}

/// Keeps a name to one whitespace-free token so the footer line parses back.
fn token(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_whitespace() || c == ']' || c == '=' {
                '_'
            } else {
                c
            }
        })
        .collect()
}

/// Writes `h` to `path` as `.hgrm`.
pub fn write_hgrm(
    path: &Path,
    h: &Histogram<u64>,
    meta: Option<&HgrmMeta>,
) -> Result<(), LatencyError> {
    std::fs::write(path, to_hgrm(h, meta)).map_err(|source| LatencyError::Io {
        path: path.display().to_string(),
        source,
    })
}

/// One row of the table.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HgrmRow {
    /// Value in µs.
    pub value_us: f64,
    /// Percentile as a fraction, 0.0..=1.0.
    pub percentile: f64,
    /// Samples at or below `value_us`.
    pub total_count: u64,
}

/// A parsed `.hgrm` file.
#[derive(Debug, Clone, PartialEq)]
pub struct Hgrm {
    pub rows: Vec<HgrmRow>,
    pub mean_us: Option<f64>,
    pub stdev_us: Option<f64>,
    pub max_us: Option<f64>,
    pub total_count: Option<u64>,
    pub meta: Option<HgrmMeta>,
}

impl Hgrm {
    /// Samples in the file: the footer's count, else the last row's.
    pub fn count(&self) -> u64 {
        self.total_count
            .or_else(|| self.rows.last().map(|r| r.total_count))
            .unwrap_or(0)
    }

    /// Value (µs) at percentile `p` (a fraction): the first row whose cumulative count
    /// reaches `p` of the samples. The table samples the distribution at its percentile
    /// ticks only, so this is an upper bound of the exact value, at most one tick row above
    /// it (ticks are `(1 - p) / 5` apart or closer). `None` for an empty file.
    pub fn value_at(&self, p: f64) -> Option<f64> {
        let n = self.count();
        if n == 0 {
            return None;
        }
        // The small tolerance keeps 0.9 * 1000 (= 900.0000000000001 in f64) at 900.
        let needed = (p.clamp(0.0, 1.0) * n as f64 - 1e-7).ceil().max(1.0) as u64;
        self.rows
            .iter()
            .find(|r| r.total_count >= needed)
            .or(self.rows.last())
            .map(|r| r.value_us)
    }

    /// Largest value (µs): the footer's max, else the last row's value.
    pub fn max(&self) -> Option<f64> {
        self.max_us.or_else(|| self.rows.last().map(|r| r.value_us))
    }
}

/// Parses `.hgrm` text. Lines that are neither table rows nor known footers (headers,
/// blank lines) are skipped; a malformed row is an error naming its line.
pub fn parse_hgrm(text: &str) -> Result<Hgrm, LatencyError> {
    let mut h = Hgrm {
        rows: Vec::new(),
        mean_us: None,
        stdev_us: None,
        max_us: None,
        total_count: None,
        meta: None,
    };
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        let bad = |what: &str| LatencyError::Hgrm {
            line: i + 1,
            message: format!("{what}: {line:?}"),
        };
        if line.is_empty() || line.starts_with("Value") || line.starts_with("\"Value\"") {
            continue;
        }
        if let Some(body) = line.strip_prefix("#[").and_then(|l| l.strip_suffix(']')) {
            if let Some(rest) = body.strip_prefix("mako ") {
                h.meta = Some(parse_meta(rest));
                continue;
            }
            for field in body.split(',') {
                let Some((k, v)) = field.split_once('=') else {
                    continue;
                };
                let v = v.trim();
                match k.trim() {
                    "Mean" => h.mean_us = Some(v.parse().map_err(|_| bad("bad Mean"))?),
                    "StdDeviation" => {
                        h.stdev_us = Some(v.parse().map_err(|_| bad("bad StdDeviation"))?)
                    }
                    "Max" => h.max_us = Some(v.parse().map_err(|_| bad("bad Max"))?),
                    "Total count" => {
                        h.total_count = Some(v.parse().map_err(|_| bad("bad Total count"))?)
                    }
                    _ => {}
                }
            }
            continue;
        }
        if line.starts_with('#') {
            continue;
        }
        let mut f = line.split_whitespace();
        let (Some(v), Some(p), Some(c)) = (f.next(), f.next(), f.next()) else {
            return Err(bad(
                "expected `value percentile total_count [1/(1-percentile)]`",
            ));
        };
        let value_us: f64 = v.parse().map_err(|_| bad("bad value"))?;
        let percentile: f64 = p.parse().map_err(|_| bad("bad percentile"))?;
        let total_count: u64 = c.parse().map_err(|_| bad("bad total count"))?;
        if !value_us.is_finite() || !(0.0..=1.0).contains(&percentile) {
            return Err(bad("value must be finite and percentile within 0..=1"));
        }
        h.rows.push(HgrmRow {
            value_us,
            percentile,
            total_count,
        });
    }
    Ok(h)
}

fn parse_meta(rest: &str) -> HgrmMeta {
    let mut m = HgrmMeta::default();
    for kv in rest.split_whitespace() {
        match kv.split_once('=') {
            Some(("venue", v)) => m.venue = v.to_string(),
            Some(("measurement", v)) => m.measurement = v.to_string(),
            _ => {}
        }
    }
    m
}

/// Reads and parses one `.hgrm` file.
pub fn read_hgrm(path: &Path) -> Result<Hgrm, LatencyError> {
    let text = std::fs::read_to_string(path).map_err(|source| LatencyError::Io {
        path: path.display().to_string(),
        source,
    })?;
    parse_hgrm(&text).map_err(|e| match e {
        LatencyError::Hgrm { line, message } => LatencyError::Hgrm {
            line,
            message: format!("{}: {message}", path.display()),
        },
        other => other,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::latency::measurement::new_histogram;

    #[test]
    fn format_matches_hdrhistogram_output_for_a_small_histogram() {
        // Expected lines worked out by hand from HdrHistogram's format strings
        // ("%12s %14s %10s %14s\n\n", "%12.3f %2.12f %10d %14.2f\n", and the footers).
        // Values chosen so every line is checkable by hand: 1, 2, 3, 4 µs.
        let mut h = new_histogram();
        for us in 1..=4u64 {
            h.saturating_record(us * 1000);
        }
        let text = to_hgrm(&h, None);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "       Value     Percentile TotalCount 1/(1-Percentile)"
        );
        assert_eq!(lines[1], "");
        assert_eq!(
            lines[2],
            "       1.000 0.000000000000          1           1.00"
        );
        assert_eq!(
            lines[3],
            "       1.000 0.100000000000          1           1.11"
        );
        let last_row = lines[lines.len() - 4];
        // Values print as the highest equivalent of their bucket, as HdrHistogram does:
        // 4000 ns is in a 2 ns wide bucket at 3 digits, so it prints as 4001 ns.
        assert_eq!(last_row, "       4.001 1.000000000000          4");
        // Mean and deviation use each bucket's median equivalent (1000, 2000, 3001, 4001 ns).
        assert_eq!(
            lines[lines.len() - 3],
            "#[Mean    =        2.501, StdDeviation   =        1.118]"
        );
        assert_eq!(
            lines[lines.len() - 2],
            "#[Max     =        4.001, Total count    =            4]"
        );
        assert_eq!(
            lines[lines.len() - 1],
            "#[Buckets =           26, SubBuckets     =         2048]"
        );
    }

    #[test]
    fn round_trip_keeps_rows_counts_and_percentiles() {
        let mut h = new_histogram();
        // A skewed distribution: mostly ~50 µs, a tail to 20 ms.
        for i in 0..10_000u64 {
            let ns = 50_000 + (i % 97) * 113 + if i % 1000 == 0 { 20_000_000 } else { 0 };
            h.saturating_record(ns);
        }
        let meta = HgrmMeta {
            venue: "binance spot".into(),
            measurement: "rest_rtt".into(),
        };
        let parsed = parse_hgrm(&to_hgrm(&h, Some(&meta))).unwrap();
        let want: Vec<(u64, f64, u64)> = {
            let mut total = 0;
            h.iter_quantiles(TICKS_PER_HALF_DISTANCE)
                .map(|v| {
                    total += v.count_since_last_iteration();
                    (v.value_iterated_to(), v.quantile_iterated_to(), total)
                })
                .collect()
        };
        assert_eq!(parsed.rows.len(), want.len());
        for (row, (ns, q, total)) in parsed.rows.iter().zip(&want) {
            assert_eq!(
                (row.value_us * SCALING_RATIO).round() as u64,
                *ns,
                "values are exact to the ns"
            );
            assert!((row.percentile - q).abs() < 1e-12);
            assert_eq!(row.total_count, *total);
        }
        assert_eq!(parsed.count(), 10_000);
        assert_eq!(
            parsed.meta,
            Some(HgrmMeta {
                venue: "binance_spot".into(),
                measurement: "rest_rtt".into()
            })
        );
        assert!((parsed.mean_us.unwrap() - h.mean() / 1000.0).abs() < 0.001);
        for p in [0.5, 0.9, 0.99, 0.999, 0.9999] {
            let got_ns = (parsed.value_at(p).unwrap() * SCALING_RATIO).round() as u64;
            let exact = h.highest_equivalent(h.value_at_quantile(p));
            let next_tick = h.highest_equivalent(h.value_at_quantile(p + (1.0 - p) / 5.0));
            assert!(
                exact <= got_ns && got_ns <= next_tick,
                "p{p}: {got_ns} not in {exact}..={next_tick}"
            );
        }
        assert_eq!(
            parsed.max(),
            Some(h.highest_equivalent(h.max()) as f64 / 1000.0)
        );
    }

    #[test]
    fn empty_histogram_writes_and_reads() {
        let parsed = parse_hgrm(&to_hgrm(&new_histogram(), None)).unwrap();
        assert!(parsed.rows.is_empty());
        assert_eq!(parsed.count(), 0);
        assert_eq!(parsed.value_at(0.5), None);
    }

    #[test]
    fn malformed_rows_are_errors_with_their_line() {
        let table = [
            (
                "       Value     Percentile TotalCount 1/(1-Percentile)\n\n  1.0 0.5\n",
                3,
            ),
            ("1.0 0.5 x 2.0\n", 1),
            ("1.0 1.5 3 2.0\n", 1),
            ("\n\nNaN 0.5 3\n", 3),
            ("#[Mean    = abc, StdDeviation   = 1.0]\n", 1),
        ];
        for (text, line) in table {
            match parse_hgrm(text) {
                Err(LatencyError::Hgrm { line: l, .. }) => assert_eq!(l, line, "{text:?}"),
                other => panic!("{text:?}: {other:?}"),
            }
        }
    }
}
