//! Request-weight and order-rate limits: per-IP weight per minute (429 with Retry-After when
//! exceeded, 418 once an IP keeps going), per-account orders per 10 s (-1015).

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Instant;

use parking_lot::Mutex;

use super::config::LimitConfig;
use super::exchange::{ApiError, now_ms};

#[derive(Default)]
struct IpState {
    minute: u64,
    used: u32,
    strikes: u32,
    banned_until: Option<Instant>,
}

#[derive(Default)]
struct OrderState {
    window: u64,
    count: u32,
}

pub struct Limits {
    cfg: LimitConfig,
    ips: Mutex<HashMap<IpAddr, IpState>>,
    orders: Mutex<HashMap<usize, OrderState>>,
    /// OKX: times (ms) of the new orders of the last 2 s, per account and instrument.
    okx_orders: Mutex<HashMap<(usize, usize), std::collections::VecDeque<u64>>>,
    /// BitMart: (2-second window, requests counted in it) per account and endpoint.
    bitmart: Mutex<HashMap<BitmartKey, (u64, u32)>>,
}

/// A BitMart request window's owner: account and endpoint path.
type BitmartKey = (usize, &'static str);

/// OKX's documented limit on placing orders: 60 requests per 2 s per user and instrument.
const OKX_ORDERS_PER_2S: usize = 60;

/// What a request's weight check answers.
pub enum WeightCheck {
    /// Allowed; the weight used in the current minute, after this request.
    Ok(u32),
    /// Over the limit: HTTP status (429 or 418), the error, seconds to wait, weight used.
    Refused(u16, ApiError, u64, u32),
}

impl Limits {
    pub fn new(cfg: LimitConfig) -> Self {
        Limits {
            cfg,
            ips: Mutex::new(HashMap::new()),
            orders: Mutex::new(HashMap::new()),
            okx_orders: Mutex::new(HashMap::new()),
            bitmart: Mutex::new(HashMap::new()),
        }
    }

    pub fn config(&self) -> &LimitConfig {
        &self.cfg
    }

    /// Adds a request's weight to its IP's current minute.
    pub fn charge(&self, ip: IpAddr, weight: u32) -> WeightCheck {
        let now_ms = now_ms();
        let minute = now_ms / 60_000;
        let mut ips = self.ips.lock();
        let s = ips.entry(ip).or_default();
        if s.minute != minute {
            s.minute = minute;
            s.used = 0;
        }
        let retry = 60 - (now_ms / 1000) % 60;
        if let Some(until) = s.banned_until {
            let now = Instant::now();
            if now < until {
                let secs = (until - now).as_secs().max(1);
                let e = ApiError::new(
                    418,
                    -1003,
                    format!(
                        "Way too much request weight used; IP banned until {}. Please use WebSocket Streams for live updates to avoid bans.",
                        now_ms + secs * 1000
                    ),
                );
                return WeightCheck::Refused(418, e, secs, s.used);
            }
            s.banned_until = None;
            s.strikes = 0;
        }
        s.used = s.used.saturating_add(weight);
        if s.used > self.cfg.weight_per_minute {
            s.strikes += 1;
            if s.strikes > self.cfg.bans_after {
                s.banned_until = Some(Instant::now() + self.cfg.ban_duration);
                let secs = self.cfg.ban_duration.as_secs().max(1);
                let e = ApiError::new(
                    418,
                    -1003,
                    format!(
                        "Way too much request weight used; IP banned until {}. Please use WebSocket Streams for live updates to avoid bans.",
                        now_ms + secs * 1000
                    ),
                );
                return WeightCheck::Refused(418, e, secs, s.used);
            }
            let e = ApiError::new(429, -1003, "Too much request weight used; current limit is 6000 request weight per 1 MINUTE. Please use WebSocket Streams for live updates to avoid polling the API.".replace("6000", &self.cfg.weight_per_minute.to_string()));
            return WeightCheck::Refused(429, e, retry, s.used);
        }
        WeightCheck::Ok(s.used)
    }

    /// Counts a new order for an account; `Err(-1015)` past the 10-second limit.
    pub fn order(&self, account: usize) -> Result<u32, ApiError> {
        let window = now_ms() / 10_000;
        let mut o = self.orders.lock();
        let s = o.entry(account).or_default();
        if s.window != window {
            s.window = window;
            s.count = 0;
        }
        if s.count >= self.cfg.orders_per_10s {
            return Err(ApiError::new(
                429,
                -1015,
                format!(
                    "Too many new orders; current limit is {} orders per 10 SECOND.",
                    self.cfg.orders_per_10s
                ),
            ));
        }
        s.count += 1;
        Ok(s.count)
    }

    /// Counts a new OKX order of `account` on instrument `symbol`: at most 60 in any 2 s,
    /// else the error OKX answers with `50011` (the OKX front end maps `-1015` to it).
    pub fn okx_order(&self, account: usize, symbol: usize) -> Result<(), ApiError> {
        let now = now_ms();
        let mut o = self.okx_orders.lock();
        let sent = o.entry((account, symbol)).or_default();
        while sent
            .front()
            .is_some_and(|t| now.saturating_sub(*t) >= 2_000)
        {
            sent.pop_front();
        }
        if sent.len() >= OKX_ORDERS_PER_2S {
            return Err(ApiError::new(
                429,
                -1015,
                "Rate limit reached. Please refer to API documentation and throttle requests accordingly.",
            ));
        }
        sent.push_back(now);
        Ok(())
    }

    /// Orders counted for an account in the current 10-second window.
    pub fn order_count(&self, account: usize) -> u32 {
        let window = now_ms() / 10_000;
        self.orders
            .lock()
            .get(&account)
            .filter(|s| s.window == window)
            .map_or(0, |s| s.count)
    }

    /// Counts a BitMart request of `account` on `endpoint` in the current 2-second window
    /// (BitMart's limits are per endpoint per 2 s, exchanges.md §5.4): `Ok(used)` with the
    /// requests counted so far, this one included; `Err(used)` when it is over `limit` (not
    /// counted).
    pub fn bitmart_request(
        &self,
        account: usize,
        endpoint: &'static str,
        limit: u32,
    ) -> Result<u32, u32> {
        let window = now_ms() / 2_000;
        let mut m = self.bitmart.lock();
        let s = m.entry((account, endpoint)).or_insert((window, 0));
        if s.0 != window {
            *s = (window, 0);
        }
        if s.1 >= limit {
            return Err(s.1);
        }
        s.1 += 1;
        Ok(s.1)
    }

    /// Forgets every IP's weight and ban (tests).
    pub fn reset(&self) {
        self.ips.lock().clear();
        self.orders.lock().clear();
        self.bitmart.lock().clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn okx_orders_are_limited_per_account_and_instrument() {
        let l = Limits::new(LimitConfig {
            weight_per_minute: 6000,
            orders_per_10s: 50,
            bans_after: 3,
            ban_duration: std::time::Duration::from_secs(60),
        });
        // Sixty go (more than Binance's fifty per 10 s: that count does not apply to OKX).
        assert!((0..60).all(|_| l.okx_order(0, 0).is_ok()));
        let e = l.okx_order(0, 0).unwrap_err();
        assert_eq!((e.status, e.code), (429, -1015));
        // Another instrument, another account: their own windows.
        assert!(l.okx_order(0, 1).is_ok());
        assert!(l.okx_order(1, 0).is_ok());
    }
}
