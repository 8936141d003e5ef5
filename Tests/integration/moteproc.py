"""Running the mote tool in tests: background processes whose output is collected by
reader threads (so a test can wait for "SUBACK" in the -d trace without blocking), and
timeouts that grow under sanitizers."""
import os
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib"))
import mote_test  # noqa: E402

SANITIZED = os.environ.get("MOTE_SANITIZED") == "1"
SLOW = 4.0 if SANITIZED else 1.0


def t(seconds):
    """A timeout scaled for slow (sanitized) builds."""
    return seconds * SLOW


def mote(*args):
    return [mote_test.mote_bin()] + [str(a) for a in args]


def run(args, timeout=20, input=None):
    return subprocess.run(args, input=input, capture_output=True, timeout=t(timeout))


class Proc:
    """A background process with stdout/stderr collected as bytes."""

    def __init__(self, args, stdin=None):
        self.args = args
        self.p = subprocess.Popen(args, stdin=stdin, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE)
        self.out = bytearray()
        self.err = bytearray()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._pump, args=(self.p.stdout, self.out)),
                         threading.Thread(target=self._pump, args=(self.p.stderr, self.err))]
        for th in self._threads:
            th.daemon = True
            th.start()

    def _pump(self, stream, sink):
        while True:
            chunk = stream.read1(65536) if hasattr(stream, "read1") else stream.read(4096)
            if not chunk:
                break
            with self._lock:
                sink.extend(chunk)

    def stderr_text(self):
        with self._lock:
            return bytes(self.err).decode("utf-8", "replace")

    def stdout_bytes(self):
        with self._lock:
            return bytes(self.out)

    def wait_stderr(self, text, timeout=10):
        """Wait until text appears in stderr (e.g. 'received SUBACK' with -d)."""
        deadline = time.time() + t(timeout)
        while time.time() < deadline:
            if text in self.stderr_text():
                return True
            if self.p.poll() is not None:
                time.sleep(0.1)
                return text in self.stderr_text()
            time.sleep(0.02)
        return False

    def wait_stdout(self, text, timeout=10):
        """Wait until text (bytes) appears in stdout."""
        deadline = time.time() + t(timeout)
        while time.time() < deadline:
            if text in self.stdout_bytes():
                return True
            if self.p.poll() is not None:
                time.sleep(0.1)
                return text in self.stdout_bytes()
            time.sleep(0.02)
        return False

    def wait(self, timeout=20):
        try:
            rc = self.p.wait(t(timeout))
        except subprocess.TimeoutExpired:
            self.kill()
            raise
        for th in self._threads:
            th.join(5)
        return rc

    def kill(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.kill()
        if self.p.stdin:
            try:
                self.p.stdin.close()
            except OSError:
                pass


def start_sub(port, *args, ready_text="received SUBACK"):
    """Start `mote sub -d` and wait until its subscription is acknowledged."""
    p = Proc(mote("sub", "-h", "127.0.0.1", "-p", port, "-d", *args))
    if not p.wait_stderr(ready_text, 15):
        p.kill()
        raise AssertionError("mote sub did not subscribe: %s" % p.stderr_text())
    return p


class BrokerCase(unittest.TestCase):
    """One mosquitto for the whole class, and helpers to publish and subscribe (a base for
    test classes: it has no tests of its own)."""

    @classmethod
    def setUpClass(cls):
        cls.broker = mote_test.Broker().start()
        cls.port = cls.broker.port

    @classmethod
    def tearDownClass(cls):
        cls.broker.__exit__(None, None, None)

    def pub(self, *args, timeout=20, input=None):
        r = run(mote("pub", "-h", "127.0.0.1", "-p", self.port, *args), timeout=timeout,
                input=input)
        self.assertEqual(r.returncode, 0, "pub failed: %r" % r.stderr)
        return r

    def sub(self, *args):
        return start_sub(self.port, *args)

    def finish(self, p, timeout=20):
        rc = p.wait(timeout)
        self.assertEqual(rc, 0, "sub exit %d: %s" % (rc, p.stderr_text()))
        return p.stdout_bytes()
