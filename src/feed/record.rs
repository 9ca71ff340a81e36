//! Market-data recordings: one frame per line, `<receive ns since epoch> <frame text>`,
//! plain or gzip (detected from the first bytes, not the name). REST snapshots are recorded
//! inline the same way, at the moment their answer arrived.
//!
//! The reader also reads cryptofeed's raw captures (`<unix seconds with fraction>: <frame>`,
//! with `ws…://host <- …` lines for what the client sent and `<->` for connects, which are
//! skipped), the format of some public venue captures.
//!
//! The reader hands out `(receive time, frame bytes)` from one reused line buffer. A
//! malformed line is an error carrying its line number; the next call carries on with the
//! following line. A gzip stream cut short (a recorder killed mid-write) ends the file with
//! one `Truncated` error after every complete line before the cut.

use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::Path;

use flate2::Compression;
use flate2::bufread::MultiGzDecoder;
use flate2::write::GzEncoder;

use crate::types::UnixNanos;

/// Why a line or a file could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("line {line}: {reason}")]
    Malformed { line: u64, reason: &'static str },
    #[error("line {line}: the compressed stream ends early (truncated file); stopped there")]
    Truncated { line: u64 },
    #[error("line {line}: {source}")]
    Io { line: u64, source: io::Error },
    #[error("a frame to record contains a line break")]
    FrameHasNewline,
    #[error("writing the recording: {0}")]
    Write(#[source] io::Error),
}

/// One recorded frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Recorded<'a> {
    /// 1-based line number in the (decompressed) file.
    pub line: u64,
    pub recv: UnixNanos,
    pub frame: &'a [u8],
}

/// Reads a recording line by line.
pub struct RecordReader<R> {
    inner: R,
    /// The current line, without its terminator. Reused; grows to the longest line.
    line: Vec<u8>,
    line_no: u64,
    /// Set after an I/O error or a truncated stream: nothing more will be read.
    done: bool,
}

/// A plain or gzip file, as opened by `RecordReader::open`.
pub type FileSource = Box<dyn BufRead + Send>;

impl RecordReader<FileSource> {
    /// Opens `path`, decompressing if it starts with the gzip magic bytes.
    pub fn open(path: impl AsRef<Path>) -> io::Result<Self> {
        let mut file = BufReader::with_capacity(1 << 16, File::open(path)?);
        let gzip = file.fill_buf()?.starts_with(&[0x1f, 0x8b]);
        let inner: FileSource = if gzip {
            Box::new(BufReader::with_capacity(1 << 16, MultiGzDecoder::new(file)))
        } else {
            Box::new(file)
        };
        Ok(Self::new(inner))
    }
}

impl<R: BufRead> RecordReader<R> {
    pub fn new(inner: R) -> Self {
        Self {
            inner,
            line: Vec::with_capacity(1 << 16),
            line_no: 0,
            done: false,
        }
    }

    /// Number of lines read so far.
    pub fn lines_read(&self) -> u64 {
        self.line_no
    }

    /// The next frame, an error for a bad line (reading may continue), or `None` at the end.
    /// Blank lines are skipped.
    #[allow(clippy::should_implement_trait)] // lends from its buffer: cannot be an Iterator
    pub fn next(&mut self) -> Option<Result<Recorded<'_>, RecordError>> {
        // Find the next non-blank line first; borrow the buffer only once it is settled.
        let len = loop {
            if self.done {
                return None;
            }
            self.line.clear();
            match self.inner.read_until(b'\n', &mut self.line) {
                Ok(0) => {
                    self.done = true;
                    return None;
                }
                Ok(_) => {}
                Err(e) => {
                    self.done = true;
                    let line = self.line_no + 1;
                    return Some(Err(if e.kind() == io::ErrorKind::UnexpectedEof {
                        RecordError::Truncated { line }
                    } else {
                        RecordError::Io { line, source: e }
                    }));
                }
            }
            self.line_no += 1;
            let mut len = self.line.len();
            if self.line[..len].ends_with(b"\n") {
                len -= 1;
            }
            if self.line[..len].ends_with(b"\r") {
                len -= 1;
            }
            // cryptofeed's lines about the connection and what the client sent.
            if len > 0 && !self.line.starts_with(b"ws") {
                break len;
            }
        };
        let (line, l) = (self.line_no, &self.line[..len]);
        let Some(sp) = l.iter().position(|&b| b == b' ') else {
            return Some(Err(RecordError::Malformed {
                line,
                reason: "no space after the receive time",
            }));
        };
        let (ts, frame) = (&l[..sp], &l[sp + 1..]);
        let ns = match ts.strip_suffix(b":") {
            Some(secs) => parse_secs(secs),
            None => parse_ns(ts),
        };
        let Some(ns) = ns else {
            return Some(Err(RecordError::Malformed {
                line,
                reason: "receive time is not a nanosecond count",
            }));
        };
        if frame.is_empty() {
            return Some(Err(RecordError::Malformed {
                line,
                reason: "empty frame",
            }));
        }
        Some(Ok(Recorded {
            line,
            recv: UnixNanos(ns),
            frame,
        }))
    }
}

