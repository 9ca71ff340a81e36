//! The scalper with literal books, bands and fills: where it enters, how much, each exit as a
//! real order, the PnL of its fills, the per-round-trip count, the daily reset and the
//! daily-loss stop.

use std::sync::Arc;

use serde_json::json;

use super::{Scalper, ScalperParams, StopReason};
use crate::book::{BookCache, CacheWriter, Level, TopOfBook};
use crate::gateway::{CidMinter, NewOrderIntent, OrderIntent, OrderUpdate};
use crate::latency::bands::{Band, BandTable};
use crate::latency::board::BandBoard;
use crate::risk::PositionBoard;
use crate::runtime::{FullPolicy, Rx, bounded};
use crate::strategy::api::{Env, IntentSink, Strategy, StrategyCtx};
use crate::types::{AssetCode, FillDelta, Instrument, InstrumentId, OrderKind, OrderStatus};
use crate::types::{Price, Qty, Side, StrategyId, TimeInForce, UnixNanos, VenueId};
use crate::venue::order::Balance;

fn px(s: &str) -> Price {
    Price::parse(s).unwrap()
}
fn q(s: &str) -> Qty {
    Qty::parse(s).unwrap()
}

const BINANCE: VenueId = VenueId(0);
const OKX: VenueId = VenueId(1);
/// SOL on Binance, SOL on OKX.
const SOL_B: InstrumentId = InstrumentId(0);
const SOL_O: InstrumentId = InstrumentId(1);
/// 2026-12-05 23:00:00 UTC: an hour before midnight.
const START: UnixNanos = UnixNanos(1_796_511_600_000_000_000);
const SEC: u64 = 1_000_000_000;

fn instruments() -> Vec<Instrument> {
    let make = |id, venue, sym: &str| {
        let mut i = Instrument::new(id, venue, sym, "SOL", "USDT", px("0.01"), q("0.001")).unwrap();
        i.min_qty = q("0.001");
        i.min_notional = px("5");
        i
    };
    vec![make(SOL_B, BINANCE, "SOLUSDT"), make(SOL_O, OKX, "SOL-USDT")]
}

struct Rig {
    bot: Scalper,
    sink: IntentSink,
    env: Env,
    rx: Rx<OrderIntent>,
    writers: Vec<CacheWriter>,
    bands: BandBoard,
    positions: PositionBoard,
    band: Band,
    now: UnixNanos,
    /// Every new order sent, in order.
    sent: Vec<NewOrderIntent>,
    cancels: usize,
}

fn rig(params: &str) -> Rig {
    let params = ScalperParams::from_table(&params.parse().unwrap()).unwrap();
    let cache: Arc<BookCache> = BookCache::new(2);
    let writers = vec![cache.writer(SOL_B).unwrap(), cache.writer(SOL_O).unwrap()];
    let table = BandTable::from_config(&crate::config::default_bands()).unwrap();
    let bands = BandBoard::new(table, 2);
    let positions = PositionBoard::new(1, 2, 2);
    let usdt = AssetCode::new(b"USDT").unwrap();
    let sol = AssetCode::new(b"SOL").unwrap();
    for v in [BINANCE, OKX] {
        let bal = |asset, free: &str| Balance {
            asset,
            free: q(free),
            locked: Qty::ZERO,
        };
        positions.set_balances(v, &[bal(usdt, "10000"), bal(sol, "10")], true);
    }
    let (tx, rx) = bounded("intents", 256, FullPolicy::Backpressure);
    let s = StrategyId(0);
    let names = vec!["binance".to_owned(), "okx".to_owned()];
    Rig {
        bot: Scalper::new(params, &instruments(), &names),
        sink: IntentSink::new(tx, CidMinter::new(1, s), s, SOL_B).with_market_beside(SOL_O, SOL_B),
        env: Env::new(Some(cache.reader()), instruments(), Some(positions.clone()))
            .with_bands(Some(bands.clone())),
        rx,
        writers,
        bands,
        positions,
        band: Band {
            name: "unused".into(),
            max_latency_ns: None,
            min_spread_bps: 0,
            size_multiplier: 1.0,
            throttle: std::time::Duration::ZERO,
        },
        now: START,
        sent: Vec::new(),
        cancels: 0,
    }
}

impl Rig {
    /// Publishes a book on market `k` (0: Binance, 1: OKX).
    fn book(&mut self, k: usize, bid: &str, ask: &str) {
        let level = |p: &str| Level {
            price: px(p),
            qty: q("100"),
        };
        self.writers[k].publish_top(TopOfBook {
            bid: level(bid),
            ask: level(ask),
            valid: true,
            recv_ts: self.now,
            ..TopOfBook::default()
        });
    }

