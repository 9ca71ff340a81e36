// Bots: the token (asked once, kept in sessionStorage only), the bots list with its buttons,
// stop-all, the create form (rounded to the instrument's tick and lot) and the activity feed.

const TOKEN_KEY = "mako.control-token";
let statusDoc = null;

function token() { return sessionStorage.getItem(TOKEN_KEY); }

function showToken() {
  const t = token();
  $("token-state").textContent = t ? "token set" : "no token";
  $("token-state").className = t ? "ok" : "warn";
  $("token-box").className = t ? "" : "ask";
  $("token-forget").disabled = !t;
}

function askToken(why) {
  sessionStorage.removeItem(TOKEN_KEY);
  showToken();
  if (why) say(why, "bad");
  $("token-input").focus();
}

$("token-save").addEventListener("click", () => {
  const t = $("token-input").value.trim();
  if (!t) return;
  sessionStorage.setItem(TOKEN_KEY, t);
  $("token-input").value = "";
  showToken();
  say("token set for this tab", "ok");
});
$("token-input").addEventListener("keydown", (e) => { if (e.key === "Enter") $("token-save").click(); });
$("token-forget").addEventListener("click", () => askToken());

function say(text, cls) {
  const r = $("action-result");
  r.textContent = text;
  r.className = "hint " + (cls || "");
}

// A write to the control API with the token; a refused token is forgotten and asked again.
async function control(method, path, body) {
  const t = token();
  if (!t) { askToken("a control token is needed for that"); return null; }
  const init = { method, headers: { Authorization: "Bearer " + t } };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let r;
  try {
    r = await fetch(path, init);
  } catch (e) {
    say(method + " " + path + ": " + e.message, "bad");
    return null;
  }
  let doc = null;
  try { doc = await r.json(); } catch (e) { doc = null; }
  if (r.status === 401 || r.status === 403) {
    askToken("token refused (" + r.status + "): enter it again");
  }
  return { status: r.status, doc: doc || {} };
}

function errorText(res) {
  const d = res.doc;
  const paths = (d.errors || []).map((e) => e.path + ": " + e.message).join("; ");
  return res.status + " " + (d.error || "") + (paths ? " — " + paths : "");
}

async function botAction(id, action) {
  const path = "/control/strategies/" + encodeURIComponent(id) + "/" + action;
  const res = await control("POST", path);
  if (!res) return;
  if (res.status === 200 || res.status === 202) say(id + ": " + (res.doc.state || action), "ok");
  else say(id + " " + action + ": " + errorText(res), "bad");
  refreshNow();
}

async function deleteBot(id) {
  if (!confirm("Delete bot " + id + "? Its orders are cancelled first.")) return;
  const path = "/control/strategies/" + encodeURIComponent(id);
  let res = await control("DELETE", path);
  if (res && res.status === 409 && confirm(id + " holds a position: " + (res.doc.error || "") + "\nFlatten it and delete?")) {
    res = await control("DELETE", path + "?flatten=true");
  }
  if (!res) return;
  say(id + " delete: " + (res.status === 200 ? "deleted" : errorText(res)), res.status === 200 ? "ok" : "bad");
  refreshNow();
}

$("stop-all").addEventListener("click", async () => {
  if (!confirm("Stop every bot and cancel its orders?")) return;
  const res = await control("POST", "/control/stop-all");
  if (!res) return;
  if (res.status === 200) say("stopped " + res.doc.stopped + " bots", "ok");
  else say("stop all: " + errorText(res), "bad");
  refreshNow();
});

const stateClass = (s) => s === "running" ? "ok" : (s === "paused" || s === "waiting") ? "warn" : (s === "error" || s === "stopped") ? "bad" : "";

