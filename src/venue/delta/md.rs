//! Delta Exchange public market data (reference/delta.md §3.5–3.6), the compact channels of the
//! public endpoint: `ob_updates` (`snapshot`, `update` and `error` actions with `seq` and the
//! checksum `cs`), `ob_l1`, `trades`, `mark_price`, `funding_rate`, and the control frames
//! (`subscriptions`, `heartbeat`, `pong`, `error`). Decoded through simd-json's tape into
//! reused buffers: nothing is allocated per frame once warm.

use std::io::Write as _;

use simd_json::prelude::*;
use simd_json::tape::{Tape, Value};

use crate::book::Level;
use crate::types::{
    DecimalError, FundingRate, InstrumentId, Price, Qty, Side, TradeId, TradePrint, UnixNanos,
};

pub use crate::venue::md::InstTable;

/// Why a frame was refused (counted by the caller; never fatal).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DeltaMdError {
    #[error("invalid JSON")]
    Json,
    #[error("missing field {0:?}")]
    Missing(&'static str),
    #[error("field {0:?} has the wrong type")]
    WrongType(&'static str),
    #[error("field {field:?}: {err}")]
    Decimal {
        field: &'static str,
        err: DecimalError,
    },
    #[error("book level with a zero price")]
    ZeroPrice,
    #[error("symbol is not one of this connection's")]
    UnknownInstrument,
    #[error("channel this feed does not read")]
    UnknownChannel,
}

impl DeltaMdError {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Json => "invalid JSON",
            Self::Missing(_) => "missing field",
            Self::WrongType(_) => "field has the wrong type",
            Self::Decimal { .. } => "malformed decimal",
            Self::ZeroPrice => "book level with a zero price",
            Self::UnknownInstrument => "symbol is not one of this connection's",
            Self::UnknownChannel => "channel this feed does not read",
        }
    }
}

/// How a frame's level strings were written, so the checksum's strings can be rebuilt from
/// the fixed-point book: every string `Uniform` with this many decimals in its shortest
/// fixed form (`"16919.0"` is 1, `"1087"` is 0), or not (`Mixed`: mixed decimals, or a form
/// such as `"+1"` or `"01"` that rebuilding would not give back).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// No string of this kind in the frame.
    Empty,
    Uniform(u8),
    Mixed,
}

impl Form {
    /// This form and a string of `d` decimals (`None`: not rebuildable).
    #[inline]
    fn with(self, d: Option<u8>) -> Form {
        match (self, d) {
            (_, None) | (Form::Mixed, _) => Form::Mixed,
            (Form::Empty, Some(d)) => Form::Uniform(d),
            (Form::Uniform(a), Some(d)) if a == d => self,
            _ => Form::Mixed,
        }
    }

    /// This form merged with another frame's.
    #[inline]
    pub fn merge(self, o: Form) -> Form {
        match o {
            Form::Empty => self,
            Form::Uniform(d) => self.with(Some(d)),
            Form::Mixed => Form::Mixed,
        }
    }
}

/// One decoded frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Msg {
    /// `ob_updates`: the levels are the parser's `bids` and `asks`; `price_form` and
    /// `size_form` say how their strings were written (sizes of deleted levels not counted).
    Book {
        instrument: InstrumentId,
        snapshot: bool,
        seq: u64,
        /// The published CRC32 of the top 10 levels after this frame, when present.
        cs: Option<u32>,
        ts_us: u64,
        price_form: Form,
        size_form: Form,
    },
    /// `ob_updates` with `action: "error"` (the snapshot could not be loaded; re-subscribe).
    BookError {
        instrument: InstrumentId,
    },
    /// `ob_l1`: best bid and offer (a side may be absent on an empty book).
    Bbo {
        instrument: InstrumentId,
        bid: Option<Level>,
        ask: Option<Level>,
        ts_us: u64,
    },
    /// `trades`: read the parser's `trades` (one per frame).
    Trades,
    /// `mark_price`.
    Mark {
        instrument: InstrumentId,
        mark: Price,
        ts_us: u64,
    },
    /// `funding_rate`: the rate as a fraction per interval (Delta publishes percent), the
    /// interval in seconds and the next realisation in µs.
    Funding {
        instrument: InstrumentId,
        rate: FundingRate,
        interval_s: Option<u64>,
        next_us: Option<u64>,
        ts_us: u64,
    },
    /// `{"type":"subscriptions",…}`: `ok` is false when a channel carries an `error`.
    Subscriptions {
        ok: bool,
    },
    /// `{"type":"error",…}` (a refused subscribe frame).
    Error,
    Heartbeat,
    Pong,
}

