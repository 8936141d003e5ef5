#!/usr/bin/env bash
# Cortex-M4 footprint of the MQTT client as firmware links it: text+data of the MQTT files
# reachable from the client API (gc-sections), both protocols and 3.1.1 only; sizeof the
# client context; worst-case stack of the process step from -fstack-usage/-fcallgraph-info
# (callbacks the application supplies are not included).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
CC=arm-none-eabi-gcc
if ! command -v $CC >/dev/null; then
    echo "mqtt_client footprint: $CC missing (toolchain/deps.sh cortex-m)" >&2
    exit 0
fi
OUT=$root/build/bench/mqtt_client/arm
rm -rf "$OUT"
mkdir -p "$OUT"
cpu=(-mcpu=cortex-m4 -mthumb -Os -DNDEBUG -std=c11 -ffunction-sections -fdata-sections
     -I"$root/CSources/mote/include")
cat > "$OUT/keep.c" <<'SRC'
#include "mote/mqtt.h"
int main(void);
/* Everything a firmware using the client API can reach. */
void *const keep[] = {
    (void *)mote_mqtt_init, (void *)mote_mqtt_connect, (void *)mote_mqtt_publish,
    (void *)mote_mqtt_subscribe, (void *)mote_mqtt_unsubscribe, (void *)mote_mqtt_flush,
    (void *)mote_mqtt_process, (void *)mote_mqtt_disconnect, (void *)mote_mqtt_reset_connection,
    (void *)mote_mqtt_is_connected, (void *)mote_mqtt_inflight_count, (void *)mote_mqtt_tx_pending,
};
int main(void) { for (;;) { } }
const unsigned context_size = sizeof(mote_mqtt_client_t);
SRC

# MOTE_MQTT_V5 value -> bytes of MQTT text+data reachable from the client API
flash() {
    local dir="$OUT/v5-$1" f
    mkdir -p "$dir"
    for f in "$root"/CSources/mote/src/mqtt_*.c; do
        (cd "$dir" && $CC "${cpu[@]}" -DMOTE_MQTT_V5="$1" -fstack-usage -fcallgraph-info=su \
            -c "$f" -o "$(basename "$f" .c).o")
    done
    $CC "${cpu[@]}" -c "$OUT/keep.c" -o "$dir/keep.o"
    $CC -mcpu=cortex-m4 -mthumb --specs=nano.specs --specs=nosys.specs -nostartfiles \
        -Wl,--gc-sections -Wl,-e,main -Wl,-u,keep -Wl,-Map="$dir/map.txt" \
        "$dir/keep.o" "$dir"/mqtt_*.o -o "$dir/fw.elf"
    python3 "$root/bench/mqtt_client/map_size.py" "$dir/map.txt"
}
both=$(flash 1)
v311=$(flash 0)
ctx=$($CC "${cpu[@]}" -S -o - "$OUT/keep.c" | awk '/^context_size:/ {getline; print $2}')
stack=$(cd "$OUT/v5-1" && python3 "$root/bench/mqtt_client/stack_depth.py" mote_mqtt_process)
printf '%-36s %10s   %-34s %s\n' "Cortex-M4 footprint (-Os)" "Mote" "peer (issue 2)" "target"
printf '%-36s %10s   %-34s %s\n' "MQTT flash, 3.1.1 + 5" "$both B" "coreMQTT v5.0.2 19,390 B" "<= 14,000 B"
printf '%-36s %10s   %-34s %s\n' "MQTT flash, 3.1.1 only" "$v311 B" "coreMQTT v2.3.1 6,890 B" "<= 6,000 B"
printf '%-36s %10s   %-34s %s\n' "client context (sizeof)" "$ctx B" "coreMQTT v5 140 B" "<= 128 B"
printf '%-36s %10s   %-34s %s\n' "process step worst-case stack" "$(echo "$stack" | awk '{print $2}') B" "coreMQTT v5 364 B" "<= 256 B"
echo "  deepest path: $(echo "$stack" | cut -d' ' -f3-)"
