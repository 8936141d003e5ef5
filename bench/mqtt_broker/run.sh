#!/usr/bin/env bash
# Throughput through mosquitto on loopback: the Mote core + TCP transport beside
# libmosquitto doing the same work in the same run (see bench.py for what is measured).
# MOTE_BENCH_QUICK=1 runs shorter workloads.
set -euo pipefail
cd "$(dirname "$0")/../.."

OUT=build/bench/mqtt_broker
mkdir -p "$OUT"
CC=${CC:-gcc}
for tool in mosquitto valgrind strace; do
    command -v "$tool" >/dev/null || [ -x "/usr/sbin/$tool" ] ||
        echo "mqtt_broker: $tool missing, its figures are skipped" >&2
done
[ -f /usr/include/mosquitto.h ] || { echo "mqtt_broker: libmosquitto-dev missing" >&2; exit 1; }

# Same optimisation as the host build (RelWithDebInfo); the core is compiled in directly.
"$CC" -std=c11 -O2 -g -DNDEBUG -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE \
    -ICSources/mote/include -ICSources/mote-posix/include \
    -o "$OUT/mote_bench" bench/mqtt_broker/mote_bench.c CSources/mote/src/*.c \
    CSources/mote-posix/src/tcp.c
"$CC" -O2 -g -o "$OUT/peer_mosquitto" bench/mqtt_broker/peer_mosquitto.c -lmosquitto

# The tool as the boards get it: statically linked (glibc here, musl in the cross builds).
STATIC=build/bench/mote-static
if cmake -S . -B "$STATIC" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMOTE_STATIC=ON \
        -DMOTE_BUILD_TESTS=OFF >/dev/null 2>&1 &&
    cmake --build "$STATIC" --target mote-cli -j 2 >/dev/null 2>&1; then
    STATIC_BIN=$STATIC/bin/mote
else
    echo "mqtt_broker: static mote build failed; its figures are skipped" >&2
    STATIC_BIN=""
fi

PATH=/usr/sbin:$PATH python3 bench/mqtt_broker/bench.py "$OUT" "${MOTE_BIN:-build/host/bin/mote}" \
    "$STATIC_BIN"
