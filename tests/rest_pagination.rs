//! Cursor pagination on the REST seam, end to end against the simulator: the simulator answers
//! lists in pages of 5 (`[sim] list_page_size`), the gateway's REST transport sends the
//! follow-up pages the codec asks for as soon as an answer is read, and the codec hands on
//! one merged open-orders list once the last page came. More open orders than one page are
//! placed; one sweep's `OpenOrders` must hold every one of them, each once, with the
//! simulator's order ids. Coinbase (`has_next`/`cursor`), Bybit spot (`nextPageCursor`),
//! Delta (`meta.after`, on its BTCUSD perpetual in contracts) and CoinDCX futures (numbered
//! `page`s followed until a short one; CoinDCX takes no client id: the orders are claimed by
//! the venue ids the create answers gave). Coinbase's lookup of an order by client id (when
//! its order id is not known) pages through the product's orders the same way until it finds
//! the order, and says "not found" only after the last page. A venue looping on a cursor or
//! sending a page again is capped in the codecs' and `venue::pages`'s unit tests.

mod common;

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use common::gateway_rig::{COINBASE_EC_SECRET, COINBASE_KEY_NAME};
use common::{start_sim, wait_for};
use mako::config::Secret;
use mako::gateway::rest::{OrderRequests, RestOptions, RestOrders};
use mako::types::order::OrderEvent;
use mako::types::{ClientOrderId, OrderKind, Price, Qty, Side, TimeInForce, UnixNanos};
use mako::venue::bybit::Category;
use mako::venue::bybit::rest::BybitRest;
use mako::venue::bybit::sign::BybitSigner;
use mako::venue::coinbase::jwt::JwtSigner;
use mako::venue::coinbase::rest::CoinbaseRest;
use mako::venue::coindcx::ids::SharedIds;
use mako::venue::coindcx::rest::CoindcxRest;
use mako::venue::coindcx::sign::CoindcxSigner;
use mako::venue::delta::rest::DeltaRest;
use mako::venue::delta::sign::DeltaSigner;
use mako::venue::order::{PlaceOrder, SessionEvent};
use mako::venue::rest::RestCodec;

/// Resting orders placed: more than two pages of 5.
const ORDERS: usize = 12;

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

/// Places `ORDERS` post-only bids far below the market on `symbol`, waits until the venue
/// accepted each, then sweeps once and returns the merged open-orders list of `symbol`,
/// and the venue order id of each client id.
fn place_then_sweep<C: RestCodec>(
    rest: &mut RestOrders<C>,
    symbol: &str,
    prefix: &str,
) -> (
    Vec<mako::venue::order::OrderSnapshot>,
    HashMap<ClientOrderId, String>,
) {
    place_then_sweep_with(rest, symbol, prefix, "0.01", 5)
}

/// As [`place_then_sweep`], each order of `qty` written with `qty_decimals`.
fn place_then_sweep_with<C: RestCodec>(
    rest: &mut RestOrders<C>,
    symbol: &str,
    prefix: &str,
    qty: &str,
    qty_decimals: u32,
) -> (
    Vec<mako::venue::order::OrderSnapshot>,
    HashMap<ClientOrderId, String>,
) {
    let mut accepted = HashMap::new();
    let mut out = Vec::new();
    for k in 0..ORDERS {
        let cid = ClientOrderId::parse(&format!("{prefix}-{k}")).unwrap();
        let order = PlaceOrder {
            reduce_only: false,
            symbol,
            cid: &cid,
            side: Side::Buy,
            kind: OrderKind::LimitMaker,
            tif: TimeInForce::Gtc,
            price: Price::parse(&format!("{}", 1000 + k)).unwrap(),
            qty: Qty::parse(qty).unwrap(),
            price_decimals: 2,
            qty_decimals,
        };
        let at = now_ms();
        assert!(rest.place(&order, UnixNanos::from_millis(at), at));
        // One at a time: the simulator's order of arrival is the order of placing.
        wait_for(Duration::from_secs(10), || {
            rest.drain(UnixNanos::from_millis(now_ms()), &mut out);
            for e in out.drain(..) {
                match e {
                    SessionEvent::Order {
                        cid,
                        event:
                            OrderEvent::Accepted { venue_order_id, .. }
                            | OrderEvent::Snapshot { venue_order_id, .. },
                    } => {
                        accepted.insert(cid, venue_order_id.as_str().to_owned());
                    }
                    SessionEvent::PlaceRejected { cid, error } => {
                        panic!("{cid} refused: {error:?}")
                    }
                    _ => {}
                }
            }
            accepted.contains_key(&cid).then_some(())
        })
        .unwrap_or_else(|| panic!("order {k} accepted"));
    }
    let at = now_ms();
    assert!(rest.sweep(&[symbol.to_owned()], UnixNanos::from_millis(at), at));
    let list = wait_for(Duration::from_secs(10), || {
        rest.drain(UnixNanos::from_millis(now_ms()), &mut out);
        out.iter().find_map(|e| match e {
            SessionEvent::OpenOrders { symbol: s, orders } if s == symbol => Some(orders.clone()),
            _ => None,
        })
    })
    .expect("the merged open-orders list");
    assert!(
        !out.iter().any(|e| matches!(e, SessionEvent::Failed { .. })),
        "no list failed: {out:?}"
    );
    (list, accepted)
}

