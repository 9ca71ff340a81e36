//! The WebSocket connection loop shared by market data and the WS API: one thread per
//! connection on its own mio poll, woken by the socket or by its mailbox, with server pings
//! every `ping_interval`, a close when no matching pong came within `pong_timeout`, a close at
//! `max_connection_age`, and a FIFO of outgoing frames each released at its due time (the
//! delay faults). It never spins: it sleeps in `poll` until the next deadline.

use std::collections::VecDeque;
use std::io;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use mio::{Events, Interest, Poll, Token, Waker};
use tungstenite::protocol::Role;
use tungstenite::{Message, WebSocket};

use super::Shared;
use super::hub::{Mailbox, Outbound};
use super::net::MioConn;
use super::ws_api::ApiSession;
use super::ws_market::{MarketInit, MarketSession};

const SOCK: Token = Token(0);
const WAKE: Token = Token(1);

/// Which protocol the connection speaks.
pub enum Kind {
    Market(MarketInit),
    Api,
    OkxPublic,
    OkxPrivate,
    CoinbasePublic,
    CoinbaseUser,
    BitmartPublic,
    /// BitMart's private WebSocket (`/user`).
    BitmartPrivate,
    /// Coinstore's public WebSocket (`/s/ws`).
    CoinstorePublic,
    /// Bybit's public WebSocket: `true` for `/v5/public/linear`, `false` for spot.
    BybitPublic(bool),
    /// Bybit's private WebSocket (`/v5/private`).
    BybitPrivate,
    /// Bybit's trade WebSocket (`/v5/trade`).
    BybitTrade,
    /// Delta Exchange's public WebSocket (`/ws/delta`).
    DeltaPublic,
    /// Delta Exchange's private WebSocket (`/ws/delta-private`).
    DeltaPrivate,
    /// CoinDCX's Socket.IO v2 stream (`/socket.io/?EIO=3&transport=websocket`).
    CoindcxPublic,
}

/// Frames waiting for their due time, in order. `None` closes the connection.
pub type Queue = VecDeque<(Instant, Option<String>)>;

/// One protocol's side of a connection.
pub trait Session {
    /// A text message from the client; replies go on `q`. `false` closes the connection.
    fn on_text(&mut self, text: &str, q: &mut Queue) -> bool;
    /// Turns a hub message into a frame (and its due time), or `None` to skip it.
    fn render(&mut self, o: Outbound) -> Option<(Instant, Option<String>)>;
    /// A further frame the last `render` made (one hub message may become several pushes).
    fn render_more(&mut self) -> Option<(Instant, Option<String>)> {
        None
    }
    /// Whether client messages are limited to 5 per second (market streams).
    fn limits_incoming(&self) -> bool;
    /// `n` frames were just flushed to the socket at `at` (bench stamps).
    fn flushed(&mut self, _n: u64, _at: Instant) {}
    /// The connection is closed when nothing was pushed to the client for this long
    /// (OKX's 30 s rule); `None`: no such rule.
    fn idle_timeout(&self) -> Option<Duration> {
        None
    }
    /// Frames the server sends first, unasked (Engine.IO's open packet).
    fn greeting(&mut self, _q: &mut Queue) {}
    /// The venue's own server ping rule (ping interval, pong window), when it is not the
    /// simulator's `ping_interval` / `pong_timeout`.
    fn ping_rule(&self) -> Option<(Duration, Duration)> {
        None
    }
    /// Whether a pong frame that answers no ping, or this client text, keeps the link alive
    /// (Coinstore: unsolicited pongs and the JSON pong do; Binance: only the ping's own pong).
    fn pong_in(&self, _text: Option<&str>) -> bool {
        false
    }
    /// The WebSocket message a queued frame goes out as: text, unless the venue sends
    /// some frames otherwise (BitMart compresses its data pushes into binary frames).
    fn wire(&mut self, text: String) -> Message {
        Message::text(text)
    }
    /// Frames the session sends on its own schedule (Coinbase's `heartbeats`, its close of a
    /// connection that subscribed to nothing in time), queued on `q`: called at the start
    /// and whenever the time it returned has come; `None`: no timer.
    fn tick(&mut self, _now: Instant, _q: &mut Queue) -> Option<Instant> {
        None
    }
}

fn would_block(e: &tungstenite::Error) -> bool {
    matches!(e, tungstenite::Error::Io(io) if io.kind() == io::ErrorKind::WouldBlock)
}

