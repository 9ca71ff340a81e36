//! A venue block's keys against its kind and the engine's mode: URLs that fit the mode,
//! keys that belong to another kind of venue refused by name, and the polled-fills interval.

use std::time::Duration;

use super::error::ConfigErrors;
use super::fields::{self, Checked, Reported, join};
use super::raw::*;

/// Live orders go over TLS; sim mode talks only to a simulator on this machine, so paper or
/// sim records can never come from a real venue by mistake.
pub(super) fn url_fits_mode(
    errors: &mut ConfigErrors,
    path: &str,
    url: &str,
    host: &str,
    mode: Option<RawMode>,
) -> Checked<()> {
    match mode {
        Some(RawMode::Live) if url.starts_with("ws://") || url.starts_with("http://") => {
            errors.push(path, "live trading needs TLS: use wss:// or https://");
            Err(Reported)
        }
        Some(RawMode::Sim) if !fields::is_loopback(host) => {
            errors.push(
                path,
                format!(
                    "mode = \"sim\" talks to the local simulator, but {host:?} is not this machine: \
                     point it at 127.0.0.1, or set mode = \"paper\" for real market data"
                ),
            );
            Err(Reported)
        }
        _ => Ok(()),
    }
}

/// Key and secret together, or neither.
/// Keys that belong to another kind of venue are errors naming the key, so a config copied
/// from one venue to another cannot silently keep a setting that means nothing there.
pub(super) fn keys_fit_kind(errors: &mut ConfigErrors, path: &str, v: &RawVenue) -> Checked<()> {
    let mut ok = true;
    let mut refuse = |key: &str, set: bool, why: &str| {
        if set {
            errors.push(join(path, key), why.to_owned());
            ok = false;
        }
    };
    if v.kind != RawVenueKind::BitmartSpot {
        let why = "applies to bitmart-spot only: only BitMart keys have a memo";
        refuse("memo_env", v.memo_env.is_some(), why);
        refuse("memo_file", v.memo_file.is_some(), why);
    }
    match v.kind {
        RawVenueKind::BinanceSpot => {
            let why = "applies to okx-spot only: Binance keys have no passphrase and orders go \
                       over ws_api_url or rest_url";
            refuse("passphrase_env", v.passphrase_env.is_some(), why);
            refuse("passphrase_file", v.passphrase_file.is_some(), why);
            refuse("private_ws_url", v.private_ws_url.is_some(), why);
            refuse("demo_trading", v.demo_trading.is_some(), why);
        }
        RawVenueKind::Coinbase => {
            let why = "does not apply to coinbase: CDP keys have no passphrase, orders go over \
                       rest_url and the user channel over private_ws_url";
            refuse("passphrase_env", v.passphrase_env.is_some(), why);
            refuse("passphrase_file", v.passphrase_file.is_some(), why);
            refuse("ws_api_url", v.ws_api_url.is_some(), why);
            refuse("demo_trading", v.demo_trading.is_some(), why);
            refuse(
                "recv_window",
                v.recv_window.is_some(),
                "applies to binance-spot only: a Coinbase JWT is valid for 120 s",
            );
        }
        RawVenueKind::BitmartSpot => {
            let why = "does not apply to bitmart-spot: BitMart keys have a memo, not a \
                       passphrase, and orders go over rest_url";
            refuse("passphrase_env", v.passphrase_env.is_some(), why);
            refuse("passphrase_file", v.passphrase_file.is_some(), why);
            refuse("ws_api_url", v.ws_api_url.is_some(), why);
            refuse("demo_trading", v.demo_trading.is_some(), why);
        }
        RawVenueKind::CoindcxFutures => {
            let why = "does not apply to coindcx-futures: CoinDCX keys have no passphrase and \
                       orders go over rest_url";
            refuse("passphrase_env", v.passphrase_env.is_some(), why);
            refuse("passphrase_file", v.passphrase_file.is_some(), why);
            refuse("ws_api_url", v.ws_api_url.is_some(), why);
            refuse("demo_trading", v.demo_trading.is_some(), why);
        }
        RawVenueKind::CoinstoreSpot => {
            let why = "does not apply to coinstore-spot: Coinstore keys have no passphrase, \
                       and orders go over rest_url";
            refuse("passphrase_env", v.passphrase_env.is_some(), why);
            refuse("passphrase_file", v.passphrase_file.is_some(), why);
            refuse("ws_api_url", v.ws_api_url.is_some(), why);
            refuse("demo_trading", v.demo_trading.is_some(), why);
        }
        RawVenueKind::BybitSpot | RawVenueKind::BybitLinear => {
            let why = "does not apply to Bybit: its keys have no passphrase";
            refuse("passphrase_env", v.passphrase_env.is_some(), why);
            refuse("passphrase_file", v.passphrase_file.is_some(), why);
            refuse("demo_trading", v.demo_trading.is_some(), why);
        }
        RawVenueKind::DeltaIndia | RawVenueKind::DeltaGlobal => {
            let why = "does not apply to Delta Exchange: its keys have no passphrase";
            refuse("passphrase_env", v.passphrase_env.is_some(), why);
            refuse("passphrase_file", v.passphrase_file.is_some(), why);
            refuse("demo_trading", v.demo_trading.is_some(), why);
        }
        RawVenueKind::OkxSpot => {
            refuse(
                "ws_api_url",
                v.ws_api_url.is_some(),
                "applies to binance-spot only: OKX orders go over private_ws_url \
                 (order_transport = \"ws-api\") or rest_url (\"rest\")",
            );
            refuse(
                "recv_window",
                v.recv_window.is_some(),
                "applies to binance-spot only: OKX checks request timestamps itself (30 s)",
            );
        }
    }
    if ok { Ok(()) } else { Err(Reported) }
}

