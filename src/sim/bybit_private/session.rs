//! The simulated Bybit private WebSocket (`/v5/private`): `auth` checked as Bybit documents
//! it, topics subscribed, and order, execution, wallet and position pushes of the account.

use super::*;

/// One `/v5/private` connection.
pub struct BybitPrivateSession {
    shared: Arc<Shared>,
    conn: u64,
    mailbox: Mailbox,
    account: Option<usize>,
    /// The topics subscribed (`order`, `order.spot`, `execution.linear`, `position`, …).
    topics: std::collections::BTreeSet<String>,
    /// The push counter (each push's `id`).
    pushes: u64,
    /// Pushes made from one core event after the first (an order and its execution).
    pending: std::collections::VecDeque<String>,
}

impl BybitPrivateSession {
    pub fn new(shared: Arc<Shared>, conn: u64, mailbox: Mailbox) -> Self {
        Self {
            shared,
            conn,
            mailbox,
            account: None,
            topics: std::collections::BTreeSet::new(),
            pushes: 0,
            pending: std::collections::VecDeque::new(),
        }
    }

    fn conn_id(&self) -> String {
        format!("sim{:08x}", self.conn)
    }

    fn reply(q: &mut Queue, v: Value) {
        q.push_back((Instant::now(), Some(v.to_string())));
    }

