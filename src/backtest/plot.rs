//! The report's plots, as SVG written here by hand (no fonts, no crate: lines, rectangles and
//! text are all a chart of a run needs, and every element can carry what a test or a reader
//! wants to find, e.g. one `class="fill buy"` mark per fill with the fill in its `<title>`):
//!
//! - `equity.svg`: equity (realised + unrealised at the mid − fees) over recording time, with
//!   its drawdown below it;
//! - `price.svg`: the mid, the strategy's resting bid and ask at the venue (sampled each
//!   second; gaps where none rested), and every fill of the run marked (buys ▲, sells ▼) at
//!   its time and price;
//! - `position.svg`: the net position over time, stepping at each fill (exact, from the fills).
//!
//! The curves come from the run's one-second samples (thinned to at most [`MAX_POINTS`]).

use std::fmt::Write as _;

use super::driver::{Run, Sample};
use crate::types::Side;

/// Most points drawn per curve.
pub const MAX_POINTS: usize = 2000;

const W: f64 = 900.0;
const H: f64 = 320.0;
const LEFT: f64 = 80.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 36.0;
const BOTTOM: f64 = 40.0;

/// Text safe inside XML.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A plot area: data ranges mapped onto a rectangle.
struct Frame {
    x0: f64,
    x1: f64,
    y0: f64,
    y1: f64,
    top: f64,
    height: f64,
}

impl Frame {
    fn new(x: (f64, f64), y: (f64, f64), top: f64, height: f64) -> Self {
        let (mut y0, mut y1) = y;
        // Also when either end is NaN: a flat, padded range.
        if y1.partial_cmp(&y0) != Some(std::cmp::Ordering::Greater) {
            let pad = if y0 == 0.0 { 1.0 } else { y0.abs() * 0.01 };
            y0 -= pad;
            y1 += pad;
        } else {
            let pad = (y1 - y0) * 0.05;
            y0 -= pad;
            y1 += pad;
        }
        let (x0, x1) = if x.1 > x.0 { x } else { (x.0, x.0 + 1.0) };
        Self {
            x0,
            x1,
            y0,
            y1,
            top,
            height,
        }
    }

    fn x(&self, v: f64) -> f64 {
        LEFT + (v - self.x0) / (self.x1 - self.x0) * (W - LEFT - RIGHT)
    }

    fn y(&self, v: f64) -> f64 {
        self.top + (self.y1 - v) / (self.y1 - self.y0) * self.height
    }

    /// Axes, grid lines and tick labels; x in seconds from the run's start.
    fn axes(&self, s: &mut String, y_label: &str) {
        let (l, r, t, b) = (LEFT, W - RIGHT, self.top, self.top + self.height);
        let _ = writeln!(
            s,
            r##"<rect x="{l}" y="{t}" width="{:.1}" height="{:.1}" fill="none" stroke="#999"/>"##,
            r - l,
            b - t
        );
        for k in 0..=4 {
            let v = self.y0 + (self.y1 - self.y0) * k as f64 / 4.0;
            let y = self.y(v);
            let _ = writeln!(
                s,
                r##"<line x1="{l}" y1="{y:.1}" x2="{r}" y2="{y:.1}" stroke="#eee"/><text x="{:.1}" y="{:.1}" font-size="11" text-anchor="end">{}</text>"##,
                l - 4.0,
                y + 4.0,
                esc(&tick(v, self.y1 - self.y0))
            );
        }
        for k in 0..=5 {
            let v = self.x0 + (self.x1 - self.x0) * k as f64 / 5.0;
            let x = self.x(v);
            let _ = writeln!(
                s,
                r##"<text x="{x:.1}" y="{:.1}" font-size="11" text-anchor="middle">{:.0} s</text>"##,
                b + 14.0,
                v - self.x0
            );
        }
        let _ = writeln!(
            s,
            r##"<text x="14" y="{:.1}" font-size="11" transform="rotate(-90 14 {:.1})" text-anchor="middle">{}</text>"##,
            t + (b - t) / 2.0,
            t + (b - t) / 2.0,
            esc(y_label)
        );
    }

