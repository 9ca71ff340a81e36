//! Status bench: what publishing to the status room costs the gateway's thread per order
//! change (an `Order` copied into a `StatusUpdate` and sent on the `DropNewest` status
//! channel, then taken off it as the status actor would), against copying the order alone.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use mako::runtime::{FullPolicy, bounded};
use mako::status::StatusUpdate;
use mako::types::{ClientOrderId, InstrumentId, Price, Qty, Side, StrategyId, UnixNanos};
use mako::types::{Order, OrderKind, TimeInForce};

fn order() -> Order {
    Order::new(
        ClientOrderId::mint(1_722_000_000_000, StrategyId(0), 1).unwrap(),
        StrategyId(0),
        InstrumentId(0),
        Side::Buy,
        OrderKind::LimitMaker,
        TimeInForce::Gtc,
        Price::parse("60000.5").unwrap(),
        Qty::parse("0.002").unwrap(),
        UnixNanos(1_722_000_000_000_000_000),
    )
}

fn tee(c: &mut Criterion) {
    let mut g = c.benchmark_group("status tee");
    let o = order();
    g.bench_function("copy the order only (baseline)", |b| {
        b.iter(|| black_box(StatusUpdate::Order(black_box(&o).clone())))
    });
    let (tx, rx) = bounded("status-updates", 4096, FullPolicy::DropNewest);
    g.bench_function("copy, send and receive", |b| {
        b.iter(|| {
            let _ = tx.send(StatusUpdate::Order(black_box(&o).clone()));
            black_box(rx.try_recv())
        })
    });
    g.finish();
}

criterion_group!(benches, tee);
criterion_main!(benches);
