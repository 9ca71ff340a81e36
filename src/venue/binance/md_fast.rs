//! The fast path: reads the frames Binance actually sends, in its exact layout (keys in
//! Binance's order, no whitespace), straight from the bytes.
//!
//! It accepts a strict subset of JSON: fixed key literals, strings without escapes, integers
//! without signs, fractions or leading zeros, and nothing after the closing brace. Every field
//! is validated as it is read (symbol against the table, decimals exactly, `U <= u`, prices
//! positive). Anything else, valid or not, is a `Miss` and goes to the general decoder, which
//! decides whether the frame is an event or an error. So this path can only ever be faster,
//! never more permissive.

use crate::book::Level;
use crate::types::{InstrumentId, Price, Qty};

use super::md::{BookTicker, Ctx, Head, Levels, Trade};

/// The frame is not in the exact shape this path reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Miss;

type R<T> = Result<T, Miss>;

/// A cursor over the frame. Invariant: `i <= b.len()`.
struct Cur<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Cur<'a> {
    #[inline(always)]
    fn rest(&self) -> &'a [u8] {
        self.b.get(self.i..).unwrap_or(&[])
    }

    /// Consumes exactly `s`.
    #[inline(always)]
    fn lit(&mut self, s: &[u8]) -> R<()> {
        if self.rest().starts_with(s) {
            self.i += s.len();
            Ok(())
        } else {
            Err(Miss)
        }
    }

    /// Consumes `s` if it is next.
    #[inline(always)]
    fn eat(&mut self, s: &[u8]) -> bool {
        self.lit(s).is_ok()
    }

    /// The bytes up to the next `"`, consuming that quote (the opening one is already gone).
    /// Escapes are not interpreted: callers validate the content, and a backslash never
    /// passes their validation, so an escaped string is always a `Miss`.
    #[inline(always)]
    fn string_body(&mut self) -> R<&'a [u8]> {
        let rest = self.rest();
        let n = rest.iter().position(|&c| c == b'"').ok_or(Miss)?;
        self.i += n + 1;
        Ok(&rest[..n])
    }

    /// A JSON unsigned integer that fits `u64`: digits only, no leading zero unless it is `0`.
    /// Up to 16 digits are read eight bytes at a time when the frame has 16 bytes left (ids
    /// and millisecond times are 10 to 13 digits); longer numbers, and the last bytes of a
    /// frame, take the digit loop.
    #[inline(always)]
    fn uint(&mut self) -> R<u64> {
        let rest = self.rest();
        if let Some(w) = rest.first_chunk::<16>() {
            let w = u128::from_le_bytes(*w);
            let (hi, n) = digit_run(w as u64);
            let (v, n) = if n < 8 {
                (hi, n)
            } else {
                let (lo, m) = digit_run((w >> 64) as u64);
                if m == 8 {
                    return self.uint_loop();
                }
                (hi * POW10_U64[m] + lo, 8 + m)
            };
            if n == 0 || (n > 1 && rest[0] == b'0') {
                return Err(Miss);
            }
            self.i += n;
            return Ok(v);
        }
        self.uint_loop()
    }

    /// [`Cur::uint`] one digit at a time.
    #[inline(never)]
    fn uint_loop(&mut self) -> R<u64> {
        let rest = self.rest();
        let n = rest
            .iter()
            .take(21)
            .take_while(|c| c.is_ascii_digit())
            .count();
        if n == 0 || (n > 1 && rest[0] == b'0') {
            return Err(Miss);
        }
        let digits = &rest[..n];
        let v = if n <= 19 {
            // At most 10^19 - 1: cannot overflow.
            digits
                .iter()
                .fold(0u64, |v, &c| v * 10 + u64::from(c - b'0'))
        } else {
            digits
                .iter()
                .try_fold(0u64, |v, &c| {
                    v.checked_mul(10)?.checked_add(u64::from(c - b'0'))
                })
                .ok_or(Miss)?
        };
        self.i += n;
        Ok(v)
    }

    #[inline(always)]
    fn boolean(&mut self) -> R<bool> {
        if self.eat(b"true") {
            Ok(true)
        } else if self.eat(b"false") {
            Ok(false)
        } else {
            Err(Miss)
        }
    }

    /// A decimal string's body and closing quote (the opening quote already consumed), in
    /// units of `10^-8`: the same value `Price::parse_bytes` gives, in one pass that also
    /// finds the quote. Narrower than `parse_bytes` (at most 11 integer digits), so anything
    /// unusual is a `Miss` and `parse_bytes` decides in the general decoder.
    #[inline(always)]
    fn decimal(&mut self) -> R<i64> {
        use crate::types::fixed::POW10;
        let rest = self.rest();
        // The integer part: one word when it has fewer than eight digits (and the frame eight
        // bytes left), else digit by digit.
        let (mut int, mut i) = match rest.first_chunk::<8>() {
            Some(w) => digit_run(u64::from_le_bytes(*w)),
            None => (0, 8),
        };
        if i == 8 {
            (int, i) = (0, 0);
            while let Some(&c) = rest.get(i) {
                if !c.is_ascii_digit() || i == 11 {
                    break;
                }
                int = int * 10 + u64::from(c - b'0');
                i += 1;
            }
        }
        let int_digits = i;
        let (mut frac, mut frac_digits, mut any_frac) = (0u64, 0usize, false);
        if rest.get(i) == Some(&b'.') {
            i += 1;
            // Binance writes exactly 8 decimals: convert them in one word when it does.
            if let Some(eight) = rest.get(i..i + 8).and_then(|b| <[u8; 8]>::try_from(b).ok())
                && rest.get(i + 8) == Some(&b'"')
                && let Some(v) = eight_digits(u64::from_le_bytes(eight))
            {
                let units = int * POW10[8] + v;
                let units = i64::try_from(units).map_err(|_| Miss)?;
                self.i += i + 9;
                return Ok(units);
            }
            while let Some(&c) = rest.get(i) {
                if !c.is_ascii_digit() {
                    break;
                }
                any_frac = true;
                if frac_digits < 8 {
                    frac = frac * 10 + u64::from(c - b'0');
                    frac_digits += 1;
                } else if c != b'0' {
                    return Err(Miss);
                }
                i += 1;
            }
        }
        if (int_digits == 0 && !any_frac) || rest.get(i) != Some(&b'"') {
            return Err(Miss);
        }
        // int < 10^11, so int * 10^8 + frac < 10^19 fits u64.
        let units = int * POW10[8] + frac * POW10[8 - frac_digits];
        let units = i64::try_from(units).map_err(|_| Miss)?;
        self.i += i + 1;
        Ok(units)
    }

    #[inline(always)]
    fn price(&mut self) -> R<Price> {
        self.decimal().map(Price::from_units)
    }

    #[inline(always)]
    fn qty(&mut self) -> R<Qty> {
        self.decimal().map(Qty::from_units)
    }

    #[inline(always)]
    fn end(&self) -> R<()> {
        if self.i == self.b.len() {
            Ok(())
        } else {
            Err(Miss)
        }
    }

    /// `[["p","q"],...]` into `out` (cleared first).
    #[inline(always)]
    fn levels(&mut self, out: &mut Vec<Level>) -> R<()> {
        out.clear();
        self.lit(b"[")?;
        if self.eat(b"]") {
            return Ok(());
        }
        loop {
            self.lit(b"[\"")?;
            let price = self.price()?;
            self.lit(b",\"")?;
            let qty = self.qty()?;
            self.lit(b"]")?;
            if price.is_zero() {
                return Err(Miss);
            }
            out.push(Level { price, qty });
            if self.eat(b",") {
                continue;
            }
            return self.lit(b"]");
        }
    }
}

