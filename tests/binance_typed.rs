//! The typed fast path of the Binance WebSocket API session (`venue::binance::typed`) tells
//! the same as the `serde_json::Value` path (error answers and account events in
//! `binance_typed_errors.rs`): every Binance documentation sample (as sent,
//! wrapped as an answer to each kind of request, and as a wrapped event), the simulator's
//! answers and events captured in `tests/fixtures/binance-wsapi-sim/`, and random field
//! values. Each comparison also records whether the fast path took the frame, and the
//! frames the order path lives on must be taken by it.

#[path = "binance_typed/pair.rs"]
mod pair;

use pair::{Pair, Req, all_requests};
use proptest::prelude::*;
use serde_json::{Value, json};

use mako::types::{Price, Qty};

const SAMPLES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/binance-samples"
);

/// The documentation's `//` annotations removed.
fn strip_comments(text: &str) -> String {
    text.lines()
        .map(|l| l.split(" //").next().unwrap_or(l))
        .collect::<Vec<_>>()
        .join("\n")
}

const WEIGHT: &str = r#"[{"rateLimitType":"ORDERS","interval":"SECOND","intervalNum":10,"limit":50,"count":3},{"rateLimitType":"REQUEST_WEIGHT","interval":"MINUTE","intervalNum":1,"limit":6000,"count":77}]"#;

/// The frames a sample can be met as, once request `id` is in flight.
fn variants(text: &str, v: &Value, id: u64) -> Vec<Vec<u8>> {
    let mut out = vec![text.as_bytes().to_vec()];
    let Some(obj) = v.as_object() else {
        return out;
    };
    if obj.contains_key("id") {
        let mut a = v.clone();
        a["id"] = json!(id.to_string());
        out.push(serde_json::to_vec(&a).unwrap());
        a["id"] = json!(id);
        out.push(serde_json::to_vec(&a).unwrap());
    } else if obj.contains_key("e") {
        out.push(serde_json::to_vec(&json!({"subscriptionId": 0, "event": v})).unwrap());
    } else if !obj.contains_key("event") {
        let weight: Value = serde_json::from_str(WEIGHT).unwrap();
        let a = json!({"id": id.to_string(), "status": 200, "result": v, "rateLimits": weight});
        out.push(serde_json::to_vec(&a).unwrap());
        // A cancel-replace whose halves are this sample (both succeeded).
        let a = json!({"id": id.to_string(), "status": 200, "result": {
            "cancelResult": "SUCCESS", "newOrderResult": "SUCCESS",
            "cancelResponse": v, "newOrderResponse": v}});
        out.push(serde_json::to_vec(&a).unwrap());
    }
    out
}

#[test]
fn documentation_samples_decode_alike() {
    let mut names: Vec<String> = std::fs::read_dir(SAMPLES)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("binance_") && (n.ends_with(".json") || n.ends_with(".jsonc")))
        .collect();
    names.sort();
    assert!(names.len() >= 20, "{names:?}");
    let mut fed = 0;
    let mut hits = Vec::new();
    for name in &names {
        let text = strip_comments(&std::fs::read_to_string(format!("{SAMPLES}/{name}")).unwrap());
        let v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        for (k, req) in all_requests().into_iter().enumerate() {
            let probe = Pair::test()
                .request(req, Price::from_int(1), Qty::from_int(1), 1)
                .0;
            for (i, frame) in variants(&text, &v, probe).into_iter().enumerate() {
                let mut p = Pair::test();
                p.request(req, Price::from_int(1), Qty::from_int(1), 1);
                fed += 1;
                if p.feed(&frame) {
                    hits.push(format!("{name} {k} {i}"));
                }
            }
        }
    }
    assert!(fed > 200, "{fed}");
    // The order path's frames are taken by the fast path (request kinds: 0 place, 1 cancel,
    // 2 status, 3 amend, 4 replace; variant 0 is the sample as written).
    for must in [
        "binance_execution_report.json 0 0",
        "binance_execution_report_legacy_listenkey.jsonc 0 1",
        "binance_wsapi_order_place_response.json 0 1",
        "binance_wsapi_order_place_response.json 0 2",
        "binance_wsapi_order_place_response.json 1 1",
        "binance_new_order_response_ack.json 0 1",
        "binance_cancel_order_response.json 1 1",
        "binance_cancel_order_response.json 4 2",
        "binance_query_order_response.json 2 1",
        "binance_outbound_account_position.json 0 0",
        // The error answer, to each kind of request.
        "binance_wsapi_error_response.json 0 1",
        "binance_wsapi_error_response.json 1 1",
        "binance_wsapi_error_response.json 2 2",
        "binance_wsapi_error_response.json 3 1",
        "binance_wsapi_error_response.json 4 1",
    ] {
        assert!(hits.iter().any(|h| h == must), "{must} not fast: {hits:#?}");
    }
}

