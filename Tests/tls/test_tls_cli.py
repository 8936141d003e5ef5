"""mote pub / mote sub over mutual TLS with mosquitto_pub/sub's TLS flags: QoS 0/1/2 round
trips on both protocol versions, every identity format, every bad case failing with its own
one-line message and a non-zero exit, and the port 443 ALPN default seen by the server."""
import os
import re
import subprocess
import sys
import time
import unittest
import warnings

from tls_fixtures import (PASSWORD, HERE, RecordingTLSServer, SlowRelay, make_pki, remove_pki,
                          tls_broker)

sys.path.insert(0, os.path.join(os.path.dirname(HERE), "integration"))
from moteproc import Proc, mote, run, t  # noqa: E402
import hashlib  # noqa: E402
import socket  # noqa: E402
import tempfile  # noqa: E402

VERSIONS = ("mqttv311", "mqttv5")
EXIT_NETWORK = 2  # the mote tool's exit code for network and TLS failures

PKI = None


def setUpModule():
    global PKI
    # Background processes' pipes are closed by the collector: not worth a warning each.
    warnings.simplefilter("ignore", ResourceWarning)
    PKI = make_pki()


def tearDownModule():
    remove_pki(PKI)


def pki(name):
    return os.path.join(PKI, name)


def tls_args(port, identity="client", host="localhost", cafile=True):
    args = ["-h", host, "-p", port]
    if cafile:
        args += ["--cafile", pki("ca.crt")]
    if identity:
        args += ["--cert", pki(identity + ".crt"), "--key", pki(identity + ".key")]
    return args


def pkcs12_extracted_key():
    """The client key through a PKCS#12 file and back, encrypted (OpenSSL 3: PKCS#8, PBES2
    with AES), with the "Bag Attributes" text openssl writes before the BEGIN line."""
    p12, key = pki("client-cli.p12"), pki("client-cli-bag.key")
    pw = "pass:" + PASSWORD
    subprocess.run(["openssl", "pkcs12", "-export", "-in", pki("client.crt"), "-inkey",
                    pki("client.key"), "-passout", pw, "-out", p12], check=True,
                   capture_output=True, timeout=60)
    subprocess.run(["openssl", "pkcs12", "-in", p12, "-nocerts", "-passin", pw, "-passout", pw,
                    "-out", key], check=True, capture_output=True, timeout=60)
    return key


def error_lines(stderr):
    """stderr lines other than the deliberate --insecure warning."""
    text = stderr.decode("utf-8", "replace") if isinstance(stderr, bytes) else stderr
    return [ln for ln in text.splitlines() if ln.strip() and "WARNING" not in ln]


