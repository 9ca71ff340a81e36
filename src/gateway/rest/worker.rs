//! The REST worker thread: one ureq agent whose pool keeps the venue connection alive (warmed
//! at start and kept warm by idle pings), each job sent as signed, a 429 or 418 waited out,
//! and the codec's trade WebSocket for requests it carries.

use super::*;

/// One GET on the calling thread, outside any worker: for what a gateway reads once before it
/// starts (a venue's product filters), off the hot path. `query` is sent as the query string;
/// the request carries the plan's fixed headers and, if the plan mints them, a bearer token
/// dated `venue_ms`. The status and body, or why no answer came.
pub fn get_once(
    base_url: &str,
    plan: RestPlan,
    timeout: Duration,
    path: &'static str,
    query: &str,
    venue_ms: u64,
) -> Result<(u16, Vec<u8>), &'static str> {
    let opts = RestOptions {
        timeout,
        ..RestOptions::default()
    };
    let mut worker = Worker::new(base_url.trim_end_matches('/'), plan, &opts);
    let head = RestHead {
        id: 0,
        method: Method::Get,
        path,
        class: Class::Query,
        signed: SignedHeaders::default(),
        bearer: true,
    };
    match worker
        .call(Method::Get, path, Some(&head), query.as_bytes(), venue_ms)
        .outcome
    {
        Outcome::Http { status, body, .. } => Ok((status, body)),
        Outcome::Timeout => Err("no answer in time"),
        Outcome::Transport | Outcome::NotSent => Err("the connection failed"),
    }
}

/// The worker thread's state: the agent (its pool keeps the connection alive), the URL
/// scratch, and the wait a 429 or 418 imposed.
pub(super) struct Worker {
    agent: ureq::Agent,
    base: String,
    plan: RestPlan,
    url: String,
    /// `Bearer <token>` of the request being sent (empty: none).
    bearer: String,
    /// The token alone, as minted.
    token: String,
    hold_until: Option<Instant>,
    /// The codec's trade WebSocket, which carries its `Method::WsText` requests.
    pub(super) trade: Option<crate::gateway::trade_ws::TradeWs>,
    timeout: Duration,
}

impl Worker {
    pub(super) fn new(base: &str, plan: RestPlan, opts: &RestOptions) -> Self {
        let config = ureq::Agent::config_builder()
            .timeout_global(Some(opts.timeout))
            .http_status_as_error(false)
            .proxy(None)
            .user_agent("mako-gateway")
            .max_idle_age(opts.keepalive * 3)
            .build();
        Self {
            agent: ureq::Agent::new_with_config(config),
            base: base.to_owned(),
            plan,
            url: String::with_capacity(base.len() + 512),
            bearer: String::with_capacity(512),
            token: String::with_capacity(512),
            hold_until: None,
            trade: None,
            timeout: opts.timeout,
        }
    }

    pub(super) fn run(mut self, jobs: &Receiver<Job>, done: &Sender<Done>, keepalive: Duration) {
        // Warm the connection (TCP, TLS) before the first order needs it.
        let warm = self.call(Method::Get, self.plan.warm_path, None, &[], 0);
        if done.send(warm).is_err() {
            return;
        }
        let timeout = self.timeout;
        if let Some(t) = self.trade.as_mut() {
            t.warm(timeout);
        }
        loop {
            let wait = self.trade.as_ref().map_or(keepalive, |t| {
                t.ping_in().clamp(Duration::from_millis(1), keepalive)
            });
            if let Some(t) = self.trade.as_mut() {
                t.keepalive();
            }
            match jobs.recv_timeout(wait) {
                Ok(job) => {
                    let held = self.hold_until.is_some_and(|t| Instant::now() < t);
                    let mut d = if held {
                        let now = Instant::now();
                        Done {
                            id: 0,
                            outcome: Outcome::NotSent,
                            query: Vec::new(),
                            sent_at: now,
                            received_at: now,
                        }
                    } else {
                        self.call(
                            job.head.method,
                            job.head.path,
                            Some(&job.head),
                            &job.query,
                            job.venue_ms,
                        )
                    };
                    d.id = job.head.id;
                    d.query = job.query;
                    if done.send(d).is_err() {
                        return;
                    }
                }
                Err(RecvTimeoutError::Timeout) if self.trade.is_some() && wait < keepalive => {
                    // The trade WebSocket's ping is due (sent at the top of the loop).
                }
                Err(RecvTimeoutError::Timeout) => {
                    if self.hold_until.is_some_and(|t| Instant::now() < t) {
                        continue;
                    }
                    let d = self.call(Method::Get, self.plan.keepalive_path, None, &[], 0);
                    if done.send(d).is_err() {
                        return;
                    }
                }
                Err(RecvTimeoutError::Disconnected) => return,
            }
        }
    }

