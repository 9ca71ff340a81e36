//! `Link`: one WebSocket connection to a venue (the gateway's, a feed's), established by a
//! low-priority connector thread (DNS, TCP, TLS and the WebSocket handshake block), handed
//! over non-blocking, and re-established with jittered exponential backoff when it drops.

use std::time::Duration;

use crossbeam_channel::{Receiver, Sender, TryRecvError};

use crate::net::{Connector, Endpoint, NetError, WsConn};
use crate::types::UnixNanos;

/// First and longest wait before reconnecting.
const BACKOFF_MIN: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(10);

pub enum LinkState {
    Down { retry_at: UnixNanos, attempts: u32 },
    Connecting { attempts: u32 },
    Up(Box<WsConn>),
}

/// The connector thread and the state of the link it provides.
pub struct Link {
    pub state: LinkState,
    requests: Sender<Endpoint>,
    results: Receiver<Result<WsConn, NetError>>,
    endpoint: Endpoint,
    /// xorshift state for jitter (deterministic per link; jitter needs no crypto).
    jitter: u64,
    pub connects: u64,
    pub disconnects: u64,
    pub last_error: Option<String>,
}

impl Link {
    /// A link that never connects and starts no thread (replays hand frames to the feed
    /// directly): its connect requests find no connector and it stays down.
    pub fn idle(endpoint: Endpoint) -> Self {
        let (requests, _) = crossbeam_channel::bounded::<Endpoint>(1);
        let (_, results) = crossbeam_channel::bounded(1);
        Self {
            state: LinkState::Down {
                retry_at: UnixNanos::ZERO,
                attempts: 0,
            },
            requests,
            results,
            endpoint,
            jitter: 0x9E37_79B9_7F4A_7C15,
            connects: 0,
            disconnects: 0,
            last_error: None,
        }
    }

    /// Starts the connector thread. The link starts down, due to connect at once.
    pub fn new(connector: Connector, endpoint: Endpoint, name: &str) -> std::io::Result<Self> {
        let (req_tx, req_rx) = crossbeam_channel::bounded::<Endpoint>(1);
        let (res_tx, res_rx) = crossbeam_channel::bounded(1);
        std::thread::Builder::new()
            .name(format!("mako-connect-{name}"))
            .spawn(move || {
                crate::runtime::affinity::keep_off_hot("connect");
                // Ends when the link (its request sender) is dropped.
                while let Ok(ep) = req_rx.recv() {
                    let r = connector
                        .websocket(&ep)
                        .and_then(|mut c| c.set_nonblocking().map(|()| c));
                    if res_tx.send(r).is_err() {
                        break;
                    }
                }
            })?;
        Ok(Self {
            state: LinkState::Down {
                retry_at: UnixNanos::ZERO,
                attempts: 0,
            },
            requests: req_tx,
            results: res_rx,
            endpoint,
            jitter: 0x9E37_79B9_7F4A_7C15,
            connects: 0,
            disconnects: 0,
            last_error: None,
        })
    }

    /// Drives connecting; returns `true` when the link has just come up.
    pub fn poll(&mut self, now: UnixNanos) -> bool {
        match &self.state {
            LinkState::Down { retry_at, attempts } if now >= *retry_at => {
                let attempts = *attempts;
                if self.requests.try_send(self.endpoint.clone()).is_ok() {
                    self.state = LinkState::Connecting { attempts };
                }
                false
            }
            LinkState::Connecting { attempts } => match self.results.try_recv() {
                Ok(Ok(conn)) => {
                    self.connects += 1;
                    self.state = LinkState::Up(Box::new(conn));
                    true
                }
                Ok(Err(e)) => {
                    self.last_error = Some(e.to_string());
                    let attempts = attempts + 1;
                    self.state = LinkState::Down {
                        retry_at: now.plus_nanos(self.backoff(attempts)),
                        attempts,
                    };
                    false
                }
                Err(TryRecvError::Empty) => false,
                Err(TryRecvError::Disconnected) => {
                    self.last_error = Some("connector thread ended".into());
                    false
                }
            },
            _ => false,
        }
    }

