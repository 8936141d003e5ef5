#!/usr/bin/env bash
# TLS benchmark: handshake (full/resumed) time and client CPU, QoS 1 throughput over TLS and
# peak RSS of `mote sub` over TLS, each beside OpenSSL-based peers measured in the same run.
# Uses $BUILD (default build/host): bin/mote and tests/tls_probe.
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH=/usr/sbin:/usr/local/sbin:$PATH
exec python3 bench/tls/bench_tls.py
