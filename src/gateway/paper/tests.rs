//! Paper fill rules on scripted books and prints: crossing on arrival, partial fills against
//! short depth, resting then filling on a trade-through, the queue at an exact price,
//! cancel, replace, fees and balances, refusals, and no fill counted twice.

use std::sync::Arc;
use std::time::Duration;

use super::*;
use crate::book::{BookCache, CacheWriter, L2Book, Level};
use crate::config::{OrderTransport, RiskLimits, VenueKind};
use crate::gateway::CidMinter;
use crate::risk::{KillSwitch, Rule};
use crate::runtime::{FullPolicy, bounded};
use crate::types::VenueId;

const INST: InstrumentId = InstrumentId(0);
const S0: StrategyId = StrategyId(0);
const START: UnixNanos = UnixNanos(1_700_000_000_000_000_000);

fn px(s: &str) -> Price {
    Price::parse(s).unwrap()
}
fn q(s: &str) -> Qty {
    Qty::parse(s).unwrap()
}

struct Harness {
    gw: PaperGateway,
    writer: CacheWriter,
    _cache: Arc<BookCache>,
    intents: Tx<OrderIntent>,
    trades: Tx<TradeEvent>,
    updates: Rx<OrderUpdate>,
    minter: CidMinter,
    now: UnixNanos,
    seen: Vec<OrderUpdate>,
}

impl Harness {
    fn new(limits: RiskLimits) -> Self {
        Self::with(limits, |_| {})
    }

    /// A harness whose instrument `edit` changes first (a perpetual's contract and margin).
    fn with(limits: RiskLimits, edit: impl FnOnce(&mut Instrument)) -> Self {
        let venue = VenueConfig {
            id: VenueId(0),
            name: "binance".into(),
            kind: VenueKind::BinanceSpot,
            ws_url: "ws://127.0.0.1:1".into(),
            rest_url: "http://127.0.0.1:1".into(),
            ws_api_url: None,
            order_transport: OrderTransport::Rest,
            streams: vec![],
            credentials: None,
            recv_window: Duration::from_secs(5),
            cancel_unknown_orders: false,
            private_ws_url: None,
            demo_trading: false,
            fills_poll: None,
            book_stale_after: None,
            margin_currency: None,
        };
        let inst = Instrument::new(
            INST,
            VenueId(0),
            "BTCUSDT",
            "BTC",
            "USDT",
            px("0.01"),
            q("0.001"),
        )
        .unwrap();
        let mut inst = inst;
        edit(&mut inst);
        let cache = BookCache::new(1);
        let writer = cache.writer(INST).unwrap();
        let (intents, intents_rx) = bounded("intents", 64, FullPolicy::Backpressure);
        let (trades, trades_rx) = bounded("trades", 64, FullPolicy::DropNewest);
        let (updates_tx, updates) = bounded("updates", 1024, FullPolicy::Backpressure);
        let risk = RiskEngine::new(
            RiskLimits::default(),
            &[(limits, INST)],
            1,
            KillSwitch::default(),
            START,
        )
        .with_instrument_specs(std::slice::from_ref(&inst));
        let run_start_ms = START.as_millis();
        let gw = PaperGateway::new(PaperSpec {
            venue,
            instruments: vec![inst],
            intents: intents_rx,
            trades: trades_rx,
            updates: vec![Some(updates_tx)],
            risk,
            book: cache.reader(),
            fees: PaperConfig {
                maker_fee: px("0.001"),
                taker_fee: px("0.002"),
            },
            balances: vec![Some((INST, q("2"), q("1000")))],
            snapshots: None,
            run_start_ms,
            cancel_on_stop: vec![true],
            snapshot_interval: Duration::from_secs(1),
            persist: None,
            recovered: vec![],
        });
        Self {
            gw,
            writer,
            _cache: cache,
            intents,
            trades,
            updates,
            minter: CidMinter::new(run_start_ms, S0),
            now: START,
            seen: Vec::new(),
        }
    }

