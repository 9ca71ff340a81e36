//! Tick-to-order through the code the live engine runs, on the real Binance recording:
//! frame bytes → `FeedActor::on_frame` (codec, book sync, cache publish) → `StrategyActor`
//! polling the cache and running `SpreadMaker` through the `Strategy` trait → order intents
//! on the real bounded channel → the gateway's new-order steps (grid check, risk check, order
//! table, WS API `order.place` / `order.cancelReplace` encoded), on two sessions in the same
//! run: an HMAC key (every request signed) and an Ed25519 key logged on with
//! `session.logon` (requests carry no signature).
//!
//! Only bookTicker frames that make the strategy re-quote are timed; every other frame of
//! the recording goes through the same pipeline untimed, so the book stays the live one.
//! The venue's answers (accepted, cancelled) are fed back to the strategy untimed, as the
//! gateway would after reading them. Placements: everything on one thread, and the gateway
//! on a second thread (pinned where `core_affinity` allows) behind the intent channel.
//!
//! The gateway stage calls the same functions, in the same order, as `Gateway::on_new` and
//! `Gateway::on_replace` (a re-quote's `Replace` is one `order.cancelReplace`, as the
//! gateway sends it to Binance); the actor itself needs a live WebSocket link to accept an
//! intent, and its socket write is what the wire-to-wire harness (`mako bench`) measures.
//!
//! With `MAKO_CALLGRIND=<hmac|ed25519> MAKO_CALLGRIND_N=<n>` the binary instead walks the
//! recording until `n` re-quotes were timed, with each re-quoting frame's whole path (feed,
//! strategy, gateway, to the last intent encoded) inside `requote_step` and every other
//! frame outside it: run it under `valgrind --tool=callgrind
//! --toggle-collect='*requote_step*'` and divide the instructions by `n` for instructions per
//! re-quote (load-independent).

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group};
use mako::book::{BookCache, CacheReader};
use mako::config::{OrderTransport, RiskLimits, Secret, StreamKind, VenueConfig, VenueKind};
use mako::feed::actor::{FeedActor, FeedOptions, FeedSpec};
use mako::feed::record::RecordReader;
use mako::gateway::table::OrderTable;
use mako::gateway::{CidMinter, OrderIntent, OrderUpdate};
use mako::net::Connector;
use mako::risk::{KillSwitch, OrderCheck, RiskEngine};
use mako::runtime::channel::ChannelStats;
use mako::runtime::{Actor, Clock, Ctx, FullPolicy, Rx, Shutdown, Tx, bounded};
use mako::strategy::IntentSink;
use mako::strategy::actor::StrategyActor;
use mako::strategy::spread::{SpreadMaker, SpreadParams};
use mako::types::OrderStatus;
use mako::types::order::{Order, OrderEvent, VenueFinal};
use mako::types::{
    ClientOrderId, Instrument, InstrumentId, Notional, Price, Qty, Side, StrategyId, UnixNanos,
    VenueId,
};
use mako::venue::binance::handler::SpotMdHandler;
use mako::venue::binance::session::Session;
use mako::venue::order::OrderSession;
use mako::venue::order::PlaceOrder;

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/binance-spot/btcusdt_20240808.gz"
);
const KEY: &str = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A";
const SECRET: &str = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";
const BTC: InstrumentId = InstrumentId(0);
const SID: StrategyId = StrategyId(0);
const TICKER: &[u8] = b"{\"stream\":\"btcusdt@bookTicker\"";
/// RFC 8032 §7.1 test 1's seed (base64): the Ed25519 key of the logged-on session.
const ED25519_SEED: &str = "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=";

/// The gateway's session: how its requests are authenticated.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Key {
    /// HMAC-SHA256: every request signed.
    Hmac,
    /// Ed25519, logged on (`session.logon` answered): requests carry no signature.
    Ed25519,
}

