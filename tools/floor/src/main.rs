//! The machine's floor for mako's wire-to-wire figures, measured with plain std TCP on
//! loopback and the socket options mako uses (`TCP_NODELAY`):
//!
//! - **warm send**: one 128-byte `write` on a connected socket, back to back (the peer reads);
//! - **cold first send**: one `write` after the thread has spun idle for `--idle-us` (50 ms by
//!   default, the demo's frame gap), the first send of a burst;
//! - **cold with a warm-up ticker**: the same, while a 1-byte send on another loopback socket
//!   every `--tick-us` (100 µs) keeps the kernel's send path warm;
//! - **cold, ticker read back by the sender**: the same ticker, but its bytes read by the
//!   sending thread itself (non-blocking, every 256 ticks) instead of a thread sleeping in
//!   `read`: the ticker then wakes nothing on the other cores;
//! - **cold, peer polling**: the cold first send again, while the socket's reader polls without
//!   blocking instead of sleeping in `read`, so the write has no sleeping reader to wake (on
//!   loopback a `write` also runs the receiver's side of TCP and wakes the reader);
//! - **ping-pong**: a 128-byte message to a second *process* that echoes it back; the round
//!   trip and its half (one way).
//!
//! Each prints median, p90, p99 and max in microseconds. `mako-floor --json` prints one JSON
//! object instead. Run it beside `mako bench` in the same session: what mako adds is its
//! figure minus these.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

const MSG: usize = 128;

struct Opts {
    samples: usize,
    idle: Duration,
    tick: Duration,
    json: bool,
}

fn parse() -> Result<Option<Opts>, String> {
    let mut o = Opts {
        samples: 2000,
        idle: Duration::from_millis(50),
        tick: Duration::from_micros(100),
        json: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut num = |name: &str| -> Result<u64, String> {
            args.next()
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| format!("{name} needs a number"))
        };
        match a.as_str() {
            "--samples" => o.samples = num("--samples")? as usize,
            "--idle-us" => o.idle = Duration::from_micros(num("--idle-us")?),
            "--tick-us" => o.tick = Duration::from_micros(num("--tick-us")?),
            "--json" => o.json = true,
            "--echo" => {
                let port = num("--echo")?;
                echo(port as u16).map_err(|e| e.to_string())?;
                return Ok(None);
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    if o.samples == 0 {
        return Err("--samples must be at least 1".into());
    }
    Ok(Some(o))
}

/// The echo process: connects to `port`, sends back every message whole.
fn echo(port: u16) -> std::io::Result<()> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_nodelay(true)?;
    let mut buf = [0u8; MSG];
    loop {
        if s.read_exact(&mut buf).is_err() {
            return Ok(());
        }
        s.write_all(&buf)?;
    }
}

/// A connected pair on loopback with `TCP_NODELAY`; the reader side drains in a thread, which
/// sleeps in `read` or, with `poll`, reads without blocking in a spin loop until the writer
/// closes.
fn sink_pair(poll: bool) -> std::io::Result<TcpStream> {
    let l = TcpListener::bind("127.0.0.1:0")?;
    let addr = l.local_addr()?;
    let tx = TcpStream::connect(addr)?;
    tx.set_nodelay(true)?;
    let (mut rx, _) = l.accept()?;
    rx.set_nonblocking(poll)?;
    std::thread::spawn(move || {
        let mut buf = [0u8; 65536];
        loop {
            match rx.read(&mut buf) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => std::hint::spin_loop(),
                Err(_) => break,
            }
        }
    });
    Ok(tx)
}

fn spin_for(d: Duration) {
    let end = Instant::now() + d;
    while Instant::now() < end {
        std::hint::spin_loop();
    }
}

/// `n` sends on `s`, each after spinning idle for `o.idle` while `tick` runs every `o.tick`.
fn cold_sends(
    s: &mut TcpStream,
    o: &Opts,
    n: usize,
    mut tick: impl FnMut() -> std::io::Result<()>,
) -> std::io::Result<Vec<u64>> {
    let msg = [b'x'; MSG];
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let end = Instant::now() + o.idle;
        let mut next = Instant::now();
        while Instant::now() < end {
            if Instant::now() >= next {
                tick()?;
                next += o.tick;
            }
            std::hint::spin_loop();
        }
        out.push(timed_write(s, &msg)?);
    }
    Ok(out)
}

fn timed_write(s: &mut TcpStream, msg: &[u8]) -> std::io::Result<u64> {
    let t = Instant::now();
    s.write_all(msg)?;
    Ok(t.elapsed().as_nanos() as u64)
}

struct Stats {
    p50: f64,
    p90: f64,
    p99: f64,
    max: f64,
    n: usize,
}

fn stats(mut ns: Vec<u64>) -> Stats {
    ns.sort_unstable();
    let at = |q: f64| ns[((ns.len() - 1) as f64 * q).round() as usize] as f64 / 1000.0;
    Stats {
        p50: at(0.5),
        p90: at(0.9),
        p99: at(0.99),
        max: at(1.0),
        n: ns.len(),
    }
}