/// `fills_poll`: Coinstore without a private WebSocket only, 200 ms to 60 s (each poll is
/// three signed requests out of Coinstore's 120 per 3 s per user).
pub(super) fn fills_poll(
    errors: &mut ConfigErrors,
    path: &str,
    v: &RawVenue,
) -> Checked<Option<Duration>> {
    let Some(d) = v.fills_poll.as_ref() else {
        return Ok(None);
    };
    if v.kind != RawVenueKind::CoinstoreSpot || v.private_ws_url.is_some() {
        errors.push(
            path,
            "applies to coinstore-spot without private_ws_url only: other venues push fills",
        );
        return Err(Reported);
    }
    let max = Duration::from_secs(60);
    let d = fields::bounded_duration(errors, path, Some(d), max, max, "the poll's")?;
    if d < Duration::from_millis(200) {
        errors.push(
            path,
            "is below 200ms: the polls alone would use most of Coinstore's 120 requests per 3 s",
        );
        return Err(Reported);
    }
    Ok(Some(d))
}

/// `margin_currency`: CoinDCX futures only, `"USDT"` (the default) or `"INR"` — the wallet
/// the venue block's orders, positions and balances are margined in (exchanges.md §7.3's
/// `margin_currency_short_name`). Prices and quantities stay in the instrument's quote. INR
/// is refused in paper mode: the paper account is kept in the instrument's settlement asset,
/// so an INR wallet would be silently a USDT one.
pub(super) fn margin_currency(
    errors: &mut ConfigErrors,
    path: &str,
    v: &RawVenue,
    mode: Option<RawMode>,
) -> Checked<Option<String>> {
    let Some(m) = v.margin_currency.as_deref() else {
        return Ok(None);
    };
    if v.kind != RawVenueKind::CoindcxFutures {
        errors.push(
            path,
            "applies to coindcx-futures only: the other venues margin a perpetual in its \
             settlement asset (the instrument's settle)",
        );
        return Err(Reported);
    }
    match m {
        "INR" if mode == Some(RawMode::Paper) => {
            errors.push(
                path,
                "INR margin runs in sim or live mode: paper mode keeps the account in the \
                 instrument's settlement asset (USDT), so an INR wallet is not simulated there",
            );
            Err(Reported)
        }
        "USDT" | "INR" => Ok(Some(m.to_owned())),
        other => {
            errors.push(
                path,
                format!(
                    "{other:?} is not a CoinDCX margin currency: use \"USDT\" (the default) or \
                     \"INR\""
                ),
            );
            Err(Reported)
        }
    }
}

