#!/usr/bin/env bash
# make demo: a local mosquitto on a free loopback port, `mote sub` listening in the
# background, `mote pub` sending over MQTT 5 and MQTT 3.1.1, then what was received.
set -euo pipefail
cd "$(dirname "$0")/.."

MOTE=${MOTE_BIN:-build/host/bin/mote}
MOSQUITTO=$(command -v mosquitto || echo /usr/sbin/mosquitto)
[ -x "$MOTE" ] || { echo "demo: $MOTE not built (run make)" >&2; exit 1; }
[ -x "$MOSQUITTO" ] || { echo "demo: mosquitto not installed (toolchain/deps.sh test)" >&2; exit 1; }

WORK=$(mktemp -d /tmp/mote-demo.XXXXXX)
chmod 755 "$WORK"
BROKER_PID=""
SUB_PID=""
cleanup() {
    [ -n "$SUB_PID" ] && kill "$SUB_PID" 2>/dev/null || true
    [ -n "$BROKER_PID" ] && kill "$BROKER_PID" 2>/dev/null || true
    [ -n "$BROKER_PID" ] && wait "$BROKER_PID" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

# The broker. Everything about how clients reach it lives in BROKER_CONF and CONN, so a
# TLS variant changes only these two places.
BROKER_CONF="listener $PORT 127.0.0.1
allow_anonymous true"
CONN=(-h 127.0.0.1 -p "$PORT")

printf '%s\nlog_dest stderr\n' "$BROKER_CONF" > "$WORK/mosquitto.conf"
chmod 644 "$WORK/mosquitto.conf"
"$MOSQUITTO" -c "$WORK/mosquitto.conf" 2> "$WORK/broker.log" &
BROKER_PID=$!
for _ in $(seq 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then break; fi
    sleep 0.05
done
echo "== mosquitto listening on 127.0.0.1:$PORT"

echo "== mote sub -V mqttv5 -t 'demo/#' -v -C 5  (in the background)"
"$MOTE" sub "${CONN[@]}" -V mqttv5 -q 2 -t 'demo/#' -v -C 5 -W 20 -d \
    > "$WORK/received.txt" 2> "$WORK/sub.log" &
SUB_PID=$!
for _ in $(seq 200); do
    grep -q "received SUBACK" "$WORK/sub.log" 2>/dev/null && break
    sleep 0.05
done

pub() {
    echo "   mote pub $*"
    "$MOTE" pub "${CONN[@]}" "$@"
}
echo "== publishing"
pub -V mqttv5   -q 1 -t demo/v5/greeting -m "hello over MQTT 5 (QoS 1)"
pub -V mqttv311 -q 0 -t demo/v311/greeting -m "hello over MQTT 3.1.1 (QoS 0)"
pub -V mqttv311 -q 2 -t demo/v311/exactly-once -m "QoS 2 over MQTT 3.1.1"
printf 'line one\nline two\n' | pub -V mqttv5 -q 1 -t demo/v5/lines -l

status=0
wait "$SUB_PID" || status=$?
SUB_PID=""
echo "== mote sub received (topic payload):"
sed 's/^/   /' "$WORK/received.txt"
if [ "$status" -ne 0 ]; then
    echo "demo: mote sub exited with $status:" >&2
    grep '^mote:' "$WORK/sub.log" >&2 || true
    exit 1
fi
echo "== packets seen by the subscriber (-d):"
grep -E 'CONNACK|SUBACK|received PUBLISH' "$WORK/sub.log" | sed 's/^/   /' | head -20
echo "== stopping mosquitto"