pub fn run(
    shared: Arc<Shared>,
    mut conn: MioConn,
    leftover: Vec<u8>,
    kind: Kind,
) -> io::Result<()> {
    let conn_id = shared.next_conn.fetch_add(1, Ordering::Relaxed);
    let mut poll = Poll::new()?;
    poll.registry()
        .register(conn.socket(), SOCK, Interest::READABLE | Interest::WRITABLE)?;
    let waker = Arc::new(Waker::new(poll.registry(), WAKE)?);
    let (tx, rx) = crossbeam_channel::unbounded();
    let mailbox = Mailbox { tx, waker };
    shared.conns.lock().insert(conn_id, mailbox.clone());
    let mut session: Box<dyn Session> = match kind {
        Kind::Market(m) => Box::new(MarketSession::new(shared.clone(), conn_id, mailbox, m)),
        Kind::Api => Box::new(ApiSession::new(shared.clone(), conn_id, mailbox)),
        Kind::OkxPrivate => Box::new(super::okx_private::OkxPrivateSession::new(
            shared.clone(),
            conn_id,
            mailbox,
        )),
        Kind::CoinbasePublic => Box::new(super::coinbase_public::CoinbasePublicSession::new(
            shared.clone(),
            conn_id,
            mailbox,
        )),
        Kind::CoinbaseUser => Box::new(super::coinbase_private::CoinbaseUserSession::new(
            shared.clone(),
            conn_id,
            mailbox,
        )),
        Kind::BitmartPublic => Box::new(super::bitmart_public::BitmartPublicSession::new(
            shared.clone(),
            conn_id,
            mailbox,
        )),
        Kind::BitmartPrivate => Box::new(super::bitmart_private::BitmartPrivateSession::new(
            shared.clone(),
            conn_id,
            mailbox,
        )),
        Kind::CoinstorePublic => Box::new(super::coinstore_public::CoinstorePublicSession::new(
            shared.clone(),
            conn_id,
            mailbox,
        )),
        Kind::BybitPublic(linear) => Box::new(super::bybit_public::BybitPublicSession::new(
            shared.clone(),
            conn_id,
            mailbox,
            linear,
        )),
        Kind::BybitPrivate => Box::new(super::bybit_private::BybitPrivateSession::new(
            shared.clone(),
            conn_id,
            mailbox,
        )),
        Kind::BybitTrade => Box::new(super::bybit_trade::BybitTradeSession::new(
            shared.clone(),
            conn_id,
            mailbox,
        )),
        Kind::DeltaPrivate => Box::new(super::delta_private::DeltaPrivateSession::new(
            shared.clone(),
            conn_id,
            mailbox,
        )),
        Kind::DeltaPublic => Box::new(super::delta_public::DeltaPublicSession::new(
            shared.clone(),
            conn_id,
            mailbox,
        )),
        Kind::CoindcxPublic => Box::new(super::coindcx_public::CoindcxPublicSession::new(
            shared.clone(),
            conn_id,
            mailbox,
        )),
        Kind::OkxPublic => Box::new(super::okx_public::OkxPublicSession::new(
            shared.clone(),
            conn_id,
            mailbox,
        )),
    };
    let mut ws = WebSocket::from_partially_read(conn, leftover, Role::Server, None);
    let result = drive(&shared, &mut ws, session.as_mut(), &rx, &mut poll);
    drop(session);
    shared.hub.remove(conn_id);
    shared.conns.lock().remove(&conn_id);
    result
}

