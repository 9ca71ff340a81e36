//! The order connection's life: what a new connection resets and chases, what a lost one
//! stops, the keepalives, and reading its frames.

use super::*;

impl<S: OrderSession, C: RestCodec> Gateway<S, C> {
    pub(super) fn on_link_up(&mut self, now: UnixNanos) {
        self.counters.connects += 1;
        self.user_stream = false;
        // Answers to requests on the old connection never come: chase those orders.
        for p in self.session.reset_inflight() {
            match p {
                Purpose::Place(cid) | Purpose::Cancel(cid) | Purpose::Status(cid) => {
                    self.chase.entry(cid).or_default().query_now = true;
                }
                // The amend's answer is lost with the connection: the order is taken as
                // unchanged (a later push of the amended order still applies) and queried.
                Purpose::Amend(cid) => {
                    self.apply(cid, &OrderEvent::AmendRejected { code: 0, at: now }, now);
                    self.chase.entry(cid).or_default().query_now = true;
                }
                Purpose::Trades(cid) => self.chase.entry(cid).or_default().fetch_trades = true,
                _ => {}
            }
        }
        let vms = self.venue_ms(now);
        let mut out = std::mem::take(&mut self.out);
        self.session.on_connected(vms, &mut out);
        self.out = out;
        self.transmit(now);
        // Reconcile at once: open orders and balances.
        self.next_sweep = now;
        tracing::info!(gateway = %self.name, "venue connection up");
        self.telemetry.emit(GatewayEvent::Connected {
            venue: self.venue.id,
            at: now,
        });
    }

    pub(super) fn on_link_down(&mut self, now: UnixNanos, why: String) {
        self.counters.disconnects += 1;
        self.user_stream = false;
        tracing::warn!(gateway = %self.name, reason = %why, "venue connection down; reconnecting");
        if self.telemetry.is_on() {
            self.telemetry.emit(GatewayEvent::Disconnected {
                venue: self.venue.id,
                reason: why.clone(),
                at: now,
            });
        }
        self.link.down(now, why);
    }

    /// The venue's text keepalive on the private connection: after `idle` without a frame,
    /// send the ping; with no frame back within another `idle`, the connection is dead.
    pub(super) fn keep_alive(&mut self, now: UnixNanos) {
        if let Some((ping, every)) = self.session.periodic_ping()
            && self.link.is_up()
            && now.since(self.periodic_ping_at) >= every.as_nanos() as u64
        {
            self.out.clear();
            self.out.extend_from_slice(ping.as_bytes());
            if self.transmit(now) {
                self.periodic_ping_at = now;
            }
        }
        let crate::venue::md::Keepalive::Text { ping, idle, .. } = self.session.keepalive() else {
            return;
        };
        if !self.link.is_up() {
            return;
        }
        let idle = idle.as_nanos() as u64;
        match self.ping_sent_at {
            Some(at) if now.since(at) >= idle && self.last_rx <= at => {
                self.ping_sent_at = None;
                self.on_link_down(now, "no answer to the keepalive".into());
            }
            Some(_) => {}
            None if now.since(self.last_rx) >= idle => {
                self.out.clear();
                self.out.extend_from_slice(ping.as_bytes());
                if self.transmit(now) {
                    self.ping_sent_at = Some(now);
                }
            }
            None => {}
        }
    }

    pub(super) fn read_frames(&mut self, now: UnixNanos) -> usize {
        let mut n = 0;
        while n < BATCH {
            let Some(conn) = self.link.conn() else { break };
            let msg = conn.read();
            if let Ok(Some(_)) = msg {
                self.last_rx = now;
                self.ping_sent_at = None;
            }
            match msg {
                Ok(None) => break,
                Ok(Some(Incoming::Text(t))) => {
                    n += 1;
                    self.timing.frame_read();
                    let mut events = std::mem::take(&mut self.events);
                    self.session.on_frame(t.as_bytes(), now, &mut events);
                    for ev in events.drain(..) {
                        self.on_session_event(ev, now);
                    }
                    self.events = events;
                }
                Ok(Some(Incoming::Binary(b))) => {
                    // Some venues push compressed binary frames: the session reads them.
                    n += 1;
                    self.timing.frame_read();
                    let mut events = std::mem::take(&mut self.events);
                    self.session.on_binary_frame(&b, now, &mut events);
                    for ev in events.drain(..) {
                        self.on_session_event(ev, now);
                    }
                    self.events = events;
                }
                Ok(Some(Incoming::Close(code))) => {
                    self.on_link_down(now, format!("venue closed the connection ({code:?})"));
                    break;
                }
                Ok(Some(_)) => n += 1,
                Err(e) => {
                    self.on_link_down(now, e.to_string());
                    break;
                }
            }
        }
        if let Some(conn) = self.link.conn()
            && let Err(e) = conn.flush()
        {
            self.on_link_down(now, e.to_string());
        }
        n
    }
}