/// 10^n for n in 0..=8.
const POW10_U64: [u64; 9] = [
    1,
    10,
    100,
    1_000,
    10_000,
    100_000,
    1_000_000,
    10_000_000,
    100_000_000,
];

/// The leading ASCII digits of the eight bytes `w` (first byte lowest) as a number, and how
/// many there are (0..=8).
#[inline(always)]
fn digit_run(w: u64) -> (u64, usize) {
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
    // The n digits moved to the top bytes: the zero bytes below them read as leading zeros.
    let d = d << (8 * (8 - n));
    let d = (d.wrapping_mul(10) + (d >> 8)) & 0x00FF_00FF_00FF_00FF;
    let d = (d.wrapping_mul(100) + (d >> 16)) & 0x0000_FFFF_0000_FFFF;
    ((d.wrapping_mul(10_000) + (d >> 32)) & 0xFFFF_FFFF, n)
}

/// Eight ASCII digits (first digit in the lowest byte) as a number, or `None` if any byte is
/// not a digit. The classic SWAR reduction: pairs, then quads, then the two halves.
#[inline(always)]
fn eight_digits(w: u64) -> Option<u64> {
    const ZEROS: u64 = 0x3030_3030_3030_3030;
    let d = w.wrapping_sub(ZEROS);
    // Every byte was 0x30..=0x39: no borrow out of any byte, and each result byte <= 9.
    let not_digit = (w & 0xF0F0_F0F0_F0F0_F0F0) != ZEROS
        || (d.wrapping_add(0x0606_0606_0606_0606) & 0xF0F0_F0F0_F0F0_F0F0) != 0;
    if not_digit {
        return None;
    }
    let d = (d.wrapping_mul(10) + (d >> 8)) & 0x00FF_00FF_00FF_00FF;
    let d = (d.wrapping_mul(100) + (d >> 16)) & 0x0000_FFFF_0000_FFFF;
    Some((d.wrapping_mul(10_000) + (d >> 32)) & 0xFFFF_FFFF)
}

