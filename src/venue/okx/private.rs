//! OKX v5 private messages, decoded (exchanges.md §2.6–2.9): order items (the `orders`
//! channel, order-details and pending-orders answers), fills, balances, per-item error codes,
//! and what each error code means for an order. Off the market-data hot path.

use serde_json::Value;

use crate::types::order::{AssetCode, SnapshotStatus};
use crate::types::{ClientOrderId, Notional, Price, Qty, Side, TradeId, UnixNanos, VenueOrderId};
use crate::venue::order::{Balance, OrderSnapshot, VenueError};

/// Why a private message could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("not JSON: {0}")]
    Json(String),
    #[error("missing or malformed field {0}")]
    Field(&'static str),
    #[error("unknown value {1:?} of {0}")]
    Unknown(&'static str, String),
}

/// What an OKX error code means for the request that got it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// The venue refused it; nothing was done.
    Rejected,
    /// The order does not exist (or no longer can be changed): query it.
    NotFound,
    /// Too many requests: wait.
    RateLimited,
    /// The key, passphrase, signature or timestamp was refused.
    Auth,
    /// The venue may or may not have acted (busy, internal error).
    Unknown,
}

/// The class of `code` (§2.9).
pub fn classify(code: i32) -> ErrorClass {
    match code {
        50011 | 50013 | 50061 | 60014 => ErrorClass::RateLimited,
        50102 | 50105 | 50110 | 50111 | 50112 | 50113 | 60004..=60009 | 63999 => ErrorClass::Auth,
        51400 | 51401 | 51402 | 51603 => ErrorClass::NotFound,
        50001 | 50004 | 50026 => ErrorClass::Unknown,
        _ => ErrorClass::Rejected,
    }
}

fn field<'v>(v: &'v Value, k: &'static str) -> Result<&'v Value, DecodeError> {
    v.get(k).ok_or(DecodeError::Field(k))
}

pub(super) fn str_of<'v>(v: &'v Value, k: &'static str) -> Result<&'v str, DecodeError> {
    field(v, k)?.as_str().ok_or(DecodeError::Field(k))
}

fn opt_str<'v>(v: &'v Value, k: &str) -> Option<&'v str> {
    v.get(k).and_then(Value::as_str).filter(|s| !s.is_empty())
}

/// An OKX code (`"0"`, `"51008"`) as a number.
pub fn code_of(v: &Value, k: &'static str) -> Result<i32, DecodeError> {
    str_of(v, k)?.parse().map_err(|_| DecodeError::Field(k))
}

/// A decimal with at most 8 fractional digits, exactly.
fn qty_of(v: &Value, k: &'static str) -> Result<Qty, DecodeError> {
    Qty::parse(str_of(v, k)?).map_err(|_| DecodeError::Field(k))
}

pub use crate::venue::decimal::floor8;

fn ms(v: &Value, k: &'static str) -> Result<UnixNanos, DecodeError> {
    str_of(v, k)?
        .parse::<u64>()
        .map(UnixNanos::from_millis)
        .map_err(|_| DecodeError::Field(k))
}

/// One fill an order item reports.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FillItem {
    pub trade_id: TradeId,
    pub price: Price,
    pub qty: Qty,
    /// Charged, positive (OKX prints a charge negative); a rebate is zero here.
    pub fee: Qty,
    pub fee_asset: AssetCode,
    pub is_maker: bool,
    pub at: UnixNanos,
}

/// One order as OKX reports it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OrderItem {
    /// `None` when `clOrdId` is empty (an order this engine did not place).
    pub cid: Option<ClientOrderId>,
    pub ord_id: VenueOrderId,
    pub side: Side,
    pub state: SnapshotStatus,
    /// `accFillSz`: the cumulative filled quantity.
    pub acc_fill: Qty,
    /// `avgPx`, when any fill happened.
    pub avg_px: Option<Price>,
    pub price: Option<Price>,
    pub qty: Qty,
    pub fill: Option<FillItem>,
    /// `amendResult` of a push that reports an amend: `Some(true)` amended, `Some(false)`
    /// refused (`-1`, or `1`: refused and the order cancelled, which its state then says);
    /// `None` when the push is not about an amend.
    pub amended: Option<bool>,
    pub at: UnixNanos,
}

pub fn state_of(s: &str) -> Result<SnapshotStatus, DecodeError> {
    Ok(match s {
        "live" | "partially_filled" => SnapshotStatus::Open,
        "filled" => SnapshotStatus::Filled,
        "canceled" | "mmp_canceled" => SnapshotStatus::Cancelled,
        other => return Err(DecodeError::Unknown("state", other.to_owned())),
    })
}

