//! Whole-file tests of `parse`: one valid base config, and a table of edits to it, each with
//! the exact set of key paths it must be reported at.

use std::path::Path;
use std::time::Duration;

use super::*;
use crate::runtime::IdlePolicy;
use crate::types::{InstrumentId, Price, Qty, StrategyId, VenueId};

const BASE: &str = r#"
[engine]
name = "t"
mode = "paper"
data_dir = "data/t"

[[venues]]
name = "binance"
kind = "binance-spot"
ws_url = "wss://stream.binance.com:9443"
rest_url = "https://api.binance.com"
ws_api_url = "wss://ws-api.binance.com:443/ws-api/v3"
api_key_env = "T_KEY"
api_secret_env = "T_SECRET"

[[instruments]]
venue = "binance"
symbol = "BTCUSDT"
base = "BTC"
quote = "USDT"
tick_size = "0.01"
lot_size = "0.00001"
min_notional = "5"

[[instruments]]
venue = "binance"
symbol = "ETHUSDT"
base = "ETH"
quote = "USDT"
tick_size = "0.01"
lot_size = "0.0001"

[[strategies]]
id = "mm-btc"
kind = "spread"
venue = "binance"
instrument = "BTCUSDT"
[strategies.params]
spread_bps = 20
order_size = "0.001"
"#;

/// Applies edits to `BASE`: `(path, Some(toml value))` sets, `(path, None)` removes.
/// Paths are key paths as errors print them (`venues[0].recv_window`); missing tables are
/// created.
fn edited(edits: &[(&str, Option<&str>)]) -> String {
    let mut doc: toml::Table = toml::from_str(BASE).unwrap();
    for (path, value) in edits {
        let segments: Vec<&str> = path.split('.').collect();
        let (last, parents) = segments.split_last().unwrap();
        let mut table = &mut doc;
        for seg in parents {
            table = match seg.split_once('[') {
                Some((key, index)) => {
                    let i: usize = index.trim_end_matches(']').parse().unwrap();
                    let array = table
                        .entry(key)
                        .or_insert_with(|| toml::Value::Array(Vec::new()))
                        .as_array_mut()
                        .unwrap();
                    while array.len() <= i {
                        array.push(toml::Value::Table(toml::Table::new()));
                    }
                    array[i].as_table_mut().unwrap()
                }
                None => table
                    .entry(*seg)
                    .or_insert_with(|| toml::Value::Table(toml::Table::new()))
                    .as_table_mut()
                    .unwrap(),
            };
        }
        match value {
            Some(v) => {
                let wrapped: toml::Table = toml::from_str(&format!("v = {v}")).unwrap();
                table.insert((*last).to_owned(), wrapped["v"].clone());
            }
            None => {
                table.remove(*last);
            }
        }
    }
    toml::to_string(&doc).unwrap()
}

fn error_paths(text: &str) -> Vec<String> {
    match parse(text, Path::new("t.toml")) {
        Ok(_) => Vec::new(),
        Err(errors) => errors.iter().map(|e| e.path.clone()).collect(),
    }
}

type Case = (
    &'static str,
    &'static [(&'static str, Option<&'static str>)],
    &'static [&'static str],
);

const LOOPBACK: &[(&str, Option<&str>)] = &[
    ("venues[0].ws_url", Some("\"ws://127.0.0.1:9443\"")),
    ("venues[0].rest_url", Some("\"http://127.0.0.1:9080\"")),
    (
        "venues[0].ws_api_url",
        Some("\"ws://127.0.0.1:9080/ws-api/v3\""),
    ),
];

