//! Socket.IO v2 over Engine.IO protocol 3, the part CoinDCX's stream uses (exchanges.md §7.1:
//! the docs pin `socket.io-client` 2.4.0, the `websocket` transport): one WebSocket text frame
//! is one Engine.IO packet, a digit type then its data. `0{json}` open (sid, pingInterval,
//! pingTimeout), `1` close, `2` ping, `3` pong, `4` message, `5` upgrade, `6` noop; a message
//! carries one Socket.IO packet, a digit type then an optional `/namespace,`, an optional ack
//! id and JSON: `0` connect, `1` disconnect, `2` event (`["name", arg]`), `3` ack, `4` error.
//! Under EIO3 the client pings (`2`) every pingInterval and the server answers `3`.
//!
//! A small codec written here rather than a runtime crate: `rust_socketio` speaks Socket.IO
//! v5 / Engine.IO 4 only (there the server pings), `tf-rust-socketio` is a fork of it with the
//! same protocol, and both bring their own async transports where mako's feed owns its
//! sockets. What CoinDCX needs of the protocol fits in this file; it does no I/O and borrows
//! everything from the frame.

use std::time::Duration;

use crate::types::UnixNanos;

/// Engine.IO's ping, sent by the client every `pingInterval` (EIO3).
pub const EIO_PING: &str = "2";
/// The pong a server answers with (and a client answers a server's probe with).
pub const EIO_PONG: &str = "3";
/// The keepalive event the docs' sample client emits every 25 s (exchanges.md §7.5).
pub const APP_PING: &str = r#"42["ping",{"data":"Ping message"}]"#;
/// The docs' period for [`APP_PING`].
pub const APP_PING_EVERY: Duration = Duration::from_secs(25);
/// Socket.IO v2 servers' defaults, used until the open packet states its own.
pub const DEFAULT_PING_INTERVAL: Duration = Duration::from_millis(25_000);
pub const DEFAULT_PING_TIMEOUT: Duration = Duration::from_millis(5_000);

/// Why a frame is not a packet this codec reads (counted by the caller, never fatal).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SioError {
    #[error("empty frame")]
    Empty,
    #[error("unknown Engine.IO packet type {0:?}")]
    UnknownEngineType(u8),
    #[error("unknown Socket.IO packet type {0:?}")]
    UnknownSocketType(u8),
    #[error("Engine.IO open packet without a valid sid, pingInterval and pingTimeout")]
    BadOpen,
    #[error("Socket.IO event that is not [\"name\", ...]")]
    BadEvent,
    #[error("binary Socket.IO packets are not used by this venue")]
    Binary,
}

impl SioError {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Empty => "empty Socket.IO frame",
            Self::UnknownEngineType(_) => "unknown Engine.IO packet type",
            Self::UnknownSocketType(_) => "unknown Socket.IO packet type",
            Self::BadOpen => "malformed Engine.IO open packet",
            Self::BadEvent => "malformed Socket.IO event",
            Self::Binary => "binary Socket.IO packet",
        }
    }
}

/// One Engine.IO packet, borrowing from the frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Packet<'a> {
    /// `0{...}`: the handshake's answer.
    Open(Open),
    /// `1`: the server closes the session.
    Close,
    /// `2` (with an optional probe payload): a ping.
    Ping,
    /// `3`: the answer to our ping.
    Pong,
    /// `40` (optionally `40/nsp,`): the namespace is connected.
    Connect,
    /// `41`: the server dropped the namespace.
    Disconnect,
    /// `42["name", arg]`: `args` is the JSON after the name's comma, up to (not including)
    /// the closing bracket; empty when the event has no argument.
    Event { name: &'a str, args: &'a [u8] },
    /// `43...`: an acknowledgement (CoinDCX asks for none).
    Ack,
    /// `44{...}`: the server refused something (the JSON as sent).
    Error(&'a [u8]),
    /// `5` upgrade and `6` noop: transport-level, nothing to do on a WebSocket.
    Noop,
}

/// The open packet's fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Open {
    pub ping_interval: Duration,
    pub ping_timeout: Duration,
}

