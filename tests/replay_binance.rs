//! Replays the real Binance Spot recording (BTCUSDT, 2024-08-08, ~6 minutes, one inline REST
//! snapshot) through the codec and the book sync, and checks the book against an independent
//! model and against every bookTicker the book reaches.

use std::collections::BTreeMap;
use std::process::Command;

use mako::feed::record::RecordReader;
use mako::types::{InstrumentId, Price, Qty, Side};
use mako::venue::binance::handler::SpotMdHandler;
use mako::venue::binance::{SymbolTable, TimeUnit};
use mako::venue::md::{Handled, Publish};
use mako::venue::md::{SyncLimits, SyncState};

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/binance-spot/btcusdt_20240808.gz"
);
const BTC: InstrumentId = InstrumentId(0);

/// A price level as `(price, qty)`.
type Quote = (Price, Qty);

/// The book rebuilt with serde_json and two maps, by the same documented rules, written
/// independently of the code under test.
#[derive(Default)]
struct Model {
    bids: BTreeMap<Price, Qty>,
    asks: BTreeMap<Price, Qty>,
    id: Option<u64>,
    /// Diffs seen before the snapshot.
    pending: Vec<serde_json::Value>,
}

impl Model {
    fn set(map: &mut BTreeMap<Price, Qty>, lv: &serde_json::Value) {
        let p = Price::parse(lv[0].as_str().unwrap()).unwrap();
        let q = Qty::parse(lv[1].as_str().unwrap()).unwrap();
        if q.is_zero() {
            map.remove(&p);
        } else {
            map.insert(p, q);
        }
    }

    /// Returns true when the diff was applied.
    fn frame(&mut self, v: &serde_json::Value) -> bool {
        if let Some(last) = v.get("lastUpdateId") {
            self.bids.clear();
            self.asks.clear();
            v["bids"]
                .as_array()
                .unwrap()
                .iter()
                .for_each(|l| Self::set(&mut self.bids, l));
            v["asks"]
                .as_array()
                .unwrap()
                .iter()
                .for_each(|l| Self::set(&mut self.asks, l));
            self.id = Some(last.as_u64().unwrap());
            let pending = std::mem::take(&mut self.pending);
            return pending
                .iter()
                .map(|d| self.diff(d))
                .fold(false, |a, b| a | b);
        }
        let d = &v["data"];
        if d["e"] != "depthUpdate" {
            return false;
        }
        if self.id.is_none() {
            self.pending.push(d.clone());
            return false;
        }
        self.diff(d)
    }

    fn diff(&mut self, d: &serde_json::Value) -> bool {
        let id = self.id.unwrap();
        let (first, last) = (d["U"].as_u64().unwrap(), d["u"].as_u64().unwrap());
        if last <= id {
            return false;
        }
        assert!(first <= id + 1, "the recording has a gap at {first}");
        d["b"]
            .as_array()
            .unwrap()
            .iter()
            .for_each(|l| Self::set(&mut self.bids, l));
        d["a"]
            .as_array()
            .unwrap()
            .iter()
            .for_each(|l| Self::set(&mut self.asks, l));
        self.id = Some(last);
        true
    }

    fn best(&self) -> (Option<Quote>, Option<Quote>) {
        (
            self.bids.iter().next_back().map(|(p, q)| (*p, *q)),
            self.asks.iter().next().map(|(p, q)| (*p, *q)),
        )
    }
}