    fn call(&mut self, f: impl FnOnce(&mut Scalper, &mut StrategyCtx<'_>)) -> Vec<NewOrderIntent> {
        let mut cx = StrategyCtx {
            now: self.now,
            book: TopOfBook::default(),
            tick_at: self.now,
            band: &self.band,
            halted: false,
            intents: &mut self.sink,
            env: &mut self.env,
        };
        f(&mut self.bot, &mut cx);
        let mut new = vec![];
        let mut cancels = 0;
        self.rx.drain(256, |i| match i {
            OrderIntent::New(n) => new.push(n),
            _ => cancels += 1,
        });
        self.cancels += cancels;
        self.sent.extend(new.iter().copied());
        new
    }

    fn tick(&mut self) -> Vec<NewOrderIntent> {
        self.call(|b, cx| b.on_tick(cx))
    }

    /// Five mids on market `k` rising (or falling) by `step` each: momentum for an entry.
    fn trend(&mut self, k: usize, from_bid: &str, spread: &str, step: &str, up: bool) -> Vec<NewOrderIntent> {
        let (mut bid, spread, step) = (px(from_bid).units(), px(spread).units(), px(step).units());
        let mut out = vec![];
        for _ in 0..5 {
            let b = Price::from_units(bid);
            self.book(k, &b.to_string(), &Price::from_units(bid + spread).to_string());
            out.extend(self.tick());
            bid += if up { step } else { -step };
        }
        out
    }

    /// The venue fills `o` (all of `qty` at `price`, fee in `fee_asset`), then ends it.
    fn fill(&mut self, o: &NewOrderIntent, qty: &str, price: &str, fee: &str, fee_asset: &str, last: bool) -> Vec<NewOrderIntent> {
        let qty = q(qty);
        let u = OrderUpdate {
            cid: o.cid,
            strategy: StrategyId(0),
            status: if last { OrderStatus::Filled } else { OrderStatus::PartiallyFilled },
            side: o.side,
            price: o.price,
            qty: o.qty,
            filled_qty: qty,
            fill: Some(FillDelta {
                side: o.side,
                qty,
                quote: px(price).notional(qty),
                trade_id: None,
                fee: q(fee),
                fee_asset: AssetCode::new(fee_asset.as_bytes()).unwrap(),
                is_maker: false,
                fees_complete: true,
                paper: false,
            }),
            refused: None,
            fee_correction: None,
            at: self.now,
        };
        self.sink.observe(&u);
        self.call(|b, cx| b.on_order_update(&u, cx))
    }

    /// The venue ends `o` with nothing (more) filled (an IOC that found nothing).
    fn expire(&mut self, o: &NewOrderIntent) {
        let u = OrderUpdate {
            cid: o.cid,
            strategy: StrategyId(0),
            status: OrderStatus::Expired,
            side: o.side,
            price: o.price,
            qty: o.qty,
            filled_qty: Qty::ZERO,
            fill: None,
            refused: None,
            fee_correction: None,
            at: self.now,
        };
        self.sink.observe(&u);
        self.call(|b, cx| b.on_order_update(&u, cx));
    }

    fn advance(&mut self, secs: u64) {
        self.now = self.now.plus_nanos(secs * SEC);
    }
}

/// Both venues in the band of that index (0 aggressive … 3 defensive).
fn set_bands(r: &Rig, binance: u8, okx: u8) {
    r.bands.publish(BINANCE, binance, Some(1));
    r.bands.publish(OKX, okx, Some(1));
}

#[test]
fn an_entry_needs_the_bands_spread_and_momentum_and_goes_ioc_at_the_touch_sized_by_band() {
    let mut r = rig("");
    set_bands(&r, 1, 3); // Binance normal (0.05 %), OKX defensive (0.10 %)
    // Spread 0.06 on ~150 = 0.04 %: below normal's 0.05 %: nothing, however strong the trend.
    assert!(r.trend(0, "150.00", "0.06", "0.05", true).is_empty());
    // Spread 0.08 = 0.053 %: passes normal; the mids kept are rising: buy IOC at the ask of
    // the first such book, 550 × 0.9 = 495 USDT / 150.18 = 3.296 (down to the lot).
    let sent = r.trend(0, "150.10", "0.08", "0.05", true);
    assert_eq!(sent.len(), 1, "{sent:?}");
    let o = sent[0];
    assert_eq!((o.instrument, o.side, o.tif, o.kind), (SOL_B, Side::Buy, TimeInForce::Ioc, OrderKind::Limit));
    assert_eq!((o.price.to_string(), o.qty.to_string()), ("150.18".to_string(), "3.296".to_string()));
    // One trade per symbol: nothing more while it is under way.
    assert!(r.trend(1, "150.30", "0.20", "0.05", true).is_empty());
}

#[test]
fn both_venues_qualify_the_better_band_wins_then_the_wider_spread() {
    // A take-profit wide enough that both venues' edges pay their fees.
    let mut r = rig("take_profit_percent = 0.3");
    set_bands(&r, 1, 0); // Binance normal, OKX aggressive
    // Four mids on each, then the fifth on both before one tick.
    for i in 0..5 {
        let bid = Price::from_units(px("150").units() + i * px("0.05").units());
        let ask_b = Price::from_units(bid.units() + px("0.20").units());
        let ask_o = Price::from_units(bid.units() + px("0.08").units());
        r.book(0, &bid.to_string(), &ask_b.to_string());
        r.book(1, &bid.to_string(), &ask_o.to_string());
        let sent = r.tick();
        if i < 4 {
            assert!(sent.is_empty());
        } else {
            // Binance has the wider spread but OKX the better band: OKX.
            assert_eq!(sent.len(), 1);
            assert_eq!(sent[0].instrument, SOL_O);
            // 600 × 1.0 / 150.28 = 3.992
            assert_eq!(sent[0].qty.to_string(), "3.992");
        }
    }
    // Same band on both: the wider spread (Binance).
    let mut r = rig("take_profit_percent = 0.3");
    set_bands(&r, 0, 0);
    for i in 0..5 {
        let bid = Price::from_units(px("150").units() + i * px("0.05").units());
        r.book(0, &bid.to_string(), &Price::from_units(bid.units() + px("0.20").units()).to_string());
        r.book(1, &bid.to_string(), &Price::from_units(bid.units() + px("0.08").units()).to_string());
        let sent = r.tick();
        if i == 4 {
            assert_eq!(sent[0].instrument, SOL_B);
        }
    }
}

#[test]
fn a_long_exits_by_take_profit_and_its_pnl_is_its_fills() {
    let mut r = rig("take_profit_percent = 0.2\nstop_loss_percent = 0.1");
    set_bands(&r, 0, 3);
    let entry = r.trend(0, "100.00", "0.04", "0.02", true)[0];
    assert_eq!((entry.price.to_string(), entry.qty.to_string()), ("100.12".into(), "5.992".into()));
    // Filled in two parts, fee in SOL: one round trip.
    r.fill(&entry, "3", "100.12", "0.003", "SOL", false);
    r.fill(&entry, "2.992", "100.12", "0.002992", "SOL", true);
    assert_eq!(r.bot.trades_today(), 1);
    // The entry was decided at mid 100.10; take-profit at a mid of 100.3002. Mid 100.30: not
    // yet. 100.31: sell what is held (5.986, on the lot) IOC at the bid less the 10 bp collar.
    r.book(0, "100.28", "100.32");
    assert!(r.tick().is_empty());
    r.book(0, "100.29", "100.33");
    let exit = r.tick();
    assert_eq!(exit.len(), 1);
    let x = exit[0];
    assert_eq!(
        (x.side, x.tif, x.qty.to_string(), x.price.to_string()),
        (Side::Sell, TimeInForce::Ioc, "5.986".into(), "100.19".into())
    );
    r.fill(&x, "5.986", "100.29", "0.24013438", "USDT", true);
    // 5.986 × 100.29 = 600.33594; paid 5.992 × 100.12 = 599.91904; fee 0.24013438 USDT;
    // dust 5.992 − 0.005992 − 5.986 = 0.000008 SOL at 100.29 = 0.00080232.
    // PnL = 600.33594 − 599.91904 − 0.24013438 + 0.00080232 = 0.17756794.
    let t: Vec<_> = r.bot.trades().copied().collect();
    assert_eq!(t.len(), 1);
    assert_eq!(t[0].pnl.0, 1_775_679_400_000_000);
    assert_eq!(t[0].reason, super::signals::ExitReason::TakeProfit);
    assert_eq!(r.bot.trades_today(), 1);
    assert_eq!(r.bot.day_pnl(), 1_775_679_400_000_000);
    let rep = r.bot.report(None);
    assert_eq!((rep.round_trips, rep.fills), (1, 3));
    assert!((rep.realized_pnl - 0.17756794).abs() < 1e-12);
    // The view on /status: each venue's band and sizing, the day, the trade.
    let v = r.bot.detail().unwrap();
    assert_eq!(v["venues"][0]["venue"], "binance");
    assert_eq!(v["venues"][0]["band"], "aggressive");
    assert_eq!(v["venues"][0]["entry_min_spread_percent"], 0.03);
    assert_eq!(v["venues"][0]["entry_size_now"], "600");
    assert_eq!(v["venues"][0]["free_quote"], "10000");
    assert_eq!(v["venues"][1]["band"], "defensive");
    assert_eq!(v["venues"][1]["entry_size_now"], "175");
    assert_eq!(v["day"]["round_trips"], 1);
    assert_eq!(v["day"]["max_round_trips"], 250);
    assert_eq!(v["day"]["max_loss"], "50");
    let t = &v["last_trades"][0];
    assert_eq!(
        (&t["venue"], &t["symbol"], &t["side"], &t["qty"]),
        (&json!("binance"), &json!("SOLUSDT"), &json!("long"), &json!("5.992"))
    );
    assert_eq!((&t["entry"], &t["exit"]), (&json!("100.12"), &json!("100.29")));
    assert_eq!(t["exit_reason"], "take_profit");
    assert_eq!(t["pnl"], 0.17756794);
}

#[test]
fn a_short_sells_held_inventory_and_exits_by_stop_loss() {
    let mut r = rig("");
    set_bands(&r, 0, 3);
    let entry = r.trend(0, "100.10", "0.04", "0.02", false)[0];
    // Sell at the bid: 600 / 100.02 = 5.998, but 95 % of the 10 SOL held caps nothing here.
    assert_eq!((entry.side, entry.price.to_string(), entry.qty.to_string()), (Side::Sell, "100.02".into(), "5.998".into()));
    r.fill(&entry, "5.998", "100.02", "0.59991996", "USDT", true);
    // The mid up 0.1 % from 100.04 = 100.14004: 100.15 stops it; buy back 5.998.
    r.book(0, "100.13", "100.17");
    let x = r.tick()[0];
    assert_eq!((x.side, x.qty.to_string()), (Side::Buy, "5.998".into()));
    r.fill(&x, "5.998", "100.17", "0.005998", "SOL", true);
    let t = *r.bot.trades().next().unwrap();
    assert_eq!(t.reason, super::signals::ExitReason::StopLoss);
    // Sold 599.91996, bought back 600.81966, fee 0.59991996 USDT and 0.005998 SOL valued at
    // the exit's 100.17.
    let want = px("599.91996").units() as i128 * 100_000_000
        - px("600.81966").units() as i128 * 100_000_000
        - px("0.59991996").units() as i128 * 100_000_000
        - q("0.005998").units() as i128 * px("100.17").units() as i128;
    assert_eq!(t.pnl.0, want);
    assert!(t.pnl.0 < 0);
    // A short is capped by the SOL held: with 1 SOL free, 0.95.
    let mut r = rig("");
    set_bands(&r, 0, 3);
    let sol = AssetCode::new(b"SOL").unwrap();
    r.positions.set_balances(BINANCE, &[Balance { asset: sol, free: q("1"), locked: Qty::ZERO }], false);
    let entry = r.trend(0, "100.10", "0.04", "0.02", false)[0];
    assert_eq!(entry.qty.to_string(), "0.95");
}

#[test]
fn the_time_stop_closes_a_flat_trade_after_180_seconds() {
    let mut r = rig("");
    set_bands(&r, 0, 3);
    let entry = r.trend(0, "100.00", "0.04", "0.02", true)[0];
    r.fill(&entry, "5.992", "100.12", "0", "SOL", true);
    r.advance(179);
    r.book(0, "100.10", "100.14");
    assert!(r.tick().is_empty());
    r.advance(1);
    let x = r.tick()[0];
    assert_eq!((x.side, x.qty.to_string()), (Side::Sell, "5.992".into()));
    // The IOC finds only part: the rest is retried after the cooldown, then closed.
    r.fill(&x, "5", "100.10", "0", "USDT", true);
    assert_eq!(r.bot.open_trades(), 1);
    assert!(r.tick().is_empty());
    r.advance(1);
    let rest = r.tick()[0];
    assert_eq!(rest.qty.to_string(), "0.992");
    r.fill(&rest, "0.992", "100.10", "0", "USDT", true);
    let t = *r.bot.trades().next().unwrap();
    assert_eq!(t.reason, super::signals::ExitReason::TimeStop);
    // Bought 5.992 at 100.12, sold at 100.10: −0.02 × 5.992 = −0.11984.
    assert_eq!(t.pnl.0, -1_198_400_000_000_000);
    assert_eq!(t.exit.to_string(), "100.1");
}

#[test]
fn round_trips_count_once_each_and_the_count_resets_at_utc_midnight() {
    let mut r = rig("max_trades_per_day = 2\ncooldown = \"0s\"");
    set_bands(&r, 0, 3);
    let mut last_bid = px("100");
    for _ in 0..2 {
        let entry = r.trend(0, &last_bid.to_string(), "0.04", "0.02", true)[0];
        r.fill(&entry, "1", &entry.price.to_string(), "0", "SOL", false);
        r.fill(&entry, "4.992", &entry.price.to_string(), "0", "SOL", true);
        r.advance(180);
        let x = r.tick()[0];
        r.fill(&x, &x.qty.to_string(), &x.price.to_string(), "0", "USDT", true);
        last_bid = Price::from_units(x.price.units() + px("0.5").units());
    }
    assert_eq!(r.bot.trades_today(), 2, "four fills per trip, two trips");
    // The day's maximum is reached: no entry, and the report says why.
    assert!(r.trend(0, "110", "0.04", "0.02", true).is_empty());
    assert_eq!(r.bot.stopped(), Some(StopReason::MaxTradesPerDay));
    assert_eq!(r.bot.report(None).entries_stopped, Some("max_trades_per_day reached"));
    // Past 00:00 UTC both reset and entries resume.
    r.advance(3_600);
    let sent = r.trend(0, "120", "0.04", "0.02", true);
    assert_eq!(sent.len(), 1);
    assert_eq!((r.bot.trades_today(), r.bot.stopped()), (0, None));
}

#[test]
fn the_daily_loss_limit_stops_entries_and_the_loss_shrinks_sizes_before() {
    let mut r = rig("max_daily_loss = \"2\"\ncooldown = \"0s\"");
    set_bands(&r, 0, 3);
    let entry = r.trend(0, "100.00", "0.04", "0.02", true)[0];
    assert_eq!(entry.qty.to_string(), "5.992");
    r.fill(&entry, "5.992", "100.12", "0", "SOL", true);
    // Stop-loss (mid 99.92, down 0.18 % from 100.10): sold at 99.90, loss 0.22 × 5.992 =
    // 1.31824, fee 0.1 USDT.
    r.book(0, "99.90", "99.94");
    let x = r.tick()[0];
    r.fill(&x, "5.992", "99.90", "0.1", "USDT", true);
    assert_eq!(r.bot.day_pnl(), -14_182_400_000_000_000);
    // Drawdown 1.41824 / 2 → 1 − 0.6 × 0.70912 = 0.574528: 600 × that = 344.7168 / 100.12.
    let second = r.trend(0, "100.00", "0.04", "0.02", true)[0];
    assert_eq!(second.qty.to_string(), "3.443");
    r.fill(&second, "3.443", "100.12", "0", "SOL", true);
    r.book(0, "99.90", "99.94");
    let x = r.tick()[0];
    r.fill(&x, "3.443", "99.90", "0", "USDT", true);
    // −1.41824 − 0.22 × 3.443 = −2.17570: beyond 2, entries stop.
    assert!(r.trend(0, "100.00", "0.04", "0.02", true).is_empty());
    assert_eq!(r.bot.stopped(), Some(StopReason::MaxDailyLoss));
    assert_eq!(r.bot.report(None).entries_stopped, Some("max_daily_loss reached"));
}

#[test]
fn entries_whose_edge_cannot_pay_the_fees_are_skipped_and_counted() {
    // Take-profit 0.08 % less the 0.04 % spread crossed cannot pay Binance's 0.04 % taker
    // twice: skipped, counted.
    let mut r = rig("take_profit_percent = 0.08\nfees = { binance = { maker_percent = -0.01, taker_percent = 0.04 } }");
    set_bands(&r, 0, 0);
    assert!(r.trend(0, "100.00", "0.04", "0.02", true).is_empty());
    assert_eq!(r.bot.skipped_for_fees(), 1);
    assert_eq!(r.bot.report(None).skipped, 1);
    // Post-only entries pay the maker rate (a rebate): the same edge pays.
    let mut r = rig("take_profit_percent = 0.08\npost_only = true");
    set_bands(&r, 0, 3);
    let sent = r.trend(0, "100.00", "0.04", "0.02", true);
    assert_eq!((sent[0].kind, sent[0].price.to_string()), (OrderKind::LimitMaker, "100.08".into()));
    // Unfilled after the entry timeout (2 s): cancelled, once.
    r.advance(1);
    r.tick();
    assert_eq!(r.cancels, 0);
    r.advance(1);
    r.tick();
    r.tick();
    assert_eq!(r.cancels, 1);
    let entry = sent[0];
    r.expire(&entry);
    assert_eq!(r.bot.open_trades(), 0);
    assert!(r.sink.open_orders().is_empty());
}
