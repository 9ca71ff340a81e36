//! Reports for people: the percentile table of `.hgrm` files and the percentile-distribution
//! plot (SVG) with HdrHistogram's log-scaled `1/(1-percentile)` x-axis.

use std::fmt::Write as _;
use std::path::Path;

use plotters::prelude::*;

use super::LatencyError;
use super::hgrm::Hgrm;

/// Percentiles the table shows, as fractions, with their column titles.
pub const TABLE_PERCENTILES: [(f64, &str); 5] = [
    (0.5, "p50"),
    (0.9, "p90"),
    (0.99, "p99"),
    (0.999, "p99.9"),
    (0.9999, "p99.99"),
];

/// One named distribution (a file, or a venue's measurement).
#[derive(Debug, Clone)]
pub struct Series {
    pub name: String,
    pub hgrm: Hgrm,
}

impl Series {
    /// Named after the file's mako footer (`venue measurement`), else `fallback`.
    pub fn new(hgrm: Hgrm, fallback: &str) -> Self {
        let name = match &hgrm.meta {
            Some(m) if !m.venue.is_empty() || !m.measurement.is_empty() => {
                format!("{} {}", m.venue, m.measurement)
            }
            _ => fallback.to_string(),
        };
        Self { name, hgrm }
    }
}

/// A latency in µs with a unit people read at a glance: `850ns`, `12.3µs`, `4.56ms`, `1.20s`.
pub fn human_us(us: f64) -> String {
    if !us.is_finite() {
        return "-".into();
    }
    let (v, unit) = if us < 1.0 {
        (us * 1e3, "ns")
    } else if us < 1e3 {
        (us, "µs")
    } else if us < 1e6 {
        (us / 1e3, "ms")
    } else {
        (us / 1e6, "s")
    };
    let decimals = if v >= 100.0 || unit == "ns" {
        0
    } else if v >= 10.0 {
        1
    } else {
        2
    };
    format!("{v:.decimals$}{unit}")
}

