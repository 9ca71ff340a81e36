//! The sections that are not about venues: `[risk]` limits, and the low-priority services'
//! `[persistence]`, `[status]` and `[notifications]`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use super::error::ConfigErrors;
use super::fields::{self, Checked, Reported, UrlKind, join};
use super::model::*;
use super::raw::*;

pub const DEFAULT_DB_PATH: &str = "mako.sqlite";
pub const DEFAULT_BATCH_WINDOW: Duration = Duration::from_millis(50);
pub const DEFAULT_QUEUE_CAPACITY: usize = 65_536;
pub const DEFAULT_PUBLISH_INTERVAL: Duration = Duration::from_millis(250);
pub const DEFAULT_TELEGRAM_URL: &str = "https://api.telegram.org";
pub const DEFAULT_TELEGRAM_INTERVAL: Duration = Duration::from_secs(2);

/// `[risk]` or `[strategies.risk]`: every limit optional, every limit given must be usable.
pub(super) fn risk_limits(
    r: &RawRisk,
    path: &str,
    errors: &mut ConfigErrors,
) -> Checked<RiskLimits> {
    let p = |k: &str| join(path, k);
    let max_order_qty = fields::opt_qty(errors, &p("max_order_qty"), r.max_order_qty.as_ref());
    let max_order_notional = fields::opt_price(
        errors,
        &p("max_order_notional"),
        r.max_order_notional.as_ref(),
    );
    let max_position = fields::opt_qty(errors, &p("max_position"), r.max_position.as_ref());
    let max_open_orders = fields::opt_count(errors, &p("max_open_orders"), r.max_open_orders);
    let mut price_collar_bps =
        fields::opt_count(errors, &p("price_collar_bps"), r.price_collar_bps);
    if let Ok(Some(bps)) = price_collar_bps
        && bps > 10_000
    {
        errors.push(
            p("price_collar_bps"),
            format!("{bps} bps is more than 100 %; use at most 10000"),
        );
        price_collar_bps = Err(Reported);
    }
    let max_daily_loss = fields::opt_price(errors, &p("max_daily_loss"), r.max_daily_loss.as_ref());
    let max_trades_per_day =
        fields::opt_count(errors, &p("max_trades_per_day"), r.max_trades_per_day);
    let max_orders_per_sec =
        fields::opt_count(errors, &p("max_orders_per_sec"), r.max_orders_per_sec);
    let max_position_notional = fields::opt_price(
        errors,
        &p("max_position_notional"),
        r.max_position_notional.as_ref(),
    );
    let max_leverage = fields::opt_rate(errors, &p("max_leverage"), r.max_leverage.as_ref());
    let mut min_liquidation_distance_bps = fields::opt_count(
        errors,
        &p("min_liquidation_distance_bps"),
        r.min_liquidation_distance_bps,
    );
    if let Ok(Some(bps)) = min_liquidation_distance_bps
        && bps >= 10_000
    {
        errors.push(
            p("min_liquidation_distance_bps"),
            format!("{bps} bps is 100 % or more: no position could pass; use less than 10000"),
        );
        min_liquidation_distance_bps = Err(Reported);
    }
    Ok(RiskLimits {
        max_position_notional: max_position_notional?,
        max_leverage: max_leverage?,
        min_liquidation_distance_bps: min_liquidation_distance_bps?,
        max_order_qty: max_order_qty?,
        max_order_notional: max_order_notional?,
        max_position: max_position?,
        max_open_orders: max_open_orders?,
        price_collar_bps: price_collar_bps?,
        max_daily_loss: max_daily_loss?,
        max_trades_per_day: max_trades_per_day?,
        max_orders_per_sec: max_orders_per_sec?,
    })
}

pub(super) fn persistence(
    section: &RawSection<RawPersistence>,
    errors: &mut ConfigErrors,
) -> Checked<PersistenceConfig> {
    let default = RawPersistence::default();
    let r = match section {
        RawSection::Broken => return Err(Reported),
        s => s.ok().unwrap_or(&default),
    };
    let path = r.path.as_deref().unwrap_or(DEFAULT_DB_PATH);
    let path_ok = if path.trim().is_empty() {
        errors.push(
            "persistence.path",
            format!("must not be empty; the default is {DEFAULT_DB_PATH:?}"),
        );
        Err(Reported)
    } else {
        Ok(())
    };
    let batch_window = fields::positive_duration(
        errors,
        "persistence.batch_window",
        r.batch_window.as_ref(),
        DEFAULT_BATCH_WINDOW,
    );
    let queue_capacity = r.queue_capacity.unwrap_or(DEFAULT_QUEUE_CAPACITY);
    let capacity_ok = if queue_capacity == 0 {
        errors.push("persistence.queue_capacity", "must be at least 1");
        Err(Reported)
    } else {
        Ok(())
    };
    path_ok?;
    capacity_ok?;
    Ok(PersistenceConfig {
        enabled: r.enabled.unwrap_or(true),
        path: PathBuf::from(path),
        batch_window: batch_window?,
        queue_capacity,
    })
}

