//! Bot management over the control API, on the control actor (low priority): create a bot
//! from a spec (validated as the config is, then built here and installed in a vacant slot
//! of its instrument — `config::bots`), edit its parameters, start, stop, pause, resume,
//! toggle, delete (cancels its orders; refused while it holds a position unless told to
//! flatten), stop all. Every change is written to the overlay beside the config before it is
//! sent (so a restart comes back as the operator left it), answered with the bot's state,
//! and told as an activity row (`/activity`, the database) and a notification.

use std::path::PathBuf;

use serde_json::{Value, json};

use crate::config::bots::{Overlay, VACANT};
use crate::config::{Config, Mode, RiskLimits};
use crate::notify::Notice;
use crate::persist::{Level, PersistSink, Record};
use crate::risk::PositionBoard;
use crate::runtime::Tx;
use crate::status::{ActivityRow, BotAction, ManageCall, StatusUpdate};
use crate::strategy::actor::{Installed, StrategyControl};
use crate::strategy::registry::{self, BuildArgs};
use crate::types::{Instrument, InstrumentId, StrategyId, VenueId};

use super::control::ControlActor;

/// What a slot holds now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BotState {
    Running,
    Paused,
    Stopped,
    Vacant,
}

impl BotState {
    fn as_str(self) -> &'static str {
        match self {
            BotState::Running => "running",
            BotState::Paused => "paused",
            BotState::Stopped => "stopped",
            BotState::Vacant => "vacant",
        }
    }
}

/// One strategy slot as the control actor keeps it.
#[derive(Debug, Clone)]
pub struct Slot {
    pub name: String,
    pub kind: String,
    pub venue: VenueId,
    pub instrument: InstrumentId,
    pub params: toml::Table,
    pub state: BotState,
    /// The name it has while vacant.
    pub vacant_name: String,
    /// The bot in it came from the overlay or the API (not the config file).
    pub created: bool,
    /// It declared further markets (such bots are never installed at run time).
    pub several_markets: bool,
}

/// The management state of the control actor.
pub struct Bots {
    mode: Mode,
    /// The config file and its text at start (bots are validated against it).
    base: Option<(PathBuf, String)>,
    overlay: Overlay,
    overlay_path: Option<PathBuf>,
    pub slots: Vec<Slot>,
    venues: Vec<String>,
    instruments: Vec<Instrument>,
    positions: Option<PositionBoard>,
    persist: Option<PersistSink>,
    notices: Option<Tx<Notice>>,
}

impl Bots {
    pub fn new(config: &Config) -> Self {
        let symbol = |i: InstrumentId| {
            config
                .instruments
                .get(i.index())
                .map_or("?", |x| x.symbol.as_str())
        };
        let venue = |v: VenueId| {
            config
                .venues
                .get(v.index())
                .map_or("?", |x| x.name.as_str())
        };
        let slots = config
            .strategies
            .iter()
            .map(|s| {
                let vacant = s.kind == VACANT;
                Slot {
                    name: s.name.clone(),
                    kind: s.kind.clone(),
                    venue: s.venue,
                    instrument: s.instrument,
                    params: s.params.clone(),
                    state: if vacant {
                        BotState::Vacant
                    } else if config.bots.stopped.contains(&s.name) {
                        BotState::Stopped
                    } else {
                        BotState::Running
                    },
                    vacant_name: if vacant {
                        s.name.clone()
                    } else {
                        format!(
                            "slot-{}-{}-x{}",
                            venue(s.venue),
                            symbol(s.instrument),
                            s.id.0
                        )
                    },
                    created: config.bots.created.contains(&s.name),
                    several_markets: !s.markets.is_empty(),
                }
            })
            .collect();
        let overlay_path = config.bots.overlay.clone();
        let overlay = overlay_path
            .as_ref()
            .and_then(|p| std::fs::read_to_string(p).ok().map(|t| (p, t)))
            .map(|(p, t)| Overlay::parse(&t, p, &mut Default::default()))
            .unwrap_or_default();
        Self {
            mode: config.engine.mode,
            base: None,
            overlay,
            overlay_path,
            slots,
            venues: config.venues.iter().map(|v| v.name.clone()).collect(),
            instruments: config.instruments.clone(),
            positions: None,
            persist: None,
            notices: None,
        }
    }

