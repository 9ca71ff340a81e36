//! Hosts: OS threads that run one or more actors in a loop, optionally pinned to a core,
//! waiting by their idle policy when there is nothing to do.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use super::actor::{Actor, Ctx};
use super::clock::Clock;
use super::idle::IdlePolicy;
use super::shutdown::Shutdown;

/// Counters a host keeps about itself, readable from any thread (Relaxed: statistics only).
#[derive(Debug, Default)]
pub struct HostStats {
    /// Passes over the actors.
    pub passes: AtomicU64,
    /// Passes in which some actor did work.
    pub busy_passes: AtomicU64,
    /// Items of work the actors reported.
    pub work: AtomicU64,
    /// Involuntary context switches of the host's thread while it polled (Linux), set when
    /// it stops.
    pub involuntary_switches: AtomicU64,
}

/// Everything needed to start one host thread.
pub struct HostSpec {
    pub name: &'static str,
    pub core: Option<usize>,
    pub idle: IdlePolicy,
    /// Low-priority hosts are niced so they never compete with hot ones for a core.
    pub low_priority: bool,
    pub actors: Vec<Box<dyn Actor>>,
    /// Shared with whoever reports on the host (the status line, metrics).
    pub stats: Arc<HostStats>,
}

/// A running host.
pub struct HostHandle {
    pub name: &'static str,
    pub stats: Arc<HostStats>,
    join: JoinHandle<()>,
}

impl HostHandle {
    pub fn is_finished(&self) -> bool {
        self.join.is_finished()
    }

    /// Waits for the thread; `false` if it panicked outside an actor.
    pub fn join(self) -> bool {
        self.join.join().is_ok()
    }
}

/// Spin, then yield, then short sleeps: how `Backoff` and `Park` wait.
struct Idler {
    policy: IdlePolicy,
    idle_passes: u32,
}

/// Idle passes spent spinning before `Backoff` starts yielding.
const SPIN_PASSES: u32 = 64;
/// Idle passes spent yielding before `Backoff` starts sleeping (a few ms when nothing else runs).
const YIELD_PASSES: u32 = 4_096;
/// Longest sleep of `Backoff` once quiet: bounds the wake-up delay after a quiet spell.
const BACKOFF_SLEEP: Duration = Duration::from_micros(50);
/// Sleep of `Park` hosts between empty passes.
const PARK_SLEEP: Duration = Duration::from_millis(1);

impl Idler {
    #[inline]
    fn busy(&mut self) {
        self.idle_passes = 0;
    }

    #[inline]
    fn idle(&mut self) {
        self.idle_passes = self.idle_passes.saturating_add(1);
        match self.policy {
            IdlePolicy::Spin => std::hint::spin_loop(),
            IdlePolicy::Backoff => {
                if self.idle_passes <= SPIN_PASSES {
                    std::hint::spin_loop();
                } else if self.idle_passes <= SPIN_PASSES + YIELD_PASSES {
                    std::thread::yield_now();
                } else {
                    std::thread::park_timeout(BACKOFF_SLEEP);
                }
            }
            IdlePolicy::Park => std::thread::park_timeout(PARK_SLEEP),
        }
    }
}

/// Starts a host thread. Its actors are started in order, polled round-robin until
/// `shutdown` is requested (or an actor fails to start or panics, which requests it), then
/// stopped in reverse order.
pub fn spawn(spec: HostSpec, clock: Clock, shutdown: Shutdown) -> std::io::Result<HostHandle> {
    let stats = Arc::clone(&spec.stats);
    let thread_stats = Arc::clone(&spec.stats);
    let name = spec.name;
    let join = std::thread::Builder::new()
        .name(format!("mako-{name}"))
        .spawn(move || {
            run_host(spec, clock, shutdown, &thread_stats);
        })?;
    Ok(HostHandle { name, stats, join })
}

fn run_host(mut spec: HostSpec, clock: Clock, shutdown: Shutdown, stats: &HostStats) {
    if let Some(core) = spec.core
        && !core_affinity::set_for_current(core_affinity::CoreId { id: core })
    {
        tracing::warn!(
            host = spec.name,
            core,
            "could not pin host to core; running unpinned"
        );
    }
    if spec.low_priority {
        lower_priority(spec.name);
    }
    if spec.core.is_none() || spec.low_priority {
        super::affinity::keep_off_hot(spec.name);
    }
    let switches_at_start = super::affinity::involuntary_switches();
    let mut ctx = Ctx {
        clock,
        shutdown: shutdown.clone(),
        host: spec.name,
    };
    let mut started = 0;
    for a in spec.actors.iter_mut() {
        match catch_unwind(AssertUnwindSafe(|| a.start(&mut ctx))) {
            Ok(Ok(())) => started += 1,
            Ok(Err(e)) => {
                tracing::error!(host = spec.name, error = %e, "actor failed to start; stopping engine");
                shutdown.request();
                break;
            }
            Err(_) => {
                tracing::error!(
                    host = spec.name,
                    actor = a.name(),
                    "actor panicked in start; stopping engine"
                );
                shutdown.request();
                break;
            }
        }
    }
    let mut idler = Idler {
        policy: spec.idle,
        idle_passes: 0,
    };
    let actors = &mut spec.actors[..started];
    let polled = catch_unwind(AssertUnwindSafe(|| {
        while !shutdown.is_requested() {
            let mut work = 0;
            for a in actors.iter_mut() {
                work += a.poll(&mut ctx);
            }
            stats.passes.fetch_add(1, Ordering::Relaxed);
            if work > 0 {
                stats.busy_passes.fetch_add(1, Ordering::Relaxed);
                stats.work.fetch_add(work as u64, Ordering::Relaxed);
                idler.busy();
            } else {
                idler.idle();
            }
        }
    }));
    if polled.is_err() {
        tracing::error!(host = spec.name, "actor panicked; stopping engine");
        shutdown.request();
    }
    if let (Some(a), Some(b)) = (switches_at_start, super::affinity::involuntary_switches()) {
        stats
            .involuntary_switches
            .store(b.saturating_sub(a), Ordering::Relaxed);
        tracing::info!(
            host = spec.name,
            core = spec.core,
            involuntary_switches = b.saturating_sub(a),
            passes = stats.passes.load(Ordering::Relaxed),
            "host stopped polling (involuntary context switches: times the scheduler took its core away)"
        );
    }
    // Stop in reverse order: an actor placed after another may depend on it until the end
    // (a strategy reads the updates its gateway sends while cancelling at shutdown).
    for a in spec.actors[..started].iter_mut().rev() {
        if catch_unwind(AssertUnwindSafe(|| a.stop(&mut ctx))).is_err() {
            tracing::error!(host = spec.name, actor = a.name(), "actor panicked in stop");
        }
    }
}

