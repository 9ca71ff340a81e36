#!/usr/bin/env bash
# Runs the whole test suite N times in a row (default 10) and reports failures per test.
#   tools/flake.sh [N] [extra cargo test args...]
# Builds once, then runs `cargo test --no-fail-fast` N times (every test binary runs even
# after a failure); each run's output is kept in target/flake/.
# Exit status: 0 when every run passed, 1 otherwise.
set -uo pipefail
cd "$(dirname "$0")/.."
n=${1:-10}
shift || true
out=target/flake
rm -rf "$out" && mkdir -p "$out"
cargo test --no-run "$@" >/dev/null 2>&1 || { echo "the tests do not build"; exit 1; }
green=0
for i in $(seq 1 "$n"); do
  start=$(date +%s)
  if cargo test --no-fail-fast "$@" >"$out/run-$i.log" 2>&1; then
    status=pass
    green=$((green + 1))
  else
    status=FAIL
  fi
  printf 'run %2d: %s (%ss)\n' "$i" "$status" "$(( $(date +%s) - start ))"
done
echo
echo "$green of $n runs passed"
failures=$(grep -h -- '^test .* FAILED$' "$out"/run-*.log | sed 's/^test \(.*\) \.\.\. FAILED$/\1/' | sort | uniq -c | sort -rn)
if [ -n "$failures" ]; then
  echo "failures per test (count, test):"
  echo "$failures"
fi
[ "$green" -eq "$n" ]