    /// The connection dropped: close it and schedule a reconnect.
    pub fn down(&mut self, now: UnixNanos, why: String) {
        if let LinkState::Up(c) = &mut self.state {
            c.close();
            self.disconnects += 1;
        }
        self.last_error = Some(why);
        self.state = LinkState::Down {
            retry_at: now.plus_nanos(self.backoff(1)),
            attempts: 1,
        };
    }

    /// Closes the connection (if up) without counting a disconnect and stays down until
    /// `connect_now`: a spare link waiting for its turn (a feed's rotation).
    pub fn park(&mut self) {
        if let LinkState::Up(c) = &mut self.state {
            c.close();
        }
        self.state = LinkState::Down {
            retry_at: UnixNanos(u64::MAX),
            attempts: 0,
        };
    }

    /// A down link connects on its next `poll`, whatever its backoff said.
    pub fn connect_now(&mut self) {
        if let LinkState::Down { attempts, .. } = self.state {
            self.state = LinkState::Down {
                retry_at: UnixNanos::ZERO,
                attempts,
            };
        }
    }

    /// Neither up nor on its way up, nor due to retry: parked.
    pub fn is_parked(&self) -> bool {
        matches!(self.state, LinkState::Down { retry_at, .. } if retry_at.0 == u64::MAX)
    }

    pub fn conn(&mut self) -> Option<&mut WsConn> {
        match &mut self.state {
            LinkState::Up(c) => Some(c),
            _ => None,
        }
    }

    pub fn is_up(&self) -> bool {
        matches!(self.state, LinkState::Up(_))
    }

    /// `min × 2^(attempts−1)`, capped, with ±25 % jitter so reconnects do not stampede.
    fn backoff(&mut self, attempts: u32) -> u64 {
        let base = (BACKOFF_MIN.as_nanos() as u64)
            .saturating_mul(1u64 << attempts.min(16).saturating_sub(1));
        let base = base.min(BACKOFF_MAX.as_nanos() as u64);
        self.jitter ^= self.jitter << 13;
        self.jitter ^= self.jitter >> 7;
        self.jitter ^= self.jitter << 17;
        let spread = base / 2;
        base - base / 4 + if spread == 0 { 0 } else { self.jitter % spread }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_with_jitter_and_is_capped() {
        let c = Connector::with_public_roots(Duration::from_secs(1)).unwrap();
        let mut l = Link::new(c, Endpoint::parse("ws://127.0.0.1:1/").unwrap(), "t").unwrap();
        let ms = |ns: u64| ns / 1_000_000;
        let b1 = l.backoff(1);
        assert!((75..=125).contains(&ms(b1)), "{}", ms(b1));
        let b4 = l.backoff(4);
        assert!((600..=1000).contains(&ms(b4)), "{}", ms(b4));
        let b20 = l.backoff(20);
        assert!((7_500..=12_500).contains(&ms(b20)), "{}", ms(b20));
    }

    #[test]
    fn a_refused_connection_goes_down_and_retries_later() {
        let c = Connector::with_public_roots(Duration::from_secs(1)).unwrap();
        // Port 1 on loopback: nothing listens, the connect is refused at once.
        let mut l = Link::new(c, Endpoint::parse("ws://127.0.0.1:1/").unwrap(), "t").unwrap();
        let mut now = UnixNanos(1);
        assert!(!l.poll(now));
        assert!(matches!(l.state, LinkState::Connecting { .. }));
        let until = std::time::Instant::now() + Duration::from_secs(10);
        while matches!(l.state, LinkState::Connecting { .. }) {
            assert!(std::time::Instant::now() < until);
            l.poll(now);
            std::thread::sleep(Duration::from_millis(1));
        }
        match l.state {
            LinkState::Down { retry_at, attempts } => {
                assert_eq!(attempts, 1);
                assert!(retry_at > now);
                now = retry_at;
            }
            _ => panic!("expected down"),
        }
        assert!(l.last_error.is_some());
        l.poll(now);
        assert!(matches!(l.state, LinkState::Connecting { attempts: 1 }));
    }
}
