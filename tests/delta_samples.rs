//! Every Delta Exchange market-data sample of the reference (reference/delta.md §3.2–3.6)
//! decodes with literal expected values, through the engine's codec and book rule (`DeltaMd`,
//! the `MarketData` a feed runs) and through `mako decode`'s normalised records; and the
//! reference's checksum vectors reproduce (the documented snapshot and update `cs`, and the
//! illustrative string computed with Python's `zlib.crc32`).

use mako::book::Level;
use mako::types::{FundingRate, InstrumentId, MarkUpdate, Price, Qty, Side, UnixNanos};
use mako::venue::decode::strip_comments;
use mako::venue::delta::decode::decode;
use mako::venue::delta::{DeltaMd, Platform};
use mako::venue::md::{Handled, MarketData, ResyncReason, SyncEvent, SyncLimits, SyncState};
use serde_json::{Value, json};

fn sample(name: &str) -> String {
    let p = format!(
        "{}/tests/fixtures/delta/samples/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{p}: {e}"));
    strip_comments(&text)
}

fn md(platform: Platform) -> DeltaMd {
    DeltaMd::new(
        platform,
        &[("BTCUSD", InstrumentId(0)), ("ETHUSD", InstrumentId(1))],
        SyncLimits::default(),
    )
}

fn l(p: &str, q: &str) -> Level {
    Level {
        price: Price::parse(p).unwrap(),
        qty: Qty::parse(q).unwrap(),
    }
}

fn records(name: &str) -> Vec<Value> {
    decode(&sample(name))
        .unwrap_or_else(|e| panic!("{name}: {e}"))
        .into_iter()
        .map(|r| r.into_value())
        .collect()
}

fn top(m: &DeltaMd, side: Side) -> Vec<Level> {
    let mut out = [Level::default(); 10];
    let n = m.book(InstrumentId(0)).unwrap().top_n(side, &mut out);
    out[..n].to_vec()
}

#[test]
fn the_snapshot_and_the_update_keep_the_book_and_their_checksums_agree() {
    for platform in [Platform::India, Platform::Global] {
        let mut m = md(platform);
        let h = m
            .on_frame(sample("delta_ob_updates_snapshot.json").as_bytes())
            .unwrap();
        assert_eq!(
            h,
            Handled::Book {
                instrument: InstrumentId(0),
                event: SyncEvent::SnapshotApplied {
                    replayed: 0,
                    live: true
                },
                event_time: Some(UnixNanos::from_micros(1_671_140_718_980_723)),
            }
        );
        assert_eq!(m.state(InstrumentId(0)), Some(SyncState::Live));
        assert_eq!(
            top(&m, Side::Sell),
            vec![
                l("16919.0", "1087"),
                l("16919.5", "1193"),
                l("16920.0", "510")
            ]
        );
        assert_eq!(
            top(&m, Side::Buy),
            vec![
                l("16918.0", "602"),
                l("16917.5", "1792"),
                l("16917.0", "2039")
            ]
        );
        assert_eq!(m.book(InstrumentId(0)).unwrap().update_id(), 6199);
        let s = m.sync(InstrumentId(0)).unwrap();
        assert_eq!(
            s.checksum_text(),
            b"16919.0:1087,16919.5:1193,16920.0:510|16918.0:602,16917.5:1792,16917.0:2039"
        );

        let h = m
            .on_frame(sample("delta_ob_updates_update.json").as_bytes())
            .unwrap();
        assert_eq!(
            h,
            Handled::Book {
                instrument: InstrumentId(0),
                event: SyncEvent::Applied,
                event_time: Some(UnixNanos::from_micros(1_671_140_769_059_031)),
            }
        );
        // "0" deleted 16919.0, 16919.5 was replaced, 16918.5 inserted.
        assert_eq!(
            top(&m, Side::Sell),
            vec![l("16919.5", "710"), l("16920.0", "510")]
        );
        assert_eq!(
            top(&m, Side::Buy),
            vec![
                l("16918.5", "304"),
                l("16918.0", "602"),
                l("16917.5", "1792"),
                l("16917.0", "2039")
            ]
        );
        let s = m.sync(InstrumentId(0)).unwrap();
        assert_eq!(
            s.checksum_text(),
            b"16919.5:710,16920.0:510|16918.5:304,16918.0:602,16917.5:1792,16917.0:2039"
        );
        let c = m.sync_counters(InstrumentId(0)).unwrap();
        assert_eq!(
            (
                c.checksums_verified,
                c.checksum_mismatches,
                c.checksums_unverifiable
            ),
            (2, 0, 0)
        );
        assert_eq!((c.snapshots_applied, c.diffs_applied, c.resyncs), (1, 1, 0));
    }
}

