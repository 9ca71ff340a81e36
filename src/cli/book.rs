//! `mako book`: replays market-data recordings through the feed's own codec and book sync
//! (the venue's `MarketData`), then prints each instrument's final top of book and the
//! replay's counts, checksums included where the venue publishes them.

use std::fmt::Write as _;
use std::process::ExitCode;

use crate::book::Level;
use crate::config::VenueKind;
use crate::feed::record::RecordReader;
use crate::types::{InstrumentId, Side};
use crate::venue::binance::handler::SpotMdHandler;
use crate::venue::binance::md::{TimeUnit, stream_symbol};
use crate::venue::binance::symbols::SymbolTable;
use crate::venue::bitmart::BitmartMd;
use crate::venue::bybit::{BybitMd, Category};
use crate::venue::coinbase::CoinbaseMd;
use crate::venue::coindcx::CoindcxMd;
use crate::venue::coindcx::handler::Channels;
use crate::venue::coinstore::CoinstoreMd;
use crate::venue::delta::{DeltaMd, Platform};
use crate::venue::md::{FeedCounters, MarketData, SyncLimits, SyncState};
use crate::venue::okx::OkxMd;

pub const USAGE: &str = "usage: mako book <recording>... --venue binance-spot|okx-spot|coinbase|bitmart-spot|bybit-spot|bybit-linear|delta-india|delta-global|coindcx-futures|coinstore-spot [--depth N] [--json]";

/// How many bad lines or frames are described on stderr before the rest are only counted.
const REPORT_LIMIT: u64 = 5;

/// The venue's market data, with what a replay needs beyond the seam: instruments are
/// numbered in the order their names first appear in the recording.
enum Replay {
    Binance(SpotMdHandler),
    Okx(OkxMd),
    Coinbase(CoinbaseMd),
    Bitmart(BitmartMd),
    Bybit(BybitMd),
    Delta(DeltaMd),
    Coindcx(CoindcxMd),
    Coinstore(CoinstoreMd),
}

impl Replay {
    fn new(kind: VenueKind) -> Self {
        match kind {
            VenueKind::BinanceSpot => Replay::Binance(SpotMdHandler::new(
                SymbolTable::new(),
                TimeUnit::Millis,
                SyncLimits::default(),
            )),
            VenueKind::OkxSpot => Replay::Okx(OkxMd::new(&[], SyncLimits::default())),
            VenueKind::Coinbase => Replay::Coinbase(CoinbaseMd::new(&[], SyncLimits::default())),
            VenueKind::BitmartSpot => Replay::Bitmart(BitmartMd::new(&[], SyncLimits::default())),
            VenueKind::BybitSpot => {
                Replay::Bybit(BybitMd::new(Category::Spot, &[], SyncLimits::default()))
            }
            VenueKind::BybitLinear => {
                Replay::Bybit(BybitMd::new(Category::Linear, &[], SyncLimits::default()))
            }
            VenueKind::DeltaIndia => {
                Replay::Delta(DeltaMd::new(Platform::India, &[], SyncLimits::default()))
            }
            VenueKind::DeltaGlobal => {
                Replay::Delta(DeltaMd::new(Platform::Global, &[], SyncLimits::default()))
            }
            VenueKind::CoindcxFutures => {
                // A recording may hold any public channel: all are read.
                let all = Channels {
                    book: true,
                    trades: true,
                    prices: true,
                    marks: true,
                };
                Replay::Coindcx(CoindcxMd::new(&[], all, SyncLimits::default()))
            }
            VenueKind::CoinstoreSpot => {
                Replay::Coinstore(CoinstoreMd::new(&[], SyncLimits::default()))
            }
        }
    }

    fn md(&mut self) -> &mut dyn MarketData {
        match self {
            Replay::Binance(h) => h,
            Replay::Okx(h) => h,
            Replay::Coinbase(h) => h,
            Replay::Bitmart(h) => h,
            Replay::Bybit(h) => h,
            Replay::Delta(h) => h,
            Replay::Coindcx(h) => h,
            Replay::Coinstore(h) => h,
        }
    }

    fn md_ref(&self) -> &dyn MarketData {
        match self {
            Replay::Binance(h) => h,
            Replay::Okx(h) => h,
            Replay::Coinbase(h) => h,
            Replay::Bitmart(h) => h,
            Replay::Bybit(h) => h,
            Replay::Delta(h) => h,
            Replay::Coindcx(h) => h,
            Replay::Coinstore(h) => h,
        }
    }

