//! mako's compact event file (`.mkev`): a recording converted once into what the backtest's
//! venue and strategies see of it (every top of book the feed published and every public
//! trade), replayed with no JSON parse, as hftbacktest replays its pre-converted event files.
//!
//! - **Conversion** ([`convert`], `mako backtest <config> --data <recording> --convert <out>`)
//!   runs the recording's frames through the venue's own feed (codec, book sync, cache) once
//!   and writes, after each frame, the trades it printed, then the instruments whose top of
//!   book changed (with whether the feed announced the change, which is when the matcher looks
//!   at the book); a frame that did neither is a tick (the clock moves, the strategies are
//!   polled), so a replay polls the strategies when a frame replay would.
//! - **Replay** (`--data <file>.mkev`) publishes each top into the book cache and hands each
//!   trade to the matcher and the strategies that take trades; the strategies, risk, order
//!   state, latency and queue matcher are the same as a frame replay's.
//! - **What is not in the file**: the depth beyond the best level (the cache's depth stays
//!   empty, so a resting order away from the touch has an unknown queue and fills only by
//!   prints through it or the touch moving through it), perpetuals' marks and funding rates.
//!   For a bookTicker-and-trade recording this is all the recording holds; for a recording with
//!   depth diffs the fills can differ from the frame replay's, and the report says which
//!   source ran.
//! - **Checked by a hash**: the header holds the source's SHA-256 and size; a replay whose
//!   source file still lies where it was converted from is refused if the bytes changed.
//!
//! Layout: `MAKOEV1\n`, a little-endian `u32` header length, the header (JSON), then
//! [`RECORD`]-byte records, little-endian: receive time, exchange time, kind, flags,
//! instrument index (into the header's `instruments`), then five `i64` words (a top: bid price,
//! bid quantity, ask price, ask quantity, update id; a trade: price, quantity, trade id, trade
//! time, 0; a tick: zeros). Trade ids that are not numbers are stored as 0 (flag [`NON_NUMERIC_ID`]).

use std::path::{Path, PathBuf};
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::book::{BookCache, Level, TopOfBook};
use crate::config::{Config, StreamKind, VenueConfig};
use crate::feed::actor::{FeedOptions, FeedSpec};
use crate::feed::record::RecordReader;
use crate::net::Connector;
use crate::runtime::{Clock, Ctx, FullPolicy, Shutdown, bounded};
use crate::types::{InstrumentId, Price, Qty, Side, TradeEvent, TradeId, UnixNanos, VenueId};

pub const MAGIC: &[u8; 8] = b"MAKOEV1\n";
/// Bytes per record.
pub const RECORD: usize = 64;
pub const KIND_TOP: u8 = 1;
pub const KIND_TOP_INVALID: u8 = 2;
pub const KIND_TRADE: u8 = 3;
/// A frame that changed no top and printed no trade: the clock moves and the strategies are
/// polled, as after any frame of a frame replay.
pub const KIND_TICK: u8 = 4;
/// A top the feed announced as a book change (the matcher re-reads the book).
pub const ANNOUNCED: u8 = 1;
/// A trade whose aggressor sold.
pub const SELLER: u8 = 2;
/// A trade id that was not a number (stored as 0).
pub const NON_NUMERIC_ID: u8 = 4;

/// One event, decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Event {
    pub recv: UnixNanos,
    pub exchange_ts: UnixNanos,
    pub kind: u8,
    pub flags: u8,
    /// Index into the file's instruments.
    pub instrument: u16,
    pub w: [i64; 5],
}

