#![no_main]
//! The simulator's HTTP side: what any client can send to its listener.
//!
//! - `mako::fuzzing::sim_http`: `read_request` (up to 8 pipelined requests), `parse_pairs`
//!   and `percent_decode` on the text.
//! - `read_request` over the input, up to 8 pipelined requests, as a connection reads them
//!   (idle time long enough for an in-memory reader). Each request read is written back
//!   (request line, headers, body) and read again: the same method, path, query, headers
//!   and body come out.
//! - Each request is then answered as the listener would: a WebSocket upgrade goes to
//!   `ws_market::parse_path`, anything else to `rest::handle` (Binance REST, OKX REST,
//!   admin endpoints) on a fresh simulator state, and the response is written with
//!   `write_response`, which must produce an HTTP/1.1 status line. `timestamp=NOW` /
//!   `signature=SIGN` in the query or body, and `OK-ACCESS-TIMESTAMP: NOW` /
//!   `OK-ACCESS-SIGN: SIGN` headers, are replaced by the time and a valid signature
//!   (account key `k`, secret `s`), so signed order entry is reached. Faults set through
//!   `/sim/faults` are reset after each request (a slow-response fault would sleep).
#[path = "../common/sim.rs"]
mod sim;

use std::io::Cursor;
use std::net::IpAddr;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use mako::sim::FaultConfig;
use mako::sim::net::HTTP_LIMITS;
use mako::net::http::{Request, read_request, write_response};
use mako::sim::rest::{Reply, handle};

fn unparse(r: &Request, target: &str) -> Vec<u8> {
    let mut out = format!("{} {target} HTTP/1.1\r\n", r.method).into_bytes();
    for (k, v) in &r.headers {
        out.extend_from_slice(format!("{k}: {v}\r\n").as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(&r.body);
    out
}

fn target_of(r: &Request) -> String {
    if r.query.is_empty() {
        r.path.clone()
    } else {
        format!("{}?{}", r.path, r.query)
    }
}

/// Fills in `NOW` and `SIGN` placeholders.
fn sign(r: &mut Request) {
    let now = sim::now_ms().to_string();
    r.query = r
        .query
        .replace("timestamp=NOW", &format!("timestamp={now}"));
    let mut body = String::from_utf8_lossy(&r.body).into_owned();
    if body.contains("timestamp=NOW") {
        body = body.replace("timestamp=NOW", &format!("timestamp={now}"));
        r.body = body.clone().into_bytes();
    }
    if r.query.contains("signature=SIGN") || body.contains("signature=SIGN") {
        let (payload, _) = mako::sim::auth::rest_payload(&r.query, &body);
        let sig = format!("signature={}", sim::sign_hex(&payload));
        r.query = r.query.replace("signature=SIGN", &sig);
        if body.contains("signature=SIGN") {
            r.body = body.replace("signature=SIGN", &sig).into_bytes();
        }
    }
    let iso = sim::iso_now();
    for (k, v) in r.headers.iter_mut() {
        if k.eq_ignore_ascii_case("ok-access-timestamp") && v == "NOW" {
            *v = iso.clone();
        }
    }
    if r.header("ok-access-sign") == Some("SIGN") {
        let ts = r.header("ok-access-timestamp").unwrap_or("").to_owned();
        let msg = format!(
            "{ts}{}{}{}",
            r.method,
            target_of(r),
            String::from_utf8_lossy(&r.body)
        );
        let sig = sim::sign_base64(&msg);
        for (k, v) in r.headers.iter_mut() {
            if k.eq_ignore_ascii_case("ok-access-sign") {
                *v = sig.clone();
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    mako::fuzzing::sim_http(data);

    let stop = AtomicBool::new(false);
    let idle = Duration::from_secs(60);
    let ip = IpAddr::from([127, 0, 0, 1]);
    let mut input = Cursor::new(data);
    let mut buf = Vec::new();
    let mut shared = None;
    for _ in 0..8 {
        let Ok(mut req) = read_request(&mut input, &mut buf, &stop, idle, HTTP_LIMITS) else {
            break;
        };

        // Written back and read again, the request is the same.
        let again = unparse(&req, &target_of(&req));
        let mut b2 = Vec::new();
        match read_request(&mut Cursor::new(&again[..]), &mut b2, &stop, idle, HTTP_LIMITS) {
            Ok(r) => {
                assert_eq!(
                    (&r.method, &r.path, &r.query, &r.headers, &r.body),
                    (&req.method, &req.path, &req.query, &req.headers, &req.body),
                    "a request written back reads differently"
                );
                assert!(b2.is_empty(), "bytes left after a re-written request");
            }
            Err(e) => panic!("a request written back does not read: {e:?}"),
        }

        sign(&mut req);
        let shared = shared.get_or_insert_with(sim::shared);
        if req.is_websocket_upgrade() {
            let _ = mako::sim::ws_market::parse_path(shared, &req.path, &req.query);
            continue;
        }
        if let Reply::Send(resp) = handle(shared, &req, ip) {
            let mut out = Vec::new();
            write_response(&mut out, &resp, !req.wants_close()).unwrap();
            assert!(out.starts_with(b"HTTP/1.1 "));
        }
        shared.faults.apply(&FaultConfig::default());
        sim::dispatch(shared);
    }
});
