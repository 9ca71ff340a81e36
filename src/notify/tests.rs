//! Notification tests against a local fake Telegram server (127.0.0.1): batching, rate
//! limiting and retry with backoff, driven by a manual clock so no assertion depends on how
//! fast the machine is.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::config::{Mode, Secret, SecretSource, TelegramConfig};
use crate::latency::{BandChange, Measurement};
use crate::persist::FillRecord;
use crate::risk::{KillReason, Rule};
use crate::runtime::{Actor, Clock, Ctx, ManualClock, Shutdown};
use crate::types::{AssetCode, FillDelta};
use crate::types::{
    ClientOrderId, InstrumentId, Notional, Price, Qty, Side, StrategyId, UnixNanos, VenueId,
};

use super::*;

const TOKEN: &str = "123456:AAbot-token-never-logged";
const T0: u64 = 1_722_000_000_000_000_000;
const SEC: u64 = 1_000_000_000;

/// A fake Bot API: records every request and answers with scripted statuses (200 once the
/// script runs out).
struct FakeTelegram {
    url: String,
    requests: Arc<Mutex<Vec<(String, Value)>>>,
}

impl FakeTelegram {
    fn start(script: Vec<(u16, Option<u64>)>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&requests);
        let mut script: VecDeque<_> = script.into();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(mut conn) = conn else { break };
                let mut reader = BufReader::new(conn.try_clone().unwrap());
                let mut line = String::new();
                if reader.read_line(&mut line).is_err() {
                    continue;
                }
                let path = line.split(' ').nth(1).unwrap_or("").to_string();
                let mut len = 0;
                loop {
                    let mut h = String::new();
                    if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                        break;
                    }
                    if let Some((k, v)) = h.split_once(':')
                        && k.eq_ignore_ascii_case("content-length")
                    {
                        len = v.trim().parse().unwrap_or(0);
                    }
                }
                let mut body = vec![0; len];
                let _ = reader.read_exact(&mut body);
                let json = serde_json::from_slice(&body).unwrap_or(Value::Null);
                seen.lock().unwrap().push((path, json));
                let (status, retry_after) = script.pop_front().unwrap_or((200, None));
                let answer = match (status, retry_after) {
                    (200, _) => r#"{"ok":true,"result":{}}"#.to_string(),
                    (_, Some(s)) => format!(
                        r#"{{"ok":false,"error_code":{status},"parameters":{{"retry_after":{s}}}}}"#
                    ),
                    _ => format!(r#"{{"ok":false,"error_code":{status}}}"#),
                };
                let _ = write!(
                    conn,
                    "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
                    answer.len()
                );
            }
        });
        Self { url, requests }
    }

    fn count(&self) -> usize {
        self.requests.lock().unwrap().len()
    }

    fn text(&self, i: usize) -> String {
        let r = self.requests.lock().unwrap();
        r[i].1["text"].as_str().unwrap().to_string()
    }
}

fn names(mode: Mode) -> NotifyNames {
    NotifyNames {
        engine: "eng".into(),
        mode,
        strategies: vec!["mm-btc".into()],
        instruments: vec!["BTCUSDT".into()],
    }
}