impl Event {
    #[inline]
    pub fn decode(b: &[u8]) -> Event {
        let u = |i: usize| u64::from_le_bytes(b[i..i + 8].try_into().unwrap_or([0; 8]));
        let mut w = [0i64; 5];
        for (k, x) in w.iter_mut().enumerate() {
            *x = u(24 + 8 * k) as i64;
        }
        Event {
            recv: UnixNanos(u(0)),
            exchange_ts: UnixNanos(u(8)),
            kind: b[16],
            flags: b[17],
            instrument: u16::from_le_bytes([b[18], b[19]]),
            w,
        }
    }

    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.recv.0.to_le_bytes());
        out.extend_from_slice(&self.exchange_ts.0.to_le_bytes());
        out.extend_from_slice(&[self.kind, self.flags]);
        out.extend_from_slice(&self.instrument.to_le_bytes());
        out.extend_from_slice(&[0; 4]);
        for x in self.w {
            out.extend_from_slice(&x.to_le_bytes());
        }
    }

    /// A top event as the cache's top of book (the cache assigns `seq`).
    #[inline]
    pub fn top(&self) -> TopOfBook {
        let level = |p: i64, q: i64| Level {
            price: Price::from_units(p),
            qty: Qty::from_units(q),
        };
        TopOfBook {
            bid: level(self.w[0], self.w[1]),
            ask: level(self.w[2], self.w[3]),
            update_id: self.w[4] as u64,
            exchange_ts: self.exchange_ts,
            recv_ts: self.recv,
            seq: 0,
            valid: self.kind == KIND_TOP,
        }
    }

    /// A trade's taker side.
    #[inline]
    pub fn aggressor(&self) -> Side {
        if self.flags & SELLER != 0 {
            Side::Sell
        } else {
            Side::Buy
        }
    }

    /// A trade's price and quantity (what the matcher reads of it).
    #[inline]
    pub fn print(&self) -> (Price, Qty) {
        (Price::from_units(self.w[0]), Qty::from_units(self.w[1]))
    }

    /// A trade event as the feed would have stamped it.
    #[inline]
    pub fn trade(&self, venue: VenueId, instrument: InstrumentId) -> TradeEvent {
        TradeEvent {
            venue,
            instrument,
            trade_id: TradeId::from_u64(self.w[2] as u64),
            price: Price::from_units(self.w[0]),
            qty: Qty::from_units(self.w[1]),
            aggressor: self.aggressor(),
            trade_time: UnixNanos(self.w[3] as u64),
            exchange_ts: self.exchange_ts,
            recv_ts: self.recv,
        }
    }
}

/// The header: what was converted, from what.
#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    pub source: PathBuf,
    pub source_sha256: String,
    pub source_bytes: u64,
    pub venue: String,
    pub instruments: Vec<String>,
    pub frames: u64,
    pub malformed: u64,
    pub events: u64,
}

/// A converted file in memory.
#[derive(Debug)]
pub struct EventFile {
    pub header: Header,
    /// The records, back to back.
    pub records: Vec<u8>,
}

impl EventFile {
    pub fn len(&self) -> usize {
        self.records.len() / RECORD
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// The events in order.
    #[inline]
    pub fn iter(&self) -> impl Iterator<Item = Event> + '_ {
        self.records.chunks_exact(RECORD).map(Event::decode)
    }

    pub fn first(&self) -> Option<UnixNanos> {
        self.iter().next().map(|e| e.recv)
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let h = &self.header;
        let json = serde_json::json!({
            "format": 1,
            "source": h.source.display().to_string(),
            "source_sha256": h.source_sha256,
            "source_bytes": h.source_bytes,
            "venue": h.venue,
            "instruments": h.instruments,
            "frames": h.frames,
            "malformed": h.malformed,
            "events": h.events,
        })
        .to_string();
        let mut out = Vec::with_capacity(12 + json.len() + self.records.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&(json.len() as u32).to_le_bytes());
        out.extend_from_slice(json.as_bytes());
        out.extend_from_slice(&self.records);
        out
    }