#[rustfmt::skip]
const CASES: &[Case] = &[
    ("the base is valid", &[], &[]),
    // [engine]
    ("engine is required", &[("engine", None)], &["engine"]),
    ("engine.name is a name", &[("engine.name", Some("\"two words\""))], &["engine.name"]),
    ("engine.data_dir is not empty", &[("engine.data_dir", Some("\"\""))], &["engine.data_dir"]),
    ("engine.mode is known", &[("engine.mode", Some("\"backtest\""))], &["engine.mode"]),
    ("engine.log_format json", &[("engine.log_format", Some("\"json\""))], &[]),
    ("engine.log_filter parses", &[("engine.log_filter", Some("\"mako=verbose\""))], &["engine.log_filter"]),
    ("engine.log_filter directives", &[("engine.log_filter", Some("\"warn,mako::feed=debug\""))], &[]),
    ("unknown section", &[("extras.x", Some("1"))], &["extras"]),
    // [[venues]]
    ("a binance venue refuses OKX keys", &[("venues[0].passphrase_env", Some("\"P\"")), ("venues[0].private_ws_url", Some("\"wss://ws.okx.com:8443/ws/v5/private\""))], &["venues[0].passphrase_env", "venues[0].private_ws_url"]),
    ("an okx venue refuses Binance keys", &[("venues[0].kind", Some("\"okx-spot\"")), ("venues[0].passphrase_env", Some("\"P\""))], &["venues[0].ws_api_url"]),
    ("an okx key needs its passphrase", &[("venues[0].kind", Some("\"okx-spot\"")), ("venues[0].ws_api_url", None)], &["venues[0].passphrase_env"]),
    ("an okx venue with key, passphrase and no Binance keys", &[("venues[0].kind", Some("\"okx-spot\"")), ("venues[0].ws_api_url", None), ("venues[0].passphrase_env", Some("\"P\""))], &[]),
    ("a bitmart-spot venue in paper mode", &[("venues[0].kind", Some("\"bitmart-spot\"")), ("venues[0].ws_api_url", None), ("venues[0].memo_env", Some("\"M\""))], &[]),
    ("a bitmart-spot venue refuses a passphrase and ws_api_url", &[("engine.mode", Some("\"live\"")), ("venues[0].kind", Some("\"bitmart-spot\"")), ("venues[0].passphrase_env", Some("\"P\"")), ("venues[0].memo_env", Some("\"M\"")), ("venues[0].private_ws_url", Some("\"wss://ws-manager-compress.bitmart.com/user?protocol=1.1\""))], &["venues[0].passphrase_env", "venues[0].ws_api_url"]),
    ("a bitmart key needs its memo", &[("venues[0].kind", Some("\"bitmart-spot\"")), ("venues[0].ws_api_url", None)], &["venues[0].memo_env"]),
    ("a bitmart memo from a file", &[("venues[0].kind", Some("\"bitmart-spot\"")), ("venues[0].ws_api_url", None), ("venues[0].memo_file", Some("\"/etc/mako/memo\""))], &[]),
    ("a bitmart memo from both env and file", &[("venues[0].kind", Some("\"bitmart-spot\"")), ("venues[0].ws_api_url", None), ("venues[0].memo_env", Some("\"M\"")), ("venues[0].memo_file", Some("\"/etc/mako/memo\""))], &["venues[0].memo_env"]),
    ("a live bitmart-spot venue with its memo and private WebSocket", &[("engine.mode", Some("\"live\"")), ("venues[0].kind", Some("\"bitmart-spot\"")), ("venues[0].ws_api_url", None), ("venues[0].memo_env", Some("\"M\"")), ("venues[0].private_ws_url", Some("\"wss://ws-manager-compress.bitmart.com/user?protocol=1.1\""))], &[]),
    ("a live bitmart-spot venue needs private_ws_url", &[("engine.mode", Some("\"live\"")), ("venues[0].kind", Some("\"bitmart-spot\"")), ("venues[0].ws_api_url", None), ("venues[0].memo_env", Some("\"M\""))], &["venues[0].private_ws_url"]),
    ("a memo is refused on other venues", &[("venues[0].memo_env", Some("\"M\""))], &["venues[0].memo_env"]),
    ("a memo file is refused on an okx venue", &[("venues[0].kind", Some("\"okx-spot\"")), ("venues[0].ws_api_url", None), ("venues[0].passphrase_env", Some("\"P\"")), ("venues[0].memo_file", Some("\"/m\""))], &["venues[0].memo_file"]),
    ("a bybit-spot venue in paper mode", &[("venues[0].kind", Some("\"bybit-spot\"")), ("venues[0].ws_api_url", None)], &[]),
    ("a bybit-linear venue in paper mode", &[("venues[0].kind", Some("\"bybit-linear\"")), ("venues[0].ws_api_url", None)], &[]),
    ("a live bybit-spot venue with its private WebSocket", &[("engine.mode", Some("\"live\"")), ("venues[0].kind", Some("\"bybit-spot\"")), ("venues[0].ws_api_url", None), ("venues[0].private_ws_url", Some("\"wss://stream.bybit.com/v5/private\""))], &[]),
    ("a live bybit-spot venue needs private_ws_url", &[("engine.mode", Some("\"live\"")), ("venues[0].kind", Some("\"bybit-spot\"")), ("venues[0].ws_api_url", None)], &["venues[0].private_ws_url"]),
    ("a live delta-india venue with its private WebSocket", &[("engine.mode", Some("\"live\"")), ("venues[0].kind", Some("\"delta-india\"")), ("venues[0].ws_api_url", None), ("venues[0].private_ws_url", Some("\"wss://socket.india.delta.exchange\""))], &[]),
    ("a live delta-global venue needs private_ws_url", &[("engine.mode", Some("\"live\"")), ("venues[0].kind", Some("\"delta-global\"")), ("venues[0].ws_api_url", None)], &["venues[0].private_ws_url"]),
    ("a live bybit-linear venue needs private_ws_url and refuses a passphrase", &[("engine.mode", Some("\"live\"")), ("venues[0].kind", Some("\"bybit-linear\"")), ("venues[0].passphrase_env", Some("\"P\""))], &["venues[0].passphrase_env", "venues[0].private_ws_url"]),
    ("a coinstore-spot venue in paper mode", &[("venues[0].kind", Some("\"coinstore-spot\"")), ("venues[0].ws_api_url", None)], &[]),
    ("a live coinstore-spot venue (fills polled) refuses a passphrase and ws_api_url", &[("engine.mode", Some("\"live\"")), ("venues[0].kind", Some("\"coinstore-spot\"")), ("venues[0].passphrase_env", Some("\"P\""))], &["venues[0].passphrase_env", "venues[0].ws_api_url"]),
    ("a live coinstore-spot venue polls its fills", &[("engine.mode", Some("\"live\"")), ("venues[0].kind", Some("\"coinstore-spot\"")), ("venues[0].ws_api_url", None), ("venues[0].fills_poll", Some("\"250ms\""))], &[]),
    ("a live coinstore-spot venue refuses the 2022 private WebSocket", &[("engine.mode", Some("\"live\"")), ("venues[0].kind", Some("\"coinstore-spot\"")), ("venues[0].ws_api_url", None), ("venues[0].private_ws_url", Some("\"wss://ws.coinstore.com/s/ws\""))], &["venues[0].kind"]),
    ("fills_poll applies to coinstore-spot without private_ws_url only", &[("venues[0].fills_poll", Some("\"1s\""))], &["venues[0].fills_poll"]),
    ("fills_poll is not polled beside a private WebSocket", &[("venues[0].kind", Some("\"coinstore-spot\"")), ("venues[0].ws_api_url", None), ("venues[0].private_ws_url", Some("\"wss://ws.coinstore.com/s/ws\"")), ("venues[0].fills_poll", Some("\"1s\""))], &["venues[0].fills_poll"]),
    ("fills_poll is 200ms at least", &[("venues[0].kind", Some("\"coinstore-spot\"")), ("venues[0].ws_api_url", None), ("venues[0].fills_poll", Some("\"50ms\""))], &["venues[0].fills_poll"]),
    ("fills_poll is 60s at most", &[("venues[0].kind", Some("\"coinstore-spot\"")), ("venues[0].ws_api_url", None), ("venues[0].fills_poll", Some("\"2m\""))], &["venues[0].fills_poll"]),
    ("user_id applies to coinstore-spot only", &[("venues[0].user_id", Some("4930"))], &["venues[0].user_id"]),
    ("unknown venue kind", &[("venues[0].kind", Some("\"okx\""))], &["venues[0].kind"]),
    ("a coinbase venue in paper mode", &[("venues[0].kind", Some("\"coinbase\"")), ("venues[0].ws_api_url", None)], &[]),
    ("a coinbase venue refuses ws-api order entry and OKX/Binance keys", &[("engine.mode", Some("\"live\"")), ("venues[0].kind", Some("\"coinbase\"")), ("venues[0].order_transport", Some("\"ws-api\"")), ("venues[0].passphrase_env", Some("\"P\"")), ("venues[0].private_ws_url", Some("\"wss://advanced-trade-ws-user.coinbase.com\""))], &["venues[0].passphrase_env", "venues[0].ws_api_url", "venues[0].order_transport"]),
    ("a live coinbase venue with its keys and user channel", &[("engine.mode", Some("\"live\"")), ("venues[0].kind", Some("\"coinbase\"")), ("venues[0].ws_api_url", None), ("venues[0].private_ws_url", Some("\"wss://advanced-trade-ws-user.coinbase.com\""))], &[]),
    ("a live coinbase venue needs its keys", &[("engine.mode", Some("\"live\"")), ("venues[0].kind", Some("\"coinbase\"")), ("venues[0].ws_api_url", None), ("venues[0].private_ws_url", Some("\"wss://advanced-trade-ws-user.coinbase.com\"")), ("venues[0].api_key_env", None), ("venues[0].api_secret_env", None)], &["venues[0]"]),
    ("a live coinbase venue needs private_ws_url", &[("engine.mode", Some("\"live\"")), ("venues[0].kind", Some("\"coinbase\"")), ("venues[0].ws_api_url", None)], &["venues[0].private_ws_url"]),
    ("venue kind is known", &[("venues[0].kind", Some("\"kraken\""))], &["venues[0].kind"]),
    ("ws_url is ws(s)", &[("venues[0].ws_url", Some("\"https://stream.binance.com\""))], &["venues[0].ws_url"]),
    ("rest_url is http(s)", &[("venues[0].rest_url", Some("\"wss://api.binance.com\""))], &["venues[0].rest_url"]),
    ("ws_api_url is ws(s)", &[("venues[0].ws_api_url", Some("\"api.binance.com\""))], &["venues[0].ws_api_url"]),
    ("ws-api needs ws_api_url", &[("venues[0].order_transport", Some("\"ws-api\"")), ("venues[0].ws_api_url", None)],
        &["venues[0].order_transport"]),
    ("rest trading needs ws_api_url for fills", &[("engine.mode", Some("\"live\"")), ("venues[0].ws_api_url", None)],
        &["venues[0].ws_api_url"]),
    ("rest in paper needs no ws_api_url", &[("venues[0].ws_api_url", None)], &[]),
    ("ws-api with ws_api_url", &[
        ("venues[0].order_transport", Some("\"ws-api\"")),
        ("venues[0].ws_api_url", Some("\"wss://ws-api.binance.com:443/ws-api/v3\"")),
    ], &[]),
    ("recv_window at the maximum", &[("venues[0].recv_window", Some("\"60s\""))], &[]),
    ("recv_window above the maximum", &[("venues[0].recv_window", Some("\"60001ms\""))], &["venues[0].recv_window"]),
    ("recv_window zero", &[("venues[0].recv_window", Some("\"0s\""))], &["venues[0].recv_window"]),
    ("recv_window without unit", &[("venues[0].recv_window", Some("\"5000\""))], &["venues[0].recv_window"]),
    ("cancel_unknown_orders on", &[("venues[0].cancel_unknown_orders", Some("true"))], &[]),
    ("cancel_unknown_orders not a bool", &[("venues[0].cancel_unknown_orders", Some("\"yes\""))], &["venues[0].cancel_unknown_orders"]),
    ("streams not empty", &[("venues[0].streams", Some("[]"))], &["venues[0].streams"]),
    ("streams known", &[("venues[0].streams", Some("[\"kline\"]"))], &["venues[0].streams[0]"]),
    ("venue names unique", &[
        ("venues[1].name", Some("\"binance\"")), ("venues[1].kind", Some("\"binance-spot\"")),
        ("venues[1].ws_url", Some("\"wss://a.b\"")), ("venues[1].rest_url", Some("\"https://a.b\"")),
    ], &["venues[1].name"]),
    ("a venue needs instruments", &[
        ("venues[1].name", Some("\"okx\"")), ("venues[1].kind", Some("\"binance-spot\"")),
        ("venues[1].ws_url", Some("\"wss://a.b\"")), ("venues[1].rest_url", Some("\"https://a.b\"")),
    ], &["venues[1]"]),
    // Credentials
    ("key without secret", &[("venues[0].api_secret_env", None)], &["venues[0].api_secret_env"]),
    ("secret without key", &[("venues[0].api_key_env", None), ("venues[0].api_secret_env", None),
        ("venues[0].api_secret_file", Some("\"/etc/s\""))], &["venues[0].api_key_env"]),
    ("key from env and file", &[("venues[0].api_key_file", Some("\"/etc/k\""))], &["venues[0].api_key_env"]),
    ("key from a file", &[("venues[0].api_key_env", None), ("venues[0].api_key_file", Some("\"/etc/k\""))], &[]),
    ("bad env var name", &[("venues[0].api_key_env", Some("\"BINANCE-KEY\""))], &["venues[0].api_key_env"]),
    ("inline api_secret", &[("venues[0].api_secret_env", None), ("venues[0].api_secret", Some("\"s3cr3t\""))],
        &["venues[0].api_secret"]),
    ("inline api_key", &[("venues[0].api_key", Some("\"k3y\""))], &["venues[0].api_key"]),
    ("inline status token", &[("status.token", Some("\"t0k3n\""))], &["status.token"]),
    ("inline bot token", &[("notifications.telegram.bot_token", Some("\"1:x\"")),
        ("notifications.telegram.chat_id", Some("1"))], &["notifications.telegram.bot_token"]),
    ("paper needs no credentials", &[("venues[0].api_key_env", None), ("venues[0].api_secret_env", None)], &[]),
    ("live needs credentials", &[("engine.mode", Some("\"live\"")), ("venues[0].api_key_env", None),
        ("venues[0].api_secret_env", None)], &["venues[0]"]),
    ("sim needs credentials", &[("engine.mode", Some("\"sim\"")), LOOPBACK[0], LOOPBACK[1], LOOPBACK[2],
        ("venues[0].api_key_env", None), ("venues[0].api_secret_env", None)], &["venues[0]"]),
    ("live with credentials", &[("engine.mode", Some("\"live\""))], &[]),
    ("live needs TLS", &[("engine.mode", Some("\"live\"")), LOOPBACK[0]], &["venues[0].ws_url"]),
    ("sim stays on this machine", &[("engine.mode", Some("\"sim\""))],
        &["venues[0].ws_url", "venues[0].rest_url", "venues[0].ws_api_url"]),
    ("sim on loopback", &[("engine.mode", Some("\"sim\"")), LOOPBACK[0], LOOPBACK[1], LOOPBACK[2]], &[]),
    ("sim section in sim mode", &[("engine.mode", Some("\"sim\"")), LOOPBACK[0], LOOPBACK[1], LOOPBACK[2],
        ("sim.seed", Some("7"))], &[]),
    ("an in-process simulator lends its own test account", &[("engine.mode", Some("\"sim\"")), LOOPBACK[0], LOOPBACK[1], LOOPBACK[2],
        ("sim.seed", Some("7")), ("venues[0].api_key_env", None), ("venues[0].api_secret_env", None)], &[]),
    ("bad sim keys are reported by path", &[("engine.mode", Some("\"sim\"")), LOOPBACK[0], LOOPBACK[1], LOOPBACK[2],
        ("sim.walk_interval_ms", Some("0"))], &["sim.walk_interval_ms"]),
    ("sim section in live mode", &[("engine.mode", Some("\"live\"")), ("sim.seed", Some("7"))], &["sim"]),
    // [[instruments]]
    ("instrument venue resolves", &[("instruments[1].venue", Some("\"okx\""))], &["instruments[1].venue"]),
    ("instrument unique per venue", &[("instruments[1].symbol", Some("\"BTCUSDT\""))], &["instruments[1].symbol"]),
    ("tick size positive", &[("instruments[0].tick_size", Some("\"0\""))], &["instruments[0].tick_size"]),
    ("lot size exact", &[("instruments[0].lot_size", Some("\"0.000000001\""))], &["instruments[0].lot_size"]),
    ("decimal not a float", &[("instruments[0].lot_size", Some("0.001"))], &["instruments[0].lot_size"]),
    ("decimal digits only", &[("instruments[0].tick_size", Some("\"1e-2\""))], &["instruments[0].tick_size"]),
    ("min_qty on the lot grid", &[("instruments[0].min_qty", Some("\"0.000015\""))], &["instruments[0].min_qty"]),
    ("max_qty above min_qty", &[("instruments[0].min_qty", Some("\"1\"")), ("instruments[0].max_qty", Some("\"0.5\""))],
        &["instruments[0].max_qty"]),
    ("min_notional positive", &[("instruments[0].min_notional", Some("\"0\""))], &["instruments[0].min_notional"]),
    ("symbol not empty", &[("instruments[1].symbol", Some("\"\""))], &["instruments[1].symbol"]),
    // [[strategies]]
    ("strategy venue resolves", &[("strategies[0].venue", Some("\"okx\""))], &["strategies[0].venue"]),
    ("strategy instrument resolves", &[("strategies[0].instrument", Some("\"SOLUSDT\""))], &["strategies[0].instrument"]),
    ("strategy ids unique", &[("strategies[1].id", Some("\"mm-btc\"")), ("strategies[1].kind", Some("\"spread\"")),
        ("strategies[1].venue", Some("\"binance\"")), ("strategies[1].instrument", Some("\"ETHUSDT\"")),
        ("strategies[1].params.order_size", Some("\"0.01\""))],
        &["strategies[1].id"]),
    ("strategy kind not empty", &[("strategies[0].kind", Some("\"\""))], &["strategies[0].kind"]),
    ("strategy risk checked", &[("strategies[0].risk.max_position", Some("\"-1\""))], &["strategies[0].risk.max_position"]),
    ("params are checked by the strategy kind", &[("strategies[0].params.anything", Some("{ nested = [1, 2] }"))], &["strategies[0].params.anything"]),
    ("params values are checked", &[("strategies[0].params.spread_bps", Some("-5"))], &["strategies[0].params.spread_bps"]),
    ("unknown strategy kinds are refused", &[("strategies[0].kind", Some("\"martingale\""))], &["strategies[0].kind"]),
    ("further markets name a venue", &[("strategies[0].markets", Some("[{ venue = \"kraken\", instrument = \"BTCUSDT\" }]"))],
        &["strategies[0].markets[0].venue"]),
    ("each market declared once", &[("strategies[0].markets", Some("[{ venue = \"binance\", instrument = \"ETHUSDT\" }, { venue = \"binance\", instrument = \"BTCUSDT\" }]"))],
        &["strategies[0].markets[1].instrument"]),
    ("market keys known", &[("strategies[0].markets", Some("[{ venue = \"binance\", symbol = \"ETHUSDT\" }]"))],
        &["strategies[0].markets[0].symbol"]),
    // [risk]
    ("risk decimals positive", &[("risk.max_order_qty", Some("\"0\""))], &["risk.max_order_qty"]),
    ("risk counts at least 1", &[("risk.max_orders_per_sec", Some("0"))], &["risk.max_orders_per_sec"]),
    ("risk counts not negative", &[("risk.max_open_orders", Some("-1"))], &["risk.max_open_orders"]),
    ("collar at most 100 %", &[("risk.price_collar_bps", Some("10001"))], &["risk.price_collar_bps"]),
    ("risk keys known", &[("risk.max_leverage", Some("3"))], &["risk.max_leverage"]),
    // [latency]
    ("statistic known", &[("latency.statistic", Some("\"p95\""))], &["latency.statistic"]),
    ("degrade_after at least 1", &[("latency.degrade_after", Some("0"))], &["latency.degrade_after"]),
    ("recover_after >= degrade_after", &[("latency.degrade_after", Some("6"))], &["latency.recover_after"]),
    ("bands ordered", &[
        ("latency.bands[0].name", Some("\"a\"")), ("latency.bands[0].max_latency", Some("\"50ms\"")),
        ("latency.bands[0].min_spread_bps", Some("1")), ("latency.bands[0].size_multiplier", Some("1.0")),
        ("latency.bands[1].name", Some("\"b\"")), ("latency.bands[1].max_latency", Some("\"50ms\"")),
        ("latency.bands[1].min_spread_bps", Some("2")), ("latency.bands[1].size_multiplier", Some("1")),
        ("latency.bands[2].name", Some("\"c\"")),
        ("latency.bands[2].min_spread_bps", Some("2")), ("latency.bands[2].size_multiplier", Some("0.5")),
    ], &["latency.bands[1].max_latency"]),
    // [persistence], [status], [notifications]
    ("persistence off", &[("persistence.enabled", Some("false"))], &[]),
    ("paper fees", &[("paper.maker_fee", Some("\"0\"")), ("paper.taker_fee", Some("\"0.00075\""))], &[]),
    ("paper fee below 1", &[("paper.taker_fee", Some("\"1\""))], &["paper.taker_fee"]),
    ("paper fee not negative", &[("paper.maker_fee", Some("\"-0.001\""))], &["paper.maker_fee"]),
    ("paper fee exact", &[("paper.maker_fee", Some("0.001"))], &["paper.maker_fee"]),
    ("paper section in live mode", &[("engine.mode", Some("\"live\"")), ("paper.maker_fee", Some("\"0.001\""))], &["paper"]),
    ("batch window positive", &[("persistence.batch_window", Some("\"0ms\""))], &["persistence.batch_window"]),
    ("status bind is an address", &[("status.bind", Some("\"8787\""))], &["status.bind"]),
    ("status token env or file", &[("status.token_env", Some("\"T\"")), ("status.token_file", Some("\"/t\""))],
        &["status.token_env"]),
    ("status console interval positive", &[("status.console_interval", Some("\"0s\""))], &["status.console_interval"]),
    ("telegram needs a token", &[("notifications.telegram.chat_id", Some("\"@c\""))], &["notifications.telegram.bot_token_env"]),
    ("telegram url http(s)", &[("notifications.telegram.chat_id", Some("1")),
        ("notifications.telegram.bot_token_env", Some("\"TG\"")),
        ("notifications.telegram.base_url", Some("\"ws://127.0.0.1:1\""))], &["notifications.telegram.base_url"]),
    ("telegram ok", &[("notifications.telegram.chat_id", Some("-100123")),
        ("notifications.telegram.bot_token_file", Some("\"/etc/tg\""))], &[]),
    // [runtime]
    ("shutdown timeout parses", &[("runtime.shutdown_timeout", Some("\"10 s\""))], &["runtime.shutdown_timeout"]),
    ("warm send in range", &[("runtime.warm_send_us", Some("100"))], &[]),
    ("warm send 0 is off", &[("runtime.warm_send_us", Some("0"))], &[]),
    ("warm send too fast", &[("runtime.warm_send_us", Some("5"))], &["runtime.warm_send_us"]),
    ("hosts place everything", &[
        ("runtime.hosts[0].name", Some("\"hot\"")), ("runtime.hosts[0].idle", Some("\"spin\"")),
        ("runtime.hosts[0].core", Some("1")), ("runtime.hosts[0].priority", Some("\"hot\"")),
        ("runtime.hosts[0].actors", Some("[\"feed:binance\", \"strategy:mm-btc\", \"gateway:binance\"]")),
        ("runtime.hosts[1].name", Some("\"svc\"")), ("runtime.hosts[1].idle", Some("\"park\"")),
        ("runtime.hosts[1].priority", Some("\"low\"")), ("runtime.hosts[1].actors", Some("[\"latency\", \"persist\"]")),
    ], &[]),
    ("a host left out", &[
        ("runtime.hosts[0].name", Some("\"hot\"")), ("runtime.hosts[0].idle", Some("\"backoff\"")),
        ("runtime.hosts[0].priority", Some("\"hot\"")),
        ("runtime.hosts[0].actors", Some("[\"feed:binance\", \"strategy:mm-btc\", \"gateway:binance\"]")),
    ], &["runtime.hosts", "runtime.hosts"]),
    ("host keys known", &[("runtime.hosts[0].threads", Some("2"))], &["runtime.hosts[0].threads"]),
];