    /// Registers the instrument a frame names, if it is new.
    fn discover(&mut self, frame: &[u8]) -> Result<(), String> {
        match self {
            Replay::Binance(h) => {
                if let Some(sym) = stream_symbol(frame)
                    && h.symbols().by_stream(sym.as_bytes()).is_none()
                {
                    let id = InstrumentId(h.symbols().len() as u32);
                    h.add_symbol(sym, id).map_err(|e| e.to_string())?;
                }
            }
            Replay::Okx(h) => {
                if let Some(inst) = okx_inst_id(frame)
                    && h.insts().get(inst).is_none()
                {
                    let id = InstrumentId(h.insts().len() as u32);
                    h.add_instrument(inst, id);
                }
            }
            Replay::Coinbase(h) => {
                for product in coinbase_product_ids(frame) {
                    if h.insts().get(product).is_none() {
                        let id = InstrumentId(h.insts().len() as u32);
                        h.add_instrument(product, id);
                    }
                }
            }
            Replay::Bitmart(h) => {
                for sym in bitmart_symbols(frame) {
                    if h.insts().get(sym).is_none() {
                        let id = InstrumentId(h.insts().len() as u32);
                        h.add_instrument(sym, id);
                    }
                }
            }
            Replay::Bybit(h) => {
                if let Some(sym) = bybit_symbol(frame)
                    && h.insts().get(sym).is_none()
                {
                    let id = InstrumentId(h.insts().len() as u32);
                    h.add_instrument(sym, id);
                }
            }
            Replay::Delta(h) => {
                if let Some(sym) = delta_symbol(frame)
                    && h.insts().get(sym).is_none()
                {
                    let id = InstrumentId(h.insts().len() as u32);
                    h.add_instrument(sym, id);
                }
            }
            Replay::Coindcx(h) => {
                if let Some(pair) = coindcx_pair(frame)
                    && h.insts().get(pair).is_none()
                {
                    let id = InstrumentId(h.insts().len() as u32);
                    h.add_instrument(pair, id);
                }
            }
            // Coinstore's pushes name `"symbol":"BTCUSDT"` as BitMart's name theirs.
            Replay::Coinstore(h) => {
                for sym in bitmart_symbols(frame) {
                    if h.insts().get(sym).is_none() {
                        let id = InstrumentId(h.insts().len() as u32);
                        h.add_instrument(sym, id);
                    }
                }
            }
        }
        Ok(())
    }

    fn symbol(&self, id: InstrumentId) -> &str {
        match self {
            Replay::Binance(h) => h.symbols().symbol_of(id),
            Replay::Okx(h) => h.insts().inst_id_of(id),
            Replay::Coinbase(h) => h.insts().inst_id_of(id),
            Replay::Bitmart(h) => h.insts().inst_id_of(id),
            Replay::Bybit(h) => h.insts().inst_id_of(id),
            Replay::Delta(h) => h.insts().inst_id_of(id),
            Replay::Coindcx(h) => h.insts().inst_id_of(id),
            Replay::Coinstore(h) => h.insts().inst_id_of(id),
        }
        .unwrap_or("?")
    }
}

/// The `instId` of a push's `arg` (`{"arg":{"channel":"books","instId":"BTC-USDT"},…}`).
fn okx_inst_id(frame: &[u8]) -> Option<&str> {
    const KEY: &[u8] = b"\"instId\":\"";
    let arg = frame.windows(6).position(|w| w == b"\"arg\":")?;
    let at = frame[arg..].windows(KEY.len()).position(|w| w == KEY)? + arg + KEY.len();
    let len = frame[at..].iter().position(|&b| b == b'"')?;
    let id = std::str::from_utf8(&frame[at..at + len]).ok()?;
    (!id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')).then_some(id)
}

/// Every `product_id` a Coinbase message names (a `level2` message may carry events of
/// several products).
fn coinbase_product_ids(frame: &[u8]) -> impl Iterator<Item = &str> {
    const KEY: &[u8] = b"\"product_id\":";
    let mut at = 0;
    std::iter::from_fn(move || {
        loop {
            let k = frame.get(at..)?.windows(KEY.len()).position(|w| w == KEY)? + at + KEY.len();
            let start = k + frame[k..].iter().position(|&b| b == b'"')? + 1;
            let len = frame[start..].iter().position(|&b| b == b'"')?;
            at = start + len;
            let id = std::str::from_utf8(&frame[start..start + len]).ok()?;
            if !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
                return Some(id);
            }
        }
    })
}