    /// Parses a file's bytes: a clear error for anything that is not one.
    pub fn from_bytes(b: &[u8]) -> Result<Self, String> {
        if b.len() < 12 || &b[..8] != MAGIC {
            return Err("not a mako event file (no MAKOEV1 header)".into());
        }
        let n = u32::from_le_bytes([b[8], b[9], b[10], b[11]]) as usize;
        let json = b
            .get(12..12 + n)
            .ok_or("event file: the header is cut short")?;
        let v: serde_json::Value =
            serde_json::from_slice(json).map_err(|e| format!("event file header: {e}"))?;
        let text = |k: &str| v[k].as_str().map(str::to_owned);
        let num = |k: &str| v[k].as_u64();
        let header = Header {
            source: PathBuf::from(text("source").ok_or("event file header: no source")?),
            source_sha256: text("source_sha256").ok_or("event file header: no hash")?,
            source_bytes: num("source_bytes").unwrap_or(0),
            venue: text("venue").unwrap_or_default(),
            instruments: v["instruments"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|s| s.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default(),
            frames: num("frames").unwrap_or(0),
            malformed: num("malformed").unwrap_or(0),
            events: num("events").ok_or("event file header: no event count")?,
        };
        let records = b[12 + n..].to_vec();
        if !records.len().is_multiple_of(RECORD) || (records.len() / RECORD) as u64 != header.events
        {
            return Err(format!(
                "event file: {} bytes of records, the header says {} events of {RECORD}",
                records.len(),
                header.events
            ));
        }
        if header.instruments.len() > u16::MAX as usize
            || records
                .chunks_exact(RECORD)
                .any(|r| u16::from_le_bytes([r[18], r[19]]) as usize >= header.instruments.len())
        {
            return Err("event file: an event names an instrument the header does not".into());
        }
        Ok(Self { header, records })
    }

    /// Reads a file; when its source still lies where it was converted from, the source's
    /// hash must match (a changed recording is refused, never replayed stale).
    pub fn load(path: &Path) -> Result<Self, String> {
        let b = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let f = Self::from_bytes(&b).map_err(|e| format!("{}: {e}", path.display()))?;
        if let Ok(src) = std::fs::read(&f.header.source)
            && sha256_hex(&src) != f.header.source_sha256
        {
            return Err(format!(
                "{}: converted from {}, which has changed since (SHA-256 differs): convert it again",
                path.display(),
                f.header.source.display()
            ));
        }
        Ok(f)
    }
}

/// Whether `path` starts as a mako event file.
pub fn is_event_file(path: &Path) -> bool {
    use std::io::Read;
    let mut m = [0u8; 8];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut m))
        .is_ok()
        && &m == MAGIC
}

pub fn sha256_hex(b: &[u8]) -> String {
    let d = Sha256::digest(b);
    d.iter().map(|x| format!("{x:02x}")).collect()
}

/// Converts one recording of the config's (single) venue through the venue's own feed.
pub fn convert(config: &Config, source: &Path) -> Result<EventFile, String> {
    let [venue] = config.venues.as_slice() else {
        return Err("converting needs a config with one venue".into());
    };
    let bytes = std::fs::read(source).map_err(|e| format!("{}: {e}", source.display()))?;
    let mine: Vec<_> = config
        .instruments
        .iter()
        .filter(|i| i.venue == venue.id)
        .cloned()
        .collect();
    if mine.len() > u16::MAX as usize {
        return Err("too many instruments for an event file".into());
    }
    let cache = BookCache::new(config.instruments.len());
    let writers = mine.iter().filter_map(|i| cache.writer(i.id)).collect();
    let (trade_tx, trades) = bounded("convert-trades", 1 << 14, FullPolicy::DropNewest);
    let (changed_tx, changed) = bounded("convert-changed", 64, FullPolicy::Conflate);
    let mut feed = super::driver::offline_feed(
        FeedSpec {
            venue: replay_venue(venue),
            instruments: config.instruments.clone(),
            connector: Connector::with_public_roots(Duration::from_secs(1))
                .map_err(|e| e.to_string())?,
            writers,
            trades: vec![trade_tx],
            book_changed: vec![changed_tx],
            recorder: None,
            clock_offset: None,
            record_to: None,
            options: FeedOptions::default(),
        },
        &mine,
    )?;
    let reader = cache.reader();
    let index = |id: InstrumentId| mine.iter().position(|i| i.id == id).map(|k| k as u16);
    let mut seqs = vec![0u64; mine.len()];
    let mut records = Vec::new();
    let (mut frames, mut malformed) = (0u64, 0u64);
    let mut announced = Vec::new();
    let (clock, hand) = Clock::manual(UnixNanos(0));
    let ctx = Ctx {
        clock,
        shutdown: Shutdown::new(),
        host: "convert",
    };
    let mut r = RecordReader::open(source).map_err(|e| format!("{}: {e}", source.display()))?;
    while let Some(item) = r.next() {
        let Ok(rec) = item else {
            malformed += 1;
            continue;
        };
        frames += 1;
        hand.set(rec.recv);
        feed.on_frame(rec.frame, rec.recv, &ctx);
        let mut had_trades = false;
        while let Some(t) = trades.try_recv() {
            had_trades = true;
            let Some(k) = index(t.instrument) else {
                continue;
            };
            let id = t.trade_id.as_u64();
            let mut flags = if t.aggressor == Side::Sell { SELLER } else { 0 };
            if id.is_none() {
                flags |= NON_NUMERIC_ID;
            }
            Event {
                recv: rec.recv,
                exchange_ts: t.exchange_ts,
                kind: KIND_TRADE,
                flags,
                instrument: k,
                w: [
                    t.price.units(),
                    t.qty.units(),
                    id.unwrap_or(0) as i64,
                    t.trade_time.0 as i64,
                    0,
                ],
            }
            .encode(&mut records);
        }
        let before = records.len();
        announced.clear();
        while let Some(id) = changed.try_recv() {
            announced.push(id);
        }
        for (k, i) in mine.iter().enumerate() {
            let top = reader.top(i.id);
            if top.seq == seqs[k] {
                continue;
            }
            seqs[k] = top.seq;
            Event {
                recv: rec.recv,
                exchange_ts: top.exchange_ts,
                kind: if top.valid {
                    KIND_TOP
                } else {
                    KIND_TOP_INVALID
                },
                flags: if announced.contains(&i.id) {
                    ANNOUNCED
                } else {
                    0
                },
                instrument: k as u16,
                w: [
                    top.bid.price.units(),
                    top.bid.qty.units(),
                    top.ask.price.units(),
                    top.ask.qty.units(),
                    top.update_id as i64,
                ],
            }
            .encode(&mut records);
        }
        if records.len() == before && !had_trades {
            Event {
                recv: rec.recv,
                exchange_ts: UnixNanos(0),
                kind: KIND_TICK,
                flags: 0,
                instrument: 0,
                w: [0; 5],
            }
            .encode(&mut records);
        }
    }
    let events = (records.len() / RECORD) as u64;
    Ok(EventFile {
        header: Header {
            source: std::fs::canonicalize(source).unwrap_or_else(|_| source.to_path_buf()),
            source_sha256: sha256_hex(&bytes),
            source_bytes: bytes.len() as u64,
            venue: venue.name.clone(),
            instruments: mine.iter().map(|i| i.symbol.clone()).collect(),
            frames,
            malformed,
            events,
        },
        records,
    })
}

