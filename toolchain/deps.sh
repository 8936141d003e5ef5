#!/usr/bin/env bash
# Installs the Debian packages a Mote build target needs, only when missing.
# Usage: toolchain/deps.sh [host|test|bench|cortex-m|cross|all]...
# Idempotent. Each group installs on its own, so a failing foreign-architecture group
# (cross) cannot stop the host packages. (gcc-multilib conflicts with the ARM cross compilers;
# libc6-dev-i386 + lib32gcc-12-dev give gcc -m32 without it.) A failing `apt-get update` is a warning: after
# adding architectures one list may fail while everything needed still installs; an install
# that fails is retried once after a fresh update (mirrors mid-sync serve mismatched lists).
set -u
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(host)

host_pkgs=(build-essential cmake pkg-config libmbedtls-dev openssl ca-certificates)
test_pkgs=(mosquitto mosquitto-clients libcmocka-dev procps psmisc libc6-dev-i386 lib32gcc-12-dev file
           gcc-arm-none-eabi libnewlib-arm-none-eabi binutils-arm-none-eabi dpkg-dev bzip2)
bench_pkgs=(libmosquitto-dev libcjson-dev libsimdjson-dev valgrind strace time)
cortexm_pkgs=(gcc-arm-none-eabi libnewlib-arm-none-eabi binutils-arm-none-eabi)
cross_pkgs=(gcc-arm-linux-gnueabihf gcc-aarch64-linux-gnu libc6-dev-armhf-cross libc6-dev-arm64-cross
            libmbedtls-dev:armhf libmbedtls-dev:arm64 musl-dev:armhf musl-dev:arm64 libcmocka-dev:armhf
            qemu-user-static file dpkg-dev)

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
updated=0

apt_update() {
  $SUDO apt-get update -qq >/dev/null 2>&1 || echo "deps.sh: warning: apt-get update reported errors; continuing" >&2
  updated=1
}

# install_group NAME PKG... : installs the missing ones; returns non-zero if they stay missing.
install_group() {
  local name=$1; shift
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
  echo "deps.sh: installing ($name) ${missing[*]}" >&2
  [ $updated -eq 1 ] || apt_update
  if ! $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1; then
    apt_update
    $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || {
      echo "deps.sh: could not install ($name): ${missing[*]}" >&2
      return 1
    }
  fi
}

add_foreign_archs() {
  local a added=0
  for a in armhf arm64; do
    if ! dpkg --print-foreign-architectures | grep -qx "$a"; then
      $SUDO dpkg --add-architecture "$a"; added=1
    fi
  done
  [ $added -eq 1 ] && updated=0
  return 0
}

status=0
for t in "${targets[@]}"; do
  case "$t" in
    host) install_group host "${host_pkgs[@]}" || status=1 ;;
    test) install_group host "${host_pkgs[@]}" || status=1
          install_group test "${test_pkgs[@]}" || status=1 ;;
    bench) install_group host "${host_pkgs[@]}" || status=1
           install_group test "${test_pkgs[@]}" || status=1
           install_group bench "${bench_pkgs[@]}" || status=1 ;;
    cortex-m) install_group cortex-m "${cortexm_pkgs[@]}" || status=1 ;;
    cross) add_foreign_archs; install_group cross "${cross_pkgs[@]}" || status=1
           install_group cortex-m "${cortexm_pkgs[@]}" || status=1 ;;
    all) "$0" host test bench cortex-m cross; exit $? ;;
    *) echo "deps.sh: unknown target '$t' (host, test, bench, cortex-m, cross, all)" >&2; exit 2 ;;
  esac
done
exit $status