/// The symbol a Bybit push's topic names (`"topic":"orderbook.50.BTCUSDT"`, `publicTrade.`,
/// `tickers.`: the last dot-separated part).
fn bybit_symbol(frame: &[u8]) -> Option<&str> {
    const KEY: &[u8] = b"\"topic\":\"";
    let at = frame.windows(KEY.len()).position(|w| w == KEY)? + KEY.len();
    let len = frame[at..].iter().position(|&b| b == b'"')?;
    let topic = std::str::from_utf8(&frame[at..at + len]).ok()?;
    let sym = topic.rsplit('.').next()?;
    (!sym.is_empty() && sym.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')).then_some(sym)
}

/// The symbol a Delta push names (`"sy":"BTCUSD"`, `"sy":"MARK:BTCUSD"`, or an error frame's
/// `"symbol"`).
fn delta_symbol(frame: &[u8]) -> Option<&str> {
    let at = [&b"\"sy\":\""[..], b"\"symbol\":\""]
        .iter()
        .find_map(|key| Some(frame.windows(key.len()).position(|w| w == *key)? + key.len()))?;
    let len = frame[at..].iter().position(|&b| b == b'"')?;
    let sym = std::str::from_utf8(&frame[at..at + len]).ok()?;
    let sym = sym.strip_prefix("MARK:").unwrap_or(sym);
    (!sym.is_empty()
        && sym
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
    .then_some(sym)
}

/// The pair a CoinDCX event names: its envelope's `channel` (`B-BTC_USDT@orderbook@20-futures`,
/// the part before the first `@`) or a trade's `s`. Only the first is looked at; a
/// `currentPrices` event (all pairs) adds none.
fn coindcx_pair(frame: &[u8]) -> Option<&str> {
    let find = |key: &[u8]| -> Option<&str> {
        let at = frame.windows(key.len()).position(|w| w == key)? + key.len();
        let len = frame[at..]
            .iter()
            .position(|&b| b == b'"' || b == b'@' || b == b'\\')?;
        std::str::from_utf8(&frame[at..at + len]).ok()
    };
    let pair = find(b"\"channel\":\"").or_else(|| find(b"\"s\":\""))?;
    (pair.starts_with("B-")
        && pair.len() > 2
        && pair
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
    .then_some(pair)
}

/// Every `symbol` a BitMart push names (`BTC_USDT`).
fn bitmart_symbols(frame: &[u8]) -> impl Iterator<Item = &str> {
    const KEY: &[u8] = b"\"symbol\":";
    let mut at = 0;
    std::iter::from_fn(move || {
        loop {
            let k = frame.get(at..)?.windows(KEY.len()).position(|w| w == KEY)? + at + KEY.len();
            let start = k + frame[k..].iter().position(|&b| b == b'"')? + 1;
            let len = frame[start..].iter().position(|&b| b == b'"')?;
            at = start + len;
            let sym = std::str::from_utf8(&frame[start..start + len]).ok()?;
            if !sym.is_empty() && sym.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                return Some(sym);
            }
        }
    })
}

#[derive(Debug)]
struct Args {
    files: Vec<String>,
    kind: VenueKind,
    depth: usize,
    json: bool,
}

fn parse_args(args: &[String]) -> Result<Args, String> {
    let (mut files, mut depth, mut json, mut venue) = (Vec::new(), 5usize, false, None);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--venue" => venue = Some(it.next().ok_or("--venue needs a value")?.clone()),
            "--depth" => {
                let v = it.next().ok_or("--depth needs a value")?;
                depth = v
                    .parse()
                    .map_err(|_| format!("--depth {v:?}: expected a whole number"))?;
            }
            "--json" => json = true,
            s if s.starts_with("--") => return Err(format!("unknown flag {s:?}")),
            s => files.push(s.to_owned()),
        }
    }
    let kinds = VenueKind::ALL.map(VenueKind::as_str).join(", ");
    let kind = match venue.as_deref() {
        Some(v) => VenueKind::from_name(v)
            .ok_or_else(|| format!("--venue {v:?}: the venue kinds are {kinds}"))?,
        None => return Err(format!("--venue is required ({kinds})")),
    };
    if files.is_empty() {
        return Err("no recording given".into());
    }
    Ok(Args {
        files,
        kind,
        depth,
        json,
    })
}

