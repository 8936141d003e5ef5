#!/usr/bin/env bash
# Proves check_freestanding.sh can fail: copy the core, plant a malloc call, expect a failure.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/Tests/core"
cp -r "$root/CSources" "$work/"
cp "$root/Tests/core/check_freestanding.sh" "$work/Tests/core/"
cat > "$work/CSources/mote/src/zz_planted.c" <<'C'
#include <stddef.h>
void *malloc(size_t n);
void *mote_planted_alloc(size_t n);
void *mote_planted_alloc(size_t n) { return malloc(n); }
C
if bash "$work/Tests/core/check_freestanding.sh" 2>"$work/err"; then
  echo "check_freestanding.sh accepted a core that calls malloc" >&2
  exit 1
fi
grep -q 'malloc' "$work/err" || { echo "failure did not name malloc" >&2; cat "$work/err" >&2; exit 1; }
echo "selftest: planted malloc was caught"
