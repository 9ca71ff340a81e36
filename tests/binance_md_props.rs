//! Property tests of the Binance market-data codec: it never panics, and its fast path and
//! its general decoder mean the same thing on every real frame and on mutations of them.

use std::sync::OnceLock;

use mako::feed::record::RecordReader;
use mako::types::InstrumentId;
use mako::venue::binance::{MdParser, SymbolTable, TimeUnit};
use proptest::prelude::*;

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/binance-spot/btcusdt_20240808.gz"
);

fn parser() -> MdParser {
    let mut t = SymbolTable::new();
    t.insert("btcusdt", InstrumentId(0)).unwrap();
    t.insert("ethusdt", InstrumentId(1)).unwrap();
    MdParser::new(t, TimeUnit::Millis, 5000)
}

fn frames() -> &'static Vec<Vec<u8>> {
    static FRAMES: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    FRAMES.get_or_init(|| {
        let mut r = RecordReader::open(FIXTURE).unwrap();
        let mut v = Vec::new();
        while let Some(rec) = r.next() {
            v.push(rec.unwrap().frame.to_vec());
        }
        v
    })
}

/// Both decoders on `frame`: equal results (events compared field by field via Debug, which
/// prints every field and level).
fn agree(p: &mut MdParser, frame: &[u8]) -> Result<(), String> {
    let a = p.parse(frame).map(|e| format!("{e:?}"));
    let b = p.parse_generic(frame).map(|e| format!("{e:?}"));
    if a == b {
        Ok(())
    } else {
        Err(format!(
            "fast {a:?}\ngeneral {b:?}\nframe {}",
            String::from_utf8_lossy(frame)
        ))
    }
}

#[test]
fn fast_and_general_decoders_agree_on_every_real_frame() {
    let mut p = parser();
    let frames = frames();
    assert_eq!(frames.len(), 41249);
    for (k, f) in frames.iter().enumerate() {
        assert!(p.parse(f).is_ok(), "line {}", k + 1);
        agree(&mut p, f).unwrap_or_else(|e| panic!("line {}: {e}", k + 1));
    }
    assert_eq!(p.fast_misses(), 0);
}

/// One edit to a frame.
#[derive(Debug, Clone)]
enum Edit {
    Flip(prop::sample::Index, u8),
    Delete(prop::sample::Index, usize),
    Insert(prop::sample::Index, Vec<u8>),
    Truncate(prop::sample::Index),
    Duplicate(prop::sample::Index, usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    // Bytes that matter to JSON and to decimals are over-represented.
    let byte = prop_oneof![
        any::<u8>(),
        prop::sample::select(b"\"{}[],:.-0123456789eE \\ntu".to_vec())
    ];
    prop_oneof![
        (any::<prop::sample::Index>(), byte.clone()).prop_map(|(i, b)| Edit::Flip(i, b)),
        (any::<prop::sample::Index>(), 1usize..8).prop_map(|(i, n)| Edit::Delete(i, n)),
        (
            any::<prop::sample::Index>(),
            prop::collection::vec(byte, 1..6)
        )
            .prop_map(|(i, b)| Edit::Insert(i, b)),
        any::<prop::sample::Index>().prop_map(Edit::Truncate),
        (any::<prop::sample::Index>(), 1usize..40).prop_map(|(i, n)| Edit::Duplicate(i, n)),
    ]
}

fn apply(frame: &mut Vec<u8>, e: &Edit) {
    if frame.is_empty() {
        return;
    }
    match e {
        Edit::Flip(i, b) => {
            let i = i.index(frame.len());
            frame[i] = *b;
        }
        Edit::Delete(i, n) => {
            let i = i.index(frame.len());
            let end = (i + n).min(frame.len());
            frame.drain(i..end);
        }
        Edit::Insert(i, b) => {
            let i = i.index(frame.len() + 1);
            frame.splice(i..i, b.iter().copied());
        }
        Edit::Truncate(i) => frame.truncate(i.index(frame.len())),
        Edit::Duplicate(i, n) => {
            let i = i.index(frame.len());
            let end = (i + n).min(frame.len());
            let seg = frame[i..end].to_vec();
            frame.splice(i..i, seg);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        let mut p = parser();
        prop_assert!(agree(&mut p, &bytes).is_ok());
        // The same bytes behind a real prefix reach deeper into the fast path.
        for prefix in [&b"{\"stream\":\"btcusdt@depth@100ms\",\"data\":{\"e\":\"depthUpdate\",\"E\":1,"[..], b"{\"lastUpdateId\":1,\"bids\":[[\""] {
            let mut f = prefix.to_vec();
            f.extend_from_slice(&bytes);
            agree(&mut p, &f).map_err(TestCaseError::fail)?;
        }
    }

    #[test]
    fn mutated_real_frames_never_panic_and_both_decoders_agree(
        pick in any::<prop::sample::Index>(),
        edits in prop::collection::vec(edit(), 1..4),
    ) {
        let frames = frames();
        let mut f = frames[pick.index(frames.len())].clone();
        for e in &edits {
            apply(&mut f, e);
        }
        let mut p = parser();
        agree(&mut p, &f).map_err(TestCaseError::fail)?;
    }
}
