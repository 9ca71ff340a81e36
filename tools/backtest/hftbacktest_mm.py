#!/usr/bin/env python3
"""The side-by-side with hftbacktest (issue 23): a simple market maker, equivalent in its
quoting rule to mako's spread maker in config/backtest-spread.toml, run by hftbacktest over
the same recording (converted by to_hftbacktest.py) with the same latency, queue rule and
fees. Prints one JSON line: events, wall seconds, events per second, fills, PnL.

  python3 tools/backtest/to_hftbacktest.py tests/fixtures/binance-spot/btcusdt_20240808.gz /tmp/btc.npz
  python3 tools/backtest/hftbacktest_mm.py /tmp/btc.npz --frames 41249

The rule, as the spread maker's: a bid at mid × (1 − half spread) rounded down to the tick and
an ask at mid × (1 + half spread) rounded up, post-only (GTX), 0.002 BTC each; a side is
replaced when its target moved more than the tolerance from the resting price or the quote is
older than the refresh interval; no side adds to a position past `max_position`. Not copied:
the spread maker's inventory skew and its balance limits (it starts balanced and its fills
here stay within 0.004 BTC of it). Timing: the strategy loop is compiled by numba in a first
run over the data; the second run is timed (compiling is not backtesting).
"""

import argparse
import json
import time

import numpy as np
from numba import njit

from hftbacktest import GTX, LIMIT, BacktestAsset, HashMapMarketDepthBacktest


@njit
def targets(bb, ba, base, quote, tick, lot, spread_bps, skew_bps, target_bps, range_bps, hard_bps, size):
    """The spread maker's `quote::targets` (src/strategy/spread/quote.rs) in floats: the mid,
    inventory deviation from the target share, the skewed center, the half spread, prices
    rounded away from the mid, sizes skewed by inventory, the hard limit and affordability.
    Returns (bid, bid_qty, ask, ask_qty); a side not quoted has quantity 0."""
    mid = (bb + ba) / 2.0
    base_value = base * mid
    total = base_value + quote
    dev = 0.0
    if total > 0.0:
        dev = np.floor(base_value * 10_000.0 / total) - target_bps
    x = min(max(np.trunc(dev * 10_000.0 / range_bps), -10_000.0), 10_000.0)
    center = mid - mid * skew_bps / 10_000.0 * x / 10_000.0
    half = mid * spread_bps / 10_000.0 / 2.0
    bid = np.floor((center - half) / tick + 1e-9) * tick
    ask = np.ceil((center + half) / tick - 1e-9) * tick
    if bid >= ba:
        bid = ba - tick
    if ask <= bb:
        ask = bb + tick
    bq = np.floor(size * min(max(10_000.0 - x, 0.0), 20_000.0) / 10_000.0 / lot + 1e-9) * lot
    aq = np.floor(size * min(max(10_000.0 + x, 0.0), 20_000.0) / 10_000.0 / lot + 1e-9) * lot
    if not (dev < hard_bps and bid > 0.0 and bq >= lot and bid * bq >= 5.0 and bid * bq <= quote):
        bq = 0.0
    if not (dev > -hard_bps and aq >= lot and ask * aq >= 5.0 and aq <= base):
        aq = 0.0
    if bq > 0.0 and aq > 0.0 and bid >= ask:
        bq = 0.0
        aq = 0.0
    return bid, bq, ask, aq


