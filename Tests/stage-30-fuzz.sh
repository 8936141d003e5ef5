#!/usr/bin/env bash
# Every libFuzzer target (Tests/fuzz/fuzz_*.c) built with ASan+UBSan and run briefly.
set -euo pipefail
cd "$(dirname "$0")/.."
exec bash Tests/fuzz/run.sh "${MOTE_FUZZ_SECONDS:-12}"
