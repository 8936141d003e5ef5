#!/usr/bin/env bash
# Static, stripped `mote` for ARM Linux boards (run by `make cross`):
#   build/armhf/bin/mote, build/aarch64/bin/mote           Debian's static mbedTLS archives
#   build/armhf-minimal/bin/mote, build/aarch64-minimal/... `make cross MBEDTLS=minimal`:
#       mbedTLS built from Debian's source package with toolchain/mbedtls-minimal-config.h
#       (into build/mbedtls-minimal-<arch>)
# Usage: toolchain/cross.sh [minimal]
# Environment: MOTE_CROSS_ARCHS (default "armhf aarch64"); MOTE_CROSS_LIBC=musl|glibc.
#
# How the size is kept down (measured on armhf, see `make size`):
# - everything is compiled -Os with one section per function and linked with --gc-sections;
# - the C library is musl (Debian's musl-dev:<arch>), not glibc: a static glibc binary is
#   about 360 KB before main() does anything (450 KB once getaddrinfo is used), musl about
#   20-60 KB. The code is still compiled against the cross compiler's glibc headers, because
#   that is the ABI Debian's libmbedtls.a was built for; on armhf the 32-bit-time_t calls
#   (time, stat64, gettimeofday, select, ...) resolve to musl's time32 compatibility
#   symbols, which take exactly that ABI, and _FILE_OFFSET_BITS=64 makes stat/readdir use
#   the layouts both libraries share. toolchain/glibc-compat.c supplies the _FORTIFY_SOURCE
#   entry points (__memcpy_chk, ...) that Debian's archives call. -Os also keeps glibc's
#   extern-inline stdio bodies (which reach into glibc's FILE) out of our objects: with
#   __OPTIMIZE_SIZE__ the headers only emit real calls. MOTE_CROSS_LIBC=glibc links glibc
#   instead (about 920 KB on armhf). Tests/cross/test_cross.py runs the result under qemu.
# - Debian's mbedTLS archives have no per-function sections, so --gc-sections can only drop
#   whole objects; the ciphersuite and cipher tables still pull in every algorithm. The
#   minimal variant compiles only what AWS IoT needs, with per-function sections.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
variant=${1:-}
case "$variant" in
  ""|debian) variant=debian ;;
  minimal) ;;
  *) echo "cross.sh: unknown mbedTLS variant '$variant' (use: minimal, or nothing)" >&2; exit 2 ;;
esac
archs=${MOTE_CROSS_ARCHS:-armhf aarch64}
libc=${MOTE_CROSS_LIBC:-musl}
JOBS=${MOTE_JOBS:-2}

arch_info() { # arch -> triple musl_triple
  case "$1" in
    armhf) echo "arm-linux-gnueabihf arm-linux-musleabihf" ;;
    aarch64) echo "aarch64-linux-gnu aarch64-linux-musl" ;;
    *) echo "cross.sh: unknown architecture '$1'" >&2; exit 2 ;;
  esac
}

# Debian's mbedtls source package, fetched once into build/mbedtls-src (debian_source: a
# temporary deb-src entry and private apt lists; the machine's own sources are left untouched).
# shellcheck source=toolchain/debian-source.sh
. "$root/toolchain/debian-source.sh"
fetch_mbedtls_source() {
  local dest="$root/build/mbedtls-src"
  local found
  found=$(ls -d "$dest"/mbedtls-*/library 2>/dev/null | head -1 || true)
  if [ -n "$found" ]; then dirname "$found"; return; fi
  debian_source "" "$dest" mbedtls || {
    echo "cross.sh: apt-get source mbedtls failed (is dpkg-dev installed? is the mirror reachable?)" >&2
    exit 1
  }
  found=$(ls -d "$dest"/mbedtls-*/library | head -1)
  dirname "$found"
}

