//! Assembly: turns a validated `Config` into actors placed on hosts, runs them until a
//! signal, a deadline or a fatal error, and stops them within the configured time.

pub mod console;
pub mod control;
pub mod logging;
mod manage;
pub mod reload;
pub mod round_trips;
pub mod status;
pub mod telemetry;
/// Which venue codec a feed runs: the one match on venue kind.
pub mod venues;
pub mod wiring;

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::config::{ActorName, Config, HostPriority, Secret};
use crate::runtime::{self, Actor, Clock, HostSpec, HostStats, Shutdown};

/// Why the engine could not be built or did not stop cleanly.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("cannot create data dir {path}: {source}")]
    DataDir {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot start host thread {host}: {source}")]
    Spawn {
        host: String,
        source: std::io::Error,
    },
    #[error("cannot start the in-process simulator: {0}")]
    Sim(String),
    #[error("{0}")]
    Build(String),
    #[error("cannot install signal handlers: {0}")]
    Signals(std::io::Error),
    #[error("hosts still running {timeout:?} after shutdown was requested: {hosts}")]
    StopTimeout { timeout: Duration, hosts: String },
}

/// How a run ends.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Stop cleanly after this long (`mako run --for`).
    pub duration: Option<Duration>,
    /// Route SIGINT/SIGTERM to the shutdown flag (the binary does; tests usually don't).
    pub handle_signals: bool,
}

