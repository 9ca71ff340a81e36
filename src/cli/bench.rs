//! `mako bench`: wire-to-wire tick-to-trade over loopback, and the feed's throughput.
//!
//! **Latency** (default). The config is an ordinary sim-mode engine config whose `[sim]`
//! table sets `bench = true` (and usually `replay_interval_us`). The harness runs the
//! simulator (`mako sim --config <file>`) and the engine (`mako run`, the same config without
//! `[sim]`, with the simulator's test account passed in the environment) as two processes
//! talking plain `ws://` over 127.0.0.1. The simulator stamps each market frame when it has
//! written it and each order request when it reads it (`src/sim/bench.rs`, one process, one
//! monotonic clock); the harness fetches the stamps from `GET /sim/bench`, prints the
//! percentiles and writes `tick-to-trade.hgrm`, `to-first-request.hgrm` and `tick-to-trade.svg`.
//!
//! **Throughput** (`--throughput`). The highest bookTicker rate the feed keeps up with on
//! one thread: the recording's bookTicker frames go through `FeedActor::on_frame` (codec,
//! book sync check, cache publish, "book changed" send) on a live book, back to back; the
//! rate is frames over the time they took.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

use crate::book::BookCache;
use crate::config::{Config, StreamKind};
use crate::feed::actor::{FeedActor, FeedOptions, FeedSpec};
use crate::feed::record::RecordReader;
use crate::latency::hgrm::{HgrmMeta, parse_hgrm, to_hgrm};
use crate::latency::plot::{Series, plot_svg};
use crate::net::Connector;
use crate::runtime::{Clock, Ctx, FullPolicy, Shutdown, bounded};
use crate::sim::{SimConfig, SourceConfig};
use crate::venue::binance::handler::SpotMdHandler;
use crate::venue::md::SyncState;

const USAGE: &str = "usage: mako bench --config <file> [--for <duration>] [--out <dir>] [--throughput [--recording <file>]]";
/// The environment variables the engine reads the simulator's test account from.
const KEY_ENV: &str = "MAKO_BENCH_API_KEY";
const SECRET_ENV: &str = "MAKO_BENCH_API_SECRET";
const TICKER_PREFIX: &[u8] = b"{\"stream\":\"";
const TICKER_STREAM: &[u8] = b"@bookTicker\"";

struct Args {
    config: PathBuf,
    duration: Duration,
    out: PathBuf,
    throughput: bool,
    recording: Option<PathBuf>,
}

fn parse(args: &[String]) -> Result<Args, String> {
    let mut a = Args {
        config: PathBuf::new(),
        duration: Duration::from_secs(20),
        out: PathBuf::from("bench-out"),
        throughput: false,
        recording: None,
    };
    let mut config = None;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = |what: &str| {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{arg} needs {what}"))
        };
        match arg.as_str() {
            "--config" | "-c" => config = Some(PathBuf::from(value("a file")?)),
            "--for" => {
                a.duration = crate::config::parse_duration(&value("a duration, e.g. 20s")?)
                    .map_err(|e| e.to_string())?
            }
            "--out" => a.out = PathBuf::from(value("a directory")?),
            "--throughput" => a.throughput = true,
            "--recording" => a.recording = Some(PathBuf::from(value("a recording file")?)),
            other => return Err(format!("unexpected argument {other:?}")),
        }
    }
    a.config = config.ok_or("--config is required")?;
    Ok(a)
}

