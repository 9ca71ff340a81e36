//! The engine's control actor (low priority): routes the operator's commands from the status
//! endpoint to the strategies (pause, resume), and reloads strategy parameters from the
//! config file on `POST /control/reload`, on SIGHUP, and when the file's modification time
//! changes (polled every `CHECK_EVERY`). A reload is planned by `reload::plan` and applies
//! completely or not at all; each strategy acknowledges what it applied, and only then does
//! `/status` show the new parameters.
//!
//! It also swaps the models of strategies that predict with one (the registry's
//! `ModelHooks`): a model uploaded by `POST /control/strategies/<id>/model`, or written over
//! the model file (polled like the config), is read and checked here, off the hot path, and
//! only then sent to the strategy, which swaps it in between two predictions. A model that
//! cannot be read or does not fit the strategy's parameters is refused with the reason and
//! the old one keeps running. An upload is written over the strategy's model file (through
//! a temporary file and a rename) before it is sent, so the config stays the truth: a
//! restart runs the uploaded model.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::config::Config;
use crate::risk::{KillReason, KillSwitch};
use crate::runtime::{Actor, Ctx, FullPolicy, Rx, SendError, StartError, Tx, bounded};
use crate::status::{ControlCommand, ControlReply, StatusUpdate};
use crate::strategy::actor::{ModelAck, ReloadAck, StrategyControl};
use crate::strategy::model::Model;
use crate::strategy::registry::ModelHooks;
use crate::types::StrategyId;

use super::reload::{ParamChange, ReloadError, Reloader};

/// How often the config file's modification time is looked at.
pub const CHECK_EVERY: Duration = Duration::from_secs(1);
/// Capacity of each strategy's control channel (commands are never dropped: a full channel
/// answers "busy").
const CONTROL_CAPACITY: usize = 16;

/// Each strategy's control channel, made before the strategies are built.
pub struct StrategyControls {
    txs: Vec<Tx<StrategyControl>>,
    rxs: Vec<Option<Rx<StrategyControl>>>,
    acks: (Tx<ReloadAck>, Rx<ReloadAck>),
    model_acks: (Tx<ModelAck>, Rx<ModelAck>),
}

impl StrategyControls {
    pub fn new(strategies: usize) -> Self {
        let (txs, rxs) = (0..strategies)
            .map(|_| {
                let (tx, rx) = bounded(
                    "strategy-control",
                    CONTROL_CAPACITY,
                    FullPolicy::Backpressure,
                );
                (tx, Some(rx))
            })
            .unzip();
        Self {
            txs,
            rxs,
            acks: bounded("strategy-reload-acks", 64, FullPolicy::DropNewest),
            model_acks: bounded("strategy-model-acks", 64, FullPolicy::DropNewest),
        }
    }

    /// Where strategies answer model swaps.
    pub fn model_acks(&self) -> Tx<ModelAck> {
        self.model_acks.0.clone()
    }

    /// The strategy's end: its commands, and where it acknowledges reloads.
    pub fn take(&mut self, s: StrategyId) -> Option<(Rx<StrategyControl>, Tx<ReloadAck>)> {
        let rx = self.rxs.get_mut(s.index())?.take()?;
        Some((rx, self.acks.0.clone()))
    }
}

/// The wall clock, for the status page's reload record.
pub(super) fn wall_now() -> crate::types::UnixNanos {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    crate::types::UnixNanos(d.as_nanos() as u64)
}

/// Where a reload came from (for logs and replies).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReloadSource {
    Endpoint,
    Signal,
    FileChange,
}

impl ReloadSource {
    fn as_str(self) -> &'static str {
        match self {
            ReloadSource::Endpoint => "endpoint",
            ReloadSource::Signal => "SIGHUP",
            ReloadSource::FileChange => "file change",
        }
    }
}

/// A strategy's model file, watched for replacement.
struct ModelWatch {
    hooks: &'static ModelHooks,
    path: PathBuf,
    /// Modification time and length last seen.
    seen: Option<(std::time::SystemTime, u64)>,
}

fn stat(path: &std::path::Path) -> Option<(std::time::SystemTime, u64)> {
    let m = std::fs::metadata(path).ok()?;
    Some((m.modified().ok()?, m.len()))
}

