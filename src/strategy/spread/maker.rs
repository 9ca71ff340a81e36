//! The spread market maker as a `Strategy`: keeps at most one quote per side resting at the
//! targets of `quote::targets`, replaces a quote when its target moves past the tolerance or
//! it ages out, pulls everything when the book is invalid or stale, and tracks its inventory
//! from fills only.

use crate::gateway::OrderUpdate;
use crate::strategy::api::{Strategy, StrategyCtx, StrategyReport};
use crate::types::{ClientOrderId, Instrument, Price, Qty, Side, UnixNanos};

use super::params::SpreadParams;
use super::quote::{self, BandTerms, Inventory, Quote};

/// A quote the maker has sent and not yet seen end.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Resting {
    cid: ClientOrderId,
    quote: Quote,
    placed_at: UnixNanos,
    filled: Qty,
    /// A cancel was sent; the quote no longer counts as this side's live quote.
    cancelling: bool,
}

pub struct SpreadMaker {
    params: SpreadParams,
    instrument: Instrument,
    /// Up to a few orders per side: the live quote plus any being cancelled.
    bids: Vec<Resting>,
    asks: Vec<Resting>,
    base: i64,
    quote: i64,
    base0: i64,
    quote0: i64,
    fills: u64,
    last_action: UnixNanos,
    paused: bool,
}

/// Orders per side that may be in flight at once (the live one plus cancels).
const MAX_PER_SIDE: usize = 4;

impl SpreadMaker {
    /// `base` and `quote`: the balances allotted to this strategy (its inventory at start).
    pub fn new(params: SpreadParams, instrument: Instrument, base: Qty, quote: Price) -> Self {
        Self {
            params,
            instrument,
            bids: Vec::with_capacity(MAX_PER_SIDE),
            asks: Vec::with_capacity(MAX_PER_SIDE),
            base: base.units(),
            quote: quote.units(),
            base0: base.units(),
            quote0: quote.units(),
            fills: 0,
            last_action: UnixNanos::ZERO,
            paused: false,
        }
    }

    fn side_mut(&mut self, side: Side) -> &mut Vec<Resting> {
        match side {
            Side::Buy => &mut self.bids,
            Side::Sell => &mut self.asks,
        }
    }

    fn live(list: &[Resting]) -> Option<&Resting> {
        list.iter().find(|r| !r.cancelling)
    }

    fn cancel_everything(&mut self, cx: &mut StrategyCtx<'_>) {
        for list in [&mut self.bids, &mut self.asks] {
            for r in list.iter_mut().filter(|r| !r.cancelling) {
                r.cancelling = true;
                cx.intents.cancel(r.cid);
            }
        }
    }

    /// Inventory available to quote from: balances plus what our own quotes hold.
    fn inventory(&self) -> Inventory {
        Inventory {
            base: Qty::from_units(self.base.max(0)),
            quote: Price::from_units(self.quote.max(0)),
        }
    }

    fn place(&mut self, side: Side, q: Quote, cx: &mut StrategyCtx<'_>) {
        if self.side_mut(side).len() >= MAX_PER_SIDE {
            return;
        }
        // Never cross our own orders on the other side, including ones being cancelled.
        let crosses = match side {
            Side::Buy => self.asks.iter().any(|a| a.quote.price <= q.price),
            Side::Sell => self.bids.iter().any(|b| b.quote.price >= q.price),
        };
        if crosses {
            return;
        }
        let cid = cx
            .intents
            .limit(side, q.price, q.qty, self.params.post_only, cx.tick_at);
        let r = Resting {
            cid,
            quote: q,
            placed_at: cx.now,
            filled: Qty::ZERO,
            cancelling: false,
        };
        self.side_mut(side).push(r);
        self.last_action = cx.now;
    }

