//! Binance with an Ed25519 API key against the simulator: the gateway's WebSocket API
//! session logs on with `session.logon` (the simulator checks the base64 Ed25519 signature
//! with the account's registered public key, as Binance documents) and then sends its orders
//! without per-request signatures; orders, fills and balances agree with `/sim/state`, also
//! and the simulator refuses a key it does not know, an HMAC signature on an Ed25519 account,
//! and unsigned requests before a logon.

mod common;
mod sim_support;

use std::time::Duration;

use common::gateway_rig::{rig_ed25519, trade_a_while};
use common::start_sim;
use mako::gateway::GatewayOptions;
use mako::types::OrderStatus;

/// RFC 8032 §7.1 test 1: a published test seed and its public key, base64.
const SEED: &str = "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=";
const PUBLIC: &str = "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";
/// RFC 8032 §7.1 test 2's seed: a valid key, but not the account's.
const OTHER_SEED: &str = "TM0Imyj/ltqdtsNG7BFOD1uKMZ81q6Yk2oz27U+4pvs=";

fn sim() -> mako::sim::SimHandle {
    start_sim(&format!(
        "[[accounts]]\nbalances = {{ BTC = \"10\", USDT = \"1000000\" }}\ned25519_public_key = \"{PUBLIC}\"\n"
    ))
}

#[test]
fn a_logged_on_ed25519_session_trades_in_agreement_with_the_venue() {
    let mut r = rig_ed25519(sim(), GatewayOptions::default(), 1_700_000_000_321, SEED);
    trade_a_while(&mut r, 4);
    let n = r.assert_books_agree(Duration::from_secs(30), 20);
    assert_eq!(n, 20);
    r.assert_balances_agree(Duration::from_secs(20));
    let filled = r
        .last
        .orders
        .iter()
        .filter(|o| o.status == OrderStatus::Filled)
        .count();
    assert!(filled >= 4, "{:?}", r.last.orders);
    r.assert_nothing_overdue();
    r.stop();
}

/// The simulator's side, spoken by hand (signatures made here with `ed25519-dalek` and
/// `base64` directly, not by mako's session): `session.logon` signed by the registered key is
/// accepted and later requests need no signature; the other key, or an HMAC signature, is
/// refused with -1022, and an unsigned order on a connection not logged on is refused.
#[test]
fn the_simulator_checks_ed25519_logons_as_binance_documents() {
    use base64::Engine as _;
    use ed25519_dalek::Signer as _;
    use serde_json::json;
    let sim = sim();
    let key = |b64: &str| {
        let seed: [u8; 32] = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap()
            .try_into()
            .unwrap();
        ed25519_dalek::SigningKey::from_bytes(&seed)
    };
    let logon = |ws: &mut sim_support::Ws, id: &str, k: &ed25519_dalek::SigningKey| {
        let ts = sim_support::now_ms();
        let payload = format!("apiKey={}&timestamp={ts}", sim_support::KEY);
        let sig =
            base64::engine::general_purpose::STANDARD.encode(k.sign(payload.as_bytes()).to_bytes());
        sim_support::send(
            ws,
            &json!({"id": id, "method": "session.logon",
                    "params": {"apiKey": sim_support::KEY, "timestamp": ts, "signature": sig}}),
        );
        sim_support::wait_json(ws, |v| v["id"] == id)
    };
    let mut ws = sim_support::ws_connect(&sim.ws_api_url());
    // Not logged on: an unsigned order is refused.
    let order = |id: &str| {
        json!({"id": id, "method": "order.place", "params": {
            "symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC",
            "price": "10000.00", "quantity": "0.001", "timestamp": sim_support::now_ms()}})
    };
    sim_support::send(&mut ws, &order("o1"));
    let refused = sim_support::wait_json(&mut ws, |v| v["id"] == "o1");
    assert_eq!(refused["status"], 400, "{refused}");
    // The other key's signature: -1022.
    let wrong = logon(&mut ws, "l1", &key(OTHER_SEED));
    assert_eq!(wrong["error"]["code"], -1022, "{wrong}");
    // An HMAC signature on an Ed25519 account: -1022 too.
    let ts = sim_support::now_ms();
    let payload = format!("apiKey={}&timestamp={ts}", sim_support::KEY);
    sim_support::send(
        &mut ws,
        &json!({"id": "l2", "method": "session.logon", "params": {"apiKey": sim_support::KEY,
                "timestamp": ts, "signature": sim_support::sign(sim_support::SECRET, &payload)}}),
    );
    let hmac = sim_support::wait_json(&mut ws, |v| v["id"] == "l2");
    assert_eq!(hmac["error"]["code"], -1022, "{hmac}");
    // The registered key: logged on, and the unsigned order goes through.
    let ok = logon(&mut ws, "l3", &key(SEED));
    assert_eq!(ok["status"], 200, "{ok}");
    assert_eq!(ok["result"]["apiKey"], sim_support::KEY);
    sim_support::send(&mut ws, &order("o2"));
    let placed = sim_support::wait_json(&mut ws, |v| v["id"] == "o2");
    assert_eq!(placed["status"], 200, "{placed}");
    assert_eq!(placed["result"]["status"], "NEW");
}
