#!/usr/bin/env bash
# Zero-allocation proof: every core source compiles with -ffreestanding (gcc, and -m32 for
# an ILP32 target), and the objects reference no external symbol beyond
# memcpy/memmove/memset/memcmp/strlen and the core's own functions. Exits non-zero otherwise.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
allowed='^(memcpy|memmove|memset|memcmp|strlen)$'
flags=(-std=c11 -ffreestanding -fno-builtin -Os -Wall -Wextra -Wpedantic -Werror -I"$root/CSources/mote/include")
status=0
for arch in native m32; do
  extra=()
  [ "$arch" = m32 ] && extra=(-m32)
  objs=()
  for src in "$root"/CSources/mote/src/*.c; do
    obj="$work/$arch-$(basename "$src" .c).o"
    gcc "${flags[@]}" "${extra[@]}" -c "$src" -o "$obj"
    objs+=("$obj")
  done
  defined=$(nm --defined-only "${objs[@]}" | awk 'NF==3 && $2 ~ /[TDBRC]/ {print $3}' | sort -u)
  undefined=$(nm -u "${objs[@]}" | awk 'NF>=2 {print $NF}' | sort -u)
  for sym in $undefined; do
    case "$sym" in __x86.get_pc_thunk*|_GLOBAL_OFFSET_TABLE_) continue ;; esac
    # a here-string, not a pipe: with pipefail, grep -q closing early would fail the echo
    if grep -qx -- "$sym" <<< "$defined"; then continue; fi
    if ! [[ "$sym" =~ $allowed ]]; then
      echo "core ($arch) references a libc/runtime symbol it must not use: $sym" >&2
      status=1
    fi
  done
done
[ $status -eq 0 ] && echo "freestanding: core objects reference only memcpy/memmove/memset/memcmp/strlen"
exit $status
