//! Which of CoinDCX's orders is which of mako's. CoinDCX futures' create-order takes no client
//! order id (exchanges.md §7.3 lists none; its answer and the private channel's
//! `df-order-update` name an order only by the venue's UUID `id`), so the REST codec and the
//! order session share one book of the orders mako sent: each client id with its terms (pair,
//! side, price, quantity, market or limit) and the `timestamp` it was signed with, and the
//! venue id once known.
//!
//! A venue id is learned from the create answer (which lists the new order). When that answer
//! is lost (a 5xx after execution, a timeout, a dropped connection) or a push comes before it,
//! a venue order is **matched by its terms**: the same pair, side and total quantity, the same
//! price (limits), created no earlier than [`CLOCK_SLACK_MS`] before the request's timestamp
//! and no later than the venue's 10 s order window (plus the same slack) after it, and not yet
//! bound to another client id. Among several sent orders that fit, the one sent first is
//! taken, so identical orders pair off in the order they were sent. An order placed by hand on
//! the same account with identical terms inside that window can be taken for mako's: that
//! is the price of a venue without client ids, and it is why the matching lives here, in one
//! place.

use std::collections::VecDeque;
use std::sync::Arc;

use parking_lot::Mutex;

use crate::types::{ClientOrderId, Price, Qty, Side, VenueOrderId};

use super::private::OrderUpdate;
use super::sign::MAX_ORDER_DELAY_MS;

/// How far the venue's `created_at` may sit before the request's `timestamp` (the two clocks
/// differ by the offset mako measures, within this).
pub const CLOCK_SLACK_MS: u64 = 2_000;

/// Orders remembered (the oldest are forgotten first; by then they ended long ago).
pub const MAX_TRACKED: usize = 4096;

/// One order mako sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    pub cid: ClientOrderId,
    pub pair: String,
    pub side: Side,
    /// Zero for a market order.
    pub price: Price,
    pub qty: Qty,
    pub market: bool,
    /// The `timestamp` its create request was signed with (venue ms).
    pub sent_ms: u64,
    pub venue_id: Option<VenueOrderId>,
}

/// The orders mako sent, shared by the REST codec and the order session (one gateway thread
/// uses both: the lock is never contended).
#[derive(Debug, Default)]
pub struct IdBook {
    sent: VecDeque<Sent>,
}

pub type SharedIds = Arc<Mutex<IdBook>>;

impl IdBook {
    /// A create request for `s.cid` is being sent (a second one for the same id changes
    /// nothing).
    pub fn on_place(&mut self, s: Sent) {
        if self.get(&s.cid).is_some() {
            return;
        }
        if self.sent.len() >= MAX_TRACKED {
            self.sent.pop_front();
        }
        self.sent.push_back(s);
    }

    pub fn get(&self, cid: &ClientOrderId) -> Option<&Sent> {
        self.sent.iter().rev().find(|s| s.cid == *cid)
    }

    pub fn venue_id(&self, cid: &ClientOrderId) -> Option<VenueOrderId> {
        self.get(cid).and_then(|s| s.venue_id)
    }

    /// The client id bound to venue order `id`.
    pub fn cid_of(&self, id: VenueOrderId) -> Option<ClientOrderId> {
        self.sent
            .iter()
            .find(|s| s.venue_id == Some(id))
            .map(|s| s.cid)
    }

    /// Binds `cid` to venue order `id` (the create answer); false if `cid` is unknown or
    /// already bound to another id.
    pub fn bind(&mut self, cid: &ClientOrderId, id: VenueOrderId) -> bool {
        let Some(s) = self.sent.iter_mut().rev().find(|s| s.cid == *cid) else {
            return false;
        };
        match s.venue_id {
            None => {
                s.venue_id = Some(id);
                true
            }
            Some(have) => have == id,
        }
    }

    /// Whether venue order `u` could be the order sent as `s` (terms and time window).
    fn fits(s: &Sent, u: &OrderUpdate) -> bool {
        let market = u.order_type == "market_order";
        s.venue_id.is_none()
            && s.pair == u.pair
            && s.side == u.side
            && s.qty == u.total_qty
            && s.market == market
            && (market || s.price == u.price)
            && u.created_at_ms + CLOCK_SLACK_MS >= s.sent_ms
            && u.created_at_ms <= s.sent_ms + MAX_ORDER_DELAY_MS + CLOCK_SLACK_MS
    }

    /// The client id of venue order `u`: the one bound to its id, or else the first-sent
    /// unbound order whose terms it fits, which is bound to it now. `None`: not mako's (or
    /// sent before the book's memory).
    pub fn claim(&mut self, u: &OrderUpdate) -> Option<ClientOrderId> {
        let id = VenueOrderId::new(u.id.as_bytes())?;
        if let Some(cid) = self.cid_of(id) {
            return Some(cid);
        }
        let s = self
            .sent
            .iter_mut()
            .filter(|s| Self::fits(s, u))
            .min_by_key(|s| s.sent_ms)?;
        s.venue_id = Some(id);
        Some(s.cid)
    }

