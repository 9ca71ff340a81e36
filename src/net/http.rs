//! The server side of HTTP/1.1 on `httparse`, for the simulator's listener and the status
//! endpoint: reading requests (keep-alive, Content-Length bodies) and writing responses.
//! Requests larger than `MAX_REQUEST` are refused.

use std::io::{self, Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

const MAX_REQUEST: usize = 1 << 20;

/// One parsed request.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// The path without the query string.
    pub path: String,
    /// The raw query string (after `?`), as sent.
    pub query: String,
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
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        418 => "I'm a teapot",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Unknown",
    }
}

/// Why reading a request stopped.
#[derive(Debug)]
pub enum ReadError {
    /// The peer closed, the connection idled out, or the simulator is stopping.
    Closed,
    /// Malformed or oversized request: answer 400 and close.
    Bad(String),
    Io(io::Error),
}

/// Reads one request. `buf` keeps bytes past the request (pipelining, WebSocket frames).
/// The stream must have a short read timeout so `stop` is seen promptly.
pub fn read_request(
    s: &mut impl Read,
    buf: &mut Vec<u8>,
    stop: &AtomicBool,
    idle: Duration,
) -> Result<Request, ReadError> {
    let started = Instant::now();
    let mut chunk = [0u8; 8192];
    loop {
        if !buf.is_empty() {
            let mut headers = [httparse::EMPTY_HEADER; 64];
            let mut req = httparse::Request::new(&mut headers);
            match req.parse(buf) {
                Ok(httparse::Status::Complete(n)) => {
                    let method = req.method.unwrap_or("").to_string();
                    let target = req.path.unwrap_or("/");
                    let (path, query) = target.split_once('?').unwrap_or((target, ""));
                    let headers: Vec<(String, String)> = req
                        .headers
                        .iter()
                        .map(|h| {
                            (
                                h.name.to_string(),
                                String::from_utf8_lossy(h.value).into_owned(),
                            )
                        })
                        .collect();
                    let mut r = Request {
                        method,
                        path: path.to_string(),
                        query: query.to_string(),
                        headers,
                        body: Vec::new(),
                    };
                    let len: usize = match r.header("content-length") {
                        Some(v) => v
                            .trim()
                            .parse()
                            .map_err(|_| ReadError::Bad("bad Content-Length".into()))?,
                        None => 0,
                    };
                    if len > MAX_REQUEST {
                        return Err(ReadError::Bad("request body too large".into()));
                    }
                    while buf.len() < n + len {
                        read_some(s, buf, &mut chunk, stop, started, idle)?;
                    }
                    r.body = buf[n..n + len].to_vec();
                    buf.drain(..n + len);
                    return Ok(r);
                }
                Ok(httparse::Status::Partial) => {
                    if buf.len() > MAX_REQUEST {
                        return Err(ReadError::Bad("request header too large".into()));
                    }
                }
                Err(e) => return Err(ReadError::Bad(format!("malformed request: {e}"))),
            }
        }
        read_some(s, buf, &mut chunk, stop, started, idle)?;
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

pub fn write_response(s: &mut impl Write, r: &Response, keep_alive: bool) -> io::Result<()> {
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
    out.push_str(&r.body);
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

    #[test]
    fn reads_pipelined_requests_with_bodies() {
        let raw = b"POST /api/v3/order?symbol=BTCUSDT HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\na=1&bGET /api/v3/time HTTP/1.1\r\n\r\n";
        let mut cur = std::io::Cursor::new(&raw[..]);
        let stop = AtomicBool::new(false);
        let mut buf = Vec::new();
        let r = read_request(&mut cur, &mut buf, &stop, Duration::from_secs(5)).unwrap();
        assert_eq!(
            (r.method.as_str(), r.path.as_str(), r.query.as_str()),
            ("POST", "/api/v3/order", "symbol=BTCUSDT")
        );
        assert_eq!(r.body, b"a=1&b");
        let r = read_request(&mut cur, &mut buf, &stop, Duration::from_secs(5)).unwrap();
        assert_eq!(r.path, "/api/v3/time");
        assert!(matches!(
            read_request(&mut cur, &mut buf, &stop, Duration::from_secs(5)),
            Err(ReadError::Closed)
        ));
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
