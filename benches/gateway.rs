//! Gateway benches: signing a new-order request with the pre-keyed signer (against keying
//! HMAC for every request), encoding it for REST and the WebSocket API, and the whole
//! intent → risk check → signed bytes path (against the same path without risk), over the
//! WebSocket API and over REST.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use hmac::{Hmac, KeyInit, Mac};
use mako::config::{RiskLimits, Secret};
use mako::risk::{KillSwitch, OrderCheck, RiskEngine};
use mako::types::{ClientOrderId, InstrumentId, Price, Qty, Side, StrategyId, UnixNanos};
use mako::types::{OrderKind, TimeInForce};
use mako::venue::binance::orders::{Auth, NewOrder, rest_new_order};
use mako::venue::binance::rest::BinanceRest;
use mako::venue::binance::session::Session;
use mako::venue::binance::sign::HmacSigner;

const SECRET: &str = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";
const KEY: &str = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A";
const PAYLOAD: &[u8] = b"symbol=BTCUSDT&side=BUY&type=LIMIT_MAKER&quantity=0.00100&price=61837.63\
&newClientOrderId=mklz3x0a1c01000000000001&newOrderRespType=ACK&recvWindow=5000&timestamp=1723161254206";

fn signing(c: &mut Criterion) {
    let mut g = c.benchmark_group("sign");
    let signer = HmacSigner::from_bytes(SECRET.as_bytes());
    g.bench_function("hmac keyed per request (baseline)", |b| {
        b.iter(|| {
            let mut m = <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(SECRET.as_bytes()).unwrap();
            m.update(black_box(PAYLOAD));
            black_box(m.finalize().into_bytes())
        })
    });
    g.bench_function("pre-keyed sign_hex", |b| {
        b.iter(|| black_box(signer.sign_hex(black_box(PAYLOAD))))
    });
    g.finish();
}

fn order() -> (ClientOrderId, Price, Qty) {
    (
        ClientOrderId::mint(1_723_161_254_206, StrategyId(1), 1).unwrap(),
        Price::parse("61837.63").unwrap(),
        Qty::parse("0.001").unwrap(),
    )
}

fn encoding(c: &mut Criterion) {
    let mut g = c.benchmark_group("encode_and_sign");
    let signer = HmacSigner::from_bytes(SECRET.as_bytes());
    let (cid, price, qty) = order();
    let mut buf = Vec::with_capacity(512);
    g.bench_function("rest new order", |b| {
        b.iter(|| {
            let o = NewOrder {
                symbol: "BTCUSDT",
                side: Side::Buy,
                kind: OrderKind::LimitMaker,
                tif: TimeInForce::Gtc,
                price: black_box(price),
                qty,
                cid: &cid,
                price_decimals: 2,
                qty_decimals: 5,
            };
            let auth = Auth {
                api_key: KEY,
                signer: &signer,
                recv_window_ms: 5000,
                timestamp_ms: 1_723_161_254_206,
            };
            black_box(rest_new_order(&o, &auth, &mut buf).len())
        })
    });
    let mut session = Session::new(&Secret::new(KEY), &Secret::new(SECRET), 5000);
    g.bench_function("ws api order.place", |b| {
        b.iter(|| {
            session.place(
                "BTCUSDT",
                &cid,
                Side::Buy,
                OrderKind::LimitMaker,
                TimeInForce::Gtc,
                black_box(price),
                qty,
                2,
                5,
                1_723_161_254_206,
                &mut buf,
            );
            black_box(buf.len())
        })
    });
    g.finish();
}

fn intent_to_bytes(c: &mut Criterion) {
    let mut g = c.benchmark_group("intent_to_bytes");
    let (cid, price, qty) = order();
    let limits = RiskLimits {
        max_order_qty: Some(Qty::parse("0.01").unwrap()),
        max_order_notional: Some(Price::parse("1000").unwrap()),
        max_position: Some(Qty::parse("0.05").unwrap()),
        max_open_orders: Some(1_000_000),
        price_collar_bps: Some(100),
        max_daily_loss: Some(Price::parse("50").unwrap()),
        max_trades_per_day: Some(1_000_000),
        max_orders_per_sec: Some(u32::MAX / 2),
        ..RiskLimits::default()
    };
    let mut risk = RiskEngine::new(
        limits.clone(),
        &[(limits, InstrumentId(0))],
        1,
        KillSwitch::default(),
        UnixNanos(0),
    );
    let mut session = Session::new(&Secret::new(KEY), &Secret::new(SECRET), 5000);
    let mut buf = Vec::with_capacity(512);
    let check = OrderCheck {
        strategy: StrategyId(0),
        instrument: InstrumentId(0),
        side: Side::Buy,
        price,
        qty,
        mid: Some(Price::parse("61840.00").unwrap()),
        reduce_only: false,
    };
    let mut now = 1_723_161_254_206_000_000u64;
    g.bench_function("encode and sign only (baseline)", |b| {
        b.iter(|| {
            session.place(
                "BTCUSDT",
                &cid,
                Side::Buy,
                OrderKind::LimitMaker,
                TimeInForce::Gtc,
                black_box(price),
                qty,
                2,
                5,
                now / 1_000_000,
                &mut buf,
            );
            black_box(buf.len())
        })
    });
    g.bench_function("risk check + encode and sign", |b| {
        b.iter(|| {
            now += 1_000;
            let ok = risk.check(black_box(&check), UnixNanos(now)).is_ok();
            session.place(
                "BTCUSDT",
                &cid,
                Side::Buy,
                OrderKind::LimitMaker,
                TimeInForce::Gtc,
                black_box(price),
                qty,
                2,
                5,
                now / 1_000_000,
                &mut buf,
            );
            black_box((ok, buf.len()))
        })
    });
    let mut rest = BinanceRest::new(
        &mako::config::Secret::new("key"),
        HmacSigner::from_bytes(SECRET.as_bytes()),
        5000,
        6000,
    );
    g.bench_function("risk check + encode and sign (rest)", |b| {
        b.iter(|| {
            now += 1_000;
            let ok = risk.check(black_box(&check), UnixNanos(now)).is_ok();
            let head = rest.place(
                "BTCUSDT",
                &cid,
                Side::Buy,
                OrderKind::LimitMaker,
                TimeInForce::Gtc,
                black_box(price),
                qty,
                2,
                5,
                now / 1_000_000,
                &mut buf,
            );
            black_box((ok, head.id, buf.len()))
        })
    });
    g.bench_function("risk check only", |b| {
        b.iter(|| {
            now += 1_000;
            black_box(risk.check(black_box(&check), UnixNanos(now)))
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    targets = signing, encoding, intent_to_bytes
}
criterion_main!(benches);
