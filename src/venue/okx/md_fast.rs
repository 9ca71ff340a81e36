//! The hand-shaped reader of the OKX pushes that come most often and have one fixed shape:
//! `bbo-tbt`, `trades` and `books`, with keys in the order OKX sends them and no whitespace.
//! It reads the bytes in place and validates every field it takes; anything else (another
//! channel, another key order, escapes, extra fields) is a miss, and the general decoder
//! (simd-json's tape) reads the frame instead, as the authority on what is an error.
//!
//! Everything is compared as fixed literals and machine words: the channel and the key after
//! it in one literal, the `instId` against each instrument's bytes and closing quote (two
//! masked words for ids of up to 15 bytes: [`Keys`]), integers and millisecond times eight
//! digits per word. No byte is scanned twice and nothing is allocated.

use crate::book::Level;
use crate::types::fixed::POW10;
use crate::types::{InstrumentId, Price, Qty, Side, TradeId, TradePrint, UnixNanos};

use super::md::{InstTable, Msg};

/// One instrument as the reader matches it: its `instId` and the closing quote.
struct Key {
    /// `instId` + `"`.
    bytes: Box<[u8]>,
    id: InstrumentId,
    /// The first 16 bytes of `bytes` (zero-padded) as two little-endian words, and the masks
    /// that keep only `bytes`' own; `None` for longer ids (compared as slices).
    words: Option<[u64; 4]>,
}

/// The instruments of an [`InstTable`], ready to be matched in place (built once per table:
/// the parser rebuilds it whenever the table may have changed).
#[derive(Default)]
pub(super) struct Keys {
    keys: Vec<Key>,
}

impl Keys {
    pub(super) fn new(insts: &InstTable) -> Self {
        let keys = insts
            .iter()
            // An id with a quote or a backslash could never be read as one string here: left
            // to the general decoder.
            .filter(|(s, _)| !s.bytes().any(|b| b == b'"' || b == b'\\'))
            .map(|(s, id)| {
                let mut bytes = s.as_bytes().to_vec();
                bytes.push(b'"');
                let words = (bytes.len() <= 16).then(|| {
                    let mut w = [0u8; 16];
                    let mut m = [0u8; 16];
                    w[..bytes.len()].copy_from_slice(&bytes);
                    m[..bytes.len()].fill(0xFF);
                    let word = |b: &[u8; 16], i: usize| {
                        u64::from_le_bytes(b[i..i + 8].try_into().unwrap_or([0; 8]))
                    };
                    [word(&w, 0), word(&w, 8), word(&m, 0), word(&m, 8)]
                });
                Key {
                    bytes: bytes.into_boxed_slice(),
                    id,
                    words,
                }
            })
            .collect();
        Self { keys }
    }

    /// The instrument whose `instId` and closing quote start `rest`, and those bytes.
    #[inline(always)]
    fn find(&self, rest: &[u8]) -> Option<(InstrumentId, &[u8])> {
        let head = rest.first_chunk::<16>().map(|w| {
            let lo = u64::from_le_bytes(w[..8].try_into().unwrap_or([0; 8]));
            let hi = u64::from_le_bytes(w[8..].try_into().unwrap_or([0; 8]));
            (lo, hi)
        });
        self.keys
            .iter()
            .find(|k| match (k.words, head) {
                (Some([w0, w1, m0, m1]), Some((lo, hi))) => {
                    ((lo ^ w0) & m0) | ((hi ^ w1) & m1) == 0
                }
                _ => rest.starts_with(&k.bytes),
            })
            .map(|k| (k.id, &*k.bytes))
    }
}