/// Nices the calling thread (Linux: per-thread, `who = 0`). Failure only costs priority, so
/// it is logged. The system call goes through rustix's safe wrapper: mako has no `unsafe`.
fn lower_priority(host: &str) {
    #[cfg(all(target_os = "linux", not(miri)))]
    if rustix::process::setpriority_process(None, 10).is_err() {
        tracing::debug!(host, "could not lower host priority");
    }
    #[cfg(not(all(target_os = "linux", not(miri))))]
    let _ = host;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::actor::StartError;
    use std::sync::Mutex;

    /// Records its lifecycle into a shared log; does `budget` units of work then idles.
    struct Probe {
        name: String,
        log: Arc<Mutex<Vec<String>>>,
        budget: usize,
        fail_start: bool,
    }

    impl Actor for Probe {
        fn name(&self) -> &str {
            &self.name
        }
        fn start(&mut self, _: &mut Ctx) -> Result<(), StartError> {
            self.log
                .lock()
                .unwrap()
                .push(format!("start {}", self.name));
            if self.fail_start {
                return Err(StartError {
                    actor: self.name.clone(),
                    message: "no".into(),
                });
            }
            Ok(())
        }
        fn poll(&mut self, _: &mut Ctx) -> usize {
            if self.budget > 0 {
                self.budget -= 1;
                1
            } else {
                0
            }
        }
        fn stop(&mut self, _: &mut Ctx) {
            self.log.lock().unwrap().push(format!("stop {}", self.name));
        }
    }

    fn probe(name: &str, log: &Arc<Mutex<Vec<String>>>, fail_start: bool) -> Box<dyn Actor> {
        Box::new(Probe {
            name: name.into(),
            log: Arc::clone(log),
            budget: 100,
            fail_start,
        })
    }

    #[test]
    fn every_actor_starts_polls_and_stops() {
        for idle in [IdlePolicy::Spin, IdlePolicy::Backoff, IdlePolicy::Park] {
            let log = Arc::new(Mutex::new(vec![]));
            let shutdown = Shutdown::new();
            let spec = HostSpec {
                name: "t",
                core: None,
                idle,
                low_priority: idle == IdlePolicy::Park,
                actors: vec![probe("a", &log, false), probe("b", &log, false)],
                stats: Arc::default(),
            };
            let h = spawn(spec, Clock::live(), shutdown.clone()).unwrap();
            while h.stats.work.load(Ordering::Relaxed) < 200 {
                std::thread::sleep(Duration::from_millis(1));
            }
            shutdown.request();
            let stats = Arc::clone(&h.stats);
            assert!(h.join());
            assert_eq!(
                *log.lock().unwrap(),
                ["start a", "start b", "stop b", "stop a"],
                "{idle:?}"
            );
            assert_eq!(stats.work.load(Ordering::Relaxed), 200);
        }
    }

    #[test]
    fn failed_start_stops_the_engine_and_only_started_actors_stop() {
        let log = Arc::new(Mutex::new(vec![]));
        let shutdown = Shutdown::new();
        let spec = HostSpec {
            name: "t",
            core: None,
            idle: IdlePolicy::Park,
            low_priority: false,
            actors: vec![
                probe("a", &log, false),
                probe("b", &log, true),
                probe("c", &log, false),
            ],
            stats: Arc::default(),
        };
        let h = spawn(spec, Clock::live(), shutdown.clone()).unwrap();
        assert!(h.join());
        assert!(shutdown.is_requested());
        assert_eq!(*log.lock().unwrap(), ["start a", "start b", "stop a"]);
    }

    struct Panicker;
    impl Actor for Panicker {
        fn name(&self) -> &str {
            "panicker"
        }
        fn poll(&mut self, _: &mut Ctx) -> usize {
            panic!("boom")
        }
    }

    #[test]
    fn a_panicking_actor_stops_the_engine_cleanly() {
        let log = Arc::new(Mutex::new(vec![]));
        let shutdown = Shutdown::new();
        let spec = HostSpec {
            name: "t",
            core: None,
            idle: IdlePolicy::Park,
            low_priority: false,
            actors: vec![probe("a", &log, false), Box::new(Panicker)],
            stats: Arc::default(),
        };
        let h = spawn(spec, Clock::live(), shutdown.clone()).unwrap();
        assert!(h.join());
        assert!(shutdown.is_requested());
        assert_eq!(*log.lock().unwrap(), ["start a", "stop a"]);
    }
}