    /// One request: a POST (and a `DeleteJson`) carries the signed query as its body, GET and
    /// DELETE as the query string, a `GetPath` as the path's end; either way the bytes on the wire are the bytes signed. `head` brings the
    /// request's own signed headers (none for the worker's keep-alive) and whether it carries
    /// a bearer token, minted here (off the gateway thread) for its method and path, dated
    /// from `venue_ms` (the venue's time when it was queued).
    pub(super) fn call(
        &mut self,
        method: Method,
        path: &str,
        head: Option<&RestHead>,
        query: &[u8],
        venue_ms: u64,
    ) -> Done {
        if method == Method::WsText {
            return self.ws_call(head.map_or(0, |h| h.id), query);
        }
        self.bearer.clear();
        if let (Some(mint), true) = (&self.plan.bearer, head.is_some_and(|h| h.bearer))
            && mint.mint(method, path, venue_ms / 1000, &mut self.token)
        {
            self.bearer.push_str("Bearer ");
            self.bearer.push_str(&self.token);
        }
        self.url.clear();
        self.url.push_str(&self.base);
        self.url.push_str(path);
        // The query was built by the venue's codec (ASCII); anything else is a bug upstream
        // and is sent as nothing rather than mangled.
        let q = std::str::from_utf8(query).unwrap_or("");
        // A GET whose signed payload is a JSON body (a venue that signs a GET's body): no
        // query string can start with `{`, so it goes as the body, as signed.
        let get_body = method == Method::Get && q.starts_with('{');
        match method {
            Method::Get | Method::Delete if !q.is_empty() && !get_body => {
                self.url.push('?');
                self.url.push_str(q);
            }
            Method::GetPath => self.url.push_str(q),
            _ => {}
        }
        let signed = head.map(|h| h.signed).unwrap_or_default();
        let sent_at = Instant::now();
        let result = match method {
            Method::Post | Method::Put => {
                let mut req = if method == Method::Put {
                    self.agent.put(self.url.as_str())
                } else {
                    self.agent.post(self.url.as_str())
                };
                for (k, v) in &self.plan.headers {
                    req = req.header(*k, v.as_str());
                }
                for (k, v) in signed.iter() {
                    req = req.header(k, v);
                }
                if !self.bearer.is_empty() {
                    req = req.header("Authorization", self.bearer.as_str());
                }
                req.content_type(self.plan.content_type).send(query)
            }
            Method::DeleteJson => {
                let mut req = self.agent.delete(self.url.as_str()).force_send_body();
                for (k, v) in &self.plan.headers {
                    req = req.header(*k, v.as_str());
                }
                for (k, v) in signed.iter() {
                    req = req.header(k, v);
                }
                req.content_type(self.plan.content_type).send(query)
            }
            Method::Get | Method::Delete | Method::GetPath | Method::WsText => {
                let mut req = if method != Method::Delete {
                    self.agent.get(self.url.as_str())
                } else {
                    self.agent.delete(self.url.as_str())
                };
                for (k, v) in &self.plan.headers {
                    req = req.header(*k, v.as_str());
                }
                for (k, v) in signed.iter() {
                    req = req.header(k, v);
                }
                if !self.bearer.is_empty() {
                    req = req.header("Authorization", self.bearer.as_str());
                }
                if get_body {
                    req.force_send_body()
                        .content_type(self.plan.content_type)
                        .send(query)
                } else {
                    req.call()
                }
            }
        };
        let outcome = match result {
            Ok(mut resp) => {
                let status = resp.status().as_u16();
                let pairs: Vec<(&str, &[u8])> = resp
                    .headers()
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_bytes()))
                    .collect();
                let headers: RateHeaders = (self.plan.rate_headers)(&pairs);
                if matches!(status, 429 | 418) {
                    let secs = headers
                        .retry_after_s
                        .unwrap_or(if status == 418 { 120 } else { 1 });
                    self.hold_until = Some(Instant::now() + Duration::from_secs(secs.max(1)));
                }
                match resp.body_mut().read_to_vec() {
                    Ok(body) => Outcome::Http {
                        status,
                        headers,
                        body,
                    },
                    Err(ureq::Error::Timeout(_)) => Outcome::Timeout,
                    Err(_) => Outcome::Transport,
                }
            }
            // ureq's error is not formatted: it may carry the URL (and so the signature).
            Err(ureq::Error::Timeout(_)) => Outcome::Timeout,
            Err(_) => Outcome::Transport,
        };
        Done {
            id: 0,
            outcome,
            query: Vec::new(),
            sent_at,
            received_at: Instant::now(),
        }
    }

    /// One request frame over the trade WebSocket: its answer frame as a 200 with that
    /// body, a timeout, or a lost connection (outcome unknown).
    pub(super) fn ws_call(&mut self, id: u64, frame: &[u8]) -> Done {
        use crate::gateway::trade_ws::WsOutcome;
        let sent_at = Instant::now();
        let outcome = match self.trade.as_mut() {
            None => Outcome::NotSent,
            Some(t) => match t.call(frame, id, self.timeout) {
                WsOutcome::Answer(body) => Outcome::Http {
                    status: 200,
                    headers: RateHeaders::default(),
                    body,
                },
                WsOutcome::Timeout => Outcome::Timeout,
                WsOutcome::Lost => Outcome::Transport,
            },
        };
        Done {
            id: 0,
            outcome,
            query: Vec::new(),
            sent_at,
            received_at: Instant::now(),
        }
    }
}