impl Key {
    fn name(self) -> &'static str {
        match self {
            Key::Hmac => "HMAC session",
            Key::Ed25519 => "Ed25519 session logged on",
        }
    }

    /// The session as the gateway holds it after connecting (logged on for Ed25519).
    fn session(self) -> Session {
        let key = Secret::new(KEY);
        match self {
            Key::Hmac => Session::new(&key, &Secret::new(SECRET), 5000),
            Key::Ed25519 => {
                let mut s = Session::new_ed25519(&key, &Secret::new(ED25519_SEED), 5000)
                    .expect("the RFC 8032 test seed reads");
                let mut out = Vec::new();
                s.on_connected(1, &mut out);
                let mut ev = Vec::new();
                s.on_frame(
                    br#"{"id":"1","status":200,"result":{"apiKey":"k","authorizedSince":1,"connectedSince":1,"returnRateLimits":false,"serverTime":1,"userDataStream":false}}"#,
                    UnixNanos(1),
                    &mut ev,
                );
                assert!(s.logged_on(), "{ev:?}");
                s
            }
        }
    }
}

fn frames() -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut r = RecordReader::open(FIXTURE).expect("fixture");
    while let Some(rec) = r.next() {
        out.push(rec.expect("fixture line").frame.to_vec());
    }
    out
}

fn instrument() -> Instrument {
    let mut i = Instrument::new(
        BTC,
        VenueId(0),
        "BTCUSDT",
        "BTC",
        "USDT",
        Price::parse("0.01").expect("tick"),
        Qty::parse("0.00001").expect("lot"),
    )
    .expect("grid");
    i.min_notional = Price::parse("5").expect("notional");
    i
}

fn ctx() -> Ctx {
    Ctx {
        clock: Clock::live(),
        shutdown: Shutdown::new(),
        host: "bench",
    }
}

/// The gateway's steps for one intent (as `Gateway::on_new` / `on_cancel`), minus the socket
/// write: grid check, risk check, order table, encode and sign into `out`.
struct GatewayStage {
    inst: Instrument,
    risk: RiskEngine,
    table: OrderTable,
    session: Session,
    cache: CacheReader,
    out: Vec<u8>,
    /// Orders encoded since the venue last answered: (cid, side, placed), answered untimed.
    pending: Vec<(ClientOrderId, Side, Qty, bool)>,
    updates: Tx<OrderUpdate>,
}

impl GatewayStage {
    fn new(cache: CacheReader, run_start_ms: u64, updates: Tx<OrderUpdate>, key: Key) -> Self {
        let limits = RiskLimits {
            max_order_qty: Some(Qty::parse("0.01").expect("qty")),
            max_order_notional: Some(Price::parse("1000").expect("notional")),
            max_position: Some(Qty::parse("0.05").expect("position")),
            max_open_orders: Some(1_000_000),
            price_collar_bps: Some(100),
            max_daily_loss: Some(Price::parse("50").expect("loss")),
            max_trades_per_day: Some(1_000_000),
            max_orders_per_sec: Some(u32::MAX / 2),
            ..RiskLimits::default()
        };
        Self {
            inst: instrument(),
            risk: RiskEngine::new(
                limits.clone(),
                &[(limits, BTC)],
                1,
                KillSwitch::default(),
                UnixNanos(0),
            ),
            table: OrderTable::new(run_start_ms, 1),
            session: key.session(),
            cache,
            out: Vec::with_capacity(1024),
            pending: Vec::with_capacity(64),
            updates,
        }
    }

