#!/usr/bin/env python3
"""Converts a mako recording of Binance Spot (`<receive ns> <frame>` lines, gzip or not) into
hftbacktest's event format (an .npz holding `data`, hftbacktest's `event_dtype`), so both
backtests replay the same frames.

  python3 tools/backtest/to_hftbacktest.py tests/fixtures/binance-spot/btcusdt_20240808.gz out.npz

What is converted, and how:
- the REST snapshot line (`{"lastUpdateId":…}`): a depth clear on each side, then one
  snapshot event per level;
- `depthUpdate`: one depth event per level (quantity 0 deletes it);
- `trade`: one trade event, side = the aggressor (`m` true: the buyer was the maker, so the
  seller took: SELL_EVENT);
- `bookTicker`: not converted. hftbacktest builds its book from depth events only; mako's
  feed also publishes bookTickers as the top of book (a difference the report explains).

With `--bbo-trade` only the bookTicker and trade frames are read (the issue's bookTicker-and-trade
replay; the depth frames and the snapshot are skipped): each bookTicker becomes depth events
that make hftbacktest's book exactly that top of book (the previous best bid and ask levels
deleted, quantity 0, when their price changed, then the new best bid and ask set), so both
engines quote and match against the same touch.

Both timestamps are the frame's receive time: mako's backtest sees every frame when it was
received, so the venue side of hftbacktest does too (zero feed latency on both).
Depth updates older than the snapshot are dropped, as mako's book sync drops them.
"""

import gzip
import json
import sys
import time

import numpy as np

# hftbacktest's flags (hftbacktest/types.py).
EXCH_EVENT = 1 << 31
LOCAL_EVENT = 1 << 30
BUY_EVENT = 1 << 29
SELL_EVENT = 1 << 28
DEPTH_EVENT = 1
TRADE_EVENT = 2
DEPTH_CLEAR_EVENT = 3
DEPTH_SNAPSHOT_EVENT = 4

EVENT_DTYPE = np.dtype(
    [
        ("ev", "u8"),
        ("exch_ts", "i8"),
        ("local_ts", "i8"),
        ("px", "f8"),
        ("qty", "f8"),
        ("order_id", "u8"),
        ("ival", "i8"),
        ("fval", "f8"),
    ],
    align=True,
)


def convert(path, bbo_trade=False):
    opener = gzip.open if path.endswith(".gz") else open
    rows = []
    snapshot_id = None
    both = EXCH_EVENT | LOCAL_EVENT
    frames = 0
    last_t = 0
    top = None
    with opener(path, "rt") as f:
        for line in f:
            ts, _, frame = line.partition(" ")
            try:
                t = int(ts)
                msg = json.loads(frame)
            except ValueError:
                continue
            # Receive times never run backwards (as mako's replay takes them).
            t = max(t, last_t)
            last_t = t
            if bbo_trade:
                data = msg.get("data", {})
                stream = msg.get("stream", "")
                if stream.endswith("@bookTicker"):
                    frames += 1
                    bid, bq, ask, aq = float(data["b"]), float(data["B"]), float(data["a"]), float(data["A"])
                    if top is not None:
                        if top[0] != bid:
                            rows.append((both | BUY_EVENT | DEPTH_EVENT, t, t, top[0], 0.0, 0, 0, 0.0))
                        if top[1] != ask:
                            rows.append((both | SELL_EVENT | DEPTH_EVENT, t, t, top[1], 0.0, 0, 0, 0.0))
                    rows.append((both | BUY_EVENT | DEPTH_EVENT, t, t, bid, bq, 0, 0, 0.0))
                    rows.append((both | SELL_EVENT | DEPTH_EVENT, t, t, ask, aq, 0, 0, 0.0))
                    top = (bid, ask)
                elif stream.endswith("@trade"):
                    frames += 1
                    side = SELL_EVENT if data["m"] else BUY_EVENT
                    rows.append((both | side | TRADE_EVENT, t, t, float(data["p"]), float(data["q"]), 0, 0, 0.0))
                continue
            frames += 1
            if "lastUpdateId" in msg:
                snapshot_id = msg["lastUpdateId"]
                rows.append((both | BUY_EVENT | DEPTH_CLEAR_EVENT, t, t, 0.0, 0.0, 0, 0, 0.0))
                rows.append((both | SELL_EVENT | DEPTH_CLEAR_EVENT, t, t, 0.0, 0.0, 0, 0, 0.0))
                for px, qty in msg["bids"]:
                    rows.append((both | BUY_EVENT | DEPTH_SNAPSHOT_EVENT, t, t, float(px), float(qty), 0, 0, 0.0))
                for px, qty in msg["asks"]:
                    rows.append((both | SELL_EVENT | DEPTH_SNAPSHOT_EVENT, t, t, float(px), float(qty), 0, 0, 0.0))
                continue
            data = msg.get("data", {})
            stream = msg.get("stream", "")
            if "@depth" in stream:
                if snapshot_id is None or data["u"] <= snapshot_id:
                    continue
                for px, qty in data["b"]:
                    rows.append((both | BUY_EVENT | DEPTH_EVENT, t, t, float(px), float(qty), 0, 0, 0.0))
                for px, qty in data["a"]:
                    rows.append((both | SELL_EVENT | DEPTH_EVENT, t, t, float(px), float(qty), 0, 0, 0.0))
            elif stream.endswith("@trade"):
                side = SELL_EVENT if data["m"] else BUY_EVENT
                rows.append((both | side | TRADE_EVENT, t, t, float(data["p"]), float(data["q"]), 0, 0, 0.0))
    return np.array(rows, dtype=EVENT_DTYPE), frames


def main():
    args = [a for a in sys.argv[1:] if a != "--bbo-trade"]
    if len(args) != 2:
        sys.exit("usage: to_hftbacktest.py [--bbo-trade] <recording> <out.npz>")
    t0 = time.perf_counter()
    data, frames = convert(args[0], bbo_trade="--bbo-trade" in sys.argv)
    np.savez(args[1], data=data)
    print(f"{frames} frames -> {len(data)} events written to {args[1]} in {time.perf_counter() - t0:.3f} s")


if __name__ == "__main__":
    main()
