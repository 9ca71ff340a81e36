//! mako's compact event file (`.mkev`): a bookTicker-and-trade recording (the Binance Spot
//! fixture's first 200 frames, which sync the book from its snapshot and diffs, then only its
//! bookTicker and trade frames: real data, the later depth diffs left out) converted once
//! through the venue's feed and replayed with no parse: every event replayed, the strategy
//! trades on it, deterministic; the file is checked by its source's hash; a damaged file is
//! an error.
//!
//! The fills are not asserted equal to the frame replay's: the frame replay keeps the depth
//! of the sync frames in the cache (stale afterwards) and queues an order resting away from
//! the touch behind it, where the event file holds tops only (the order's queue is unknown
//! until the touch reaches it). Both figures are printed and in docs/backtest/README.md.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use mako::backtest::events::{EventFile, convert};
use mako::backtest::{Run, Settings, start_events};
use mako::cli::backtest::load;
use mako::config::Config;

const RECORDING: &str = "tests/fixtures/binance-spot/btcusdt_20240808.gz";

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("mako-bt-events-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d.join(name)
}

/// The first 200 frames (the book's sync: the Binance feed publishes tickers only on a live
/// book), then the fixture's bookTicker and trade frames only (plain text, as `mako record`
/// writes).
fn bbo_trade_recording(path: &Path) -> usize {
    let f = std::fs::File::open(RECORDING).unwrap();
    let r = std::io::BufReader::new(flate2::read::MultiGzDecoder::new(f));
    let mut out = std::fs::File::create(path).unwrap();
    let mut n = 0;
    for (k, line) in r.lines().enumerate() {
        let line = line.unwrap();
        if k < 200 || line.contains("@bookTicker\"") || line.contains("@trade\"") {
            writeln!(out, "{line}").unwrap();
            n += 1;
        }
    }
    n
}

fn config() -> (Config, Settings) {
    load(Path::new("config/backtest-spread.toml")).unwrap()
}

fn replay_events(c: &Config, s: &Settings, f: &EventFile, files: &[PathBuf]) -> Run {
    let mut r = start_events(c, s, f, files, &mut mako::backtest::driver::registry_build).unwrap();
    for ev in f.iter() {
        r.event(&ev);
    }
    r.finish()
}

fn same_run(a: &Run, b: &Run) {
    assert_eq!(a.events, b.events);
    assert_eq!(a.fills.len(), b.fills.len());
    assert_eq!(format!("{:?}", a.fills), format!("{:?}", b.fills));
    assert_eq!(a.counts, b.counts);
    assert_eq!(a.realised.to_bits(), b.realised.to_bits());
    assert_eq!(a.unrealised.to_bits(), b.unrealised.to_bits());
    assert_eq!(a.fees.to_bits(), b.fees.to_bits());
    assert_eq!(format!("{:?}", a.samples), format!("{:?}", b.samples));
}

#[test]
fn converted_replay_matches_the_frame_replay() {
    let rec = tmp("bbo_trade.txt");
    let frames = bbo_trade_recording(&rec);
    assert_eq!(
        frames, 37_804,
        "200 sync frames, then the bookTickers and trades"
    );
    let (c, s) = config();
    let files = vec![rec.clone()];
    let from_frames = mako::backtest::run(&c, &s, &files).unwrap();
    assert_eq!(from_frames.events, frames as u64);
    assert!(
        from_frames.fills.len() >= 10,
        "the spread maker trades on tickers and trades alone: {} fills",
        from_frames.fills.len()
    );

    let file = convert(&c, &rec).unwrap();
    assert_eq!(file.header.frames, frames as u64);
    assert_eq!(file.header.malformed, 0);
    let out = tmp("bbo_trade.mkev");
    std::fs::write(&out, file.to_bytes()).unwrap();
    let loaded = EventFile::load(&out).unwrap();
    assert_eq!(loaded.header, file.header);
    let a = replay_events(&c, &s, &loaded, &files);
    // One event per frame here (a ticker's top, a trade, or a tick).
    assert_eq!(a.events, from_frames.events);
    assert!(a.fills.len() >= 10, "{} fills", a.fills.len());
    println!(
        "frame replay: {} fills, pnl {:.6}; event file: {} fills, pnl {:.6}",
        from_frames.fills.len(),
        from_frames.realised + from_frames.unrealised - from_frames.fees,
        a.fills.len(),
        a.realised + a.unrealised - a.fees
    );
    // The strategy's resting quotes are sampled for the price plot: never crossed, and drawn.
    let quoted = a.curve.iter().filter(|c| c.bid_quote.is_finite()).count();
    assert!(quoted > 10, "{quoted} samples with a resting bid");
    for c in &a.curve {
        if c.bid_quote.is_finite() && c.ask_quote.is_finite() {
            assert!(c.bid_quote < c.ask_quote, "{c:?}");
        }
    }
    let dir = tmp("report");
    mako::backtest::report::write(&dir, &a, 1.0).unwrap();
    let svg = std::fs::read_to_string(dir.join("price.svg")).unwrap();
    assert!(svg.contains(r#"class="quote bid""#) && svg.contains(r#"class="quote ask""#));
    // Deterministic: the same file twice.
    let b = replay_events(&c, &s, &loaded, &files);
    same_run(&a, &b);

    // The source changed since: refused, never replayed stale.
    let mut f = std::fs::OpenOptions::new().append(true).open(&rec).unwrap();
    writeln!(f, "1723161254087896568 {{}}").unwrap();
    drop(f);
    let err = EventFile::load(&out).unwrap_err();
    assert!(err.contains("changed"), "{err}");
    // A damaged file: an error, never a panic.
    let bytes = std::fs::read(&out).unwrap();
    assert!(EventFile::from_bytes(&bytes[..bytes.len() - 7]).is_err());
    let _ = std::fs::remove_dir_all(rec.parent().unwrap());
}
