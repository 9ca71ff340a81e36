// The status tables: venues, strategies, latency, trades, orders, risk, persistence.
const $ = (id) => document.getElementById(id);

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
}

// Fills a table from column specs: [title, value(row), class(row)?, numeric?].
function table(id, cols, rows, emptyText) {
  const t = $(id);
  t.replaceChildren();
  const head = el("tr");
  for (const c of cols) head.appendChild(el("th", c[0], c[3] ? "num" : ""));
  t.appendChild(head);
  if (!rows || rows.length === 0) {
    const tr = el("tr");
    const td = el("td", emptyText || "none", "empty");
    td.colSpan = cols.length;
    tr.appendChild(td);
    t.appendChild(tr);
    return;
  }
  for (const r of rows) {
    const tr = el("tr");
    for (const c of cols) {
      const v = c[1](r);
      const cls = [c[2] ? c[2](r) : "", c[3] ? "num" : ""].join(" ").trim();
      tr.appendChild(el("td", v === null || v === undefined ? "–" : v, cls));
    }
    t.appendChild(tr);
  }
}

function kv(id, pairs) {
  const d = $(id);
  d.replaceChildren();
  for (const [k, v, cls] of pairs) {
    d.appendChild(el("div", k, "meta"));
    d.appendChild(el("div", v, cls || ""));
  }
}

const ms = (ns) => (ns === null || ns === undefined) ? null : (ns / 1e6).toFixed(3) + " ms";
const money = (x) => (typeof x === "number") ? x.toFixed(4) : x;
const sign = (x) => (x > 0 ? "ok" : x < 0 ? "bad" : "");
const up = (s) => s === "connected" ? "ok" : (s === "down" || s === "banned") ? "bad" : "warn";
const time = (ns) => ns ? new Date(ns / 1e6).toISOString().substring(11, 23) : null;

function dur(s) {
  s = Math.floor(s);
  const d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600), m = Math.floor(s % 3600 / 60);
  return (d ? d + "d " : "") + String(h).padStart(2, "0") + ":" + String(m).padStart(2, "0") + ":" + String(s % 60).padStart(2, "0");
}