/// An order item of the `orders` channel or an order query answer.
pub fn order_item(v: &Value) -> Result<OrderItem, DecodeError> {
    let cid = match opt_str(v, "clOrdId") {
        Some(c) => Some(ClientOrderId::parse(c).map_err(|_| DecodeError::Field("clOrdId"))?),
        None => None,
    };
    let ord_id =
        VenueOrderId::new(str_of(v, "ordId")?.as_bytes()).ok_or(DecodeError::Field("ordId"))?;
    let side = match str_of(v, "side")? {
        "buy" => Side::Buy,
        "sell" => Side::Sell,
        other => return Err(DecodeError::Unknown("side", other.to_owned())),
    };
    let fill = match (opt_str(v, "tradeId"), opt_str(v, "fillSz")) {
        (Some(t), Some(sz)) if Qty::parse(sz).is_ok_and(|q| !q.is_zero()) => {
            let fee_asset = opt_str(v, "fillFeeCcy")
                .or(opt_str(v, "feeCcy"))
                .and_then(|c| AssetCode::new(c.as_bytes()))
                .unwrap_or_default();
            // A charge is negative; a rebate (positive) costs nothing.
            let fee = match opt_str(v, "fillFee").map(floor8) {
                Some(Some((true, q))) => q,
                Some(Some((false, _))) | None => Qty::ZERO,
                Some(None) => return Err(DecodeError::Field("fillFee")),
            };
            Some(FillItem {
                trade_id: TradeId::new(t.as_bytes()).ok_or(DecodeError::Field("tradeId"))?,
                price: Price::parse(str_of(v, "fillPx")?)
                    .map_err(|_| DecodeError::Field("fillPx"))?,
                qty: qty_of(v, "fillSz")?,
                fee,
                fee_asset,
                is_maker: opt_str(v, "execType") == Some("M"),
                at: ms(v, "fillTime").or_else(|_| ms(v, "uTime"))?,
            })
        }
        _ => None,
    };
    Ok(OrderItem {
        cid,
        ord_id,
        side,
        state: state_of(str_of(v, "state")?)?,
        acc_fill: qty_of(v, "accFillSz")?,
        avg_px: opt_str(v, "avgPx").and_then(|p| Price::parse(p).ok()),
        price: opt_str(v, "px").and_then(|p| Price::parse(p).ok()),
        qty: qty_of(v, "sz")?,
        fill,
        amended: match opt_str(v, "amendResult") {
            Some("0") => Some(true),
            Some("-1" | "1") => Some(false),
            _ => None,
        },
        at: ms(v, "uTime").or_else(|_| ms(v, "cTime"))?,
    })
}

impl OrderItem {
    /// The cumulative quote as the venue's average price says (`avgPx × accFillSz`); exact
    /// when the average is, which is how reconciliation reads it.
    pub fn quote_from_avg(&self) -> Notional {
        match self.avg_px {
            Some(p) => Notional::of(p, self.acc_fill),
            None => Notional(0),
        }
    }

    /// As a reconciliation snapshot (`symbol` is the instrument's).
    pub fn snapshot(&self, symbol: &str) -> Option<OrderSnapshot> {
        Some(OrderSnapshot {
            cid: self.cid?,
            symbol: symbol.to_owned(),
            venue_order_id: self.ord_id,
            status: self.state,
            cum_qty: self.acc_fill,
            cum_quote: self.quote_from_avg(),
            price: self.price.unwrap_or(Price::ZERO),
            orig_qty: self.qty,
            side: self.side,
        })
    }
}

/// `details` of a balance answer or `account` push: free (`availBal`) and locked
/// (`frozenBal`) per currency, cut to 8 decimals.
pub fn balances(v: &Value) -> Result<Vec<Balance>, DecodeError> {
    let details = field(v, "details")?
        .as_array()
        .ok_or(DecodeError::Field("details"))?;
    details
        .iter()
        .map(|d| {
            let amount = |k: &'static str| -> Result<Qty, DecodeError> {
                match opt_str(d, k) {
                    None => Ok(Qty::ZERO),
                    Some(s) => floor8(s).map(|(_, q)| q).ok_or(DecodeError::Field(k)),
                }
            };
            Ok(Balance {
                asset: AssetCode::new(str_of(d, "ccy")?.as_bytes())
                    .ok_or(DecodeError::Field("ccy"))?,
                free: amount("availBal")?,
                locked: amount("frozenBal")?,
            })
        })
        .collect()
}

