#!/usr/bin/env bash
# Fills fuzz/corpus/<target>/ from the repository's real data: recordings, documentation
# samples (also without the docs' `//` annotations and on one line, which is how the venues
# send them), configs, .hgrm files, and hand-written HTTP requests and WebSocket sessions.
# Deterministic: re-running it gives the same files. Re-run after adding samples; the result
# is committed (keep it under ~2 MB). Needs bash, awk, jq, gzip, split (and python3 for one Bybit sample).
#   fuzz/seed.sh
set -eu
cd "$(dirname "$0")/.."
c=fuzz/corpus
targets="binance_md okx_md coinbase_md bitmart_md bybit_md delta_md coindcx_md coinstore_md binance_private binance_user okx_private coinbase_private bybit_private bitmart_private coinstore_private delta_private coindcx_private rest_answers sim_http sim_ws status_http recording hgrm config"
rm -rf "$c" && mkdir -p "$c"
for t in $targets; do
  mkdir -p "$c/$t"
done
put() { # target name < bytes
  cat > "$c/$1/$2"
}
# A documentation sample as the venue sends it: annotations cut, one line of JSON. Nothing
# when it is not JSON then.
compact() { # file
  sed 's| //.*$||' "$1" | jq -c . 2>/dev/null || true
}
# The same as compact, to a file, only when it is JSON.
put_compact() { # target name file
  local out
  out=$(compact "$3")
  [ -n "$out" ] && printf '%s' "$out" > "$c/$1/$2"
  return 0
}
# /work/shared/reference/samples holds the same Binance and OKX samples as tests/fixtures
# (checked when it is there); the fixtures are what is used, so CI needs nothing outside.
ref=/work/shared/reference/samples
if [ -d "$ref" ]; then
  for f in tests/fixtures/binance-samples/binance_*.json tests/fixtures/okx/samples/okx_*; do
    r="$ref/$(basename "$f")"
    [ -f "$r" ] && ! cmp -s "$f" "$r" && echo "note: $r differs from $f" >&2
  done
fi
bs=tests/fixtures/binance-samples
os=tests/fixtures/okx/samples

# Binance market data: every 97th frame of the recording plus the first of each kind.
zcat tests/fixtures/binance-spot/btcusdt_20240808.gz | cut -d' ' -f2- \
  | awk 'NR % 97 == 1 || (/"e":"trade"/ && !t++) || (/depthUpdate/ && !d++) || (/lastUpdateId/ && !s++) || (/"u":/ && /"b":/ && !b++)' \
  | head -n 500 | split -l 1 -d -a 3 - "$c/binance_md/rec-"
for f in $bs/binance_{aggtrade,bookticker,depth_diff,depth_snapshot_rest,partial_depth,trade,server_shutdown_raw}.json; do
  cp "$f" "$c/binance_md/"
  put_compact binance_md "$(basename "$f" .json).line" "$f"
done
# A run of frames for the feed's handler (one frame a line): the recording's first 40
# frames, its REST snapshot among them (64 KB), then diffs.
zcat tests/fixtures/binance-spot/btcusdt_20240808.gz | head -n 40 | cut -d' ' -f2- | put binance_md seq-head
# The snapshot given as a REST answer (`SNAPSHOT ` + body), then the diffs after it.
zcat tests/fixtures/binance-spot/btcusdt_20240808.gz | head -n 40 | cut -d' ' -f2- \
  | awk 'NR == 8 { print "SNAPSHOT " $0; next } NR > 8' | put binance_md seq-snapshot

# OKX market data: the cryptofeed capture's frames and the documentation samples.
grep -o ': {.*' tests/fixtures/okx/OKX.ws.1.0 | cut -c3- | awk 'NR % 3 == 1' \
  | split -l 1 -d -a 3 - "$c/okx_md/rec-"
for f in $os/okx_{bbo_tbt,books5,books_snapshot,books_update,tickers,trades,rest_books_response,books_subscribe_error,ws_notice_service_upgrade}.json; do
  cp "$f" "$c/okx_md/"
  put_compact okx_md "$(basename "$f" .json).line" "$f"
done
# Runs of frames for the feed's handler: a snapshot then its update; a REST book answer
# (`REST ` + body) then the update.
{ compact $os/okx_books_snapshot.json; echo; compact $os/okx_books_update.json; } | put okx_md seq-books
{ printf 'REST '; compact $os/okx_rest_books_response.json; echo; compact $os/okx_books_update.json; } | put okx_md seq-rest
grep -o ': {.*' tests/fixtures/okx/OKX.ws.1.0 | cut -c3- | head -n 30 | put okx_md seq-head
for f in tests/fixtures/coinbase/samples/coinbase_*.json; do
  cp "$f" "$c/coinbase_md/"
  put_compact coinbase_md "$(basename "$f" .json).line" "$f"
