//! WebSocket client connections for feeds and the WebSocket API: `ws://` and `wss://`
//! (rustls with the ring provider), TCP_NODELAY, connected and handshaken on a blocking
//! socket **off the hot path**, then switched to non-blocking and handed to the actor that
//! reads it.

use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::os::fd::{AsRawFd, RawFd};
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};
use tungstenite::protocol::WebSocketConfig;
use tungstenite::{Message, WebSocket};

use super::url::Endpoint;

#[derive(Debug, thiserror::Error)]
pub enum NetError {
    #[error("cannot resolve {0}")]
    Resolve(String),
    #[error("connect to {0}: {1}")]
    Connect(String, io::Error),
    #[error("TLS: {0}")]
    Tls(String),
    #[error("WebSocket handshake with {0}: {1}")]
    Handshake(String, String),
    #[error("I/O: {0}")]
    Io(#[from] io::Error),
    #[error("WebSocket: {0}")]
    Ws(String),
    #[error("connection closed")]
    Closed,
}

/// A TCP stream, with or without TLS.
pub enum Stream {
    Plain(Tcp),
    Tls(Box<StreamOwned<ClientConnection, Tcp>>),
}

impl Stream {
    pub fn tcp(&self) -> &TcpStream {
        match self {
            Stream::Plain(s) => &s.sock,
            Stream::Tls(s) => &s.sock.sock,
        }
    }

    fn tcp_mut(&mut self) -> &mut Tcp {
        match self {
            Stream::Plain(s) => s,
            Stream::Tls(s) => &mut s.sock,
        }
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.read(buf),
            Stream::Tls(s) => s.read(buf),
        }
    }
}

/// The client's TCP socket. Once the connection is polled without blocking
/// ([`WsConn::set_nonblocking`]), a `recv` that returned fewer bytes than it asked for took
/// everything the kernel held at that moment, so the next read answers `WouldBlock` without
/// a system call (once; the read after it asks the kernel again). Bytes that arrive after
/// that `recv` wake the socket's waiters again: a new edge for the feed's edge-triggered
/// `epoll`, and the gateway reads every poll anyway. What it saves is the `recv` that
/// would only have said `EAGAIN`, which otherwise sits between a market frame and the order
/// it causes (seen with `strace` on the demo's hot thread, issue 25). Under TLS it is the
/// socket under rustls, so a short read of decrypted bytes decides nothing.
pub struct Tcp {
    sock: TcpStream,
    /// Non-blocking and polled: short reads count.
    polled: bool,
    /// The last `recv` was short: answer the next read with `WouldBlock`.
    drained: bool,
    /// `recv` calls skipped that way.
    skipped: u64,
}

impl Tcp {
    fn new(sock: TcpStream) -> Self {
        Self {
            sock,
            polled: false,
            drained: false,
            skipped: 0,
        }
    }
}

impl Read for Tcp {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.drained {
            self.drained = false;
            self.skipped += 1;
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let n = self.sock.read(buf)?;
        self.drained = self.polled && n > 0 && n < buf.len();
        Ok(n)
    }
}

impl Write for Tcp {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.sock.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.sock.flush()
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.write(buf),
            Stream::Tls(s) => s.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Plain(s) => s.flush(),
            Stream::Tls(s) => s.flush(),
        }
    }
}

/// A connection's stream with a count of the write calls made on it (each one a `write(2)` on
/// plain TCP; on TLS, rustls writes the records it holds), so a test can see that a burst of
/// queued frames left in one write.
///
/// It also holds the text frames mako queues itself (`WsConn::queue_text`: encoded and
/// masked into one reused buffer, where tungstenite's `Message` would copy every payload
/// into a new allocation). The two writers never interleave inside a frame: tungstenite's
/// own writes (pongs, the close) wait while a frame of ours is partly written
/// (`WouldBlock` to tungstenite, which retries), and ours start only once tungstenite's
/// buffer is empty (`WsConn::flush`).
pub struct Counted {
    inner: Stream,
    writes: u64,
    /// Our queued frames; the bytes before `written` are on the wire.
    queued: Vec<u8>,
    written: usize,
}

