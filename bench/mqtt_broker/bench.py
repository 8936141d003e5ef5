"""Throughput through mosquitto on loopback: the Mote core vs libmosquitto, same workloads.

For each client and workload: messages per second (best of a few runs), client instructions
per message (callgrind; the difference between a short and a long run, so connection
set-up is not counted), syscalls per message (strace -c -f, same difference), and peak RSS
(/usr/bin/time -v). Also the mote tool itself (pub --repeat, sub -C)."""
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = sys.argv[1]
MOTE_CLIS = [a for a in sys.argv[2:] if a and os.path.exists(a)]
CLIENTS = {
    "mote": os.path.join(OUT, "mote_bench"),
    "libmosquitto": os.path.join(OUT, "peer_mosquitto"),
}
QUICK = os.environ.get("MOTE_BENCH_QUICK") == "1"
N_RATE = {"pub0": 300000, "pub1": 100000, "sub0": 200000}
if QUICK:
    N_RATE = {k: v // 10 for k, v in N_RATE.items()}
N_SMALL, N_LARGE = 5000, 25000
RUNS = 1 if QUICK else 3

# Figures from the issue, printed beside ours.
ISSUE = {
    ("pub0", 20): "issue: libmosquitto 2,655 instr, 2 syscalls, 5.9 MB; coreMQTT 340 instr, "
                  "1 syscall, 1.6 MB. Target <= 300 instr/msg",
    ("pub1", 20): "issue: libmosquitto 5,502 instr; coreMQTT 1,577. Target <= 1,200 instr/msg",
    ("pub1", 100): "issue: coreMQTT 4,408 instr with 100 in flight. Target: no worse than with 20",
    ("sub0", 20): "issue: libmosquitto 3,143 instr, 4 syscalls per message. Target <= 500 instr",
}


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


class Broker:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="mote-bench-broker-")
        os.chmod(self.dir, 0o777)
        self.port = free_port()
        conf = os.path.join(self.dir, "mosquitto.conf")
        with open(conf, "w") as f:
            f.write("listener %d 127.0.0.1\nallow_anonymous true\nlog_dest none\n"
                    "max_queued_messages 0\nmax_inflight_messages 0\n" % self.port)
        os.chmod(conf, 0o644)
        mosq = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        self.proc = subprocess.Popen([mosq, "-c", conf], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.5).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("mosquitto did not start")

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


def client_args(client, port, mode, n, window):
    return [CLIENTS[client], "127.0.0.1", str(port), mode, str(n), str(window)]