done
{ compact tests/fixtures/coinbase/samples/coinbase_level2_l2_data.json; echo; compact tests/fixtures/coinbase/samples/coinbase_heartbeats.json; } | put coinbase_md seq-l2-heartbeat
# Coinbase private: the user sample, and REST answers in the shapes exchanges.md §4.2 names
# (written here: the reference has no Coinbase REST sample files).
cp tests/fixtures/coinbase/samples/coinbase_user.json "$c/coinbase_private/"
put_compact coinbase_private coinbase_user.line tests/fixtures/coinbase/samples/coinbase_user.json
printf '%s\n' '{"orders":[{"order_id":"00000000-0000-4000-8000-000000000001","product_id":"BTC-USD","client_order_id":"sb-1","order_configuration":{"limit_limit_gtc":{"base_size":"0.001","limit_price":"30000","post_only":true}},"side":"BUY","status":"FILLED","filled_size":"0.001","average_filled_price":"30000","filled_value":"30","total_fees":"0.03"}],"fills":[{"entry_id":"e1","trade_id":"7","order_id":"00000000-0000-4000-8000-000000000001","price":"30000","size":"0.001","commission":"0.03","product_id":"BTC-USD","side":"BUY"}],"accounts":[{"uuid":"a","currency":"USD","available_balance":{"value":"100","currency":"USD"},"hold":{"value":"1","currency":"USD"}}],"success":false,"error_response":{"error":"INSUFFICIENT_FUND","message":"m"}}' | put coinbase_private rest_orders.json
for f in tests/fixtures/bitmart/samples/bitmart_*.json; do
  cp "$f" "$c/bitmart_md/"
  put_compact bitmart_md "$(basename "$f" .json).line" "$f"
done
for f in tests/fixtures/bitmart/bitmart_*.deflate; do
  cp "$f" "$c/bitmart_md/"
done
bm=tests/fixtures/bitmart/samples
{ compact $bm/bitmart_depth_increase_snapshot.json; echo; compact $bm/bitmart_depth_increase_update.json; echo; compact $bm/bitmart_trade.json; echo; echo pong; } | put bitmart_md seq-snapshot-update
by=tests/fixtures/bybit/samples
for n in bybit_orderbook_delta bybit_public_trade bybit_ticker_spot bybit_ws_pong_private bybit_ws_pong_public_spot bybit_ws_auth_response; do
  cp "$by/$n.json" "$c/bybit_md/"
  put_compact bybit_md "$n.line" "$by/$n.json"
done
# The snapshot sample without the docs' `...` lines (not JSON otherwise).
grep -v '^ *\.\.\.,\? *$' $by/bybit_orderbook_snapshot.json | python3 -c 'import json,re,sys; print(json.dumps(json.loads(re.sub(r",(\s*[\]}])", r"\1", sys.stdin.read())), separators=(",", ":")))' | put bybit_md bybit_orderbook_snapshot.line
{ cat "$c/bybit_md/bybit_orderbook_snapshot.line"; compact $by/bybit_orderbook_delta.json; echo; compact $by/bybit_public_trade.json; echo; echo '{"topic":"tickers.BTCUSDT","type":"snapshot","data":{"symbol":"BTCUSDT","markPrice":"17217.33","indexPrice":"17227.36","nextFundingTime":"1673280000000","fundingRate":"-0.000212"},"cs":1,"ts":1}'; echo '{"topic":"tickers.BTCUSDT","type":"delta","data":{"symbol":"BTCUSDT","markPrice":"17218"},"cs":2,"ts":2}'; } | put bybit_md seq-snapshot-delta-ticker
de=tests/fixtures/delta/samples
for f in $de/delta_*.json; do
  cp "$f" "$c/delta_md/"
  put_compact delta_md "$(basename "$f" .json).line" "$f"
