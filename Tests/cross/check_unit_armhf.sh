#!/usr/bin/env bash
# The C unit tests (every cmocka executable test_* the test areas define) cross-built for
# armhf and run under qemu-arm: the real 32-bit ARM ABI of the boards (ILP32, unsigned char,
# alignment), beyond what -m32 on the host shows, at -Os like the boards' and MCUs' builds
# (the core's size-build code paths). Needs libcmocka-dev:armhf.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
dir=build/armhf-unit
cmake -S . -B "$dir" -DCMAKE_TOOLCHAIN_FILE="$root/toolchain/armhf.cmake" \
  -DCMAKE_BUILD_TYPE=MinSizeRel -DMOTE_BUILD_CLI=OFF >/dev/null
targets=$(cmake --build "$dir" --target help | awk '$1 == "..." && $2 ~ /^test_/ {print $2}')
if [ -z "$targets" ]; then
  echo "check_unit_armhf: no unit test targets"
  exit 0
fi
# shellcheck disable=SC2086
cmake --build "$dir" -j 2 --target $targets
status=0
n=0
for t in $targets; do
  exe=$(find "$dir" -type f -name "$t" -perm -u+x | head -1)
  [ -n "$exe" ] || { echo "check_unit_armhf: $t was not built" >&2; status=1; continue; }
  n=$((n + 1))
  if LD_LIBRARY_PATH=/usr/lib/arm-linux-gnueabihf timeout 300 \
       qemu-arm-static -L /usr/arm-linux-gnueabihf "$exe" > "$dir/$t.log" 2>&1; then
    echo "check_unit_armhf: $t ok"
  else
    cat "$dir/$t.log" >&2
    echo "check_unit_armhf: $t FAILED under qemu-arm" >&2
    status=1
  fi
done
echo "check_unit_armhf: $n unit test programs run on armhf"
exit $status