/// The percentile table: one row per series with count, p50 … p99.99 and max.
/// `markdown` gives a GitHub table, otherwise aligned plain text.
pub fn table(series: &[Series], markdown: bool) -> String {
    let mut header: Vec<String> = vec!["series".into(), "count".into()];
    header.extend(TABLE_PERCENTILES.iter().map(|(_, t)| t.to_string()));
    header.push("max".into());
    let rows: Vec<Vec<String>> = series
        .iter()
        .map(|s| {
            let mut r = vec![s.name.clone(), s.hgrm.count().to_string()];
            for (p, _) in TABLE_PERCENTILES {
                r.push(s.hgrm.value_at(p).map_or("-".into(), human_us));
            }
            r.push(s.hgrm.max().map_or("-".into(), human_us));
            r
        })
        .collect();
    let mut out = String::new();
    if markdown {
        let _ = writeln!(out, "| {} |", header.join(" | "));
        let _ = writeln!(
            out,
            "|{}",
            header
                .iter()
                .enumerate()
                .map(|(i, _)| if i == 0 { "---|" } else { "---:|" })
                .collect::<String>()
        );
        for r in &rows {
            let _ = writeln!(out, "| {} |", r.join(" | "));
        }
        return out;
    }
    let widths: Vec<usize> = (0..header.len())
        .map(|c| {
            rows.iter()
                .map(|r| r[c].chars().count())
                .chain([header[c].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    for r in std::iter::once(&header).chain(rows.iter()) {
        let cells: Vec<String> = r
            .iter()
            .enumerate()
            .map(|(c, v)| {
                let pad = widths[c].saturating_sub(v.chars().count());
                if c == 0 {
                    format!("{v}{}", " ".repeat(pad))
                } else {
                    format!("{}{v}", " ".repeat(pad))
                }
            })
            .collect();
        let _ = writeln!(out, "{}", cells.join("  ").trim_end());
    }
    out
}

/// Line colours, distinguishable on white and for the common colour-blindnesses
/// (Okabe–Ito), cycled when there are more series.
const COLORS: [RGBColor; 7] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(86, 180, 233),
    RGBColor(230, 159, 0),
    RGBColor(0, 0, 0),
];

/// A y-axis key point (a power of ten, in µs) without needless decimals: `10µs`, `1ms`.
fn axis_us(us: f64) -> String {
    let s = human_us(us);
    let (num, unit) = s.split_at(s.find(|c: char| c.is_alphabetic()).unwrap_or(s.len()));
    let num = if num.contains('.') {
        num.trim_end_matches('0').trim_end_matches('.')
    } else {
        num
    };
    format!("{num}{unit}")
}

/// Label of an x-axis key point `1/(1-p)`: `0%`, `90%`, `99%`, `99.9%`, …
fn percentile_label(x: f64) -> String {
    if x <= 1.0 {
        return "0%".into();
    }
    let p = 100.0 * (1.0 - 1.0 / x);
    let decimals = (x.log10().round() as i32 - 2).max(0) as usize;
    format!("{p:.decimals$}%")
}

/// Draws the percentile distributions as an SVG at `path` (`.svg` only: drawing text into
/// PNG pixels needs font files, which a fresh machine may not have; SVG text is drawn by
/// the viewer).
pub fn plot_svg(path: &Path, title: &str, series: &[Series]) -> Result<(), LatencyError> {
    let is_svg = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("svg"));
    if !is_svg {
        return Err(LatencyError::Plot(format!(
            "{}: only .svg plots are supported (PNG needs font files on the machine); \
             write an .svg and open it in a browser",
            path.display()
        )));
    }
    let lines: Vec<(String, Vec<(f64, f64)>)> = series
        .iter()
        .map(|s| {
            let pts = s
                .hgrm
                .rows
                .iter()
                .filter(|r| r.percentile < 1.0)
                // Log axes: a 0 ns sample is drawn at 1 ns.
                .map(|r| (1.0 / (1.0 - r.percentile), r.value_us.max(0.001)))
                .collect();
            (s.name.clone(), pts)
        })
        .filter(|(_, pts): &(String, Vec<(f64, f64)>)| !pts.is_empty())
        .collect();
    if lines.is_empty() {
        return Err(LatencyError::Plot("no samples to plot".into()));
    }
    let all = lines.iter().flat_map(|(_, p)| p.iter());
    let (mut x_max, mut y_min, mut y_max) = (10.0f64, f64::MAX, 0.0f64);
    for &(x, y) in all {
        x_max = x_max.max(x);
        y_min = y_min.min(y);
        y_max = y_max.max(y);
    }
    // Whole decades on both axes, so the key points are 10^k.
    let x_max = 10f64.powf(x_max.log10().ceil());
    let y_min = 10f64.powf(y_min.log10().floor());
    let y_max = 10f64.powf(y_max.log10().ceil()).max(y_min * 10.0);
    let x_keys: Vec<f64> = (0..=x_max.log10().round() as i32)
        .map(|k| 10f64.powi(k))
        .collect();
    let y_keys: Vec<f64> = (y_min.log10().round() as i32..=y_max.log10().round() as i32)
        .map(|k| 10f64.powi(k))
        .collect();

    let err = |e: &dyn std::fmt::Display| LatencyError::Plot(format!("{}: {e}", path.display()));
    let root = SVGBackend::new(path, (1000, 620)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(&e))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 28))
        .margin(16)
        .margin_right(40)
        .x_label_area_size(56)
        .y_label_area_size(80)
        .build_cartesian_2d(
            (1f64..x_max).log_scale().with_key_points(x_keys),
            (y_min..y_max).log_scale().with_key_points(y_keys),
        )
        .map_err(|e| err(&e))?;
    chart
        .configure_mesh()
        .x_desc("percentile")
        .y_desc("latency")
        .label_style(("sans-serif", 18))
        .axis_desc_style(("sans-serif", 20))
        .x_label_formatter(&|x| percentile_label(*x))
        .y_label_formatter(&|y| axis_us(*y))
        .draw()
        .map_err(|e| err(&e))?;
    for (i, (name, pts)) in lines.into_iter().enumerate() {
        let color = COLORS[i % COLORS.len()];
        chart
            .draw_series(LineSeries::new(pts, color.stroke_width(2)))
            .map_err(|e| err(&e))?
            .label(name)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 24, y)], color.stroke_width(3))
            });
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .label_font(("sans-serif", 18))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(|e| err(&e))?;
    root.present().map_err(|e| err(&e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::latency::hgrm::{HgrmMeta, parse_hgrm, to_hgrm};
    use crate::latency::measurement::new_histogram;

    fn series(name: &str, values_ns: impl Iterator<Item = u64>) -> Series {
        let mut h = new_histogram();
        for v in values_ns {
            h.saturating_record(v);
        }
        let meta = HgrmMeta {
            venue: "v".into(),
            measurement: name.into(),
        };
        Series::new(parse_hgrm(&to_hgrm(&h, Some(&meta))).unwrap(), "fallback")
    }

    #[test]
    fn human_units() {
        let cases = [
            (0.25, "250ns"),
            (1.0, "1.00µs"),
            (12.34, "12.3µs"),
            (999.0, "999µs"),
            (4_560.0, "4.56ms"),
            (1_200_000.0, "1.20s"),
            (f64::NAN, "-"),
        ];
        for (us, want) in cases {
            assert_eq!(human_us(us), want);
        }
    }

    #[test]
    fn axis_labels_drop_needless_decimals() {
        let cases = [
            (10.0, "10µs"),
            (1.0, "1µs"),
            (1_000.0, "1ms"),
            (10_000.0, "10ms"),
            (0.1, "100ns"),
            (1e6, "1s"),
        ];
        for (us, want) in cases {
            assert_eq!(axis_us(us), want);
        }
    }

    #[test]
    fn percentile_labels() {
        let cases = [
            (1.0, "0%"),
            (10.0, "90%"),
            (100.0, "99%"),
            (1000.0, "99.9%"),
            (1e6, "99.9999%"),
        ];
        for (x, want) in cases {
            assert_eq!(percentile_label(x), want);
        }
    }

    #[test]
    fn table_rows_and_markdown() {
        let s = vec![
            series("fast", (1..=1000).map(|i| i * 1_000)),
            series("empty", std::iter::empty()),
        ];
        let plain = table(&s, false);
        let lines: Vec<&str> = plain.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(
            lines[0].starts_with("series") && lines[0].ends_with("max"),
            "{}",
            lines[0]
        );
        let cells: Vec<&str> = lines[1].split_whitespace().collect();
        // From the file's tick rows: p90 reads 901 µs because the crate's 0.9 tick lands on
        // the 901st sample (see `Hgrm::value_at`).
        assert_eq!(
            cells,
            vec![
                "v", "fast", "1000", "500µs", "901µs", "990µs", "999µs", "1.00ms", "1.00ms"
            ]
        );
        assert!(
            lines[2].contains("  0  "),
            "empty series has count 0: {}",
            lines[2]
        );
        let md = table(&s, true);
        assert!(md.starts_with(
            "| series | count | p50 | p90 | p99 | p99.9 | p99.99 | max |\n|---|---:|"
        ));
        assert_eq!(md.lines().count(), 4);
    }

    #[test]
    fn svg_plot_is_written_and_png_is_refused() {
        let dir = std::env::temp_dir().join(format!("mako-plot-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let s = vec![
            series("rest_rtt", (1..=5000).map(|i| 200_000 + i * 97)),
            series("feed_lag", (1..=5000).map(|i| 20_000 + (i % 100) * 1_000)),
        ];
        let svg = dir.join("p.svg");
        plot_svg(&svg, "test plot", &s).unwrap();
        let text = std::fs::read_to_string(&svg).unwrap();
        assert!(text.starts_with("<svg"));
        for needle in [
            "test plot",
            "v rest_rtt",
            "v feed_lag",
            "99.9%",
            "percentile",
            "<polyline",
        ] {
            assert!(text.contains(needle), "svg lacks {needle:?}");
        }
        match plot_svg(&dir.join("p.png"), "t", &s) {
            Err(LatencyError::Plot(m)) => assert!(m.contains("only .svg"), "{m}"),
            other => panic!("{other:?}"),
        }
        assert!(
            plot_svg(
                &dir.join("e.svg"),
                "t",
                &[series("none", std::iter::empty())]
            )
            .is_err()
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