    /// One intent; true if it was a new order whose bytes are now in `out`.
    #[inline]
    fn on_intent(&mut self, intent: OrderIntent, now: UnixNanos) -> bool {
        match intent {
            // As the gateway (`on_replace`): one cancel-replace when the old order is open
            // and acknowledged, else the cancel and the new order.
            OrderIntent::Replace { cid, new } => {
                let in_one = self.table.get(&cid).is_some_and(|o| {
                    matches!(o.status, OrderStatus::Acked | OrderStatus::PartiallyFilled)
                        && !o.cancel_pending
                });
                if !in_one {
                    self.on_intent(
                        OrderIntent::Cancel {
                            strategy: new.strategy,
                            cid,
                        },
                        now,
                    );
                    return self.on_new(new, None, now);
                }
                let placed = self.on_new(new, Some(cid), now);
                if placed && let Some(o) = self.table.get_mut(&cid) {
                    o.request_cancel();
                    self.pending.push((cid, o.side, o.qty, false));
                }
                placed
            }
            OrderIntent::New(i) => self.on_new(i, None, now),
            OrderIntent::Cancel { cid, .. } => {
                if let Some(o) = self.table.get_mut(&cid)
                    && o.request_cancel()
                {
                    self.session
                        .cancel(&self.inst.symbol, &cid, now.as_millis(), &mut self.out);
                    self.pending.push((cid, o.side, o.qty, false));
                }
                false
            }
            // The benched venue (Binance) does not amend in place: its strategies replace.
            OrderIntent::CancelAll { .. } | OrderIntent::Amend { .. } => false,
        }
    }

    /// A new order (as `Gateway::on_new`), written as a cancel-replace of `replacing` when
    /// set; true if its bytes are now in `out`.
    #[inline]
    fn on_new(
        &mut self,
        i: mako::gateway::NewOrderIntent,
        replacing: Option<ClientOrderId>,
        now: UnixNanos,
    ) -> bool {
        if self.inst.check_order(i.price, i.qty).is_err() {
            return false;
        }
        let top = self.cache.top(i.instrument);
        let mid = top
            .valid
            .then(|| Price::from_units((top.bid.price.units() + top.ask.price.units()) / 2));
        let check = OrderCheck {
            strategy: i.strategy,
            instrument: i.instrument,
            side: i.side,
            price: i.price,
            qty: i.qty,
            mid,
            reduce_only: i.reduce_only,
        };
        if self.risk.check(&check, now).is_err() {
            return false;
        }
        let order = Order::new(
            i.cid,
            i.strategy,
            i.instrument,
            i.side,
            i.kind,
            i.tif,
            i.price,
            i.qty,
            now,
        );
        if self.table.insert(order).is_err() {
            return false;
        }
        let order = PlaceOrder {
            symbol: &self.inst.symbol,
            cid: &i.cid,
            side: i.side,
            kind: i.kind,
            tif: i.tif,
            price: i.price,
            qty: i.qty,
            price_decimals: self.inst.price_decimals,
            qty_decimals: self.inst.qty_decimals,
            reduce_only: i.reduce_only,
        };
        match replacing {
            Some(old) => self
                .session
                .cancel_replace(&old, &order, now.as_millis(), &mut self.out),
            None => self.session.place(
                order.symbol,
                order.cid,
                order.side,
                order.kind,
                order.tif,
                order.price,
                order.qty,
                order.price_decimals,
                order.qty_decimals,
                now.as_millis(),
                &mut self.out,
            ),
        }
        self.risk
            .on_order_opened(i.strategy, i.instrument, i.side, i.qty);
        if let Some(o) = self.table.get_mut(&i.cid) {
            o.apply(&OrderEvent::Sent { at: now });
        }
        self.pending.push((i.cid, i.side, i.qty, true));
        true
    }

    /// The venue answers everything sent (untimed): new orders accepted, cancels done.
    fn venue_answers(&mut self, now: UnixNanos) {
        for (cid, side, qty, placed) in self.pending.drain(..) {
            let Some(o) = self.table.get_mut(&cid) else {
                continue;
            };
            let ev = if placed {
                OrderEvent::Accepted {
                    venue_order_id: 1.into(),
                    at: now,
                }
            } else {
                OrderEvent::Ended {
                    kind: VenueFinal::Cancelled,
                    venue_order_id: Some(1.into()),
                    cum_qty: Qty::ZERO,
                    cum_quote: Notional(0),
                    at: now,
                }
            };
            o.apply(&ev);
            if !placed {
                self.risk.on_order_reduced(SID, BTC, side, qty, true);
            }
            let u = OrderUpdate {
                cid,
                strategy: SID,
                status: if placed {
                    OrderStatus::Acked
                } else {
                    OrderStatus::Cancelled
                },
                side,
                price: o.price,
                qty,
                filled_qty: Qty::ZERO,
                fill: None,
                refused: None,
                fee_correction: None,
                at: now,
            };
            let _ = self.updates.send(u);
        }
    }
}

