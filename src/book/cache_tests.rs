use super::*;

fn px(s: &str) -> Price {
    Price::parse(s).expect("test price")
}
fn q(s: &str) -> Qty {
    Qty::parse(s).expect("test qty")
}
fn lv(p: &str, qty: &str) -> Level {
    Level {
        price: px(p),
        qty: q(qty),
    }
}

fn book(update_id: u64, bids: &[Level], asks: &[Level]) -> L2Book {
    let mut b = L2Book::with_capacity(32);
    b.apply_snapshot(update_id, bids.iter().copied(), asks.iter().copied());
    b
}

/// `n` levels one tick apart from `best`, moving away from the touch by `step` units.
fn ladder(best: i64, step: i64, n: usize) -> Vec<Level> {
    (0..n)
        .map(|k| Level {
            price: Price::from_units(best + step * k as i64),
            qty: Qty::from_units(1_000 + k as i64),
        })
        .collect()
}

#[test]
fn fresh_cache_is_invalid_and_empty() {
    let cache = BookCache::new(3);
    let r = cache.reader();
    assert_eq!(r.len(), 3);
    for i in 0..3 {
        let id = InstrumentId(i);
        assert_eq!(r.top(id), TopOfBook::default());
        assert!(!r.top(id).valid);
        assert_eq!(r.depth(id), Depth::default());
        assert_eq!(r.seq(id), 0);
    }
}

#[test]
fn writer_is_taken_once_and_given_back_on_drop() {
    let cache = BookCache::new(2);
    // (id, expect a writer)
    let w0 = cache.writer(InstrumentId(0));
    assert!(w0.is_some());
    for (id, expected) in [(0u32, false), (1, true), (2, false), (u32::MAX, false)] {
        let w = cache.writer(InstrumentId(id));
        assert_eq!(w.is_some(), expected, "writer({id})");
        drop(w);
    }
    assert_eq!(
        w0.as_ref().map(CacheWriter::instrument),
        Some(InstrumentId(0))
    );
    drop(w0);
    assert!(cache.writer(InstrumentId(0)).is_some());
}

#[test]
fn publish_copies_top_and_depth_from_the_book() {
    // (bids, asks, expected bid count, expected ask count)
    let cases: Vec<(Vec<Level>, Vec<Level>, usize, usize)> = vec![
        (vec![], vec![], 0, 0),
        (vec![lv("61837.63", "3.78826")], vec![], 1, 0),
        (vec![], vec![lv("61837.64", "1.54698")], 0, 1),
        (
            ladder(6_183_763_000_000, -1_000_000, 3),
            ladder(6_183_764_000_000, 1_000_000, 12),
            3,
            10,
        ),
        (
            ladder(6_183_763_000_000, -1_000_000, 25),
            ladder(6_183_764_000_000, 1_000_000, 10),
            10,
            10,
        ),
    ];
    let cache = BookCache::new(1);
    let id = InstrumentId(0);
    let mut w = cache.writer(id).expect("writer");
    let r = cache.reader();
    for (n, (bids, asks, nb, na)) in cases.into_iter().enumerate() {
        let b = book(100 + n as u64, &bids, &asks);
        let (ets, rts) = (UnixNanos(1_000 + n as u64), UnixNanos(2_000 + n as u64));
        w.publish(&b, ets, rts);
        let seq = n as u64 + 1;

        let top = r.top(id);
        let want = TopOfBook {
            bid: b.best_bid().unwrap_or_default(),
            ask: b.best_ask().unwrap_or_default(),
            update_id: 100 + n as u64,
            exchange_ts: ets,
            recv_ts: rts,
            seq,
            valid: true,
        };
        assert_eq!(top, want, "case {n}");
        assert_eq!(r.seq(id), seq);

        let d = r.depth(id);
        assert_eq!((d.bid_count, d.ask_count), (nb, na), "case {n}");
        let mut want_bids = [Level::default(); CACHE_DEPTH];
        let mut want_asks = [Level::default(); CACHE_DEPTH];
        b.top_n(Side::Buy, &mut want_bids);
        b.top_n(Side::Sell, &mut want_asks);
        assert_eq!(d.bids, want_bids, "case {n}");
        assert_eq!(d.asks, want_asks, "case {n}");
        assert_eq!(d.bid_levels(), &want_bids[..nb]);
        assert_eq!(d.ask_levels(), &want_asks[..na]);
        assert_eq!(
            (d.update_id, d.exchange_ts, d.recv_ts, d.seq, d.valid),
            (100 + n as u64, ets, rts, seq, true)
        );
    }
}

