//! Candles from the real Binance recording (BTCUSDT, 2024-08-08, ~6 minutes, 9 757 trades):
//! the trades go through mako's codec into its candle builders at 1 s and 1 m, and every
//! closed bar must equal the bar computed here from the raw JSON by a plain grouping.

use std::collections::BTreeMap;

use mako::feed::record::RecordReader;
use mako::strategy::{Candle, CandleBuilder};
use mako::types::{InstrumentId, TradeEvent, VenueId};
use mako::venue::binance::handler::SpotMdHandler;
use mako::venue::binance::{SymbolTable, TimeUnit};
use mako::venue::md::{Handled, MarketData, SyncLimits};

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/binance-spot/btcusdt_20240808.gz"
);
const BTC: InstrumentId = InstrumentId(0);

/// A decimal string as an integer at 10^-8, parsed here (not by mako).
fn e8(s: &str) -> i64 {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    let mut frac = frac.to_string();
    assert!(frac.len() <= 8, "{s}");
    while frac.len() < 8 {
        frac.push('0');
    }
    int.parse::<i64>().unwrap() * 100_000_000 + frac.parse::<i64>().unwrap()
}

/// A bar as the model computes it: (open, high, low, close, volume, buy volume, sell volume,
/// quote volume at 10^-16, trades, flat).
type Bar = (i64, i64, i64, i64, i64, i64, i64, i128, u32, bool);

fn ours(c: &Candle) -> (u64, Bar) {
    (
        c.open_time.0,
        (
            c.open.units(),
            c.high.units(),
            c.low.units(),
            c.close.units(),
            c.volume.units(),
            c.buy_volume.units(),
            c.sell_volume.units(),
            c.quote_volume.0,
            c.trades,
            c.flat,
        ),
    )
}

/// Every bar from the first trade's to the last trade's, the empty ones flat at the previous
/// close; the last one (still open when the recording ends) is left out.
fn model(trades: &[(u64, i64, i64, bool)], width_ns: u64) -> Vec<(u64, Bar)> {
    let mut bars: BTreeMap<u64, Bar> = BTreeMap::new();
    for &(t_ns, p, q, buyer_is_maker) in trades {
        let start = t_ns / width_ns * width_ns;
        let b = bars
            .entry(start)
            .or_insert((p, p, p, p, 0, 0, 0, 0, 0, false));
        b.1 = b.1.max(p);
        b.2 = b.2.min(p);
        b.3 = p;
        b.4 += q;
        // The buyer was the maker: the taker sold.
        if buyer_is_maker {
            b.6 += q;
        } else {
            b.5 += q;
        }
        b.7 += i128::from(p) * i128::from(q);
        b.8 += 1;
    }
    let first = *bars.keys().next().unwrap();
    let last = *bars.keys().next_back().unwrap();
    let mut out = Vec::new();
    let mut close = 0;
    let mut t = first;
    while t < last {
        let bar = match bars.get(&t) {
            Some(b) => *b,
            None => (close, close, close, close, 0, 0, 0, 0, 0, true),
        };
        close = bar.3;
        out.push((t, bar));
        t += width_ns;
    }
    out
}

#[test]
fn one_second_and_one_minute_candles_equal_the_raw_trades_grouped() {
    let mut symbols = SymbolTable::new();
    symbols.insert("btcusdt", BTC).unwrap();
    let mut h = SpotMdHandler::new(symbols, TimeUnit::Millis, SyncLimits::default());
    let mut reader = RecordReader::open(FIXTURE).unwrap();
    let widths = [1_000_000_000u64, 60_000_000_000];
    let mut builders: Vec<CandleBuilder> = widths
        .iter()
        .map(|w| CandleBuilder::new(BTC, *w, 250_000_000))
        .collect();
    let mut got: Vec<Vec<(u64, Bar)>> = vec![Vec::new(); widths.len()];
    let mut raw = Vec::new();
    while let Some(rec) = reader.next() {
        let rec = rec.unwrap();
        let v: serde_json::Value = serde_json::from_slice(rec.frame).unwrap();
        let d = &v["data"];
        if d["e"] == "trade" {
            raw.push((
                d["T"].as_u64().unwrap() * 1_000_000,
                e8(d["p"].as_str().unwrap()),
                e8(d["q"].as_str().unwrap()),
                d["m"].as_bool().unwrap(),
            ));
        }
        // Binance hands one trade per frame (`Handled::Trade`); venues that batch hand them
        // through `trades()`.
        let mut prints = match h.on_frame(rec.frame).unwrap() {
            Handled::Trade(t) => vec![t],
            _ => Vec::new(),
        };
        prints.append(h.trades());
        for t in prints {
            let ev = TradeEvent {
                venue: VenueId(0),
                instrument: t.instrument,
                trade_id: t.trade_id,
                price: t.price,
                qty: t.qty,
                aggressor: t.aggressor,
                trade_time: t.trade_time,
                exchange_ts: t.event_time,
                recv_ts: rec.recv,
            };
            for (b, out) in builders.iter_mut().zip(got.iter_mut()) {
                b.on_trade(&ev, |c| out.push(ours(&c)));
            }
        }
        // The recording machine's clock: bars must not close early on it.
        for (b, out) in builders.iter_mut().zip(got.iter_mut()) {
            b.on_clock(rec.recv, |c| out.push(ours(&c)));
        }
    }
    assert_eq!(raw.len(), 9757);
    assert!(
        raw.windows(2).all(|w| w[0].0 <= w[1].0),
        "trade times in order"
    );
    for ((w, b), got) in widths.iter().zip(&builders).zip(&got) {
        let want = model(&raw, *w);
        assert_eq!(b.late_trades, 0);
        assert_eq!(got.len(), want.len(), "width {w}");
        for (g, m) in got.iter().zip(&want) {
            assert_eq!(g, m, "width {w}, bar at {}", g.0);
        }
        let flat = want.iter().filter(|b| b.1.9).count() as u64;
        assert_eq!(b.flat_bars, flat);
        // The open bar holds the rest of the trades.
        let open = b.current().expect("the last bar is open");
        let in_closed: u32 = got.iter().map(|b| b.1.8).sum();
        assert_eq!(in_closed + open.trades, 9757);
    }
    // Sanity of the sample itself: ~6 minutes of 1 s bars with some quiet seconds, and whole
    // minutes.
    assert!(got[0].len() > 300, "{}", got[0].len());
    assert!(got[0].iter().any(|b| b.1.9), "some seconds had no trade");
    assert!(got[1].len() >= 5, "{}", got[1].len());
}