/// Totals over the whole replay.
#[derive(Default)]
struct Totals {
    malformed_lines: u64,
    truncated_files: u64,
}

pub fn run(args: &[String]) -> ExitCode {
    let args = match parse_args(args) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("mako book: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let mut h = Replay::new(args.kind);
    let mut totals = Totals::default();
    for path in &args.files {
        let mut reader = match RecordReader::open(path) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("mako book: cannot open {path}: {e}");
                return ExitCode::FAILURE;
            }
        };
        while let Some(item) = reader.next() {
            match item {
                Ok(rec) => {
                    if let Err(e) = h.discover(rec.frame) {
                        eprintln!("mako book: {path}: {e}");
                    }
                    if let Err(e) = h.md().on_frame(rec.frame)
                        && h.md_ref().counters().malformed <= REPORT_LIMIT
                    {
                        eprintln!("mako book: {path}: line {}: {e}", rec.line);
                    }
                }
                Err(e) => {
                    if matches!(e, crate::feed::record::RecordError::Truncated { .. }) {
                        totals.truncated_files += 1;
                    } else {
                        totals.malformed_lines += 1;
                    }
                    if totals.malformed_lines + totals.truncated_files <= REPORT_LIMIT {
                        eprintln!("mako book: {path}: {e}");
                    }
                }
            }
        }
    }
    let out = if args.json {
        json(&h, &totals, args.depth)
    } else {
        text(&h, &totals, args.depth)
    };
    print!("{out}");
    ExitCode::SUCCESS
}

fn top(h: &Replay, id: InstrumentId, side: Side, depth: usize) -> Vec<Level> {
    let mut v = vec![Level::default(); depth];
    let md = h.md_ref();
    let n = match (md.state(id), md.book(id)) {
        (Some(SyncState::Live), Some(book)) => book.top_n(side, &mut v).min(depth),
        _ => 0,
    };
    v.truncate(n);
    v
}

fn text(h: &Replay, t: &Totals, depth: usize) -> String {
    let md = h.md_ref();
    let c: &FeedCounters = md.counters();
    let mut s = String::new();
    let _ = writeln!(
        s,
        "frames {}  malformed frames {}  malformed lines {}  truncated files {}",
        c.frames, c.malformed, t.malformed_lines, t.truncated_files
    );
    let _ = writeln!(
        s,
        "  best bid/offer {}  depth {}  trade {}  snapshots {}  close notices {}",
        c.book_tickers, c.depth_updates, c.trades, c.snapshots, c.server_shutdowns
    );
    for id in md.instruments() {
        let k = md.sync_counters(id).unwrap_or_default();
        let live = md.state(id) == Some(SyncState::Live);
        let _ = writeln!(
            s,
            "\n{} (instrument {id}): {}, update id {}",
            h.symbol(id),
            if live { "live" } else { "syncing" },
            md.book(id).map_or(0, |b| b.update_id())
        );
        let _ = writeln!(
            s,
            "  diffs applied {}  stale {}  buffered {}  gaps {}  overlaps {}  crossed {}  resyncs {}",
            k.diffs_applied,
            k.stale_dropped,
            k.diffs_buffered,
            k.gaps,
            k.overlaps,
            k.crossed,
            k.resyncs
        );
        let _ = writeln!(
            s,
            "  snapshots applied {}  too old {}  ignored {}",
            k.snapshots_applied, k.snapshots_too_old, k.snapshots_ignored
        );
        let _ = writeln!(
            s,
            "  checksums verified {}  mismatches {}  unverifiable {}  sequence resets {}",
            k.checksums_verified,
            k.checksum_mismatches,
            k.checksums_unverifiable,
            k.sequence_resets
        );
        let _ = writeln!(
            s,
            "  bookTicker checked {}  agreed {}  unchecked {}",
            k.tickers_checked, k.tickers_agreed, k.tickers_unchecked
        );
        let (bids, asks) = (top(h, id, Side::Buy, depth), top(h, id, Side::Sell, depth));
        let _ = writeln!(s, "  {:>4} {:>20} {:>20}", "", "price", "qty");
        for l in asks.iter().rev() {
            let _ = writeln!(
                s,
                "  {:>4} {:>20} {:>20}",
                "ask",
                l.price.to_string(),
                l.qty.to_string()
            );
        }
        for l in &bids {
            let _ = writeln!(
                s,
                "  {:>4} {:>20} {:>20}",
                "bid",
                l.price.to_string(),
                l.qty.to_string()
            );
        }
    }
    s
}

