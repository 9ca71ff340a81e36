//! Funding of perpetual positions in a backtest, at the instrument's funding times
//! (`funding_interval` from 00:00 UTC, 8 h by default) on recording time: each strategy's
//! position at that time × the mark × the rate (`Contract::funding`: longs pay shorts when the
//! rate is positive), booked into risk (`on_funding`, so PnL and the day's loss carry it) and
//! kept as a funding row.
//!
//! Which rate and mark: the **recording's**, when the venue's codec publishes marks with a
//! funding rate beside the book (Bybit linear `tickers`, Delta `mark_price`/`funding_rate`,
//! CoinDCX; the cache's `mark`); else, when `[backtest] funding_rate` is set, **that rate at the
//! book's mid**; else the funding time passes unpaid and is counted (`funding_skipped`): a rate
//! is never made up. Spot instruments never fund.

use crate::book::CacheReader;
use crate::persist::FundingRecord;
use crate::risk::RiskEngine;
use crate::types::perp::next_funding_ms;
use crate::types::{
    Contract, FundingRate, Instrument, InstrumentId, Price, Qty, StrategyId, UnixNanos, VenueId,
};

/// One perpetual of the run.
#[derive(Debug, Clone)]
struct Perp {
    id: InstrumentId,
    venue: VenueId,
    contract: Contract,
    interval_ms: u64,
    next_ms: u64,
}

/// The run's perpetuals and what they paid.
#[derive(Debug, Clone)]
pub struct Funding {
    perps: Vec<Perp>,
    /// `[backtest] funding_rate`, used only where the recording gives no rate.
    fallback: Option<FundingRate>,
    /// The earliest next funding time, ms (`u64::MAX`: none).
    next_ms: u64,
    /// Every payment, in order.
    pub rows: Vec<FundingRecord>,
    /// Funding times passed with a position open and no rate to pay it at.
    pub skipped: u64,
    /// Payments at the recording's rate and at the configured one.
    pub recorded: u64,
    pub configured: u64,
}

impl Funding {
    /// The perpetuals among `instruments`, their first funding time after `start`.
    pub fn new(
        instruments: &[Instrument],
        fallback: Option<FundingRate>,
        start: UnixNanos,
    ) -> Self {
        let perps: Vec<Perp> = instruments
            .iter()
            .filter(|i| i.contract.kind.is_perpetual())
            .map(|i| {
                let interval_ms = i.margin.map_or(8 * 3_600_000, |m| m.funding_interval_ms);
                Perp {
                    id: i.id,
                    venue: i.venue,
                    contract: i.contract,
                    interval_ms,
                    next_ms: next_funding_ms(start.as_millis(), interval_ms),
                }
            })
            .collect();
        let next_ms = perps.iter().map(|p| p.next_ms).min().unwrap_or(u64::MAX);
        Self {
            perps,
            fallback,
            next_ms,
            rows: Vec::new(),
            skipped: 0,
            recorded: 0,
            configured: 0,
        }
    }

    /// Whether the run has a perpetual (the report shows funding then).
    pub fn any(&self) -> bool {
        !self.perps.is_empty()
    }

    /// Whether a funding time has come by `t` (one compare per event).
    #[inline]
    pub fn due(&self, t: UnixNanos) -> bool {
        t.as_millis() >= self.next_ms
    }

    /// Pays every funding time up to `t`; new rows are appended to `rows` (and returned as
    /// the range of them).
    pub fn settle(
        &mut self,
        t: UnixNanos,
        risk: &mut RiskEngine,
        cache: &CacheReader,
        strategies: &[(StrategyId, InstrumentId)],
    ) -> std::ops::Range<usize> {
        let from = self.rows.len();
        let now_ms = t.as_millis();
        for k in 0..self.perps.len() {
            while now_ms >= self.perps[k].next_ms {
                let p = self.perps[k].clone();
                self.perps[k].next_ms = next_funding_ms(p.next_ms, p.interval_ms);
                self.pay(&p, risk, cache, strategies);
            }
        }
        self.next_ms = self
            .perps
            .iter()
            .map(|p| p.next_ms)
            .min()
            .unwrap_or(u64::MAX);
        from..self.rows.len()
    }

    fn pay(
        &mut self,
        p: &Perp,
        risk: &mut RiskEngine,
        cache: &CacheReader,
        strategies: &[(StrategyId, InstrumentId)],
    ) {
        let m = cache.mark(p.id);
        let top = cache.top(p.id);
        let (mark, rate, recorded) = if m.seq > 0 && m.mark.is_positive() {
            (m.mark, m.funding_rate, true)
        } else {
            let mid = top
                .valid
                .then(|| Price::from_units((top.bid.price.units() + top.ask.price.units()) / 2));
            match (mid, self.fallback) {
                (Some(mid), Some(rate)) => (mid, rate, false),
                _ => {
                    let open = strategies.iter().any(|(s, i)| {
                        *i == p.id && risk.position_of(*s, *i).is_some_and(|x| x.qty != 0)
                    });
                    self.skipped += u64::from(open);
                    return;
                }
            }
        };
        for (s, i) in strategies {
            if *i != p.id {
                continue;
            }
            let qty = risk.position_of(*s, *i).map_or(0, |x| x.qty);
            if qty == 0 {
                continue;
            }
            let paid = p.contract.funding(qty, mark, rate);
            risk.on_funding(*s, *i, paid);
            if recorded {
                self.recorded += 1;
            } else {
                self.configured += 1;
            }
            self.rows.push(FundingRecord {
                venue: p.venue,
                strategy: *s,
                instrument: *i,
                qty: Qty::from_units(qty),
                mark,
                rate,
                paid,
                at: UnixNanos(p.next_ms.saturating_mul(1_000_000)),
            });
        }
    }
}