/// Where a payload's instrument comes from.
#[derive(Clone, Copy)]
enum Sym<'t> {
    /// From the stream name; the payload's `s` must be this uppercase symbol exactly.
    Known(InstrumentId, &'t [u8]),
    /// Raw payload: look `s` up.
    Lookup,
}

impl Sym<'_> {
    /// Reads the `s` value (the opening quote already consumed) and checks it.
    #[inline(always)]
    fn read(self, c: &mut Cur<'_>, ctx: Ctx<'_>) -> R<InstrumentId> {
        match self {
            Sym::Known(id, upper) => {
                c.lit(upper)?;
                c.lit(b"\"")?;
                Ok(id)
            }
            Sym::Lookup => ctx.symbols.by_symbol(c.string_body()?).ok_or(Miss),
        }
    }
}

/// Decodes `frame` if it has exactly one of the shapes this path knows.
#[inline]
pub(super) fn parse(frame: &[u8], ctx: Ctx<'_>, levels: &mut Levels) -> R<Head> {
    let mut c = Cur { b: frame, i: 0 };
    if c.eat(b"{\"stream\":\"") {
        let (id, upper, _) = ctx.symbols.match_stream_prefix(c.rest()).ok_or(Miss)?;
        c.i += upper.len() + 1;
        let sym = Sym::Known(id, upper);
        let head = if c.eat(b"bookTicker\",\"data\":") {
            book_ticker(&mut c, ctx, sym)?
        } else if c.eat(b"trade\",\"data\":{\"e\":\"trade\",") {
            trade(&mut c, ctx, sym)?
        } else if c.eat(b"depth@100ms\",\"data\":{\"e\":\"depthUpdate\",")
            || c.eat(b"depth\",\"data\":{\"e\":\"depthUpdate\",")
        {
            depth(&mut c, ctx, sym, levels)?
        } else {
            return Err(Miss);
        };
        c.lit(b"}")?;
        c.end()?;
        return Ok(head);
    }
    let head = if c.eat(b"{\"e\":\"depthUpdate\",") {
        depth(&mut c, ctx, Sym::Lookup, levels)?
    } else if c.eat(b"{\"e\":\"trade\",") {
        trade(&mut c, ctx, Sym::Lookup)?
    } else if c.rest().starts_with(b"{\"u\":") {
        book_ticker(&mut c, ctx, Sym::Lookup)?
    } else if c.eat(b"{\"lastUpdateId\":") {
        let last = c.uint()?;
        c.lit(b",\"bids\":")?;
        c.levels(&mut levels.bids)?;
        c.lit(b",\"asks\":")?;
        c.levels(&mut levels.asks)?;
        c.lit(b"}")?;
        Head::Snapshot {
            instrument: None,
            last,
        }
    } else {
        return Err(Miss);
    };
    c.end()?;
    Ok(head)
}

