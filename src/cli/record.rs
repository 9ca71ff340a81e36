//! `mako record <config> --out <file> [--venue <name>] [--for <duration>] [--gzip]`: connects
//! to one venue of the config (the first, or the one named) exactly as the feed does (the
//! feed actor itself, with the venue's own codec, without a book cache) and writes every
//! frame received and every REST snapshot fetched to a recording.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use crate::feed::actor::{FeedOptions, FeedSpec};
use crate::feed::record::RecordWriter;
use crate::net::Connector;
use crate::runtime::{Clock, Ctx, Shutdown};

pub const USAGE: &str =
    "usage: mako record <config> --out <file> [--venue <name>] [--for <duration>] [--gzip]";

struct Args {
    config: PathBuf,
    out: PathBuf,
    duration: Option<Duration>,
    gzip: bool,
    venue: Option<String>,
}

fn parse_args(args: &[String]) -> Result<Args, String> {
    let (mut config, mut out, mut duration, mut gzip, mut venue) = (None, None, None, false, None);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--out" => out = Some(PathBuf::from(it.next().ok_or("--out needs a file")?)),
            "--for" => {
                let v = it.next().ok_or("--for needs a duration, e.g. --for 30s")?;
                duration = Some(crate::config::parse_duration(v).map_err(|e| e.to_string())?);
            }
            "--gzip" => gzip = true,
            "--venue" => venue = Some(it.next().ok_or("--venue needs a venue name")?.clone()),
            s if s.starts_with("--") => return Err(format!("unknown flag {s:?}")),
            s if config.is_none() => config = Some(PathBuf::from(s)),
            s => return Err(format!("unexpected argument {s:?}")),
        }
    }
    Ok(Args {
        config: config.ok_or("no config given")?,
        out: out.ok_or("--out is required")?,
        duration,
        gzip,
        venue,
    })
}

pub fn run(args: &[String]) -> ExitCode {
    let args = match parse_args(args) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("mako record: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match record(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mako record: {e:#}");
            ExitCode::from(1)
        }
    }
}

fn record(args: &Args) -> anyhow::Result<()> {
    let config = crate::config::load(&args.config)
        .map_err(|e| anyhow::anyhow!("{} is not a valid config:\n{e}", args.config.display()))?;
    let venue = match &args.venue {
        Some(name) => config.venues.iter().find(|v| &v.name == name),
        None => config.venues.first(),
    }
    .ok_or_else(|| match &args.venue {
        Some(name) => anyhow::anyhow!("the config has no venue named {name:?}"),
        None => anyhow::anyhow!("the config has no venue"),
    })?
    .clone();
    let writer = RecordWriter::create(&args.out, args.gzip)
        .map_err(|e| anyhow::anyhow!("creating {}: {e}", args.out.display()))?;
    let (mut feed, stats) = crate::engine::venues::feed(FeedSpec {
        venue,
        instruments: config.instruments.clone(),
        connector: Connector::with_public_roots(Duration::from_secs(10))?,
        writers: Vec::new(),
        trades: Vec::new(),
        book_changed: Vec::new(),
        recorder: None,
        clock_offset: None,
        record_to: Some(writer),
        options: FeedOptions::default(),
    })?;
    let shutdown = Shutdown::new();
    shutdown.install_signal_handlers()?;
    let mut ctx = Ctx {
        clock: Clock::live(),
        shutdown: shutdown.clone(),
        host: "record",
    };
    feed.start(&mut ctx)
        .map_err(|e| anyhow::anyhow!("starting the feed: {e}"))?;
    let until = args.duration.map(|d| Instant::now() + d);
    while !shutdown.is_requested() && until.is_none_or(|t| Instant::now() < t) {
        // A recorder, not a trading path: sleeping when idle is fine.
        if feed.poll(&mut ctx) == 0 {
            std::thread::sleep(Duration::from_millis(1));
        }
    }
    feed.stop(&mut ctx);
    let errors = stats.record_errors.load(Relaxed);
    eprintln!(
        "mako record: {} frames, {} snapshots, {} reconnects, {} write errors → {}",
        stats.frames.load(Relaxed),
        stats.snapshots_applied.load(Relaxed),
        stats.reconnects.load(Relaxed),
        errors,
        args.out.display()
    );
    if errors > 0 {
        anyhow::bail!("{errors} lines could not be written");
    }
    Ok(())
}
