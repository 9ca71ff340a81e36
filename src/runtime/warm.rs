//! A warm send path, by choice (`[runtime] warm_send_us`, off by default): an actor placed
//! last on every hot host that, each time the host polls it and the interval has passed,
//! writes one byte on a private loopback TCP connection (and reads back what it wrote
//! earlier). On a small virtual machine the first socket write after an idle spell costs
//! several times a warm one (issue 25: ~40 µs against ~8 µs on the project's KVM guest);
//! the tiny sends keep the kernel's send path (its code, data and the loopback device)
//! warm so an order written after a quiet spell is not that first write.
//!
//! It costs CPU: one `send` and at most one `recv` per interval on the hot core, and on a
//! `backoff` host it wakes the host every interval instead of letting it sleep longer (see
//! `docs/performance.md` for what it cost and bought on this machine). It reports no work,
//! so it never keeps a host from idling. The connection carries nothing but these bytes;
//! nothing leaves the machine.

use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use super::{Actor, Ctx};
use crate::types::UnixNanos;

/// The warm-send actor: a connected loopback pair and its schedule.
pub struct WarmSend {
    tx: TcpStream,
    rx: TcpStream,
    interval_ns: u64,
    next: UnixNanos,
    /// Bytes sent so far.
    pub sends: u64,
    buf: [u8; 512],
}

impl WarmSend {
    /// A loopback pair (TCP_NODELAY, non-blocking, like the order connections) sending one
    /// byte every `interval`.
    pub fn new(interval: Duration) -> io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let tx = TcpStream::connect(listener.local_addr()?)?;
        let (rx, _) = listener.accept()?;
        for s in [&tx, &rx] {
            s.set_nodelay(true)?;
            s.set_nonblocking(true)?;
        }
        Ok(Self {
            tx,
            rx,
            interval_ns: (interval.as_nanos() as u64).max(1),
            next: UnixNanos::ZERO,
            sends: 0,
            buf: [0; 512],
        })
    }

    /// Sends one byte if the interval has passed since the last (and drains the receiving
    /// end every so often, so its buffer never fills). Returns whether it sent.
    pub fn tick(&mut self, now: UnixNanos) -> bool {
        if now < self.next {
            return false;
        }
        self.next = now.plus_nanos(self.interval_ns);
        let sent = matches!(self.tx.write(&[0u8]), Ok(1));
        self.sends += u64::from(sent);
        if self.sends.is_multiple_of(256) {
            // Non-blocking: reads what has arrived, never waits.
            while let Ok(n) = self.rx.read(&mut self.buf) {
                if n == 0 {
                    break;
                }
            }
        }
        sent
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
        tracing::info!(sends = self.sends, "warm send path: bytes sent");
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
        // The bytes reached the other end of the loopback pair (wait for them; no sleep as
        // synchronisation: the socket is polled until they are there or 10 s passed).
        let until = std::time::Instant::now() + Duration::from_secs(10);
        let mut got = 0;
        while got < 3 && std::time::Instant::now() < until {
            if let Ok(n) = w.rx.read(&mut w.buf) {
                got += n;
            }
        }
        assert_eq!(got, 3);
    }
}
