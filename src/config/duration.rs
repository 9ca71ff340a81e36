//! Durations written as strings with a unit (`"500ms"`, `"30s"`, `"5m"`, `"2h"`), parsed
//! exactly with integer arithmetic; shared by the config and the command line.

use std::time::Duration;

/// Why a duration string could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    #[error("{0:?} is not a duration: write a number and a unit, e.g. 500ms, 30s, 5m or 2h")]
    Invalid(String),
    #[error("{0:?} has no unit: write e.g. {0}ms or {0}s")]
    NoUnit(String),
    #[error("{1:?} in {0:?} is not a duration unit: use ns, us, ms, s, m or h")]
    BadUnit(String, String),
    #[error("{0:?} is more precise than a nanosecond")]
    TooPrecise(String),
    #[error("{0:?} is too long")]
    TooLong(String),
}

/// Parses a duration: a non-negative decimal number followed directly by one of the units
/// `ns`, `us` (or `µs`), `ms`, `s`, `m`, `h`. Fractions are allowed (`"1.5s"`) as long as the
/// result is a whole number of nanoseconds; nothing is rounded.
pub fn parse_duration(s: &str) -> Result<Duration, DurationError> {
    let text = s.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(text.len());
    let (num, unit) = text.split_at(split);
    let invalid = || DurationError::Invalid(text.to_owned());
    let (int, frac) = num.split_once('.').unwrap_or((num, ""));
    if int.is_empty() && frac.is_empty() || frac.contains('.') {
        return Err(invalid());
    }
    let unit_ns: u128 = match unit {
        "" => return Err(DurationError::NoUnit(text.to_owned())),
        "ns" => 1,
        "us" | "µs" => 1_000,
        "ms" => 1_000_000,
        "s" => 1_000_000_000,
        "m" => 60_000_000_000,
        "h" => 3_600_000_000_000,
        other => return Err(DurationError::BadUnit(text.to_owned(), other.to_owned())),
    };
    let too_long = || DurationError::TooLong(text.to_owned());
    let mut nanos: u128 = 0;
    for d in int.bytes() {
        nanos = nanos
            .checked_mul(10)
            .and_then(|v| v.checked_add(u128::from(d - b'0')))
            .ok_or_else(too_long)?;
    }
    nanos = nanos.checked_mul(unit_ns).ok_or_else(too_long)?;
    // Each fractional digit is worth a tenth of the previous one; a non-zero digit below a
    // nanosecond cannot be represented.
    let mut place = unit_ns;
    for d in frac.bytes() {
        let digit = u128::from(d - b'0');
        if !place.is_multiple_of(10) {
            if digit != 0 {
                return Err(DurationError::TooPrecise(text.to_owned()));
            }
            continue;
        }
        place /= 10;
        nanos = nanos.checked_add(digit * place).ok_or_else(too_long)?;
    }
    let secs = u64::try_from(nanos / 1_000_000_000).map_err(|_| too_long())?;
    // The remainder is below 10^9, so it fits a u32.
    Ok(Duration::new(secs, (nanos % 1_000_000_000) as u32))
}

/// Writes a duration back in the largest exact unit up to seconds, e.g. `90s`, `250ms`.
pub fn format_duration(d: Duration) -> String {
    let ns = d.as_nanos();
    const UNITS: [(u128, &str); 4] = [
        (1_000_000_000, "s"),
        (1_000_000, "ms"),
        (1_000, "us"),
        (1, "ns"),
    ];
    if ns == 0 {
        return "0s".to_owned();
    }
    let (size, unit) = UNITS
        .into_iter()
        .find(|(size, _)| ns.is_multiple_of(*size))
        .unwrap_or((1, "ns"));
    format!("{}{unit}", ns / size)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_exactly() {
        let cases: &[(&str, Duration)] = &[
            ("30s", Duration::from_secs(30)),
            ("500ms", Duration::from_millis(500)),
            ("2m", Duration::from_secs(120)),
            ("2h", Duration::from_secs(7200)),
            ("1.5s", Duration::from_millis(1500)),
            ("0.001s", Duration::from_millis(1)),
            ("250us", Duration::from_micros(250)),
            ("250µs", Duration::from_micros(250)),
            ("7ns", Duration::from_nanos(7)),
            ("0ms", Duration::ZERO),
            (" 5s ", Duration::from_secs(5)),
            ("1.50000s", Duration::from_millis(1500)),
            (".5s", Duration::from_millis(500)),
        ];
        for (text, want) in cases {
            assert_eq!(parse_duration(text), Ok(*want), "{text}");
        }
    }

    #[test]
    fn rejects_what_it_cannot_read_exactly() {
        type Case = (&'static str, fn(&DurationError) -> bool);
        let cases: &[Case] = &[
            ("3", |e| matches!(e, DurationError::NoUnit(_))),
            ("3 days", |e| matches!(e, DurationError::BadUnit(..))),
            ("5d", |e| matches!(e, DurationError::BadUnit(..))),
            ("", |e| matches!(e, DurationError::Invalid(_))),
            ("s", |e| matches!(e, DurationError::Invalid(_))),
            ("-5s", |e| matches!(e, DurationError::Invalid(_))),
            ("1.2.3s", |e| matches!(e, DurationError::Invalid(_))),
            ("1.5ns", |e| matches!(e, DurationError::TooPrecise(_))),
            ("99999999999999999999999999999999999999h", |e| {
                matches!(e, DurationError::TooLong(_))
            }),
        ];
        for (text, want) in cases {
            let err = parse_duration(text).unwrap_err();
            assert!(want(&err), "{text}: {err:?}");
        }
    }

    #[test]
    fn formats_in_the_largest_exact_unit() {
        for (d, want) in [
            (Duration::from_secs(90), "90s"),
            (Duration::from_secs(300), "300s"),
            (Duration::from_millis(250), "250ms"),
            (Duration::from_millis(1500), "1500ms"),
            (Duration::ZERO, "0s"),
        ] {
            assert_eq!(format_duration(d), want);
            assert_eq!(parse_duration(want), Ok(d));
        }
    }
}
