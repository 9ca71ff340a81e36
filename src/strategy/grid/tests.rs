//! The grid bot with literal prices: what it sends for each market move and fill.

use std::time::Duration;

use super::{GridBot, GridParams};
use crate::book::TopOfBook;
use crate::gateway::{CidMinter, NewOrderIntent, OrderIntent, OrderUpdate};
use crate::latency::bands::Band;
use crate::runtime::{FullPolicy, Rx, bounded};
use crate::strategy::api::{Env, IntentSink, Strategy, StrategyCtx};
use crate::types::{AssetCode, ClientOrderId, FillDelta, Instrument, InstrumentId, Notional};
use crate::types::{OrderStatus, Price, Qty, Side, StrategyId, TradeEvent, UnixNanos, VenueId};

fn px(s: &str) -> Price {
    Price::parse(s).unwrap()
}
fn q(s: &str) -> Qty {
    Qty::parse(s).unwrap()
}

struct Rig {
    bot: GridBot,
    sink: IntentSink,
    env: Env,
    rx: Rx<OrderIntent>,
    band: Band,
    now: UnixNanos,
    /// Live orders as the "venue" holds them: cid → (side, price, qty, filled).
    orders: Vec<(ClientOrderId, Side, Price, Qty, Qty)>,
    /// Order ends the venue confirmed, delivered on the next `flush`.
    pending: Vec<OrderUpdate>,
}

fn instrument() -> Instrument {
    let mut i = Instrument::new(
        InstrumentId(0),
        VenueId(0),
        "SOLUSDT",
        "SOL",
        "USDT",
        px("0.01"),
        q("0.001"),
    )
    .unwrap();
    i.min_notional = px("1");
    i
}

fn rig(params: &str) -> Rig {
    let params = GridParams::from_table(&params.parse().unwrap()).unwrap();
    let (tx, rx) = bounded("intents", 256, FullPolicy::Backpressure);
    Rig {
        bot: GridBot::new(params, instrument()),
        sink: IntentSink::new(
            tx,
            CidMinter::new(1, StrategyId(0)),
            StrategyId(0),
            InstrumentId(0),
        ),
        env: Env::detached(vec![instrument()]),
        rx,
        band: Band {
            name: "normal".into(),
            max_latency_ns: None,
            min_spread_bps: 0,
            size_multiplier: 1.0,
            throttle: Duration::ZERO,
        },
        now: UnixNanos(1_000_000_000_000),
        orders: Vec::new(),
        pending: Vec::new(),
    }
}

/// What an intent asks for, in literal form.
#[derive(Debug, PartialEq)]
enum Sent {
    New(Side, &'static str, &'static str),
    Cancel,
    Replace(Side, &'static str, &'static str),
    /// Amended in place (the same order): its new price and quantity.
    Amend(&'static str, &'static str),
}

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

