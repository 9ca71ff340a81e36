//! Features on hand-made bars whose values are worked out by hand; names and maps refused.

use std::collections::BTreeMap;

use super::features::*;
use crate::strategy::Candle;
use crate::types::{InstrumentId, Notional, Price, Qty, UnixNanos};

fn bar(t: u64, close: &str, buy: &str, sell: &str) -> Candle {
    let p = |s: &str| Price::parse(s).unwrap();
    let q = |s: &str| Qty::parse(s).unwrap();
    Candle {
        instrument: InstrumentId(0),
        width_ns: 1_000_000_000,
        open_time: UnixNanos(t * 1_000_000_000),
        open: p(close),
        high: p(close),
        low: p(close),
        close: p(close),
        volume: q(buy).checked_add(q(sell)).unwrap(),
        buy_volume: q(buy),
        sell_volume: q(sell),
        quote_volume: Notional::default(),
        trades: 2,
        flat: false,
        incomplete: false,
    }
}

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

#[test]
fn parses_every_name_and_refuses_the_rest() {
    let ok = [
        ("close", Feature::Close),
        ("net_flow", Feature::NetFlow),
        ("sma_30", Feature::Sma(30)),
        ("price_change_59", Feature::PriceChange(59)),
        ("momentum_1", Feature::Momentum(1)),
        ("volatility_2", Feature::Volatility(2)),
        ("rsi_14", Feature::Rsi(14)),
        ("volume_60", Feature::VolumeSum(60)),
        ("net_flow_5", Feature::NetFlowSum(5)),
    ];
    for (name, f) in ok {
        assert_eq!(Feature::parse(name, 60), Ok(f), "{name}");
    }
    let bad = [
        ("vwap", "no mako feature is named \"vwap\""),
        ("sma_x", "no mako feature is named \"sma_x\""),
        ("sma_0", "sma_0: the window must be 1 ..= 60 bars"),
        ("sma_61", "sma_61: the window must be 1 ..= 60 bars"),
        (
            "price_change_60",
            "price_change_60: the window must be 1 ..= 59 bars",
        ),
        (
            "volatility_1",
            "volatility_1: the window must be 2 ..= 59 bars",
        ),
    ];
    for (name, want) in bad {
        let e = Feature::parse(name, 60).unwrap_err();
        assert!(e.contains(want), "{name}: {e}");
    }
}

#[test]
fn a_model_whose_features_cannot_be_supplied_is_refused_naming_each() {
    let model = names(&["close", "f_mom", "vwap", "sma_90"]);
    let map = BTreeMap::from([
        ("f_mom".to_string(), "momentum_5".to_string()),
        ("not_in_model".to_string(), "close".to_string()),
    ]);
    let e = FeatureSet::for_model(&model, &map, 60).unwrap_err();
    for want in [
        "model feature 2 (\"vwap\"): no mako feature is named \"vwap\"",
        "model feature 3 (\"sma_90\"): sma_90: the window must be 1 ..= 60 bars",
        "the map names \"not_in_model\", which is not a feature of the model",
    ] {
        assert!(e.contains(want), "{want:?} in {e}");
    }
    assert!(!e.contains("f_mom"), "{e}");
}

#[test]
fn values_over_the_buffer() {
    let model = names(&[
        "c",
        "net_flow",
        "sma_3",
        "price_change_2",
        "momentum_2",
        "vol3",
        "net_flow_3",
    ]);
    let map = BTreeMap::from([
        ("c".to_string(), "close".to_string()),
        ("vol3".to_string(), "volume_3".to_string()),
    ]);
    let mut set = FeatureSet::for_model(&model, &map, 4).unwrap();
    let mut row = [0.0; 7];
    set.update(&bar(0, "100", "1", "0.5"));
    set.values(&mut row);
    assert!(!set.ready());
    assert_eq!(row[0], 100.0);
    assert_eq!(row[1], 0.5);
    assert!(row[2].is_nan() && row[3].is_nan() && row[6].is_nan());
    set.update(&bar(1, "101", "0", "2"));
    set.update(&bar(2, "102", "3", "0"));
    set.values(&mut row);
    assert!(set.ready());
    assert_eq!(row[2], (100.0 + 101.0 + 102.0) / 3.0);
    assert_eq!(row[3], 102.0 / 100.0 - 1.0);
    assert_eq!(row[4], 2.0);
    assert_eq!(row[5], 1.5 + 2.0 + 3.0);
    assert_eq!(row[6], 0.5 - 2.0 + 3.0);
    // Past the buffer's size (4): the ring wraps and the windows stay the last bars.
    for (t, c) in [(3, "99"), (4, "98"), (5, "104")] {
        set.update(&bar(t, c, "1", "1"));
    }
    set.values(&mut row);
    assert_eq!(row[0], 104.0);
    assert_eq!(row[2], (99.0 + 98.0 + 104.0) / 3.0);
    assert_eq!(row[3], 104.0 / 99.0 - 1.0);
    assert_eq!(row[4], 104.0 - 99.0);
    assert_eq!(row[6], 0.0);
}

#[test]
fn rsi_and_volatility_are_the_shared_indicators() {
    use crate::strategy::indicators::{LogReturnVol, Rsi};
    let model = names(&["rsi_3", "volatility_3"]);
    let mut set = FeatureSet::for_model(&model, &BTreeMap::new(), 60).unwrap();
    let (mut rsi, mut vol) = (Rsi::new(3).unwrap(), LogReturnVol::new(3).unwrap());
    let mut row = [0.0; 2];
    for (t, c) in ["100", "101", "100.5", "102", "101", "103", "102.5"]
        .iter()
        .enumerate()
    {
        set.update(&bar(t as u64, c, "1", "0"));
        let close: f64 = c.parse().unwrap();
        let (r, v) = (rsi.update(close), vol.update(close));
        set.values(&mut row);
        assert_eq!(row[0].to_bits(), r.unwrap_or(f64::NAN).to_bits(), "bar {t}");
        assert_eq!(row[1].to_bits(), v.unwrap_or(f64::NAN).to_bits(), "bar {t}");
    }
    assert!(set.ready());
}
