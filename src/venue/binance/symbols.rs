//! The symbol table of one Binance connection: lowercase symbol (as in stream names) →
//! `InstrumentId`. Built at start; looked up per frame by a short linear scan, which beats
//! hashing for the handful of symbols one connection carries.

use crate::types::InstrumentId;

/// One symbol: its lowercase spelling (`btcusdt`) and the instrument it names.
#[derive(Clone, Debug)]
struct Entry {
    /// Lowercase ASCII, as in stream names; never empty.
    lower: Box<[u8]>,
    /// Uppercase, as in payloads' `s` field.
    upper: Box<[u8]>,
    id: InstrumentId,
}

/// Maps Binance symbols to instruments. Lookups never allocate.
#[derive(Clone, Debug, Default)]
pub struct SymbolTable {
    entries: Vec<Entry>,
}

/// Why a symbol could not be added.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SymbolError {
    #[error("symbol {0:?} is empty or not alphanumeric ASCII")]
    Invalid(String),
    #[error("symbol {0:?} is already in the table")]
    Duplicate(String),
}

impl SymbolTable {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `symbol` (any case, e.g. `BTCUSDT` or `btcusdt`) for `id`. Done at start, or by a
    /// replay tool when it meets a new stream; allocates.
    pub fn insert(&mut self, symbol: &str, id: InstrumentId) -> Result<(), SymbolError> {
        if symbol.is_empty() || !symbol.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(SymbolError::Invalid(symbol.to_owned()));
        }
        let lower = symbol.to_ascii_lowercase().into_bytes().into_boxed_slice();
        if self.entries.iter().any(|e| e.lower == lower) {
            return Err(SymbolError::Duplicate(symbol.to_owned()));
        }
        let upper = lower.to_ascii_uppercase().into_boxed_slice();
        self.entries.push(Entry { lower, upper, id });
        Ok(())
    }

    /// The instrument of a lowercase stream-name symbol (`btcusdt`), exact match.
    #[inline]
    pub fn by_stream(&self, lower: &[u8]) -> Option<InstrumentId> {
        self.entries
            .iter()
            .find(|e| *e.lower == *lower)
            .map(|e| e.id)
    }

    /// The instrument whose stream name `frame_rest` starts with, `<lowercase symbol>@`, with
    /// its uppercase symbol; `frame_rest` continues after the `@`.
    #[inline]
    pub(crate) fn match_stream_prefix<'f>(
        &self,
        frame_rest: &'f [u8],
    ) -> Option<(InstrumentId, &[u8], &'f [u8])> {
        self.entries.iter().find_map(|e| {
            let rest = frame_rest.strip_prefix(&*e.lower)?.strip_prefix(b"@")?;
            Some((e.id, &*e.upper, rest))
        })
    }

    /// The instrument of a symbol in any case (the `s` field of a payload is uppercase).
    #[inline]
    pub fn by_symbol(&self, symbol: &[u8]) -> Option<InstrumentId> {
        self.entries
            .iter()
            .find(|e| e.lower.eq_ignore_ascii_case(symbol))
            .map(|e| e.id)
    }

    /// Whether `symbol` (any case) is the symbol of `id`.
    #[inline]
    pub fn is_symbol_of(&self, id: InstrumentId, symbol: &[u8]) -> bool {
        self.entries
            .iter()
            .any(|e| e.id == id && e.lower.eq_ignore_ascii_case(symbol))
    }

    /// The lowercase symbol of `id`, if present.
    pub fn symbol_of(&self, id: InstrumentId) -> Option<&str> {
        let e = self.entries.iter().find(|e| e.id == id)?;
        std::str::from_utf8(&e.lower).ok()
    }

    /// `(lowercase symbol, instrument)` pairs in insertion order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, InstrumentId)> {
        self.entries
            .iter()
            .filter_map(|e| Some((std::str::from_utf8(&e.lower).ok()?, e.id)))
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups() {
        let mut t = SymbolTable::new();
        t.insert("BTCUSDT", InstrumentId(3)).unwrap();
        t.insert("ethusdt", InstrumentId(7)).unwrap();
        assert_eq!(t.by_stream(b"btcusdt"), Some(InstrumentId(3)));
        assert_eq!(t.by_stream(b"BTCUSDT"), None, "stream names are lowercase");
        assert_eq!(t.by_symbol(b"ETHUSDT"), Some(InstrumentId(7)));
        assert_eq!(t.by_symbol(b"ETHUSD"), None);
        assert!(t.is_symbol_of(InstrumentId(3), b"BTCUSDT"));
        assert!(!t.is_symbol_of(InstrumentId(7), b"BTCUSDT"));
        assert_eq!(t.symbol_of(InstrumentId(7)), Some("ethusdt"));
        assert_eq!(
            t.insert("btcUSDT", InstrumentId(9)),
            Err(SymbolError::Duplicate("btcUSDT".into()))
        );
        assert!(matches!(
            t.insert("btc@usdt", InstrumentId(9)),
            Err(SymbolError::Invalid(_))
        ));
        assert!(matches!(
            t.insert("", InstrumentId(9)),
            Err(SymbolError::Invalid(_))
        ));
        assert_eq!(t.len(), 2);
    }
}
