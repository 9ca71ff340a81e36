//! What actors tell the status room, and what the operator can tell the engine.
//!
//! Updates are plain `Copy`-sized data (ids, fixed-point numbers, static strings): sending one
//! from a hot actor allocates nothing. The status actor turns ids into names and numbers into
//! text, off the hot path. Actors send them at `status.publish_interval` (and orders and fills
//! as they happen) over a `DropNewest` channel: a lost update is counted and superseded by
//! the next one.

use crate::persist::FillRecord;
use crate::risk::{KillReason, Rule};
use crate::types::{Order, OrderStatus};
use crate::types::{Price, Qty, StrategyId, UnixNanos, VenueId};

/// State of a venue's connections as the feed and gateway see them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnState {
    Connecting,
    Connected,
    /// Book out of sync; resynchronising from a snapshot.
    Resyncing,
    Down,
    /// The venue banned us (HTTP 418) or we are rate limited (429).
    Banned,
}

impl ConnState {
    pub fn as_str(self) -> &'static str {
        match self {
            ConnState::Connecting => "connecting",
            ConnState::Connected => "connected",
            ConnState::Resyncing => "resyncing",
            ConnState::Down => "down",
            ConnState::Banned => "banned",
        }
    }
}

/// One venue's connection counters (sent by its feed and its gateway; the fields a sender
/// does not own are `None` and leave the stored value alone).
#[derive(Debug, Clone, PartialEq)]
pub struct VenueUpdate {
    pub venue: VenueId,
    pub market_data: Option<ConnState>,
    pub orders: Option<ConnState>,
    /// Market-data messages since start.
    pub messages: Option<u64>,
    pub resyncs: Option<u64>,
    pub reconnects: Option<u64>,
    /// Market-data frames the venue's codec refused since start (unknown packets, events for
    /// channels never joined, bad JSON).
    pub malformed: Option<u64>,
    pub last_message: Option<UnixNanos>,
    /// Feed: how its books stand and what it wrote to the book cache.
    pub books: Option<BookCounts>,
    /// Gateway: orders by state now (indexed like `ORDER_STATES`), fills, venue rejects.
    pub orders_by_state: Option<[u64; 8]>,
    pub fills: Option<u64>,
    pub venue_rejects: Option<u64>,
    /// Gateway, perpetuals: positions corrected from the venue's, and leverages the venue
    /// refused or reported otherwise than configured.
    pub position_drifts: Option<u64>,
    pub leverage_mismatches: Option<u64>,
    /// Gateway: the venue's balances as last read from it (the start-up sweep on).
    pub balances: Option<Vec<crate::venue::order::Balance>>,
    pub at: UnixNanos,
}

impl VenueUpdate {
    /// An update that changes nothing yet; set the fields the sender owns.
    pub fn new(venue: VenueId, at: UnixNanos) -> Self {
        Self {
            venue,
            market_data: None,
            orders: None,
            messages: None,
            resyncs: None,
            reconnects: None,
            malformed: None,
            last_message: None,
            books: None,
            orders_by_state: None,
            fills: None,
            venue_rejects: None,
            position_drifts: None,
            leverage_mismatches: None,
            balances: None,
            at,
        }
    }
}

/// A feed's books, summed over its instruments: how many are live, the REST snapshots it
/// asked for, applied and failed to get, the gaps in its diff streams, and its writes to the
/// book cache (books or tops published, books marked invalid). A book that stays out of
/// the cache shows here: live books and no publishes, or snapshots asked for and none applied.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BookCounts {
    pub live: u64,
    pub instruments: u64,
    pub snapshot_requests: u64,
    pub snapshots_applied: u64,
    pub snapshot_failures: u64,
    pub gaps: u64,
    pub publishes: u64,
    pub invalidations: u64,
}

/// Order states in the order `VenueUpdate::orders_by_state` counts them.
pub const ORDER_STATES: [OrderStatus; 8] = [
    OrderStatus::New,
    OrderStatus::Sent,
    OrderStatus::Acked,
    OrderStatus::PartiallyFilled,
    OrderStatus::Filled,
    OrderStatus::Cancelled,
    OrderStatus::Rejected,
    OrderStatus::Expired,
];

