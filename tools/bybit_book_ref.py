#!/usr/bin/env python3
"""The reference book of a Bybit v5 order-book capture (one WebSocket message per line), by
Bybit's documented rules and nothing of mako's: a `snapshot` (or a message with `u` = 1)
replaces the book; a `delta` must carry `u` = previous + 1; a level with size "0" is deleted,
any other size replaces the level. Prices and sizes are compared as decimals.

    tools/bybit_book_ref.py tests/fixtures/bybit/capture/2024-12-01_XRPUSDT_ob500.data \
        > tests/fixtures/bybit/capture/2024-12-01_XRPUSDT_ob500.ref.json

Output (JSON): the topic, the number of messages, the final `u` and `seq`, the best bid and
ask after every message, and the final book in full (bids high to low, asks low to high),
each level as [price, size] in the capture's own text.
"""
import json
import sys
from decimal import Decimal


def main(path):
    bids, asks = {}, {}
    last_u = None
    tops = []
    topic = None
    seq = None
    n = 0
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            msg = json.loads(line)
            n += 1
            topic = topic or msg["topic"]
            if msg["topic"] != topic:
                raise SystemExit(f"line {n}: a second topic {msg['topic']}")
            data = msg["data"]
            u = data["u"]
            if msg["type"] == "snapshot" or u == 1:
                bids.clear()
                asks.clear()
            elif msg["type"] == "delta":
                if last_u is None or u != last_u + 1:
                    raise SystemExit(f"line {n}: u {u} after {last_u}: a gap")
            else:
                raise SystemExit(f"line {n}: type {msg['type']}")
            for side, book in (("b", bids), ("a", asks)):
                for price, size in data[side]:
                    key = Decimal(price)
                    if Decimal(size) == 0:
                        book.pop(key, None)
                    else:
                        book[key] = (price, size)
            last_u = u
            seq = data["seq"]
            best_bid = max(bids) if bids else None
            best_ask = min(asks) if asks else None
            tops.append([
                list(bids[best_bid]) if best_bid is not None else None,
                list(asks[best_ask]) if best_ask is not None else None,
            ])
    out = {
        "topic": topic,
        "messages": n,
        "u": last_u,
        "seq": seq,
        "tops": tops,
        "bids": [list(bids[p]) for p in sorted(bids, reverse=True)],
        "asks": [list(asks[p]) for p in sorted(asks)],
    }
    json.dump(out, sys.stdout, indent=0)
    sys.stdout.write("\n")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    main(sys.argv[1])