fn assert_all_once(
    list: &[mako::venue::order::OrderSnapshot],
    accepted: &HashMap<ClientOrderId, String>,
) {
    assert_all_once_of(list, accepted, "0.01");
}

fn assert_all_once_of(
    list: &[mako::venue::order::OrderSnapshot],
    accepted: &HashMap<ClientOrderId, String>,
    qty: &str,
) {
    assert_eq!(list.len(), ORDERS, "every page merged: {list:?}");
    let cids: HashSet<_> = list.iter().map(|o| o.cid).collect();
    assert_eq!(cids.len(), ORDERS, "each order once");
    for o in list {
        assert_eq!(
            Some(o.venue_order_id.as_str()),
            accepted.get(&o.cid).map(String::as_str),
            "{}",
            o.cid
        );
        assert_eq!(o.orig_qty, Qty::parse(qty).unwrap());
    }
}

#[test]
fn coinbase_open_orders_over_three_pages_are_merged_into_one_list() {
    let sim = start_sim(&format!(
        "list_page_size = 5\n{}",
        common::gateway_rig::coinbase_sim_account()
    ));
    let host = sim.rest_url().trim_start_matches("http://").to_owned();
    let signer = JwtSigner::from_parts(COINBASE_KEY_NAME, COINBASE_EC_SECRET).unwrap();
    let mut rest = RestOrders::new(
        "coinbase-pages",
        &sim.rest_url(),
        CoinbaseRest::with_signer(signer, &host),
        RestOptions::default(),
    );
    rest.start().unwrap();
    let (list, accepted) = place_then_sweep(&mut rest, "BTC-USDT", "cbp");
    assert_all_once(&list, &accepted);
    rest.shutdown();
}

/// What a status query about `cid` came to, on a codec that never saw the order placed.
fn look_up<C: RestCodec>(
    rest: &mut RestOrders<C>,
    symbol: &str,
    cid: &ClientOrderId,
) -> SessionEvent {
    let mut buf = Vec::new();
    // The request window may still be full of the placements: asked again until it goes.
    wait_for(Duration::from_secs(10), || {
        rest.status(symbol, cid, now_ms(), &mut buf).then_some(())
    })
    .expect("the query is sent");
    let mut out = Vec::new();
    wait_for(Duration::from_secs(10), || {
        rest.drain(UnixNanos::from_millis(now_ms()), &mut out);
        out.iter()
            .find(|e| {
                matches!(e, SessionEvent::Order { cid: c, .. } | SessionEvent::NotFound { cid: c } if c == cid)
                    || matches!(e, SessionEvent::Failed { .. } | SessionEvent::Uncertain { .. })
            })
            .cloned()
    })
    .expect("the lookup's answer")
}

