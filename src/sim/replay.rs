//! Replay of a recording (`<receive ns> <frame json>` per line, plain or gzip): frames are
//! served byte for byte on their stream at their recorded pace (scaled by a speed), while the
//! recorded diffs keep the simulator's book, the source of REST depth, in step with them.
//!
//! A repeated recording (`replay_repeat`) does not start over in the numbers a client sees:
//! each pass after the first moves the update ids, trade ids and event times of the frames it
//! serves (and of the simulator's book) on by more than the recording spans, so ids and times
//! only rise, and the jump at each repeat is a gap in the diff stream, which a client resyncs
//! from, as it would after a venue's outage. The first pass is served byte for byte; later
//! passes rewrite those numbers in place (depth diffs and partial books, bookTicker, trade
//! and aggTrade frames; frames of other streams as recorded).

use std::borrow::Cow;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use serde::Deserialize;
use serde_json::value::RawValue;

use super::exchange::Exchange;
use crate::types::{Price, Qty};

/// Why a recording could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error("cannot read recording {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("recording {path} line {line}: {msg}")]
    Format {
        path: String,
        line: usize,
        msg: String,
    },
}

/// One recorded line: when it was received and its frame text.
#[derive(Debug, Clone)]
pub struct Line {
    pub recv_ns: u64,
    pub frame: String,
}

#[derive(Deserialize)]
struct Combined<'a> {
    stream: &'a str,
    #[serde(borrow)]
    data: &'a RawValue,
}

#[derive(Deserialize)]
struct Levels {
    #[serde(default)]
    s: Option<String>,
    #[serde(default, rename = "U")]
    first: Option<u64>,
    #[serde(default, rename = "u")]
    last: Option<u64>,
    #[serde(default)]
    b: Vec<[String; 2]>,
    #[serde(default)]
    a: Vec<[String; 2]>,
}

#[derive(Deserialize)]
struct Snapshot {
    #[serde(rename = "lastUpdateId")]
    last_update_id: u64,
    bids: Vec<[String; 2]>,
    asks: Vec<[String; 2]>,
}

#[derive(Deserialize)]
struct Trade {
    s: String,
    p: String,
    q: String,
    m: bool,
}

/// Reads every line of a recording (gzip detected by its magic bytes).
pub fn load(path: &Path) -> Result<Vec<Line>, ReplayError> {
    let p = path.display().to_string();
    let io = |source| ReplayError::Io {
        path: p.clone(),
        source,
    };
    let mut file = std::fs::File::open(path).map_err(io)?;
    let mut magic = [0u8; 2];
    let n = file.read(&mut magic).map_err(io)?;
    let file = std::fs::File::open(path).map_err(io)?;
    let reader: Box<dyn BufRead> = if n == 2 && magic == [0x1f, 0x8b] {
        Box::new(BufReader::new(flate2::read::MultiGzDecoder::new(file)))
    } else {
        Box::new(BufReader::new(file))
    };
    let mut out = Vec::new();
    for (i, line) in reader.lines().enumerate() {
        let line = line.map_err(io)?;
        if line.trim().is_empty() {
            continue;
        }
        let fmt = |msg: &str| ReplayError::Format {
            path: p.clone(),
            line: i + 1,
            msg: msg.into(),
        };
        let (ns, frame) = line
            .split_once(' ')
            .ok_or_else(|| fmt("expected `<receive ns> <frame>`"))?;
        let recv_ns = ns
            .parse()
            .map_err(|_| fmt("receive time is not an integer"))?;
        out.push(Line {
            recv_ns,
            frame: frame.to_string(),
        });
    }
    Ok(out)
}

fn levels(v: &[[String; 2]]) -> Option<Vec<(Price, Qty)>> {
    v.iter()
        .map(|[p, q]| Some((Price::parse(p).ok()?, Qty::parse(q).ok()?)))
        .collect()
}

/// A recorded diff held until the snapshot: `U`, `u`, bids, asks.
type HeldDiff = (u64, u64, Vec<(Price, Qty)>, Vec<(Price, Qty)>);

