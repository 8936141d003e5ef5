#!/usr/bin/env bash
# Client API cost without a broker (in-memory transport): instructions per message from
# callgrind, as the difference between runs of N and 2N messages (set-up cancels out).
# Includes the in-memory transport's own work (copying the scripted PUBACKs / PUBLISHes
# into rx_buf, which a kernel would do). The peers' figures are from issue 2; the
# throughput through a real broker is bench/mqtt_broker.
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=build/bench/mqtt_client
mkdir -p "$OUT"
CC=${CC:-gcc}
"$CC" -std=c11 -O2 -g -DNDEBUG -ICSources/mote/include -o "$OUT/bench_client" \
    bench/mqtt_client/bench_client.c CSources/mote/src/*.c
N=${MOTE_BENCH_CLIENT_N:-20000}

ir() { # mode messages [window] -> total instructions
    local f="$OUT/callgrind.$1.$2.${3:-0}"
    valgrind --tool=callgrind --callgrind-out-file="$f" "$OUT/bench_client" "$@" >/dev/null 2>&1
    awk '/^(summary|totals):/ {print $2; exit}' "$f"
}
per_msg() { # mode [window]
    local a b
    a=$(ir "$1" "$N" ${2:-})
    b=$(ir "$1" $((2 * N)) ${2:-})
    echo $(( (b - a) / N ))
}
io() { # mode [window] -> "writes/msg reads/msg"
    "$OUT/bench_client" "$1" "$N" ${2:-} | awk -v n="$N" '{printf "%.3f writes/msg, %.3f reads/msg", $2/n, $3/n}'
}

if ! command -v valgrind >/dev/null; then
    echo "mqtt_client: valgrind missing" >&2
    exit 1
fi
q0=$(per_msg qos0)
q20=$(per_msg qos1 20)
q100=$(per_msg qos1 100)
sub=$(per_msg sub)
printf '%-36s %10s   %-34s %s\n' "client API, in-memory transport" "Mote" "peer (issue 2)" "target"
printf '%-36s %10s   %-34s %s\n' "QoS 0 publish, instr/msg" "$q0" "coreMQTT 340" "<= 300"
printf '%-36s %10s   %-34s %s\n' "QoS 1 publish, 20 in flight" "$q20" "coreMQTT 1,577" "<= 1,200"
printf '%-36s %10s   %-34s %s\n' "QoS 1 publish, 100 in flight" "$q100" "coreMQTT 4,408" "no worse than at 20"
printf '%-36s %10s   %-34s %s\n' "QoS 0 receive, instr/msg" "$sub" "libmosquitto 3,143" "<= 500"
echo "transport calls: QoS 0 publish $(io qos0); QoS 1 $(io qos1 20); receive $(io sub)"
echo
bash bench/mqtt_client/footprint.sh
