//! Engine-side request windows (`venue::windows`) through the gateway's REST transport, against
//! a loopback HTTP server that counts what reaches it: BitMart's 40 new orders per 2 s on
//! `submit_order` and Coinstore's 120 requests per 3 s per user. Orders past the window are
//! refused before they are sent (`refusal` says `RateLimited`, `place` answers false, the
//! server never sees them) and counted in `RestStats::window_refused`. The orders go out
//! within a few milliseconds, far inside either window.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use mako::config::Secret;
use mako::gateway::intent::Refusal;
use mako::gateway::rest::{RestOptions, RestOrders};
use mako::types::{ClientOrderId, OrderKind, Price, Qty, Side, TimeInForce, UnixNanos};
use mako::venue::bitmart::rest::BitmartRest;
use mako::venue::coinstore::rest::CoinstoreRest;
use mako::venue::coinstore::sign::CoinstoreSigner;
use mako::venue::order::PlaceOrder;
use mako::venue::rest::RestCodec;

mod common;

/// Serves keep-alive HTTP/1.1 on loopback, answering `{}` and counting requests whose line
/// contains `path`.
fn serve(path: &'static str) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(AtomicUsize::new(0));
    let count = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let count = count.clone();
            std::thread::spawn(move || {
                let mut w = stream.try_clone().unwrap();
                let mut r = BufReader::new(stream);
                loop {
                    let mut line = String::new();
                    if r.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let mut len = 0usize;
                    loop {
                        let mut h = String::new();
                        if r.read_line(&mut h).unwrap_or(0) == 0 {
                            return;
                        }
                        let h = h.trim_end();
                        if h.is_empty() {
                            break;
                        }
                        if let Some((k, v)) = h.split_once(':')
                            && k.eq_ignore_ascii_case("content-length")
                        {
                            len = v.trim().parse().unwrap_or(0);
                        }
                    }
                    let mut body = vec![0; len];
                    if r.read_exact(&mut body).is_err() {
                        return;
                    }
                    if line.contains(path) {
                        count.fetch_add(1, Ordering::SeqCst);
                    }
                    let _ = write!(
                        w,
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{{}}"
                    );
                }
            });
        }
    });
    (url, seen)
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

/// Places orders as fast as the transport takes them until one is refused; returns how many
/// were taken, checking the refusal came from the window.
fn place_until_refused<C: RestCodec>(rest: &mut RestOrders<C>, symbol: &str, most: usize) -> usize {
    for k in 0..most {
        let cid = ClientOrderId::parse(&format!("w-{k}")).unwrap();
        let order = PlaceOrder {
            reduce_only: false,
            symbol,
            cid: &cid,
            side: Side::Buy,
            kind: OrderKind::LimitMaker,
            tif: TimeInForce::Gtc,
            price: Price::parse("100").unwrap(),
            qty: Qty::parse("0.01").unwrap(),
            price_decimals: 2,
            qty_decimals: 5,
        };
        let at = now_ms();
        let now = UnixNanos::from_millis(at);
        if let Some(why) = rest.refusal(now) {
            assert_eq!(why, Refusal::RateLimited, "refused by the window");
            // Sent anyway (a gateway would not), the transport still refuses it.
            assert!(!rest.place(&order, now, at));
            return k;
        }
        assert!(rest.place(&order, now, at), "order {k} queued");
    }
    most
}

#[test]
fn bitmart_new_orders_past_40_per_2s_are_refused_before_sending() {
    let (url, seen) = serve("/spot/v2/submit_order");
    let codec = BitmartRest::new(
        &Secret::new("fake-key"),
        &Secret::new("fake-secret"),
        &Secret::new("fake-memo"),
        5000,
    );
    let opts = RestOptions {
        queue: 256,
        ..RestOptions::default()
    };
    let mut rest = RestOrders::new("bitmart-windows", &url, codec, opts);
    rest.start().unwrap();
    let taken = place_until_refused(&mut rest, "BTC_USDT", 60);
    assert_eq!(taken, 40);
    let stats = rest.stats(UnixNanos::from_millis(now_ms()));
    assert_eq!(stats.window_refused, 1);
    common::wait_for(Duration::from_secs(10), || {
        (seen.load(Ordering::SeqCst) == 40).then_some(())
    })
    .expect("40 orders reached the venue");
    rest.shutdown();
    assert_eq!(seen.load(Ordering::SeqCst), 40, "none past the window");
}

#[test]
fn coinstore_requests_past_120_per_3s_are_refused_before_sending() {
    let (url, seen) = serve("/api/trade/order/place");
    let key = Secret::new("fake-key");
    let codec = CoinstoreRest::new(
        &key,
        CoinstoreSigner::new(&Secret::new("fake-secret")),
        mako::venue::coinstore::session::Ids::default(),
    );
    let opts = RestOptions {
        queue: 256,
        ..RestOptions::default()
    };
    let mut rest = RestOrders::new("coinstore-windows", &url, codec, opts);
    rest.start().unwrap();
    let taken = place_until_refused(&mut rest, "BTCUSDT", 200);
    assert_eq!(taken, 120);
    let stats = rest.stats(UnixNanos::from_millis(now_ms()));
    assert_eq!(stats.window_refused, 1);
    common::wait_for(Duration::from_secs(10), || {
        (seen.load(Ordering::SeqCst) == 120).then_some(())
    })
    .expect("120 orders reached the venue");
    rest.shutdown();
    assert_eq!(seen.load(Ordering::SeqCst), 120, "none past the window");
}