/// How far one pass of a recording moves its numbers on: more than each kind spans in the
/// recording, so the next pass starts past (and not next to) where the last one ended.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Spans {
    /// Book update ids (`U`, `u`, `lastUpdateId`).
    pub update_ids: u64,
    /// Trade ids (`t`; an aggTrade's `a`, `f`, `l`).
    pub trade_ids: u64,
    /// Event and trade times in milliseconds (`E`, `T`).
    pub ms: u64,
}

/// The keys whose whole-number values are shifted in each stream's frames, by kind.
fn shifted_keys(stream: &str) -> &'static [(&'static str, Kind)] {
    const DIFF: &[(&str, Kind)] = &[("E", Kind::Ms), ("U", Kind::Id), ("u", Kind::Id)];
    const PARTIAL: &[(&str, Kind)] = &[("lastUpdateId", Kind::Id)];
    const TICKER: &[(&str, Kind)] = &[("u", Kind::Id)];
    const TRADE: &[(&str, Kind)] = &[("E", Kind::Ms), ("T", Kind::Ms), ("t", Kind::Trade)];
    const AGG: &[(&str, Kind)] = &[
        ("E", Kind::Ms),
        ("T", Kind::Ms),
        ("a", Kind::Trade),
        ("f", Kind::Trade),
        ("l", Kind::Trade),
    ];
    if stream.ends_with("@trade") {
        TRADE
    } else if stream.ends_with("@aggTrade") {
        AGG
    } else if stream.ends_with("@bookTicker") {
        TICKER
    } else if is_partial(stream) {
        PARTIAL
    } else if stream.contains("@depth") {
        DIFF
    } else {
        &[]
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Id,
    Trade,
    Ms,
}

/// `@depth5`, `@depth10`, `@depth20` (with or without `@100ms`): partial books, not diffs.
fn is_partial(stream: &str) -> bool {
    stream.contains("@depth5") || stream.contains("@depth1") || stream.contains("@depth2")
}

/// Each object key of `text` named in `keys` whose value is a whole number: (key index, byte
/// range of the number). A key is a quoted name right after `{` or `,` and before `:`; array
/// elements and string values cannot match.
fn numbers<'t>(
    text: &'t str,
    keys: &'t [(&'t str, Kind)],
) -> impl Iterator<Item = (usize, std::ops::Range<usize>)> + 't {
    let b = text.as_bytes();
    let mut i = 0;
    std::iter::from_fn(move || {
        while i < b.len() {
            let at = i;
            i += 1;
            if b[at] != b'"' || at == 0 || !matches!(b[at - 1], b'{' | b',') {
                continue;
            }
            for (k, (name, _)) in keys.iter().enumerate() {
                let n = name.len();
                let after = at + 1 + n;
                if b.get(at + 1..after) == Some(name.as_bytes())
                    && b.get(after..after + 2) == Some(b"\":")
                {
                    let start = after + 2;
                    let end = start + b[start..].iter().take_while(|c| c.is_ascii_digit()).count();
                    if end > start {
                        i = end;
                        return Some((k, start..end));
                    }
                }
            }
        }
        None
    })
}

impl Spans {
    /// The spans of a recording: for each kind, its largest number less its smallest, plus a
    /// margin (1,000 ids, one second), so passes never meet.
    pub fn of(lines: &[Line]) -> Spans {
        let mut range = [(u64::MAX, 0u64); 3];
        let mut see = |kind: Kind, v: u64| {
            let r = &mut range[kind as usize];
            *r = (r.0.min(v), r.1.max(v));
        };
        for l in lines {
            let (keys, text): (&[(&str, Kind)], &str) =
                match serde_json::from_str::<Combined>(&l.frame) {
                    Ok(c) => (shifted_keys(c.stream), c.data.get()),
                    Err(_) => (&[("lastUpdateId", Kind::Id)], &l.frame),
                };
            for (k, r) in numbers(text, keys) {
                if let Ok(v) = text[r].parse::<u64>() {
                    see(keys[k].1, v);
                }
            }
        }
        let span = |(lo, hi): (u64, u64), margin: u64| {
            if lo > hi { margin } else { hi - lo + margin }
        };
        Spans {
            update_ids: span(range[Kind::Id as usize], 1_000),
            trade_ids: span(range[Kind::Trade as usize], 1_000),
            ms: span(range[Kind::Ms as usize], 1_000),
        }
    }

