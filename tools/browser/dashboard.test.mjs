// End-to-end test of the dashboard in headless Chromium (Debian's /usr/bin/chromium, driven by
// playwright-core; no browser download): starts `mako run` on a sim-mode config this script
// writes (the grid on the simulator's Bybit linear perpetual; ports from the OS; a token file),
// opens the dashboard, enters the control token, creates a grid bot from the form, waits until
// the simulator has filled it (polling /trades: a condition, not a time), edits its
// parameters from its row (a bad value refused with its key path, a good one in force on
// /status), stops and toggles it from its row, and saves screenshots under docs/dashboard/. Any step that does not happen fails the
// run (exit code 1); the page may load nothing from anywhere but the engine.
//
//   MAKO_BIN=target/debug/mako node tools/browser/dashboard.test.mjs
//
// Environment: MAKO_BIN (default: $CARGO_TARGET_DIR or target, /debug/mako), CHROMIUM
// (default /usr/bin/chromium), SHOTS (default docs/dashboard), WAIT_S (per condition, 120).

import { spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, "../..");
const MAKO = path.resolve(repo, process.env.MAKO_BIN || path.join(process.env.CARGO_TARGET_DIR || "target", "debug/mako"));
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const SHOTS = path.resolve(repo, process.env.SHOTS || "docs/dashboard");
const WAIT_MS = Number(process.env.WAIT_S || 120) * 1000;
const TOKEN = "browser-test-token-not-a-secret";
const BOT = "grid-web";

function log(...a) { console.log("[dashboard test]", ...a); }

// A free port from the OS (bound to port 0, read, closed; mako binds it right after).
function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function config(simPort, statusPort, tokenFile) {
  return `# Written by tools/browser/dashboard.test.mjs: the grid on the simulator's Bybit linear
# perpetual, sim mode, loopback only.
[engine]
name = "browser-test"
mode = "sim"
data_dir = "data"
log_format = "human"
log_filter = "info"

[[venues]]
name = "bybit"
kind = "bybit-linear"
ws_url = "ws://127.0.0.1:${simPort}"
rest_url = "http://127.0.0.1:${simPort}"
private_ws_url = "ws://127.0.0.1:${simPort}/v5/private"
order_transport = "rest"
streams = ["bookTicker", "depth", "trade"]

[[instruments]]
venue = "bybit"
symbol = "BTCUSDT"
base = "BTC"
quote = "USDT"
tick_size = "0.5"
lot_size = "0.001"
min_qty = "0.001"
min_notional = "5"
kind = "linear-perpetual"
leverage = "5"
margin_mode = "isolated"
maintenance_margin = "0.005"
funding_interval = "8h"

[risk]
max_order_qty = "0.05"
max_position = "0.5"
max_position_notional = "40000"
max_open_orders = 20
price_collar_bps = 200
max_orders_per_sec = 20
max_leverage = "10"
min_liquidation_distance_bps = 1000

[[strategies]]
id = "grid-base"
kind = "grid"
venue = "bybit"
instrument = "BTCUSDT"

[strategies.params]
first_side = "buy"
quantity = "0.01"
default_offset_percent = 0.5
levels = 3
level_spacing = "5"
infinite_loop = true

# Two vacant slots on the instrument: bots created at run time take one.
[bots]
slots_per_instrument = 2

[persistence]
path = "browser-test.sqlite"

[status]
bind = "127.0.0.1:${statusPort}"
token_file = "${tokenFile}"
publish_interval = "250ms"

[sim]
host = "127.0.0.1"
port = ${simPort}
source = "walk"
seed = 24
walk_interval_ms = 20

[[sim.symbols]]
symbol = "BTCUSDT"
base = "BTC"
quote = "USDT"
tick_size = "0.5"
step_size = "0.001"
min_qty = "0.001"
min_notional = "5"
start_price = "60000.0"
levels = 200
kind = "linear-perpetual"
leverage = "10"

[[sim.accounts]]
balances = { BTC = "10", USDT = "1000000" }
`;
}

