//! WebSocket client connections against local servers on loopback: plain and TLS, pings
//! answered with their payload, non-blocking reads, server close seen.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mako::net::{Connector, Endpoint, Incoming, NetError, WsConn};
use tungstenite::Message;

/// Reads until a message arrives (the socket is non-blocking), for at most 10 s.
fn next(conn: &mut WsConn) -> Result<Incoming, NetError> {
    let until = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(m) = conn.read()? {
            return Ok(m);
        }
        assert!(Instant::now() < until, "nothing arrived");
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Server side of the script: ping, two texts, wait for the pong, close.
fn serve<S: std::io::Read + std::io::Write>(mut ws: tungstenite::WebSocket<S>) -> Vec<u8> {
    ws.send(Message::Ping(b"p-123".to_vec().into())).unwrap();
    ws.send(Message::text("{\"a\":1}")).unwrap();
    ws.send(Message::text("{\"b\":2}")).unwrap();
    let pong = loop {
        match ws.read().unwrap() {
            Message::Pong(p) => break p.to_vec(),
            _ => continue,
        }
    };
    ws.close(None).unwrap();
    let _ = ws.flush();
    // Let the client see the close before the socket goes away.
    while ws.read().is_ok() {}
    pong
}

fn client_script(mut conn: WsConn) {
    conn.set_nonblocking().unwrap();
    assert!(matches!(next(&mut conn).unwrap(), Incoming::Ping));
    match next(&mut conn).unwrap() {
        Incoming::Text(t) => assert_eq!(t.as_str(), "{\"a\":1}"),
        m => panic!("{m:?}"),
    }
    match next(&mut conn).unwrap() {
        Incoming::Text(t) => assert_eq!(t.as_str(), "{\"b\":2}"),
        m => panic!("{m:?}"),
    }
    match next(&mut conn) {
        Ok(Incoming::Close(_)) | Err(NetError::Closed) => {}
        other => panic!("expected the server's close, got {other:?}"),
    }
}

#[test]
fn plain_websocket_answers_pings_with_their_payload() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        let (s, _) = l.accept().unwrap();
        serve(tungstenite::accept(s).unwrap())
    });
    let c = Connector::with_public_roots(Duration::from_secs(5)).unwrap();
    let conn = c
        .websocket(
            &Endpoint::parse(&format!("ws://127.0.0.1:{port}/ws/btcusdt@bookTicker")).unwrap(),
        )
        .unwrap();
    client_script(conn);
    assert_eq!(server.join().unwrap(), b"p-123");
}

/// A TLS server configuration for `localhost` with a fresh self-signed certificate, and the
/// certificate (DER) for the client to trust.
fn self_signed_localhost() -> (Vec<u8>, Arc<rustls::ServerConfig>) {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let der = cert.cert.der().to_vec();
    let key = rustls::pki_types::PrivateKeyDer::try_from(cert.signing_key.serialize_der()).unwrap();
    let cfg = rustls::ServerConfig::builder_with_provider(mako::net::ws::crypto_provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![rustls::pki_types::CertificateDer::from(der.clone())],
            key,
        )
        .unwrap();
    (der, Arc::new(cfg))
}

#[test]
fn tls_websocket_with_a_self_signed_certificate() {
    let (der, server_cfg) = self_signed_localhost();
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        let (s, _) = l.accept().unwrap();
        let conn = rustls::ServerConnection::new(server_cfg).unwrap();
        let tls = rustls::StreamOwned::new(conn, s);
        serve(tungstenite::accept(tls).unwrap())
    });
    let c = Connector::with_root_der(&der, Duration::from_secs(5)).unwrap();
    let conn = c
        .websocket(&Endpoint::parse(&format!("wss://localhost:{port}/ws")).unwrap())
        .unwrap();
    client_script(conn);
    assert_eq!(server.join().unwrap(), b"p-123");

    // A server the client does not trust is refused during the handshake.
    let other = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let key =
        rustls::pki_types::PrivateKeyDer::try_from(other.signing_key.serialize_der()).unwrap();
    let cfg = rustls::ServerConfig::builder_with_provider(mako::net::ws::crypto_provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![other.cert.der().clone()], key)
        .unwrap();
    let cfg = Arc::new(cfg);
    let server = std::thread::spawn(move || {
        let (s, _) = l.accept().unwrap();
        let conn = rustls::ServerConnection::new(cfg).unwrap();
        let mut tls = rustls::StreamOwned::new(conn, s);
        let _ = std::io::Read::read(&mut tls, &mut [0u8; 16]);
    });
    let err = c
        .websocket(&Endpoint::parse(&format!("wss://localhost:{port}/ws")).unwrap())
        .err()
        .expect("untrusted");
    assert!(matches!(err, NetError::Tls(_)), "{err}");
    server.join().unwrap();
}

/// Reads `n` text messages on the server side, in the order they came.
fn read_texts<S: std::io::Read + std::io::Write>(
    ws: &mut tungstenite::WebSocket<S>,
    n: usize,
) -> Vec<String> {
    let mut got = Vec::with_capacity(n);
    while got.len() < n {
        if let Message::Text(t) = ws.read().unwrap() {
            got.push(t.to_string());
        }
    }
    got
}

