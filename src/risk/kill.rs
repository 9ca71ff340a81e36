//! The kill switch: any component or the operator trips it; the gateway then cancels every
//! open order and refuses new ones until it is reset by the operator.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};

/// Why the switch was tripped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum KillReason {
    None = 0,
    Operator = 1,
    DailyLoss = 2,
    PersistenceDown = 3,
    VenueBanned = 4,
    Fatal = 5,
}

impl KillReason {
    fn from_u8(v: u8) -> Self {
        match v {
            1 => Self::Operator,
            2 => Self::DailyLoss,
            3 => Self::PersistenceDown,
            4 => Self::VenueBanned,
            5 => Self::Fatal,
            _ => Self::None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Operator => "operator",
            Self::DailyLoss => "daily_loss",
            Self::PersistenceDown => "persistence_down",
            Self::VenueBanned => "venue_banned",
            Self::Fatal => "fatal",
        }
    }
}

/// Shared by every component that may trip it or must obey it. Cloning shares the switch.
#[derive(Clone, Debug, Default)]
pub struct KillSwitch {
    tripped: Arc<AtomicBool>,
    reason: Arc<AtomicU8>,
}

impl KillSwitch {
    /// Trips the switch; the first reason is kept.
    pub fn trip(&self, reason: KillReason) {
        let _ = self
            .reason
            .compare_exchange(0, reason as u8, Ordering::AcqRel, Ordering::Acquire);
        // Release: the reason is visible to whoever sees the switch tripped.
        self.tripped.store(true, Ordering::Release);
    }

    #[inline]
    pub fn is_tripped(&self) -> bool {
        self.tripped.load(Ordering::Acquire)
    }

    pub fn reason(&self) -> KillReason {
        KillReason::from_u8(self.reason.load(Ordering::Acquire))
    }

    /// Operator reset.
    pub fn reset(&self) {
        self.tripped.store(false, Ordering::Release);
        self.reason.store(0, Ordering::Release);
    }
}
