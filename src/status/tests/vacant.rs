//! Vacant bot slots on `/status` and `/stats`: hidden while empty, listed while the engine's
//! books still give them what a deleted bot left (a position a flatten did not close, orders).

use super::*;

fn vacant_setup() -> StatusSetup {
    let mut s = setup();
    s.strategies[1].name = "slot-binance-ETHUSDT-1".into();
    s.strategies[1].kind = crate::config::bots::VACANT.into();
    s
}

fn left(position: i64, open_orders: u32) -> StatusUpdate {
    StatusUpdate::StrategyRisk(StrategyRiskUpdate {
        strategy: StrategyId(1),
        venue: VenueId(0),
        position: Qty::from_units(position),
        realized_pnl: 0.0,
        day_pnl: 0.0,
        trades_today: 1,
        open_orders,
        perp: None,
        at: UnixNanos(T0),
    })
}

fn listed(s: &StatusState) -> Vec<String> {
    s.status_json(UnixNanos(T0 + 1), &state::Readings::default())["strategies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["id"].as_str().unwrap_or("?").to_owned())
        .collect()
}

#[test]
fn an_empty_vacant_slot_is_hidden_and_one_holding_a_position_is_listed_but_not_counted_as_a_bot() {
    let mut s = StatusState::new(vacant_setup());
    assert_eq!(listed(&s), ["mm-btc"]);
    let bots = &s.stats_json(UnixNanos(T0))["bots"];
    assert_eq!(
        (
            &bots["total"],
            &bots["vacant_slots"],
            &bots["vacant_slots_holding"]
        ),
        (
            &serde_json::json!(1),
            &serde_json::json!(1),
            &serde_json::json!(0)
        )
    );

    // A flatten that left 0.05 behind.
    s.apply(left(5_000_000, 0));
    assert_eq!(listed(&s), ["mm-btc", "slot-binance-ETHUSDT-1"]);
    let v = s.status_json(UnixNanos(T0 + 1), &state::Readings::default());
    assert_eq!(v["strategies"][1]["position"], "0.05");
    let bots = &s.stats_json(UnixNanos(T0))["bots"];
    assert_eq!(
        (
            &bots["total"],
            &bots["vacant_slots"],
            &bots["vacant_slots_holding"]
        ),
        (
            &serde_json::json!(1),
            &serde_json::json!(1),
            &serde_json::json!(1)
        )
    );

    // Open orders alone keep it listed too; once flat with none, it is hidden again.
    s.apply(left(0, 1));
    assert_eq!(listed(&s).len(), 2);
    s.apply(left(0, 0));
    assert_eq!(listed(&s), ["mm-btc"]);
}
