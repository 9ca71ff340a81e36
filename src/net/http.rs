//! The server side of HTTP/1.1 on `httparse`, for the simulator's listener and the status
//! endpoint: reading requests (keep-alive, pipelining, Content-Length bodies) within size
//! limits, refusing what is not an HTTP/1.x request with the status to answer, and writing
//! responses.

use std::io::{self, Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Most headers a request may carry; more is refused with 431.
const MAX_HEADERS: usize = 64;

/// The largest request a reader takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Bytes of request line and headers (431 beyond).
    pub head: usize,
    /// Bytes of body, as announced by `Content-Length` (413 beyond, before any is read).
    pub body: usize,
}

/// One parsed request.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// The path without the query string.
    pub path: String,
    /// The raw query string (after `?`), as sent.
    pub query: String,
    /// The minor version: 0 for HTTP/1.0, 1 for HTTP/1.1.
    pub version: u8,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn is_websocket_upgrade(&self) -> bool {
        self.header("upgrade")
            .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
    }

    pub fn wants_close(&self) -> bool {
        self.header("connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("close"))
    }

    /// Whether the client lets the connection stay open after the answer: HTTP/1.1 unless it
    /// says `Connection: close`, HTTP/1.0 only when it says `Connection: keep-alive`.
    pub fn keep_alive(&self) -> bool {
        let says = |token: &str| {
            self.header("connection")
                .is_some_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
        };
        if self.version == 0 {
            says("keep-alive")
        } else {
            !says("close")
        }
    }
}

/// A response to write.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Response {
    pub fn json(status: u16, body: String) -> Self {
        Response {
            status,
            headers: vec![(
                "Content-Type".into(),
                "application/json;charset=UTF-8".into(),
            )],
            body,
        }
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        101 => "Switching Protocols",
        200 => "OK",
        202 => "Accepted",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        411 => "Length Required",
        413 => "Content Too Large",
        418 => "I'm a teapot",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        _ => "Unknown",
    }
}

/// Why reading a request stopped.
#[derive(Debug)]
pub enum ReadError {
    /// The peer closed, the connection idled out, or the server is stopping.
    Closed,
    /// Not a request this reader takes: answer `status` (400 malformed, 411 a
    /// `Transfer-Encoding`, 413 body too large, 431 head too large, 505 another HTTP version)
    /// with `message`, then close the connection: what follows cannot be framed.
    Refused {
        status: u16,
        message: String,
    },
    Io(io::Error),
}

fn refuse(status: u16, message: impl Into<String>) -> ReadError {
    ReadError::Refused {
        status,
        message: message.into(),
    }
}

/// Reads one request. `buf` keeps bytes past the request (pipelining, WebSocket frames).
/// The stream must have a short read timeout so `stop` is seen promptly; the whole request
/// must arrive within `idle` of the call.
pub fn read_request(
    s: &mut impl Read,
    buf: &mut Vec<u8>,
    stop: &AtomicBool,
    idle: Duration,
    limits: Limits,
) -> Result<Request, ReadError> {
    let started = Instant::now();
    let mut chunk = [0u8; 8192];
    loop {
        if !buf.is_empty() {
            let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
            let mut req = httparse::Request::new(&mut headers);
            match req.parse(buf) {
                Ok(httparse::Status::Complete(n)) => {
                    if n > limits.head {
                        return Err(refuse(431, "request header too large"));
                    }
                    let (mut r, len) = head(&req)?;
                    if len > limits.body {
                        return Err(refuse(413, "request body too large"));
                    }
                    while buf.len() < n + len {
                        read_some(s, buf, &mut chunk, stop, started, idle)?;
                    }
                    r.body = buf[n..n + len].to_vec();
                    buf.drain(..n + len);
                    return Ok(r);
                }
                Ok(httparse::Status::Partial) => {
                    if buf.len() > limits.head {
                        return Err(refuse(431, "request header too large"));
                    }
                }
                Err(httparse::Error::Version) => return Err(version_refusal(buf)),
                Err(httparse::Error::TooManyHeaders) => {
                    return Err(refuse(431, "too many request headers"));
                }
                Err(e) => return Err(refuse(400, format!("malformed request: {e}"))),
            }
        }
        read_some(s, buf, &mut chunk, stop, started, idle)?;
    }
}

/// The request a complete head describes, and the length of its body.
fn head(req: &httparse::Request<'_, '_>) -> Result<(Request, usize), ReadError> {
    let target = req.path.unwrap_or("/");
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let r = Request {
        method: req.method.unwrap_or("").to_string(),
        path: path.to_string(),
        query: query.to_string(),
        version: req.version.unwrap_or(1),
        headers: req
            .headers
            .iter()
            .map(|h| {
                (
                    h.name.to_string(),
                    String::from_utf8_lossy(h.value).into_owned(),
                )
            })
            .collect(),
        body: Vec::new(),
    };
    // Framing by Content-Length only: a chunked body would need its own parser, and a
    // request with both is the classic smuggling shape.
    if r.header("transfer-encoding").is_some() {
        return Err(refuse(
            411,
            "Transfer-Encoding is not supported; send a Content-Length",
        ));
    }
    let mut len = None;
    for (_, v) in r
        .headers
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case("content-length"))
    {
        let v = v.trim();
        let n = (!v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
            .then(|| v.parse::<usize>().ok())
            .flatten();
        match (n, len) {
            (None, _) => return Err(refuse(400, "malformed Content-Length")),
            (Some(n), Some(seen)) if n != seen => {
                return Err(refuse(400, "conflicting Content-Length headers"));
            }
            (Some(n), _) => len = Some(n),
        }
    }
    Ok((r, len.unwrap_or(0)))
}