    fn manage(&mut self, side: Side, target: Option<Quote>, cx: &mut StrategyCtx<'_>) {
        let live = Self::live(match side {
            Side::Buy => &self.bids,
            Side::Sell => &self.asks,
        })
        .copied();
        match (live, target) {
            (Some(r), None) => {
                self.cancel(side, r.cid, cx);
            }
            (None, Some(t)) => self.place(side, t, cx),
            (Some(r), Some(t)) => {
                if quote::needs_replace(&self.params, r.quote, r.placed_at, t, cx.now) {
                    self.requote(side, r.cid, t, cx);
                }
            }
            (None, None) => {}
        }
    }

    /// Moves the live quote `old` to `q`: one `Replace` intent (the gateway makes it one
    /// cancel-replace request where the venue has one), or the cancel alone when the new
    /// quote may not go out (it would cross our other side, or the side is full).
    fn requote(&mut self, side: Side, old: ClientOrderId, q: Quote, cx: &mut StrategyCtx<'_>) {
        let Some(i) = self
            .side_mut(side)
            .iter()
            .position(|r| r.cid == old && !r.cancelling)
        else {
            return;
        };
        self.side_mut(side)[i].cancelling = true;
        self.last_action = cx.now;
        let crosses = match side {
            Side::Buy => self.asks.iter().any(|a| a.quote.price <= q.price),
            Side::Sell => self.bids.iter().any(|b| b.quote.price >= q.price),
        };
        if crosses || self.side_mut(side).len() >= MAX_PER_SIDE {
            cx.intents.cancel(old);
            return;
        }
        let cid = cx.intents.replace(
            old,
            side,
            q.price,
            q.qty,
            self.params.post_only,
            cx.tick_at,
        );
        self.side_mut(side).push(Resting {
            cid,
            quote: q,
            placed_at: cx.now,
            filled: Qty::ZERO,
            cancelling: false,
        });
    }

    fn cancel(&mut self, side: Side, cid: ClientOrderId, cx: &mut StrategyCtx<'_>) {
        if let Some(r) = self
            .side_mut(side)
            .iter_mut()
            .find(|r| r.cid == cid && !r.cancelling)
        {
            r.cancelling = true;
            cx.intents.cancel(cid);
            self.last_action = cx.now;
        }
    }
}

impl Strategy for SpreadMaker {
    fn on_tick(&mut self, cx: &mut StrategyCtx<'_>) {
        let stale = cx.now.since(cx.book.recv_ts) > self.params.max_book_age.as_nanos() as u64;
        if cx.halted || self.paused || !cx.book.valid || stale {
            self.cancel_everything(cx);
            return;
        }
        if cx.now.since(self.last_action) < cx.band.throttle.as_nanos() as u64 {
            return;
        }
        let band = BandTerms {
            min_spread_bps: cx.band.min_spread_bps,
            size_multiplier: cx.band.size_multiplier,
        };
        let t = quote::targets(
            &self.params,
            &self.instrument,
            cx.book.bid.price,
            cx.book.ask.price,
            self.inventory(),
            band,
        );
        self.manage(Side::Buy, t.bid, cx);
        self.manage(Side::Sell, t.ask, cx);
    }

    fn on_order_update(&mut self, u: &OrderUpdate, _cx: &mut StrategyCtx<'_>) {
        if let Some(f) = u.fill {
            self.fills += 1;
            let quote_units = (f.quote.0 / i128::from(crate::types::SCALE)) as i64;
            match f.side {
                Side::Buy => {
                    self.base += f.qty.units();
                    self.quote -= quote_units;
                }
                Side::Sell => {
                    self.base -= f.qty.units();
                    self.quote += quote_units;
                }
            }
            let asset = f.fee_asset.as_str();
            if asset == self.instrument.quote {
                self.quote -= f.fee.units();
            } else if asset == self.instrument.base {
                self.base -= f.fee.units();
            }
        }
        let list = self.side_mut(u.side);
        if let Some(r) = list.iter_mut().find(|r| r.cid == u.cid) {
            r.filled = u.filled_qty;
        }
        if u.status.is_final() {
            list.retain(|r| r.cid != u.cid);
        }
    }

