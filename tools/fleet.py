#!/usr/bin/env python3
"""Many bots at once against the simulator: tick-to-order with N bots beside one, and each
bot's decisions per second (does any bot starve?).

Writes a sim-mode config (simulated Binance spot, INSTRUMENTS symbols, BOTS spread makers
spread over them), runs `mako run` on it for SECONDS, then reads `/latency` (tick_to_order
over the run, from the engine's own HDR histograms) and `/status` (each bot's decisions:
calls for a new book, and its fills). Run it twice, e.g.

    cargo build --release
    python3 tools/fleet.py --bots 1  --instruments 10 --seconds 60
    python3 tools/fleet.py --bots 50 --instruments 10 --seconds 60

and compare the two tables (docs/performance.md has the figures of a run on this machine).
Nothing here asserts a time: it measures and prints.
"""

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def config(bots, instruments, sim_port, status_port, data_dir):
    out = [
        f'''[engine]
name = "fleet-{bots}"
mode = "sim"
data_dir = "{data_dir}"
log_format = "human"
log_filter = "warn"

[[venues]]
name = "binance"
kind = "binance-spot"
ws_url = "ws://127.0.0.1:{sim_port}"
rest_url = "http://127.0.0.1:{sim_port}"
ws_api_url = "ws://127.0.0.1:{sim_port}/ws-api/v3"
order_transport = "ws-api"
streams = ["bookTicker", "depth", "trade"]
'''
    ]
    symbols = [f"C{i}USDT" for i in range(instruments)]
    for i, sym in enumerate(symbols):
        out.append(f'''
[[instruments]]
venue = "binance"
symbol = "{sym}"
base = "C{i}"
quote = "USDT"
tick_size = "0.01"
lot_size = "0.001"
min_qty = "0.001"
max_qty = "9000"
min_notional = "5"
''')
    out.append('''
[risk]
max_order_qty = "2"
max_order_notional = "1000"
max_position = "1000"
max_open_orders = 1000
price_collar_bps = 200
max_orders_per_sec = 5000
''')
    for b in range(bots):
        sym = symbols[b % instruments]
        out.append(f'''
[[strategies]]
id = "mm-{b}"
kind = "spread"
venue = "binance"
instrument = "{sym}"
[strategies.params]
spread_bps = {4 + (b // instruments) * 2}
order_size = "0.1"
stale_tolerance_bps = 1
refresh_interval = "5s"
base_allocation = "50"
quote_allocation = "10000"
''')
    balances = ", ".join(f'C{i} = "100000"' for i in range(instruments))
    out.append(f'''
[status]
bind = "127.0.0.1:{status_port}"

[sim]
host = "127.0.0.1"
port = {sim_port}
source = "walk"
seed = 7
walk_interval_ms = 20

# One simulated account carries every bot: Binance's 50 orders per 10 s (and 6,000 weight a
# minute) would refuse most of 50 bots' orders, and this run measures the engine, not the
# venue's limits. The engine still obeys whatever the simulator answers.
[sim.limits]
orders_per_10s = 1000000
weight_per_minute = 100000000
''')
    for i, sym in enumerate(symbols):
        out.append(f'''
[[sim.symbols]]
symbol = "{sym}"
base = "C{i}"
quote = "USDT"
tick_size = "0.01"
step_size = "0.001"
min_qty = "0.001"
min_notional = "5"
start_price = "{100 + 10 * i}.00"
levels = 100
''')
    out.append(f'''
[[sim.accounts]]
balances = {{ {balances}, USDT = "100000000" }}
''')
    return "".join(out)


def get(port, path):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as r:
        return json.load(r)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bots", type=int, default=50)
    ap.add_argument("--instruments", type=int, default=10)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--mako", default="target/release/mako")
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="mako-fleet-")
    sim_port, status_port = free_port(), free_port()
    path = os.path.join(tmp, "fleet.toml")
    with open(path, "w") as f:
        f.write(config(a.bots, a.instruments, sim_port, status_port, os.path.join(tmp, "data")))
    proc = subprocess.Popen([a.mako, "run", path], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.time() + 30
        while True:
            try:
                get(status_port, "/health")
                break
            except OSError:
                if proc.poll() is not None or time.time() > deadline:
                    sys.exit(f"the engine did not start: {proc.stderr.read().decode()[-2000:]}")
                time.sleep(0.2)
        start = get(status_port, "/status")
        t0 = time.time()
        time.sleep(a.seconds)
        end = get(status_port, "/status")
        elapsed = time.time() - t0
        lat = get(status_port, "/latency")
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    before = {s["id"]: s for s in start["strategies"]}
    rates = []
    for s in end["strategies"]:
        d0 = before.get(s["id"], {}).get("decisions", 0)
        rates.append((s["id"], (s.get("decisions", 0) - d0) / elapsed, s.get("trades", 0)))
    t2o = [p for p in lat["latency"]["percentiles"] if p["measurement"] == "tick_to_order"]
    print(f"## {a.bots} bot(s) on {a.instruments} instrument(s), {elapsed:.0f} s")
    for p in t2o:
        r = p["run"]
        print(
            f"tick_to_order {p['venue']}: n={r['count']} p50={r['p50_ns'] / 1000:.1f} µs "
            f"p90={r['p90_ns'] / 1000:.1f} µs p99={r['p99_ns'] / 1000:.1f} µs"
        )
    risk = end.get("risk", {})
    venues = [(v["name"], v.get("orders")) for v in end.get("venues", [])]
    print(f"kill switch: {risk.get('kill_switch')} ({risk.get('kill_reason')}); order links: {venues}")
    for v in end.get("venues", []):
        print(f"orders by state on {v['name']}: {v.get('orders_by_state')}")
    if rates:
        rs = sorted(r for _, r, _ in rates)
        print(
            f"decisions/s per bot: min {rs[0]:.1f}, median {rs[len(rs) // 2]:.1f}, "
            f"max {rs[-1]:.1f}; bots with none: {sum(1 for r in rs if r == 0)}; "
            f"fills in all: {sum(t for _, _, t in rates)}"
        )
    if risk.get("kill_switch"):
        sys.exit("the kill switch tripped: these figures are not a fleet trading")


if __name__ == "__main__":
    main()
