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

# Known bug: a concurrent QoS 1 publish can, rarely (about 1 run in 8 here), wait forever for an
# acknowledgement that already came, which hangs the run. Until that is fixed a run that hangs
# (not one that fails) is reported loudly and tried once more; a failing assertion fails at once.
swift_test() {
  local attempt rc
  for attempt in 1 2; do
    rc=0
    timeout --kill-after=10 300 swift test -j "$JOBS" "$@" || rc=$?
    cleanup
    [ "$rc" -eq 0 ] && return 0
    if [ "$rc" -ne 124 ] && [ "$rc" -ne 137 ]; then return "$rc"; fi
    echo "stage-50-swift: WARNING: swift test $* hung for 300 s (attempt $attempt): known intermittent QoS 1 acknowledgement hang" >&2
  done
  return 1
}

echo "--- swift test"
swift_test --skip-build

echo "--- swift test --sanitize=thread"
TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
  swift_test --sanitize=thread --scratch-path .build-tsan
