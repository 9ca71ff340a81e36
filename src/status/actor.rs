//! The status actor and its hub: the inbox actors publish into, the control channel the
//! engine routes, the readers of other rooms' counters, and the HTTP server it starts.

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crate::config::StatusConfig;
use crate::latency::{LatencySnapshot, SnapshotBoard};
use crate::notify::NotifyStats;
use crate::persist::PersistStats;
use crate::risk::KillSwitch;
use crate::runtime::channel::ChannelStats;
use crate::runtime::{Actor, Ctx, FullPolicy, HostStats, Rx, StartError, Tx, bounded};
use crate::types::UnixNanos;

use super::StatusError;
use super::auth::TokenCheck;
use super::metrics;
use super::series::SeriesBoard;
use super::server::{Board, Published, ServerHandle, ServerParts, ServerStats};
use super::snapshot::{ControlCommand, ControlReply, StatusUpdate};
use super::state::{QueueReading, Readings, StatusSetup, StatusState};

/// Capacity of the status inbox (`DropNewest`: a lost update is superseded by the next).
const UPDATE_CAPACITY: usize = 4096;
/// Capacity of the control channel (`Backpressure`: a command is never dropped; a full
/// channel answers 503).
const CONTROL_CAPACITY: usize = 64;
/// Updates handled per poll.
const UPDATES_PER_POLL: usize = 512;

/// A channel the status page reports on: depth and counters, read at render time.
pub struct QueueWatch {
    name: &'static str,
    capacity: usize,
    stats: Arc<ChannelStats>,
    depth: Box<dyn Fn() -> usize + Send>,
}

impl QueueWatch {
    /// Watches a channel through a clone of its receiver.
    pub fn of_rx<T: Send + 'static>(rx: &Rx<T>, capacity: usize) -> Self {
        let r = rx.clone();
        Self {
            name: rx.name(),
            capacity,
            stats: Arc::clone(rx.stats()),
            depth: Box::new(move || r.len()),
        }
    }

    /// Watches a channel through a clone of its sender.
    pub fn of_tx<T: Send + 'static>(tx: &Tx<T>, capacity: usize) -> Self {
        let t = tx.clone();
        Self {
            name: tx.name(),
            capacity,
            stats: Arc::clone(tx.stats()),
            depth: Box::new(move || t.len()),
        }
    }

    fn read(&self) -> QueueReading {
        let (sent, dropped, full) = self.stats.snapshot();
        QueueReading {
            name: self.name,
            depth: (self.depth)() as u64,
            capacity: self.capacity as u64,
            sent,
            dropped,
            full,
        }
    }
}

/// Reads the latest latency snapshot.
pub type LatencySource = Box<dyn Fn() -> Arc<LatencySnapshot> + Send>;

/// Counters owned by other rooms that the status page reads when it renders.
#[derive(Default)]
pub struct StatusSources {
    /// Usually `StatusSources::latency_board(hub.snapshots())`.
    pub latency: Option<LatencySource>,
    pub persist: Option<PersistStats>,
    pub notify: Option<NotifyStats>,
    pub hosts: Vec<(&'static str, Arc<HostStats>)>,
    pub queues: Vec<QueueWatch>,
}

impl StatusSources {
    /// A latency source reading the monitor's published snapshot.
    pub fn latency_board(board: SnapshotBoard) -> LatencySource {
        Box::new(move || board.get())
    }
}

/// Builds the status room at start-up: binds the port (so a taken port fails the build, not
/// the run), loads the token, creates the channels.
pub struct StatusHub {
    setup: StatusSetup,
    interval: Duration,
    listener: Option<TcpListener>,
    token: TokenCheck,
    updates_tx: Tx<StatusUpdate>,
    updates_rx: Rx<StatusUpdate>,
    control_tx: Tx<ControlCommand>,
    control_rx: Rx<ControlCommand>,
    sources: StatusSources,
    kill: Option<KillSwitch>,
    server_stats: Arc<ServerStats>,
    replies: Option<Rx<ControlReply>>,
}

impl StatusHub {
    pub fn new(setup: StatusSetup, config: &StatusConfig) -> Result<Self, StatusError> {
        let token = match &config.token {
            Some(src) => Some(src.load().map_err(|e| StatusError::Token(e.to_string()))?),
            None => None,
        };
        let listener = match config.bind {
            Some(addr) => {
                Some(TcpListener::bind(addr).map_err(|source| StatusError::Bind { addr, source })?)
            }
            None => None,
        };
        let (updates_tx, updates_rx) =
            bounded("status-updates", UPDATE_CAPACITY, FullPolicy::DropNewest);
        let (control_tx, control_rx) =
            bounded("status-control", CONTROL_CAPACITY, FullPolicy::Backpressure);
        Ok(Self {
            setup,
            interval: config.publish_interval.max(Duration::from_millis(10)),
            listener,
            token: TokenCheck::new(token.as_ref()),
            updates_tx,
            updates_rx,
            control_tx,
            control_rx,
            sources: StatusSources::default(),
            kill: None,
            server_stats: Arc::default(),
            replies: None,
        })
    }

    /// Where the endpoint listens (`None` without `[status] bind`).
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.listener.as_ref().and_then(|l| l.local_addr().ok())
    }

    /// Where actors send their status updates.
    pub fn updates(&self) -> Tx<StatusUpdate> {
        self.updates_tx.clone()
    }

    /// The operator's commands, for the engine to route (kill → gateways, pause/resume →
    /// the strategy, reload → config reload).
    pub fn control(&self) -> Rx<ControlCommand> {
        self.control_rx.clone()
    }

