//! `/status`' `instruments`: each instrument's venue, symbol, tick, lot and limits, and the
//! last price the status room knows of it, for the dashboard's create form.

use serde_json::{Value, json};

use super::StatusState;

impl StatusState {
    /// One entry per configured instrument. `last` is the mid a strategy on it reported
    /// last (the status room sees no market data of its own), else its latest fill's price,
    /// else null; `last_source` says which.
    pub(super) fn instruments_json(&self) -> Value {
        let setup = &self.setup;
        Value::Array(
            setup
                .instrument_specs
                .iter()
                .map(|i| {
                    let mid = setup
                        .strategies
                        .iter()
                        .zip(&self.strategies)
                        .filter(|(info, _)| info.instrument == i.id)
                        .filter_map(|(_, u)| u.as_ref())
                        .max_by_key(|u| u.at)
                        .and_then(|u| u.mid);
                    let fill = self
                        .recent_trades
                        .iter()
                        .rev()
                        .find(|f| f.instrument == i.id)
                        .and_then(|f| super::avg_price(f.fill.quote, f.fill.qty));
                    let (last, source) = match (mid, fill) {
                        (Some(m), _) => (Some(m.to_string()), Some("mid")),
                        (None, Some(p)) => (Some(p), Some("fill")),
                        (None, None) => (None, None),
                    };
                    json!({
                        "id": i.id.index(),
                        "venue": setup.venue_name(i.venue),
                        "symbol": i.symbol,
                        "base": i.base,
                        "quote": i.quote,
                        "tick": i.tick_size.to_string(),
                        "lot": i.lot_size.to_string(),
                        "min_qty": i.min_qty.to_string(),
                        "min_notional": i.min_notional.to_string(),
                        "price_decimals": i.price_decimals,
                        "qty_decimals": i.qty_decimals,
                        "kind": i.contract.kind.as_str(),
                        "last": last,
                        "last_source": source,
                    })
                })
                .collect(),
        )
    }
}
