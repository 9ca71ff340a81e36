//! Helpers for the simulator's end-to-end tests: start a simulator from TOML, a blocking
//! WebSocket client, a small HTTP client, and Binance request signing written here from the
//! documentation (not taken from the simulator).
#![allow(dead_code)]

use std::net::TcpStream;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use hmac::{KeyInit, Mac};
use mako::sim::{SimConfig, SimHandle, Simulator};
use serde_json::Value;
use tungstenite::{Message, WebSocket};

pub const KEY: &str = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A";
pub const SECRET: &str = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";
/// Generous: the machine is shared and noisy.
pub const WAIT: Duration = Duration::from_secs(20);

pub fn start(toml_text: &str) -> SimHandle {
    let t: toml::Table = toml_text.parse().expect("test config parses");
    Simulator::start(SimConfig::from_table(&t).expect("test config validates"))
        .expect("simulator starts")
}

pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

pub fn sign(secret: &str, payload: &str) -> String {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(payload.as_bytes());
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

pub type Ws = WebSocket<TcpStream>;

pub fn ws_connect(url: &str) -> Ws {
    let addr = url
        .trim_start_matches("ws://")
        .split('/')
        .next()
        .unwrap()
        .to_string();
    let stream = TcpStream::connect(&addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let (ws, _) = tungstenite::client(url, stream).expect("websocket handshake");
    ws
}

/// Next text frame as JSON, or `None` when the connection closed. Panics after `WAIT`.
pub fn next_text(ws: &mut Ws) -> Option<String> {
    let deadline = Instant::now() + WAIT;
    loop {
        assert!(Instant::now() < deadline, "no frame within {WAIT:?}");
        match ws.read() {
            Ok(Message::Text(t)) => return Some(t.to_string()),
            Ok(Message::Close(_)) => return None,
            Ok(_) => {}
            Err(tungstenite::Error::Io(e))
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => return None,
        }
    }
}

pub fn next_json(ws: &mut Ws) -> Value {
    let t = next_text(ws).expect("connection open");
    serde_json::from_str(&t).expect("frame is JSON")
}

/// Reads frames until one satisfies `f`.
pub fn wait_json(ws: &mut Ws, f: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + WAIT;
    loop {
        assert!(Instant::now() < deadline, "expected frame did not arrive");
        let v = next_json(ws);
        if f(&v) {
            return v;
        }
    }
}

pub fn send(ws: &mut Ws, v: &Value) {
    ws.send(Message::text(v.to_string())).unwrap();
}

/// A minimal HTTP/1.1 response.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {}", self.body))
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(WAIT))
        .build()
        .into()
}

fn collect(r: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Result<Resp, ureq::Error> {
    let mut r = r?;
    let headers = r
        .headers()
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string()))
        .collect();
    let status = r.status().as_u16();
    let body = r.body_mut().read_to_string()?;
    Ok(Resp {
        status,
        headers,
        body,
    })
}

/// Sends a request; `key` adds `X-MBX-APIKEY`; `body` is sent form-encoded.
pub fn try_http(
    method: &str,
    url: &str,
    key: Option<&str>,
    body: Option<&str>,
) -> Result<Resp, ureq::Error> {
    let a = agent();
    let with_key = |b: ureq::RequestBuilder<ureq::typestate::WithoutBody>| match key {
        Some(k) => b.header("X-MBX-APIKEY", k),
        None => b,
    };
    match (method, body) {
        ("GET", _) => collect(with_key(a.get(url)).call()),
        ("DELETE", _) => collect(with_key(a.delete(url)).call()),
        ("POST", b) => {
            let mut r = a
                .post(url)
                .header("Content-Type", "application/x-www-form-urlencoded");
            if let Some(k) = key {
                r = r.header("X-MBX-APIKEY", k);
            }
            collect(r.send(b.unwrap_or("")))
        }
        _ => panic!("unsupported method {method}"),
    }
}

pub fn http(method: &str, url: &str, key: Option<&str>, body: Option<&str>) -> Resp {
    try_http(method, url, key, body).unwrap_or_else(|e| panic!("{method} {url}: {e}"))
}

/// A signed REST call with the doc key: `params` plus a fresh timestamp, signed, in the query.
pub fn signed(sim: &SimHandle, method: &str, path: &str, params: &str) -> Resp {
    let q = if params.is_empty() {
        format!("timestamp={}", now_ms())
    } else {
        format!("{params}&timestamp={}", now_ms())
    };
    let url = format!(
        "{}{path}?{q}&signature={}",
        sim.rest_url(),
        sign(SECRET, &q)
    );
    http(method, &url, Some(KEY), None)
}

/// Reads a documentation sample, dropping the docs' `//` comments.
pub fn doc_sample(name: &str) -> Value {
    let text = std::fs::read_to_string(format!(
        "{}/tests/fixtures/sim/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let stripped: String = text
        .lines()
        .map(|l| match l.find("//") {
            Some(i) if !l[..i].contains("\"http") => &l[..i],
            _ => l,
        })
        .collect::<Vec<_>>()
        .join("\n");
    serde_json::from_str(&stripped).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Asserts `actual` has every field of `sample` with the same JSON type (strings stay
/// strings: decimals are string-encoded), recursively into objects and first array items.
pub fn assert_shape(sample: &Value, actual: &Value, path: &str) {
    match (sample, actual) {
        (Value::Object(s), Value::Object(a)) => {
            for (k, sv) in s {
                let av = a
                    .get(k)
                    .unwrap_or_else(|| panic!("{path}.{k} missing in {actual}"));
                assert_shape(sv, av, &format!("{path}.{k}"));
            }
        }
        (Value::Array(s), Value::Array(a)) => {
            if let (Some(s0), Some(a0)) = (s.first(), a.first()) {
                assert_shape(s0, a0, &format!("{path}[0]"));
            }
        }
        // The docs' null commission asset becomes a string once there is a fill.
        (Value::Null, _) => {}
        (Value::String(_), Value::String(a)) => {
            if let Value::String(s) = sample
                && s.parse::<f64>().is_ok()
                && s.contains('.')
            {
                assert!(
                    a.parse::<f64>().is_ok() && a.contains('.'),
                    "{path}: {a:?} is not a decimal string"
                );
            }
        }
        (Value::Number(_), Value::Number(_)) | (Value::Bool(_), Value::Bool(_)) => {}
        _ => panic!("{path}: sample {sample} but got {actual}"),
    }
}