/// The feed and strategy actors of one instrument, wired as the engine wires them.
struct Front {
    feed: FeedActor<SpotMdHandler>,
    strategy: StrategyActor,
    ctx: Ctx,
    /// The feed's "book changed" channel (the strategy reads the cache's `seq` instead).
    changed: Rx<InstrumentId>,
}

fn build(run_start_ms: u64, key: Key) -> (Front, Rx<OrderIntent>, GatewayStage) {
    let cache = BookCache::new(1);
    let (changed_tx, changed) = bounded("book-changed", 64, FullPolicy::Conflate);
    let venue = VenueConfig {
        id: VenueId(0),
        name: "binance".into(),
        kind: VenueKind::BinanceSpot,
        // Never connected: the bench hands frames to `on_frame` itself.
        ws_url: "ws://127.0.0.1:9".into(),
        rest_url: "http://127.0.0.1:9".into(),
        ws_api_url: None,
        order_transport: OrderTransport::WsApi,
        streams: vec![StreamKind::BookTicker, StreamKind::Depth, StreamKind::Trade],
        credentials: None,
        recv_window: Duration::from_secs(5),
        cancel_unknown_orders: false,
        private_ws_url: None,
        demo_trading: false,
        fills_poll: None,
        book_stale_after: None,
        margin_currency: None,
    };
    let md = SpotMdHandler::for_venue(&venue, &[instrument()], FeedOptions::default().sync_limits)
        .expect("handler");
    let feed = FeedActor::new(
        FeedSpec {
            venue,
            instruments: vec![instrument()],
            connector: Connector::with_public_roots(Duration::from_secs(1)).expect("connector"),
            writers: vec![cache.writer(BTC).expect("writer")],
            trades: vec![],
            book_changed: vec![changed_tx],
            recorder: None,
            clock_offset: None,
            record_to: None,
            options: FeedOptions::default(),
        },
        md,
    )
    .expect("feed");
    let params: toml::Table = r#"
        spread_bps = 2
        order_size = "0.001"
        stale_tolerance_bps = 0
        refresh_interval = "1h"
        max_book_age = "1h"
        base_allocation = "1"
        quote_allocation = "100000"
        post_only = true
    "#
    .parse()
    .expect("params");
    let maker = SpreadMaker::new(
        SpreadParams::from_table(&params).expect("params"),
        instrument(),
        Qty::parse("1").expect("base"),
        Price::parse("100000").expect("quote"),
    );
    let (intents_tx, intents_rx) = bounded("order-intents", 4096, FullPolicy::Backpressure);
    let (updates_tx, updates_rx) = bounded("order-updates", 4096, FullPolicy::Backpressure);
    let strategy = StrategyActor::new(
        "strategy:bench".into(),
        SID,
        VenueId(0),
        BTC,
        Box::new(maker),
        cache.reader(),
        None,
        updates_rx,
        IntentSink::new(intents_tx, CidMinter::new(run_start_ms, SID), SID, BTC),
        KillSwitch::default(),
    );
    let gw = GatewayStage::new(cache.reader(), run_start_ms, updates_tx, key);
    let front = Front {
        feed,
        strategy,
        ctx: ctx(),
        changed,
    };
    (front, intents_rx, gw)
}

/// Per-stage sums over timed (re-quoting bookTicker) frames.
#[derive(Default, Clone, Copy)]
struct Sums {
    n: u64,
    feed: Duration,
    strategy: Duration,
    first_order: Duration,
    all_intents: Duration,
}

/// The one-thread pipeline, walking the recording; rebuilt when the recording ends.
struct OneThread {
    frames: Arc<Vec<Vec<u8>>>,
    pos: usize,
    run: u64,
    key: Key,
    front: Front,
    intents: Rx<OrderIntent>,
    gw: GatewayStage,
}