/// `1652459225.5037491` (seconds, any number of fractional digits) as nanoseconds.
fn parse_secs(s: &[u8]) -> Option<u64> {
    let (whole, frac) = match s.iter().position(|&b| b == b'.') {
        Some(dot) => (&s[..dot], &s[dot + 1..]),
        None => (s, &b""[..]),
    };
    if frac.iter().any(|b| !b.is_ascii_digit()) {
        return None;
    }
    let mut ns = 0u64;
    for k in 0..9 {
        ns = ns * 10 + u64::from(frac.get(k).map_or(0, |d| d - b'0'));
    }
    parse_ns(whole)?.checked_mul(1_000_000_000)?.checked_add(ns)
}

fn parse_ns(s: &[u8]) -> Option<u64> {
    if s.is_empty() || s.len() > 20 {
        return None;
    }
    s.iter().try_fold(0u64, |v, &c| {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            None
        } else {
            v.checked_mul(10)?.checked_add(u64::from(d))
        }
    })
}

/// Where a `RecordWriter` created from a path writes.
pub enum FileSink {
    Plain(BufWriter<File>),
    Gzip(GzEncoder<BufWriter<File>>),
}

impl Write for FileSink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            FileSink::Plain(w) => w.write(buf),
            FileSink::Gzip(w) => w.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            FileSink::Plain(w) => w.flush(),
            FileSink::Gzip(w) => w.flush(),
        }
    }
}

/// Writes a recording.
pub struct RecordWriter<W: Write> {
    out: W,
}

impl RecordWriter<FileSink> {
    /// Creates (truncates) `path`; gzip-compressed if `gzip`.
    pub fn create(path: impl AsRef<Path>, gzip: bool) -> io::Result<Self> {
        let file = BufWriter::with_capacity(1 << 16, File::create(path)?);
        let out = if gzip {
            FileSink::Gzip(GzEncoder::new(file, Compression::default()))
        } else {
            FileSink::Plain(file)
        };
        Ok(Self { out })
    }

    /// Flushes and, for gzip, writes the trailer. Dropping without this leaves a gzip file
    /// that reads as truncated.
    pub fn finish(self) -> io::Result<()> {
        match self.out {
            FileSink::Plain(mut w) => w.flush(),
            FileSink::Gzip(w) => w.finish()?.flush(),
        }
    }
}

impl<W: Write> RecordWriter<W> {
    pub fn new(out: W) -> Self {
        Self { out }
    }

    /// Appends one line. Frames must be single-line (venues' JSON frames are).
    pub fn write(&mut self, recv: UnixNanos, frame: &[u8]) -> Result<(), RecordError> {
        if frame.iter().any(|&b| b == b'\n' || b == b'\r') {
            return Err(RecordError::FrameHasNewline);
        }
        write!(self.out, "{} ", recv.0).map_err(RecordError::Write)?;
        self.out.write_all(frame).map_err(RecordError::Write)?;
        self.out.write_all(b"\n").map_err(RecordError::Write)
    }