/// `{"u":N,"s":"S","b":"P","B":"Q","a":"P","A":"Q"}`
#[inline(always)]
fn book_ticker(c: &mut Cur<'_>, ctx: Ctx<'_>, sym: Sym<'_>) -> R<Head> {
    c.lit(b"{\"u\":")?;
    let update_id = c.uint()?;
    c.lit(b",\"s\":\"")?;
    let instrument = sym.read(c, ctx)?;
    c.lit(b",\"b\":\"")?;
    let bid_price = c.price()?;
    c.lit(b",\"B\":\"")?;
    let bid_qty = c.qty()?;
    c.lit(b",\"a\":\"")?;
    let ask_price = c.price()?;
    c.lit(b",\"A\":\"")?;
    let ask_qty = c.qty()?;
    c.lit(b"}")?;
    Ok(Head::BookTicker(BookTicker {
        instrument,
        update_id,
        bid: Level {
            price: bid_price,
            qty: bid_qty,
        },
        ask: Level {
            price: ask_price,
            qty: ask_qty,
        },
    }))
}

/// After `{"e":"depthUpdate",`: `"E":N,"s":"S","U":N,"u":N,"b":[..],"a":[..]}`
#[inline(always)]
fn depth(c: &mut Cur<'_>, ctx: Ctx<'_>, sym: Sym<'_>, levels: &mut Levels) -> R<Head> {
    c.lit(b"\"E\":")?;
    let event_time = ctx.time_unit.to_nanos(c.uint()?);
    c.lit(b",\"s\":\"")?;
    let instrument = sym.read(c, ctx)?;
    c.lit(b",\"U\":")?;
    let first = c.uint()?;
    c.lit(b",\"u\":")?;
    let last = c.uint()?;
    if first > last {
        return Err(Miss);
    }
    c.lit(b",\"b\":")?;
    c.levels(&mut levels.bids)?;
    c.lit(b",\"a\":")?;
    c.levels(&mut levels.asks)?;
    c.lit(b"}")?;
    Ok(Head::Depth {
        instrument,
        event_time,
        first,
        last,
    })
}