/// 505 when the request line names another HTTP version (`HTTP/2.0`, `HTTP/0.9`), 400 when
/// what stands there is not a version at all.
fn version_refusal(buf: &[u8]) -> ReadError {
    let start = buf
        .iter()
        .position(|b| *b != b'\r' && *b != b'\n')
        .unwrap_or(buf.len());
    let line = buf[start..].split(|b| *b == b'\n').next().unwrap_or(&[]);
    let version = line.splitn(3, |b| *b == b' ').nth(2).unwrap_or(&[]);
    match version {
        [b'H', b'T', b'T', b'P', b'/', d, ..] if d.is_ascii_digit() => {
            refuse(505, "HTTP version not supported; use HTTP/1.1")
        }
        _ => refuse(400, "malformed request: invalid HTTP version"),
    }
}

fn read_some(
    s: &mut impl Read,
    buf: &mut Vec<u8>,
    chunk: &mut [u8],
    stop: &AtomicBool,
    started: Instant,
    idle: Duration,
) -> Result<(), ReadError> {
    loop {
        if stop.load(Ordering::Relaxed) || started.elapsed() > idle {
            return Err(ReadError::Closed);
        }
        match s.read(chunk) {
            Ok(0) => return Err(ReadError::Closed),
            Ok(n) => {
                buf.extend_from_slice(&chunk[..n]);
                return Ok(());
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock
                        | io::ErrorKind::TimedOut
                        | io::ErrorKind::Interrupted
                ) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::ConnectionReset
                        | io::ErrorKind::UnexpectedEof
                        | io::ErrorKind::BrokenPipe
                ) =>
            {
                return Err(ReadError::Closed);
            }
            Err(e) => return Err(ReadError::Io(e)),
        }
    }
}

/// Writes `r` with a `Content-Length` and a `Connection` header.
pub fn write_response(s: &mut impl Write, r: &Response, keep_alive: bool) -> io::Result<()> {
    write(s, r, keep_alive, true)
}

/// Writes `r`'s status line and headers only, `Content-Length` that of its body: the answer
/// to a `HEAD` request.
pub fn write_head(s: &mut impl Write, r: &Response, keep_alive: bool) -> io::Result<()> {
    write(s, r, keep_alive, false)
}

fn write(s: &mut impl Write, r: &Response, keep_alive: bool, body: bool) -> io::Result<()> {
    let mut out = format!("HTTP/1.1 {} {}\r\n", r.status, reason(r.status));
    for (k, v) in &r.headers {
        out.push_str(k);
        out.push_str(": ");
        out.push_str(v);
        out.push_str("\r\n");
    }
    out.push_str(&format!("Content-Length: {}\r\n", r.body.len()));
    out.push_str(if keep_alive {
        "Connection: keep-alive\r\n\r\n"
    } else {
        "Connection: close\r\n\r\n"
    });
    if body {
        out.push_str(&r.body);
    }
    s.write_all(out.as_bytes())?;
    s.flush()
}

