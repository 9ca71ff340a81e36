//! The server's own bounds and framing: keep-alive, HEAD, refusals and the connection limit,
//! in memory through `serve_requests` and over loopback through `ServerHandle`. What each
//! endpoint answers is tested in `status/tests.rs`.

use std::io::{Cursor, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::time::{Duration, Instant};

use serde_json::json;

use super::*;
use crate::config::Secret;
use crate::runtime::{FullPolicy, bounded};

const TOKEN: &str = "server-test-token";

fn parts(replies: Option<Rx<ControlReply>>) -> (ServerParts, Rx<ControlCommand>) {
    let (control, commands) = bounded("test-control", 8, FullPolicy::Backpressure);
    let parts = ServerParts {
        board: Board::new(Published {
            rendered_at: Instant::now(),
            run_id: 7,
            mode: "paper",
            status: r#"{"ok":true}"#.into(),
            orders: "[]".into(),
            trades: "[]".into(),
            stats: "{}".into(),
            latency: "{}".into(),
            metrics: "mako_up 1\n".into(),
        }),
        control,
        token: TokenCheck::new(Some(&Secret::new(TOKEN))),
        strategies: std::sync::Arc::new(parking_lot::RwLock::new(vec!["grid".into()])),
        activity: Default::default(),
        kill: None,
        stale_after: Duration::from_secs(3600),
        stats: Arc::default(),
        replies: replies.map(Mutex::new),
        next_request: AtomicU64::new(1),
        series: crate::status::series::SeriesBoard::default(),
    };
    (parts, commands)
}

/// Bytes in, bytes out: a connection without a socket.
struct Duplex {
    input: Cursor<Vec<u8>>,
    output: Vec<u8>,
}

impl Read for Duplex {
    fn read(&mut self, b: &mut [u8]) -> std::io::Result<usize> {
        self.input.read(b)
    }
}

impl Write for Duplex {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.output.write(b)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// One answer: status, `Connection` header, body.
type Seen = (u16, String, Vec<u8>);

/// Splits written answers; `heads[i]` says the i-th answered a HEAD (no body follows).
fn answers(mut out: &[u8], heads: &[bool]) -> Vec<Seen> {
    let mut seen = Vec::new();
    while !out.is_empty() {
        let mut headers = [httparse::EMPTY_HEADER; 16];
        let mut r = httparse::Response::new(&mut headers);
        let Ok(httparse::Status::Complete(n)) = r.parse(out) else {
            panic!("not an answer: {:?}", String::from_utf8_lossy(out));
        };
        let header = |name: &str| {
            r.headers
                .iter()
                .find(|h| h.name.eq_ignore_ascii_case(name))
                .map(|h| String::from_utf8_lossy(h.value).into_owned())
                .unwrap_or_default()
        };
        let len: usize = header("content-length").parse().unwrap();
        let len = if heads.get(seen.len()) == Some(&true) {
            0
        } else {
            len
        };
        let body = out[n..n + len].to_vec();
        seen.push((r.code.unwrap(), header("connection"), body));
        out = &out[n + len..];
    }
    seen
}

/// Input, which answers are to HEAD, their statuses, whether it ends on a closing answer.
type Case<'a> = (&'a [u8], &'a [bool], &'a [u16], bool);

#[test]
fn a_connection_answers_in_order_until_keep_alive_or_framing_ends() {
    let many = "GET /health HTTP/1.1\r\n\r\n".repeat(REQUESTS_PER_CONNECTION + 1);
    let table: [Case; 7] = [
        (
            b"GET /health HTTP/1.1\r\n\r\nHEAD /status HTTP/1.1\r\n\r\nGET /status HTTP/1.1\r\nConnection: close\r\n\r\nGET /health HTTP/1.1\r\n\r\n",
            &[false, true, false],
            &[200, 200, 200],
            true,
        ),
        (
            b"GET /metrics HTTP/1.0\r\n\r\nGET /health HTTP/1.1\r\n\r\n",
            &[],
            &[200],
            true,
        ),
        // Where tiny_http 0.12 never answered (fuzz/regressions/status_http/).
        (b"GET /health HTTP/2.0\r\n\r\n", &[], &[505], true),
        (b"GET /health HTTP/1.1\r\n\r\nBLAH\r\n\r\n", &[], &[200, 400], true),
        (
            b"POST /control/kill HTTP/1.1\r\nAuthorization: Bearer server-test-token\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            &[],
            &[411],
            true,
        ),
        (b"GET /health HTTP/1.1\r\nHost: x\r\n", &[], &[], false),
        (b"GET /nope HTTP/1.1\r\n\r\n", &[], &[404], false),
    ];
    for (input, heads, statuses, closing) in table {
        let (parts, commands) = parts(None);
        let mut conn = Duplex {
            input: Cursor::new(input.to_vec()),
            output: Vec::new(),
        };
        let ended_on_answer = serve_requests(&mut conn, &parts, &AtomicBool::new(false));
        let what = String::from_utf8_lossy(input);
        let seen = answers(&conn.output, heads);
        let got: Vec<u16> = seen.iter().map(|s| s.0).collect();
        assert_eq!(got, statuses, "{what}");
        assert_eq!(ended_on_answer, closing, "{what}");
        for (i, (_, connection, body)) in seen.iter().enumerate() {
            let last = i + 1 == seen.len();
            let want = if last && closing {
                "close"
            } else {
                "keep-alive"
            };
            assert_eq!(connection, want, "{what}: answer {i}");
            assert_eq!(
                body.is_empty(),
                heads.get(i) == Some(&true),
                "{what}: answer {i}"
            );
        }
        assert!(commands.try_recv().is_none(), "{what}: nothing routed");
    }
    let (parts, _commands) = parts(None);
    let mut conn = Duplex {
        input: Cursor::new(many.into_bytes()),
        output: Vec::new(),
    };
    assert!(serve_requests(&mut conn, &parts, &AtomicBool::new(false)));
    let seen = answers(&conn.output, &[]);
    assert_eq!(seen.len(), REQUESTS_PER_CONNECTION);
    assert_eq!(seen.last().unwrap().1, "close");
    assert_eq!(
        parts.stats.requests.load(Ordering::Relaxed),
        REQUESTS_PER_CONNECTION as u64
    );
}

struct Running {
    handle: ServerHandle,
    addr: SocketAddr,
    _commands: Rx<ControlCommand>,
}

fn start() -> Running {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (parts, commands) = parts(None);
    Running {
        handle: ServerHandle::start(listener, parts).unwrap(),
        addr,
        _commands: commands,
    }
}

fn connect(addr: SocketAddr) -> TcpStream {
    let c = TcpStream::connect(addr).unwrap();
    // Only bounds a hang: every read below ends on an answer or the server's close.
    c.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    c
}

/// Reads one answer (head and `Content-Length` body): its status and body.
fn read_answer(c: &mut TcpStream) -> (u16, Vec<u8>) {
    let mut got = Vec::new();
    let mut byte = [0u8; 1];
    while !got.ends_with(b"\r\n\r\n") {
        assert_eq!(c.read(&mut byte).unwrap(), 1, "closed mid-answer: {got:?}");
        got.push(byte[0]);
    }
    let seen = answers(&got, &[true]);
    let len: usize = String::from_utf8_lossy(&got)
        .lines()
        .find_map(|l| {
            l.strip_prefix("Content-Length: ")
                .map(|v| v.parse().unwrap())
        })
        .unwrap();
    let mut body = vec![0; len];
    c.read_exact(&mut body).unwrap();
    (seen[0].0, body)
}

/// Whether the server closed `c` (end of stream, or a reset) with nothing more to say.
fn closed_by_server(c: &mut TcpStream) -> bool {
    let mut rest = Vec::new();
    match c.read_to_end(&mut rest) {
        Ok(_) => rest.is_empty(),
        Err(e) => e.kind() == std::io::ErrorKind::ConnectionReset,
    }
}

#[test]
fn a_request_line_with_http_2_is_answered_505_on_an_open_connection() {
    let s = start();
    let mut c = connect(s.addr);
    // The write side stays open: tiny_http 0.12 kept such a connection forever.
    c.write_all(b"GET /health HTTP/2.0\r\n\r\n").unwrap();
    let (status, body) = read_answer(&mut c);
    assert_eq!(status, 505);
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&body).unwrap()["status"],
        505
    );
    assert!(closed_by_server(&mut c));
}

