//! Listeners and connections: accept (plain or TLS), read HTTP requests, and hand each
//! connection to REST or, on an upgrade, to the market-data or WS API WebSocket handler.

use std::io::{self, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use rustls::{ServerConnection, StreamOwned};

use super::Shared;
use super::rest::{self, Reply};
use super::ws;
use crate::net::http::{self, Limits, ReadError, Request, Response};

/// The largest request the simulator reads (head and body, each).
pub const HTTP_LIMITS: Limits = Limits {
    head: 1 << 20,
    body: 1 << 20,
};

/// A blocking connection (request/response phase).
pub enum Conn {
    Plain(TcpStream),
    Tls(Box<StreamOwned<ServerConnection, TcpStream>>),
}

impl Read for Conn {
    fn read(&mut self, b: &mut [u8]) -> io::Result<usize> {
        match self {
            Conn::Plain(s) => s.read(b),
            Conn::Tls(s) => s.read(b),
        }
    }
}

impl Write for Conn {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        match self {
            Conn::Plain(s) => s.write(b),
            Conn::Tls(s) => s.write(b),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Conn::Plain(s) => s.flush(),
            Conn::Tls(s) => s.flush(),
        }
    }
}

/// A non-blocking connection registered with mio (WebSocket phase).
pub enum MioConn {
    Plain(mio::net::TcpStream),
    Tls(Box<StreamOwned<ServerConnection, mio::net::TcpStream>>),
}

impl MioConn {
    pub fn socket(&mut self) -> &mut mio::net::TcpStream {
        match self {
            MioConn::Plain(s) => s,
            MioConn::Tls(s) => &mut s.sock,
        }
    }
}

impl Read for MioConn {
    fn read(&mut self, b: &mut [u8]) -> io::Result<usize> {
        match self {
            MioConn::Plain(s) => s.read(b),
            MioConn::Tls(s) => s.read(b),
        }
    }
}

impl Write for MioConn {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        match self {
            MioConn::Plain(s) => s.write(b),
            MioConn::Tls(s) => s.write(b),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            MioConn::Plain(s) => s.flush(),
            MioConn::Tls(s) => s.flush(),
        }
    }
}

impl Conn {
    fn into_mio(self) -> io::Result<MioConn> {
        match self {
            Conn::Plain(s) => {
                s.set_read_timeout(None)?;
                s.set_nonblocking(true)?;
                Ok(MioConn::Plain(mio::net::TcpStream::from_std(s)))
            }
            Conn::Tls(t) => {
                let (mut conn, sock) = t.into_parts();
                sock.set_read_timeout(None)?;
                sock.set_nonblocking(true)?;
                conn.set_buffer_limit(None);
                Ok(MioConn::Tls(Box::new(StreamOwned::new(
                    conn,
                    mio::net::TcpStream::from_std(sock),
                ))))
            }
        }
    }
}

/// Accepts until the simulator stops (woken by a connection to itself).
pub fn accept_loop(
    shared: Arc<Shared>,
    listener: TcpListener,
    tls: Option<Arc<rustls::ServerConfig>>,
) {
    for stream in listener.incoming() {
        if shared.shutdown.load(Ordering::Relaxed) {
            return;
        }
        let Ok(stream) = stream else { continue };
        let shared2 = shared.clone();
        let tls = tls.clone();
        let spawned = std::thread::Builder::new()
            .name("sim-conn".into())
            .spawn(move || {
                crate::runtime::affinity::keep_off_hot("sim-conn");
                let _ = serve(shared2, stream, tls);
            });
        if let Ok(h) = spawned {
            let mut threads = shared.conn_threads.lock();
            threads.retain(|t| !t.is_finished());
            threads.push(h);
        }
    }
}