struct Cursor<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    #[inline(always)]
    fn rest(&self) -> &'a [u8] {
        self.b.get(self.at..).unwrap_or(&[])
    }

    #[inline(always)]
    fn lit(&mut self, s: &[u8]) -> Option<()> {
        if self.b.get(self.at..self.at + s.len())? == s {
            self.at += s.len();
            Some(())
        } else {
            None
        }
    }

    /// Consumes `s` if it is next.
    #[inline(always)]
    fn eat(&mut self, s: &[u8]) -> bool {
        self.lit(s).is_some()
    }

    /// The bytes up to the next `"` (which is consumed); an escape is a miss.
    #[inline]
    fn until_quote(&mut self) -> Option<&'a [u8]> {
        let rest = self.rest();
        let n = rest.iter().position(|&c| c == b'"' || c == b'\\')?;
        if rest[n] != b'"' {
            return None;
        }
        self.at += n + 1;
        Some(&rest[..n])
    }

    /// A JSON integer (`seqId`, `prevSeqId`, `checksum`): an optional minus, 1 to 18 digits,
    /// no leading zero.
    #[inline(always)]
    fn int(&mut self) -> Option<i64> {
        let rest = self.rest();
        let neg = rest.first() == Some(&b'-');
        let digits = &rest[usize::from(neg)..];
        let (v, n) = uint_digits(digits);
        // JSON numbers have no leading zeros (`0617` is not JSON): leave those to the general
        // decoder, which refuses them.
        if n == 0 || n > 18 || (n > 1 && digits[0] == b'0') {
            return None;
        }
        // n <= 18 digits: below 10^18, an i64. `-0` is left to the general decoder (a float
        // to some readers).
        let v = v as i64;
        if neg && v == 0 {
            return None;
        }
        self.at += usize::from(neg) + n;
        Some(if neg { -v } else { v })
    }

    /// A string field the reader does not use (deprecated level fields, counts): skipped, but
    /// only when it is digits, so that bytes the general decoder would refuse (control
    /// characters inside a string) are not taken here either.
    #[inline(always)]
    fn skip_digits(&mut self) -> Option<()> {
        let rest = self.rest();
        let (_, mut n) = digit_run(rest);
        if n == 8 {
            n += rest[8..].iter().take_while(|c| c.is_ascii_digit()).count();
        }
        if rest.get(n) != Some(&b'"') {
            return None;
        }
        self.at += n + 1;
        Some(())
    }

    /// A string of digits only (OKX's numeric `tradeId`), through its closing quote; any
    /// other string is read by [`Cursor::until_quote`].
    #[inline(always)]
    fn id_string(&mut self) -> Option<&'a [u8]> {
        let rest = self.rest();
        let (_, mut n) = digit_run(rest);
        if n == 8 {
            n += rest[8..].iter().take_while(|c| c.is_ascii_digit()).count();
        }
        if rest.get(n) == Some(&b'"') {
            self.at += n + 1;
            return Some(&rest[..n]);
        }
        self.until_quote()
    }

    /// A decimal string's body and closing quote (the opening quote consumed), in units of
    /// `10^-8`, in one pass that also finds the quote and tells whether the text is OKX's
    /// shortest form (no leading zero, no trailing fractional zero: what the checksum needs
    /// to rebuild the venue's strings from the numbers). The same value and flag as
    /// `Price::parse_bytes` and `md::shortest` give; narrower (at most 8 integer digits and
    /// 8 decimals, a digit on each side of a point), so anything unusual is a miss and the
    /// general decoder decides. Digits are read eight bytes at a time.
    #[inline(always)]
    fn decimal(&mut self) -> Option<(i64, bool)> {
        let rest = self.rest();
        let (int, int_digits) = digit_run(rest);
        if int_digits == 0 || int_digits == 8 && rest.get(8).is_some_and(u8::is_ascii_digit) {
            return None;
        }
        let mut shortest = int_digits == 1 || rest[0] != b'0';
        let mut i = int_digits;
        let mut units = int * 100_000_000;
        if rest.get(i) == Some(&b'.') {
            let (frac, n) = digit_run(&rest[i + 1..]);
            if n == 0 {
                return None;
            }
            i += 1 + n;
            shortest &= rest[i - 1] != b'0';
            units += frac * POW10[8 - n];
        }
        if rest.get(i) != Some(&b'"') {
            return None;
        }
        self.at += i + 1;
        Some((units as i64, shortest))
    }

    /// A millisecond time string (`"1597026383085"`, the opening quote consumed): 1 to 15
    /// digits and the closing quote.
    #[inline(always)]
    fn millis(&mut self) -> Option<UnixNanos> {
        let rest = self.rest();
        let (ms, n) = uint_digits(rest);
        if n == 0 || n > 15 || rest.get(n) != Some(&b'"') {
            return None;
        }
        self.at += n + 1;
        Some(UnixNanos::from_millis(ms))
    }

    /// One level `"p","q","0","n"]` (after its opening `["`).
    #[inline(always)]
    fn level(&mut self) -> Option<Level> {
        let p = Price::from_units(self.decimal()?.0);
        self.lit(b",\"")?;
        let q = Qty::from_units(self.decimal()?.0);
        self.lit(b",\"")?;
        self.skip_digits()?;
        self.lit(b",\"")?;
        self.skip_digits()?;
        self.lit(b"]")?;
        (!p.is_zero()).then_some(Level { price: p, qty: q })
    }
}