/// The parser: simd-json's working memory and the decoded levels and trades, all reused.
pub struct DeltaMdParser {
    insts: InstTable,
    scratch: Vec<u8>,
    buffers: simd_json::Buffers,
    tape: Tape<'static>,
    pub bids: Vec<Level>,
    pub asks: Vec<Level>,
    pub trades: Vec<TradePrint>,
    /// The last trade's time and how many trades shared it (for the trade id).
    last_trade: (u64, u64),
}

impl DeltaMdParser {
    pub fn new(insts: InstTable, levels: usize) -> Self {
        Self {
            insts,
            scratch: Vec::with_capacity(1 << 16),
            buffers: simd_json::Buffers::new(1 << 16),
            tape: Tape(Vec::new()),
            bids: Vec::with_capacity(levels),
            asks: Vec::with_capacity(levels),
            trades: Vec::with_capacity(4),
            last_trade: (0, 0),
        }
    }

    pub fn insts(&self) -> &InstTable {
        &self.insts
    }

    /// Adds a symbol (replay tools; allocates).
    pub fn add(&mut self, symbol: &str, id: InstrumentId) {
        self.insts.insert(symbol, id);
    }

    /// Forgets the last trade's time (a new connection).
    pub fn reset_trades(&mut self) {
        self.last_trade = (0, 0);
    }

    /// Decodes one text frame.
    pub fn parse(&mut self, frame: &[u8]) -> Result<Msg, DeltaMdError> {
        self.scratch.clear();
        self.scratch.extend_from_slice(frame);
        let mut tape = std::mem::replace(&mut self.tape, Tape(Vec::new())).reset();
        let res = match simd_json::fill_tape(&mut self.scratch, &mut self.buffers, &mut tape) {
            Ok(()) => {
                let mut out = Out {
                    bids: &mut self.bids,
                    asks: &mut self.asks,
                    trades: &mut self.trades,
                    last_trade: &mut self.last_trade,
                };
                decode(tape.as_value(), &self.insts, &mut out)
            }
            Err(_) => Err(DeltaMdError::Json),
        };
        self.tape = tape.reset();
        res
    }
}

struct Out<'a> {
    bids: &'a mut Vec<Level>,
    asks: &'a mut Vec<Level>,
    trades: &'a mut Vec<TradePrint>,
    last_trade: &'a mut (u64, u64),
}

fn field<'t, 'i>(v: Value<'t, 'i>, k: &'static str) -> Result<Value<'t, 'i>, DeltaMdError> {
    v.get(k).ok_or(DeltaMdError::Missing(k))
}

fn string<'i>(v: Value<'_, 'i>, k: &'static str) -> Result<&'i str, DeltaMdError> {
    field(v, k)?.into_string().ok_or(DeltaMdError::WrongType(k))
}

fn number(v: Value<'_, '_>, k: &'static str) -> Result<u64, DeltaMdError> {
    field(v, k)?.as_u64().ok_or(DeltaMdError::WrongType(k))
}

fn opt_number(v: Value<'_, '_>, k: &'static str) -> Result<Option<u64>, DeltaMdError> {
    match v.get(k) {
        None => Ok(None),
        Some(x) if x.is_null() => Ok(None),
        Some(x) => x.as_u64().map(Some).ok_or(DeltaMdError::WrongType(k)),
    }
}

fn price(s: &str, k: &'static str) -> Result<Price, DeltaMdError> {
    Price::parse(s).map_err(|err| DeltaMdError::Decimal { field: k, err })
}

fn qty(s: &str, k: &'static str) -> Result<Qty, DeltaMdError> {
    Qty::parse(s).map_err(|err| DeltaMdError::Decimal { field: k, err })
}

/// A decimal sent as a string or as a JSON number (`"s": 1.0` in the `trades` sample): a
/// number is written in its shortest exact form into a stack buffer and parsed like a string.
fn decimal_text<'b>(
    v: Value<'_, '_>,
    k: &'static str,
    buf: &'b mut [u8; 40],
) -> Result<&'b str, DeltaMdError> {
    if let Some(s) = v.into_string() {
        let n = s.len().min(buf.len());
        if n < s.len() {
            return Err(DeltaMdError::WrongType(k));
        }
        buf[..n].copy_from_slice(s.as_bytes());
        return std::str::from_utf8(&buf[..n]).map_err(|_| DeltaMdError::WrongType(k));
    }
    let mut cur = std::io::Cursor::new(&mut buf[..]);
    let ok = if let Some(u) = v.as_u64() {
        write!(cur, "{u}").is_ok()
    } else if let Some(f) = v.as_f64() {
        f.is_finite() && write!(cur, "{f}").is_ok()
    } else {
        false
    };
    if !ok {
        return Err(DeltaMdError::WrongType(k));
    }
    let n = cur.position() as usize;
    std::str::from_utf8(&buf[..n]).map_err(|_| DeltaMdError::WrongType(k))
}

