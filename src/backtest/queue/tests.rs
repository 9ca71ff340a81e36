//! The queue models on literal scripted books and prints.

use super::*;
use crate::types::StrategyId;

const I: InstrumentId = InstrumentId(0);

fn cid(n: u64) -> ClientOrderId {
    ClientOrderId::mint(1_700_000_000_000, StrategyId(0), n).unwrap()
}

fn px(s: &str) -> Price {
    Price::parse(s).unwrap()
}

fn q(s: &str) -> Qty {
    Qty::parse(s).unwrap()
}

fn lvl(p: &str, n: &str) -> Level {
    Level {
        price: px(p),
        qty: q(n),
    }
}

/// A book of literal levels, best first; its top is the best of each side.
fn book(bids: &[(&str, &str)], asks: &[(&str, &str)]) -> (TopOfBook, Depth) {
    let mut d = Depth {
        valid: true,
        ..Depth::default()
    };
    for (k, (p, n)) in bids.iter().enumerate() {
        d.bids[k] = lvl(p, n);
    }
    for (k, (p, n)) in asks.iter().enumerate() {
        d.asks[k] = lvl(p, n);
    }
    d.bid_count = bids.len();
    d.ask_count = asks.len();
    let top = TopOfBook {
        bid: d.bids[0],
        ask: d.asks[0],
        valid: true,
        ..TopOfBook::default()
    };
    (top, d)
}

/// A bid of 1 at 100 behind 5 at the touch (ask 101).
fn bid_behind_five(model: QueueModel) -> QueueMatcher {
    let (top, d) = book(&[("100", "5"), ("99", "7")], &[("101", "4")]);
    let mut m = QueueMatcher::new(model);
    let level = level_qty(Side::Buy, px("100"), &top, &d);
    assert_eq!(level, Some(q("5").units()));
    m.rest(cid(1), I, Side::Buy, px("100"), q("1"), level);
    m
}

fn print(m: &mut QueueMatcher, price: &str, qty: &str, aggressor: Side) -> Vec<MakerFill> {
    let mut out = Vec::new();
    m.on_print(I, px(price), q(qty), aggressor, &mut out);
    out
}

fn change(m: &mut QueueMatcher, bids: &[(&str, &str)], asks: &[(&str, &str)]) -> Vec<MakerFill> {
    let (top, d) = book(bids, asks);
    let mut out = Vec::new();
    m.on_book(I, &top, &d, &mut out);
    out
}

#[test]
fn an_order_at_the_touch_fills_only_after_the_queue_ahead_traded() {
    let mut m = bid_behind_five(QueueModel::None);
    // Sellers hit 3 of the 5 ahead: nothing for us.
    assert!(print(&mut m, "100", "3", Side::Sell).is_empty());
    assert_eq!(m.resting()[0].ahead, q("2").units());
    // A buyer lifting the ask does not touch our bid's queue.
    assert!(print(&mut m, "101", "10", Side::Buy).is_empty());
    assert_eq!(m.resting()[0].ahead, q("2").units());
    // 2.4 more: the last 2 ahead, then 0.4 of ours (a partial fill).
    let f = print(&mut m, "100", "2.4", Side::Sell);
    assert_eq!(
        f,
        vec![MakerFill {
            cid: cid(1),
            price: px("100"),
            qty: q("0.4")
        }]
    );
    assert_eq!(m.resting()[0].leaves, q("0.6"));
    // The rest with the next print; the order leaves the book.
    let f = print(&mut m, "100", "5", Side::Sell);
    assert_eq!(f[0].qty, q("0.6"));
    assert!(m.is_empty());
}

#[test]
fn risk_averse_queue_ignores_cancellations_until_the_level_is_shorter_than_it() {
    let mut m = bid_behind_five(QueueModel::None);
    // 2 of the 5 cancelled: still 5 ahead by this rule...
    change(&mut m, &[("100", "3"), ("99", "7")], &[("101", "4")]);
    assert_eq!(m.resting()[0].ahead, q("3").units());
    // ...bounded by what is left at the level: 3. New quantity joins behind us.
    change(&mut m, &[("100", "9"), ("99", "7")], &[("101", "4")]);
    assert_eq!(m.resting()[0].ahead, q("3").units());
    assert!(print(&mut m, "100", "3", Side::Sell).is_empty());
    assert_eq!(print(&mut m, "100", "1", Side::Sell)[0].qty, q("1"));
}

#[test]
fn proportional_queue_advances_by_our_share_of_the_cancellations() {
    // 5 ahead in a level of 5 +(us, not in the recorded book) and 5 joining behind: 10.
    let mut m = bid_behind_five(QueueModel::Proportional);
    change(&mut m, &[("100", "10"), ("99", "7")], &[("101", "4")]);
    assert_eq!(m.resting()[0].ahead, q("5").units());
    // 4 of the 10 cancelled: 5/10 of them were ahead of us, so 2.
    change(&mut m, &[("100", "6"), ("99", "7")], &[("101", "4")]);
    assert_eq!(m.resting()[0].ahead, q("3").units());
    assert!(print(&mut m, "100", "3", Side::Sell).is_empty());
    assert_eq!(print(&mut m, "100", "0.5", Side::Sell)[0].qty, q("0.5"));
}