    /// The config file bots are validated against (read now).
    pub fn set_base(&mut self, path: PathBuf) {
        if let Ok(text) = std::fs::read_to_string(&path) {
            self.base = Some((path, text));
        }
    }

    pub fn with_outputs(
        &mut self,
        positions: PositionBoard,
        persist: Option<PersistSink>,
        notices: Option<Tx<Notice>>,
    ) {
        self.positions = Some(positions);
        self.persist = persist;
        self.notices = notices;
    }

    fn find(&self, name: &str) -> Option<usize> {
        self.slots
            .iter()
            .position(|s| s.name == name && s.state != BotState::Vacant)
    }

    fn write_overlay(&self, overlay: &Overlay) -> Result<(), String> {
        let (Some(path), Some((config, _))) = (&self.overlay_path, &self.base) else {
            return Err("this engine was not started from a config file".into());
        };
        super::control::replace_file(path, overlay.render(config).as_bytes())
            .map_err(|e| format!("the overlay {} could not be written: {e}", path.display()))
    }
}

fn error(status: u16, message: impl Into<String>) -> (u16, Value) {
    let message = message.into();
    (status, json!({"error": message, "status": status}))
}

/// The spec as a TOML table, from JSON or TOML text.
fn spec_table(body: &[u8], toml: bool) -> Result<toml::Table, String> {
    let text = std::str::from_utf8(body).map_err(|_| "the body is not UTF-8".to_owned())?;
    if toml {
        return text
            .parse::<toml::Table>()
            .map_err(|e| format!("not TOML: {}", e.message()));
    }
    let v: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    if !v.is_object() {
        return Err("expected a JSON object".into());
    }
    json_to_toml(&v)
        .and_then(|t| t.as_table().cloned())
        .ok_or_else(|| "null values have no TOML form; leave the key out".into())
}

fn json_to_toml(v: &Value) -> Option<toml::Value> {
    Some(match v {
        Value::Null => return None,
        Value::Bool(b) => toml::Value::Boolean(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => toml::Value::Integer(i),
            None => toml::Value::Float(n.as_f64()?),
        },
        Value::String(s) => toml::Value::String(s.clone()),
        Value::Array(a) => toml::Value::Array(a.iter().map(json_to_toml).collect::<Option<_>>()?),
        Value::Object(m) => toml::Value::Table(
            m.iter()
                .map(|(k, v)| Some((k.clone(), json_to_toml(v)?)))
                .collect::<Option<_>>()?,
        ),
    })
}

fn param_errors(errs: &[(String, String)]) -> Value {
    Value::Array(
        errs.iter()
            .map(|(k, m)| json!({"path": format!("params.{k}"), "message": m}))
            .collect(),
    )
}

impl ControlActor {
    /// Runs one management call; returns the HTTP status and body.
    pub fn manage(&mut self, call: ManageCall) -> (u16, Value) {
        match call {
            ManageCall::Create { body, toml } => self.create(&body, toml),
            ManageCall::Edit { name, body } => self.edit(&name, &body),
            ManageCall::Act { name, action } => self.act(&name, action),
            ManageCall::Delete { name, flatten } => self.delete(&name, flatten),
            ManageCall::StopAll => self.stop_all(),
        }
    }

    /// An activity row, a database row and a notification for an operator's change.
    pub(super) fn tell(&mut self, level: Level, source: &str, message: String) {
        let at = super::control::wall_now();
        tracing::info!(source, "{message}");
        if let Some(tx) = &self.status {
            let _ = tx.send(StatusUpdate::Activity(ActivityRow {
                at,
                level: level.as_str(),
                source: source.to_owned(),
                message: message.clone(),
            }));
        }
        if let Some(p) = self.bots.persist.as_mut() {
            let _ = p.record(Record::Activity(crate::persist::Activity {
                level,
                source: source.to_owned(),
                message: message.clone(),
                at,
            }));
        }
        if let Some(tx) = &self.bots.notices {
            let _ = tx.send(Notice::Operator(format!("{source}: {message}")));
        }
    }

