//! What an error answer of the WebSocket API tells the gateway, for both of the session's
//! decoders (the typed fast path and the `serde_json::Value` path): a ban, a rate limit and
//! its pause, and each order's fate (refused, or unknown and to be queried).

use crate::types::order::OrderEvent;
use crate::types::{ClientOrderId, UnixNanos};
use crate::venue::order::{Purpose, SessionEvent, VenueError};

use super::replace;

/// The events of an error answer (`status`, the venue's `code` and `msg`) to a request for
/// `purpose` other than a cancel-replace. Both decoders use it; the message is copied only
/// into the events that carry it.
pub(super) fn error_events(
    purpose: Purpose,
    status: u16,
    code: i32,
    msg: &str,
    at: UnixNanos,
    out: &mut Vec<SessionEvent>,
) {
    error_head((status, code, msg), out);
    // Unknown outcome: the venue may or may not have acted.
    // -1015 (too many new orders) refuses the order itself: not unknown.
    let uncertain =
        status >= 500 || code == -1007 || ((status == 429 || status == 418) && code != -1015);
    let error = || VenueError {
        code,
        msg: msg.to_owned(),
    };
    out.push(match purpose {
        Purpose::Place(cid) if uncertain => SessionEvent::Uncertain { cid },
        Purpose::Place(cid) => SessionEvent::PlaceRejected {
            cid,
            error: error(),
        },
        Purpose::Cancel(cid) if uncertain => SessionEvent::Uncertain { cid },
        Purpose::Cancel(cid) => SessionEvent::CancelRejected {
            cid,
            error: error(),
        },
        Purpose::Status(cid) if code == -2013 => SessionEvent::NotFound { cid },
        Purpose::Status(cid) => SessionEvent::Uncertain { cid },
        Purpose::Amend(cid) if uncertain => SessionEvent::Uncertain { cid },
        Purpose::Amend(cid) => SessionEvent::Order {
            cid,
            event: OrderEvent::AmendRejected { code, at },
        },
        p => SessionEvent::Failed {
            purpose: p,
            error: error(),
        },
    });
}

/// What any error answer tells first, `(status, code, msg)` its error: a ban, a rate limit.
pub(super) fn error_head((status, code, msg): (u16, i32, &str), out: &mut Vec<SessionEvent>) {
    if status == 418 {
        out.push(SessionEvent::Banned);
    }
    if status == 429 || code == -1003 || code == -1015 {
        out.push(SessionEvent::RateLimited {
            retry_after_ms: pause_ms(code, msg),
        });
    }
}

/// A cancel-replace refused as a whole (an error without `data`): both orders uncertain
/// after a 5xx or a timeout, else both refused.
pub(super) fn replace_refused(
    old: ClientOrderId,
    new: ClientOrderId,
    (status, code, msg): (u16, i32, &str),
    out: &mut Vec<SessionEvent>,
) {
    let uncertain = status >= 500 || code == -1007;
    let error = VenueError {
        code,
        msg: msg.to_owned(),
    };
    replace::cancel_replace_refused(old, new, error, uncertain, out);
}

/// How long new orders wait after a rate-limit answer: for -1015 (too many new orders) the
/// interval its message names ("… current limit is 50 orders per 10 SECOND.": the window may
/// stay full that long), at most a minute (a DAY limit is hit again then); else 1 s.
pub(super) fn pause_ms(code: i32, msg: &str) -> u64 {
    const DEFAULT_MS: u64 = 1_000;
    const ORDERS_WINDOW_MS: u64 = 10_000;
    if code != -1015 {
        return DEFAULT_MS;
    }
    let named = msg.rsplit_once(" per ").and_then(|(_, tail)| {
        let mut words = tail.split_whitespace();
        let n = words.next()?.parse::<u64>().ok()?;
        let unit_ms = match words.next()?.trim_end_matches('.') {
            "SECOND" => 1_000,
            "MINUTE" | "HOUR" | "DAY" => 60_000,
            _ => return None,
        };
        Some(n.saturating_mul(unit_ms))
    });
    named.unwrap_or(ORDERS_WINDOW_MS).clamp(DEFAULT_MS, 60_000)
}
