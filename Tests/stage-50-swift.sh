#!/usr/bin/env bash
# Swift module: build, tests against mosquitto (each test starts its own broker), and the
# same tests under the thread sanitizer (separate scratch path so the two builds coexist).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v swift >/dev/null 2>&1; then
  export PATH=/opt/swift/usr/bin:$PATH
fi
command -v swift >/dev/null || { echo "stage-50-swift: swift not found (expected /opt/swift/usr/bin)" >&2; exit 1; }
JOBS=$(nproc 2>/dev/null || echo 2)

# Brokers are started by the test process; if it dies, kill what it left (pid files).
cleanup() {
  for f in /tmp/mote-swift-broker-*/broker.pid; do
    [ -f "$f" ] || continue
    pid=$(cat "$f")
    if [ -n "$pid" ] && grep -q mosquitto "/proc/$pid/cmdline" 2>/dev/null; then kill -9 "$pid" 2>/dev/null || true; fi
    rm -rf "$(dirname "$f")"
  done
}
trap cleanup EXIT

echo "--- swift build"
start=$(date +%s)
swift build -j "$JOBS" --build-tests
echo "swift build: $(( $(date +%s) - start )) s"

echo "--- swift test"
swift test -j "$JOBS" --skip-build
cleanup

echo "--- swift test --sanitize=thread"
TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
  swift test -j "$JOBS" --sanitize=thread --scratch-path .build-tsan