    fn on_stop(&mut self, cx: &mut StrategyCtx<'_>) {
        if self.params.cancel_on_shutdown {
            cx.intents.cancel_all();
        }
    }

    fn reload(&mut self, params: &toml::Table) -> Result<(), Vec<(String, String)>> {
        self.params = SpreadParams::from_table(params)?;
        Ok(())
    }

    fn report(&self, mark: Option<Price>) -> StrategyReport {
        let pick = |l: &[Resting]| Self::live(l).map(|r| (r.quote.price, r.quote.qty));
        let pnl = mark.map_or(0.0, |m| {
            (self.base - self.base0) as f64 / 1e8 * m.to_f64()
                + (self.quote - self.quote0) as f64 / 1e8
        });
        StrategyReport {
            bid: pick(&self.bids),
            ask: pick(&self.asks),
            base: Qty::from_units(self.base),
            quote: self.quote,
            fills: self.fills,
            pnl,
            paused: self.paused,
            ..StrategyReport::default()
        }
    }

    fn set_paused(&mut self, paused: bool) {
        self.paused = paused;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::book::{Level, TopOfBook};
    use crate::gateway::{CidMinter, OrderIntent};
    use crate::latency::bands::Band;
    use crate::runtime::{FullPolicy, Rx, bounded};
    use crate::strategy::api::IntentSink;
    use crate::types::{FillDelta, OrderStatus};
    use crate::types::{InstrumentId, Notional, StrategyId, VenueId};
    use std::time::Duration;

    fn px(s: &str) -> Price {
        Price::parse(s).unwrap()
    }
    fn q(s: &str) -> Qty {
        Qty::parse(s).unwrap()
    }

    struct Rig {
        maker: SpreadMaker,
        sink: IntentSink,
        rx: Rx<OrderIntent>,
        band: Band,
        now: UnixNanos,
    }

    fn rig() -> Rig {
        let mut inst = Instrument::new(
            InstrumentId(0),
            VenueId(0),
            "BTCUSDT",
            "BTC",
            "USDT",
            px("0.01"),
            q("0.00001"),
        )
        .unwrap();
        inst.min_notional = px("5");
        let params = SpreadParams::from_table(&"order_size = \"0.01\"".parse().unwrap()).unwrap();
        let (tx, rx) = bounded("intents", 64, FullPolicy::Backpressure);
        let sink = IntentSink::new(
            tx,
            CidMinter::new(1, StrategyId(0)),
            StrategyId(0),
            InstrumentId(0),
        );
        let band = Band {
            name: "normal".into(),
            max_latency_ns: None,
            min_spread_bps: 0,
            size_multiplier: 1.0,
            throttle: Duration::ZERO,
        };
        Rig {
            maker: SpreadMaker::new(params, inst, q("1"), px("60000")),
            sink,
            rx,
            band,
            now: UnixNanos(100_000_000_000),
        }
    }

    fn book(bid: &str, ask: &str, at: UnixNanos, valid: bool) -> TopOfBook {
        TopOfBook {
            bid: Level {
                price: px(bid),
                qty: q("1"),
            },
            ask: Level {
                price: px(ask),
                qty: q("1"),
            },
            update_id: 1,
            exchange_ts: at,
            recv_ts: at,
            seq: 1,
            valid,
        }
    }

    impl Rig {
        fn tick(&mut self, bid: &str, ask: &str, valid: bool) -> Vec<OrderIntent> {
            let b = book(bid, ask, self.now, valid);
            let mut cx = StrategyCtx {
                now: self.now,
                book: b,
                tick_at: b.recv_ts,
                band: &self.band,
                halted: false,
                intents: &mut self.sink,
                env: &mut crate::strategy::api::Env::default(),
            };
            self.maker.on_tick(&mut cx);
            let mut out = vec![];
            self.rx.drain(64, |i| out.push(i));
            out
        }
        fn update(
            &mut self,
            cid: ClientOrderId,
            side: Side,
            status: OrderStatus,
            fill: Option<(&str, &str)>,
        ) {
            let fill = fill.map(|(qty, price)| FillDelta {
                side,
                qty: q(qty),
                quote: Notional::of(px(price), q(qty)),
                trade_id: Some(1.into()),
                fee: Qty::ZERO,
                fee_asset: Default::default(),
                is_maker: true,
                fees_complete: true,
                paper: false,
            });
            let u = OrderUpdate {
                cid,
                strategy: StrategyId(0),
                status,
                side,
                price: px("1"),
                qty: q("0.01"),
                filled_qty: Qty::ZERO,
                fill,
                refused: None,
                fee_correction: None,
                at: self.now,
            };
            let b = book("1", "2", self.now, true);
            let mut cx = StrategyCtx {
                now: self.now,
                book: b,
                tick_at: UnixNanos::ZERO,
                band: &self.band,
                halted: false,
                intents: &mut self.sink,
                env: &mut crate::strategy::api::Env::default(),
            };
            self.maker.on_order_update(&u, &mut cx);
        }
    }

    /// New orders, alone or as a replace's new half.
    fn news(v: &[OrderIntent]) -> Vec<(Side, Price)> {
        v.iter()
            .filter_map(|i| match i {
                OrderIntent::New(n) | OrderIntent::Replace { new: n, .. } => {
                    Some((n.side, n.price))
                }
                _ => None,
            })
            .collect()
    }
    /// Cancels, alone or as a replace's cancel half.
    fn cancels(v: &[OrderIntent]) -> usize {
        v.iter()
            .filter(|i| matches!(i, OrderIntent::Cancel { .. } | OrderIntent::Replace { .. }))
            .count()
    }
    fn replaces(v: &[OrderIntent]) -> usize {
        v.iter()
            .filter(|i| matches!(i, OrderIntent::Replace { .. }))
            .count()
    }

    #[test]
    fn quotes_both_sides_then_holds_within_tolerance() {
        let mut r = rig();
        let first = r.tick("59999.99", "60000.01", true);
        assert_eq!(
            news(&first),
            vec![(Side::Buy, px("59400")), (Side::Sell, px("60600"))]
        );
        for i in &first {
            if let OrderIntent::New(n) = i {
                assert_eq!(n.tick_at, r.now, "intents carry the frame's read instant");
            }
        }
        // 0.2 % move: inside the 0.5 % tolerance, nothing to do.
        assert!(r.tick("60119.99", "60120.01", true).is_empty());
        // 1 % move: both quotes are replaced, each by one Replace intent (cancel + new in
        // one, so the gateway can send one cancel-replace request per side).
        let moved = r.tick("60599.99", "60600.01", true);
        assert_eq!((cancels(&moved), news(&moved).len()), (2, 2), "{moved:?}");
        assert_eq!((moved.len(), replaces(&moved)), (2, 2), "{moved:?}");
        let old: Vec<_> = first
            .iter()
            .filter_map(|i| match i {
                OrderIntent::New(n) => Some(n.cid),
                _ => None,
            })
            .collect();
        for i in &moved {
            let OrderIntent::Replace { cid, .. } = i else {
                panic!("{i:?}")
            };
            assert!(old.contains(cid), "a replace names the quote it moves");
        }
    }

    #[test]
    fn never_crosses_its_own_quotes_while_they_are_cancelled() {
        let mut r = rig();
        r.tick("59999.99", "60000.01", true); // ask rests at 60 600
        // The market jumps 2.5 %: the new bid (about 60 880) would cross our old ask.
        let jumped = r.tick("61499.99", "61500.01", true);
        assert_eq!(cancels(&jumped), 2);
        assert_eq!(
            news(&jumped)
                .iter()
                .filter(|(s, _)| *s == Side::Buy)
                .count(),
            0,
            "{jumped:?}"
        );
        // Once the old ask is gone, the bid goes out.
        let old_ask = r
            .maker
            .asks
            .iter()
            .find(|a| a.cancelling)
            .map(|a| a.cid)
            .unwrap();
        r.update(old_ask, Side::Sell, OrderStatus::Cancelled, None);
        let after = r.tick("61499.99", "61500.01", true);
        assert_eq!(
            news(&after).iter().filter(|(s, _)| *s == Side::Buy).count(),
            1,
            "{after:?}"
        );
    }

    #[test]
    fn invalid_or_stale_books_pull_every_quote() {
        let mut r = rig();
        r.tick("59999.99", "60000.01", true);
        let pulled = r.tick("59999.99", "60000.01", false);
        assert_eq!(cancels(&pulled), 2);
        assert!(news(&pulled).is_empty());
        assert!(
            r.tick("59999.99", "60000.01", false).is_empty(),
            "cancels are sent once"
        );
        let mut r = rig();
        r.tick("59999.99", "60000.01", true);
        let b = book(
            "59999.99",
            "60000.01",
            UnixNanos(r.now.0 - 10_000_000_000),
            true,
        );
        let mut cx = StrategyCtx {
            now: r.now,
            book: b,
            tick_at: b.recv_ts,
            band: &r.band,
            halted: false,
            intents: &mut r.sink,
            env: &mut crate::strategy::api::Env::default(),
        };
        r.maker.on_tick(&mut cx);
        let mut out = vec![];
        r.rx.drain(64, |i| out.push(i));
        assert_eq!(cancels(&out), 2, "a book older than max_book_age is stale");
    }

    #[test]
    fn fills_move_inventory_and_ended_quotes_are_replaced() {
        let mut r = rig();
        let first = r.tick("59999.99", "60000.01", true);
        let OrderIntent::New(bid) = first[0] else {
            panic!()
        };
        r.update(
            bid.cid,
            Side::Buy,
            OrderStatus::PartiallyFilled,
            Some(("0.004", "59400")),
        );
        let rep = r.maker.report(Some(px("60000")));
        assert_eq!(rep.base, q("1.004"));
        assert_eq!(rep.quote, px("60000").units() - px("237.6").units());
        assert_eq!(rep.fills, 1);
        assert!(
            r.tick("59999.99", "60000.01", true).is_empty(),
            "a partially filled quote stays"
        );
        r.update(
            bid.cid,
            Side::Buy,
            OrderStatus::Filled,
            Some(("0.006", "59400")),
        );
        let again = r.tick("59999.99", "60000.01", true);
        assert_eq!(news(&again).len(), 1, "the filled bid is replaced");
        assert!(
            (r.maker.report(Some(px("60000"))).pnl - 6.0).abs() < 1e-9,
            "bought 0.01 at 59400, marked 60000"
        );
    }

    #[test]
    fn stop_cancels_everything_and_pause_pulls_quotes() {
        let mut r = rig();
        r.tick("59999.99", "60000.01", true);
        r.maker.set_paused(true);
        assert_eq!(cancels(&r.tick("59999.99", "60000.01", true)), 2);
        let b = book("1", "2", r.now, true);
        let mut cx = StrategyCtx {
            now: r.now,
            book: b,
            tick_at: b.recv_ts,
            band: &r.band,
            halted: false,
            intents: &mut r.sink,
            env: &mut crate::strategy::api::Env::default(),
        };
        r.maker.on_stop(&mut cx);
        let mut out = vec![];
        r.rx.drain(64, |i| out.push(i));
        assert!(matches!(out[..], [OrderIntent::CancelAll { .. }]));
    }

    #[test]
    fn band_throttle_spaces_actions() {
        let mut r = rig();
        r.band.throttle = Duration::from_secs(1);
        r.now = UnixNanos(10_000_000_000);
        assert_eq!(news(&r.tick("59999.99", "60000.01", true)).len(), 2);
        r.now = r.now.plus_nanos(100_000_000);
        assert!(
            r.tick("60599.99", "60600.01", true).is_empty(),
            "within the throttle"
        );
        r.now = r.now.plus_nanos(1_000_000_000);
        assert!(!r.tick("60599.99", "60600.01", true).is_empty());
    }
}
