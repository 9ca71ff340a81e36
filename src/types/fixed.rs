//! Fixed-point `Price` and `Qty`: exact integers with eight decimal places, parsed from and
//! formatted to the venues' decimal strings without ever passing through `f64`.
//!
//! Eight decimals is the precision Binance itself uses for every price and quantity, and an
//! `i64` at that scale holds up to 92,233,720,368.54775807, the venue's own ceiling. A string
//! with more significant decimals than that, or a value past the ceiling, is an error: nothing
//! is rounded silently.

use std::fmt;

/// Number of decimal places every `Price` and `Qty` carries.
pub const DECIMALS: u32 = 8;
/// `10^DECIMALS`: the integer that represents 1.0.
pub const SCALE: i64 = 100_000_000;

/// Why a decimal string could not be read as a fixed-point value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DecimalError {
    #[error("empty decimal")]
    Empty,
    #[error("invalid character in decimal at byte {0}")]
    InvalidChar(usize),
    #[error("decimal has more than {DECIMALS} significant fractional digits")]
    TooPrecise,
    #[error("decimal is out of range")]
    OutOfRange,
}

/// Parses an unsigned decimal (`"25.35190000"`, `"100"`, `".5"`, `"0.0024"`) into units of
/// `10^-DECIMALS`. Fractional digits past the eighth are accepted only if they are zeros.
#[inline]
pub(crate) fn parse_units(s: &[u8]) -> Result<i64, DecimalError> {
    if s.is_empty() {
        return Err(DecimalError::Empty);
    }
    let mut int: u64 = 0;
    let mut i = 0;
    let mut digits = 0usize;
    while i < s.len() {
        let d = s[i].wrapping_sub(b'0');
        if d > 9 {
            break;
        }
        int = int
            .checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(d)))
            .ok_or(DecimalError::OutOfRange)?;
        i += 1;
        digits += 1;
    }
    let mut frac: u64 = 0;
    let mut frac_digits = 0u32;
    if i < s.len() {
        if s[i] != b'.' {
            return Err(DecimalError::InvalidChar(i));
        }
        i += 1;
        while i < s.len() {
            let d = s[i].wrapping_sub(b'0');
            if d > 9 {
                return Err(DecimalError::InvalidChar(i));
            }
            if frac_digits < DECIMALS {
                frac = frac * 10 + u64::from(d);
                frac_digits += 1;
            } else if d != 0 {
                return Err(DecimalError::TooPrecise);
            }
            digits += 1;
            i += 1;
        }
    }
    if digits == 0 {
        return Err(DecimalError::Empty);
    }
    let frac = frac * 10u64.pow(DECIMALS - frac_digits);
    let units = int
        .checked_mul(SCALE as u64)
        .and_then(|v| v.checked_add(frac))
        .ok_or(DecimalError::OutOfRange)?;
    i64::try_from(units).map_err(|_| DecimalError::OutOfRange)
}

/// Writes `units` (scaled by `10^DECIMALS`) with exactly `decimals` fractional digits into
/// `out`, returning the number of bytes written. `out` must hold at least 30 bytes.
/// Digits below `decimals` must be zero (callers hold values on an instrument's grid).
#[inline]
pub(crate) fn write_units(units: i64, decimals: u32, out: &mut [u8]) -> usize {
    debug_assert!(
        decimals <= DECIMALS,
        "Invariant: at most {DECIMALS} decimals"
    );
    debug_assert!(
        out.len() >= 30,
        "Invariant: output buffer holds any i64 decimal"
    );
    let decimals = decimals.min(DECIMALS);
    let mut n = 0;
    let mag = if units < 0 {
        out[0] = b'-';
        n = 1;
        units.unsigned_abs()
    } else {
        units as u64
    };
    let int = mag / SCALE as u64;
    let frac = mag % SCALE as u64;
    debug_assert!(
        frac.is_multiple_of(10u64.pow(DECIMALS - decimals)),
        "Invariant: value {units} has digits below {decimals} decimals"
    );
    // The integer digits, two per table read, written from the last one back.
    let len = int.checked_ilog10().map_or(1, |l| l as usize + 1);
    let mut end = n + len;
    let mut v = int;
    while v >= 100 {
        end -= 2;
        put_pair(out, end, v % 100);
        v /= 100;
    }
    if v >= 10 {
        put_pair(out, end - 2, v);
    } else {
        out[end - 1] = b'0' + v as u8;
    }
    n += len;
    if decimals > 0 {
        out[n] = b'.';
        n += 1;
        // All `DECIMALS` fractional digits as four pairs (divisions by constants), written
        // whole; the first `decimals` of them count. The integer part of an `i64` has at
        // most 11 digits, so the 8 always fit the 30 bytes `out` holds.
        let (hi, lo) = (frac / 10_000, frac % 10_000);
        put_pair(out, n, hi / 100);
        put_pair(out, n + 2, hi % 100);
        put_pair(out, n + 4, lo / 100);
        put_pair(out, n + 6, lo % 100);
        n += decimals as usize;
    }
    n
}

