#![no_main]
//! The status endpoint (src/status/server.rs, route.rs): what anyone who can reach its port
//! can send.
//!
//! - `mako::fuzzing::status_http`: the input as the bytes of one connection, served without
//!   a socket by `server::serve_requests` (mako's HTTP/1.1 reader, `route`, the token check,
//!   the control calls): every answer is an HTTP/1.1 response framed by its Content-Length,
//!   one per request read (and one for a refusal), counted by the server; a command reaches
//!   the engine exactly when its answer is 202.
//! - `TokenCheck::check` on the input: never panics, and `Bearer <s>` is accepted exactly
//!   when `s` trimmed is the token.
//! - End to end, over a socket: the real server (`ServerHandle::start` on a loopback port,
//!   the same parts) gets the input as one connection (written, write side shut, answer read
//!   to the end); the answer must come within 10 s and be empty or start with `HTTP/1.1 `; a
//!   panic in a server thread aborts the process. A connection costs far more than the
//!   in-memory run, so this runs for the first 1024 inputs of a process (the seed corpus,
//!   and any single input being reproduced) and then for one input in 64.
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use mako::config::Secret;
use mako::risk::KillSwitch;
use mako::runtime::{FullPolicy, Rx, bounded};
use mako::status::server::{ServerHandle, ServerParts};
use mako::status::{AuthError, Board, ControlCommand, Published, ServerStats, TokenCheck};

const TOKEN: &str = "fuzz-token";

struct Running {
    _server: parking_lot::Mutex<ServerHandle>,
    addr: SocketAddr,
    control: Rx<ControlCommand>,
    kill: KillSwitch,
}

fn server() -> &'static Running {
    static S: OnceLock<Running> = OnceLock::new();
    S.get_or_init(|| {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let addr = listener.local_addr().unwrap();
        let (tx, control) = bounded("fuzz-control", 8, FullPolicy::Backpressure);
        let kill = KillSwitch::default();
        let doc = |s: &str| s.to_owned();
        let parts = ServerParts {
            board: Board::new(Published {
                rendered_at: Instant::now(),
                run_id: 1,
                mode: "paper",
                status: doc(r#"{"ok":true}"#),
                orders: doc("[]"),
                trades: doc("[]"),
                stats: doc("{}"),
                latency: doc("{}"),
                metrics: doc("mako_up 1\n"),
            }),
            control: tx,
            token: TokenCheck::new(Some(&Secret::new(TOKEN))),
            strategies: mako::status::state::names(vec!["grid".into(), "twap".into()]),
            activity: Default::default(),
            kill: Some(kill.clone()),
            stale_after: Duration::from_secs(365 * 86_400),
            stats: Arc::new(ServerStats::default()),
            replies: None,
            next_request: AtomicU64::new(1),
            series: mako::status::series::SeriesBoard::default(),
        };
        let handle = ServerHandle::start(listener, parts).expect("start the status server");
        Running {
            _server: parking_lot::Mutex::new(handle),
            addr,
            control,
            kill,
        }
    })
}

fn token_check(data: &[u8]) {
    static CHECK: OnceLock<TokenCheck> = OnceLock::new();
    let check = CHECK.get_or_init(|| TokenCheck::new(Some(&Secret::new(TOKEN))));
    let s = String::from_utf8_lossy(data);
    let _ = check.check(Some(&s));
    let _ = TokenCheck::new(None).check(Some(&s));
    let got = check.check(Some(&format!("Bearer {s}")));
    let want = match s.trim() {
        "" => Err(AuthError::Missing),
        t if t == TOKEN => Ok(()),
        _ => Err(AuthError::Forbidden),
    };
    assert_eq!(got, want, "Bearer {s:?}");
}

fn over_a_socket(data: &[u8]) {
    let s = server();
    let mut c = TcpStream::connect(s.addr).expect("connect to the status server");
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let _ = c.set_nodelay(true);
    // The server may answer and close before reading everything: write errors are fine.
    let _ = c.write_all(data);
    let _ = c.shutdown(Shutdown::Write);
    let mut answer = Vec::new();
    let started = Instant::now();
    let r = c.read_to_end(&mut answer);
    if let Err(e) = &r {
        assert!(
            !matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ),
            "the status server did not finish answering in {:?}",
            started.elapsed()
        );
    }
    assert!(
        answer.is_empty() || answer.starts_with(b"HTTP/1.1 "),
        "not an HTTP/1.1 answer: {:?}",
        String::from_utf8_lossy(&answer[..answer.len().min(200)])
    );
    while s.control.try_recv().is_some() {}
    s.kill.reset();
}

fuzz_target!(|data: &[u8]| {
    mako::fuzzing::status_http(data);
    token_check(data);

    static RUNS: AtomicUsize = AtomicUsize::new(0);
    let run = RUNS.fetch_add(1, Ordering::Relaxed);
    if run < 1024 || run % 64 == 0 {
        over_a_socket(data);
    }
});
