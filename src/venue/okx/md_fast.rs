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

    /// The eight bytes from `i` as one little-endian word (byte `i` lowest), zeros past the
    /// frame's end: a zero byte is no digit, quote or point, so a number that ends the frame
    /// reads like one that does not.
    #[inline(always)]
    fn word(&self, i: usize) -> u64 {
        match self.b.get(i..).and_then(<[u8]>::first_chunk::<8>) {
            Some(w) => u64::from_le_bytes(*w),
            None => self.tail_word(i),
        }
    }

    /// [`Cursor::word`] within eight bytes of the end: the frame's last word, moved down.
    #[inline(always)]
    fn tail_word(&self, i: usize) -> u64 {
        let len = self.b.len();
        match self.b.last_chunk::<8>() {
            // 0 < len - i < 8: a shift of 8 to 56 bits.
            Some(w) if i < len => u64::from_le_bytes(*w) >> (8 * (i + 8 - len)),
            Some(_) => 0,
            // A frame of fewer than eight bytes.
            None => self
                .b
                .get(i..)
                .unwrap_or(&[])
                .iter()
                .rev()
                .fold(0, |w, &c| (w << 8) | u64::from(c)),
        }
    }

    /// The digits from `i` (at most 8) as a number, and how many there were.
    #[inline(always)]
    fn digits(&self, i: usize) -> (u64, usize) {
        digit_word(self.word(i))
    }

    /// The digits from `i` as a number and how many there were, counting at most 19 (a
    /// longer run reads as 19 digits, which every caller refuses): eight digits per word,
    /// byte by byte past the sixteenth.
    #[inline(always)]
    fn uint(&self, i: usize) -> (u64, usize) {
        let (mut v, mut n) = self.digits(i);
        if n < 8 {
            return (v, n);
        }
        let (lo, m) = self.digits(i + 8);
        v = v * POW10[m] + lo;
        n += m;
        while n < 19
            && let Some(&c) = self.b.get(i + n)
            && c.is_ascii_digit()
        {
            v = v * 10 + u64::from(c - b'0');
            n += 1;
        }
        (v, n)
    }

    /// How many digits start at `i`, counting past eight one byte at a time.
    #[inline(always)]
    fn digit_count(&self, i: usize) -> usize {
        let mut n = leading_digits(self.word(i));
        if n == 8 {
            while self.b.get(i + n).is_some_and(u8::is_ascii_digit) {
                n += 1;
            }
        }
        n
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
        let neg = self.b.get(self.at) == Some(&b'-');
        let start = self.at + usize::from(neg);
        let (v, n) = self.uint(start);
        // JSON numbers have no leading zeros (`0617` is not JSON): leave those to the general
        // decoder, which refuses them.
        if n == 0 || n > 18 || (n > 1 && self.b.get(start) == Some(&b'0')) {
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
        let n = self.digit_count(self.at);
        if self.b.get(self.at + n) != Some(&b'"') {
            return None;
        }
        self.at += n + 1;
        Some(())
    }

    /// A level's two unused fields and its closing bracket, `,"0","13"]` (liquidated orders,
    /// deprecated and always `"0"`, then the order count). The usual shape is checked in two
    /// words: the six bytes `,"0","`, then up to six digits and `"]`; any other is read field
    /// by field.
    #[inline(always)]
    fn level_tail(&mut self) -> Option<()> {
        const HEAD: u64 = u64::from_le_bytes(*b",\"0\",\"\0\0");
        const SIX: u64 = 0xFFFF_FFFF_FFFF;
        if self.word(self.at) & SIX == HEAD {
            let w = self.word(self.at + 6);
            let n = leading_digits(w);
            // n <= 6: the two bytes after the digits are in the word.
            if (1..=6).contains(&n) && (w >> (8 * n)) as u16 == u16::from_le_bytes(*b"\"]") {
                self.at += 6 + n + 2;
                return Some(());
            }
        }
        self.lit(b",\"")?;
        self.skip_digits()?;
        self.lit(b",\"")?;
        self.skip_digits()?;
        self.lit(b"]")
    }

    /// A string of digits only (OKX's numeric `tradeId`), through its closing quote; any
    /// other string is read by [`Cursor::until_quote`].
    #[inline(always)]
    fn id_string(&mut self) -> Option<&'a [u8]> {
        let n = self.digit_count(self.at);
        let rest = self.rest();
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
    /// general decoder decides.
    ///
    /// The integer digits are counted in the word at its start and the decimals in the word
    /// after the point; when there are eight digits or fewer in all (`61837.6`, `0.00413`)
    /// the two runs are joined into one word and converted once, else each is converted.
    /// Eight integer digits take [`Cursor::long_decimal`].
    #[inline(always)]
    fn decimal(&mut self) -> Option<(i64, bool)> {
        let w0 = self.word(self.at);
        let n1 = leading_digits(w0);
        if n1 == 0 {
            return None;
        }
        if n1 == 8 {
            return self.long_decimal();
        }
        let lead_zero = n1 > 1 && w0 as u8 == b'0';
        // n1 < 8: the byte after the integer digits is in `w0`.
        match (w0 >> (8 * n1)) as u8 {
            b'"' => {
                self.at += n1 + 1;
                Some(((digit_value(w0, n1) * POW10[8]) as i64, !lead_zero))
            }
            b'.' => {
                let frac_at = self.at + n1 + 1;
                let wf = self.word(frac_at);
                let n2 = leading_digits(wf);
                // At most eight decimals, then the closing quote.
                if n2 == 0 || self.b.get(frac_at + n2) != Some(&b'"') {
                    return None;
                }
                let last_zero = (wf >> (8 * (n2 - 1))) as u8 == b'0';
                let units = if n1 + n2 <= 8 {
                    // One conversion: the integer digits, then the fraction's moved up to
                    // follow them.
                    let keep = (1u64 << (8 * n1)) - 1;
                    let joined = (w0 & keep) | (wf << (8 * n1));
                    digit_value(joined, n1 + n2) * POW10[8 - n2]
                } else {
                    digit_value(w0, n1) * POW10[8] + digit_value(wf, n2) * POW10[8 - n2]
                };
                self.at = frac_at + n2 + 1;
                Some((units as i64, !lead_zero && !last_zero))
            }
            _ => None,
        }
    }

    /// [`Cursor::decimal`] for eight integer digits (and the digit loop's checks).
    #[inline(never)]
    fn long_decimal(&mut self) -> Option<(i64, bool)> {
        let (int, int_digits) = self.digits(self.at);
        if int_digits == 0
            || int_digits == 8 && self.b.get(self.at + 8).is_some_and(u8::is_ascii_digit)
        {
            return None;
        }
        let mut shortest = int_digits == 1 || self.b.get(self.at) != Some(&b'0');
        let mut i = self.at + int_digits;
        let mut units = int * 100_000_000;
        if self.b.get(i) == Some(&b'.') {
            let (frac, n) = self.digits(i + 1);
            if n == 0 {
                return None;
            }
            i += 1 + n;
            shortest &= self.b.get(i - 1) != Some(&b'0');
            units += frac * POW10[8 - n];
        }
        if self.b.get(i) != Some(&b'"') {
            return None;
        }
        self.at = i + 1;
        Some((units as i64, shortest))
    }

    /// A millisecond time string (`"1597026383085"`, the opening quote consumed): 1 to 15
    /// digits and the closing quote. Thirteen digits (every time from 2001 to 2286) are
    /// checked and read as two words at once, with no scan for their end.
    #[inline(always)]
    fn millis(&mut self) -> Option<UnixNanos> {
        if let Some(ms) = thirteen_digits(self.word(self.at), self.word(self.at + 8)) {
            self.at += 14;
            return Some(UnixNanos::from_millis(ms));
        }
        let (ms, n) = self.uint(self.at);
        if n == 0 || n > 15 || self.b.get(self.at + n) != Some(&b'"') {
            return None;
        }
        self.at += n + 1;
        Some(UnixNanos::from_millis(ms))
    }

    /// The one level of a `bbo-tbt` side, `"p","q","0","n"` (after its opening `[["`; the
    /// caller matches the closing brackets with the key after them): the deprecated third
    /// field must be `"0"`, as OKX sends it (anything else is left to the general decoder,
    /// which ignores it).
    #[inline(always)]
    fn top_level(&mut self) -> Option<Level> {
        let p = self.decimal()?.0;
        self.lit(b",\"")?;
        let q = self.decimal()?.0;
        self.lit(b",\"0\",\"")?;
        self.skip_digits()?;
        (p != 0).then_some(Level {
            price: Price::from_units(p),
            qty: Qty::from_units(q),
        })
    }
}