fn main() -> std::process::ExitCode {
    let o = match parse() {
        Ok(Some(o)) => o,
        Ok(None) => return std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mako-floor: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    match run(&o) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mako-floor: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run(o: &Opts) -> std::io::Result<()> {
    let msg = [b'x'; MSG];
    let mut results: Vec<(&str, Stats)> = Vec::new();

    // Warm: back to back.
    let mut s = sink_pair(false)?;
    for _ in 0..1000 {
        s.write_all(&msg)?;
    }
    let mut warm = Vec::with_capacity(o.samples);
    for _ in 0..o.samples {
        warm.push(timed_write(&mut s, &msg)?);
    }
    results.push(("warm send", stats(warm)));

    // Cold: after spinning idle. Fewer samples: each costs the idle time.
    let cold_n = o.samples.min(200);
    let mut cold = Vec::with_capacity(cold_n);
    for _ in 0..cold_n {
        spin_for(o.idle);
        cold.push(timed_write(&mut s, &msg)?);
    }
    results.push(("cold first send", stats(cold)));

    // Cold, with a ticker keeping the send path warm on another socket.
    let mut ticker = sink_pair(false)?;
    let warmed = cold_sends(&mut s, o, cold_n, || ticker.write_all(b"t"))?;
    results.push(("cold first send, warm-up ticker", stats(warmed)));
    drop(ticker);

    // The same ticker read back by this thread: nothing sleeping on the other side to wake.
    let l = TcpListener::bind("127.0.0.1:0")?;
    let mut ticker = TcpStream::connect(l.local_addr()?)?;
    ticker.set_nodelay(true)?;
    let (mut back, _) = l.accept()?;
    back.set_nonblocking(true)?;
    let (mut ticks, mut drain) = (0u64, [0u8; 512]);
    let read_back = cold_sends(&mut s, o, cold_n, || {
        ticker.write_all(b"t")?;
        ticks += 1;
        if ticks.is_multiple_of(256) {
            while let Ok(1..) = back.read(&mut drain) {}
        }
        Ok(())
    })?;
    drop(ticker);
    results.push((
        "cold first send, ticker read by the sender",
        stats(read_back),
    ));

    // Cold, with the reader polling: no sleeping thread to wake on the other side.
    let mut polled = sink_pair(true)?;
    let mut cold_polled = Vec::with_capacity(cold_n);
    for _ in 0..cold_n {
        spin_for(o.idle);
        cold_polled.push(timed_write(&mut polled, &msg)?);
    }
    drop(polled);
    results.push(("cold first send, peer polling", stats(cold_polled)));

    // Ping-pong with a second process.
    let l = TcpListener::bind("127.0.0.1:0")?;
    let port = l.local_addr()?.port();
    let mut child = std::process::Command::new(std::env::current_exe()?)
        .args(["--echo", &port.to_string()])
        .spawn()?;
    let (mut p, _) = l.accept()?;
    p.set_nodelay(true)?;
    let mut buf = [0u8; MSG];
    for _ in 0..1000 {
        p.write_all(&msg)?;
        p.read_exact(&mut buf)?;
    }
    let mut rtt = Vec::with_capacity(o.samples);
    for _ in 0..o.samples {
        let t = Instant::now();
        p.write_all(&msg)?;
        p.read_exact(&mut buf)?;
        rtt.push(t.elapsed().as_nanos() as u64);
    }
    drop(p);
    let _ = child.wait();
    let one_way: Vec<u64> = rtt.iter().map(|r| r / 2).collect();
    results.push(("ping-pong round trip (2 processes)", stats(rtt)));
    results.push(("ping-pong one way (half the round trip)", stats(one_way)));

    if o.json {
        let rows: Vec<String> = results
            .iter()
            .map(|(k, s)| {
                format!(
                    "\"{k}\": {{\"n\": {}, \"p50_us\": {:.2}, \"p90_us\": {:.2}, \"p99_us\": {:.2}, \"max_us\": {:.2}}}",
                    s.n, s.p50, s.p90, s.p99, s.max
                )
            })
            .collect();
        println!("{{{}}}", rows.join(", "));
    } else {
        println!(
            "{:<42} {:>6} {:>9} {:>9} {:>9} {:>9}",
            "loopback TCP, 128 B, TCP_NODELAY", "n", "p50 µs", "p90 µs", "p99 µs", "max µs"
        );
        for (k, s) in &results {
            println!(
                "{:<42} {:>6} {:>9.2} {:>9.2} {:>9.2} {:>9.2}",
                k, s.n, s.p50, s.p90, s.p99, s.max
            );
        }
        println!(
            "idle before a cold send: {} µs spinning; warm-up ticker every {} µs",
            o.idle.as_micros(),
            o.tick.as_micros()
        );
    }
    Ok(())
}
