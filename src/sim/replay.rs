//! Replay of a recording (`<receive ns> <frame json>` per line, plain or gzip): frames are
//! served byte for byte on their stream at their recorded pace (scaled by a speed), while the
//! recorded diffs keep the simulator's book, the source of REST depth, in step with them.

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

/// Replay state: the book is unknown until the recording's first REST snapshot; diffs seen
/// before it are held and applied after it as the sync procedure says (those with `u` past
/// the snapshot's `lastUpdateId`).
#[derive(Default)]
pub struct ReplayBook {
    synced: Vec<bool>,
    held: Vec<Vec<HeldDiff>>,
}

impl ReplayBook {
    pub fn new(symbols: usize) -> Self {
        ReplayBook {
            synced: vec![false; symbols],
            held: vec![Vec::new(); symbols],
        }
    }

    /// Takes one recorded frame into the exchange; returns the (stream, payload) to serve, if
    /// the line is a stream frame. Lines that cannot be understood are served if they have a
    /// stream, and otherwise skipped.
    pub fn apply<'a>(&mut self, ex: &mut Exchange, frame: &'a str) -> Option<(&'a str, &'a str)> {
        if let Ok(c) = serde_json::from_str::<Combined>(frame) {
            let data = c.data.get();
            if c.stream.contains("@depth")
                && !c.stream.contains("@depth5")
                && !c.stream.contains("@depth1")
                && !c.stream.contains("@depth2")
            {
                self.diff(ex, data);
            } else if c.stream.ends_with("@trade")
                && let Ok(t) = serde_json::from_str::<Trade>(data)
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
            if let (Some(b), Some(a)) = (levels(&s.bids), levels(&s.asks))
                && sym < ex.symbols.len()
            {
                ex.symbols[sym].book.load_snapshot(s.last_update_id, &b, &a);
                self.synced[sym] = true;
                for (first, last, b, a) in std::mem::take(&mut self.held[sym]) {
                    if last > s.last_update_id {
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