/// Writes `bytes` over `path` through a temporary file beside it and a rename, so a reader
/// (a restart, this actor's own watch) sees the old file or the new one, never a part.
pub(super) fn replace_file(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".upload");
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

/// SIGHUP routed to a flag; unregistered when dropped.
struct Hangup {
    flag: Arc<AtomicBool>,
    id: signal_hook::SigId,
}

impl Drop for Hangup {
    fn drop(&mut self) {
        signal_hook::low_level::unregister(self.id);
    }
}

pub struct ControlActor {
    pub(super) names: Vec<String>,
    /// Each strategy's parameters as it runs them (for checking a new model).
    params: Vec<toml::Table>,
    /// Each strategy's model file, for kinds that predict with one.
    models: Vec<Option<ModelWatch>>,
    pub(super) controls: Vec<Tx<StrategyControl>>,
    acks: Rx<ReloadAck>,
    model_acks: Rx<ModelAck>,
    commands: Option<Rx<ControlCommand>>,
    replies: Option<Tx<ControlReply>>,
    pub(super) status: Option<Tx<StatusUpdate>>,
    kill: KillSwitch,
    pub(super) reloader: Option<Reloader>,
    /// Bot management: the slots, the overlay, where changes are told.
    pub(super) bots: super::manage::Bots,
    hangup: Option<Hangup>,
    check_every: Duration,
    next_check: Option<Instant>,
}

fn as_json(v: &Option<toml::Value>) -> Value {
    match v {
        None => Value::Null,
        Some(v) => serde_json::to_value(v).unwrap_or(Value::Null),
    }
}

impl ControlActor {
    pub fn new(config: &Config, controls: &StrategyControls, kill: KillSwitch) -> Self {
        let models = config
            .strategies
            .iter()
            .map(|s| {
                let hooks = crate::strategy::registry::kind(&s.kind)?.model.as_ref()?;
                let path = (hooks.path)(&s.params)?;
                let seen = stat(&path);
                Some(ModelWatch { hooks, path, seen })
            })
            .collect();
        Self {
            names: config.strategies.iter().map(|s| s.name.clone()).collect(),
            params: config.strategies.iter().map(|s| s.params.clone()).collect(),
            models,
            controls: controls.txs.clone(),
            acks: controls.acks.1.clone(),
            model_acks: controls.model_acks.1.clone(),
            commands: None,
            replies: None,
            status: None,
            kill,
            reloader: None,
            bots: super::manage::Bots::new(config),
            hangup: None,
            check_every: CHECK_EVERY,
            next_check: None,
        }
    }

    /// Takes the operator's commands from the status endpoint and answers its reloads.
    pub fn with_endpoint(
        mut self,
        commands: Rx<ControlCommand>,
        replies: Tx<ControlReply>,
        status: Tx<StatusUpdate>,
    ) -> Self {
        self.commands = Some(commands);
        self.replies = Some(replies);
        self.status = Some(status);
        self
    }

    /// Reloads from `path` on request, on SIGHUP and when the file changes. `current` is the
    /// config the engine was built from.
    pub fn watch(&mut self, path: PathBuf, current: Config) -> std::io::Result<()> {
        let flag = Arc::new(AtomicBool::new(false));
        let id = signal_hook::flag::register(signal_hook::consts::SIGHUP, Arc::clone(&flag))?;
        self.hangup = Some(Hangup { flag, id });
        self.bots.set_base(path.clone());
        self.reloader = Some(Reloader::new(path, current));
        Ok(())
    }

    /// Whether this actor has anything to do (otherwise the engine does not place it).
    pub fn is_needed(&self) -> bool {
        self.commands.is_some()
            || self
                .bots
                .slots
                .iter()
                .any(|s| s.state == super::manage::BotState::Vacant)
            || self.reloader.is_some()
            || self.models.iter().any(Option::is_some)
    }

    pub fn set_check_every(&mut self, every: Duration) {
        self.check_every = every;
    }