    /// Publishes a book: `(price, qty)` levels per side.
    fn book(&mut self, bids: &[(&str, &str)], asks: &[(&str, &str)]) {
        let mut b = L2Book::with_capacity(64);
        let lv = |l: &[(&str, &str)]| -> Vec<Level> {
            l.iter()
                .map(|(p, s)| Level {
                    price: px(p),
                    qty: q(s),
                })
                .collect()
        };
        b.apply_snapshot(1, lv(bids), lv(asks));
        self.writer.publish(&b, self.now, self.now);
    }

    fn step(&mut self) -> Vec<OrderUpdate> {
        self.now = self.now.plus_nanos(1_000_000);
        self.gw.step(self.now);
        let mut out = Vec::new();
        self.updates.drain(1024, |u| out.push(u));
        self.seen.extend(out.iter().copied());
        out
    }

    fn new_order(
        &mut self,
        side: Side,
        price: &str,
        qty: &str,
        kind: OrderKind,
        tif: TimeInForce,
    ) -> ClientOrderId {
        let cid = self.minter.mint();
        let i = self.intent(cid, side, price, qty, kind, tif);
        self.intents.send(OrderIntent::New(i)).unwrap();
        cid
    }

    fn intent(
        &self,
        cid: ClientOrderId,
        side: Side,
        price: &str,
        qty: &str,
        kind: OrderKind,
        tif: TimeInForce,
    ) -> NewOrderIntent {
        NewOrderIntent {
            reduce_only: false,
            cid,
            strategy: S0,
            instrument: INST,
            side,
            kind,
            tif,
            price: px(price),
            qty: q(qty),
            tick_at: self.now,
        }
    }

    fn limit(&mut self, side: Side, price: &str, qty: &str) -> ClientOrderId {
        self.new_order(side, price, qty, OrderKind::Limit, TimeInForce::Gtc)
    }

    fn print(&mut self, id: u64, price: &str, qty: &str, aggressor: Side) {
        let t = TradeEvent {
            venue: VenueId(0),
            instrument: INST,
            trade_id: id.into(),
            price: px(price),
            qty: q(qty),
            aggressor,
            trade_time: self.now,
            exchange_ts: self.now,
            recv_ts: self.now,
        };
        self.trades.send(t).unwrap();
    }

    fn fills_of(&self, cid: ClientOrderId) -> Vec<FillDelta> {
        self.seen
            .iter()
            .filter(|u| u.cid == cid)
            .filter_map(|u| u.fill)
            .collect()
    }

    fn status(&self, cid: ClientOrderId) -> OrderStatus {
        self.gw.order(&cid).unwrap().status
    }
}

use crate::types::FillDelta;

#[test]
fn a_crossing_order_takes_the_levels_it_crosses_with_the_taker_fee() {
    let mut h = Harness::new(RiskLimits::default());
    h.book(
        &[("99.99", "1")],
        &[("100.00", "0.5"), ("100.01", "1"), ("100.02", "5")],
    );
    let cid = h.limit(Side::Buy, "100.01", "1");
    let ups = h.step();
    let statuses: Vec<_> = ups.iter().map(|u| u.status).collect();
    assert_eq!(
        statuses,
        [
            OrderStatus::Sent,
            OrderStatus::Acked,
            OrderStatus::PartiallyFilled,
            OrderStatus::Filled
        ]
    );
    let fills = h.fills_of(cid);
    assert_eq!(fills.len(), 2);
    assert_eq!(
        (fills[0].qty, fills[0].quote),
        (q("0.5"), Notional::of(px("100.00"), q("0.5")))
    );
    assert_eq!(
        (fills[1].qty, fills[1].quote),
        (q("0.5"), Notional::of(px("100.01"), q("0.5")))
    );
    for f in &fills {
        assert!(f.paper, "a paper fill is marked paper");
        assert!(!f.is_maker);
        assert_eq!(
            f.fee_asset.as_str(),
            "BTC",
            "a buy pays its fee in the base asset"
        );
        assert_eq!(f.fee, q("0.001"), "0.2 % taker fee of 0.5");
    }
    assert_ne!(
        fills[0].trade_id, fills[1].trade_id,
        "engine-minted trade ids are unique"
    );
    assert!(h.gw.matcher.resting().is_empty());
    // Base: 2 + 1 - fees; quote: 1000 - 50 - 50.005; nothing left locked.
    let ((b, bl), (qt, ql)) = h.gw.wallet(S0).unwrap();
    assert_eq!((b, bl), (q("2.998").units(), 0));
    assert_eq!((qt, ql), (q("899.995").units(), 0));
}