fn token_source() -> SecretSource {
    let dir = std::env::temp_dir().join(format!("mako-notify-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("bot-token");
    std::fs::write(&p, TOKEN).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
    SecretSource::File(p)
}

fn config(url: &str, min_interval: Duration, notify_fills: bool) -> TelegramConfig {
    TelegramConfig {
        base_url: url.to_string(),
        bot_token: token_source(),
        chat_id: "-100123".into(),
        notify_fills,
        min_interval,
    }
}

fn ctx() -> (Ctx, ManualClock) {
    let (clock, hand) = Clock::manual(UnixNanos(T0));
    (
        Ctx {
            clock,
            shutdown: Shutdown::new(),
            host: "test",
        },
        hand,
    )
}

/// Polls until `done` holds (wall-clock bound only as a safety net).
fn poll_until(n: &mut Notifier, c: &mut Ctx, what: &str, done: impl Fn(&Notifier) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done(n) {
        n.poll(c);
        assert!(Instant::now() < deadline, "never: {what}");
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Polls a while with the clock frozen; nothing new may be requested.
fn poll_quietly(n: &mut Notifier, c: &mut Ctx, fake: &FakeTelegram, want: usize) {
    for _ in 0..25 {
        n.poll(c);
        std::thread::sleep(Duration::from_millis(2));
    }
    assert_eq!(fake.count(), want, "nothing may be sent before it is due");
}

fn fill() -> FillRecord {
    let qty = Qty::parse("0.002").unwrap();
    FillRecord {
        cid: ClientOrderId::mint(1_722_000_000_000, StrategyId(0), 1).unwrap(),
        strategy: StrategyId(0),
        instrument: InstrumentId(0),
        fill: FillDelta {
            fees_complete: true,
            paper: false,
            side: Side::Buy,
            qty,
            quote: Notional::of(Price::parse("60000.5").unwrap(), qty),
            trade_id: Some(9.into()),
            fee: Qty::ZERO,
            fee_asset: AssetCode::new(b"USDT").unwrap(),
            is_maker: true,
        },
        at: UnixNanos(T0),
    }
}

#[test]
fn batches_rate_limits_and_retries_with_backoff() {
    let fake = FakeTelegram::start(vec![(500, None), (502, None)]);
    let cfg = config(&fake.url, Duration::from_secs(10), true);
    let mut n = Notifier::telegram(&cfg, names(Mode::Paper))
        .unwrap()
        .with_backoff(Duration::from_secs(1), Duration::from_secs(8), 5);
    let stats = n.stats();
    let (mut c, clock) = ctx();
    n.start(&mut c).unwrap();
    let tx = n.sender();
    tx.send(Notice::Started { run_id: 7 }).unwrap();
    for _ in 0..3 {
        tx.send(Notice::RiskRejected {
            rule: Rule::MaxPosition,
            strategy: StrategyId(0),
        })
        .unwrap();
    }
    tx.send(Notice::Band(BandChange {
        venue: VenueId(0),
        venue_name: "binance".into(),
        from: 1,
        to: 2,
        from_name: "normal".into(),
        to_name: "cautious".into(),
        measurement: Some(Measurement::RestRtt),
        statistic_ns: Some(12_300_000),
        at: UnixNanos(T0),
    }))
    .unwrap();

    // Attempt 1: everything pending goes in one message, at once; the server fails it.
    poll_until(&mut n, &mut c, "first failure", |_| {
        stats.read().retries == 1
    });
    assert_eq!(fake.count(), 1);
    let (path, body) = fake.requests.lock().unwrap()[0].clone();
    assert_eq!(path, format!("/bot{TOKEN}/sendMessage"));
    assert_eq!(body["chat_id"], "-100123");
    let text = fake.text(0);
    assert_eq!(
        text,
        "mako eng [PAPER]\nstarted (run 7)\nrisk refused an order of mm-btc: max_position (x3)\nband: binance normal -> cautious (rest_rtt 12.300 ms)"
    );

    // Backoff: 1 s after the first failure, then 2 s after the second.
    poll_quietly(&mut n, &mut c, &fake, 1);
    clock.advance(SEC - 1);
    poll_quietly(&mut n, &mut c, &fake, 1);
    clock.advance(1);
    poll_until(&mut n, &mut c, "second failure", |_| {
        stats.read().retries == 2
    });
    assert_eq!(fake.text(1), text, "a retry resends the same message");
    clock.advance(2 * SEC - 1);
    poll_quietly(&mut n, &mut c, &fake, 2);
    clock.advance(1);
    poll_until(&mut n, &mut c, "delivery", |_| stats.read().sent == 1);
    assert_eq!(fake.count(), 3);
    assert_eq!(fake.text(2), text);

    // Rate limit: the last attempt was at +3 s, so nothing new before +13 s; what arrives
    // meanwhile is batched into that one message.
    tx.send(Notice::Fill(fill())).unwrap();
    tx.send(Notice::KillSwitch(KillReason::DailyLoss)).unwrap();
    poll_quietly(&mut n, &mut c, &fake, 3);
    clock.advance(10 * SEC - 1);
    tx.send(Notice::Error("feed binance: resync failed".into()))
        .unwrap();
    poll_quietly(&mut n, &mut c, &fake, 3);
    assert_eq!(stats.read().pending, 3);
    clock.advance(1);
    poll_until(&mut n, &mut c, "batched message", |_| {
        stats.read().sent == 2
    });
    assert_eq!(
        fake.text(3),
        "mako eng [PAPER]\nfill: mm-btc BTCUSDT buy 0.002 @ 60000.5 (maker)\nKILL SWITCH tripped: daily_loss\nerror: feed binance: resync failed"
    );
    let s = stats.read();
    assert_eq!(
        (s.sent, s.failed, s.retries, s.dropped, s.pending),
        (2, 0, 2, 0, 0)
    );
    n.stop(&mut c);
}

#[test]
fn retries_are_bounded_and_telegram_retry_after_is_honoured() {
    let fake = FakeTelegram::start(vec![(429, Some(30)), (500, None), (500, None), (500, None)]);
    let cfg = config(&fake.url, Duration::from_secs(1), true);
    let mut n = Notifier::telegram(&cfg, names(Mode::Live))
        .unwrap()
        .with_backoff(Duration::from_secs(1), Duration::from_secs(2), 3);
    let stats = n.stats();
    let (mut c, clock) = ctx();
    n.start(&mut c).unwrap();
    n.sender().send(Notice::Stopped { reason: "test" }).unwrap();
    poll_until(&mut n, &mut c, "429", |_| stats.read().retries == 1);
    // Backoff says 1 s, Telegram says 30 s: the longer wins.
    clock.advance(29 * SEC);
    poll_quietly(&mut n, &mut c, &fake, 1);
    clock.advance(SEC);
    poll_until(&mut n, &mut c, "second failure", |_| {
        stats.read().retries == 2
    });
    clock.advance(2 * SEC);
    poll_until(&mut n, &mut c, "given up", |_| stats.read().failed == 1);
    assert_eq!(fake.count(), 3, "three attempts, then dropped");
    clock.advance(1_000 * SEC);
    poll_quietly(&mut n, &mut c, &fake, 3);
    assert!(fake.text(0).starts_with("mako eng [LIVE]\nstopped: test"));
    let s = stats.read();
    assert_eq!((s.sent, s.failed, s.retries), (0, 1, 2));
    n.stop(&mut c);
}

/// Records messages instead of sending them.
struct Recording(Arc<Mutex<Vec<String>>>);

impl Transport for Recording {
    fn send(&mut self, text: &str) -> Result<(), SendFailure> {
        self.0.lock().unwrap().push(text.to_string());
        Ok(())
    }
}

#[test]
fn fills_can_be_off_overflow_is_counted_and_stop_flushes() {
    let sent = Arc::new(Mutex::new(Vec::new()));
    let mut n = Notifier::with_transport(
        Box::new(Recording(Arc::clone(&sent))),
        names(Mode::Sim),
        false,
        Duration::from_secs(60),
    );
    let stats = n.stats();
    let (mut c, _clock) = ctx();
    n.start(&mut c).unwrap();
    let tx = n.sender();
    tx.send(Notice::Fill(fill())).unwrap();
    for i in 0..50 {
        tx.send(Notice::Error(format!("e{i}"))).unwrap();
    }
    // Stop sends what is pending at once, rate limit or not.
    n.stop(&mut c);
    let msgs = sent.lock().unwrap().clone();
    assert_eq!(msgs.len(), 1);
    let lines: Vec<&str> = msgs[0].lines().collect();
    assert_eq!(lines[0], "mako eng [SIM]");
    assert!(!msgs[0].contains("fill:"), "fills are off");
    assert_eq!(lines.len(), 1 + 40 + 1);
    assert_eq!(lines[41], "... and 10 more notices");
    let s = stats.read();
    assert_eq!((s.sent, s.dropped), (1, 10));
}

#[test]
fn the_bot_token_never_appears_in_errors_or_debug_output() {
    // Nothing listens on port 1 of loopback: the connection is refused.
    let mut t = Telegram::new(
        "http://127.0.0.1:1",
        &Secret::new(TOKEN),
        "-1",
        Duration::from_secs(5),
    );
    let err = t.send("hello").unwrap_err();
    for s in [err.to_string(), format!("{err:?}"), format!("{t:?}")] {
        assert!(!s.contains(TOKEN) && !s.contains("AAbot"), "{s}");
    }
    assert!(matches!(
        err,
        SendFailure::Transport(_) | SendFailure::Timeout
    ));
    let missing = TelegramConfig {
        bot_token: SecretSource::Env("MAKO_TEST_SURELY_UNSET_BOT_TOKEN".into()),
        ..config("http://127.0.0.1:1", Duration::from_secs(1), true)
    };
    let e = Notifier::telegram(&missing, names(Mode::Live))
        .err()
        .unwrap();
    assert!(e.to_string().contains("MAKO_TEST_SURELY_UNSET_BOT_TOKEN"));
}
