#!/usr/bin/env bash
# MQTT codec cost: callgrind instructions to encode (sizing included) and to decode one
# QoS 1 PUBLISH (64 B payload, topic dt/sensors/device-0001/telemetry), beside coreMQTT.
# Each figure is (instructions for 1001 iterations - for 1 iteration) / 1000, counted only
# inside the codec calls (callgrind --toggle-collect on them, callees included), so the
# harness, process start-up and first-call symbol binding are excluded.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=build/bench/mqtt_codec
mkdir -p "$out"
if ! command -v valgrind >/dev/null; then
  echo "mqtt_codec bench: valgrind not found (toolchain/deps.sh bench)" >&2
  exit 1
fi
CC=${CC:-gcc}
srcs=(CSources/mote/src/mqtt_codec.c CSources/mote/src/mqtt_decode.c CSources/mote/src/mqtt_props.c
      CSources/mote/src/mqtt_topic.c CSources/mote/src/mqtt_reason.c CSources/mote/src/mqtt_utf8.c)
# Same optimisation as the release build (RelWithDebInfo: -O2); DWARF 4 for valgrind 3.19.
build() {
  "$1" -std=c11 -O2 -gdwarf-4 -ICSources/mote/include bench/mqtt_codec/bench_codec.c "${srcs[@]}" \
    -o "$out/bench_codec"
}

count() { # mode iterations -> instructions collected inside the codec's entry points
  local f="$out/cg.$1.$2" collect
  case $1 in
    enc*) collect="--toggle-collect=mote_mqtt_encode_publish" ;;
    dec*) collect="--toggle-collect=mote_mqtt_decode_fixed_header --toggle-collect=mote_mqtt_decode_publish" ;;
    hdr*) collect="--toggle-collect=mote_mqtt_encode_publish_header" ;;
  esac
  valgrind --tool=callgrind --callgrind-out-file="$f" $collect \
    "$out/bench_codec" "$1" "$2" >/dev/null 2>&1
  awk '/^(summary|totals):/ {print $2; exit}' "$f"
}
per_op() {
  local a b
  a=$(count "$1" 1)
  b=$(count "$1" 1001)
  echo $(( (b - a + 500) / 1000 ))
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
report() { # compiler-label
  local e311 d311 e5 d5 h311 h5
  e311=$(per_op enc311); d311=$(per_op dec311); e5=$(per_op enc5); d5=$(per_op dec5)
  h311=$(per_op hdr311); h5=$(per_op hdr5)
  printf '%-46s %10s %12s %8s %8s\n' "MQTT codec, QoS 1 PUBLISH, 64 B ($1 -O2)" "mote" "coreMQTT" "ratio" "target"
  printf '%-46s %10s %12s %8s %8s\n' "3.1.1 size+encode (instructions)" "$e311" "186" "$(ratio "$e311" 186)" "<=0.70"
  printf '%-46s %10s %12s %8s %8s\n' "3.1.1 decode from a buffer" "$d311" "158" "$(ratio "$d311" 158)" "<=0.70"
  printf '%-46s %10s %12s %8s %8s\n' "5 size+encode" "$e5" "272" "$(ratio "$e5" 272)" "<=0.70"
  printf '%-46s %10s %12s %8s %8s\n' "5 decode from a buffer" "$d5" "344" "$(ratio "$d5" 344)" "<=0.70"
  printf '%-46s %10s\n' "3.1.1 header only (gathered send)" "$h311"
  printf '%-46s %10s\n' "5 header only (gathered send)" "$h5"
}
build "$CC"
report "$(basename "$CC")"
CLANG=/opt/swift/usr/bin/clang
if [ -x "$CLANG" ] && [ "$CC" != "$CLANG" ]; then
  echo
  build "$CLANG"
  report clang
fi
echo "(coreMQTT: v2.3.1 for 3.1.1, v5.0.2 for 5, figures from the issue; mote on x86-64;"
echo " encode = one mote_mqtt_encode_publish call, which sizes, validates the topic and writes;"
echo " decode = mote_mqtt_decode_fixed_header + mote_mqtt_decode_publish, topic UTF-8 checked)"