const ZEROS: u64 = 0x3030_3030_3030_3030;
const HIGH: u64 = 0xF0F0_F0F0_F0F0_F0F0;

/// How many of the eight bytes `w` (first byte lowest) are ASCII digits before the first
/// that is not (0..=8).
#[inline(always)]
fn leading_digits(w: u64) -> usize {
    let d = w.wrapping_sub(ZEROS);
    // Non-zero bytes of `bad` are not digits. Below the first of them every byte was a digit,
    // so `d` holds its value there exactly (a borrow only runs upward from a non-digit).
    let bad = ((w & HIGH) ^ ZEROS) | (d.wrapping_add(0x0606_0606_0606_0606) & HIGH);
    (bad.trailing_zeros() / 8) as usize
}

/// The value of the first `n` bytes of `w` (1..=8), which are ASCII digits.
#[inline(always)]
fn digit_value(w: u64, n: usize) -> u64 {
    // Keep the n digits, moved to the top bytes: the zero bytes below are leading zeros.
    let d = w.wrapping_sub(ZEROS) << (8 * (8 - n));
    let d = (d.wrapping_mul(10) + (d >> 8)) & 0x00FF_00FF_00FF_00FF;
    let d = (d.wrapping_mul(100) + (d >> 16)) & 0x0000_FFFF_0000_FFFF;
    (d.wrapping_mul(10_000) + (d >> 32)) & 0xFFFF_FFFF
}

