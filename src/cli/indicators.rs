//! `mako indicators <csv> [--sma N]... [--ema N]... [--rsi N]... [--macd F,S,SIG]
//! [--bbands N,K]... [--atr N]... [--vol N]...`: reads a CSV of bars with a header and a
//! `close` column (`high` and `low` too for ATR) and prints it again with one column per
//! indicator output, empty until the indicator has a value, so a user can hold mako's
//! values against their charting tool's.
//!
//! Column names are matched without regard to case or surrounding spaces; fields may be
//! quoted as in RFC 4180 (on one line). Each input line is printed as it was read, followed
//! by the new fields. Nothing is printed unless the whole file reads cleanly.

use std::fmt::Write as _;
use std::io::Write as _;
use std::process::ExitCode;

use crate::strategy::indicators::{Atr, Bbands, Ema, IndicatorError, LogReturnVol, Macd, Rsi, Sma};

pub const USAGE: &str = "\
usage: mako indicators <csv> [--sma N]... [--ema N]... [--rsi N]... [--macd F,S,SIG]
                             [--bbands N,K]... [--atr N]... [--vol N]...
  The CSV has a header and a close column (high and low too for --atr). Output: the input's
  columns, then sma_<n>, ema_<n>, rsi_<n>, macd, macd_signal, macd_hist,
  bb_upper_<n>, bb_middle_<n>, bb_lower_<n>, atr_<n>, vol_<n> in the order of the flags;
  empty until the indicator has a value. Values equal TA-Lib's (defaults: SMA-seeded EMA,
  no unstable period); --vol is the sample standard deviation of the last N log returns.";

/// The indicators asked for, checked, in the order of the flags.
struct Request {
    file: String,
    calcs: Vec<Calc>,
}

/// One indicator of the request and its state.
enum Calc {
    Sma(Sma),
    Ema(Ema),
    Rsi(Rsi),
    Macd(Macd),
    Bbands(Bbands),
    Atr(Atr),
    Vol(LogReturnVol),
}

/// What one bar gives the indicators. `high` and `low` are read only when an ATR needs them.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Bar {
    high: f64,
    low: f64,
    close: f64,
}

impl Calc {
    fn columns(&self) -> Vec<String> {
        match self {
            Calc::Sma(i) => vec![format!("sma_{}", i.period())],
            Calc::Ema(i) => vec![format!("ema_{}", i.period())],
            Calc::Rsi(i) => vec![format!("rsi_{}", i.period())],
            Calc::Macd(_) => vec!["macd".into(), "macd_signal".into(), "macd_hist".into()],
            Calc::Bbands(i) => ["upper", "middle", "lower"]
                .map(|b| format!("bb_{b}_{}", i.period()))
                .into(),
            Calc::Atr(i) => vec![format!("atr_{}", i.period())],
            Calc::Vol(i) => vec![format!("vol_{}", i.window())],
        }
    }

    /// Feeds `bar`; appends one entry per column.
    fn update(&mut self, bar: Bar, out: &mut Vec<Option<f64>>) {
        match self {
            Calc::Sma(i) => out.push(i.update(bar.close)),
            Calc::Ema(i) => out.push(i.update(bar.close)),
            Calc::Rsi(i) => out.push(i.update(bar.close)),
            Calc::Macd(i) => {
                let v = i.update(bar.close);
                out.extend([v.map(|v| v.macd), v.map(|v| v.signal), v.map(|v| v.hist)]);
            }
            Calc::Bbands(i) => {
                let v = i.update(bar.close);
                out.extend([v.map(|v| v.upper), v.map(|v| v.middle), v.map(|v| v.lower)]);
            }
            Calc::Atr(i) => out.push(i.update(bar.high, bar.low, bar.close)),
            Calc::Vol(i) => out.push(i.update(bar.close)),
        }
    }
}

fn period(flag: &str, text: &str) -> Result<usize, String> {
    text.trim()
        .parse()
        .map_err(|_| format!("{flag} {text:?}: expected a whole number"))
}

/// `text` split at commas into exactly `n` parts.
fn parts<'a>(flag: &str, text: &'a str, n: usize, form: &str) -> Result<Vec<&'a str>, String> {
    let parts: Vec<&str> = text.split(',').collect();
    if parts.len() == n {
        Ok(parts)
    } else {
        Err(format!("{flag} {text:?}: expected {form}"))
    }
}

