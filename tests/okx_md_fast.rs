//! OKX's hand-shaped reader (`OkxMdParser::parse`) against the general decoder
//! (`parse_generic`, simd-json's tape) on randomised `bbo-tbt`, `trades` and `books` pushes:
//! both give the same message (or both fail), and leave the same levels, trades and checksum
//! flag. Frames in OKX's own layout with values in the reader's range go the fast way; the
//! same frames with two keys swapped, a space after a comma, an escape or an odd value go to
//! the general decoder, which stays the authority on what they mean.

use mako::types::InstrumentId;
use mako::venue::okx::md::{InstTable, Msg, OkxMdParser};
use proptest::prelude::*;

/// The connection's instruments: ids of 8, 13 and 23 bytes (the reader compares ids of up to
/// 15 bytes and their quote as two words, longer ones as slices).
const INSTS: [&str; 4] = [
    "BTC-USDT",
    "BTC-USDT-SWAP",
    "SOL-USDT",
    "ETH-USDT-SWAP-250328-C1",
];

fn parser() -> OkxMdParser {
    let mut t = InstTable::default();
    for (i, s) in INSTS.iter().enumerate() {
        t.insert(s, InstrumentId(i as u32));
    }
    OkxMdParser::new(t, 64)
}

/// An `instId`: one of the table's, or one it does not hold (a prefix of one, one with a
/// prefix in the table, an escaped one).
fn inst_id(known_only: bool) -> BoxedStrategy<String> {
    let known = proptest::sample::select(INSTS.to_vec()).prop_map(str::to_owned);
    if known_only {
        return known.boxed();
    }
    prop_oneof![
        4 => known,
        1 => proptest::sample::select(vec![
            "BTC-USD",
            "BTC-USDTX",
            "ETH-USDT",
            "BTC\\u002dUSDT",
            "",
            "ETH-USDT-SWAP-250328-C",
            "ETH-USDT-SWAP-250328-C12",
        ])
        .prop_map(str::to_owned),
    ]
    .boxed()
}

/// A decimal string's text (no quotes): OKX's shortest form in the reader's range, or (when
/// `odd`) what it passes on: trailing or leading zeros, long runs, signs, exponents, junk.
fn decimal(odd: bool) -> BoxedStrategy<String> {
    let plain = (0u64..100_000_000, proptest::option::of(1u64..100_000_000)).prop_map(|(i, f)| {
        match f {
            // The shortest fraction: no trailing zero.
            Some(f) => {
                let s = format!("{f:08}");
                format!("{i}.{}", s.trim_end_matches('0'))
            }
            None => i.to_string(),
        }
    });
    if !odd {
        return plain.boxed();
    }
    prop_oneof![
        3 => plain,
        1 => "[0-9]{0,10}(\\.[0-9]{0,10})?",
        1 => proptest::sample::select(vec![
            "0", "0.10", "01.5", "-1", "1e5", "+1", ".5", "1.", "0.000000001", "123456789",
            "99999999.99999999", "1 ",
        ])
        .prop_map(str::to_owned),
    ]
    .boxed()
}

/// A JSON integer's text (`seqId`, `prevSeqId`, `checksum`).
fn int(odd: bool) -> BoxedStrategy<String> {
    let plain = prop_oneof![
        any::<i32>().prop_map(|v| v.to_string()),
        (0i64..1_000_000_000_000_000_000).prop_map(|v| v.to_string()),
    ];
    if !odd {
        return plain.boxed();
    }
    prop_oneof![
        3 => plain,
        1 => any::<i64>().prop_map(|v| v.to_string()),
        1 => proptest::sample::select(vec![
            "0123", "-0", "1.5", "\"5\"", "99999999999999999999", "-", "1e3",
        ])
        .prop_map(str::to_owned),
    ]
    .boxed()
}

/// A millisecond time's text (inside its quotes).
fn millis(odd: bool) -> BoxedStrategy<String> {
    let plain = (1_500_000_000_000u64..2_000_000_000_000).prop_map(|v| v.to_string());
    if !odd {
        return plain.boxed();
    }
    prop_oneof![
        3 => plain,
        1 => "[0-9]{0,18}",
        1 => proptest::sample::select(vec!["+5", "-1", "0001", "1x", ""]).prop_map(str::to_owned),
    ]
    .boxed()
}

