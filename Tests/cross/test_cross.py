"""The static ARM `mote` run under qemu-user: pub/sub round trips against mosquitto over
mutual TLS at QoS 0/1/2 on MQTT 3.1.1 and 5, and the JSON commands giving exactly the
host build's output on the fixtures beside this file.

Run by Tests/stage-60-cross.sh with
  MOTE_BIN        a wrapper that runs the ARM binary under qemu-<arch>-static
  MOTE_CROSS_REAL the ARM binary itself (checked to be static)
  MOTE_HOST_BIN   the host build (build/host/bin/mote), the reference for `mote json`
  MOTE_CROSS_QUICK=1  only QoS 1 round trips (used for the second mbedTLS variant)
"""
import os
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(TESTS, "lib"))
sys.path.insert(0, os.path.join(TESTS, "integration"))
sys.path.insert(0, os.path.join(TESTS, "tls"))

import mote_test  # noqa: E402
from moteproc import Proc  # noqa: E402
from tls_fixtures import make_pki, remove_pki, tls_broker  # noqa: E402

FIXTURES = os.path.join(HERE, "fixtures")
QUICK = os.environ.get("MOTE_CROSS_QUICK") == "1"
# Emulated ARM is several times slower than the host, TLS handshakes most of all.
TIMEOUT = 90


def mote_cmd(*args):
    return [mote_test.mote_bin()] + [str(a) for a in args]


