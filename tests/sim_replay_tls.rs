//! Replay of the recorded BTCUSDT session: the simulator serves the same frames in the same
//! order, and its REST book follows them. And the TLS listener (wss + https) with the
//! generated self-signed certificate.

mod sim_support;

use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::sync::Arc;

use serde_json::Value;
use sim_support::*;

const RECORDING: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/binance-spot/btcusdt_20240808.gz"
);

#[test]
fn replay_serves_the_recorded_frames_in_order() {
    let sim = start(&format!(
        "source = \"replay\"\nreplay_file = \"{RECORDING}\"\nreplay_speed = 0.0\nreplay_wait_for_subscriber = true\n"
    ));
    // What the file holds: every stream frame, in order.
    let expected = recorded_frames();
    assert!(
        expected.len() > 40_000,
        "fixture has {} frames",
        expected.len()
    );
    let mut ws = subscribe_all(&sim, &expected);
    for (i, want) in expected.iter().enumerate() {
        let got = next_text(&mut ws).unwrap_or_else(|| panic!("closed after {i} frames"));
        assert_eq!(&got, want, "frame {i} differs");
    }
    // The book the simulator serves over REST is the recording's book at its last update.
    let last_u = expected
        .iter()
        .rev()
        .find_map(|f| {
            let v: Value = serde_json::from_str(f).unwrap();
            (v["data"]["e"] == "depthUpdate").then(|| v["data"]["u"].as_u64().unwrap())
        })
        .unwrap();
    let d = http(
        "GET",
        &format!("{}/api/v3/depth?symbol=BTCUSDT&limit=5", sim.rest_url()),
        None,
        None,
    )
    .json();
    assert_eq!(d["lastUpdateId"].as_u64().unwrap(), last_u);
    let best_bid: f64 = d["bids"][0][0].as_str().unwrap().parse().unwrap();
    let best_ask: f64 = d["asks"][0][0].as_str().unwrap().parse().unwrap();
    assert!(best_bid < best_ask && best_bid > 10_000.0, "{d}");
}

/// The recording's stream frames, in order.
fn recorded_frames() -> Vec<String> {
    let file = std::fs::File::open(RECORDING).unwrap();
    BufReader::new(flate2::read::MultiGzDecoder::new(file))
        .lines()
        .map(|l| l.unwrap())
        .filter_map(|l| l.split_once(' ').map(|(_, f)| f.to_string()))
        .filter(|f| f.starts_with("{\"stream\""))
        .collect()
}