fn calc(flag: &str, value: &str) -> Result<Calc, String> {
    let checked = |r: Result<Calc, IndicatorError>| r.map_err(|e| format!("{flag} {value}: {e}"));
    match flag {
        "--sma" => checked(Sma::new(period(flag, value)?).map(Calc::Sma)),
        "--ema" => checked(Ema::new(period(flag, value)?).map(Calc::Ema)),
        "--rsi" => checked(Rsi::new(period(flag, value)?).map(Calc::Rsi)),
        "--atr" => checked(Atr::new(period(flag, value)?).map(Calc::Atr)),
        "--vol" => checked(LogReturnVol::new(period(flag, value)?).map(Calc::Vol)),
        "--macd" => {
            let p = parts(flag, value, 3, "FAST,SLOW,SIGNAL, e.g. 12,26,9")?;
            let (f, s, g) = (
                period(flag, p[0])?,
                period(flag, p[1])?,
                period(flag, p[2])?,
            );
            checked(Macd::new(f, s, g).map(Calc::Macd))
        }
        "--bbands" => {
            let p = parts(flag, value, 2, "N,K, e.g. 20,2")?;
            let n = period(flag, p[0])?;
            let k: f64 = p[1]
                .trim()
                .parse()
                .map_err(|_| format!("{flag} {value:?}: the width {:?} is not a number", p[1]))?;
            checked(Bbands::new(n, k).map(Calc::Bbands))
        }
        other => Err(format!("unknown flag {other:?}")),
    }
}

fn parse(args: &[String]) -> Result<Request, String> {
    let mut file = None;
    let mut calcs = Vec::new();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        if arg.starts_with("--") {
            let value = it.next().ok_or(format!("{arg} needs a value"))?;
            calcs.push(calc(arg, value)?);
        } else if let Some(first) = &file {
            return Err(format!("one CSV file at a time: {first:?} and {arg:?}"));
        } else {
            file = Some(arg.clone());
        }
    }
    let file = file.ok_or("no CSV file given")?;
    if calcs.is_empty() {
        return Err("no indicator asked for (e.g. --sma 20)".into());
    }
    let mut seen = std::collections::HashSet::new();
    for name in calcs.iter().flat_map(Calc::columns) {
        if !seen.insert(name.clone()) {
            return Err(format!(
                "column {name} asked for twice (macd's columns carry no periods: one --macd)"
            ));
        }
    }
    Ok(Request { file, calcs })
}

/// The fields of one CSV line, unquoted. Quotes open only at a field's start; `""` inside
/// quotes is one quote.
fn split_fields(line: &str) -> Result<Vec<String>, String> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let (mut quoted, mut chars) = (false, line.chars().peekable());
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, ',') => fields.push(std::mem::take(&mut field)),
            (false, '"') if field.trim().is_empty() => {
                field.clear();
                quoted = true;
            }
            (false, c) => field.push(c),
        }
    }
    if quoted {
        return Err("a quoted field is not closed on its line".into());
    }
    fields.push(field);
    Ok(fields)
}

/// Index of the column named `name` (any case, spaces around ignored).
fn column(header: &[String], name: &str, why: &str) -> Result<usize, String> {
    let mut hits = (0..header.len()).filter(|&i| header[i].trim().eq_ignore_ascii_case(name));
    match (hits.next(), hits.next()) {
        (Some(i), None) => Ok(i),
        (Some(_), Some(_)) => Err(format!("line 1: two columns are named {name:?}")),
        (None, _) => Err(format!(
            "line 1: no column named {name:?} ({why}); the columns are: {}",
            header.join(", ")
        )),
    }
}

/// The number in `field` of column `name` on line `line`.
fn number(field: &str, name: &str, line: usize) -> Result<f64, String> {
    let t = field.trim();
    if t.is_empty() {
        return Err(format!("line {line}: {name} is empty"));
    }
    let x: f64 = t
        .parse()
        .map_err(|_| format!("line {line}: {name} {t:?} is not a number"))?;
    if !x.is_finite() {
        return Err(format!("line {line}: {name} {t:?} is not a finite number"));
    }
    Ok(x)
}

/// The input's lines (header first) as printed back, and its bars.
struct Table<'a> {
    header: &'a str,
    rows: Vec<(&'a str, Bar)>,
}

