#!/usr/bin/env bash
# Runs every fuzz target for SECONDS (default 600), JOBS at a time (default 2), from its
# corpus, and prints one line per target: executions, executions per second, coverage, and
# whether it crashed (the crash input is then in fuzz/artifacts/<target>/). Names after JOBS
# run only those targets.
#   fuzz/run-all.sh [SECONDS] [JOBS] [TARGET...]
set -u
cd "$(dirname "$0")"
secs=${1:-600}
jobs=${2:-2}
shift 2 2>/dev/null || shift $#
mkdir -p logs
cargo +nightly fuzz build -O >/dev/null 2>&1 || { echo "the fuzz targets do not build"; exit 1; }
run() {
  t=$1
  # New inputs go to work/<t> (not committed); the committed seeds are read from corpus/<t>.
  mkdir -p "corpus/$t" "work/$t"
  if cargo +nightly fuzz run -O "$t" "work/$t" "corpus/$t" -- -max_total_time="$secs" -rss_limit_mb=4096 \
      -print_final_stats=1 >"logs/$t.log" 2>&1; then
    result=ok
  else
    result=CRASH
  fi
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "logs/$t.log" | grep -o '[0-9]*$')
  rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "logs/$t.log" | grep -o '[0-9]*$')
  cov=$(grep -o 'cov: [0-9]*' "logs/$t.log" | tail -1 | grep -o '[0-9]*')
  printf '%-16s %-6s %6ss %12s execs %8s/s cov %6s\n' "$t" "$result" "$secs" "${execs:-?}" "${rate:-?}" "${cov:-?}"
}
export -f run
export secs
if [ $# -gt 0 ]; then printf '%s\n' "$@"; else cargo +nightly fuzz list; fi | xargs -P "$jobs" -I{} bash -c 'run {}'