@njit
def market_maker(hbt, p, end_ts):
    """One quote per side; a side is replaced (cancel, then a new order once the cancel is
    confirmed) when its target moved past the tolerance, its size by more than a fifth, or
    it is older than the refresh interval, as the spread maker's `needs_replace`."""
    tick = hbt.depth(0).tick_size
    lot = 0.00001
    spread_bps, skew_bps, target_bps, range_bps, hard_bps = p[0], p[1], p[2], p[3], p[4]
    size, tol_bps, refresh_ns, base0, quote0, max_pos = p[5], p[6], p[7], p[8], p[9], p[10]
    next_id = 1
    ids = np.zeros(2, np.int64)
    pxs = np.zeros(2)
    qtys = np.zeros(2)
    ats = np.zeros(2, np.int64)
    while True:
        r = hbt.wait_next_feed(True, 1_000_000_000)
        if r == 1 or hbt.current_timestamp >= end_ts:
            break
        depth = hbt.depth(0)
        bb = depth.best_bid
        ba = depth.best_ask
        if not (bb > 0.0 and ba > 0.0 and bb < ba):
            continue
        now = hbt.current_timestamp
        sv = hbt.state_values(0)
        pos = hbt.position(0)
        base = base0 + pos
        quote = quote0 + sv.balance - sv.fee
        bid, bq, ask, aq = targets(bb, ba, base, quote, tick, lot, spread_bps, skew_bps,
                                   target_bps, range_bps, hard_bps, size)
        orders = hbt.orders(0)
        for k in range(2):
            want_px = bid if k == 0 else ask
            want_q = bq if k == 0 else aq
            oid = ids[k]
            if oid != 0:
                if oid not in orders:
                    ids[k] = 0
                else:
                    o = orders.get(oid)
                    if o.status == 2 or o.status == 3 or o.status == 4:
                        # Expired (a rejected post-only), filled or cancelled: the side is free.
                        ids[k] = 0
                    elif o.cancellable:
                        moved = abs(pxs[k] - want_px) > pxs[k] * tol_bps / 10_000.0
                        sized = abs(o.leaves_qty - want_q) * 5.0 > o.leaves_qty
                        if want_q == 0.0 or moved or sized or now - ats[k] >= refresh_ns:
                            hbt.cancel(0, oid, False)
            if ids[k] == 0 and want_q > 0.0:
                if (k == 0 and pos + want_q <= max_pos) or (k == 1 and pos - want_q >= -max_pos):
                    ids[k] = next_id
                    next_id += 1
                    pxs[k] = want_px
                    qtys[k] = want_q
                    ats[k] = now
                    if k == 0:
                        hbt.submit_buy_order(0, ids[k], want_px, want_q, GTX, LIMIT, False)
                    else:
                        hbt.submit_sell_order(0, ids[k], want_px, want_q, GTX, LIMIT, False)
        hbt.clear_inactive_orders(0)
    return True


def build(data, queue, maker_fee, taker_fee, latency_ns):
    asset = (
        BacktestAsset()
        .data([data])
        .linear_asset(1.0)
        .constant_order_latency(latency_ns, latency_ns)
        .tick_size(0.01)
        .lot_size(0.00001)
        .trading_value_fee_model(maker_fee, taker_fee)
        .partial_fill_exchange()
        .last_trades_capacity(0)
    )
    if queue == "none":
        asset = asset.risk_adverse_queue_model()
    elif queue == "proportional":
        asset = asset.power_prob_queue_model(1.0)
    else:
        asset = asset.power_prob_queue_model(3.0)
    return HashMapMarketDepthBacktest([asset])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("npz")
    ap.add_argument("--frames", type=int, default=0, help="frames of the recording, for frames/s")
    ap.add_argument("--queue", default="proportional", choices=["none", "proportional", "probabilistic"])
    ap.add_argument("--latency-ns", type=int, default=2_000_000)
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    data = np.load(a.npz)["data"]
    # config/backtest-spread.toml's parameters and the spread maker's defaults:
    # spread 2 bp, skew 50 bp, target base share 50 %, inventory range 20 %, hard limit 30 %,
    # 0.002 BTC, tolerance 1 bp, refresh 10 s, 0.02 BTC + 1200 USDT, max position 0.05 BTC.
    params = np.array([2.0, 50.0, 5000.0, 2000.0, 3000.0, 0.002, 1.0, 10e9, 0.02, 1200.0, 0.05])
    args = (params, int(data["local_ts"].max()))
    # First run compiles the strategy loop.
    hbt = build(data, a.queue, 0.0001, 0.0004, a.latency_ns)
    market_maker(hbt, *args)
    hbt.close()
    best = None
    for _ in range(a.runs):
        hbt = build(data, a.queue, 0.0001, 0.0004, a.latency_ns)
        t0 = time.perf_counter()
        market_maker(hbt, *args)
        wall = time.perf_counter() - t0
        sv = hbt.state_values(0)
        depth = hbt.depth(0)
        mid = (depth.best_bid + depth.best_ask) / 2.0
        out = {
            "engine": "hftbacktest 2.4.4",
            "queue": a.queue,
            "rows": int(len(data)),
            "frames": a.frames,
            "wall_seconds": round(wall, 6),
            "rows_per_second": round(len(data) / wall),
            "frames_per_second": round(a.frames / wall) if a.frames else None,
            "fills": int(sv.num_trades),
            "events_per_second": round(len(data) / wall),
            "volume_quote": round(float(sv.trading_value), 8),
            "fees": round(float(sv.fee), 8),
            "position": round(float(sv.position), 8),
            "pnl_total": round(float(sv.balance + sv.position * mid - sv.fee), 8),
        }
        hbt.close()
        if best is None or wall < best["wall_seconds"]:
            best = out
    print(json.dumps(best))


if __name__ == "__main__":
    main()