/// Splits `a=1&b=2` into decoded pairs (`+` is a space, `%XX` a byte), in order.
pub fn parse_pairs(s: &str) -> Vec<(String, String)> {
    s.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

pub fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                let hex = |c: u8| (c as char).to_digit(16);
                match (hex(b[i + 1]), hex(b[i + 2])) {
                    (Some(h), Some(l)) => {
                        out.push((h * 16 + l) as u8);
                        i += 2;
                    }
                    _ => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: Limits = Limits {
        head: 256,
        body: 16,
    };

    fn read(raw: &[u8]) -> Result<Request, ReadError> {
        let stop = AtomicBool::new(false);
        let mut buf = Vec::new();
        let mut cur = std::io::Cursor::new(raw);
        read_request(&mut cur, &mut buf, &stop, Duration::from_secs(5), LIMITS)
    }

    #[test]
    fn reads_pipelined_requests_with_bodies() {
        let raw = b"POST /api/v3/order?symbol=BTCUSDT HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\na=1&bGET /api/v3/time HTTP/1.1\r\n\r\n";
        let mut cur = std::io::Cursor::new(&raw[..]);
        let stop = AtomicBool::new(false);
        let mut buf = Vec::new();
        let idle = Duration::from_secs(5);
        let r = read_request(&mut cur, &mut buf, &stop, idle, LIMITS).unwrap();
        assert_eq!(
            (r.method.as_str(), r.path.as_str(), r.query.as_str()),
            ("POST", "/api/v3/order", "symbol=BTCUSDT")
        );
        assert_eq!(r.body, b"a=1&b");
        let r = read_request(&mut cur, &mut buf, &stop, idle, LIMITS).unwrap();
        assert_eq!(r.path, "/api/v3/time");
        assert!(matches!(
            read_request(&mut cur, &mut buf, &stop, idle, LIMITS),
            Err(ReadError::Closed)
        ));
    }

    #[test]
    fn refuses_what_it_cannot_frame_with_the_status_to_answer() {
        let many_headers = format!("GET / HTTP/1.1\r\n{}\r\n", "a: b\r\n".repeat(65));
        let long_head = format!("GET /{} HTTP/1.1\r\n\r\n", "x".repeat(300));
        let table: [(&[u8], u16); 16] = [
            (b"GET /health HTTP/2.0\r\n\r\n", 505),
            (b"GET /health HTTP/2", 505),
            (b"GET / HTTP/0.9\r\n\r\n", 505),
            (b"GET / HTTP/1.2\r\n\r\n", 505),
            (b"\r\n\r\nGET / HTTP/3.0\r\n\r\n", 505),
            (b"GET / FTP/1.1\r\n\r\n", 400),
            (b"BLAH\r\n\r\n", 400),
            (b"\x00\x01\x02\xff\r\n\r\n", 400),
            (b"GET / HTTP/1.1\r\nContent-Length: nope\r\n\r\n", 400),
            (b"GET / HTTP/1.1\r\nContent-Length: +1\r\n\r\nx", 400),
            (
                b"GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nxy",
                400,
            ),
            (
                b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                411,
            ),
            (b"POST / HTTP/1.1\r\nContent-Length: 17\r\n\r\n", 413),
            (
                b"POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n",
                400,
            ),
            (many_headers.as_bytes(), 431),
            (long_head.as_bytes(), 431),
        ];
        for (raw, want) in table {
            match read(raw) {
                Err(ReadError::Refused { status, message }) => {
                    assert_eq!(
                        status,
                        want,
                        "{:?}: {message}",
                        String::from_utf8_lossy(raw)
                    );
                }
                other => panic!("{:?}: {other:?}", String::from_utf8_lossy(raw)),
            }
        }
    }

    #[test]
    fn reads_versions_lengths_and_keep_alive() {
        // (request, version, body, keep-alive)
        let table: [(&[u8], u8, &[u8], bool); 6] = [
            (b"GET / HTTP/1.1\r\n\r\n", 1, b"", true),
            (
                b"GET / HTTP/1.1\r\nConnection: Close\r\n\r\n",
                1,
                b"",
                false,
            ),
            (
                b"GET / HTTP/1.1\r\nConnection: keep-alive, close\r\n\r\n",
                1,
                b"",
                false,
            ),
            (b"GET / HTTP/1.0\r\n\r\n", 0, b"", false),
            (
                b"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n",
                0,
                b"",
                true,
            ),
            (
                b"POST / HTTP/1.1\r\nContent-Length: 2\r\ncontent-length:  2 \r\n\r\nokGET",
                1,
                b"ok",
                true,
            ),
        ];
        for (raw, version, body, keep) in table {
            let r =
                read(raw).unwrap_or_else(|e| panic!("{:?}: {e:?}", String::from_utf8_lossy(raw)));
            assert_eq!(
                (r.version, r.body.as_slice(), r.keep_alive()),
                (version, body, keep),
                "{:?}",
                String::from_utf8_lossy(raw)
            );
        }
    }

    #[test]
    fn an_unfinished_request_reads_as_closed() {
        for raw in [
            &b"GET / HTTP/1.1\r\nHost: x\r\n"[..],
            b"POST / HTTP/1.1\r\nContent-Length: 4\r\n\r\nab",
        ] {
            assert!(matches!(read(raw), Err(ReadError::Closed)), "{raw:?}");
        }
    }

    #[test]
    fn a_head_answer_has_the_length_of_the_body_but_not_the_body() {
        let r = Response::json(200, "{}".into());
        let (mut get, mut head) = (Vec::new(), Vec::new());
        write_response(&mut get, &r, true).unwrap();
        write_head(&mut head, &r, false).unwrap();
        let get = String::from_utf8(get).unwrap();
        let head = String::from_utf8(head).unwrap();
        assert!(
            get.starts_with("HTTP/1.1 200 OK\r\n") && get.ends_with("\r\n\r\n{}"),
            "{get}"
        );
        assert!(
            get.contains("Content-Length: 2\r\nConnection: keep-alive\r\n"),
            "{get}"
        );
        assert!(
            head.contains("Content-Length: 2\r\nConnection: close\r\n\r\n"),
            "{head}"
        );
        assert!(head.ends_with("\r\n\r\n"), "{head}");
    }

    #[test]
    fn decodes_pairs() {
        assert_eq!(
            parse_pairs("symbol=%EF%BC%91&x=a+b&flag&bad=%zz"),
            vec![
                ("symbol".into(), "１".into()),
                ("x".into(), "a b".into()),
                ("flag".into(), "".into()),
                ("bad".into(), "%zz".into())
            ]
        );
    }
}