/// The instants of one frame's timed part: start, feed done, strategy done, first new
/// order's bytes (if any), all intents done.
struct Stamps {
    t0: Instant,
    t1: Instant,
    t2: Instant,
    first: Option<Instant>,
    t3: Instant,
}

impl OneThread {
    fn new(frames: Arc<Vec<Vec<u8>>>, key: Key) -> Self {
        let run = 1_723_161_254_206;
        let (front, intents, gw) = build(run, key);
        Self {
            frames,
            pos: 0,
            run,
            key,
            front,
            intents,
            gw,
        }
    }

    /// The next frame of the recording (a fresh pipeline when it starts again).
    fn next_frame(&mut self) -> (Arc<Vec<Vec<u8>>>, usize) {
        if self.pos == self.frames.len() {
            // Ids restart with the recording: a fresh pipeline (a new run id keeps the
            // client order ids apart).
            self.run += 1;
            let (front, intents, gw) = build(self.run, self.key);
            (self.front, self.intents, self.gw) = (front, intents, gw);
            self.pos = 0;
        }
        self.pos += 1;
        (Arc::clone(&self.frames), self.pos - 1)
    }

    /// The timed part of one frame: feed, strategy, every intent through the gateway stage.
    #[inline]
    fn front(&mut self, frame: &[u8]) -> Stamps {
        let f = &mut self.front;
        let t0 = Instant::now();
        let recv = f.ctx.clock.now();
        f.feed.on_frame(black_box(frame), recv, &f.ctx);
        let t1 = Instant::now();
        f.strategy.poll(&mut f.ctx);
        let t2 = Instant::now();
        let mut first = None;
        while let Some(i) = self.intents.try_recv() {
            let now = f.ctx.clock.now();
            if self.gw.on_intent(i, now) && first.is_none() {
                first = Some(Instant::now());
            }
        }
        let t3 = Instant::now();
        black_box(self.gw.out.len());
        Stamps {
            t0,
            t1,
            t2,
            first,
            t3,
        }
    }

    /// The untimed rest of a frame: the venue answers; the strategy reads the answers.
    fn answers(&mut self) {
        let f = &mut self.front;
        while f.changed.try_recv().is_some() {}
        self.gw.venue_answers(f.ctx.clock.now());
        f.strategy.poll(&mut f.ctx);
        while let Some(i) = self.intents.try_recv() {
            let now = f.ctx.clock.now();
            self.gw.on_intent(i, now);
        }
        self.gw.venue_answers(f.ctx.clock.now());
        f.strategy.poll(&mut f.ctx);
    }

    /// Handles frames until one re-quoting bookTicker was timed; adds its stage times.
    #[inline]
    fn next_timed(&mut self, s: &mut Sums) -> Sums {
        loop {
            let (frames, k) = self.next_frame();
            let frame = &frames[k];
            let timed = frame.starts_with(TICKER);
            let t = self.front(frame);
            self.answers();
            if let (true, Some(first)) = (timed, t.first) {
                let one = Sums {
                    n: 1,
                    feed: t.t1 - t.t0,
                    strategy: t.t2 - t.t1,
                    first_order: first - t.t0,
                    all_intents: t.t3 - t.t0,
                };
                s.n += 1;
                s.feed += one.feed;
                s.strategy += one.strategy;
                s.first_order += one.first_order;
                s.all_intents += one.all_intents;
                return one;
            }
        }
    }
}

/// A re-quoting frame's timed part, out of line so that callgrind can collect exactly it
/// (`--toggle-collect='*requote_step*'`).
#[inline(never)]
fn requote_step(p: &mut OneThread, frame: &[u8]) -> bool {
    p.front(frame).first.is_some()
}

