//! The band board: the current band of every venue, published lock-free by the latency
//! monitor and read by strategies on hot threads.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};

use crate::types::VenueId;

use super::bands::{Band, BandTable};

/// `statistic_ns` value meaning "no fresh measurement".
const NO_STATISTIC: u64 = u64::MAX;

#[derive(Debug)]
struct Inner {
    table: BandTable,
    /// Band index per venue (`VenueId` order).
    current: Box<[AtomicU8]>,
    /// The statistic behind the current band, per venue; `NO_STATISTIC` when stale.
    statistic_ns: Box<[AtomicU64]>,
    /// Band changes published so far, all venues.
    changes: AtomicU64,
}

/// Cloneable handle on the current band per venue. Reads are one atomic load.
///
/// Ordering: the band table is immutable and published with the `Arc`, so the per-venue
/// index needs no ordering with anything else; loads and stores are `Relaxed`. A reader
/// sees a new band within the cache-coherence delay of the monitor's store.
#[derive(Debug, Clone)]
pub struct BandBoard {
    inner: Arc<Inner>,
}

impl BandBoard {
    /// Every venue starts in the defensive band: nothing has been measured yet.
    pub fn new(table: BandTable, venues: usize) -> Self {
        let defensive = table.defensive();
        Self {
            inner: Arc::new(Inner {
                table,
                current: (0..venues).map(|_| AtomicU8::new(defensive)).collect(),
                statistic_ns: (0..venues).map(|_| AtomicU64::new(NO_STATISTIC)).collect(),
                changes: AtomicU64::new(0),
            }),
        }
    }

    pub fn table(&self) -> &BandTable {
        &self.inner.table
    }

    pub fn venues(&self) -> usize {
        self.inner.current.len()
    }

    /// Index of the venue's current band (the defensive band for an unknown venue).
    #[inline]
    pub fn band_index(&self, venue: VenueId) -> u8 {
        self.inner
            .current
            .get(venue.index())
            .map_or(self.inner.table.defensive(), |a| a.load(Ordering::Relaxed))
    }

    /// The venue's current band.
    #[inline]
    pub fn band(&self, venue: VenueId) -> &Band {
        let t = &self.inner.table;
        match t.get(self.band_index(venue)) {
            Some(b) => b,
            // Indices come from the table; the table is never empty (BandTable::from_config).
            None => &t.bands()[t.bands().len() - 1],
        }
    }

    /// The statistic behind the venue's band, ns; `None` while it has no fresh measurement.
    pub fn statistic_ns(&self, venue: VenueId) -> Option<u64> {
        let v = self
            .inner
            .statistic_ns
            .get(venue.index())?
            .load(Ordering::Relaxed);
        (v != NO_STATISTIC).then_some(v)
    }

    /// Band changes published so far (all venues).
    pub fn changes(&self) -> u64 {
        self.inner.changes.load(Ordering::Relaxed)
    }

    /// Publishes a venue's band and the statistic behind it. Only the latency monitor
    /// calls this in the engine (tests of other rooms may, to script a band).
    pub fn publish(&self, venue: VenueId, band: u8, statistic_ns: Option<u64>) {
        let band = band.min(self.inner.table.defensive());
        if let Some(s) = self.inner.statistic_ns.get(venue.index()) {
            s.store(statistic_ns.unwrap_or(NO_STATISTIC), Ordering::Relaxed);
        }
        if let Some(c) = self.inner.current.get(venue.index())
            && c.swap(band, Ordering::Relaxed) != band
        {
            self.inner.changes.fetch_add(1, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::BandConfig;
    use std::time::Duration;

    fn board() -> BandBoard {
        let b = |name: &str, ms: Option<u64>| BandConfig {
            name: name.into(),
            max_latency: ms.map(Duration::from_millis),
            min_spread_bps: 5,
            size_multiplier: 0.5,
            throttle: Duration::from_millis(10),
        };
        BandBoard::new(
            BandTable::from_config(&[b("fast", Some(10)), b("slow", None)]).unwrap(),
            2,
        )
    }

    #[test]
    fn starts_defensive_and_clones_see_publications() {
        let w = board();
        let r = w.clone();
        assert_eq!(r.band(VenueId(0)).name, "slow");
        assert_eq!(r.statistic_ns(VenueId(0)), None);
        w.publish(VenueId(0), 0, Some(5_000));
        assert_eq!(r.band(VenueId(0)).name, "fast");
        assert_eq!(r.statistic_ns(VenueId(0)), Some(5_000));
        assert_eq!(r.band_index(VenueId(1)), 1, "other venue untouched");
        assert_eq!(r.changes(), 1);
        w.publish(VenueId(0), 0, Some(6_000));
        assert_eq!(r.changes(), 1, "same band again is not a change");
    }

    #[test]
    fn unknown_venue_and_out_of_range_band_read_as_defensive() {
        let w = board();
        assert_eq!(w.band(VenueId(9)).name, "slow");
        assert_eq!(w.statistic_ns(VenueId(9)), None);
        w.publish(VenueId(9), 0, None); // ignored, no panic
        w.publish(VenueId(1), 200, None);
        assert_eq!(w.band_index(VenueId(1)), 1);
    }

    #[test]
    fn readers_on_other_threads_see_the_new_band() {
        let w = board();
        let r = w.clone();
        let t = std::thread::spawn(move || {
            // Generous bound; the test never depends on how fast the store is seen.
            let deadline = std::time::Instant::now() + Duration::from_secs(30);
            while r.band_index(VenueId(1)) != 0 {
                assert!(
                    std::time::Instant::now() < deadline,
                    "publication never seen"
                );
                std::thread::yield_now();
            }
            r.band(VenueId(1)).name.clone()
        });
        w.publish(VenueId(1), 0, Some(1));
        assert_eq!(t.join().unwrap(), "fast");
    }
}