/// The venue as a replay runs it: never connected, and on Binance every stream the codec
/// knows (the recording decides what is replayed).
pub(crate) fn replay_venue(venue: &VenueConfig) -> VenueConfig {
    let mut v = venue.clone();
    v.ws_url = "ws://127.0.0.1:9".into();
    v.rest_url = "http://127.0.0.1:9".into();
    if v.kind == crate::config::VenueKind::BinanceSpot {
        for s in [StreamKind::BookTicker, StreamKind::Depth, StreamKind::Trade] {
            if !v.streams.contains(&s) {
                v.streams.push(s);
            }
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_and_bad_files_are_errors() {
        let e = Event {
            recv: UnixNanos(5),
            exchange_ts: UnixNanos(4),
            kind: KIND_TRADE,
            flags: SELLER,
            instrument: 0,
            w: [6_183_763_000_000, 2_000_000, 3_735_683_259, 3, 0],
        };
        let mut records = Vec::new();
        e.encode(&mut records);
        assert_eq!(records.len(), RECORD);
        assert_eq!(Event::decode(&records), e);
        let f = EventFile {
            header: Header {
                source: PathBuf::from("/nonexistent/rec.gz"),
                source_sha256: sha256_hex(b"x"),
                source_bytes: 1,
                venue: "binance".into(),
                instruments: vec!["BTCUSDT".into()],
                frames: 1,
                malformed: 0,
                events: 1,
            },
            records,
        };
        let b = f.to_bytes();
        let back = EventFile::from_bytes(&b).unwrap();
        assert_eq!(back.header, f.header);
        assert_eq!(back.iter().collect::<Vec<_>>(), vec![e]);
        let tr = back
            .iter()
            .next()
            .unwrap()
            .trade(VenueId(0), InstrumentId(0));
        assert_eq!(tr.aggressor, Side::Sell);
        assert_eq!(tr.trade_id.as_u64(), Some(3_735_683_259));
        // Cut short, wrong magic, an instrument the header lacks: errors, never a panic.
        assert!(EventFile::from_bytes(&b[..b.len() - 1]).is_err());
        assert!(EventFile::from_bytes(b"MAKOEV2\n\0\0\0\0").is_err());
        assert!(EventFile::from_bytes(&b[..5]).is_err());
        let mut bad = b.clone();
        let at = b.len() - RECORD + 18;
        bad[at] = 1;
        assert!(EventFile::from_bytes(&bad).is_err());
    }
}