class CrossTLSRoundTrips(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.pki = make_pki()
        cls.broker = tls_broker(cls.pki).start()
        cls.port = cls.broker.port

    @classmethod
    def tearDownClass(cls):
        cls.broker.__exit__(None, None, None)
        remove_pki(cls.pki)

    def tls_args(self):
        p = lambda name: os.path.join(self.pki, name)  # noqa: E731
        return ["-h", "localhost", "-p", self.port, "--cafile", p("ca.crt"),
                "--cert", p("client.crt"), "--key", p("client.key")]

    def test_static_binary(self):
        real = os.environ.get("MOTE_CROSS_REAL")
        if not real:
            self.skipTest("MOTE_CROSS_REAL not set")
        desc = subprocess.run(["file", "-b", real], capture_output=True, text=True).stdout
        self.assertIn("statically linked", desc)
        self.assertIn("ARM", desc)

    def test_pub_sub_round_trips_over_mutual_tls(self):
        qos_levels = (1,) if QUICK else (0, 1, 2)
        for version in ("mqttv311", "mqttv5"):
            for qos in qos_levels:
                with self.subTest(version=version, qos=qos):
                    topic = "cross/%s/%d" % (version, qos)
                    sub = Proc(mote_cmd("sub", *self.tls_args(), "-d", "-V", version, "-q", qos,
                                        "-t", topic, "-C", 2, "-v"))
                    with sub:
                        if not sub.wait_stderr("received SUBACK", TIMEOUT):
                            self.fail("sub did not subscribe: %s\nbroker: %s"
                                      % (sub.stderr_text(), self.broker.log()))
                        for i in range(2):
                            r = subprocess.run(mote_cmd("pub", *self.tls_args(), "-V", version,
                                                        "-q", qos, "-t", topic,
                                                        "-m", "arm %d" % i),
                                               capture_output=True, timeout=TIMEOUT)
                            self.assertEqual(r.returncode, 0, "pub failed: %r" % r.stderr)
                        rc = sub.wait(TIMEOUT)
                        self.assertEqual(rc, 0, "sub exit %d: %s" % (rc, sub.stderr_text()))
                        self.assertEqual(sub.stdout_bytes(),
                                         ("%s arm 0\n%s arm 1\n" % (topic, topic)).encode())

    def test_other_identities(self):
        # AWS IoT device certificates are RSA 2048 by default; P-384 is the other EC choice.
        for ident in ("client-rsa", "client-p384"):
            with self.subTest(identity=ident):
                r = subprocess.run(mote_cmd("pub", "-h", "localhost", "-p", self.port,
                                            "--cafile", os.path.join(self.pki, "ca.crt"),
                                            "--cert", os.path.join(self.pki, ident + ".crt"),
                                            "--key", os.path.join(self.pki, ident + ".key"),
                                            "-q", 1, "-t", "cross/id", "-m", ident),
                                   capture_output=True, timeout=TIMEOUT)
                self.assertEqual(r.returncode, 0, "pub with %s failed: %r" % (ident, r.stderr))

    def test_rsa_server_ecdhe_rsa(self):
        # AWS IoT endpoints present RSA certificates: ECDHE-RSA with AES-GCM must work,
        # also in the MBEDTLS=minimal build.
        if not os.path.exists(os.path.join(self.pki, "server-rsa.crt")):
            self.skipTest("test PKI has no server-rsa certificate")
        with tls_broker(self.pki, server="server-rsa") as broker:
            r = subprocess.run(mote_cmd("pub", "-h", "localhost", "-p", broker.port,
                                        "--cafile", os.path.join(self.pki, "ca.crt"),
                                        "--cert", os.path.join(self.pki, "client-rsa.crt"),
                                        "--key", os.path.join(self.pki, "client-rsa.key"),
                                        "-q", 1, "-t", "cross/rsa", "-m", "rsa"),
                               capture_output=True, timeout=TIMEOUT)
            self.assertEqual(r.returncode, 0, "pub to an RSA server failed: %r\nbroker: %s"
                             % (r.stderr, broker.log()))

    def test_untrusted_server_is_refused(self):
        # A CA file that did not sign the server: the handshake must fail, exit non-zero.
        r = subprocess.run(mote_cmd("pub", "-h", "localhost", "-p", self.port,
                                    "--cafile", os.path.join(self.pki, "rogue-ca.crt"),
                                    "--cert", os.path.join(self.pki, "client.crt"),
                                    "--key", os.path.join(self.pki, "client.key"),
                                    "-t", "x", "-m", "y"),
                           capture_output=True, timeout=TIMEOUT)
        self.assertNotEqual(r.returncode, 0)
        self.assertTrue(r.stderr.strip(), "no error message")


JSON_CASES = [
    ("validate", "shadow_small.json"),
    ("validate", "shadow_min.json"),
    ("validate", "deep.json"),
    ("validate", "invalid_trailing_comma.json"),
    ("validate", "invalid_utf8.json"),
    ("validate", "invalid_number.json"),
    ("validate", "--max-bytes", "4294967296", "shadow_min.json"),  # beyond a 32-bit size_t
    ("get", "shadow_small.json", "state.desired.lights[1].on"),
    ("get", "shadow_small.json", "/state/desired/lights/0/color"),
    ("get", "-r", "shadow_small.json", "state.reported.firmware.notes"),
    ("get", "-r", "shadow_small.json", "clientToken"),
    ("get", "shadow_small.json", "state.reported.devices[23].temp"),
    ("get", "shadow_small.json", "/state/reported/devices/3/ratio"),
    ("get", "shadow_min.json", "state.reported.devices[20]"),
    ("get", "shadow_min.json", "weird\\.key.a/b"),
    ("get", "shadow_min.json", "/weird.key/m~0n"),
    ("get", "shadow_min.json", "state.missing"),
    ("get", "shadow_min.json", "version"),
    ("keys", "shadow_small.json", "state.reported"),
    ("keys", "shadow_min.json", "state.desired.lights"),
    ("keys", "shadow_min.json", "empty.o"),
]


class CrossJSONSameAsHost(unittest.TestCase):
    def test_json_commands_match_host_build(self):
        host = os.environ.get("MOTE_HOST_BIN") or os.path.join(mote_test.ROOT, "build", "host",
                                                               "bin", "mote")
        if not os.path.exists(host):
            self.skipTest("no host build at %s" % host)
        for case in JSON_CASES:
            args = ["json"] + [os.path.join(FIXTURES, a) if a.endswith(".json") else a for a in case]
            with self.subTest(case=" ".join(case)):
                want = subprocess.run([host] + args, capture_output=True, timeout=30)
                got = subprocess.run(mote_cmd(*args), capture_output=True, timeout=TIMEOUT)
                self.assertEqual((got.returncode, got.stdout), (want.returncode, want.stdout))
                # Messages name the same offset and reason; the program name may differ.
                self.assertEqual(got.stderr.replace(mote_test.mote_bin().encode(), b"mote"),
                                 want.stderr.replace(host.encode(), b"mote"))


if __name__ == "__main__":
    unittest.main()
