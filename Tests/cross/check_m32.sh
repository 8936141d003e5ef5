#!/usr/bin/env bash
# The core and its C unit tests built for a 32-bit ILP32 host target (-m32) with the
# project's warning flags (-Werror), in both MQTT configurations: size_t/pointer-width
# mistakes that the ARM boards would hit show up here as warnings or test failures.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
echo 'int main(void){return 0;}' > /tmp/mote-m32-probe.c
if ! gcc -m32 /tmp/mote-m32-probe.c -o /tmp/mote-m32-probe 2>/dev/null; then
  echo "check_m32: gcc -m32 cannot link (libc6-dev-i386 lib32gcc-12-dev missing)" >&2
  rm -f /tmp/mote-m32-probe.c
  exit 1
fi
rm -f /tmp/mote-m32-probe.c /tmp/mote-m32-probe
for cfg in "m32:-DMOTE_MQTT_V5=ON" "m32-v311:-DMOTE_MQTT_V5=OFF"; do
  dir=build/${cfg%%:*}
  opt=${cfg#*:}
  cmake -S . -B "$dir" -DCMAKE_C_FLAGS=-m32 -DCMAKE_BUILD_TYPE=RelWithDebInfo "$opt" \
    -DMOTE_BUILD_POSIX=OFF -DMOTE_BUILD_CLI=OFF -DMOTE_BUILD_TESTS=OFF >/dev/null
  cmake --build "$dir" --target mote -j 2
  echo "check_m32: core builds warning-free with -m32 ($opt)"
done
