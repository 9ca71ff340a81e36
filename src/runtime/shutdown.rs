//! Shutdown: one flag every host watches, set by SIGINT/SIGTERM, by `--for`, or by any actor
//! that hits an unrecoverable error.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// A cloneable stop request. Once requested it stays requested.
#[derive(Clone, Debug, Default)]
pub struct Shutdown(Arc<AtomicBool>);

impl Shutdown {
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks every host to run its actors' stop steps and exit.
    pub fn request(&self) {
        // Release: what the requester wrote before asking is visible to hosts that see it.
        self.0.store(true, Ordering::Release);
    }

    #[inline]
    pub fn is_requested(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }

    /// Routes SIGINT and SIGTERM to this flag. A second SIGINT or SIGTERM while shutdown is
    /// already under way exits at once with status 130, for an operator who must not wait.
    pub fn install_signal_handlers(&self) -> std::io::Result<()> {
        use signal_hook::consts::{SIGINT, SIGTERM};
        for sig in [SIGINT, SIGTERM] {
            // Order matters: the conditional exit is registered first so it sees the flag
            // as it was before this signal set it.
            signal_hook::flag::register_conditional_shutdown(sig, 130, Arc::clone(&self.0))?;
            signal_hook::flag::register(sig, Arc::clone(&self.0))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_is_seen_by_clones() {
        let a = Shutdown::new();
        let b = a.clone();
        assert!(!b.is_requested());
        a.request();
        assert!(b.is_requested());
    }
}