/// Whether a strategy is quoting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StrategyState {
    Starting,
    Running,
    /// Paused by the operator: no new orders, its orders cancelled.
    Paused,
    /// Waiting: book stale, band too defensive, risk refusing.
    Waiting,
    Stopped,
}

impl StrategyState {
    pub fn as_str(self) -> &'static str {
        match self {
            StrategyState::Starting => "starting",
            StrategyState::Running => "running",
            StrategyState::Paused => "paused",
            StrategyState::Waiting => "waiting",
            StrategyState::Stopped => "stopped",
        }
    }
}

/// A resting quote.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QuoteLevel {
    pub price: Price,
    pub qty: Qty,
}

/// One strategy's state.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StrategyUpdate {
    pub strategy: StrategyId,
    pub state: StrategyState,
    /// Base-asset position (signed).
    pub position: Qty,
    /// Realized PnL net of fees, quote units (reporting edge: `f64`).
    pub realized_pnl: f64,
    /// Realized plus unrealized at the mid, net of fees.
    pub total_pnl: f64,
    /// Fills today.
    pub trades: u64,
    pub open_orders: u32,
    pub bid: Option<QuoteLevel>,
    pub ask: Option<QuoteLevel>,
    /// The mid the PnL is marked at.
    pub mid: Option<Price>,
    /// Round trips the strategy completed (for kinds that count them).
    pub round_trips: u64,
    pub last_fill: Option<UnixNanos>,
    /// Trade prints of its instruments delivered to it.
    pub prints: u64,
    /// Trade prints it lost by falling behind (each loss is also told to the strategy).
    pub prints_lost: u64,
    /// Times it was called for a new book.
    pub decisions: u64,
    /// Why it stopped opening positions by its own limits (e.g. its daily loss), if it did.
    pub entries_stopped: Option<&'static str>,
    /// Orders it decided against by its own filters (kinds that count them).
    pub skipped: u64,
    pub at: UnixNanos,
}

/// Risk state as one venue's gateway holds it (the status room sums the venues; the kill
/// switch is shared by all).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RiskUpdate {
    pub venue: VenueId,
    /// Today's PnL over all strategies, quote units.
    pub daily_pnl: f64,
    pub trades_today: u64,
    pub kill_switch: bool,
    pub kill_reason: KillReason,
    /// Refusals per rule, indexed like `Rule::ALL`.
    pub rejections: [u64; Rule::ALL.len()],
    pub at: UnixNanos,
}

/// One strategy's figures as pre-trade risk keeps them (sent by its venue's gateway): the
/// engine's own fill-based position and PnL, next to what the strategy itself reports.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StrategyRiskUpdate {
    pub strategy: StrategyId,
    /// The venue whose gateway holds these figures (a strategy on several venues has one
    /// update per venue).
    pub venue: VenueId,
    /// Base-asset position from fills (signed).
    pub position: Qty,
    /// Realized PnL net of quote fees, quote units.
    pub realized_pnl: f64,
    /// Today's realized plus marked PnL net of fees, quote units.
    pub day_pnl: f64,
    pub trades_today: u64,
    pub open_orders: u32,
    /// A perpetual's position figures (`None` for spot).
    pub perp: Option<crate::risk::PerpFigures>,
    pub at: UnixNanos,
}

