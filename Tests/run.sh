#!/usr/bin/env bash
# Runs every test stage (Tests/stage-*.sh, in name order) and stops at the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."
status=0
for stage in Tests/stage-*.sh; do
  name=$(basename "$stage" .sh)
  echo "=== $name"
  start=$(date +%s)
  if ! bash "$stage"; then
    echo "=== $name FAILED" >&2
    status=1
    break
  fi
  echo "=== $name ok ($(( $(date +%s) - start ))s)"
done
exit $status
