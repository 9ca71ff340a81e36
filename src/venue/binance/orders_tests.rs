//! Tests of `orders`: the documentation's signature vector, REST queries, and the logged-on
//! session's one-pass requests against the general encoder.

use super::*;

const KEY: &str = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A";
const SECRET: &str = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";

#[test]
fn ws_order_place_matches_the_documentation_vector() {
    // web-socket-api.md order.place example: the doc's payload and signature.
    let signer = HmacSigner::from_bytes(SECRET.as_bytes());
    let auth = Auth {
        api_key: KEY,
        signer: &signer,
        recv_window_ms: 100,
        timestamp_ms: 1_645_423_376_532,
        ws: WsAuth::Hmac,
    };
    let cid = ClientOrderId::parse("x").unwrap();
    let o = NewOrder {
        symbol: "BTCUSDT",
        side: Side::Sell,
        kind: OrderKind::Limit,
        tif: TimeInForce::Gtc,
        price: Price::parse("52000.00").unwrap(),
        qty: Qty::parse("0.01").unwrap(),
        cid: &cid,
        price_decimals: 2,
        qty_decimals: 8,
    };
    // The doc's request has no client id or response type; sign the same set of params.
    let mut p = WsParams::new();
    let mut scratch = WsScratch::default();
    let pn = o.price.write_fixed(2, &mut scratch.price);
    let qn = o.qty.write_fixed(8, &mut scratch.qty);
    p.push("symbol", b"BTCUSDT", true);
    p.push("side", b"SELL", true);
    p.push("type", b"LIMIT", true);
    p.push("timeInForce", b"GTC", true);
    p.push("quantity", &scratch.qty[..qn], true);
    p.push("price", &scratch.price[..pn], true);
    p.push("recvWindow", b"100", false);
    p.push("timestamp", b"1645423376532", false);
    p.push("apiKey", KEY.as_bytes(), true);
    let mut out = Vec::new();
    let mut payload = Vec::new();
    p.write(
        "4885f793-e5ad-4c3b-8f6c-55d891472b71",
        "order.place",
        &auth,
        &mut payload,
        &mut out,
    );
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(
        v["params"]["signature"],
        "aa1b5712c094bc4e57c05a1a5c1fd8d88dcd628338ea863fec7b88e59fe2db24"
    );
    assert_eq!(v["params"]["quantity"], "0.01000000");
    assert_eq!(v["params"]["recvWindow"], 100);
    assert_eq!(v["method"], "order.place");
    // And the engine's own encoder produces valid JSON with every parameter signed.
    let mut out2 = Vec::new();
    ws_new_order(&o, &auth, "r1", &mut scratch, &mut out2);
    let v: serde_json::Value = serde_json::from_slice(&out2).unwrap();
    let sig = signer.sign_hex(&scratch.payload);
    assert_eq!(v["params"]["signature"], std::str::from_utf8(&sig).unwrap());
    assert!(
        std::str::from_utf8(&scratch.payload)
            .unwrap()
            .starts_with("apiKey=vmPU")
    );
    assert_eq!(v["params"]["newClientOrderId"], "x");
}

/// On a logged-on session the one-pass writer gives the same bytes as `WsParams`, for
/// every order kind, a cancel-replace and a cancel, and across timestamps (the cached
/// digits follow the value).
#[test]
fn logged_on_requests_match_the_general_encoder() {
    let signer = HmacSigner::from_bytes(SECRET.as_bytes());
    let cid = ClientOrderId::mint(1_700_000_000_000, crate::types::StrategyId(2), 3).unwrap();
    let old = ClientOrderId::mint(1_700_000_000_000, crate::types::StrategyId(2), 2).unwrap();
    let (mut a, mut b) = (WsScratch::default(), WsScratch::default());
    let (mut fast, mut general) = (Vec::new(), Vec::new());
    for (k, kind) in [OrderKind::Limit, OrderKind::LimitMaker, OrderKind::Market]
        .into_iter()
        .enumerate()
    {
        for ts in [1_700_000_000_123, 1_700_000_000_123, 1_700_000_000_124, 7] {
            let auth = Auth {
                api_key: KEY,
                signer: &signer,
                recv_window_ms: 5000 + k as u64,
                timestamp_ms: ts,
                ws: WsAuth::Session,
            };
            let o = NewOrder {
                symbol: "BTCUSDT",
                side: if k == 1 { Side::Sell } else { Side::Buy },
                kind,
                tif: TimeInForce::Ioc,
                price: Price::parse("61837.6").unwrap(),
                qty: Qty::parse("0.001").unwrap(),
                cid: &cid,
                price_decimals: 2,
                qty_decimals: 5,
            };
            ws_new_order(&o, &auth, "17", &mut a, &mut fast);
            ws_new_order_params(&o, &auth, "17", &mut b, &mut general);
            assert_eq!(fast, general, "{}", String::from_utf8_lossy(&fast));
            ws_cancel_replace(&o, &old, &auth, "18", &mut a, &mut fast);
            ws_cancel_replace_params(&o, &old, &auth, "18", &mut b, &mut general);
            assert_eq!(fast, general, "{}", String::from_utf8_lossy(&fast));
            ws_by_client_id(
                "order.cancel",
                "BTCUSDT",
                &cid,
                &auth,
                "19",
                &mut a,
                &mut fast,
            );
            ws_by_client_id_params(
                "order.cancel",
                "BTCUSDT",
                &cid,
                &auth,
                "19",
                &mut b,
                &mut general,
            );
            assert_eq!(fast, general, "{}", String::from_utf8_lossy(&fast));
            let v: serde_json::Value = serde_json::from_slice(&fast).unwrap();
            assert_eq!(v["params"]["timestamp"], ts);
            assert!(v["params"].get("apiKey").is_none());
        }
    }
}

#[test]
fn rest_new_order_limit_and_market() {
    let signer = HmacSigner::from_bytes(SECRET.as_bytes());
    let auth = Auth {
        api_key: KEY,
        signer: &signer,
        recv_window_ms: 5000,
        timestamp_ms: 1,
        ws: WsAuth::Hmac,
    };
    let cid = ClientOrderId::mint(1, crate::types::StrategyId(2), 3).unwrap();
    let mut o = NewOrder {
        symbol: "BTCUSDT",
        side: Side::Buy,
        kind: OrderKind::LimitMaker,
        tif: TimeInForce::Gtc,
        price: Price::parse("61837.63").unwrap(),
        qty: Qty::parse("0.001").unwrap(),
        cid: &cid,
        price_decimals: 2,
        qty_decimals: 5,
    };
    let mut buf = Vec::new();
    let q = std::str::from_utf8(rest_new_order(&o, &auth, &mut buf))
        .unwrap()
        .to_owned();
    assert!(q.starts_with("symbol=BTCUSDT&side=BUY&type=LIMIT_MAKER&quantity=0.00100&price=61837.63&newClientOrderId=mk"), "{q}");
    let (signed, sig) = q.rsplit_once("&signature=").unwrap();
    assert_eq!(sig.as_bytes(), signer.sign_hex(signed.as_bytes()));
    o.kind = OrderKind::Market;
    let q = std::str::from_utf8(rest_new_order(&o, &auth, &mut buf)).unwrap();
    assert!(
        q.starts_with("symbol=BTCUSDT&side=BUY&type=MARKET&quantity=0.00100&newClientOrderId="),
        "{q}"
    );
}
