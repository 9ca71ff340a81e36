//! Telemetry benches: what a gateway pays to report a fill to the telemetry actor, one
//! `try_send` of a `GatewayEvent` into the bounded drop-newest channel (baseline: the same
//! call with nobody listening), and when the channel is full (the event is dropped and
//! counted).

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use mako::gateway::{EventSender, GatewayEvent};
use mako::persist::FillRecord;
use mako::runtime::{FullPolicy, bounded};
use mako::types::{AssetCode, FillDelta};
use mako::types::{ClientOrderId, InstrumentId, Price, Qty, Side, StrategyId, UnixNanos};

fn fill(at: u64) -> GatewayEvent {
    let qty = Qty::parse("0.001").unwrap();
    GatewayEvent::Fill(FillRecord {
        cid: ClientOrderId::mint(1_723_161_254_206, StrategyId(1), 7).unwrap(),
        strategy: StrategyId(1),
        instrument: InstrumentId(0),
        fill: FillDelta {
            side: Side::Buy,
            qty,
            quote: Price::parse("61837.63").unwrap().notional(qty),
            trade_id: Some(at.into()),
            fee: Qty::from_units(6_184),
            fee_asset: AssetCode::new(b"USDT").unwrap(),
            is_maker: true,
            fees_complete: true,
            paper: false,
        },
        at: UnixNanos(at),
    })
}

fn emit(c: &mut Criterion) {
    let mut g = c.benchmark_group("gateway_event");
    let ev = fill(1);
    let off = EventSender::default();
    g.bench_function("emit, nobody listening (baseline)", |b| {
        b.iter(|| off.emit(black_box(ev.clone())))
    });
    let (tx, rx) = bounded("events", 16_384, FullPolicy::DropNewest);
    let on = EventSender::new(tx);
    g.bench_function("emit and take (one hop, same thread)", |b| {
        b.iter(|| {
            on.emit(black_box(ev.clone()));
            black_box(rx.try_recv())
        })
    });
    let (tx, _rx_full) = bounded("full", 1, FullPolicy::DropNewest);
    let full = EventSender::new(tx);
    full.emit(ev.clone());
    g.bench_function("emit into a full channel (dropped, counted)", |b| {
        b.iter(|| full.emit(black_box(ev.clone())))
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = emit
}
criterion_main!(benches);