done
{ for n in ob_updates_snapshot ob_updates_update trades funding_rate; do compact $de/delta_$n.json; done; echo '{"p":"72141.0","sy":"MARK:BTCUSD","ts":1775817618000000,"type":"mark_price"}'; compact $de/delta_ob_updates_error.json; echo '{"type":"heartbeat"}'; } | put delta_md seq-snapshot-update-mark-error
# CoinDCX futures: the samples as payloads (compact) and as the Socket.IO frames the stream
# sends (42["event",{"channel":…,"data":"<payload>"}]), and a session: open, connect, a
# snapshot, a trade, marks, a pong, an unknown packet, a close.
dx=tests/fixtures/coindcx/samples
frame() { # event channel file
  compact "$3" | jq -c --arg e "$1" --arg ch "$2" '[$e, {channel: $ch, event: $e, data: (. | tojson)}]' | sed 's/^/42/'
}
for n in coindcx_ws_depth_snapshot coindcx_ws_new_trade coindcx_ws_price_change coindcx_ws_current_prices coindcx_ws_candlestick coindcx_ws_balance_update; do
  put_compact coindcx_md "$n.line" "$dx/$n.json"
done
for n in coindcx_ws_df_order_update coindcx_ws_df_position_update; do
  sed 's/,\(\s*[]}]\)/\1/' "$dx/$n.jsonc" | tr -d '\n' | python3 -c 'import json,re,sys; print(json.dumps(json.loads(re.sub(r",(\s*[\]}])", r"\1", sys.stdin.read())), separators=(",", ":")))' | put coindcx_md "$n.line"
done
frame depth-snapshot B-BTC_USDT@orderbook@20-futures $dx/coindcx_ws_depth_snapshot.json | put coindcx_md frame-depth
frame new-trade B-ID_USDT@trades-futures $dx/coindcx_ws_new_trade.json | put coindcx_md frame-trade
{ echo '0{"sid":"abc","upgrades":[],"pingInterval":25000,"pingTimeout":20000}'; echo 40; \
  frame depth-snapshot B-BTC_USDT@orderbook@20-futures $dx/coindcx_ws_depth_snapshot.json; \
  frame new-trade B-ID_USDT@trades-futures $dx/coindcx_ws_new_trade.json; \
  frame currentPrices@futures#update currentPrices@futures@rt $dx/coindcx_ws_current_prices.json; \
  echo 3; echo '9oops'; echo '44{"message":"x"}'; echo 41; } | put coindcx_md seq-session
# Coinstore: the samples without the docs' annotations, its missing comma and `...`.
cs=tests/fixtures/coinstore/samples
for f in $cs/coinstore_ws_*.json* $cs/coinstore_rest_depth_response.json; do
  n=$(basename "$f"); n=${n%.jsonc}; n=${n%.json}
  cp "$f" "$c/coinstore_md/"
  out=$(sed -e 's| //.*$||' -e 's|"BTCUSDT"$|"BTCUSDT",|' "$f" | grep -v '^ *\.\.\. *$' \
    | python3 -c 'import json,re,sys; print(json.dumps(json.loads(re.sub(r",(\s*[\]}])", r"\1", sys.stdin.read())), separators=(",", ":")))' 2>/dev/null || true)
  [ -n "$out" ] && printf '%s' "$out" > "$c/coinstore_md/$n.line"
done
grep '^< ' $cs/coinstore_ws_wscat_transcript.txt | cut -c3- | put coinstore_md seq-wscat
{ echo '{"S":1,"T":"resp","C":200,"M":"established"}'; echo '{"S":2,"T":"depth","channel":"btcusdt@depth@20","symbol":"BTCUSDT","b":[["100","1"]],"a":[["101","1"]]}'; echo '{"S":4,"T":"depth","symbol":"BTCUSDT","b":[["99","1"]],"a":[["102","1"]]}'; echo '{"S":5,"T":"resp","C":400,"M":"x"}'; } | put coinstore_md seq-gap

# Private streams, WebSocket API and REST answers.
bp="binance_account_response binance_cancel_order_response binance_execution_report binance_new_order_response_ack binance_new_order_response_full binance_open_orders_response binance_outbound_account_position binance_query_order_response binance_wsapi_error_response binance_wsapi_order_place_response"
for n in $bp; do
  cp "$bs/$n.json" "$c/binance_private/"
  put_compact binance_private "$n.line" "$bs/$n.json"
  put_compact binance_user "$n.line" "$bs/$n.json"
done
# The event without its WebSocket API wrapper (the listen-key stream's shape).
compact $bs/binance_execution_report.json | jq -c .event | put binance_user execution_report_bare
compact $bs/binance_outbound_account_position.json | jq -c '.event // .' | put binance_user account_position_bare
# The user data events on one connection, one a line (the session reads lines).
for n in binance_wsapi_order_place_response binance_execution_report binance_outbound_account_position binance_wsapi_error_response; do
  compact "$bs/$n.json"; echo