/// `MAKO_CALLGRIND` mode (see the module doc): true when it ran. A first walk finds which
/// frames re-quote; a second, fresh pipeline walks the same frames and runs those through
/// `requote_step` (the walk is deterministic: the same frames give the same decisions).
fn callgrind(frames: &Arc<Vec<Vec<u8>>>) -> bool {
    let key = match std::env::var("MAKO_CALLGRIND").as_deref() {
        Ok("hmac") => Key::Hmac,
        Ok("ed25519") => Key::Ed25519,
        Ok(other) => panic!("MAKO_CALLGRIND={other}: hmac or ed25519"),
        Err(_) => return false,
    };
    let n: usize = std::env::var("MAKO_CALLGRIND_N")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_000);
    let mut p = OneThread::new(Arc::clone(frames), key);
    let mut requoting = Vec::with_capacity(n);
    while requoting.len() < n {
        let (frames, k) = p.next_frame();
        assert!(
            p.run == 1_723_161_254_206,
            "n {n} is more re-quotes than one walk of the recording has"
        );
        let t = p.front(&frames[k]);
        p.answers();
        if frames[k].starts_with(TICKER) && t.first.is_some() {
            requoting.push(k);
        }
    }
    let mut p = OneThread::new(Arc::clone(frames), key);
    let last = requoting[n - 1];
    let mut next = requoting.iter().peekable();
    for k in 0..=last {
        let frame = &frames[k];
        if next.peek() == Some(&&k) {
            next.next();
            assert!(
                requote_step(&mut p, frame),
                "frame {k} re-quoted in the first walk"
            );
        } else {
            p.front(frame);
        }
        p.answers();
    }
    println!("{key:?}: {n} re-quotes in requote_step (frames 0..={last})");
    true
}

fn one_thread(c: &mut Criterion, frames: &Arc<Vec<Vec<u8>>>) {
    let mut g = c.benchmark_group("tick-to-order, one thread");
    g.bench_function("timestamps only (baseline)", |b| {
        b.iter_custom(|iters| {
            let mut sum = Duration::ZERO;
            for _ in 0..iters {
                let t0 = Instant::now();
                let t1 = Instant::now();
                sum += t1 - t0;
            }
            sum
        })
    });
    type Pick = fn(&Sums) -> Duration;
    let stages: [(&str, Pick); 4] = [
        ("end to end: bookTicker frame -> first order signed", |s| {
            s.first_order
        }),
        (
            "end to end: whole re-quote (cancels + orders signed)",
            |s| s.all_intents,
        ),
        ("stage: frame -> parse -> book -> cache publish", |s| s.feed),
        ("stage: strategy poll (cache read + SpreadMaker)", |s| {
            s.strategy
        }),
    ];
    for (name, pick) in stages {
        let mut p = OneThread::new(Arc::clone(frames), Key::Hmac);
        g.bench_function(name, |b| {
            b.iter_custom(|iters| {
                let mut s = Sums::default();
                for _ in 0..iters {
                    p.next_timed(&mut s);
                }
                pick(&s)
            })
        });
    }
    let mut p = OneThread::new(Arc::clone(frames), Key::Ed25519);
    g.bench_function(
        "end to end: bookTicker frame -> first order (Ed25519 session logged on)",
        |b| {
            b.iter_custom(|iters| {
                let mut s = Sums::default();
                for _ in 0..iters {
                    p.next_timed(&mut s);
                }
                s.first_order
            })
        },
    );
    g.finish();
}

/// The gateway on its own thread: intents arrive over the real channel; the latency of the
/// first new order of each frame is measured from the feed's receive stamp (`tick_at`).
struct GatewayThread {
    stop: Arc<AtomicBool>,
    /// Intents handled so far.
    handled: Arc<AtomicU64>,
    /// ns from the frame's receive stamp to the first new order's signed bytes; 0 = none yet.
    first_ns: Arc<AtomicU64>,
    join: Option<std::thread::JoinHandle<()>>,
}

