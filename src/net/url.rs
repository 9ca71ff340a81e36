//! `ws://`, `wss://`, `http://` and `https://` URLs split into what a connection needs.

/// A parsed endpoint URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub tls: bool,
    pub host: String,
    pub port: u16,
    /// Path and query, starting with `/`.
    pub path: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid URL {url:?}: {why}")]
pub struct UrlError {
    pub url: String,
    pub why: &'static str,
}

impl Endpoint {
    pub fn parse(url: &str) -> Result<Self, UrlError> {
        let err = |why| UrlError {
            url: url.to_owned(),
            why,
        };
        let (tls, default_port, rest) = if let Some(r) = url.strip_prefix("wss://") {
            (true, 443, r)
        } else if let Some(r) = url.strip_prefix("ws://") {
            (false, 80, r)
        } else if let Some(r) = url.strip_prefix("https://") {
            (true, 443, r)
        } else if let Some(r) = url.strip_prefix("http://") {
            (false, 80, r)
        } else {
            return Err(err("scheme must be ws://, wss://, http:// or https://"));
        };
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) if !h.ends_with(']') || authority.starts_with('[') => (
                h,
                p.parse::<u16>().map_err(|_| err("port is not a number"))?,
            ),
            _ => (authority, default_port),
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if host.is_empty() {
            return Err(err("missing host"));
        }
        Ok(Self {
            tls,
            host: host.to_owned(),
            port,
            path: path.to_owned(),
        })
    }

    /// The same endpoint with another path and query.
    pub fn with_path(&self, path: &str) -> Self {
        Self {
            path: path.to_owned(),
            ..self.clone()
        }
    }

    /// `scheme://host:port/path` for the WebSocket handshake.
    pub fn ws_url(&self) -> String {
        format!(
            "{}://{}:{}{}",
            if self.tls { "wss" } else { "ws" },
            self.host,
            self.port,
            self.path
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_venue_urls() {
        let e = Endpoint::parse("wss://stream.binance.com:9443/stream?streams=btcusdt@bookTicker")
            .unwrap();
        assert_eq!(
            (e.tls, e.host.as_str(), e.port, e.path.as_str()),
            (
                true,
                "stream.binance.com",
                9443,
                "/stream?streams=btcusdt@bookTicker"
            )
        );
        let e = Endpoint::parse("https://api.binance.com").unwrap();
        assert_eq!((e.tls, e.port, e.path.as_str()), (true, 443, "/"));
        let e = Endpoint::parse("ws://127.0.0.1:9000/ws").unwrap();
        assert_eq!((e.tls, e.host.as_str(), e.port), (false, "127.0.0.1", 9000));
        assert!(Endpoint::parse("ftp://x").is_err());
        assert!(Endpoint::parse("ws://:80/").is_err());
        assert!(Endpoint::parse("ws://h:99999/").is_err());
    }
}
