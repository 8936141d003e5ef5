#!/usr/bin/env bash
# Swift module beside the C tool, same run, same broker: QoS 0 and QoS 1 throughput and CPU
# per message for N messages of 32 bytes (`mote pub -V mqttv5 --repeat N` against MoteBench,
# both MQTT 5 with 20 messages in flight, both timed as whole processes; MoteBench's QoS 1 runs
# publish batches with MQTTClient.publish(_:qos:), then one awaited publish(to:) per message
# from 20 tasks; each ratio line names the method), then the clean `swift build` time of the
# package on this machine.
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v swift >/dev/null 2>&1 || export PATH=/opt/swift/usr/bin:$PATH
JOBS=$(nproc 2>/dev/null || echo 2)
N0=${MOTE_BENCH_SWIFT_N0:-200000}
N1=${MOTE_BENCH_SWIFT_N1:-50000}
MOTE=${MOTE_BIN:-build/host/bin/mote}
if [ ! -x "$MOTE" ]; then
    cmake -S . -B build/host -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    cmake --build build/host -j "$JOBS" --target mote-cli >/dev/null
fi
swift build -c release -j "$JOBS" --product MoteBench --scratch-path .build-bench >/dev/null
BENCH=$(swift build -c release --product MoteBench --scratch-path .build-bench --show-bin-path)/MoteBench

# A broker of our own on a free port (mosquitto drops to user mosquitto: world-writable dir).
DIR=$(mktemp -d /tmp/mote-swift-bench-XXXXXX)
chmod 777 "$DIR"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
printf 'listener %s 127.0.0.1\nallow_anonymous true\nlog_dest stderr\nlog_type error\nmax_queued_messages 1000000\nmax_inflight_messages 0\n' \
    "$PORT" >"$DIR/mosquitto.conf"
chmod 644 "$DIR/mosquitto.conf"
mosquitto -c "$DIR/mosquitto.conf" 2>"$DIR/broker.log" &
BROKER=$!
trap 'kill -9 $BROKER 2>/dev/null; rm -rf "$DIR"' EXIT
for _ in $(seq 100); do
    python3 -c "import socket; socket.create_connection(('127.0.0.1',$PORT),0.2)" 2>/dev/null && break
    sleep 0.05
done

PAYLOAD=$(head -c 32 /dev/zero | tr '\0' a)
RUNS=${MOTE_BENCH_SWIFT_RUNS:-3}
# timed CMD... -> "wall user sys" of the whole process
timed() {
    local TIMEFORMAT='%R %U %S'
    { time "$@" >/dev/null 2>"$DIR/err"; } 2>&1 | tail -1
}
# A QoS 0 publisher is done once its bytes are in the kernel's socket buffers; on loopback
# those hold megabytes (100,000+ small PUBLISHes) that the broker is still reading when the
# process has exited. A run started then competes with that backlog, so wait until the
# broker has used no CPU for 100 ms before each timed run (at most 10 s).
broker_cpu() { awk '{ print $14 + $15 }' "/proc/$BROKER/stat" 2>/dev/null || echo 0; }
wait_idle() {
    local i last now quiet=0
    last=$(broker_cpu)
    for i in $(seq 200); do
        sleep 0.05
        now=$(broker_cpu)
        if [ "$now" = "$last" ]; then quiet=$((quiet + 1)); else quiet=0; fi
        [ $quiet -ge 2 ] && return 0
        last=$now
    done
}
faster() { awk -v a="$1" -v b="$2" 'BEGIN { split(a, x, " "); split(b, y, " "); exit !(x[1] < y[1]) }'; }
# pair "C CMD..." -- "SWIFT CMD..." -> "c-times|swift-times": $RUNS alternating runs of
# each from an idle broker, the shortest wall time of each kept (the machine is shared)
pair() {
    local i t c=() s=() bc="" bs=""
    while [ "$1" != "--" ]; do c+=("$1"); shift; done
    shift
    s=("$@")
    for i in $(seq "$RUNS"); do
        wait_idle
        t=$(timed "${c[@]}")
        if [ -z "$bc" ] || faster "$t" "$bc"; then bc=$t; fi
        wait_idle
        t=$(timed "${s[@]}")
        if [ -z "$bs" ] || faster "$t" "$bs"; then bs=$t; fi
    done
    echo "$bc|$bs"
}
row() { # label n "wall user sys" instructions/msg
    awk -v l="$1" -v n="$2" -v t="$3" -v ir="$4" 'BEGIN { split(t, a, " ");
        printf "%-16s %10.0f msg/s %8.2f us CPU/msg %8s instr/msg\n", l, n / a[1], (a[2] + a[3]) / n * 1e6, ir }'
}
ratio() { # n "c times" "swift times"
    awk -v n="$1" -v c="$2" -v s="$3" 'BEGIN { split(c, a, " "); split(s, b, " ");
        printf "%.0f %% of the C rate (target >= 90 %%)\n", (n / b[1]) / (n / a[1]) * 100 }'
}
# Instructions per message from callgrind (the repeatable figure here): runs of M and 2M
# messages, difference over M, so start-up and connect cancel out. valgrind cannot read
# Swift's debug info, so the Swift binary runs stripped.
strip -o "$DIR/MoteBench" "$BENCH"
ir_total() { # out-file cmd...
    local f=$1; shift
    valgrind --tool=callgrind --callgrind-out-file="$f" "$@" >/dev/null 2>&1 || { echo 0; return; }
    awk '/^(summary|totals):/ {print $2; exit}' "$f"
}
ir_per_msg() { # tag qos m [extra MoteBench options...]
    local a b m=$3 tag=$1 qos=$2
    shift 3
    if [ "$tag" = c ]; then
        a=$(ir_total "$DIR/cg.c1" "$MOTE" pub -V mqttv5 -h 127.0.0.1 -p "$PORT" -t bench/c -q "$qos" -m "$PAYLOAD" --repeat "$m" --max-inflight 20)
        b=$(ir_total "$DIR/cg.c2" "$MOTE" pub -V mqttv5 -h 127.0.0.1 -p "$PORT" -t bench/c -q "$qos" -m "$PAYLOAD" --repeat $((2 * m)) --max-inflight 20)
    else
        a=$(ir_total "$DIR/cg.s1" "$DIR/MoteBench" --port "$PORT" --qos "$qos" --count "$m" --size 32 "$@")
        b=$(ir_total "$DIR/cg.s2" "$DIR/MoteBench" --port "$PORT" --qos "$qos" --count $((2 * m)) --size 32 "$@")
    fi
    echo $(( (b - a) / m ))
}