fn serve(
    shared: Arc<Shared>,
    stream: TcpStream,
    tls: Option<Arc<rustls::ServerConfig>>,
) -> io::Result<()> {
    let peer: IpAddr = stream
        .peer_addr()
        .map(|a| a.ip())
        .unwrap_or(IpAddr::from([127, 0, 0, 1]));
    stream.set_nodelay(true)?;
    stream.set_read_timeout(Some(Duration::from_millis(100)))?;
    let mut conn = match tls {
        Some(cfg) => {
            let sc = ServerConnection::new(cfg).map_err(io::Error::other)?;
            Conn::Tls(Box::new(StreamOwned::new(sc, stream)))
        }
        None => Conn::Plain(stream),
    };
    let mut buf = Vec::new();
    loop {
        let req = match http::read_request(
            &mut conn,
            &mut buf,
            &shared.shutdown,
            Duration::from_secs(120),
            HTTP_LIMITS,
        ) {
            Ok(r) => r,
            Err(ReadError::Refused { status, message }) => {
                let r = Response::json(
                    status,
                    serde_json::json!({"code": -1000, "msg": message}).to_string(),
                );
                let _ = http::write_response(&mut conn, &r, false);
                return Ok(());
            }
            Err(ReadError::Closed) => return Ok(()),
            Err(ReadError::Io(e)) => return Err(e),
        };
        if req.is_websocket_upgrade() {
            return upgrade(shared, conn, req, buf);
        }
        let read_at = std::time::Instant::now();
        let reply = rest::handle(&shared, &req, peer);
        {
            let mut log = shared.rest_log.lock();
            if log.len() == super::REST_LOG {
                log.pop_front();
            }
            log.push_back(super::RestLogEntry {
                at: read_at,
                method: req.method.clone(),
                path: req.path.clone(),
                status: match &reply {
                    Reply::Send(r) => r.status,
                    Reply::Drop => 0,
                },
            });
        }
        match reply {
            Reply::Send(resp) => {
                let keep = !req.wants_close();
                http::write_response(&mut conn, &resp, keep)?;
                if !keep {
                    return Ok(());
                }
            }
            Reply::Drop => return Ok(()),
        }
    }
}

fn upgrade(shared: Arc<Shared>, mut conn: Conn, req: Request, leftover: Vec<u8>) -> io::Result<()> {
    let Some(key) = req.header("sec-websocket-key") else {
        let r = Response::json(
            400,
            "{\"code\":-1000,\"msg\":\"missing Sec-WebSocket-Key\"}".into(),
        );
        return http::write_response(&mut conn, &r, false);
    };
    let kind = if req.path == "/ws-api/v3" {
        ws::Kind::Api
    } else if req.path == "/ws/v5/public" {
        ws::Kind::OkxPublic
    } else if req.path == "/ws/v5/private" {
        ws::Kind::OkxPrivate
    } else if req.path == "/ws/coinbase" {
        ws::Kind::CoinbasePublic
    } else if req.path == "/ws/coinbase-user" {
        ws::Kind::CoinbaseUser
    } else if req.path == "/api" {
        // BitMart's public WebSocket path (`/api?protocol=1.1`).
        ws::Kind::BitmartPublic
    } else if req.path == "/user" {
        // BitMart's private WebSocket path (`/user?protocol=1.1`).
        ws::Kind::BitmartPrivate
    } else if req.path == "/s/ws" {
        // Coinstore's public WebSocket path.
        ws::Kind::CoinstorePublic
    } else if req.path == "/v5/public/spot" || req.path == "/v5/public/linear" {
        ws::Kind::BybitPublic(req.path.ends_with("linear"))
    } else if req.path == "/v5/private" {
        ws::Kind::BybitPrivate
    } else if req.path == "/v5/trade" {
        ws::Kind::BybitTrade
    } else if req.path == "/ws/delta-private" {
        ws::Kind::DeltaPrivate
    } else if req.path == "/ws/delta" {
        ws::Kind::DeltaPublic
    } else if req.path == "/socket.io/" {
        // CoinDCX's Socket.IO v2 stream (`?EIO=3&transport=websocket`).
        ws::Kind::CoindcxPublic
    } else {
        match super::ws_market::parse_path(&shared, &req.path, &req.query) {
            Ok(m) => ws::Kind::Market(m),
            Err(msg) => {
                let r = Response::json(
                    400,
                    serde_json::json!({"code": -1121, "msg": msg}).to_string(),
                );
                return http::write_response(&mut conn, &r, false);
            }
        }
    };
    let accept = tungstenite::handshake::derive_accept_key(key.as_bytes());
    let head = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"
    );
    conn.write_all(head.as_bytes())?;
    conn.flush()?;
    let mio = conn.into_mio()?;
    ws::run(shared, mio, leftover, kind)
}

/// Binds a loopback listener.
pub fn bind(host: &str, port: u16) -> io::Result<(TcpListener, SocketAddr)> {
    let l = TcpListener::bind((host, port))?;
    let a = l.local_addr()?;
    Ok((l, a))
}
