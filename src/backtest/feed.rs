//! The venue's own feed (codec, book sync, cache) run offline, frame by frame: what a frame
//! replay and the event file's conversion drive.

use crate::config::VenueKind;
use crate::feed::actor::{FeedActor, FeedOptions, FeedSpec};
use crate::runtime::Ctx;
use crate::types::{Instrument, UnixNanos};
use crate::venue::binance::handler::SpotMdHandler;
use crate::venue::bitmart::BitmartMd;
use crate::venue::bybit::{BybitMd, Category};
use crate::venue::coinbase::CoinbaseMd;
use crate::venue::md::MarketData;
use crate::venue::okx::OkxMd;

/// A venue's feed, driven frame by frame.
pub(crate) trait FrameFeed {
    fn on_frame(&mut self, frame: &[u8], recv: UnixNanos, ctx: &Ctx);
}

impl<M: MarketData> FrameFeed for FeedActor<M> {
    #[inline]
    fn on_frame(&mut self, frame: &[u8], recv: UnixNanos, ctx: &Ctx) {
        FeedActor::on_frame(self, frame, recv, ctx)
    }
}

/// The venue's own codec and book sync in an offline feed (no connector or snapshot thread).
pub(crate) fn offline_feed(
    spec: FeedSpec,
    instruments: &[Instrument],
) -> Result<Box<dyn FrameFeed>, String> {
    let limits = FeedOptions::default().sync_limits;
    let venue = spec.venue.clone();
    let name = venue.name.clone();
    let err = |e: crate::feed::actor::FeedError| format!("feed {name}: {e}");
    Ok(match venue.kind {
        VenueKind::BinanceSpot => {
            let md = SpotMdHandler::for_venue(&venue, instruments, limits)
                .map_err(|e| format!("venue {}: {e}", venue.name))?;
            Box::new(FeedActor::offline(spec, md).map_err(err)?)
        }
        VenueKind::OkxSpot => {
            let md = OkxMd::for_venue(&venue, instruments, limits);
            Box::new(FeedActor::offline(spec, md).map_err(err)?)
        }
        VenueKind::Coinbase => {
            let md = CoinbaseMd::for_venue(&venue, instruments, limits);
            Box::new(FeedActor::offline(spec, md).map_err(err)?)
        }
        VenueKind::BitmartSpot => {
            let md = BitmartMd::for_venue(&venue, instruments, limits);
            Box::new(FeedActor::offline(spec, md).map_err(err)?)
        }
        VenueKind::CoinstoreSpot => {
            let md = crate::venue::coinstore::CoinstoreMd::for_venue(&venue, instruments, limits);
            Box::new(FeedActor::offline(spec, md).map_err(err)?)
        }
        VenueKind::BybitSpot | VenueKind::BybitLinear => {
            let category = if venue.kind == VenueKind::BybitSpot {
                Category::Spot
            } else {
                Category::Linear
            };
            let md = BybitMd::for_venue(category, &venue, instruments, limits);
            Box::new(FeedActor::offline(spec, md).map_err(err)?)
        }
        VenueKind::DeltaIndia | VenueKind::DeltaGlobal => {
            let platform = if venue.kind == VenueKind::DeltaGlobal {
                crate::venue::delta::Platform::Global
            } else {
                crate::venue::delta::Platform::India
            };
            let md = crate::venue::delta::DeltaMd::for_venue(platform, &venue, instruments, limits);
            Box::new(FeedActor::offline(spec, md).map_err(err)?)
        }
        VenueKind::CoindcxFutures => {
            let md = crate::venue::coindcx::CoindcxMd::for_venue(&venue, instruments, limits);
            Box::new(FeedActor::offline(spec, md).map_err(err)?)
        }
    })
}
