//! `mako indicators <csv> [--sma N]... [--ema N]... [--rsi N]... [--macd F,S,SIG]...
//! [--bbands N,K]... [--atr N]... [--vol N]...`: the input CSV (a header with a `close` column,
//! and `high`/`low` for ATR) with one column per indicator output appended, empty where the
//! indicator has no value yet, so a user can hold mako's values against their charting tool.

use std::io::Write;
use std::process::ExitCode;

use crate::strategy::indicators::{Atr, Bbands, Ema, LogReturnVol, Macd, Rsi, Sma};

/// One requested indicator, with its state.
enum Column {
    Sma(Sma),
    Ema(Ema),
    Rsi(Rsi),
    Macd(Macd),
    Bbands(Bbands),
    Atr(Atr),
    Vol(LogReturnVol),
}

impl Column {
    /// Parses one flag and its value; `Err` names what is wrong.
    fn parse(flag: &str, value: &str) -> Result<(Self, Vec<String>), String> {
        let nums = |n: usize| -> Result<Vec<&str>, String> {
            let parts: Vec<&str> = value.split(',').map(str::trim).collect();
            if parts.len() == n {
                Ok(parts)
            } else {
                Err(format!(
                    "{flag} {value:?}: expected {n} comma-separated numbers"
                ))
            }
        };
        let int = |s: &str| {
            s.parse::<usize>()
                .map_err(|_| format!("{flag} {value:?}: {s:?} is not a whole number"))
        };
        let bad = |e: crate::strategy::indicators::IndicatorError| format!("{flag} {value}: {e}");
        let one = || -> Result<usize, String> { int(nums(1)?[0]) };
        Ok(match flag {
            "--sma" => {
                let n = one()?;
                (
                    Column::Sma(Sma::new(n).map_err(bad)?),
                    vec![format!("sma_{n}")],
                )
            }
            "--ema" => {
                let n = one()?;
                (
                    Column::Ema(Ema::new(n).map_err(bad)?),
                    vec![format!("ema_{n}")],
                )
            }
            "--rsi" => {
                let n = one()?;
                (
                    Column::Rsi(Rsi::new(n).map_err(bad)?),
                    vec![format!("rsi_{n}")],
                )
            }
            "--atr" => {
                let n = one()?;
                (
                    Column::Atr(Atr::new(n).map_err(bad)?),
                    vec![format!("atr_{n}")],
                )
            }
            "--vol" => {
                let n = one()?;
                let v = LogReturnVol::new(n).map_err(bad)?;
                (Column::Vol(v), vec![format!("vol_{n}")])
            }
            "--macd" => {
                let p = nums(3)?;
                let m = Macd::new(int(p[0])?, int(p[1])?, int(p[2])?).map_err(bad)?;
                let names = ["macd", "macd_signal", "macd_hist"];
                (Column::Macd(m), names.map(str::to_owned).to_vec())
            }
            "--bbands" => {
                let p = nums(2)?;
                let n = int(p[0])?;
                let k: f64 = p[1]
                    .parse()
                    .map_err(|_| format!("{flag} {value:?}: {:?} is not a number", p[1]))?;
                let b = Bbands::new(n, k).map_err(bad)?;
                let names = ["bb_upper", "bb_middle", "bb_lower"].map(|c| format!("{c}_{n}"));
                (Column::Bbands(b), names.to_vec())
            }
            other => return Err(format!("unknown flag {other:?}")),
        })
    }

    fn needs_high_low(&self) -> bool {
        matches!(self, Column::Atr(_))
    }

    /// Feeds one bar; appends this column's fields (empty when there is no value yet).
    fn update(&mut self, high: f64, low: f64, close: f64, out: &mut Vec<Option<f64>>) {
        match self {
            Column::Sma(s) => out.push(s.update(close)),
            Column::Ema(s) => out.push(s.update(close)),
            Column::Rsi(s) => out.push(s.update(close)),
            Column::Vol(s) => out.push(s.update(close)),
            Column::Atr(s) => out.push(s.update(high, low, close)),
            Column::Macd(m) => {
                let v = m.update(close);
                out.extend([v.map(|v| v.macd), v.map(|v| v.signal), v.map(|v| v.hist)]);
            }
            Column::Bbands(b) => {
                let v = b.update(close);
                out.extend([v.map(|v| v.upper), v.map(|v| v.middle), v.map(|v| v.lower)]);
            }
        }
    }
}

pub fn run(args: &[String]) -> ExitCode {
    match indicators(args, &mut std::io::stdout().lock()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mako indicators: {e}");
            ExitCode::from(2)
        }
    }
}

/// The whole command, writing the CSV to `out`; the error names the file, line and column.
pub fn indicators(args: &[String], out: &mut impl Write) -> Result<(), String> {
    let mut path = None;
    let mut columns = Vec::new();
    let mut names = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a.starts_with("--") {
            let value = it.next().ok_or_else(|| format!("{a} needs a value"))?;
            let (c, n) = Column::parse(a, value)?;
            columns.push(c);
            names.extend(n);
        } else if path.replace(a.clone()).is_some() {
            return Err(format!("one input file only (got {a:?} too)"));
        }
    }
    let path = path.ok_or("usage: mako indicators <csv> --sma N --ema N --rsi N --macd F,S,SIG --bbands N,K --atr N --vol N")?;
    if columns.is_empty() {
        return Err(
            "no indicator asked for (--sma, --ema, --rsi, --macd, --bbands, --atr, --vol)".into(),
        );
    }
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{path}: {e}"))?;
    let mut lines = text.lines().enumerate();
    let (_, header) = lines.next().ok_or(format!("{path}: empty file"))?;
    let header: Vec<&str> = header.split(',').map(str::trim).collect();
    let col = |name: &str| header.iter().position(|h| *h == name);
    let close = col("close").ok_or(format!("{path}: no `close` column in the header"))?;
    let high_low = match (col("high"), col("low")) {
        (Some(h), Some(l)) => Some((h, l)),
        _ if columns.iter().any(Column::needs_high_low) => {
            return Err(format!("{path}: --atr needs `high` and `low` columns"));
        }
        _ => None,
    };
    let w = |e: std::io::Error| format!("writing: {e}");
    let mut head = header.join(",");
    for n in &names {
        head.push(',');
        head.push_str(n);
    }
    writeln!(out, "{head}").map_err(w)?;
    let mut values = Vec::with_capacity(names.len());
    let mut rows = 0usize;
    for (i, line) in lines {
        if line.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        if fields.len() != header.len() {
            return Err(format!(
                "{path} line {}: {} fields, the header has {}",
                i + 1,
                fields.len(),
                header.len()
            ));
        }
        let num = |k: usize| -> Result<f64, String> {
            fields[k]
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| {
                    format!(
                        "{path} line {}: {}: {:?} is not a number",
                        i + 1,
                        header[k],
                        fields[k]
                    )
                })
        };
        let c = num(close)?;
        let (h, l) = match high_low {
            Some((h, l)) => (num(h)?, num(l)?),
            None => (c, c),
        };
        values.clear();
        for column in &mut columns {
            column.update(h, l, c, &mut values);
        }
        let mut row = fields.join(",");
        for v in &values {
            row.push(',');
            if let Some(v) = v {
                row.push_str(&v.to_string());
            }
        }
        writeln!(out, "{row}").map_err(w)?;
        rows += 1;
    }
    if rows == 0 {
        return Err(format!("{path}: no rows after the header"));
    }
    Ok(())
}
