//! Keeping the hot cores to the hot hosts. A host pinned to a core with `priority = "hot"`
//! reserves that core for the process ([`reserve_hot`], before any thread starts); every other
//! thread the engine starts — low-priority hosts, the REST workers, the status server, the
//! notifier, the snapshot fetcher — calls [`keep_off_hot`] first and runs on the remaining
//! cores only. Without a pinned hot host (the default layout) nothing changes. If the hot
//! cores are all the cores there are, the others stay where they are (they must run
//! somewhere) and say so once.
//!
//! The kernel still runs its own work and other processes on a hot core; `isolcpus` or
//! cgroups do that, outside mako.

use std::sync::Mutex;

static HOT: Mutex<Vec<usize>> = Mutex::new(Vec::new());

/// Declares the cores the pinned hot hosts will run on (replacing earlier declarations).
pub fn reserve_hot(cores: &[usize]) {
    if let Ok(mut h) = HOT.lock() {
        h.clear();
        h.extend_from_slice(cores);
        h.sort_unstable();
        h.dedup();
    }
}

/// The cores reserved for hot hosts.
pub fn hot_cores() -> Vec<usize> {
    HOT.lock().map(|h| h.clone()).unwrap_or_default()
}

/// Moves the calling thread off the reserved hot cores, onto every other core it may run on.
/// Returns the cores it now runs on, or `None` if nothing was reserved or nothing is left.
pub fn keep_off_hot(thread: &str) -> Option<Vec<usize>> {
    keep_off(&hot_cores(), thread)
}

/// Moves the calling thread off `hot`, onto the other cores it may run on.
fn keep_off(hot: &[usize], thread: &str) -> Option<Vec<usize>> {
    if hot.is_empty() {
        return None;
    }
    let allowed = match rustix::thread::sched_getaffinity(None) {
        Ok(set) => set,
        Err(e) => {
            tracing::debug!(thread, error = %e, "cannot read the thread's cores");
            return None;
        }
    };
    let mut rest = rustix::thread::CpuSet::new();
    let mut cores = Vec::new();
    for c in 0..rustix::thread::CpuSet::MAX_CPU {
        if allowed.is_set(c) && !hot.contains(&c) {
            rest.set(c);
            cores.push(c);
        }
    }
    if cores.is_empty() {
        tracing::warn!(
            thread,
            ?hot,
            "every core this thread may use is a hot host's: it shares them"
        );
        return None;
    }
    match rustix::thread::sched_setaffinity(None, &rest) {
        Ok(()) => Some(cores),
        Err(e) => {
            tracing::warn!(thread, error = %e, "could not keep the thread off the hot cores");
            None
        }
    }
}

/// Involuntary context switches of the calling thread so far (Linux: `/proc/thread-self`),
/// the count of times the scheduler took its core away from it.
pub fn involuntary_switches() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/thread-self/status").ok()?;
    s.lines()
        .find_map(|l| l.strip_prefix("nonvoluntary_ctxt_switches:"))
        .and_then(|v| v.trim().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg_attr(miri, ignore)] // sched_getaffinity and /proc are outside Miri
    fn a_thread_moves_off_the_reserved_cores_when_others_remain() {
        let all = rustix::thread::sched_getaffinity(None).unwrap();
        let cores: Vec<usize> = (0..rustix::thread::CpuSet::MAX_CPU)
            .filter(|c| all.is_set(*c))
            .collect();
        let t = std::thread::spawn(move || {
            // Nothing reserved: unchanged.
            let none = keep_off(&[], "test");
            let moved = keep_off(&cores[..1], "test");
            let now = rustix::thread::sched_getaffinity(None).unwrap();
            (none, moved, now.is_set(cores[0]), cores.len())
        });
        let (none, moved, on_hot, n) = t.join().unwrap();
        assert_eq!(none, None);
        if n > 1 {
            assert!(!on_hot, "the thread left the reserved core");
            assert_eq!(moved.map(|m| m.len()), Some(n - 1));
        } else {
            // One core only: the thread stays on it.
            assert_eq!(moved, None);
            assert!(on_hot);
        }
        assert!(involuntary_switches().is_some());
    }
}
