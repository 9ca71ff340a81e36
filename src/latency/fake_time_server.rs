//! A tiny HTTP server on 127.0.0.1 that answers Binance's `GET /api/v3/time` with an
//! adjustable delay, clock skew and status: for the probe's tests and the latency demo.
//! Not part of the engine's runtime.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU16, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

#[derive(Debug, Default)]
struct Knobs {
    delay_us: AtomicU64,
    jitter_us: AtomicU64,
    /// Added to the server's wall clock in ms.
    skew_ms: AtomicI64,
    /// When non-zero, `serverTime` is always this.
    fixed_ms: AtomicU64,
    /// HTTP status to answer with (200 unless a test says otherwise).
    status: AtomicU16,
    served: AtomicU64,
}

/// The running server; stops when dropped or after its lifetime.
#[derive(Debug)]
pub struct FakeTimeServer {
    addr: SocketAddr,
    knobs: Arc<Knobs>,
    stop: Arc<AtomicBool>,
    /// The watchdog thread, which joins the server thread.
    join: Option<JoinHandle<()>>,
}

impl FakeTimeServer {
    /// Starts serving on an ephemeral loopback port for at most `lifetime`.
    pub fn start(lifetime: Duration) -> io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let knobs = Arc::new(Knobs {
            status: AtomicU16::new(200),
            ..Default::default()
        });
        let stop = Arc::new(AtomicBool::new(false));
        let (k, s) = (Arc::clone(&knobs), Arc::clone(&stop));
        let server = std::thread::Builder::new()
            .name("fake-time-server".into())
            .spawn(move || {
                for stream in listener.incoming() {
                    if s.load(Ordering::Relaxed) {
                        break;
                    }
                    if let Ok(stream) = stream {
                        let _ = serve(stream, &k);
                    }
                }
            })?;
        // The watchdog ends the server after its lifetime even if nobody drops it; a
        // blocking accept is woken by one last local connection.
        let s = Arc::clone(&stop);
        let watchdog = std::thread::Builder::new()
            .name("fake-time-watchdog".into())
            .spawn(move || {
                let deadline = Instant::now() + lifetime;
                while !s.load(Ordering::Relaxed) && Instant::now() < deadline {
                    std::thread::park_timeout(deadline.saturating_duration_since(Instant::now()));
                }
                s.store(true, Ordering::Relaxed);
                let _ = TcpStream::connect_timeout(&addr, Duration::from_secs(1));
                let _ = server.join();
            })?;
        Ok(Self {
            addr,
            knobs,
            stop,
            join: Some(watchdog),
        })
    }

    /// `http://127.0.0.1:<port>`: what a venue's `rest_url` would be.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Each answer waits `base` plus a pseudo-random part below `jitter`.
    pub fn set_delay(&self, base: Duration, jitter: Duration) {
        self.knobs
            .delay_us
            .store(base.as_micros() as u64, Ordering::Relaxed);
        self.knobs
            .jitter_us
            .store(jitter.as_micros() as u64, Ordering::Relaxed);
    }

    /// The server's clock runs `ms` ahead of this machine's (negative: behind).
    pub fn set_skew_ms(&self, ms: i64) {
        self.knobs.skew_ms.store(ms, Ordering::Relaxed);
    }

    /// Answers with this `serverTime` regardless of the clock (`None`: the clock again).
    pub fn set_fixed_time_ms(&self, ms: Option<u64>) {
        self.knobs
            .fixed_ms
            .store(ms.unwrap_or(0), Ordering::Relaxed);
    }

    pub fn set_status(&self, code: u16) {
        self.knobs.status.store(code, Ordering::Relaxed);
    }

    /// Requests answered so far.
    pub fn served(&self) -> u64 {
        self.knobs.served.load(Ordering::Relaxed)
    }
}

impl Drop for FakeTimeServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(j) = self.join.take() {
            j.thread().unpark();
            let _ = j.join();
        }
    }
}

fn serve(mut stream: TcpStream, k: &Knobs) -> io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut buf = [0u8; 2048];
    let mut len = 0;
    while !buf[..len].windows(4).any(|w| w == b"\r\n\r\n") {
        if len == buf.len() {
            return Ok(());
        }
        let n = stream.read(&mut buf[len..])?;
        if n == 0 {
            return Ok(());
        }
        len += n;
    }
    let n = k.served.fetch_add(1, Ordering::Relaxed);
    let jitter = k.jitter_us.load(Ordering::Relaxed);
    // A cheap deterministic scramble of the request number (splitmix64's finaliser).
    let mut x = n.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^= x >> 31;
    let delay = k.delay_us.load(Ordering::Relaxed) + if jitter > 0 { x % jitter } else { 0 };
    if delay > 0 {
        std::thread::sleep(Duration::from_micros(delay));
    }
    let fixed = k.fixed_ms.load(Ordering::Relaxed);
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    let time = if fixed != 0 {
        fixed as i64
    } else {
        now_ms + k.skew_ms.load(Ordering::Relaxed)
    };
    let body = format!("{{\"serverTime\":{time}}}");
    let status = k.status.load(Ordering::Relaxed);
    let head = format!(
        "HTTP/1.1 {status} X\r\nContent-Type: application/json;charset=UTF-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes())?;
    stream.write_all(body.as_bytes())?;
    stream.flush()
}