    /// A polyline through `pts` (x, y data), broken where y is not finite.
    fn line(&self, s: &mut String, pts: &[(f64, f64)], colour: &str, class: &str) {
        let mut d = String::new();
        let mut pen_down = false;
        for &(x, y) in pts {
            if !y.is_finite() {
                pen_down = false;
                continue;
            }
            let _ = write!(
                d,
                "{}{:.1} {:.1} ",
                if pen_down { "L" } else { "M" },
                self.x(x),
                self.y(y)
            );
            pen_down = true;
        }
        if !d.is_empty() {
            let _ = writeln!(
                s,
                r#"<path class="{class}" d="{}" fill="none" stroke="{colour}" stroke-width="1.2"/>"#,
                d.trim_end()
            );
        }
    }
}

/// A tick label with as many decimals as the range needs.
fn tick(v: f64, range: f64) -> String {
    let places = if range >= 100.0 {
        0
    } else if range >= 1.0 {
        2
    } else {
        (-(range.log10()).floor() as usize + 3).min(10)
    };
    format!("{v:.places$}")
}

fn open(title: &str) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" font-family="sans-serif">
<rect width="{W}" height="{H}" fill="white"/>
<text x="{LEFT}" y="20" font-size="14">{}</text>"#,
        esc(title)
    );
    s
}

fn close(mut s: String) -> String {
    s.push_str("</svg>\n");
    s
}

/// The samples, thinned to at most [`MAX_POINTS`] (always keeping the last).
fn thin(samples: &[Sample]) -> Vec<&Sample> {
    let step = samples.len().div_ceil(MAX_POINTS).max(1);
    let mut v: Vec<&Sample> = samples.iter().step_by(step).collect();
    if let Some(last) = samples.last()
        && v.last().is_none_or(|l| l.at != last.at)
    {
        v.push(last);
    }
    v
}

fn secs(run: &Run, at: u64) -> f64 {
    at.saturating_sub(run.first.0) as f64 / 1e9
}

fn range(vals: impl Iterator<Item = f64>) -> (f64, f64) {
    vals.filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(v), b.max(v))
        })
}

fn finite_or(r: (f64, f64), d: (f64, f64)) -> (f64, f64) {
    if r.0.is_finite() && r.1.is_finite() {
        r
    } else {
        d
    }
}

/// Equity over time, and its drawdown from the running peak below it.
pub fn equity_svg(run: &Run) -> String {
    let pts = thin(&run.curve);
    let xr = (0.0, secs(run, run.last.0));
    let eq: Vec<(f64, f64)> = pts.iter().map(|p| (secs(run, p.at.0), p.equity)).collect();
    let mut peak = 0.0f64;
    let dd: Vec<(f64, f64)> = run
        .curve
        .iter()
        .map(|p| {
            peak = peak.max(p.equity);
            (secs(run, p.at.0), p.equity - peak)
        })
        .collect();
    let dd_thin: Vec<(f64, f64)> = {
        let step = dd.len().div_ceil(MAX_POINTS).max(1);
        dd.iter().step_by(step).copied().collect()
    };
    let mut s = open(&format!(
        "Equity (quote, after fees) and drawdown — {} on {}, simulated fills (backtest)",
        run.strategies.join(", "),
        run.venue
    ));
    let h = (H - TOP - BOTTOM - 20.0) * 0.62;
    let top = Frame::new(
        xr,
        finite_or(range(eq.iter().map(|p| p.1)), (0.0, 0.0)),
        TOP,
        h,
    );
    top.axes(&mut s, "equity");
    top.line(&mut s, &eq, "#1f77b4", "equity");
    let h2 = H - TOP - BOTTOM - 20.0 - h;
    let bottom = Frame::new(
        xr,
        finite_or(range(dd_thin.iter().map(|p| p.1).chain([0.0])), (0.0, 0.0)),
        TOP + h + 20.0,
        h2,
    );
    bottom.axes(&mut s, "drawdown");
    bottom.line(&mut s, &dd_thin, "#d62728", "drawdown");
    close(s)
}