async function until(what, f, ms = WAIT_MS) {
  const end = Date.now() + ms;
  let last;
  for (;;) {
    try {
      const v = await f();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last ? ": " + last.message : ""}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function getJson(base, p) {
  const r = await fetch(base + p, { cache: "no-store" });
  if (!r.ok) throw new Error(`${p}: HTTP ${r.status}`);
  return r.json();
}

async function main() {
  if (!fs.existsSync(MAKO)) throw new Error(`no mako binary at ${MAKO} (cargo build first, or set MAKO_BIN)`);
  if (!fs.existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM} (apt-get install chromium)`);
  fs.mkdirSync(SHOTS, { recursive: true });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mako-browser-"));
  const tokenFile = path.join(dir, "token");
  fs.writeFileSync(tokenFile, TOKEN + "\n", { mode: 0o600 });
  const [simPort, statusPort] = [await freePort(), await freePort()];
  const cfg = path.join(dir, "browser-test.toml");
  fs.writeFileSync(cfg, config(simPort, statusPort, tokenFile));
  const base = `http://127.0.0.1:${statusPort}`;
  const out = fs.openSync(path.join(dir, "mako.log"), "w");
  log(`mako ${MAKO} run ${cfg} (status ${base}, simulator ${simPort}, log ${dir}/mako.log)`);
  const mako = spawn(MAKO, ["run", cfg], { cwd: dir, stdio: ["ignore", out, out] });
  let exited = null;
  mako.on("exit", (code, sig) => { exited = { code, sig }; });
  let browser;
  try {
    await until("mako's status endpoint", async () => {
      if (exited) throw new Error(`mako exited ${JSON.stringify(exited)}; see ${dir}/mako.log`);
      const r = await fetch(base + "/health");
      return r.ok;
    });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
    const context = await browser.newContext({ viewport: { width: 1440, height: 1000 } });
    const page = await context.newPage();
    const problems = [];
    page.on("pageerror", (e) => problems.push("page error: " + e.message));
    page.on("request", (r) => {
      if (!r.url().startsWith(base + "/")) problems.push("request outside the engine: " + r.url());
    });
    page.on("dialog", (d) => d.accept());
    await page.goto(base + "/");
    await page.waitForSelector('#bots tr[data-bot="grid-base"]');
    await page.waitForFunction(() => typeof uPlot === "function");

    // The token: asked once, kept in this tab's sessionStorage only.
    await page.fill("#token-input", TOKEN);
    await page.click("#token-save");
    await page.waitForFunction(() => document.querySelector("#token-state").textContent === "token set");
    const stored = await page.evaluate(() => ({ session: sessionStorage.getItem("mako.control-token"), local: JSON.stringify(localStorage) }));
    if (stored.session !== "browser-test-token-not-a-secret" || stored.local.includes("browser-test-token")) {
      throw new Error("the token is not kept in sessionStorage only: " + JSON.stringify(stored));
    }

    // The form: venue, instrument with its live last price, a price from the % buttons,
    // quantity and spacing rounded to the lot and tick.
    await page.fill("#f-id", BOT);
    await page.selectOption("#f-venue", "bybit");
    await page.waitForFunction(() => /^[0-9.]+$/.test(document.querySelector("#f-last").textContent));
    await page.fill("#f-qty", "0.0123");
    await page.press("#f-qty", "Tab");
    const qty = await page.inputValue("#f-qty");
    if (qty !== "0.012") throw new Error(`quantity not rounded down to the lot 0.001: ${qty}`);
    await page.click('button[data-qty="+1 lot"]');
    if (await page.inputValue("#f-qty") !== "0.013") throw new Error("+1 lot did not add 0.001");
    await page.click('button[data-qty="−1 lot"]');
    await page.fill("#f-spacing", "5.3");
    await page.press("#f-spacing", "Tab");
    if (await page.inputValue("#f-spacing") !== "5.5") throw new Error("spacing not rounded to the tick 0.5");
    // Buy 0.1 % above the last price (it crosses, so the simulator fills it at once), sell
    // 1 % above.
    await page.click('.pct[data-for="f-buy"] button[data-pct="0.1"]');
    await page.click('.pct[data-for="f-sell"] button[data-pct="1"]');
    const [last, buy, sell] = await Promise.all([page.textContent("#f-last"), page.inputValue("#f-buy"), page.inputValue("#f-sell")]);
    const onTick = (p) => Math.abs(Number(p) / 0.5 - Math.round(Number(p) / 0.5)) < 1e-9;
    if (!onTick(buy) || !onTick(sell) || !(Number(buy) > Number(last)) || !(Number(sell) > Number(buy))) {
      throw new Error(`prices from the % buttons: last ${last}, buy ${buy}, sell ${sell}`);
    }
    await page.fill("#f-levels", "2");
    await page.fill("#f-offset", "0.5");
    await page.screenshot({ path: path.join(SHOTS, "create-form.png"), fullPage: false });
    await page.click("#f-submit");
    await page.waitForFunction(() => /^created /.test(document.querySelector("#create-result").textContent), null, { timeout: 30000 })
      .catch(async (e) => { throw new Error("create refused: " + (await page.textContent("#create-result")) + " " + e.message); });
    log(`created ${BOT} (buy ${buy}, sell ${sell}, last ${last})`);

    // It trades against the simulator: a fill of the new bot on /trades, then on its row.
    const fill = await until(`a fill of ${BOT}`, async () => {
      const t = await getJson(base, "/trades");
      return t.trades.find((f) => f.strategy === BOT);
    });
    log(`filled: ${fill.side} ${fill.qty} @ ${fill.price}`);
    await page.waitForFunction((id) => {
      const row = document.querySelector(`#bots tr[data-bot="${id}"]`);
      return row && Number(row.children[8].textContent) > 0;
    }, BOT, { timeout: WAIT_MS });
    // The charts show its fills: wait for the series to carry one, then a redraw.
    // Enough history to draw: its fill and 20 samples (a condition on /series, not a time).
    await until(`${BOT}'s fill and 20 points on /series`, async () => {
      const s = await getJson(base, `/series?strategy=${BOT}`);
      return s.fills.length > 0 && s.points.mid.filter((m) => m !== null).length >= 20;
    });
    await page.selectOption("#chart-bot", BOT);
    await page.waitForFunction(() => document.querySelectorAll("#chart-price canvas, #chart-pnl canvas").length >= 2);
    await page.waitForFunction(() => document.querySelectorAll("#chart-latency canvas").length >= 1, null, { timeout: WAIT_MS });
    await page.waitForFunction(() => document.querySelectorAll("#activity tr.info, #activity tr.warn, #activity tr.error").length > 0, null, { timeout: WAIT_MS });
    await page.screenshot({ path: path.join(SHOTS, "dashboard-trading.png"), fullPage: true });

    // Edit its parameters from its row: a bad value is refused with its key path, a good one
    // is in force on /status.
    await page.click(`#bots tr[data-bot="${BOT}"] button[data-action="edit"]`);
    await page.waitForFunction((id) => !document.querySelector("#edit").hidden
      && document.querySelector("#edit-id").textContent === id, BOT);
    const shown = JSON.parse(await page.inputValue("#edit-params"));
    if (shown.levels !== 2) throw new Error("the editor does not show the bot's parameters: " + JSON.stringify(shown));
    await page.fill("#edit-params", JSON.stringify({ ...shown, levels: "three" }));
    await page.click("#edit-save");
    await page.waitForFunction(() => /^refused: 422 .*params\.levels/.test(document.querySelector("#edit-result").textContent), null, { timeout: 30000 })
      .catch(async (e) => { throw new Error("a bad parameter was not refused with its path: " + (await page.textContent("#edit-result")) + " " + e.message); });
    await page.fill("#edit-params", JSON.stringify({ ...shown, levels: 3 }));
    await page.click("#edit-save");
    await page.waitForFunction(() => /^saved /.test(document.querySelector("#edit-result").textContent), null, { timeout: 30000 })
      .catch(async (e) => { throw new Error("the edit was refused: " + (await page.textContent("#edit-result")) + " " + e.message); });
    await until(`${BOT}'s new parameters in force`, async () => {
      const s = await getJson(base, "/status");
      const b = s.strategies.find((x) => x.id === BOT);
      return b && b.params && b.params.levels === 3;
    });
    await page.screenshot({ path: path.join(SHOTS, "bot-edit.png"), fullPage: false });
    await page.click("#edit-cancel");
    log(`edited ${BOT}: levels 2 → 3 (a bad value refused with params.levels)`);

    // Stop it from its row.
    await page.click(`#bots tr[data-bot="${BOT}"] button[data-action="stop"]`);
    await until(`${BOT} stopped`, async () => {
      const s = await getJson(base, "/status");
      const b = s.strategies.find((x) => x.id === BOT);
      return b && b.state === "stopped";
    });
    await page.waitForFunction((id) => {
      const row = document.querySelector(`#bots tr[data-bot="${id}"]`);
      return row && row.children[4].textContent === "stopped";
    }, BOT, { timeout: WAIT_MS });
    await page.screenshot({ path: path.join(SHOTS, "bot-stopped.png"), fullPage: false });
    // Toggle starts it again; toggle again stops it.
    for (const want of ["running", "stopped"]) {
      await page.click(`#bots tr[data-bot="${BOT}"] button[data-action="toggle"]`);
      await until(`${BOT} ${want} after toggle`, async () => {
        const s = await getJson(base, "/status");
        const b = s.strategies.find((x) => x.id === BOT);
        return b && b.state === want;
      });
    }
    if (problems.length) throw new Error(problems.join("\n"));
    log(`ok: created ${BOT} from the form, it traded against the simulator, edited, stopped, toggled; screenshots in ${SHOTS}`);
  } finally {
    if (browser) await browser.close();
    if (!exited) {
      mako.kill("SIGINT");
      await until("mako to stop", async () => exited !== null, 30000).catch(() => mako.kill("SIGKILL"));
    }
  }
}

main().catch((e) => {
  console.error("[dashboard test] FAILED:", e.message);
  process.exit(1);
});