pub fn run(args: &[String]) -> ExitCode {
    if args.iter().any(|a| a == "-h" || a == "--help") {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let a = match parse(args) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("mako bench: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let res = if a.throughput {
        throughput(&a)
    } else {
        latency(&a)
    };
    match res {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mako bench: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The validated engine config and the simulator config of a bench file.
fn load(path: &Path) -> Result<(Config, SimConfig), String> {
    let config = crate::config::load(path)
        .map_err(|e| format!("{} is not a valid config:\n{e}", path.display()))?;
    let sim = SimConfig::from_file(path).map_err(|e| e.to_string())?;
    Ok((config, sim))
}

/// Kills the child when dropped (the harness never leaves processes behind).
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) {
            let _ = self.0.kill();
        }
        let _ = self.0.wait();
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::new_with_config(
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .proxy(None)
            .timeout_global(Some(Duration::from_secs(10)))
            .build(),
    )
}

fn get_json(agent: &ureq::Agent, url: &str) -> Option<serde_json::Value> {
    let mut resp = agent.get(url).call().ok()?;
    if resp.status() != 200 {
        return None;
    }
    let body = resp
        .body_mut()
        .with_config()
        .limit(256 << 20)
        .read_to_vec()
        .ok()?;
    serde_json::from_slice(&body).ok()
}

/// The engine's half of the bench config: everything but `[sim]`, with credentials taken
/// from the environment.
fn engine_config(path: &Path) -> Result<String, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut table: toml::Table = text
        .parse()
        .map_err(|e| format!("{}: {e}", path.display()))?;
    table.remove("sim");
    if let Some(toml::Value::Array(venues)) = table.get_mut("venues") {
        for v in venues.iter_mut() {
            if let toml::Value::Table(v) = v {
                v.insert("api_key_env".into(), KEY_ENV.into());
                v.insert("api_secret_env".into(), SECRET_ENV.into());
            }
        }
    }
    toml::to_string(&table).map_err(|e| e.to_string())
}

/// Host placement and idle policy, as the engine will run them.
fn placement(config: &Config) -> Vec<String> {
    config
        .runtime
        .hosts
        .iter()
        .map(|h| {
            let actors: Vec<String> = h
                .actors
                .iter()
                .map(|a| crate::engine::actor_label(config, a))
                .collect();
            format!(
                "host {:?}: core {}, idle {}, actors [{}]",
                h.name,
                h.core.map_or("unpinned".into(), |c| c.to_string()),
                h.idle.as_str(),
                actors.join(", ")
            )
        })
        .collect()
}

fn histogram(samples: &[u64]) -> Result<Histogram<u64>, String> {
    let mut h =
        Histogram::<u64>::new_with_bounds(1, 60_000_000_000, 3).map_err(|e| e.to_string())?;
    for &s in samples {
        h.saturating_record(s.max(1));
    }
    Ok(h)
}

fn us(ns: u64) -> String {
    format!("{:.1} µs", ns as f64 / 1000.0)
}

fn summary(name: &str, h: &Histogram<u64>) -> String {
    if h.is_empty() {
        return format!("{name}: no samples");
    }
    format!(
        "{name}: p50 {}  p90 {}  p99 {}  p99.9 {}  max {}  count {}",
        us(h.value_at_quantile(0.5)),
        us(h.value_at_quantile(0.9)),
        us(h.value_at_quantile(0.99)),
        us(h.value_at_quantile(0.999)),
        us(h.max()),
        h.len()
    )
}

fn samples(v: &serde_json::Value, key: &str) -> Vec<u64> {
    v[key]
        .as_array()
        .map(|a| a.iter().filter_map(serde_json::Value::as_u64).collect())
        .unwrap_or_default()
}