/// What a finished run reports.
#[derive(Debug, Clone)]
pub struct RunReport {
    pub elapsed: Duration,
    /// Per host: name, passes, units of work.
    pub hosts: Vec<(&'static str, u64, u64)>,
    /// Whether the run ended because something requested shutdown before `duration`
    /// (a signal or a failing actor) rather than the deadline.
    pub stopped_early: bool,
    /// Each strategy's report as it stopped.
    pub strategies: Vec<crate::strategy::actor::ReportMsg>,
    /// The in-process simulator's own record (`/sim/state`) after every host stopped.
    pub sim_state: Option<serde_json::Value>,
    /// The run's latency band changes as the monitor last published them, oldest first
    /// (the last `latency::monitor::RECENT_CHANGES` of them).
    pub band_changes: Vec<crate::latency::BandChange>,
}

/// An engine ready to run: every configured actor built and placed.
pub struct Engine {
    config: Config,
    /// The config as its file says (before the simulator's port was filled in): what a reload
    /// of the file is compared with.
    as_written: Config,
    clock: Clock,
    shutdown: Shutdown,
    hosts: Vec<HostSpec>,
    /// The in-process simulator (`[sim]`), stopped after the hosts.
    sim: Option<crate::sim::SimHandle>,
    /// Strategies' last reports, sent from their stop steps.
    final_reports: crate::runtime::Rx<crate::strategy::actor::ReportMsg>,
    /// The latency monitor's published figures and the band board.
    latency_snapshots: crate::latency::SnapshotBoard,
    band_board: Option<crate::latency::BandBoard>,
    /// Actors the config places that this build of mako cannot run yet, with the reason.
    pub skipped: Vec<(String, &'static str)>,
    /// Tells the notifier and the activity log why the engine stops.
    stop_note: telemetry::StopNote,
    /// Routes operator commands and reloads; placed on its own low-priority host when it
    /// has something to do.
    control: Option<control::ControlActor>,
    /// Where the status endpoint listens (`[status] bind`, resolved when the port was 0).
    status_addr: Option<std::net::SocketAddr>,
    /// The engine's positions and balances (written by gateways, read by strategies).
    positions: crate::risk::PositionBoard,
}

/// `url` with its authority `host:0` replaced by `host:port`; any other URL as it is.
fn aim_at_port(url: &str, host: &str, port: u16) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    if rest[..end] == format!("{host}:0") {
        format!("{scheme}://{host}:{port}{}", &rest[end..])
    } else {
        url.to_owned()
    }
}

/// A human label for an actor: `feed:binance`, `strategy:mm-btc`, `status`.
pub fn actor_label(config: &Config, a: &ActorName) -> String {
    let venue = |v: crate::types::VenueId| {
        config
            .venues
            .get(v.index())
            .map(|x| x.name.as_str())
            .unwrap_or("?")
    };
    match a {
        ActorName::Feed(v) => format!("feed:{}", venue(*v)),
        ActorName::Gateway(v) => format!("gateway:{}", venue(*v)),
        ActorName::Strategy(s) => {
            format!(
                "strategy:{}",
                config
                    .strategies
                    .get(s.index())
                    .map(|x| x.name.as_str())
                    .unwrap_or("?")
            )
        }
        ActorName::Latency => "latency".into(),
        ActorName::Persist => "persist".into(),
        ActorName::Status => "status".into(),
        ActorName::Notify => "notify".into(),
    }
}

impl Engine {
    /// Builds every actor the config names and places it on its host. Nothing runs yet.
    pub fn build(config: Config, clock: Clock, shutdown: Shutdown) -> Result<Self, EngineError> {
        std::fs::create_dir_all(&config.engine.data_dir).map_err(|source| {
            EngineError::DataDir {
                path: config.engine.data_dir.display().to_string(),
                source,
            }
        })?;
        for w in config.paper_warnings() {
            tracing::warn!(key = %w.path, "{}", w.message);
        }
        // The pinned hot hosts' cores are theirs: every other thread started from here on
        // (simulator, services, REST workers) runs on the other cores.
        let hot: Vec<usize> = config
            .runtime
            .hosts
            .iter()
            .filter(|h| h.priority == HostPriority::Hot)
            .filter_map(|h| h.core)
            .collect();
        crate::runtime::affinity::reserve_hot(&hot);
        if !hot.is_empty() {
            tracing::info!(
                ?hot,
                "hot cores reserved: other threads run on the remaining cores"
            );
        }
        let as_written = config.clone();
        let mut config = config;
        let sim = match &config.sim {
            Some(s) => {
                let h = crate::sim::Simulator::start((*s.config).clone())
                    .map_err(|e| EngineError::Sim(e.to_string()))?;
                tracing::info!(rest = %h.rest_url(), ws = %h.ws_url(), "simulator started in-process (sim mode: no real orders)");
                Some(h)
            }
            None => None,
        };
        // `[sim] port = 0`: the OS chose the port; venue URLs naming the simulator's host
        // with port 0 are pointed at it.
        if let (Some(h), Some(s)) = (&sim, &config.sim)
            && s.config.port == 0
        {
            let (host, port) = (s.config.host.clone(), h.addr().port());
            for v in &mut config.venues {
                for url in [&mut v.ws_url, &mut v.rest_url]
                    .into_iter()
                    .chain(v.ws_api_url.as_mut())
                    .chain(v.private_ws_url.as_mut())
                {
                    *url = aim_at_port(url, &host, port);
                }
            }
        }
        let stats: Vec<Arc<HostStats>> = config
            .runtime
            .hosts
            .iter()
            .map(|_| Arc::default())
            .collect();
        let names: Vec<&'static str> = config
            .runtime
            .hosts
            .iter()
            .map(|h| &*Box::leak(h.name.clone().into_boxed_str()))
            .collect();
        let sim_accounts: Vec<(Secret, Secret, Secret)> = sim
            .as_ref()
            .map(|h| {
                h.config()
                    .accounts
                    .iter()
                    .map(|a| {
                        (
                            Secret::new(a.api_key.clone()),
                            Secret::new(a.secret.clone()),
                            Secret::new(a.memo.clone()),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        let run_start_ms = clock.now().as_millis();
        let mut parts =
            wiring::Parts::new(&config, run_start_ms, sim_accounts).map_err(EngineError::Build)?;
        let all_hosts: Vec<(&'static str, Arc<HostStats>)> =
            names.iter().copied().zip(stats.iter().cloned()).collect();
        let mut status =
            status::StatusWiring::new(&config, &mut parts, clock.now(), all_hosts.clone())?;
        let mut skipped = Vec::new();
        let mut hosts = Vec::with_capacity(config.runtime.hosts.len());
        for (i, h) in config.runtime.hosts.iter().enumerate() {
            let mut actors: Vec<Box<dyn Actor>> = Vec::new();
            for a in &h.actors {
                if *a == ActorName::Status {
                    let built = status.actors(&config, &parts, all_hosts.clone());
                    if built.is_empty() {
                        skipped.push((
                            actor_label(&config, a),
                            "neither [status] bind nor console_interval is set",
                        ));
                    }
                    actors.extend(built);
                    continue;
                }
                match parts.build(&config, a).map_err(EngineError::Build)? {
                    Ok(actor) => actors.push(actor),
                    Err(why) => skipped.push((actor_label(&config, a), why)),
                }
            }
            // The warm send path, by choice: last on each hot host (`runtime::warm`).
            if let (HostPriority::Hot, Some(every)) = (h.priority, config.runtime.warm_send) {
                let warm = crate::runtime::warm::WarmSend::new(every)
                    .map_err(|e| EngineError::Build(format!("warm send path: {e}")))?;
                actors.push(Box::new(warm));
            }
            hosts.push(HostSpec {
                name: names[i],
                core: h.core,
                idle: h.idle,
                low_priority: h.priority == HostPriority::Low,
                actors,
                stats: Arc::clone(&stats[i]),
            });
        }
        // Each REST probe blocks for one request at a time: alone on a low-priority host.
        for probe in std::mem::take(&mut parts.probes) {
            let name: &'static str = Box::leak(probe.name().replace(':', "-").into_boxed_str());
            hosts.push(HostSpec {
                name,
                core: None,
                idle: crate::runtime::IdlePolicy::Park,
                low_priority: true,
                actors: vec![probe],
                stats: Arc::default(),
            });
        }
        let stop_note = parts.telemetry.stop_note.clone();
        if let Some(host) = parts.telemetry.into_host() {
            hosts.push(host);
        }
        Ok(Self {
            stop_note,
            config,
            as_written,
            clock,
            shutdown,
            hosts,
            sim,
            final_reports: parts.final_reports.1.clone(),
            latency_snapshots: parts.latency_snapshots.clone(),
            band_board: parts.board.clone(),
            positions: parts.positions.clone(),
            skipped,
            control: status.take_control(),
            status_addr: status.addr(),
        })
    }

    /// Reloads strategy parameters from `path` (the file this engine's config came from) on
    /// `POST /control/reload`, on SIGHUP, and when the file's modification time changes.
    pub fn watch_config(&mut self, path: &std::path::Path) -> Result<(), EngineError> {
        if let Some(c) = self.control.as_mut() {
            c.watch(path.to_path_buf(), self.as_written.clone())
                .map_err(EngineError::Signals)?;
        }
        Ok(())
    }

    /// How often the watched config file is looked at (default `control::CHECK_EVERY`).
    pub fn set_config_check_every(&mut self, every: Duration) {
        if let Some(c) = self.control.as_mut() {
            c.set_check_every(every);
        }
    }

    /// Where the status endpoint listens, if it is configured.
    pub fn status_addr(&self) -> Option<std::net::SocketAddr> {
        self.status_addr
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Each venue's current latency band, as strategies read it (for tests and tools
    /// watching a run from another thread).
    pub fn band_board(&self) -> Option<crate::latency::BandBoard> {
        self.band_board.clone()
    }

    /// Where the in-process simulator (`[sim]`) listens, its port resolved when it was 0.
    pub fn sim_addr(&self) -> Option<std::net::SocketAddr> {
        self.sim.as_ref().map(|h| h.addr())
    }

    /// The engine's positions per strategy and balances per venue, as strategies read them
    /// (for tests and tools watching a run from another thread).
    pub fn positions(&self) -> crate::risk::PositionBoard {
        self.positions.clone()
    }

    /// Starts every host and blocks until shutdown is requested (signal, deadline, or an
    /// actor), then waits at most `runtime.shutdown_timeout` for every stop step.
    pub fn run(mut self, opts: RunOptions) -> Result<RunReport, EngineError> {
        let mut result = self.run_hosts(opts);
        if let Some(mut sim) = self.sim.take() {
            if let Ok(r) = result.as_mut() {
                r.sim_state = Some(sim.state());
            }
            sim.shutdown();
        }
        if let Ok(r) = result.as_mut() {
            while let Some(m) = self.final_reports.try_recv() {
                r.strategies.push(m);
            }
            r.band_changes = self.latency_snapshots.get().recent_changes.clone();
        }
        result
    }

    fn run_hosts(&mut self, opts: RunOptions) -> Result<RunReport, EngineError> {
        if opts.handle_signals {
            self.shutdown
                .install_signal_handlers()
                .map_err(EngineError::Signals)?;
        }
        if let Some(c) = self.control.take().filter(|c| c.is_needed()) {
            self.hosts.push(HostSpec {
                name: "control",
                core: None,
                idle: crate::runtime::IdlePolicy::Park,
                low_priority: true,
                actors: vec![Box::new(c)],
                stats: Arc::default(),
            });
        }
        let started = Instant::now();
        // The hosts stop on their own flag, raised only after the reason is recorded: a
        // request from outside (a signal, a test, an actor) reaches this loop first, so the
        // notifier and telemetry still hear why the engine stops before they stop.
        let hosts_stop = Shutdown::new();
        let mut handles = Vec::with_capacity(self.hosts.len());
        for spec in std::mem::take(&mut self.hosts) {
            let name = spec.name;
            let h = runtime::host::spawn(spec, self.clock.clone(), hosts_stop.clone()).map_err(
                |source| {
                    self.shutdown.request();
                    hosts_stop.request();
                    EngineError::Spawn {
                        host: name.to_string(),
                        source,
                    }
                },
            )?;
            handles.push(h);
        }
        tracing::info!(
            engine = %self.config.engine.name,
            mode = self.config.engine.mode.as_str(),
            hosts = handles.len(),
            "engine running"
        );
        let deadline = opts.duration.map(|d| started + d);
        let mut stopped_early = false;
        let reason = loop {
            if self.shutdown.is_requested() {
                stopped_early = deadline.is_some();
                break "shutdown requested";
            }
            if hosts_stop.is_requested() {
                // A host raised it: one of its actors failed to start or panicked.
                stopped_early = true;
                break "an actor failed";
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                break "run time over";
            }
            if handles.iter().any(|h| h.is_finished()) {
                tracing::error!("a host stopped on its own; stopping the engine");
                stopped_early = true;
                break "a host stopped on its own";
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        self.stop_note.stopping(reason);
        self.shutdown.request();
        hosts_stop.request();
        let stop_by = Instant::now() + self.config.runtime.shutdown_timeout;
        while handles.iter().any(|h| !h.is_finished()) && Instant::now() < stop_by {
            std::thread::sleep(Duration::from_millis(5));
        }
        let stuck: Vec<&str> = handles
            .iter()
            .filter(|h| !h.is_finished())
            .map(|h| h.name)
            .collect();
        if !stuck.is_empty() {
            return Err(EngineError::StopTimeout {
                timeout: self.config.runtime.shutdown_timeout,
                hosts: stuck.join(", "),
            });
        }
        let mut report = RunReport {
            elapsed: started.elapsed(),
            hosts: Vec::new(),
            stopped_early,
            strategies: Vec::new(),
            sim_state: None,
            band_changes: Vec::new(),
        };
        for h in handles {
            let st = Arc::clone(&h.stats);
            let name = h.name;
            if !h.join() {
                tracing::error!(host = name, "host thread panicked");
            }
            report.hosts.push((
                name,
                st.passes.load(std::sync::atomic::Ordering::Relaxed),
                st.work.load(std::sync::atomic::Ordering::Relaxed),
            ));
        }
        Ok(report)
    }
}

#[cfg(test)]
mod aim_tests {
    #[test]
    fn only_the_simulators_port_zero_is_replaced() {
        let a = |u: &str| super::aim_at_port(u, "127.0.0.1", 4242);
        assert_eq!(a("ws://127.0.0.1:0"), "ws://127.0.0.1:4242");
        assert_eq!(
            a("ws://127.0.0.1:0/ws/v5/public"),
            "ws://127.0.0.1:4242/ws/v5/public"
        );
        assert_eq!(a("http://127.0.0.1:0?x=1"), "http://127.0.0.1:4242?x=1");
        assert_eq!(a("ws://127.0.0.1:9000/ws"), "ws://127.0.0.1:9000/ws");
        assert_eq!(a("ws://127.0.0.10:0/ws"), "ws://127.0.0.10:0/ws");
        assert_eq!(a("not a url"), "not a url");
    }
}