done | put binance_private session-lines
# Error answers to the requests `binance_private` has in flight (ids 1 place, 2 cancel, 3
# status, 4 amend, 5 cancel-replace), a cancel-replace's two documented failures with their
# halves, and the account events: what the typed fast path reads besides the order answers.
w='"rateLimits":[{"rateLimitType":"REQUEST_WEIGHT","interval":"MINUTE","intervalNum":1,"limit":6000,"count":9}]'
{
  echo '{"id":"1","status":400,"error":{"code":-2010,"msg":"Order would immediately match and take."},'"$w"'}'
  echo '{"id":"2","status":400,"error":{"code":-2011,"msg":"Unknown order sent."},'"$w"'}'
  echo '{"id":"3","status":400,"error":{"code":-2013,"msg":"Order does not exist."},'"$w"'}'
  echo '{"id":"4","status":429,"error":{"code":-1015,"msg":"Too many new orders; current limit is 50 orders per 10 SECOND."},'"$w"'}'
  echo '{"id":"5","status":400,"error":{"code":-2022,"msg":"Order cancel-replace failed.","data":{"cancelResult":"FAILURE","newOrderResult":"NOT_ATTEMPTED","cancelResponse":{"code":-2011,"msg":"Unknown order sent."},"newOrderResponse":null}},'"$w"'}'
} | put binance_private error-answers
echo '{"id":"5","status":409,"error":{"code":-2021,"msg":"Order cancel-replace partially failed.","data":{"cancelResult":"SUCCESS","newOrderResult":"FAILURE","cancelResponse":{"symbol":"BTCUSDT","origClientOrderId":"1000000000000000000001","orderId":5,"orderListId":-1,"clientOrderId":"x1","transactTime":7,"price":"100.00","origQty":"1.00000","executedQty":"0.00000","cummulativeQuoteQty":"0.00","status":"CANCELED","timeInForce":"GTC","type":"LIMIT","side":"BUY"},"newOrderResponse":{"code":-2010,"msg":"Order would immediately match and take."}}},'"$w"'}' | put binance_private replace-partial
{
  echo '{"subscriptionId":0,"event":{"e":"outboundAccountPosition","E":1,"u":1,"B":[{"a":"BTC","f":"1.004","l":"0"},{"a":"USDT","f":"99799.8","l":"500"}]}}'
  echo '{"subscriptionId":0,"event":{"e":"balanceUpdate","E":1573200697110,"a":"BTC","d":"100.00000000","T":1573200697068}}'
  echo '{"subscriptionId":0,"event":{"e":"listStatus","E":1564035303637,"s":"ETHBTC","g":2,"c":"OCO","l":"EXEC_STARTED","L":"EXECUTING","r":"NONE","C":"F4QN4G8DlFATFlIUQ0cjdD","T":1564035303625,"O":[{"s":"ETHBTC","i":17,"c":"AJYsMjErWJesZvqlJCTUgL"}]}}'
} | put binance_private account-events
op="okx_account_balance_response okx_cancel_order_response okx_order_details_response okx_orders_channel_push_fill okx_orders_pending_response okx_place_order_response okx_ws_login_failure okx_ws_login_response"
for n in $op; do
  cp "$os/$n.json" "$c/okx_private/"
  put_compact okx_private "$n.line" "$os/$n.json"
done
for n in okx_ws_login_response okx_place_order_response okx_orders_channel_push_fill okx_cancel_order_response; do
  compact "$os/$n.json"; echo
