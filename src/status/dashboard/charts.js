// Charts (uPlot) from GET /series: the selected bot's price with its quotes and fills, its PnL
// and position, and each venue's latency percentiles over time.

const BOT_KEY = "mako.chart-bot";
const charts = {};

function selectedBot() { return sessionStorage.getItem(BOT_KEY) || ""; }

function selectBot(id) {
  sessionStorage.setItem(BOT_KEY, id);
  $("chart-bot").value = id;
  for (const tr of document.querySelectorAll("#bots tr[data-bot]")) {
    tr.className = tr.dataset.bot === id ? "selected" : "";
  }
  refreshCharts();
}
$("chart-bot").addEventListener("change", () => selectBot($("chart-bot").value));

function botChoices(s) {
  const sel = $("chart-bot");
  const ids = s.strategies.filter((x) => x.kind !== "vacant").map((x) => x.id);
  if (sel.dataset.list !== ids.join(",")) {
    sel.replaceChildren(...ids.map((id) => el("option", id)));
    sel.dataset.list = ids.join(",");
  }
  if (!ids.includes(selectedBot()) && ids.length) sessionStorage.setItem(BOT_KEY, ids[0]);
  sel.value = selectedBot();
}

// Several series sampled at their own times, on one x axis: the union of the times, each
// series null where it has no value (lines span the gaps, markers stand alone).
function align(columns) {
  const xs = [...new Set(columns.flatMap((c) => c.at))].sort((a, b) => a - b);
  const at = new Map(xs.map((x, i) => [x, i]));
  const out = [xs.map((x) => x / 1000)];
  for (const c of columns) {
    const ys = new Array(xs.length).fill(null);
    c.at.forEach((t, i) => { ys[at.get(t)] = c.values[i]; });
    out.push(ys);
  }
  return out;
}

// Makes the chart once (again when its series change), then only swaps its data.
function draw(key, container, series, data, axes, scales) {
  const width = Math.max(320, container.clientWidth || 480);
  const sig = series.map((s) => s.label).join("|");
  let c = charts[key];
  if (c && (c.sig !== sig || c.parent !== container)) { c.plot.destroy(); c = null; }
  if (!c) {
    const opts = { width, height: 220, scales: Object.assign({ x: { time: true } }, scales || {}), series: [{}, ...series], axes, legend: { live: true } };
    container.replaceChildren();
    charts[key] = c = { plot: new uPlot(opts, data, container), sig, parent: container };
  } else {
    if (Math.abs(c.plot.width - width) > 8) c.plot.setSize({ width, height: 220 });
    c.plot.setData(data);
  }
}

const line = (label, stroke, extra) => Object.assign({ label, stroke, width: 1.5, spanGaps: true, points: { show: false } }, extra || {});
const marks = (label, fill) => ({ label, stroke: fill, fill, width: 0, paths: () => null, points: { show: true, size: 9, fill, stroke: fill } });

async function getJson(path) {
  const r = await fetch(path, { cache: "no-store" });
  if (r.status === 404) return null;
  if (!r.ok) throw new Error(path + ": HTTP " + r.status);
  return r.json();
}

async function refreshCharts() {
  if (typeof uPlot === "undefined") { $("chart-price").textContent = "chart library not loaded"; return; }
  const id = selectedBot();
  try {
    const s = id ? await getJson("/series?strategy=" + encodeURIComponent(id)) : null;
    if (!s) {
      $("chart-price").textContent = id ? "no series for " + id + " yet" : "no bot";
      $("chart-pnl").textContent = "";
      for (const k of ["price", "pnl"]) { if (charts[k]) charts[k].plot.destroy(); delete charts[k]; }
    } else {
      const p = s.points;
      const col = (values) => ({ at: p.at_ms, values });
      const buys = s.fills.filter((f) => f.side === "buy");
      const sells = s.fills.filter((f) => f.side === "sell");
      draw("price", $("chart-price"), [
        line("mid", "#555"),
        line("bid quote", "#1a7f37", { dash: [4, 3] }),
        line("ask quote", "#c62828", { dash: [4, 3] }),
        marks("buy fill", "#1a7f37"),
        marks("sell fill", "#c62828"),
      ], align([col(p.mid), col(p.bid), col(p.ask),
        { at: buys.map((f) => f.at_ms), values: buys.map((f) => f.price) },
        { at: sells.map((f) => f.at_ms), values: sells.map((f) => f.price) }]),
      [{}, { size: 80 }]);
      draw("pnl", $("chart-pnl"), [
        line("PnL", "#1565c0"),
        line("realized", "#6a1b9a", { dash: [4, 3] }),
        line("position", "#b26a00", { scale: "pos" }),
      ], align([col(p.pnl), col(p.realized_pnl), col(p.position)]),
      [{}, { label: "PnL", size: 70 }, { side: 1, scale: "pos", label: "position", size: 70, grid: { show: false } }]);
    }
    await latencyCharts();
  } catch (e) {
    $("err").textContent = "charts: " + e.message;
  }
}

const PALETTE = ["#1565c0", "#c62828", "#1a7f37", "#6a1b9a", "#b26a00", "#00838f", "#5d4037", "#ad1457"];

async function latencyCharts() {
  const list = await getJson("/series");
  const box = $("chart-latency");
  const venues = (list && list.venues) || [];
  for (const v of venues) {
    const doc = await getJson("/series?venue=" + encodeURIComponent(v));
    if (!doc) continue;
    let holder = box.querySelector('[data-venue="' + CSS.escape(v) + '"]');
    if (!holder) {
      holder = el("div", null, "chart");
      holder.dataset.venue = v;
      holder.appendChild(el("h3", v));
      holder.appendChild(el("div"));
      box.appendChild(holder);
    }
    const names = Object.keys(doc.measurements).sort();
    const series = [], cols = [];
    names.forEach((m, i) => {
      const c = doc.measurements[m], colour = PALETTE[i % PALETTE.length];
      const us = (xs) => xs.map((x) => x === null || x <= 0 ? null : x / 1000);
      series.push(line(m + " p50", colour), line(m + " p99", colour, { dash: [5, 4] }));
      cols.push({ at: c.at_ms, values: us(c.p50_ns) }, { at: c.at_ms, values: us(c.p99_ns) });
    });
    draw("lat:" + v, holder.lastChild, series, align(cols), [{}, { label: "µs (log)", size: 80 }], { y: { distr: 3, log: 10 } });
  }
  if (!venues.length) box.textContent = "no latency measurements yet";
}
