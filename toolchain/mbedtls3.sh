#!/usr/bin/env bash
# Fetches Debian trixie's mbedTLS 3.6 source package and builds it as static libraries into
# build/mbedtls3 (include/, lib/libmbedtls.a, libmbedx509.a, libmbedcrypto.a), so the TLS
# adapter's MBEDTLS_VERSION_NUMBER >= 3.x branches are compiled and tested on this bookworm
# machine, whose own libmbedtls-dev is 2.28. Usage: toolchain/mbedtls3.sh  (prints the prefix)
# Both steps are cached under build/: the download once (build/mbedtls3-src), the build until
# the source changes. The machine's apt sources are never touched: a temporary deb-src entry
# and private lists (toolchain/debian-source.sh, shared with toolchain/cross.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
# shellcheck source=toolchain/debian-source.sh
. "$root/toolchain/debian-source.sh"
src_dir="$root/build/mbedtls3-src"
prefix="$root/build/mbedtls3"
suite=trixie

fetch_source() {
  local found
  found=$(ls -d "$src_dir"/mbedtls-3*/library 2>/dev/null | head -1 || true)
  if [ -n "$found" ]; then dirname "$found"; return; fi
  command -v dpkg-source >/dev/null || { echo "mbedtls3.sh: dpkg-dev missing: run toolchain/deps.sh test" >&2; exit 1; }
  debian_source "$suite" "$src_dir" mbedtls --download-only || {
    echo "mbedtls3.sh: apt-get source mbedtls ($suite) failed (mirror reachable?)" >&2
    exit 1
  }
  # Only the upstream tarball: Debian's patches change packaging, not the library's API.
  local orig
  orig=$(ls "$src_dir"/mbedtls_3*.orig.tar.* | head -1)
  tar -xf "$orig" -C "$src_dir"
  found=$(ls -d "$src_dir"/mbedtls-3*/library | head -1)
  dirname "$found"
}

# Static libraries with mbedTLS's default 3.6 config, unchanged: it already has what the adapter
# uses and what firmware builds typically keep (TLS 1.2 and 1.3, PSA crypto (which TLS 1.3
# needs, so the adapter calls psa_crypto_init), SNI, ALPN, PEM/PKCS#8 keys, session tickets).
# Testing the stock config is the point: it is what Yocto/ESP-IDF start from.
build_lib() {
  local src=$1 stamp="$prefix/.built-from"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$src" ] && [ -f "$prefix/lib/libmbedcrypto.a" ]; then
    return
  fi
  local bdir="$root/build/mbedtls3-build"
  rm -rf "$bdir" "$prefix"
  # GEN_FILES off: the release tarball ships the generated sources (no python deps needed).
  cmake -S "$src" -B "$bdir" -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX="$prefix" \
    -DENABLE_TESTING=OFF -DENABLE_PROGRAMS=OFF -DGEN_FILES=OFF \
    -DUSE_STATIC_MBEDTLS_LIBRARY=ON -DUSE_SHARED_MBEDTLS_LIBRARY=OFF \
    -DCMAKE_POSITION_INDEPENDENT_CODE=ON >/dev/null
  cmake --build "$bdir" -j "${MOTE_JOBS:-2}" >/dev/null
  cmake --install "$bdir" >/dev/null
  echo "$src" > "$stamp"
  rm -rf "$bdir"
}

src=$(fetch_source)
build_lib "$src"
grep -m1 'define MBEDTLS_VERSION_STRING ' "$prefix/include/mbedtls/build_info.h" >&2
echo "$prefix"