fn latency(a: &Args) -> Result<(), String> {
    let (config, sim) = load(&a.config)?;
    if !sim.bench {
        return Err(format!(
            "{}: set bench = true under [sim] so the simulator stamps frames and orders",
            a.config.display()
        ));
    }
    if sim.port == 0 {
        return Err("[sim] port must be fixed (the engine config names it)".into());
    }
    let account = sim
        .accounts
        .first()
        .ok_or("[sim] has no account for the engine to trade with")?;
    std::fs::create_dir_all(&a.out).map_err(|e| format!("{}: {e}", a.out.display()))?;
    let engine_file = a.out.join("engine.toml");
    std::fs::write(&engine_file, engine_config(&a.config)?)
        .map_err(|e| format!("{}: {e}", engine_file.display()))?;
    let exe = std::env::current_exe().map_err(|e| format!("finding the mako binary: {e}"))?;
    let log = |name: &str| -> Result<Stdio, String> {
        let p = a.out.join(name);
        std::fs::File::create(&p)
            .map(Stdio::from)
            .map_err(|e| format!("{}: {e}", p.display()))
    };
    println!(
        "mako bench: tick-to-trade over loopback (plain ws://), {:?}",
        a.duration
    );
    for line in placement(&config) {
        println!("  engine {line}");
    }
    println!(
        "  simulator: separate process, its threads unpinned, each connection's thread sleeps in epoll between frames"
    );
    let sim_proc = Proc(
        Command::new(&exe)
            .arg("sim")
            .arg("--config")
            .arg(&a.config)
            .stdout(log("sim.log")?)
            .stderr(log("sim.err")?)
            .spawn()
            .map_err(|e| format!("starting the simulator: {e}"))?,
    );
    let admin = format!("http://{}:{}/sim", sim.host, sim.port);
    let agent = agent();
    let ready = Instant::now() + Duration::from_secs(20);
    while get_json(&agent, &format!("{admin}/bench")).is_none() {
        if Instant::now() > ready {
            return Err(format!(
                "the simulator did not answer on {admin} within 20 s"
            ));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut engine = Proc(
        Command::new(&exe)
            .arg("run")
            .arg(&engine_file)
            .arg("--for")
            .arg(format!("{}ms", a.duration.as_millis()))
            .env(KEY_ENV, &account.api_key)
            .env(SECRET_ENV, &account.secret)
            .stdout(log("engine.log")?)
            .stderr(log("engine.err")?)
            .spawn()
            .map_err(|e| format!("starting the engine: {e}"))?,
    );
    // The stamps are read while the engine still trades: its shutdown cancels, which no
    // frame caused, are left out.
    let started = Instant::now();
    let read_at = started + a.duration.saturating_sub(Duration::from_millis(500));
    while Instant::now() < read_at && matches!(engine.0.try_wait(), Ok(None)) {
        std::thread::sleep(Duration::from_millis(50));
    }
    let stamps = get_json(&agent, &format!("{admin}/bench"))
        .ok_or("could not read the stamps from the simulator")?;
    let deadline = started + a.duration + Duration::from_secs(60);
    let status = loop {
        match engine.0.try_wait() {
            Ok(Some(s)) => break s,
            Ok(None) if Instant::now() > deadline => {
                return Err("the engine did not stop within --for + 60 s".into());
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(100)),
            Err(e) => return Err(format!("waiting for the engine: {e}")),
        }
    };
    drop(sim_proc);
    if !status.success() {
        eprintln!(
            "mako bench: the engine exited with {status}; see {}",
            a.out.join("engine.log").display()
        );
    }
    let to_order = histogram(&samples(&stamps, "to_new_order_ns"))?;
    let to_request = histogram(&samples(&stamps, "to_first_request_ns"))?;
    println!(
        "  frames written {}, order requests read {} ({} new orders)",
        stamps["frames_written"], stamps["order_requests"], stamps["new_orders"]
    );
    println!(
        "{}",
        summary(
            "tick-to-trade (frame written -> first order.place read)",
            &to_order
        )
    );
    println!(
        "{}",
        summary("tick-to-first-request (place or cancel)", &to_request)
    );
    let mut series = Vec::new();
    for (file, name, h) in [
        ("tick-to-trade.hgrm", "tick-to-trade", &to_order),
        (
            "to-first-request.hgrm",
            "tick-to-first-request",
            &to_request,
        ),
    ] {
        let meta = HgrmMeta {
            venue: "loopback".into(),
            measurement: name.into(),
        };
        let text = to_hgrm(h, Some(&meta));
        let path = a.out.join(file);
        std::fs::write(&path, &text).map_err(|e| format!("{}: {e}", path.display()))?;
        if !h.is_empty() {
            series.push(Series::new(
                parse_hgrm(&text).map_err(|e| e.to_string())?,
                name,
            ));
        }
    }
    if !series.is_empty() {
        let svg = a.out.join("tick-to-trade.svg");
        plot_svg(&svg, "mako wire-to-wire tick-to-trade (loopback)", &series)
            .map_err(|e| e.to_string())?;
    }
    println!(
        "  wrote {}/{{tick-to-trade.hgrm,to-first-request.hgrm,tick-to-trade.svg}}",
        a.out.display()
    );
    if to_order.is_empty() {
        return Err("no order followed a market frame: see engine.log".into());
    }
    Ok(())
}

fn throughput(a: &Args) -> Result<(), String> {
    let (config, sim) = load(&a.config)?;
    let file = match (&a.recording, &sim.source) {
        (Some(f), _) => f.clone(),
        (None, SourceConfig::Replay { file, .. }) => file.clone(),
        (None, _) => {
            return Err("give --recording <file> (the config's [sim] does not replay one)".into());
        }
    };
    let venue = config
        .venues
        .first()
        .ok_or("the config has no venue")?
        .clone();
    let instruments: Vec<_> = config
        .instruments
        .iter()
        .filter(|i| i.venue == venue.id)
        .cloned()
        .collect();
    let mut frames = Vec::new();
    let mut r = RecordReader::open(&file).map_err(|e| format!("{}: {e}", file.display()))?;
    while let Some(rec) = r.next() {
        frames.push(
            rec.map_err(|e| format!("{}: {e}", file.display()))?
                .frame
                .to_vec(),
        );
    }
    let is_ticker = |f: &[u8]| {
        f.starts_with(TICKER_PREFIX)
            && f[..f.len().min(64)]
                .windows(TICKER_STREAM.len())
                .any(|w| w == TICKER_STREAM)
    };
    let tickers = frames.iter().filter(|f| is_ticker(f)).count();
    if tickers == 0 {
        return Err(format!("{}: no bookTicker frames", file.display()));
    }
    println!(
        "mako bench --throughput: {} bookTicker frames of {} frames from {}, one thread",
        tickers,
        frames.len(),
        file.display()
    );
    let ctx = Ctx {
        clock: Clock::live(),
        shutdown: Shutdown::new(),
        host: "bench",
    };
    let mut best = 0.0f64;
    let mut all = Vec::new();
    let (mut published, mut sent) = (0u64, 0usize);
    let until = Instant::now() + a.duration.min(Duration::from_secs(60));
    while Instant::now() < until || all.is_empty() {
        let cache = BookCache::new(
            instruments
                .iter()
                .map(|i| i.id.index() + 1)
                .max()
                .unwrap_or(1),
        );
        let writers = instruments
            .iter()
            .filter_map(|i| cache.writer(i.id))
            .collect();
        let (changed_tx, changed) = bounded("book-changed", 64, FullPolicy::Conflate);
        let mut v = venue.clone();
        v.streams = vec![StreamKind::BookTicker, StreamKind::Depth];
        // Never connected: frames are handed to `on_frame` directly.
        v.ws_url = "ws://127.0.0.1:9".into();
        v.rest_url = "http://127.0.0.1:9".into();
        let handler =
            SpotMdHandler::for_venue(&v, &instruments, FeedOptions::default().sync_limits)
                .map_err(|e| e.to_string())?;
        let mut feed = FeedActor::new(
            FeedSpec {
                venue: v,
                instruments: instruments.clone(),
                connector: Connector::with_public_roots(Duration::from_secs(1))
                    .map_err(|e| e.to_string())?,
                writers,
                trades: vec![],
                book_changed: vec![changed_tx],
                recorder: None,
                clock_offset: None,
                record_to: None,
                options: FeedOptions::default(),
            },
            handler,
        )
        .map_err(|e| e.to_string())?;
        // Sync the book: frames in order until it is live, then every later ticker back to
        // back (each newer than the book, so each is published).
        let mut pos = 0;
        while pos < frames.len()
            && feed
                .handler()
                .books()
                .iter()
                .any(|b| b.state() != SyncState::Live)
        {
            let now = ctx.clock.now();
            feed.on_frame(&frames[pos], now, &ctx);
            pos += 1;
        }
        let batch: Vec<&[u8]> = frames[pos..]
            .iter()
            .filter(|f| is_ticker(f))
            .map(Vec::as_slice)
            .collect();
        let reader = cache.reader();
        let seq0: u64 = instruments.iter().map(|i| reader.seq(i.id)).sum();
        let t0 = Instant::now();
        for f in &batch {
            let now = ctx.clock.now();
            feed.on_frame(f, now, &ctx);
            let _ = changed.try_recv();
        }
        let dt = t0.elapsed();
        published = instruments.iter().map(|i| reader.seq(i.id)).sum::<u64>() - seq0;
        sent = batch.len();
        let rate = batch.len() as f64 / dt.as_secs_f64();
        best = best.max(rate);
        all.push(rate);
    }
    all.sort_by(f64::total_cmp);
    let median = all[all.len() / 2];
    println!(
        "  passes {}, bookTicker frames/s: median {:.2} M, best {:.2} M; each frame parsed, checked against the live book, published as the top and announced ({published} of {sent} published in the last pass)",
        all.len(),
        median / 1e6,
        best / 1e6
    );
    Ok(())
}
