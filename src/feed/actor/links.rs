//! The feed's two connection slots: connecting and subscribing, keepalives, the rotation to a
//! fresh connection before the venue closes the old one, a lost connection, and reading
//! frames from each.

use super::*;

impl<M: MarketData> FeedActor<M> {
    /// Connects, hands over, and starts rotations. Returns work done.
    pub(super) fn drive_links(&mut self, now: UnixNanos) -> usize {
        let mut n = 0;
        for i in 0..2 {
            if self.slots[i].link.poll(now) {
                n += 1;
                self.on_up(i, now);
            }
        }
        let a = self.active;
        let age = now.since(self.slots[a].up_since);
        let max_age = match self.plan.max_age {
            Some(v) => v.min(self.options.max_connection_age),
            None => self.options.max_connection_age,
        };
        if !self.rotating && self.slots[a].link.is_up() && age >= max_age.as_nanos() as u64 {
            self.start_rotation();
        }
        n + self.keep_alive(now)
    }

    /// The venue's text keepalive: after `idle` without a frame, send the ping; if nothing
    /// comes back within another `idle`, the connection is dead.
    pub(super) fn keep_alive(&mut self, now: UnixNanos) -> usize {
        let Keepalive::Text { ping, idle, .. } = self.plan.keepalive else {
            return 0;
        };
        let a = self.active;
        if !self.slots[a].link.is_up() {
            return 0;
        }
        let idle = idle.as_nanos() as u64;
        let quiet_since = self.last_rx.max(self.slots[a].up_since);
        match self.ping_sent_at {
            Some(at) if now.since(at) >= idle && quiet_since <= at => {
                self.ping_sent_at = None;
                self.conn_lost(a, now, "no answer to the keepalive".into());
                1
            }
            Some(_) => 0,
            None if now.since(quiet_since) >= idle => {
                let sent = self.slots[a]
                    .link
                    .conn()
                    .map(|c| c.send_text(ping).and_then(|()| c.flush()));
                match sent {
                    Some(Ok(())) => self.ping_sent_at = Some(now),
                    Some(Err(e)) => self.conn_lost(a, now, format!("sending the keepalive: {e}")),
                    None => {}
                }
                1
            }
            None => 0,
        }
    }

    pub(super) fn start_rotation(&mut self) {
        let spare = 1 - self.active;
        if self.slots[spare].link.is_parked() {
            self.slots[spare].link.connect_now();
            self.rotating = true;
        }
    }

    pub(super) fn on_up(&mut self, i: usize, now: UnixNanos) {
        self.stats.connects.fetch_add(1, Relaxed);
        if i != self.active && !self.rotating {
            // A spare nobody waits for any more (its rotation was overtaken by a drop).
            self.slots[i].link.park();
            return;
        }
        let token = self.slots[i].token;
        let Some(conn) = self.slots[i].link.conn() else {
            return;
        };
        let fd = conn.raw_fd();
        match self
            .poll
            .registry()
            .register(&mut SourceFd(&fd), token, Interest::READABLE)
        {
            Ok(()) => {
                let s = &mut self.slots[i];
                s.registered = true;
                // Bytes may already sit in the TLS or WebSocket buffers.
                s.readable = true;
                s.up_since = now;
                // Venues that subscribe by message get their subscriptions now.
                let mut failed = None;
                if let Some(conn) = s.link.conn() {
                    for frame in &self.plan.subscribe {
                        if let Err(e) = conn.send_text(frame).and_then(|()| conn.flush()) {
                            failed = Some(e.to_string());
                            break;
                        }
                    }
                }
                if let Some(e) = failed {
                    self.conn_lost(i, now, format!("subscribing: {e}"));
                }
            }
            Err(e) => self.conn_lost(i, now, format!("registering with the poller: {e}")),
        }
    }

    pub(super) fn unregister(&mut self, i: usize) {
        let s = &mut self.slots[i];
        if s.registered {
            if let Some(conn) = s.link.conn() {
                let fd = conn.raw_fd();
                let _ = self.poll.registry().deregister(&mut SourceFd(&fd));
            }
            s.registered = false;
        }
        s.readable = false;
    }

    /// Slot `i`'s connection closed or failed.
    pub(super) fn conn_lost(&mut self, i: usize, now: UnixNanos, why: String) {
        self.unregister(i);
        if i != self.active {
            // The spare failed: give up this rotation; the age check starts another.
            self.slots[i].link.park();
            self.rotating = false;
            return;
        }
        self.reconnects += 1;
        let spare = 1 - i;
        if self.slots[spare].link.is_up() {
            // The spare is already subscribed: it takes over; the diff chain tells whether
            // anything was missed.
            self.slots[i].link.park();
            self.active = spare;
            self.rotating = false;
            self.handler.on_connection_switch();
            return;
        }
        self.slots[i].link.down(now, why);
        self.rotating = false;
        self.handler.on_reconnect();
        for k in 0..self.books.len() {
            self.invalidate(k);
        }
    }

    /// The spare's first frame arrived: read the old connection dry, close it, switch.
    pub(super) fn promote(&mut self, spare: usize, ctx: &Ctx) {
        let old = self.active;
        // Read to `WouldBlock` whether or not mio has reported the latest bytes yet.
        self.slots[old].readable = self.slots[old].registered;
        self.read_slot(old, usize::MAX, ctx);
        if self.active == old {
            self.unregister(old);
            self.slots[old].link.park();
            self.active = spare;
            self.handler.on_connection_switch();
        }
        self.rotating = false;
        self.rotations += 1;
    }

    /// Reads up to `budget` frames from slot `i`.
    pub(super) fn read_slot(&mut self, i: usize, budget: usize, ctx: &Ctx) -> usize {
        let mut n = 0;
        while n < budget && self.slots[i].readable {
            let Some(conn) = self.slots[i].link.conn() else {
                break;
            };
            let msg = conn.read();
            let now = ctx.clock.now();
            if i == self.active {
                self.last_rx = now;
                self.ping_sent_at = None;
            }
            match msg {
                Ok(Some(Incoming::Text(t))) => {
                    n += 1;
                    if i != self.active {
                        self.promote(i, ctx);
                    }
                    self.on_frame(t.as_bytes(), now, ctx);
                }
                Ok(Some(Incoming::Binary(b))) => {
                    n += 1;
                    if i != self.active {
                        self.promote(i, ctx);
                    }
                    self.on_binary_frame(&b, now, ctx);
                }
                Ok(Some(Incoming::Ping | Incoming::Pong)) => n += 1,
                Ok(Some(Incoming::Close(code))) => {
                    self.conn_lost(i, now, format!("venue closed the connection ({code:?})"));
                    break;
                }
                Ok(None) => self.slots[i].readable = false,
                Err(e) => {
                    self.conn_lost(i, now, e.to_string());
                    break;
                }
            }
        }
        n
    }
}
