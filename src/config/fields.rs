//! Checkers for single values: names, URLs, environment variable names, secret sources,
//! decimals and durations. Each reports its own error at the path it is given.

use std::path::PathBuf;
use std::time::Duration;

use crate::types::{Price, Qty};

use super::duration::{format_duration, parse_duration};
use super::error::ConfigErrors;
use super::raw::{DecimalStr, DurationStr};
use super::secret::SecretSource;

/// Marks a value whose error has already been reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Reported;

pub(super) type Checked<T> = Result<T, Reported>;

/// `venues[0]` + `recv_window` → `venues[0].recv_window`.
pub(super) fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

/// A name other entries refer to (venue, strategy id, host, band): letters, digits, `-`,
/// `_`, `.`; never empty. Actor names are built from these with a `:`, so no `:`.
pub(super) fn name(errors: &mut ConfigErrors, path: &str, value: &str) -> Checked<()> {
    if value.is_empty() {
        errors.push(path, "must not be empty");
        return Err(Reported);
    }
    if let Some(c) = value
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "-_.".contains(*c)))
    {
        errors.push(
            path,
            format!("{value:?} contains {c:?}: use only letters, digits, '-', '_' and '.'"),
        );
        return Err(Reported);
    }
    Ok(())
}

/// A free-form text that must be present: symbols, assets, kinds, chat ids.
pub(super) fn non_empty(errors: &mut ConfigErrors, path: &str, value: &str) -> Checked<()> {
    if value.trim().is_empty() {
        errors.push(path, "must not be empty");
        return Err(Reported);
    }
    if value.chars().any(char::is_whitespace) {
        errors.push(path, format!("{value:?} contains whitespace; remove it"));
        return Err(Reported);
    }
    Ok(())
}

/// The scheme and the host of a URL, if it has the shape `scheme://host[:port][/path]`.
pub(super) fn url_host(url: &str) -> Option<(&str, &str)> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = if let Some(v6) = authority.strip_prefix('[') {
        v6.split(']').next().unwrap_or("")
    } else {
        authority.rsplit_once(':').map_or(authority, |(h, _)| h)
    };
    if host.is_empty() || host.contains(char::is_whitespace) {
        return None;
    }
    Some((scheme, host))
}

pub(super) fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Which URL schemes a key accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum UrlKind {
    WebSocket,
    Http,
}

/// A URL with one of the schemes of `kind` and a host. Returns the host.
pub(super) fn url<'a>(
    errors: &mut ConfigErrors,
    path: &str,
    value: &'a str,
    kind: UrlKind,
) -> Checked<&'a str> {
    let (plain, tls, example) = match kind {
        UrlKind::WebSocket => ("ws", "wss", "wss://stream.binance.com:9443"),
        UrlKind::Http => ("http", "https", "https://api.binance.com"),
    };
    match url_host(value) {
        Some((scheme, host)) if scheme == plain || scheme == tls => Ok(host),
        Some((scheme, _)) => {
            errors.push(
                path,
                format!(
                    "{value:?} has scheme {scheme}://; use {tls}:// (or {plain}:// on loopback)"
                ),
            );
            Err(Reported)
        }
        None => {
            errors.push(
                path,
                format!("{value:?} is not a URL; write e.g. {example}"),
            );
            Err(Reported)
        }
    }
}

/// A POSIX environment variable name: `[A-Za-z_][A-Za-z0-9_]*`.
///
/// The value is never echoed: someone who pasted the secret itself here must not see it in
/// the error (or in a log of it).
pub(super) fn env_var_name(errors: &mut ConfigErrors, path: &str, value: &str) -> Checked<()> {
    let valid = value
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && value.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid {
        errors.push(
            path,
            "is not an environment variable name (letters, digits and '_', not starting with a \
             digit); give the variable's name here, never the secret itself",
        );
        return Err(Reported);
    }
    // API keys are long runs of mixed-case letters and digits; variable names are short and,
    // by convention, upper case.
    let lower = value.chars().any(|c| c.is_ascii_lowercase());
    let upper = value.chars().any(|c| c.is_ascii_uppercase());
    let digit = value.chars().any(|c| c.is_ascii_digit());
    if value.len() >= 24 && lower && upper && digit {
        errors.push(
            path,
            "looks like a secret rather than an environment variable name; put the secret in \
             the environment and give the variable's name here",
        );
        return Err(Reported);
    }
    Ok(())
}