/// The digits at the start of `b` (at most 8) as a number, and how many there were. Eight
/// bytes are read as one word when the frame has them (it does everywhere but its last few
/// bytes); byte by byte otherwise.
#[inline(always)]
fn digit_run(b: &[u8]) -> (u64, usize) {
    let Some(w) = b.first_chunk::<8>() else {
        let n = b.iter().take(8).take_while(|c| c.is_ascii_digit()).count();
        let v = b[..n].iter().fold(0, |v, &c| v * 10 + u64::from(c - b'0'));
        return (v, n);
    };
    digit_word(u64::from_le_bytes(*w))
}

/// The leading ASCII digits of the eight bytes `w` (first byte lowest) as a number, and how
/// many there are (0..=8).
#[inline(always)]
fn digit_word(w: u64) -> (u64, usize) {
    const ZEROS: u64 = 0x3030_3030_3030_3030;
    const HIGH: u64 = 0xF0F0_F0F0_F0F0_F0F0;
    let d = w.wrapping_sub(ZEROS);
    // Non-zero bytes of `bad` are not digits. Below the first of them every byte was a digit,
    // so `d` holds its value there exactly (a borrow only runs upward from a non-digit).
    let bad = ((w & HIGH) ^ ZEROS) | (d.wrapping_add(0x0606_0606_0606_0606) & HIGH);
    let n = (bad.trailing_zeros() / 8) as usize;
    if n == 0 {
        return (0, 0);
    }
    // Keep the n digits, moved to the top bytes: the zero bytes below are leading zeros.
    let d = d << (8 * (8 - n));
    let d = (d.wrapping_mul(10) + (d >> 8)) & 0x00FF_00FF_00FF_00FF;
    let d = (d.wrapping_mul(100) + (d >> 16)) & 0x0000_FFFF_0000_FFFF;
    ((d.wrapping_mul(10_000) + (d >> 32)) & 0xFFFF_FFFF, n)
}

