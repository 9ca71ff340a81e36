//! `mako sign`: prints the exact string mako signs for a request, the headers it sends and
//! the signature, for every venue, so an operator can debug an auth error against the
//! venue's documentation. Two forms:
//! - `--method M --path '<path?query>' [--body '<body>'] --timestamp <ts>`: the request as
//!   sent; the venue's rule says what of it is signed;
//! - Binance's `--payload '<query>' [--ws-api]`: the payload as given;
//! - Coinbase's `--method M --path P` (or `--ws`): the JWT mako would send, with its
//!   decoded header and claims (a CDP key signs a token, not a string);
//! - BitMart's `--ws --timestamp <ms>`: the private WebSocket's login message.

mod binance;
mod bitmart;
mod bybit;
mod coinbase;
mod coindcx;
mod coinstore;
mod delta;
mod okx;

use std::process::ExitCode;

use crate::config::{Secret, SecretSource, VenueKind};
use crate::venue::binance::sign::{HmacSigner, ws_api_payload};

pub use bitmart::{BitmartWsLogin, bitmart_sign, bitmart_ws_login};
pub use coinbase::{CoinbaseSigned, coinbase_jwt};

/// Signs `req` by `kind`'s rule. `key` fills the key header (else a placeholder).
pub fn sign_request(
    kind: VenueKind,
    req: &Request,
    secret: &Secret,
    key: Option<&str>,
    passphrase: bool,
) -> Result<Signed, String> {
    let key_given = key.is_some();
    let key = key.unwrap_or("<the value of --key-env>").to_owned();
    if !matches!(req.method.as_str(), "GET" | "POST" | "DELETE" | "PUT") {
        return Err(format!(
            "--method {:?}: expected GET, POST, DELETE or PUT",
            req.method
        ));
    }
    match kind {
        VenueKind::BinanceSpot => binance::sign(req, secret, key),
        VenueKind::OkxSpot => okx::sign(req, secret, key, passphrase),
        VenueKind::DeltaIndia | VenueKind::DeltaGlobal => delta::sign(req, secret, key),
        VenueKind::BitmartSpot => Err(
            "bitmart-spot signs with the key's memo: see bitmart_sign (mako sign --venue \
             bitmart-spot --memo-env VAR …)"
                .into(),
        ),
        VenueKind::BybitSpot | VenueKind::BybitLinear => bybit::sign(req, secret, key, key_given),
        VenueKind::CoinstoreSpot => coinstore::sign(req, secret, key),
        VenueKind::Coinbase => Err(
            "coinbase signs a JWT, not a string: see coinbase_jwt (mako sign --venue coinbase \
             --key-env VAR --secret-env VAR --method M --path P)"
                .into(),
        ),
        VenueKind::CoindcxFutures => coindcx::sign(req, secret, key),
    }
}

const USAGE: &str =
    "usage: mako sign --venue <kind> --secret-env VAR [--key-env VAR] [--passphrase-env VAR]
                 --method GET|POST|DELETE --path '<path?query>' [--body '<exact body>']
                 --timestamp <the venue's own timestamp form>
       mako sign --venue binance-spot --secret-env VAR --payload '<query>' [--ws-api]
       mako sign --venue bitmart-spot --key-env VAR --secret-env VAR --memo-env VAR
                 (--method GET|POST --path '<path>' [--body '<exact body>'] | --ws)
                 --timestamp <ms>
       mako sign --venue coinbase --key-env VAR --secret-env VAR
                 (--method M --path '<path>' [--host H] | --ws) [--timestamp <Unix s>]
  binance-spot: the signed string is the query (with timestamp=<ts> added when it has none)
                followed by the body; --timestamp is Unix milliseconds.
  okx-spot:     the signed string is timestamp + METHOD + path (with its query) + body;
                --timestamp is ISO-8601 with milliseconds (2020-12-08T09:08:57.715Z).
  bitmart-spot: the signed string is timestamp#memo#body (the memo shown as a placeholder);
                a GET or DELETE signs an empty payload (the official SDK's rule); --ws:
                timestamp#memo#bitmart.WebSocket, printed with the login message sent.
  bybit-spot, bybit-linear: the signed string is timestamp + api key + recv_window (5000) +
                the query string (GET) or the body (POST), as sent; --key-env is required;
                --timestamp is Unix milliseconds.
  delta-india, delta-global: the signed string is METHOD + timestamp + path (with /v2) +
                ?query + body, as sent; --timestamp is Unix seconds (accepted for 5 s);
                headers api-key, signature, timestamp, User-Agent, Content-Type.
  coindcx-futures: the signed string is the body exactly as sent: compact JSON holding
                \"timestamp\":<ts> (Unix milliseconds, = --timestamp), or the private
                channel's {\"channel\":\"coindcx\"} (--method POST, any --path).
  coinbase:     prints the JWT (ES256 or EdDSA by the secret: an EC PEM, \\n-escaped or not,
                or base64 Ed25519) with its header and claims; uri = \"M <host><path>\"
                (host api.coinbase.com unless --host), no query; --ws: no uri claim.
                --timestamp (nbf) defaults to now.
  --payload (Binance): the query string followed by the body (no separator), as sent;
        non-ASCII characters are percent-encoded before signing.
  --ws-api: the payload's parameters are sorted by name (WebSocket API rule), not encoded.";

/// A request as the venue receives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub method: String,
    /// Path with its query string.
    pub path: String,
    pub body: String,
    pub timestamp: String,
}

