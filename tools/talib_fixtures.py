#!/usr/bin/env python3
"""Writes the indicator fixtures in tests/fixtures/indicators/ from real TA-Lib.

Generated with the PyPI package TA-Lib 0.8.2 (its manylinux wheel bundles the TA-Lib C
library, which reports itself as 0.8.1) and numpy 2.4.6, on CPython 3.11:

    python3 -m venv /tmp/talib-venv
    /tmp/talib-venv/bin/pip install TA-Lib==0.8.2 numpy==2.4.6
    /tmp/talib-venv/bin/python tools/talib_fixtures.py

TA-Lib runs with its defaults: classic compatibility (EMA seeded by an SMA) and no unstable
period. For each series it writes three files:

- `<series>.csv`: the input (time, open, high, low, close), as `mako indicators` reads it;
- `<series>.args`: the `mako indicators` flags the expected columns answer;
- `<series>.talib.csv`: time and one column per output, named as `mako indicators` names
  them; an empty field where TA-Lib gives NaN (no value yet).

`vol_<n>` has no TA-Lib function: it is numpy's sample standard deviation (ddof=1) of the
last n log returns ln(close[i] / close[i-1]), so its first value is at index n.

The series are fixed (seeded), so running the script again writes the same bytes.
"""

import math
import os
import sys

import numpy as np
import talib

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "indicators")


def ohlc_from_closes(closes, rng, spread):
    """Open = previous close; high/low reach past the body by a random amount."""
    closes = np.asarray(closes, dtype=float)
    opens = np.concatenate(([closes[0]], closes[:-1]))
    up = np.abs(rng.normal(0.0, spread, len(closes)))
    down = np.abs(rng.normal(0.0, spread, len(closes)))
    highs = np.maximum(opens, closes) + up
    lows = np.minimum(opens, closes) - down
    return opens, highs, lows, closes


def rounded(a, decimals):
    return np.array([round(float(x), decimals) for x in a])


def walk():
    """300 bars of a seeded geometric random walk around 100 (cent prices)."""
    rng = np.random.default_rng(16)
    closes = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.01, 300)))
    o, h, l, c = ohlc_from_closes(rounded(closes, 2), rng, 0.3)
    args = ("--sma 5 --sma 20 --ema 12 --ema 26 --rsi 14 --rsi 2 --macd 12,26,9 "
            "--bbands 20,2 --bbands 5,1.5 --atr 14 --atr 1 --vol 20 --vol 2")
    return rounded(o, 2), rounded(h, 2), rounded(l, 2), rounded(c, 2), args


def edge():
    """Flat stretches longer than every period, a straight climb and fall, a spike, and
    bars whose high, low and close are one price."""
    rng = np.random.default_rng(7)
    c = [50.0] * 25                                  # flat from the first bar
    c += [50.0 + 0.5 * i for i in range(1, 16)]      # climb: only gains
    c += [57.5] * 20                                 # flat again
    c += [57.5 - 0.25 * i for i in range(1, 13)]     # fall: only losses
    c += [80.0, 54.5, 54.5, 54.5]                    # spike and back
    c += list(54.5 + np.round(rng.normal(0, 0.2, 24), 2))
    c = np.array(c)
    o = np.concatenate(([c[0]], c[:-1]))
    h = np.maximum(o, c)
    l = np.minimum(o, c)
    # Bars 30..39 of the climb get wicks; the rest are bodies only (high/low at open/close).
    h[30:40] += 0.3
    l[30:40] -= 0.2
    args = ("--sma 1 --sma 3 --ema 1 --ema 3 --rsi 5 --rsi 2 --macd 3,6,2 "
            "--bbands 4,1 --bbands 2,2.5 --atr 3 --atr 1 --vol 4 --vol 2")
    return o, rounded(h, 2), rounded(l, 2), c, args


