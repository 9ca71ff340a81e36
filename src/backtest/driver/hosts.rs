//! The strategies a backtest runs, built from the config as the engine builds them (each in
//! its host, with the ends the driver holds), and the venue's risk as the engine wires it.

use super::*;

/// A strategy as its host runs it, with the ends the driver holds.
pub(super) struct Hosted {
    pub(super) actor: StrategyActor,
}

/// The strategies as their hosts run them, and the senders of their order updates.
pub(super) type Strategies = (Vec<Hosted>, Vec<Option<Tx<OrderUpdate>>>);

#[allow(clippy::too_many_arguments)]
pub(super) fn build_strategies(
    config: &Config,
    cache: &Arc<BookCache>,
    intents: &Tx<OrderIntent>,
    board: &PositionBoard,
    kill: &KillSwitch,
    run_start_ms: u64,
    trade_txs: &mut Vec<Tx<TradeEvent>>,
    build: Builder<'_>,
) -> Result<Strategies, String> {
    let venue_names: Vec<String> = config.venues.iter().map(|v| v.name.clone()).collect();
    let mut hosted = Vec::new();
    let mut updates = Vec::new();
    for s in &config.strategies {
        let instrument = config.instruments[s.instrument.index()].clone();
        let markets: Vec<_> = s
            .all_markets()
            .map(|(_, i)| config.instruments[i.index()].clone())
            .collect();
        let args = BuildArgs {
            params: &s.params,
            instrument: &instrument,
            markets: &markets,
            venues: &venue_names,
        };
        let strategy = build(&args, s)?;
        let subs = strategy.subscriptions();
        let (utx, urx): (Tx<OrderUpdate>, Rx<OrderUpdate>) =
            bounded("order-updates", ORDER_CHANNEL, FullPolicy::Backpressure);
        updates.push(Some(utx));
        let mut sink = IntentSink::new(
            intents.clone(),
            CidMinter::new(run_start_ms, s.id),
            s.id,
            s.instrument,
        );
        for (_, i) in s.markets.iter() {
            sink = sink.with_market_beside(*i, s.instrument);
        }
        let env = Env::new(Some(cache.reader()), markets, Some(board.clone()));
        let mut actor = StrategyActor::new(
            format!("strategy:{}", s.name),
            s.id,
            s.venue,
            s.instrument,
            strategy,
            cache.reader(),
            None,
            urx,
            sink,
            kill.clone(),
        )
        .with_env(env);
        if subs.trades || !subs.candles.is_empty() {
            let (tx, rx) = bounded("strategy-trades", TRADES, FullPolicy::DropNewest);
            trade_txs.push(tx);
            actor = actor.with_trades(rx);
        }
        hosted.push(Hosted { actor });
    }
    Ok((hosted, updates))
}

/// The engine's risk for the venue, as `engine::wiring` builds it.
pub(super) fn venue_risk(
    config: &Config,
    kill: &KillSwitch,
    board: &PositionBoard,
    start: UnixNanos,
) -> RiskEngine {
    let here = config.venues[0].id;
    crate::engine::wiring::venue_risk(config, here, kill.clone(), start)
        .with_board(board.clone(), here)
}
