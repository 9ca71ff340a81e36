//! The spread market maker as a `Strategy`: keeps at most one quote per side resting at the
//! targets of `quote::targets`, replaces a quote when its target moves past the tolerance or
//! it ages out, pulls everything when the book is invalid or stale, and tracks its inventory
//! from fills.
//!
//! When the engine corrects its position from the venue's (`on_position_corrected`: a fill
//! the engine never learned or one the venue never made, a liquidation, a trade by hand),
//! its base inventory is re-based on the corrected position: from then on it is the base
//! allocation plus the engine's position moved since the start, less base-asset fees, read
//! on every tick (the quote inventory stays as its fills made it: what the venue's change
//! cost in quote is not known here). Its quotes, sized and skewed on the old inventory, are
//! cancelled, and the next tick quotes from the new one with the same rules and limits (the
//! skew, the hard inventory limit, what the inventory affords).

use crate::gateway::OrderUpdate;
use crate::strategy::api::{Strategy, StrategyCtx, StrategyReport};
use crate::types::{ClientOrderId, Instrument, InstrumentId, Price, Qty, Side, UnixNanos};

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
    /// The engine's position in the instrument at the first tick (units at 10^-8).
    start_position: Option<i64>,
    /// Base-asset fees paid since the start.
    base_fees: i64,
    /// Its position was corrected from the venue's: base is read from the engine's.
    rebased: bool,
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
            start_position: None,
            base_fees: 0,
            rebased: false,
        }
    }

    /// Base from the engine's position (corrected from the venue's) since the start.
    fn rebase(&mut self, cx: &StrategyCtx<'_>) {
        if let Some(start) = self.start_position {
            let moved = cx.position_of(self.instrument.id).qty - start;
            self.base = self.base0 + moved - self.base_fees;
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
        if self.start_position.is_none() {
            self.start_position = Some(cx.position_of(self.instrument.id).qty);
        }
        if self.rebased {
            self.rebase(cx);
        }
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
            // Re-based: the next tick reads base from the engine's position (which may hold
            // this fill already).
            let base = if self.rebased { 0 } else { f.qty.units() };
            match f.side {
                Side::Buy => {
                    self.base += base;
                    self.quote -= quote_units;
                }
                Side::Sell => {
                    self.base -= base;
                    self.quote += quote_units;
                }
            }
            let asset = f.fee_asset.as_str();
            if asset == self.instrument.quote {
                self.quote -= f.fee.units();
            } else if asset == self.instrument.base {
                self.base -= f.fee.units();
                self.base_fees += f.fee.units();
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

    /// Re-bases the base inventory on the corrected position and pulls its quotes; the next
    /// tick quotes from the new inventory.
    fn on_position_corrected(&mut self, instrument: InstrumentId, cx: &mut StrategyCtx<'_>) {
        if instrument != self.instrument.id || self.start_position.is_none() {
            return;
        }
        self.rebased = true;
        self.rebase(cx);
        self.cancel_everything(cx);
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
        env: crate::strategy::api::Env,
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
            env: crate::strategy::api::Env::default(),
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
                env: &mut self.env,
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
                env: &mut self.env,
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

    /// The engine's position of the maker (strategy 0) in BTCUSDT, as the gateway writes it:
    /// moved by fills, or corrected from the venue's (`corrections` counted).
    fn board_position(board: &crate::risk::PositionBoard, qty: &str, corrections: u32) {
        let units = match qty.strip_prefix('-') {
            Some(short) => -q(short).units(),
            None => q(qty).units(),
        };
        let p = crate::risk::Position {
            qty: units,
            corrections,
            ..Default::default()
        };
        board.set_position(StrategyId(0), InstrumentId(0), p);
    }

    impl Rig {
        fn with_board(mut self) -> (Self, crate::risk::PositionBoard) {
            let board = crate::risk::PositionBoard::new(1, 1, 1);
            let inst = self.maker.instrument.clone();
            self.env = crate::strategy::api::Env::new(None, vec![inst], Some(board.clone()));
            (self, board)
        }

        fn corrected(&mut self, instrument: InstrumentId) -> Vec<OrderIntent> {
            let b = book("59999.99", "60000.01", self.now, true);
            let mut cx = StrategyCtx {
                now: self.now,
                book: b,
                tick_at: b.recv_ts,
                band: &self.band,
                halted: false,
                intents: &mut self.sink,
                env: &mut self.env,
            };
            self.maker.on_position_corrected(instrument, &mut cx);
            let mut out = vec![];
            self.rx.drain(64, |i| out.push(i));
            out
        }
    }

    /// New orders as (side, price, qty).
    fn sized(v: &[OrderIntent]) -> Vec<(Side, Price, Qty)> {
        v.iter()
            .filter_map(|i| match i {
                OrderIntent::New(n) | OrderIntent::Replace { new: n, .. } => {
                    Some((n.side, n.price, n.qty))
                }
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_corrected_position_rebases_the_inventory_and_requotes() {
        let (mut r, board) = rig().with_board();
        // 1 BTC and 60 000 USDT at 60 000: half in base, no skew.
        let first = r.tick("59999.99", "60000.01", true);
        assert_eq!(
            sized(&first),
            vec![
                (Side::Buy, px("59400"), q("0.01")),
                (Side::Sell, px("60600"), q("0.01"))
            ]
        );
        // Another instrument's correction is not the maker's.
        board_position(&board, "0.5", 1);
        assert!(r.corrected(InstrumentId(7)).is_empty());
        assert_eq!(r.maker.report(None).base, q("1"));
        // The venue holds 0.5 BTC more than the maker's fills say (a trade by hand): base is
        // 1.5, and both quotes, sized on 1, are pulled.
        let pulled = r.corrected(InstrumentId(0));
        assert_eq!((cancels(&pulled), news(&pulled).len()), (2, 0), "{pulled:?}");
        assert_eq!(r.maker.report(None).base, q("1.5"));
        // Requoted from 1.5 BTC (60 % of 150 000, 1 000 bp over the target, half the skew's
        // range): the center moves 150 down to 59 850, ±600; the bid halves, the ask grows.
        let requoted = r.tick("59999.99", "60000.01", true);
        assert_eq!(
            sized(&requoted),
            vec![
                (Side::Buy, px("59250"), q("0.005")),
                (Side::Sell, px("60450"), q("0.015"))
            ]
        );
        // A fill the engine's position holds already is counted once.
        let OrderIntent::New(bid) = requoted[0] else {
            panic!("{requoted:?}")
        };
        board_position(&board, "0.504", 1);
        r.update(bid.cid, Side::Buy, OrderStatus::PartiallyFilled, Some(("0.004", "59250")));
        r.tick("59999.99", "60000.01", true);
        assert_eq!(r.maker.report(None).base, q("1.504"));
        // The venue liquidated everything: no base left. No ask (nothing to sell, and the
        // hard limit: 0 % base is 5 000 bp under the target); a bid of twice the size.
        board_position(&board, "-1", 2);
        let pulled = r.corrected(InstrumentId(0));
        assert_eq!(cancels(&pulled), 2, "{pulled:?}");
        assert_eq!(r.maker.report(None).base, q("0"));
        let after = r.tick("59999.99", "60000.01", true);
        assert_eq!(sized(&after), vec![(Side::Buy, px("59700"), q("0.02"))]);
    }
}