    /// `{"op":"auth","args":[key, expires, signature]}`: the account, or Bybit's message.
    fn auth(&self, args: &[Value]) -> Result<usize, &'static str> {
        let key = args.first().and_then(Value::as_str).unwrap_or("");
        let expires = args
            .get(1)
            .and_then(|e| e.as_u64().or_else(|| e.as_str()?.parse().ok()))
            .ok_or("Params Error")?;
        let sig = args.get(2).and_then(Value::as_str).unwrap_or("");
        let ex = self.shared.ex.lock();
        let account = ex.account_by_key(key).ok_or("Invalid apikey")?;
        if expires <= self.shared.faults.server_ms() {
            return Err("Params Error: request expired");
        }
        if sig
            != sign(
                &ex.accounts[account].secret,
                &format!("GET/realtime{expires}"),
            )
        {
            return Err("Signature for this request is not valid.");
        }
        Ok(account)
    }

    /// The topic a push of `kind` (`order`, `execution`, `position`) on a `cat` symbol goes
    /// out as: the all-in-one topic if subscribed, else the category's; `None`: neither.
    fn topic_for(&self, kind: &str, cat: &str) -> Option<String> {
        if self.topics.contains(kind) {
            return Some(kind.to_owned());
        }
        let categorised = format!("{kind}.{cat}");
        self.topics.contains(&categorised).then_some(categorised)
    }

    fn push(&mut self, topic: &str, data: Value) -> String {
        self.pushes += 1;
        json!({"id": format!("{}-{}", self.conn_id(), self.pushes), "topic": topic,
               "creationTime": now_ms(), "data": [data]})
        .to_string()
    }

    /// An `executionReport` of the core as an `order` push (and an `execution` push when it
    /// is a trade): the report's own status and cumulative figures.
    fn order_pushes(&mut self, e: &Value) -> Option<Vec<String>> {
        let id: u64 = e.get("i")?.as_u64()?;
        let num =
            |k: &str| -> Option<i64> { Some(Price::parse(e.get(k)?.as_str()?).ok()?.units()) };
        let status = match e.get("X")?.as_str()? {
            "NEW" => Status::New,
            "PARTIALLY_FILLED" => Status::PartiallyFilled,
            "FILLED" => Status::Filled,
            "EXPIRED" => Status::Expired,
            _ => Status::Canceled,
        };
        let (cum_qty, cum_value) = (num("z")?, num("Z")?);
        let trade = e.get("x")?.as_str()? == "TRADE";
        let mut out = Vec::new();
        let (cat, order, execution, position) = {
            let ex = self.shared.ex.lock();
            let o = ex.orders.get(&id)?;
            let cat = category(&self.shared, o.symbol);
            let mut order = order_json(cat, o, status, cum_qty, cum_value, fees_of(&ex, id));
            // The report's client id (a cancel's original id).
            if let Some(c) = e.get("C").and_then(Value::as_str).filter(|c| !c.is_empty()) {
                order["orderLinkId"] = json!(c);
            }
            let execution = trade.then(|| {
                let (qty, price, fee) = (num("l"), num("L"), num("n"));
                json!({"category": cat, "symbol": o.symbol_name, "orderId": id.to_string(),
                    "orderLinkId": order["orderLinkId"],
                    "side": if o.side == Side::Buy { "Buy" } else { "Sell" },
                    "execId": exec_id(e.get("t").and_then(Value::as_u64).unwrap_or(0)),
                    "execPrice": dec(price.unwrap_or(0)), "execQty": dec(qty.unwrap_or(0)),
                    "execValue": dec((i128::from(price.unwrap_or(0)) * i128::from(qty.unwrap_or(0)) / 100_000_000) as i64),
                    "execFee": dec(fee.unwrap_or(0)),
                    "feeCurrency": e.get("N").and_then(Value::as_str).unwrap_or(""),
                    "execType": "Trade", "isMaker": e.get("m").and_then(Value::as_bool).unwrap_or(false),
                    "leavesQty": dec(o.orig_qty.units() - cum_qty),
                    "orderPrice": order["price"], "orderQty": order["qty"], "orderType": order["orderType"],
                    "execTime": e.get("T").map(|t| t.to_string()).unwrap_or_default()})
            });
            // A linear fill changes the position: Bybit pushes it on the `position` topic.
            let account = self.account?;
            // The topic names the entry `entryPrice` where the REST list says `avgPrice`.
            let position = (trade && cat == "linear").then(|| {
                let mut p = position_json(&self.shared, &ex, account, o.symbol);
                if let Some(m) = p.as_object_mut()
                    && let Some(avg) = m.remove("avgPrice")
                {
                    m.insert("entryPrice".into(), avg);
                }
                p
            });
            (cat, order, execution, position)
        };
        if let Some(t) = self.topic_for("order", cat) {
            out.push(self.push(&t, order));
        }
        if let (Some(t), Some(x)) = (self.topic_for("execution", cat), execution) {
            out.push(self.push(&t, x));
        }
        if let (Some(t), Some(p)) = (self.topic_for("position", cat), position) {
            out.push(self.push(&t, p));
        }
        Some(out)
    }

    /// A funding payment as Bybit books it: an `execution` of `execType` `Funding` (the
    /// position's size and side, the mark as `execPrice`, the rate as `feeRate`, the amount
    /// as `execFee`, positive when paid), with no order.
    fn funding_push(&mut self, e: &Value) -> Option<String> {
        let s = |k: &str| e.get(k).and_then(Value::as_str).unwrap_or("");
        let size = s("q");
        let (side, qty) = match size.strip_prefix('-') {
            Some(q) => ("Sell", q),
            None => ("Buy", size),
        };
        let mark = Price::parse(s("p")).ok()?;
        let value = (i128::from(mark.units()) * i128::from(Price::parse(qty).ok()?.units())
            / 100_000_000) as i64;
        let time = e.get("T")?.as_u64()?;
        let item = json!({"category": "linear", "symbol": s("s"), "orderId": "", "orderLinkId": "",
            "side": side, "execId": format!("funding-{}-{time}", s("s")), "execType": "Funding",
            "execPrice": s("p"), "execQty": qty, "execValue": dec(value), "feeRate": s("r"),
            "execFee": s("n"), "feeCurrency": s("N"), "isMaker": false, "leavesQty": "0",
            "orderPrice": "", "orderQty": "", "orderType": "UNKNOWN",
            "execTime": time.to_string()});
        let topic = self.topic_for("execution", "linear")?;
        Some(self.push(&topic, item))
    }

    fn wallet_push(&mut self) -> Option<String> {
        let account = self.account?;
        let w = {
            let ex = self.shared.ex.lock();
            wallet(&self.shared, &ex, account)
        };
        let item = w.get("list")?.get(0)?.clone();
        Some(self.push("wallet", item))
    }
}

