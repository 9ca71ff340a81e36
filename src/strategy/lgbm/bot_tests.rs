//! The LightGBM bot against a detached context: candles in, intents out, updates back, with
//! literal prices and times. The model is `tests/fixtures/lgbm/bot_rise.model.txt` (one tree:
//! its feature `ret`, mapped to `price_change_1`, above 0 gives 0.8808 "up", else 0.1192).

use crate::book::{Level, TopOfBook};
use crate::gateway::{CidMinter, NewOrderIntent, OrderIntent, OrderUpdate};
use crate::latency::bands::Band;
use crate::runtime::{FullPolicy, Rx, bounded};
use crate::strategy::api::{Env, IntentSink, Strategy, StrategyCtx};
use crate::strategy::candles::Candle;
use crate::types::order::AssetCode;
use crate::types::{FillDelta, Instrument, InstrumentId, Notional, OrderKind, OrderStatus, Price};
use crate::types::{Qty, Side, StrategyId, TimeInForce, UnixNanos, VenueId};

use super::{LgbmBot, LgbmParams};

const S: u64 = 1_000_000_000;

fn p(s: &str) -> Price {
    Price::parse(s).unwrap()
}

fn q(s: &str) -> Qty {
    Qty::parse(s).unwrap()
}

fn model_path() -> String {
    format!(
        "{}/tests/fixtures/lgbm/bot_rise.model.txt",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn table(extra: &str) -> toml::Table {
    let mut t: toml::Table = format!(
        "model = {:?}\nfeatures = {{ ret = \"price_change_1\" }}\n\
         threshold = 0.6\ntake_profit_percent = 1\nstop_loss_percent = 1\nmax_hold = \"30s\"",
        model_path()
    )
    .parse()
    .unwrap();
    t.extend(extra.parse::<toml::Table>().unwrap());
    t
}

struct Rig {
    bot: LgbmBot,
    sink: IntentSink,
    rx: Rx<OrderIntent>,
    env: Env,
    band: Band,
}

impl Rig {
    fn new(extra: &str) -> Self {
        let params = LgbmParams::from_table(&table(extra)).unwrap();
        let inst = Instrument::new(
            InstrumentId(0),
            VenueId(0),
            "SOLUSDT",
            "SOL",
            "USDT",
            p("0.01"),
            q("0.001"),
        )
        .unwrap();
        let (tx, rx) = bounded("binance", 64, FullPolicy::Backpressure);
        let s = StrategyId(0);
        Self {
            bot: LgbmBot::new(params, inst.clone()),
            sink: IntentSink::new(tx, CidMinter::new(1, s), s, InstrumentId(0)),
            rx,
            env: Env::detached(vec![inst]),
            band: Band {
                name: "n".into(),
                max_latency_ns: None,
                min_spread_bps: 0,
                size_multiplier: 1.0,
                throttle: std::time::Duration::ZERO,
            },
        }
    }

    /// Runs `f` with a context at `t` seconds, the bid at `bid` and the ask a cent above.
    fn at(&mut self, t: u64, bid: &str, f: impl FnOnce(&mut LgbmBot, &mut StrategyCtx<'_>)) {
        let level = |price: Price| Level { price, qty: q("10") };
        let b = p(bid);
        let mut cx = StrategyCtx {
            now: UnixNanos(t * S),
            book: TopOfBook {
                bid: level(b),
                ask: level(Price::from_units(b.units() + p("0.01").units())),
                valid: true,
                ..TopOfBook::default()
            },
            tick_at: UnixNanos(t * S),
            band: &self.band,
            halted: false,
            intents: &mut self.sink,
            env: &mut self.env,
        };
        f(&mut self.bot, &mut cx);
    }

    /// A 1 s candle closing at `close` (the bid) at `t` seconds.
    fn candle(&mut self, t: u64, close: &str) {
        let c = Candle {
            instrument: InstrumentId(0),
            width_ns: S,
            open_time: UnixNanos((t - 1) * S),
            open: p(close),
            high: p(close),
            low: p(close),
            close: p(close),
            volume: q("1"),
            buy_volume: Qty::ZERO,
            sell_volume: Qty::ZERO,
            quote_volume: Notional::default(),
            trades: 1,
            flat: false,
            incomplete: false,
        };
        self.at(t, close, |b, cx| b.on_candle(&c, cx));
    }

    fn tick(&mut self, t: u64, bid: &str) {
        self.at(t, bid, |b, cx| b.on_tick(cx));
    }

    fn sent(&self) -> Vec<OrderIntent> {
        let mut v = vec![];
        self.rx.drain(64, |i| v.push(i));
        v
    }

    fn update(&mut self, t: u64, u: OrderUpdate) {
        self.sink.observe(&u);
        self.at(t, "100", |b, cx| b.on_order_update(&u, cx));
    }

    /// Order `n` filled whole at `price`.
    fn fill(&mut self, t: u64, n: &NewOrderIntent, price: &str) {
        let price = p(price);
        let mut u = update_of(n, t, OrderStatus::Filled);
        u.filled_qty = n.qty;
        u.fill = Some(FillDelta {
            side: n.side,
            qty: n.qty,
            quote: price.notional(n.qty),
            trade_id: None,
            fee: Qty::ZERO,
            fee_asset: AssetCode::new(b"USDT").unwrap(),
            is_maker: false,
            fees_complete: true,
            paper: false,
        });
        self.update(t, u);
    }
}

fn update_of(n: &NewOrderIntent, t: u64, status: OrderStatus) -> OrderUpdate {
    OrderUpdate {
        cid: n.cid,
        strategy: StrategyId(0),
        status,
        side: n.side,
        price: n.price,
        qty: n.qty,
        filled_qty: Qty::ZERO,
        fill: None,
        refused: None,
        fee_correction: None,
        at: UnixNanos(t * S),
    }
}

fn new_orders(v: &[OrderIntent]) -> Vec<NewOrderIntent> {
    v.iter()
        .filter_map(|i| match i {
            OrderIntent::New(n) => Some(*n),
            _ => None,
        })
        .collect()
}

/// Two bars: flat at 100, then up to `close` (an "up" of 0.8808 when above 100).
fn rise(r: &mut Rig, close: &str) -> Vec<NewOrderIntent> {
    r.candle(1, "100");
    assert!(r.sent().is_empty(), "no prediction before price_change_1 has a value");
    assert!(r.bot.prediction().is_none());
    r.candle(2, close);
    new_orders(&r.sent())
}

#[test]
fn the_seeds_defaults_and_the_models_features_checked() {
    let p = LgbmParams::from_table(&table("")).unwrap();
    assert_eq!(p.candle, std::time::Duration::from_secs(1));
    assert_eq!(p.buffer, 60);
    assert_eq!(p.entry_timeout, std::time::Duration::from_secs(60));
    assert_eq!(p.max_open_positions, 2);
    assert_eq!(p.entry, super::params::EntryMode::PostOnly);
    assert_eq!(p.on_timeout, super::params::OnTimeout::GiveUp);
    // A feature the config cannot supply: refused, naming it.
    let errs = LgbmParams::from_table(&table("features = { ret = \"colour\" }")).unwrap_err();
    let (key, msg) = &errs[0];
    assert_eq!(key, "model");
    assert!(msg.contains("model feature 0 (\"ret\")") && msg.contains("colour"), "{msg}");
    // Without the map, the model's own name is not one of mako's.
    let mut t = table("");
    t.remove("features");
    let errs = LgbmParams::from_table(&t).unwrap_err();
    assert!(errs[0].1.contains("\"ret\""), "{errs:?}");
    // A missing file, and a multiclass model without three classes... (the fixture has 3).
    let errs = LgbmParams::from_table(&table("model = \"/nonexistent/m.txt\"")).unwrap_err();
    assert!(errs[0].1.contains("/nonexistent/m.txt"), "{errs:?}");
    let errs = LgbmParams::from_table(&table("on_timeout = \"wait\"\nentry_timeout = \"0s\""))
        .unwrap_err();
    let keys: Vec<&str> = errs.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, ["entry_timeout", "on_timeout"]);
}

#[test]
fn a_confident_up_bids_the_trade_size_at_the_touch() {
    let mut r = Rig::new("");
    let sent = rise(&mut r, "100.10");
    let pr = r.bot.prediction().unwrap();
    assert!((pr.confidence - 0.8807970779778823).abs() < 1e-15, "{pr:?}");
    assert!(pr.up);
    let [n] = sent.as_slice() else {
        panic!("{sent:?}")
    };
    // 25 USDT at 100.10, down to the 0.001 lot: 0.249.
    assert_eq!(
        (n.side, n.kind, n.tif, n.price, n.qty),
        (Side::Buy, OrderKind::LimitMaker, TimeInForce::Gtc, p("100.10"), q("0.249"))
    );
    // A fall: 0.1192, below the threshold: nothing.
    r.candle(3, "100.05");
    assert!(!r.bot.prediction().unwrap().up);
    assert!(r.sent().is_empty());
}

#[test]
fn a_threshold_above_the_confidence_holds_back() {
    let mut r = Rig::new("threshold = 0.9");
    assert!(rise(&mut r, "100.10").is_empty());
    assert!(!r.bot.prediction().unwrap().up);
}

#[test]
fn no_more_than_max_open_positions() {
    let mut r = Rig::new("");
    assert_eq!(rise(&mut r, "100.10").len(), 1);
    r.candle(3, "100.20");
    assert_eq!(new_orders(&r.sent()).len(), 1);
    r.candle(4, "100.30");
    assert!(r.sent().is_empty());
    assert_eq!((r.bot.open_trades(), r.bot.at_max()), (2, 1));
}

#[test]
fn an_unfilled_maker_entry_is_given_up_at_its_timeout() {
    let mut r = Rig::new("entry_timeout = \"60s\"");
    let n = rise(&mut r, "100.10").remove(0);
    r.tick(61, "100.10");
    assert!(r.sent().is_empty(), "59 s: still waiting");
    r.tick(62, "100.10");
    let sent = r.sent();
    assert!(
        matches!(sent.as_slice(), [OrderIntent::Cancel { cid, .. }] if *cid == n.cid),
        "{sent:?}"
    );
    r.update(62, update_of(&n, 62, OrderStatus::Cancelled));
    assert!(r.sent().is_empty());
    assert_eq!((r.bot.open_trades(), r.bot.given_up()), (0, 1));
}

#[test]
fn or_crossed_by_an_ioc_for_what_it_left() {
    let mut r = Rig::new("entry_timeout = \"10s\"\non_timeout = \"cross\"\ncollar_percent = 0.5");
    let n = rise(&mut r, "100.10").remove(0);
    r.tick(12, "100.10");
    assert!(matches!(r.sent().as_slice(), [OrderIntent::Cancel { .. }]));
    // 0.1 of 0.249 had filled.
    let mut u = update_of(&n, 12, OrderStatus::Cancelled);
    u.filled_qty = q("0.1");
    u.fill = Some(FillDelta {
        side: Side::Buy,
        qty: q("0.1"),
        quote: p("100.10").notional(q("0.1")),
        trade_id: None,
        fee: Qty::ZERO,
        fee_asset: AssetCode::new(b"USDT").unwrap(),
        is_maker: true,
        fees_complete: true,
        paper: false,
    });
    r.update(12, u);
    let sent = new_orders(&r.sent());
    let [c] = sent.as_slice() else {
        panic!("{sent:?}")
    };
    // The ask (100.01 in `update`'s book: bid 100) + 0.5 %, down to the tick: 100.51.
    assert_eq!(
        (c.side, c.tif, c.price, c.qty),
        (Side::Buy, TimeInForce::Ioc, p("100.51"), q("0.149"))
    );
}

/// Enters at 100.10 (filled at once), then `path` of (seconds, bid) ticks until an exit is
/// sent; fills the exit at its bid; returns the closed trade's reason and PnL.
fn exit_by(path: &[(u64, &str)]) -> (&'static str, f64, String) {
    let mut r = Rig::new("");
    let n = rise(&mut r, "100.10").remove(0);
    r.fill(3, &n, "100.10");
    for (t, bid) in path {
        r.tick(*t, bid);
        let sent = new_orders(&r.sent());
        if let [x] = sent.as_slice() {
            assert_eq!((x.side, x.tif, x.qty), (Side::Sell, TimeInForce::Ioc, q("0.249")));
            r.fill(*t, x, bid);
            let c = r.bot.closed_trades().last().unwrap().clone();
            assert_eq!(r.bot.open_trades(), 0);
            return (c.reason.as_str(), c.pnl.0 as f64 / 1e16, c.model.to_string());
        }
    }
    panic!("no exit along {path:?}")
}

#[test]
fn take_profit_stop_loss_and_holding_time_each_close_the_trade() {
    // +1 % of 100.10 is 101.101: 101.10 is short of it, 101.11 past it.
    let (why, pnl, model) = exit_by(&[(4, "101.10"), (5, "101.11")]);
    assert_eq!(why, "take_profit");
    assert!((pnl - 0.249 * 1.01).abs() < 1e-9, "{pnl}");
    assert_eq!(
        model,
        "87700b14455ac35aa03c051d30d4149ed5faa34a3f2ba3c9fae14c3940248c63"
    );
    // −1 %: 99.099; 99.10 is above it, 99.09 below.
    let (why, pnl, _) = exit_by(&[(4, "99.10"), (5, "99.09")]);
    assert_eq!(why, "stop_loss");
    assert!((pnl + 0.249 * 1.01).abs() < 1e-9, "{pnl}");
    // Held 30 s from the fill at 3 s: due at 33 s.
    let (why, pnl, _) = exit_by(&[(32, "100.10"), (33, "100.10")]);
    assert_eq!(why, "max_hold");
    assert!(pnl.abs() < 1e-12, "{pnl}");
}

#[test]
fn a_swapped_model_opens_the_next_trades_and_each_closed_trade_is_recorded_with_its_model() {
    use crate::strategy::model::Model;
    use std::sync::Arc;
    let text = std::fs::read_to_string(model_path()).unwrap();
    let second = text.replace("leaf_value=-2 2", "leaf_value=-3 3");
    let second = Arc::new(Model::from_bytes(second.as_bytes()).unwrap());
    let mut r = Rig::new("max_open_positions = 1");
    let first = r.bot.model_hash().to_owned();
    let n = rise(&mut r, "100.10").remove(0);
    r.fill(3, &n, "100.10");

    // A model whose feature the parameters cannot supply is refused; the old one runs on.
    let other = Model::from_bytes(text.replace("feature_names=ret", "feature_names=other").as_bytes())
        .unwrap();
    let err = r.bot.swap_model(Arc::new(other)).unwrap_err();
    assert!(err.contains("other"), "{err}");
    assert_eq!(r.bot.model_hash(), first);
    // Swapped while a trade is open: that trade keeps the model that opened it.
    r.bot.swap_model(second.clone()).unwrap();
    assert_eq!((r.bot.model_hash(), r.bot.model_swaps()), (second.hash(), 1));

    let exit_at = |r: &mut Rig, t: u64, bid: &str| {
        r.tick(t, bid);
        let sent = new_orders(&r.sent());
        let [x] = sent.as_slice() else {
            panic!("{sent:?}")
        };
        r.fill(t, x, bid);
    };
    exit_at(&mut r, 4, "101.11");
    let recorded = std::mem::take(r.env.closed_trades());
    let [t1] = recorded.as_slice() else {
        panic!("{recorded:?}")
    };
    assert_eq!(
        (t1.reason, t1.model.as_deref(), t1.qty, t1.entry, t1.exit),
        ("take_profit", Some(first.as_str()), q("0.249"), Some(p("100.10")), Some(p("101.11")))
    );
    assert_eq!(t1.pnl.0, (p("101.11").units() - p("100.10").units()) as i128 * 24_900_000);
    assert!((t1.confidence.unwrap() - 0.8807970779778823).abs() < 1e-12);

    // The next trade is opened by the new model (its "up": sigmoid(3) = 0.9526).
    r.candle(10, "101.11");
    r.candle(11, "102");
    let sent = new_orders(&r.sent());
    let [n2] = sent.as_slice() else {
        panic!("{sent:?}")
    };
    r.fill(11, n2, "102");
    exit_at(&mut r, 12, "100.90");
    let recorded = std::mem::take(r.env.closed_trades());
    let [t2] = recorded.as_slice() else {
        panic!("{recorded:?}")
    };
    assert_eq!((t2.reason, t2.model.as_deref()), ("stop_loss", Some(second.hash())));
    assert!((t2.confidence.unwrap() - 1.0 / (1.0 + (-3.0f64).exp())).abs() < 1e-12);
}

#[test]
fn fees_learned_after_the_fills_lower_the_trades_pnl_open_or_closed() {
    use crate::gateway::FeeCorrection;
    let usdt = AssetCode::new(b"USDT").unwrap();
    let mut r = Rig::new("max_open_positions = 1");
    let n = rise(&mut r, "100.10").remove(0);
    r.fill(3, &n, "100.10");
    // While the trade is open: 0.01 USDT more on the entry.
    let mut u = update_of(&n, 3, OrderStatus::Filled);
    u.fee_correction = Some(FeeCorrection {
        asset: usdt,
        delta: q("0.01"),
        in_quote: Some(q("0.01")),
    });
    r.at(3, "100.10", |b, cx| b.on_fee_correction(&u, u.fee_correction.unwrap(), cx));
    r.tick(4, "101.11");
    let sent = new_orders(&r.sent());
    let [x] = sent.as_slice() else {
        panic!("{sent:?}")
    };
    r.fill(4, x, "101.11");
    let gross = (p("101.11").units() - p("100.10").units()) as i128 * 24_900_000;
    let cent = i128::from(q("0.01").units()) * i128::from(crate::types::SCALE);
    assert_eq!(r.bot.closed_trades()[0].pnl.0, gross - cent);
    // After it closed: 0.02 USDT more on the exit.
    let mut u = update_of(x, 5, OrderStatus::Filled);
    u.fee_correction = Some(FeeCorrection {
        asset: usdt,
        delta: q("0.02"),
        in_quote: Some(q("0.02")),
    });
    r.at(5, "101.11", |b, cx| b.on_fee_correction(&u, u.fee_correction.unwrap(), cx));
    assert_eq!(r.bot.closed_trades()[0].pnl.0, gross - 3 * cent);
    assert_eq!(r.bot.realized(), gross - 3 * cent);
}