pub(super) fn status(
    section: &RawSection<RawStatus>,
    errors: &mut ConfigErrors,
) -> Checked<StatusConfig> {
    let default = RawStatus::default();
    let r = match section {
        RawSection::Broken => return Err(Reported),
        s => s.ok().unwrap_or(&default),
    };
    let bind = match &r.bind {
        None => Ok(None),
        Some(s) => s.parse::<SocketAddr>().map(Some).map_err(|_| {
            errors.push(
                "status.bind",
                format!("{s:?} is not an address: write ip:port, e.g. \"127.0.0.1:8787\""),
            );
            Reported
        }),
    };
    let token = fields::secret_source(
        errors,
        "status",
        "token",
        r.token_env.as_deref(),
        r.token_file.as_deref(),
    );
    let publish_interval = fields::positive_duration(
        errors,
        "status.publish_interval",
        r.publish_interval.as_ref(),
        DEFAULT_PUBLISH_INTERVAL,
    );
    let console_interval = match &r.console_interval {
        None => Ok(None),
        some => fields::positive_duration(
            errors,
            "status.console_interval",
            some.as_ref(),
            Duration::ZERO,
        )
        .map(Some),
    };
    Ok(StatusConfig {
        bind: bind?,
        token: token?,
        publish_interval: publish_interval?,
        console_interval: console_interval?,
    })
}

pub(super) fn notifications(
    section: &RawSection<RawNotifications>,
    errors: &mut ConfigErrors,
) -> Checked<NotifyConfig> {
    let t = match section {
        RawSection::Broken => return Err(Reported),
        RawSection::Absent => return Ok(NotifyConfig::default()),
        RawSection::Ok(n) => match &n.telegram {
            None => return Ok(NotifyConfig::default()),
            Some(t) => t,
        },
    };
    let path = "notifications.telegram";
    let p = |k: &str| join(path, k);
    let base_url = t.base_url.as_deref().unwrap_or(DEFAULT_TELEGRAM_URL);
    let url_ok = fields::url(errors, &p("base_url"), base_url, UrlKind::Http).map(|_| ());
    let bot_token = match fields::secret_source(
        errors,
        path,
        "bot_token",
        t.bot_token_env.as_deref(),
        t.bot_token_file.as_deref(),
    ) {
        Ok(Some(s)) => Ok(s),
        // Written inline: already reported, with what to write instead.
        Ok(None) if errors.has(&p("bot_token")) => Err(Reported),
        Ok(None) => {
            errors.push(
                p("bot_token_env"),
                "is missing: set bot_token_env (or bot_token_file) to where the bot's token is",
            );
            Err(Reported)
        }
        Err(r) => Err(r),
    };
    let chat_ok = fields::non_empty(errors, &p("chat_id"), &t.chat_id.0);
    let min_interval = fields::positive_duration(
        errors,
        &p("min_interval"),
        t.min_interval.as_ref(),
        DEFAULT_TELEGRAM_INTERVAL,
    );
    url_ok?;
    chat_ok?;
    Ok(NotifyConfig {
        telegram: Some(TelegramConfig {
            base_url: base_url.to_owned(),
            bot_token: bot_token?,
            chat_id: t.chat_id.0.clone(),
            notify_fills: t.notify_fills.unwrap_or(false),
            min_interval: min_interval?,
        }),
    })
}

/// Binance's default spot fee (0.1 %), maker and taker alike.
pub const DEFAULT_PAPER_FEE: &str = "0.001";

/// `[paper]`: fee rates in `[0, 1)`; the section is only read in paper mode.
pub(super) fn paper(
    section: &RawSection<RawPaper>,
    mode: Option<RawMode>,
    errors: &mut ConfigErrors,
) -> Checked<PaperConfig> {
    let default = RawPaper::default();
    let r = match section {
        RawSection::Broken => return Err(Reported),
        RawSection::Ok(_) if mode.is_some_and(|m| m != RawMode::Paper) => {
            errors.push(
                "paper",
                "[paper] is only read with mode = \"paper\": remove it, or change the mode",
            );
            return Err(Reported);
        }
        s => s.ok().unwrap_or(&default),
    };
    let mut rate = |key: &str, v: Option<&DecimalStr>| -> Checked<crate::types::Price> {
        let path = join("paper", key);
        let text = v.map(DecimalStr::as_str).unwrap_or(DEFAULT_PAPER_FEE);
        match crate::types::Price::parse(text) {
            Ok(p) if p.units() >= 0 && p.units() < crate::types::SCALE => Ok(p),
            Ok(_) => {
                errors.push(
                    path,
                    format!("{text:?} must be at least 0 and below 1 (0.001 = 0.1 %)"),
                );
                Err(Reported)
            }
            Err(e) => {
                errors.push(
                    path,
                    format!("{text:?} is not an exact decimal ({e}); write e.g. \"0.001\""),
                );
                Err(Reported)
            }
        }
    };
    let maker_fee = rate("maker_fee", r.maker_fee.as_ref());
    let taker_fee = rate("taker_fee", r.taker_fee.as_ref());
    Ok(PaperConfig {
        maker_fee: maker_fee?,
        taker_fee: taker_fee?,
    })
}