impl Rig {
    fn call(&mut self, f: impl FnOnce(&mut GridBot, &mut StrategyCtx<'_>)) -> Vec<Sent> {
        self.now = self.now.plus_nanos(1_000_000);
        let mut cx = StrategyCtx {
            now: self.now,
            book: TopOfBook::default(),
            tick_at: UnixNanos::ZERO,
            band: &self.band,
            halted: false,
            intents: &mut self.sink,
            env: &mut self.env,
        };
        f(&mut self.bot, &mut cx);
        let mut out = vec![];
        let mut intents = vec![];
        self.rx.drain(256, |i| intents.push(i));
        for i in intents {
            let show =
                |n: &NewOrderIntent| (n.side, leak(n.price.to_string()), leak(n.qty.to_string()));
            match i {
                OrderIntent::New(n) => {
                    self.orders.push((n.cid, n.side, n.price, n.qty, Qty::ZERO));
                    let (s, p, qq) = show(&n);
                    out.push(Sent::New(s, p, qq));
                }
                OrderIntent::Cancel { cid, .. } => {
                    self.end(cid, OrderStatus::Cancelled);
                    out.push(Sent::Cancel);
                }
                OrderIntent::Replace { cid, new } => {
                    self.end(cid, OrderStatus::Cancelled);
                    self.orders
                        .push((new.cid, new.side, new.price, new.qty, Qty::ZERO));
                    let (s, p, qq) = show(&new);
                    out.push(Sent::Replace(s, p, qq));
                }
                OrderIntent::CancelAll { .. } => out.push(Sent::Cancel),
                OrderIntent::Amend {
                    cid, price, qty, ..
                } => {
                    // The venue amends at once; its confirmation comes on the next call.
                    if let Some(o) = self.orders.iter_mut().find(|o| o.0 == cid) {
                        o.2 = price;
                        o.3 = qty;
                        let u = OrderUpdate {
                            cid,
                            strategy: StrategyId(0),
                            status: OrderStatus::Acked,
                            side: o.1,
                            price,
                            qty,
                            filled_qty: o.4,
                            fill: None,
                            refused: None,
                            fee_correction: None,
                            at: self.now,
                        };
                        self.sink.observe(&u);
                        self.pending.push(u);
                    }
                    out.push(Sent::Amend(leak(price.to_string()), leak(qty.to_string())));
                }
            }
        }
        out
    }

    /// A trade print at `price`, then a tick.
    fn market(&mut self, price: &str) -> Vec<Sent> {
        let t = TradeEvent {
            venue: VenueId(0),
            instrument: InstrumentId(0),
            trade_id: crate::types::TradeId::from_u64(1),
            price: px(price),
            qty: q("1"),
            aggressor: Side::Buy,
            trade_time: self.now,
            exchange_ts: self.now,
            recv_ts: self.now,
        };
        self.call(|b, cx| {
            b.on_trade(&t, cx);
            b.on_tick(cx);
        })
    }

    fn update(&mut self, u: OrderUpdate) -> Vec<Sent> {
        self.sink.observe(&u);
        self.call(|b, cx| b.on_order_update(&u, cx))
    }

    /// The venue ends an order (its cancel confirmation).
    fn end(&mut self, cid: ClientOrderId, status: OrderStatus) {
        if let Some(k) = self.orders.iter().position(|o| o.0 == cid) {
            let o = self.orders.remove(k);
            let u = OrderUpdate {
                cid,
                strategy: StrategyId(0),
                status,
                side: o.1,
                price: o.2,
                qty: o.3,
                filled_qty: o.4,
                fill: None,
                refused: None,
                fee_correction: None,
                at: self.now,
            };
            self.sink.observe(&u);
            // Delivered on the next call, as the gateway would.
            self.pending.push(u);
        }
    }

    /// The live order on `side` fills `qty` at its price, fee `fee` in `fee_asset`.
    fn fill(&mut self, side: Side, qty: &str, fee: &str, fee_asset: &str) -> Vec<Sent> {
        let mut out = self.flush();
        let k = self
            .orders
            .iter()
            .position(|o| o.1 == side)
            .expect("a live order on that side");
        let (cid, _, price, total, filled) = self.orders[k];
        let now_filled = Qty::from_units(filled.units() + q(qty).units());
        let status = if now_filled == total {
            self.orders.remove(k);
            OrderStatus::Filled
        } else {
            self.orders[k].4 = now_filled;
            OrderStatus::PartiallyFilled
        };
        let u = OrderUpdate {
            cid,
            strategy: StrategyId(0),
            status,
            side,
            price,
            qty: total,
            filled_qty: now_filled,
            fill: Some(FillDelta {
                side,
                qty: q(qty),
                quote: Notional::of(price, q(qty)),
                trade_id: None,
                fee: q(fee),
                fee_asset: AssetCode::new(fee_asset.as_bytes()).unwrap(),
                is_maker: true,
                fees_complete: true,
                paper: false,
            }),
            refused: None,
            fee_correction: None,
            at: self.now,
        };
        out.extend(self.update(u));
        out.extend(self.flush());
        out
    }

    /// Delivers ends the venue confirmed (cancels of replaced orders).
    fn flush(&mut self) -> Vec<Sent> {
        let mut out = vec![];
        while !self.pending.is_empty() {
            let u = self.pending.remove(0);
            out.extend(self.call(|b, cx| b.on_order_update(&u, cx)));
        }
        out
    }

    fn live(&self) -> Vec<(Side, String, String)> {
        self.orders
            .iter()
            .map(|o| (o.1, o.2.to_string(), o.3.saturating_sub(o.4).to_string()))
            .collect()
    }
}

const BASE: &str = r#"
    buy_price = "100"
    sell_price = "110"
    quantity = "1"
"#;

fn s(side: Side, p: &'static str, qty: &'static str) -> Sent {
    Sent::New(side, p, qty)
}

#[test]
fn buys_first_then_sells_what_filled_and_books_the_round_trip() {
    let mut r = rig(BASE);
    assert_eq!(r.market("105"), vec![s(Side::Buy, "100", "1")]);
    // Quiet market: nothing more.
    assert!(r.market("105.2").is_empty());
    assert_eq!(
        r.fill(Side::Buy, "1", "0.001", "SOL"),
        vec![s(Side::Sell, "110", "1")]
    );
    assert!(r.fill(Side::Sell, "1", "0.11", "USDT").is_empty());
    let trips = r.bot.round_trips();
    assert_eq!(trips.len(), 1);
    // 110 − 100 − 0.11 USDT − 0.001 SOL × 110 = 9.78
    assert_eq!(trips[0].pnl, Notional::from_price(px("9.78")));
    assert_eq!(trips[0].qty, q("1"));
    // Without infinite_loop the level is done.
    assert!(r.market("100").is_empty());
    let rep = r.bot.report(Some(px("100")));
    assert_eq!((rep.round_trips, rep.fills), (1, 2));
    assert!((rep.realized_pnl - 9.78).abs() < 1e-9);
    assert!(rep.last_fill.is_some());
}

#[test]
fn sell_first_buys_back() {
    let mut r = rig(&format!("{BASE}\nfirst_side = \"sell\""));
    assert_eq!(r.market("105"), vec![s(Side::Sell, "110", "1")]);
    assert_eq!(
        r.fill(Side::Sell, "1", "0", "USDT"),
        vec![s(Side::Buy, "100", "1")]
    );
    assert!(r.fill(Side::Buy, "1", "0", "SOL").is_empty());
    assert_eq!(r.bot.round_trips()[0].pnl, Notional::from_price(px("10")));
}

#[test]
fn default_prices_are_two_percent_around_the_last_price_on_the_tick() {
    let mut r = rig("quantity = \"1\"");
    assert_eq!(r.market("123.457"), vec![s(Side::Buy, "120.98", "1")]);
    // 123.457 × 1.02 = 125.92614, up to the tick.
    assert_eq!(r.bot.prices(), Some((px("120.98"), px("125.93"))));
}

#[test]
fn partial_fills_are_answered_by_what_filled() {
    let mut r = rig(BASE);
    r.market("105");
    assert_eq!(
        r.fill(Side::Buy, "0.4", "0", "SOL"),
        vec![s(Side::Sell, "110", "0.4")]
    );
    assert!(r.bot.round_trips().is_empty());
    assert_eq!(
        r.fill(Side::Buy, "0.6", "0", "SOL"),
        vec![s(Side::Sell, "110", "0.6")]
    );
    assert!(r.fill(Side::Sell, "0.4", "0", "USDT").is_empty());
    assert!(r.bot.round_trips().is_empty(), "0.6 is still to sell");
    assert!(r.fill(Side::Sell, "0.6", "0", "USDT").is_empty());
    assert_eq!(r.bot.round_trips().len(), 1);
    assert_eq!(r.bot.round_trips()[0].qty, q("1"));
    assert_eq!(r.bot.round_trips()[0].pnl, Notional::from_price(px("10")));
}

#[test]
fn infinite_loop_keeps_cycling() {
    let mut r = rig(&format!("{BASE}\ninfinite_loop = true"));
    for n in 1..=3 {
        assert_eq!(r.market("105"), vec![s(Side::Buy, "100", "1")]);
        r.fill(Side::Buy, "1", "0", "SOL");
        r.fill(Side::Sell, "1", "0", "USDT");
        assert_eq!(r.bot.round_trips().len(), n);
    }
    assert_eq!(r.bot.realized(), Notional::from_price(px("30")));
}

#[test]
fn an_unfilled_pair_trails_the_market() {
    let mut r = rig(&format!("{BASE}\ntrailing_percent = 1"));
    assert_eq!(r.market("105"), vec![s(Side::Buy, "100", "1")]);
    // 0.48 % from where it was placed: stays.
    assert!(r.market("105.5").is_empty());
    // 1.05 %: both prices move up by 1.1.
    assert_eq!(
        r.market("106.1"),
        vec![Sent::Replace(Side::Buy, "101.1", "1")]
    );
    assert_eq!(r.bot.prices(), Some((px("101.1"), px("111.1"))));
    r.flush();
    assert_eq!(r.live(), vec![(Side::Buy, "101.1".into(), "1".into())]);
    // Down again past 1 % of the new anchor (106.1 → 104.9): follows down.
    assert_eq!(
        r.market("104.9"),
        vec![Sent::Replace(Side::Buy, "99.9", "1")]
    );
    r.flush();
    // Once filled, the pair stops trailing and the exit is at the moved sell price.
    assert_eq!(
        r.fill(Side::Buy, "1", "0", "SOL"),
        vec![s(Side::Sell, "109.9", "1")]
    );
    assert!(r.market("120").is_empty());
}

#[test]
fn on_a_venue_that_amends_in_place_the_pair_trails_with_one_order() {
    let mut r = rig(&format!("{BASE}\ntrailing_percent = 1"));
    r.sink = std::mem::replace(
        &mut r.sink,
        IntentSink::new(
            bounded("unused", 1, FullPolicy::Backpressure).0,
            CidMinter::new(9, StrategyId(0)),
            StrategyId(0),
            InstrumentId(0),
        ),
    )
    .with_amends_in_place(InstrumentId(0));
    assert_eq!(r.market("105"), vec![s(Side::Buy, "100", "1")]);
    let first = r.orders[0].0;
    assert_eq!(r.market("106.1"), vec![Sent::Amend("101.1", "1")]);
    r.flush();
    assert_eq!(r.live(), vec![(Side::Buy, "101.1".into(), "1".into())]);
    assert_eq!(r.orders[0].0, first, "the same order, amended");
    assert_eq!(r.market("104.9"), vec![Sent::Amend("99.9", "1")]);
    r.flush();
    // Filled once, whole: the exit at the moved sell price, one order's worth.
    assert_eq!(
        r.fill(Side::Buy, "1", "0", "SOL"),
        vec![s(Side::Sell, "109.9", "1")]
    );
}

#[test]
fn several_levels_each_ping_pong_on_their_own() {
    let mut r = rig(&format!("{BASE}\nlevels = 3\nlevel_spacing = \"1.5\""));
    assert_eq!(
        r.market("105"),
        vec![
            s(Side::Buy, "100", "1"),
            s(Side::Buy, "98.5", "1"),
            s(Side::Buy, "97", "1")
        ]
    );
    // The market falls to level 1: its buy fills and its sell goes to 111.5.
    let k = r.orders.iter().position(|o| o.2 == px("98.5")).unwrap();
    let o = r.orders.remove(k);
    r.orders.insert(0, o);
    assert_eq!(
        r.fill(Side::Buy, "1", "0", "SOL"),
        vec![s(Side::Sell, "111.5", "1")]
    );
    assert_eq!(r.bot.round_trips().len(), 0);
}

#[test]
fn a_refused_first_order_is_tried_again_after_a_pause() {
    let mut r = rig(BASE);
    r.market("105");
    let (cid, side, price, qty, _) = r.orders.remove(0);
    let u = OrderUpdate {
        cid,
        strategy: StrategyId(0),
        status: OrderStatus::Rejected,
        side,
        price,
        qty,
        filled_qty: Qty::ZERO,
        fill: None,
        refused: Some(crate::gateway::Refusal::Grid),
        fee_correction: None,
        at: r.now,
    };
    assert!(r.update(u).is_empty());
    assert!(r.market("105").is_empty(), "waits before trying again");
    r.now = r.now.plus_nanos(2_000_000_000);
    assert_eq!(r.market("105"), vec![s(Side::Buy, "100", "1")]);
}

#[test]
fn a_position_corrected_from_the_venue_stops_the_grid_until_resumed() {
    let mut r = rig(&format!("{BASE}\ninfinite_loop = true"));
    assert_eq!(r.market("105"), vec![s(Side::Buy, "100", "1")]);
    assert_eq!(
        r.fill(Side::Buy, "1", "0", "SOL"),
        vec![s(Side::Sell, "110", "1")]
    );
    // Another instrument's correction is not this grid's.
    assert!(
        r.call(|b, cx| b.on_position_corrected(InstrumentId(7), cx))
            .is_empty()
    );
    assert_eq!(r.bot.report(None).entries_stopped, None);
    // The venue liquidated the long: the sell exit would now open a short. It is cancelled,
    // and nothing is placed while the market moves or the cancel is confirmed.
    assert_eq!(
        r.call(|b, cx| b.on_position_corrected(InstrumentId(0), cx)),
        vec![Sent::Cancel]
    );
    assert!(r.flush().is_empty());
    assert!(r.market("99").is_empty());
    assert!(r.market("111").is_empty());
    assert!(r.live().is_empty());
    assert!(r.bot.report(None).entries_stopped.is_some());
    // Resumed by the operator: a new grid, laid out afresh.
    r.bot.set_paused(false);
    assert_eq!(r.bot.report(None).entries_stopped, None);
    assert_eq!(r.market("111"), vec![s(Side::Buy, "100", "1")]);
}

impl Rig {
    /// The venue's fees of `cid` (which traded at `price`) learned after its fills, as the
    /// gateway hands them on: `delta` in `asset`, `in_quote` its value in the quote when the
    /// venue rated it.
    fn late_fee(&mut self, cid: ClientOrderId, price: &str, asset: &str, delta: &str, in_quote: Option<&str>) {
        let signed = |s: &str| match s.strip_prefix('-') {
            Some(abs) => Qty::from_units(-q(abs).units()),
            None => q(s),
        };
        let fix = crate::gateway::FeeCorrection {
            asset: AssetCode::new(asset.as_bytes()).unwrap(),
            delta: signed(delta),
            in_quote: in_quote.map(signed),
        };
        let u = OrderUpdate {
            cid,
            strategy: StrategyId(0),
            status: OrderStatus::Filled,
            side: Side::Buy,
            price: px(price),
            qty: q("1"),
            filled_qty: q("1"),
            fill: None,
            refused: None,
            fee_correction: Some(fix),
            at: self.now,
        };
        self.call(|b, cx| b.on_fee_correction(&u, fix, cx));
    }

