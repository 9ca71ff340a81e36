//! Equity, position, price and the strategy's quotes, sampled on recording time.

use crate::book::CacheReader;
use crate::types::{InstrumentId, Price, StrategyId, UnixNanos};

use super::driver::{CURVE_NS, SAMPLE_NS, Sample};
use super::exchange::Exchange;

/// Equity and position, sampled on recording time: every minute (the report's figures) and
/// every second (the plots).
pub(super) struct Accounts {
    pub(super) samples: Vec<Sample>,
    pub(super) next_sample: UnixNanos,
    pub(super) curve: Vec<Sample>,
    pub(super) next_curve: UnixNanos,
}

impl Accounts {
    pub(super) fn new(first: UnixNanos) -> Self {
        Self {
            samples: Vec::with_capacity(4096),
            next_sample: first,
            curve: Vec::with_capacity(4096),
            next_curve: first,
        }
    }

    fn mid(reader: &CacheReader, id: InstrumentId) -> Option<Price> {
        let t = reader.top(id);
        t.valid
            .then(|| Price::from_units((t.bid.price.units() + t.ask.price.units()) / 2))
    }

    /// (realised before fees, unrealised at the mid, quote fees, funding paid, net
    /// position), summed.
    pub(super) fn totals(
        &self,
        ex: &Exchange,
        reader: &CacheReader,
        strategies: &[(StrategyId, InstrumentId)],
    ) -> (f64, f64, f64, f64, f64) {
        let mut out = (0.0, 0.0, 0.0, 0.0, 0.0);
        for (s, i) in strategies {
            if let Some(p) = ex.risk().position_of(*s, *i) {
                let scale = crate::types::Notional::SCALE as f64;
                out.0 += p.realized as f64 / scale;
                out.1 += Self::mid(reader, *i).map_or(0.0, |m| p.unrealized(m) as f64 / scale);
                out.2 += p.quote_fees as f64 / 1e8;
                out.3 += p.funding as f64 / scale;
                out.4 += p.qty as f64 / 1e8;
            }
        }
        out
    }

    pub(super) fn sample(
        &mut self,
        t: UnixNanos,
        ex: &Exchange,
        reader: &CacheReader,
        strategies: &[(StrategyId, InstrumentId)],
        main: InstrumentId,
        last: bool,
    ) {
        let (r, u, f, funding, pos) = self.totals(ex, reader, strategies);
        let mid = Self::mid(reader, main).map_or(f64::NAN, |m| m.to_f64());
        let (bq, aq) = ex.quotes(main);
        let s = Sample {
            at: t,
            equity: r + u - f - funding,
            position: pos,
            mid,
            bid_quote: bq.map_or(f64::NAN, |p| p.to_f64()),
            ask_quote: aq.map_or(f64::NAN, |p| p.to_f64()),
        };
        self.next_curve = UnixNanos(t.0 - t.0 % CURVE_NS + CURVE_NS);
        if last || self.curve.last().is_none_or(|l| l.at != t) {
            self.curve.push(s);
        }
        // The run's last sample is always taken.
        if last || t >= self.next_sample {
            self.next_sample = UnixNanos(t.0 - t.0 % SAMPLE_NS + SAMPLE_NS);
            self.samples.push(s);
        }
    }
}