impl GatewayThread {
    fn spawn(mut gw: GatewayStage, intents: Rx<OrderIntent>, core: Option<usize>) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let handled = Arc::new(AtomicU64::new(0));
        let first_ns = Arc::new(AtomicU64::new(0));
        let (s, h, f) = (stop.clone(), handled.clone(), first_ns.clone());
        let join = std::thread::spawn(move || {
            if let Some(id) = core {
                core_affinity::set_for_current(core_affinity::CoreId { id });
            }
            let clock = Clock::live();
            while !s.load(Ordering::Relaxed) {
                let Some(i) = intents.try_recv() else {
                    std::hint::spin_loop();
                    continue;
                };
                let tick_at = match &i {
                    OrderIntent::New(n) | OrderIntent::Replace { new: n, .. } => Some(n.tick_at),
                    _ => None,
                };
                let now = clock.now();
                if gw.on_intent(i, now)
                    && let Some(t) = tick_at
                    && f.load(Ordering::Relaxed) == 0
                {
                    f.store(clock.now().since(t).max(1), Ordering::Relaxed);
                }
                if intents.is_empty() {
                    gw.venue_answers(clock.now());
                }
                h.fetch_add(1, Ordering::Release);
            }
        });
        Self {
            stop,
            handled,
            first_ns,
            join: Some(join),
        }
    }
}

impl Drop for GatewayThread {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(j) = self.join.take() {
            let _ = j.join();
        }
    }
}

fn two_threads(c: &mut Criterion, frames: &Arc<Vec<Vec<u8>>>, key: Key) {
    let cores = core_affinity::get_core_ids().map_or(0, |c| c.len());
    let (front_core, gw_core) = if cores >= 2 {
        (Some(0), Some(1))
    } else {
        (None, None)
    };
    let mut g = c.benchmark_group(format!(
        "tick-to-order, feed+strategy | gateway threads, {}",
        key.name()
    ));
    let mut dist = hist();
    g.bench_function(
        "end to end: bookTicker frame -> first order encoded on the gateway thread",
        |b| {
            if let Some(id) = front_core {
                core_affinity::set_for_current(core_affinity::CoreId { id });
            }
            let mut run = 1_800_000_000_000u64;
            let (mut front, intents, gw) = build(run, key);
            let mut sent = Arc::clone(intents.stats());
            let mut gwt = GatewayThread::spawn(gw, intents, gw_core);
            let mut pos = 0;
            // Waits until the gateway has handled every intent sent so far.
            let settle = |sent: &ChannelStats, gwt: &GatewayThread| {
                while gwt.handled.load(Ordering::Acquire) < sent.sent.load(Ordering::Relaxed) {
                    std::hint::spin_loop();
                }
            };
            b.iter_custom(|iters| {
                let mut sum = 0u64;
                let mut n = 0;
                while n < iters {
                    if pos == frames.len() {
                        drop(std::mem::replace(
                            &mut gwt,
                            GatewayThread {
                                stop: Arc::default(),
                                handled: Arc::default(),
                                first_ns: Arc::default(),
                                join: None,
                            },
                        ));
                        run += 1;
                        let (f, i, gw) = build(run, key);
                        front = f;
                        sent = Arc::clone(i.stats());
                        gwt = GatewayThread::spawn(gw, i, gw_core);
                        pos = 0;
                    }
                    let frame = &frames[pos];
                    pos += 1;
                    gwt.first_ns.store(0, Ordering::Relaxed);
                    let recv = front.ctx.clock.now();
                    front.feed.on_frame(black_box(frame), recv, &front.ctx);
                    front.strategy.poll(&mut front.ctx);
                    settle(&sent, &gwt);
                    let first = gwt.first_ns.load(Ordering::Relaxed);
                    while front.changed.try_recv().is_some() {}
                    // The strategy reads the venue's answers before the next frame.
                    front.strategy.poll(&mut front.ctx);
                    settle(&sent, &gwt);
                    if frame.starts_with(TICKER) && first > 0 {
                        sum += first;
                        n += 1;
                        dist.saturating_record(first);
                    }
                }
                Duration::from_nanos(sum)
            });
            drop(gwt);
        },
    );
    g.finish();
    println!(
        "\nper-frame distribution, feed+strategy thread (core {front_core:?}) | gateway thread (core {gw_core:?}), {}:",
        key.name()
    );
    line("end to end: frame -> first order encoded", &dist);
    println!();
}

