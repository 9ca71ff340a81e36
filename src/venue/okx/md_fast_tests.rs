//! The OKX fast reader's parts against literal inputs and the slower paths they replace.

use super::{Cursor, thirteen_digits};
use proptest::prelude::*;

fn words(b: &[u8; 16]) -> (u64, u64) {
    let lo = u64::from_le_bytes(b[..8].try_into().unwrap());
    let hi = u64::from_le_bytes(b[8..].try_into().unwrap());
    (lo, hi)
}

#[test]
fn thirteen_digit_times_in_two_words() {
    let (lo, hi) = words(b"1723161254087\",\"");
    assert_eq!(thirteen_digits(lo, hi), Some(1_723_161_254_087));
    let (lo, hi) = words(b"0000000000000\"}]");
    assert_eq!(thirteen_digits(lo, hi), Some(0));
    for b in [
        b"1723161254087#,\"", // a byte that the XOR would make a digit
        b"172316125408\",\"s",
        b"17231612540871\",",
        b"1723161:54087\",\"",
        b"172316125408/\",\"",
    ] {
        let (lo, hi) = words(b);
        assert_eq!(
            thirteen_digits(lo, hi),
            None,
            "{}",
            String::from_utf8_lossy(b)
        );
    }
}

proptest! {
    /// Any 16 bytes: a value exactly when they start with 13 digits and a quote, and then
    /// the value of those digits.
    #[test]
    fn thirteen_digits_is_exact(
        b in any::<[u8; 16]>(),
        v in 0u64..10_000_000_000_000,
        quote in any::<bool>(),
    ) {
        let (lo, hi) = words(&b);
        let want = (b[..13].iter().all(u8::is_ascii_digit) && b[13] == b'"').then(|| {
            b[..13].iter().fold(0, |v, &c| v * 10 + u64::from(c - b'0'))
        });
        prop_assert_eq!(thirteen_digits(lo, hi), want);
        let mut t = [b'x'; 16];
        t[..13].copy_from_slice(format!("{v:013}").as_bytes());
        if quote {
            t[13] = b'"';
        }
        let (lo, hi) = words(&t);
        prop_assert_eq!(thirteen_digits(lo, hi), quote.then_some(v));
    }
}

/// `decimal` on `s` where it ends the frame and, when it has its closing quote, with a
/// key before it and the rest of a `bbo-tbt` after it: the same answer both ways (words
/// past the frame's end read as zeros).
fn decimal(s: &str) -> Option<(i64, bool)> {
    let mut answers = vec![];
    for (pre, post) in [("", ""), ("\"asks\":[[\"", "\"0\",\"1\"]],\"ts\":\"1\"}]}")] {
        if !post.is_empty() && !s.contains('"') {
            continue;
        }
        let f = format!("{pre}{s}{post}");
        let mut c = Cursor {
            b: f.as_bytes(),
            at: pre.len(),
        };
        // A decimal read ends just past its closing quote.
        let end = pre.len() + s.find('"').map_or(0, |q| q + 1);
        answers.push(c.decimal().inspect(|_| assert_eq!(c.at, end, "{f}")));
    }
    assert!(answers.windows(2).all(|w| w[0] == w[1]), "{s}: {answers:?}");
    answers[0]
}