#[test]
fn silent_and_slow_clients_are_limited_in_number_and_cut_off() {
    let s = start();
    let mut silent: Vec<TcpStream> = (0..MAX_CONNECTIONS)
        .map(|i| {
            let mut c = connect(s.addr);
            if i % 2 == 1 {
                c.write_all(b"GET /health HTTP/1.1\r\nHost: x").unwrap();
            }
            c
        })
        .collect();
    // Accepted after those, in order: over the limit.
    let mut over = connect(s.addr);
    assert_eq!(read_answer(&mut over).0, 503);
    for c in &mut silent {
        assert!(closed_by_server(c), "a silent client outlived REQUEST_WAIT");
    }
    let mut c = connect(s.addr);
    c.write_all(b"GET /health HTTP/1.1\r\n\r\n").unwrap();
    assert_eq!(read_answer(&mut c).0, 200);
}

#[test]
fn stopping_closes_kept_alive_connections() {
    let mut s = start();
    let mut c = connect(s.addr);
    c.write_all(b"GET /status HTTP/1.1\r\n\r\n").unwrap();
    assert_eq!(read_answer(&mut c), (200, br#"{"ok":true}"#.to_vec()));
    s.handle.stop();
    assert!(closed_by_server(&mut c));
    assert!(TcpStream::connect(s.addr).is_err(), "still listening");
}

#[test]
fn concurrent_reloads_each_get_their_own_answer() {
    let (replies_tx, replies) = bounded("test-replies", 4, FullPolicy::DropNewest);
    let (parts, commands) = parts(Some(replies));
    let reload = || {
        let raw = format!(
            "POST /control/reload HTTP/1.1\r\nAuthorization: Bearer {TOKEN}\r\nContent-Length: 0\r\n\r\n"
        );
        let mut buf = Vec::new();
        let req = http::read_request(
            &mut Cursor::new(raw.into_bytes()),
            &mut buf,
            &AtomicBool::new(false),
            REQUEST_WAIT,
            LIMITS,
        )
        .unwrap();
        route(&req, &parts)
    };
    let got = std::thread::scope(|scope| {
        let engine = scope.spawn(|| {
            for _ in 0..2 {
                let cmd = commands
                    .recv_timeout(Duration::from_secs(30))
                    .expect("a reload reaches the engine");
                let ControlCommand::Reload { request } = cmd else {
                    panic!("{cmd:?}");
                };
                replies_tx
                    .send(ControlReply {
                        request,
                        status: 200,
                        body: json!({"request": request}),
                    })
                    .unwrap();
            }
        });
        let calls: Vec<_> = (0..2).map(|_| scope.spawn(reload)).collect();
        let got: Vec<Answer> = calls.into_iter().map(|c| c.join().unwrap()).collect();
        engine.join().unwrap();
        got
    });
    let mut seen: Vec<u64> = got
        .iter()
        .map(|a| {
            assert_eq!(a.status, 200, "{}", a.body);
            serde_json::from_str::<serde_json::Value>(&a.body).unwrap()["request"]
                .as_u64()
                .unwrap()
        })
        .collect();
    seen.sort_unstable();
    assert_eq!(seen, [1, 2]);
}