fn hist() -> hdrhistogram::Histogram<u64> {
    hdrhistogram::Histogram::new_with_bounds(1, 10_000_000_000, 3).expect("histogram bounds")
}

fn line(name: &str, h: &hdrhistogram::Histogram<u64>) {
    println!(
        "  {name:<52} p50 {:>8} ns  p90 {:>8} ns  p99 {:>8} ns  (n {})",
        h.value_at_quantile(0.5),
        h.value_at_quantile(0.9),
        h.value_at_quantile(0.99),
        h.len()
    );
}

/// Per-frame percentiles over `PER_FRAME` timed frames, beside criterion's per-sample means:
/// on a loaded 2-core machine one preemption inside a sample moves that sample's mean by
/// microseconds, while a frame's own time is untouched unless it was itself preempted.
const PER_FRAME: usize = 100_000;

/// The stage histograms of one session's pipeline.
struct Dist {
    feed: hdrhistogram::Histogram<u64>,
    strategy: hdrhistogram::Histogram<u64>,
    gateway: hdrhistogram::Histogram<u64>,
    first: hdrhistogram::Histogram<u64>,
    all: hdrhistogram::Histogram<u64>,
}

impl Dist {
    fn new() -> Self {
        Self {
            feed: hist(),
            strategy: hist(),
            gateway: hist(),
            first: hist(),
            all: hist(),
        }
    }

    fn record(&mut self, one: &Sums) {
        let ns = |d: Duration| d.as_nanos() as u64;
        self.feed.saturating_record(ns(one.feed));
        self.strategy.saturating_record(ns(one.strategy));
        self.gateway
            .saturating_record(ns(one.first_order - one.feed - one.strategy));
        self.first.saturating_record(ns(one.first_order));
        self.all.saturating_record(ns(one.all_intents));
    }

    fn print(&self, key: Key) {
        println!(
            "\nper-frame distribution, one thread, re-quoting bookTicker frames, {}:",
            key.name()
        );
        line("stage: frame -> parse -> book -> cache publish", &self.feed);
        line(
            "stage: strategy poll (cache read + SpreadMaker)",
            &self.strategy,
        );
        line(
            "stage: gateway: risk + table + encode (to 1st order)",
            &self.gateway,
        );
        line("end to end: frame -> first order encoded", &self.first);
        line(
            "end to end: whole re-quote (all intents encoded)",
            &self.all,
        );
    }
}

/// Both sessions' pipelines, a timed frame of each in turn, so both see the same load.
fn per_frame(frames: &Arc<Vec<Vec<u8>>>) {
    let mut hmac = OneThread::new(Arc::clone(frames), Key::Hmac);
    let mut ed = OneThread::new(Arc::clone(frames), Key::Ed25519);
    let mut base = hist();
    let (mut dh, mut de) = (Dist::new(), Dist::new());
    let mut s = Sums::default();
    for _ in 0..PER_FRAME {
        let t0 = Instant::now();
        let t1 = Instant::now();
        base.saturating_record((t1 - t0).as_nanos() as u64);
        dh.record(&hmac.next_timed(&mut s));
        de.record(&ed.next_timed(&mut s));
    }
    println!("\nper-frame distribution, baseline:");
    line("timestamps only (baseline: two Instant::now)", &base);
    dh.print(Key::Hmac);
    de.print(Key::Ed25519);
    println!();
}

fn benches(c: &mut Criterion) {
    let frames = Arc::new(frames());
    per_frame(&frames);
    one_thread(c, &frames);
    for key in [Key::Hmac, Key::Ed25519] {
        two_threads(c, &frames, key);
    }
}

// Each timed frame costs ~10 frames of untimed walking (only ~1 in 10 bookTickers moves
// the mid), so measurement windows are short: 1 s measured is ~10 s of wall time.
criterion_group! {
    name = pipeline;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(1))
        .sample_size(20);
    targets = benches
}
fn main() {
    if callgrind(&Arc::new(frames())) {
        return;
    }
    pipeline();
    Criterion::default().configure_from_args().final_summary();
}
