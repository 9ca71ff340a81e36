//! A real OKX capture (cryptofeed's `OKX.ws.1.0`, tests/fixtures/okx) replayed through the
//! engine's OKX codec and book sync: every published checksum is verified against the local
//! book and none disagrees; the count is taken independently from the raw lines.

use std::process::Command;

use mako::feed::record::RecordReader;
use mako::types::InstrumentId;
use mako::venue::md::{MarketData, SyncLimits, SyncState};
use mako::venue::okx::OkxMd;

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/okx/OKX.ws.1.0");
const INSTS: [&str; 3] = ["BTC-USD-220527", "UNI-USD-SWAP", "BTC-USDT"];

/// Book pushes carrying a non-zero checksum, counted from the text with serde_json.
fn published_checksums() -> u64 {
    let text = std::fs::read_to_string(FIXTURE).unwrap();
    let mut n = 0;
    for line in text.lines().filter(|l| !l.starts_with("wss://")) {
        let Some((_, json)) = line.split_once(": ") else {
            continue;
        };
        let v: serde_json::Value = serde_json::from_str(json).unwrap();
        // Subscribe answers name the channel too, without data.
        if v["arg"]["channel"] == "books"
            && let Some(data) = v["data"].as_array()
        {
            for d in data {
                if d["checksum"].as_i64().is_some_and(|c| c != 0) {
                    n += 1;
                }
            }
        }
    }
    n
}

#[test]
fn every_published_checksum_of_the_capture_is_verified() {
    let insts: Vec<(&str, InstrumentId)> = INSTS
        .iter()
        .enumerate()
        .map(|(i, s)| (*s, InstrumentId(i as u32)))
        .collect();
    let mut md = OkxMd::new(&insts, SyncLimits::default());
    let mut r = RecordReader::open(FIXTURE).unwrap();
    while let Some(rec) = r.next() {
        let rec = rec.unwrap();
        md.on_frame(rec.frame).unwrap();
    }
    let expected = published_checksums();
    assert_eq!(expected, 290);
    let (mut verified, mut mismatches) = (0, 0);
    for (i, _) in INSTS.iter().enumerate() {
        let id = InstrumentId(i as u32);
        let c = md.sync_counters(id).unwrap();
        verified += c.checksums_verified;
        mismatches += c.checksum_mismatches;
        assert_eq!(md.state(id), Some(SyncState::Live));
        assert_eq!(
            (c.gaps, c.resyncs, c.crossed, c.checksums_unverifiable),
            (0, 0, 0, 0)
        );
        let book = md.book(id).unwrap();
        assert!(book.best_bid().unwrap().price < book.best_ask().unwrap().price);
    }
    assert_eq!((verified, mismatches), (expected, 0));
    assert_eq!(md.counters().malformed, 0);
}

#[test]
fn mako_book_reports_the_checksums() {
    let out = Command::new(env!("CARGO_BIN_EXE_mako"))
        .args([
            "book", FIXTURE, "--venue", "okx-spot", "--depth", "1", "--json",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["venue"], "okx-spot");
    assert_eq!(v["checksums_verified"], published_checksums());
    assert_eq!(v["checksum_mismatches"], 0);
    assert_eq!(v["malformed_frames"], 0);
    let books = v["books"].as_array().unwrap();
    let names: Vec<&str> = books
        .iter()
        .map(|b| b["symbol"].as_str().unwrap())
        .collect();
    assert_eq!(names, INSTS);
    assert!(books.iter().all(|b| b["live"] == true));
    // The final BTC-USDT top of book, read off the capture's last books frames.
    assert_eq!(books[2]["bids"][0][0], "30236.1");
    assert_eq!(books[2]["asks"][0][0], "30236.2");
}