/// The simulator's own answers and events (captured from `mako sim`'s WebSocket API with the
/// session's requests; `binance_typed_sim.rs` captures them live too). Each line: the request
/// kind it answers (`place`, `cancel`, `status`, `amend`, `replace`, or `event`) and the frame.
#[test]
fn captured_simulator_frames_decode_alike_and_fast() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/binance-wsapi-sim/frames.txt"
    );
    let text = std::fs::read_to_string(path).unwrap();
    let mut n = 0;
    for line in text.lines().filter(|l| !l.is_empty()) {
        let (kind, frame) = line.split_once(' ').unwrap();
        let mut p = Pair::new(sim_key::KEY, sim_key::SECRET);
        let c = pair::cid(1);
        let req = match kind {
            "place" => Some(Req::Place(c)),
            "cancel" => Some(Req::Cancel(c)),
            "status" => Some(Req::Status(c)),
            "amend" => Some(Req::Amend(c)),
            "replace" => Some(Req::Replace(c, pair::cid(2))),
            "event" => None,
            other => panic!("{other}"),
        };
        let mut frame: Value = serde_json::from_str(frame).unwrap();
        if let Some(req) = req {
            let (id, _) = p.request(req, Price::from_int(1), Qty::from_int(1), 1);
            frame["id"] = json!(id.to_string());
        }
        let bytes = serde_json::to_vec(&frame).unwrap();
        assert!(p.feed(&bytes), "{kind} not on the fast path: {frame}");
        n += 1;
    }
    assert!(n >= 6, "{n}");
}

mod sim_key {
    pub const KEY: &str = "k";
    pub const SECRET: &str = "s";
}

fn decimal() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => (0u64..10_000_000, 0u32..9).prop_map(|(n, d)| {
            let s = n.to_string();
            if d == 0 || s.len() <= d as usize { s } else {
                let (a, b) = s.split_at(s.len() - d as usize);
                format!("{a}.{b}")
            }
        }),
        1 => Just("abc".to_owned()),
        1 => Just("-1.5".to_owned()),
        1 => Just("1e5".to_owned()),
        1 => Just("".to_owned()),
    ]
}

/// A JSON value as text: mostly of the right kind, sometimes not.
fn string_val(s: impl Strategy<Value = String>) -> impl Strategy<Value = String> {
    prop_oneof![
        10 => s.prop_map(|s| format!("\"{s}\"")),
        1 => Just("null".to_owned()),
        1 => Just("7".to_owned()),
        1 => Just("\"a\\u0062c\"".to_owned()),
    ]
}

fn number_val() -> impl Strategy<Value = String> {
    prop_oneof![
        10 => any::<u64>().prop_map(|n| n.to_string()),
        1 => Just("-1".to_owned()),
        1 => Just("1.5".to_owned()),
        1 => Just("\"12\"".to_owned()),
        1 => Just("null".to_owned()),
    ]
}

fn cid_text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => (1u64..1000).prop_map(|n| pair::cid(n).as_str().to_owned()),
        1 => "[a-zA-Z0-9_-]{0,40}",
    ]
}

