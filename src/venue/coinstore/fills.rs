//! Coinstore fills learned by polling, for a gateway without the private WebSocket
//! (`private_ws_url` absent): the gateway asks `GET /api/trade/match/accountMatches?symbol=`
//! (the account's recent matches on the symbol, exchanges.md §6.3) at its poll interval on
//! the REST worker, and [`FillBook::apply`] turns the items it has not seen into the same
//! `OrderEvent::Trade`s a stream push gives, with the order's cumulative quantity and quote
//! over every trade of it seen so far.
//!
//! Each trade counts once: the book keeps the trade ids it has given per order, so a trade
//! listed by several polls is given once; an order forgotten by the book (more than
//! [`ORDERS_KEPT`] orders later) whose trade is listed again gives a cumulative not past the
//! order's, which the order's state machine ignores. A match whose order id the engine does
//! not know yet (its place answer has not come) is left for a later poll.
//!
//! The items as the docs give them ("Get user's latest trade": a sample and a field table):
//! `orderId`, `tradeId`, `execQty` and `execAmt` (numbers in the sample, strings in the
//! table: both read), `fee` in the currency numbered `feeCurrencyId`, which is the pair's
//! `baseCurrencyId` or `quoteCurrencyId` (the sample's fee is in the base it bought), and
//! `matchRole` TAKER(1) / MAKER(-1). No price is listed: a trade's price is `execAmt /
//! execQty`. The list is the latest page (`pageSize` default 20, not set: a burst of more
//! than 20 trades between two polls leaves the older ones to the open-orders sweep and the
//! order query, which bring the cumulative figures without trade detail).
//!
//! Unconfirmed readings (listed in `super::UNCONFIRMED`): the list is newest first; a fee
//! currency that is neither of the pair's is refused (the answer is dropped, counted).

use std::collections::{HashMap, VecDeque};

use serde_json::Value;

use crate::types::order::OrderEvent;
use crate::types::{
    AssetCode, ClientOrderId, Notional, Price, Qty, TradeId, UnixNanos, VenueOrderId,
};
use crate::venue::decimal::floor8;
use crate::venue::order::SessionEvent;

use super::session::IdBook;

/// How often a gateway without `private_ws_url` polls the recent fills, open orders and
/// balances: per symbol two requests and one for balances per poll, far inside Coinstore's
/// 120 per 3 s per user.
pub const POLL_EVERY: std::time::Duration = std::time::Duration::from_millis(500);

/// Orders whose trades the book remembers (oldest forgotten first).
pub const ORDERS_KEPT: usize = 4096;

#[derive(Debug, Default)]
struct Seen {
    trades: Vec<u64>,
    cum_qty: Qty,
    cum_quote: Notional,
}

/// The trades already given, per order.
#[derive(Debug, Default)]
pub struct FillBook {
    orders: HashMap<ClientOrderId, Seen>,
    order: VecDeque<ClientOrderId>,
}

/// One match item as read.
struct Item {
    ord: u64,
    trade: u64,
    qty: Qty,
    quote: Notional,
    price: Price,
    fee: Qty,
    fee_asset: AssetCode,
    maker: bool,
}

impl FillBook {
    /// The new trades of an answer's `data` (a list of match items of the pair whose base
    /// and quote are `pair`), oldest trade id first, as `Order { Trade }` events; an item
    /// that cannot be read fails the whole answer (nothing applied: the next poll asks again).
    pub fn apply(
        &mut self,
        data: &Value,
        ids: &IdBook,
        pair: Option<(AssetCode, AssetCode)>,
        at: UnixNanos,
    ) -> Result<Vec<SessionEvent>, String> {
        let list = data.as_array().ok_or("answer whose data is not a list")?;
        let mut items = list
            .iter()
            .map(|d| item(d, pair))
            .collect::<Result<Vec<_>, _>>()?;
        items.sort_by_key(|i| i.trade);
        let mut out = Vec::new();
        for i in items {
            let Some(cid) = ids.cid_of(i.ord) else {
                continue;
            };
            if !self.orders.contains_key(&cid) {
                if self.order.len() >= ORDERS_KEPT
                    && let Some(old) = self.order.pop_front()
                {
                    self.orders.remove(&old);
                }
                self.order.push_back(cid);
            }
            let seen = self.orders.entry(cid).or_default();
            if seen.trades.contains(&i.trade) {
                continue;
            }
            seen.trades.push(i.trade);
            seen.cum_qty = Qty::from_units(seen.cum_qty.units() + i.qty.units());
            seen.cum_quote = Notional(seen.cum_quote.0 + i.quote.0);
            out.push(SessionEvent::Order {
                cid,
                event: OrderEvent::Trade {
                    venue_order_id: VenueOrderId::from_u64(i.ord),
                    trade_id: TradeId::from_u64(i.trade),
                    last_qty: i.qty,
                    last_price: i.price,
                    cum_qty: seen.cum_qty,
                    cum_quote: seen.cum_quote,
                    fee: i.fee,
                    fee_asset: i.fee_asset,
                    is_maker: i.maker,
                    at,
                },
            });
        }
        Ok(out)
    }
}

