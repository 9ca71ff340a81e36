//! The hand-shaped reader of the OKX pushes that come most often and have one fixed shape:
//! `bbo-tbt`, `trades` and `books`, with keys in the order OKX sends them and no whitespace.
//! It reads the bytes in place and validates every field it takes; anything else (another
//! channel, another key order, escapes, extra fields) is a miss, and the general decoder
//! (simd-json's tape) reads the frame instead, as the authority on what is an error.

use crate::book::Level;
use crate::types::{InstrumentId, Price, Qty, Side, TradeId, TradePrint, UnixNanos};

use super::md::{InstTable, Msg};

struct Cursor<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    #[inline]
    fn lit(&mut self, s: &[u8]) -> Option<()> {
        if self.b.get(self.at..self.at + s.len())? == s {
            self.at += s.len();
            Some(())
        } else {
            None
        }
    }

    /// The bytes up to the next `"` (which is consumed); an escape is a miss.
    #[inline]
    fn until_quote(&mut self) -> Option<&'a [u8]> {
        let rest = &self.b[self.at..];
        let n = rest.iter().position(|&c| c == b'"' || c == b'\\')?;
        if rest[n] != b'"' {
            return None;
        }
        self.at += n + 1;
        Some(&rest[..n])
    }

    #[inline]
    fn int(&mut self) -> Option<i64> {
        let rest = &self.b[self.at..];
        let neg = rest.first() == Some(&b'-');
        let digits = &rest[usize::from(neg)..];
        let n = digits
            .iter()
            .position(|c| !c.is_ascii_digit())
            .unwrap_or(digits.len());
        // JSON numbers have no leading zeros (`0617` is not JSON): leave those to the general
        // decoder, which refuses them.
        if n == 0 || n > 18 || (n > 1 && digits[0] == b'0') {
            return None;
        }
        let v = digits[..n]
            .iter()
            .fold(0i64, |v, &d| v * 10 + i64::from(d - b'0'));
        self.at += usize::from(neg) + n;
        Some(if neg { -v } else { v })
    }

    /// A string field the reader does not use (deprecated level fields, counts): skipped, but
    /// only when it is digits, so that bytes the general decoder would refuse (control
    /// characters inside a string) are not taken here either.
    #[inline]
    fn skip_digits(&mut self) -> Option<()> {
        self.until_quote()?
            .iter()
            .all(u8::is_ascii_digit)
            .then_some(())
    }

    #[inline]
    fn millis(&mut self) -> Option<UnixNanos> {
        let s = self.until_quote()?;
        if s.is_empty() || s.len() > 15 || !s.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let ms = s.iter().fold(0u64, |v, &d| v * 10 + u64::from(d - b'0'));
        Some(UnixNanos::from_millis(ms))
    }

    /// One level `"p","q","0","n"]` (after its opening `["`).
    #[inline]
    fn level(&mut self) -> Option<Level> {
        let p = Price::parse_bytes(self.until_quote()?).ok()?;
        self.lit(b",\"")?;
        let q = Qty::parse_bytes(self.until_quote()?).ok()?;
        self.lit(b",\"")?;
        self.skip_digits()?;
        self.lit(b",\"")?;
        self.skip_digits()?;
        self.lit(b"]")?;
        (!p.is_zero()).then_some(Level { price: p, qty: q })
    }
}

/// Where a frame's decoded parts go (the parser's reused buffers).
pub(super) struct Out<'a> {
    pub trades: &'a mut Vec<TradePrint>,
    pub bids: &'a mut Vec<Level>,
    pub asks: &'a mut Vec<Level>,
    pub canonical: &'a mut bool,
}

/// `Some` when the frame is a `bbo-tbt`, `trades` or `books` push of the shape OKX sends;
/// `None` for the general decoder. Trades and levels go into `out` (cleared first).
pub(super) fn parse(frame: &[u8], insts: &InstTable, out: Out<'_>) -> Option<Msg> {
    let mut c = Cursor { b: frame, at: 0 };
    c.lit(b"{\"arg\":{\"channel\":\"")?;
    let channel = c.until_quote()?;
    c.lit(b",\"instId\":\"")?;
    let inst = std::str::from_utf8(c.until_quote()?).ok()?;
    let instrument = insts.get(inst)?;
    if channel == b"books" {
        return books(&mut c, instrument, out);
    }
    let trades = out.trades;
    c.lit(b"},\"data\":[{")?;
    match channel {
        b"bbo-tbt" => bbo(&mut c, instrument),
        b"trades" => {
            trades.clear();
            let r = trades_data(&mut c, instrument, inst, trades);
            if r.is_none() {
                trades.clear();
            }
            r
        }
        _ => None,
    }
}