function renderBots(s, stats) {
  const b = stats && stats.bots;
  const st = $("bot-stats");
  st.replaceChildren();
  if (b) {
    for (const k of ["total", "active", "paused", "stopped", "error", "unknown", "vacant_slots"]) {
      if (b[k] === undefined) continue;
      const span = el("span", k + " ", "meta");
      span.appendChild(el("b", b[k], k === "error" && b[k] > 0 ? "bad" : ""));
      st.appendChild(span);
    }
    const p = el("span", "PnL ", "meta");
    p.appendChild(el("b", money(stats.pnl), sign(stats.pnl)));
    st.appendChild(p);
    const t = el("span", "trades ", "meta");
    t.appendChild(el("b", stats.trades));
    st.appendChild(t);
  }
  const t = $("bots");
  t.replaceChildren();
  const head = el("tr");
  for (const h of ["id", "kind", "venue", "instrument", "state", "mid", "position", "PnL", "trades", "open", ""]) head.appendChild(el("th", h));
  t.appendChild(head);
  const bots = s.strategies.filter((x) => x.kind !== "vacant");
  for (const x of bots) {
    const tr = el("tr");
    tr.dataset.bot = x.id;
    if (x.id === selectedBot()) tr.className = "selected";
    const cells = [x.id, x.kind, x.venue, x.instrument, x.state, x.mid, x.position, money(x.pnl), x.trades, x.open_orders];
    cells.forEach((v, i) => {
      const td = el("td", v === null || v === undefined ? "–" : v, i === 4 ? "state " + stateClass(x.state) : (i >= 5 ? "num" : ""));
      if (i === 7) td.className = "num " + sign(x.pnl);
      tr.appendChild(td);
    });
    const act = el("td");
    for (const a of ["start", "stop", "pause", "resume", "toggle"]) {
      const btn = el("button", a);
      btn.type = "button";
      btn.dataset.action = a;
      btn.addEventListener("click", (e) => { e.stopPropagation(); botAction(x.id, a); });
      act.appendChild(btn);
    }
    const edit = el("button", "edit");
    edit.type = "button";
    edit.dataset.action = "edit";
    edit.addEventListener("click", (e) => { e.stopPropagation(); openEdit(x); });
    act.appendChild(edit);
    const del = el("button", "delete", "danger");
    del.type = "button";
    del.dataset.action = "delete";
    del.addEventListener("click", (e) => { e.stopPropagation(); deleteBot(x.id); });
    act.appendChild(del);
    tr.appendChild(act);
    tr.addEventListener("click", () => selectBot(x.id));
    t.appendChild(tr);
  }
  const vacant = s.strategies.length - bots.length;
  if (vacant) {
    const tr = el("tr");
    const td = el("td", vacant + " vacant slot" + (vacant > 1 ? "s" : "") + " for bots created here", "empty");
    td.colSpan = 11;
    tr.appendChild(td);
    t.appendChild(tr);
  }
  if (bots.length === 0) {
    const tr = el("tr");
    const td = el("td", "no bots", "empty");
    td.colSpan = 11;
    tr.appendChild(td);
    t.appendChild(tr);
  }
}

// ---- the parameters editor: the bot's parameters in force, as JSON, sent back with PUT ----

function openEdit(x) {
  $("edit-id").textContent = x.id;
  $("edit-params").value = JSON.stringify(x.params || {}, null, 2);
  $("edit-result").textContent = "";
  $("edit").hidden = false;
  $("edit-params").focus();
}

$("edit-cancel").addEventListener("click", () => { $("edit").hidden = true; });

$("edit").addEventListener("submit", async (e) => {
  e.preventDefault();
  const id = $("edit-id").textContent;
  const out = $("edit-result");
  let params;
  try {
    params = JSON.parse($("edit-params").value);
  } catch (err) {
    out.textContent = "not JSON: " + err.message;
    out.className = "bad";
    return;
  }
  const res = await control("PUT", "/control/strategies/" + encodeURIComponent(id), params);
  if (!res) return;
  if (res.status === 200) {
    out.textContent = "saved " + id;
    out.className = "ok";
  } else {
    const restart = res.doc.needs_restart ? " (needs a restart: " + res.doc.needs_restart.join(", ") + ")" : "";
    out.textContent = "refused: " + errorText(res) + restart;
    out.className = "bad";
  }
  refreshNow();
});

// ---- the create form -------------------------------------------------------------------

// Decimal text → integer units at `dec` fractional digits (exact for what people type).
function units(text, dec) {
  const m = /^\s*(\d*)(?:\.(\d*))?\s*$/.exec(text);
  if (!m || (m[1] === "" && (m[2] === undefined || m[2] === ""))) return null;
  const frac = (m[2] || "").padEnd(dec, "0");
  const extra = frac.slice(dec);
  let u = BigInt((m[1] || "0") + frac.slice(0, dec));
  // Digits beyond `dec` round half up.
  if (extra.length && extra[0] >= "5") u += 1n;
  return u;
}

function fromUnits(u, dec) {
  const s = u.toString().padStart(dec + 1, "0");
  return dec ? s.slice(0, s.length - dec) + "." + s.slice(s.length - dec) : s;
}

