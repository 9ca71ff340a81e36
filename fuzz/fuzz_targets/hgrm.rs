#![no_main]
//! `.hgrm` files (HdrHistogram's percentile table), as `mako latency-report` reads them.
//!
//! - `mako::fuzzing::hgrm`: `parse_hgrm` on the input when it is UTF-8.
//! - `parse_hgrm` on the input read lossily (any bytes), and on what parses, the derived
//!   figures `count`, `max` and `value_at` (at 0, 0.5, 0.99, 1, out-of-range and NaN
//!   percentiles: a value exactly when the count is not zero and there are rows; a footer
//!   can give a count to a file without rows).
//! - Writer and reader agree: a histogram of values taken from the input, written by
//!   `to_hgrm` with a venue and measurement taken from the input, parses back with the same
//!   total count, the footer's max, and the names as `to_hgrm` spells them (whitespace, `]`
//!   and `=` become `_`).
use hdrhistogram::Histogram;
use libfuzzer_sys::fuzz_target;
use mako::latency::hgrm::{HgrmMeta, parse_hgrm, to_hgrm};

fn token(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_whitespace() || c == ']' || c == '=' {
                '_'
            } else {
                c
            }
        })
        .collect()
}

fn figures(text: &str) {
    if let Ok(h) = parse_hgrm(text) {
        let n = h.count();
        let _ = h.max();
        for p in [0.0, 0.5, 0.99, 1.0, -1.0, 2.0, f64::NAN] {
            assert_eq!(
                h.value_at(p).is_some(),
                n > 0 && !h.rows.is_empty(),
                "value_at({p}) with count {n} and {} rows",
                h.rows.len()
            );
        }
    }
}

fuzz_target!(|data: &[u8]| {
    mako::fuzzing::hgrm(data);
    figures(&String::from_utf8_lossy(data));

    // Round trip: values from the first 8 * k bytes, names from the rest.
    let split = (data.len() / 2) & !7;
    let (nums, names) = data.split_at(split);
    let mut h = Histogram::<u64>::new(3).unwrap();
    for c in nums.chunks_exact(8).take(64) {
        let v = u64::from_le_bytes(c.try_into().unwrap()) >> 34; // up to ~1.1e9 ns (1 s)
        h.record(v.max(1)).unwrap();
    }
    let names = String::from_utf8_lossy(names);
    let (venue, measurement) = names.split_once('\0').unwrap_or((&names, "m"));
    let meta = HgrmMeta {
        venue: venue.to_owned(),
        measurement: measurement.to_owned(),
    };
    let text = to_hgrm(&h, Some(&meta));
    let back = parse_hgrm(&text)
        .unwrap_or_else(|e| panic!("to_hgrm's output does not parse: {e}\n{text}"));
    assert_eq!(back.count(), h.len(), "total count");
    assert_eq!(back.total_count, Some(h.len()));
    if !h.is_empty() {
        let max = h.highest_equivalent(h.max()) as f64 / 1000.0;
        let got = back.max().unwrap();
        assert!(
            (got - max).abs() <= 0.0005 + max * 1e-12,
            "max {got} vs {max}"
        );
    }
    let want = HgrmMeta {
        venue: token(venue),
        measurement: token(measurement),
    };
    assert_eq!(back.meta, Some(want), "names");
});
