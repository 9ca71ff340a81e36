//! Simulator orders and fills, and their JSON shapes as Binance writes them (order responses,
//! query results, executionReport events).

use serde_json::{Value, json};

use crate::types::{Price, Qty, Side};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderType {
    Limit,
    LimitMaker,
    Market,
}

impl OrderType {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "LIMIT" => Some(Self::Limit),
            "LIMIT_MAKER" => Some(Self::LimitMaker),
            "MARKET" => Some(Self::Market),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Limit => "LIMIT",
            Self::LimitMaker => "LIMIT_MAKER",
            Self::Market => "MARKET",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tif {
    Gtc,
    Ioc,
    Fok,
}

impl Tif {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "GTC" => Some(Self::Gtc),
            "IOC" => Some(Self::Ioc),
            "FOK" => Some(Self::Fok),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Gtc => "GTC",
            Self::Ioc => "IOC",
            Self::Fok => "FOK",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    New,
    PartiallyFilled,
    Filled,
    Canceled,
    Expired,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::New => "NEW",
            Self::PartiallyFilled => "PARTIALLY_FILLED",
            Self::Filled => "FILLED",
            Self::Canceled => "CANCELED",
            Self::Expired => "EXPIRED",
        }
    }
    pub fn is_open(self) -> bool {
        matches!(self, Self::New | Self::PartiallyFilled)
    }
}

/// One order held by the simulator.
#[derive(Debug, Clone)]
pub struct Order {
    pub order_id: u64,
    pub account: usize,
    pub symbol: usize,
    pub symbol_name: String,
    pub client_order_id: String,
    pub side: Side,
    pub kind: OrderType,
    pub tif: Tif,
    /// Zero for MARKET orders.
    pub price: Price,
    pub orig_qty: Qty,
    /// `quoteOrderQty` of a MARKET order, zero otherwise.
    pub quote_order_qty: Price,
    pub executed: Qty,
    /// Cumulative quote transacted, in `Price` units.
    pub cum_quote: i64,
    pub status: Status,
    pub time_ms: u64,
    pub update_ms: u64,
    /// When the order started working (Binance sets it for every order that reached matching).
    pub working_ms: Option<u64>,
    /// Whether the order rests on the book.
    pub on_book: bool,
    /// Units still locked for this order (quote for buys, base for sells).
    pub locked: i64,
    /// External quantity queued ahead of this order at its price (resting orders only).
    pub queue_ahead: i64,
    /// Time priority among resting simulator orders.
    pub seq: u64,
}

impl Order {
    pub fn leaves(&self) -> Qty {
        Qty::from_units(self.orig_qty.units() - self.executed.units())
    }

    fn time_in_force(&self) -> &'static str {
        self.tif.as_str()
    }

    /// `newOrderRespType=RESULT` shape (and the base of FULL).
    pub fn result_json(&self) -> Value {
        let mut v = json!({
            "symbol": self.symbol_name,
            "orderId": self.order_id,
            "orderListId": -1,
            "clientOrderId": self.client_order_id,
            "transactTime": self.update_ms,
            "price": fx(self.price.units()),
            "origQty": fx(self.orig_qty.units()),
            "executedQty": fx(self.executed.units()),
            "origQuoteOrderQty": fx(self.quote_order_qty.units()),
            "cummulativeQuoteQty": fx(self.cum_quote),
            "status": self.status.as_str(),
            "timeInForce": self.time_in_force(),
            "type": self.kind.as_str(),
            "side": self.side.as_upper(),
        });
        if let (Some(w), Some(map)) = (self.working_ms, v.as_object_mut()) {
            map.insert("workingTime".into(), json!(w));
        }
        if let Some(map) = v.as_object_mut() {
            map.insert("selfTradePreventionMode".into(), json!("NONE"));
        }
        v
    }

    /// `newOrderRespType=ACK` shape.
    pub fn ack_json(&self) -> Value {
        json!({
            "symbol": self.symbol_name,
            "orderId": self.order_id,
            "orderListId": -1,
            "clientOrderId": self.client_order_id,
            "transactTime": self.time_ms,
        })
    }

    /// `GET /api/v3/order` and open-orders shape.
    pub fn query_json(&self) -> Value {
        json!({
            "symbol": self.symbol_name,
            "orderId": self.order_id,
            "orderListId": -1,
            "clientOrderId": self.client_order_id,
            "price": fx(self.price.units()),
            "origQty": fx(self.orig_qty.units()),
            "executedQty": fx(self.executed.units()),
            "cummulativeQuoteQty": fx(self.cum_quote),
            "status": self.status.as_str(),
            "timeInForce": self.time_in_force(),
            "type": self.kind.as_str(),
            "side": self.side.as_upper(),
            "stopPrice": fx(0),
            "icebergQty": fx(0),
            "time": self.time_ms,
            "updateTime": self.update_ms,
            "isWorking": self.working_ms.is_some(),
            "workingTime": self.working_ms.map_or(-1, |w| w as i64),
            "origQuoteOrderQty": fx(self.quote_order_qty.units()),
            "selfTradePreventionMode": "NONE",
        })
    }

    /// `DELETE /api/v3/order` shape.
    pub fn cancel_json(&self, orig_client_order_id: &str, cancel_client_order_id: &str) -> Value {
        json!({
            "symbol": self.symbol_name,
            "origClientOrderId": orig_client_order_id,
            "orderId": self.order_id,
            "orderListId": -1,
            "clientOrderId": cancel_client_order_id,
            "transactTime": self.update_ms,
            "price": fx(self.price.units()),
            "origQty": fx(self.orig_qty.units()),
            "executedQty": fx(self.executed.units()),
            "origQuoteOrderQty": fx(self.quote_order_qty.units()),
            "cummulativeQuoteQty": fx(self.cum_quote),
            "status": self.status.as_str(),
            "timeInForce": self.time_in_force(),
            "type": self.kind.as_str(),
            "side": self.side.as_upper(),
            "selfTradePreventionMode": "NONE",
        })
    }
}

