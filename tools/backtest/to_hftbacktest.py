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

Both timestamps are the frame's receive time: mako's backtest sees every frame when it was
received, so the venue side of hftbacktest does too (zero feed latency on both).
Depth updates older than the snapshot are dropped, as mako's book sync drops them.
"""

import gzip
import json
import sys

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


def convert(path):
    opener = gzip.open if path.endswith(".gz") else open
    rows = []
    snapshot_id = None
    both = EXCH_EVENT | LOCAL_EVENT
    with opener(path, "rt") as f:
        for line in f:
            ts, _, frame = line.partition(" ")
            try:
                t = int(ts)
                msg = json.loads(frame)
            except ValueError:
                continue
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
    return np.array(rows, dtype=EVENT_DTYPE)


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: to_hftbacktest.py <recording> <out.npz>")
    data = convert(sys.argv[1])
    np.savez_compressed(sys.argv[2], data=data)
    print(f"{len(data)} events written to {sys.argv[2]}")


if __name__ == "__main__":
    main()
