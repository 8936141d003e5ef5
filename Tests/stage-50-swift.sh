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

# A run that hangs fails (with a clear line) instead of holding CI until its own timeout.
swift_test() {
  local rc=0
  timeout --kill-after=10 300 swift test -j "$JOBS" "$@" || rc=$?
  cleanup
  if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
    echo "stage-50-swift: swift test $* did not finish in 300 s" >&2
  fi
  return "$rc"
}

echo "--- swift test"
swift_test --skip-build

echo "--- swift test --sanitize=thread"
TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
  swift_test --sanitize=thread --scratch-path .build-tsan