function decimals(step) { const i = step.indexOf("."); return i < 0 ? 0 : step.length - i - 1; }

// Rounds `text` to a multiple of `step`: "nearest" for prices, "down" for quantities (at
// least one step). Returns the text, or null when it is not a number.
function roundTo(text, step, how) {
  const dec = Math.max(decimals(step), decimals(text.trim()));
  const v = units(text, dec), s = units(step, dec);
  if (v === null || s === null || s === 0n) return null;
  let n = v / s;
  if (how === "nearest" && (v % s) * 2n >= s) n += 1n;
  if (how === "down" && n < 1n) n = 1n;
  return fromUnits(n * s, dec).replace(/(\.\d*?)0+$/, "$1").replace(/\.$/, "");
}

function instrument() {
  if (!statusDoc) return null;
  const id = $("f-instrument").value;
  return (statusDoc.instruments || []).find((i) => String(i.id) === id) || null;
}

function fillFormChoices(s) {
  const venues = (s.instruments && s.instruments.length) ? [...new Set(s.instruments.map((i) => i.venue))] : s.venues.map((v) => v.name);
  const vs = $("f-venue");
  if (vs.options.length !== venues.length) {
    vs.replaceChildren(...venues.map((v) => { const o = el("option", v); o.value = v; return o; }));
  }
  const list = (s.instruments || []).filter((i) => i.venue === vs.value);
  const is = $("f-instrument");
  const want = list.map((i) => String(i.id)).join(",");
  if (is.dataset.list !== want) {
    is.replaceChildren(...list.map((i) => { const o = el("option", i.symbol); o.value = String(i.id); return o; }));
    is.dataset.list = want;
    onInstrument();
  }
  const i = instrument();
  $("f-last").textContent = i && i.last ? i.last : "–";
  $("f-last").title = i && i.last_source ? "from the latest " + i.last_source : "no price seen yet";
}

function onInstrument() {
  const i = instrument();
  $("f-steps").textContent = i ? "tick " + i.tick + ", lot " + i.lot + (i.min_notional !== "0" ? ", min notional " + i.min_notional : "") : "";
  const qs = $("qty-steps");
  qs.replaceChildren();
  if (!i) return;
  if (!$("f-qty").value) $("f-qty").value = i.min_qty && i.min_qty !== "0" ? i.min_qty : i.lot;
  for (const [label, mult] of [["−10 lots", -10n], ["−1 lot", -1n], ["+1 lot", 1n], ["+10 lots", 10n], ["×10", 0n]]) {
    const b = el("button", label);
    b.type = "button";
    b.dataset.qty = label;
    b.addEventListener("click", () => stepQty(mult));
    qs.appendChild(b);
  }
  preview();
}

function stepQty(mult) {
  const i = instrument();
  if (!i) return;
  const dec = Math.max(decimals(i.lot), decimals($("f-qty").value.trim()));
  const cur = units(roundTo($("f-qty").value || i.lot, i.lot, "down") || i.lot, dec);
  const lot = units(i.lot, dec);
  let next = mult === 0n ? cur * 10n : cur + mult * lot;
  if (next < lot) next = lot;
  $("f-qty").value = roundTo(fromUnits(next, dec), i.lot, "down");
  preview();
}

// The seed's ±0.1 / 0.5 / 1 % buttons: last price × (1 ± p), rounded to the tick.
function pctButtons() {
  for (const span of document.querySelectorAll(".pct")) {
    for (const p of [-1, -0.5, -0.1, 0.1, 0.5, 1]) {
      const b = el("button", (p > 0 ? "+" : "−") + Math.abs(p) + "%");
      b.type = "button";
      b.dataset.pct = String(p);
      b.addEventListener("click", () => {
        const i = instrument();
        if (!i || !i.last) { say("no last price yet for this instrument", "warn"); return; }
        const dec = decimals(i.tick) + 4;
        const last = units(i.last, dec);
        const bp = BigInt(Math.round(p * 100));
        const v = last + (last * bp) / 10000n;
        $(span.dataset.for).value = roundTo(fromUnits(v, dec), i.tick, "nearest");
        preview();
      });
      span.appendChild(b);
    }
  }
}

// As typed, each price and quantity shows (and the request carries) its value rounded to the
// instrument's tick or lot; leaving the field writes the rounded value into it.
const ROUNDED = [["f-buy", "nearest"], ["f-sell", "nearest"], ["f-spacing", "nearest"], ["f-qty", "down"]];