/// Where a secret lives: `<base>_env` or `<base>_file`, at most one of them.
/// `Ok(None)` when neither is set.
pub(super) fn secret_source(
    errors: &mut ConfigErrors,
    section: &str,
    base: &str,
    env: Option<&str>,
    file: Option<&str>,
) -> Checked<Option<SecretSource>> {
    let env_path = join(section, &format!("{base}_env"));
    let file_path = join(section, &format!("{base}_file"));
    match (env, file) {
        (Some(_), Some(_)) => {
            errors.push(
                env_path,
                format!("set either {base}_env or {base}_file, not both"),
            );
            Err(Reported)
        }
        (Some(name), None) => {
            env_var_name(errors, &env_path, name)?;
            Ok(Some(SecretSource::Env(name.to_owned())))
        }
        (None, Some(file)) => {
            if file.trim().is_empty() {
                errors.push(
                    file_path,
                    "must not be empty: give the path of a file (mode 600)",
                );
                return Err(Reported);
            }
            Ok(Some(SecretSource::File(PathBuf::from(file))))
        }
        (None, None) => Ok(None),
    }
}

/// A decimal string, exact, strictly positive.
fn positive_decimal<T: Copy>(
    errors: &mut ConfigErrors,
    path: &str,
    value: &DecimalStr,
    parse: fn(&str) -> Result<T, crate::types::DecimalError>,
    positive: fn(T) -> bool,
) -> Checked<T> {
    match parse(value.as_str()) {
        Ok(v) if positive(v) => Ok(v),
        Ok(_) => {
            errors.push(
                path,
                format!("{:?} must be greater than zero", value.as_str()),
            );
            Err(Reported)
        }
        Err(e) => {
            errors.push(
                path,
                format!(
                    "{:?} is not an exact decimal ({e}); write e.g. \"0.01\"",
                    value.as_str()
                ),
            );
            Err(Reported)
        }
    }
}

pub(super) fn positive_price(
    errors: &mut ConfigErrors,
    path: &str,
    v: &DecimalStr,
) -> Checked<Price> {
    positive_decimal(errors, path, v, Price::parse, Price::is_positive)
}

pub(super) fn positive_qty(errors: &mut ConfigErrors, path: &str, v: &DecimalStr) -> Checked<Qty> {
    positive_decimal(errors, path, v, Qty::parse, Qty::is_positive)
}

/// An optional positive price (`None` stays `None`).
pub(super) fn opt_price(
    errors: &mut ConfigErrors,
    path: &str,
    v: Option<&DecimalStr>,
) -> Checked<Option<Price>> {
    v.map(|v| positive_price(errors, path, v)).transpose()
}

pub(super) fn positive_rate(
    errors: &mut ConfigErrors,
    path: &str,
    v: &DecimalStr,
) -> Checked<crate::types::Rate> {
    positive_decimal(
        errors,
        path,
        v,
        crate::types::Rate::parse,
        crate::types::Rate::is_positive,
    )
}

/// An optional positive ratio (`None` stays `None`).
pub(super) fn opt_rate(
    errors: &mut ConfigErrors,
    path: &str,
    v: Option<&DecimalStr>,
) -> Checked<Option<crate::types::Rate>> {
    v.map(|v| positive_rate(errors, path, v)).transpose()
}