/// `(trade id, fee charged, fee asset)` of each item of a fills answer.
pub fn fill_fees(data: &[Value]) -> Result<Vec<(TradeId, Qty, AssetCode)>, DecodeError> {
    data.iter()
        .map(|f| {
            let fee = match opt_str(f, "fee").map(floor8) {
                Some(Some((true, q))) => q,
                Some(Some((false, _))) | None => Qty::ZERO,
                Some(None) => return Err(DecodeError::Field("fee")),
            };
            Ok((
                TradeId::new(str_of(f, "tradeId")?.as_bytes())
                    .ok_or(DecodeError::Field("tradeId"))?,
                fee,
                opt_str(f, "feeCcy")
                    .and_then(|c| AssetCode::new(c.as_bytes()))
                    .unwrap_or_default(),
            ))
        })
        .collect()
}

/// The venue error of an answer item (`sCode`/`sMsg`) or of the whole answer (`code`/`msg`).
pub fn item_error(v: &Value) -> Option<VenueError> {
    let code = v.get("sCode").or(v.get("code"))?.as_str()?;
    if code == "0" {
        return None;
    }
    Some(VenueError {
        code: code.parse().unwrap_or(-1),
        msg: v
            .get("sMsg")
            .or(v.get("msg"))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(name: &str) -> Value {
        let p = format!(
            "{}/tests/fixtures/okx/samples/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        let text = std::fs::read_to_string(p).unwrap();
        serde_json::from_str(&crate::venue::decode::strip_comments(&text)).unwrap()
    }

    #[test]
    fn the_documented_fill_push() {
        let v = sample("okx_orders_channel_push_fill.json");
        let o = order_item(&v["data"][0]).unwrap();
        assert_eq!(o.cid, None, "the sample's clOrdId is empty");
        assert_eq!(o.ord_id.as_str(), "452197707845865472");
        assert_eq!((o.side, o.state), (Side::Sell, SnapshotStatus::Filled));
        assert_eq!(o.acc_fill, Qty::parse("0.001").unwrap());
        let f = o.fill.unwrap();
        assert_eq!(f.trade_id.as_str(), "242589207");
        assert_eq!(
            (f.price, f.qty),
            (
                Price::parse("31527.1").unwrap(),
                Qty::parse("0.001").unwrap()
            )
        );
        assert_eq!(
            (f.fee, f.fee_asset.as_str()),
            (Qty::parse("0.02522168").unwrap(), "USDT")
        );
        assert!(f.is_maker);
        assert_eq!(f.at, UnixNanos::from_millis(1_654_084_353_263));
    }

    #[test]
    fn query_answers_balances_and_fees() {
        let v = sample("okx_order_details_response.json");
        let o = order_item(&v["data"][0]).unwrap();
        assert_eq!(o.state, SnapshotStatus::Filled);
        assert_eq!(o.acc_fill, Qty::parse("0.00192834").unwrap());
        assert_eq!(
            o.quote_from_avg(),
            Notional::of(Price::parse("51858").unwrap(), o.acc_fill)
        );
        // The documented fee has 11 decimals: cut to the engine's 8.
        assert_eq!(
            floor8("-0.00000192834"),
            Some((true, Qty::parse("0.00000192").unwrap()))
        );
        let v = sample("okx_orders_pending_response.json");
        let o = order_item(&v["data"][0]).unwrap();
        assert_eq!((o.state, o.fill), (SnapshotStatus::Open, None));
        assert_eq!(o.price, Some(Price::parse("13013.5").unwrap()));
        let v = sample("okx_account_balance_response.json");
        let b = balances(&v["data"][0]).unwrap();
        assert_eq!(b[0].asset.as_str(), "USDT");
        assert_eq!(b[0].free, Qty::parse("4834.31709362").unwrap());
        assert_eq!(b[0].locked, Qty::parse("158.573").unwrap());
    }

    #[test]
    fn answers_and_codes() {
        let v = sample("okx_place_order_response.json");
        assert_eq!(item_error(&v["data"][0]), None);
        let e = item_error(&serde_json::json!({"sCode": "51008", "sMsg": "Insufficient balance"}))
            .unwrap();
        assert_eq!((e.code, classify(e.code)), (51008, ErrorClass::Rejected));
        assert_eq!(classify(50011), ErrorClass::RateLimited);
        assert_eq!(classify(50113), ErrorClass::Auth);
        assert_eq!(classify(51603), ErrorClass::NotFound);
        assert_eq!(classify(50001), ErrorClass::Unknown);
        assert!(order_item(&serde_json::json!({"ordId": "1"})).is_err());
    }
}