/// A message to the status actor.
#[derive(Debug, Clone, PartialEq)]
pub enum StatusUpdate {
    Venue(VenueUpdate),
    Strategy(StrategyUpdate),
    Risk(RiskUpdate),
    StrategyRisk(StrategyRiskUpdate),
    /// A strategy applied new parameters (sent once the strategy accepted them).
    Params {
        strategy: StrategyId,
        params: toml::Table,
        at: UnixNanos,
    },
    /// An order changed (any state); final orders leave the open set.
    Order(Order),
    Fill(FillRecord),
    /// A parameter reload was applied or refused.
    Reload(ReloadOutcome),
    /// A strategy's own view beyond its report (e.g. the scalper's bands, day and trades).
    Detail {
        strategy: StrategyId,
        detail: serde_json::Value,
        at: UnixNanos,
    },
    /// A strategy slot now holds another bot (installed, or vacant again after a delete),
    /// or new parameters from the management API.
    Bot {
        strategy: StrategyId,
        name: String,
        kind: String,
        params: toml::Table,
    },
    /// A row of the activity log (`GET /activity`).
    Activity(ActivityRow),
}

/// One row of the activity log as `/activity` serves it.
#[derive(Debug, Clone, PartialEq)]
pub struct ActivityRow {
    pub at: UnixNanos,
    /// `info`, `warn` or `error`.
    pub level: &'static str,
    /// Who it is about: `engine`, a venue, `risk`, a strategy's id, `operator`.
    pub source: String,
    pub message: String,
}

/// A bot-management call (`/control/strategies`, `/control/stop-all`), answered by the
/// engine's control actor like a reload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ManageCall {
    /// Create a bot from a spec: the keys of a `[[strategies]]` entry, JSON or TOML.
    Create {
        body: std::sync::Arc<[u8]>,
        toml: bool,
    },
    /// New parameters (a JSON object) for a bot.
    Edit {
        name: String,
        body: std::sync::Arc<[u8]>,
    },
    Act {
        name: String,
        action: BotAction,
    },
    Delete {
        name: String,
        flatten: bool,
    },
    StopAll,
}

/// What an operator can do to one bot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BotAction {
    Start,
    Stop,
    Pause,
    Resume,
    Toggle,
}

impl BotAction {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "start" => Self::Start,
            "stop" => Self::Stop,
            "pause" => Self::Pause,
            "resume" => Self::Resume,
            "toggle" => Self::Toggle,
            _ => return None,
        })
    }
}

/// How one parameter reload ended.
#[derive(Debug, Clone, PartialEq)]
pub struct ReloadOutcome {
    /// `endpoint`, `SIGHUP` or `file change`.
    pub source: &'static str,
    /// `None`: applied; otherwise why it was refused.
    pub refused: Option<String>,
    pub at: UnixNanos,
}

/// What an operator asked for through the control API. Routed by the engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ControlCommand {
    /// Trip the kill switch: cancel everything, refuse new orders.
    Kill,
    Pause(StrategyId),
    Resume(StrategyId),
    /// Reload strategy parameters from the config file. `request` numbers the call so the
    /// HTTP side can match the engine's `ControlReply` to it.
    Reload {
        request: u64,
    },
    /// Swap in the model in `body` (a LightGBM `model.txt`) for `strategy`: read, checked
    /// and written over the strategy's model file off the hot path; answered like a reload.
    Model {
        request: u64,
        strategy: StrategyId,
        body: std::sync::Arc<[u8]>,
    },
    /// A bot-management call.
    Manage {
        request: u64,
        call: ManageCall,
    },
}

/// The engine's answer to a control call the server waits for (`/control/reload`): the HTTP
/// status and the JSON body to send.
#[derive(Debug, Clone, PartialEq)]
pub struct ControlReply {
    pub request: u64,
    pub status: u16,
    pub body: serde_json::Value,
}

impl ControlCommand {
    pub fn as_str(&self) -> &'static str {
        match self {
            ControlCommand::Kill => "kill",
            ControlCommand::Pause(_) => "pause",
            ControlCommand::Resume(_) => "resume",
            ControlCommand::Reload { .. } => "reload",
            ControlCommand::Model { .. } => "model",
            ControlCommand::Manage { .. } => "manage",
        }
    }

    /// The number of a call the server waits for the engine's answer to.
    pub fn request(&self) -> Option<u64> {
        match self {
            ControlCommand::Reload { request }
            | ControlCommand::Model { request, .. }
            | ControlCommand::Manage { request, .. } => Some(*request),
            _ => None,
        }
    }
}
