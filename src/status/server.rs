//! The status endpoint's HTTP server: a listener thread and a thread per connection, on
//! `std::net` with mako's own HTTP/1.1 reader (`net::http`); `route` decides the answers.
//!
//! Bounds, so that no client can hold the server: at most `MAX_CONNECTIONS` connections are
//! served at once (more are answered 503 and closed); a request must arrive whole within
//! `REQUEST_WAIT` of the connection opening or of the previous answer, and fit `LIMITS`
//! (16 KiB of head, `MAX_BODY` of body); a connection serves at most
//! `REQUESTS_PER_CONNECTION` requests (keep-alive) and lives at most `CONNECTION_LIFETIME`;
//! a write blocks at most `WRITE_WAIT`. What is not an HTTP/1.x request is answered 400
//! (505 for another HTTP version, 411/413/431 for what cannot be framed or is too large) and
//! the connection closed. Threads are spawned from the listener thread, itself started by
//! the status host: they inherit its low priority.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token, Waker};
use parking_lot::Mutex;

use crate::net::http::{self, Limits, ReadError, Response};
use crate::risk::KillSwitch;
use crate::runtime::{Rx, Tx};

use super::auth::TokenCheck;
use super::route::{Answer, MAX_BODY, route};
use super::snapshot::{ControlCommand, ControlReply};

/// Connections served at once; one more is answered 503 and closed.
pub const MAX_CONNECTIONS: usize = 16;
/// The largest request read: 16 KiB of request line and headers, `MAX_BODY` of body.
pub const LIMITS: Limits = Limits {
    head: 16 * 1024,
    body: MAX_BODY,
};
/// A request must arrive whole within this of the connection opening or the last answer.
pub const REQUEST_WAIT: Duration = Duration::from_secs(5);
/// Requests answered on one connection before it is closed.
pub const REQUESTS_PER_CONNECTION: usize = 100;
/// A connection is closed after this long whatever it is doing, so a client that reads its
/// answers a byte at a time cannot keep it.
pub const CONNECTION_LIFETIME: Duration = Duration::from_secs(60);
/// Longest one write to a client may block.
const WRITE_WAIT: Duration = Duration::from_secs(5);
/// How often a blocked read wakes to look at the stop flag and the deadlines.
const READ_POLL: Duration = Duration::from_millis(100);
/// How often the listener retries accepting without a readiness event (an accept that
/// failed, for lack of descriptors, leaves connections queued and no new event).
const ACCEPT_POLL: Duration = Duration::from_millis(500);
/// After an answer that closes the connection, what the client still sends is read and
/// dropped for up to this long (and `LINGER_BYTES`): closing with unread bytes would reset
/// the connection, and the client could lose the answer (a 413 to a large body).
const LINGER: Duration = Duration::from_secs(1);
const LINGER_BYTES: usize = 1 << 20;

const LISTENER: Token = Token(0);
const WAKE: Token = Token(1);

/// The documents the server hands out, rendered together by the status actor.
#[derive(Debug, Clone)]
pub struct Published {
    pub rendered_at: Instant,
    pub run_id: i64,
    pub mode: &'static str,
    pub status: String,
    pub orders: String,
    pub trades: String,
    /// `/stats`: bots by state, PnL and trades per bot and in total.
    pub stats: String,
    pub latency: String,
    pub metrics: String,
}

/// The latest documents; swapped by the status actor, cloned by the server.
#[derive(Debug, Clone)]
pub struct Board(Arc<parking_lot::Mutex<Arc<Published>>>);

impl Board {
    pub fn new(first: Published) -> Self {
        Self(Arc::new(parking_lot::Mutex::new(Arc::new(first))))
    }

    pub fn get(&self) -> Arc<Published> {
        Arc::clone(&self.0.lock())
    }

    pub fn set(&self, p: Published) {
        *self.0.lock() = Arc::new(p);
    }
}

/// Counters of the server, readable from any thread (Relaxed: statistics only).
#[derive(Debug, Default)]
pub struct ServerStats {
    pub requests: AtomicU64,
    /// Answers with a 4xx status.
    pub client_errors: AtomicU64,
    /// Control calls refused for a missing or wrong token.
    pub unauthorized: AtomicU64,
    pub commands: AtomicU64,
}