    /// [`IdBook::claim`] for every order of a venue list, oldest first (`created_at`; the
    /// venue lists newest first): identical orders then pair off in the order they were sent,
    /// as they do when pushes (which come in that order) claim them one by one. Claimed in the
    /// list's own order, the newest of two identical orders would take the first-sent client
    /// id and leave the older one no order that fits it. Returns each item's client id, in
    /// the list's order.
    pub fn claim_list(&mut self, l: &[&OrderUpdate]) -> Vec<Option<ClientOrderId>> {
        let mut oldest_first: Vec<usize> = (0..l.len()).collect();
        // Equal times: the later in a newest-first list is the older.
        oldest_first.sort_by_key(|&i| (l[i].created_at_ms, std::cmp::Reverse(i)));
        let mut cids = vec![None; l.len()];
        for i in oldest_first {
            cids[i] = self.claim(l[i]);
        }
        cids
    }

    /// The venue refused `cid`'s create (nothing was placed): it no longer takes a venue
    /// order by its terms, which would otherwise be a later identical order's.
    pub fn refused(&mut self, cid: &ClientOrderId) {
        self.sent.retain(|s| s.cid != *cid || s.venue_id.is_some());
    }

    /// The orders a previous run of the engine sent, as its store recovered them (those of
    /// `pair_of`'s instruments): each with its venue id when the store kept one (the venue's
    /// reports then name it at once), else its terms and send time, matched as a fresh
    /// order's are. So the open-orders sweep at start finds them as mako's.
    pub fn adopt_recovered(
        &mut self,
        orders: &[crate::types::Order],
        pair_of: impl Fn(crate::types::InstrumentId) -> Option<String>,
    ) {
        for o in orders {
            let Some(pair) = pair_of(o.instrument) else {
                continue;
            };
            let sent = o.sent_at.unwrap_or(o.created_at);
            self.on_place(Sent {
                cid: o.cid,
                pair,
                side: o.side,
                price: o.price,
                qty: o.qty,
                market: o.kind == crate::types::OrderKind::Market,
                sent_ms: sent.0 / 1_000_000,
                venue_id: o.venue_order_id,
            });
        }
    }

    /// The client id a venue order that is not mako's goes by (its own UUID, which fits a
    /// client id's 36 characters), bound to it so that a cancel by that id reaches it: the
    /// gateway then treats it as any venue's unknown open order (counted, and cancelled
    /// when `cancel_unknown_orders` is set). `None` if the id is not a valid client id.
    pub fn name_foreign(&mut self, u: &OrderUpdate) -> Option<ClientOrderId> {
        let cid = ClientOrderId::parse(&u.id).ok()?;
        let id = VenueOrderId::new(u.id.as_bytes())?;
        if let Some(have) = self.cid_of(id) {
            return Some(have);
        }
        self.on_place(Sent {
            cid,
            pair: u.pair.clone(),
            side: u.side,
            price: u.price,
            qty: u.total_qty,
            market: u.order_type == "market_order",
            sent_ms: u.created_at_ms,
            venue_id: Some(id),
        });
        Some(cid)
    }