#[test]
fn replay_matches_model_and_every_reached_book_ticker() {
    let mut symbols = SymbolTable::new();
    symbols.insert("btcusdt", BTC).unwrap();
    let mut h = SpotMdHandler::new(symbols, TimeUnit::Millis, SyncLimits::default());
    let mut model = Model::default();
    let mut reader = RecordReader::open(FIXTURE).unwrap();
    let (mut published, mut compared) = (0u64, 0u64);
    while let Some(rec) = reader.next() {
        let rec = rec.unwrap();
        let handled = h
            .on_frame(rec.frame)
            .unwrap_or_else(|e| panic!("line {}: {e}", rec.line));
        let model_applied = model.frame(&serde_json::from_slice(rec.frame).unwrap());
        if let Some(p) = handled.published() {
            assert_eq!(p, Publish::Book(BTC), "line {}: {handled:?}", rec.line);
            published += 1;
        }
        if let Handled::Book { .. } = handled {
            let sync = h.sync(BTC).unwrap();
            if sync.state() == SyncState::Live {
                assert_eq!(
                    sync.book().update_id(),
                    model.id.unwrap(),
                    "line {}",
                    rec.line
                );
            }
            if model_applied {
                let b = sync.book();
                let ours = (
                    b.best_bid().map(|l| (l.price, l.qty)),
                    b.best_ask().map(|l| (l.price, l.qty)),
                );
                assert_eq!(ours, model.best(), "line {}", rec.line);
                compared += 1;
            }
        }
    }

    let c = *h.counters();
    assert_eq!(
        (
            c.frames,
            c.malformed,
            c.book_tickers,
            c.depth_updates,
            c.trades,
            c.snapshots,
            c.server_shutdowns
        ),
        (41249, 0, 28040, 3451, 9757, 1, 0)
    );
    assert_eq!(
        h.codec_fast_misses(),
        0,
        "every real frame takes the fast path"
    );
    let sync = h.sync(BTC).unwrap();
    let k = *sync.counters();
    assert_eq!(sync.state(), SyncState::Live);
    // 3 diffs arrive before the snapshot (lastUpdateId 50093239218): two end at or before it
    // and are dropped, the third (50093239208..=50093239224) straddles it.
    assert_eq!(
        (k.diffs_buffered, k.stale_dropped, k.diffs_applied),
        (3, 2, 3449)
    );
    assert_eq!(
        (k.gaps, k.overlaps, k.crossed, k.resyncs, k.reconnects),
        (0, 0, 0, 0, 0)
    );
    assert_eq!(
        (
            k.snapshots_applied,
            k.snapshots_too_old,
            k.snapshots_ignored
        ),
        (1, 0, 0)
    );
    assert_eq!(sync.book().update_id(), 50093421584);
    // One publish per applied diff; the snapshot's replay publishes once for its straddling diff.
    assert_eq!(published, 3449);
    assert_eq!(compared, 3449);

    // Every bookTicker the rule can compare agrees with the book, prices and quantities.
    assert_eq!(k.tickers_checked, 2895);
    assert_eq!(
        k.tickers_agreed,
        k.tickers_checked,
        "first disagreement: {:?}",
        sync.first_disagreement()
    );
    assert!(k.tickers_checked + k.tickers_unchecked <= c.book_tickers);

    // The whole final book equals the model, level by level.
    let mut out = vec![mako::book::Level::default(); 20_000];
    let n = sync.book().top_n(Side::Buy, &mut out);
    assert_eq!(n, model.bids.len());
    assert!(
        out[..n]
            .iter()
            .zip(model.bids.iter().rev())
            .all(|(l, (p, q))| l.price == *p && l.qty == *q)
    );
    let n = sync.book().top_n(Side::Sell, &mut out);
    assert_eq!(n, model.asks.len());
    assert!(
        out[..n]
            .iter()
            .zip(model.asks.iter())
            .all(|(l, (p, q))| l.price == *p && l.qty == *q)
    );
}

#[test]
fn mako_book_prints_the_same_counts() {
    let out = Command::new(env!("CARGO_BIN_EXE_mako"))
        .args([
            "book",
            FIXTURE,
            "--venue",
            "binance-spot",
            "--depth",
            "2",
            "--json",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["frames"], 41249);
    assert_eq!(v["malformed_frames"], 0);
    assert_eq!(v["depth_updates"], 3451);
    let b = &v["books"][0];
    assert_eq!(b["symbol"], "btcusdt");
    assert_eq!(b["live"], true);
    assert_eq!(
        (
            b["diffs_applied"].as_u64(),
            b["stale_dropped"].as_u64(),
            b["gaps"].as_u64()
        ),
        (Some(3449), Some(2), Some(0))
    );
    assert_eq!(b["tickers_checked"], b["tickers_agreed"]);
    assert_eq!(b["bids"].as_array().unwrap().len(), 2);
    let best_bid = Price::parse(b["bids"][0][0].as_str().unwrap()).unwrap();
    let best_ask = Price::parse(b["asks"][0][0].as_str().unwrap()).unwrap();
    assert!(best_bid < best_ask);
}

#[test]
fn mako_book_counts_damage_and_carries_on() {
    let dir = std::env::temp_dir().join(format!("mako-book-damage-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // Plain text: a malformed line, a malformed frame, then the real start of the recording.
    let plain = dir.join("damaged.txt");
    let mut text =
        String::from("garbage line\n1 {\"stream\":\"btcusdt@trade\",\"data\":{\"e\":\"trade\"}}\n");
    let mut r = RecordReader::open(FIXTURE).unwrap();
    for _ in 0..2000 {
        let rec = r.next().unwrap().unwrap();
        text.push_str(&format!(
            "{} {}\n",
            rec.recv.0,
            std::str::from_utf8(rec.frame).unwrap()
        ));
    }
    std::fs::write(&plain, text).unwrap();
    // A gzip cut short.
    let cut = dir.join("cut.gz");
    let full = std::fs::read(FIXTURE).unwrap();
    std::fs::write(&cut, &full[..full.len() / 3]).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_mako"))
        .args([
            "book",
            plain.to_str().unwrap(),
            cut.to_str().unwrap(),
            "--venue",
            "binance-spot",
            "--json",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["malformed_lines"], 1);
    assert_eq!(v["malformed_frames"], 1);
    assert_eq!(v["truncated_files"], 1);
    assert!(v["frames"].as_u64().unwrap() > 2001);
    std::fs::remove_dir_all(&dir).unwrap();
}