#[test]
fn publish_top_leaves_depth_older() {
    let cache = BookCache::new(1);
    let id = InstrumentId(0);
    let mut w = cache.writer(id).expect("writer");
    let r = cache.reader();
    w.publish(
        &book(7, &[lv("100", "1")], &[lv("101", "2")]),
        UnixNanos(1),
        UnixNanos(2),
    );
    let given = TopOfBook {
        bid: lv("100.5", "3"),
        ask: lv("100.75", "4"),
        update_id: 9,
        exchange_ts: UnixNanos(5),
        recv_ts: UnixNanos(6),
        seq: 12345, // ignored
        valid: true,
    };
    w.publish_top(given);
    assert_eq!(r.top(id), TopOfBook { seq: 2, ..given });
    let d = r.depth(id);
    assert_eq!(
        (d.seq, d.update_id, d.bid_levels(), d.valid),
        (1, 7, &[lv("100", "1")][..], true)
    );
}

#[test]
fn invalidate_keeps_prices_and_bumps_seq() {
    let cache = BookCache::new(2);
    let id = InstrumentId(1);
    let mut w = cache.writer(id).expect("writer");
    let r = cache.reader();
    let b = book(7, &[lv("100", "1"), lv("99", "5")], &[lv("101", "2")]);
    w.publish(&b, UnixNanos(1), UnixNanos(2));
    let (top, depth) = (r.top(id), r.depth(id));
    w.invalidate();
    assert_eq!(
        r.top(id),
        TopOfBook {
            valid: false,
            seq: 2,
            ..top
        }
    );
    assert_eq!(
        r.depth(id),
        Depth {
            valid: false,
            seq: 2,
            ..depth
        }
    );
    assert_eq!(r.seq(id), 2);
    // The other slot is untouched.
    assert_eq!(r.top(InstrumentId(0)), TopOfBook::default());
    // A new publish makes it valid again.
    w.publish(&b, UnixNanos(3), UnixNanos(4));
    assert!(r.top(id).valid && r.depth(id).valid);
    assert_eq!(r.seq(id), 3);
}

#[test]
fn a_new_writer_continues_where_the_last_one_stopped() {
    let cache = BookCache::new(1);
    let id = InstrumentId(0);
    let r = cache.reader();
    let b = book(7, &[lv("100", "1")], &[lv("101", "2")]);
    let mut w = cache.writer(id).expect("writer");
    w.publish(&b, UnixNanos(1), UnixNanos(2));
    w.publish(&b, UnixNanos(1), UnixNanos(2));
    let before = r.top(id);
    drop(w);
    let mut w = cache.writer(id).expect("writer again");
    w.invalidate();
    assert_eq!(
        r.top(id),
        TopOfBook {
            valid: false,
            seq: 3,
            ..before
        }
    );
    assert_eq!(r.depth(id).bid_levels(), &[lv("100", "1")][..]);
}

#[test]
fn negative_and_extreme_units_round_trip() {
    let cache = BookCache::new(1);
    let id = InstrumentId(0);
    let mut w = cache.writer(id).expect("writer");
    let top = TopOfBook {
        bid: Level {
            price: Price::from_units(-5),
            qty: Qty::MAX,
        },
        ask: Level {
            price: Price::MAX,
            qty: Qty::from_units(i64::MIN),
        },
        update_id: u64::MAX,
        exchange_ts: UnixNanos(u64::MAX),
        recv_ts: UnixNanos(0),
        seq: 0,
        valid: true,
    };
    w.publish_top(top);
    assert_eq!(cache.reader().top(id), TopOfBook { seq: 1, ..top });
}

#[cfg(debug_assertions)]
#[test]
#[should_panic(expected = "Invariant")]
fn out_of_range_read_is_a_bug_in_debug_builds() {
    let cache = BookCache::new(1);
    let _ = cache.reader().top(InstrumentId(1));
}

