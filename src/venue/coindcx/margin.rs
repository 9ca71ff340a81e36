//! CoinDCX futures' margin currency (exchanges.md §7.1, §7.3): the same `B-BTC_USDT`
//! instrument is traded from a USDT wallet or an INR wallet, named on every private call as
//! `margin_currency_short_name`. Prices and quantities stay in the instrument's quote (USDT);
//! the margin an order holds, its fees, the position's margin and PnL are in the margin
//! currency, an INR order converting at its `settlement_currency_conversion_price` (INR per
//! USDT, 89.0 in the docs' samples). Everything mako decides about INR margin where the docs
//! are silent is here, and listed in [`super::UNCONFIRMED`]:
//!
//! - **which wallet**: one per venue block (`margin_currency`, default `USDT`); every private
//!   call names it — create (`order.margin_currency_short_name`), the order list and positions
//!   (a one-item list), the leverage update (the field third-party clients send; the
//!   reference's table omits it) — and items of the other wallet (an order, a position of the
//!   same pair) are not this block's ([`is_mine`]); an item naming none is USDT (the docs' USDT
//!   answers predate the field);
//! - **the conversion price** is the venue's, read from each order item; mako never chooses
//!   one (the docs do not say how CoinDCX picks it);
//! - **fees** (`fee_amount`) of an INR order are INR, reported as such (the fill's fee asset
//!   is the margin currency, never the quote), with the order's conversion price beside them
//!   (`SessionEvent::FeeRate`): the engine's PnL (risk, `/status`, the grid bot's trips)
//!   counts them in USDT at the venue's own rate for that order; the wallet's balances are reported under their
//!   own `currency_short_name`, so an INR wallet's total and margin-locked part are INR;
//! - **edit** is for USDT-margined orders only ([`edits_margin`]): the gateway re-prices an
//!   INR order by cancel + new order.

/// The margin currency when a venue block names none.
pub const DEFAULT_MARGIN: &str = "USDT";

/// The margin currencies CoinDCX futures offer.
pub const MARGIN_CURRENCIES: [&str; 2] = ["USDT", "INR"];

/// Whether CoinDCX edits orders margined in `margin` (`None`: the default, USDT) in place.
/// The docs' edit endpoint is for USDT-margined futures only.
pub fn edits_margin(margin: Option<&str>) -> bool {
    margin.unwrap_or(DEFAULT_MARGIN) == "USDT"
}

/// Whether an item (order, position) whose `margin_currency_short_name` is `item` (empty: the
/// field was absent, read as USDT) belongs to a codec margined in `mine`.
pub fn is_mine(item: &str, mine: &str) -> bool {
    let item = if item.is_empty() {
        DEFAULT_MARGIN
    } else {
        item
    };
    item == mine
}

#[cfg(test)]
mod tests {
    //! The INR wallet through the codec and the session: bodies signed over the bytes sent
    //! (signatures computed independently of mako with Python's `hmac`:
    //! `hmac.new(b"mako-test-secret", BODY, hashlib.sha256).hexdigest()`), answers and pushes
    //! with literal values in the reference samples' shapes.
    use super::*;
    use crate::types::order::{AssetCode, OrderEvent};
    use crate::types::{
        ClientOrderId, OrderKind, Price, Qty, Side, StrategyId, TimeInForce, TradeId, UnixNanos,
    };
    use crate::venue::coindcx::ids::SharedIds;
    use crate::venue::coindcx::rest::{CREATE, CoindcxRest, LEVERAGE, LIST, POSITIONS};
    use crate::venue::coindcx::session::CoindcxSession;
    use crate::venue::coindcx::sign::CoindcxSigner;
    use crate::venue::order::{Balance, OrderSession, PlaceOrder, SessionEvent, VenuePosition};
    use crate::venue::rest::{Answer, RateHeaders, RestCodec, RestHead};

    const TS: u64 = 1_700_000_000_000;
    const AT: UnixNanos = UnixNanos(1_700_000_000_000_000_000);

    fn inr() -> (CoindcxRest, SharedIds) {
        let ids = SharedIds::default();
        let signer = CoindcxSigner::from_bytes(b"mako-test-secret");
        (CoindcxRest::new("k", signer, "INR", ids.clone()), ids)
    }

    fn sig(h: &RestHead) -> String {
        h.signed.iter().next().map(|(_, v)| v.to_owned()).unwrap()
    }

    fn answer(c: &mut CoindcxRest, id: u64, status: u16, body: &str) -> Vec<SessionEvent> {
        let mut out = Vec::new();
        let a = Answer::Http {
            status,
            headers: RateHeaders::default(),
            body: body.as_bytes(),
        };
        c.on_answer(id, a, AT, &mut out);
        out
    }

    fn text(buf: &[u8]) -> &str {
        std::str::from_utf8(buf).unwrap()
    }