/// `"00"` to `"99"`: the two digits of `i` at `2 * i`.
const DIGIT_PAIRS: [u8; 200] = {
    let mut t = [0u8; 200];
    let mut i = 0;
    while i < 100 {
        t[2 * i] = b'0' + (i / 10) as u8;
        t[2 * i + 1] = b'0' + (i % 10) as u8;
        i += 1;
    }
    t
};

/// Writes `v` (below 100) as two digits at `out[at..at + 2]`.
#[inline(always)]
fn put_pair(out: &mut [u8], at: usize, v: u64) {
    let i = v as usize * 2;
    out[at..at + 2].copy_from_slice(&DIGIT_PAIRS[i..i + 2]);
}

/// Number of fractional digits needed to write `units` exactly (0..=DECIMALS).
#[inline]
pub(crate) fn needed_decimals(units: i64) -> u32 {
    let mut frac = units.unsigned_abs() % SCALE as u64;
    if frac == 0 {
        return 0;
    }
    let mut d = DECIMALS;
    while frac.is_multiple_of(10) {
        frac /= 10;
        d -= 1;
    }
    d
}

macro_rules! fixed_point {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
        #[repr(transparent)]
        pub struct $name(i64);

        impl $name {
            pub const ZERO: Self = Self(0);
            pub const MAX: Self = Self(i64::MAX);

            /// From raw units of `10^-DECIMALS`.
            #[inline]
            pub const fn from_units(units: i64) -> Self {
                Self(units)
            }

            /// Raw units of `10^-DECIMALS`.
            #[inline]
            pub const fn units(self) -> i64 {
                self.0
            }

            /// From a whole number of units of the asset (`from_int(3)` is 3.0).
            #[inline]
            pub const fn from_int(v: i64) -> Self {
                Self(v * SCALE)
            }

            /// Parses a decimal string exactly (see the module docs for what is refused).
            #[inline]
            pub fn parse(s: &str) -> Result<Self, DecimalError> {
                Self::parse_bytes(s.as_bytes())
            }

            /// Parses decimal bytes exactly, as they arrive in a venue's message.
            #[inline]
            pub fn parse_bytes(s: &[u8]) -> Result<Self, DecimalError> {
                parse_units(s).map(Self)
            }

            #[inline]
            pub const fn is_zero(self) -> bool {
                self.0 == 0
            }

            #[inline]
            pub const fn is_positive(self) -> bool {
                self.0 > 0
            }

            #[inline]
            pub fn checked_add(self, o: Self) -> Option<Self> {
                self.0.checked_add(o.0).map(Self)
            }

            #[inline]
            pub fn checked_sub(self, o: Self) -> Option<Self> {
                self.0.checked_sub(o.0).map(Self)
            }

            #[inline]
            pub fn saturating_sub(self, o: Self) -> Self {
                Self(self.0.saturating_sub(o.0))
            }

            /// Whether this value is a whole multiple of `step` (a zero step accepts anything).
            #[inline]
            pub fn is_multiple_of(self, step: Self) -> bool {
                step.0 == 0 || self.0 % step.0 == 0
            }

            /// The largest multiple of `step` not above this value. A strategy rounds on
            /// purpose with these; parsing never rounds.
            #[inline]
            pub fn floor_to(self, step: Self) -> Self {
                if step.0 <= 0 {
                    return self;
                }
                Self(self.0.div_euclid(step.0) * step.0)
            }

            /// The smallest multiple of `step` not below this value.
            #[inline]
            pub fn ceil_to(self, step: Self) -> Self {
                if step.0 <= 0 {
                    return self;
                }
                let f = self.floor_to(step);
                if f.0 == self.0 { f } else { Self(f.0 + step.0) }
            }

            /// Writes the value with exactly `decimals` fractional digits into `out` (at least
            /// 30 bytes), returning the bytes written. Allocation-free, for order encoding.
            #[inline]
            pub fn write_fixed(self, decimals: u32, out: &mut [u8]) -> usize {
                write_units(self.0, decimals, out)
            }

            /// The value with exactly `decimals` fractional digits, e.g. `"25.35190000"`.
            pub fn to_fixed_string(self, decimals: u32) -> String {
                let mut buf = [0u8; 32];
                let n = write_units(self.0, decimals, &mut buf);
                String::from_utf8_lossy(&buf[..n]).into_owned()
            }

            /// Number of fractional digits this value needs to be written exactly.
            #[inline]
            pub fn decimals_needed(self) -> u32 {
                needed_decimals(self.0)
            }

            /// For reports and plots only; never on the book or order path.
            #[inline]
            pub fn to_f64(self) -> f64 {
                self.0 as f64 / SCALE as f64
            }
        }

        /// The shortest exact form: `25.3519`, `100`, `0.0024`.
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                let mut buf = [0u8; 32];
                let n = write_units(self.0, needed_decimals(self.0), &mut buf);
                // write_units emits ASCII digits, '-' and '.'.
                f.write_str(std::str::from_utf8(&buf[..n]).map_err(|_| fmt::Error)?)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self)
            }
        }

        impl std::str::FromStr for $name {
            type Err = DecimalError;
            fn from_str(s: &str) -> Result<Self, DecimalError> {
                Self::parse(s)
            }
        }
    };
}