    /// Where bot changes are told besides `/status`: the positions a delete checks, the
    /// database's activity rows, the notifier.
    pub fn with_bot_outputs(
        mut self,
        positions: crate::risk::PositionBoard,
        persist: Option<crate::persist::PersistSink>,
        notices: Option<Tx<crate::notify::Notice>>,
    ) -> Self {
        self.bots.with_outputs(positions, persist, notices);
        self
    }

    pub(super) fn send(&self, s: StrategyId, c: StrategyControl) -> Result<(), String> {
        let name = self.names.get(s.index()).map_or("?", String::as_str);
        let Some(tx) = self.controls.get(s.index()) else {
            return Err(format!("no strategy {s:?}"));
        };
        match tx.send(c) {
            Ok(()) => Ok(()),
            Err(SendError::Full(_)) => Err(format!("strategy {name} is busy; retry")),
            Err(SendError::Disconnected(_)) => Err(format!("strategy {name} is not running")),
        }
    }

    /// Runs one reload; returns the HTTP status and body that describe it.
    pub fn reload(&mut self, source: ReloadSource) -> (u16, Value) {
        let Some(r) = self.reloader.as_ref() else {
            return (
                409,
                json!({"error": "this engine was not started from a config file; nothing to reload",
                       "status": 409}),
            );
        };
        let path = r.path().display().to_string();
        let plan = r.prepare();
        let applied = plan.and_then(|changes| self.apply(&changes).map(|()| changes));
        if let Some(tx) = &self.status {
            let _ = tx.send(StatusUpdate::Reload(
                crate::status::snapshot::ReloadOutcome {
                    source: source.as_str(),
                    refused: applied.as_ref().err().map(|e| e.to_string()),
                    at: wall_now(),
                },
            ));
        }
        match applied {
            Ok(changes) => {
                let list: Vec<Value> = changes
                    .iter()
                    .map(|c| {
                        let keys: serde_json::Map<String, Value> = c
                            .changed
                            .iter()
                            .map(|(k, a, b)| {
                                (k.clone(), json!({"from": as_json(a), "to": as_json(b)}))
                            })
                            .collect();
                        json!({"strategy": c.name, "changed": keys})
                    })
                    .collect();
                if changes.is_empty() {
                    tracing::info!(source = source.as_str(), file = %path, "reload: no parameter changed");
                } else {
                    for c in &changes {
                        let keys: Vec<&str> = c.changed.iter().map(|x| x.0.as_str()).collect();
                        tracing::info!(source = source.as_str(), strategy = %c.name, keys = ?keys, "reload: new parameters sent");
                    }
                }
                (
                    200,
                    json!({"reloaded": true, "source": source.as_str(), "file": path, "changes": list}),
                )
            }
            Err(e) => {
                tracing::error!(source = source.as_str(), file = %path, "reload refused, parameters unchanged: {e}");
                let (status, detail) = match &e {
                    ReloadError::Invalid(_) | ReloadError::Params(_) => (422, "invalid"),
                    ReloadError::NeedsRestart(_) => (409, "needs_restart"),
                    ReloadError::Unavailable(_) => (503, "unavailable"),
                };
                let mut body = json!({"error": e.to_string(), "status": status, "reason": detail,
                                      "source": source.as_str(), "file": path});
                match &e {
                    ReloadError::NeedsRestart(why) => body["needs_restart"] = json!(why),
                    ReloadError::Params(errs) => {
                        body["errors"] = Value::Array(
                            errs.iter()
                                .map(|(s, k, m)| json!({"strategy": s, "key": k, "message": m}))
                                .collect(),
                        )
                    }
                    _ => {}
                }
                (status, body)
            }
        }
    }

