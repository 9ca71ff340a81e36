//! The signal bot against a detached context: candles in, intents out, updates back, with
//! literal prices and times.

use crate::book::{Level, TopOfBook};
use crate::gateway::{CidMinter, OrderIntent, OrderUpdate};
use crate::latency::bands::Band;
use crate::runtime::{FullPolicy, Rx, bounded};
use crate::strategy::api::{Env, IntentSink, Strategy, StrategyCtx};
use crate::strategy::candles::Candle;
use crate::types::order::AssetCode;
use crate::types::{FillDelta, Instrument, InstrumentId, Notional, OrderKind, OrderStatus, Price};
use crate::types::{Qty, Side, StrategyId, TimeInForce, UnixNanos, VenueId};

use super::{SignalBot, SignalParams};

const S: u64 = 1_000_000_000;

fn p(s: &str) -> Price {
    Price::parse(s).unwrap()
}

fn q(s: &str) -> Qty {
    Qty::parse(s).unwrap()
}

struct Rig {
    bot: SignalBot,
    sink: IntentSink,
    rx: Rx<OrderIntent>,
    env: Env,
    band: Band,
}

impl Rig {
    fn new(extra: &str) -> Self {
        let mut t: toml::Table = r#"candle = "1s"
            rsi_period = 3
            ma_fast = 2
            ma_slow = 4
            ma_full_percent = 0.1
            macd_fast = 2
            macd_slow = 4
            macd_signal = 2
            weight_rsi = 0
            hot = 0.4
            warm = 0.2
            cool = 0.1
            confirmation = "2s"
            cooldown = "10s"
            exit_on_signal = false
            take_profit_percent = 0
            stop_loss_percent = 0
            max_hold = "0s""#
            .parse()
            .unwrap();
        // The test's own lines win.
        t.extend(extra.parse::<toml::Table>().unwrap());
        let params = SignalParams::from_table(&t).unwrap();
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
            bot: SignalBot::new(params, inst.clone()),
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
    fn at(&mut self, t: u64, bid: &str, f: impl FnOnce(&mut SignalBot, &mut StrategyCtx<'_>)) {
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

    fn sent(&self) -> Vec<OrderIntent> {
        let mut v = vec![];
        self.rx.drain(64, |i| v.push(i));
        v
    }

    /// The order `i` filled whole at its price.
    fn fill(&mut self, t: u64, i: &OrderIntent, price: &str) {
        let OrderIntent::New(n) = i else {
            panic!("not a new order: {i:?}")
        };
        let price = p(price);
        let u = filled(
            n,
            t,
            Some(FillDelta {
                side: n.side,
                qty: n.qty,
                quote: price.notional(n.qty),
                trade_id: None,
                fee: Qty::ZERO,
                fee_asset: AssetCode::new(b"USDT").unwrap(),
                is_maker: false,
                fees_complete: true,
                paper: false,
            }),
            None,
        );
        self.sink.observe(&u);
        self.at(t, "100", |b, cx| b.on_order_update(&u, cx));
    }
}

/// The update of order `n`, filled whole, at `t` seconds.
fn filled(
    n: &crate::gateway::NewOrderIntent,
    t: u64,
    fill: Option<FillDelta>,
    fee_correction: Option<crate::gateway::FeeCorrection>,
) -> OrderUpdate {
    OrderUpdate {
        cid: n.cid,
        strategy: StrategyId(0),
        status: OrderStatus::Filled,
        side: n.side,
        price: n.price,
        qty: n.qty,
        filled_qty: n.qty,
        fill,
        refused: None,
        fee_correction,
        at: UnixNanos(t * S),
    }
}

/// The update of order `n`, ended with `status` and nothing filled, at `t` seconds.
fn unfilled(n: &crate::gateway::NewOrderIntent, status: OrderStatus, t: u64) -> OrderUpdate {
    OrderUpdate {
        status,
        filled_qty: Qty::ZERO,
        ..filled(n, t, None, None)
    }
}

fn close_at(t: u64) -> String {
    if t <= 8 {
        "100.00".to_string()
    } else {
        format!("{:.2}", 100.0 + 0.2 * (t - 8) as f64)
    }
}

/// Flat at 100 for eight bars, then up 0.2 a bar: candles until the bot sends something.
/// Returns when its buy signal turned hot, when it sent, and what.
fn rise_until_sent(r: &mut Rig) -> (u64, u64, Vec<OrderIntent>) {
    let mut hot = None;
    for t in 1..=30 {
        r.candle(t, &close_at(t));
        if hot.is_none() && r.bot.pending().is_some() {
            hot = Some(t);
        }
        let sent = r.sent();
        if !sent.is_empty() {
            return (hot.expect("hot before sending"), t, sent);
        }
    }
    panic!("never sent");
}

#[test]
fn a_buy_that_holds_through_confirmation_bids_at_the_touch_and_take_profit_sells_what_filled() {
    let mut r = Rig::new("take_profit_percent = 1\nentry = \"post_only\"");
    let (hot, t, sent) = rise_until_sent(&mut r);
    // Confirmation: 2 s of candles at 1 s, so the third hot bar acts, not before.
    assert_eq!(t, hot + 2, "hot at {hot}, sent at {t}");
    let bid = p(&close_at(t));
    // $25 at the bid, down to the lot, post-only, GTC.
    let want = Qty::from_units(25 * 100_000_000 * 100_000_000 / bid.units()).floor_to(q("0.001"));
    let entry = match sent.as_slice() {
        [i @ OrderIntent::New(n)] => {
            assert_eq!(
                (n.side, n.kind, n.tif, n.price, n.qty),
                (Side::Buy, OrderKind::LimitMaker, TimeInForce::Gtc, bid, want)
            );
            *i
        }
        other => panic!("{other:?}"),
    };
    r.fill(t, &entry, &bid.to_string());
    assert_eq!(r.bot.held(), want);
    // 1 % above the entry: one cent below holds, the level sells.
    let tp = Price::from_units(bid.units() + bid.units() / 100).ceil_to(p("0.01"));
    let below = Price::from_units(tp.units() - p("0.01").units());
    r.at(t + 1, &below.to_string(), |b, cx| b.on_tick(cx));
    assert!(r.sent().is_empty());
    r.at(t + 2, &tp.to_string(), |b, cx| b.on_tick(cx));
    let exit = match r.sent().as_slice() {
        [i @ OrderIntent::New(n)] => {
            assert_eq!((n.side, n.tif, n.qty), (Side::Sell, TimeInForce::Ioc, want));
            *i
        }
        other => panic!("{other:?}"),
    };
    r.fill(t + 2, &exit, &tp.to_string());
    let rep = r.bot.report(None);
    assert_eq!(rep.round_trips, 1);
    let pnl = (tp.units() - bid.units()) as f64 * want.units() as f64 / 1e16;
    assert!((rep.realized_pnl - pnl).abs() < 1e-12, "{rep:?} vs {pnl}");
    assert_eq!(
        r.bot.closed_trades()[0].reason,
        super::rules::ExitReason::TakeProfit
    );
    // The closed trade goes to the database's strategy_trades, with no model.
    let stored = std::mem::take(r.env.closed_trades());
    let [row] = stored.as_slice() else {
        panic!("{stored:?}")
    };
    assert_eq!(
        (row.reason, row.qty, row.entry, row.exit, row.model.is_none()),
        ("take_profit", want, Some(bid), Some(tp), true)
    );
    assert_eq!(row.pnl, r.bot.closed_trades()[0].pnl);
    // The cooldown (10 s from the exit's fill) holds back the next entry.
    assert_eq!(r.bot.cooldown_left(), 10 * S);
    for k in t + 3..t + 12 {
        r.candle(k, &close_at(k));
    }
    assert!(r.sent().is_empty(), "no entry in the cooldown");
}

#[test]
fn a_post_only_bid_left_behind_is_cancelled_then_bid_again_only_after_the_cancel_ends() {
    let mut r = Rig::new("entry = \"post_only\"");
    let (_, t, first) = rise_until_sent(&mut r);
    let [OrderIntent::New(n)] = first.as_slice() else {
        panic!("{first:?}")
    };
    let up = Price::from_units(n.price.units() + p("0.20").units()).to_string();
    // The touch moves up: the bot cancels and waits.
    r.at(t, &up, |b, cx| b.on_tick(cx));
    let sent = r.sent();
    assert!(
        matches!(sent.as_slice(), [OrderIntent::Cancel { cid, .. }] if *cid == n.cid),
        "{sent:?}"
    );
    r.at(t, &up, |b, cx| b.on_tick(cx));
    assert!(r.sent().is_empty(), "nothing new before the cancel's outcome");
    // The cancel ends the order unfilled: the bot bids again at the touch, for the quote the
    // tranche was sized for (fewer base units at the higher price, never more quote).
    let u = unfilled(n, OrderStatus::Cancelled, t);
    r.sink.observe(&u);
    r.at(t, &up, |b, cx| b.on_order_update(&u, cx));
    r.at(t, &up, |b, cx| b.on_tick(cx));
    let again = r.sent();
    assert!(
        matches!(again.as_slice(), [OrderIntent::New(m)] if m.price == p(&up) && m.qty == Qty::parse("0.247").unwrap() && m.kind == OrderKind::LimitMaker),
        "{again:?} after {n:?}"
    );
    assert_eq!(n.qty, Qty::parse("0.248").unwrap(), "the first bid: 25 USDT at {}", n.price);
}

impl Rig {
    /// Fees of order `i` learned after its fill was reported without them.
    fn fee_fix(&mut self, t: u64, i: &OrderIntent, asset: &str, fee: &str) {
        let OrderIntent::New(n) = i else {
            panic!("not a new order: {i:?}")
        };
        let fix = crate::gateway::FeeCorrection {
            asset: AssetCode::new(asset.as_bytes()).unwrap(),
            delta: q(fee),
            in_quote: (asset == "USDT").then(|| q(fee)),
        };
        let u = filled(n, t, None, Some(fix));
        self.at(t, "100", |b, cx| b.on_fee_correction(&u, u.fee_correction.unwrap(), cx));
    }
}

#[test]
fn fees_learned_after_the_fills_reach_the_open_trade_and_the_closed_one() {
    let mut r = Rig::new("take_profit_percent = 1\nentry = \"ioc\"");
    let (_, t, sent) = rise_until_sent(&mut r);
    let entry = sent[0];
    let OrderIntent::New(n) = entry else {
        panic!("{entry:?}")
    };
    let bid = close_at(t);
    r.fill(t, &entry, &bid);
    assert_eq!(r.bot.held(), n.qty);
    // The entry's fee, charged in the base asset, arrives after its fill: less is held.
    r.fee_fix(t, &entry, "SOL", "0.001");
    assert_eq!(r.bot.held(), n.qty.saturating_sub(q("0.001")));
    let tp = Price::from_units(p(&bid).units() + p(&bid).units() / 100).ceil_to(p("0.01"));
    r.at(t + 1, &tp.to_string(), |b, cx| b.on_tick(cx));
    let exit = r.sent()[0];
    let OrderIntent::New(x) = exit else {
        panic!("{exit:?}")
    };
    assert_eq!(x.qty, n.qty.saturating_sub(q("0.001")), "the exit sells what is held");
    r.fill(t + 1, &exit, &tp.to_string());
    let before = r.bot.report(None).realized_pnl;
    let trade_before = r.bot.closed_trades()[0].pnl;
    // The exit's fee (0.025 USDT) arrives after the trade closed: the trade and the bot give
    // it up exactly; an order the bot never placed changes nothing.
    r.fee_fix(t + 2, &exit, "USDT", "0.025");
    let after = r.bot.report(None).realized_pnl;
    assert!((before - after - 0.025).abs() < 1e-12, "{before} → {after}");
    assert_eq!(
        r.bot.closed_trades()[0].pnl.0,
        trade_before.0 - 25 * 100_000_000 * 100_000_000 / 1000
    );
    let stranger = OrderIntent::New(crate::gateway::NewOrderIntent {
        reduce_only: false,
        cid: crate::types::ClientOrderId::parse("mkstranger00000000000001").unwrap(),
        ..x
    });
    r.fee_fix(t + 2, &stranger, "USDT", "1");
    assert_eq!(r.bot.report(None).realized_pnl, after);
}

#[test]
fn new_periods_at_a_reload_start_the_indicators_over_and_other_changes_keep_them() {
    let mut r = Rig::new("");
    for t in 1..=8 {
        r.candle(t, "100.00");
    }
    assert!(r.bot.reading().is_some(), "warmed up on the first periods");
    let base: toml::Table = r#"candle = "1s"
        rsi_period = 3
        ma_fast = 2
        ma_slow = 4
        macd_fast = 2
        macd_slow = 4
        macd_signal = 2
        hot = 0.5"#
        .parse()
        .unwrap();
    // A threshold changes: the same indicators go on.
    r.bot.reload(&base).unwrap();
    assert!(r.bot.reading().is_some());
    assert_eq!(r.bot.params().bands.hot, 0.5);
    // A slower average: no reading until the new series has warmed up (MACD 2/4/2 needs
    // five closes, the 6-bar average six).
    let mut slower = base.clone();
    slower.insert("ma_slow".into(), toml::Value::Integer(6));
    r.bot.reload(&slower).unwrap();
    assert!(r.bot.reading().is_none());
    for t in 9..=13 {
        r.candle(t, "100.00");
        assert!(r.bot.reading().is_none(), "bar {t}");
    }
    r.candle(14, "100.00");
    let reading = r.bot.reading().expect("warmed up again");
    assert_eq!(reading.ma_slow, 100.0);
    // A period the validation refuses changes nothing.
    let mut bad = slower.clone();
    bad.insert("ma_fast".into(), toml::Value::Integer(0));
    assert!(r.bot.reload(&bad).is_err());
    assert!(r.bot.reading().is_some());
}

/// An entry the venue refuses every time (a post-only bid at a touch that moved) ends having
/// bought nothing: it is no trade of the day, so with `max_trades_per_day = 1` the bot still
/// enters when its signal holds again.
#[test]
fn an_entry_that_never_filled_is_no_trade_of_the_day() {
    let mut r = Rig::new("entry = \"post_only\"\nmax_trades_per_day = 1");
    let (_, mut t, mut sent) = rise_until_sent(&mut r);
    let OrderIntent::New(first) = sent[0] else {
        panic!("{sent:?}")
    };
    // Refused by the venue six times: five retries, then the trade is given up.
    for k in 0..=super::bot::MAX_REFUSALS {
        let [OrderIntent::New(n)] = sent.as_slice() else {
            panic!("attempt {k}: {sent:?}")
        };
        let u = unfilled(n, OrderStatus::Rejected, t);
        r.sink.observe(&u);
        let bid = close_at(t);
        r.at(t, &bid, |b, cx| b.on_order_update(&u, cx));
        t += 1;
        r.candle(t, &close_at(t));
        sent = r.sent();
    }
    assert!(r.bot.closed_trades().is_empty(), "nothing bought, nothing closed");
    // The signal still rises: a new trade opens within its confirmation.
    let mut again = sent;
    while again.is_empty() && t < 60 {
        t += 1;
        r.candle(t, &close_at(t));
        again = r.sent();
    }
    assert!(
        matches!(again.as_slice(), [OrderIntent::New(m)] if m.side == Side::Buy && m.cid != first.cid),
        "no new entry after the refused one: {again:?}, blocked by {:?}",
        r.bot.report(None).entries_stopped
    );
    // That trade is the day's one.
    assert_eq!(
        r.bot.report(None).entries_stopped,
        Some("max_trades_per_day")
    );
}
