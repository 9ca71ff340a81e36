//! The simulator's Coinstore keepalive rule, as exchanges.md §6.5 gives it: the server sends a
//! ping frame every 3 minutes and closes the connection when no pong came within 10 minutes; a
//! pong frame keeps the link whether it answers the ping or not, and so does the JSON
//! `{"op":"pong",…}`. Read with a raw WebSocket client (handshake and frames written here), so
//! that nothing answers a ping unless the test does. The rule is shortened to 100 ms / 1.5 s.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use common::start_sim;
use mako::sim::SimConfig;

const SIM: &str = "coinstore_ping_interval_ms = 100\ncoinstore_pong_timeout_ms = 1500\n\
    [[symbols]]\nsymbol = \"BTCUSDT\"\nbase = \"BTC\"\nstart_price = \"60000\"\nlevels = 10\n";

/// A frame as the server sent it: opcode and payload.
struct Frame {
    op: u8,
    payload: Vec<u8>,
}

/// Connects to `/s/ws` and completes the upgrade, reading the answer a byte at a time so that
/// no frame is read with it.
fn connect(addr: &str) -> TcpStream {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    write!(
        s,
        "GET /s/ws HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    .unwrap();
    let mut head = Vec::new();
    let mut b = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        s.read_exact(&mut b).expect("the upgrade is answered");
        head.push(b[0]);
    }
    let head = String::from_utf8(head).unwrap();
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    s
}

/// The next frame; `None` when the server closed the socket.
fn read_frame(s: &mut TcpStream) -> Option<Frame> {
    let mut h = [0u8; 2];
    s.read_exact(&mut h).ok()?;
    assert_eq!(h[1] & 0x80, 0, "server frames are not masked");
    let len = match h[1] & 0x7f {
        126 => {
            let mut l = [0u8; 2];
            s.read_exact(&mut l).ok()?;
            u16::from_be_bytes(l) as usize
        }
        127 => {
            let mut l = [0u8; 8];
            s.read_exact(&mut l).ok()?;
            u64::from_be_bytes(l) as usize
        }
        n => n as usize,
    };
    let mut payload = vec![0u8; len];
    s.read_exact(&mut payload).ok()?;
    Some(Frame {
        op: h[0] & 0x0f,
        payload,
    })
}

/// A masked client frame (payloads here are short).
fn write_frame(s: &mut TcpStream, op: u8, payload: &[u8]) {
    assert!(payload.len() < 126);
    let mask = [0x37u8, 0xfa, 0x21, 0x3d];
    let mut f = vec![0x80 | op, 0x80 | payload.len() as u8];
    f.extend_from_slice(&mask);
    f.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    s.write_all(&f).unwrap();
}

/// Reads frames, answering each ping with `answer`, until `pings` pings came (`true`) or the
/// server closed (`false`); the pings seen are counted into `seen`.
fn run(
    s: &mut TcpStream,
    pings: usize,
    seen: &mut usize,
    answer: impl Fn(&mut TcpStream, &[u8]),
) -> bool {
    while *seen < pings {
        let Some(f) = read_frame(s) else {
            return false;
        };
        match f.op {
            0x9 => {
                *seen += 1;
                answer(s, &f.payload);
            }
            0x8 => return false,
            _ => {}
        }
    }
    true
}

#[test]
fn the_documented_rule_is_the_default() {
    let c = SimConfig::default();
    assert_eq!(c.coinstore_ping_interval, Duration::from_secs(180));
    assert_eq!(c.coinstore_pong_timeout, Duration::from_secs(600));
}

#[test]
fn a_client_that_never_pongs_is_closed() {
    let sim = start_sim(SIM);
    let mut s = connect(&sim.addr().to_string());
    let mut seen = 0;
    // 1,000 pings would take 100 s: the server closes long before (or the read times out and
    // the test fails).
    let alive = run(&mut s, 1000, &mut seen, |_, _| {});
    assert!(!alive, "the server closed the silent connection");
    assert!(seen >= 1, "it was pinged before being closed");
}

#[test]
fn pong_frames_keep_the_link_whether_they_answer_the_ping_or_not() {
    let sim = start_sim(SIM);
    let addr = sim.addr().to_string();
    // The ping's own pong.
    let mut s = connect(&addr);
    let mut seen = 0;
    assert!(
        run(&mut s, 30, &mut seen, |s, p| write_frame(s, 0xA, p)),
        "closed after {seen} pings although each was answered"
    );
    // Unsolicited pongs (empty payload), one per ping.
    let mut s = connect(&addr);
    let mut seen = 0;
    assert!(
        run(&mut s, 30, &mut seen, |s, _| write_frame(s, 0xA, b"")),
        "closed after {seen} pings although an unsolicited pong followed each"
    );
}

#[test]
fn the_json_pong_keeps_the_link() {
    let sim = start_sim(SIM);
    let mut s = connect(&sim.addr().to_string());
    let mut seen = 0;
    assert!(
        run(&mut s, 30, &mut seen, |s, _| {
            write_frame(s, 0x1, br#"{"op":"pong","epochMillis":1700000000000}"#)
        }),
        "closed after {seen} pings although a JSON pong followed each"
    );
}
