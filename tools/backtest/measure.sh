#!/usr/bin/env bash
# The backtest's speed on the bookTicker-and-trade recording of docs/performance.md (the
# Binance Spot fixture's 200 sync frames, then only its 37,604 bookTickers and trades): events/s
# from `mako backtest`'s own report, best of N, from the recording (JSON parsed in the replay)
# and from the converted event file; then, when valgrind is installed, the replay's
# instruction count per event (callgrind, inclusive cost of `Replay::event`).
#
#   cargo build --release --bin mako
#   tools/backtest/measure.sh target/release/mako [runs]
#
# Run from the repository's root, on a quiet machine for the wall-clock figures.
set -euo pipefail
bin=${1:?usage: measure.sh <mako binary> [runs]}
runs=${2:-3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
config=config/backtest-spread.toml
zcat tests/fixtures/binance-spot/btcusdt_20240808.gz |
    awk 'NR<=200 || /@bookTicker"/ || /@trade"/' >"$work/bbo_trade.txt"
"$bin" backtest "$config" --data "$work/bbo_trade.txt" --convert "$work/bbo_trade.mkev"

best() {
    local data=$1 b=0 r
    for _ in $(seq "$runs"); do
        r=$("$bin" backtest "$config" --data "$data" --out "$work/out" |
            sed -n 's/.*(\([0-9.]*\) events\/s).*/\1/p')
        echo "  run: $r events/s" >&2
        b=$(python3 -c "print(max($b, $r))")
    done
    echo "$b"
}
echo "frames (JSON): best of $runs: $(best "$work/bbo_trade.txt") events/s"
echo "event file:    best of $runs: $(best "$work/bbo_trade.mkev") events/s"

if command -v valgrind >/dev/null; then
    valgrind --tool=callgrind --callgrind-out-file="$work/cg" "$bin" backtest "$config" \
        --data "$work/bbo_trade.mkev" --out "$work/cg-out" >/dev/null 2>&1
    callgrind_annotate --inclusive=yes "$work/cg" 2>/dev/null |
        grep -E 'Replay>::event \[' | head -1 |
        awk '{gsub(",", "", $1); printf "event file: %d instructions in the replay loop, %.0f per event\n", $1, $1 / 37804}'
fi
