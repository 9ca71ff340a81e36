//! The series rings: bounded, sampled at most every `SAMPLE_EVERY`, fills taken once each,
//! and `/series`' answers (filters, refusals).

use serde_json::{Value, json};

use super::*;

const T0_MS: u64 = 1_722_000_000_000;

fn at(ms: u64) -> UnixNanos {
    UnixNanos(ms * 1_000_000)
}

fn status(strategies: &[(&str, &str, f64)]) -> Value {
    json!({
        "strategies": strategies.iter().map(|(id, mid, pnl)| json!({
            "id": id,
            "mid": mid,
            "quotes": {"bid": {"price": "99.5", "qty": "1"}, "ask": null},
            "pnl": pnl,
            "realized_pnl": 0.25,
            "position": "-0.3",
        })).collect::<Vec<_>>(),
        "latency": {"percentiles": [
            {"venue": "bybit", "measurement": "tick_to_order",
             "window": {"p50_ns": 40_000, "p99_ns": 90_000}},
            {"venue": "bybit", "measurement": "order_ack",
             "window": {"p50_ns": 1_000_000, "p99_ns": null}},
        ]},
    })
}

/// `/trades` with `seen` fills counted, listing `list` (newest first).
fn trades(seen: u64, list: &[(&str, &str, &str, u64)]) -> Value {
    json!({
        "fills_seen": seen,
        "trades": list.iter().map(|(strategy, side, price, at_ms)| json!({
            "strategy": strategy, "side": side, "price": price, "qty": "0.01",
            "at_ns": at_ms * 1_000_000,
        })).collect::<Vec<_>>(),
    })
}

#[test]
fn a_ring_keeps_its_newest_items_up_to_its_capacity() {
    let mut r = Ring::new(3);
    for i in 0..5 {
        r.push(i);
    }
    assert_eq!(r.len(), 3);
    assert_eq!(r.iter().copied().collect::<Vec<_>>(), vec![2, 3, 4]);
    let mut big = Ring::new(POINTS);
    for i in 0..POINTS + 10 {
        big.push(i);
    }
    assert_eq!(big.len(), POINTS);
    assert_eq!(big.iter().next(), Some(&10));
}

#[test]
fn points_are_sampled_at_most_every_sample_period_with_the_documents_figures() {
    let mut s = SeriesStore::default();
    let step = SAMPLE_EVERY.as_millis() as u64;
    let none = trades(0, &[]);
    s.record(at(T0_MS), &status(&[("grid", "100.25", 1.5)]), &none);
    s.record(
        at(T0_MS + step / 2),
        &status(&[("grid", "101", 2.0)]),
        &none,
    );
    s.record(at(T0_MS + step), &status(&[("grid", "102", -3.0)]), &none);
    let (code, v) = s.answer("strategy=grid");
    assert_eq!(code, 200);
    let p = &v["points"];
    assert_eq!(p["at_ms"], json!([T0_MS, T0_MS + step]));
    assert_eq!(p["mid"], json!([100.25, 102.0]));
    assert_eq!(p["pnl"], json!([1.5, -3.0]));
    assert_eq!(p["bid"], json!([99.5, 99.5]));
    assert_eq!(p["ask"], json!([null, null]));
    assert_eq!(p["position"], json!([-0.3, -0.3]));
    assert_eq!(p["realized_pnl"], json!([0.25, 0.25]));
    // since: only the points after it.
    let (_, v) = s.answer(&format!("strategy=grid&since={T0_MS}"));
    assert_eq!(v["points"]["at_ms"], json!([T0_MS + step]));
    assert_eq!(v["points"]["mid"], json!([102.0]));
}

#[test]
fn each_fill_is_taken_once_oldest_first_and_fills_beyond_the_list_are_counted_missed() {
    let mut s = SeriesStore::default();
    let st = status(&[("grid", "100", 0.0), ("mm", "100", 0.0)]);
    s.record(
        at(T0_MS),
        &st,
        &trades(1, &[("grid", "buy", "99.9", T0_MS)]),
    );
    // Two new fills (newest first), the old one still listed: only the two are taken.
    let t = trades(
        3,
        &[
            ("grid", "sell", "100.2", T0_MS + 20),
            ("mm", "buy", "99.8", T0_MS + 10),
            ("grid", "buy", "99.9", T0_MS),
        ],
    );
    s.record(at(T0_MS + 30), &st, &t);
    s.record(at(T0_MS + 40), &st, &t);
    let (_, v) = s.answer("strategy=grid");
    let fills = v["fills"].as_array().unwrap();
    let got: Vec<(&str, f64)> = fills
        .iter()
        .map(|f| (f["side"].as_str().unwrap(), f["price"].as_f64().unwrap()))
        .collect();
    assert_eq!(got, vec![("buy", 99.9), ("sell", 100.2)]);
    assert_eq!(fills[1]["at_ms"], T0_MS + 20);
    assert_eq!(fills[1]["qty"], 0.01);
    let (_, v) = s.answer("strategy=mm");
    assert_eq!(v["fills"].as_array().unwrap().len(), 1);
    assert_eq!(s.fills_missed, 0);
    // 5 more fills, 1 listed: 4 missed.
    s.record(
        at(T0_MS + 50),
        &st,
        &trades(8, &[("mm", "sell", "101", T0_MS + 45)]),
    );
    assert_eq!(s.fills_missed, 4);
    let (_, v) = s.answer(&format!("strategy=mm&since={}", T0_MS + 10));
    assert_eq!(v["fills"].as_array().unwrap().len(), 1);
}