#[test]
fn queued_frames_leave_in_one_write_intact_and_in_order() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    // Frames of different lengths (7-bit and 16-bit length headers) so a torn or reordered
    // frame would show.
    let frames: Vec<String> = (0..6)
        .map(|i| format!("{{\"id\":{i},\"pad\":\"{}\"}}", "x".repeat(i * 61)))
        .collect();
    let n = frames.len();
    let server = std::thread::spawn(move || {
        let (s, _) = l.accept().unwrap();
        let mut ws = tungstenite::accept(s).unwrap();
        let burst = read_texts(&mut ws, n);
        let singles = read_texts(&mut ws, 3);
        (burst, singles)
    });
    let c = Connector::with_public_roots(Duration::from_secs(5)).unwrap();
    let mut conn = c
        .websocket(&Endpoint::parse(&format!("ws://127.0.0.1:{port}/ws-api/v3")).unwrap())
        .unwrap();
    conn.set_nonblocking().unwrap();
    let before = conn.writes();
    for f in &frames {
        conn.queue_text(f).unwrap();
    }
    assert_eq!(conn.writes(), before, "queued frames are not written yet");
    conn.flush().unwrap();
    assert_eq!(conn.writes(), before + 1, "the burst left in one write");
    // `send_text` writes each frame at once: the counter counts every write.
    for f in &frames[..3] {
        conn.send_text(f).unwrap();
    }
    assert_eq!(conn.writes(), before + 4);
    let (burst, singles) = server.join().unwrap();
    assert_eq!(burst, frames, "every queued frame arrived intact, in order");
    assert_eq!(singles, frames[..3].to_vec());
}

/// After a short `recv` the client answers its next read `WouldBlock` without asking the
/// kernel (`mako::net::ws::Tcp`); a frame that arrives afterwards must still wake
/// edge-triggered epoll (mio), as the feed polls it. Fifty rounds of one frame each, plain
/// and TLS: every frame is seen through a readiness event, and the skipping did happen.
fn short_reads_keep_epoll_edges(conn: &mut WsConn, send: &std::sync::mpsc::Sender<String>) {
    use mio::unix::SourceFd;
    use mio::{Events, Interest, Poll, Token};
    conn.set_nonblocking().unwrap();
    let mut poll = Poll::new().unwrap();
    let fd = conn.raw_fd();
    poll.registry()
        .register(&mut SourceFd(&fd), Token(0), Interest::READABLE)
        .unwrap();
    let mut events = Events::with_capacity(8);
    for i in 0..50 {
        let want = format!("m{i}");
        send.send(want.clone()).unwrap();
        let mut got = Vec::new();
        let until = Instant::now() + Duration::from_secs(10);
        while got.is_empty() {
            assert!(
                Instant::now() < until,
                "round {i}: no readiness event for {want}"
            );
            poll.poll(&mut events, Some(Duration::from_secs(1)))
                .unwrap();
            if events.is_empty() {
                continue;
            }
            // Edge-triggered: read until the connection says nothing more.
            while let Some(m) = conn.read().unwrap() {
                if let Incoming::Text(t) = m {
                    got.push(t.as_str().to_string());
                }
            }
        }
        assert_eq!(got, vec![want]);
    }
    assert!(conn.recvs_skipped() > 0, "no read was skipped");
}

/// Server side: sends each text it is given, until the channel closes.
fn send_on_request<S: std::io::Read + std::io::Write>(
    mut ws: tungstenite::WebSocket<S>,
    texts: std::sync::mpsc::Receiver<String>,
) {
    for t in texts {
        ws.send(Message::text(t)).unwrap();
    }
}

#[test]
fn a_short_read_skips_the_next_recv_and_later_frames_still_wake_epoll() {
    // Plain.
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let (tx, rx) = std::sync::mpsc::channel();
    let server = std::thread::spawn(move || {
        let (s, _) = l.accept().unwrap();
        send_on_request(tungstenite::accept(s).unwrap(), rx);
    });
    let c = Connector::with_public_roots(Duration::from_secs(5)).unwrap();
    let mut conn = c
        .websocket(&Endpoint::parse(&format!("ws://127.0.0.1:{port}/ws")).unwrap())
        .unwrap();
    short_reads_keep_epoll_edges(&mut conn, &tx);
    drop(tx);
    server.join().unwrap();

    // TLS: the skipping is on the socket under rustls.
    let (der, server_cfg) = self_signed_localhost();
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let (tx, rx) = std::sync::mpsc::channel();
    let server = std::thread::spawn(move || {
        let (s, _) = l.accept().unwrap();
        let conn = rustls::ServerConnection::new(server_cfg).unwrap();
        let tls = rustls::StreamOwned::new(conn, s);
        send_on_request(tungstenite::accept(tls).unwrap(), rx);
    });
    let c = Connector::with_root_der(&der, Duration::from_secs(5)).unwrap();
    let mut conn = c
        .websocket(&Endpoint::parse(&format!("wss://localhost:{port}/ws")).unwrap())
        .unwrap();
    short_reads_keep_epoll_edges(&mut conn, &tx);
    drop(tx);
    server.join().unwrap();
}
