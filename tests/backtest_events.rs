//! mako's compact event file (`.mkev`): a bookTicker-and-trade recording (the Binance Spot
//! fixture's bookTicker and trade frames, real data, the depth diffs and snapshot left out)
//! converted once through the venue's feed and replayed with no parse gives the same fills,
//! PnL and figures as replaying the recording's frames; the file is checked by its source's
//! hash; a damaged file is an error.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use mako::backtest::events::{EventFile, convert};
use mako::backtest::{Replay, Run, Settings, start_events};
use mako::cli::backtest::load;
use mako::config::Config;

const RECORDING: &str = "tests/fixtures/binance-spot/btcusdt_20240808.gz";

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("mako-bt-events-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d.join(name)
}

/// The fixture's bookTicker and trade frames only (plain text, as `mako record` writes).
fn bbo_trade_recording(path: &Path) -> usize {
    let f = std::fs::File::open(RECORDING).unwrap();
    let r = std::io::BufReader::new(flate2::read::MultiGzDecoder::new(f));
    let mut out = std::fs::File::create(path).unwrap();
    let mut n = 0;
    for line in r.lines() {
        let line = line.unwrap();
        if line.contains("@bookTicker\"") || line.contains("@trade\"") {
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
    assert_eq!(frames, 28_040 + 9_757, "the fixture's bookTickers and trades");
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
    same_run(&a, &from_frames);
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