/// An optional positive quantity (`None` stays `None`).
pub(super) fn opt_qty(
    errors: &mut ConfigErrors,
    path: &str,
    v: Option<&DecimalStr>,
) -> Checked<Option<Qty>> {
    v.map(|v| positive_qty(errors, path, v)).transpose()
}

/// A duration, `default` when absent. Zero is allowed.
pub(super) fn duration(
    errors: &mut ConfigErrors,
    path: &str,
    v: Option<&DurationStr>,
    default: Duration,
) -> Checked<Duration> {
    match v {
        None => Ok(default),
        Some(s) => parse_duration(s.as_str()).map_err(|e| {
            errors.push(path, e.to_string());
            Reported
        }),
    }
}

/// A duration that must be longer than zero, `default` when absent.
pub(super) fn positive_duration(
    errors: &mut ConfigErrors,
    path: &str,
    v: Option<&DurationStr>,
    default: Duration,
) -> Checked<Duration> {
    let d = duration(errors, path, v, default)?;
    if d.is_zero() {
        errors.push(path, "must be longer than zero");
        return Err(Reported);
    }
    Ok(d)
}

/// A duration no longer than `max` (and longer than zero).
pub(super) fn bounded_duration(
    errors: &mut ConfigErrors,
    path: &str,
    v: Option<&DurationStr>,
    default: Duration,
    max: Duration,
    whose: &str,
) -> Checked<Duration> {
    let d = positive_duration(errors, path, v, default)?;
    if d > max {
        errors.push(
            path,
            format!(
                "{} is above {whose} maximum of {}",
                format_duration(d),
                format_duration(max)
            ),
        );
        return Err(Reported);
    }
    Ok(d)
}