    /// Sends every change, or none if any strategy cannot take one now.
    fn apply(&mut self, changes: &[ParamChange]) -> Result<(), ReloadError> {
        if let Some(busy) = changes
            .iter()
            .filter_map(|c| self.controls.get(c.strategy.index()))
            .find(|tx| !tx.has_room())
        {
            return Err(ReloadError::Unavailable(format!(
                "{} is full; retry",
                busy.name()
            )));
        }
        for c in changes {
            self.send(c.strategy, StrategyControl::Reload(c.params.clone()))
                .map_err(ReloadError::Unavailable)?;
            if let Some(r) = self.reloader.as_mut() {
                r.set_params(c.strategy, c.params.clone());
            }
            if let Some(p) = self.params.get_mut(c.strategy.index()) {
                *p = c.params.clone();
            }
            // A reload may name another model file: watch that one from now on (the
            // strategy read it with the new parameters).
            if let Some(Some(w)) = self.models.get_mut(c.strategy.index())
                && let Some(path) = (w.hooks.path)(&c.params)
                && path != w.path
            {
                w.seen = stat(&path);
                w.path = path;
            }
        }
        Ok(())
    }

    /// Reads and checks `bytes` as a new model for strategy `s` and, if it fits, sends it
    /// (after writing it over the model file when `upload`). Returns the HTTP status and
    /// body that describe what happened.
    pub fn swap_model(&mut self, s: StrategyId, bytes: &[u8], upload: bool) -> (u16, Value) {
        let name = self.names.get(s.index()).cloned().unwrap_or_default();
        let source = if upload { "model upload" } else { "model file" };
        let refuse = |this: &Self, status: u16, why: String| {
            tracing::error!(strategy = %name, source, "model refused, the old one keeps running: {why}");
            this.report_outcome(source, Some(why.clone()));
            (
                status,
                json!({"error": why, "status": status, "strategy": name}),
            )
        };
        let Some(Some(w)) = self.models.get(s.index()) else {
            return refuse(
                self,
                409,
                "this strategy kind predicts with no model".into(),
            );
        };
        let (check, path) = (w.hooks.check, w.path.clone());
        let model = match Model::from_bytes(bytes) {
            Ok(m) => m,
            Err(e) => return refuse(self, 422, format!("the model cannot be used: {e}")),
        };
        let params = self.params.get(s.index()).cloned().unwrap_or_default();
        if let Err(e) = check(&params, &model) {
            return refuse(
                self,
                422,
                format!("the model does not fit the strategy: {e}"),
            );
        }
        if self.controls.get(s.index()).is_none_or(|tx| !tx.has_room()) {
            return refuse(self, 503, format!("strategy {name} is busy; retry"));
        }
        if upload && let Err(e) = replace_file(&path, bytes) {
            return refuse(
                self,
                500,
                format!("the model could not be written to {}: {e}", path.display()),
            );
        }
        if let Some(Some(w)) = self.models.get_mut(s.index()) {
            w.seen = stat(&w.path);
        }
        let hash = model.hash().to_owned();
        if let Err(e) = self.send(s, StrategyControl::Model(Arc::new(model))) {
            return refuse(self, 503, e);
        }
        tracing::info!(strategy = %name, source, model = %hash, file = %path.display(), "new model sent");
        self.report_outcome(source, None);
        (
            200,
            json!({"swapped": true, "strategy": name, "model": hash, "source": source,
                   "file": path.display().to_string()}),
        )
    }

    fn report_outcome(&self, source: &'static str, refused: Option<String>) {
        if let Some(tx) = &self.status {
            let _ = tx.send(StatusUpdate::Reload(
                crate::status::snapshot::ReloadOutcome {
                    source,
                    refused,
                    at: wall_now(),
                },
            ));
        }
    }

    /// Model files whose modification time or length changed since last seen are read and,
    /// if their content is new, swapped in.
    fn check_models(&mut self) -> usize {
        let mut work = 0;
        for i in 0..self.models.len() {
            let Some(w) = self.models[i].as_mut() else {
                continue;
            };
            let now = stat(&w.path);
            if now.is_none() || now == w.seen {
                continue;
            }
            w.seen = now;
            let path = w.path.clone();
            work += 1;
            match std::fs::read(&path) {
                Ok(bytes) => {
                    let s = StrategyId(i as u16);
                    let _ = self.swap_model(s, &bytes, false);
                }
                Err(e) => {
                    tracing::error!(file = %path.display(), "model file changed but cannot be read: {e}");
                }
            }
        }
        work
    }