#[test]
fn probabilistic_queue_puts_cancellations_mostly_on_the_longer_side() {
    // 5 ahead, 15 behind; 8 cancelled. With power 2: share ahead = 25 / (25 + 225) = 0.1.
    let mut m = bid_behind_five(QueueModel::Probabilistic { power: 2.0 });
    change(&mut m, &[("100", "20"), ("99", "7")], &[("101", "4")]);
    change(&mut m, &[("100", "12"), ("99", "7")], &[("101", "4")]);
    assert_eq!(m.resting()[0].ahead, q("4.2").units());
    // Power 1 is the proportional rule: 8 × 5/20 = 2.
    assert_eq!(
        QueueModel::Probabilistic { power: 1.0 }.after_cancel(500, 2000, 800),
        QueueModel::Proportional.after_cancel(500, 2000, 800)
    );
    assert_eq!(QueueModel::Proportional.after_cancel(500, 2000, 800), 300);
}

#[test]
fn prints_at_the_level_are_not_counted_again_as_cancellations() {
    let mut m = bid_behind_five(QueueModel::Proportional);
    assert!(print(&mut m, "100", "2", Side::Sell).is_empty());
    // The book then shows the 3 left: the fall was the print, not cancellations.
    change(&mut m, &[("100", "3"), ("99", "7")], &[("101", "4")]);
    assert_eq!(m.resting()[0].ahead, q("3").units());
}

#[test]
fn a_print_through_the_price_or_the_ask_moving_through_fills() {
    let mut m = bid_behind_five(QueueModel::None);
    // A sell print at 99.5 traded below our bid: it reached us whatever the queue.
    let f = print(&mut m, "99.5", "0.3", Side::Sell);
    assert_eq!(f[0].qty, q("0.3"));
    // The ask moves to 100 (at our bid): the rest fills at our price.
    let f = change(&mut m, &[("99", "7")], &[("100", "2")]);
    assert_eq!(
        f,
        vec![MakerFill {
            cid: cid(1),
            price: px("100"),
            qty: q("0.7")
        }]
    );
    assert!(m.is_empty());
}

#[test]
fn a_price_beyond_the_depth_has_an_unknown_queue() {
    let (top, d) = book(&[("100", "5"), ("99", "7")], &[("101", "4")]);
    assert_eq!(level_qty(Side::Buy, px("98"), &top, &d), None);
    assert_eq!(level_qty(Side::Buy, px("99.5"), &top, &d), Some(0));
    let mut m = QueueMatcher::new(QueueModel::None);
    m.rest(cid(2), I, Side::Buy, px("98"), q("1"), None);
    // At its price with an unknown queue: nothing; through it: a fill.
    assert!(print(&mut m, "98", "50", Side::Sell).is_empty());
    assert_eq!(print(&mut m, "97", "2", Side::Sell)[0].qty, q("1"));
}

#[test]
fn one_print_is_shared_best_price_first_then_oldest() {
    let (top, d) = book(&[("100", "0"), ("99", "1")], &[("101", "4")]);
    let mut m = QueueMatcher::new(QueueModel::None);
    m.rest(
        cid(1),
        I,
        Side::Buy,
        px("99"),
        q("1"),
        level_qty(Side::Buy, px("99"), &top, &d),
    );
    m.rest(cid(2), I, Side::Buy, px("100"), q("1"), Some(0));
    m.rest(cid(3), I, Side::Buy, px("100"), q("1"), Some(0));
    // 1.5 sold at 99: through cid 2 and 3 at 100 (1 then 0.5), none left for cid 1.
    let f = print(&mut m, "99", "1.5", Side::Sell);
    assert_eq!(
        f.iter().map(|f| (f.cid, f.qty)).collect::<Vec<_>>(),
        vec![(cid(2), q("1")), (cid(3), q("0.5"))]
    );
    assert_eq!(m.resting().len(), 2);
}

#[test]
fn crossing_orders_take_the_recorded_levels_best_first() {
    let (top, d) = book(&[("100", "5")], &[("101", "1"), ("102", "2"), ("103", "9")]);
    let mut out = Vec::new();
    // A buy of 2.5 limited at 102 takes 1 at 101 and 1.5 at 102.
    let left = QueueMatcher::take(Side::Buy, Some(px("102")), q("2.5"), &top, &d, &mut out);
    assert_eq!(left, Qty::ZERO);
    assert_eq!(out, vec![(px("101"), q("1")), (px("102"), q("1.5"))]);
    // A buy of 5 limited at 102 leaves 2 unfilled (partial).
    let left = QueueMatcher::take(Side::Buy, Some(px("102")), q("5"), &top, &d, &mut out);
    assert_eq!(left, q("2"));
    // A market sell takes the bid.
    let left = QueueMatcher::take(Side::Sell, None, q("1"), &top, &d, &mut out);
    assert_eq!((left, out), (Qty::ZERO, vec![(px("100"), q("1"))]));
}

#[test]
fn a_newer_top_replaces_the_stale_depth_at_and_before_it() {
    // The depth (100 ms) still shows 101; the bookTicker says the ask is now 101.5 × 2.
    let (mut top, d) = book(&[("100", "5")], &[("101", "1"), ("102", "2")]);
    top.ask = lvl("101.5", "2");
    let mut out = Vec::new();
    let left = QueueMatcher::take(Side::Buy, Some(px("102")), q("3"), &top, &d, &mut out);
    assert_eq!(out, vec![(px("101.5"), q("2")), (px("102"), q("1"))]);
    assert_eq!(left, Qty::ZERO);
}
