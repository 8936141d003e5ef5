#!/usr/bin/env bash
# Footprint report (run by `make size`): Cortex-M4 flash/RAM per core module, the 3.1.1-only
# MQTT build, sizeof the client context, worst-case stack per public call, the sample
# firmware image and the static ARM tools. Prints one table and rewrites the block between
# <!-- size:begin --> and <!-- size:end --> in README.md (nothing else in it).
# Environment: MOTE_SIZE_README=0 to only print; MOTE_SIZE_OUT=DIR to build somewhere other than build/size.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
out=${MOTE_SIZE_OUT:-build/size}
CC=arm-none-eabi-gcc
if ! command -v $CC >/dev/null; then
  echo "size: $CC not found: run toolchain/deps.sh cortex-m" >&2
  exit 1
fi
rm -rf "$out"
mkdir -p "$out"
cpu=(-mcpu=cortex-m4 -mthumb)
cflags=("${cpu[@]}" -std=c11 -Os -DNDEBUG -ffunction-sections -fdata-sections
        -Wall -Wextra -I"$root/CSources/mote/include")

# Public functions: everything declared in the public headers.
grep -ohE '\bmote_[a-z0-9_]+[[:space:]]*\(' CSources/mote/include/mote/*.h \
  | sed 's/[[:space:]]*($//' | sort -u > "$out/public-declared.txt"

build_variant() { # name extra-cflags...
  local name=$1; shift
  local dir="$out/$name"
  mkdir -p "$dir/core" "$dir/stub"
  local src
  for src in CSources/mote/src/*.c; do
    (cd "$dir" && $CC "${cflags[@]}" "$@" -fcallgraph-info=su -fstack-usage \
      -c "$root/$src" -o "core/$(basename "$src" .c).o")
  done
  # Keep every public function the objects define; gc everything unreachable from them.
  arm-none-eabi-nm --defined-only -g "$dir"/core/*.o | awk '$2 == "T" {print $3}' | sort -u \
    | comm -12 - "$out/public-declared.txt" > "$dir/public.txt"
  printf 'int main(void);\nint main(void) { for (;;) { } }\n' > "$dir/stub/main.c"
  $CC "${cflags[@]}" -c "$dir/stub/main.c" -o "$dir/stub/main.o"
  $CC "${cflags[@]}" -c examples/cortex-m4/startup.c -o "$dir/stub/startup.o"
  # Two links, both like the sample firmware's (newlib-nano, no start files, no syscall
  # stubs, --gc-sections):
  #  keep   every public function is a root: the whole library;
  #  device every public function except the packet encoders/decoders that only a broker
  #         or a test needs (CONNECT/SUBSCRIBE decoding, CONNACK/SUBACK encoding, ...): what
  #         a device using the client, JSON and AWS APIs links. The client's own codec calls
  #         are still pulled in through the client.
  grep -vE '^mote_mqtt_(encode|decode)_|_size$|^mote_mqtt_(subscribe|unsubscribe)_next$' \
    "$dir/public.txt" > "$dir/device-roots.txt" || true
  #  jsonscan  only validate, search by path and iteration: the set coreJSON's figure covers
  #            (no typed reads, number conversion or writer), for a like-for-like comparison.
  printf '%s\n' mote_json_validate mote_json_find mote_json_iter_init mote_json_iter_next \
    > "$dir/jsonscan-roots.txt"
  local set roots keep fn
  for set in keep device jsonscan; do
    roots="$dir/public.txt"
    [ $set = device ] && roots="$dir/device-roots.txt"
    [ $set = jsonscan ] && roots="$dir/jsonscan-roots.txt"
    keep=()
    while read -r fn; do keep+=("-Wl,--undefined=$fn"); done < "$roots"
    $CC "${cpu[@]}" --specs=nano.specs -nostartfiles -T examples/cortex-m4/cm4.ld \
      -Wl,--gc-sections -Wl,-Map="$dir/$set.map" "${keep[@]}" \
      "$dir/stub/startup.o" "$dir/stub/main.o" "$dir"/core/*.o -o "$dir/$set.elf"
  done
}

build_variant full
build_variant v311 -DMOTE_MQTT_V5=0

# What each JSON capability adds, cumulatively (full build): a firmware that only validates
# and searches pays for the first rows only. Each step's roots are added to the previous
# ones; the report shows json*.c and the runtime (soft-float) bytes of each link.
json_steps=(
  "validate:mote_json_validate"
  "find:mote_json_find"
  "iterate:mote_json_iter_init mote_json_iter_next mote_json_member mote_json_element"
  "reads:mote_json_get_int64 mote_json_get_bool mote_json_get_null mote_json_get_string mote_json_string_equals"
  "double_reads:mote_json_get_double mote_json_parse_double"
  "writer:mote_json_writer_init mote_json_write_object_begin mote_json_write_object_end mote_json_write_array_begin mote_json_write_array_end mote_json_write_key mote_json_write_string mote_json_write_int64 mote_json_write_bool mote_json_write_null mote_json_write_raw mote_json_writer_finish"
  "double_writes:mote_json_write_double mote_json_format_double"
  "texts:mote_json_reason_text"
)
jkeep=()
: > "$out/full/json-steps.txt"
for step in "${json_steps[@]}"; do
  name=${step%%:*}
  for fn in ${step#*:}; do jkeep+=("-Wl,--undefined=$fn"); done
  $CC "${cpu[@]}" --specs=nano.specs -nostartfiles -T examples/cortex-m4/cm4.ld \
    -Wl,--gc-sections -Wl,-Map="$out/full/json-$name.map" "${jkeep[@]}" \
    "$out/full/stub/startup.o" "$out/full/stub/main.o" "$out/full"/core/*.o -o "$out/full/json-$name.elf"
  echo "$name" >> "$out/full/json-steps.txt"
done
build_variant nodouble -DMOTE_JSON_DOUBLE=0

# sizeof the client context, as the compiler lays it out for Cortex-M4.
: > "$out/sizeof.txt"
for v in full v311; do
  extra=()
  [ $v = v311 ] && extra=(-DMOTE_MQTT_V5=0)
  printf '#include "mote/mqtt.h"\nunsigned char mote_sizeof_client[sizeof(mote_mqtt_client_t)];\n' > "$out/sizeof-$v.c"
  $CC "${cflags[@]}" "${extra[@]}" -c "$out/sizeof-$v.c" -o "$out/sizeof-$v.o"
  hex=$(arm-none-eabi-nm -S "$out/sizeof-$v.o" | awk '$4 == "mote_sizeof_client" {print $2}')
  echo "client_$v $((16#$hex))" >> "$out/sizeof.txt"
done

# The sample firmware image, built as a firmware project would (CMake + toolchain file).
if cmake -S examples/cortex-m4 -B "$out/cm4" -DCMAKE_TOOLCHAIN_FILE="$root/toolchain/cortex-m4.cmake" \
     -DCMAKE_BUILD_TYPE=MinSizeRel >"$out/cm4.log" 2>&1 \
   && cmake --build "$out/cm4" -j 2 >>"$out/cm4.log" 2>&1; then
  arm-none-eabi-size -B "$out/cm4/mote-cm4.elf" | awk 'NR == 2 {print $1, $2, $3}' > "$out/firmware.txt"
else
  echo "size: warning: the sample firmware did not build (see $out/cm4.log)" >&2
fi

{
  echo "armhf build/armhf/bin/mote"
  echo "armhf-minimal build/armhf-minimal/bin/mote"
  echo "aarch64 build/aarch64/bin/mote"
  echo "aarch64-minimal build/aarch64-minimal/bin/mote"
} > "$out/cross.txt"

args=("$out")
[ "${MOTE_SIZE_README:-1}" = 1 ] && args+=(--readme README.md)
python3 toolchain/size_report.py "${args[@]}"