/// What one executionReport says beyond the order's own state.
#[derive(Debug, Clone, Default)]
pub struct ExecInfo<'a> {
    pub exec_type: &'a str,
    /// On cancels, the cancel request's client id (`c`) while `C` carries the order's.
    pub cancel_client_id: Option<&'a str>,
    pub reject_reason: &'a str,
    pub fill: Option<&'a Fill>,
    pub execution_id: u64,
    pub event_ms: u64,
}

/// The executionReport event (unwrapped; the WS API wraps it with its subscription id).
pub fn execution_report(o: &Order, x: &ExecInfo) -> Value {
    let (c, big_c) = match x.cancel_client_id {
        Some(cancel_id) => (cancel_id.to_string(), o.client_order_id.clone()),
        None => (o.client_order_id.clone(), String::new()),
    };
    let (l, last_px, n, commission_asset, t, m, y) = match x.fill {
        Some(f) => (
            f.qty.units(),
            f.price.units(),
            fx(f.commission),
            json!(f.commission_asset),
            f.trade_id as i64,
            f.maker,
            f.quote,
        ),
        None => (0, 0, "0".to_string(), Value::Null, -1, false, 0),
    };
    let mut v = json!({
        "e": "executionReport",
        "E": x.event_ms,
        "s": o.symbol_name,
        "c": c,
        "S": o.side.as_upper(),
        "o": o.kind.as_str(),
        "f": o.time_in_force(),
        "q": fx(o.orig_qty.units()),
        "p": fx(o.price.units()),
        "P": fx(0),
        "F": fx(0),
        "g": -1,
        "C": big_c,
        "x": x.exec_type,
        "X": o.status.as_str(),
        "r": x.reject_reason,
        "i": o.order_id,
        "l": fx(l),
        "z": fx(o.executed.units()),
        "L": fx(last_px),
        "n": n,
        "N": commission_asset,
        "T": o.update_ms,
        "t": t,
        "I": x.execution_id,
        "w": o.status.is_open() && o.on_book,
        "m": m,
        "M": false,
        "O": o.time_ms,
        "Z": fx(o.cum_quote),
        "Y": fx(y),
        "Q": fx(o.quote_order_qty.units()),
    });
    if let Some(map) = v.as_object_mut() {
        if let Some(w) = o.working_ms {
            map.insert("W".into(), json!(w));
        }
        map.insert("V".into(), json!("NONE"));
    }
    v
}

/// Who was on the other side of a fill.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counterparty {
    /// External (simulated market) liquidity.
    Market,
    Order(u64),
}

/// One fill of one simulator order.
#[derive(Debug, Clone)]
pub struct Fill {
    pub trade_id: u64,
    pub order_id: u64,
    pub account: usize,
    pub symbol: usize,
    pub side: Side,
    pub price: Price,
    pub qty: Qty,
    /// Quote transacted, `Price` units.
    pub quote: i64,
    /// Commission, in units of `commission_asset`.
    pub commission: i64,
    pub commission_asset: String,
    pub maker: bool,
    pub counterparty: Counterparty,
    pub time_ms: u64,
}

impl Fill {
    /// The FULL response's `fills[]` entry.
    pub fn full_json(&self) -> Value {
        json!({
            "price": fx(self.price.units()),
            "qty": fx(self.qty.units()),
            "commission": fx(self.commission),
            "commissionAsset": self.commission_asset,
            "tradeId": self.trade_id,
        })
    }
}

/// Formats fixed-point units with Binance's eight decimals (`"61837.63000000"`).
pub fn fx(units: i64) -> String {
    Price::from_units(units).to_fixed_string(8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_eight_decimals() {
        assert_eq!(fx(0), "0.00000000");
        assert_eq!(fx(6_183_763_000_000), "61837.63000000");
        assert_eq!(fx(-1), "-0.00000001");
    }
}
