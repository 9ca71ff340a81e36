//! Perpetual positions kept true to the venue, and the leverage they are held at.
//!
//! **Leverage.** Each perpetual's leverage comes from config (`margin`): the gateway sets it
//! on the venue over REST when it starts, and until the venue has confirmed it (the answer,
//! or "not modified") only reduce-only orders go on that instrument. Every position the venue
//! reports carries its leverage: one that differs from config is counted, reported, and
//! stops new exposure again until a report agrees. A codec that cannot set leverage leaves
//! the check to the reports alone.
//!
//! **Positions.** The venue's position in each perpetual (pushed after fills on venues that
//! push it, and asked for in every reconciliation sweep) is compared with the net position
//! risk holds. A report and the engine can disagree for a moment (the position push may
//! overtake the fill's order push, or the push may be lost), so a difference is only suspected
//! at first: every order on the instrument not final here is queried, the position is asked
//! again after the acknowledgement deadline, and if two deadlines on the venue still says the
//! same with no fill learned in between, the drift is real (a liquidation, an auto-deleverage, a trade
//! by hand on the account). It is logged, counted, reported, and corrected from the venue
//! when one strategy holds the instrument here.
//!
//! **Funding.** A funding payment the venue books is shared among the strategies holding the
//! instrument by their size, kept in risk (daily loss counts it) and recorded as a funding row.

use crate::risk::Correction;
use crate::types::{InstrumentId, Qty, Rate, StrategyId, UnixNanos};
use crate::venue::order::{OrderSession, Purpose, VenueError, VenueFunding, VenuePosition};
use crate::venue::rest::RestCodec;

use super::{Gateway, ns};
use crate::gateway::events::GatewayEvent;

/// Where the configured leverage stands with the venue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum LeverageState {
    /// To be set (not sent yet, or sending failed to queue).
    ToSet,
    /// The set-leverage request is out.
    Sent,
    /// The venue holds the configured leverage.
    Confirmed,
    /// The venue refused it, or reported another: no new exposure.
    Differs,
    /// The codec cannot set leverage: position reports alone check it.
    Unmanaged,
}

/// A difference not yet confirmed: the venue's size, and the fills seen when it appeared.
#[derive(Debug, Clone, Copy)]
struct Suspect {
    venue: i64,
    fills: u64,
    /// A report from then on that still says `venue` confirms the drift.
    confirm_after: UnixNanos,
    /// When the position is asked again.
    ask_at: UnixNanos,
}

/// One perpetual of this venue.
#[derive(Debug, Clone)]
pub(super) struct PerpWatch {
    pub(super) instrument: InstrumentId,
    symbol: String,
    leverage: Rate,
    pub(super) state: LeverageState,
    /// Fills on the instrument so far (a report after a new fill is compared afresh).
    fills: u64,
    /// The venue's last reported size.
    last_venue: Option<i64>,
    /// The codec asked for the leverage to be sent again at once (`LEVERAGE_SEND_AGAIN`).
    send_again: bool,
    suspect: Option<Suspect>,
}

/// The perpetuals of `venue` among `instruments`.
pub(super) fn watches(
    instruments: &[crate::types::Instrument],
    venue: crate::types::VenueId,
) -> Vec<PerpWatch> {
    instruments
        .iter()
        .filter(|i| i.venue == venue && i.contract.kind.is_perpetual())
        .filter_map(|i| {
            Some(PerpWatch {
                instrument: i.id,
                symbol: i.symbol.to_string(),
                leverage: i.margin?.leverage,
                state: LeverageState::ToSet,
                fills: 0,
                last_venue: None,
                send_again: false,
                suspect: None,
            })
        })
        .collect()
}

impl<S: OrderSession, C: RestCodec> Gateway<S, C> {
    fn watch_mut(&mut self, symbol: &str) -> Option<&mut PerpWatch> {
        self.perps.iter_mut().find(|w| w.symbol == symbol)
    }

    /// Whether a new order on `instrument` may add exposure: false while a perpetual's
    /// leverage is not known to be the configured one.
    pub(super) fn leverage_allows(&self, instrument: InstrumentId) -> bool {
        self.perps
            .iter()
            .find(|w| w.instrument == instrument)
            .is_none_or(|w| matches!(w.state, LeverageState::Confirmed | LeverageState::Unmanaged))
    }