#[test]
fn coinbase_looks_an_order_up_by_client_id_through_every_page() {
    let sim = start_sim(&format!(
        "list_page_size = 5\n{}",
        common::gateway_rig::coinbase_sim_account()
    ));
    let host = sim.rest_url().trim_start_matches("http://").to_owned();
    let signer = || JwtSigner::from_parts(COINBASE_KEY_NAME, COINBASE_EC_SECRET).unwrap();
    let mut placing = RestOrders::new(
        "coinbase-place",
        &sim.rest_url(),
        CoinbaseRest::with_signer(signer(), &host),
        RestOptions::default(),
    );
    placing.start().unwrap();
    let (_, accepted) = place_then_sweep(&mut placing, "BTC-USDT", "cbl");
    placing.shutdown();
    // A second codec knows no order ids: every query is a lookup in the product's list,
    // which the simulator gives newest first, 5 a page: the first order placed is on page 3.
    let mut fresh = RestOrders::new(
        "coinbase-lookup",
        &sim.rest_url(),
        CoinbaseRest::with_signer(signer(), &host),
        RestOptions::default(),
    );
    fresh.start().unwrap();
    let list_requests = |from: usize| {
        sim.rest_log()[from..]
            .iter()
            .filter(|e| e.path.ends_with("/orders/historical/batch"))
            .count()
    };
    // The oldest order takes three pages, the newest one.
    for (k, pages) in [(0, 3), (ORDERS - 1, 1)] {
        let cid = ClientOrderId::parse(&format!("cbl-{k}")).unwrap();
        let before = sim.rest_log().len();
        match look_up(&mut fresh, "BTC-USDT", &cid) {
            SessionEvent::Order {
                event: OrderEvent::Snapshot { venue_order_id, .. },
                ..
            } => assert_eq!(
                Some(venue_order_id.as_str()),
                accepted.get(&cid).map(String::as_str),
                "{cid}"
            ),
            other => panic!("{cid}: {other:?}"),
        }
        assert_eq!(list_requests(before), pages, "{cid}: pages asked");
    }
    // Never placed: "not found" after the last of the three pages.
    let before = sim.rest_log().len();
    let ghost = ClientOrderId::parse("cbl-ghost").unwrap();
    assert_eq!(
        look_up(&mut fresh, "BTC-USDT", &ghost),
        SessionEvent::NotFound { cid: ghost }
    );
    assert_eq!(list_requests(before), 3, "12 orders in pages of 5");
    fresh.shutdown();
}

#[test]
fn bybit_open_orders_over_three_pages_are_merged_into_one_list() {
    let sim = start_sim("list_page_size = 5\n");
    let secret = Secret::new(mako::sim::DOC_SECRET);
    let signer = BybitSigner::new(mako::sim::DOC_API_KEY, &secret);
    let mut rest = RestOrders::new(
        "bybit-pages",
        &sim.rest_url(),
        BybitRest::new(Category::Spot, signer, 5000),
        RestOptions::default(),
    );
    rest.start().unwrap();
    let (list, accepted) = place_then_sweep(&mut rest, "BTCUSDT", "byp");
    assert_all_once(&list, &accepted);
    rest.shutdown();
}

/// The simulator's BTCUSD perpetual in contracts of 0.001 BTC (Delta's).
const DELTA_SIM: &str = "[[symbols]]\nsymbol = \"BTCUSD\"\nbase = \"BTC\"\nquote = \"USD\"\ntick_size = \"0.5\"\nstep_size = \"1\"\nmin_qty = \"1\"\nmax_qty = \"1000000\"\nmin_notional = \"0\"\nstart_price = \"60000.0\"\nlevels = 200\nkind = \"linear-perpetual\"\nleverage = \"10\"\ncontract_value = \"0.001\"\n\n[[accounts]]\nbalances = { BTC = \"10\", USDT = \"1000000\", USD = \"5000000\" }\n";

#[test]
fn delta_open_orders_over_three_pages_are_merged_into_one_list() {
    let sim = start_sim(&format!("list_page_size = 5\n{DELTA_SIM}"));
    let secret = Secret::new(mako::sim::DOC_SECRET);
    let usd = mako::types::order::AssetCode::new(b"USD").unwrap();
    let mut rest = RestOrders::new(
        "delta-pages",
        &sim.rest_url(),
        DeltaRest::new(
            DeltaSigner::new(mako::sim::DOC_API_KEY, &secret),
            vec![("BTCUSD".into(), usd)],
        ),
        RestOptions::default(),
    );
    rest.start().unwrap();
    let (list, accepted) = place_then_sweep_with(&mut rest, "BTCUSD", "dtp", "1", 0);
    assert_all_once_of(&list, &accepted, "1");
    rest.shutdown();
}

#[test]
fn coindcx_open_orders_over_three_pages_are_merged_into_one_list() {
    let sim = start_sim(
        "list_page_size = 5\n[[symbols]]\nsymbol = \"BTCUSDT\"\nkind = \"linear-perpetual\"\nleverage = \"10\"\n",
    );
    let secret = Secret::new(mako::sim::DOC_SECRET);
    let mut rest = RestOrders::new(
        "coindcx-pages",
        &sim.rest_url(),
        CoindcxRest::new(
            mako::sim::DOC_API_KEY,
            CoindcxSigner::new(&secret),
            "USDT",
            SharedIds::default(),
        )
        .with_page_size(5),
        RestOptions::default(),
    );
    rest.start().unwrap();
    let (list, accepted) = place_then_sweep(&mut rest, "B-BTC_USDT", "dcp");
    assert_all_once(&list, &accepted);
    rest.shutdown();
}
