//! What is measured: the `Measurement` kinds, their stable names, and the histogram shape
//! every measurement shares (nanoseconds, 3 significant digits, saturating at a fixed max).

use std::fmt;

use hdrhistogram::Histogram;

/// Lowest value a histogram tells apart: 1 ns.
pub const LOWEST_NS: u64 = 1;
/// Highest value a histogram tracks: 60 s. Larger samples are recorded as this value
/// (saturated), never rejected; a lag of a minute already means "defensive".
pub const HIGHEST_NS: u64 = 60_000_000_000;
/// Significant decimal digits kept for every value (0.1% relative error).
pub const SIGFIG: u8 = 3;

/// A latency the engine measures, per venue. Values are always nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Measurement {
    /// Receive time minus the exchange's event time, corrected by the venue clock offset.
    FeedLag = 0,
    /// Round trip of the low-priority REST probe of the venue's cheapest endpoint.
    RestRtt,
    /// An order's bytes written → the venue's first answer read (accepted, traded, ended or
    /// rejected; query answers do not count).
    OrderAck,
    /// A cancel's bytes written (the last write, if resent) → the venue's confirmation that
    /// the order is cancelled read.
    CancelAck,
    /// A market frame read → the bytes of the order it caused written.
    TickToOrder,
    /// Internal stage: frame read → frame parsed (not recorded separately yet: the feed
    /// records `StageBook` from the frame's read instant, parse included).
    StageParse,
    /// Internal stage: frame read → book updated and published (parse included).
    StageBook,
    /// Internal stage: the strategy called for a new book → the intents it sent (its
    /// decision time; recorded only for calls that sent intents).
    StageStrategy,
    /// Internal stage: intent taken by the gateway → pre-trade checks passed (grid, risk).
    StageRisk,
    /// Internal stage: checks passed → order encoded, signed and written.
    StageEncode,
    /// A market frame read → the bytes of the first order of the gateway's burst it caused
    /// written (`TickToOrder` records every order of the burst).
    TickToFirstOrder,
}

impl Measurement {
    /// Number of kinds; per-measurement tables are arrays of this length.
    pub const COUNT: usize = 11;

    /// Every kind, in index order.
    pub const ALL: [Measurement; Self::COUNT] = [
        Measurement::FeedLag,
        Measurement::RestRtt,
        Measurement::OrderAck,
        Measurement::CancelAck,
        Measurement::TickToOrder,
        Measurement::StageParse,
        Measurement::StageBook,
        Measurement::StageStrategy,
        Measurement::StageRisk,
        Measurement::StageEncode,
        Measurement::TickToFirstOrder,
    ];

    /// Dense index, `0..COUNT`.
    #[inline]
    pub const fn index(self) -> usize {
        self as usize
    }

    /// Stable snake_case name used in file names, logs and metrics.
    pub const fn as_str(self) -> &'static str {
        match self {
            Measurement::FeedLag => "feed_lag",
            Measurement::RestRtt => "rest_rtt",
            Measurement::OrderAck => "order_ack",
            Measurement::CancelAck => "cancel_ack",
            Measurement::TickToOrder => "tick_to_order",
            Measurement::StageParse => "stage_parse",
            Measurement::StageBook => "stage_book",
            Measurement::StageStrategy => "stage_strategy",
            Measurement::StageRisk => "stage_risk",
            Measurement::StageEncode => "stage_encode",
            Measurement::TickToFirstOrder => "tick_to_first_order",
        }
    }

    /// The kind with this name (`as_str`), if any.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == name)
    }
}

impl fmt::Display for Measurement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A histogram of the shared shape: fixed bounds, no auto-resize, so recording never
/// allocates. Allocation happens here, at start.
pub fn new_histogram() -> Histogram<u64> {
    match Histogram::new_with_bounds(LOWEST_NS, HIGHEST_NS, SIGFIG) {
        Ok(h) => h,
        // The bounds are constants that the crate accepts (see the test below).
        Err(e) => unreachable!("invalid constant histogram bounds: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_indices_are_dense() {
        for (i, m) in Measurement::ALL.into_iter().enumerate() {
            assert_eq!(m.index(), i);
            assert_eq!(Measurement::from_name(m.as_str()), Some(m));
        }
        assert_eq!(Measurement::from_name("nope"), None);
    }

    #[test]
    fn shared_histogram_shape_saturates_instead_of_growing() {
        let mut h = new_histogram();
        assert!(!h.is_auto_resize());
        let len_before = h.distinct_values();
        h.saturating_record(HIGHEST_NS * 10);
        h.saturating_record(0);
        assert_eq!(
            h.distinct_values(),
            len_before,
            "recording must never resize"
        );
        assert!(h.equivalent(h.max(), HIGHEST_NS));
        assert_eq!(h.len(), 2);
        assert!(
            h.record(HIGHEST_NS * 10).is_err(),
            "the non-saturating path refuses instead"
        );
    }
}