echo "Swift Mote vs the mote C tool: $N0 QoS 0 / $N1 QoS 1 messages of 32 bytes (QoS 1: 20 in flight),"
echo "MQTT 5 both, local mosquitto; rates are the best of $RUNS alternating runs of each whole process, each"
echo "started with the broker idle; instructions from callgrind"
for qos in 0 1; do
    n=$N0; [ $qos -eq 1 ] && n=$N1
    both=$(pair "$MOTE" pub -V mqttv5 -h 127.0.0.1 -p "$PORT" -t bench/c -q $qos -m "$PAYLOAD" --repeat "$n" --max-inflight 20 \
        -- "$BENCH" --port "$PORT" --qos $qos --count "$n" --size 32)
    c=${both%|*}
    s=${both#*|}
    ci="-"; si="-"
    if command -v valgrind >/dev/null 2>&1; then
        ci=$(ir_per_msg c $qos 10000)
        si=$(ir_per_msg s $qos 10000)
    fi
    row "C tool   QoS $qos" "$n" "$c" "$ci"
    row "Swift    QoS $qos" "$n" "$s" "$si"
    echo "         Swift: $(ratio "$n" "$c" "$s"), publishing $("$BENCH" --qos $qos --print-method)"
    if [ $qos -eq 1 ]; then
        # The same QoS 1 work as one awaited publish(to:) per message from 20 tasks.
        best=""
        for _ in $(seq "$RUNS"); do
            wait_idle
            t=$(timed "$BENCH" --port "$PORT" --qos 1 --count "$n" --size 32 --batch 0)
            if [ -z "$best" ] || faster "$t" "$best"; then best=$t; fi
        done
        si="-"
        command -v valgrind >/dev/null 2>&1 && si=$(ir_per_msg s 1 10000 --batch 0)
        row "Swift    QoS 1" "$n" "$best" "$si"
        echo "         Swift: $(ratio "$n" "$c" "$best"), publishing $("$BENCH" --qos 1 --batch 0 --print-method)"
    fi
done

# Clean debug build of the whole package (C core + adapters + Mote + swift-log + argument
# parser + the bench tool), on this machine's cores.
[ "${MOTE_BENCH_SWIFT_SKIP_CLEAN:-0}" = 1 ] && exit 0
rm -rf .build-clean-time
start=$(date +%s.%N)
swift build -j "$JOBS" --scratch-path .build-clean-time >/dev/null
end=$(date +%s.%N)
rm -rf .build-clean-time
awk -v s="$start" -v e="$end" -v j="$JOBS" 'BEGIN { printf "clean swift build of the package: %.1f s on %d cores (target < 30 s; AWS IoT Device SDK for Swift > 60 s)\n", e - s, j }'
