#!/usr/bin/env bash
# Installs the Debian packages a Mote build target needs, only when missing.
# Usage: toolchain/deps.sh [host|test|bench|cross|cortex-m|all]...
# Idempotent; a failing `apt-get update` is reported and tolerated (after adding
# foreign architectures one list may fail while everything needed still installs).
set -u
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(host)

host_pkgs=(build-essential cmake pkg-config libmbedtls-dev openssl ca-certificates)
test_pkgs=(mosquitto mosquitto-clients libcmocka-dev python3 procps psmisc gcc-multilib)
bench_pkgs=(libmosquitto-dev libcjson-dev libsimdjson-dev valgrind strace gcc-arm-none-eabi libnewlib-arm-none-eabi binutils-arm-none-eabi time)
cortexm_pkgs=(gcc-arm-none-eabi libnewlib-arm-none-eabi binutils-arm-none-eabi)
cross_pkgs=(gcc-arm-linux-gnueabihf gcc-aarch64-linux-gnu libc6-dev-armhf-cross libc6-dev-arm64-cross
            libmbedtls-dev:armhf libmbedtls-dev:arm64 qemu-user-static file dpkg-dev)

want=()
need_foreign=0
for t in "${targets[@]}"; do
  case "$t" in
    host) want+=("${host_pkgs[@]}") ;;
    test) want+=("${host_pkgs[@]}" "${test_pkgs[@]}") ;;
    bench) want+=("${host_pkgs[@]}" "${test_pkgs[@]}" "${bench_pkgs[@]}") ;;
    cortex-m) want+=("${cortexm_pkgs[@]}") ;;
    cross) want+=("${cross_pkgs[@]}" "${cortexm_pkgs[@]}"); need_foreign=1 ;;
    all) want+=("${host_pkgs[@]}" "${test_pkgs[@]}" "${bench_pkgs[@]}" "${cross_pkgs[@]}"); need_foreign=1 ;;
    *) echo "deps.sh: unknown target '$t' (host, test, bench, cross, cortex-m, all)" >&2; exit 2 ;;
  esac
done

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"

if [ $need_foreign -eq 1 ]; then
  for a in armhf arm64; do
    if ! dpkg --print-foreign-architectures | grep -qx "$a"; then
      $SUDO dpkg --add-architecture "$a"
    fi
  done
fi

missing=()
for p in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
# de-duplicate
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
echo "deps.sh: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq || echo "deps.sh: warning: apt-get update failed; trying the install anyway" >&2
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || {
  echo "deps.sh: apt-get install failed for: ${missing[*]}" >&2
  exit 1
}
