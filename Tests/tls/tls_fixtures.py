"""Shared by the TLS tests: a fresh PKI from toolchain/pki.sh, mosquitto TLS listeners over
it, and a small Python TLS server that records what the client really sent (SNI, ALPN,
resumption) as OpenSSL saw it; a TCP relay that makes a slow link."""
import os
import hashlib
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "lib"))

from mote_test import ROOT, Broker  # noqa: E402

PASSWORD = "mote-test-password"
SANITIZED = os.environ.get("MOTE_SANITIZED") == "1"
# Sanitized builds run several times slower: give every child process room.
TIMEOUT = 120 if SANITIZED else 30


def make_pki():
    """Generate the test PKI into a new world-readable directory (mosquitto reads it)."""
    d = tempfile.mkdtemp(prefix="mote-pki-")
    os.chmod(d, 0o755)
    subprocess.run(["bash", os.path.join(ROOT, "toolchain", "pki.sh"), d], check=True,
                   capture_output=True, timeout=120)
    return d


def remove_pki(d):
    shutil.rmtree(d, ignore_errors=True)


def tls_broker(pki, server="server", require_certificate=True, extra=None):
    """mosquitto with one TLS listener using PKI server certificate NAME (and ca.crt)."""
    return Broker([{"kind": "tls", "cafile": os.path.join(pki, "ca.crt"),
                    "certfile": os.path.join(pki, server + ".crt"),
                    "keyfile": os.path.join(pki, server + ".key"),
                    "require_certificate": require_certificate,
                    "extra": extra or []}])


class RecordingTLSServer:
    """A TLS server on a free loopback port that completes handshakes, records per
    connection the SNI name, the ALPN protocol it selected and whether the session was
    resumed, then waits for the client to close."""

    def __init__(self, pki, alpn=None, require_client_cert=False, tls13=False, port=0,
                 read_delay=0.0, rcvbuf=0, never_read=False, tickets=None, hang_up_after=0,
                 close_notify=True, bind="127.0.0.1"):
        """hang_up_after: once that many bytes arrived, end the connection: with close_notify
        (a clean TLS close, as a broker refusing the CONNECT), or without it (the socket
        just closes). tickets: TLS 1.3 session tickets sent after the handshake (OpenSSL's
        default is 2)."""
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        if tickets is not None:
            self.ctx.num_tickets = tickets
        self.ctx.load_cert_chain(os.path.join(pki, "server.crt"), os.path.join(pki, "server.key"))
        if not tls13:
            self.ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        if require_client_cert:
            self.ctx.verify_mode = ssl.CERT_REQUIRED
            self.ctx.load_verify_locations(os.path.join(pki, "ca.crt"))
        if alpn:
            self.ctx.set_alpn_protocols(alpn)
        self.sni = []
        self.connections = []  # dicts: sni, alpn, resumed, version
        self.ctx.sni_callback = self._on_sni
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self.sock.bind((bind, port))
        except OSError:
            self.sock.close()
            raise
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        if rcvbuf:
            # Set before listen so accepted sockets inherit it: a small window makes the
            # client's writes block (WANT_WRITE) early.
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.read_delay = read_delay
        self.never_read = never_read
        self.hang_up_after = hang_up_after
        self.close_notify = close_notify
        self._stop = False
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def _on_sni(self, sslsock, name, ctx):
        self.sni.append(name)
        return None

    def _serve(self):
        self.sock.settimeout(0.2)
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            conn.settimeout(10)
            before = len(self.sni)
            try:
                tls = self.ctx.wrap_socket(conn, server_side=True)
            except (ssl.SSLError, OSError) as e:
                self.connections.append({"error": str(e)})
                conn.close()
                continue
            record = {
                "sni": self.sni[-1] if len(self.sni) > before else None,
                "alpn": tls.selected_alpn_protocol(),
                "resumed": tls.session_reused,
                "version": tls.version(),
                "received": 0,
            }
            self.connections.append(record)
            digest = hashlib.sha256()
            try:
                if self.never_read:
                    while not self._stop:
                        threading.Event().wait(0.1)
                if self.read_delay:
                    threading.Event().wait(self.read_delay)
                while True:
                    chunk = tls.recv(65536)
                    if not chunk:
                        break
                    digest.update(chunk)
                    record["received"] += len(chunk)
                    if self.hang_up_after and record["received"] >= self.hang_up_after:
                        record["hung_up"] = True
                        if self.close_notify:
                            # Sends close_notify, then waits for the client's (or its close).
                            tls = tls.unwrap()
                        break
            except (ssl.SSLError, OSError):
                pass
            record["sha256"] = digest.hexdigest()
            tls.close()

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self._stop = True
        self.thread.join(5)
        self.sock.close()