    fn on_command(&mut self, c: ControlCommand) {
        match c {
            ControlCommand::Kill => {
                // The endpoint trips the switch itself; tripping again is harmless.
                self.kill.trip(KillReason::Operator);
                tracing::warn!(
                    "kill switch tripped by the operator: orders cancelled, new orders refused"
                );
            }
            ControlCommand::Pause(s) | ControlCommand::Resume(s) => {
                let (cmd, what) = match c {
                    ControlCommand::Pause(_) => (StrategyControl::Pause, "paused"),
                    _ => (StrategyControl::Resume, "resumed"),
                };
                let paused = matches!(cmd, StrategyControl::Pause);
                match self.send(s, cmd) {
                    Ok(()) => {
                        self.note_pause(s, paused);
                        let name = self.names.get(s.index()).cloned().unwrap_or_default();
                        self.tell(
                            crate::persist::Level::Info,
                            &name,
                            format!("bot {what} by the operator"),
                        );
                    }
                    Err(e) => tracing::error!("operator command not delivered: {e}"),
                }
            }
            ControlCommand::Reload { request } => {
                let (status, body) = self.reload(ReloadSource::Endpoint);
                self.reply(request, status, body);
            }
            ControlCommand::Model {
                request,
                strategy,
                body,
            } => {
                let (status, body) = self.swap_model(strategy, &body, true);
                self.reply(request, status, body);
            }
            ControlCommand::Manage { request, call } => {
                let (status, body) = self.manage(call);
                self.reply(request, status, body);
            }
        }
    }

    fn reply(&self, request: u64, status: u16, body: Value) {
        if let Some(tx) = &self.replies {
            let _ = tx.send(ControlReply {
                request,
                status,
                body,
            });
        }
    }

    fn on_model_ack(&mut self, a: ModelAck) {
        let name = self
            .names
            .get(a.strategy.index())
            .map_or("?", String::as_str);
        match a.result {
            Ok(hash) => {
                tracing::info!(strategy = %name, model = %hash, "the strategy predicts with the new model")
            }
            Err(e) => {
                tracing::error!(strategy = %name, "the strategy refused the new model: {e}");
                self.report_outcome("model swap", Some(e));
            }
        }
    }

    fn on_ack(&mut self, a: ReloadAck, now: crate::types::UnixNanos) {
        match a.result {
            Ok(params) => {
                if let Some(tx) = &self.status {
                    let _ = tx.send(StatusUpdate::Params {
                        strategy: a.strategy,
                        params,
                        at: now,
                    });
                }
            }
            Err(errs) => {
                // Checked before sending, so this means the strategy knows better: it kept
                // its parameters, and so does the baseline the next reload is planned from.
                tracing::error!(strategy = ?a.strategy, errors = ?errs, "a strategy refused reloaded parameters");
            }
        }
    }
}

impl Actor for ControlActor {
    fn name(&self) -> &str {
        "control"
    }

    fn start(&mut self, _ctx: &mut Ctx) -> Result<(), StartError> {
        self.next_check = Some(Instant::now() + self.check_every);
        Ok(())
    }

    fn poll(&mut self, ctx: &mut Ctx) -> usize {
        let mut work = 0;
        while let Some(c) = self.commands.as_ref().and_then(Rx::try_recv) {
            self.on_command(c);
            work += 1;
        }
        while let Some(a) = self.acks.try_recv() {
            self.on_ack(a, ctx.clock.now());
            work += 1;
        }
        while let Some(a) = self.model_acks.try_recv() {
            self.on_model_ack(a);
            work += 1;
        }
        if self
            .hangup
            .as_ref()
            .is_some_and(|h| h.flag.swap(false, Ordering::AcqRel))
        {
            if let Some(r) = self.reloader.as_mut() {
                r.file_changed(); // this reload covers the change too
            }
            self.reload(ReloadSource::Signal);
            work += 1;
        }
        let now = Instant::now();
        if self.next_check.is_none_or(|t| now >= t) {
            self.next_check = Some(now + self.check_every);
            if self.reloader.as_mut().is_some_and(Reloader::file_changed) {
                self.reload(ReloadSource::FileChange);
                work += 1;
            }
            work += self.check_models();
        }
        work
    }
}

#[cfg(test)]
#[path = "control_tests.rs"]
mod tests;