/// The leading ASCII digits of the eight bytes `w` (first byte lowest) as a number, and how
/// many there are (0..=8).
#[inline(always)]
fn digit_word(w: u64) -> (u64, usize) {
    let n = leading_digits(w);
    if n == 0 {
        return (0, 0);
    }
    (digit_value(w, n), n)
}

/// `lo` and the first five bytes of `hi` as thirteen ASCII digits (first byte lowest)
/// followed by `"`: their value, or `None` when they are not.
#[inline(always)]
fn thirteen_digits(lo: u64, hi: u64) -> Option<u64> {
    const SIX: u64 = 0x0606_0606_0606_0606;
    // A quote in `hi`'s sixth byte becomes `0` (and is then held to exactly that below,
    // where only a quote could give it); its last two bytes, past the field, become `0` too.
    const FIVE: u64 = 0x0000_FFFF_FFFF_FFFF;
    let hi = ((hi ^ (u64::from(b'"' ^ b'0') << 40)) & FIVE) | (ZEROS & !FIVE);
    let (dl, dh) = (lo.wrapping_sub(ZEROS), hi.wrapping_sub(ZEROS));
    let bad = ((lo & HIGH) ^ ZEROS)
        | (dl.wrapping_add(SIX) & HIGH)
        | ((hi & HIGH) ^ ZEROS)
        | (dh.wrapping_add(SIX) & HIGH)
        | (dh & 0x0000_FF00_0000_0000);
    if bad != 0 {
        return None;
    }
    // Both words at once: the high one's five digits moved to its top bytes.
    let pair = |d: u64| {
        let d = (d.wrapping_mul(10) + (d >> 8)) & 0x00FF_00FF_00FF_00FF;
        let d = (d.wrapping_mul(100) + (d >> 16)) & 0x0000_FFFF_0000_FFFF;
        (d.wrapping_mul(10_000) + (d >> 32)) & 0xFFFF_FFFF
    };
    Some(pair(dl) * 100_000 + pair((dh & 0xFF_FFFF_FFFF) << 24))
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
        Channel::Bbo => bbo(&mut c, instrument),
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

/// A `bbo-tbt` push after its `instId`: the literals between the values are matched whole.
#[inline(always)]
fn bbo(c: &mut Cursor<'_>, instrument: InstrumentId) -> Option<Msg> {
    c.lit(b"},\"data\":[{\"asks\":[[\"")?;
    let ask = c.top_level()?;
    c.lit(b"]],\"bids\":[[\"")?;
    let bid = c.top_level()?;
    c.lit(b"]],\"ts\":\"")?;
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
    c.lit(b"[\"")?;
    loop {
        let (price, p_short) = c.decimal()?;
        c.lit(b",\"")?;
        let (qty, q_short) = c.decimal()?;
        *canonical &= p_short && q_short;
        let (price, qty) = (Price::from_units(price), Qty::from_units(qty));
        c.level_tail()?;
        if price.is_zero() {
            return None;
        }
        out.push(Level { price, qty });
        if c.lit(b",[\"").is_none() {
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
#[path = "md_fast_tests.rs"]
mod tests;