#[test]
fn short_depth_fills_partly_and_the_rest_rests() {
    let mut h = Harness::new(RiskLimits::default());
    h.book(&[("99.98", "1")], &[("100.00", "0.3")]);
    let cid = h.limit(Side::Buy, "100.00", "1");
    h.step();
    assert_eq!(h.status(cid), OrderStatus::PartiallyFilled);
    let r = *h.gw.matcher.get(&cid).expect("the rest rests");
    assert_eq!(r.leaves, q("0.7"));
    assert_eq!(r.queue_ahead, Qty::ZERO, "no bid at 100.00 when it rested");
    // The unfilled 0.7 holds its quote: 70.
    let (_, (_, locked)) = h.gw.wallet(S0).unwrap();
    assert_eq!(locked, q("70").units());
}

#[test]
fn a_resting_order_fills_when_the_market_trades_through_it() {
    let mut h = Harness::new(RiskLimits::default());
    h.book(&[("99.99", "2")], &[("100.01", "2")]);
    let cid = h.limit(Side::Buy, "99.98", "1");
    h.step();
    assert_eq!(h.status(cid), OrderStatus::Acked);
    // Prints above the bid do not reach it.
    h.print(1, "99.99", "5", Side::Sell);
    h.step();
    assert!(h.fills_of(cid).is_empty());
    // A print strictly below it fills it, up to the print's quantity, at its own price.
    h.print(2, "99.97", "0.4", Side::Sell);
    h.step();
    let f = h.fills_of(cid);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].qty, q("0.4"));
    assert_eq!(f[0].quote, Notional::of(px("99.98"), q("0.4")));
    assert!(f[0].is_maker && f[0].paper);
    assert_eq!(f[0].fee, q("0.0004"), "0.1 % maker fee");
    h.print(3, "99.90", "3", Side::Buy);
    h.step();
    assert_eq!(h.status(cid), OrderStatus::Filled);
    assert_eq!(h.gw.order(&cid).unwrap().filled_qty, q("1"));
    assert!(h.gw.matcher.resting().is_empty());
}

#[test]
fn at_its_exact_price_the_queue_ahead_trades_first() {
    let mut h = Harness::new(RiskLimits::default());
    h.book(&[("99.99", "2")], &[("100.01", "2")]);
    let cid = h.limit(Side::Buy, "99.99", "1");
    h.step();
    assert_eq!(h.gw.matcher.get(&cid).unwrap().queue_ahead, q("2"));
    h.print(1, "99.99", "1.5", Side::Sell);
    h.step();
    assert!(h.fills_of(cid).is_empty(), "1.5 of the 2 ahead traded");
    // A buyer's print at our price is not against our side.
    h.print(2, "99.99", "5", Side::Buy);
    h.step();
    assert!(h.fills_of(cid).is_empty());
    h.print(3, "99.99", "1", Side::Sell);
    h.step();
    let f = h.fills_of(cid);
    assert_eq!(f.iter().map(|f| f.qty).collect::<Vec<_>>(), [q("0.5")]);
    h.print(4, "99.99", "3", Side::Sell);
    h.step();
    assert_eq!(h.status(cid), OrderStatus::Filled);
    assert_eq!(h.fills_of(cid).len(), 2);
}

