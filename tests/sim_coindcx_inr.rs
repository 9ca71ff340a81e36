//! The simulator's CoinDCX INR-margined futures, checked as a CoinDCX client uses them, from
//! CoinDCX's documentation (exchanges.md §7.1, §7.3: `margin_currency_short_name`, the INR
//! samples' `settlement_currency_conversion_price` 89.0), not through the engine's codec:
//! signatures computed in the test with `hmac`/`sha2`, answers read with serde_json.
//! `B-BTC_USDT` margined in INR at 89 INR per USDT: prices and quantities in USDT; the
//! margin held, fees and realized PnL in INR, each the USDT amount × 89 (exact: 89 is an
//! integer), the USDT wallet untouched; the instrument list, order list and positions answer
//! the margin currency asked for; an order on the USDT wallet and an edit are refused.

mod common;

use std::time::{SystemTime, UNIX_EPOCH};

use common::start_sim;
use hmac::{Hmac, KeyInit, Mac};
use mako::sim::{DOC_API_KEY, DOC_SECRET, SimHandle};
use mako::types::Qty;
use serde_json::Value;
use sha2::Sha256;

/// BTCUSDT as a linear perpetual at 10×, margined in INR at 89 INR per USDT, on an account
/// with an INR wallet beside its USDT one; fees 0.1 % (the simulator's default).
const LINEAR_INR: &str = "coindcx_inr_per_usdt = \"89\"\n[[symbols]]\nsymbol = \"BTCUSDT\"\n\
    kind = \"linear-perpetual\"\nleverage = \"10\"\nmargin_currency = \"INR\"\n\
    [[accounts]]\nbalances = { BTC = \"10\", USDT = \"1000000\", INR = \"100000000\" }\n";

const PREFIX: &str = "/exchange/v1/derivatives/futures/";

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

/// A signed call: `(HTTP status, JSON answer)`.
fn call(base: &str, method: &str, path: &str, body: &str) -> (u16, Value) {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(DOC_SECRET.as_bytes()).unwrap();
    mac.update(body.as_bytes());
    let sig: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .new_agent();
    let url = format!("{base}{PREFIX}{path}");
    let mut resp = if method == "GET" {
        agent
            .get(url)
            .header("X-AUTH-APIKEY", DOC_API_KEY)
            .header("X-AUTH-SIGNATURE", &sig)
            .force_send_body()
            .content_type("application/json")
            .send(body)
            .unwrap()
    } else {
        agent
            .post(url)
            .header("X-AUTH-APIKEY", DOC_API_KEY)
            .header("X-AUTH-SIGNATURE", &sig)
            .content_type("application/json")
            .send(body)
            .unwrap()
    };
    let status = resp.status().as_u16();
    let text = resp.body_mut().read_to_string().unwrap();
    (status, serde_json::from_str(&text).unwrap())
}

fn create(base: &str, order: &str) -> (u16, Value) {
    let body = format!(r#"{{"timestamp":{},"order":{order}}}"#, now_ms());
    call(base, "POST", "orders/create", &body)
}

/// A signed decimal string in 10^-8 units.
fn units(v: &Value) -> i64 {
    let t = v.as_str().expect("a decimal string");
    match t.strip_prefix('-') {
        Some(abs) => -Qty::parse(abs).unwrap().units(),
        None => Qty::parse(t).unwrap().units(),
    }
}

/// The account's `asset` balance on `/sim/state`: (free, locked), 10^-8 units.
fn balance(s: &SimHandle, asset: &str) -> (i64, i64) {
    let st = s.state();
    let b = &st["accounts"][0]["balances"][asset];
    (units(&b["free"]), units(&b["locked"]))
}

/// Every fill of the account on `/sim/state`: (quote value in USDT, commission in INR).
fn fills(s: &SimHandle) -> Vec<(i64, i64)> {
    s.state()["fills"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            assert_eq!(f["commissionAsset"], "INR", "{f}");
            (units(&f["quoteQty"]), units(&f["commission"]))
        })
        .collect()
}

