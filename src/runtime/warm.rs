//! A warm send path, by choice (`[runtime] warm_send_us`, off by default): an actor placed
//! last on every hot host that, each time the host polls it and the interval has passed,
//! writes one byte on a private loopback TCP connection. On a small virtual machine the first
//! socket write after an idle spell costs several times a warm one (issue 25: ~40-70 µs
//! against ~6 µs on the project's KVM guest); the tiny sends keep that first write cheap.
//!
//! The connection's other end is read by a thread of its own that sleeps in `read`, kept off
//! the hot cores like every other helper thread. On loopback a write also runs the receiving
//! side of TCP and wakes the reader, and much of a cold write's cost is waking a reader whose
//! core has gone idle: a tick that wakes a sleeping reader on the other cores every interval
//! keeps that path warm too, where a tick read back by the sending thread itself (this
//! module's first version) kept only the sender's side warm. `mako-floor`, three runs of
//! session 21 (p50): cold first send 78–85 µs; with a ticker read by a sleeping thread
//! 15–28 µs; with the ticker read back by the sender 34–40 µs (`docs/performance.md`).
//!
//! It costs CPU: one `send` per interval on the hot core, one wake-up and `recv` per interval
//! on the other cores, and on a `backoff` host it wakes the host every interval instead of
//! letting it sleep longer (see `docs/performance.md` for what it cost and bought on this
//! machine). It reports no work, so it never keeps a host from idling. The connection
//! carries nothing but these bytes; nothing leaves the machine.

use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::{Actor, Ctx};
use crate::types::UnixNanos;

/// The warm-send actor: the sending end of a loopback pair and its schedule. Dropping it
/// closes the connection, which ends the reading thread.
pub struct WarmSend {
    tx: TcpStream,
    interval_ns: u64,
    next: UnixNanos,
    /// Bytes sent so far.
    pub sends: u64,
    /// Bytes the reading thread has read so far.
    received: Arc<AtomicU64>,
}

impl WarmSend {
    /// A loopback pair (the sending end TCP_NODELAY and non-blocking, like the order
    /// connections) sending one byte every `interval`, and the thread that reads it.
    pub fn new(interval: Duration) -> io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let tx = TcpStream::connect(listener.local_addr()?)?;
        let (mut rx, _) = listener.accept()?;
        tx.set_nodelay(true)?;
        tx.set_nonblocking(true)?;
        let received = Arc::new(AtomicU64::new(0));
        let count = Arc::clone(&received);
        std::thread::Builder::new()
            .name("warm-send-rx".into())
            .spawn(move || {
                super::affinity::keep_off_hot("warm-send-rx");
                let mut buf = [0u8; 512];
                // Ends when the sending end is closed (0) or the connection fails.
                while let Ok(n @ 1..) = rx.read(&mut buf) {
                    count.fetch_add(n as u64, Ordering::Relaxed);
                }
            })?;
        Ok(Self {
            tx,
            interval_ns: (interval.as_nanos() as u64).max(1),
            next: UnixNanos::ZERO,
            sends: 0,
            received,
        })
    }

    /// Sends one byte if the interval has passed since the last. Returns whether it sent.
    pub fn tick(&mut self, now: UnixNanos) -> bool {
        if now < self.next {
            return false;
        }
        self.next = now.plus_nanos(self.interval_ns);
        let sent = matches!(self.tx.write(&[0u8]), Ok(1));
        self.sends += u64::from(sent);
        sent
    }

    /// Bytes the reading thread has read so far.
    pub fn received(&self) -> u64 {
        self.received.load(Ordering::Relaxed)
    }
}

impl Actor for WarmSend {
    fn name(&self) -> &str {
        "warm-send"
    }

    fn poll(&mut self, ctx: &mut Ctx) -> usize {
        self.tick(ctx.clock.now());
        // Not work: the host idles by its policy as if this actor were not there.
        0
    }

    fn stop(&mut self, _ctx: &mut Ctx) {
        tracing::info!(
            sends = self.sends,
            received = self.received(),
            "warm send path: bytes sent and read"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sends_one_byte_per_interval_and_the_bytes_arrive() {
        let mut w = WarmSend::new(Duration::from_micros(100)).unwrap();
        let t0 = UnixNanos(1_000_000);
        assert!(w.tick(t0));
        assert!(!w.tick(t0.plus_nanos(99_999)), "not before the interval");
        assert!(w.tick(t0.plus_nanos(100_000)));
        assert!(!w.tick(t0.plus_nanos(150_000)));
        assert!(w.tick(t0.plus_nanos(250_000)));
        assert_eq!(w.sends, 3);
        // The reading thread read them (waits for the count, up to 10 s; no sleep as
        // synchronisation).
        let until = std::time::Instant::now() + Duration::from_secs(10);
        while w.received() < 3 && std::time::Instant::now() < until {
            std::thread::yield_now();
        }
        assert_eq!(w.received(), 3);
    }
}
