//! Simulator accounts: API key, secret and per-asset free/locked balances in fixed-point units.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::config::AccountConfig;
use super::orders::fx;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Balance {
    pub free: i64,
    pub locked: i64,
}

#[derive(Debug, Clone)]
pub struct Account {
    pub api_key: String,
    pub secret: String,
    pub ed25519_public_key: Option<ed25519_dalek::VerifyingKey>,
    /// The memo of the account's BitMart key (signed into BitMart requests).
    pub memo: String,
    pub balances: BTreeMap<String, Balance>,
    pub update_ms: u64,
    /// Positions on perpetual symbols, by symbol index.
    pub positions: BTreeMap<usize, super::perp::Position>,
    /// Leverage set per perpetual symbol (`10^-8`; else the symbol's default).
    pub leverage: BTreeMap<usize, i64>,
}

impl Account {
    pub fn new(cfg: &AccountConfig) -> Self {
        let balances = cfg
            .balances
            .iter()
            .map(|(a, q)| {
                (
                    a.clone(),
                    Balance {
                        free: q.units(),
                        locked: 0,
                    },
                )
            })
            .collect();
        Account {
            api_key: cfg.api_key.clone(),
            secret: cfg.secret.clone(),
            ed25519_public_key: cfg.ed25519_public_key,
            memo: cfg.memo.clone(),
            balances,
            update_ms: 0,
            positions: BTreeMap::new(),
            leverage: BTreeMap::new(),
        }
    }

    pub fn free(&self, asset: &str) -> i64 {
        self.balances.get(asset).map_or(0, |b| b.free)
    }

    pub fn bal(&mut self, asset: &str) -> &mut Balance {
        self.balances.entry(asset.to_string()).or_default()
    }

    /// Moves `units` from free to locked; false (and nothing moved) if free is short.
    pub fn lock(&mut self, asset: &str, units: i64) -> bool {
        let b = self.bal(asset);
        if b.free < units {
            return false;
        }
        b.free -= units;
        b.locked += units;
        true
    }

    /// `GET /api/v3/account` shape.
    pub fn account_json(&self, maker: i64, taker: i64, omit_zero: bool) -> Value {
        let balances: Vec<Value> = self
            .balances
            .iter()
            .filter(|(_, b)| !omit_zero || b.free != 0 || b.locked != 0)
            .map(|(a, b)| json!({"asset": a, "free": fx(b.free), "locked": fx(b.locked)}))
            .collect();
        // Commission in basis points as the legacy integer fields (0.001 = 10 bp).
        let bp = |r: i64| r / 10_000;
        json!({
            "makerCommission": bp(maker),
            "takerCommission": bp(taker),
            "buyerCommission": 0,
            "sellerCommission": 0,
            "commissionRates": {
                "maker": fx(maker),
                "taker": fx(taker),
                "buyer": fx(0),
                "seller": fx(0),
            },
            "canTrade": true,
            "canWithdraw": true,
            "canDeposit": true,
            "brokered": false,
            "requireSelfTradePrevention": false,
            "preventSor": false,
            "updateTime": self.update_ms,
            "accountType": "SPOT",
            "balances": balances,
            "permissions": ["SPOT"],
            "uid": 354937868,
        })
    }

    /// The `B` array of an outboundAccountPosition event for the given assets.
    pub fn position_json(&self, assets: &[String]) -> Value {
        let b: Vec<Value> = assets
            .iter()
            .map(|a| {
                let x = self.balances.get(a).copied().unwrap_or_default();
                json!({"a": a, "f": fx(x.free), "l": fx(x.locked)})
            })
            .collect();
        Value::Array(b)
    }
}