    /// The client id of venue order `u` only if it is bound already (never binds).
    pub fn bound(&self, u: &OrderUpdate) -> Option<ClientOrderId> {
        self.cid_of(VenueOrderId::new(u.id.as_bytes())?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::OrderStatus;

    fn cid(n: u64) -> ClientOrderId {
        ClientOrderId::mint(1_700_000_000_000, crate::types::StrategyId(0), n).unwrap()
    }

    fn sent(n: u64, price: &str, qty: &str, at: u64) -> Sent {
        Sent {
            cid: cid(n),
            pair: "B-BTC_USDT".into(),
            side: Side::Buy,
            price: Price::parse(price).unwrap(),
            qty: Qty::parse(qty).unwrap(),
            market: false,
            sent_ms: at,
            venue_id: None,
        }
    }

    fn venue(id: &str, price: &str, qty: &str, created: u64) -> OrderUpdate {
        OrderUpdate {
            id: id.into(),
            pair: "B-BTC_USDT".into(),
            side: Side::Buy,
            status: OrderStatus::Acked,
            order_type: "limit_order".into(),
            price: Price::parse(price).unwrap(),
            avg_price: Price::ZERO,
            total_qty: Qty::parse(qty).unwrap(),
            remaining_qty: Qty::parse(qty).unwrap(),
            cancelled_qty: Qty::ZERO,
            fee: Qty::ZERO,
            margin_currency: "USDT".into(),
            conversion_price: None,
            created_at_ms: created,
            updated_at_ms: created,
        }
    }

    /// Two identical orders sent 3 s apart, both unanswered (5xx after execution), found in
    /// one newest-first list: each takes its own venue order. Claimed in the list's order,
    /// the newer venue order took the first-sent id and the second order was "not found"
    /// (seen as an engine-side `Rejected` against a venue `FILLED` in a flake run).
    #[test]
    fn a_newest_first_list_pairs_identical_orders_in_the_order_they_were_sent() {
        let mut b = IdBook::default();
        b.on_place(sent(1, "100", "0.5", 10_000));
        b.on_place(sent(2, "100", "0.5", 13_000));
        let (newer, older) = (
            venue("vb", "100", "0.5", 13_050),
            venue("va", "100", "0.5", 10_050),
        );
        assert_eq!(
            b.claim_list(&[&newer, &older]),
            vec![Some(cid(2)), Some(cid(1))]
        );
        assert_eq!(b.venue_id(&cid(1)), VenueOrderId::new(b"va"));
        assert_eq!(b.venue_id(&cid(2)), VenueOrderId::new(b"vb"));
        // One at a time in that order, the newer takes the first id and the older fits none.
        let mut c = IdBook::default();
        c.on_place(sent(1, "100", "0.5", 10_000));
        c.on_place(sent(2, "100", "0.5", 13_000));
        assert_eq!(c.claim(&newer), Some(cid(1)));
        assert_eq!(c.claim(&older), None);
        // Equal creation times: the later in the list is the older.
        let mut d = IdBook::default();
        d.on_place(sent(1, "100", "0.5", 10_000));
        d.on_place(sent(2, "100", "0.5", 10_010));
        let (x, y) = (
            venue("x", "100", "0.5", 10_020),
            venue("y", "100", "0.5", 10_020),
        );
        assert_eq!(d.claim_list(&[&x, &y]), vec![Some(cid(2)), Some(cid(1))]);
    }

    /// A create the venue refused never takes a later identical order's venue order.
    #[test]
    fn a_refused_create_gives_up_its_place() {
        let mut b = IdBook::default();
        b.on_place(sent(1, "100", "0.5", 10_000));
        b.on_place(sent(2, "100", "0.5", 10_500));
        b.refused(&cid(1));
        assert_eq!(b.get(&cid(1)), None);
        assert_eq!(b.claim(&venue("v", "100", "0.5", 10_550)), Some(cid(2)));
        // A bound order is kept whatever is said of it.
        b.refused(&cid(2));
        assert_eq!(b.claim(&venue("v", "100", "0.5", 10_550)), Some(cid(2)));
    }

    #[test]
    fn terms_and_window_pick_the_order_and_bind_it() {
        let mut b = IdBook::default();
        b.on_place(sent(1, "100", "0.5", 10_000));
        b.on_place(sent(2, "100", "0.5", 10_050));
        b.on_place(sent(3, "101", "0.5", 10_060));
        // Another price, another side, another quantity, too late: none of mako's.
        assert_eq!(b.claim(&venue("a", "99", "0.5", 10_100)), None);
        let mut sell = venue("b", "100", "0.5", 10_100);
        sell.side = Side::Sell;
        assert_eq!(b.claim(&sell), None);
        assert_eq!(b.claim(&venue("c", "100", "0.4", 10_100)), None);
        assert_eq!(b.claim(&venue("d", "100", "0.5", 22_100)), None);
        assert_eq!(b.claim(&venue("e", "100", "0.5", 7_999)), None);
        // Two identical orders pair off in the order they were sent.
        assert_eq!(b.claim(&venue("f", "100", "0.5", 10_100)), Some(cid(1)));
        assert_eq!(b.claim(&venue("g", "100", "0.5", 10_120)), Some(cid(2)));
        assert_eq!(b.claim(&venue("h", "100", "0.5", 10_130)), None);
        // A bound id is found again by its id, whatever it says now.
        let mut f = venue("f", "100", "0.5", 10_100);
        f.remaining_qty = Qty::ZERO;
        assert_eq!(b.claim(&f), Some(cid(1)));
        assert_eq!(b.venue_id(&cid(2)), VenueOrderId::new(b"g"));
        assert_eq!(b.bound(&venue("i", "101", "0.5", 10_100)), None);
        // The create answer binds directly; a different id later is refused.
        assert!(b.bind(&cid(3), VenueOrderId::new(b"x").unwrap()));
        assert!(b.bind(&cid(3), VenueOrderId::new(b"x").unwrap()));
        assert!(!b.bind(&cid(3), VenueOrderId::new(b"y").unwrap()));
        assert_eq!(b.claim(&venue("x", "0", "1", 0)), Some(cid(3)));
        assert!(!b.bind(&cid(9), VenueOrderId::new(b"z").unwrap()));
    }

    #[test]
    fn market_orders_match_without_a_price_and_the_book_is_bounded() {
        let mut b = IdBook::default();
        let mut m = sent(1, "0", "2", 5_000);
        m.market = true;
        b.on_place(m);
        let mut u = venue("m", "64000.5", "2", 5_010);
        assert_eq!(b.claim(&u), None, "a limit is not the market order");
        u.order_type = "market_order".into();
        assert_eq!(b.claim(&u), Some(cid(1)));
        for n in 0..(MAX_TRACKED as u64 + 5) {
            b.on_place(sent(100 + n, "1", "1", n));
        }
        assert!(b.get(&cid(1)).is_none(), "the oldest were forgotten");
        assert!(b.get(&cid(100 + MAX_TRACKED as u64 + 4)).is_some());
    }
}