#[test]
fn beyond_the_published_depth_the_queue_is_unknown_and_exact_prints_never_fill() {
    let mut h = Harness::new(RiskLimits::default());
    let bids: Vec<(String, String)> = (0..10)
        .map(|k| (format!("{}.00", 99 - k), "1".to_owned()))
        .collect();
    let bids: Vec<(&str, &str)> = bids.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    h.book(&bids, &[("100.01", "1")]);
    let cid = h.limit(Side::Buy, "80.00", "1");
    h.step();
    assert_eq!(h.gw.matcher.get(&cid).unwrap().queue_ahead, Qty::MAX);
    h.print(1, "80.00", "100", Side::Sell);
    h.step();
    assert!(h.fills_of(cid).is_empty());
    h.print(2, "79.99", "0.25", Side::Sell);
    h.step();
    assert_eq!(
        h.fills_of(cid)[0].qty,
        q("0.25"),
        "a trade-through still fills"
    );
}

#[test]
fn one_print_is_shared_best_price_first() {
    let mut h = Harness::new(RiskLimits::default());
    h.book(&[("99.00", "1")], &[("101.00", "1")]);
    let low = h.limit(Side::Sell, "100.50", "1");
    let high = h.limit(Side::Sell, "100.60", "1");
    h.step();
    h.print(1, "100.70", "1.5", Side::Buy);
    h.step();
    assert_eq!(h.fills_of(low)[0].qty, q("1"));
    assert_eq!(h.fills_of(high)[0].qty, q("0.5"));
    // A sell pays its fee in quote: 0.1 % of 100.50.
    assert_eq!(h.fills_of(low)[0].fee, q("0.1005"));
    assert_eq!(h.fills_of(low)[0].fee_asset.as_str(), "USDT");
}

#[test]
fn two_orders_cannot_take_the_same_published_liquidity() {
    let mut h = Harness::new(RiskLimits::default());
    h.book(&[("99.00", "1")], &[("100.00", "0.5")]);
    let a = h.limit(Side::Buy, "100.00", "0.4");
    let b = h.limit(Side::Buy, "100.00", "0.4");
    h.step();
    assert_eq!(h.status(a), OrderStatus::Filled);
    assert_eq!(h.fills_of(b)[0].qty, q("0.1"), "only what the first left");
    assert_eq!(h.status(b), OrderStatus::PartiallyFilled);
    // A new depth from the feed is the venue's word again.
    h.book(&[("99.00", "1")], &[("100.00", "0.5")]);
    let c = h.limit(Side::Buy, "100.00", "0.4");
    h.step();
    assert_eq!(h.status(c), OrderStatus::Filled);
}

#[test]
fn a_cancelled_order_leaves_the_book_and_its_funds_come_back() {
    let mut h = Harness::new(RiskLimits::default());
    h.book(&[("99.99", "2")], &[("100.01", "2")]);
    let cid = h.limit(Side::Sell, "100.05", "0.5");
    h.step();
    let ((_, locked), _) = h.gw.wallet(S0).unwrap();
    assert_eq!(locked, q("0.5").units());
    h.intents
        .send(OrderIntent::Cancel { strategy: S0, cid })
        .unwrap();
    let ups = h.step();
    assert_eq!(ups.last().unwrap().status, OrderStatus::Cancelled);
    assert!(h.gw.matcher.resting().is_empty());
    assert_eq!(h.gw.wallet(S0).unwrap().0, (q("2").units(), 0));
    h.print(1, "100.10", "5", Side::Buy);
    h.step();
    assert!(h.fills_of(cid).is_empty(), "no fill after the cancel");
    // A second cancel of the ended order changes nothing.
    h.intents
        .send(OrderIntent::Cancel { strategy: S0, cid })
        .unwrap();
    assert!(h.step().is_empty());
}

#[test]
fn replace_cancels_the_old_order_and_rests_the_new_one() {
    let mut h = Harness::new(RiskLimits::default());
    h.book(&[("99.99", "2")], &[("100.01", "2")]);
    let old = h.limit(Side::Buy, "99.90", "0.5");
    h.step();
    let new = h.minter.mint();
    let i = h.intent(
        new,
        Side::Buy,
        "99.95",
        "0.5",
        OrderKind::Limit,
        TimeInForce::Gtc,
    );
    h.intents
        .send(OrderIntent::Replace { cid: old, new: i })
        .unwrap();
    h.step();
    assert_eq!(h.status(old), OrderStatus::Cancelled);
    assert_eq!(h.status(new), OrderStatus::Acked);
    assert_eq!(h.gw.matcher.resting().len(), 1);
    h.print(1, "99.80", "5", Side::Sell);
    h.step();
    assert!(h.fills_of(old).is_empty());
    assert_eq!(h.status(new), OrderStatus::Filled);
    // Only the new order's quote is spent; the old one's came back.
    let (_, (quote, locked)) = h.gw.wallet(S0).unwrap();
    assert_eq!(
        (quote, locked),
        (q("1000").units() - q("49.975").units(), 0)
    );
}

