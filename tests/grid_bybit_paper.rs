//! The grid bot on a Bybit linear perpetual in paper mode, as `config/grid-bybit-demo.toml`
//! runs it with `mode = "paper"`, a paper deposit and fees (ports from the OS, a scratch data directory): market data and the mark price from
//! the simulator's Bybit linear front end, orders filled by the paper gateway on a margin
//! account. `/status` shows the position with its entry, the venue's mark, the leverage and
//! the liquidation price the isolated formula gives; nothing reaches the simulator's order
//! side, and every stored row is paper.

mod common;

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mako::config::Mode;
use mako::engine::Engine;
use mako::persist::{schema, store::count_rows};
use mako::runtime::{Clock, Shutdown};
use mako::types::Price;

#[test]
fn the_grid_trades_a_simulated_bybit_perpetual_on_paper_margin() {
    let dir = std::env::temp_dir().join(format!("mako-grid-bybit-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/config/grid-bybit-demo.toml"
    ))
    .unwrap()
    .replace("19424", "0")
    .replace("mode = \"sim\"", "mode = \"paper\"")
    // The paper margin account's deposit and Bybit's base-tier perpetual fees.
    .replace(
        "[persistence]",
        "[strategies.paper]\nquote = \"10000\"\n\n[paper]\nmaker_fee = \"0.0002\"\n\
         taker_fee = \"0.00055\"\n\n[persistence]",
    )
    .replace("127.0.0.1:8794", "127.0.0.1:0")
    .replace(
        "data_dir = \"data/grid-bybit-demo\"",
        &format!("data_dir = {:?}", dir.display().to_string()),
    );
    let config = mako::config::parse(&text, Path::new("grid-bybit-demo.toml"))
        .expect("the demo config is valid");
    assert_eq!(config.engine.mode, Mode::Paper);
    let shutdown = Shutdown::new();
    let engine = Engine::build(config, Clock::live(), shutdown.clone()).expect("engine builds");
    assert!(engine.skipped.is_empty(), "{:?}", engine.skipped);
    let seen: Arc<Mutex<serde_json::Value>> = Arc::default();
    let keep = seen.clone();
    let report = common::run_until(
        engine,
        shutdown,
        "a perpetual position with its mark",
        Duration::from_secs(240),
        move |v| {
            let s = &v["strategies"][0];
            let open = s["position"].as_str().is_some_and(|p| p != "0");
            let ready = open && s["perp"]["entry"].is_string() && s["perp"]["mark"].is_string();
            if ready {
                *keep.lock().unwrap() = s.clone();
            }
            ready
        },
    );
    let s = seen.lock().unwrap().clone();
    let perp = &s["perp"];
    assert_eq!(perp["kind"], "linear-perpetual");
    assert_eq!(perp["leverage"], "5");
    assert_eq!(perp["margin_mode"], "isolated");
    // Isolated at 5× with a 0.5 % maintenance rate: a long is liquidated at
    // entry × (1 − 1/5 + 0.005), a short at entry × (1 + 1/5 − 0.005), on the 0.5 tick toward
    // the entry. The grid's orders are 0.01 BTC at prices on the tick, so the entry is exact
    // while the position was opened at one price; otherwise the printed entry is cut to
    // 10^-8 and the liquidation may sit one tick away.
    let entry = Price::parse(perp["entry"].as_str().unwrap()).unwrap();
    let liq = Price::parse(perp["liquidation"].as_str().unwrap()).unwrap();
    let long = !s["position"].as_str().unwrap().starts_with('-');
    let tick = 50_000_000i128;
    let e = i128::from(entry.units());
    let expected = if long {
        let x = e * 805;
        (x + tick * 1000 - 1) / (tick * 1000) * tick
    } else {
        e * 1195 / (tick * 1000) * tick
    };
    let off = (i128::from(liq.units()) - expected).abs();
    if e % tick == 0 {
        assert_eq!(off, 0, "{perp}");
    } else {
        assert!(off <= tick, "{perp}");
    }
    // The mark is the venue's (the simulator's Bybit tickers), a positive price.
    assert!(
        Price::parse(perp["mark"].as_str().unwrap())
            .unwrap()
            .is_positive()
    );

    // Nothing went to the simulator's order side.
    let state = report.sim_state.expect("simulator state");
    assert_eq!(state["fills"].as_array().map(Vec::len), Some(0));
    // Every stored order and fill is paper.
    let db = schema::open(&dir.join("grid-bybit-demo.sqlite")).expect("database");
    for table in ["orders", "fills"] {
        let all = count_rows(&db, table, None).unwrap();
        assert!(all > 0, "{table} has rows");
        assert_eq!(
            all,
            count_rows(&db, table, Some(Mode::Paper)).unwrap(),
            "{table}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
