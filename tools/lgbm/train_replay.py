"""Trains the LightGBM bot's replay models on a real recording, for tests/lgbm_replay.rs.

Reads the Binance spot recording tests/fixtures/binance-spot/btcusdt_20240808.gz (346 s of
BTCUSDT; its licence is beside it), builds 1-second candles from its trades by trade time
(flat bars at the last close where no trade fell, as mako's CandleBuilder does), computes
the features below as mako names and defines them (strategy/lgbm/features.rs), labels each bar
"up" when the close HORIZON bars later is above this close, and trains two small binary
models with fixed seeds:

    tests/fixtures/lgbm/replay_a.model.txt   horizon 5 bars
    tests/fixtures/lgbm/replay_b.model.txt   horizon 3 bars (the model the test swaps in)

    python3 tools/lgbm/train_replay.py   # needs lightgbm (tested with 4.7.0) and numpy

These are test models trained on six minutes of one market: they say something about that
recording and nothing about trading.
"""

import gzip
import json
import math
import os

import lightgbm as lgb
import numpy as np

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
RECORDING = os.path.join(ROOT, "tests/fixtures/binance-spot/btcusdt_20240808.gz")
OUT = os.path.join(ROOT, "tests/fixtures/lgbm")
FEATURES = [
    "price_change_1",
    "price_change_3",
    "price_change_10",
    "net_flow_5",
    "volume_5",
    "volatility_10",
    "rsi_14",
]


def candles():
    """(close, volume, taker buy volume, taker sell volume) per 1 s bar, in order."""
    trades = []
    with gzip.open(RECORDING, "rt") as f:
        for line in f:
            _, _, frame = line.partition(" ")
            msg = json.loads(frame)
            if not msg.get("stream", "").endswith("@trade"):
                continue
            d = msg["data"]
            # `m`: the buyer was the maker, so the taker sold.
            trades.append((d["T"], float(d["p"]), float(d["q"]), not d["m"]))
    trades.sort(key=lambda t: t[0])
    bars = []
    bar = None
    for t_ms, price, qty, taker_buy in trades:
        start = t_ms // 1000
        if bar is not None and start > bar[0]:
            bars.append(bar)
            # Flat bars for the seconds with no trade.
            for s in range(bar[0] + 1, start):
                bars.append([s, bar[1], 0.0, 0.0, 0.0])
            bar = None
        if bar is None:
            bar = [start, price, 0.0, 0.0, 0.0]
        bar[1] = price
        bar[2] += qty
        if taker_buy:
            bar[3] += qty
        else:
            bar[4] += qty
    if bar is not None:
        bars.append(bar)
    return [(b[1], b[2], b[3], b[4]) for b in bars]


def rsi(closes, n):
    """Wilder's RSI as TA-Lib computes it (first value after n changes), None before."""
    out = [None] * len(closes)
    gains = losses = 0.0
    for i in range(1, len(closes)):
        ch = closes[i] - closes[i - 1]
        g, l = max(ch, 0.0), max(-ch, 0.0)
        if i <= n:
            gains += g
            losses += l
            if i == n:
                gains /= n
                losses /= n
        else:
            gains = (gains * (n - 1) + g) / n
            losses = (losses * (n - 1) + l) / n
        if i >= n:
            out[i] = 0.0 if gains + losses == 0 else 100.0 * gains / (gains + losses)
    return out


def features(bars):
    closes = [b[0] for b in bars]
    r14 = rsi(closes, 14)
    rows = []
    for i in range(len(bars)):
        if i < 14:
            rows.append(None)
            continue
        lr = [math.log(closes[j] / closes[j - 1]) for j in range(i - 9, i + 1)]
        mean = sum(lr) / len(lr)
        vol = math.sqrt(sum((x - mean) ** 2 for x in lr) / (len(lr) - 1))
        rows.append(
            [
                closes[i] / closes[i - 1] - 1,
                closes[i] / closes[i - 3] - 1,
                closes[i] / closes[i - 10] - 1,
                sum(b[2] - b[3] for b in bars[i - 4 : i + 1]),
                sum(b[1] for b in bars[i - 4 : i + 1]),
                vol,
                r14[i],
            ]
        )
    return rows


def train(bars, rows, horizon, name, seed):
    closes = [b[0] for b in bars]
    x, y = [], []
    for i, row in enumerate(rows):
        if row is None or i + horizon >= len(bars):
            continue
        x.append(row)
        y.append(1 if closes[i + horizon] > closes[i] else 0)
    x, y = np.array(x), np.array(y)
    params = {
        "objective": "binary",
        "num_leaves": 7,
        "min_data_in_leaf": 10,
        "learning_rate": 0.1,
        "seed": seed,
        "deterministic": True,
        "force_row_wise": True,
        "num_threads": 1,
        "verbose": -1,
    }
    ds = lgb.Dataset(x, label=y, feature_name=FEATURES)
    booster = lgb.train(params, ds, num_boost_round=30)
    path = os.path.join(OUT, name)
    booster.save_model(path)
    p = booster.predict(x)
    print(
        f"{name}: {len(y)} bars, {y.mean():.2f} up, "
        f"accuracy {((p > 0.5) == y).mean():.2f} (in sample), "
        f"predictions >= 0.5: {(p >= 0.5).mean():.2f}"
    )


def main():
    bars = candles()
    rows = features(bars)
    train(bars, rows, 5, "replay_a.model.txt", 1)
    train(bars, rows, 3, "replay_b.model.txt", 2)


if __name__ == "__main__":
    main()