impl Counted {
    fn new(inner: Stream) -> Self {
        Self {
            inner,
            writes: 0,
            queued: Vec::with_capacity(QUEUE_CAPACITY),
            written: 0,
        }
    }

    /// Writes our queued frames until they are all out or the socket would block (then
    /// `Ok(false)`: the rest waits for the next call).
    fn write_queued(&mut self) -> io::Result<bool> {
        while self.written < self.queued.len() {
            self.writes += 1;
            match self.inner.write(&self.queued[self.written..]) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => self.written += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        self.queued.clear();
        self.written = 0;
        Ok(true)
    }
}

impl Read for Counted {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf)
    }
}

/// Tungstenite's writes: only once our queued frames are out.
impl Write for Counted {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if !self.write_queued()? {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        self.writes += 1;
        self.inner.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Bytes reserved at start for the frames queued in one burst (it grows if ever needed).
const QUEUE_CAPACITY: usize = 64 << 10;

/// Masking keys for the frames a client sends (RFC 6455 §5.3: unpredictable, from a strong
/// source of entropy): the operating system's random bytes, fetched a block at a time so a
/// frame costs no system call (one `getrandom` per 1,024 frames).
struct Masks {
    pool: [u8; 4096],
    /// Bytes of `pool` used; at `pool.len()` it is refilled.
    used: usize,
}

impl Masks {
    fn new() -> Self {
        Self {
            pool: [0; 4096],
            used: 4096,
        }
    }

