#!/usr/bin/env bash
# Builds and runs the benchmarks on one core (taskset -c 0), printing each one's table.
# Usage: benchmarks/run.sh [decode|window|rules|gen|backtest|all] [extra Google Benchmark flags]
#   all (the default) runs them one after another; rules takes several minutes and ~3 GB.
#   backtest: `corridor backtest` of the shipped packs over the default synthetic world
#   (seed 1, 100,000 entities, 60 days), generated as it is read; prints events/s.
set -euo pipefail
cd "$(dirname "$0")/.."
which="${1:-all}"
[ $# -gt 0 ] && shift
cmake --preset default >/dev/null
echo "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'), $(date -u +%F), commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)" >&2

micro() {  # micro <name> [flags]: a Google Benchmark binary
  local name=$1
  shift
  cmake --build --preset default --target "${name}_bench" >/dev/null
  echo "== ${name}_bench ==" >&2
  taskset -c 0 "./build/benchmarks/${name}_bench" --benchmark_repetitions=3 \
    --benchmark_report_aggregates_only=true "$@"
}

backtest() {
  cmake --build --preset default --target corridor >/dev/null
  echo "== corridor backtest, default world, shipped packs ==" >&2
  local report
  report=$(mktemp)
  taskset -c 0 ./build/corridor backtest --config config/examples/synthetic.yaml \
    --json "$report" --no-progress >/dev/null
  python3 - "$report" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
[run] = r["runs"]
print(f'{r["input"]["records"]:,} events in {run["seconds"]:.1f} s: '
      f'{run["events_per_second"]:,.0f} events/s (generation, decoding, rules, scoring)')
PY
  rm -f "$report"
}

case "$which" in
  decode | window | rules | gen) micro "$which" "$@" ;;
  backtest) backtest ;;
  all) for b in decode window rules gen; do micro "$b" "$@"; done; backtest ;;
  *) echo "usage: benchmarks/run.sh [decode|window|rules|gen|backtest|all] [flags]" >&2; exit 2 ;;
esac
