//! The feed's per-frame path allocates nothing once built: replays the real recording
//! through `SpotMdHandler` with a counting global allocator armed around each `on_frame`.

mod alloc_count;

use mako::feed::record::RecordReader;
use mako::types::InstrumentId;
use mako::venue::binance::handler::SpotMdHandler;
use mako::venue::binance::{SymbolTable, TimeUnit};
use mako::venue::md::SyncLimits;

use alloc_count::{counted, counter_counts};

#[test]
fn replaying_the_recording_allocates_nothing_per_frame() {
    let mut symbols = SymbolTable::new();
    symbols.insert("btcusdt", InstrumentId(0)).unwrap();
    let mut h = SpotMdHandler::new(symbols, TimeUnit::Millis, SyncLimits::default());
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/binance-spot/btcusdt_20240808.gz"
    );
    let mut reader = RecordReader::open(path).unwrap();
    let (mut frames, mut allocs) = (0u64, 0);
    while let Some(rec) = reader.next() {
        let rec = rec.unwrap();
        let (res, n) = counted(|| h.on_frame(rec.frame).is_ok());
        assert!(res, "line {}", rec.line);
        allocs += n;
        frames += 1;
    }
    assert_eq!(frames, 41249);
    assert_eq!(allocs, 0, "allocations while handling frames");
    assert!(counter_counts());
}