/// A market-data connection subscribed to every stream `frames` carry.
fn subscribe_all(sim: &mako::sim::SimHandle, frames: &[String]) -> Ws {
    let mut streams: Vec<String> = frames
        .iter()
        .map(|f| {
            serde_json::from_str::<Value>(f).unwrap()["stream"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    streams.sort();
    streams.dedup();
    ws_connect(&format!(
        "{}/stream?streams={}",
        sim.ws_url(),
        streams.join("/")
    ))
}

/// The numbers a repeat moves on in one frame's data, by name (absent ones are left out).
fn moved_numbers(data: &mut Value) -> Vec<(&'static str, u64)> {
    let obj = data.as_object_mut().unwrap();
    let mut out = Vec::new();
    for k in ["E", "T", "U", "u", "t", "lastUpdateId"] {
        if let Some(v) = obj.get(k).and_then(Value::as_u64) {
            out.push((k, v));
            obj.remove(k);
        }
    }
    out
}

#[test]
fn a_repeated_replay_moves_its_ids_and_times_on_and_leaves_a_gap_at_the_repeat() {
    let sim = start(&format!(
        "source = \"replay\"\nreplay_file = \"{RECORDING}\"\nreplay_interval_us = 20\nreplay_repeat = true\nreplay_wait_for_subscriber = true\n"
    ));
    let expected = recorded_frames();
    let mut ws = subscribe_all(&sim, &expected);
    // The first pass as recorded; the second the same frames, each number a repeat moves
    // shifted by one amount per kind (update ids, trade ids, milliseconds), all else equal.
    let mut shift: std::collections::HashMap<&str, i128> = Default::default();
    let mut last_diff_u = 0u64;
    let mut breaks = Vec::new();
    for (i, want) in expected.iter().chain(expected.iter()).enumerate() {
        let got = next_text(&mut ws).unwrap_or_else(|| panic!("closed after {i} frames"));
        if i < expected.len() {
            assert_eq!(&got, want, "frame {i} of the first pass differs");
        } else {
            let (mut g, mut w): (Value, Value) = (
                serde_json::from_str(&got).unwrap(),
                serde_json::from_str(want).unwrap(),
            );
            let (gn, wn) = (moved_numbers(&mut g["data"]), moved_numbers(&mut w["data"]));
            assert_eq!(g, w, "frame {i}: more than its ids and times differ");
            assert_eq!(gn.len(), wn.len(), "frame {i}");
            for ((k, a), (_, b)) in gn.iter().zip(&wn) {
                let kind = match *k {
                    "E" | "T" => "ms",
                    "t" => "trade id",
                    _ => "update id",
                };
                let d = i128::from(*a) - i128::from(*b);
                assert!(d > 0, "frame {i}: {k} did not move on ({a} against {b})");
                assert_eq!(
                    *shift.entry(kind).or_insert(d),
                    d,
                    "frame {i}: {k} moved by another amount"
                );
            }
        }
        let v: Value = serde_json::from_str(&got).unwrap();
        if v["data"]["e"] == "depthUpdate" {
            let (first, last) = (
                v["data"]["U"].as_u64().unwrap(),
                v["data"]["u"].as_u64().unwrap(),
            );
            assert!(
                first > last_diff_u,
                "frame {i}: update ids went back ({first} after {last_diff_u})"
            );
            if last_diff_u != 0 && first != last_diff_u + 1 {
                breaks.push(i);
            }
            last_diff_u = last;
        }
    }
    // The second pass breaks the diff chain where the recording does, and once more at its
    // first diff: the gap a client resyncs from.
    let n = expected.len();
    let (one, two): (Vec<usize>, Vec<usize>) = breaks.iter().partition(|&&i| i < n);
    let first_diff = expected
        .iter()
        .position(|f| f.contains("\"depthUpdate\""))
        .unwrap();
    let mut want: Vec<usize> = one.iter().map(|i| i + n).collect();
    want.push(n + first_diff);
    want.sort_unstable();
    assert_eq!(two, want, "chain breaks of the second pass");
    assert_eq!(
        shift.len(),
        3,
        "every kind of number seen moving: {shift:?}"
    );
}

fn client_config(sim: &mako::sim::SimHandle) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(rustls::pki_types::CertificateDer::from(
            sim.tls_cert_der().unwrap().to_vec(),
        ))
        .unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Arc::new(
        rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth(),
    )
}

#[test]
fn tls_listener_serves_wss_and_https() {
    let sim = start("tls_port = 0\nwalk_interval_ms = 10\n");
    let addr = sim.tls_addr().unwrap();
    let cfg = client_config(&sim);
    // wss market data.
    let tcp = TcpStream::connect(addr).unwrap();
    tcp.set_read_timeout(Some(std::time::Duration::from_millis(200)))
        .unwrap();
    let conn = rustls::ClientConnection::new(cfg.clone(), "localhost".try_into().unwrap()).unwrap();
    let tls = rustls::StreamOwned::new(conn, tcp);
    let url = format!("{}/ws/btcusdt@trade", sim.wss_url().unwrap());
    let (mut ws, _) = tungstenite::client(url.as_str(), tls).expect("wss handshake");
    let deadline = std::time::Instant::now() + WAIT;
    let frame = loop {
        assert!(std::time::Instant::now() < deadline, "no frame over wss");
        match ws.read() {
            Ok(tungstenite::Message::Text(t)) => break t.to_string(),
            Ok(_) => {}
            Err(tungstenite::Error::Io(e))
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(e) => panic!("wss read: {e}"),
        }
    };
    let v: Value = serde_json::from_str(&frame).unwrap();
    assert_eq!(v["e"], "trade");
    // https REST.
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .tls_config(
            ureq::tls::TlsConfig::builder()
                .root_certs(ureq::tls::RootCerts::Specific(Arc::new(vec![
                    ureq::tls::Certificate::from_der(sim.tls_cert_der().unwrap()).to_owned(),
                ])))
                .build(),
        )
        .build()
        .into();
    let url = format!("https://localhost:{}/api/v3/time", addr.port());
    let body = agent
        .get(&url)
        .call()
        .expect("https request")
        .body_mut()
        .read_to_string()
        .unwrap();
    let v: Value = serde_json::from_str(&body).unwrap();
    assert!(v["serverTime"].as_u64().unwrap() > 0);
}