fn read_table<'a>(text: &'a str, calcs: &[Calc]) -> Result<Table<'a>, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l))
        .filter(|(_, l)| !l.trim().is_empty());
    let (_, header_line) = lines
        .next()
        .ok_or("the file is empty: it needs a header line")?;
    let header = split_fields(header_line).map_err(|e| format!("line 1: {e}"))?;
    let close = column(&header, "close", "every indicator reads the close")?;
    let needs_range = calcs.iter().any(|c| matches!(c, Calc::Atr(_)));
    let range = if needs_range {
        let why = "--atr reads high, low and close";
        Some((column(&header, "high", why)?, column(&header, "low", why)?))
    } else {
        None
    };
    let positive = calcs.iter().any(|c| matches!(c, Calc::Vol(_)));
    let taken: Vec<String> = header
        .iter()
        .map(|h| h.trim().to_ascii_lowercase())
        .collect();
    for name in calcs.iter().flat_map(Calc::columns) {
        if taken.contains(&name) {
            return Err(format!(
                "line 1: the input already has a column named {name}"
            ));
        }
    }
    let mut rows = Vec::new();
    for (n, line) in lines {
        let fields = split_fields(line).map_err(|e| format!("line {n}: {e}"))?;
        if fields.len() != header.len() {
            return Err(format!(
                "line {n}: {} fields where the header has {}",
                fields.len(),
                header.len()
            ));
        }
        let c = number(&fields[close], "close", n)?;
        if positive && c <= 0.0 {
            return Err(format!(
                "line {n}: close {c} is not positive; --vol takes the log of closes"
            ));
        }
        let (high, low) = match range {
            Some((h, l)) => (
                number(&fields[h], "high", n)?,
                number(&fields[l], "low", n)?,
            ),
            None => (f64::NAN, f64::NAN),
        };
        rows.push((
            line,
            Bar {
                high,
                low,
                close: c,
            },
        ));
    }
    Ok(Table {
        header: header_line,
        rows,
    })
}

/// The output CSV for `text`.
fn render(text: &str, mut calcs: Vec<Calc>) -> Result<String, String> {
    let table = read_table(text, &calcs)?;
    let mut out = String::with_capacity(text.len() * 3);
    out.push_str(table.header);
    for name in calcs.iter().flat_map(Calc::columns) {
        out.push(',');
        out.push_str(&name);
    }
    out.push('\n');
    let mut values = Vec::new();
    for (line, bar) in table.rows {
        values.clear();
        for c in &mut calcs {
            c.update(bar, &mut values);
        }
        out.push_str(line);
        for v in &values {
            out.push(',');
            if let Some(v) = v {
                // `{}` prints the shortest decimal that reads back as the same f64.
                let _ = write!(out, "{v}");
            }
        }
        out.push('\n');
    }
    Ok(out)
}

