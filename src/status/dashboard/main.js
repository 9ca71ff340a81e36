// The page's loop: /status and /stats every second (tables, bots, form); charts and the
// activity feed every two seconds.

let lastCharts = 0;

async function refresh() {
  try {
    const r = await fetch("/status", { cache: "no-store" });
    if (!r.ok) throw new Error("HTTP " + r.status);
    const s = await r.json();
    statusDoc = s;
    let stats = null;
    try {
      const sr = await fetch("/stats", { cache: "no-store" });
      if (sr.ok) stats = await sr.json();
    } catch (e) { stats = null; }
    render(s);
    botChoices(s);
    renderBots(s, stats);
    fillFormChoices(s);
    $("err").textContent = "";
    if (Date.now() - lastCharts >= 2000) {
      lastCharts = Date.now();
      await Promise.all([refreshCharts(), renderActivity(s)]);
    }
  } catch (e) {
    $("err").textContent = "status unavailable: " + e.message;
  }
}

function refreshNow() { lastCharts = 0; refresh(); }

refresh();
setInterval(refresh, 1000);
