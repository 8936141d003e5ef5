"""TLS benchmark: full and resumed handshake time and client CPU (mote's mbedTLS transport
beside Python's ssl = OpenSSL), QoS 1 publish throughput over mutual TLS (mote pub beside
mosquitto_pub = libmosquitto + OpenSSL), and peak RSS of `mote sub` over TLS (beside
mosquitto_sub). Everything runs against one local mosquitto in the same run."""
import os
import re
import shutil
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "Tests", "lib"))
from mote_test import Broker  # noqa: E402

BUILD = os.environ.get("BUILD", os.path.join(ROOT, "build", "host"))
if not os.path.isabs(BUILD):
    BUILD = os.path.join(ROOT, BUILD)
MOTE = os.environ.get("MOTE_BIN", os.path.join(BUILD, "bin", "mote"))
PROBE = os.environ.get("MOTE_TLS_PROBE", os.path.join(BUILD, "tests", "tls_probe"))
HANDSHAKES = int(os.environ.get("TLS_BENCH_HANDSHAKES", "50"))
MESSAGES = int(os.environ.get("TLS_BENCH_MESSAGES", "20000"))


def median(xs):
    return statistics.median(xs) if xs else float("nan")


def probe_handshakes(port, pki, resume):
    args = [PROBE, "--host", "localhost", "--port", str(port), "--cafile", pki + "/ca.crt",
            "--cert", pki + "/client.crt", "--key", pki + "/client.key", "--time",
            "--connects", str(HANDSHAKES + (1 if resume else 0))]
    if not resume:
        args.append("--no-resume")
    r = subprocess.run(args, capture_output=True, text=True, timeout=300)
    if r.returncode != 0:
        raise RuntimeError("tls_probe failed: " + r.stdout + r.stderr)
    rows = re.findall(r"resumed=(\d) wall_ms=([\d.]+) cpu_ms=([\d.]+)", r.stdout)
    if resume:
        rows = [x for x in rows[1:] if x[0] == "1"]
    return [float(w) for _, w, _ in rows], [float(c) for _, _, c in rows], len(rows)


def openssl_handshakes(port, pki, resume):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2  # the same protocol mote speaks here
    ctx.load_verify_locations(pki + "/ca.crt")
    ctx.load_cert_chain(pki + "/client.crt", pki + "/client.key")
    walls, cpus, session, resumed = [], [], None, 0
    for i in range(HANDSHAKES + (1 if resume else 0)):
        w0, c0 = time.perf_counter(), time.process_time()
        raw = socket.create_connection(("localhost", port))
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s = ctx.wrap_socket(raw, server_hostname="localhost", session=session)
        w1, c1 = time.perf_counter(), time.process_time()
        if resume:
            session = s.session
            if i > 0 and s.session_reused:
                resumed += 1
                walls.append((w1 - w0) * 1e3)
                cpus.append((c1 - c0) * 1e3)
        else:
            walls.append((w1 - w0) * 1e3)
            cpus.append((c1 - c0) * 1e3)
        s.close()
    return walls, cpus, (resumed if resume else len(walls))


def time_pub(cmd, lines):
    t0 = time.perf_counter()
    r = subprocess.run(cmd, input=lines, capture_output=True, timeout=600)
    dt = time.perf_counter() - t0
    if r.returncode != 0:
        raise RuntimeError("%s failed: %s" % (cmd[0], r.stderr.decode()[-500:]))
    return dt


