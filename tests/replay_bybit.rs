//! A real Bybit capture (`tests/fixtures/bybit/capture`: Bybit's own history file of the
//! XRPUSDT linear perpetual at depth 500, one snapshot and 49 deltas) replayed through mako's
//! Bybit codec and book sync. After every message the best bid and ask, and at the end the
//! whole book (500 levels a side), equal the reference computed from the raw lines by
//! `tools/bybit_book_ref.py` (Python's `json` and `Decimal`, Bybit's documented rules).

use mako::book::l2::Level;
use mako::types::{InstrumentId, Price, Qty, Side};
use mako::venue::bybit::{BybitMd, Category};
use mako::venue::md::{MarketData, SyncLimits, SyncState};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/bybit/capture");
const XRP: InstrumentId = InstrumentId(0);

fn level(v: &serde_json::Value) -> (Price, Qty) {
    (
        Price::parse(v[0].as_str().unwrap()).unwrap(),
        Qty::parse(v[1].as_str().unwrap()).unwrap(),
    )
}

fn levels(md: &BybitMd, side: Side) -> Vec<(Price, Qty)> {
    let book = md.sync(XRP).unwrap().book();
    let mut out = vec![Level::default(); 1024];
    let n = book.top_n(side, &mut out);
    out[..n].iter().map(|l| (l.price, l.qty)).collect()
}

#[test]
fn every_message_of_the_capture_leaves_the_book_the_reference_computes() {
    let capture = std::fs::read_to_string(format!("{DIR}/2024-12-01_XRPUSDT_ob500.data")).unwrap();
    let reference: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(format!("{DIR}/2024-12-01_XRPUSDT_ob500.ref.json")).unwrap(),
    )
    .unwrap();
    let tops = reference["tops"].as_array().unwrap();
    let mut md = BybitMd::new(Category::Linear, &[("XRPUSDT", XRP)], SyncLimits::default());
    let mut n = 0;
    for (k, line) in capture.lines().filter(|l| !l.is_empty()).enumerate() {
        md.on_frame(line.as_bytes())
            .unwrap_or_else(|e| panic!("message {}: {e:?}", k + 1));
        let book = md.sync(XRP).unwrap().book();
        let (bid, ask) = (book.best_bid().unwrap(), book.best_ask().unwrap());
        assert_eq!(
            ((bid.price, bid.qty), (ask.price, ask.qty)),
            (level(&tops[k][0]), level(&tops[k][1])),
            "after message {}",
            k + 1
        );
        n += 1;
    }
    assert_eq!(n, reference["messages"].as_u64().unwrap() as usize);
    assert_eq!(n, 50);
    let sync = md.sync(XRP).unwrap();
    assert_eq!(sync.state(), SyncState::Live);
    assert_eq!(sync.u(), reference["u"].as_u64());
    assert_eq!(sync.book().update_id(), reference["seq"].as_u64().unwrap());
    let c = sync.counters();
    assert_eq!((c.gaps, c.resyncs, c.crossed), (0, 0, 0));
    assert_eq!(
        (c.snapshots_applied, c.diffs_applied),
        (1, 49),
        "every delta applied"
    );
    assert_eq!(md.counters().malformed, 0);
    for (side, key) in [(Side::Buy, "bids"), (Side::Sell, "asks")] {
        let want: Vec<(Price, Qty)> = reference[key]
            .as_array()
            .unwrap()
            .iter()
            .map(level)
            .collect();
        assert_eq!(want.len(), 500, "{key}");
        assert_eq!(levels(&md, side), want, "{key}");
    }
}