    pub fn into_inner(self) -> W {
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `(line, receive ns, frame)`.
    type Line = (u64, u64, Vec<u8>);

    fn read_all<R: BufRead>(r: &mut RecordReader<R>) -> (Vec<Line>, Vec<String>) {
        let (mut ok, mut errs) = (Vec::new(), Vec::new());
        while let Some(item) = r.next() {
            match item {
                Ok(rec) => ok.push((rec.line, rec.recv.0, rec.frame.to_vec())),
                Err(e) => errs.push(e.to_string()),
            }
        }
        (ok, errs)
    }

    #[test]
    fn round_trip_plain() {
        let mut w = RecordWriter::new(Vec::new());
        w.write(UnixNanos(5), b"{\"a\":1}").unwrap();
        w.write(UnixNanos(1_723_161_253_937_085_768), b"{}")
            .unwrap();
        assert!(matches!(
            w.write(UnixNanos(6), b"{\n}"),
            Err(RecordError::FrameHasNewline)
        ));
        let bytes = w.into_inner();
        assert_eq!(bytes, b"5 {\"a\":1}\n1723161253937085768 {}\n");
        let (ok, errs) = read_all(&mut RecordReader::new(&bytes[..]));
        assert!(errs.is_empty());
        assert_eq!(
            ok,
            vec![
                (1, 5, b"{\"a\":1}".to_vec()),
                (2, 1_723_161_253_937_085_768, b"{}".to_vec())
            ]
        );
    }

    #[test]
    fn malformed_lines_are_reported_and_skipped() {
        let text =
            b"1 {}\nnot-a-number {}\n\n12345\n2 \n99999999999999999999999 {}\n3 {\"x\":2}\r\n4 {}";
        let mut r = RecordReader::new(&text[..]);
        let (ok, errs) = read_all(&mut r);
        assert_eq!(
            ok,
            vec![
                (1, 1, b"{}".to_vec()),
                (7, 3, b"{\"x\":2}".to_vec()),
                (8, 4, b"{}".to_vec())
            ]
        );
        assert_eq!(
            errs,
            vec![
                "line 2: receive time is not a nanosecond count",
                "line 4: no space after the receive time",
                "line 5: empty frame",
                "line 6: receive time is not a nanosecond count",
            ]
        );
        assert_eq!(r.lines_read(), 8);
    }

    #[test]
    fn gzip_round_trip_and_truncated_tail() {
        let dir = std::env::temp_dir().join(format!("mako-record-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("r.gz");
        let mut w = RecordWriter::create(&path, true).unwrap();
        for i in 0..2000u64 {
            w.write(
                UnixNanos(i),
                format!("{{\"i\":{i},\"pad\":\"{}\"}}", i * 7919).as_bytes(),
            )
            .unwrap();
        }
        w.finish().unwrap();
        let (ok, errs) = read_all(&mut RecordReader::open(&path).unwrap());
        assert_eq!((ok.len(), errs.len()), (2000, 0));
        assert_eq!(ok[1999].1, 1999);

        // Cut the compressed file in half: every complete line before the cut, then one error.
        let full = std::fs::read(&path).unwrap();
        let cut = dir.join("cut.gz");
        std::fs::write(&cut, &full[..full.len() / 2]).unwrap();
        let (ok, errs) = read_all(&mut RecordReader::open(&cut).unwrap());
        assert!(ok.len() > 100 && ok.len() < 2000, "{} lines", ok.len());
        for (k, (line, ns, _)) in ok.iter().enumerate() {
            assert_eq!((*line, *ns), (k as u64 + 1, k as u64));
        }
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert!(errs[0].contains("truncated"), "{errs:?}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn cryptofeed_captures_read_as_frames_and_skip_what_the_client_sent() {
        let text = b"wss://venue.example:8443/ws/public <-> 1652459224.5300605\n\
wss://venue.example:8443/ws/public <- 1652459225.2987883: {\"op\":\"subscribe\"}\n\
1652459225.5037491: {\"event\":\"subscribe\"}\n\
1652459225: pong\n\
1.x: {}\n";
        let mut r = RecordReader::new(&text[..]);
        let a = r.next().unwrap().unwrap();
        assert_eq!(
            (a.line, a.recv, a.frame),
            (
                3,
                UnixNanos(1_652_459_225_503_749_100),
                &b"{\"event\":\"subscribe\"}"[..]
            )
        );
        let b = r.next().unwrap().unwrap();
        assert_eq!(
            (b.recv, b.frame),
            (UnixNanos(1_652_459_225_000_000_000), &b"pong"[..])
        );
        assert!(matches!(
            r.next(),
            Some(Err(RecordError::Malformed { line: 5, .. }))
        ));
        assert!(r.next().is_none());
    }
}