    fn of_kind(&self, kind: Kind) -> u64 {
        match kind {
            Kind::Id => self.update_ids,
            Kind::Trade => self.trade_ids,
            Kind::Ms => self.ms,
        }
    }
}

/// `data` with each shifted key's number moved on by `pass` spans (`data` itself on the
/// first pass, or when nothing is to be shifted).
fn shift<'a>(data: &'a str, stream: &str, spans: &Spans, pass: u64) -> Cow<'a, str> {
    let keys = shifted_keys(stream);
    if pass == 0 || keys.is_empty() {
        return Cow::Borrowed(data);
    }
    let mut out = String::with_capacity(data.len() + 16);
    let mut copied = 0;
    for (k, r) in numbers(data, keys) {
        let Ok(v) = data[r.clone()].parse::<u64>() else {
            continue;
        };
        out.push_str(&data[copied..r.start]);
        let moved = v.saturating_add(spans.of_kind(keys[k].1).saturating_mul(pass));
        out.push_str(&moved.to_string());
        copied = r.end;
    }
    out.push_str(&data[copied..]);
    Cow::Owned(out)
}

/// Replay state: the book is unknown until the recording's first REST snapshot; diffs seen
/// before it are held and applied after it as the sync procedure says (those with `u` past
/// the snapshot's `lastUpdateId`). `pass` counts the repeats so far (0: the first pass).
#[derive(Default)]
pub struct ReplayBook {
    synced: Vec<bool>,
    held: Vec<Vec<HeldDiff>>,
    pass: u64,
    spans: Spans,
}

impl ReplayBook {
    pub fn new(symbols: usize) -> Self {
        ReplayBook {
            synced: vec![false; symbols],
            held: vec![Vec::new(); symbols],
            pass: 0,
            spans: Spans::default(),
        }
    }

    /// The recording starts again: the book waits for its snapshot as at the start, and the
    /// numbers of what it serves move on by one more span (measured on the first repeat).
    pub fn next_pass(&mut self, lines: &[Line]) {
        if self.pass == 0 {
            self.spans = Spans::of(lines);
        }
        self.pass += 1;
        for s in &mut self.synced {
            *s = false;
        }
        for h in &mut self.held {
            h.clear();
        }
    }