    /// Sends the configured leverage of every perpetual not set yet (at start, and again
    /// after a request that could not be queued).
    pub(super) fn set_leverages(&mut self, now: UnixNanos) {
        let vms = self.venue_ms(now);
        let Some(rest) = self.rest.as_mut() else {
            for w in &mut self.perps {
                if w.state == LeverageState::ToSet {
                    w.state = LeverageState::Unmanaged;
                }
            }
            return;
        };
        for w in &mut self.perps {
            if w.state != LeverageState::ToSet {
                continue;
            }
            match rest.set_leverage(&w.symbol, w.leverage, now, vms) {
                Some(true) => w.state = LeverageState::Sent,
                Some(false) => {}
                None => w.state = LeverageState::Unmanaged,
            }
        }
    }

    /// A fill on `instrument`: reports after it are compared afresh.
    pub(super) fn note_perp_fill(&mut self, instrument: InstrumentId) {
        if let Some(w) = self.perps.iter_mut().find(|w| w.instrument == instrument) {
            w.fills += 1;
            w.suspect = None;
        }
    }

    /// The perpetuals as the snapshot shows them.
    pub(super) fn perp_views(&self) -> Vec<crate::gateway::snapshot::PerpView> {
        self.perps
            .iter()
            .map(|w| crate::gateway::snapshot::PerpView {
                instrument: w.instrument,
                symbol: w.symbol.clone(),
                engine: self.risk.net_position(w.instrument),
                venue: w.last_venue,
                leverage_ok: self.leverage_allows(w.instrument),
                funding_paid: self.risk.funding_paid(w.instrument),
            })
            .collect()
    }

    /// The perpetuals' symbols, for the sweep's position queries.
    pub(super) fn perp_symbols(&self) -> Vec<String> {
        self.perps.iter().map(|w| w.symbol.clone()).collect()
    }

    pub(super) fn on_leverage_set(&mut self, symbol: &str, leverage: Rate) {
        let name = self.name.clone();
        if let Some(w) = self.watch_mut(symbol)
            && leverage == w.leverage
        {
            w.state = LeverageState::Confirmed;
            tracing::info!(gateway = %name, symbol, %leverage, "leverage set");
        }
    }

    /// A set-leverage request failed: the venue's leverage is not the configured one.
    pub(super) fn on_leverage_failed(&mut self, purpose: &Purpose, error: &VenueError) {
        let Purpose::SetLeverage { symbol, leverage } = purpose else {
            return;
        };
        let name = self.name.clone();
        if error.code == crate::venue::order::LEVERAGE_SEND_AGAIN {
            // The codec learned what the request needed (a product id): sent again at the
            // next deadline check, not at the next sweep.
            if let Some(w) = self.watch_mut(symbol) {
                w.state = LeverageState::ToSet;
                w.send_again = true;
            }
            return;
        }
        if error.code == 0 {
            // No answer: whether it was set is unknown; it is sent again at the next sweep
            // (and a position report may confirm it meanwhile).
            if let Some(w) = self.watch_mut(symbol) {
                w.state = LeverageState::ToSet;
            }
            return;
        }
        if let Some(w) = self.watch_mut(symbol) {
            w.state = LeverageState::Differs;
            tracing::error!(gateway = %name, symbol, %leverage, code = error.code, msg = %error.msg,
                "the venue refused the configured leverage: only reduce-only orders on this instrument");
        }
        self.counters.leverage_mismatches += 1;
    }