/// The decimals of `s` if rebuilding it from its value at that many decimals gives `s` back.
/// A string with more decimals than mako keeps (`"1.0000000000"`: trailing zeros parse) is
/// not rebuildable.
#[inline]
fn form_of(s: &str, units: impl FnOnce(u32, &mut [u8]) -> usize) -> Option<u8> {
    let d = s.split_once('.').map_or(0, |(_, f)| f.len());
    if d > crate::types::DECIMALS as usize {
        return None;
    }
    let mut buf = [0u8; 40];
    let n = units(d as u32, &mut buf);
    (buf[..n] == *s.as_bytes()).then_some(d as u8)
}

/// `[["price","size"], …]` onto `out`, with the forms of its strings.
fn levels(
    v: Value<'_, '_>,
    k: &'static str,
    out: &mut Vec<Level>,
    pf: &mut Form,
    sf: &mut Form,
) -> Result<(), DeltaMdError> {
    out.clear();
    let list = field(v, k)?.as_array().ok_or(DeltaMdError::WrongType(k))?;
    for l in list.iter() {
        let pair = l.as_array().ok_or(DeltaMdError::WrongType(k))?;
        let mut it = pair.iter();
        let (Some(p), Some(q), None) = (it.next(), it.next(), it.next()) else {
            return Err(DeltaMdError::WrongType(k));
        };
        let p = p.into_string().ok_or(DeltaMdError::WrongType(k))?;
        let q = q.into_string().ok_or(DeltaMdError::WrongType(k))?;
        let level = Level {
            price: price(p, k)?,
            qty: qty(q, k)?,
        };
        if level.price.is_zero() {
            return Err(DeltaMdError::ZeroPrice);
        }
        *pf = pf.with(form_of(p, |d, b| level.price.write_fixed(d, b)));
        if !level.qty.is_zero() {
            *sf = sf.with(form_of(q, |d, b| level.qty.write_fixed(d, b)));
        }
        out.push(level);
    }
    Ok(())
}

/// `sy` with the `MARK:` prefix of mark-price subscriptions taken off.
fn instrument(
    v: Value<'_, '_>,
    k: &'static str,
    insts: &InstTable,
) -> Result<InstrumentId, DeltaMdError> {
    let sy = string(v, k)?;
    let sy = sy.strip_prefix("MARK:").unwrap_or(sy);
    insts.get(sy).ok_or(DeltaMdError::UnknownInstrument)
}

