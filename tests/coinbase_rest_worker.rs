//! The gateway's REST worker with the Coinbase codec against a loopback HTTP server that
//! records what it receives: the JWT the worker mints (the codec writes none) goes out as
//! `Authorization: Bearer` (verifying with the SDK's test key, its `uri` naming the request)
//! and the body on the wire is the order's JSON alone; the create answer maps to `Accepted`.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::wait_for;
use mako::gateway::rest::{RestOptions, RestOrders};
use mako::types::order::OrderEvent;
use mako::types::{ClientOrderId, OrderKind, Price, Qty, Side, TimeInForce, UnixNanos};
use mako::venue::coinbase::jwt::{self, JwtSigner};
use mako::venue::coinbase::rest::CoinbaseRest;
use mako::venue::order::{PlaceOrder, SessionEvent};

const KEY_NAME: &str = "organizations/test-organization/apiKeys/test-api-key";
const EC_SECRET: &str = "-----BEGIN EC PRIVATE KEY-----\\nMHcCAQEEIKwf3Uox30cRWzRBOPoPOH5p0Gpb0Dt8zUKXUEM5fMkGoAoGCCqGSM49\\nAwEHoUQDQgAEbAtpLlSZYVOwYICz+uEyxcS29vRIujiES/gQ1DC7FV4zK4JuYE9v\\nqDyGZQYjdXHLM7I6f/QnnOITL+dXYWBHRA==\\n-----END EC PRIVATE KEY-----\\n";

/// One request as received: request line, `authorization` header, body.
type Seen = (String, Option<String>, String);

/// Serves keep-alive HTTP/1.1 on loopback: every request recorded, answered with `answer`.
fn serve(answer: &'static str) -> (String, Arc<Mutex<Vec<Seen>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let host = listener.local_addr().unwrap().to_string();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let log = log.clone();
            std::thread::spawn(move || {
                let mut w = stream.try_clone().unwrap();
                let mut r = BufReader::new(stream);
                loop {
                    let mut line = String::new();
                    if r.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let (mut auth, mut len) = (None, 0usize);
                    loop {
                        let mut h = String::new();
                        r.read_line(&mut h).unwrap();
                        let h = h.trim_end();
                        if h.is_empty() {
                            break;
                        }
                        let (k, v) = h.split_once(':').unwrap();
                        match k.to_ascii_lowercase().as_str() {
                            "authorization" => auth = Some(v.trim().to_owned()),
                            "content-length" => len = v.trim().parse().unwrap(),
                            _ => {}
                        }
                    }
                    let mut body = vec![0; len];
                    r.read_exact(&mut body).unwrap();
                    log.lock().unwrap().push((
                        line.trim_end().to_owned(),
                        auth,
                        String::from_utf8(body).unwrap(),
                    ));
                    let _ = write!(
                        w,
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{answer}",
                        answer.len()
                    );
                }
            });
        }
    });
    (host, seen)
}

#[test]
fn the_jwt_goes_as_a_bearer_header_and_the_body_alone_on_the_wire() {
    let (host, seen) = serve(
        r#"{"success":true,"success_response":{"order_id":"cb-1","product_id":"BTC-USD","side":"BUY","client_order_id":"w-1"}}"#,
    );
    let signer = JwtSigner::from_parts(KEY_NAME, EC_SECRET).unwrap();
    let public = signer.public_key();
    let codec = CoinbaseRest::with_signer(signer, &host);
    let mut rest = RestOrders::new(
        "coinbase-test",
        &format!("http://{host}"),
        codec,
        RestOptions::default(),
    );
    rest.start().unwrap();
    let cid = ClientOrderId::parse("w-1").unwrap();
    let now_s = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let order = PlaceOrder {
        reduce_only: false,
        symbol: "BTC-USD",
        cid: &cid,
        side: Side::Buy,
        kind: OrderKind::LimitMaker,
        tif: TimeInForce::Gtc,
        price: Price::parse("100.5").unwrap(),
        qty: Qty::from_int(2),
        price_decimals: 1,
        qty_decimals: 0,
    };
    assert!(rest.place(&order, UnixNanos::ZERO, now_s * 1000));
    let mut out = Vec::new();
    wait_for(Duration::from_secs(10), || {
        rest.drain(UnixNanos::ZERO, &mut out);
        out.iter()
            .any(|e| matches!(e, SessionEvent::Order { .. }))
            .then_some(())
    });
    assert!(out.iter().any(|e| matches!(
        e,
        SessionEvent::Order {
            event: OrderEvent::Accepted { venue_order_id, .. },
            ..
        } if venue_order_id.as_str() == "cb-1"
    )));
    let seen = seen.lock().unwrap().clone();
    let post = seen
        .iter()
        .find(|(l, _, _)| l.starts_with("POST "))
        .expect("the order was posted");
    assert_eq!(post.0, "POST /api/v3/brokerage/orders HTTP/1.1");
    assert_eq!(
        post.2,
        r#"{"client_order_id":"w-1","product_id":"BTC-USD","side":"BUY","order_configuration":{"limit_limit_gtc":{"base_size":"2","limit_price":"100.5","post_only":true}}}"#
    );
    let token = post
        .1
        .as_deref()
        .and_then(|a| a.strip_prefix("Bearer "))
        .expect("Authorization: Bearer");
    let uri = format!("POST {host}/api/v3/brokerage/orders");
    jwt::verify(token, KEY_NAME, &public, now_s, Some(&uri)).unwrap();
    // The worker's own warm-up and keep-alive carry no token.
    assert!(
        seen.iter()
            .filter(|(l, _, _)| l.starts_with("GET /api/v3/brokerage/time"))
            .all(|(_, a, _)| a.is_none())
    );
    rest.shutdown();
}