#[test]
fn the_same_print_twice_fills_once() {
    let mut h = Harness::new(RiskLimits::default());
    h.book(&[("99.99", "2")], &[("100.01", "2")]);
    let cid = h.limit(Side::Buy, "99.95", "1");
    h.step();
    h.print(7, "99.90", "0.3", Side::Sell);
    h.print(7, "99.90", "0.3", Side::Sell);
    h.print(6, "99.90", "0.3", Side::Sell);
    h.step();
    assert_eq!(h.fills_of(cid).len(), 1);
    assert_eq!(h.gw.order(&cid).unwrap().filled_qty, q("0.3"));
    let ((base, _), _) = h.gw.wallet(S0).unwrap();
    assert_eq!(base, q("2.3").units() - q("0.0003").units());
}

#[test]
fn post_only_that_would_cross_and_unfunded_orders_are_rejected() {
    let mut h = Harness::new(RiskLimits::default());
    h.book(&[("99.99", "2")], &[("100.01", "2")]);
    let pm = h.new_order(
        Side::Buy,
        "100.01",
        "0.1",
        OrderKind::LimitMaker,
        TimeInForce::Gtc,
    );
    let big = h.limit(Side::Sell, "100.50", "3");
    h.step();
    assert_eq!(h.status(pm), OrderStatus::Rejected);
    assert_eq!(h.status(big), OrderStatus::Rejected, "2 BTC cannot sell 3");
    assert!(h.gw.matcher.resting().is_empty());
    assert_eq!(
        h.gw.wallet(S0).unwrap(),
        ((q("2").units(), 0), (q("1000").units(), 0))
    );
    assert_eq!(h.gw.risk().open_orders(S0), 0);
}

#[test]
fn risk_runs_before_every_order() {
    let limits = RiskLimits {
        max_order_qty: Some(q("0.5")),
        ..RiskLimits::default()
    };
    let mut h = Harness::new(limits);
    h.book(&[("99.99", "2")], &[("100.01", "2")]);
    let cid = h.limit(Side::Buy, "99.00", "1");
    let ups = h.step();
    assert_eq!(ups.len(), 1);
    assert_eq!(ups[0].refused, Some(Refusal::Risk(Rule::MaxOrderQty)));
    assert!(
        h.gw.order(&cid).is_none(),
        "a refused order never reaches the paper book"
    );
}

#[test]
fn ioc_and_fok_never_rest() {
    let mut h = Harness::new(RiskLimits::default());
    h.book(&[("99.99", "2")], &[("100.01", "0.2")]);
    let ioc = h.new_order(
        Side::Buy,
        "100.01",
        "0.5",
        OrderKind::Limit,
        TimeInForce::Ioc,
    );
    h.step();
    assert_eq!(h.fills_of(ioc)[0].qty, q("0.2"));
    assert_eq!(h.status(ioc), OrderStatus::Expired);
    h.book(&[("99.99", "2")], &[("100.01", "0.2")]);
    let fok = h.new_order(
        Side::Buy,
        "100.01",
        "0.5",
        OrderKind::Limit,
        TimeInForce::Fok,
    );
    h.step();
    assert!(h.fills_of(fok).is_empty());
    assert_eq!(h.status(fok), OrderStatus::Expired);
    assert!(h.gw.matcher.resting().is_empty());
    let (_, (_, locked)) = h.gw.wallet(S0).unwrap();
    assert_eq!(locked, 0);
}