fn bbo(c: &mut Cursor<'_>, instrument: InstrumentId) -> Option<Msg> {
    c.lit(b"\"asks\":[[\"")?;
    let ask = c.level()?;
    c.lit(b"],\"bids\":[[\"")?;
    let bid = c.level()?;
    c.lit(b"],\"ts\":\"")?;
    let ts = c.millis()?;
    let seq = if c.lit(b",\"seqId\":").is_some() {
        Some(c.int()?)
    } else {
        None
    };
    c.lit(b"}]}")?;
    (c.at == c.b.len()).then_some(Msg::Bbo {
        instrument,
        bid,
        ask,
        seq,
        ts,
    })
}

fn trades_data(
    c: &mut Cursor<'_>,
    instrument: InstrumentId,
    inst: &str,
    out: &mut Vec<TradePrint>,
) -> Option<Msg> {
    loop {
        c.lit(b"\"instId\":\"")?;
        if c.until_quote()? != inst.as_bytes() {
            return None;
        }
        c.lit(b",\"tradeId\":\"")?;
        let trade_id = TradeId::new(c.until_quote()?)?;
        c.lit(b",\"px\":\"")?;
        let price = Price::parse_bytes(c.until_quote()?).ok()?;
        c.lit(b",\"sz\":\"")?;
        let qty = Qty::parse_bytes(c.until_quote()?).ok()?;
        c.lit(b",\"side\":\"")?;
        let aggressor = match c.until_quote()? {
            b"buy" => Side::Buy,
            b"sell" => Side::Sell,
            _ => return None,
        };
        c.lit(b",\"ts\":\"")?;
        let ts = c.millis()?;
        // `count` and `seqId` came later than the other fields (captures from 2022 lack them).
        if c.lit(b",\"count\":\"").is_some() {
            c.skip_digits()?;
        }
        if c.lit(b",\"seqId\":").is_some() {
            c.int()?;
        }
        c.lit(b"}")?;
        out.push(TradePrint {
            instrument,
            trade_id,
            price,
            qty,
            aggressor,
            trade_time: ts,
            event_time: ts,
        });
        if c.lit(b",{").is_none() {
            break;
        }
    }
    c.lit(b"]}")?;
    (c.at == c.b.len()).then_some(Msg::Trades)
}

/// `[["p","q","0","n"],…]` into `out`; false (a miss) on anything else.
fn levels(c: &mut Cursor<'_>, out: &mut Vec<Level>, canonical: &mut bool) -> Option<()> {
    out.clear();
    c.lit(b"[")?;
    if c.lit(b"]").is_some() {
        return Some(());
    }
    loop {
        c.lit(b"[\"")?;
        let p = c.until_quote()?;
        c.lit(b",\"")?;
        let q = c.until_quote()?;
        *canonical &= super::md::shortest(p) && super::md::shortest(q);
        let price = Price::parse_bytes(p).ok()?;
        let qty = Qty::parse_bytes(q).ok()?;
        c.lit(b",\"")?;
        c.skip_digits()?;
        c.lit(b",\"")?;
        c.skip_digits()?;
        c.lit(b"]")?;
        if price.is_zero() {
            return None;
        }
        out.push(Level { price, qty });
        if c.lit(b",").is_none() {
            break;
        }
    }
    c.lit(b"]")
}

/// A `books` push: `"action"`, then `data[0]` with asks, bids, ts, checksum and, when the
/// venue sends them, `prevSeqId` and `seqId`.
fn books(c: &mut Cursor<'_>, instrument: InstrumentId, out: Out<'_>) -> Option<Msg> {
    c.lit(b"},\"action\":\"")?;
    let snapshot = match c.until_quote()? {
        b"snapshot" => true,
        b"update" => false,
        _ => return None,
    };
    c.lit(b",\"data\":[{\"asks\":")?;
    *out.canonical = true;
    let r = (|| {
        levels(c, out.asks, out.canonical)?;
        c.lit(b",\"bids\":")?;
        levels(c, out.bids, out.canonical)?;
        c.lit(b",\"ts\":\"")?;
        let ts = c.millis()?;
        let mut checksum = 0i64;
        let (mut prev, mut seq) = (None, None);
        if c.lit(b",\"checksum\":").is_some() {
            checksum = c.int()?;
        }
        if c.lit(b",\"prevSeqId\":").is_some() {
            prev = Some(c.int()?);
        }
        if c.lit(b",\"seqId\":").is_some() {
            seq = Some(c.int()?);
        }
        c.lit(b"}]}")?;
        (c.at == c.b.len()).then_some(Msg::Book {
            instrument,
            snapshot,
            seq,
            prev,
            checksum: i32::try_from(checksum).ok()?,
            ts,
        })
    })();
    if r.is_none() {
        out.bids.clear();
        out.asks.clear();
    }
    r
}