fn id_of(v: Option<&Value>) -> Option<u64> {
    match v? {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// A decimal given as a string or a number, cut to 8 places; `neg` allowed only where said.
fn dec(d: &Value, k: &str, neg_ok: bool) -> Result<i64, String> {
    let s = match d.get(k) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) if n.is_f64() => n
            .as_f64()
            .filter(|f| f.is_finite())
            .map(|f| format!("{f:.8}"))
            .ok_or_else(|| format!("{k}: not a finite number"))?,
        Some(Value::Number(n)) => n.to_string(),
        _ => return Err(format!("match without {k:?}")),
    };
    match floor8(&s) {
        Some((false, q)) => Ok(q.units()),
        Some((true, q)) if neg_ok => Ok(-q.units()),
        _ => Err(format!("{k} {s:?}: not a decimal")),
    }
}

/// The currency of a match item's fee: `feeCurrency` when named, else `feeCurrencyId`
/// matched with the item's `baseCurrencyId` / `quoteCurrencyId` to the pair's base / quote.
pub fn fee_asset(d: &Value, pair: Option<(AssetCode, AssetCode)>) -> Result<AssetCode, String> {
    if let Some(name) = d.get("feeCurrency").and_then(Value::as_str) {
        return AssetCode::new(name.as_bytes()).ok_or_else(|| "feeCurrency too long".into());
    }
    let fee = id_of(d.get("feeCurrencyId")).ok_or("match without a fee currency")?;
    let (base, quote) = pair.ok_or("match of a symbol whose assets are not configured")?;
    if id_of(d.get("baseCurrencyId")) == Some(fee) {
        Ok(base)
    } else if id_of(d.get("quoteCurrencyId")) == Some(fee) {
        Ok(quote)
    } else {
        Err(format!(
            "feeCurrencyId {fee} is neither the base's nor the quote's"
        ))
    }
}