/// The digits at the start of `b` as a number and how many there were, counting at most 19
/// (a longer run reads as 19 digits, which every caller refuses): eight digits per word,
/// byte by byte past the sixteenth.
#[inline(always)]
fn uint_digits(b: &[u8]) -> (u64, usize) {
    let (mut v, mut n) = digit_run(b);
    if n < 8 {
        return (v, n);
    }
    let (lo, m) = digit_run(&b[8..]);
    v = v * POW10[m] + lo;
    n += m;
    while n < 19
        && let Some(&c) = b.get(n)
        && c.is_ascii_digit()
    {
        v = v * 10 + u64::from(c - b'0');
        n += 1;
    }
    (v, n)
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
#[inline]
pub(super) fn parse(frame: &[u8], keys: &Keys, out: Out<'_>) -> Option<Msg> {
    #[derive(Clone, Copy)]
    enum Channel {
        Bbo,
        Trades,
        Books,
    }
    let mut c = Cursor { b: frame, at: 0 };
    c.lit(b"{\"arg\":{\"channel\":\"")?;
    let channel = if c.eat(b"bbo-tbt\",\"instId\":\"") {
        Channel::Bbo
    } else if c.eat(b"trades\",\"instId\":\"") {
        Channel::Trades
    } else if c.eat(b"books\",\"instId\":\"") {
        Channel::Books
    } else {
        return None;
    };
    let (instrument, key) = keys.find(c.rest())?;
    c.at += key.len();
    match channel {
        Channel::Books => books(&mut c, instrument, out),
        Channel::Bbo => {
            c.lit(b"},\"data\":[{")?;
            bbo(&mut c, instrument)
        }
        Channel::Trades => {
            c.lit(b"},\"data\":[{")?;
            let trades = out.trades;
            trades.clear();
            let r = trades_data(&mut c, instrument, key, trades);
            if r.is_none() {
                trades.clear();
            }
            r
        }
    }
}

#[inline(always)]
fn bbo(c: &mut Cursor<'_>, instrument: InstrumentId) -> Option<Msg> {
    c.lit(b"\"asks\":[[\"")?;
    let ask = c.level()?;
    c.lit(b"],\"bids\":[[\"")?;
    let bid = c.level()?;
    c.lit(b"],\"ts\":\"")?;
    let ts = c.millis()?;
    let seq = if c.eat(b",\"seqId\":") {
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

/// The `data` of a `trades` push; `key` is the arg's `instId` and its closing quote, which
/// every trade must repeat.
#[inline(always)]
fn trades_data(
    c: &mut Cursor<'_>,
    instrument: InstrumentId,
    key: &[u8],
    out: &mut Vec<TradePrint>,
) -> Option<Msg> {
    loop {
        c.lit(b"\"instId\":\"")?;
        c.lit(key)?;
        c.lit(b",\"tradeId\":\"")?;
        let trade_id = TradeId::new(c.id_string()?)?;
        c.lit(b",\"px\":\"")?;
        let price = Price::from_units(c.decimal()?.0);
        c.lit(b",\"sz\":\"")?;
        let qty = Qty::from_units(c.decimal()?.0);
        c.lit(b",\"side\":\"")?;
        let aggressor = if c.eat(b"buy\"") {
            Side::Buy
        } else if c.eat(b"sell\"") {
            Side::Sell
        } else {
            return None;
        };
        c.lit(b",\"ts\":\"")?;
        let ts = c.millis()?;
        // `count` and `seqId` came later than the other fields (captures from 2022 lack them).
        if c.eat(b",\"count\":\"") {
            c.skip_digits()?;
        }
        if c.eat(b",\"seqId\":") {
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
        if !c.eat(b",{") {
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
        let (price, p_short) = c.decimal()?;
        c.lit(b",\"")?;
        let (qty, q_short) = c.decimal()?;
        *canonical &= p_short && q_short;
        let (price, qty) = (Price::from_units(price), Qty::from_units(qty));
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

#[cfg(test)]
mod tests {
    use super::Cursor;

    fn decimal(s: &str) -> Option<(i64, bool)> {
        let mut c = Cursor {
            b: s.as_bytes(),
            at: 0,
        };
        // A decimal read ends just past its closing quote.
        c.decimal()
            .inspect(|_| assert_eq!(c.at, s.find('"').map_or(0, |q| q + 1)))
    }

    #[test]
    fn decimals_read_in_one_pass_with_their_shortest_flag() {
        assert_eq!(decimal("61837.6\""), Some((6_183_760_000_000, true)));
        assert_eq!(decimal("0.00012345\""), Some((12_345, true)));
        assert_eq!(decimal("0\""), Some((0, true)));
        assert_eq!(decimal("12\""), Some((1_200_000_000, true)));
        assert_eq!(
            decimal("12345678.12345678\""),
            Some((1_234_567_812_345_678, true))
        );
        // Eight bytes read at once even when the number is shorter.
        assert_eq!(
            decimal("30236.1\",\"0.00413\",\"0\",\"1\"]"),
            Some((3_023_610_000_000, true))
        );
        // Readable, but not OKX's shortest text: the checksum cannot be rebuilt from them.
        assert_eq!(decimal("1.50\""), Some((150_000_000, false)));
        assert_eq!(decimal("01.5\""), Some((150_000_000, false)));
        assert_eq!(decimal("3.0\""), Some((300_000_000, false)));
        // Misses: the general decoder decides.
        for s in [
            "1.\"",
            ".5\"",
            "\"",
            "1.123456789\"",
            "123456789\"",
            "123456789012\"",
            "1.5000000000\"",
            "-1\"",
            "1e5\"",
            "1.5",
        ] {
            assert_eq!(decimal(s), None, "{s}");
        }
    }
}