def peak_rss_kb(cmd, port, tls_pub_args):
    """Run a subscriber under /usr/bin/time, publish one message to it, read its peak RSS."""
    p = subprocess.Popen(["/usr/bin/time", "-f", "MAXRSS %M"] + cmd, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    time.sleep(1.0)
    for _ in range(20):
        subprocess.run(["mosquitto_pub", "-p", str(port)] + tls_pub_args +
                       ["-t", "bench/rss", "-m", "x" * 100, "-q", "1"], capture_output=True,
                       timeout=30)
        try:
            out, err = p.communicate(timeout=0.5)
            break
        except subprocess.TimeoutExpired:
            continue
    else:
        p.kill()
        out, err = p.communicate()
    m = re.search(rb"MAXRSS (\d+)", err)
    return int(m.group(1)) if m else -1


def main():
    for path, what in ((MOTE, "mote"), (PROBE, "tls_probe")):
        if not os.path.exists(path):
            print("bench/tls: %s not built (%s); skipped" % (what, path))
            return 0
    pki = tempfile.mkdtemp(prefix="mote-bench-pki-")
    os.chmod(pki, 0o755)
    subprocess.run(["bash", os.path.join(ROOT, "toolchain", "pki.sh"), pki], check=True)
    broker = Broker([{"kind": "tls", "cafile": pki + "/ca.crt", "certfile": pki + "/server.crt",
                      "keyfile": pki + "/server.key", "require_certificate": True}])
    broker.start()
    port = broker.port
    tls = ["--cafile", pki + "/ca.crt", "--cert", pki + "/client.crt", "--key", pki + "/client.key"]
    try:
        print("TLS benchmark (mutual TLS 1.2 to mosquitto on loopback, EC P-256 certificates)")
        print("  handshakes: %d each; medians; client CPU is user+system of the client process" % HANDSHAKES)
        print("  %-34s %12s %14s" % ("", "wall ms", "client CPU ms"))
        for label, fn in (("mote (mbedTLS %s)" % mbedtls_version(), probe_handshakes),
                          ("Python ssl (OpenSSL %s)" % ssl.OPENSSL_VERSION.split()[1], openssl_handshakes)):
            for resume in (False, True):
                walls, cpus, n = fn(port, pki, resume)
                kind = "resumed" if resume else "full"
                print("  %-34s %12.2f %14.2f   (%d %s)" % (label + " " + kind, median(walls),
                                                          median(cpus), n, kind))
        lines = b"".join(b"message %06d padded to sixty-four bytes ......................\n" % i
                         for i in range(MESSAGES))
        base = ["-h", "localhost", "-p", str(port), "-t", "bench/tls", "-q", "1", "-l"]
        t_mote = time_pub([MOTE, "pub"] + base + tls, lines)
        t_mosq = time_pub(["mosquitto_pub"] + base + tls, lines)
        print("  QoS 1 publish over TLS, %d x 64-byte messages (-l from stdin):" % MESSAGES)
        print("    %-32s %10.0f msgs/s  (%.2f s)" % ("mote pub", MESSAGES / t_mote, t_mote))
        print("    %-32s %10.0f msgs/s  (%.2f s)" % ("mosquitto_pub (libmosquitto)", MESSAGES / t_mosq, t_mosq))
        sub = ["-h", "localhost", "-p", str(port), "-t", "bench/rss", "-C", "1", "-q", "1"] + tls
        rss_mote = peak_rss_kb([MOTE, "sub"] + sub, port, ["-h", "localhost"] + tls)
        rss_mosq = peak_rss_kb(["mosquitto_sub"] + sub, port, ["-h", "localhost"] + tls)
        static = static_mote()
        print("  peak RSS, subscriber connected over TLS, one message received (target < 2048 KB):")
        if static:
            rss_static = peak_rss_kb([static, "sub"] + sub, port, ["-h", "localhost"] + tls)
            print("    %-32s %10d KB" % ("mote sub (static, as on boards)", rss_static))
        print("    %-32s %10d KB  (shared glibc/mbedTLS pages count too)" % ("mote sub (dynamic)", rss_mote))
        print("    %-32s %10d KB" % ("mosquitto_sub (dynamic)", rss_mosq))
    finally:
        broker.__exit__(None, None, None)
        shutil.rmtree(pki, ignore_errors=True)
    return 0


def static_mote():
    """The statically linked tool (what ships to boards), built once into build/tls-static."""
    out = os.path.join(ROOT, "build", "tls-static")
    binary = os.path.join(out, "bin", "mote")
    # find_library prefers the shared mbedTLS; a static link needs the archives named.
    archives = []
    for var, lib in (("MBEDTLS_LIB", "libmbedtls.a"), ("MBEDX509_LIB", "libmbedx509.a"),
                     ("MBEDCRYPTO_LIB", "libmbedcrypto.a")):
        path = subprocess.run(["cc", "-print-file-name=" + lib], capture_output=True,
                              text=True).stdout.strip()
        if os.path.isabs(path):
            archives.append("-D%s=%s" % (var, path))
    r = subprocess.run(["cmake", "-S", ROOT, "-B", out, "-DCMAKE_BUILD_TYPE=MinSizeRel",
                        "-DMOTE_STATIC=ON", "-DMOTE_BUILD_TESTS=OFF"] + archives,
                       capture_output=True)
    if r.returncode == 0:
        r = subprocess.run(["cmake", "--build", out, "--target", "mote-cli", "-j", "2"],
                           capture_output=True)
    if r.returncode != 0 or not os.path.exists(binary):
        print("  (static build failed; static RSS not measured)")
        return None
    return binary


def mbedtls_version():
    try:
        with open("/usr/include/mbedtls/version.h") as f:
            m = re.search(r'MBEDTLS_VERSION_STRING\s+"([^"]+)"', f.read())
            return m.group(1) if m else "?"
    except OSError:
        return "?"


if __name__ == "__main__":
    sys.exit(main())