fn list(base: &str, margin: &str) -> Vec<Value> {
    let body = format!(
        r#"{{"timestamp":{},"status":"open,filled,cancelled","page":"1","size":"10","margin_currency_short_name":["{margin}"]}}"#,
        now_ms()
    );
    let (status, v) = call(base, "POST", "orders", &body);
    assert_eq!(status, 200, "{v}");
    v.as_array().unwrap().clone()
}

fn positions(base: &str, margin: &str) -> Vec<Value> {
    let body = format!(
        r#"{{"timestamp":{},"page":"1","size":"10","pairs":"B-BTC_USDT","margin_currency_short_name":["{margin}"]}}"#,
        now_ms()
    );
    let (status, v) = call(base, "POST", "positions", &body);
    assert_eq!(status, 200, "{v}");
    v.as_array().unwrap().clone()
}

const RESTING: &str = r#"{"side":"buy","pair":"B-BTC_USDT","order_type":"limit_order","price":"1000","total_quantity":0.01,"time_in_force":"good_till_cancel","notification":"no_notification","margin_currency_short_name":"INR"}"#;

#[test]
fn an_inr_margined_perpetual_holds_margin_and_charges_fees_and_pnl_in_inr() {
    let s = start_sim(LINEAR_INR);
    let base = s.rest_url();
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .new_agent();
    let instruments = |m: &str| -> Value {
        let url = format!("{base}{PREFIX}data/active_instruments?margin_currency_short_name[]={m}");
        let text = agent
            .get(url)
            .call()
            .unwrap()
            .body_mut()
            .read_to_string()
            .unwrap();
        serde_json::from_str(&text).unwrap()
    };
    assert_eq!(instruments("INR"), serde_json::json!(["B-BTC_USDT"]));
    assert_eq!(instruments("USDT"), serde_json::json!([]));

    // On the USDT wallet (named, or by default): refused, the pair is INR-margined here.
    for order in [
        RESTING.replace("\"INR\"", "\"USDT\""),
        RESTING.replace(",\"margin_currency_short_name\":\"INR\"", ""),
    ] {
        let (status, v) = create(&base, &order);
        assert_eq!(status, 400, "{v}");
        assert!(
            v["message"]
                .as_str()
                .unwrap()
                .starts_with("Invalid margin currency"),
            "{v}"
        );
    }
    let (status, v) = create(&base, &RESTING.replace("\"INR\"", "\"EUR\""));
    assert_eq!(
        (status, v["message"].as_str()),
        (400, Some("Invalid margin currency"))
    );

    // A resting buy of 0.01 at 1000: 10 USDT of value, 890 INR; at 10× it holds 89 INR.
    let (status, v) = create(&base, RESTING);
    assert_eq!(status, 200, "{v}");
    let o = &v[0];
    assert_eq!(o["margin_currency_short_name"], "INR");
    assert_eq!(
        o["settlement_currency_conversion_price"].as_f64(),
        Some(89.0)
    );
    assert_eq!(o["ideal_margin"].as_f64(), Some(89.0));
    assert_eq!(
        (o["price"].as_f64(), o["total_quantity"].as_f64()),
        (Some(1000.0), Some(0.01))
    );
    let id = o["id"].as_str().unwrap().to_owned();
    assert_eq!(
        balance(&s, "INR"),
        (
            100_000_000 * 100_000_000 - 89 * 100_000_000,
            89 * 100_000_000
        )
    );
    assert_eq!(balance(&s, "USDT"), (1_000_000 * 100_000_000, 0));
    let (status, w) = call(
        &base,
        "GET",
        "wallets",
        &format!(r#"{{"timestamp":{}}}"#, now_ms()),
    );
    assert_eq!(status, 200, "{w}");
    let inr = w
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["currency_short_name"] == "INR")
        .unwrap();
    assert_eq!(
        (inr["balance"].as_str(), inr["locked_balance"].as_str()),
        (Some("100000000"), Some("89"))
    );

    // The lists answer the wallet asked for.
    let listed = list(&base, "INR");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["id"], id.as_str());
    assert!(list(&base, "USDT").is_empty());

    // Edit is for USDT-margined futures only.
    let edit = format!(
        r#"{{"timestamp":{},"id":"{id}","price":"999","total_quantity":0.01}}"#,
        now_ms()
    );
    let (status, v) = call(&base, "POST", "orders/edit", &edit);
    assert_eq!(
        (status, v["message"].as_str()),
        (
            400,
            Some("Edit is supported for USDT margined futures only")
        )
    );
    let (status, v) = call(
        &base,
        "POST",
        "orders/cancel",
        &format!(r#"{{"timestamp":{},"id":"{id}"}}"#, now_ms()),
    );
    assert_eq!(status, 200, "{v}");
    assert_eq!(balance(&s, "INR"), (100_000_000 * 100_000_000, 0));

    // A market buy of 0.01 opens a long: per fill, the margin is ⌈value × 89 / 10⌉ INR and the
    // fee ⌊value × 89 × 0.001⌋ INR.
    let market = r#"{"side":"buy","pair":"B-BTC_USDT","order_type":"market_order","total_quantity":0.01,"notification":"no_notification","margin_currency_short_name":"INR"}"#;
    let (status, v) = create(&base, market);
    assert_eq!(status, 200, "{v}");
    let bought = fills(&s);
    assert!(!bought.is_empty());
    let margin: i64 = bought.iter().map(|(q, _)| (q * 89 + 9) / 10).sum();
    let fees: i64 = bought.iter().map(|(q, _)| q * 89 / 1000).sum();
    assert_eq!(
        bought.iter().map(|f| f.1).sum::<i64>(),
        fees,
        "fees in INR at 89 per USDT: {bought:?}"
    );
    let start = 100_000_000 * 100_000_000;
    assert_eq!(balance(&s, "INR"), (start - fees - margin, margin));
    assert_eq!(
        balance(&s, "USDT"),
        (1_000_000 * 100_000_000, 0),
        "USDT untouched"
    );
    let p = positions(&base, "INR");
    assert_eq!(p.len(), 1);
    assert_eq!(
        (
            p[0]["pair"].as_str(),
            p[0]["active_pos"].as_f64(),
            p[0]["margin_currency_short_name"].as_str()
        ),
        (Some("B-BTC_USDT"), Some(0.01), Some("INR"))
    );
    assert_eq!(p[0]["settlement_currency_avg_price"].as_f64(), Some(89.0));
    assert_eq!(
        Qty::parse(&p[0]["locked_margin"].to_string())
            .unwrap()
            .units(),
        margin
    );
    assert!(positions(&base, "USDT").is_empty());

    // Closing it realizes (sell value − buy value) × 89 INR and frees the margin.
    let (status, v) = create(&base, &market.replace("\"buy\"", "\"sell\""));
    assert_eq!(status, 200, "{v}");
    let all = fills(&s);
    let sold = &all[bought.len()..];
    let value = |f: &[(i64, i64)]| f.iter().map(|x| x.0).sum::<i64>();
    let pnl = (value(sold) - value(&bought)) * 89;
    let fees: i64 = all.iter().map(|f| f.1).sum();
    assert_eq!(fees, all.iter().map(|(q, _)| q * 89 / 1000).sum::<i64>());
    assert_eq!(balance(&s, "INR"), (start - fees + pnl, 0));
    let st = s.state();
    let pos = &st["accounts"][0]["positions"][0];
    assert_eq!(
        (pos["marginAsset"].as_str(), units(&pos["realizedPnl"])),
        (Some("INR"), pnl)
    );
    assert_eq!(units(&pos["size"]), 0);
    assert_eq!(
        balance(&s, "USDT"),
        (1_000_000 * 100_000_000, 0),
        "USDT untouched"
    );
}