function render(s) {
  $("engine").textContent = s.engine;
  const mode = $("mode");
  mode.textContent = s.mode_label;
  mode.className = "mode " + s.mode_label;
  $("run").textContent = s.run_id;
  $("uptime").textContent = dur(s.uptime_s);
  const risk = s.risk;
  $("kill").textContent = risk.kill_switch ? "TRIPPED (" + risk.kill_reason + ")" : "off";
  $("kill").className = risk.kill_switch ? "bad" : "ok";
  $("updated").textContent = time(s.generated_at_ns);
  const banner = $("banner");
  if (risk.kill_switch) {
    banner.className = "banner kill";
    banner.textContent = "KILL SWITCH TRIPPED: " + risk.kill_reason + " — new orders are refused";
  } else if (s.mode_label !== "LIVE") {
    banner.className = "banner " + s.mode_label;
    banner.textContent = s.mode_label + " MODE — no real orders; every record is labelled " + s.mode;
  } else {
    banner.className = "banner";
  }

  table("venues", [
    ["venue", (v) => v.name],
    ["market data", (v) => v.market_data, (v) => up(v.market_data)],
    ["orders", (v) => v.orders, (v) => up(v.orders)],
    ["messages", (v) => v.messages, null, true],
    ["resyncs", (v) => v.resyncs, null, true],
    ["band", (v) => v.band],
    ["band stat", (v) => v.band_measurement ? v.band_measurement + " " + ms(v.band_statistic_ns) : null],
    ["fills", (v) => v.fills, null, true],
  ], s.venues);

  table("strategies", [
    ["id", (x) => x.id],
    ["instrument", (x) => x.instrument],
    ["state", (x) => x.state, (x) => x.state === "running" ? "ok" : x.state === "paused" ? "warn" : ""],
    ["position", (x) => x.position, null, true],
    ["PnL", (x) => money(x.pnl), (x) => sign(x.pnl), true],
    ["trades", (x) => x.trades, null, true],
    ["open", (x) => x.open_orders, null, true],
    ["bid", (x) => x.quotes.bid ? x.quotes.bid.qty + " @ " + x.quotes.bid.price : null, null, true],
    ["ask", (x) => x.quotes.ask ? x.quotes.ask.qty + " @ " + x.quotes.ask.price : null, null, true],
    ["entries", (x) => x.entries_stopped ? "stopped: " + x.entries_stopped : "on", (x) => x.entries_stopped ? "bad" : ""],
  ], s.strategies);

  // Perpetual positions: entry, mark, unrealized PnL, leverage, liquidation and funding.
  table("perps", [
    ["id", (x) => x.id],
    ["instrument", (x) => x.instrument],
    ["position", (x) => x.position, null, true],
    ["entry", (x) => x.perp.entry, null, true],
    ["mark", (x) => x.perp.mark, null, true],
    ["uPnL", (x) => x.perp.unrealized_pnl, (x) => sign(Number(x.perp.unrealized_pnl)), true],
    ["leverage", (x) => x.perp.leverage + "× " + x.perp.margin_mode, null, true],
    ["liquidation", (x) => x.perp.liquidation, null, true],
    ["funding paid", (x) => x.perp.funding_paid, null, true],
  ], s.strategies.filter((x) => x.perp));

  // Views strategies give of themselves (the scalper's: venues, the day, its last trades).
  const views = s.strategies.filter((x) => x.detail);
  kv("detail-day", views.filter((x) => x.detail.day).flatMap((x) => {
    const d = x.detail.day;
    return [
      [x.id + " day PnL", money(d.pnl), sign(d.pnl)],
      [x.id + " round trips", d.round_trips + " / " + d.max_round_trips],
      [x.id + " max loss", d.max_loss + " (size factor " + d.drawdown_factor.toFixed(2) + ")"],
      [x.id + " entries", d.entries_stopped ? "stopped: " + d.entries_stopped : "on", d.entries_stopped ? "bad" : "ok"],
    ];
  }));
  // Signal bots: score, temperature, the signal being confirmed and the time left, cooldown.
  const secs = (x) => (typeof x === "number") ? x.toFixed(1) + " s" : null;
  const temp = (t) => t === "hot" ? "bad" : t === "warm" ? "warn" : t === "cool" ? "ok" : "";
  table("detail-signals", [
    ["signal bot", (x) => x.id],
    ["symbol", (x) => x.detail.signal.symbol],
    ["score", (x) => x.detail.signal.score === null ? null : x.detail.signal.score.toFixed(3), (x) => sign(x.detail.signal.score), true],
    ["temperature", (x) => x.detail.signal.temperature || "warming up (" + x.detail.signal.bars + " bars)", (x) => temp(x.detail.signal.temperature)],
    ["confirming", (x) => x.detail.signal.pending_signal ? x.detail.signal.pending_signal + " in " + secs(x.detail.signal.confirm_in_s) : null],
    ["cooldown", (x) => x.detail.signal.cooldown_s > 0 ? secs(x.detail.signal.cooldown_s) : "—", null, true],
    ["position", (x) => x.detail.signal.position, null, true],
    ["avg entry", (x) => x.detail.signal.avg_entry, null, true],
    ["exiting", (x) => x.detail.signal.exiting],
    ["PnL", (x) => money(x.detail.signal.pnl), (x) => sign(x.detail.signal.pnl), true],
    ["limit", (x) => x.detail.signal.blocked_by],
  ], views.filter((x) => x.detail.signal));
  table("detail-venues", [
    ["strategy", (r) => r.id],
    ["venue", (r) => r.v.venue],
    ["band", (r) => r.v.band],
    ["entry spread %", (r) => r.v.entry_min_spread_percent, null, true],
    ["size", (r) => r.v.quote_size, null, true],
    ["throttle", (r) => r.v.throttle, null, true],
    ["size now", (r) => r.v.entry_size_now, null, true],
    ["free", (r) => r.v.free_quote === null ? null : r.v.free_quote + " " + r.v.quote_asset, null, true],
  ], views.flatMap((x) => (x.detail.venues || []).map((v) => ({ id: x.id, v }))));
  table("detail-trades", [
    ["closed", (r) => time(r.t.closed_at_ns)],
    ["venue", (r) => r.t.venue],
    ["symbol", (r) => r.t.symbol],
    ["side", (r) => r.t.side],
    ["size", (r) => r.t.qty, null, true],
    ["entry", (r) => r.t.entry, null, true],
    ["exit", (r) => r.t.exit, null, true],
    ["PnL", (r) => money(r.t.pnl), (r) => sign(r.t.pnl), true],
    ["duration", (r) => r.t.duration_s.toFixed(1) + " s", null, true],
    ["exit by", (r) => r.t.exit_reason],
    ["order", (r) => r.t.entry_order],
  ], views.flatMap((x) => (x.detail.last_trades || []).map((t) => ({ t }))));

  table("params", [
    ["parameters of", (x) => x.id],
    ["in force", (x) => Object.entries(x.params || {}).map(([k, v]) => k + "=" + v).join("  ")],
    ["reloaded", (x) => x.params_reloaded_at_ns ? time(x.params_reloaded_at_ns) : "at start"],
  ], s.strategies);

  const rej = Object.entries(risk.rejections).filter(([, n]) => n > 0).map(([r, n]) => r + " " + n).join(", ");
  kv("risk", [
    ["daily PnL", money(risk.daily_pnl), sign(risk.daily_pnl)],
    ["trades today", risk.trades_today],
    ["kill switch", risk.kill_switch ? "tripped: " + risk.kill_reason : "off", risk.kill_switch ? "bad" : "ok"],
    ["rejections", rej || "none"],
  ]);

  table("latency", [
    ["venue", (p) => p.venue],
    ["measurement", (p) => p.measurement],
    ["count", (p) => p.window.count, null, true],
    ["p50", (p) => ms(p.window.p50_ns), null, true],
    ["p90", (p) => ms(p.window.p90_ns), null, true],
    ["p99", (p) => ms(p.window.p99_ns), null, true],
    ["p99.9", (p) => ms(p.window.p999_ns), null, true],
    ["max", (p) => ms(p.window.max_ns), null, true],
  ], s.latency.percentiles, "no measurements yet");

  table("trades", [
    ["time", (t) => time(t.at_ns)],
    ["strategy", (t) => t.strategy],
    ["side", (t) => t.side, (t) => t.side === "buy" ? "ok" : "bad"],
    ["qty", (t) => t.qty, null, true],
    ["price", (t) => t.price, null, true],
    ["fee", (t) => t.fee + " " + t.fee_asset, null, true],
    ["maker", (t) => t.is_maker ? "yes" : "no"],
  ], s.recent_trades.slice(0, 20), "no trades yet");

  table("orders", [
    ["cid", (o) => o.cid],
    ["strategy", (o) => o.strategy],
    ["side", (o) => o.side],
    ["price", (o) => o.price, null, true],
    ["qty", (o) => o.qty, null, true],
    ["filled", (o) => o.filled_qty, null, true],
    ["status", (o) => o.status],
  ], s.open_orders.slice(0, 30), "no open orders");

  const p = s.persistence;
  kv("persist", p.enabled ? [
    ["records committed", p.records_committed],
    ["batches", p.batches],
    ["queue / backlog", p.queue_depth + " / " + p.backlog, p.backlog > 0 ? "bad" : ""],
    ["orders refused", p.orders_refused, p.orders_refused > 0 ? "warn" : ""],
    ["commit errors", p.commit_errors, p.commit_errors > 0 ? "bad" : ""],
  ] : [["persistence", "disabled", "warn"]]);
  table("queues", [
    ["queue", (q) => q.name],
    ["depth", (q) => q.depth + " / " + q.capacity, null, true],
    ["dropped", (q) => q.dropped, (q) => q.dropped > 0 ? "warn" : "", true],
    ["full", (q) => q.full, (q) => q.full > 0 ? "warn" : "", true],
  ], s.queues, "no queues watched");
}

