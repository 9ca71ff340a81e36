//! The activity log `/activity` serves: the latest rows, shared with the HTTP server, which
//! filters them per request; and the strategies' current names, shared the same way.

use std::collections::VecDeque;

use crate::types::UnixNanos;

/// Most activity rows kept for `/activity` (the database keeps them all).
pub const ACTIVITY_KEPT: usize = 10_000;

/// The strategies' current names by `StrategyId`, shared with the HTTP server (a bot
/// created in a slot renames it).
pub type Names = std::sync::Arc<parking_lot::RwLock<Vec<String>>>;

/// `Names` holding `names`.
pub fn names(names: Vec<String>) -> Names {
    std::sync::Arc::new(parking_lot::RwLock::new(names))
}

/// The latest activity rows, shared with the HTTP server, which filters them per request.
#[derive(Debug, Clone, Default)]
pub struct ActivityLog(
    std::sync::Arc<parking_lot::Mutex<VecDeque<crate::status::snapshot::ActivityRow>>>,
);

impl ActivityLog {
    pub fn push(&self, row: crate::status::snapshot::ActivityRow) {
        let mut log = self.0.lock();
        if log.len() == ACTIVITY_KEPT {
            log.pop_front();
        }
        log.push_back(row);
    }

    /// `/activity`: rows matching the filters, newest first, `offset` skipped, at most
    /// `limit`; and how many matched in all.
    pub fn query(
        &self,
        level: Option<&str>,
        source: Option<&str>,
        since: Option<UnixNanos>,
        limit: usize,
        offset: usize,
    ) -> (usize, Vec<crate::status::snapshot::ActivityRow>) {
        let log = self.0.lock();
        let rank = |l: &str| match l {
            "error" => 2,
            "warn" => 1,
            _ => 0,
        };
        let matching = log.iter().rev().filter(|r| {
            level.is_none_or(|l| rank(r.level) >= rank(l))
                && source.is_none_or(|s| r.source == s)
                && since.is_none_or(|t| r.at >= t)
        });
        let total = matching.clone().count();
        (total, matching.skip(offset).take(limit).cloned().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::snapshot::ActivityRow;

    fn row(at: u64, level: &'static str, source: &str) -> ActivityRow {
        ActivityRow {
            at: UnixNanos(at),
            level,
            source: source.into(),
            message: format!("{source} at {at}"),
        }
    }

    #[test]
    fn queries_filter_by_level_source_and_time_newest_first_in_pages() {
        let log = ActivityLog::default();
        log.push(row(1, "info", "a"));
        log.push(row(2, "warn", "b"));
        log.push(row(3, "error", "a"));
        log.push(row(4, "info", "a"));
        let at = |rows: Vec<ActivityRow>| rows.iter().map(|r| r.at.0).collect::<Vec<_>>();
        let (n, rows) = log.query(None, None, None, 10, 0);
        assert_eq!((n, at(rows)), (4, vec![4, 3, 2, 1]));
        let (n, rows) = log.query(Some("warn"), None, None, 10, 0);
        assert_eq!((n, at(rows)), (2, vec![3, 2]), "warn and worse");
        let (n, rows) = log.query(None, Some("a"), Some(UnixNanos(2)), 10, 0);
        assert_eq!((n, at(rows)), (2, vec![4, 3]));
        let (n, rows) = log.query(None, None, None, 2, 1);
        assert_eq!(
            (n, at(rows)),
            (4, vec![3, 2]),
            "the total counts every match"
        );
    }

    #[test]
    fn the_log_keeps_the_latest_rows() {
        let log = ActivityLog::default();
        for i in 0..(ACTIVITY_KEPT as u64 + 5) {
            log.push(row(i, "info", "x"));
        }
        let (n, rows) = log.query(None, None, None, 1, 0);
        assert_eq!(n, ACTIVITY_KEPT);
        assert_eq!(rows[0].at.0, ACTIVITY_KEPT as u64 + 4);
    }
}
