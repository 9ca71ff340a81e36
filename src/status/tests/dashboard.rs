//! What the dashboard reads beyond the documents: `/status`' instruments (tick, lot, last
//! price), `/series` recorded by the running status actor, and the vendored chart library
//! served from the binary.

use super::*;

#[test]
fn status_lists_instruments_with_tick_lot_and_the_last_price_known() {
    let s = start(None);
    feed_engine_state(&s.updates);
    let st = wait_status(s.addr, "the fill", |v| {
        v["recent_trades"].as_array().is_some_and(|a| !a.is_empty())
    });
    let i = &st["instruments"][0];
    assert_eq!(i["symbol"], "BTCUSDT");
    assert_eq!(i["venue"], "binance");
    assert_eq!(
        (i["tick"].as_str(), i["lot"].as_str()),
        (Some("0.01"), Some("0.00001"))
    );
    assert_eq!(
        (i["price_decimals"].as_u64(), i["qty_decimals"].as_u64()),
        (Some(2), Some(5))
    );
    assert_eq!(i["kind"], "spot");
    // mm-btc has reported no mid: the last price is its fill's.
    assert_eq!(
        (i["last"].as_str(), i["last_source"].as_str()),
        (Some("60001"), Some("fill"))
    );
}

#[test]
fn series_are_recorded_by_the_running_actor_and_served() {
    let s = start(None);
    feed_engine_state(&s.updates);
    let deadline = Instant::now() + Duration::from_secs(60);
    let (btc, eth) = loop {
        let btc = json(s.addr, "/series?strategy=mm-btc");
        let eth = json(s.addr, "/series?strategy=mm-eth");
        let has_fill = btc["fills"].as_array().is_some_and(|f| !f.is_empty());
        let has_mid = eth["points"]["mid"]
            .as_array()
            .is_some_and(|m| m.iter().any(|x| x.as_f64() == Some(3001.0)))
            && eth["points"]["position"]
                .as_array()
                .and_then(|p| p.last())
                .is_some_and(|p| p.as_f64() != Some(0.0));
        if has_fill && has_mid {
            break (btc, eth);
        }
        assert!(Instant::now() < deadline, "no series: {btc} {eth}");
        std::thread::yield_now();
    };
    let fill = &btc["fills"][0];
    assert_eq!(
        (fill["side"].as_str(), fill["price"].as_f64()),
        (Some("sell"), Some(60001.0))
    );
    assert_eq!(fill["at_ms"], (T0 + 30) / 1_000_000);
    // The latest point carries the position /status shows now (points sampled before the
    // updates arrived carry its starting 0).
    let pos = eth["points"]["position"].as_array().unwrap();
    let now: f64 = json(s.addr, "/status")["strategies"][1]["position"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(pos.last().and_then(Value::as_f64), Some(now), "{pos:?}");
    assert!(
        pos.iter()
            .all(|p| p.as_f64() == Some(now) || p.as_f64() == Some(0.0))
    );
    let list = json(s.addr, "/series");
    assert_eq!(list["strategies"], serde_json::json!(["mm-btc", "mm-eth"]));
    assert_eq!(list["venues"], serde_json::json!(["binance"]));
    let lat = json(s.addr, "/series?venue=binance");
    let m = lat["measurements"].as_object().unwrap();
    assert!(!m.is_empty(), "{lat}");
    for (name, col) in m {
        let p50 = col["p50_ns"].as_array().unwrap();
        assert!(
            !p50.is_empty() && p50.iter().all(|x| x.as_f64() == Some(1_000_000.0)),
            "{name}"
        );
    }
    assert_eq!(get(s.addr, "/series?strategy=nope").0, 404);
    assert_eq!(get(s.addr, "/series?since=soon").0, 400);
}

#[test]
fn the_chart_library_and_its_licence_are_served_from_the_binary() {
    let s = start(None);
    let (code, ct, js) = get(s.addr, "/vendor/uPlot.iife.min.js");
    assert_eq!((code, ct.as_str()), (200, "text/javascript; charset=utf-8"));
    assert!(js.contains("uPlot") && js.len() > 40_000);
    let (code, ct, _) = get(s.addr, "/vendor/uPlot.min.css");
    assert_eq!((code, ct.as_str()), (200, "text/css; charset=utf-8"));
    let (code, _, lic) = get(s.addr, "/vendor/uPlot.LICENSE");
    assert_eq!(code, 200);
    assert!(lic.contains("MIT") && lic.contains("Leon Sorokin"));
    // The page loads the library from this endpoint only: no other origin.
    let (_, _, page) = get(s.addr, "/");
    assert!(page.contains("/vendor/uPlot.iife.min.js"));
    assert!(
        !page.contains("http://") && !page.contains("https://"),
        "no outside resources"
    );
}