pub fn run(args: &[String]) -> ExitCode {
    let req = match parse(args) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("mako indicators: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let text = match std::fs::read_to_string(&req.file) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("mako indicators: cannot read {}: {e}", req.file);
            return ExitCode::from(1);
        }
    };
    let out = match render(&text, req.calcs) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("mako indicators: {}: {e}", req.file);
            return ExitCode::from(1);
        }
    };
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = stdout
        .write_all(out.as_bytes())
        .and_then(|()| stdout.flush())
    {
        eprintln!("mako indicators: writing the output: {e}");
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    fn columns(s: &str) -> Result<Vec<String>, String> {
        parse(&args(s)).map(|r| r.calcs.iter().flat_map(Calc::columns).collect())
    }

    #[test]
    fn flags_become_columns_in_order() {
        let got = columns("p.csv --sma 5 --bbands 20,2 --macd 12,26,9 --sma 20 --vol 3").unwrap();
        let want = "sma_5 bb_upper_20 bb_middle_20 bb_lower_20 macd macd_signal macd_hist \
                    sma_20 vol_3";
        assert_eq!(got, args(want));
    }

    #[test]
    fn bad_flags_are_named() {
        for (line, want) in [
            ("p.csv", "no indicator asked for (e.g. --sma 20)"),
            ("--sma 5", "no CSV file given"),
            ("p.csv --sma", "--sma needs a value"),
            ("p.csv --sma x", "--sma \"x\": expected a whole number"),
            ("p.csv --sma -3", "--sma \"-3\": expected a whole number"),
            (
                "p.csv --sma 0",
                "--sma 0: SMA period 0: must be between 1 and 100000",
            ),
            (
                "p.csv --rsi 1",
                "--rsi 1: RSI period 1: must be between 2 and 100000",
            ),
            (
                "p.csv --macd 12,26",
                "--macd \"12,26\": expected FAST,SLOW,SIGNAL, e.g. 12,26,9",
            ),
            (
                "p.csv --bbands 20",
                "--bbands \"20\": expected N,K, e.g. 20,2",
            ),
            (
                "p.csv --bbands 20,x",
                "--bbands \"20,x\": the width \"x\" is not a number",
            ),
            (
                "p.csv --bbands 20,-1",
                "--bbands 20,-1: band width -1: must be a finite number, not negative",
            ),
            (
                "p.csv --sma 5 --sma 5",
                "column sma_5 asked for twice (macd's columns carry no periods: one --macd)",
            ),
            (
                "p.csv --bbands 20,2 --bbands 20,3",
                "column bb_upper_20 asked for twice (macd's columns carry no periods: one --macd)",
            ),
            ("p.csv --wma 5", "unknown flag \"--wma\""),
            (
                "a.csv b.csv --sma 5",
                "one CSV file at a time: \"a.csv\" and \"b.csv\"",
            ),
        ] {
            assert_eq!(columns(line).unwrap_err(), want, "{line}");
        }
    }

    #[test]
    fn fields_split_at_commas_outside_quotes() {
        assert_eq!(split_fields("a, b ,c").unwrap(), ["a", " b ", "c"]);
        assert_eq!(
            split_fields(r#""2024-01-01, 10:00","say ""hi""",3"#).unwrap(),
            ["2024-01-01, 10:00", r#"say "hi""#, "3"]
        );
        assert_eq!(split_fields("x,").unwrap(), ["x", ""]);
        assert!(split_fields(r#"1,"open"#).is_err());
    }

    fn render_with(flags: &str, csv: &str) -> Result<String, String> {
        render(csv, parse(&args(&format!("f.csv {flags}")))?.calcs)
    }

    #[test]
    fn prints_the_input_then_the_values() {
        let csv = "time,Close\r\nt0,1\nt1,2\n\nt2,3\nt3,6\n";
        let got = render_with("--sma 2 --ema 3", csv).unwrap();
        assert_eq!(
            got,
            "time,Close,sma_2,ema_3\nt0,1,,\nt1,2,1.5,\nt2,3,2.5,2\nt3,6,4.5,4\n"
        );
    }

    #[test]
    fn bad_input_says_which_line() {
        for (flags, csv, want) in [
            ("--sma 2", "", "the file is empty: it needs a header line"),
            (
                "--sma 2",
                "time,price\nt,1\n",
                "line 1: no column named \"close\" (every indicator reads the close); the columns are: time, price",
            ),
            (
                "--atr 2",
                "time,close,low\nt,1,1\n",
                "line 1: no column named \"high\" (--atr reads high, low and close); the columns are: time, close, low",
            ),
            (
                "--sma 2",
                "close,CLOSE\n1,1\n",
                "line 1: two columns are named \"close\"",
            ),
            (
                "--sma 2",
                "close,sma_2\n1,1\n",
                "line 1: the input already has a column named sma_2",
            ),
            (
                "--sma 2",
                "t,close\na,1\nb,2,3\n",
                "line 3: 3 fields where the header has 2",
            ),
            (
                "--sma 2",
                "t,close\na,1\nb,x\n",
                "line 3: close \"x\" is not a number",
            ),
            ("--sma 2", "t,close\na,\n", "line 2: close is empty"),
            (
                "--sma 2",
                "t,close\na,NaN\n",
                "line 2: close \"NaN\" is not a finite number",
            ),
            (
                "--atr 1",
                "high,low,close\n2,1,1.5\n2,oops,1\n",
                "line 3: low \"oops\" is not a number",
            ),
            (
                "--vol 2",
                "close\n1\n0\n",
                "line 3: close 0 is not positive; --vol takes the log of closes",
            ),
            (
                "--sma 2",
                "t,close\n\"a,1\n",
                "line 2: a quoted field is not closed on its line",
            ),
        ] {
            assert_eq!(render_with(flags, csv).unwrap_err(), want, "{csv:?}");
        }
    }
}