/// A feed thread publishes books whose every price and quantity derive from one counter;
/// a strategy thread must see whole tops and depths. Small enough for Miri.
#[test]
fn concurrent_reader_sees_whole_publishes() {
    const PUBLISHES: i64 = if cfg!(miri) { 25 } else { 5_000 };
    let cache = BookCache::new(1);
    let id = InstrumentId(0);
    let mut w = cache.writer(id).expect("writer");
    let r = cache.reader();
    let reader = std::thread::spawn(move || {
        let mut last = 0u64;
        loop {
            let top = r.top(id);
            let d = r.depth(id);
            assert!(top.seq >= last, "seq went backwards");
            last = top.seq;
            if top.valid {
                let k = top.update_id as i64;
                assert_eq!(top.bid.price.units(), 1_000 * k);
                assert_eq!(top.ask.price.units(), 1_000 * k + 1);
                assert_eq!((top.bid.qty.units(), top.ask.qty.units()), (k, k));
            }
            if d.valid {
                let k = d.update_id as i64;
                assert_eq!(d.seq, d.update_id);
                assert_eq!((d.bid_count, d.ask_count), (3, 3));
                for (j, l) in d.bid_levels().iter().enumerate() {
                    assert_eq!((l.price.units(), l.qty.units()), (1_000 * k - j as i64, k));
                }
                for (j, l) in d.ask_levels().iter().enumerate() {
                    assert_eq!(
                        (l.price.units(), l.qty.units()),
                        (1_000 * k + 1 + j as i64, k)
                    );
                }
            }
            if top.update_id == PUBLISHES as u64 {
                return last;
            }
        }
    });
    let mut b = L2Book::with_capacity(8);
    for k in 1..=PUBLISHES {
        let bids = (0..3).map(|j| Level {
            price: Price::from_units(1_000 * k - j),
            qty: Qty::from_units(k),
        });
        let asks = (0..3).map(|j| Level {
            price: Price::from_units(1_000 * k + 1 + j),
            qty: Qty::from_units(k),
        });
        b.apply_snapshot(k as u64, bids, asks);
        w.publish(&b, UnixNanos(k as u64), UnixNanos(k as u64));
    }
    let last = reader.join().expect("reader thread panicked");
    assert_eq!(last, PUBLISHES as u64);
}

#[test]
fn marks_are_published_beside_the_book_and_read_whole() {
    const PUBLISHES: u64 = if cfg!(miri) { 25 } else { 5_000 };
    let cache = BookCache::new(2);
    let mut w = cache.writer(InstrumentId(1)).unwrap();
    let r = cache.reader();
    assert_eq!(r.mark(InstrumentId(1)), MarkPrice::default());
    let m = MarkUpdate {
        instrument: InstrumentId(1),
        mark: px("17217.33"),
        index: px("17227.36"),
        funding_rate: FundingRate::parse("-0.000212").unwrap(),
        next_funding_ms: 1_673_280_000_000,
        exchange_ts: UnixNanos::from_millis(1_673_272_861_686),
    };
    w.publish_mark(&m, UnixNanos(7));
    let got = r.mark(InstrumentId(1));
    assert_eq!(
        got,
        MarkPrice {
            mark: px("17217.33"),
            index: px("17227.36"),
            funding_rate: FundingRate::from_units(-21_200),
            next_funding_ms: 1_673_280_000_000,
            exchange_ts: UnixNanos::from_millis(1_673_272_861_686),
            recv_ts: UnixNanos(7),
            seq: 1,
        }
    );
    // The book's slot is untouched by a mark, and the other instrument has none.
    assert_eq!(
        (r.seq(InstrumentId(1)), r.top(InstrumentId(1)).valid),
        (0, false)
    );
    assert_eq!(r.mark(InstrumentId(0)).seq, 0);
    w.invalidate();
    assert_eq!(r.mark(InstrumentId(1)).seq, 1);

    // A reader on another thread sees each mark whole: every word from the same write.
    let reader = {
        let r = r.clone();
        std::thread::spawn(move || {
            loop {
                let m = r.mark(InstrumentId(1));
                if m.seq > 1 {
                    let k = m.next_funding_ms;
                    assert_eq!(m.mark.units() as u64, k);
                    assert_eq!(m.index.units() as u64, k + 1);
                    assert_eq!(m.funding_rate.units(), -(k as i64));
                    assert_eq!(m.recv_ts, UnixNanos(k));
                }
                if m.next_funding_ms == PUBLISHES {
                    return m.seq;
                }
            }
        })
    };
    for k in 1..=PUBLISHES {
        let m = MarkUpdate {
            instrument: InstrumentId(1),
            mark: Price::from_units(k as i64),
            index: Price::from_units(k as i64 + 1),
            funding_rate: FundingRate::from_units(-(k as i64)),
            next_funding_ms: k,
            exchange_ts: UnixNanos(k),
        };
        w.publish_mark(&m, UnixNanos(k));
    }
    assert_eq!(
        reader.join().expect("reader thread panicked"),
        PUBLISHES + 1
    );
}