/// An optional count that must be at least 1 when present.
pub(super) fn opt_count(
    errors: &mut ConfigErrors,
    path: &str,
    v: Option<u32>,
) -> Checked<Option<u32>> {
    match v {
        Some(0) => {
            errors.push(
                path,
                "must be at least 1; remove the key to disable the rule",
            );
            Err(Reported)
        }
        v => Ok(v),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run<T>(f: impl FnOnce(&mut ConfigErrors) -> Checked<T>) -> (Option<T>, String) {
        let mut errors = ConfigErrors::default();
        let r = f(&mut errors).ok();
        assert_eq!(
            r.is_none(),
            !errors.is_empty(),
            "an error is reported iff the check fails"
        );
        (r, errors.to_string())
    }

    #[test]
    fn names() {
        for (value, ok) in [
            ("binance", true),
            ("mm-btc_1.a", true),
            ("", false),
            ("feed:binance", false),
            ("two words", false),
        ] {
            let (r, msg) = run(|e| name(e, "venues[0].name", value));
            assert_eq!(r.is_some(), ok, "{value:?}: {msg}");
            if !ok {
                assert!(msg.starts_with("venues[0].name: "), "{msg}");
            }
        }
    }

    #[test]
    fn urls() {
        use UrlKind::*;
        for (value, kind, host) in [
            (
                "wss://stream.binance.com:9443",
                WebSocket,
                Some("stream.binance.com"),
            ),
            ("ws://127.0.0.1:9001/ws", WebSocket, Some("127.0.0.1")),
            ("ws://[::1]:9001", WebSocket, Some("::1")),
            ("https://api.binance.com", Http, Some("api.binance.com")),
            ("http://localhost:8080/api", Http, Some("localhost")),
            ("https://api.binance.com", WebSocket, None),
            ("wss://stream.binance.com", Http, None),
            ("stream.binance.com:9443", WebSocket, None),
            ("wss://", WebSocket, None),
            ("", Http, None),
        ] {
            let (r, msg) = run(|e| url(e, "p", value, kind));
            assert_eq!(r, host, "{value:?}: {msg}");
        }
        assert!(is_loopback("127.0.0.1") && is_loopback("localhost") && is_loopback("::1"));
        assert!(!is_loopback("api.binance.com") && !is_loopback("10.0.0.1"));
    }

    #[test]
    fn env_names_never_echo_the_value() {
        let secret = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";
        for (value, ok) in [
            ("BINANCE_API_KEY", true),
            ("_X1", true),
            ("mako_key", true),
            ("1KEY", false),
            ("MY-KEY", false),
            ("", false),
            (secret, false),
            ("abc+/def==", false),
        ] {
            let (r, msg) = run(|e| env_var_name(e, "venues[0].api_key_env", value));
            assert_eq!(r.is_some(), ok, "{value:?}: {msg}");
            if !ok && !value.is_empty() {
                assert!(!msg.contains(value), "{msg}");
            }
        }
    }

    #[test]
    fn secret_sources() {
        let (r, _) = run(|e| secret_source(e, "status", "token", Some("MAKO_TOKEN"), None));
        assert_eq!(r, Some(Some(SecretSource::Env("MAKO_TOKEN".into()))));
        let (r, _) = run(|e| secret_source(e, "status", "token", None, Some("/etc/mako/token")));
        assert_eq!(r, Some(Some(SecretSource::File("/etc/mako/token".into()))));
        let (r, _) = run(|e| secret_source(e, "status", "token", None, None));
        assert_eq!(r, Some(None));
        let (r, msg) = run(|e| secret_source(e, "status", "token", Some("A"), Some("/b")));
        assert!(
            r.is_none() && msg.starts_with("status.token_env: set either"),
            "{msg}"
        );
        let (r, msg) = run(|e| secret_source(e, "status", "token", None, Some(" ")));
        assert!(
            r.is_none() && msg.starts_with("status.token_file: "),
            "{msg}"
        );
    }

    #[test]
    fn decimals_are_exact_and_positive() {
        let d = |s: &str| DecimalStr(s.to_owned());
        for (value, ok) in [
            ("0.01", true),
            ("5", true),
            ("0", false),
            ("0.000000001", false),
            ("-1", false),
            ("1e3", false),
            ("", false),
        ] {
            let (r, msg) = run(|e| positive_price(e, "risk.max_daily_loss", &d(value)));
            assert_eq!(r.is_some(), ok, "{value:?}: {msg}");
            let (r, _) = run(|e| positive_qty(e, "risk.max_position", &d(value)));
            assert_eq!(r.is_some(), ok, "{value:?}");
        }
        let (r, _) = run(|e| opt_qty(e, "p", None));
        assert_eq!(r, Some(None));
    }

    #[test]
    fn durations_with_bounds() {
        let d = |s: &str| DurationStr(s.to_owned());
        let max = Duration::from_secs(60);
        let (r, _) = run(|e| bounded_duration(e, "p", None, Duration::from_secs(5), max, "x's"));
        assert_eq!(r, Some(Duration::from_secs(5)));
        let (r, msg) =
            run(|e| bounded_duration(e, "v.recv_window", Some(&d("90s")), max, max, "Binance's"));
        assert_eq!(r, None);
        assert_eq!(msg, "v.recv_window: 90s is above Binance's maximum of 60s");
        let (r, msg) = run(|e| positive_duration(e, "p", Some(&d("0s")), max));
        assert!(r.is_none() && msg.contains("longer than zero"), "{msg}");
        let (r, _) = run(|e| duration(e, "p", Some(&d("0s")), max));
        assert_eq!(r, Some(Duration::ZERO));
        let (r, msg) = run(|e| duration(e, "p", Some(&d("5")), max));
        assert!(r.is_none() && msg.contains("no unit"), "{msg}");
    }

    #[test]
    fn counts() {
        assert_eq!(run(|e| opt_count(e, "p", Some(3))).0, Some(Some(3)));
        assert_eq!(run(|e| opt_count(e, "p", None)).0, Some(None));
        assert_eq!(run(|e| opt_count(e, "p", Some(0))).0, None);
    }
}