    fn next(&mut self) -> Result<[u8; 4], NetError> {
        if self.used + 4 > self.pool.len() {
            getrandom::getrandom(&mut self.pool)
                .map_err(|e| NetError::Ws(format!("no random bytes for a frame mask: {e}")))?;
            self.used = 0;
        }
        let mut key = [0; 4];
        key.copy_from_slice(&self.pool[self.used..self.used + 4]);
        self.used += 4;
        Ok(key)
    }
}

/// Appends `text` to `out` as one masked client text frame (FIN set, opcode 1).
fn encode_text_frame(text: &[u8], mask: [u8; 4], out: &mut Vec<u8>) {
    out.push(0x81);
    let len = text.len();
    if len < 126 {
        out.push(0x80 | len as u8);
    } else if let Ok(len) = u16::try_from(len) {
        out.push(0x80 | 126);
        out.extend_from_slice(&len.to_be_bytes());
    } else {
        out.push(0x80 | 127);
        out.extend_from_slice(&(len as u64).to_be_bytes());
    }
    out.extend_from_slice(&mask);
    let start = out.len();
    out.extend_from_slice(text);
    for (i, b) in out[start..].iter_mut().enumerate() {
        *b ^= mask[i & 3];
    }
}

/// Opens connections. Cheap to clone; holds the TLS configuration.
#[derive(Clone)]
pub struct Connector {
    tls: Arc<ClientConfig>,
    timeout: Duration,
}

/// The ring crypto provider, installed once per process for rustls.
pub fn crypto_provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn client_config(roots: RootCertStore) -> Result<Arc<ClientConfig>, NetError> {
    let cfg = ClientConfig::builder_with_provider(crypto_provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| NetError::Tls(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(cfg))
}

impl Connector {
    /// Verifies servers against the Mozilla root set (webpki-roots).
    pub fn with_public_roots(timeout: Duration) -> Result<Self, NetError> {
        let roots = RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        Ok(Self {
            tls: client_config(roots)?,
            timeout,
        })
    }

    /// Trusts exactly one certificate (DER): the simulator's self-signed one, in tests.
    pub fn with_root_der(der: &[u8], timeout: Duration) -> Result<Self, NetError> {
        let mut roots = RootCertStore::empty();
        roots
            .add(rustls::pki_types::CertificateDer::from(der.to_vec()))
            .map_err(|e| NetError::Tls(e.to_string()))?;
        Ok(Self {
            tls: client_config(roots)?,
            timeout,
        })
    }

    pub fn tls_config(&self) -> &Arc<ClientConfig> {
        &self.tls
    }

    /// TCP (+ TLS) connection with TCP_NODELAY and I/O timeouts set for a blocking handshake.
    /// Blocking: call it from a low-priority thread.
    pub fn tcp(&self, ep: &Endpoint) -> Result<Stream, NetError> {
        let addrs: Vec<_> = (ep.host.as_str(), ep.port)
            .to_socket_addrs()
            .map_err(|_| NetError::Resolve(ep.host.clone()))?
            .collect();
        let mut last = None;
        let mut sock = None;
        for a in addrs {
            match TcpStream::connect_timeout(&a, self.timeout) {
                Ok(s) => {
                    sock = Some(s);
                    break;
                }
                Err(e) => last = Some(e),
            }
        }
        let sock = sock.ok_or_else(|| {
            NetError::Connect(
                format!("{}:{}", ep.host, ep.port),
                last.unwrap_or_else(|| io::Error::other("no address")),
            )
        })?;
        sock.set_nodelay(true)?;
        sock.set_read_timeout(Some(self.timeout))?;
        sock.set_write_timeout(Some(self.timeout))?;
        let sock = Tcp::new(sock);
        if !ep.tls {
            return Ok(Stream::Plain(sock));
        }
        let name =
            ServerName::try_from(ep.host.clone()).map_err(|e| NetError::Tls(e.to_string()))?;
        let conn = ClientConnection::new(Arc::clone(&self.tls), name)
            .map_err(|e| NetError::Tls(e.to_string()))?;
        let mut s = StreamOwned::new(conn, sock);
        while s.conn.is_handshaking() {
            s.conn
                .complete_io(&mut s.sock)
                .map_err(|e| NetError::Tls(e.to_string()))?;
        }
        Ok(Stream::Tls(Box::new(s)))
    }

    /// A WebSocket client connection, handshaken, still blocking (call `set_nonblocking`
    /// before handing it to a hot actor).
    pub fn websocket(&self, ep: &Endpoint) -> Result<WsConn, NetError> {
        let stream = Counted::new(self.tcp(ep)?);
        let url = ep.ws_url();
        let config = WebSocketConfig::default()
            .max_message_size(Some(16 << 20))
            .max_frame_size(Some(16 << 20));
        let (ws, _resp) =
            tungstenite::client::client_with_config(url.as_str(), stream, Some(config))
                .map_err(|e| NetError::Handshake(url.clone(), e.to_string()))?;
        Ok(WsConn {
            ws,
            masks: Masks::new(),
        })
    }
}

/// What one read from a WebSocket gave.
#[derive(Debug)]
pub enum Incoming {
    Text(tungstenite::Utf8Bytes),
    Binary(tungstenite::Bytes),
    /// A ping arrived; the pong (same payload) is queued and goes out with the next flush.
    Ping,
    Pong,
    /// The server closed (close frame), with its code if any.
    Close(Option<u16>),
}

/// An open WebSocket client connection.
pub struct WsConn {
    ws: WebSocket<Counted>,
    masks: Masks,
}

impl WsConn {
    /// Switches the socket to non-blocking for polling from an actor.
    pub fn set_nonblocking(&mut self) -> Result<(), NetError> {
        let s = self.ws.get_ref().inner.tcp();
        s.set_nonblocking(true)?;
        s.set_read_timeout(None)?;
        s.set_write_timeout(None)?;
        self.ws.get_mut().inner.tcp_mut().polled = true;
        Ok(())
    }

    /// Socket reads answered `WouldBlock` without a system call after a short one ([`Tcp`]).
    pub fn recvs_skipped(&self) -> u64 {
        match &self.ws.get_ref().inner {
            Stream::Plain(s) => s.skipped,
            Stream::Tls(s) => s.sock.skipped,
        }
    }

    /// How long a blocking `read` waits before answering `Ok(None)` (a worker thread's
    /// request/answer socket; `None` waits for ever).
    pub fn set_read_timeout(&mut self, d: Option<Duration>) -> Result<(), NetError> {
        self.ws.get_ref().inner.tcp().set_read_timeout(d)?;
        Ok(())
    }

    /// The socket's descriptor, to register with `mio` (`mio::unix::SourceFd`).
    pub fn raw_fd(&self) -> RawFd {
        self.ws.get_ref().inner.tcp().as_raw_fd()
    }

    /// Reads one message. `Ok(None)`: nothing ready (non-blocking). Pings are answered:
    /// the pong carrying the ping's payload is flushed before returning.
    pub fn read(&mut self) -> Result<Option<Incoming>, NetError> {
        match self.ws.read() {
            Ok(Message::Text(t)) => Ok(Some(Incoming::Text(t))),
            Ok(Message::Binary(b)) => Ok(Some(Incoming::Binary(b))),
            Ok(Message::Ping(_)) => {
                self.flush()?;
                Ok(Some(Incoming::Ping))
            }
            Ok(Message::Pong(_)) => Ok(Some(Incoming::Pong)),
            Ok(Message::Close(frame)) => {
                Ok(Some(Incoming::Close(frame.map(|f| u16::from(f.code)))))
            }
            Ok(Message::Frame(_)) => Ok(None),
            Err(tungstenite::Error::Io(e)) if e.kind() == io::ErrorKind::WouldBlock => Ok(None),
            Err(tungstenite::Error::ConnectionClosed | tungstenite::Error::AlreadyClosed) => {
                Err(NetError::Closed)
            }
            Err(e) => Err(NetError::Ws(e.to_string())),
        }
    }

    /// Queues a text message and tries to write it; what the socket could not take yet is
    /// written by later `flush` calls.
    pub fn send_text(&mut self, text: &str) -> Result<(), NetError> {
        self.queue_text(text)?;
        self.flush()
    }

    /// Queues a text message without writing it: several queued messages leave together, in
    /// order, with the next `flush` (one write while the socket takes them all). Encoded and
    /// masked in place into the connection's reused buffer: no allocation once warm.
    pub fn queue_text(&mut self, text: &str) -> Result<(), NetError> {
        if !self.ws.can_write() {
            return Err(NetError::Closed);
        }
        let mask = self.masks.next()?;
        encode_text_frame(text.as_bytes(), mask, &mut self.ws.get_mut().queued);
        Ok(())
    }

    /// Write calls made on the socket so far (the handshake's included).
    pub fn writes(&self) -> u64 {
        self.ws.get_ref().writes
    }

    /// Writes whatever is queued (queued messages, pongs, partial messages): tungstenite's
    /// frames first, then ours, each only once the other's are out.
    pub fn flush(&mut self) -> Result<(), NetError> {
        match self.ws.flush() {
            Ok(()) => {}
            Err(tungstenite::Error::Io(e)) if e.kind() == io::ErrorKind::WouldBlock => {
                return Ok(());
            }
            Err(tungstenite::Error::ConnectionClosed) => return Err(NetError::Closed),
            Err(e) => return Err(NetError::Ws(e.to_string())),
        }
        match self.ws.get_mut().write_queued() {
            Ok(_) => Ok(()),
            Err(e) => Err(NetError::Io(e)),
        }
    }

    /// Starts a clean close; keep reading until `Closed` to finish it, or just drop.
    pub fn close(&mut self) {
        let _ = self.ws.close(None);
        let _ = self.ws.flush();
    }
}
