#!/usr/bin/env bash
# The backtest's results, hashed: every output file of a set of `mako backtest` runs over the
# repo's configs and fixtures (fills, PnL, orders, the equity curve, the plots, the report),
# with the only lines that depend on the machine (wall time and events/s) left out.
# A speed change must not change a byte of them.
#
#   tools/backtest/golden.sh <mako binary> write   # take the hashes (before a change)
#   tools/backtest/golden.sh <mako binary> check   # compare (after it); exit 1 on a difference
#
# The hashes live in tools/backtest/golden.sha256 (taken with commit 3edb81d's release build).
# Run from the repository's root.
set -euo pipefail
bin=${1:?usage: golden.sh <mako binary> write|check}
what=${2:?usage: golden.sh <mako binary> write|check}
here=$(cd "$(dirname "$0")" && pwd)
golden="$here/golden.sha256"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

fixture=tests/fixtures/binance-spot/btcusdt_20240808.gz
# The bookTicker-and-trade recording of docs/performance.md: the fixture's 200 sync frames,
# then only its bookTickers and trades (37,804 frames).
zcat "$fixture" | awk 'NR<=200 || /@bookTicker"/ || /@trade"/' >"$work/bbo_trade.txt"
"$bin" backtest config/backtest-spread.toml --data "$work/bbo_trade.txt" \
    --convert "$work/bbo_trade.mkev" >/dev/null

run() {
    local name=$1
    shift
    "$bin" backtest "$@" --out "$work/out-$name" >/dev/null
}
run spread config/backtest-spread.toml --data "$fixture"
run spread-hgrm config/backtest-spread.toml --data "$fixture" --latency docs/latency
run grid config/backtest-grid.toml --data "$fixture"
run okx config/backtest-spread-okx.toml --data tests/fixtures/okx/OKX.ws.1.0
run bbo-frames config/backtest-spread.toml --data "$work/bbo_trade.txt"
run bbo-events config/backtest-spread.toml --data "$work/bbo_trade.mkev"

sums="$work/sums"
: >"$sums"
for d in "$work"/out-*; do
    for f in "$d"/*; do
        name="$(basename "$d")/$(basename "$f")"
        case "$f" in
        *report.json) grep -v -e '"wall_seconds"' -e '"events_per_second"' "$f" ;;
        *report.md) grep -v -e 'events/s' "$f" ;;
        *) cat "$f" ;;
        esac | sed "s#$work#WORK#g" | sha256sum | sed "s#-\$#$name#" >>"$sums"
    done
done

case "$what" in
write)
    cp "$sums" "$golden"
    echo "golden: $(wc -l <"$golden") files hashed into $golden"
    ;;
check)
    if diff -u "$golden" "$sums"; then
        echo "golden: all $(wc -l <"$golden") files identical"
    else
        echo "golden: results differ" >&2
        exit 1
    fi
    ;;
*)
    echo "write or check" >&2
    exit 2
    ;;
esac