fn item(d: &Value, pair: Option<(AssetCode, AssetCode)>) -> Result<Item, String> {
    let ord = id_of(d.get("orderId")).ok_or("match without orderId")?;
    let trade = id_of(d.get("tradeId")).ok_or("match without tradeId")?;
    let qty = dec(d, "execQty", false)?;
    if qty == 0 {
        return Err("match with execQty 0".into());
    }
    let quote = dec(d, "execAmt", false)?;
    // execAmt / execQty, to 10^-8 (both at 10^-8: quote × 10^8 / qty).
    let price = i64::try_from(i128::from(quote) * 100_000_000 / i128::from(qty))
        .map_err(|_| "execAmt / execQty out of range")?;
    let fee = dec(d, "fee", true)?;
    let fee_asset = fee_asset(d, pair)?;
    let maker = match d.get("matchRole") {
        Some(Value::Number(n)) if n.as_i64() == Some(-1) => true,
        Some(Value::Number(n)) if n.as_i64() == Some(1) => false,
        Some(Value::String(s)) if s == "MAKER" => true,
        Some(Value::String(s)) if s == "TAKER" => false,
        other => return Err(format!("matchRole {other:?}")),
    };
    Ok(Item {
        ord,
        trade,
        qty: Qty::from_units(qty),
        quote: Notional::from_price(Price::from_units(quote)),
        price: Price::from_units(price),
        fee: Qty::from_units(fee),
        fee_asset,
        maker,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cid(n: u64) -> ClientOrderId {
        ClientOrderId::mint(1_700_000_000_000, crate::types::StrategyId(0), n).unwrap()
    }

    fn pair() -> Option<(AssetCode, AssetCode)> {
        Some((
            AssetCode::new(b"BTC").unwrap(),
            AssetCode::new(b"USDT").unwrap(),
        ))
    }

    /// The table's form: amounts as strings, the fee in the quote (30), a maker.
    fn m(ord: u64, trade: u64, qty: &str, amt: &str) -> Value {
        json!({"orderId": ord, "tradeId": trade.to_string(), "execQty": qty, "execAmt": amt,
            "fee": "0.001", "feeCurrencyId": 30, "baseCurrencyId": 44, "quoteCurrencyId": 30,
            "matchRole": -1})
    }

    /// The docs' sample item ("Get user's latest trade"), as printed.
    const DOC_SAMPLE: &str = r#"{"data":[{"id":3984987,"remainingQty":0E-18,"matchRole":1,
        "feeCurrencyId":44,"acturalFeeRate":0.002000000000000000,"role":1,"accountId":1138204,
        "instrumentId":15,"baseCurrencyId":44,"quoteCurrencyId":30,
        "execQty":40.900000000000000000,"orderState":50,"matchId":258338866,
        "orderId":1717384395096065,"side":1,"execAmt":8.887161000000000000,
        "selfDealingQty":0E-18,"tradeId":11523732,"fee":0.081800000000000000,
        "matchTime":1637825389,"seq":null}],"code":0}"#;

    #[test]
    fn the_docs_sample_decodes_to_a_taker_trade_with_its_fee_in_the_base() {
        let v: Value = serde_json::from_str(DOC_SAMPLE).unwrap();
        let mut ids = IdBook::default();
        let _ = ids.learn(1_717_384_395_096_065, cid(3));
        let evs = FillBook::default()
            .apply(&v["data"], &ids, pair(), UnixNanos(5))
            .unwrap();
        let [SessionEvent::Order { cid: c, event }] = &evs[..] else {
            panic!("{evs:?}")
        };
        assert_eq!(*c, cid(3));
        let OrderEvent::Trade {
            venue_order_id,
            trade_id,
            last_qty,
            last_price,
            cum_qty,
            cum_quote,
            fee,
            fee_asset,
            is_maker,
            ..
        } = event
        else {
            panic!("{event:?}")
        };
        assert_eq!(venue_order_id.as_u64(), Some(1_717_384_395_096_065));
        assert_eq!(trade_id.as_u64(), Some(11_523_732));
        assert_eq!(*last_qty, Qty::parse("40.9").unwrap());
        assert_eq!(*cum_qty, Qty::parse("40.9").unwrap());
        assert_eq!(
            *cum_quote,
            Notional::from_price(Price::parse("8.887161").unwrap())
        );
        // 8.887161 / 40.9 = 0.21729.
        assert_eq!(*last_price, Price::parse("0.21729").unwrap());
        assert_eq!(*fee, Qty::parse("0.0818").unwrap());
        assert_eq!(fee_asset.as_str(), "BTC");
        assert!(!is_maker);
    }

    fn cums(evs: &[SessionEvent]) -> Vec<(u64, i64)> {
        evs.iter()
            .map(|e| match e {
                SessionEvent::Order {
                    event:
                        OrderEvent::Trade {
                            trade_id, cum_qty, ..
                        },
                    ..
                } => (trade_id.as_u64().unwrap_or(0), cum_qty.units()),
                other => panic!("not a trade: {other:?}"),
            })
            .collect()
    }

    #[test]
    fn each_trade_is_given_once_with_its_orders_cumulative() {
        let mut ids = IdBook::default();
        let _ = ids.learn(7, cid(1));
        let mut book = FillBook::default();
        // Newest first, as the venue lists them; a match of an order not known yet.
        let first = json!([
            m(7, 11, "0.5", "50"),
            m(9, 10, "1", "100"),
            m(7, 10, "1", "100")
        ]);
        let evs = book.apply(&first, &ids, pair(), UnixNanos(1)).unwrap();
        assert_eq!(cums(&evs), vec![(10, 100_000_000), (11, 150_000_000)]);
        // The same list again plus one new trade: only the new one, cumulative 2.
        let second = json!([
            m(7, 12, "0.5", "50"),
            m(7, 11, "0.5", "50"),
            m(7, 10, "1", "100")
        ]);
        let evs = book.apply(&second, &ids, pair(), UnixNanos(2)).unwrap();
        assert_eq!(cums(&evs), vec![(12, 200_000_000)]);
        let SessionEvent::Order {
            cid: c,
            event:
                OrderEvent::Trade {
                    cum_quote,
                    fee,
                    fee_asset,
                    is_maker,
                    ..
                },
        } = &evs[0]
        else {
            panic!("{evs:?}")
        };
        assert_eq!(*c, cid(1));
        assert_eq!(*cum_quote, Notional::from_price(Price::from_int(200)));
        assert_eq!(fee.units(), 100_000);
        assert_eq!(fee_asset.as_str(), "USDT");
        assert!(is_maker);
        // Order 9 learned later: its earlier trade is given then.
        let _ = ids.learn(9, cid(2));
        let evs = book.apply(&first, &ids, pair(), UnixNanos(3)).unwrap();
        assert_eq!(cums(&evs), vec![(10, 100_000_000)]);
        assert!(
            book.apply(&second, &ids, pair(), UnixNanos(4))
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn an_unreadable_item_fails_the_answer_and_applies_nothing() {
        let mut ids = IdBook::default();
        let _ = ids.learn(7, cid(1));
        let mut book = FillBook::default();
        let mut bad = m(7, 11, "0.5", "50");
        bad["matchRole"] = json!(0);
        let err = book
            .apply(
                &json!([m(7, 10, "1", "100"), bad]),
                &ids,
                pair(),
                UnixNanos(1),
            )
            .unwrap_err();
        assert!(err.contains("matchRole"), "{err}");
        let mut foreign_fee = m(7, 12, "1", "1");
        foreign_fee["feeCurrencyId"] = json!(99);
        for broken in [
            json!({"data": 1}),
            json!([{"orderId": 7}]),
            json!([m(7, 1, "-1", "1")]),
            json!([foreign_fee]),
        ] {
            assert!(
                book.apply(&broken, &ids, pair(), UnixNanos(1)).is_err(),
                "{broken}"
            );
        }
        assert!(
            book.apply(&json!([m(7, 10, "1", "100")]), &ids, None, UnixNanos(1))
                .is_err()
        );
        // Nothing was remembered: the good trade is still given by the next poll.
        let evs = book
            .apply(&json!([m(7, 10, "1", "100")]), &ids, pair(), UnixNanos(2))
            .unwrap();
        assert_eq!(cums(&evs), vec![(10, 100_000_000)]);
    }
}
