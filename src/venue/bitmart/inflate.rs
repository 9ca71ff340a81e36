//! BitMart's compressed market-data frames (exchanges.md §5.6): a binary WebSocket frame is
//! one raw DEFLATE stream (no zlib header; the official SDK inflates each message with a fresh
//! `zlib.decompressobj(-zlib.MAX_WBITS)`). One inflater per connection, reset per frame, into
//! a buffer kept between frames: no allocation per frame once the buffer has grown to the
//! largest frame seen.

use flate2::{Decompress, FlushDecompress, Status};

/// A frame that inflates to more than this is refused (BitMart's largest pushes, 100-level
/// books, inflate to tens of KB).
pub const MAX_INFLATED: usize = 4 << 20;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InflateError {
    /// Not a valid raw DEFLATE stream (or it was cut short).
    Corrupt(String),
    /// It inflates past `MAX_INFLATED`.
    TooLarge,
}

impl std::fmt::Display for InflateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            InflateError::Corrupt(e) => write!(f, "compressed frame does not inflate: {e}"),
            InflateError::TooLarge => {
                write!(f, "compressed frame inflates past {MAX_INFLATED} bytes")
            }
        }
    }
}

impl std::error::Error for InflateError {}

pub struct Inflater {
    z: Decompress,
    out: Vec<u8>,
}

impl Default for Inflater {
    fn default() -> Self {
        Self::new()
    }
}

impl Inflater {
    pub fn new() -> Self {
        Self {
            z: Decompress::new(false),
            out: Vec::with_capacity(16 << 10),
        }
    }

    /// What the last frame inflated to (empty or partial if it failed).
    pub fn last(&self) -> &[u8] {
        &self.out
    }

    /// The text `frame` inflates to (valid until the next call).
    pub fn inflate(&mut self, frame: &[u8]) -> Result<&[u8], InflateError> {
        self.z.reset(false);
        self.out.clear();
        loop {
            let read = self.z.total_in() as usize;
            let before = self.out.len();
            // Only the spare capacity is written: no zero-filling, no allocation unless full.
            let status = self
                .z
                .decompress_vec(&frame[read..], &mut self.out, FlushDecompress::None)
                .map_err(|e| InflateError::Corrupt(e.to_string()))?;
            match status {
                Status::StreamEnd => return Ok(&self.out),
                Status::Ok | Status::BufError => {
                    let stuck = self.out.len() == before && self.z.total_in() as usize == read;
                    if self.out.len() < self.out.capacity() && stuck {
                        return Err(InflateError::Corrupt("the stream is cut short".into()));
                    }
                    if self.out.len() == self.out.capacity() {
                        if self.out.len() >= MAX_INFLATED {
                            return Err(InflateError::TooLarge);
                        }
                        self.out.reserve(self.out.capacity().max(16 << 10));
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Vec<u8> {
        let p = format!(
            "{}/tests/fixtures/bitmart/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read(p).unwrap()
    }

    #[test]
    fn frames_compressed_by_another_implementation_inflate_to_their_text() {
        let mut z = Inflater::new();
        for name in [
            "bitmart_ticker",
            "bitmart_depth_increase_update",
            "bitmart_trade",
        ] {
            let want = fixture(&format!("{name}.json"));
            let got = z.inflate(&fixture(&format!("{name}.deflate"))).unwrap();
            assert_eq!(got, &want[..], "{name}");
        }
    }

    #[test]
    fn the_buffer_is_kept_between_frames_and_grows_for_a_large_one() {
        use flate2::Compression;
        use flate2::write::DeflateEncoder;
        use std::io::Write;
        let big: Vec<u8> = (0..200_000u32)
            .flat_map(|i| (i % 251).to_le_bytes())
            .collect();
        let mut e = DeflateEncoder::new(Vec::new(), Compression::fast());
        e.write_all(&big).unwrap();
        let frame = e.finish().unwrap();
        let mut z = Inflater::new();
        assert_eq!(z.inflate(&frame).unwrap(), &big[..]);
        let cap = z.out.capacity();
        let small = fixture("bitmart_trade.deflate");
        for _ in 0..3 {
            z.inflate(&small).unwrap();
            z.inflate(&frame).unwrap();
        }
        assert_eq!(
            z.out.capacity(),
            cap,
            "no growth once the largest frame was seen"
        );
    }

    #[test]
    fn bad_frames_are_refused_and_the_next_one_still_inflates() {
        let mut z = Inflater::new();
        let good = fixture("bitmart_ticker.deflate");
        assert!(matches!(
            z.inflate(&good[..good.len() / 2]),
            Err(InflateError::Corrupt(_))
        ));
        assert!(z.inflate(b"{\"table\":\"spot/ticker\"}").is_err());
        assert!(matches!(z.inflate(b""), Err(InflateError::Corrupt(_))));
        assert_eq!(
            z.inflate(&good).unwrap(),
            &fixture("bitmart_ticker.json")[..]
        );
    }
}