#[test]
fn every_rule_reports_at_its_key_path() {
    let mut failures = Vec::new();
    for (name, edits, want) in CASES {
        let text = edited(edits);
        let got = error_paths(&text);
        if got != *want {
            let errors = parse(&text, Path::new("t.toml")).err().unwrap_or_default();
            failures.push(format!("{name}: want {want:?}, got:\n{errors}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn errors_in_every_section_are_reported_together() {
    let text = edited(&[
        ("engine.colour", Some("\"red\"")),
        ("venues[0].recv_window", Some("\"90s\"")),
        ("instruments[0].tick_size", Some("0.01")),
        ("strategies[0].instrument", Some("\"XRPUSDT\"")),
        ("risk.max_position", Some("\"abc\"")),
        ("status.bind", Some("\"nowhere\"")),
    ]);
    let got = error_paths(&text);
    assert_eq!(
        got,
        [
            "engine.colour",
            "instruments[0].tick_size",
            "venues[0].recv_window",
            "strategies[0].instrument",
            "risk.max_position",
            "status.bind",
        ]
    );
}

#[test]
fn the_valid_base_builds_the_model() {
    let cfg = parse(BASE, Path::new("t.toml")).unwrap();
    assert_eq!(cfg.engine.mode, Mode::Paper);
    assert_eq!(cfg.engine.log_format, LogFormat::Human);
    assert_eq!(cfg.engine.log_filter, "info");
    let v = &cfg.venues[0];
    assert_eq!(
        (v.id, v.name.as_str(), v.kind),
        (VenueId(0), "binance", VenueKind::BinanceSpot)
    );
    assert_eq!(v.recv_window, Duration::from_secs(5));
    assert_eq!(v.order_transport, OrderTransport::Rest);
    assert_eq!(v.streams, [StreamKind::BookTicker, StreamKind::Depth]);
    let c = v.credentials.as_ref().unwrap();
    assert_eq!(c.api_key, SecretSource::Env("T_KEY".into()));
    assert_eq!(c.api_secret, SecretSource::Env("T_SECRET".into()));
    // Dense ids in file order; instruments know their venue.
    let ids: Vec<_> = cfg
        .instruments
        .iter()
        .map(|i| (i.id, i.venue, i.symbol.as_str()))
        .collect();
    assert_eq!(
        ids,
        [
            (InstrumentId(0), VenueId(0), "BTCUSDT"),
            (InstrumentId(1), VenueId(0), "ETHUSDT")
        ]
    );
    let btc = &cfg.instruments[0];
    assert_eq!(btc.tick_size, Price::parse("0.01").unwrap());
    assert_eq!(btc.lot_size, Qty::parse("0.00001").unwrap());
    assert_eq!(btc.min_qty, btc.lot_size);
    assert_eq!(btc.min_notional, Price::parse("5").unwrap());
    assert_eq!((btc.price_decimals, btc.qty_decimals), (2, 5));
    let s = &cfg.strategies[0];
    assert_eq!(
        (s.id, s.name.as_str(), s.kind.as_str()),
        (StrategyId(0), "mm-btc", "spread")
    );
    assert_eq!((s.venue, s.instrument), (VenueId(0), InstrumentId(0)));
    assert_eq!(
        s.params.get("spread_bps").and_then(toml::Value::as_integer),
        Some(20)
    );
    assert_eq!(s.risk, RiskLimits::default());
    // Defaults.
    assert_eq!(cfg.latency.bands.len(), 4);
    assert_eq!(cfg.latency.statistic, Statistic::P90);
    assert_eq!(
        (cfg.latency.degrade_after, cfg.latency.recover_after),
        (2, 5)
    );
    assert!(cfg.persistence.enabled);
    assert_eq!(cfg.persistence.path, Path::new("mako.sqlite"));
    assert_eq!(cfg.persistence.batch_window, Duration::from_millis(50));
    assert_eq!(cfg.persistence.queue_capacity, 65_536);
    assert_eq!(
        (cfg.paper.maker_fee, cfg.paper.taker_fee),
        (
            Price::parse("0.001").unwrap(),
            Price::parse("0.001").unwrap()
        ),
        "Binance's default fee"
    );
    assert_eq!(cfg.status.bind, None);
    assert_eq!(cfg.status.publish_interval, Duration::from_millis(250));
    assert!(cfg.notifications.telegram.is_none());
    assert!(cfg.sim.is_none());
    assert_eq!(cfg.runtime.shutdown_timeout, Duration::from_secs(5));
    let hosts: Vec<_> = cfg
        .runtime
        .hosts
        .iter()
        .map(|h| (h.name.as_str(), h.idle, h.core, h.actors.clone()))
        .collect();
    assert_eq!(
        hosts,
        [
            (
                "hot",
                IdlePolicy::Backoff,
                None,
                vec![
                    ActorName::Feed(VenueId(0)),
                    ActorName::Strategy(StrategyId(0)),
                    ActorName::Gateway(VenueId(0))
                ]
            ),
            (
                "service",
                IdlePolicy::Park,
                None,
                vec![ActorName::Latency, ActorName::Persist]
            ),
        ]
    );
}

#[test]
fn services_imply_their_actors() {
    let text = edited(&[
        ("status.console_interval", Some("\"2s\"")),
        ("notifications.telegram.chat_id", Some("1")),
        ("notifications.telegram.bot_token_env", Some("\"TG\"")),
        ("persistence.enabled", Some("false")),
    ]);
    let cfg = parse(&text, Path::new("t.toml")).unwrap();
    assert_eq!(
        cfg.runtime.hosts[1].actors,
        [ActorName::Latency, ActorName::Status, ActorName::Notify]
    );
    let tg = cfg.notifications.telegram.unwrap();
    assert_eq!(tg.base_url, "https://api.telegram.org");
    assert_eq!(tg.chat_id, "1");
    assert_eq!(tg.min_interval, Duration::from_secs(2));
}

#[test]
fn load_reports_an_unreadable_file() {
    let err = load(Path::new("/nonexistent/mako.toml")).unwrap_err();
    assert_eq!(err.len(), 1);
    assert!(
        err.to_string()
            .starts_with("/nonexistent/mako.toml: cannot read the file"),
        "{err}"
    );
}

#[test]
fn environment_warnings_name_what_is_missing() {
    use std::os::unix::fs::PermissionsExt;
    let dir = std::env::temp_dir().join(format!("mako-config-env-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let open = dir.join("open.secret");
    std::fs::write(&open, "value-that-must-not-print").unwrap();
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o644)).unwrap();
    let text = edited(&[
        (
            "venues[0].api_key_env",
            Some("\"MAKO_TEST_SURELY_UNSET_KEY\""),
        ),
        ("venues[0].api_secret_env", None),
        (
            "venues[0].api_secret_file",
            Some(&format!("{:?}", open.display().to_string())),
        ),
        ("status.token_file", Some("\"/nonexistent/mako-token\"")),
        ("runtime.hosts[0].name", Some("\"hot\"")),
        ("runtime.hosts[0].core", Some("100000")),
        ("runtime.hosts[0].idle", Some("\"backoff\"")),
        ("runtime.hosts[0].priority", Some("\"hot\"")),
        (
            "runtime.hosts[0].actors",
            Some("[\"feed:binance\", \"strategy:mm-btc\", \"gateway:binance\"]"),
        ),
        ("runtime.hosts[1].name", Some("\"svc\"")),
        ("runtime.hosts[1].idle", Some("\"park\"")),
        ("runtime.hosts[1].priority", Some("\"low\"")),
        (
            "runtime.hosts[1].actors",
            Some("[\"latency\", \"persist\"]"),
        ),
    ]);
    let cfg = parse(&text, Path::new("t.toml")).unwrap();
    let warnings = cfg.environment_warnings();
    let paths: Vec<&str> = warnings.iter().map(|w| w.path.as_str()).collect();
    let mut want = vec![
        "venues[0].api_key_env",
        "venues[0].api_secret_file",
        "status.token_file",
    ];
    if core_affinity::get_core_ids().is_some() {
        want.push("runtime.hosts[0].core");
    }
    assert_eq!(paths, want, "{warnings:#?}");
    assert!(
        warnings[0]
            .message
            .contains("MAKO_TEST_SURELY_UNSET_KEY is not set")
    );
    assert!(warnings[1].message.contains("chmod 600"));
    assert!(
        warnings
            .iter()
            .all(|w| !w.message.contains("value-that-must-not-print"))
    );
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o600)).unwrap();
    let paths: Vec<String> = cfg
        .environment_warnings()
        .into_iter()
        .map(|w| w.path)
        .collect();
    assert!(
        !paths.iter().any(|p| p == "venues[0].api_secret_file"),
        "{paths:?}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn strategy_numbers_fit_client_order_ids() {
    // 36² strategies fit the two base-36 digits of a client order id; one more does not.
    let mut text = String::from(BASE);
    for i in 1..=1296 {
        text.push_str(&format!(
            "[[strategies]]\nid = \"s{i}\"\nkind = \"spread\"\nvenue = \"binance\"\ninstrument = \"ETHUSDT\"\n\
             [strategies.params]\norder_size = \"0.01\"\n"
        ));
    }
    assert_eq!(error_paths(&text), ["strategies[1296].id"]);
}

#[test]
fn a_strategy_may_trade_several_instruments_on_one_venue() {
    let text = edited(&[(
        "strategies[0].markets",
        Some("[{ venue = \"binance\", instrument = \"ETHUSDT\" }]"),
    )]);
    let cfg = parse(&text, Path::new("t.toml")).unwrap();
    let s = &cfg.strategies[0];
    let on_binance: Vec<_> = s.instruments_on(VenueId(0)).collect();
    assert_eq!(on_binance, [InstrumentId(0), InstrumentId(1)]);
    assert_eq!(s.instrument_on(VenueId(0)), Some(InstrumentId(0)));
}

#[test]
fn strategies_paper_sets_the_balances_a_strategy_starts_with() {
    // A spread maker without allocations starts with nothing in paper mode: a warning.
    let config = parse(BASE, Path::new("t.toml")).unwrap();
    let warnings = config.paper_warnings();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert_eq!(warnings[0].path, "strategies[0]");
    assert!(warnings[0].message.contains("[strategies.paper]"));
    // [strategies.paper] gives it its balances: no warning, and they are its allocation.
    let text = edited(&[("strategies[0].paper.quote", Some("\"1000\""))]);
    let config = parse(&text, Path::new("t.toml")).unwrap();
    assert!(config.paper_warnings().is_empty());
    assert_eq!(
        config.strategies[0].allocation(),
        (Qty::ZERO, Price::parse("1000").unwrap())
    );
    // The kind's own allocation counts too.
    let text = edited(&[("strategies[0].params.base_allocation", Some("\"0.5\""))]);
    let config = parse(&text, Path::new("t.toml")).unwrap();
    assert!(config.paper_warnings().is_empty());
    // Outside paper mode nothing is said.
    let text = edited(&[("engine.mode", Some("\"live\""))]);
    let config = parse(&text, Path::new("t.toml")).unwrap();
    assert!(config.paper_warnings().is_empty());
    // Bad tables are refused at their key.
    for (edit, path) in [
        (
            ("strategies[0].paper.quote", Some("\"-1\"")),
            "strategies[0].paper.quote",
        ),
        (
            ("strategies[0].paper.base", Some("\"x\"")),
            "strategies[0].paper.base",
        ),
        (
            ("strategies[0].paper.other", Some("\"1\"")),
            "strategies[0]",
        ),
        (("strategies[0].paper", Some("{}")), "strategies[0].paper"),
    ] {
        let paths = error_paths(&edited(&[edit]));
        assert!(
            paths.iter().any(|p| p.starts_with(path)),
            "{edit:?}: {paths:?}"
        );
    }
}

#[test]
fn instruments_may_be_perpetuals_with_their_contract_and_margin() {
    use crate::types::{Contract, InstrumentKind, MarginMode, QtyUnit, Rate};
    // Spot by default.
    let cfg = parse(BASE, Path::new("t.toml")).unwrap();
    assert_eq!(cfg.instruments[0].contract, Contract::SPOT);
    assert_eq!(cfg.instruments[0].settle, "USDT");
    assert_eq!(cfg.instruments[0].margin, None);
    // A linear perpetual in base units with its leverage; defaults for the rest.
    let text = edited(&[
        ("instruments[0].kind", Some("\"linear-perpetual\"")),
        ("instruments[0].leverage", Some("\"10\"")),
    ]);
    let cfg = parse(&text, Path::new("t.toml")).unwrap();
    let i = &cfg.instruments[0];
    assert_eq!(i.contract, Contract::LINEAR_BASE);
    assert_eq!(i.settle, "USDT");
    let m = i.margin.unwrap();
    assert_eq!(m.mode, MarginMode::Isolated);
    assert_eq!(m.leverage, Rate::from_int(10));
    assert_eq!(m.maintenance, Rate::parse("0.005").unwrap());
    assert_eq!(m.funding_interval_ms, 8 * 3_600_000);
    // Inverse: contracts of 1 USD, settled in the base, cross margin, 4-hour funding.
    let text = edited(&[
        ("instruments[0].kind", Some("\"inverse-perpetual\"")),
        ("instruments[0].contract_size", Some("\"1\"")),
        ("instruments[0].leverage", Some("\"2.5\"")),
        ("instruments[0].margin_mode", Some("\"cross\"")),
        ("instruments[0].maintenance_margin", Some("\"0.01\"")),
        ("instruments[0].funding_interval", Some("\"4h\"")),
    ]);
    let cfg = parse(&text, Path::new("t.toml")).unwrap();
    let i = &cfg.instruments[0];
    assert_eq!(
        i.contract,
        Contract {
            kind: InstrumentKind::InversePerpetual,
            unit: QtyUnit::Contracts,
            size: Qty::from_int(1)
        }
    );
    assert_eq!(i.settle, "BTC");
    let m = i.margin.unwrap();
    assert_eq!(
        (m.mode, m.leverage, m.maintenance, m.funding_interval_ms),
        (
            MarginMode::Cross,
            Rate::parse("2.5").unwrap(),
            Rate::parse("0.01").unwrap(),
            4 * 3_600_000
        )
    );
    // Each mistake at its key.
    let perp = ("instruments[0].kind", Some("\"linear-perpetual\""));
    let lev = ("instruments[0].leverage", Some("\"5\""));
    type Edits<'a> = &'a [(&'a str, Option<&'a str>)];
    let cases: &[(Edits, &str)] = &[
        (
            &[("instruments[0].kind", Some("\"future\""))],
            "instruments[0].kind",
        ),
        (
            &[("instruments[0].leverage", Some("\"5\""))],
            "instruments[0].leverage",
        ),
        (&[perp], "instruments[0].leverage"),
        (
            &[perp, ("instruments[0].leverage", Some("\"0\""))],
            "instruments[0].leverage",
        ),
        (
            &[perp, lev, ("instruments[0].qty_unit", Some("\"lots\""))],
            "instruments[0].qty_unit",
        ),
        (
            &[
                perp,
                lev,
                ("instruments[0].qty_unit", Some("\"contracts\"")),
            ],
            "instruments[0].contract_size",
        ),
        (
            &[
                perp,
                lev,
                ("instruments[0].contract_size", Some("\"0.001\"")),
            ],
            "instruments[0].contract_size",
        ),
        (
            &[
                perp,
                lev,
                ("instruments[0].margin_mode", Some("\"portfolio\"")),
            ],
            "instruments[0].margin_mode",
        ),
        (
            &[
                perp,
                lev,
                ("instruments[0].maintenance_margin", Some("\"1\"")),
            ],
            "instruments[0].maintenance_margin",
        ),
        (
            &[
                perp,
                lev,
                ("instruments[0].funding_interval", Some("\"0s\"")),
            ],
            "instruments[0].funding_interval",
        ),
        (
            &[
                ("instruments[0].kind", Some("\"inverse-perpetual\"")),
                lev,
                ("instruments[0].contract_size", Some("\"1\"")),
                ("instruments[0].qty_unit", Some("\"base\"")),
            ],
            "instruments[0].qty_unit",
        ),
        (&[("risk.max_leverage", Some("\"0\""))], "risk.max_leverage"),
        (
            &[("risk.min_liquidation_distance_bps", Some("10000"))],
            "risk.min_liquidation_distance_bps",
        ),
        (
            &[("risk.max_position_notional", Some("\"x\""))],
            "risk.max_position_notional",
        ),
    ];
    for (edits, path) in cases {
        let paths = error_paths(&edited(edits));
        assert_eq!(paths, [path.to_string()], "{edits:?}");
    }
    // The risk keys read.
    let text = edited(&[
        ("risk.max_leverage", Some("\"20\"")),
        ("risk.min_liquidation_distance_bps", Some("500")),
        ("risk.max_position_notional", Some("\"25000\"")),
    ]);
    let cfg = parse(&text, Path::new("t.toml")).unwrap();
    let g = &cfg.risk.global;
    assert_eq!(g.max_leverage, Some(Rate::from_int(20)));
    assert_eq!(g.min_liquidation_distance_bps, Some(500));
    assert_eq!(g.max_position_notional, Some(Price::from_int(25000)));
}

#[test]
fn binance_keys_may_be_ed25519_on_the_websocket_api() {
    let ws_api = ("venues[0].order_transport", Some("\"ws-api\""));
    let ed = ("venues[0].api_key_type", Some("\"ed25519\""));
    let cfg = parse(&edited(&[ws_api, ed]), Path::new("t.toml")).unwrap();
    assert!(cfg.venues[0].credentials.as_ref().unwrap().ed25519);
    let cfg = parse(BASE, Path::new("t.toml")).unwrap();
    assert!(!cfg.venues[0].credentials.as_ref().unwrap().ed25519);
    for edits in [
        vec![ed],
        vec![ws_api, ("venues[0].api_key_type", Some("\"rsa\""))],
    ] {
        assert_eq!(
            error_paths(&edited(&edits)),
            ["venues[0].api_key_type"],
            "{edits:?}"
        );
    }
}