fn drive(
    shared: &Shared,
    ws: &mut WebSocket<MioConn>,
    session: &mut dyn Session,
    rx: &crossbeam_channel::Receiver<Outbound>,
    poll: &mut Poll,
) -> io::Result<()> {
    let started = Instant::now();
    let cfg = &shared.cfg;
    let mut events = Events::with_capacity(8);
    let mut queue: Queue = VecDeque::new();
    session.greeting(&mut queue);
    let (ping_every, pong_window) = session
        .ping_rule()
        .unwrap_or((cfg.ping_interval, cfg.pong_timeout));
    let mut next_ping = started + ping_every;
    let mut ping_payload: Vec<u8> = Vec::new();
    let mut unanswered_since: Option<Instant> = None;
    let mut closing: Option<Instant> = None;
    let mut window = (started, 0u32);
    let idle = session.idle_timeout();
    let mut last_pushed = started;
    let mut next_tick = session.tick(started, &mut queue);
    loop {
        let now = Instant::now();
        let mut deadline = next_ping.min(started + cfg.max_connection_age);
        if let Some(idle) = idle {
            deadline = deadline.min(last_pushed + idle);
        }
        if let Some(t) = unanswered_since {
            deadline = deadline.min(t + pong_window);
        }
        if let Some((due, _)) = queue.front() {
            deadline = deadline.min(*due);
        }
        if let Some(t) = closing {
            deadline = deadline.min(t + Duration::from_millis(500));
        }
        if let Some(t) = next_tick {
            deadline = deadline.min(t);
        }
        // Wake at least every 200 ms so a stopping simulator is noticed.
        let timeout = deadline
            .saturating_duration_since(now)
            .min(Duration::from_millis(200));
        match poll.poll(&mut events, Some(timeout)) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
        let now = Instant::now();
        if let Some(t) = closing {
            // Drain until the peer's close arrives or the grace period ends.
            loop {
                match ws.read() {
                    Ok(_) => {}
                    Err(e) if would_block(&e) => break,
                    Err(_) => return Ok(()),
                }
            }
            let _ = ws.flush();
            if now >= t + Duration::from_millis(500) {
                return Ok(());
            }
            continue;
        }
        // Client messages.
        loop {
            match ws.read() {
                Ok(Message::Text(t)) => {
                    if session.limits_incoming() && over_limit(&mut window, now) {
                        queue.push_back((now, None));
                        break;
                    }
                    if session.pong_in(Some(t.as_str())) {
                        unanswered_since = None;
                    }
                    if !session.on_text(t.as_str(), &mut queue) {
                        queue.push_back((now, None));
                    }
                }
                Ok(Message::Ping(_)) => {
                    if session.limits_incoming() && over_limit(&mut window, now) {
                        queue.push_back((now, None));
                        break;
                    }
                }
                Ok(Message::Pong(p)) => {
                    if (!ping_payload.is_empty() && p.as_ref() == ping_payload.as_slice())
                        || session.pong_in(None)
                    {
                        unanswered_since = None;
                    }
                }
                Ok(Message::Close(_)) => {}
                Ok(_) => {}
                Err(e) if would_block(&e) => break,
                Err(_) => return Ok(()),
            }
        }
        // Hub messages.
        while let Ok(o) = rx.try_recv() {
            if let Some(item) = session.render(o) {
                queue.push_back(item);
            }
            while let Some(item) = session.render_more() {
                queue.push_back(item);
            }
        }
        // A stopping simulator closes every connection (after what its mailbox already holds,
        // such as serverShutdown).
        if shared.shutdown.load(Ordering::Relaxed) {
            queue.push_back((now, None));
        }
        // Timers.
        if next_tick.is_some_and(|t| now >= t) {
            next_tick = session.tick(now, &mut queue);
        }
        if now >= next_ping {
            ping_payload = super::exchange::now_ms().to_string().into_bytes();
            let _ = ws.write(Message::Ping(ping_payload.clone().into()));
            unanswered_since.get_or_insert(now);
            next_ping = now + ping_every;
        }
        if unanswered_since.is_some_and(|t| now >= t + pong_window)
            || now >= started + cfg.max_connection_age
            || idle.is_some_and(|idle| now >= last_pushed + idle && queue.is_empty())
        {
            queue.push_back((now, None));
        }
        // Due frames, in order.
        let mut written = 0u64;
        while queue.front().is_some_and(|(due, _)| *due <= now) {
            let Some((_, frame)) = queue.pop_front() else {
                break;
            };
            match frame {
                Some(text) => match ws.write(session.wire(text)) {
                    Ok(()) => {
                        written += 1;
                        last_pushed = now;
                    }
                    Err(e) if would_block(&e) => {}
                    Err(_) => return Ok(()),
                },
                None => {
                    let _ = ws.close(None);
                    let _ = ws.flush();
                    closing = Some(now);
                    break;
                }
            }
        }
        match ws.flush() {
            Ok(()) => session.flushed(written, Instant::now()),
            Err(e) if would_block(&e) => {}
            Err(_) => return Ok(()),
        }
    }
}

/// Binance allows 5 incoming messages per second on a market-data connection.
fn over_limit(window: &mut (Instant, u32), now: Instant) -> bool {
    if now.duration_since(window.0) >= Duration::from_secs(1) {
        *window = (now, 0);
    }
    window.1 += 1;
    window.1 > 5
}