# Compile the trimmed mbedTLS for one architecture into build/mbedtls-minimal-<arch>
# (include/ with our config.h, lib/libmbedtls.a holding tls, x509 and crypto).
build_minimal_mbedtls() {
  local arch=$1 triple=$2 src=$3
  local out="$root/build/mbedtls-minimal-$arch"
  local stamp="$out/.stamp"
  local cfg="$root/toolchain/mbedtls-minimal-config.h"
  if [ -f "$stamp" ] && [ "$stamp" -nt "$cfg" ] && [ -f "$out/lib/libmbedtls.a" ]; then
    echo "$out"; return
  fi
  rm -rf "$out"
  mkdir -p "$out/include" "$out/lib" "$out/obj"
  cp -r "$src/include/mbedtls" "$src/include/psa" "$out/include/"
  cp "$cfg" "$out/include/mbedtls/config.h"
  local cflags=(-Os -ffunction-sections -fdata-sections -D_FILE_OFFSET_BITS=64 -I"$out/include" -w)
  local pids=() n=0 f
  for f in "$src"/library/*.c; do
    "$triple-gcc" "${cflags[@]}" -c "$f" -o "$out/obj/$(basename "$f" .c).o" &
    pids+=($!)
    n=$((n + 1))
    if [ $((n % JOBS)) -eq 0 ]; then wait "${pids[@]}"; pids=(); fi
  done
  [ ${#pids[@]} -gt 0 ] && wait "${pids[@]}"
  "$triple-ar" rcs "$out/lib/libmbedtls.a" "$out"/obj/*.o
  touch "$stamp"
  echo "$out"
}

# Configure and link build dir $bdir against libc $1 (musl|glibc); uses the loop's variables.
configure_and_build() {
  local with=$1
  # The map lets `make size` say where the bytes go (libc, mbedTLS, core, tool).
  mkdir -p "$bdir/bin"
  local ldflags="-Wl,--gc-sections -s -Wl,-Map=$root/$bdir/bin/mote.map"
  if [ "$with" = musl ]; then
    ldflags="$ldflags -specs=/usr/lib/$musl_triple/musl-gcc.specs $root/$bdir/glibc-compat.o"
  fi
  cmake -S . -B "$bdir" \
    -DCMAKE_TOOLCHAIN_FILE="$root/toolchain/$arch.cmake" \
    -DCMAKE_BUILD_TYPE=MinSizeRel \
    -DCMAKE_C_FLAGS="-ffunction-sections -fdata-sections -D_FILE_OFFSET_BITS=64" \
    -DCMAKE_EXE_LINKER_FLAGS="$ldflags" \
    -DMOTE_STATIC=ON -DMOTE_BUILD_TESTS=OFF \
    -DMBEDTLS_INCLUDE_DIR="$mbed_inc" -DMBEDTLS_LIB="$mbed_tls" \
    -DMBEDX509_LIB="$mbed_x509" -DMBEDCRYPTO_LIB="$mbed_crypto" >/dev/null || return 1
  # Always relink: the libc/mbedTLS choice may have changed without any source changing.
  rm -f "$bdir/bin/mote"
  cmake --build "$bdir" --target mote-cli -j "$JOBS"
}

built=()
for arch in $archs; do
  read -r triple musl_triple < <(arch_info "$arch")
  if ! command -v "$triple-gcc" >/dev/null; then
    echo "cross.sh: $triple-gcc not found: run toolchain/deps.sh cross" >&2
    exit 1
  fi
  if [ "$variant" = minimal ]; then
    bdir="build/$arch-minimal"
    src=$(fetch_mbedtls_source)
    mbed=$(build_minimal_mbedtls "$arch" "$triple" "$src")
    mbed_inc="$mbed/include"
    mbed_tls="$mbed/lib/libmbedtls.a"; mbed_x509="$mbed_tls"; mbed_crypto="$mbed_tls"
  else
    bdir="build/$arch"
    mbed_inc=/usr/include
    mbed_tls=/usr/lib/$triple/libmbedtls.a
    mbed_x509=/usr/lib/$triple/libmbedx509.a
    mbed_crypto=/usr/lib/$triple/libmbedcrypto.a
    if [ ! -f "$mbed_tls" ]; then
      echo "cross.sh: $mbed_tls missing: run toolchain/deps.sh cross (libmbedtls-dev:$arch)" >&2
      exit 1
    fi
  fi
  mkdir -p "$bdir"
  use_libc=$libc
  if [ "$use_libc" = musl ] && [ ! -f "/usr/lib/$musl_triple/musl-gcc.specs" ]; then
    echo "cross.sh: warning: musl-dev:$arch is not installed; linking glibc (a much larger binary)" >&2
    use_libc=glibc
  fi
  if [ "$use_libc" = musl ]; then
    # Without _FILE_OFFSET_BITS=64 here: fcntl64 must call the plain fcntl, not itself.
    "$triple-gcc" -Os -ffunction-sections -fdata-sections -Wall -Wextra \
      -c toolchain/glibc-compat.c -o "$bdir/glibc-compat.o"
  fi
  if ! configure_and_build "$use_libc"; then
    [ "$use_libc" = musl ] || exit 1
    # A glibc-only call somewhere in the tool: still produce a working static binary, and
    # say loudly that it is the big one (`make size` shows the size against its target).
    echo "cross.sh: WARNING: linking $arch against musl failed (see above); falling back to glibc" >&2
    use_libc=glibc
    configure_and_build glibc
  fi
  "$triple-strip" "$bdir/bin/mote"
  desc=$(file -b "$bdir/bin/mote")
  case "$desc" in
    *"statically linked"*) ;;
    *) echo "cross.sh: $bdir/bin/mote is not statically linked: $desc" >&2; exit 1 ;;
  esac
  size=$(stat -c %s "$bdir/bin/mote")
  built+=("$bdir/bin/mote: $size bytes ($((size / 1024)) KB), $use_libc, mbedTLS $variant")
done
printf '%s\n' "${built[@]}"