    fn live_cid(&self, side: Side) -> ClientOrderId {
        self.orders.iter().find(|o| o.1 == side).expect("a live order").0
    }
}

#[test]
fn fees_learned_after_the_fills_reach_the_trip_they_belong_to() {
    // CoinDCX style: fills come without fees, each order's fee (INR, rated by the venue at
    // 89 INR per USDT) right after.
    let mut r = rig(BASE);
    r.market("105");
    let buy = r.live_cid(Side::Buy);
    assert_eq!(
        r.fill(Side::Buy, "1", "0", "INR"),
        vec![s(Side::Sell, "110", "1")]
    );
    // The buy ended; its fee goes to the trip in progress: 8.9 INR = 0.1 USDT, and a base
    // fee of 0.001 SOL.
    r.late_fee(buy, "100", "INR", "8.9", Some("0.1"));
    r.late_fee(buy, "100", "SOL", "0.001", None);
    // A fee in an asset neither base nor rated in the quote is left to the engine's records.
    r.late_fee(buy, "100", "BNB", "5", None);
    let sell = r.live_cid(Side::Sell);
    assert!(r.fill(Side::Sell, "1", "0", "INR").is_empty());
    let trips = r.bot.round_trips();
    // 110 − 100 − 0.1 USDT − 0.001 SOL × 110 (the exit's average price) = 9.79
    assert_eq!(trips[0].pnl, Notional::from_price(px("9.79")));
    assert_eq!(r.bot.realized(), Notional::from_price(px("9.79")));
    // The sell's fee arrives after the trip completed: the trip and the realized total give
    // it up (9.79 − 0.11).
    r.late_fee(sell, "110", "INR", "9.79", Some("0.11"));
    let t = r.bot.round_trips()[0];
    assert_eq!(
        (t.quote_fees, t.base_fees, t.pnl),
        (q("0.21"), q("0.001"), Notional::from_price(px("9.68")))
    );
    assert_eq!(r.bot.realized(), Notional::from_price(px("9.68")));
    // A correction taking a fee back (negative) is given back the same way.
    r.late_fee(sell, "110", "INR", "-0.89", Some("-0.01"));
    assert_eq!(r.bot.realized(), Notional::from_price(px("9.69")));
    assert_eq!(r.bot.round_trips()[0].quote_fees, q("0.2"));
}