    /// A position as the venue reports it.
    pub(super) fn on_position(&mut self, p: VenuePosition, now: UnixNanos) {
        let deadline = ns(self.options.ack_deadline);
        let Some(k) = self.perps.iter().position(|w| w.symbol == p.symbol) else {
            return;
        };
        self.counters.position_reports += 1;
        if let Some(l) = p.leverage {
            let w = &mut self.perps[k];
            let agrees = l == w.leverage;
            match (agrees, w.state) {
                (true, LeverageState::Differs) => w.state = LeverageState::Confirmed,
                (false, LeverageState::Differs | LeverageState::Sent) => {}
                (false, _) => {
                    w.state = LeverageState::Differs;
                    self.counters.leverage_mismatches += 1;
                    tracing::error!(gateway = %self.name, symbol = %p.symbol, venue = %l, config = %w.leverage,
                        "the venue holds another leverage than configured: only reduce-only orders on this instrument");
                }
                (true, _) => {}
            }
        }
        self.perps[k].last_venue = Some(p.size);
        let w = &self.perps[k];
        let instrument = w.instrument;
        let engine = self.risk.net_position(instrument);
        if engine == p.size {
            self.perps[k].suspect = None;
            return;
        }
        let fills = w.fills;
        match w.suspect {
            Some(s) if s.venue == p.size && s.fills == fills && now >= s.confirm_after => {
                self.perps[k].suspect = None;
                self.drift(instrument, engine, p, now);
            }
            Some(s) if s.venue == p.size && s.fills == fills => {}
            _ => {
                // A fill whose push was lost would explain it: every order on the instrument
                // not final here is asked now, and the drift is confirmed only after two
                // deadlines without a fill learned meanwhile.
                let open: Vec<crate::types::ClientOrderId> = self
                    .table
                    .iter()
                    .filter(|o| o.instrument == instrument && !o.status.is_final())
                    .map(|o| o.cid)
                    .collect();
                for cid in open {
                    self.chase.entry(cid).or_default().query_now = true;
                }
                self.perps[k].suspect = Some(Suspect {
                    venue: p.size,
                    fills,
                    confirm_after: now.plus_nanos(2 * deadline),
                    ask_at: now.plus_nanos(deadline),
                });
            }
        }
    }

    /// A confirmed difference: corrected from the venue where it can be attributed.
    fn drift(&mut self, instrument: InstrumentId, engine: i64, p: VenuePosition, now: UnixNanos) {
        self.counters.position_drifts += 1;
        let c = self.risk.correct_position(instrument, p.size, p.entry);
        let corrected = matches!(c, Correction::Corrected { .. });
        tracing::error!(gateway = %self.name, symbol = %p.symbol, engine = %Qty::from_units(engine),
            venue = %Qty::from_units(p.size), corrected, "position drifted from the venue's");
        self.telemetry.emit(GatewayEvent::PositionDrift {
            venue: self.venue.id,
            instrument,
            engine,
            venue_size: p.size,
            corrected,
            at: now,
        });
    }

    /// Asks again for the positions whose difference awaits confirmation.
    pub(super) fn recheck_positions(&mut self, now: UnixNanos) {
        if self.perps.iter().any(|w| w.send_again) {
            for w in &mut self.perps {
                w.send_again = false;
            }
            self.set_leverages(now);
        }
        let deadline = ns(self.options.ack_deadline);
        let due: Vec<String> = self
            .perps
            .iter_mut()
            .filter_map(|w| {
                let s = w.suspect.as_mut().filter(|s| now >= s.ask_at)?;
                // Asked once per deadline: the answer is compared when it comes.
                s.ask_at = now.plus_nanos(deadline);
                Some(w.symbol.clone())
            })
            .collect();
        if due.is_empty() {
            return;
        }
        let vms = self.venue_ms(now);
        if let Some(r) = self.rest.as_mut() {
            r.positions(&due, now, vms);
        }
    }

    /// A funding payment: shared among the holders by size, into risk and the funding rows.
    pub(super) fn on_funding(&mut self, f: VenueFunding) {
        let Some(w) = self.perps.iter().find(|w| w.symbol == f.symbol) else {
            return;
        };
        let instrument = w.instrument;
        self.counters.funding_payments += 1;
        let holders = self.risk.holders(instrument);
        let total: i128 = holders.iter().map(|(_, q)| i128::from(q.abs())).sum();
        let paid = i128::from(f.paid) * i128::from(crate::types::SCALE);
        if total == 0 {
            tracing::warn!(gateway = %self.name, symbol = %f.symbol, paid = f.paid,
                "funding on a position no strategy here holds: not attributed");
            return;
        }
        let mut left = paid;
        for (k, (strategy, q)) in holders.iter().enumerate() {
            let share = if k + 1 == holders.len() {
                left
            } else {
                paid * i128::from(q.abs()) / total
            };
            left -= share;
            self.book_funding(*strategy, instrument, *q, &f, share);
        }
    }

    fn book_funding(
        &mut self,
        strategy: StrategyId,
        instrument: InstrumentId,
        qty: i64,
        f: &VenueFunding,
        paid: i128,
    ) {
        self.risk.on_funding(strategy, instrument, paid);
        self.keep(crate::persist::Record::Funding(
            crate::persist::FundingRecord {
                venue: self.venue.id,
                strategy,
                instrument,
                qty: Qty::from_units(qty),
                mark: f.mark,
                rate: f.rate,
                paid,
                at: f.at,
            },
        ));
    }
}