class RoundTrips(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.broker = tls_broker(PKI).start()
        cls.port = cls.broker.port

    @classmethod
    def tearDownClass(cls):
        cls.broker.__exit__(None, None, None)

    def start_sub(self, *args):
        p = Proc(mote("sub", "-d", *tls_args(self.port), *args))
        if not p.wait_stderr("SUBACK", 20):
            p.kill()
            self.fail("mote sub did not subscribe over TLS: %s\n%s" % (p.stderr_text(),
                                                                      self.broker.log()))
        return p

    def pub(self, *args, identity="client", extra=()):
        r = run(mote("pub", *tls_args(self.port, identity), *extra, *args), timeout=30)
        self.assertEqual(r.returncode, 0, "pub failed: %r" % r.stderr)
        return r

    def test_qos_round_trips_both_versions(self):
        for v in VERSIONS:
            for qos in (0, 1, 2):
                with self.subTest(version=v, qos=qos):
                    topic = "tls/rt/%s/%d" % (v, qos)
                    with self.start_sub("-V", v, "-q", qos, "-t", topic, "-C", 2, "-v") as s:
                        self.pub("-V", v, "-q", qos, "-t", topic, "-m", "hello %d" % qos)
                        self.pub("-V", v, "-q", qos, "-t", topic, "-m", "x" * 50000)
                        rc = s.wait(30)
                        out = s.stdout_bytes()
                    self.assertEqual(rc, 0, s.stderr_text())
                    self.assertEqual(out, ("%s hello %d\n%s %s\n" % (topic, qos, topic, "x" * 50000)).encode())

    def test_many_messages_qos1(self):
        topic = "tls/many"
        n = 500
        with self.start_sub("-q", 1, "-t", topic, "-C", n) as s:
            self.pub("-q", 1, "-t", topic, "-m", "m", "--repeat", n)
            rc = s.wait(60)
        self.assertEqual(rc, 0, s.stderr_text())
        self.assertEqual(s.stdout_bytes(), b"m\n" * n)

    def test_identity_formats(self):
        # Every good identity, as subscriber and publisher, QoS 0/1/2 on both versions.
        idents = {
            "p384": ["--cert", pki("client-p384.crt"), "--key", pki("client-p384.key")],
            "rsa": ["--cert", pki("client-rsa.crt"), "--key", pki("client-rsa.key")],
            "der": ["--cert", pki("client.der.crt"), "--key", pki("client.der.key")],
            "encrypted": ["--cert", pki("client.crt"), "--key", pki("client-enc.key"),
                          "--keypass", PASSWORD],
            "rsa-encrypted": ["--cert", pki("client-rsa.crt"), "--key", pki("client-rsa-enc.key"),
                              "--keypass", PASSWORD],
            "pkcs8-encrypted": ["--cert", pki("client.crt"), "--key", pki("client-enc-pkcs8.key"),
                                "--keypass", PASSWORD],
            # as `openssl pkcs12 -nocerts` writes it: "Bag Attributes" before the PEM block
            "pkcs12-extracted": ["--cert", pki("client.crt"), "--key", pkcs12_extracted_key(),
                                 "--keypass", PASSWORD],
        }
        conn = ["-h", "localhost", "-p", self.port, "--cafile", pki("ca.crt")]
        for name, ident in idents.items():
            for v in VERSIONS:
                with self.subTest(identity=name, version=v):
                    topic = "tls/id/%s/%s" % (name, v)
                    p = Proc(mote("sub", "-d", *conn, *ident, "-V", v, "-q", 2, "-t", topic,
                                  "-C", 3, "-v"))
                    with p:
                        self.assertTrue(p.wait_stderr("SUBACK", 20), p.stderr_text())
                        for qos in (0, 1, 2):
                            r = run(mote("pub", *conn, *ident, "-V", v, "-q", qos, "-t", topic,
                                         "-m", "%s q%d" % (name, qos)), timeout=30)
                            self.assertEqual(r.returncode, 0, r.stderr)
                        self.assertEqual(p.wait(30), 0, p.stderr_text())
                        expected = "".join("%s %s q%d\n" % (topic, name, q) for q in (0, 1, 2))
                        self.assertEqual(p.stdout_bytes().decode(), expected)

    def test_address_and_servername(self):
        r = run(mote("pub", *tls_args(self.port, host="127.0.0.1"), "-t", "a", "-m", "ip"))
        self.assertEqual(r.returncode, 0, r.stderr)
        r = run(mote("pub", *tls_args(self.port, host="127.0.0.1"), "--tls-servername",
                     "localhost", "-t", "a", "-m", "sni"))
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_local_address(self):
        """-A over TLS: the broker sees the connection come from the address asked for."""
        self.pub("-A", "127.0.0.2", "-t", "a", "-m", "bound")
        self.assertIn("New connection from 127.0.0.2:", self.broker.log())
        r = run(mote("pub", *tls_args(self.port), "-A", "192.0.2.7", "-t", "a", "-m", "x"))
        self.assertEqual(r.returncode, EXIT_NETWORK, r.stderr)
        self.assertIn(b"from local address 192.0.2.7", r.stderr)

    def test_tls_version_and_ciphers(self):
        r = run(mote("pub", *tls_args(self.port), "--tls-version", "tlsv1.2", "--ciphers",
                     "ECDHE-ECDSA-AES128-GCM-SHA256", "-t", "a", "-m", "v"))
        self.assertEqual(r.returncode, 0, r.stderr)
        r = run(mote("pub", *tls_args(self.port), "--tls-version", "tlsv1.1", "-t", "a", "-m", "v"))
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("tlsv1.1", r.stderr.decode())

    def test_tls13(self):
        # mbedTLS 3.x: TLS 1.3 by default against mosquitto, and on request; 2.28: refused
        # with a clear message.
        r = run(mote("pub", *tls_args(self.port), "-d", "--tls-version", "tlsv1.3", "-q", 1,
                     "-t", "a", "-m", "v"))
        default = run(mote("pub", *tls_args(self.port), "-d", "-t", "a", "-m", "v"))
        self.assertEqual(default.returncode, 0, default.stderr)
        if b"TLSv1.3" in default.stderr:
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn(b"TLS: TLSv1.3, TLS1-3-", r.stderr)
        else:
            self.assertIn(b"TLSv1.2", default.stderr)
            self.assertNotEqual(r.returncode, 0)
            self.assertIn("TLS 1.3 is not available", r.stderr.decode())

    def test_interop_with_mosquitto_sub_over_tls(self):
        topic = "tls/interop"
        p = Proc(["mosquitto_sub", "-h", "localhost", "-p", str(self.port), "--cafile",
                  pki("ca.crt"), "--cert", pki("client.crt"), "--key", pki("client.key"),
                  "-t", topic, "-C", "1", "-q", "1", "-i", "interop-sub"])
        with p:
            # mosquitto_sub's own trace is block-buffered on a pipe: watch the broker's log.
            deadline = time.time() + t(15)
            while "Sending SUBACK to interop-sub" not in self.broker.log():
                self.assertLess(time.time(), deadline, "mosquitto_sub did not subscribe")
                time.sleep(0.05)
            self.pub("-q", 1, "-t", topic, "-m", "from mote")
            self.assertEqual(p.wait(30), 0)
            self.assertIn(b"from mote", p.stdout_bytes())

    def test_insecure_is_loud(self):
        r = run(mote("pub", "-h", "localhost", "-p", self.port, "--insecure", "--cert",
                     pki("client.crt"), "--key", pki("client.key"), "-t", "a", "-m", "i"))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("WARNING", r.stderr.decode())
        self.assertIn("NOT verified", r.stderr.decode())


class Failures(unittest.TestCase):
    """Each failure: non-zero exit, one line on stderr that names the cause."""

    @classmethod
    def setUpClass(cls):
        cls.broker = tls_broker(PKI).start()
        cls.port = cls.broker.port

    @classmethod
    def tearDownClass(cls):
        cls.broker.__exit__(None, None, None)

    def check(self, r, text):
        self.assertNotEqual(r.returncode, 0, r.stderr)
        lines = error_lines(r.stderr)
        self.assertEqual(len(lines), 1, lines)
        self.assertIn(text, lines[0])
        return lines[0]

    def pub(self, port, *args, identity="client", host="localhost"):
        return run(mote("pub", *tls_args(port, identity, host), "-t", "x", "-m", "y",
                        "--connect-timeout", 10, *args), timeout=40)

    def test_server_closing_is_named(self):
        # A broker that accepts the TLS handshake and then closes the connection cleanly
        # (close_notify; AWS IoT on a policy deny): connection lost, and the line says how.
        with RecordingTLSServer(PKI, require_client_cert=True, tls13=True, tickets=0,
                                hang_up_after=1, close_notify=True) as s:
            r = self.pub(s.port)
        self.assertEqual(r.returncode, 4, r.stderr)
        line = self.check(r, "connection lost")
        self.assertIn("close_notify", line)
        self.assertNotIn("certificate", line)

    def test_bad_server_certificates(self):
        cases = {
            "server-expired": "certificate expired",
            "server-future": "not yet valid",
            "server-otherhost": "does not match the host name",
            "server-unknownca": "unknown CA",
        }
        for server, text in cases.items():
            with self.subTest(server=server):
                with tls_broker(PKI, server=server) as b:
                    r = self.pub(b.port)
                self.check(r, text)
                self.assertEqual(r.returncode, EXIT_NETWORK)

    def negotiates_tls13(self):
        # `mote -d` names the version: TLS 1.3 with mbedTLS 3.x, TLS 1.2 with 2.28.
        r = self.pub(self.port, "-d")
        self.assertEqual(r.returncode, 0, r.stderr)
        return b"TLSv1.3" in r.stdout + r.stderr

    def test_client_cert_other_ca(self):
        line = self.check(self.pub(self.port, identity="client-otherca"),
                          "server rejected the client certificate")
        if self.negotiates_tls13():
            # TLS 1.3: the server judges our certificate after its own Finished, and often
            # hangs up (a reset) before its encrypted alert can be read; the error then says
            # the connection closed in reply to our certificate instead of naming the alert.
            self.assertRegex(line, r"unknown_ca|in reply to our client certificate")
        else:
            self.assertIn("unknown_ca", line)

    def test_no_client_cert(self):
        self.check(self.pub(self.port, identity=None), "requires a client certificate")

    def test_key_mismatch(self):
        self.check(self.pub(self.port, "--cert", pki("client.crt"), "--key",
                            pki("client-mismatch.key"), identity=None),
                   "private key does not match the certificate")

    def test_wrong_and_missing_password(self):
        self.check(self.pub(self.port, "--cert", pki("client.crt"), "--key", pki("client-enc.key"),
                            "--keypass", "wrong", identity=None), "wrong password")
        self.check(self.pub(self.port, "--cert", pki("client.crt"), "--key", pki("client-enc.key"),
                            identity=None), "--keypass")

    def test_missing_files(self):
        self.check(self.pub(self.port, "--cert", pki("nope.crt"), "--key", pki("client.key"),
                            identity=None), "nope.crt")
        r = run(mote("pub", "-h", "localhost", "-p", self.port, "--cafile", pki("nope-ca.crt"),
                     "-t", "x", "-m", "y"))
        self.check(r, "nope-ca.crt")

    def test_directory_given_as_a_file(self):
        # e.g. --cafile /etc/ssl/certs: named as a directory, with the flag that takes one
        # (mbedTLS alone reported a failed memory allocation).
        d = pki("a-directory")
        os.makedirs(d, exist_ok=True)
        r = run(mote("pub", "-h", "localhost", "-p", self.port, "--cafile", d, "-t", "x",
                     "-m", "y"))
        line = self.check(r, "CA file '%s' is a directory" % d)
        self.assertIn("--capath", line)
        r = self.pub(self.port, "--cert", pki("client.crt"), "--key", d, identity=None)
        self.check(r, "key file '%s' is a directory" % d)

    def test_default_trust_is_the_system_bundle(self):
        # No --cafile on a TLS connection: the system bundle is used, which lacks the test CA.
        r = run(mote("pub", "-h", "localhost", "-p", self.port, "--cert", pki("client.crt"),
                     "--key", pki("client.key"), "-t", "x", "-m", "y"), timeout=40)
        self.check(r, "unknown CA")
        r = run(mote("pub", "-h", "localhost", "-p", self.port, "--tls-use-os-certs", "--cert",
                     pki("client.crt"), "--key", pki("client.key"), "-t", "x", "-m", "y"), timeout=40)
        self.check(r, "unknown CA")

    def test_default_ports(self):
        # 127.0.0.2 is loopback with nothing listening: the message shows the port chosen.
        r = run(mote("pub", "-h", "127.0.0.2", "--cafile", pki("ca.crt"), "-t", "x", "-m", "y",
                     "--connect-timeout", 3), timeout=40)
        line = self.check(r, "127.0.0.2:8883")
        self.assertIn("TLS", line)
        r = run(mote("pub", "-h", "127.0.0.2", "-t", "x", "-m", "y", "--connect-timeout", 3),
                timeout=40)
        self.check(r, "127.0.0.2:1883")

    def test_plain_client_against_tls_port_times_out_or_fails(self):
        r = run(mote("pub", "-h", "localhost", "-p", self.port, "--no-tls", "-t", "x", "-m", "y",
                     "--connect-timeout", 3), timeout=40)
        self.assertNotEqual(r.returncode, 0)


class WhatTheServerSees(unittest.TestCase):
    def pub_to(self, port, *args):
        # The recording server speaks no MQTT: the tool fails after the handshake.
        return run(mote("pub", "-h", "localhost", "-p", port, "--cafile", pki("ca.crt"),
                        "-t", "x", "-m", "y", "--connect-timeout", 2, *args), timeout=40)

    def test_alpn_and_sni_flags(self):
        with RecordingTLSServer(PKI, alpn=["mqtt"]) as s:
            self.pub_to(s.port, "--tls-alpn", "x-amzn-mqtt-ca,mqtt", "--tls-servername", "localhost")
        self.assertTrue(s.connections, "no connection recorded")
        self.assertEqual(s.connections[0].get("alpn"), "mqtt", s.connections)
        self.assertEqual(s.connections[0].get("sni"), "localhost", s.connections)

    def test_port_443_selects_aws_alpn(self):
        try:
            s = RecordingTLSServer(PKI, alpn=["x-amzn-mqtt-ca"], port=443)
        except OSError:
            self.skipTest("port 443 not available on loopback")
        with s:
            self.pub_to(443)
        self.assertTrue(s.connections, "no connection recorded")
        self.assertEqual(s.connections[0].get("alpn"), "x-amzn-mqtt-ca", s.connections)
        self.assertEqual(s.connections[0].get("sni"), "localhost", s.connections)

class SlowLink(unittest.TestCase):
    """pub -f over TLS through a slow relay that keeps taking bytes: --ack-timeout limits time
    without progress at the socket, so a TLS record (up to 16 KB) that needs longer than the
    timeout to leave is progress, not a timeout; and the last record is delivered whole before
    the tool says it succeeded."""

    @classmethod
    def setUpClass(cls):
        cls.broker = tls_broker(PKI).start()
        cls.port = cls.broker.port
        cls.dir = tempfile.mkdtemp(prefix="mote-tls-slow-")
        # More than the socket buffers on the way hold, so the transport's staged record
        # waits on the link.
        cls.payload = b"".join(hashlib.sha256(b"%d" % i).digest() for i in range(6144))
        cls.file = os.path.join(cls.dir, "payload.bin")
        with open(cls.file, "wb") as f:
            f.write(cls.payload)

    @classmethod
    def tearDownClass(cls):
        cls.broker.__exit__(None, None, None)
        os.unlink(cls.file)
        os.rmdir(cls.dir)

    def slow_pub(self, v, qos):
        # About 10 KB/s: each 16 KB record needs more than the 1 s --ack-timeout to leave,
        # while the socket takes bytes every tenth of a second.
        topic = "tls/slow/%s/%d" % (v, qos)
        sub = Proc(mote("sub", "-d", *tls_args(self.port), "-V", v, "-q", qos,
                        "-t", topic, "-C", 1, "-N"))
        with sub:
            self.assertTrue(sub.wait_stderr("SUBACK", 20), sub.stderr_text())
            relay = SlowRelay(self.port, chunk=1024, pause=0.1, rcvbuf=4096)
            relay.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, 1400)
            with relay:
                r = run(mote("pub", *tls_args(relay.port), "-V", v, "-q", qos,
                             "-t", topic, "-f", self.file, "--ack-timeout", 1),
                        timeout=120)
                self.assertEqual(r.returncode, 0, r.stderr)
                rc = sub.wait(60)
                got = sub.stdout_bytes()
            self.assertEqual(rc, 0, sub.stderr_text())
        self.assertEqual(len(got), len(self.payload))
        self.assertEqual(hashlib.sha256(got).hexdigest(),
                         hashlib.sha256(self.payload).hexdigest())

    def test_record_slower_than_the_ack_timeout_is_progress(self):
        self.slow_pub("mqttv311", 0)

    def test_qos1_ack_is_due_once_the_socket_has_passed_the_message_on(self):
        # The last records wait in the socket's send queue for longer than the --ack-timeout
        # after the socket took them: while that queue falls, the ack is not late.
        self.slow_pub("mqttv5", 1)

    def test_stall_is_judged_by_the_ack_timeout(self):
        # A link that stops taking bytes for good: --ack-timeout 32 (above the transport's
        # default write timeout of 30 s) decides when pub gives up, with its own message.
        # The message is larger than the kernel's socket buffers (up to 4 MB here) can take,
        # so TLS output is left waiting on the stalled link.
        big = os.path.join(self.dir, "big.bin")
        with open(big, "wb") as f:
            f.write(os.urandom(12 << 20))
        self.addCleanup(os.unlink, big)
        relay = SlowRelay(self.port, chunk=4096, pause=0.01, rcvbuf=4096, stall_after=65536)
        relay.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, 1400)
        with relay:
            start = time.monotonic()
            r = run(mote("pub", *tls_args(relay.port), "-t", "tls/stall", "-f", big,
                         "--ack-timeout", 32), timeout=120)
            elapsed = time.monotonic() - start
        err = r.stderr.decode("utf-8", "replace")
        self.assertEqual(r.returncode, 6, err)
        # Not the transport's 30 s limit (which left nothing queued to report): the tool's,
        # with what was still to send.
        m = re.search(r"took no data for 32 s \((\d+) bytes not sent\)", err)
        self.assertIsNotNone(m, err)
        self.assertGreater(int(m.group(1)), 0, err)
        self.assertGreaterEqual(elapsed, 31.5, err)


if __name__ == "__main__":
    unittest.main()
