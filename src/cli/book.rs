//! `mako book`: replays market-data recordings through the feed's own codec and book sync,
//! then prints each instrument's final top of book and the replay's counts.

use std::fmt::Write as _;
use std::process::ExitCode;

use crate::book::Level;
use crate::feed::handler::{FeedCounters, SpotMdHandler};
use crate::feed::record::RecordReader;
use crate::feed::sync::{BookSync, SyncLimits, SyncState};
use crate::types::{InstrumentId, Side};
use crate::venue::binance::md::{TimeUnit, stream_symbol};
use crate::venue::binance::symbols::SymbolTable;

pub const USAGE: &str = "usage: mako book <recording>... --venue binance-spot [--depth N] [--json]";

/// How many bad lines or frames are described on stderr before the rest are only counted.
const REPORT_LIMIT: u64 = 5;

#[derive(Debug)]
struct Args {
    files: Vec<String>,
    depth: usize,
    json: bool,
}

fn parse_args(args: &[String]) -> Result<Args, String> {
    let (mut files, mut depth, mut json, mut venue) = (Vec::new(), 5usize, false, None);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--venue" => venue = Some(it.next().ok_or("--venue needs a value")?.clone()),
            "--depth" => {
                let v = it.next().ok_or("--depth needs a value")?;
                depth = v
                    .parse()
                    .map_err(|_| format!("--depth {v:?}: expected a whole number"))?;
            }
            "--json" => json = true,
            s if s.starts_with("--") => return Err(format!("unknown flag {s:?}")),
            s => files.push(s.to_owned()),
        }
    }
    match venue.as_deref() {
        Some("binance-spot") => {}
        Some(v) => {
            return Err(format!(
                "--venue {v:?}: only binance-spot recordings can be replayed"
            ));
        }
        None => return Err("--venue is required (binance-spot)".into()),
    }
    if files.is_empty() {
        return Err("no recording given".into());
    }
    Ok(Args { files, depth, json })
}

/// Totals over the whole replay.
#[derive(Default)]
struct Totals {
    malformed_lines: u64,
    truncated_files: u64,
}

pub fn run(args: &[String]) -> ExitCode {
    let args = match parse_args(args) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("mako book: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let mut h = SpotMdHandler::new(SymbolTable::new(), TimeUnit::Millis, SyncLimits::default());
    let mut totals = Totals::default();
    for path in &args.files {
        let mut reader = match RecordReader::open(path) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("mako book: cannot open {path}: {e}");
                return ExitCode::FAILURE;
            }
        };
        while let Some(item) = reader.next() {
            match item {
                Ok(rec) => {
                    // Instruments are numbered in the order their streams first appear.
                    if let Some(sym) = stream_symbol(rec.frame)
                        && h.symbols().by_stream(sym.as_bytes()).is_none()
                    {
                        let id = InstrumentId(h.symbols().len() as u32);
                        if let Err(e) = h.add_symbol(sym, id) {
                            eprintln!("mako book: {path}: {e}");
                        }
                    }
                    if let Err(e) = h.on_frame(rec.frame)
                        && h.counters().malformed <= REPORT_LIMIT
                    {
                        eprintln!("mako book: {path}: line {}: {e}", rec.line);
                    }
                }
                Err(e) => {
                    if matches!(e, crate::feed::record::RecordError::Truncated { .. }) {
                        totals.truncated_files += 1;
                    } else {
                        totals.malformed_lines += 1;
                    }
                    if totals.malformed_lines + totals.truncated_files <= REPORT_LIMIT {
                        eprintln!("mako book: {path}: {e}");
                    }
                }
            }
        }
    }
    let out = if args.json {
        json(&h, &totals, args.depth)
    } else {
        text(&h, &totals, args.depth)
    };
    print!("{out}");
    ExitCode::SUCCESS
}

fn top(sync: &BookSync, side: Side, depth: usize) -> Vec<Level> {
    let mut v = vec![Level::default(); depth];
    let n = if sync.state() == SyncState::Live {
        sync.book().top_n(side, &mut v)
    } else {
        0
    };
    v.truncate(n);
    v
}

fn symbol(h: &SpotMdHandler, id: InstrumentId) -> &str {
    h.symbols().symbol_of(id).unwrap_or("?")
}