def run_workload(argv, mode, port, wrap=None, timeout=600):
    """Run one workload; for sub0 also run the feeder. Returns (stdout, stderr) of argv."""
    full = (wrap or []) + argv
    if mode != "sub0":
        r = subprocess.run(full, capture_output=True, text=True, timeout=timeout)
        if r.returncode != 0:
            raise RuntimeError("%s failed: %s" % (" ".join(full), r.stderr[-2000:]))
        return r.stdout, r.stderr
    p = subprocess.Popen(full, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = p.stdout.readline()
    if "ready" not in line:
        p.kill()
        raise RuntimeError("subscriber did not start: %s" % p.stderr.read()[-2000:])
    n = argv[4]
    # The feeder is the same program for every subscriber: the Mote publisher.
    subprocess.run(client_args("mote", port, "pub0", n, 20), capture_output=True, timeout=timeout)
    out, err = p.communicate(timeout=timeout)
    if p.returncode != 0:
        raise RuntimeError("subscriber failed: %s" % err[-2000:])
    return line + out, err


def rate(client, port, mode, window):
    best = 0.0
    for _ in range(RUNS):
        out, _ = run_workload(client_args(client, port, mode, N_RATE[mode], window), mode, port)
        m = re.search(r"msgs_per_s=(\d+)", out)
        if m:
            best = max(best, float(m.group(1)))
        if mode == "sub0":
            got = re.search(r"received=(\d+)", out)
            if got and int(got.group(1)) < N_RATE[mode]:
                print("   note: %s sub0 received %s of %d" % (client, got.group(1), N_RATE[mode]))
    return best


def callgrind_ir(argv, mode, port):
    tmp = tempfile.mkdtemp()
    try:
        wrap = ["valgrind", "--tool=callgrind", "--callgrind-out-file=%s/cg.out" % tmp]
        _, err = run_workload(argv, mode, port, wrap=wrap)
        m = re.search(r"Collected : (\d+)", err)
        if not m:
            raise RuntimeError("no callgrind total: " + err[-500:])
        return int(m.group(1))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def strace_calls(argv, mode, port):
    tmp = tempfile.mkdtemp()
    try:
        path = os.path.join(tmp, "st.txt")
        run_workload(argv, mode, port, wrap=["strace", "-f", "-c", "-o", path])
        with open(path) as f:
            for line in f:
                fields = line.split()
                if fields and fields[-1] == "total":
                    return int(fields[3])
        raise RuntimeError("no strace total")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def per_message(fn, client, port, mode, window):
    small = fn(client_args(client, port, mode, N_SMALL, window), mode, port)
    large = fn(client_args(client, port, mode, N_LARGE, window), mode, port)
    return (large - small) / float(N_LARGE - N_SMALL)


def peak_rss_kb(argv, mode, port):
    _, err = run_workload(argv, mode, port, wrap=["/usr/bin/time", "-v"])
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", err)
    return int(m.group(1)) if m else 0


def fmt(v, unit=""):
    if v is None:
        return "n/a"
    if isinstance(v, float):
        return ("{:,.0f}" if v >= 100 else "{:,.1f}" if v >= 1 else "{:.2f}").format(v) + unit
    return "{:,}".format(v) + unit


def measure(client, port, mode, window):
    res = {}
    try:
        res["rate"] = rate(client, port, mode, window)
    except Exception as e:  # noqa: BLE001 - reported in the table
        print("   %s %s: rate failed: %s" % (client, mode, e))
    if shutil.which("valgrind"):
        try:
            res["instr"] = per_message(callgrind_ir, client, port, mode, window)
        except Exception as e:  # noqa: BLE001
            print("   %s %s: callgrind failed: %s" % (client, mode, e))
    if shutil.which("strace"):
        try:
            res["sys"] = per_message(strace_calls, client, port, mode, window)
        except Exception as e:  # noqa: BLE001
            print("   %s %s: strace failed: %s" % (client, mode, e))
    if os.path.exists("/usr/bin/time"):
        try:
            res["rss"] = peak_rss_kb(client_args(client, port, mode, N_RATE[mode], window), mode,
                                     port)
        except Exception as e:  # noqa: BLE001
            print("   %s %s: rss failed: %s" % (client, mode, e))
    return res


def cli_figures(port, cli):
    """The mote tool itself: pub --repeat (QoS 0 and 1) and sub -C, rate and peak RSS."""
    n = N_RATE["pub0"] // 3
    kind = "static" if b"statically linked" in subprocess.run(
        ["file", cli], capture_output=True).stdout else "dynamic glibc"
    print("\nThe mote tool itself (%s, %s), %d messages of 64 B:" % (cli, kind, n))
    base = [cli, "pub", "-h", "127.0.0.1", "-p", str(port), "-t", "bench/cli", "-m", "p" * 64,
            "--repeat", str(n)]
    for qos in (0, 1):
        args = base + ["-q", str(qos)]
        t0 = time.time()
        r = subprocess.run(["/usr/bin/time", "-v"] + args, capture_output=True, text=True, timeout=600)
        secs = time.time() - t0
        m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", r.stderr)
        print("  mote pub -q %d --repeat %d: %s msgs/s (incl. process start), peak RSS %s KB%s" % (
            qos, n, fmt(n / secs), m.group(1) if m else "?",
            "" if r.returncode == 0 else "  (exit %d)" % r.returncode))
    sub = subprocess.Popen(["/usr/bin/time", "-v", cli, "sub", "-h", "127.0.0.1", "-p",
                            str(port), "-t", "bench/cli-sub", "-C", str(n), "-W", "120", "-d"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    time.sleep(0.5)
    t0 = time.time()
    subprocess.run([cli, "pub", "-h", "127.0.0.1", "-p", str(port), "-t", "bench/cli-sub",
                    "-m", "p" * 64, "--repeat", str(n)], capture_output=True, timeout=600)
    _, err = sub.communicate(timeout=600)
    secs = time.time() - t0
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", err)
    print("  mote sub -C %d (output to /dev/null): %s msgs/s, peak RSS %s KB%s" % (
        n, fmt(n / secs), m.group(1) if m else "?",
        "" if sub.returncode == 0 else "  (exit %d)" % sub.returncode))


def main():
    broker = Broker()
    try:
        print("MQTT through mosquitto on 127.0.0.1:%d, 64 B payload on %s" % (
            broker.port, "dt/sensors/device-0001/telemetry"))
        print("rate: best of %d runs (%s msgs); instr and syscalls per message: difference "
              "between %d and %d messages" % (RUNS, "/".join(str(v) for v in N_RATE.values()),
                                              N_SMALL, N_LARGE))
        print()
        header = "%-28s %-13s %12s %12s %13s %11s" % ("workload", "client", "msgs/s",
                                                     "instr/msg", "syscalls/msg", "peak RSS")
        print(header)
        print("-" * len(header))
        for mode, window, title in (("pub0", 20, "QoS 0 publish"),
                                    ("pub1", 20, "QoS 1 publish, 20 in flight"),
                                    ("pub1", 100, "QoS 1 publish, 100 in flight"),
                                    ("sub0", 20, "QoS 0 subscribe")):
            for i, client in enumerate(("mote", "libmosquitto")):
                r = measure(client, broker.port, mode, window)
                print("%-28s %-13s %12s %12s %13s %11s" % (
                    title if i == 0 else "", client, fmt(r.get("rate")), fmt(r.get("instr")),
                    fmt(r.get("sys")),
                    fmt(r["rss"] / 1024.0, " MB") if r.get("rss") else "n/a"))
                sys.stdout.flush()
            print("%-28s %s" % ("", ISSUE[(mode, window)]))
        for cli in MOTE_CLIS:
            cli_figures(broker.port, cli)
        print("  target: peak RSS <= 1.6 MB (the issue's coreMQTT figure: 1.6 MB)")
    finally:
        broker.stop()


if __name__ == "__main__":
    main()