/// An object's fields (key, JSON text), some dropped, shuffled, occasionally one doubled.
fn object(fields: Vec<(&'static str, BoxedStrategy<String>)>) -> BoxedStrategy<String> {
    let parts: Vec<BoxedStrategy<Option<(&'static str, String)>>> = fields
        .into_iter()
        .map(|(k, s)| prop_oneof![12 => s.prop_map(move |v| Some((k, v))), 1 => Just(None)].boxed())
        .collect();
    (parts, any::<prop::sample::Index>(), 0..20u8)
        .prop_flat_map(|(parts, dup, dup_roll)| {
            let mut kv: Vec<(&str, String)> = parts.into_iter().flatten().collect();
            if dup_roll == 0 && !kv.is_empty() {
                let d = kv[dup.index(kv.len())].clone();
                kv.push(d);
            }
            Just(kv).prop_shuffle()
        })
        .prop_map(|kv| {
            let body: Vec<String> = kv.iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
            format!("{{{}}}", body.join(","))
        })
        .boxed()
}

fn exec_report() -> BoxedStrategy<String> {
    let x = prop_oneof![
        Just("NEW"),
        Just("TRADE"),
        Just("TRADE"),
        Just("CANCELED"),
        Just("EXPIRED"),
        Just("TRADE_PREVENTION"),
        Just("REJECTED"),
        Just("REPLACED"),
        Just("PENDING_NEW")
    ]
    .prop_map(|s| format!("\"{s}\""));
    object(vec![
        ("e", prop_oneof![8 => Just("\"executionReport\"".to_owned()), 1 => Just("\"balanceUpdate\"".to_owned())].boxed()),
        ("E", number_val().boxed()),
        ("s", Just("\"BTCUSDT\"".to_owned()).boxed()),
        ("c", string_val(cid_text()).boxed()),
        ("C", prop_oneof![Just("\"\"".to_owned()), string_val(cid_text())].boxed()),
        ("S", Just("\"BUY\"".to_owned()).boxed()),
        ("x", x.boxed()),
        ("X", Just("\"NEW\"".to_owned()).boxed()),
        ("i", number_val().boxed()),
        ("l", string_val(decimal()).boxed()),
        ("z", string_val(decimal()).boxed()),
        ("L", string_val(decimal()).boxed()),
        ("n", string_val(decimal()).boxed()),
        ("N", prop_oneof![Just("null".to_owned()), string_val("[A-Z]{0,12}")].boxed()),
        ("t", number_val().boxed()),
        ("m", prop_oneof![Just("true".to_owned()), Just("false".to_owned()), Just("\"x\"".to_owned())].boxed()),
        ("Z", string_val(decimal()).boxed()),
        ("w", Just("true".to_owned()).boxed()),
    ])
}

fn order_object() -> BoxedStrategy<String> {
    object(vec![
        ("symbol", string_val(Just("BTCUSDT".to_owned())).boxed()),
        ("orderId", number_val().boxed()),
        ("orderListId", Just("-1".to_owned()).boxed()),
        ("clientOrderId", string_val(cid_text()).boxed()),
        (
            "origClientOrderId",
            prop_oneof![Just("\"\"".to_owned()), string_val(cid_text())].boxed(),
        ),
        ("transactTime", number_val().boxed()),
        ("price", string_val(decimal()).boxed()),
        ("origQty", string_val(decimal()).boxed()),
        ("executedQty", string_val(decimal()).boxed()),
        ("cummulativeQuoteQty", string_val(decimal()).boxed()),
        (
            "status",
            string_val(prop_oneof![
                Just("NEW".to_owned()),
                Just("CANCELED".to_owned()),
                Just("FILLED".to_owned()),
                Just("WEIRD".to_owned())
            ])
            .boxed(),
        ),
        (
            "side",
            string_val(prop_oneof![
                Just("BUY".to_owned()),
                Just("SELL".to_owned()),
                Just("UP".to_owned())
            ])
            .boxed(),
        ),
        (
            "amendedOrder",
            object(vec![
                ("price", string_val(decimal()).boxed()),
                ("qty", string_val(decimal()).boxed()),
            ]),
        ),
    ])
}

fn rate_limits() -> BoxedStrategy<String> {
    let entry = object(vec![
        (
            "rateLimitType",
            string_val(prop_oneof![
                Just("REQUEST_WEIGHT".to_owned()),
                Just("ORDERS".to_owned())
            ])
            .boxed(),
        ),
        ("interval", Just("\"MINUTE\"".to_owned()).boxed()),
        ("limit", number_val().boxed()),
        ("count", number_val().boxed()),
    ]);
    prop::collection::vec(entry, 0..4)
        .prop_map(|v| format!("[{}]", v.join(",")))
        .boxed()
}

fn answer() -> BoxedStrategy<String> {
    let result = prop_oneof![
        4 => order_object(),
        2 => (order_object(), order_object(), 0..4u8).prop_map(|(c, n, r)| {
            let (cr, nr) = match r { 0 => ("FAILURE", "NOT_ATTEMPTED"), 1 => ("SUCCESS", "FAILURE"), _ => ("SUCCESS", "SUCCESS") };
            format!(r#"{{"cancelResult":"{cr}","newOrderResult":"{nr}","cancelResponse":{c},"newOrderResponse":{n}}}"#)
        }),
        1 => Just("null".to_owned()),
        1 => Just("[]".to_owned()),
    ];
    object(vec![
        ("id", prop_oneof![4 => Just("\"1\"".to_owned()), 1 => Just("1".to_owned()), 1 => Just("\"x\"".to_owned())].boxed()),
        ("status", prop_oneof![4 => Just("200".to_owned()), 1 => Just("400".to_owned()), 1 => Just("70000".to_owned())].boxed()),
        ("result", result.boxed()),
        ("rateLimits", rate_limits()),
    ])
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn random_execution_reports_decode_alike(body in exec_report(), wrap in any::<bool>()) {
        let frame = if wrap { format!(r#"{{"subscriptionId":0,"event":{body}}}"#) } else { body };
        let mut p = Pair::test();
        p.feed(frame.as_bytes());
    }

    #[test]
    fn random_answers_decode_alike(frame in answer(), kind in 0..5usize, err in 0..8u8) {
        let frame = if err == 0 {
            frame.replacen('{', r#"{"error":{"code":-2010,"msg":"no"},"#, 1)
        } else { frame };
        let mut p = Pair::test();
        // The first request of a session has id 1.
        let (id, _) = p.request(all_requests()[kind], Price::from_int(1), Qty::from_int(1), 1);
        prop_assert_eq!(id, 1);
        p.feed(frame.as_bytes());
    }
}

/// The fast path is not only agreeing by falling back: well-formed frames of each hot kind
/// are taken by it.
#[test]
fn well_formed_hot_frames_take_the_fast_path() {
    let c = pair::cid(1);
    let c2 = pair::cid(2);
    let trade = format!(
        r#"{{"subscriptionId":0,"event":{{"e":"executionReport","E":2,"s":"BTCUSDT","c":"{c}","S":"BUY","o":"LIMIT","f":"GTC","q":"1.00000000","p":"100.00","x":"TRADE","X":"PARTIALLY_FILLED","i":9,"l":"0.40000000","z":"0.40000000","L":"100.00","n":"0.04","N":"USDT","T":2,"t":77,"m":true,"Z":"40.00000000"}}}}"#
    );
    let mut p = Pair::test();
    assert!(p.feed(trade.as_bytes()));
    let order = format!(
        r#"{{"symbol":"BTCUSDT","orderId":5,"orderListId":-1,"clientOrderId":"{c2}","origClientOrderId":"{c}","transactTime":7,"price":"1.00","origQty":"1.00000","executedQty":"0.00000","cummulativeQuoteQty":"0.00","status":"CANCELED","side":"BUY"}}"#
    );
    let amend = format!(
        r#"{{"transactTime":9,"executionId":3,"amendedOrder":{{"symbol":"BTCUSDT","orderId":5,"clientOrderId":"{c}","price":"1.00","qty":"0.50000"}}}}"#
    );
    let replace = format!(
        r#"{{"cancelResult":"SUCCESS","newOrderResult":"SUCCESS","cancelResponse":{order},"newOrderResponse":{{"symbol":"BTCUSDT","orderId":6,"orderListId":-1,"clientOrderId":"{c2}","transactTime":8}}}}"#
    );
    for (req, result) in [
        (Req::Place(c), order.as_str()),
        (Req::Cancel(c), &order),
        (Req::Status(c), &order),
        (Req::Amend(c), &amend),
        (Req::Replace(c, c2), &replace),
    ] {
        let mut p = Pair::test();
        let (id, _) = p.request(req, Price::from_int(1), Qty::from_int(1), 1);
        let frame =
            format!(r#"{{"id":"{id}","status":200,"result":{result},"rateLimits":{WEIGHT}}}"#);
        assert!(p.feed(frame.as_bytes()), "{req:?}");
        assert_eq!(p.fast.weight_used, 77);
        assert!(!p.fast_events.is_empty());
    }
}
