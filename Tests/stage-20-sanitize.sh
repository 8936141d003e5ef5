#!/usr/bin/env bash
# The same tests built with clang under AddressSanitizer + UndefinedBehaviorSanitizer, at
# -Os: the core picks its size-build code (#if __OPTIMIZE_SIZE__, what firmware runs) there,
# while stage 10 tests the speed-build code at -O2.
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS=$(nproc 2>/dev/null || echo 2)
CLANG=$(command -v clang || echo /opt/swift/usr/bin/clang)
cmake -S . -B build/asan -DCMAKE_C_COMPILER="$CLANG" -DCMAKE_BUILD_TYPE=MinSizeRel -DCMAKE_C_FLAGS=-g \
  -DMOTE_SANITIZE=address,undefined >/dev/null
cmake --build build/asan -j "$JOBS"
ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  MOTE_SANITIZED=1 ctest --test-dir build/asan --output-on-failure -j "$JOBS" --timeout 600
