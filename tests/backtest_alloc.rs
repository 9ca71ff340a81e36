//! Heap allocations per replayed event, counted by a counting global allocator around one
//! replay (the replay loop only: building the replay and the report are outside the count).
//! The spread maker over the bookTicker-and-trade recording of docs/performance.md (the
//! Binance Spot fixture's 200 sync frames, then only its bookTickers and trades), both as
//! frames (codec, book sync, cache) and as mako's event file. The counts are printed; the
//! bound fails if the replay starts allocating per event or per order.

use std::io::{BufRead, Write};
use std::path::Path;

use mako::backtest::events::convert;
use mako::backtest::{Frames, start, start_events};
use mako::cli::backtest::load;

mod alloc_count;

/// The allocations `f` makes on this thread.
fn counted(f: impl FnOnce()) -> u64 {
    alloc_count::counted(f).1
}

const RECORDING: &str = "tests/fixtures/binance-spot/btcusdt_20240808.gz";

fn bbo_trade_recording(path: &Path) {
    let f = std::fs::File::open(RECORDING).unwrap();
    let r = std::io::BufReader::new(flate2::read::MultiGzDecoder::new(f));
    let mut out = std::fs::File::create(path).unwrap();
    for (k, line) in r.lines().enumerate() {
        let line = line.unwrap();
        if k < 200 || line.contains("@bookTicker\"") || line.contains("@trade\"") {
            writeln!(out, "{line}").unwrap();
        }
    }
}

#[test]
fn the_replay_allocates_almost_never_per_event() {
    let dir = std::env::temp_dir().join(format!("mako-bt-alloc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("bbo_trade.txt");
    bbo_trade_recording(&path);
    let (config, settings) = load(Path::new("config/backtest-spread.toml")).unwrap();
    let files = vec![path.clone()];

    // Frames: the recording read into memory first (not counted).
    let frames = Frames::load(&path).unwrap();
    let mut r = start(
        &config,
        &settings,
        &files,
        &mut mako::backtest::driver::registry_build,
    )
    .unwrap();
    let frame_allocs = counted(|| frames.replay(r.as_mut()));
    let run = r.finish();
    let n = run.events;

    // The same converted into an event file.
    let file = convert(&config, &path).unwrap();
    let mut r = start_events(
        &config,
        &settings,
        &file,
        &files,
        &mut mako::backtest::driver::registry_build,
    )
    .unwrap();
    let event_allocs = counted(|| {
        for ev in file.iter() {
            r.event(&ev);
        }
    });
    let run_ev = r.finish();
    let _ = std::fs::remove_dir_all(&dir);

    println!(
        "allocations: frames {frame_allocs} over {n} events ({:.4} per event, {} fills); event file {event_allocs} over {} events ({:.4} per event, {} fills)",
        frame_allocs as f64 / n as f64,
        run.fills.len(),
        run_ev.events,
        event_allocs as f64 / run_ev.events as f64,
        run_ev.fills.len()
    );
    assert_eq!(n, 37_804);
    assert_eq!(run_ev.events, 37_804);
    assert!(!run.fills.is_empty() && !run_ev.fills.is_empty());
    // One allocation over the whole replay was counted (2026-12-06): none per event, none per
    // order (481 sent). A bound well above that, and far below one per order.
    assert!(frame_allocs < 64, "{frame_allocs} allocations");
    assert!(event_allocs < 64, "{event_allocs} allocations");
}