    fn publish_slot(&self, i: usize) {
        let (Some(tx), Some(s)) = (&self.status, self.bots.slots.get(i)) else {
            return;
        };
        let _ = tx.send(StatusUpdate::Bot {
            strategy: StrategyId(i as u16),
            name: s.name.clone(),
            kind: s.kind.clone(),
            params: s.params.clone(),
        });
    }

    fn has_room(&self, i: usize) -> bool {
        self.controls.get(i).is_some_and(|tx| tx.has_room())
    }

    fn create(&mut self, body: &[u8], toml: bool) -> (u16, Value) {
        let spec = match spec_table(body, toml) {
            Ok(t) => t,
            Err(e) => return error(422, format!("the spec cannot be read: {e}")),
        };
        let Some(name) = spec
            .get("id")
            .and_then(toml::Value::as_str)
            .map(str::to_owned)
        else {
            let mut b = error(422, "the spec has no id").1;
            b["errors"] = json!([{"path": "id", "message": "is required (a unique name)"}]);
            return (422, b);
        };
        if self.bots.slots.iter().any(|s| s.name == name) {
            return error(409, format!("a bot or slot named {name} exists"));
        }
        let Some((path, text)) = self.bots.base.clone() else {
            return error(
                409,
                "this engine was not started from a config file; bots can only be created in one that was",
            );
        };
        let mut overlay = self.bots.overlay.clone();
        overlay.strategies.push(spec.clone());
        let config = match crate::config::parse_layers(&text, Some(&overlay), &path) {
            Ok(c) => c,
            Err(errs) => {
                // The new entry is the last before the slots; its errors are given by the
                // spec's own key paths.
                let list: Vec<Value> = errs
                    .iter()
                    .map(|e| {
                        let p = e
                            .path
                            .split_once("].")
                            .map_or(e.path.as_str(), |(_, rest)| rest);
                        json!({"path": p, "message": e.message, "config_path": e.path})
                    })
                    .collect();
                let mut b = error(422, "the spec is not valid").1;
                b["errors"] = Value::Array(list);
                return (422, b);
            }
        };
        let Some(sc) = config.strategies.iter().find(|s| s.name == name) else {
            return error(422, "the spec did not produce a strategy");
        };
        if !sc.markets.is_empty() {
            return error(
                409,
                "a bot on several markets needs a restart: add it to the config",
            );
        }
        if sc.risk != RiskLimits::default() {
            return error(
                409,
                "per-bot risk limits need a restart: add the bot to the config, or leave [risk] out (the global limits apply)",
            );
        }
        if self.bots.mode == Mode::Paper {
            return error(
                409,
                "paper accounts are allotted at start: in paper mode add the bot to the config and restart",
            );
        }
        let market = format!(
            "{} {}",
            self.bots
                .venues
                .get(sc.venue.index())
                .map_or("?", String::as_str),
            self.bots
                .instruments
                .get(sc.instrument.index())
                .map_or("?", |x| x.symbol.as_str())
        );
        let free: Vec<usize> = (0..self.bots.slots.len())
            .filter(|&i| {
                let s = &self.bots.slots[i];
                s.state == BotState::Vacant && s.venue == sc.venue && s.instrument == sc.instrument
            })
            .collect();
        // A slot whose deleted bot's flatten did not close everything still holds that
        // position on the engine's books: a new bot there would inherit it.
        let held_by = |i: usize| {
            self.bots.positions.as_ref().map_or(0, |b| {
                b.position(StrategyId(i as u16), self.bots.slots[i].instrument)
                    .qty
            })
        };
        let Some(i) = free.iter().copied().find(|&i| held_by(i) == 0) else {
            if let Some(&i) = free.first() {
                return error(
                    409,
                    format!(
                        "every free bot slot on {market} still holds a position a deleted bot left ({} holds {}): close it by hand, or raise [bots] slots_per_instrument and restart",
                        self.bots.slots[i].name,
                        signed_qty(held_by(i))
                    ),
                );
            }
            return error(
                409,
                format!(
                    "no free bot slot on {market}: raise [bots] slots_per_instrument and restart"
                ),
            );
        };
        let Some(kind) = registry::kind(&sc.kind) else {
            return error(422, format!("unknown kind {}", sc.kind));
        };
        let Some(instrument) = self.bots.instruments.get(sc.instrument.index()).cloned() else {
            return error(422, "unknown instrument");
        };
        let markets = [instrument.clone()];
        let strategy = match (kind.build)(&BuildArgs {
            params: &sc.params,
            instrument: &instrument,
            markets: &markets,
            venues: &self.bots.venues,
        }) {
            Ok(s) => s,
            Err(errs) => {
                let mut b = error(422, "invalid parameters").1;
                b["errors"] = param_errors(&errs);
                return (422, b);
            }
        };
        if !self.has_room(i) {
            return error(503, "the slot's strategy is busy; retry");
        }
        if let Err(e) = self.bots.write_overlay(&overlay) {
            return error(500, e);
        }
        let (params, kind_name) = (sc.params.clone(), sc.kind.clone());
        let installed = Installed {
            name: name.clone(),
            strategy,
            stopped: false,
        };
        if let Err(e) = self.send(StrategyId(i as u16), StrategyControl::Install(installed)) {
            return error(503, e);
        }
        self.bots.overlay = overlay;
        let slot_name = {
            let s = &mut self.bots.slots[i];
            s.name.clone_from(&name);
            s.kind.clone_from(&kind_name);
            s.params = params.clone();
            s.state = BotState::Running;
            s.created = true;
            s.vacant_name.clone()
        };
        self.set_names(i, &name);
        if let Some(r) = self.reloader.as_mut() {
            r.set_strategy(StrategyId(i as u16), &name, &kind_name, params);
        }
        self.publish_slot(i);
        self.tell(
            Level::Info,
            &name,
            format!(
                "bot created ({kind_name} on {} {}, slot {slot_name})",
                self.bots
                    .venues
                    .get(sc_venue(&self.bots.slots[i]))
                    .map_or("?", String::as_str),
                instrument.symbol
            ),
        );
        (
            201,
            json!({"id": name, "state": "running", "kind": kind_name, "slot": slot_name}),
        )
    }