    pub fn with_sources(mut self, sources: StatusSources) -> Self {
        self.sources = sources;
        self
    }

    /// Where the engine answers reloads; once asked for, `/control/reload` waits for the
    /// answer (up to `route::RELOAD_WAIT`) and returns it.
    pub fn replies(&mut self) -> Tx<ControlReply> {
        let (tx, rx) = bounded("status-control-replies", 16, FullPolicy::DropNewest);
        self.replies = Some(rx);
        tx
    }

    /// `POST /control/kill` trips this switch directly as well as sending `Kill`.
    pub fn with_kill_switch(mut self, kill: KillSwitch) -> Self {
        self.kill = Some(kill);
        self
    }

    pub fn server_stats(&self) -> Arc<ServerStats> {
        Arc::clone(&self.server_stats)
    }

    /// The actor; place it on a low-priority host. Its HTTP server thread starts in `start`
    /// (so it inherits the host's lowered priority) and stops in `stop`.
    pub fn into_actor(self) -> StatusActor {
        let state = StatusState::new(self.setup);
        StatusActor {
            board: Board::new(Published {
                rendered_at: Instant::now(),
                run_id: state.setup.run_id,
                mode: state.setup.mode.as_str(),
                status: "{}".into(),
                orders: "{}".into(),
                trades: "{}".into(),
                stats: "{}".into(),
                latency: "{}".into(),
                metrics: String::new(),
            }),
            state,
            interval: self.interval,
            next_render: None,
            listener: self.listener,
            token: self.token,
            updates: self.updates_rx,
            control: self.control_tx,
            sources: self.sources,
            kill: self.kill,
            server: None,
            server_stats: self.server_stats,
            replies: self.replies,
            series: SeriesBoard::default(),
        }
    }
}

/// Merges updates and renders the documents every `publish_interval`; owns the HTTP server.
pub struct StatusActor {
    state: StatusState,
    board: Board,
    interval: Duration,
    next_render: Option<Instant>,
    listener: Option<TcpListener>,
    token: TokenCheck,
    updates: Rx<StatusUpdate>,
    control: Tx<ControlCommand>,
    sources: StatusSources,
    kill: Option<KillSwitch>,
    server: Option<ServerHandle>,
    server_stats: Arc<ServerStats>,
    replies: Option<Rx<ControlReply>>,
    /// The charts' history, sampled from the documents at each render.
    series: SeriesBoard,
}

impl StatusActor {
    /// The documents as last rendered (tests, the console).
    pub fn board(&self) -> Board {
        self.board.clone()
    }

    fn readings(&self) -> Readings {
        Readings {
            latency: self.sources.latency.as_ref().map(|f| f()),
            persist: self.sources.persist.as_ref().map(PersistStats::read),
            notify: self.sources.notify.as_ref().map(NotifyStats::read),
            queues: self.sources.queues.iter().map(QueueWatch::read).collect(),
            hosts: self.sources.hosts.clone(),
            updates_dropped: self.updates.stats().dropped.load(Ordering::Relaxed),
        }
    }

    /// Renders every document from the current state and publishes them.
    pub fn render(&self, now: UnixNanos) {
        let r = self.readings();
        let s = &self.state;
        let (status, trades) = (s.status_json(now, &r), s.trades_json(now));
        self.series.record(now, &status, &trades);
        self.board.set(Published {
            rendered_at: Instant::now(),
            run_id: s.setup.run_id,
            mode: s.setup.mode.as_str(),
            status: status.to_string(),
            orders: s.orders_json(now).to_string(),
            trades: trades.to_string(),
            stats: s.stats_json(now).to_string(),
            latency: s.latency_doc(now, &r).to_string(),
            metrics: metrics::render(s, &r, now),
        });
    }
}

impl Actor for StatusActor {
    fn name(&self) -> &str {
        "status"
    }

    fn start(&mut self, ctx: &mut Ctx) -> Result<(), StartError> {
        self.render(ctx.clock.now());
        if let Some(listener) = self.listener.take() {
            let parts = ServerParts {
                board: self.board.clone(),
                control: self.control.clone(),
                token: self.token.clone(),
                strategies: Arc::clone(&self.state.names),
                activity: self.state.activity.clone(),
                kill: self.kill.clone(),
                stale_after: (self.interval * 10).max(Duration::from_secs(5)),
                stats: Arc::clone(&self.server_stats),
                replies: self.replies.take().map(parking_lot::Mutex::new),
                next_request: std::sync::atomic::AtomicU64::new(1),
                series: self.series.clone(),
            };
            let addr = listener.local_addr().ok();
            self.server = Some(
                ServerHandle::start(listener, parts).map_err(|e| StartError {
                    actor: "status".into(),
                    message: format!("cannot start the HTTP server: {e}"),
                })?,
            );
            tracing::info!(addr = ?addr, "status endpoint listening");
        }
        Ok(())
    }

    fn poll(&mut self, ctx: &mut Ctx) -> usize {
        let state = &mut self.state;
        let n = self.updates.drain(UPDATES_PER_POLL, |u| state.apply(u));
        let now = Instant::now();
        if self.next_render.is_none_or(|t| now >= t) {
            self.render(ctx.clock.now());
            self.next_render = Some(now + self.interval);
            return n + 1;
        }
        n
    }

    fn stop(&mut self, _ctx: &mut Ctx) {
        if let Some(mut s) = self.server.take() {
            s.stop();
        }
    }
}