#[cfg(test)]
mod tests {
    //! `margin_currency` from the TOML to the venue config and the amend wiring.

    use std::path::Path;

    const DEMO: &str = include_str!("../../config/grid-coindcx-delta-demo.toml");

    /// The demo with `coindcx` lines after the CoinDCX block's kind and `delta` lines after
    /// the Delta block's.
    fn demo(coindcx: &str, delta: &str) -> String {
        DEMO.replace(
            "kind = \"coindcx-futures\"\n",
            &format!("kind = \"coindcx-futures\"\n{coindcx}"),
        )
        .replace(
            "kind = \"delta-india\"\n",
            &format!("kind = \"delta-india\"\n{delta}"),
        )
    }

    fn errors(text: &str) -> Vec<(String, String)> {
        match crate::config::parse(text, Path::new("demo.toml")) {
            Ok(_) => Vec::new(),
            Err(e) => e
                .iter()
                .map(|e| (e.path.clone(), e.message.clone()))
                .collect(),
        }
    }

    #[test]
    fn margin_currency_is_usdt_or_inr_on_coindcx_futures_only() {
        let parse = |text: &str| crate::config::parse(text, Path::new("demo.toml")).unwrap();
        let c = parse(&demo("", ""));
        let dcx = |c: &crate::config::Config| {
            c.venues
                .iter()
                .find(|v| v.name == "coindcx")
                .unwrap()
                .clone()
        };
        assert_eq!(dcx(&c).margin_currency, None);
        assert!(crate::engine::venues::amends_in_place(&dcx(&c)).is_some());
        for m in ["USDT", "INR"] {
            let c = parse(&demo(&format!("margin_currency = {m:?}\n"), ""));
            assert_eq!(dcx(&c).margin_currency.as_deref(), Some(m));
            // Edit is USDT-only: INR orders are re-priced by cancel + new.
            assert_eq!(
                crate::engine::venues::amends_in_place(&dcx(&c)).is_some(),
                m == "USDT"
            );
        }
        for bad in ["\"EUR\"", "\"inr\"", "\"\""] {
            let e = errors(&demo(&format!("margin_currency = {bad}\n"), ""));
            assert_eq!(e.len(), 1, "{bad}: {e:?}");
            assert_eq!(e[0].0, "venues[0].margin_currency");
            assert!(
                e[0].1.contains("\"USDT\" (the default) or \"INR\""),
                "{e:?}"
            );
        }
        let e = errors(&demo("", "margin_currency = \"INR\"\n"));
        assert_eq!(e.len(), 1, "{e:?}");
        assert_eq!(e[0].0, "venues[1].margin_currency");
        assert!(e[0].1.contains("coindcx-futures only"), "{e:?}");
        // Paper mode has no INR wallet: INR is refused there, USDT is not.
        let paper = |m: &str| {
            errors(
                &demo(&format!("margin_currency = {m:?}\n"), "")
                    .replace("mode = \"sim\"", "mode = \"paper\""),
            )
        };
        let e = paper("INR");
        assert!(
            e.iter().any(|e| e.0 == "venues[0].margin_currency"
                && e.1.contains("INR margin runs in sim or live mode")),
            "{e:?}"
        );
        assert!(
            !paper("USDT")
                .iter()
                .any(|e| e.0 == "venues[0].margin_currency"),
            "{:?}",
            paper("USDT")
        );
    }
}