    /// Takes one recorded frame into the exchange; returns the (stream, payload) to serve, if
    /// the line is a stream frame. Lines that cannot be understood are served if they have a
    /// stream, and otherwise skipped.
    pub fn apply<'a>(
        &mut self,
        ex: &mut Exchange,
        frame: &'a str,
    ) -> Option<(&'a str, Cow<'a, str>)> {
        if let Ok(c) = serde_json::from_str::<Combined>(frame) {
            let data = shift(c.data.get(), c.stream, &self.spans, self.pass);
            let data_ref: &str = &data;
            if c.stream.contains("@depth")
                && !c.stream.contains("@depth5")
                && !c.stream.contains("@depth1")
                && !c.stream.contains("@depth2")
            {
                self.diff(ex, data_ref);
            } else if c.stream.ends_with("@trade")
                && let Ok(t) = serde_json::from_str::<Trade>(data_ref)
                && let (Some(sym), Ok(p), Ok(q)) =
                    (ex.symbol_index(&t.s), Price::parse(&t.p), Qty::parse(&t.q))
            {
                ex.recorded_trade(sym, p, q, t.m);
            }
            return Some((c.stream, data));
        }
        if let Ok(s) = serde_json::from_str::<Snapshot>(frame) {
            // The recording's snapshot names no symbol: it belongs to its only symbol.
            let sym = 0;
            let id = s
                .last_update_id
                .saturating_add(self.spans.update_ids.saturating_mul(self.pass));
            if let (Some(b), Some(a)) = (levels(&s.bids), levels(&s.asks))
                && sym < ex.symbols.len()
            {
                ex.symbols[sym].book.load_snapshot(id, &b, &a);
                self.synced[sym] = true;
                for (first, last, b, a) in std::mem::take(&mut self.held[sym]) {
                    if last > id {
                        ex.symbols[sym].book.apply_recorded(first, last, &b, &a);
                    }
                }
            }
        }
        None
    }

    fn diff(&mut self, ex: &mut Exchange, data: &str) {
        let Ok(d) = serde_json::from_str::<Levels>(data) else {
            return;
        };
        let sym = d.s.as_deref().and_then(|s| ex.symbol_index(s)).unwrap_or(0);
        let (Some(first), Some(last), Some(b), Some(a)) =
            (d.first, d.last, levels(&d.b), levels(&d.a))
        else {
            return;
        };
        if sym >= ex.symbols.len() {
            return;
        }
        if !self.synced[sym] {
            self.held[sym].push((first, last, b, a));
        } else if last > ex.symbols[sym].book.update_id() {
            ex.symbols[sym].book.apply_recorded(first, last, &b, &a);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPANS: Spans = Spans {
        update_ids: 100,
        trade_ids: 10,
        ms: 1_000,
    };

    #[test]
    fn a_later_pass_moves_only_the_named_numbers() {
        let diff = r#"{"e":"depthUpdate","E":1700,"s":"BTCUSDT","U":5,"u":9,"b":[["61837.63","0.1"]],"a":[["61900.00","2"]]}"#;
        assert_eq!(shift(diff, "btcusdt@depth@100ms", &SPANS, 0), diff);
        assert_eq!(
            shift(diff, "btcusdt@depth@100ms", &SPANS, 2),
            r#"{"e":"depthUpdate","E":3700,"s":"BTCUSDT","U":205,"u":209,"b":[["61837.63","0.1"]],"a":[["61900.00","2"]]}"#
        );
        let trade = r#"{"e":"trade","E":1700,"s":"BTCUSDT","t":42,"p":"1.5","q":"2","T":1699,"m":true,"M":true}"#;
        assert_eq!(
            shift(trade, "btcusdt@trade", &SPANS, 1),
            r#"{"e":"trade","E":2700,"s":"BTCUSDT","t":52,"p":"1.5","q":"2","T":2699,"m":true,"M":true}"#
        );
        let ticker = r#"{"u":77,"s":"BTCUSDT","b":"1.0","B":"2","a":"1.1","A":"3"}"#;
        assert_eq!(
            shift(ticker, "btcusdt@bookTicker", &SPANS, 1),
            r#"{"u":177,"s":"BTCUSDT","b":"1.0","B":"2","a":"1.1","A":"3"}"#
        );
        let partial = r#"{"lastUpdateId":7,"bids":[["1","2"]],"asks":[]}"#;
        assert_eq!(
            shift(partial, "btcusdt@depth5@100ms", &SPANS, 1),
            r#"{"lastUpdateId":107,"bids":[["1","2"]],"asks":[]}"#
        );
        // Streams it does not know are served as recorded.
        let kline = r#"{"e":"kline","E":1,"k":{"t":1}}"#;
        assert_eq!(shift(kline, "btcusdt@kline_1m", &SPANS, 3), kline);
    }

    #[test]
    fn spans_cover_the_recording_with_a_margin() {
        let line = |frame: &str| Line {
            recv_ns: 0,
            frame: frame.into(),
        };
        let lines = [
            line(
                r#"{"stream":"x@depth@100ms","data":{"e":"depthUpdate","E":5000,"U":10,"u":20,"b":[],"a":[]}}"#,
            ),
            line(r#"{"lastUpdateId":15,"bids":[],"asks":[]}"#),
            line(
                r#"{"stream":"x@trade","data":{"e":"trade","E":5500,"t":3,"p":"1","q":"1","T":5499,"m":false}}"#,
            ),
            line(r#"{"stream":"x@bookTicker","data":{"u":40,"b":"1","B":"1","a":"2","A":"1"}}"#),
            line(
                r#"{"stream":"x@trade","data":{"e":"trade","E":9000,"t":8,"p":"1","q":"1","T":9000,"m":false}}"#,
            ),
        ];
        assert_eq!(
            Spans::of(&lines),
            Spans {
                update_ids: 40 - 10 + 1_000,
                trade_ids: 8 - 3 + 1_000,
                ms: 9000 - 5000 + 1_000,
            }
        );
    }
}