/// Reads one text frame.
pub fn parse(frame: &[u8]) -> Result<Packet<'_>, SioError> {
    let (&t, rest) = frame.split_first().ok_or(SioError::Empty)?;
    match t {
        b'0' => parse_open(rest).map(Packet::Open),
        b'1' => Ok(Packet::Close),
        b'2' => Ok(Packet::Ping),
        b'3' => Ok(Packet::Pong),
        b'4' => parse_message(rest),
        b'5' | b'6' => Ok(Packet::Noop),
        other => Err(SioError::UnknownEngineType(other)),
    }
}

fn parse_open(json: &[u8]) -> Result<Open, SioError> {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Raw<'a> {
        #[serde(borrow)]
        sid: &'a str,
        ping_interval: u64,
        ping_timeout: u64,
    }
    let raw: Raw<'_> = serde_json::from_slice(json).map_err(|_| SioError::BadOpen)?;
    if raw.sid.is_empty() || raw.ping_interval == 0 {
        return Err(SioError::BadOpen);
    }
    Ok(Open {
        ping_interval: Duration::from_millis(raw.ping_interval),
        ping_timeout: Duration::from_millis(raw.ping_timeout),
    })
}

fn parse_message(rest: &[u8]) -> Result<Packet<'_>, SioError> {
    let (&t, mut body) = rest.split_first().ok_or(SioError::Empty)?;
    // An optional namespace (`/nsp,`): CoinDCX uses the default one, so it is skipped.
    if body.first() == Some(&b'/') {
        body = match body.iter().position(|&b| b == b',') {
            Some(i) => &body[i + 1..],
            None => &[],
        };
    }
    match t {
        b'0' => Ok(Packet::Connect),
        b'1' => Ok(Packet::Disconnect),
        b'2' => parse_event(skip_ack_id(body)),
        b'3' => Ok(Packet::Ack),
        b'4' => Ok(Packet::Error(body)),
        b'5' | b'6' => Err(SioError::Binary),
        other => Err(SioError::UnknownSocketType(other)),
    }
}

fn skip_ack_id(body: &[u8]) -> &[u8] {
    let n = body.iter().take_while(|b| b.is_ascii_digit()).count();
    &body[n..]
}

/// `["name", arg...]`: the name (a JSON string without escapes, as event names are) and the
/// rest of the array's text.
fn parse_event(body: &[u8]) -> Result<Packet<'_>, SioError> {
    let body = trim(body);
    let inner = body
        .strip_prefix(b"[")
        .and_then(|b| b.strip_suffix(b"]"))
        .ok_or(SioError::BadEvent)?;
    let inner = trim(inner);
    let after_quote = inner.strip_prefix(b"\"").ok_or(SioError::BadEvent)?;
    let end = after_quote
        .iter()
        .position(|&b| b == b'"' || b == b'\\')
        .ok_or(SioError::BadEvent)?;
    if after_quote[end] != b'"' {
        return Err(SioError::BadEvent);
    }
    let name = std::str::from_utf8(&after_quote[..end]).map_err(|_| SioError::BadEvent)?;
    let rest = trim(&after_quote[end + 1..]);
    let args = match rest.split_first() {
        None => &[][..],
        Some((b',', a)) => trim(a),
        Some(_) => return Err(SioError::BadEvent),
    };
    Ok(Packet::Event { name, args })
}

fn trim(mut b: &[u8]) -> &[u8] {
    while let [first, rest @ ..] = b
        && first.is_ascii_whitespace()
    {
        b = rest;
    }
    while let [rest @ .., last] = b
        && last.is_ascii_whitespace()
    {
        b = rest;
    }
    b
}

/// `42["join",{"channelName":"<channel>"}]`.
pub fn join(channel: &str) -> String {
    emit_channel("join", channel)
}

/// `42["leave",{"channelName":"<channel>"}]`.
pub fn leave(channel: &str) -> String {
    emit_channel("leave", channel)
}

fn emit_channel(event: &str, channel: &str) -> String {
    let arg = serde_json::json!({ "channelName": channel });
    format!("42[\"{event}\",{arg}]")
}

