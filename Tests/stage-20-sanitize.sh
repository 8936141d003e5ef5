#!/usr/bin/env bash
# The same tests built with clang under AddressSanitizer + UndefinedBehaviorSanitizer.
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS=$(nproc 2>/dev/null || echo 2)
CLANG=$(command -v clang || echo /opt/swift/usr/bin/clang)
cmake -S . -B build/asan -DCMAKE_C_COMPILER="$CLANG" -DCMAKE_BUILD_TYPE=Debug \
  -DMOTE_SANITIZE=address,undefined >/dev/null
cmake --build build/asan -j "$JOBS"
ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  MOTE_SANITIZED=1 ctest --test-dir build/asan --output-on-failure -j "$JOBS" --timeout 600