    #[test]
    fn an_inr_codec_names_its_wallet_on_every_call() {
        let (mut c, _) = inr();
        let cid = ClientOrderId::mint(TS, StrategyId(0), 1).unwrap();
        let o = PlaceOrder {
            symbol: "B-BTC_USDT",
            cid: &cid,
            side: Side::Buy,
            kind: OrderKind::Limit,
            tif: TimeInForce::Gtc,
            price: Price::parse("30000.5").unwrap(),
            qty: Qty::parse("0.001").unwrap(),
            price_decimals: 2,
            qty_decimals: 5,
            reduce_only: false,
        };
        let mut buf = Vec::new();
        let h = c.place(&o, TS, &mut buf);
        assert_eq!(
            (h.path, text(&buf)),
            (
                CREATE,
                r#"{"timestamp":1700000000000,"order":{"side":"buy","pair":"B-BTC_USDT","order_type":"limit_order","price":"30000.50","total_quantity":0.00100,"time_in_force":"good_till_cancel","notification":"no_notification","margin_currency_short_name":"INR"}}"#
            )
        );
        assert_eq!(
            sig(&h),
            "b69133a9e009cbc9c3c16c95e20027212c862e64bb73bb88586b580ec994e501"
        );
        let h = c.open_orders("B-BTC_USDT", TS, &mut buf);
        assert_eq!(
            (h.path, text(&buf)),
            (
                LIST,
                r#"{"timestamp":1700000000000,"status":"open,partially_filled,untriggered","page":"1","size":"50","margin_currency_short_name":["INR"]}"#
            )
        );
        assert_eq!(
            sig(&h),
            "b3ec8ed6b428179c249e751ef4e128187c5b285cc97f09d4f144e76ddcfa2041"
        );
        let h = c.positions("B-BTC_USDT", TS, &mut buf).unwrap();
        assert_eq!(
            (h.path, text(&buf)),
            (
                POSITIONS,
                r#"{"timestamp":1700000000000,"page":"1","size":"50","pairs":"B-BTC_USDT","margin_currency_short_name":["INR"]}"#
            )
        );
        assert_eq!(
            sig(&h),
            "65b9ea2364ed514dfb4708f12e04c798e20aff939407c7e19e6879e46fde9052"
        );
        let five = crate::types::Rate::parse("5").unwrap();
        let h = c.set_leverage("B-BTC_USDT", five, TS, &mut buf).unwrap();
        assert_eq!(
            (h.path, text(&buf)),
            (
                LEVERAGE,
                r#"{"timestamp":1700000000000,"leverage":"5","pair":"B-BTC_USDT","margin_currency_short_name":"INR"}"#
            )
        );
        assert_eq!(
            sig(&h),
            "a10d4b27bb55b7b3c66dd533b18f6f818639d9161e2d7045acac881809b56024"
        );
        // No edit for INR: the gateway's amend is cancel + new.
        assert!(!c.amends_in_place());
        assert!(c.amend(&o, TS, &mut buf).is_none());
    }

