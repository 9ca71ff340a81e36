//! `mako decode`: venue messages in, one normalised JSON line per message out, with literal
//! values from the documentation's samples and the real OKX capture.

use std::process::Command;

use serde_json::Value;

fn decode(venue: &str, file: &str) -> (bool, Vec<Value>) {
    let out = Command::new(env!("CARGO_BIN_EXE_mako"))
        .args(["decode", "--venue", venue, file])
        .output()
        .unwrap();
    let lines = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (out.status.success(), lines)
}

fn fixture(p: &str) -> String {
    format!("{}/tests/fixtures/{p}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn okx_order_fill_push() {
    let (ok, v) = decode(
        "okx-spot",
        &fixture("okx/samples/okx_orders_channel_push_fill.json"),
    );
    assert!(ok);
    let f = &v[0];
    assert_eq!(f["kind"], "fill");
    assert_eq!(f["venue_order_id"], "452197707845865472");
    assert_eq!(f["symbol"], "BTC-USDT");
    assert_eq!(f["side"], "sell");
    assert_eq!(f["status"], "filled");
    assert_eq!(
        (f["price"].as_str(), f["qty"].as_str()),
        (Some("31527.1"), Some("0.001"))
    );
    assert_eq!(f["filled_qty"], "0.001");
    assert_eq!(f["trade_id"], "242589207");
    assert_eq!(
        (f["fee"].as_str(), f["fee_asset"].as_str()),
        (Some("-0.02522168"), Some("USDT"))
    );
}

#[test]
fn okx_rest_answers() {
    let (_, v) = decode(
        "okx-spot",
        &fixture("okx/samples/okx_orders_pending_response.json"),
    );
    assert_eq!(v[0]["kind"], "order");
    assert_eq!(v[0]["status"], "new");
    assert_eq!(v[0]["price"], "13013.5");
    let (_, v) = decode(
        "okx-spot",
        &fixture("okx/samples/okx_place_order_response.json"),
    );
    assert_eq!(
        (v[0]["cid"].as_str(), v[0]["venue_order_id"].as_str()),
        (Some("oktswap6"), Some("312269865356374016"))
    );
    let (_, v) = decode(
        "okx-spot",
        &fixture("okx/samples/okx_account_balance_response.json"),
    );
    assert_eq!(v[0]["kind"], "balance");
    assert_eq!(v[0]["asset"], "USDT");
    assert_eq!(v[0]["free"], "4834.317093622894");
    let (ok, v) = decode(
        "okx-spot",
        &fixture("okx/samples/okx_ws_login_failure.json"),
    );
    assert!(!ok, "nothing in the file could be decoded");
    assert!(v[0]["error"].as_str().unwrap().contains("60009"));
}

#[test]
fn okx_capture_gives_one_line_per_frame() {
    let (ok, v) = decode("okx-spot", &fixture("okx/OKX.ws.1.0"));
    assert!(ok);
    // 414 lines, 4 of them about the connection and what the client sent.
    assert_eq!(v.len(), 410);
    assert!(v.iter().all(|l| l.get("error").is_none()));
    let trades: usize = v
        .iter()
        .map(|l| match l {
            Value::Array(a) => a.iter().filter(|r| r["kind"] == "trade").count(),
            r => usize::from(r["kind"] == "trade"),
        })
        .sum();
    assert_eq!(trades, 74);
    let first_book = v.iter().find(|l| l["kind"] == "book").unwrap();
    assert_eq!(first_book["symbol"], "BTC-USD-220527");
}

#[test]
fn binance_messages() {
    let (ok, v) = decode(
        "binance-spot",
        &fixture("binance-samples/binance_execution_report.json"),
    );
    assert!(ok);
    assert_eq!(v[0]["kind"], "order");
    assert_eq!(v[0]["cid"], "mUvoqJxFIILMdfAW5iGSOW");
    assert_eq!(v[0]["venue_order_id"], "4293153");
    assert_eq!(v[0]["price"], "0.1026441");
    let (_, v) = decode(
        "binance-spot",
        &fixture("binance-samples/binance_account_response.json"),
    );
    assert_eq!(v[0].as_array().map(Vec::len), Some(2));
    assert_eq!(v[0][0]["asset"], "BTC");
    let (ok, v) = decode(
        "nope",
        &fixture("binance-samples/binance_account_response.json"),
    );
    assert!(!ok && v.is_empty());
}
