"""Helpers for integration tests: a real mosquitto on free loopback ports, the mote binary,
and a scriptable fake broker. Standard library only."""
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def mote_bin():
    """Path of the mote tool under test (MOTE_BIN overrides build/host/bin/mote)."""
    return os.environ.get("MOTE_BIN", os.path.join(ROOT, "build", "host", "bin", "mote"))


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_port(port, timeout=10.0, host="127.0.0.1"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    return False


class Broker:
    """mosquitto with one or more listeners, started on free ports.

    listeners: list of dicts with keys: kind ('plain'|'tls'|'ws'), and for tls: cafile,
    certfile, keyfile, require_certificate (default True), extra (list of config lines).
    persistence: keep a persistence file in the broker's directory across restart().
    """

    def __init__(self, listeners=None, persistence=False, extra=None):
        self.listeners = listeners or [{"kind": "plain"}]
        self.persistence = persistence
        self.extra = extra or []
        self.dir = tempfile.mkdtemp(prefix="mote-broker-")
        os.chmod(self.dir, 0o777)
        self.ports = []
        self.proc = None
        self.log_path = os.path.join(self.dir, "mosquitto.log")

    def _config(self):
        lines = ["allow_anonymous true", "log_dest stderr", "log_type all",
                 "max_queued_messages 100000", "max_inflight_messages 0",
                 "message_size_limit 0"]
        if self.persistence:
            lines += ["persistence true", "persistence_location %s/" % self.dir,
                      "autosave_interval 1", "autosave_on_changes true"]
        for listener, port in zip(self.listeners, self.ports):
            lines.append("listener %d 127.0.0.1" % port)
            kind = listener.get("kind", "plain")
            if kind == "ws":
                lines.append("protocol websockets")
            if kind == "tls":
                for key in ("cafile", "certfile", "keyfile"):
                    lines.append("%s %s" % (key, listener[key]))
                req = listener.get("require_certificate", True)
                lines.append("require_certificate %s" % ("true" if req else "false"))
            lines += listener.get("extra", [])
        lines += self.extra
        return "\n".join(lines) + "\n"

    def start(self):
        if not self.ports:
            self.ports = [free_port() for _ in self.listeners]
        conf = os.path.join(self.dir, "mosquitto.conf")
        with open(conf, "w") as f:
            f.write(self._config())
        os.chmod(conf, 0o644)
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(["mosquitto", "-c", conf], stdout=log, stderr=log,
                                     cwd=self.dir)
        for port in self.ports:
            if not wait_port(port):
                self.stop()
                raise RuntimeError("mosquitto did not listen on %d: %s" % (port, self.log()))
        return self

    @property
    def port(self):
        return self.ports[0]

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")[-4000:]
        except OSError:
            return ""

    def kill(self):
        """SIGKILL: an abrupt crash (persistence keeps what was autosaved)."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def restart(self):
        self.stop()
        return self.start()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def run(args, timeout=30, input=None, env=None):
    """Run a command; returns CompletedProcess with text output."""
    return subprocess.run(args, input=input, capture_output=True, timeout=timeout, env=env)


def spawn(args, env=None):
    return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