fn text(h: &SpotMdHandler, t: &Totals, depth: usize) -> String {
    let c: &FeedCounters = h.counters();
    let mut s = String::new();
    let _ = writeln!(
        s,
        "frames {}  malformed frames {}  malformed lines {}  truncated files {}",
        c.frames, c.malformed, t.malformed_lines, t.truncated_files
    );
    let _ = writeln!(
        s,
        "  bookTicker {}  depth {}  trade {}  snapshots {}  serverShutdown {}",
        c.book_tickers, c.depth_updates, c.trades, c.snapshots, c.server_shutdowns
    );
    for b in h.books() {
        let k = b.counters();
        let state = if b.state() == SyncState::Live {
            "live"
        } else {
            "syncing"
        };
        let _ = writeln!(
            s,
            "\n{} (instrument {}): {state}, update id {}",
            symbol(h, b.instrument()),
            b.instrument(),
            b.book().update_id()
        );
        let _ = writeln!(
            s,
            "  diffs applied {}  stale {}  buffered {}  gaps {}  overlaps {}  crossed {}  resyncs {}",
            k.diffs_applied,
            k.stale_dropped,
            k.diffs_buffered,
            k.gaps,
            k.overlaps,
            k.crossed,
            k.resyncs
        );
        let _ = writeln!(
            s,
            "  snapshots applied {}  too old {}  ignored {}",
            k.snapshots_applied, k.snapshots_too_old, k.snapshots_ignored
        );
        let _ = writeln!(
            s,
            "  bookTicker checked {}  agreed {}  unchecked {}",
            k.tickers_checked, k.tickers_agreed, k.tickers_unchecked
        );
        let (bids, asks) = (top(b, Side::Buy, depth), top(b, Side::Sell, depth));
        let _ = writeln!(s, "  {:>4} {:>20} {:>20}", "", "price", "qty");
        for l in asks.iter().rev() {
            let _ = writeln!(
                s,
                "  {:>4} {:>20} {:>20}",
                "ask",
                l.price.to_string(),
                l.qty.to_string()
            );
        }
        for l in &bids {
            let _ = writeln!(
                s,
                "  {:>4} {:>20} {:>20}",
                "bid",
                l.price.to_string(),
                l.qty.to_string()
            );
        }
    }
    s
}

fn json_levels(levels: &[Level]) -> String {
    let items: Vec<String> = levels
        .iter()
        .map(|l| format!("[\"{}\",\"{}\"]", l.price, l.qty))
        .collect();
    format!("[{}]", items.join(","))
}

fn json(h: &SpotMdHandler, t: &Totals, depth: usize) -> String {
    let c = h.counters();
    let books: Vec<String> = h
        .books()
        .iter()
        .map(|b| {
            let k = b.counters();
            format!(
                concat!(
                    "{{\"symbol\":\"{}\",\"instrument\":{},\"live\":{},\"update_id\":{},",
                    "\"diffs_applied\":{},\"stale_dropped\":{},\"diffs_buffered\":{},\"gaps\":{},\"overlaps\":{},",
                    "\"crossed\":{},\"resyncs\":{},\"snapshots_applied\":{},\"snapshots_too_old\":{},",
                    "\"snapshots_ignored\":{},\"tickers_checked\":{},\"tickers_agreed\":{},\"tickers_unchecked\":{},",
                    "\"bids\":{},\"asks\":{}}}"
                ),
                symbol(h, b.instrument()),
                b.instrument(),
                b.state() == SyncState::Live,
                b.book().update_id(),
                k.diffs_applied,
                k.stale_dropped,
                k.diffs_buffered,
                k.gaps,
                k.overlaps,
                k.crossed,
                k.resyncs,
                k.snapshots_applied,
                k.snapshots_too_old,
                k.snapshots_ignored,
                k.tickers_checked,
                k.tickers_agreed,
                k.tickers_unchecked,
                json_levels(&top(b, Side::Buy, depth)),
                json_levels(&top(b, Side::Sell, depth)),
            )
        })
        .collect();
    format!(
        concat!(
            "{{\"frames\":{},\"malformed_frames\":{},\"malformed_lines\":{},\"truncated_files\":{},",
            "\"book_tickers\":{},\"depth_updates\":{},\"trades\":{},\"snapshots\":{},\"server_shutdowns\":{},",
            "\"books\":[{}]}}\n"
        ),
        c.frames,
        c.malformed,
        t.malformed_lines,
        t.truncated_files,
        c.book_tickers,
        c.depth_updates,
        c.trades,
        c.snapshots,
        c.server_shutdowns,
        books.join(",")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn arguments() {
        let a = parse_args(&s(&[
            "a.gz",
            "--venue",
            "binance-spot",
            "b",
            "--depth",
            "3",
            "--json",
        ]))
        .unwrap();
        assert_eq!((a.files, a.depth, a.json), (s(&["a.gz", "b"]), 3, true));
        assert!(parse_args(&s(&["a.gz"])).unwrap_err().contains("--venue"));
        assert!(
            parse_args(&s(&["a.gz", "--venue", "okx"]))
                .unwrap_err()
                .contains("binance-spot")
        );
        assert!(
            parse_args(&s(&["--venue", "binance-spot"]))
                .unwrap_err()
                .contains("no recording")
        );
        assert!(parse_args(&s(&["a", "--venue", "binance-spot", "--depth", "x"])).is_err());
        assert!(parse_args(&s(&["a", "--venue", "binance-spot", "--bogus"])).is_err());
    }
}
