#!/usr/bin/env bash
# Host build (gcc, -Werror) and every ctest test: unit tests and integration tests against
# mosquitto (each integration test starts its own broker on free loopback ports).
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS=$(nproc 2>/dev/null || echo 2)
cmake -S . -B build/host -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build/host -j "$JOBS"
ctest --test-dir build/host --output-on-failure -j "$JOBS" --timeout 300