done | put okx_private session-lines
# REST answers: byte 0 picks the request, bytes 1-2 the HTTP status (mod 500, + 100), the
# rest is the body.
n=0
for f in "$c"/binance_private/*.json "$c"/okx_private/*.json; do
  for which in 1 2 3 4 5 6; do
    { printf "\\x$(printf %02x $which)\\x00\\x64"; cat "$f"; } > "$c/rest_answers/ok-$n-$which"
  done
  n=$((n + 1))
done
{ printf '\x01\x01\x4d'; printf '{"code":-1003,"msg":"Too many requests."}'; } > "$c/rest_answers/429"
{ printf '\x01\x01\x90'; printf '<html>bad gateway</html>'; } > "$c/rest_answers/5xx"
# Rate-limit headers, one `name: value` a line.
printf 'x-mbx-used-weight-1m: 1200\nx-mbx-order-count-10s: 3\nx-mbx-order-count-1d: 40\nRetry-After: 7\n' | put rest_answers headers
printf 'Retry-After: 259201\nX-MBX-USED-WEIGHT-1M: 99999999999\n' | put rest_answers headers-ban

# HTTP requests to the simulator. `timestamp=NOW`, `signature=SIGN`, `OK-ACCESS-TIMESTAMP:
# NOW` and `OK-ACCESS-SIGN: SIGN` are filled in by the target (key `k`, secret `s`).
printf 'GET /api/v3/time HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n' | put sim_http time
printf 'POST /api/v3/order?symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.001&price=10000&timestamp=1&signature=ab HTTP/1.1\r\nHost: x\r\nX-MBX-APIKEY: k\r\nContent-Length: 0\r\n\r\n' | put sim_http order
printf 'POST /api/v5/trade/order HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 27\r\n\r\n{"instId":"BTC-USDT","sz":"1"}' | put sim_http okx-order
printf 'GET /sim/state?x=%%41%%zz&y HTTP/1.1\r\n\r\n' | put sim_http percent
{
  printf 'POST /api/v3/order?symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.01000&price=50000.00&newClientOrderId=mkBuy1&timestamp=NOW&signature=SIGN HTTP/1.1\r\nX-MBX-APIKEY: k\r\n\r\n'
  body='symbol=BTCUSDT&side=SELL&type=LIMIT&timeInForce=GTC&quantity=0.00500&price=49999.00&newClientOrderId=mkSell1&newOrderRespType=FULL&timestamp=NOW&signature=SIGN'
  printf 'POST /api/v3/order HTTP/1.1\r\nX-MBX-APIKEY: k\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n%s' "${#body}" "$body"
  printf 'GET /api/v3/order?symbol=BTCUSDT&origClientOrderId=mkBuy1&timestamp=NOW&signature=SIGN HTTP/1.1\r\nX-MBX-APIKEY: k\r\n\r\n'
  printf 'GET /api/v3/openOrders?symbol=BTCUSDT&timestamp=NOW&signature=SIGN HTTP/1.1\r\nX-MBX-APIKEY: k\r\n\r\n'
  printf 'GET /api/v3/myTrades?symbol=BTCUSDT&timestamp=NOW&signature=SIGN HTTP/1.1\r\nX-MBX-APIKEY: k\r\n\r\n'
  printf 'DELETE /api/v3/order?symbol=BTCUSDT&origClientOrderId=mkBuy1&timestamp=NOW&signature=SIGN HTTP/1.1\r\nX-MBX-APIKEY: k\r\n\r\n'
  printf 'GET /api/v3/account?timestamp=NOW&signature=SIGN HTTP/1.1\r\nX-MBX-APIKEY: k\r\nConnection: close\r\n\r\n'
} | put sim_http signed-orders
printf 'GET /api/v3/depth?symbol=BTCUSDT&limit=5 HTTP/1.1\r\n\r\nGET /api/v3/exchangeInfo?symbol=BTCUSDT HTTP/1.1\r\n\r\nGET /api/v3/ticker/bookTicker?symbol=BTCUSDT HTTP/1.1\r\n\r\nGET /api/v3/rateLimit/order?timestamp=NOW&signature=SIGN HTTP/1.1\r\nX-MBX-APIKEY: k\r\n\r\n' | put sim_http public
body='{"http_429_rate":0.5,"clock_skew_ms":1500}'
printf 'POST /sim/faults HTTP/1.1\r\nContent-Length: %d\r\n\r\n%sGET /api/v3/time HTTP/1.1\r\n\r\nPOST /sim/limits/reset HTTP/1.1\r\n\r\nGET /sim/faults HTTP/1.1\r\n\r\nGET /sim/bench HTTP/1.1\r\n\r\n' "${#body}" "$body" | put sim_http admin
{
  body='{"instId":"BTC-USDT","tdMode":"cash","clOrdId":"mkOkx1","side":"buy","ordType":"limit","px":"50000","sz":"0.01"}'
  printf 'POST /api/v5/trade/order HTTP/1.1\r\nOK-ACCESS-KEY: k\r\nOK-ACCESS-PASSPHRASE: mako-sim-passphrase\r\nOK-ACCESS-TIMESTAMP: NOW\r\nOK-ACCESS-SIGN: SIGN\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s' "${#body}" "$body"
  printf 'GET /api/v5/trade/order?instId=BTC-USDT&clOrdId=mkOkx1 HTTP/1.1\r\nOK-ACCESS-KEY: k\r\nOK-ACCESS-PASSPHRASE: mako-sim-passphrase\r\nOK-ACCESS-TIMESTAMP: NOW\r\nOK-ACCESS-SIGN: SIGN\r\n\r\n'
  printf 'GET /api/v5/trade/orders-pending?instId=BTC-USDT HTTP/1.1\r\nOK-ACCESS-KEY: k\r\nOK-ACCESS-PASSPHRASE: mako-sim-passphrase\r\nOK-ACCESS-TIMESTAMP: NOW\r\nOK-ACCESS-SIGN: SIGN\r\n\r\n'
  printf 'GET /api/v5/trade/fills?instId=BTC-USDT HTTP/1.1\r\nOK-ACCESS-KEY: k\r\nOK-ACCESS-PASSPHRASE: mako-sim-passphrase\r\nOK-ACCESS-TIMESTAMP: NOW\r\nOK-ACCESS-SIGN: SIGN\r\n\r\n'
  body='{"instId":"BTC-USDT","clOrdId":"mkOkx1"}'
  printf 'POST /api/v5/trade/cancel-order HTTP/1.1\r\nOK-ACCESS-KEY: k\r\nOK-ACCESS-PASSPHRASE: mako-sim-passphrase\r\nOK-ACCESS-TIMESTAMP: NOW\r\nOK-ACCESS-SIGN: SIGN\r\nContent-Length: %d\r\n\r\n%s' "${#body}" "$body"
  printf 'GET /api/v5/account/balance HTTP/1.1\r\nOK-ACCESS-KEY: k\r\nOK-ACCESS-PASSPHRASE: mako-sim-passphrase\r\nOK-ACCESS-TIMESTAMP: NOW\r\nOK-ACCESS-SIGN: SIGN\r\n\r\n'
} | put sim_http okx-signed
printf 'GET /api/v5/market/books?instId=BTC-USDT&sz=5 HTTP/1.1\r\n\r\nGET /api/v5/public/time HTTP/1.1\r\n\r\n' | put sim_http okx-public
printf 'GET /stream?streams=btcusdt@trade/btcusdt@depth@100ms HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n' | put sim_http upgrade

# WebSocket sessions with the simulator, one message a line (each goes to a WebSocket API,
# an OKX private, an OKX public and a market-stream session).
cat <<'EOF' | put sim_ws ws-api
{"id":"1","method":"session.logon","params":{"apiKey":"k","timestamp":"NOW","signature":"SIGN"}}
{"id":"2","method":"userDataStream.subscribe"}
{"id":"3","method":"order.place","params":{"symbol":"BTCUSDT","side":"BUY","type":"LIMIT","timeInForce":"GTC","quantity":"0.01000","price":"50000.00","newClientOrderId":"mkWs1","newOrderRespType":"RESULT","timestamp":"NOW"}}
{"id":"4","method":"order.place","params":{"symbol":"BTCUSDT","side":"SELL","type":"LIMIT","timeInForce":"IOC","quantity":"0.00500","price":"49000.00","newClientOrderId":"mkWs2","newOrderRespType":"FULL","timestamp":"NOW"}}
{"id":"5","method":"order.status","params":{"symbol":"BTCUSDT","origClientOrderId":"mkWs1","timestamp":"NOW"}}
{"id":"6","method":"openOrders.status","params":{"symbol":"BTCUSDT","timestamp":"NOW"}}
{"id":"7","method":"myTrades","params":{"symbol":"BTCUSDT","timestamp":"NOW"}}
{"id":"8","method":"order.cancel","params":{"symbol":"BTCUSDT","origClientOrderId":"mkWs1","timestamp":"NOW"}}
{"id":"9","method":"account.status","params":{"timestamp":"NOW"}}
{"id":10,"method":"session.status"}
EOF
cat <<'EOF' | put sim_ws ws-api-signed
{"id":"a","method":"order.place","params":{"symbol":"BTCUSDT","side":"BUY","type":"LIMIT","timeInForce":"GTC","quantity":"0.01000","price":"50000.00","newClientOrderId":"mkS1","apiKey":"k","timestamp":"NOW","signature":"SIGN"}}
{"id":"b","method":"openOrders.cancelAll","params":{"symbol":"BTCUSDT","apiKey":"k","timestamp":"NOW","signature":"SIGN"}}
{"id":"c","method":"userDataStream.subscribe.signature","params":{"apiKey":"k","timestamp":"NOW","signature":"SIGN"}}
{"id":"d","method":"depth","params":{"symbol":"BTCUSDT","limit":5}}
{"id":"e","method":"exchangeInfo","params":{"symbols":["BTCUSDT"]}}
{"id":"f","method":"ticker.book","params":{"symbol":"BTCUSDT"}}
{"id":"g","method":"time"}
EOF
cat <<'EOF' | put sim_ws okx-private
{"op":"login","args":[{"apiKey":"k","passphrase":"mako-sim-passphrase","timestamp":"NOW","sign":"SIGN"}]}
{"op":"subscribe","args":[{"channel":"orders","instType":"SPOT"},{"channel":"account"}]}
{"id":"1","op":"order","args":[{"instId":"BTC-USDT","tdMode":"cash","clOrdId":"mkO1","side":"buy","ordType":"limit","px":"50000","sz":"0.01"}]}
{"id":"2","op":"order","args":[{"instId":"BTC-USDT","tdMode":"cash","clOrdId":"mkO2","side":"sell","ordType":"limit","px":"49000","sz":"0.005"}]}
{"id":"3","op":"cancel-order","args":[{"instId":"BTC-USDT","clOrdId":"mkO1"}]}
ping
EOF
cat <<'EOF' | put sim_ws okx-public
{"op":"subscribe","args":[{"channel":"books","instId":"BTC-USDT"},{"channel":"bbo-tbt","instId":"BTC-USDT"},{"channel":"trades","instId":"BTC-USDT"}]}
{"op":"unsubscribe","args":[{"channel":"trades","instId":"BTC-USDT"}]}
ping
EOF
cat <<'EOF' | put sim_ws market
{"method":"SUBSCRIBE","params":["btcusdt@bookTicker","btcusdt@depth5@100ms"],"id":1}
{"method":"LIST_SUBSCRIPTIONS","id":2}
{"method":"SET_PROPERTY","params":["combined",true],"id":3}
{"method":"UNSUBSCRIBE","params":["btcusdt@bookTicker"],"id":4}
EOF
for n in binance_wsapi_order_place_hmac_signed_request binance_wsapi_session_logon_request binance_wsapi_userdatastream_subscribe_request binance_ws_subscribe_request; do
  put_compact sim_ws "$n" "$bs/$n.json"
done
for n in okx_ws_login_request okx_orders_channel_subscribe okx_books_subscribe_request; do
  put_compact sim_ws "$n" "$os/$n.json"
done

# HTTP requests to the status endpoint (bearer token `fuzz-token`, strategies grid, twap).
for p in / /health /status /metrics /orders /trades /latency /nope; do
  printf 'GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n' "$p" | put status_http "get$(echo "$p" | tr / _)"
done
printf 'HEAD /status HTTP/1.1\r\n\r\nPOST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n' | put status_http methods
for p in kill reload strategies/grid/pause strategies/twap/resume strategies/nope/pause strategies/grid/stop; do
  printf 'POST /control/%s HTTP/1.1\r\nAuthorization: Bearer fuzz-token\r\nContent-Length: 0\r\n\r\n' "$p" | put status_http "control-$(echo "$p" | tr / -)"
done
printf 'POST /control/kill HTTP/1.1\r\n\r\n' | put status_http no-token
printf 'POST /control/kill HTTP/1.1\r\nAuthorization: Bearer wrong\r\n\r\n' | put status_http wrong-token
printf 'GET /status?x=1#frag HTTP/1.1\r\nContent-Length: nope\r\n\r\n' | put status_http bad-length
printf 'POST /control/reload HTTP/1.1\r\nAuthorization: bearer  fuzz-token \r\nContent-Length: 99999999\r\n\r\n' | put status_http big-body
printf 'POST /control/strategies/grid/pause HTTP/1.1\r\nAuthorization: Bearer fuzz-token\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n' | put status_http chunked
printf 'POST /control/kill HTTP/1.1\r\nAuthorization: Bearer fuzz-token\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\nbody' | put status_http expect
printf 'GET /health HTTP/1.1\r\nConnection: keep-alive\r\n\r\nGET /status HTTP/1.1\r\n\r\nGET /metrics HTTP/1.0\r\n\r\n' | put status_http pipelined

# Recordings: mako's own lines, a cryptofeed capture's, and gzip (as RecordReader::open
# finds it).
zcat tests/fixtures/binance-spot/btcusdt_20240808.gz | head -n 40 | put recording mako-lines
head -n 40 tests/fixtures/okx/OKX.ws.1.0 | put recording cryptofeed-lines
zcat tests/fixtures/binance-spot/btcusdt_20240808.gz | head -n 20 | gzip -n -9 | put recording mako-lines.gz

# .hgrm files written by mako, and a small one without a footer.
for f in docs/latency/*.hgrm; do
  cp "$f" "$c/hgrm/"
done
printf '       Value     Percentile TotalCount 1/(1-Percentile)\n\n      10.000 0.000000000000          1           1.00\n      20.000 0.500000000000          2           2.00\n      30.000 1.000000000000          3\n' | put hgrm small

# The private streams and REST answers of the later venues (src/fuzzing/private.rs): each
# sample on one line (a private frame), and behind each of the six requests' selector bytes
# with HTTP 200 (byte 0 the request, bytes 1-2 = 100 → status 200) as a REST answer.
private_seeds() { # target files...
  local t=$1 f n k out
  shift
  for f in "$@"; do
    n=$(basename "$f" | sed 's/\.[a-z]*$//')
    out=$(compact "$f")
    [ -n "$out" ] || continue
    printf '%s' "$out" | put "$t" "$n.line"
    for k in 1 2 3 4 5 6; do
      { printf "\\x0$k\\x00\\x64"; printf '%s' "$out"; } | put "$t" "$n.rest$k"
    done
  done
}
private_seeds bybit_private $by/bybit_order_stream.json $by/bybit_execution_stream.json \
  $by/bybit_ws_auth_response.json $by/bybit_create_order_response.json $by/bybit_ws_pong_private.json
private_seeds bitmart_private $bm/bitmart_user_order.json $bm/bitmart_user_balance.json \
  $bm/bitmart_ws_login_response.json $bm/bitmart_submit_order_response.json \
  $bm/bitmart_query_order_response.json $bm/bitmart_open_orders_response.json \
  $bm/bitmart_cancel_order_response.json $bm/bitmart_spot_wallet_response.jsonc
cs=tests/fixtures/coinstore/samples
private_seeds coinstore_private $cs/coinstore_order_place_response.json $cs/coinstore_order_info_response.json \
  $cs/coinstore_order_active_response.json $cs/coinstore_order_cancel_response.json \
  $cs/coinstore_account_list_response.json $cs/coinstore_ws_order_push_2022.jsonc \
  $cs/coinstore_ws_account_push_2022.jsonc
dx=tests/fixtures/coindcx/samples
private_seeds coindcx_private $dx/coindcx_ws_df_order_update.jsonc $dx/coindcx_ws_balance_update.json \
  $dx/coindcx_ws_df_position_update.jsonc $dx/coindcx_rest_create_order_response.json \
  $dx/coindcx_rest_cancel_order_response.json $dx/coindcx_rest_positions_response.json
# Delta's private messages as delta.md documents them (no verbatim sample file).
{
  printf '%s\n' '{"type":"key-auth","success":true,"status_code":200}'
  printf '%s\n' '{"type":"orders","action":"create","symbol":"BTCUSD","product_id":27,"id":101,"client_order_id":"m1","side":"buy","size":10,"unfilled_size":10,"limit_price":"60000","state":"open","seq_no":1,"timestamp":1700000000000000}'
  printf '%s\n' '{"type":"v2/user_trades","symbol":"BTCUSD","product_id":27,"fill_id":"f1","order_id":"101","client_order_id":"m1","side":"buy","size":4,"price":"60000","commission":"0.0012","position":4,"seq_no":2,"timestamp":1700000000100000}'
  printf '%s\n' '{"type":"positions","action":"update","symbol":"BTCUSD","product_id":27,"size":4,"entry_price":"60000","margin":"12","liquidation_price":"48000"}'
  printf '%s\n' '{"type":"margins","asset_symbol":"USD","balance":"1000","available_balance":"980","blocked_margin":"20"}'
} | put delta_private stream-lines
printf '\x01\x00\x64{"success":true,"result":{"id":101,"client_order_id":"m1","state":"open","size":10,"unfilled_size":10,"side":"buy","limit_price":"60000","product_symbol":"BTCUSD","paid_commission":"0"}}' | put delta_private rest-place
printf '\x03\x00\x64{"success":true,"result":{"id":101,"client_order_id":"m1","state":"closed","size":10,"unfilled_size":0,"average_fill_price":"60000","paid_commission":"0.003","product_symbol":"BTCUSD"}}' | put delta_private rest-status
printf '\x02\x01\x2c{"success":false,"error":{"code":"open_order_not_found"}}' | put delta_private rest-cancel-404

# Configs.
for f in config/*.toml tests/fixtures/config/*.toml; do
  [ -f "$f" ] && cp "$f" "$c/config/$(basename "$f")"
done
printf '250ms' | put config duration
du -sh --apparent-size "$c"
