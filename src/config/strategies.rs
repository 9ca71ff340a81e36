//! `[[strategies]]`: each strategy's id, kind (its parameters checked by the kind itself),
//! main market and further markets, and risk limits.

use std::collections::BTreeSet;

use crate::types::{ClientOrderId, InstrumentId, StrategyId, VenueId};

use super::error::ConfigErrors;
use super::fields::{self, Checked, Reported, join};
use super::model::*;
use super::raw::*;
use super::services::risk_limits;
use super::validate::{dense, first_of};

pub(super) fn strategies(
    raw: &RawConfig,
    errors: &mut ConfigErrors,
) -> Checked<Vec<StrategyConfig>> {
    let list = &raw.strategies;
    let mut ok = list.all_ok();
    let mut out = Vec::with_capacity(list.items.len());
    for (i, s) in list.ok() {
        let path = format!("strategies[{i}]");
        let p = |k: &str| join(&path, k);
        let mut good = fields::name(errors, &p("id"), &s.id).is_ok();
        good &= first_of(
            errors,
            list,
            i,
            p("id"),
            |s| (s.id.as_str(), ""),
            &format!("strategy {:?}", s.id),
        );
        good &= fields::non_empty(errors, &p("kind"), &s.kind).is_ok();
        // Parameters are checked by the strategy kind itself, before anything runs.
        if !s.kind.is_empty() {
            match crate::strategy::registry::kind(&s.kind) {
                Some(k) => {
                    if let Err(errs) = (k.validate)(&s.params) {
                        for (key, msg) in errs {
                            errors.push(format!("{}.{key}", p("params")), msg);
                        }
                        good = false;
                    }
                }
                None => {
                    errors.push(
                        p("kind"),
                        format!(
                            "unknown strategy kind {:?}; the kinds are: {}",
                            s.kind,
                            crate::strategy::registry::names()
                        ),
                    );
                    good = false;
                }
            }
        }
        // Client order ids carry the strategy's number; it must fit their encoding.
        let id = dense::<u16>(errors, &p("id"), i).and_then(|id| {
            match ClientOrderId::mint(0, StrategyId(id), 0) {
                Ok(_) => Ok(id),
                Err(e) => {
                    errors.push(
                        p("id"),
                        format!("too many strategies for client order ids ({e})"),
                    );
                    Err(Reported)
                }
            }
        });
        let venue = raw
            .venues
            .ok()
            .find(|(_, v)| v.name == s.venue)
            .map(|(j, _)| j);
        let venue_broken = raw.venues.is_broken(&s.venue);
        if venue.is_none() && !venue_broken {
            let names: Vec<&str> = raw.venues.ok().map(|(_, v)| v.name.as_str()).collect();
            errors.push(
                p("venue"),
                format!("no venue {:?}; the venues are {names:?}", s.venue),
            );
            good = false;
        }
        let instrument = raw
            .instruments
            .ok()
            .find(|(_, ins)| ins.venue == s.venue && ins.symbol == s.instrument)
            .map(|(j, _)| j);
        if instrument.is_none() && venue.is_some() && !raw.instruments.is_broken(&s.instrument) {
            let elsewhere: BTreeSet<&str> = raw
                .instruments
                .ok()
                .filter(|(_, ins)| ins.symbol == s.instrument)
                .map(|(_, ins)| ins.venue.as_str())
                .collect();
            let hint = if elsewhere.is_empty() {
                format!(
                    "add an [[instruments]] with venue = {:?} and symbol = {:?}",
                    s.venue, s.instrument
                )
            } else {
                format!("it is defined on {elsewhere:?}")
            };
            errors.push(
                p("instrument"),
                format!(
                    "no instrument {:?} on venue {:?}; {hint}",
                    s.instrument, s.venue
                ),
            );
            good = false;
        }
        // Further markets: each an instrument of its venue (several per venue allowed), each
        // declared once, not the main one.
        let mut markets = Vec::with_capacity(s.markets.len());
        let mut seen = vec![(s.venue.as_str(), s.instrument.as_str())];
        for (k, m) in s.markets.iter().enumerate() {
            let key = |f: &str| format!("{}.{f}", p(&format!("markets[{k}]")));
            let this = (m.venue.as_str(), m.instrument.as_str());
            if seen.contains(&this) {
                errors.push(
                    key("instrument"),
                    format!(
                        "the strategy already declares {:?} on venue {:?}; list each market once",
                        m.instrument, m.venue
                    ),
                );
                good = false;
                continue;
            }
            seen.push(this);
            let v = raw
                .venues
                .ok()
                .find(|(_, v)| v.name == m.venue)
                .map(|(j, _)| j);
            let ins = raw
                .instruments
                .ok()
                .find(|(_, ins)| ins.venue == m.venue && ins.symbol == m.instrument)
                .map(|(j, _)| j);
            match (v, ins) {
                (Some(v), Some(ins)) => match (u16::try_from(v), u32::try_from(ins)) {
                    (Ok(v), Ok(ins)) => markets.push((VenueId(v), InstrumentId(ins))),
                    _ => good = false,
                },
                (None, _) if raw.venues.is_broken(&m.venue) => good = false,
                (None, _) => {
                    errors.push(key("venue"), format!("no venue {:?}", m.venue));
                    good = false;
                }
                (Some(_), None) => {
                    if !raw.instruments.is_broken(&m.instrument) {
                        errors.push(
                            key("instrument"),
                            format!("no instrument {:?} on venue {:?}", m.instrument, m.venue),
                        );
                    }
                    good = false;
                }
            }
        }
        let risk = risk_limits(&s.risk, &p("risk"), errors);
        let paper = match &s.paper {
            None => Ok(None),
            Some(pp) => {
                let base = fields::opt_qty(errors, &p("paper.base"), pp.base.as_ref());
                let quote = fields::opt_price(errors, &p("paper.quote"), pp.quote.as_ref());
                match (base, quote) {
                    (Ok(None), Ok(None)) => {
                        errors.push(p("paper"), "give base, quote or both".to_string());
                        Err(Reported)
                    }
                    (Ok(b), Ok(q)) => Ok(Some((
                        b.unwrap_or(crate::types::Qty::ZERO),
                        q.unwrap_or(crate::types::Price::ZERO),
                    ))),
                    _ => Err(Reported),
                }
            }
        };
        good &= paper.is_ok();
        match (good, id, venue, instrument, risk) {
            (true, Ok(id), Some(venue), Some(instrument), Ok(risk)) => {
                let (Ok(venue), Ok(instrument)) = (u16::try_from(venue), u32::try_from(instrument))
                else {
                    ok = false;
                    continue;
                };
                out.push(StrategyConfig {
                    id: StrategyId(id),
                    name: s.id.clone(),
                    kind: s.kind.clone(),
                    venue: VenueId(venue),
                    instrument: InstrumentId(instrument),
                    markets,
                    params: s.params.clone(),
                    risk,
                    paper: paper.unwrap_or(None),
                });
            }
            _ => ok = false,
        }
    }
    if ok { Ok(out) } else { Err(Reported) }
}
