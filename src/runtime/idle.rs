//! Idle policies: what a host thread does when none of its actors had work.

/// How a host waits when a pass over its actors found nothing to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdlePolicy {
    /// Busy-poll: lowest latency, burns the whole core. Only for pinned hosts on spare cores.
    Spin,
    /// Spin briefly, then yield the core, then sleep for short intervals: near-spin latency
    /// while busy, and gives the core back to the OS when quiet. Safe on a 2-core box.
    Backoff,
    /// Sleep in short parks between passes: for low-priority hosts.
    Park,
}

impl IdlePolicy {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "spin" => Some(Self::Spin),
            "backoff" => Some(Self::Backoff),
            "park" => Some(Self::Park),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Spin => "spin",
            Self::Backoff => "backoff",
            Self::Park => "park",
        }
    }
}