proptest! {
    /// Any digits and point: a decimal in the reader's range (1 to 8 integer digits, 1 to
    /// 8 decimals) is read, with `Price::parse_bytes`'s value and `md::shortest`'s flag,
    /// whether it ends the frame or not; anything else is a miss.
    #[test]
    fn decimal_agrees_with_parse_bytes(
        s in "[0-9]{0,10}(\\.[0-9]{0,10})?",
        tail in proptest::bool::ANY,
    ) {
        use crate::types::Price;
        let f = format!("{s}\"{}", if tail { ",\"0\",\"1\"]]" } else { "" });
        let mut c = Cursor { b: f.as_bytes(), at: 0 };
        let got = c.decimal();
        if let Some((units, short)) = got {
            prop_assert_eq!(Price::parse_bytes(s.as_bytes()).map(Price::units), Ok(units));
            prop_assert_eq!(short, crate::venue::okx::md::shortest(s.as_bytes()));
            prop_assert_eq!(c.at, s.len() + 1);
        }
        let (int, frac) = s.split_once('.').map_or((s.as_str(), None), |(i, f)| (i, Some(f)));
        let digits = |n: usize| (1..=8).contains(&n);
        let in_range = digits(int.len()) && frac.is_none_or(|f| digits(f.len()));
        prop_assert_eq!(got.is_some(), in_range, "{}", s);
    }

    /// The two-word level tail consumes what reading it field by field consumes, and
    /// refuses what that refuses, at the end of the frame or not.
    #[test]
    fn level_tail_agrees_with_reading_field_by_field(
        s in ",?\"?[0-9x]{0,2}\"?,?\"?[0-9a]{0,8}\"?[\\]}]?[,\\]]{0,2}",
    ) {
        let mut fast = Cursor { b: s.as_bytes(), at: 0 };
        let mut slow = Cursor { b: s.as_bytes(), at: 0 };
        let by_fields = (|| {
            slow.lit(b",\"")?;
            slow.skip_digits()?;
            slow.lit(b",\"")?;
            slow.skip_digits()?;
            slow.lit(b"]")
        })();
        prop_assert_eq!(fast.level_tail(), by_fields, "{}", s);
        if by_fields.is_some() {
            prop_assert_eq!(fast.at, slow.at, "{}", s);
        }
    }
}

/// The level tail read in two words and field by field: the same bytes consumed, the
/// same shapes refused.
#[test]
fn level_tails_in_two_words_or_field_by_field() {
    fn tail(s: &str) -> Option<&str> {
        let mut c = Cursor {
            b: s.as_bytes(),
            at: 0,
        };
        c.level_tail().map(|()| &s[c.at..])
    }
    // The usual shape: `"0"`, up to six digits of order count.
    assert_eq!(tail(",\"0\",\"13\"],[\"1\""), Some(",[\"1\""));
    assert_eq!(tail(",\"0\",\"1\"]]"), Some("]"));
    assert_eq!(tail(",\"0\",\"123456\"]"), Some(""));
    // Field by field: seven digits, another first field, an empty one.
    assert_eq!(tail(",\"0\",\"1234567\"],"), Some(","));
    assert_eq!(tail(",\"12\",\"3\"]"), Some(""));
    assert_eq!(tail(",\"0\",\"\"]"), Some(""));
    assert_eq!(tail(",\"\",\"7\"]"), Some(""));
    for s in [
        ",\"0\",\"13\"}",
        ",\"0\",\"13\"",
        ",\"0\",\"1a\"]",
        ",\"0\",\"-1\"]",
        ",\"0\",13]",
        ",\"0\"]",
        ",\"0x\",\"1\"]",
        ",\"0\", \"1\"]",
        "",
    ] {
        assert_eq!(tail(s), None, "{s}");
    }
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
    // Seven digits or fewer: one joined word; eight or more: a word for each part.
    assert_eq!(decimal("1234567\""), Some((123_456_700_000_000, true)));
    assert_eq!(decimal("123456.7\""), Some((12_345_670_000_000, true)));
    assert_eq!(decimal("1234567.8\""), Some((123_456_780_000_000, true)));
    assert_eq!(decimal("12345678\""), Some((1_234_567_800_000_000, true)));
    assert_eq!(decimal("0.1234567\""), Some((12_345_670, true)));
    assert_eq!(decimal("0.12345678\""), Some((12_345_678, true)));
    assert_eq!(decimal("0.1234560\""), Some((12_345_600, false)));
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
        "5.x\"",
        "5.\",\"",
        "1.5x\"",
        "12345678.\"",
        "1234567.123456789\"",
    ] {
        assert_eq!(decimal(s), None, "{s}");
    }
}