fn json_levels(levels: &[Level]) -> serde_json::Value {
    levels
        .iter()
        .map(|l| serde_json::json!([l.price.to_string(), l.qty.to_string()]))
        .collect()
}

fn json(h: &Replay, t: &Totals, depth: usize) -> String {
    let md = h.md_ref();
    let c = md.counters();
    let books: Vec<serde_json::Value> = md
        .instruments()
        .into_iter()
        .map(|id| {
            let k = md.sync_counters(id).unwrap_or_default();
            serde_json::json!({
                "symbol": h.symbol(id),
                "instrument": id.0,
                "live": md.state(id) == Some(SyncState::Live),
                "update_id": md.book(id).map_or(0, |b| b.update_id()),
                "diffs_applied": k.diffs_applied,
                "stale_dropped": k.stale_dropped,
                "diffs_buffered": k.diffs_buffered,
                "gaps": k.gaps,
                "overlaps": k.overlaps,
                "crossed": k.crossed,
                "resyncs": k.resyncs,
                "snapshots_applied": k.snapshots_applied,
                "snapshots_too_old": k.snapshots_too_old,
                "snapshots_ignored": k.snapshots_ignored,
                "checksums_verified": k.checksums_verified,
                "checksum_mismatches": k.checksum_mismatches,
                "checksums_unverifiable": k.checksums_unverifiable,
                "sequence_resets": k.sequence_resets,
                "tickers_checked": k.tickers_checked,
                "tickers_agreed": k.tickers_agreed,
                "tickers_unchecked": k.tickers_unchecked,
                "bids": json_levels(&top(h, id, Side::Buy, depth)),
                "asks": json_levels(&top(h, id, Side::Sell, depth)),
            })
        })
        .collect();
    let (verified, mismatches) = md.instruments().into_iter().fold((0, 0), |(v, m), id| {
        let k = md.sync_counters(id).unwrap_or_default();
        (v + k.checksums_verified, m + k.checksum_mismatches)
    });
    let v = serde_json::json!({
        "venue": md.venue_kind(),
        "frames": c.frames,
        "malformed_frames": c.malformed,
        "malformed_lines": t.malformed_lines,
        "truncated_files": t.truncated_files,
        "book_tickers": c.book_tickers,
        "depth_updates": c.depth_updates,
        "trades": c.trades,
        "snapshots": c.snapshots,
        "server_shutdowns": c.server_shutdowns,
        "checksums_verified": verified,
        "checksum_mismatches": mismatches,
        "books": books,
    });
    format!("{v}\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn okx_inst_ids_are_found_in_the_arg() {
        assert_eq!(
            okx_inst_id(br#"{"arg":{"channel":"books","instId":"BTC-USDT"},"action":"update"}"#),
            Some("BTC-USDT")
        );
        assert_eq!(okx_inst_id(br#"{"event":"subscribe"}"#), None);
        assert_eq!(okx_inst_id(br#"{"arg":{"instId":"a\"b"}}"#), None);
    }

    #[test]
    fn arguments() {
        let a = parse_args(&s(&[
            "a.gz",
            "--venue",
            "binance-spot",
            "b",
            "--depth",
            "3",
            "--json",
        ]))
        .unwrap();
        assert_eq!((a.files, a.depth, a.json), (s(&["a.gz", "b"]), 3, true));
        assert_eq!(a.kind, VenueKind::BinanceSpot);
        let okx = parse_args(&s(&["r", "--venue", "okx-spot"])).unwrap();
        assert_eq!(okx.kind, VenueKind::OkxSpot);
        assert!(parse_args(&s(&["a.gz"])).unwrap_err().contains("--venue"));
        assert!(
            parse_args(&s(&["a.gz", "--venue", "okx"]))
                .unwrap_err()
                .contains("okx-spot")
        );
        assert!(
            parse_args(&s(&["--venue", "binance-spot"]))
                .unwrap_err()
                .contains("no recording")
        );
        assert!(parse_args(&s(&["a", "--venue", "binance-spot", "--depth", "x"])).is_err());
        assert!(parse_args(&s(&["a", "--venue", "binance-spot", "--bogus"])).is_err());
    }
}