/// After `{"e":"trade",`: `"E":N,"s":"S","t":N,"p":"P","q":"Q","T":N,"m":B,"M":B}`
#[inline(always)]
fn trade(c: &mut Cur<'_>, ctx: Ctx<'_>, sym: Sym<'_>) -> R<Head> {
    c.lit(b"\"E\":")?;
    let event_time = ctx.time_unit.to_nanos(c.uint()?);
    c.lit(b",\"s\":\"")?;
    let instrument = sym.read(c, ctx)?;
    c.lit(b",\"t\":")?;
    let trade_id = c.uint()?;
    c.lit(b",\"p\":\"")?;
    let price = c.price()?;
    c.lit(b",\"q\":\"")?;
    let qty = c.qty()?;
    c.lit(b",\"T\":")?;
    let trade_time = ctx.time_unit.to_nanos(c.uint()?);
    c.lit(b",\"m\":")?;
    let buyer_is_maker = c.boolean()?;
    c.lit(b",\"M\":")?;
    c.boolean()?;
    c.lit(b"}")?;
    Ok(Head::Trade(Trade {
        instrument,
        event_time,
        trade_id,
        price,
        qty,
        trade_time,
        buyer_is_maker,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn fused(s: &[u8]) -> R<i64> {
        let mut f = s.to_vec();
        f.push(b'"');
        let mut c = Cur { b: &f, i: 0 };
        let v = c.decimal()?;
        assert_eq!(c.i, f.len(), "consumes through the quote");
        Ok(v)
    }

    #[test]
    fn decimal_table() {
        for (s, want) in [
            ("61837.63000000", Ok(6_183_763_000_000)),
            ("0.00000000", Ok(0)),
            ("5.", Ok(500_000_000)),
            (".5", Ok(50_000_000)),
            ("0.000000010", Ok(1)),
        ] {
            assert_eq!(fused(s.as_bytes()), want, "{s}");
        }
        for s in ["", ".", "1.000000001", "1e5", "-1", "123456789012", "1.2.3"] {
            assert_eq!(fused(s.as_bytes()), Err(Miss), "{s}");
        }
    }

    #[test]
    fn eight_digit_words() {
        assert_eq!(
            eight_digits(u64::from_le_bytes(*b"63000000")),
            Some(63_000_000)
        );
        assert_eq!(eight_digits(u64::from_le_bytes(*b"00000001")), Some(1));
        assert_eq!(
            eight_digits(u64::from_le_bytes(*b"99999999")),
            Some(99_999_999)
        );
        assert_eq!(eight_digits(u64::from_le_bytes(*b"1234567:")), None);
        assert_eq!(eight_digits(u64::from_le_bytes(*b"/2345678")), None);
        assert_eq!(eight_digits(u64::from_le_bytes(*b"1234 678")), None);
    }

    fn uint(s: &[u8]) -> (R<u64>, usize) {
        let mut c = Cur { b: s, i: 0 };
        let v = c.uint();
        (v, c.i)
    }

    #[test]
    fn uints_word_at_a_time_and_byte_at_a_time() {
        for (s, want, at) in [
            (
                &b"1723075200123,\"s\":\"BTCUSDT\""[..],
                Ok(1_723_075_200_123),
                13,
            ),
            (b"0,\"s\":\"BTCUSDT\",\"x\"", Ok(0), 1),
            (b"12345678,\"s\":\"BTCUSDT\"", Ok(12_345_678), 8),
            (b"1234567890123456,\"s\":1", Ok(1_234_567_890_123_456), 16),
            (b"18446744073709551615}", Ok(u64::MAX), 20),
            (b"18446744073709551616}", Err(Miss), 0),
            (b"0123,\"s\":\"BTCUSDT\"", Err(Miss), 0),
            (b"x123,\"s\":\"BTCUSDT\"", Err(Miss), 0),
            (b"42}", Ok(42), 2),
        ] {
            assert_eq!(uint(s), (want, at), "{}", String::from_utf8_lossy(s));
        }
    }

    proptest! {
        /// The word-at-a-time read equals the digit loop on every input.
        #[test]
        fn uint_words_equal_the_digit_loop(s in "[0-9]{0,22}[,}\"a-z0-9]{0,20}") {
            let b = s.as_bytes();
            let mut slow = Cur { b, i: 0 };
            let want = (slow.uint_loop(), slow.i);
            let got = uint(b);
            prop_assert_eq!(got.0, want.0);
            if want.0.is_ok() {
                prop_assert_eq!(got.1, want.1);
            }
        }

        #[test]
        fn eight_digits_is_exact(v in 0u64..100_000_000) {
            let s = format!("{v:08}");
            let w = u64::from_le_bytes(s.as_bytes().try_into().unwrap());
            prop_assert_eq!(eight_digits(w), Some(v));
        }

        #[test]
        fn eight_digits_refuses_any_non_digit(b in any::<[u8; 8]>()) {
            let all = b.iter().all(u8::is_ascii_digit);
            prop_assert_eq!(eight_digits(u64::from_le_bytes(b)).is_some(), all);
        }

        /// Whenever the fused parser accepts, it agrees with `Price::parse_bytes`.
        #[test]
        fn fused_decimal_equals_parse_bytes(s in "[0-9]{0,13}(\\.[0-9]{0,11})?|[0-9]{0,12}\\.[0-9:/]{8}|[0-9.e\\-]{0,6}") {
            if let Ok(v) = fused(s.as_bytes()) {
                prop_assert_eq!(Price::parse_bytes(s.as_bytes()).map(Price::units), Ok(v));
            }
        }
    }
}