#[test]
fn without_a_book_orders_are_refused() {
    let mut h = Harness::new(RiskLimits::default());
    h.limit(Side::Buy, "99.00", "1");
    let ups = h.step();
    assert_eq!(ups[0].refused, Some(Refusal::VenueUnavailable));
}

#[test]
fn the_status_room_sees_paper_orders_fills_and_risk_figures() {
    let (tx, rx) = bounded("status", 1024, FullPolicy::DropNewest);
    let h = Harness::new(RiskLimits::default());
    let mut h = Harness {
        gw: h.gw.with_status(tx),
        ..h
    };
    h.book(&[("99.99", "2")], &[("100.01", "2")]);
    let cid = h.limit(Side::Buy, "99.98", "1");
    h.step();
    h.print(1, "99.90", "3", Side::Sell);
    h.step();
    assert_eq!(h.status(cid), OrderStatus::Filled);
    // The next snapshot interval publishes the figures after the fill.
    h.now = h.now.plus_nanos(2_000_000_000);
    h.step();
    let mut got = Vec::new();
    rx.drain(1024, |u| got.push(u));
    let orders: Vec<OrderStatus> = got
        .iter()
        .filter_map(|u| match u {
            crate::status::StatusUpdate::Order(o) if o.cid == cid => Some(o.status),
            _ => None,
        })
        .collect();
    assert_eq!(orders.last(), Some(&OrderStatus::Filled), "{orders:?}");
    let fills = got
        .iter()
        .filter(
            |u| matches!(u, crate::status::StatusUpdate::Fill(f) if f.cid == cid && f.fill.paper),
        )
        .count();
    assert_eq!(fills, 1);
    let venue = got.iter().rev().find_map(|u| match u {
        crate::status::StatusUpdate::Venue(v) => Some(v),
        _ => None,
    });
    assert_eq!(venue.and_then(|v| v.fills), Some(1));
    let position = got.iter().rev().find_map(|u| match u {
        crate::status::StatusUpdate::StrategyRisk(r) if r.strategy == S0 => Some(r.position),
        _ => None,
    });
    assert_eq!(position, Some(q("1")));
}

/// A linear perpetual, 10× isolated, on the harness's BTCUSDT; the strategy's 1 000 USDT is
/// its margin.
fn perp(i: &mut Instrument) {
    i.contract = crate::types::Contract::LINEAR_BASE;
    i.margin = Some(crate::types::Margin {
        mode: crate::types::MarginMode::Isolated,
        leverage: crate::types::Rate::from_int(10),
        maintenance: crate::types::Rate::parse("0.005").unwrap(),
        funding_interval_ms: 8 * 3_600_000,
    });
}

