#![no_main]
//! The status endpoint (src/status/server.rs): what anyone who can reach its port can send.
//!
//! mako does not parse these requests itself: `tiny_http` reads them from the socket and
//! `server::route` decides the answer (documents, `/health`, the token check and the control
//! calls). So the target runs the real server, `ServerHandle::start` on a loopback port
//! (bearer token `fuzz-token`, strategies `grid` and `twap`, a kill switch, no reload
//! replies so `/control/reload` answers at once), and sends each input as the raw bytes of
//! one connection: written, write side shut, answer read to the end. The answer must come
//! within 10 s and be empty (connection dropped) or start with an HTTP status line (tiny_http
//! answers in the request's version: `HTTP/0.9 404 …` to an `HTTP/0.9` request line); a
//! panic in the server thread aborts the process, so it is caught too. Control commands the
//! server accepts are drained after each input (the engine's side).
//!
//! The token check is also called directly: `TokenCheck::check` never panics on any header
//! value, and `Bearer <s>` is accepted exactly when `s` trimmed is the token.
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use mako::config::Secret;
use mako::risk::KillSwitch;
use mako::runtime::{FullPolicy, Rx, bounded};
use mako::status::server::{AuthError, ServerHandle, ServerParts};
use mako::status::{Board, ControlCommand, Published, ServerStats, TokenCheck};

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
                rendered_at: Instant::now() + Duration::from_secs(365 * 86_400),
                run_id: 1,
                mode: "paper",
                status: doc(r#"{"ok":true}"#),
                orders: doc("[]"),
                trades: doc("[]"),
                latency: doc("{}"),
                metrics: doc("mako_up 1\n"),
            }),
            control: tx,
            token: TokenCheck::new(Some(&Secret::new(TOKEN))),
            strategies: vec!["grid".into(), "twap".into()],
            kill: Some(kill.clone()),
            stale_after: Duration::from_secs(3600),
            stats: Arc::new(ServerStats::default()),
            replies: None,
            next_request: AtomicU64::new(1),
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

fuzz_target!(|data: &[u8]| {
    token_check(data);

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
        answer.is_empty() || answer.starts_with(b"HTTP/"),
        "not an HTTP answer: {:?}",
        String::from_utf8_lossy(&answer[..answer.len().min(200)])
    );
    while s.control.try_recv().is_some() {}
    s.kill.reset();
});