class SlowRelay:
    """A TCP relay on a free loopback port in front of 127.0.0.1:port, for a slow link that
    keeps making progress: what the client sends is read `chunk` bytes at a time with a pause
    after each read, through a small receive buffer, and passed on; what the server sends goes
    back at once. stall_after: once that many bytes were passed on, stop reading for good (a
    peer that stops reading)."""

    def __init__(self, port, chunk=128, pause=0.02, rcvbuf=2048, stall_after=None):
        self.target = port
        self.chunk = chunk
        self.pause = pause
        self.stall_after = stall_after
        self.forwarded = 0
        self._stop = threading.Event()
        self._socks = []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Before listen, so the accepted socket has it: the client's writes block early.
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1)
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def _back(self, up, conn):
        while not self._stop.is_set():
            try:
                data = up.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                break
            if not data:
                break
            try:
                conn.sendall(data)
            except OSError:
                break
        try:
            conn.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def _serve(self):
        self.sock.settimeout(0.2)
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            up = socket.create_connection(("127.0.0.1", self.target), timeout=10)
            self._socks += [conn, up]
            conn.settimeout(0.2)
            up.settimeout(0.2)
            back = threading.Thread(target=self._back, args=(up, conn), daemon=True)
            back.start()
            while not self._stop.is_set():
                if self.stall_after is not None and self.forwarded >= self.stall_after:
                    self._stop.wait(0.1)
                    continue
                try:
                    data = conn.recv(self.chunk)
                except socket.timeout:
                    continue
                except OSError:
                    break
                if not data:
                    break
                try:
                    up.sendall(data)
                except OSError:
                    break
                self.forwarded += len(data)
                self._stop.wait(self.pause)
            try:
                up.shutdown(socket.SHUT_WR)
            except OSError:
                pass
            back.join(10)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self.thread.join(5)
        for s in self._socks + [self.sock]:
            s.close()


def expired_ca_chain(pki):
    """A CA that expired in 2021 (expired-ca.crt) and a server certificate for localhost that
    it signed, itself valid 2024-2099 (server-expiredca.crt/.key), written into pki. Made with
    `openssl ca`, which takes explicit dates, as toolchain/pki.sh does."""
    if os.path.exists(os.path.join(pki, "server-expiredca.crt")):
        return
    work = tempfile.mkdtemp(prefix="mote-expca-")
    try:
        cnf = os.path.join(work, "ca.cnf")
        with open(cnf, "w") as f:
            f.write("[ ca ]\ndefault_ca = x\n[ x ]\ndatabase = %s/index.txt\n"
                    "new_certs_dir = %s\nserial = %s/serial\ndefault_md = sha256\n"
                    "policy = p\nunique_subject = no\ncopy_extensions = none\n"
                    "[ p ]\ncommonName = supplied\n" % (work, work, work))
        with open(os.path.join(work, "ca.ext"), "w") as f:
            f.write("basicConstraints = critical, CA:TRUE\nkeyUsage = critical, keyCertSign\n")
        with open(os.path.join(work, "server.ext"), "w") as f:
            f.write("basicConstraints = critical, CA:FALSE\n"
                    "keyUsage = critical, digitalSignature\nextendedKeyUsage = serverAuth\n"
                    "subjectAltName = DNS:localhost, IP:127.0.0.1\n")

        def run(*args):
            subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=60)

        def sign(name, cn, ext, start, end, ca=None):
            key, csr = os.path.join(pki, name + ".key"), os.path.join(work, name + ".csr")
            run("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key)
            open(os.path.join(work, "index.txt"), "w").close()
            with open(os.path.join(work, "serial"), "w") as f:
                f.write("2000\n" if ca else "1000\n")
            run("req", "-new", "-key", key, "-subj", "/CN=" + cn, "-out", csr)
            issuer = (["-cert", os.path.join(pki, ca + ".crt"), "-keyfile",
                       os.path.join(pki, ca + ".key")] if ca else ["-selfsign", "-keyfile", key])
            run("ca", "-batch", "-config", cnf, *issuer, "-in", csr, "-out",
                os.path.join(pki, name + ".crt"), "-extfile", os.path.join(work, ext),
                "-notext", "-startdate", start, "-enddate", end)
            os.chmod(key, 0o644)

        sign("expired-ca", "Mote Expired CA", "ca.ext", "20200101000000Z", "20210101000000Z")
        sign("server-expiredca", "localhost", "server.ext", "20240101000000Z", "20991231000000Z",
             ca="expired-ca")
    finally:
        shutil.rmtree(work, ignore_errors=True)
