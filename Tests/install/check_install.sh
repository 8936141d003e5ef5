#!/usr/bin/env bash
# The three ways a firmware or host build consumes the core must work: cmake --install then
# find_package(mote), pkg-config mote, and add_subdirectory() (which must build the core only).
# Usage: check_install.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
src=$1
build=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cmake --install "$build" --prefix "$work/prefix" >/dev/null
test -f "$work/prefix/include/mote/mqtt.h"
lib=$(find "$work/prefix" -name libmote.a | head -n 1)
[ -n "$lib" ] || { echo "libmote.a was not installed" >&2; exit 1; }

# 1. find_package
cmake -S "$src/Tests/install/consumer" -B "$work/fp" -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/fp" >/dev/null
out=$("$work/fp/consumer")
[ "$out" = "publish 29 bytes, json ok" ] || { echo "find_package consumer printed: $out" >&2; exit 1; }

# 2. pkg-config
pcdir=$(dirname "$(find "$work/prefix" -name mote.pc | head -n 1)")
cflags=$(PKG_CONFIG_PATH="$pcdir" pkg-config --cflags mote)
libs=$(PKG_CONFIG_PATH="$pcdir" pkg-config --libs mote)
# the build's options that shape the public types reach the consumer's compiler line
for opt in MOTE_JSON_MAX_DEPTH MOTE_MQTT_MAX_PENDING_SUBS; do
  val=$(sed -n "s/^$opt:[A-Z]*=//p" "$build/CMakeCache.txt")
  case " $cflags " in
    *" -D$opt=$val "*) ;;
    *) echo "pkg-config --cflags mote lacks -D$opt=$val: $cflags" >&2; exit 1 ;;
  esac
done
for opt in MOTE_MQTT_V5 MOTE_MQTT_V311 MOTE_JSON_DOUBLE; do
  case " $cflags " in
    *" -D$opt="[01]" "*) ;;
    *) echo "pkg-config --cflags mote lacks -D$opt: $cflags" >&2; exit 1 ;;
  esac
done
# shellcheck disable=SC2086
cc -std=c11 $cflags "$src/Tests/install/consumer/main.c" $libs -o "$work/pc"
out=$("$work/pc")
[ "$out" = "publish 29 bytes, json ok" ] || { echo "pkg-config consumer printed: $out" >&2; exit 1; }

# 3. add_subdirectory: the core only (no adapters, tool or tests, so no mbedTLS needed)
cmake -S "$src/Tests/install/consumer" -B "$work/sub" -DMOTE_SOURCE="$src" >/dev/null
cmake --build "$work/sub" >/dev/null
out=$("$work/sub/consumer")
[ "$out" = "publish 29 bytes, json ok" ] || { echo "add_subdirectory consumer printed: $out" >&2; exit 1; }
if [ -e "$work/sub/mote/bin/mote" ] || grep -q 'mote-posix' "$work/sub/Makefile" "$work/sub/mote/Makefile" 2>/dev/null; then
  echo "add_subdirectory built more than the core" >&2
  exit 1
fi
echo "install: find_package, pkg-config and add_subdirectory consumers build and run"
