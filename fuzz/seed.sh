#!/usr/bin/env bash
# Fills fuzz/corpus/<target>/ from the repository's real data: recordings, documentation
# samples, configs, .hgrm files. Re-run after adding samples; the result is committed.
set -eu
cd "$(dirname "$0")/.."
c=fuzz/corpus
rm -rf "$c" && mkdir -p "$c"
for t in binance_md okx_md binance_private okx_private rest_answers sim_http recording hgrm config; do
  mkdir -p "$c/$t"
done
put() { # target name < bytes
  cat > "$c/$1/$2"
}

# Binance market data: every 97th frame of the recording plus the first of each kind.
zcat tests/fixtures/binance-spot/btcusdt_20240808.gz | cut -d' ' -f2- \
  | awk 'NR % 97 == 1 || (/"e":"trade"/ && !t++) || (/depthUpdate/ && !d++) || (/lastUpdateId/ && !s++) || (/"u":/ && /"b":/ && !b++)' \
  | head -n 500 | split -l 1 -d -a 3 - "$c/binance_md/rec-"
for f in tests/fixtures/binance-samples/binance_{aggtrade,bookticker,depth_diff,depth_snapshot_rest,partial_depth,trade,server_shutdown_raw}.json; do
  cp "$f" "$c/binance_md/"
done

# OKX market data: the cryptofeed capture's frames and the documentation samples.
grep -o ': {.*' tests/fixtures/okx/OKX.ws.1.0 | cut -c3- | awk 'NR % 3 == 1' \
  | split -l 1 -d -a 3 - "$c/okx_md/rec-"
for f in tests/fixtures/okx/samples/okx_{bbo_tbt,books5,books_snapshot,books_update,tickers,trades,rest_books_response,books_subscribe_error,ws_notice_service_upgrade}.json; do
  cp "$f" "$c/okx_md/"
done

# Private streams, WebSocket API and REST answers.
for f in tests/fixtures/binance-samples/binance_{account_response,cancel_order_response,execution_report,new_order_response_ack,new_order_response_full,open_orders_response,outbound_account_position,query_order_response,wsapi_error_response,wsapi_order_place_response}.json; do
  cp "$f" "$c/binance_private/"
done
for f in tests/fixtures/okx/samples/okx_{account_balance_response,cancel_order_response,order_details_response,orders_channel_push_fill,orders_pending_response,place_order_response,ws_login_failure,ws_login_response}.json; do
  cp "$f" "$c/okx_private/"
done
# REST answers: byte 0 picks the request, bytes 1-2 the HTTP status (mod 500, + 100), the
# rest is the body.
n=0
for f in "$c"/binance_private/* "$c"/okx_private/*; do
  for which in 1 2 3 4 5 6; do
    { printf "\\x$(printf %02x $which)\\x00\\x64"; cat "$f"; } > "$c/rest_answers/ok-$n-$which"
  done
  n=$((n + 1))
done
{ printf '\x01\x01\x4d'; printf '{"code":-1003,"msg":"Too many requests."}'; } > "$c/rest_answers/429"
{ printf '\x01\x01\x90'; printf '<html>bad gateway</html>'; } > "$c/rest_answers/5xx"

# HTTP requests to the simulator.
printf 'GET /api/v3/time HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n' | put sim_http time
printf 'POST /api/v3/order?symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.001&price=10000&timestamp=1&signature=ab HTTP/1.1\r\nHost: x\r\nX-MBX-APIKEY: k\r\nContent-Length: 0\r\n\r\n' | put sim_http order
printf 'POST /api/v5/trade/order HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 27\r\n\r\n{"instId":"BTC-USDT","sz":"1"}' | put sim_http okx-order
printf 'GET /sim/state?x=%%41%%zz&y HTTP/1.1\r\n\r\n' | put sim_http percent

# Recordings: mako's own lines and a cryptofeed capture's.
zcat tests/fixtures/binance-spot/btcusdt_20240808.gz | head -n 40 | put recording mako-lines
head -n 40 tests/fixtures/okx/OKX.ws.1.0 | put recording cryptofeed-lines

# .hgrm files written by mako.
for f in docs/latency/*.hgrm; do
  cp "$f" "$c/hgrm/"
done

# Configs.
for f in config/*.toml tests/fixtures/config/*.toml; do
  [ -f "$f" ] && cp "$f" "$c/config/$(basename "$f")"
done
du -sh "$c"
