#!/usr/bin/env bash
# The Cortex-M4 sample firmware (examples/cortex-m4) links with newlib-nano, no start files,
# no heap and no syscall stubs -- and the same link FAILS when a malloc, printf or time()
# call is planted in the core library (Tests/cross/plant.c), naming the missing symbol.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
if ! command -v arm-none-eabi-gcc >/dev/null; then
  echo "check_cm4: arm-none-eabi-gcc missing (toolchain/deps.sh cortex-m)" >&2
  exit 1
fi
tc="$root/toolchain/cortex-m4.cmake"
cmake -S examples/cortex-m4 -B build/cm4 -DCMAKE_TOOLCHAIN_FILE="$tc" -DCMAKE_BUILD_TYPE=MinSizeRel \
  -DMOTE_CM4_PLANT= >/dev/null
if ! cmake --build build/cm4 -j 2 > build/cm4/build.log 2>&1; then
  cat build/cm4/build.log >&2
  echo "check_cm4: FAIL: the sample firmware does not link" >&2
  exit 1
fi
arm-none-eabi-size build/cm4/mote-cm4.elf
# Nothing from the C library beyond the mem*/str* helpers may be in the image.
bad=$(arm-none-eabi-nm build/cm4/mote-cm4.elf | awk '{print $NF}' \
  | grep -E '^(_?malloc|_?free|_?calloc|_?realloc|_sbrk|_sbrk_r|_write|_read|printf|puts|time|_gettimeofday)$' || true)
if [ -n "$bad" ]; then
  echo "check_cm4: FAIL: the image contains $bad" >&2
  exit 1
fi
echo "check_cm4: sample firmware links (newlib-nano, no heap, no syscalls)"

status=0
for plant in malloc printf syscall; do
  dir=build/cm4-plant-$plant
  cmake -S examples/cortex-m4 -B "$dir" -DCMAKE_TOOLCHAIN_FILE="$tc" -DCMAKE_BUILD_TYPE=MinSizeRel \
    -DMOTE_CM4_PLANT=$plant >/dev/null
  if cmake --build "$dir" -j 2 > "$dir/build.log" 2>&1; then
    echo "check_cm4: FAIL: a planted $plant call linked; the firmware link would not catch it" >&2
    status=1
  elif grep -qE "undefined reference to \`_(sbrk|write|read|close|lseek|fstat|isatty|gettimeofday|times)'" "$dir/build.log"; then
    echo "check_cm4: planted $plant -> link fails: $(grep -oE "undefined reference to \`[^']+'" "$dir/build.log" | sort -u | head -3 | tr '\n' ' ')"
  else
    cat "$dir/build.log" >&2
    echo "check_cm4: FAIL: planted $plant failed for another reason than a missing syscall" >&2
    status=1
  fi
done
exit $status