#[test]
fn the_reference_checksum_vectors_reproduce() {
    // COMPUTED in the reference with Python's zlib.crc32; the first two are the docs' own cs.
    for (text, cs) in [
        (
            &b"16919.0:1087,16919.5:1193,16920.0:510|16918.0:602,16917.5:1792,16917.0:2039"[..],
            2_178_756_498u32,
        ),
        (
            b"16919.5:710,16920.0:510|16918.5:304,16918.0:602,16917.5:1792,16917.0:2039",
            3_409_694_612,
        ),
        (
            b"100.00:23,100.05:34|99.04:87,98.65:102,98.30:16",
            3_599_895_312,
        ),
    ] {
        assert_eq!(crc32fast::hash(text), cs);
    }
}

#[test]
fn the_update_with_another_checksum_resyncs_the_book() {
    let mut m = md(Platform::India);
    let _ = m.on_frame(sample("delta_ob_updates_snapshot.json").as_bytes());
    let wrong = sample("delta_ob_updates_update.json").replace("3409694612", "3409694613");
    let h = m.on_frame(wrong.as_bytes()).unwrap();
    assert_eq!(
        h,
        Handled::Book {
            instrument: InstrumentId(0),
            event: SyncEvent::Invalidated(ResyncReason::ChecksumMismatch),
            event_time: Some(UnixNanos::from_micros(1_671_140_769_059_031)),
        }
    );
    assert_eq!(m.state(InstrumentId(0)), Some(SyncState::Syncing));
    assert_eq!(
        m.next_request(),
        Some(
            r#"{"type":"unsubscribe","payload":{"channels":[{"name":"ob_updates","symbols":["BTCUSD"]}]}}"#
        )
    );
    assert_eq!(
        m.next_request(),
        Some(
            r#"{"type":"subscribe","payload":{"channels":[{"name":"ob_updates","symbols":["BTCUSD"]}]}}"#
        )
    );
    assert_eq!(
        m.sync_counters(InstrumentId(0))
            .unwrap()
            .checksum_mismatches,
        1
    );
}