    #[test]
    fn inr_fees_balances_and_positions_are_reported_in_inr() {
        let (mut c, _) = inr();
        let cid = ClientOrderId::mint(TS, StrategyId(0), 1).unwrap();
        let o = PlaceOrder {
            symbol: "B-BTC_USDT",
            cid: &cid,
            side: Side::Buy,
            kind: OrderKind::Limit,
            tif: TimeInForce::Gtc,
            price: Price::parse("60000").unwrap(),
            qty: Qty::parse("0.01").unwrap(),
            price_decimals: 1,
            qty_decimals: 3,
            reduce_only: false,
        };
        let mut buf = Vec::new();
        let h = c.place(&o, TS, &mut buf);
        // The create answer of a filled INR order (the sample's shape): 600 USDT at 89 INR
        // per USDT is 53,400 INR of value; its taker fee of 0.075 % is 40.05 INR.
        let filled = r#"[{"id":"c87ca633-6218-44ea-900b-e86981358cbd","pair":"B-BTC_USDT","side":"buy","status":"filled","order_type":"limit_order","leverage":5.0,"maker_fee":0.025,"taker_fee":0.075,"fee_amount":40.05,"price":60000.0,"avg_price":60000.0,"total_quantity":0.01,"remaining_quantity":0.0,"cancelled_quantity":0.0,"ideal_margin":10680.0,"margin_currency_short_name":"INR","settlement_currency_conversion_price":89.0,"created_at":1700000000040,"updated_at":1700000000090}]"#;
        let ev = answer(&mut c, h.id, 200, filled);
        assert!(
            matches!(&ev[0], SessionEvent::Order { cid: c, event: OrderEvent::Snapshot { .. } } if *c == cid),
            "{ev:?}"
        );
        // The venue's rate for the order's INR fees comes first: 89 INR per USDT.
        assert_eq!(
            ev[1],
            SessionEvent::FeeRate {
                cid,
                asset: AssetCode::new(b"INR").unwrap(),
                per_quote: Price::parse("89").unwrap(),
            }
        );
        assert_eq!(
            ev[2],
            SessionEvent::Trades {
                cid,
                trades: vec![(
                    TradeId::new(b"c87ca633-6218-44ea-900b-e86981358cbd").unwrap(),
                    Qty::parse("40.05").unwrap(),
                    AssetCode::new(b"INR").unwrap()
                )]
            }
        );
        // The wallet lists both currencies, each under its own name.
        let h = c.account(TS, &mut buf);
        let wallets = r#"[{"id":"a","currency_short_name":"USDT","balance":"12.5","locked_balance":"0"},{"id":"b","currency_short_name":"INR","balance":"100000","locked_balance":"10680.5"}]"#;
        assert_eq!(
            answer(&mut c, h.id, 200, wallets),
            vec![SessionEvent::Balances(vec![
                Balance {
                    asset: AssetCode::new(b"USDT").unwrap(),
                    free: Qty::parse("12.5").unwrap(),
                    locked: Qty::ZERO,
                },
                Balance {
                    asset: AssetCode::new(b"INR").unwrap(),
                    free: Qty::parse("89319.5").unwrap(),
                    locked: Qty::parse("10680.5").unwrap(),
                },
            ])]
        );
        // The positions of both wallets for the pair: the INR one is this codec's.
        let h = c.positions("B-BTC_USDT", TS, &mut buf).unwrap();
        let both = r#"[{"id":"u","pair":"B-BTC_USDT","active_pos":-0.5,"avg_price":61000,"liquidation_price":0,"mark_price":60000,"leverage":10,"locked_margin":3050,"margin_currency_short_name":"USDT","updated_at":1},{"id":"i","pair":"B-BTC_USDT","active_pos":0.01,"avg_price":60000,"liquidation_price":48300,"mark_price":60000,"leverage":5,"locked_margin":10680,"margin_type":"isolated","margin_currency_short_name":"INR","settlement_currency_avg_price":89.0,"updated_at":1}]"#;
        assert_eq!(
            answer(&mut c, h.id, 200, both),
            vec![SessionEvent::Position(VenuePosition {
                symbol: "B-BTC_USDT".into(),
                size: 1_000_000,
                entry: Some(Price::parse("60000").unwrap()),
                leverage: Some(crate::types::Rate::parse("5").unwrap()),
            })]
        );
        // Only the USDT wallet's position listed: flat on INR.
        let h = c.positions("B-BTC_USDT", TS, &mut buf).unwrap();
        let usdt_only = &both[..both.find(",{\"id\":\"i\"").unwrap()];
        assert_eq!(
            answer(&mut c, h.id, 200, &format!("{usdt_only}]")),
            vec![SessionEvent::Position(VenuePosition {
                symbol: "B-BTC_USDT".into(),
                size: 0,
                entry: None,
                leverage: None,
            })]
        );
    }

    #[test]
    fn an_inr_session_passes_over_the_usdt_wallets_items() {
        let ids = SharedIds::default();
        let signer = CoindcxSigner::from_bytes(b"mako-test-secret");
        let mut s = CoindcxSession::new("k", signer, ids).with_margin_currency("INR");
        let push = |name: &str, data: &str| {
            let arg = serde_json::json!({"channel": "coindcx", "event": name, "data": data});
            format!("42[\"{name}\",{arg}]")
        };
        let mut out = Vec::new();
        let usdt_order = r#"[{"id":"x","pair":"B-BTC_USDT","side":"buy","status":"open","order_type":"limit_order","fee_amount":0,"price":60000,"avg_price":0,"total_quantity":0.01,"remaining_quantity":0.01,"cancelled_quantity":0,"margin_currency_short_name":"USDT","created_at":1,"updated_at":1}]"#;
        s.on_frame(push("df-order-update", usdt_order).as_bytes(), AT, &mut out);
        assert_eq!(
            out,
            vec![SessionEvent::Other("order on the USDT wallet".into())]
        );
        out.clear();
        let usdt_position = r#"[{"id":"u","pair":"B-BTC_USDT","active_pos":-0.5,"avg_price":61000,"liquidation_price":0,"mark_price":60000,"leverage":10,"locked_margin":3050,"updated_at":1}]"#;
        s.on_frame(
            push("df-position-update", usdt_position).as_bytes(),
            AT,
            &mut out,
        );
        // No margin currency named: the USDT wallet's.
        assert_eq!(
            out,
            vec![SessionEvent::Other("position on the USDT wallet".into())]
        );
    }

    #[test]
    fn only_usdt_orders_are_edited_and_items_belong_to_their_wallet() {
        assert!(edits_margin(None));
        assert!(edits_margin(Some("USDT")));
        assert!(!edits_margin(Some("INR")));
        assert!(is_mine("INR", "INR"));
        assert!(is_mine("", "USDT"));
        assert!(!is_mine("", "INR"));
        assert!(!is_mine("USDT", "INR"));
        assert!(!is_mine("INR", "USDT"));
    }
}