fixed_point!(
    /// A price in quote-asset units, exact to `10^-8`.
    Price
);
fixed_point!(
    /// A quantity in base-asset units, exact to `10^-8`.
    Qty
);
fixed_point!(
    /// A dimensionless ratio exact to `10^-8`: a funding rate (`0.0001` = 0.01 %), a
    /// maintenance-margin rate, a leverage (`10`).
    Rate
);

/// `10^k` for the `k` decimals a fixed-point value can have (decoders scale a short fraction
/// with it).
pub const POW10: [u64; 9] = [
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

/// `v × bps / 10 000`, exact, truncated toward zero. In 64-bit integers when the product fits
/// (a division by a constant is then a multiply), in 128-bit otherwise: a 128-bit division is
/// a library call costing tens of nanoseconds, and strategies call this on every tick.
#[inline]
pub fn bps_of(v: i64, bps: i64) -> i64 {
    match v.checked_mul(bps) {
        Some(p) => p / 10_000,
        None => (i128::from(v) * i128::from(bps) / 10_000) as i64,
    }
}

/// `price × qty` in quote-asset units at scale `10^-16`: exact, cannot overflow for any pair
/// of `Price` and `Qty`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Debug)]
pub struct Notional(pub i128);

impl Notional {
    pub const SCALE: i128 = (SCALE as i128) * (SCALE as i128);

    #[inline]
    pub fn of(price: Price, qty: Qty) -> Self {
        Self(i128::from(price.units()) * i128::from(qty.units()))
    }

    /// A notional equal to `price` (used for min-notional limits written as prices).
    #[inline]
    pub fn from_price(p: Price) -> Self {
        Self(i128::from(p.units()) * i128::from(SCALE))
    }

    /// For reports only.
    #[inline]
    pub fn to_f64(self) -> f64 {
        self.0 as f64 / Self::SCALE as f64
    }
}

impl Price {
    /// Notional value of `qty` at this price.
    #[inline]
    pub fn notional(self, qty: Qty) -> Notional {
        Notional::of(self, qty)
    }
}

impl Qty {
    /// `min(self, o)`.
    #[inline]
    pub fn min(self, o: Self) -> Self {
        if self.0 <= o.0 { self } else { o }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn bps_of_truncates_toward_zero_on_both_paths() {
        assert_eq!(bps_of(6_000_000_000_000, 25), 15_000_000_000);
        assert_eq!(bps_of(-19_999, 1), -1);
        assert_eq!(bps_of(19_999, 1), 1);
        // The product overflows i64: the 128-bit path gives the exact quotient.
        assert_eq!(bps_of(i64::MAX, 10_000), i64::MAX);
        assert_eq!(bps_of(i64::MAX / 2, 3), 1_383_505_805_528_216);
    }

    proptest! {
        #[test]
        fn bps_of_equals_the_128_bit_formula(v in any::<i64>(), bps in -20_000i64..=20_000) {
            prop_assert_eq!(
                bps_of(v, bps),
                (i128::from(v) * i128::from(bps) / 10_000) as i64
            );
        }
    }

    #[test]
    fn parses_venue_strings() {
        let table: &[(&str, i64)] = &[
            ("25.35190000", 2_535_190_000),
            ("0.0024", 240_000),
            ("100", 10_000_000_000),
            ("0", 0),
            (".5", 50_000_000),
            ("5.", 500_000_000),
            ("0.00000001", 1),
            ("0.000000010", 1),
            ("61837.63000000", 6_183_763_000_000),
            ("92233720368.54775807", i64::MAX),
        ];
        for (s, units) in table {
            assert_eq!(Price::parse(s), Ok(Price::from_units(*units)), "{s}");
        }
    }

    #[test]
    fn refuses_what_it_cannot_hold_exactly() {
        let table: &[(&str, DecimalError)] = &[
            ("", DecimalError::Empty),
            (".", DecimalError::Empty),
            ("0.000000001", DecimalError::TooPrecise),
            ("1.123456789", DecimalError::TooPrecise),
            ("92233720368.54775808", DecimalError::OutOfRange),
            ("99999999999999999999999", DecimalError::OutOfRange),
            ("-1", DecimalError::InvalidChar(0)),
            ("1e5", DecimalError::InvalidChar(1)),
            ("1.2.3", DecimalError::InvalidChar(3)),
            (" 1", DecimalError::InvalidChar(0)),
        ];
        for (s, e) in table {
            assert_eq!(Qty::parse(s), Err(*e), "{s:?}");
        }
    }

    #[test]
    fn formats_exactly() {
        let p = Price::parse("25.35190000").unwrap();
        assert_eq!(p.to_fixed_string(8), "25.35190000");
        assert_eq!(p.to_fixed_string(4), "25.3519");
        assert_eq!(p.to_string(), "25.3519");
        assert_eq!(Price::ZERO.to_string(), "0");
        assert_eq!(Price::from_units(-150_000_000).to_string(), "-1.5");
        assert_eq!(Price::MAX.to_fixed_string(8), "92233720368.54775807");
    }

    /// `units` with `d` decimals by `format!`: the reference for the writer.
    fn plain(units: i64, d: u32) -> String {
        let mag = units.unsigned_abs();
        let (int, frac) = (mag / SCALE as u64, mag % SCALE as u64);
        let sign = if units < 0 { "-" } else { "" };
        let frac = format!("{frac:08}");
        match d {
            0 => format!("{sign}{int}"),
            _ => format!("{sign}{int}.{}", &frac[..d as usize]),
        }
    }

    #[test]
    fn writes_every_digit_count_of_the_integer_part() {
        // Each power of ten and its neighbours, from no integer digits to all eleven of an
        // i64's, with every number of decimals.
        let mut values = vec![0, 1, -1, i64::MAX, i64::MIN];
        let mut p: i64 = 1;
        while let Some(next) = p.checked_mul(10) {
            values.extend([p - 1, p, p + 1, -p, -(p - 1)]);
            p = next;
        }
        for units in values {
            for d in 0..=DECIMALS {
                let step = 10i64.pow(DECIMALS - d);
                let u = units / step * step;
                assert_eq!(
                    Price::from_units(u).to_fixed_string(d),
                    plain(u, d),
                    "{u} {d}"
                );
            }
        }
    }

    #[test]
    fn rounds_only_on_request() {
        let tick = Price::parse("0.01").unwrap();
        let p = Price::parse("100.017").unwrap();
        assert_eq!(p.floor_to(tick), Price::parse("100.01").unwrap());
        assert_eq!(p.ceil_to(tick), Price::parse("100.02").unwrap());
        assert_eq!(tick.ceil_to(tick), tick);
        assert!(!p.is_multiple_of(tick));
    }

    #[test]
    fn notional_is_exact() {
        let n = Price::parse("61837.63")
            .unwrap()
            .notional(Qty::parse("0.02").unwrap());
        assert_eq!(n.0, 12_367_526_000_000_000_000); // 1236.7526 at 1e-16
        assert_eq!(Notional::from_price(Price::parse("1236.7526").unwrap()), n);
    }

    proptest! {
        // Every value on a grid of 10^-d, written with d decimals, reads back to itself and
        // writes back to the same string.
        #[test]
        fn grid_values_round_trip(k in 0i64..i64::MAX / SCALE, frac in 0i64..SCALE, d in 0u32..=DECIMALS) {
            let step = 10i64.pow(DECIMALS - d);
            let units = k * SCALE + (frac / step) * step;
            let v = Price::from_units(units);
            let s = v.to_fixed_string(d);
            prop_assert_eq!(Price::parse(&s), Ok(v));
            prop_assert_eq!(Price::parse(&s).unwrap().to_fixed_string(d), s);
            prop_assert_eq!(Qty::parse(&v.to_string()), Ok(Qty::from_units(units)));
        }

        // The pair-table writer against the plain formula (format!'s own digits), for any
        // value on the grid of 10^-d, negatives included.
        #[test]
        fn writes_what_the_plain_formula_writes(v in any::<i64>(), d in 0u32..=DECIMALS) {
            let step = 10i64.pow(DECIMALS - d);
            let units = v / step * step;
            prop_assert_eq!(Price::from_units(units).to_fixed_string(d), plain(units, d));
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..40)) {
            let _ = Price::parse_bytes(&bytes);
        }
    }
}