def short():
    """10 bars: fewer than most periods, so most columns stay empty; the period-9 ones
    (and period 10 for the window indicators) give their first value on the last bar."""
    rng = np.random.default_rng(3)
    c = rounded(20000.0 + np.cumsum(rng.normal(0, 40.0, 10)), 2)
    o, h, l, c = ohlc_from_closes(c, rng, 15.0)
    args = ("--sma 5 --sma 10 --sma 20 --ema 10 --ema 12 --rsi 9 --rsi 14 --macd 12,26,9 "
            "--bbands 10,2 --bbands 20,2 --atr 9 --atr 14 --vol 9 --vol 20")
    return rounded(o, 2), rounded(h, 2), rounded(l, 2), c, args


def tiny():
    """200 bars of a coin priced near 0.00002 (8 decimals, like a venue's tick), where the
    variances fall near TA-Lib's zero threshold; and a MACD with other periods."""
    rng = np.random.default_rng(11)
    closes = 0.00002 * np.exp(np.cumsum(rng.normal(0.0, 0.004, 200)))
    o, h, l, c = ohlc_from_closes(rounded(closes, 8), rng, 0.00000005)
    args = ("--sma 7 --ema 9 --rsi 14 --macd 5,10,4 --bbands 20,2 --bbands 3,1 "
            "--atr 14 --vol 10")
    return rounded(o, 8), rounded(h, 8), rounded(l, 8), rounded(c, 8), args


def parse_args(args):
    it = iter(args.split())
    for flag in it:
        yield flag[2:], next(it)


def sample_log_vol(close, n):
    out = np.full(len(close), np.nan)
    r = np.log(close[1:] / close[:-1])
    for i in range(n, len(close)):
        out[i] = np.std(r[i - n:i], ddof=1)
    return out


def outputs(o, h, l, c, args):
    cols = []
    for name, value in parse_args(args):
        if name == "sma":
            cols.append((f"sma_{value}", talib.SMA(c, int(value))))
        elif name == "ema":
            cols.append((f"ema_{value}", talib.EMA(c, int(value))))
        elif name == "rsi":
            cols.append((f"rsi_{value}", talib.RSI(c, int(value))))
        elif name == "macd":
            f, s, g = (int(x) for x in value.split(","))
            m, sig, hist = talib.MACD(c, f, s, g)
            cols += [("macd", m), ("macd_signal", sig), ("macd_hist", hist)]
        elif name == "bbands":
            n, k = value.split(",")
            up, mid, low = talib.BBANDS(c, int(n), float(k), float(k), talib.MA_Type.SMA)
            cols += [(f"bb_upper_{n}", up), (f"bb_middle_{n}", mid), (f"bb_lower_{n}", low)]
        elif name == "atr":
            cols.append((f"atr_{value}", talib.ATR(h, l, c, int(value))))
        elif name == "vol":
            cols.append((f"vol_{value}", sample_log_vol(c, int(value))))
        else:
            sys.exit(f"unknown flag --{name}")
    return cols


def field(x):
    x = float(x)
    return "" if math.isnan(x) else repr(x)


def write(name, series):
    o, h, l, c, args = series
    times = [f"2024-01-01T{i // 60:02d}:{i % 60:02d}:00Z" for i in range(len(c))]
    with open(os.path.join(OUT, f"{name}.csv"), "w") as f:
        f.write("time,open,high,low,close\n")
        for i in range(len(c)):
            f.write(",".join([times[i]] + [field(v[i]) for v in (o, h, l, c)]) + "\n")
    with open(os.path.join(OUT, f"{name}.args"), "w") as f:
        f.write(args + "\n")
    cols = outputs(o, h, l, c, args)
    with open(os.path.join(OUT, f"{name}.talib.csv"), "w") as f:
        f.write(",".join(["time"] + [n for n, _ in cols]) + "\n")
        for i in range(len(c)):
            f.write(",".join([times[i]] + [field(v[i]) for _, v in cols]) + "\n")


def main():
    os.makedirs(OUT, exist_ok=True)
    assert talib.__version__ == "0.8.2", talib.__version__
    assert talib.get_compatibility() == 0
    for name, make in [("walk", walk), ("edge", edge), ("short", short), ("tiny", tiny)]:
        write(name, make())
    print(f"wrote fixtures to {os.path.normpath(OUT)}")


if __name__ == "__main__":
    main()