/// The mid, with one mark per fill: ▲ buys (green), ▼ sells (red), each with its fill in a
/// `<title>`.
pub fn price_svg(run: &Run) -> String {
    let pts = thin(&run.curve);
    let mid: Vec<(f64, f64)> = pts.iter().map(|p| (secs(run, p.at.0), p.mid)).collect();
    let bids: Vec<(f64, f64)> = pts
        .iter()
        .map(|p| (secs(run, p.at.0), p.bid_quote))
        .collect();
    let asks: Vec<(f64, f64)> = pts
        .iter()
        .map(|p| (secs(run, p.at.0), p.ask_quote))
        .collect();
    let yr = range(
        mid.iter()
            .chain(&bids)
            .chain(&asks)
            .map(|p| p.1)
            .filter(|y| y.is_finite())
            .chain(run.fills.iter().map(|f| f.price.to_f64())),
    );
    let f = Frame::new(
        (0.0, secs(run, run.last.0)),
        finite_or(yr, (0.0, 1.0)),
        TOP,
        H - TOP - BOTTOM,
    );
    let mut s = open(&format!(
        "Mid price, the strategy's resting quotes (green bid, red ask) and fills (▲ buy, ▼ sell; {} fills, simulated) — {}",
        run.fills.len(),
        run.instruments.join(", ")
    ));
    f.axes(&mut s, "price");
    f.line(&mut s, &mid, "#555", "mid");
    f.line(&mut s, &bids, "#98df8a", "quote bid");
    f.line(&mut s, &asks, "#ff9896", "quote ask");
    for fill in &run.fills {
        let (x, y) = (f.x(secs(run, fill.at.0)), f.y(fill.price.to_f64()));
        let (class, colour, d) = match fill.side {
            Side::Buy => ("fill buy", "#2ca02c", "l -4.5 8 h 9 z"),
            Side::Sell => ("fill sell", "#d62728", "l -4.5 -8 h 9 z"),
        };
        let _ = writeln!(
            s,
            r#"<path class="{class}" d="M{x:.1} {y:.1} {d}" fill="{colour}"><title>{} {} @ {} ({}) at {} s</title></path>"#,
            if fill.side == Side::Buy {
                "buy"
            } else {
                "sell"
            },
            fill.qty,
            fill.price,
            if fill.maker { "maker" } else { "taker" },
            format_args!("{:.3}", secs(run, fill.at.0))
        );
    }
    close(s)
}

/// The net position (base units), stepping at each fill.
pub fn position_svg(run: &Run) -> String {
    let mut pts = vec![(0.0, 0.0)];
    let mut pos = 0i64;
    for f in &run.fills {
        let x = secs(run, f.at.0);
        pts.push((x, pos as f64 / 1e8));
        pos += f.qty.units() * f.side.sign();
        pts.push((x, pos as f64 / 1e8));
    }
    pts.push((secs(run, run.last.0), pos as f64 / 1e8));
    let step = pts.len().div_ceil(2 * MAX_POINTS).max(1);
    let drawn: Vec<(f64, f64)> = if step > 1 {
        pts.iter().step_by(step).copied().collect()
    } else {
        pts.clone()
    };
    let f = Frame::new(
        (0.0, secs(run, run.last.0)),
        range(pts.iter().map(|p| p.1)),
        TOP,
        H - TOP - BOTTOM,
    );
    let mut s = open(&format!(
        "Net position (base units) from {} fills, simulated — {}",
        run.fills.len(),
        run.instruments.join(", ")
    ));
    f.axes(&mut s, "position");
    let zero = f.y(0.0);
    let _ = writeln!(
        s,
        r##"<line x1="{LEFT}" y1="{zero:.1}" x2="{}" y2="{zero:.1}" stroke="#bbb" stroke-dasharray="4 3"/>"##,
        W - RIGHT
    );
    f.line(&mut s, &drawn, "#9467bd", "position");
    close(s)
}

/// The three plots' file names and contents.
pub fn all(run: &Run) -> [(&'static str, String); 3] {
    [
        ("equity.svg", equity_svg(run)),
        ("price.svg", price_svg(run)),
        ("position.svg", position_svg(run)),
    ]
}