impl Session for BybitPrivateSession {
    fn on_text(&mut self, text: &str, q: &mut Queue) -> bool {
        let Ok(v) = serde_json::from_str::<Value>(text) else {
            Self::reply(
                q,
                json!({"success": false, "ret_msg": format!("Invalid request: {text}"), "conn_id": self.conn_id()}),
            );
            return true;
        };
        let op = v.get("op").and_then(Value::as_str).unwrap_or("");
        let req_id = v.get("req_id").cloned().unwrap_or(json!(""));
        let args = v
            .get("args")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        match (op, self.account) {
            ("ping", _) => Self::reply(
                q,
                json!({"req_id": req_id, "op": "pong", "args": [now_ms().to_string()], "conn_id": self.conn_id()}),
            ),
            ("auth", _) => {
                let r = self.auth(&args);
                let ok = r.is_ok();
                if let Ok(a) = r {
                    self.account = Some(a);
                }
                Self::reply(
                    q,
                    json!({"success": ok, "ret_msg": r.err().unwrap_or(""), "op": "auth", "conn_id": self.conn_id()}),
                );
            }
            ("subscribe", Some(account)) => {
                const TOPICS: [&str; 9] = [
                    "order",
                    "order.spot",
                    "order.linear",
                    "execution",
                    "execution.spot",
                    "execution.linear",
                    "position",
                    "position.linear",
                    "wallet",
                ];
                let names: Vec<&str> = args.iter().filter_map(Value::as_str).collect();
                let mut ok = !names.is_empty()
                    && names.len() == args.len()
                    && names.iter().all(|n| TOPICS.contains(n));
                // All-in-one and categorised topics cannot be mixed in one request (§3.6).
                let all_in_one = names.iter().filter(|n| !n.contains('.')).count();
                if all_in_one > 0
                    && all_in_one < names.len()
                    && names.iter().any(|n| *n != "wallet" && !n.contains('.'))
                    && names.iter().any(|n| n.contains('.'))
                {
                    ok = false;
                }
                if ok {
                    if self.topics.is_empty() {
                        self.shared.hub.add_user(
                            self.conn,
                            account,
                            self.conn,
                            self.mailbox.clone(),
                        );
                    }
                    self.topics.extend(names.iter().map(|n| (*n).to_owned()));
                }
                Self::reply(
                    q,
                    json!({"success": ok, "ret_msg": if ok { "" } else { "Invalid topic" }, "conn_id": self.conn_id(), "req_id": req_id, "op": "subscribe"}),
                );
            }
            (_, None) => Self::reply(
                q,
                json!({"success": false, "ret_msg": "Request not authorized", "conn_id": self.conn_id(), "req_id": req_id, "op": op}),
            ),
            _ => Self::reply(
                q,
                json!({"success": false, "ret_msg": format!("Invalid op: {op}"), "conn_id": self.conn_id(), "req_id": req_id, "op": op}),
            ),
        }
        true
    }

    fn render(&mut self, o: Outbound) -> Option<(Instant, Option<String>)> {
        match o {
            Outbound::Text(t) => {
                let w: Value = serde_json::from_str(&t).ok()?;
                let e = w.get("event")?;
                let texts = match e.get("e")?.as_str()? {
                    "executionReport" => self.order_pushes(e)?,
                    "outboundAccountPosition" if self.topics.contains("wallet") => {
                        vec![self.wallet_push()?]
                    }
                    "funding" => vec![self.funding_push(e)?],
                    _ => return None,
                };
                // One core event can make two pushes (order and execution): the second
                // waits in `pending` for `render_more`.
                let mut it = texts.into_iter();
                let first = it.next()?;
                self.pending.extend(it);
                Some((Instant::now(), Some(first)))
            }
            Outbound::Close => Some((Instant::now(), None)),
            Outbound::Market { .. } => None,
        }
    }

    fn render_more(&mut self) -> Option<(Instant, Option<String>)> {
        self.pending.pop_front().map(|t| (Instant::now(), Some(t)))
    }

    fn idle_timeout(&self) -> Option<std::time::Duration> {
        // Bybit closes a connection that sends no ping for 10 minutes; the client pings
        // every 20 s (§3.2).
        Some(std::time::Duration::from_secs(600))
    }

    fn limits_incoming(&self) -> bool {
        false
    }
}