    fn edit(&mut self, name: &str, body: &[u8]) -> (u16, Value) {
        let Some(i) = self.bots.find(name) else {
            return error(404, "no such strategy");
        };
        let params = match spec_table(body, false) {
            Ok(t) => t,
            Err(e) => return error(422, format!("the parameters cannot be read: {e}")),
        };
        let slot = self.bots.slots[i].clone();
        if let Err(errs) = registry::validate(&slot.kind, &params) {
            let mut b = error(422, "invalid parameters").1;
            b["errors"] = param_errors(&errs);
            return (422, b);
        }
        let restart: Vec<String> = registry::kind(&slot.kind)
            .map_or_else(Vec::new, |k| (k.restart_keys)(&slot.params, &params));
        if !restart.is_empty() {
            let mut b = error(
                409,
                format!(
                    "these parameters only change at a restart: {}",
                    restart.join(", ")
                ),
            )
            .1;
            b["needs_restart"] = json!(restart);
            return (409, b);
        }
        if !self.has_room(i) {
            return error(503, "the strategy is busy; retry");
        }
        let mut overlay = self.bots.overlay.clone();
        match overlay
            .strategies
            .iter_mut()
            .find(|s| s.get("id").and_then(toml::Value::as_str) == Some(name))
        {
            Some(s) => {
                s.insert("params".into(), toml::Value::Table(params.clone()));
            }
            None => {
                overlay
                    .params
                    .insert(name.to_owned(), toml::Value::Table(params.clone()));
            }
        }
        if let Err(e) = self.bots.write_overlay(&overlay) {
            return error(500, e);
        }
        if let Err(e) = self.send(
            StrategyId(i as u16),
            StrategyControl::Reload(params.clone()),
        ) {
            return error(503, e);
        }
        self.bots.overlay = overlay;
        self.bots.slots[i].params = params.clone();
        if let Some(r) = self.reloader.as_mut() {
            r.set_params(StrategyId(i as u16), params.clone());
        }
        let changed: Vec<String> = params
            .iter()
            .filter(|(k, v)| slot.params.get(*k) != Some(*v))
            .map(|(k, _)| k.clone())
            .chain(
                slot.params
                    .keys()
                    .filter(|k| !params.contains_key(*k))
                    .cloned(),
            )
            .collect();
        self.tell(
            Level::Info,
            name,
            format!("parameters changed: {}", changed.join(", ")),
        );
        (
            200,
            json!({"id": name, "state": slot.state.as_str(),
                   "params": serde_json::to_value(&params).unwrap_or(Value::Null)}),
        )
    }