#[test]
fn a_perpetual_trades_on_margin_and_is_liquidated_at_its_liquidation_price() {
    let mut h = Harness::with(RiskLimits::default(), perp);
    assert!(h.gw.wallet(S0).is_none(), "a perpetual has no spot wallet");
    h.book(&[("99.99", "200")], &[("100.01", "200")]);
    // 1 000 USDT at 10× buys at most ~100 BTC of 100: 120 is refused for margin…
    let big = h.limit(Side::Buy, "100.00", "120");
    h.step();
    assert_eq!(h.status(big), OrderStatus::Rejected);
    // …a short of 50 needs none of the coins a spot sale would: 500 USDT of margin.
    let short = h.limit(Side::Sell, "100.00", "50");
    h.step();
    let a = h.gw.margin(S0).unwrap();
    assert_eq!(a.order_margin, 500 * Notional::SCALE);
    assert_eq!(h.status(short), OrderStatus::Acked);
    h.gw.on_cancel(S0, short, h.now);
    h.step();
    assert_eq!(h.gw.margin(S0).unwrap().order_margin, 0);
    // Long 50 at the ask (100.01, taker 0.2 %): margin 500.05 held by the position.
    let long = h.new_order(Side::Buy, "0", "50", OrderKind::Market, TimeInForce::Ioc);
    h.step();
    assert_eq!(h.status(long), OrderStatus::Filled);
    let a = h.gw.margin(S0).unwrap();
    assert_eq!(a.position.qty, q("50").units());
    assert_eq!(a.entry(), Some(px("100.01")));
    assert_eq!(a.order_margin, 0);
    // Fee: 5 000.5 × 0.002 = 10.001 USDT, from the balance.
    assert_eq!(a.fees_paid, 10_001 * Notional::SCALE / 1_000);
    // Liquidation: 100.01 × (1 − 0.1 + 0.005) = 90.50905, up to the tick: 90.51.
    assert_eq!(a.liquidation_price(), Some(px("90.51")));
    // The book falls to a mid of 90.52: nothing; to 90.50: liquidated at 90.51.
    h.book(&[("90.51", "200")], &[("90.53", "200")]);
    h.step();
    assert_eq!(h.gw.margin(S0).unwrap().liquidations, 0);
    h.book(&[("90.49", "200")], &[("90.51", "200")]);
    let ups = h.step();
    let a = h.gw.margin(S0).unwrap();
    assert_eq!(a.liquidations, 1);
    assert_eq!(a.position.qty, 0);
    // The strategy hears of the liquidation order's fill: a paper sell of 50 at 90.51.
    let liq = ups
        .iter()
        .find(|u| u.fill.is_some() && u.side == Side::Sell)
        .expect("the liquidation fill reaches the strategy");
    let f = liq.fill.unwrap();
    assert!(f.paper);
    assert_eq!((f.qty, f.quote), (q("50"), px("90.51").notional(q("50"))));
    // Lost: 50 × (100.01 − 90.51) = 475, plus the fees (10.001 + 9.051).
    let realized = a.position.realized;
    assert_eq!(realized, -475 * Notional::SCALE);
    assert_eq!(
        a.balance,
        1000 * Notional::SCALE
            - 475 * Notional::SCALE
            - 10_001 * Notional::SCALE / 1_000
            - 9_051 * Notional::SCALE / 1_000
    );
    // Risk saw the same position close.
    assert_eq!(h.gw.risk().position(S0).unwrap().qty, 0);
}

#[test]
fn a_perpetual_pays_funding_at_the_venues_rate_at_each_funding_time() {
    let mut h = Harness::with(RiskLimits::default(), perp);
    h.book(&[("99.99", "200")], &[("100.01", "200")]);
    let long = h.new_order(Side::Buy, "0", "10", OrderKind::Market, TimeInForce::Ioc);
    h.step();
    assert_eq!(h.status(long), OrderStatus::Filled);
    let paid_before = h.gw.margin(S0).unwrap().funding_paid;
    assert_eq!(paid_before, 0);
    // Without the venue's funding rate nothing is paid, even past a funding time
    // (00:00 UTC after the harness's start at 22:13:20).
    let next = h.gw.margin(S0).unwrap().next_funding_ms;
    assert_eq!(next, 1_700_006_400_000);
    h.now = UnixNanos(next * 1_000_000);
    h.step();
    assert_eq!(h.gw.margin(S0).unwrap().funding_paid, 0);
    // The feed publishes a mark of 101 and a rate of 0.01 %: at 08:00 the long of 10 pays
    // 10 × 101 × 0.0001 = 0.101 USDT, into the risk engine's day as well.
    h.writer.publish_mark(
        &crate::types::MarkUpdate {
            instrument: INST,
            mark: px("101"),
            index: px("101"),
            funding_rate: crate::types::FundingRate::from_units(10_000),
            next_funding_ms: next + 8 * 3_600_000,
            exchange_ts: h.now,
        },
        h.now,
    );
    h.now = UnixNanos((next + 8 * 3_600_000) * 1_000_000);
    h.step();
    let a = h.gw.margin(S0).unwrap();
    assert_eq!(a.funding_paid, 101 * Notional::SCALE / 1_000);
    assert_eq!(a.next_funding_ms, next + 16 * 3_600_000);
    assert_eq!(
        h.gw.risk().position(S0).unwrap().funding,
        101 * Notional::SCALE / 1_000
    );
    // The mark, not the mid, is what liquidation and the figures use.
    assert_eq!(h.gw.mark_and_rate(INST).0, Some(px("101")));
}