/// A price: a decimal, not zero unless `odd` (a zero price is an error, for both decoders).
fn price(odd: bool) -> BoxedStrategy<String> {
    if odd {
        return decimal(true);
    }
    decimal(false).prop_filter("a price", |p| p != "0").boxed()
}

/// A level `["p","q","0","n"]` (odd: the deprecated third field not `"0"` either, which the
/// general decoder ignores and the reader leaves to it).
fn level(odd: bool) -> BoxedStrategy<String> {
    let (count, third) = if odd {
        ("[0-9]{0,12}|x", "0|0|0|1|00|")
    } else {
        ("[1-9][0-9]{0,2}", "0")
    };
    (price(odd), decimal(odd), count, third)
        .prop_map(|(p, q, n, z)| format!(r#"["{p}","{q}","{z}","{n}"]"#))
        .boxed()
}

/// An object from its fields, in the order given.
fn object(fields: &[(String, String)]) -> String {
    let body: Vec<String> = fields.iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
    format!("{{{}}}", body.join(","))
}

/// What may be done to a frame in OKX's layout: nothing, or one change the reader does not
/// take (two of the data's keys swapped, a space after the first comma).
#[derive(Debug, Clone, Copy)]
enum Change {
    None,
    Swap(usize, usize),
    Space,
}

fn change() -> impl Strategy<Value = Change> {
    prop_oneof![
        2 => Just(Change::None),
        1 => (0usize..8, 0usize..8).prop_map(|(a, b)| Change::Swap(a, b)),
        1 => Just(Change::Space),
    ]
}

/// Applies `ch` to `fields`; true when that changed the order.
fn reorder(fields: &mut [(String, String)], ch: Change) -> bool {
    match ch {
        Change::Swap(a, b) if a % fields.len() != b % fields.len() => {
            fields.swap(a % fields.len(), b % fields.len());
            true
        }
        _ => false,
    }
}

fn frame(channel: &str, inst: &str, extra: &str, data: &str, ch: Change) -> Vec<u8> {
    let f =
        format!(r#"{{"arg":{{"channel":"{channel}","instId":"{inst}"}}{extra},"data":[{data}]}}"#);
    match ch {
        Change::Space => f.replacen(',', ", ", 1).into_bytes(),
        _ => f.into_bytes(),
    }
}

fn bbo(odd: bool) -> impl Strategy<Value = (Vec<u8>, bool)> {
    (
        inst_id(!odd),
        level(odd),
        level(odd),
        millis(odd),
        proptest::option::of(int(odd)),
        change(),
    )
        .prop_map(|(inst, ask, bid, ts, seq, ch)| {
            let mut fields = vec![
                ("asks".to_owned(), format!("[{ask}]")),
                ("bids".to_owned(), format!("[{bid}]")),
                ("ts".to_owned(), format!("\"{ts}\"")),
            ];
            if let Some(s) = seq {
                fields.push(("seqId".to_owned(), s));
            }
            let moved = reorder(&mut fields, ch);
            let f = frame("bbo-tbt", &inst, "", &object(&fields), ch);
            (f, moved || matches!(ch, Change::Space))
        })
}

fn trade(odd: bool) -> impl Strategy<Value = Vec<(String, String)>> {
    let id = if odd {
        "[0-9]{1,20}|[a-z0-9-]{0,10}"
    } else {
        "[1-9][0-9]{0,17}"
    };
    let side = if odd { "buy|sell|hold" } else { "buy|sell" };
    (
        id,
        price(odd),
        decimal(odd),
        side,
        millis(odd),
        proptest::option::of("[0-9]{1,3}"),
        proptest::option::of(int(odd)),
    )
        .prop_map(|(id, px, sz, side, ts, count, seq)| {
            let q = |s: &str| format!("\"{s}\"");
            let mut t = vec![
                ("tradeId".to_owned(), q(&id)),
                ("px".to_owned(), q(&px)),
                ("sz".to_owned(), q(&sz)),
                ("side".to_owned(), q(&side)),
                ("ts".to_owned(), q(&ts)),
            ];
            if let Some(c) = count {
                t.push(("count".to_owned(), q(&c)));
            }
            if let Some(s) = seq {
                t.push(("seqId".to_owned(), s));
            }
            t
        })
}

fn trades(odd: bool) -> impl Strategy<Value = (Vec<u8>, bool)> {
    (
        inst_id(!odd),
        proptest::collection::vec((trade(odd), proptest::option::of(inst_id(!odd))), 1..4),
        change(),
    )
        .prop_map(move |(inst, ts, ch)| {
            let mut moved = false;
            let data: Vec<String> = ts
                .into_iter()
                .enumerate()
                .map(|(i, (mut t, other))| {
                    // Each trade repeats the arg's instId (or, odd frames, another one).
                    let id = if odd {
                        other.unwrap_or_else(|| inst.clone())
                    } else {
                        inst.clone()
                    };
                    t.insert(0, ("instId".to_owned(), format!("\"{id}\"")));
                    if i == 0 {
                        moved = reorder(&mut t, ch);
                    }
                    object(&t)
                })
                .collect();
            let f = frame("trades", &inst, "", &data.join(","), ch);
            (f, moved || matches!(ch, Change::Space))
        })
}

fn books(odd: bool) -> impl Strategy<Value = (Vec<u8>, bool)> {
    (
        inst_id(!odd),
        proptest::bool::ANY,
        proptest::collection::vec(level(odd), 0..5),
        proptest::collection::vec(level(odd), 0..5),
        millis(odd),
        (
            // OKX's checksum is a signed 32-bit CRC.
            proptest::option::of(if odd {
                int(true)
            } else {
                any::<i32>().prop_map(|v| v.to_string()).boxed()
            }),
            proptest::option::of(int(odd)),
            proptest::option::of(int(odd)),
        ),
        change(),
    )
        .prop_map(|(inst, snap, asks, bids, ts, (sum, prev, seq), ch)| {
            let mut fields = vec![
                ("asks".to_owned(), format!("[{}]", asks.join(","))),
                ("bids".to_owned(), format!("[{}]", bids.join(","))),
                ("ts".to_owned(), format!("\"{ts}\"")),
            ];
            for (k, v) in [("checksum", sum), ("prevSeqId", prev), ("seqId", seq)] {
                if let Some(v) = v {
                    fields.push((k.to_owned(), v));
                }
            }
            let moved = reorder(&mut fields, ch);
            let action = if snap { "snapshot" } else { "update" };
            let extra = format!(r#","action":"{action}""#);
            (
                frame("books", &inst, &extra, &object(&fields), ch),
                moved || matches!(ch, Change::Space),
            )
        })
}

/// Both decoders on `f`: the same answer and buffers. Returns whether the reader took it.
fn agree(f: &[u8]) -> Result<bool, TestCaseError> {
    let (mut fast, mut general) = (parser(), parser());
    let a = fast.parse(f);
    let b = general.parse_generic(f);
    let text = String::from_utf8_lossy(f);
    prop_assert_eq!(&a, &b, "{}", text);
    match a {
        Ok(Msg::Trades) => {
            prop_assert_eq!(&fast.trades, &general.trades, "{}", text);
        }
        Ok(Msg::Book { .. }) => {
            prop_assert_eq!(
                (&fast.bids, &fast.asks, fast.canonical),
                (&general.bids, &general.asks, general.canonical),
                "{}",
                text
            );
        }
        _ => {}
    }
    Ok(fast.fast_misses() == 0)
}

fn any_frame(odd: bool) -> impl Strategy<Value = (Vec<u8>, bool)> {
    prop_oneof![bbo(odd), trades(odd), books(odd)]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Frames in OKX's layout with values in the reader's range are read the fast way, and
    /// agree with the general decoder; a swapped key or a space sends them to the general
    /// decoder, with the same answer.
    #[test]
    fn okx_layout_is_read_fast_and_reordered_keys_fall_back((f, changed) in any_frame(false)) {
        let fast = agree(&f)?;
        prop_assert_eq!(fast, !changed, "{}", String::from_utf8_lossy(&f));
    }

    /// Any value (odd decimals, ids, times, integers, instruments, sides): the two decoders
    /// agree, whichever path reads the frame.
    #[test]
    fn odd_values_agree_with_the_general_decoder((f, _) in any_frame(true)) {
        agree(&f)?;
    }

    /// Every prefix of a frame (a cut frame) and a stray byte in it: both agree.
    #[test]
    fn cut_and_mangled_frames_agree((f, _) in any_frame(false), cut in 0usize..400, at in 0usize..400, b in any::<u8>()) {
        agree(&f[..cut.min(f.len())])?;
        let mut g = f.clone();
        let i = at % g.len();
        g[i] = b;
        agree(&g)?;
    }
}