    /// Pause and resume from the old routes keep the state in step.
    pub(super) fn note_pause(&mut self, s: StrategyId, paused: bool) {
        if let Some(slot) = self.bots.slots.get_mut(s.index())
            && slot.state != BotState::Vacant
            && slot.state != BotState::Stopped
        {
            slot.state = if paused {
                BotState::Paused
            } else {
                BotState::Running
            };
        }
    }

    fn act(&mut self, name: &str, action: BotAction) -> (u16, Value) {
        let Some(i) = self.bots.find(name) else {
            return error(404, "no such strategy");
        };
        let state = self.bots.slots[i].state;
        let action = match (action, state) {
            (BotAction::Toggle, BotState::Stopped) => BotAction::Start,
            (BotAction::Toggle, _) => BotAction::Stop,
            (a, _) => a,
        };
        let (cmd, next, word) = match action {
            BotAction::Start => (StrategyControl::Start, BotState::Running, "started"),
            BotAction::Stop => (
                StrategyControl::Stop,
                BotState::Stopped,
                "stopped (orders cancelled)",
            ),
            BotAction::Pause if state == BotState::Stopped => {
                return error(409, "the bot is stopped; start it first");
            }
            BotAction::Pause => (StrategyControl::Pause, BotState::Paused, "paused"),
            BotAction::Resume if state == BotState::Stopped => {
                return error(409, "the bot is stopped; start it first");
            }
            BotAction::Resume | BotAction::Toggle => {
                (StrategyControl::Resume, BotState::Running, "resumed")
            }
        };
        if !self.has_room(i) {
            return error(503, "the strategy is busy; retry");
        }
        let mut overlay = self.bots.overlay.clone();
        overlay.stopped.retain(|n| n != name);
        if next == BotState::Stopped {
            overlay.stopped.push(name.to_owned());
        }
        if overlay != self.bots.overlay {
            if let Err(e) = self.bots.write_overlay(&overlay) {
                return error(500, e);
            }
            self.bots.overlay = overlay;
        }
        if let Err(e) = self.send(StrategyId(i as u16), cmd) {
            return error(503, e);
        }
        self.bots.slots[i].state = next;
        self.tell(Level::Info, name, format!("bot {word} by the operator"));
        (200, json!({"id": name, "state": next.as_str()}))
    }

    fn delete(&mut self, name: &str, flatten: bool) -> (u16, Value) {
        let Some(i) = self.bots.find(name) else {
            return self.flatten_slot(name, flatten);
        };
        let slot = self.bots.slots[i].clone();
        if slot.several_markets {
            return error(
                409,
                "a bot on several markets is removed from the config file and a restart",
            );
        }
        let held = self
            .bots
            .positions
            .as_ref()
            .map_or(0, |b| b.position(StrategyId(i as u16), slot.instrument).qty);
        if held != 0 && !flatten {
            let mut b = error(
                409,
                "the bot holds a position; delete with ?flatten=true to close it first",
            )
            .1;
            b["position"] = json!(signed_qty(held));
            return (409, b);
        }
        if !self.has_room(i) {
            return error(503, "the strategy is busy; retry");
        }
        let mut overlay = self.bots.overlay.clone();
        let before = overlay.strategies.len();
        overlay
            .strategies
            .retain(|s| s.get("id").and_then(toml::Value::as_str) != Some(name));
        if overlay.strategies.len() == before {
            overlay.deleted.push(name.to_owned());
        }
        overlay.params.remove(name);
        overlay.stopped.retain(|n| n != name);
        if let Err(e) = self.bots.write_overlay(&overlay) {
            return error(500, e);
        }
        let cmd = StrategyControl::Remove {
            flatten,
            slot: slot.vacant_name.clone(),
        };
        if let Err(e) = self.send(StrategyId(i as u16), cmd) {
            return error(503, e);
        }
        self.bots.overlay = overlay;
        {
            let s = &mut self.bots.slots[i];
            s.name.clone_from(&s.vacant_name);
            s.kind = VACANT.to_owned();
            s.params = toml::Table::new();
            s.state = BotState::Vacant;
            s.created = false;
        }
        self.set_names(i, &slot.vacant_name);
        if let Some(r) = self.reloader.as_mut() {
            r.set_strategy(
                StrategyId(i as u16),
                &slot.vacant_name,
                VACANT,
                toml::Table::new(),
            );
        }
        self.publish_slot(i);
        let how = if flatten && held != 0 {
            "its position closed by a market order, its orders cancelled"
        } else {
            "its orders cancelled"
        };
        self.tell(Level::Warn, name, format!("bot deleted ({how})"));
        (
            200,
            json!({"id": name, "deleted": true, "flattened": flatten && held != 0}),
        )
    }

