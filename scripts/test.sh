#!/usr/bin/env bash
# Builds corridor and runs every test twice: in the release build (unit, end-to-end) and in
# an AddressSanitizer + UndefinedBehaviorSanitizer build. Exits non-zero on any failure.
# Usage: scripts/test.sh            (after scripts/install-deps.sh)
set -euo pipefail
cd "$(dirname "$0")/.."

jobs=$(nproc 2>/dev/null || echo 2)

echo "== release build ==" >&2
cmake --preset default >/dev/null
cmake --build --preset default -j "$jobs"
ctest --preset default -j "$jobs"

echo "== AddressSanitizer + UndefinedBehaviorSanitizer build ==" >&2
cmake --preset asan >/dev/null
cmake --build --preset asan -j "$jobs"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --preset asan -j "$jobs"

echo "== all tests passed ==" >&2