/// The private channel's join (exchanges.md §7.5): the signature is the hex HMAC-SHA256 of
/// `{"channel":"coindcx"}` under the secret ([`super::sign::CoindcxSigner::ws_auth`]).
pub fn join_private(api_key: &str, signature: &str) -> String {
    let arg = serde_json::json!({
        "channelName": "coindcx",
        "authSignature": signature,
        "apiKey": api_key,
    });
    format!("42[\"join\",{arg}]")
}

/// The client's two timers on one connection: the Engine.IO ping every `pingInterval` (the
/// server closes a session whose pings stop for pingInterval + pingTimeout) and the docs'
/// application ping every 25 s; and the wait for the server's pong.
#[derive(Debug, Clone, Copy)]
pub struct Heartbeat {
    ping_interval: u64,
    ping_timeout: u64,
    /// When the connection came up (the first timer call after `reset`).
    started: Option<UnixNanos>,
    next_eio: UnixNanos,
    next_app: UnixNanos,
    /// A ping went out at this time and no pong has come since.
    awaiting_pong: Option<UnixNanos>,
}

/// What the heartbeat wants now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Beat {
    Nothing,
    Send(&'static str),
    /// No pong within pingInterval + pingTimeout of a ping: the session is dead.
    Dead,
}

impl Default for Heartbeat {
    fn default() -> Self {
        Self {
            ping_interval: DEFAULT_PING_INTERVAL.as_nanos() as u64,
            ping_timeout: DEFAULT_PING_TIMEOUT.as_nanos() as u64,
            started: None,
            next_eio: UnixNanos::ZERO,
            next_app: UnixNanos::ZERO,
            awaiting_pong: None,
        }
    }
}

impl Heartbeat {
    /// A new connection: the timers start at its first tick.
    pub fn reset(&mut self) {
        *self = Self::default();
    }

    /// The server's open packet: its intervals replace the defaults.
    pub fn on_open(&mut self, open: Open) {
        self.ping_interval = open.ping_interval.as_nanos() as u64;
        self.ping_timeout = open.ping_timeout.as_nanos() as u64;
        if let Some(s) = self.started {
            self.next_eio = s.plus_nanos(self.ping_interval);
        }
    }

    pub fn on_pong(&mut self) {
        self.awaiting_pong = None;
    }

