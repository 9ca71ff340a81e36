//! The run's catalog: the names, kinds and grids of what the record tables number by index
//! (`run_venues`, `run_instruments`, `run_strategies`), written once at run start so the
//! `*_view` views read without mako.

use rusqlite::{Connection, params};

use crate::types::{DECIMALS, Price, Qty};

use super::PersistError;

/// Decimals of the integers prices and quantities are stored in (`*_e8`: units of 10^-8).
pub const PRICE_QTY_SCALE: u32 = DECIMALS;
/// Decimals of the integers quote amounts are stored in (`*_e16`: units of 10^-16).
pub const QUOTE_SCALE: u32 = 2 * DECIMALS;

/// Names of what a run's rows number by index.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Catalog {
    /// Indexed by `VenueId`: (name in config, kind).
    pub venues: Vec<(String, String)>,
    /// Indexed by `InstrumentId`.
    pub instruments: Vec<InstrumentRow>,
    /// Indexed by `StrategyId`: (id in config, kind, main venue, main instrument).
    pub strategies: Vec<(String, String, u16, u32)>,
}

/// One instrument as the run traded it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstrumentRow {
    pub venue: u16,
    pub symbol: String,
    pub base: String,
    pub quote: String,
    /// `spot`, `linear-perpetual` or `inverse-perpetual`.
    pub kind: String,
    /// What a quantity counts: `base` or `contracts`.
    pub qty_unit: String,
    /// Base (linear) or quote (inverse) per contract; 1 when quantities count base.
    pub contract_size: Qty,
    /// The asset PnL, fees and margin settle in.
    pub settle: String,
    pub tick: Price,
    pub lot: Qty,
}

impl InstrumentRow {
    /// A spot instrument on `venue` with the given grid.
    pub fn spot(venue: u16, symbol: &str, base: &str, quote: &str, tick: Price, lot: Qty) -> Self {
        Self {
            venue,
            symbol: symbol.to_owned(),
            base: base.to_owned(),
            quote: quote.to_owned(),
            kind: "spot".to_owned(),
            qty_unit: "base".to_owned(),
            contract_size: Qty::from_int(1),
            settle: quote.to_owned(),
            tick,
            lot,
        }
    }
}

impl Catalog {
    /// From the config the run starts with.
    pub fn of(config: &crate::config::Config) -> Self {
        Self {
            venues: config
                .venues
                .iter()
                .map(|v| (v.name.clone(), v.kind.as_str().to_owned()))
                .collect(),
            instruments: config
                .instruments
                .iter()
                .map(|i| InstrumentRow {
                    venue: i.venue.0,
                    symbol: i.symbol.to_string(),
                    base: i.base.to_string(),
                    quote: i.quote.to_string(),
                    kind: i.contract.kind.as_str().to_owned(),
                    qty_unit: i.contract.unit.as_str().to_owned(),
                    contract_size: i.contract.size,
                    settle: i.settle.clone(),
                    tick: i.tick_size,
                    lot: i.lot_size,
                })
                .collect(),
            strategies: config
                .strategies
                .iter()
                .map(|s| (s.name.clone(), s.kind.clone(), s.venue.0, s.instrument.0))
                .collect(),
        }
    }
}

/// Writes the catalog rows of run `run_id`.
pub fn insert(conn: &Connection, run_id: i64, c: &Catalog) -> Result<(), PersistError> {
    for (i, (name, kind)) in c.venues.iter().enumerate() {
        conn.execute(
            "INSERT INTO run_venues (run_id, venue, name, kind) VALUES (?1, ?2, ?3, ?4)",
            params![run_id, i as i64, name, kind],
        )?;
    }
    for (i, r) in c.instruments.iter().enumerate() {
        conn.execute(
            "INSERT INTO run_instruments (run_id, instrument, venue, symbol, base, quote, kind,
             qty_unit, contract_size_e8, settle, tick_e8, lot_e8, price_scale, qty_scale,
             quote_scale) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?13,
             ?14)",
            params![
                run_id,
                i as i64,
                r.venue,
                r.symbol,
                r.base,
                r.quote,
                r.kind,
                r.qty_unit,
                r.contract_size.units(),
                r.settle,
                r.tick.units(),
                r.lot.units(),
                PRICE_QTY_SCALE,
                QUOTE_SCALE
            ],
        )?;
    }
    for (i, (name, kind, venue, instrument)) in c.strategies.iter().enumerate() {
        conn.execute(
            "INSERT INTO run_strategies (run_id, strategy, name, kind, venue, instrument)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![run_id, i as i64, name, kind, venue, instrument],
        )?;
    }
    Ok(())
}

/// A quote amount at 10^-16 (`Notional`, a round trip's PnL, a funding payment) as the
/// shortest exact decimal text: `-0.5`, `30.90006`, `0`. The views print the same text in SQL
/// (`schema::dec16!`); the tests hold the two to each other.
pub fn quote_text(v: i128) -> String {
    let scale = 10u128.pow(QUOTE_SCALE);
    let mag = v.unsigned_abs();
    let sign = if v < 0 { "-" } else { "" };
    let (int, frac) = (mag / scale, mag % scale);
    if frac == 0 {
        return format!("{sign}{int}");
    }
    let digits = format!("{frac:016}");
    format!("{sign}{int}.{}", digits.trim_end_matches('0'))
}

#[cfg(test)]
mod tests {
    use super::quote_text;

    #[test]
    fn quote_text_is_exact_and_shortest() {
        for (v, text) in [
            (0i128, "0"),
            (1, "0.0000000000000001"),
            (-1, "-0.0000000000000001"),
            (-5_000_000_000_000_000, "-0.5"),
            (309_000_600_000_000_000, "30.90006"),
            (10_000_000_000_000_000, "1"),
            (-10_000_000_000_000_001, "-1.0000000000000001"),
            (i128::MIN + 1, "-17014118346046923173168.7303715884105727"),
        ] {
            assert_eq!(quote_text(v), text, "{v}");
        }
    }
}