/// What the server needs; shared by its threads.
pub struct ServerParts {
    pub board: Board,
    pub control: Tx<ControlCommand>,
    pub token: TokenCheck,
    /// The strategies' current names, indexed by `StrategyId` (slots are renamed by the
    /// bots created in them).
    pub strategies: super::state::Names,
    /// The activity log `/activity` reads.
    pub activity: super::state::ActivityLog,
    /// Tripped at once by `POST /control/kill`, before the command is routed.
    pub kill: Option<KillSwitch>,
    /// `/health` answers 503 when the documents are older than this (status actor stuck).
    pub stale_after: Duration,
    pub stats: Arc<ServerStats>,
    /// The engine's answers to reloads; without it `/control/reload` answers 202 at once.
    /// Locked by a reload from its send to its answer (see `route`).
    pub replies: Option<Mutex<Rx<ControlReply>>>,
    /// Numbers reload calls.
    pub next_request: AtomicU64,
    /// The charts' history (`GET /series`), recorded by the status actor.
    pub series: super::series::SeriesBoard,
}

/// The running server: its listener thread.
pub struct ServerHandle {
    stop: Arc<AtomicBool>,
    waker: Arc<Waker>,
    join: Option<JoinHandle<()>>,
}

impl ServerHandle {
    /// Starts serving on `listener` from a new thread (it inherits the caller's priority:
    /// started from a low-priority host, it is low priority too, and so are the connection
    /// threads it starts).
    pub fn start(listener: TcpListener, parts: ServerParts) -> io::Result<Self> {
        listener.set_nonblocking(true)?;
        let poll = Poll::new()?;
        poll.registry().register(
            &mut SourceFd(&listener.as_raw_fd()),
            LISTENER,
            Interest::READABLE,
        )?;
        let waker = Arc::new(Waker::new(poll.registry(), WAKE)?);
        let stop = Arc::new(AtomicBool::new(false));
        let st = Arc::clone(&stop);
        let join = std::thread::Builder::new()
            .name("mako-status-http".into())
            .spawn(move || {
                crate::runtime::affinity::keep_off_hot("status-http");
                accept_loop(poll, &listener, &st, &Arc::new(parts))
            })?;
        Ok(Self {
            stop,
            waker,
            join: Some(join),
        })
    }

    /// Stops accepting and joins the listener thread. Connection threads see the flag
    /// within `READ_POLL` and end on their own (a reload waiting for the engine, when its
    /// wait ends).
    pub fn stop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Err(e) = self.waker.wake() {
            tracing::warn!(error = %e, "status server: cannot wake the listener");
        }
        if let Some(j) = self.join.take()
            && j.join().is_err()
        {
            tracing::error!("status server thread panicked");
        }
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        self.stop();
    }
}

fn accept_loop(
    mut poll: Poll,
    listener: &TcpListener,
    stop: &Arc<AtomicBool>,
    parts: &Arc<ServerParts>,
) {
    let active = Arc::new(AtomicUsize::new(0));
    let mut events = Events::with_capacity(4);
    while !stop.load(Ordering::Acquire) {
        if let Err(e) = poll.poll(&mut events, Some(ACCEPT_POLL)) {
            if e.kind() != io::ErrorKind::Interrupted {
                tracing::debug!(error = %e, "status server: poll failed");
                std::thread::sleep(Duration::from_millis(10));
            }
            continue;
        }
        // Readiness is edge-triggered: accept until the queue is empty.
        while !stop.load(Ordering::Acquire) {
            match listener.accept() {
                Ok((stream, _)) => admit(stream, parts, &active, stop),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    tracing::debug!(error = %e, "status server: accept failed");
                    break;
                }
            }
        }
    }
}

/// A place among the `MAX_CONNECTIONS`, given back when dropped (also when its connection
/// thread panics or cannot start). Relaxed: only the listener thread reads the count, to
/// decide, and nothing is published through it.
struct Slot(Arc<AtomicUsize>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

fn admit(
    stream: TcpStream,
    parts: &Arc<ServerParts>,
    active: &Arc<AtomicUsize>,
    stop: &Arc<AtomicBool>,
) {
    if active.load(Ordering::Relaxed) >= MAX_CONNECTIONS {
        busy(&stream);
        return;
    }
    active.fetch_add(1, Ordering::Relaxed);
    let slot = Slot(Arc::clone(active));
    let (parts, stop) = (Arc::clone(parts), Arc::clone(stop));
    let spawned = std::thread::Builder::new()
        .name("mako-status-conn".into())
        .spawn(move || {
            crate::runtime::affinity::keep_off_hot("status-conn");
            let _slot = slot;
            connection(stream, &parts, &stop);
        });
    if let Err(e) = spawned {
        tracing::debug!(error = %e, "status server: cannot start a connection thread");
    }
}

/// Answers 503 to a connection over the limit without waiting for it (one non-blocking
/// write into an empty send buffer), and closes it.
fn busy(stream: &TcpStream) {
    let answer = response(Answer::error(503, "too many connections; retry"));
    if stream.set_nonblocking(true).is_ok() {
        let _ = http::write_response(&mut &*stream, &answer, false);
    }
}

/// A client's socket, cut off at `until`: past it reads say closed and writes fail.
struct Conn {
    stream: TcpStream,
    until: Instant,
}

impl Read for Conn {
    fn read(&mut self, b: &mut [u8]) -> io::Result<usize> {
        if Instant::now() >= self.until {
            return Ok(0);
        }
        (&self.stream).read(b)
    }
}

impl Write for Conn {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        if Instant::now() >= self.until {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "connection lifetime over",
            ));
        }
        (&self.stream).write(b)
    }

    fn flush(&mut self) -> io::Result<()> {
        (&self.stream).flush()
    }
}