fn decode(root: Value<'_, '_>, insts: &InstTable, out: &mut Out<'_>) -> Result<Msg, DeltaMdError> {
    if root.as_object().is_none() {
        return Err(DeltaMdError::WrongType("message"));
    }
    match string(root, "type")? {
        "ob_updates" => {
            let action = string(root, "action")?;
            if action == "error" {
                // The error frame names the symbol in full (`symbol`), not `sy`.
                let instrument = match root.get("symbol") {
                    Some(_) => instrument(root, "symbol", insts)?,
                    None => instrument(root, "sy", insts)?,
                };
                return Ok(Msg::BookError { instrument });
            }
            let snapshot = match action {
                "snapshot" => true,
                "update" => false,
                _ => return Err(DeltaMdError::WrongType("action")),
            };
            let instrument = instrument(root, "sy", insts)?;
            let (mut price_form, mut size_form) = (Form::Empty, Form::Empty);
            levels(root, "b", out.bids, &mut price_form, &mut size_form)?;
            levels(root, "a", out.asks, &mut price_form, &mut size_form)?;
            let cs = match opt_number(root, "cs")? {
                None => None,
                Some(c) => Some(u32::try_from(c).map_err(|_| DeltaMdError::WrongType("cs"))?),
            };
            Ok(Msg::Book {
                instrument,
                snapshot,
                seq: number(root, "seq")?,
                cs,
                ts_us: number(root, "ts")?,
                price_form,
                size_form,
            })
        }
        "ob_l1" => {
            let instrument = instrument(root, "sy", insts)?;
            let side =
                |pk: &'static str, qk: &'static str| -> Result<Option<Level>, DeltaMdError> {
                    match (root.get(pk), root.get(qk)) {
                        (Some(p), Some(q)) if !p.is_null() && !q.is_null() => {
                            let p = p.into_string().ok_or(DeltaMdError::WrongType(pk))?;
                            let q = q.into_string().ok_or(DeltaMdError::WrongType(qk))?;
                            if p.is_empty() {
                                return Ok(None);
                            }
                            Ok(Some(Level {
                                price: price(p, pk)?,
                                qty: qty(q, qk)?,
                            }))
                        }
                        _ => Ok(None),
                    }
                };
            Ok(Msg::Bbo {
                instrument,
                bid: side("bp", "bs")?,
                ask: side("ap", "as")?,
                ts_us: number(root, "ts")?,
            })
        }
        "trades" => {
            let instrument = instrument(root, "sy", insts)?;
            // `r` is the buyer's role: a taking buyer is a buy aggressor.
            let aggressor = match string(root, "r")? {
                "t" => Side::Buy,
                "m" => Side::Sell,
                _ => return Err(DeltaMdError::WrongType("r")),
            };
            let t = number(root, "t")?;
            let mut buf = [0u8; 40];
            let size = qty(decimal_text(field(root, "s")?, "s", &mut buf)?, "s")?;
            let mut buf = [0u8; 40];
            let px = price(decimal_text(field(root, "p")?, "p", &mut buf)?, "p")?;
            // No trade id on the wire: time in µs × 1000 + the trade's place among those of
            // the same microsecond (numeric, so it rises with time).
            let (last_t, n) = *out.last_trade;
            let k = if last_t == t { (n + 1).min(999) } else { 0 };
            *out.last_trade = (t, k);
            let id = t
                .checked_mul(1000)
                .and_then(|x| x.checked_add(k))
                .ok_or(DeltaMdError::WrongType("t"))?;
            out.trades.clear();
            out.trades.push(TradePrint {
                instrument,
                trade_id: TradeId::from_u64(id),
                price: px,
                qty: size,
                aggressor,
                trade_time: UnixNanos::from_micros(t),
                event_time: UnixNanos::from_micros(opt_number(root, "ts")?.unwrap_or(t)),
            });
            Ok(Msg::Trades)
        }
        "mark_price" => {
            let instrument = instrument(root, "sy", insts)?;
            let mut buf = [0u8; 40];
            let mark = price(decimal_text(field(root, "p")?, "p", &mut buf)?, "p")?;
            Ok(Msg::Mark {
                instrument,
                mark,
                ts_us: number(root, "ts")?,
            })
        }
        "funding_rate" => {
            let instrument = instrument(root, "sy", insts)?;
            let fr = field(root, "fr")?;
            let pct = match fr.into_string() {
                Some(s) => s
                    .parse::<f64>()
                    .map_err(|_| DeltaMdError::WrongType("fr"))?,
                None => fr.as_f64().ok_or(DeltaMdError::WrongType("fr"))?,
            };
            // Percent → fraction in units of 10^-8: × 10^6. Delta prints float noise
            // (0.010000000000000002), so the rate is rounded to 10^-8.
            let units = (pct * 1e6).round();
            if !units.is_finite() || units.abs() > 1e15 {
                return Err(DeltaMdError::WrongType("fr"));
            }
            Ok(Msg::Funding {
                instrument,
                rate: FundingRate::from_units(units as i64),
                interval_s: opt_number(root, "fi")?,
                next_us: opt_number(root, "nfr")?,
                ts_us: number(root, "ts")?,
            })
        }
        "subscriptions" => {
            let chans = field(root, "channels")?
                .as_array()
                .ok_or(DeltaMdError::WrongType("channels"))?;
            let ok = chans.iter().all(|c| c.get("error").is_none());
            Ok(Msg::Subscriptions { ok })
        }
        "error" => Ok(Msg::Error),
        "heartbeat" => Ok(Msg::Heartbeat),
        "pong" => Ok(Msg::Pong),
        _ => Err(DeltaMdError::UnknownChannel),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parser() -> DeltaMdParser {
        let mut t = InstTable::default();
        t.insert("BTCUSD", InstrumentId(2));
        DeltaMdParser::new(t, 16)
    }

    #[test]
    fn a_string_with_more_decimals_than_kept_parses_and_is_not_rebuildable() {
        // Found by fuzzing (fuzz/regressions/delta_md): `"2.0000000000"` parses (the zeros
        // past eight decimals are dropped), and rebuilding it at ten decimals panicked.
        let mut p = parser();
        let f = br#"{"action":"snapshot","a":[["2.0000000000","1"]],"b":[["1.0","1.000000000000"]],"seq":1,"sy":"BTCUSD","type":"ob_updates","ts":1,"cs":1}"#;
        let Msg::Book {
            price_form,
            size_form,
            ..
        } = p.parse(f).unwrap()
        else {
            panic!("not a book")
        };
        assert_eq!((price_form, size_form), (Form::Mixed, Form::Mixed));
        assert_eq!(p.asks[0].price, Price::parse("2").unwrap());
    }

    #[test]
    fn forms_of_level_strings() {
        let mut p = parser();
        let f = br#"{"action":"update","a":[["16919.0","0"],["16919.5","710"]],"b":[["16918.5","304"]],"seq":6200,"sy":"BTCUSD","type":"ob_updates","ts":1,"cs":3409694612}"#;
        let Msg::Book {
            price_form,
            size_form,
            ..
        } = p.parse(f).unwrap()
        else {
            panic!("not a book")
        };
        assert_eq!(
            (price_form, size_form),
            (Form::Uniform(1), Form::Uniform(0))
        );
        for (frame, pf, sf) in [
            (
                r#"[["100.00","23"],["98.3","1"]]"#,
                Form::Mixed,
                Form::Uniform(0),
            ),
            (r#"[["100.0","023"]]"#, Form::Uniform(1), Form::Mixed),
            (r#"[["100.0","1.50"]]"#, Form::Uniform(1), Form::Uniform(2)),
            (r#"[]"#, Form::Empty, Form::Empty),
        ] {
            let f = format!(
                r#"{{"action":"snapshot","a":{frame},"b":[],"seq":1,"sy":"BTCUSD","type":"ob_updates","ts":1,"cs":1}}"#
            );
            let Ok(Msg::Book {
                price_form,
                size_form,
                ..
            }) = p.parse(f.as_bytes())
            else {
                panic!("{frame}")
            };
            assert_eq!((price_form, size_form), (pf, sf), "{frame}");
        }
    }

    #[test]
    fn trade_ids_rise_within_one_microsecond() {
        let mut p = parser();
        let mut ids = Vec::new();
        for t in [5u64, 5, 5, 6] {
            let f = format!(
                r#"{{"p":"72141.5","r":"t","s":2,"sy":"BTCUSD","t":{t},"ts":9,"type":"trades"}}"#
            );
            assert_eq!(p.parse(f.as_bytes()), Ok(Msg::Trades));
            ids.push(p.trades[0].trade_id.as_u64().unwrap());
        }
        assert_eq!(ids, vec![5000, 5001, 5002, 6000]);
    }

    #[test]
    fn refusals() {
        let mut p = parser();
        for (f, e) in [
            (&b"{"[..], DeltaMdError::Json),
            (br#"[1]"#, DeltaMdError::WrongType("message")),
            (br#"{"type":"v2/ticker"}"#, DeltaMdError::UnknownChannel),
            (
                br#"{"type":"trades","sy":"ETHUSD","p":"1","s":1,"r":"t","t":1}"#,
                DeltaMdError::UnknownInstrument,
            ),
            (
                br#"{"type":"trades","sy":"BTCUSD","p":"1","s":-1,"r":"t","t":1}"#,
                DeltaMdError::WrongType("s"),
            ),
            (
                br#"{"type":"trades","sy":"BTCUSD","p":"1","s":1,"r":"x","t":1}"#,
                DeltaMdError::WrongType("r"),
            ),
            (
                br#"{"action":"update","a":[["0","1"]],"b":[],"seq":1,"sy":"BTCUSD","type":"ob_updates","ts":1}"#,
                DeltaMdError::ZeroPrice,
            ),
            (
                br#"{"action":"update","a":[["1","1","2"]],"b":[],"seq":1,"sy":"BTCUSD","type":"ob_updates","ts":1}"#,
                DeltaMdError::WrongType("a"),
            ),
            (
                br#"{"action":"update","a":[],"b":[],"seq":1,"sy":"BTCUSD","type":"ob_updates","ts":1,"cs":4294967296}"#,
                DeltaMdError::WrongType("cs"),
            ),
            (
                br#"{"fr":1e300,"sy":"BTCUSD","ts":1,"type":"funding_rate"}"#,
                DeltaMdError::WrongType("fr"),
            ),
        ] {
            assert_eq!(p.parse(f), Err(e), "{}", String::from_utf8_lossy(f));
        }
    }
}