    /// The frame to send now, if any (call until `Nothing`).
    pub fn tick(&mut self, now: UnixNanos) -> Beat {
        let Some(_) = self.started else {
            self.started = Some(now);
            self.next_eio = now.plus_nanos(self.ping_interval);
            self.next_app = now.plus_nanos(APP_PING_EVERY.as_nanos() as u64);
            return Beat::Nothing;
        };
        if let Some(at) = self.awaiting_pong
            && now.since(at) >= self.ping_interval + self.ping_timeout
        {
            self.awaiting_pong = None;
            return Beat::Dead;
        }
        if now >= self.next_eio {
            self.next_eio = now.plus_nanos(self.ping_interval);
            if self.awaiting_pong.is_none() {
                self.awaiting_pong = Some(now);
            }
            return Beat::Send(EIO_PING);
        }
        if now >= self.next_app {
            self.next_app = now.plus_nanos(APP_PING_EVERY.as_nanos() as u64);
            return Beat::Send(APP_PING);
        }
        Beat::Nothing
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_packets() {
        let open = br#"0{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":[],"pingInterval":25000,"pingTimeout":60000}"#;
        assert_eq!(
            parse(open),
            Ok(Packet::Open(Open {
                ping_interval: Duration::from_millis(25_000),
                ping_timeout: Duration::from_millis(60_000),
            }))
        );
        assert_eq!(parse(b"1"), Ok(Packet::Close));
        assert_eq!(parse(b"2"), Ok(Packet::Ping));
        assert_eq!(parse(b"2probe"), Ok(Packet::Ping));
        assert_eq!(parse(b"3"), Ok(Packet::Pong));
        assert_eq!(parse(b"6"), Ok(Packet::Noop));
        assert_eq!(parse(b"40"), Ok(Packet::Connect));
        assert_eq!(parse(b"40/admin,"), Ok(Packet::Connect));
        assert_eq!(parse(b"41"), Ok(Packet::Disconnect));
        assert_eq!(parse(b"43[]"), Ok(Packet::Ack));
        assert_eq!(
            parse(br#"44{"message":"Not authorized"}"#),
            Ok(Packet::Error(br#"{"message":"Not authorized"}"#))
        );
    }

    #[test]
    fn events_borrow_name_and_argument() {
        assert_eq!(
            parse(br#"42["depth-snapshot",{"vs":1,"asks":{}}]"#),
            Ok(Packet::Event {
                name: "depth-snapshot",
                args: br#"{"vs":1,"asks":{}}"#
            })
        );
        // With a namespace, an ack id and spaces.
        assert_eq!(
            parse(br#"42/futures,17[ "new-trade" , {"p":"1"} ]"#),
            Ok(Packet::Event {
                name: "new-trade",
                args: br#"{"p":"1"}"#
            })
        );
        assert_eq!(
            parse(br#"42["ping"]"#),
            Ok(Packet::Event {
                name: "ping",
                args: b""
            })
        );
    }

    #[test]
    fn what_is_not_a_packet_is_an_error() {
        for (frame, err) in [
            (&b""[..], SioError::Empty),
            (b"4", SioError::Empty),
            (b"7", SioError::UnknownEngineType(b'7')),
            (b"x{}", SioError::UnknownEngineType(b'x')),
            (b"48", SioError::UnknownSocketType(b'8')),
            (b"0{}", SioError::BadOpen),
            (
                br#"0{"sid":"a","pingInterval":"25000","pingTimeout":5000}"#,
                SioError::BadOpen,
            ),
            (b"42", SioError::BadEvent),
            (b"42{}", SioError::BadEvent),
            (br#"42["a\"b",1]"#, SioError::BadEvent),
            (br#"42["a" 1]"#, SioError::BadEvent),
            (br#"42[1,2]"#, SioError::BadEvent),
            (
                b"451-[\"x\",{\"_placeholder\":true,\"num\":0}]",
                SioError::Binary,
            ),
        ] {
            assert_eq!(
                parse(frame),
                Err(err),
                "{:?}",
                String::from_utf8_lossy(frame)
            );
        }
    }

    #[test]
    fn emits() {
        assert_eq!(
            join("B-BTC_USDT@orderbook@20-futures"),
            r#"42["join",{"channelName":"B-BTC_USDT@orderbook@20-futures"}]"#
        );
        assert_eq!(leave("coindcx"), r#"42["leave",{"channelName":"coindcx"}]"#);
        assert_eq!(
            join_private("k", "c8f9"),
            r#"42["join",{"channelName":"coindcx","authSignature":"c8f9","apiKey":"k"}]"#
        );
    }

    #[test]
    fn heartbeat_pings_on_both_timers_and_gives_up_without_pongs() {
        let s = |secs: u64| UnixNanos::from_millis(secs * 1000);
        let mut h = Heartbeat::default();
        assert_eq!(h.tick(s(100)), Beat::Nothing);
        h.on_open(Open {
            ping_interval: Duration::from_secs(10),
            ping_timeout: Duration::from_secs(5),
        });
        assert_eq!(h.tick(s(109)), Beat::Nothing);
        assert_eq!(h.tick(s(110)), Beat::Send(EIO_PING));
        assert_eq!(h.tick(s(111)), Beat::Nothing);
        h.on_pong();
        assert_eq!(h.tick(s(120)), Beat::Send(EIO_PING));
        assert_eq!(h.tick(s(125)), Beat::Send(APP_PING));
        assert_eq!(h.tick(s(125)), Beat::Nothing);
        // The ping of 120 is never answered: 15 s later the session is dead.
        assert_eq!(h.tick(s(130)), Beat::Send(EIO_PING));
        assert_eq!(h.tick(s(135)), Beat::Dead);
        h.reset();
        assert_eq!(h.tick(s(200)), Beat::Nothing);
    }
}
