//! `mako decode --venue <kind> [--private] <file>`: reads raw venue messages (one JSON message
//! per line, REST answers included, or a recording) and prints one JSON line per input line
//! with mako's normalised fields, or `{"error": "…"}` for a line it cannot read. A file that
//! holds one pretty-printed message (the documentation's samples) is read as that message.

use std::process::ExitCode;

use crate::config::VenueKind;
use crate::venue::decode::{DecodeResult, line_of, strip_comments};

pub const USAGE: &str = "usage: mako decode --venue <kind> [--private] <file>";

/// The venue's decoder. `private` says the messages come from the private stream or REST
/// answers (venues whose public and private messages look alike need it).
fn decoder(kind: VenueKind, _private: bool) -> fn(&str) -> DecodeResult {
    match kind {
        VenueKind::BinanceSpot => crate::venue::binance::decode::decode,
        VenueKind::OkxSpot => crate::venue::okx::decode::decode,
        VenueKind::Coinbase => crate::venue::coinbase::decode::decode,
        VenueKind::BitmartSpot => crate::venue::bitmart::decode::decode,
        VenueKind::BybitSpot | VenueKind::BybitLinear => crate::venue::bybit::decode::decode,
        VenueKind::DeltaIndia | VenueKind::DeltaGlobal => crate::venue::delta::decode::decode,
        VenueKind::CoindcxFutures => crate::venue::coindcx::decode::decode,
        VenueKind::CoinstoreSpot => crate::venue::coinstore::decode::decode,
    }
}

/// The message of one input line: a recording's `<ns> <frame>` or cryptofeed's
/// `<secs>: <frame>` loses its time; cryptofeed's lines about what the client sent are
/// skipped (`None`).
fn message(line: &str) -> Option<&str> {
    let t = line.trim();
    if t.is_empty() || t.starts_with("ws") {
        return None;
    }
    if let Some((head, rest)) = t.split_once(' ') {
        let head = head.strip_suffix(':').unwrap_or(head);
        if !head.is_empty() && head.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
            return Some(rest.trim_start());
        }
    }
    Some(t)
}

pub fn run(args: &[String]) -> ExitCode {
    let (mut venue, mut private, mut file) = (None, false, None);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--venue" => venue = it.next().cloned(),
            "--private" => private = true,
            s if s.starts_with("--") => {
                eprintln!("mako decode: unknown flag {s:?}\n{USAGE}");
                return ExitCode::from(2);
            }
            s => file = Some(s.to_owned()),
        }
    }
    let (Some(venue), Some(file)) = (venue, file) else {
        eprintln!("mako decode: --venue and a file are needed\n{USAGE}");
        return ExitCode::from(2);
    };
    let Some(kind) = VenueKind::from_name(&venue) else {
        eprintln!(
            "mako decode: unknown venue kind {venue:?}; the kinds are: {}",
            VenueKind::ALL.map(VenueKind::as_str).join(", ")
        );
        return ExitCode::from(2);
    };
    let text = match std::fs::read_to_string(&file) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("mako decode: cannot read {file}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let decode = decoder(kind, private);
    let lines: Vec<&str> = text.lines().filter_map(message).collect();
    // One pretty-printed message across many lines.
    let whole = lines.len() > 1
        && serde_json::from_str::<serde_json::Value>(&strip_comments(&text)).is_ok();
    let (mut ok, mut bad) = (0u64, 0u64);
    let mut print = |r: DecodeResult| {
        if r.is_ok() {
            ok += 1
        } else {
            bad += 1
        }
        println!("{}", line_of(r));
    };
    if whole {
        print(decode(&text));
    } else {
        for l in lines {
            print(decode(l));
        }
    }
    if ok == 0 {
        eprintln!("mako decode: no message in {file} could be decoded ({bad} errors)");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recording_prefixes_are_stripped() {
        assert_eq!(message("1700000000000000000 {\"a\":1}"), Some("{\"a\":1}"));
        assert_eq!(message("1652459225.5037491: {\"a\":1}"), Some("{\"a\":1}"));
        assert_eq!(
            message("wss://ws.okx.com:8443/ws/v5/public <- 1.0: {}"),
            None
        );
        assert_eq!(message("  {\"a\": 1} "), Some("{\"a\": 1}"));
        assert_eq!(message(""), None);
    }
}
