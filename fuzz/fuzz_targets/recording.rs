#![no_main]
//! Recordings (`<receive ns> <frame>` lines, mako's own or cryptofeed's), as replays and
//! `mako decode` read them.
//!
//! - `mako::fuzzing::recording`: `RecordReader::new` over the bytes, to the end.
//! - The same over a gzip decoder when the bytes start with gzip's magic, as
//!   `RecordReader::open` does with a file (`MultiGzDecoder`, 64 KiB buffer).
//! - Every frame read is written back with `RecordWriter` (refused exactly when it holds a
//!   `\r`) and read again: one record, with the same receive time and frame.
//! - Line numbers rise and `lines_read` never falls behind the last record's line.
use std::io::{BufRead, BufReader, Cursor};

use flate2::bufread::MultiGzDecoder;
use libfuzzer_sys::fuzz_target;
use mako::feed::record::{RecordError, RecordReader, RecordWriter};

fn read_all(mut r: RecordReader<impl BufRead>) {
    let mut last_line = 0;
    let mut read = Vec::new();
    let mut w = RecordWriter::new(Vec::new());
    for _ in 0..100_000 {
        match r.next() {
            None => break,
            Some(Err(_)) => continue,
            Some(Ok(rec)) => {
                assert!(rec.line > last_line, "line numbers do not rise");
                last_line = rec.line;
                assert!(!rec.frame.is_empty() && !rec.frame.contains(&b'\n'));
                match w.write(rec.recv, rec.frame) {
                    Err(RecordError::FrameHasNewline) => {
                        assert!(
                            rec.frame.contains(&b'\r'),
                            "a frame without CR or LF refused"
                        )
                    }
                    Err(e) => panic!("writing to memory failed: {e}"),
                    Ok(()) => {
                        assert!(!rec.frame.contains(&b'\r'), "a frame with CR written");
                        read.push((rec.recv, rec.frame.to_vec()));
                    }
                }
            }
        }
        assert!(r.lines_read() >= last_line);
    }
    // What was written reads back the same, record for record.
    let bytes = w.into_inner();
    let mut back = RecordReader::new(Cursor::new(&bytes[..]));
    for (k, (recv, frame)) in read.iter().enumerate() {
        match back.next() {
            Some(Ok(rec)) => assert_eq!(
                (rec.recv, rec.frame),
                (*recv, &frame[..]),
                "record {k} written and read back differs"
            ),
            other => panic!("record {k} written ({frame:?}) reads back as {other:?}"),
        }
    }
    assert!(back.next().is_none(), "more records read back than written");
}

fuzz_target!(|data: &[u8]| {
    mako::fuzzing::recording(data);

    read_all(RecordReader::new(Cursor::new(data)));
    if data.starts_with(&[0x1f, 0x8b]) {
        let gz = BufReader::with_capacity(1 << 16, MultiGzDecoder::new(Cursor::new(data)));
        read_all(RecordReader::new(gz));
    }
});
