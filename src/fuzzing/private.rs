//! The private streams and REST answers of the venues added after Binance, OKX and Coinbase:
//! each venue's `OrderSession` (connected, with an order and a cancel in flight) fed the
//! input's lines as private WebSocket frames, and its `RestCodec` (and Bybit's trade-socket
//! codec) answering one request of each kind with the input.

use std::sync::OnceLock;

use super::{drive_rest, drive_session, secret};
use crate::types::UnixNanos;
use crate::venue::order::{OrderSession, SessionEvent};

/// Connects `s` (its login or subscribe request written, not sent), then drives it as
/// `drive_session` does; a line starting with byte 0 goes in as a binary frame (the rest of
/// it), as compressed pushes come.
fn drive_connected(s: &mut impl OrderSession, data: &[u8]) {
    let mut buf = Vec::new();
    s.on_connected(1_700_000_000_000, &mut buf);
    let mut out: Vec<SessionEvent> = Vec::new();
    for line in data
        .split(|b| *b == b'\n')
        .filter(|l| l.first() == Some(&0))
    {
        s.on_binary_frame(&line[1..], UnixNanos(1), &mut out);
    }
    drive_session(s, data);
}

/// Bybit v5: the private session (spot and linear), the REST codec and the `/v5/trade`
/// socket's codec.
pub fn bybit_private(data: &[u8]) {
    use crate::net::ws::Connector;
    use crate::venue::bybit::Category;
    use crate::venue::bybit::trade::BybitTrade;
    use crate::venue::bybit::{rest::BybitRest, session::BybitSession, sign::BybitSigner};
    static CONNECTOR: OnceLock<Option<Connector>> = OnceLock::new();
    let signer = BybitSigner::from_bytes("key", b"secret");
    for category in [Category::Spot, Category::Linear] {
        drive_connected(&mut BybitSession::new(category, signer.clone()), data);
        drive_rest(&mut BybitRest::new(category, signer.clone(), 5_000), data);
    }
    let connector = CONNECTOR
        .get_or_init(|| Connector::with_public_roots(std::time::Duration::from_secs(1)).ok());
    if let Some(c) = connector
        && let Ok(mut t) = BybitTrade::new(
            Category::Linear,
            signer,
            5_000,
            c.clone(),
            "wss://stream.bybit.com/v5/trade",
        )
    {
        drive_rest(&mut t, data);
    }
}

/// BitMart spot: the private session (`spot/user/order`, text or raw-DEFLATE frames) and the
/// REST codec.
pub fn bitmart_private(data: &[u8]) {
    use crate::venue::bitmart::{rest::BitmartRest, session::BitmartSession};
    let (k, s, m) = (secret("k"), secret("s"), secret("memo"));
    drive_connected(
        &mut BitmartSession::new(&k, &s, &m, vec!["BTC_USDT".into()]),
        data,
    );
    drive_rest(&mut BitmartRest::new(&k, &s, &m, 5_000), data);
}

/// Coinstore spot: the private session and the REST codec, sharing their id book.
pub fn coinstore_private(data: &[u8]) {
    use crate::venue::coinstore::{rest::CoinstoreRest, session::CoinstoreSession};
    use crate::venue::coinstore::{session::Ids, sign::CoinstoreSigner};
    let ids = Ids::default();
    drive_connected(
        &mut CoinstoreSession::new(7, &secret("k"), ids.clone()),
        data,
    );
    drive_rest(
        &mut CoinstoreRest::new(&secret("k"), CoinstoreSigner::new(&secret("s")), ids),
        data,
    );
}

/// Delta Exchange, India and global: the private session and the REST codec.
pub fn delta_private(data: &[u8]) {
    use crate::types::AssetCode;
    use crate::venue::delta::sign::DeltaSigner;
    use crate::venue::delta::{Platform, rest::DeltaRest, session::DeltaSession};
    let signer = DeltaSigner::from_bytes("key", b"secret");
    for platform in [Platform::India, Platform::Global] {
        drive_connected(
            &mut DeltaSession::new(platform, signer.clone(), vec!["BTCUSD".into()]),
            data,
        );
    }
    let settle = AssetCode::new(b"USD").map(|a| vec![("BTCUSD".to_owned(), a)]);
    if let Some(settle) = settle {
        drive_rest(&mut DeltaRest::new(signer, settle), data);
    }
}

/// CoinDCX futures: the private channel's session (Socket.IO frames) and the REST codec,
/// sharing their id book.
pub fn coindcx_private(data: &[u8]) {
    use crate::venue::coindcx::sign::CoindcxSigner;
    use crate::venue::coindcx::{ids::SharedIds, rest::CoindcxRest, session::CoindcxSession};
    let ids = SharedIds::default();
    let signer = CoindcxSigner::from_bytes(b"secret");
    drive_connected(
        &mut CoindcxSession::new("key", signer.clone(), ids.clone()),
        data,
    );
    drive_rest(&mut CoindcxRest::new("key", signer, "USDT", ids), data);
}