#[test]
fn the_error_frame_resubscribes() {
    let mut m = md(Platform::India);
    let h = m
        .on_frame(sample("delta_ob_updates_error.json").as_bytes())
        .unwrap();
    assert!(matches!(
        h,
        Handled::Book {
            instrument: InstrumentId(0),
            ..
        }
    ));
    assert!(
        m.next_request()
            .unwrap()
            .contains(r#""type":"unsubscribe""#)
    );
    assert!(m.next_request().unwrap().contains(r#""type":"subscribe""#));
    assert_eq!(m.book_errors, 1);
    let err = decode(&sample("delta_ob_updates_error.json")).unwrap_err();
    assert_eq!(
        err,
        "venue error on ob_updates BTCUSD: Snapshot load failed. Verify if product is live and resubscribe after a few secs."
    );
}

#[test]
fn ob_l1_is_the_best_bid_and_offer() {
    let mut m = md(Platform::India);
    assert_eq!(
        m.on_frame(sample("delta_ob_l1.json").as_bytes()),
        Ok(Handled::Bbo {
            instrument: InstrumentId(0),
            update_id: 0,
            bid: l("68518.0", "2452"),
            ask: l("68519.0", "285"),
            event_time: Some(UnixNanos::from_micros(1_775_037_882_748_105)),
        })
    );
    assert_eq!(
        records("delta_ob_l1.json"),
        vec![
            json!({"kind":"bbo","symbol":"BTCUSD","best_bid":"68518","bid_qty":"2452","best_ask":"68519","ask_qty":"285","ts":"1775037882748105"})
        ]
    );
}

#[test]
fn a_trade_with_a_maker_buyer_is_a_sell() {
    let mut m = md(Platform::India);
    assert_eq!(
        m.on_frame(sample("delta_trades.json").as_bytes()),
        Ok(Handled::Trades)
    );
    let t = m.trades().pop().unwrap();
    assert_eq!(t.instrument, InstrumentId(0));
    assert_eq!(t.price, Price::parse("72141.5").unwrap());
    assert_eq!(t.qty, Qty::parse("1").unwrap());
    assert_eq!(t.aggressor, Side::Sell);
    assert_eq!(t.trade_time, UnixNanos::from_micros(1_775_800_366_578_410));
    assert_eq!(t.event_time, UnixNanos::from_micros(1_775_800_367_003_029));
    assert_eq!(t.trade_id.as_u64(), Some(1_775_800_366_578_410_000));
    assert_eq!(
        records("delta_trades.json"),
        vec![
            json!({"kind":"trade","symbol":"BTCUSD","price":"72141.5","qty":"1","side":"sell","ts":"1775800366578410"})
        ]
    );
}

#[test]
fn funding_rate_in_percent_is_a_fraction_and_completes_a_mark() {
    let mut m = md(Platform::India);
    assert_eq!(
        m.on_frame(sample("delta_funding_rate.json").as_bytes()),
        Ok(Handled::Ignored)
    );
    // A mark needs the mark price too (the reference has no mark_price sample; this one
    // has the documented keys p, sy, ts and type).
    assert_eq!(m.mark_update(), None);
    let mark = r#"{"p":"72141.0","sy":"MARK:BTCUSD","ts":1775817618000000,"type":"mark_price"}"#;
    assert_eq!(m.on_frame(mark.as_bytes()), Ok(Handled::Ignored));
    assert_eq!(
        m.mark_update(),
        Some(MarkUpdate {
            instrument: InstrumentId(0),
            mark: Price::parse("72141").unwrap(),
            index: Price::ZERO,
            // fr 0.010000000000000002 (%) = 0.0001 per 8 h.
            funding_rate: FundingRate::parse("0.0001").unwrap(),
            next_funding_ms: 1_775_836_800_000,
            exchange_ts: UnixNanos::from_micros(1_775_817_618_000_000),
        })
    );
    assert_eq!(
        records("delta_funding_rate.json"),
        vec![
            json!({"kind":"funding","symbol":"BTCUSD","funding_rate":"0.0001","interval_s":28800,"next_funding_us":"1775836800000000","ts":"1775817617666383"})
        ]
    );
}

#[test]
fn the_book_samples_as_normalised_records() {
    assert_eq!(
        records("delta_ob_updates_snapshot.json"),
        vec![
            json!({"kind":"book","symbol":"BTCUSD","type":"snapshot","seq":6199,"checksum":2178756498u64,"best_bid":"16918","bid_qty":"602","best_ask":"16919","ask_qty":"1087","bid_levels":3,"ask_levels":3,"ts":"1671140718980723"})
        ]
    );
    assert_eq!(
        records("delta_ob_updates_update.json"),
        vec![
            json!({"kind":"book","symbol":"BTCUSD","type":"update","seq":6200,"checksum":3409694612u64,"best_bid":"16918.5","bid_qty":"304","best_ask":"16919.5","ask_qty":"710","bid_levels":1,"ask_levels":2,"ts":"1671140769059031"})
        ]
    );
}

#[test]
fn the_subscribe_request_and_control_frames() {
    // What a client sends: no record.
    assert_eq!(records("delta_subscribe_request.json"), Vec::<Value>::new());
    let mut m = md(Platform::Global);
    // The subscribe sample names legacy channels; the engine's subscribe frame is the same
    // shape with the public endpoint's names.
    let req: Value = serde_json::from_str(&sample("delta_subscribe_request.json")).unwrap();
    let plan = m.connect_plan("wss://public-socket.delta.exchange");
    let ours: Value = serde_json::from_str(&plan.subscribe[1]).unwrap();
    assert_eq!(ours["type"], req["type"]);
    assert_eq!(ours["payload"]["channels"][0]["name"], "ob_updates");
    assert_eq!(
        ours["payload"]["channels"][0]["symbols"],
        json!(["BTCUSD", "ETHUSD"])
    );
    // The ack (§3.2), one refused channel (IN-DOCS), the 3P-PROBE heartbeat and error frame.
    for (frame, want) in [
        (
            r#"{"type":"subscriptions","channels":[{"name":"ob_updates","symbols":["BTCUSD"]}]}"#,
            Handled::CommandReply { id: None, ok: true },
        ),
        (
            r#"{"type":"subscriptions","channels":[{"name":"orders","symbols":["all"],"error":"subscription forbidden on trading_notifications. Unauthorized user"}]}"#,
            Handled::CommandReply {
                id: None,
                ok: false,
            },
        ),
        (
            r#"{"ts_origin":1758600000000000,"ts_publish":1758600000000100,"type":"heartbeat"}"#,
            Handled::Ignored,
        ),
        (
            r#"{"message":"Subscription forbidden: Invalid channel array","type":"error"}"#,
            Handled::CommandReply {
                id: None,
                ok: false,
            },
        ),
        (r#"{"type": "pong"}"#, Handled::Pong),
    ] {
        assert_eq!(m.on_frame(frame.as_bytes()), Ok(want), "{frame}");
    }
    assert_eq!(
        decode(r#"{"message":"Subscription forbidden: Invalid channel array","type":"error"}"#)
            .unwrap_err(),
        "venue error: Subscription forbidden: Invalid channel array"
    );
}
