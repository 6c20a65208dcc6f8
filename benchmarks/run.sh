#!/usr/bin/env bash
# Builds and runs the micro benchmarks on one core, printing Google Benchmark's table.
# Usage: benchmarks/run.sh [extra Google Benchmark flags]
set -euo pipefail
cd "$(dirname "$0")/.."
cmake --preset default >/dev/null
cmake --build --preset default --target decode_bench
echo "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'), $(date -u +%F)" >&2
# One core: the figures are per core, as the targets are.
taskset -c 0 ./build/benchmarks/decode_bench --benchmark_repetitions=3 \
  --benchmark_report_aggregates_only=true "$@"