function rounded(id) {
  const how = ROUNDED.find((r) => r[0] === id)[1];
  const i = instrument(), t = $(id).value.trim();
  if (!t) return "";
  if (!i) return t;
  const r = roundTo(t, how === "down" ? i.lot : i.tick, how);
  return r === null ? t : r;
}

for (const [id] of ROUNDED) {
  const hint = el("span", "", "hint");
  hint.id = id + "-rounded";
  $(id).after(hint);
  $(id).addEventListener("input", () => {
    const r = rounded(id), t = $(id).value.trim();
    hint.textContent = r && r !== t ? "→ " + r : "";
    preview();
  });
  $(id).addEventListener("change", () => {
    const r = rounded(id);
    if (r) $(id).value = r;
    hint.textContent = "";
    preview();
  });
}
for (const id of ["f-id", "f-side", "f-levels", "f-offset", "f-loop"]) $(id).addEventListener("input", preview);
$("f-venue").addEventListener("change", () => { $("f-instrument").dataset.list = ""; fillFormChoices(statusDoc); });
$("f-instrument").addEventListener("change", () => { $("f-qty").value = ""; onInstrument(); fillFormChoices(statusDoc); });

function spec() {
  const i = instrument();
  const params = {
    first_side: $("f-side").value,
    quantity: rounded("f-qty"),
    levels: Number($("f-levels").value),
    default_offset_percent: Number($("f-offset").value),
    infinite_loop: $("f-loop").checked,
  };
  for (const [id, key] of [["f-buy", "buy_price"], ["f-sell", "sell_price"], ["f-spacing", "level_spacing"]]) {
    const v = rounded(id);
    if (v) params[key] = v;
  }
  return { id: $("f-id").value.trim(), kind: $("f-kind").value, venue: $("f-venue").value, instrument: i ? i.symbol : "", params };
}

function preview() { $("create-preview").textContent = "POST /control/strategies " + JSON.stringify(spec()); }

$("create").addEventListener("submit", async (e) => {
  e.preventDefault();
  const res = await control("POST", "/control/strategies", spec());
  if (!res) return;
  const out = $("create-result");
  if (res.status === 201) {
    out.textContent = "created " + res.doc.id + ": " + res.doc.state;
    out.className = "ok";
    selectBot(res.doc.id);
  } else {
    out.textContent = "refused: " + errorText(res);
    out.className = "bad";
  }
  refreshNow();
});

// ---- the activity feed -----------------------------------------------------------------

async function renderActivity(s) {
  const bots = $("act-bot");
  const live = s.strategies.filter((x) => x.kind !== "vacant");
  const ids = live.map((x) => x.id).join(",");
  if (bots.dataset.list !== ids) {
    const keep = bots.value;
    bots.replaceChildren(el("option", "all bots"), ...live.map((x) => el("option", x.id)));
    bots.options[0].value = "";
    bots.value = keep;
    bots.dataset.list = ids;
  }
  const q = new URLSearchParams({ limit: "50" });
  if ($("act-level").value) q.set("level", $("act-level").value);
  if (bots.value) q.set("strategy", bots.value);
  const t = $("activity");
  let doc;
  try {
    const r = await fetch("/activity?" + q, { cache: "no-store" });
    if (!r.ok) throw new Error("HTTP " + r.status);
    doc = await r.json();
  } catch (e) {
    t.replaceChildren(el("tr"));
    t.firstChild.appendChild(el("td", "activity log unavailable: " + e.message, "empty"));
    return;
  }
  table("activity", [
    ["time", (a) => new Date(a.at_ms).toISOString().substring(11, 23)],
    ["level", (a) => a.level],
    ["source", (a) => a.source],
    ["message", (a) => a.message],
  ], doc.items, "no activity yet");
  // Colour by level: the row carries it, the level cell is styled by the row.
  const rows = t.querySelectorAll("tr");
  doc.items.forEach((a, i) => {
    const tr = rows[i + 1];
    if (!tr) return;
    tr.className = a.level;
    tr.children[1].classList.add("level");
    tr.children[3].style.whiteSpace = "normal";
  });
}
$("act-level").addEventListener("change", () => statusDoc && renderActivity(statusDoc));
$("act-bot").addEventListener("change", () => statusDoc && renderActivity(statusDoc));

showToken();
pctButtons();
