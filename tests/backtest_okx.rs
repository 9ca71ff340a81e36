//! A backtest on a second venue's recording: the spread maker over the real OKX capture
//! (tests/fixtures/okx/OKX.ws.1.0, cryptofeed's, 12 s of BTC-USDT tickers, trades and
//! checksummed books) through the engine's OKX feed. Deterministic, quotes on the recorded
//! book, and every fill simulated.

use std::path::{Path, PathBuf};

use mako::backtest::{report, run};
use mako::cli::backtest::load;
use mako::feed::record::RecordReader;

const FIXTURE: &str = "tests/fixtures/okx/OKX.ws.1.0";

#[test]
fn the_spread_maker_backtests_on_okx() {
    let (c, s) = load(Path::new("config/backtest-spread-okx.toml")).unwrap();
    let files = vec![PathBuf::from(FIXTURE)];
    let a = run(&c, &s, &files).unwrap();
    let b = run(&c, &s, &files).unwrap();
    // Every frame of the capture is replayed (the other instruments' too; the codec skips
    // them), counted independently by reading the file.
    let mut frames = 0u64;
    let mut r = RecordReader::open(FIXTURE).unwrap();
    while let Some(Ok(_)) = r.next() {
        frames += 1;
    }
    assert!(frames > 300, "{frames}");
    assert_eq!(a.events, frames);
    assert_eq!(a.venue, "okx");
    // The book came from the capture: BTC-USDT traded near 29–31 k USDT on 13 May 2022.
    let mid = a.last_mid.expect("a live OKX book at the end");
    assert!((25_000.0..35_000.0).contains(&mid), "{mid}");
    // The strategy quoted on it (the risk and order path ran).
    assert!(a.counts.orders_sent > 0, "{:?}", a.counts);
    // Deterministic.
    assert_eq!(format!("{:?}", a.fills), format!("{:?}", b.fills));
    assert_eq!(a.counts, b.counts);
    assert_eq!(a.realised.to_bits(), b.realised.to_bits());
    // The report labels every fill as simulated, as on Binance.
    let dir = std::env::temp_dir().join(format!("mako-bt-okx-{}", std::process::id()));
    let j = report::write(&dir, &a, 1.0).unwrap();
    assert_eq!(j["events"], frames);
    let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
    assert!(md.to_lowercase().contains("simulated"), "{md}");
    let _ = std::fs::remove_dir_all(&dir);
}