#[test]
fn a_strategy_that_leaves_status_loses_its_series_and_fills_of_unknown_strategies_are_not_kept() {
    let mut s = SeriesStore::default();
    s.record(
        at(T0_MS),
        &status(&[("a", "1", 0.0), ("b", "2", 0.0)]),
        &trades(1, &[("ghost", "buy", "1", T0_MS)]),
    );
    assert_eq!(s.answer("").1["strategies"], json!(["a", "b"]));
    assert_eq!(s.answer("strategy=ghost").0, 404);
    s.record(
        at(T0_MS + 5_000),
        &status(&[("b", "2", 0.0)]),
        &trades(1, &[]),
    );
    assert_eq!(s.answer("").1["strategies"], json!(["b"]));
    assert_eq!(s.answer("strategy=a").0, 404);
}

#[test]
fn latency_series_are_kept_per_venue_and_measurement() {
    let mut s = SeriesStore::default();
    let none = trades(0, &[]);
    s.record(at(T0_MS), &status(&[]), &none);
    s.record(at(T0_MS + 1_000), &status(&[]), &none);
    let (code, v) = s.answer("venue=bybit");
    assert_eq!(code, 200);
    let t2o = &v["measurements"]["tick_to_order"];
    assert_eq!(t2o["at_ms"], json!([T0_MS, T0_MS + 1_000]));
    assert_eq!(t2o["p50_ns"], json!([40_000.0, 40_000.0]));
    assert_eq!(t2o["p99_ns"], json!([90_000.0, 90_000.0]));
    assert_eq!(
        v["measurements"]["order_ack"]["p99_ns"],
        json!([null, null])
    );
    assert_eq!(s.answer("").1["venues"], json!(["bybit"]));
    assert_eq!(s.answer("venue=okx").0, 404);
}

#[test]
fn strategies_beyond_the_bound_are_refused_and_counted() {
    let mut s = SeriesStore::default();
    let names: Vec<String> = (0..MAX_STRATEGIES + 3).map(|i| format!("s{i}")).collect();
    let list: Vec<(&str, &str, f64)> = names.iter().map(|n| (n.as_str(), "1", 0.0)).collect();
    s.record(at(T0_MS), &status(&list), &trades(0, &[]));
    assert_eq!(
        s.answer("").1["strategies"].as_array().unwrap().len(),
        MAX_STRATEGIES
    );
    assert_eq!(s.strategies_refused, 3);
}

#[test]
fn queries_it_cannot_read_are_refused_with_400() {
    let mut s = SeriesStore::default();
    s.record(at(T0_MS), &status(&[("grid-2", "1", 0.0)]), &trades(0, &[]));
    for (q, want) in [
        ("strategy=grid%2D2", 200),
        ("strategy=grid-2&since=0", 200),
        ("strategy=grid-2&since=yesterday", 400),
        ("strategy=grid-2&since=-1", 400),
        ("strategy=grid%2", 400),
        ("strategy=%ff", 400),
        ("colour=red", 400),
        ("strategy=grid-2&venue=bybit", 400),
        ("strategy=grid+2", 404),
        ("", 200),
    ] {
        let (code, v) = s.answer(q);
        assert_eq!(code, want, "{q}");
        if code != 200 {
            assert_eq!(v["status"], want, "{q}");
            assert!(v["error"].as_str().is_some_and(|e| !e.is_empty()), "{q}");
        }
    }
}

#[test]
fn documents_without_the_expected_shape_record_nothing_and_do_not_panic() {
    let mut s = SeriesStore::default();
    for (st, tr) in [
        (json!(null), json!(null)),
        (json!({"strategies": 5}), json!({"fills_seen": "x"})),
        (
            json!({"strategies": [{"id": 7}, {"mid": "1"}]}),
            json!({"fills_seen": 3, "trades": [{"strategy": 1}, 2]}),
        ),
        (
            json!({"latency": {"percentiles": [{"venue": "x"}]}}),
            json!({"fills_seen": 9, "trades": "none"}),
        ),
    ] {
        s.record(at(T0_MS), &st, &tr);
    }
    let (_, v) = s.answer("");
    assert_eq!(v["strategies"], json!([]));
    assert_eq!(v["venues"], json!([]));
}