    /// `DELETE` of a vacant slot: with `?flatten=true`, closes what a deleted bot's flatten
    /// left on the engine's books there (a slot holding nothing has nothing to delete).
    fn flatten_slot(&mut self, name: &str, flatten: bool) -> (u16, Value) {
        let Some(i) = self
            .bots
            .slots
            .iter()
            .position(|s| s.name == name && s.state == BotState::Vacant)
        else {
            return error(404, "no such strategy");
        };
        let held = self.bots.positions.as_ref().map_or(0, |b| {
            b.position(StrategyId(i as u16), self.bots.slots[i].instrument)
                .qty
        });
        if held == 0 {
            return error(409, "a vacant slot holding no position: nothing to delete");
        }
        if !flatten {
            let mut b = error(
                409,
                "the vacant slot holds a position a deleted bot left; ?flatten=true closes it",
            )
            .1;
            b["position"] = json!(signed_qty(held));
            return (409, b);
        }
        if !self.has_room(i) {
            return error(503, "the slot is busy; retry");
        }
        if let Err(e) = self.send(StrategyId(i as u16), StrategyControl::Flatten) {
            return error(503, e);
        }
        self.tell(
            Level::Warn,
            name,
            format!(
                "closing the position a deleted bot left ({}) by a market order",
                signed_qty(held)
            ),
        );
        (200, json!({"id": name, "flattened": true}))
    }

    fn stop_all(&mut self) -> (u16, Value) {
        let running: Vec<usize> = (0..self.bots.slots.len())
            .filter(|&i| {
                !matches!(
                    self.bots.slots[i].state,
                    BotState::Vacant | BotState::Stopped
                )
            })
            .collect();
        let mut overlay = self.bots.overlay.clone();
        for &i in &running {
            overlay.stopped.push(self.bots.slots[i].name.clone());
        }
        if let Err(e) = self.bots.write_overlay(&overlay) {
            // Stopping matters more than remembering it: go on, and say so.
            tracing::error!("stop-all: {e}");
        } else {
            self.bots.overlay = overlay;
        }
        let mut stopped = Vec::new();
        let mut failed = Vec::new();
        for i in running {
            let name = self.bots.slots[i].name.clone();
            match self.send(StrategyId(i as u16), StrategyControl::Stop) {
                Ok(()) => {
                    self.bots.slots[i].state = BotState::Stopped;
                    stopped.push(name);
                }
                Err(e) => failed.push(json!({"id": name, "error": e})),
            }
        }
        self.tell(
            Level::Warn,
            "operator",
            format!(
                "stop all: {} bot(s) stopped, their orders cancelled",
                stopped.len()
            ),
        );
        let status = if failed.is_empty() { 200 } else { 503 };
        (
            status,
            json!({"stopped": stopped.len(), "ids": stopped, "failed": failed}),
        )
    }

    fn set_names(&mut self, i: usize, name: &str) {
        if let Some(n) = self.names.get_mut(i) {
            name.clone_into(n);
        }
    }
}

/// A signed position in base units as decimal text (`-0.5`).
fn signed_qty(units: i64) -> String {
    let q = crate::types::Qty::from_units(units.saturating_abs());
    if units < 0 {
        format!("-{q}")
    } else {
        q.to_string()
    }
}

fn sc_venue(s: &Slot) -> usize {
    s.venue.index()
}