/// What a venue signs for `request`, and the headers that carry key and signature: the
/// signature's own header value is `SIGNATURE` in `headers` (it is printed apart).
pub struct Signed {
    pub signed: String,
    pub signature: String,
    pub headers: Vec<(String, String)>,
}

#[derive(Default)]
struct Args {
    venue: Option<String>,
    secret_env: Option<String>,
    key_env: Option<String>,
    passphrase_env: Option<String>,
    /// BitMart: the key's memo.
    memo_env: Option<String>,
    payload: Option<String>,
    ws_api: bool,
    method: Option<String>,
    path: Option<String>,
    body: Option<String>,
    timestamp: Option<String>,
    /// Coinbase: the host named in the `uri` claim.
    host: Option<String>,
    /// Coinbase: a WebSocket token; BitMart: the private WebSocket's login.
    ws: bool,
}

fn parse(args: &[String]) -> Result<Args, String> {
    let mut a = Args::default();
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let mut value = || it.next().cloned().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--venue" => a.venue = Some(value()?),
            "--secret-env" => a.secret_env = Some(value()?),
            "--key-env" => a.key_env = Some(value()?),
            "--passphrase-env" => a.passphrase_env = Some(value()?),
            "--memo-env" => a.memo_env = Some(value()?),
            "--payload" => a.payload = Some(value()?),
            "--ws-api" => a.ws_api = true,
            "--ws" => a.ws = true,
            "--host" => a.host = Some(value()?),
            "--method" => a.method = Some(value()?.to_ascii_uppercase()),
            "--path" => a.path = Some(value()?),
            "--body" => a.body = Some(value()?),
            "--timestamp" => a.timestamp = Some(value()?),
            other => return Err(format!("unexpected argument {other:?}")),
        }
    }
    Ok(a)
}

fn load(var: &Option<String>) -> Result<Option<crate::config::Secret>, String> {
    var.as_ref()
        .map(|v| {
            SecretSource::Env(v.clone())
                .load()
                .map_err(|e| e.to_string())
        })
        .transpose()
}

pub fn run(args: &[String]) -> ExitCode {
    let a = match parse(args) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("mako sign: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let (Some(venue), Some(secret_env)) = (a.venue.clone(), a.secret_env.clone()) else {
        eprintln!("mako sign: --venue and --secret-env are required\n{USAGE}");
        return ExitCode::from(2);
    };
    let Some(kind) = VenueKind::from_name(&venue) else {
        eprintln!(
            "mako sign: unknown venue kind {venue:?}; the kinds are: {}",
            VenueKind::ALL.map(VenueKind::as_str).join(", ")
        );
        return ExitCode::from(2);
    };
    let secrets = (
        load(&Some(secret_env)),
        load(&a.key_env),
        load(&a.passphrase_env),
    );
    let (secret, key, passphrase) = match secrets {
        (Ok(Some(s)), Ok(k), Ok(p)) => (s, k, p),
        (Err(e), ..) | (_, Err(e), _) | (.., Err(e)) => {
            eprintln!("mako sign: {e}");
            return ExitCode::from(1);
        }
        (Ok(None), ..) => unreachable!("the secret's variable was given"),
    };
    if kind == VenueKind::Coinbase {
        return coinbase::run(&a, &secret, key.as_ref());
    }
    if kind == VenueKind::BitmartSpot {
        return bitmart::run(&a, &secret, key.as_ref());
    }
    if let (Some(method), Some(path), Some(timestamp)) = (&a.method, &a.path, &a.timestamp) {
        let req = Request {
            method: method.clone(),
            path: path.clone(),
            body: a.body.clone().unwrap_or_default(),
            timestamp: timestamp.clone(),
        };
        let key = key.as_ref().map(|k| k.expose().to_owned());
        let signed = match sign_request(kind, &req, &secret, key.as_deref(), passphrase.is_some()) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("mako sign: {e}");
                return ExitCode::from(2);
            }
        };
        println!("signed: {}", signed.signed);
        for (k, v) in &signed.headers {
            println!("header: {k}: {v}");
        }
        println!("signature: {}", signed.signature);
        return ExitCode::SUCCESS;
    }
    let Some(payload) = a.payload.clone() else {
        eprintln!(
            "mako sign: give --method, --path and --timestamp (or Binance's --payload)\n{USAGE}"
        );
        return ExitCode::from(2);
    };
    if kind != VenueKind::BinanceSpot {
        eprintln!("mako sign: --payload is Binance's form; use --method/--path/--timestamp");
        return ExitCode::from(2);
    }
    let ws_api = a.ws_api;
    let to_sign = if ws_api {
        let params: Vec<(&str, &str)> = payload
            .split('&')
            .filter(|s| !s.is_empty())
            .map(|kv| kv.split_once('=').unwrap_or((kv, "")))
            .collect();
        ws_api_payload(&params)
    } else {
        encode_non_ascii(&payload)
    };
    let sig = HmacSigner::new(&secret).sign_hex(to_sign.as_bytes());
    println!("string to sign: {to_sign}");
    println!("signature:      {}", String::from_utf8_lossy(&sig));
    ExitCode::SUCCESS
}

/// Percent-encodes only non-ASCII bytes, leaving the query's own `&` and `=` as they are.
fn encode_non_ascii(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        if ch.is_ascii() {
            out.push(ch);
        } else {
            let mut b = [0u8; 4];
            for byte in ch.encode_utf8(&mut b).bytes() {
                out.push_str(&format!("%{byte:02X}"));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn encodes_only_non_ascii() {
        assert_eq!(
            encode_non_ascii("symbol=１&side=BUY"),
            "symbol=%EF%BC%91&side=BUY"
        );
    }
}