fn connection(stream: TcpStream, parts: &ServerParts, stop: &AtomicBool) {
    let setup = stream
        .set_nonblocking(false)
        .and_then(|()| stream.set_nodelay(true))
        .and_then(|()| stream.set_read_timeout(Some(READ_POLL)))
        .and_then(|()| stream.set_write_timeout(Some(WRITE_WAIT)));
    if let Err(e) = setup {
        tracing::debug!(error = %e, "status server: cannot set up a connection");
        return;
    }
    let mut conn = Conn {
        stream,
        until: Instant::now() + CONNECTION_LIFETIME,
    };
    if serve_requests(&mut conn, parts, stop) {
        linger(&conn.stream, stop);
    }
}

/// Closes our side and reads what the client still sends (see `LINGER`).
fn linger(stream: &TcpStream, stop: &AtomicBool) {
    let _ = stream.shutdown(Shutdown::Write);
    let until = Instant::now() + LINGER;
    let mut chunk = [0u8; 8192];
    let mut dropped = 0;
    while dropped < LINGER_BYTES && Instant::now() < until && !stop.load(Ordering::Relaxed) {
        match (&*stream).read(&mut chunk) {
            Ok(0) => return,
            Ok(n) => dropped += n,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock
                        | io::ErrorKind::TimedOut
                        | io::ErrorKind::Interrupted
                ) => {}
            Err(_) => return,
        }
    }
}

/// Serves the requests of one connection until the client closes or stops sending, a
/// request is refused, keep-alive ends (the client's wish, `REQUESTS_PER_CONNECTION`, or
/// `stop`), or a write fails. Returns whether it ended on an answer that closes the
/// connection (the caller then lingers). Generic over the stream so that bytes can be
/// served without a socket (`mako::fuzzing::status_http`).
pub fn serve_requests(
    conn: &mut (impl Read + Write),
    parts: &ServerParts,
    stop: &AtomicBool,
) -> bool {
    let mut buf = Vec::new();
    let mut served = 0;
    loop {
        let (answer, head_only, keep) =
            match http::read_request(conn, &mut buf, stop, REQUEST_WAIT, LIMITS) {
                Ok(req) => {
                    served += 1;
                    let keep = req.keep_alive()
                        && served < REQUESTS_PER_CONNECTION
                        && !stop.load(Ordering::Relaxed);
                    (route(&req, parts), req.method == "HEAD", keep)
                }
                Err(ReadError::Refused { status, message }) => {
                    (Answer::error(status, &message), false, false)
                }
                Err(ReadError::Closed) => return false,
                Err(ReadError::Io(e)) => {
                    tracing::debug!(error = %e, "status server: read failed");
                    return false;
                }
            };
        parts.stats.requests.fetch_add(1, Ordering::Relaxed);
        if (400..500).contains(&answer.status) {
            parts.stats.client_errors.fetch_add(1, Ordering::Relaxed);
        }
        let r = response(answer);
        let written = if head_only {
            http::write_head(conn, &r, keep)
        } else {
            http::write_response(conn, &r, keep)
        };
        if let Err(e) = written {
            tracing::debug!(error = %e, "status server: client went away");
            return false;
        }
        if !keep {
            return true;
        }
    }
}

fn response(a: Answer) -> Response {
    let mut headers: Vec<(String, String)> = [
        ("Content-Type", a.content_type),
        ("Cache-Control", "no-store"),
        ("X-Content-Type-Options", "nosniff"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    if a.www_authenticate {
        headers.push(("WWW-Authenticate".into(), "Bearer".into()));
    }
    Response {
        status: a.status,
        headers,
        body: a.body,
    }
}

#[cfg(test)]
mod tests;
