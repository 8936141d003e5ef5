"""The mbedTLS transport against real servers, through tls_probe (MOTE_TLS_PROBE): every good
identity handshakes with mosquitto over mutual TLS and moves MQTT packets; every bad
certificate, key or password fails with its own error code; SNI, ALPN and session resumption
are checked from the server's side."""
import os
import shutil
import subprocess
import time
import unittest
import warnings

from tls_fixtures import (PASSWORD, TIMEOUT, RecordingTLSServer, SlowRelay, expired_ca_chain,
                          make_pki, remove_pki, tls_broker)
from mote_test import free_port, wait_port  # noqa: E402 (path set by tls_fixtures)

PROBE = os.environ.get("MOTE_TLS_PROBE", "tls_probe")
# The mbedTLS test server, built beside tls_probe.
PEER = os.path.join(os.path.dirname(PROBE), "tls_peer") if os.path.dirname(PROBE) else "tls_peer"

# mote_err_t values (CSources/mote/include/mote/error.h); the probe exits with -code.
BAD_ARG = 1
UNSUPPORTED = 8
TIMEOUT_CODE = 7
CLOSED = 61
FILE = 64
TLS_HANDSHAKE = 81
CERT_EXPIRED = 82
CERT_FUTURE = 83
UNKNOWN_CA = 84
HOSTNAME = 85
CLIENT_CERT_REJECTED = 86
KEY_MISMATCH = 87
KEY_PASSWORD = 88
BAD_CERT = 89

PKI = None


def _mbedtls_has_tls13():
    r = subprocess.run([PROBE, "--about"], capture_output=True, text=True, timeout=TIMEOUT)
    return "tls13=1" in r.stdout


# mbedTLS 3.x (TLS 1.3 built in, as in its default config) or 2.28 (TLS 1.2 only). Where a
# test's expectation depends on it, TLS 1.3 is what a default 3.x build negotiates with
# mosquitto and `openssl s_server`.
TLS13 = _mbedtls_has_tls13()


def setUpModule():
    global PKI
    warnings.simplefilter("ignore", ResourceWarning)
    PKI = make_pki()


def tearDownModule():
    remove_pki(PKI)


def pki(name):
    return os.path.join(PKI, name)


def keys_after_leading_text():
    """The OpenSSL 3 PKCS#8 key (PBES2 + AES) with text before its BEGIN line: a blank line,
    and the "Bag Attributes" `openssl pkcs12 -nocerts` writes (made by openssl itself)."""
    blank = pki("client-enc-pkcs8-blankline.key")
    with open(pki("client-enc-pkcs8.key")) as src, open(blank, "w") as dst:
        dst.write("\n" + src.read())
    p12, bag = pki("client-pkcs12.p12"), pki("client-enc-pkcs8-bag.key")
    pw = "pass:" + PASSWORD
    subprocess.run(["openssl", "pkcs12", "-export", "-in", pki("client.crt"), "-inkey",
                    pki("client.key"), "-passout", pw, "-out", p12], check=True,
                   capture_output=True, timeout=TIMEOUT)
    subprocess.run(["openssl", "pkcs12", "-in", p12, "-nocerts", "-passin", pw, "-passout", pw,
                    "-out", bag], check=True, capture_output=True, timeout=TIMEOUT)
    with open(bag) as f:
        text = f.read()
    assert text.startswith("Bag Attributes") and "BEGIN ENCRYPTED PRIVATE KEY" in text, text
    return {"blank-line": blank, "bag-attributes": bag}


def probe(port, *args, host="localhost", cafile=True, identity="client"):
    cmd = [PROBE, "--host", host, "--port", str(port)]
    if cafile:
        cmd += ["--cafile", pki("ca.crt")]
    if identity:
        cmd += ["--cert", pki(identity + ".crt"), "--key", pki(identity + ".key")]
    cmd += list(args)
    return subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT)


class GoodPaths(unittest.TestCase):
    """Mutual TLS to mosquitto (require_certificate true) with every supported identity."""

    @classmethod
    def setUpClass(cls):
        cls.broker = tls_broker(PKI).start()

    @classmethod
    def tearDownClass(cls):
        cls.broker.__exit__(None, None, None)

    def ok(self, r):
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr + self.broker.log()[-1500:])
        self.assertIn("connect 1: ok TLSv1.", r.stdout)
        return r.stdout

    def test_identities_round_trip_mqtt(self):
        cases = {
            "ec-p256-pem": ["--cert", pki("client.crt"), "--key", pki("client.key")],
            "ec-p384-pem": ["--cert", pki("client-p384.crt"), "--key", pki("client-p384.key")],
            "rsa-pem": ["--cert", pki("client-rsa.crt"), "--key", pki("client-rsa.key")],
            "ec-der": ["--cert", pki("client.der.crt"), "--key", pki("client.der.key")],
            "rsa-der": ["--cert", pki("client-rsa.der.crt"), "--key", pki("client-rsa.der.key")],
            "ec-encrypted": ["--cert", pki("client.crt"), "--key", pki("client-enc.key"),
                             "--keypass", PASSWORD],
            "rsa-encrypted": ["--cert", pki("client-rsa.crt"), "--key", pki("client-rsa-enc.key"),
                              "--keypass", PASSWORD],
            # OpenSSL 3's default PKCS#8 encryption (PBES2 + AES), PEM and DER.
            "ec-pkcs8-encrypted": ["--cert", pki("client.crt"), "--key", pki("client-enc-pkcs8.key"),
                                   "--keypass", PASSWORD],
            "rsa-pkcs8-encrypted-der": ["--cert", pki("client-rsa.crt"),
                                        "--key", pki("client-rsa-enc-pkcs8.der.key"),
                                        "--keypass", PASSWORD],
        }
        for name, ident in cases.items():
            for mem in ([], ["--mem"]):
                with self.subTest(identity=name, memory=bool(mem)):
                    out = self.ok(probe(self.broker.port, "--mqtt", *ident, *mem, identity=None))
                    self.assertIn("mqtt 1: ok", out)

    def test_pkcs8_key_after_leading_text(self):
        # PEM is found by its BEGIN line wherever it is, as openssl does: mbedTLS 2.28's
        # path (decrypted by Mote) took such a file for DER and called the right password
        # wrong.
        for name, key in keys_after_leading_text().items():
            for mem in ([], ["--mem"]):
                with self.subTest(key=name, memory=bool(mem)):
                    out = self.ok(probe(self.broker.port, "--mqtt", "--cert", pki("client.crt"),
                                        "--key", key, "--keypass", PASSWORD, *mem,
                                        identity=None))
                    self.assertIn("mqtt 1: ok", out)

    def test_key_source_backend(self):
        # A PKCS#11-style backend through the key-source interface: the TLS stack never
        # holds the private key, it asks the "token" to sign.
        r = probe(self.broker.port, "--mqtt", "--cert", pki("client-rsa.crt"),
                  "--key-backend", pki("client-rsa.key"), identity=None)
        if r.returncode == UNSUPPORTED:
            self.skipTest("needs an mbedTLS built with MBEDTLS_PK_RSA_ALT_SUPPORT")
        out = self.ok(r)
        self.assertIn("mqtt 1: ok", out)
        self.assertRegex(out, r"token signatures: [1-9]")
        if TLS13:
            # An RSA_ALT key signs PKCS#1 v1.5 only, TLS 1.3 wants RSA-PSS: the transport
            # offers TLS 1.2 for it, and refuses a demand for 1.3 up front.
            self.assertIn("TLSv1.2", out)
            r = probe(self.broker.port, "--cert", pki("client-rsa.crt"), "--key-backend",
                      pki("client-rsa.key"), "--tls-version", "tlsv1.3", identity=None)
            self.assertEqual(r.returncode, UNSUPPORTED, r.stdout)
            self.assertIn("RSA-PSS", r.stdout)

    def test_ca_from_memory_der_and_directory(self):
        self.ok(probe(self.broker.port, "--mem"))
        r = probe(self.broker.port, cafile=False, *["--cafile", pki("ca.der")])
        self.ok(r)
        capath = os.path.join(PKI, "capath")
        os.makedirs(capath, exist_ok=True)
        with open(pki("ca.crt")) as src, open(os.path.join(capath, "ca.pem"), "w") as dst:
            dst.write(src.read())
        self.ok(probe(self.broker.port, cafile=False, *["--capath", capath]))

    def test_system_bundle_loads_but_does_not_trust_the_test_ca(self):
        # /etc/ssl/certs/ca-certificates.crt (Amazon Root CA 1 among them) parses; our
        # private CA is not in it, so the server is rejected for exactly that reason.
        r = probe(self.broker.port, "--os-certs", cafile=False)
        self.assertEqual(r.returncode, UNKNOWN_CA, r.stdout)
        self.ok(probe(self.broker.port, "--os-certs"))  # plus our CA file: trusted

    def test_ip_address_checked_against_ip_san(self):
        self.ok(probe(self.broker.port, "--mqtt", host="127.0.0.1"))

    def test_servername_overrides_host(self):
        self.ok(probe(self.broker.port, "--servername", "localhost", host="127.0.0.1"))
        r = probe(self.broker.port, "--servername", "other.example", host="127.0.0.1")
        self.assertEqual(r.returncode, HOSTNAME, r.stdout)

    def test_large_payloads_and_many_messages(self):
        out = self.ok(probe(self.broker.port, "--mqtt", "--payload", "200000", "--messages", "3"))
        self.assertIn("mqtt 1: ok", out)
        out = self.ok(probe(self.broker.port, "--mqtt", "--payload", "10", "--messages", "300"))
        self.assertIn("mqtt 1: ok", out)

    def test_max_fragment_length(self):
        out = self.ok(probe(self.broker.port, "--mqtt", "--mfl", "1024", "--payload", "5000"))
        self.assertIn("mqtt 1: ok", out)
        self.assertEqual(probe(self.broker.port, "--mfl", "1000").returncode, BAD_ARG)

    def test_session_resumption_with_mosquitto(self):
        out = self.ok(probe(self.broker.port, "--connects", "3", "--mqtt"))
        self.assertIn("connect 1: ok", out)
        self.assertRegex(out, r"connect 1: .* resumed=0")
        self.assertRegex(out, r"connect 2: .* resumed=1")
        self.assertRegex(out, r"connect 3: .* resumed=1")
        self.assertIn("mqtt 3: ok", out)
        out = self.ok(probe(self.broker.port, "--connects", "2", "--no-resume"))
        self.assertRegex(out, r"connect 2: .* resumed=0")

    def test_cipher_selection(self):
        out = self.ok(probe(self.broker.port, "--ciphers", "ECDHE-ECDSA-AES128-GCM-SHA256"))
        self.assertIn("TLS-ECDHE-ECDSA-WITH-AES-128-GCM-SHA256", out)
        out = self.ok(probe(self.broker.port, "--ciphers",
                            "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"))
        self.assertIn("CHACHA20-POLY1305", out)
        # Defaults: ECDHE key exchange and an AEAD cipher (every TLS 1.3 suite is both).
        out = self.ok(probe(self.broker.port))
        self.assertRegex(out, r"TLS-ECDHE-(ECDSA|RSA)-WITH-[A-Z0-9-]*(GCM|CHACHA20-POLY1305|CCM)"
                         if not TLS13 else r"TLSv1\.3 TLS1-3-[A-Z0-9-]*(GCM|CHACHA20-POLY1305|CCM)")
        out = self.ok(probe(self.broker.port, "--tls-version", "tlsv1.2"))
        self.assertRegex(out, r"TLSv1\.2 TLS-ECDHE-(ECDSA|RSA)-WITH-[A-Z0-9-]*(GCM|CHACHA20-POLY1305)")
        r = probe(self.broker.port, "--ciphers", "NOT-A-CIPHER")
        self.assertEqual(r.returncode, BAD_ARG, r.stdout)
        self.assertIn("NOT-A-CIPHER", r.stdout)

    def test_versions(self):
        out = self.ok(probe(self.broker.port, "--tls-version", "tlsv1.2"))
        self.assertIn("TLSv1.2", out)
        r = probe(self.broker.port, "--tls-version", "tlsv1.1")
        self.assertEqual(r.returncode, BAD_ARG, r.stdout)
        r = probe(self.broker.port, "--tls-version", "tlsv1.3")
        if not TLS13:  # mbedTLS 2.28 has no TLS 1.3
            self.assertEqual(r.returncode, UNSUPPORTED, r.stdout)
        else:
            self.assertIn("TLSv1.3", self.ok(r))

    def test_tls13(self):
        # mosquitto (OpenSSL) speaks TLS 1.3; mbedTLS 3.x negotiates it by default.
        if not TLS13:
            r = probe(self.broker.port, "--tls-version", "tlsv1.3", "--mqtt")
            self.assertEqual(r.returncode, UNSUPPORTED, r.stdout)
            self.assertIn("TLS 1.3 is not available", r.stdout)
            return
        out = self.ok(probe(self.broker.port, "--tls-version", "tlsv1.3", "--mqtt",
                            "--payload", "40000", "--messages", "3"))
        self.assertRegex(out, r"connect 1: ok TLSv1\.3 TLS1-3-")
        self.assertIn("mqtt 1: ok", out)
        # Resumption by PSK from a NewSessionTicket, which arrives after the handshake (it
        # is read with the CONNACK), with and without forcing the version.
        for args in ([], ["--tls-version", "tlsv1.3"]):
            with self.subTest(args=args):
                out = self.ok(probe(self.broker.port, "--connects", "3", "--mqtt", *args))
                self.assertRegex(out, r"connect 1: ok TLSv1\.3 .* resumed=0")
                self.assertRegex(out, r"connect 2: ok TLSv1\.3 .* resumed=1")
                self.assertRegex(out, r"connect 3: ok TLSv1\.3 .* resumed=1")
        # A suite list decides the versions offered: only TLS 1.3 suites, or only 1.2 ones
        # (offering 1.3 without a 1.3 suite would fail against a 1.3 server).
        out = self.ok(probe(self.broker.port, "--ciphers", "TLS_CHACHA20_POLY1305_SHA256"))
        self.assertIn("TLSv1.3 TLS1-3-CHACHA20-POLY1305-SHA256", out)
        out = self.ok(probe(self.broker.port, "--ciphers", "ECDHE-ECDSA-AES256-GCM-SHA384"))
        self.assertIn("TLSv1.2 TLS-ECDHE-ECDSA-WITH-AES-256-GCM-SHA384", out)
        r = probe(self.broker.port, "--tls-version", "tlsv1.3", "--ciphers",
                  "ECDHE-ECDSA-AES128-GCM-SHA256")
        self.assertEqual(r.returncode, BAD_ARG, r.stdout)
        r = probe(self.broker.port, "--tls-version", "tlsv1.2", "--ciphers", "TLS_AES_128_GCM_SHA256")
        self.assertEqual(r.returncode, BAD_ARG, r.stdout)
        # mbedTLS 3.6's TLS 1.3 client has no max_fragment_length: a limit means TLS 1.2
        # (test_max_fragment_length), and asking for both is refused up front.
        out = self.ok(probe(self.broker.port, "--mfl", "2048"))
        self.assertIn("TLSv1.2", out)
        r = probe(self.broker.port, "--tls-version", "tlsv1.3", "--mfl", "2048")
        self.assertEqual(r.returncode, UNSUPPORTED, r.stdout)

    def test_write_after_a_read_that_stopped_at_a_session_ticket(self):
        # A polling read (read wait 0) right after a TLS 1.3 handshake stops at the first
        # session ticket, which mbedTLS 3.6 holds back; the next write (the CONNECT) then
        # finishes it and returns MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET, which is not
        # an error: the write is made again. That ticket is kept for the next connect.
        out = self.ok(probe(self.broker.port, "--poll-read", "--mqtt", "--connects", "2"))
        self.assertIn("poll-read: 0", out)
        self.assertIn("mqtt 2: ok", out)
        self.assertRegex(out, r"connect 2: ok .* resumed=1")

    def test_insecure_skips_verification_but_still_encrypts(self):
        out = self.ok(probe(self.broker.port, "--insecure", "--mqtt", cafile=False))
        self.assertIn("mqtt 1: ok", out)


class BadServers(unittest.TestCase):
    """Each deliberately bad server certificate fails with its own error."""

    def expect(self, server, code, text, host="localhost"):
        with tls_broker(PKI, server=server) as b:
            r = probe(b.port, host=host)
        self.assertEqual(r.returncode, code, r.stdout + r.stderr)
        self.assertIn(text, r.stdout)
        self.assertEqual(len(r.stdout.strip().splitlines()), 1, r.stdout)

    def test_expired(self):
        self.expect("server-expired", CERT_EXPIRED, "certificate expired")

    def test_expired_ca_is_named_not_the_server_certificate(self):
        # The server certificate is within its dates; the CA that signed it is not. The
        # message used to describe the server certificate with its valid dates ("certificate
        # expired: server certificate 'CN=localhost', valid 2024-01-01 to 2099-12-31").
        expired_ca_chain(PKI)
        with tls_broker(PKI, server="server-expiredca") as b:
            r = probe(b.port, cafile=False, *["--cafile", pki("expired-ca.crt")])
        self.assertEqual(r.returncode, CERT_EXPIRED, r.stdout + r.stderr)
        self.assertIn("CA certificate 'CN=Mote Expired CA', valid 2020-01-01 to 2021-01-01",
                      r.stdout)
        self.assertNotIn("valid 2024-01-01 to 2099-12-31", r.stdout)

    def test_not_yet_valid(self):
        self.expect("server-future", CERT_FUTURE, "not yet valid")

    def test_other_host(self):
        self.expect("server-otherhost", HOSTNAME, "does not match the host name")

    def test_other_host_by_address(self):
        self.expect("server-otherhost", HOSTNAME, "'127.0.0.1' is not a name", host="127.0.0.1")

    def test_unknown_ca(self):
        self.expect("server-unknownca", UNKNOWN_CA, "unknown CA")

    def test_rsa_server_certificate(self):
        # AWS IoT endpoints present RSA certificates: ECDHE-RSA with AES-GCM.
        with tls_broker(PKI, server="server-rsa") as b:
            r = probe(b.port, "--mqtt", "--cert", pki("client-p384.crt"),
                      "--key", pki("client-p384.key"), identity=None)
        self.assertEqual(r.returncode, 0, r.stdout)
        # TLS 1.3 (mbedTLS 3.x) names no key exchange in its suites; the RSA certificate is
        # still verified and signs the handshake. Forcing 1.2 checks ECDHE-RSA itself.
        self.assertRegex(r.stdout, r"TLSv1\.3 TLS1-3-AES-\d+-GCM" if TLS13 else
                         r"TLS-ECDHE-RSA-WITH-AES-\d+-GCM")
        self.assertIn("mqtt 1: ok", r.stdout)
        with tls_broker(PKI, server="server-rsa") as b:
            r = probe(b.port, "--mqtt", "--tls-version", "tlsv1.2")
        self.assertEqual(r.returncode, 0, r.stdout)
        self.assertRegex(r.stdout, r"TLSv1\.2 TLS-ECDHE-RSA-WITH-AES-\d+-GCM")

    def test_insecure_accepts_unknown_ca(self):
        with tls_broker(PKI, server="server-unknownca") as b:
            r = probe(b.port, "--insecure", "--mqtt", cafile=False)
        self.assertEqual(r.returncode, 0, r.stdout)


class BadClients(unittest.TestCase):
    """Client-side identity problems: caught locally where possible, else named from the
    server's reaction."""

    @classmethod
    def setUpClass(cls):
        cls.broker = tls_broker(PKI).start()

    @classmethod
    def tearDownClass(cls):
        cls.broker.__exit__(None, None, None)

    def expect(self, code, text, *args, identity=None):
        # --read-ms: with TLS 1.3 the client's handshake ends before the server has judged
        # the client certificate, so its refusal only arrives with the first read (with
        # TLS 1.2 the handshake itself fails and the read never happens).
        r = probe(self.broker.port, "--read-ms", "5000", *args, identity=identity)
        self.assertEqual(r.returncode, code, r.stdout + r.stderr)
        self.assertIn(text, r.stdout)
        return r.stdout

    def test_client_cert_from_other_ca(self):
        out = self.expect(CLIENT_CERT_REJECTED, "server rejected the client certificate",
                          identity="client-otherca")
        if TLS13:
            # The server may reset the connection before its (encrypted) alert is read:
            # see test_tls_cli's test_client_cert_other_ca.
            self.assertRegex(out, r"alert|in reply to our client certificate")
        else:
            self.assertIn("alert", out)

    def test_no_client_cert(self):
        self.expect(CLIENT_CERT_REJECTED, "requires a client certificate")

    def test_key_does_not_match(self):
        self.expect(KEY_MISMATCH, "does not match", "--cert", pki("client.crt"),
                    "--key", pki("client-mismatch.key"))

    def test_wrong_password(self):
        for key, cert in (("client-enc.key", "client.crt"), ("client-rsa-enc.key", "client-rsa.crt")):
            with self.subTest(key=key):
                self.expect(KEY_PASSWORD, "wrong password", "--cert", pki(cert), "--key", pki(key),
                            "--keypass", "not-the-password")

    def test_missing_password(self):
        self.expect(KEY_PASSWORD, "--keypass", "--cert", pki("client.crt"),
                    "--key", pki("client-enc.key"))

    def test_pkcs8_wrong_password(self):
        for key, cert in (("client-enc-pkcs8.key", "client.crt"),
                          ("client-rsa-enc-pkcs8.der.key", "client-rsa.crt")):
            with self.subTest(key=key):
                self.expect(KEY_PASSWORD, "wrong password", "--cert", pki(cert), "--key", pki(key),
                            "--keypass", "not-the-password")

    def test_pkcs8_many_wrong_passwords(self):
        # About one wrong password in 250 decrypts to bytes with valid CBC padding; the
        # parse then fails on the contents, which must still read "wrong password" (with
        # mbedTLS 3.x it once read "a scheme this mbedTLS cannot decrypt"). The key is
        # rejected before any connection, so each try is a few milliseconds.
        for key, cert in (("client-enc-pkcs8.key", "client.crt"),
                          ("client-rsa-enc-pkcs8.der.key", "client-rsa.crt")):
            wrong = {}
            for i in range(400):
                r = subprocess.run([PROBE, "--port", "1", "--cafile", pki("ca.crt"), "--cert",
                                    pki(cert), "--key", pki(key), "--keypass", "wrong-%d" % i],
                                   capture_output=True, text=True, timeout=TIMEOUT)
                if r.returncode != KEY_PASSWORD or "wrong password" not in r.stdout:
                    wrong[i] = r.stdout.strip()
            self.assertEqual(wrong, {}, key)

    def test_pkcs8_after_leading_text_wrong_password(self):
        for name, key in keys_after_leading_text().items():
            with self.subTest(key=name):
                self.expect(KEY_PASSWORD, "wrong password", "--cert", pki("client.crt"),
                            "--key", key, "--keypass", "not-the-password")

    def test_directory_given_as_a_file(self):
        # fopen() opens a directory on Linux; mbedTLS then failed with "memory allocation
        # failed" (under ASan: an abort). Each is named as a directory instead.
        d = os.path.join(PKI, "a-directory")
        os.makedirs(d, exist_ok=True)
        cases = {
            "CA file": ["--cafile", d, "--cert", pki("client.crt"), "--key", pki("client.key")],
            "certificate file": ["--cafile", pki("ca.crt"), "--cert", d, "--key",
                                 pki("client.key")],
            "key file": ["--cafile", pki("ca.crt"), "--cert", pki("client.crt"), "--key", d],
        }
        for what, args in cases.items():
            with self.subTest(what=what):
                r = subprocess.run([PROBE, "--port", str(self.broker.port), *args],
                                   capture_output=True, text=True, timeout=TIMEOUT)
                self.assertEqual(r.returncode, FILE, r.stdout + r.stderr)
                self.assertIn("%s '%s' is a directory" % (what, d), r.stdout)
                if what == "CA file":
                    self.assertIn("--capath", r.stdout)

    def test_ca_directory_without_certificates(self):
        # A directory that yields no CA certificate (empty, or only other files) is named
        # when loading; it used to load "fine" and fail every connection as an unknown CA,
        # blaming the server. Files that do not parse beside good ones are still skipped.
        empty, junk = os.path.join(PKI, "capath-empty"), os.path.join(PKI, "capath-junk")
        os.makedirs(empty, exist_ok=True)
        os.makedirs(junk, exist_ok=True)
        with open(os.path.join(junk, "README"), "w") as f:
            f.write("not a certificate\n")
        for d, detail in ((empty, "(0 files did not parse)"), (junk, "(1 file did not parse)")):
            with self.subTest(capath=d):
                r = subprocess.run([PROBE, "--port", str(self.broker.port), "--capath", d],
                                   capture_output=True, text=True, timeout=TIMEOUT)
                self.assertEqual(r.returncode, BAD_CERT, r.stdout + r.stderr)
                self.assertIn("CA directory '%s' holds no certificate that parses %s"
                              % (d, detail), r.stdout)
                self.assertNotIn("connect 1", r.stdout)
        shutil.copy(pki("ca.crt"), os.path.join(junk, "ca.pem"))
        r = probe(self.broker.port, "--capath", junk, cafile=False)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        # Beside a CA file that does the work, an empty directory is no error either.
        r = probe(self.broker.port, "--capath", empty)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def test_files_missing(self):
        self.expect(FILE, "No such file", "--cert", pki("nope.crt"), "--key", pki("client.key"))
        self.expect(FILE, "No such file", "--cert", pki("client.crt"), "--key", pki("nope.key"))
        r = subprocess.run([PROBE, "--port", str(self.broker.port), "--cafile", pki("nope.crt")],
                           capture_output=True, text=True, timeout=TIMEOUT)
        self.assertEqual(r.returncode, FILE, r.stdout)

    def test_garbage_certificate(self):
        # A file that exists but holds no certificate.
        self.expect(BAD_CERT, "does not parse", "--cert", pki("client-enc.pass"),
                    "--key", pki("client.key"))

    def test_cert_without_key(self):
        r = subprocess.run([PROBE, "--port", str(self.broker.port), "--cafile", pki("ca.crt"),
                            "--cert", pki("client.crt")], capture_output=True, text=True,
                           timeout=TIMEOUT)
        self.assertEqual(r.returncode, BAD_ARG, r.stdout)


class ServerHangsUp(unittest.TestCase):
    """A server that accepted the handshake and our certificate, read the CONNECT, and ended
    the connection. No session tickets: with TLS 1.3 nothing then tells the client that its
    certificate was accepted."""

    def hang_up(self, close_notify):
        with RecordingTLSServer(PKI, require_client_cert=True, tls13=True, tickets=0,
                                hang_up_after=1, close_notify=close_notify) as s:
            r = probe(s.port, "--mqtt")
        self.assertTrue(s.connections and s.connections[0].get("hung_up"), s.connections)
        self.assertEqual(s.connections[0]["version"], "TLSv1.3" if TLS13 else "TLSv1.2")
        return r

    def test_close_notify_is_the_server_closing_not_a_certificate_rejection(self):
        # A clean close (close_notify) is how a broker can refuse the CONNECT (AWS IoT on a
        # policy deny); a server refusing the certificate sends an alert or resets instead.
        r = self.hang_up(close_notify=True)
        self.assertEqual(r.returncode, CLOSED, r.stdout + r.stderr)
        self.assertIn("close_notify", r.stdout)
        self.assertNotIn("certificate", r.stdout)
        if TLS13:
            self.assertIn("right after accepting the TLS 1.3 handshake", r.stdout)

    def test_hang_up_without_close_notify_after_tls13_handshake(self):
        # No close_notify, no alert, nothing received since the TLS 1.3 handshake: still
        # most likely the server's verdict on our certificate (its alert lost to a reset).
        r = self.hang_up(close_notify=False)
        if TLS13:
            self.assertEqual(r.returncode, CLIENT_CERT_REJECTED, r.stdout + r.stderr)
            self.assertIn("in reply to our client certificate", r.stdout)
        else:
            self.assertEqual(r.returncode, CLOSED, r.stdout + r.stderr)


class Timeouts(unittest.TestCase):
    def test_handshake_timeout_against_a_silent_server(self):
        import socket
        import time
        srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        srv.bind(("127.0.0.1", 0))
        srv.listen(4)  # accepts TCP (kernel backlog) and never answers the ClientHello
        try:
            t0 = time.time()
            r = probe(srv.getsockname()[1], "--hs-timeout", "700", identity=None)
            elapsed = time.time() - t0
        finally:
            srv.close()
        self.assertEqual(r.returncode, TIMEOUT_CODE, r.stdout)
        self.assertIn("no TLS handshake within 700 ms", r.stdout)
        self.assertLess(elapsed, TIMEOUT)


def blast_digest(n):
    import hashlib
    return hashlib.sha256(bytes(((i * 131 + (i >> 8)) & 0xff) for i in range(n))).hexdigest()


class Backpressure(unittest.TestCase):
    """Many small gathered writes into a peer that reads late through a small window: the
    staged records must arrive complete and in order; a peer that never reads trips the
    write timeout."""

    def test_staged_writes_survive_a_slow_reader(self):
        n = 3_000_000
        with RecordingTLSServer(PKI, read_delay=1.0, rcvbuf=8192) as s:
            r = probe(s.port, "--blast", str(n), "--sndbuf", "4096", identity=None)
            deadline = __import__("time").time() + TIMEOUT
            while "sha256" not in (s.connections[-1] if s.connections else {}):
                self.assertLess(__import__("time").time(), deadline)
                __import__("time").sleep(0.05)
        self.assertEqual(r.returncode, 0, r.stdout)
        self.assertEqual(s.connections[0]["received"], n)
        self.assertEqual(s.connections[0]["sha256"], blast_digest(n))

    def test_write_timeout_when_the_peer_never_reads(self):
        with RecordingTLSServer(PKI, never_read=True, rcvbuf=4096) as s:
            r = probe(s.port, "--blast", "50000000", "--write-timeout", "800", identity=None)
        self.assertEqual(r.returncode, TIMEOUT_CODE, r.stdout)
        self.assertIn("output blocked", r.stdout)


class SlowLink(unittest.TestCase):
    """Whole 16 KB records through a link that passes a few bytes at a time (SlowRelay): the
    write timeout is about the socket accepting no byte for that long, not about how long a
    record takes, so a link slower than a record per write timeout still works; a peer that
    stops reading mid-stream still ends in a timeout, never a hang."""

    RECORD = 16384

    def test_slow_but_progressing_link_outlasts_the_write_timeout(self):
        # 64 bytes per 20 ms through the smallest buffers: a 16 KB record needs several times
        # the 1.5 s write timeout to leave, while the socket takes bytes every fraction of it.
        n = 2 * self.RECORD
        with RecordingTLSServer(PKI) as s, \
                SlowRelay(s.port, chunk=64, pause=0.02, rcvbuf=1) as relay:
            r = probe(relay.port, "--blast", str(n), "--record", str(self.RECORD),
                      "--sndbuf", "1", "--write-timeout", "1500", identity=None)
            self.assertEqual(r.returncode, 0, r.stdout)
            self.assertIn("blast 1: ok", r.stdout)
            # The whole stream, in order, once the relay has passed on its last bytes.
            deadline = time.time() + TIMEOUT
            while "sha256" not in (s.connections[-1] if s.connections else {}):
                self.assertLess(time.time(), deadline)
                time.sleep(0.05)
        self.assertEqual(s.connections[0]["received"], n)
        self.assertEqual(s.connections[0]["sha256"], blast_digest(n))

    def test_peer_that_stops_reading_mid_record_times_out(self):
        with RecordingTLSServer(PKI) as s, \
                SlowRelay(s.port, rcvbuf=1, stall_after=self.RECORD + 4000) as relay:
            r = probe(relay.port, "--blast", str(8 * self.RECORD), "--record",
                      str(self.RECORD), "--sndbuf", "1", "--write-timeout", "1500",
                      identity=None)
        self.assertEqual(r.returncode, TIMEOUT_CODE, r.stdout)
        self.assertIn("output blocked", r.stdout)
        self.assertNotIn("blast 1: ok", r.stdout)


class WhatTheServerSees(unittest.TestCase):
    """SNI, ALPN and resumption observed by an independent TLS server (OpenSSL via Python)."""

    def test_sni_and_alpn_are_sent(self):
        with RecordingTLSServer(PKI, alpn=["x-amzn-mqtt-ca"]) as s:
            r = probe(s.port, "--alpn", "x-amzn-mqtt-ca,mqtt", identity=None)
        self.assertEqual(r.returncode, 0, r.stdout)
        self.assertIn("alpn=x-amzn-mqtt-ca", r.stdout)
        self.assertEqual(s.connections[0]["sni"], "localhost", s.connections)
        self.assertEqual(s.connections[0]["alpn"], "x-amzn-mqtt-ca", s.connections)

    def test_second_alpn_choice(self):
        with RecordingTLSServer(PKI, alpn=["mqtt"]) as s:
            r = probe(s.port, "--alpn", "x-amzn-mqtt-ca,mqtt", identity=None)
        self.assertEqual(r.returncode, 0, r.stdout)
        self.assertIn("alpn=mqtt", r.stdout)
        self.assertEqual(s.connections[0]["alpn"], "mqtt")

    def test_servername_is_what_sni_carries(self):
        with RecordingTLSServer(PKI) as s:
            r = probe(s.port, "--servername", "localhost", host="127.0.0.1", identity=None)
        self.assertEqual(r.returncode, 0, r.stdout)
        self.assertEqual(s.connections[0]["sni"], "localhost")

    def test_no_sni_for_an_address(self):
        # RFC 6066: an IP literal is never a server name.
        with RecordingTLSServer(PKI) as s:
            r = probe(s.port, host="127.0.0.1", identity=None)
        self.assertEqual(r.returncode, 0, r.stdout)
        self.assertIsNone(s.connections[0]["sni"])

    def test_no_sni_for_other_forms_of_an_address(self):
        # The TCP connect takes every numeric form getaddrinfo does ("127.1" is 127.0.0.1);
        # each was sent as SNI and checked as a DNS name (a host name mismatch). An address
        # is an address: no SNI, checked against the IP SAN.
        for host in ("127.1", "2130706433"):
            with self.subTest(host=host):
                # (the server has recorded the connection once its block has ended)
                with RecordingTLSServer(PKI) as s:
                    r = probe(s.port, host=host, identity=None)
                self.assertEqual(r.returncode, 0, r.stdout)
                self.assertIsNone(s.connections[0]["sni"], s.connections)

    def test_resumption_really_resumes(self):
        with RecordingTLSServer(PKI) as s:
            r = probe(s.port, "--connects", "3", identity=None)
        self.assertEqual(r.returncode, 0, r.stdout)
        self.assertEqual([c["resumed"] for c in s.connections], [False, True, True], s.connections)
        self.assertRegex(r.stdout, r"connect 2: .* resumed=1")

    def test_session_is_not_offered_to_another_host(self):
        # A resumed handshake checks no certificate. The session saved for "localhost" was
        # offered to the next connect whatever its host, and resuming it skipped the host
        # name check: 127.0.0.2 (not in the certificate) was accepted.
        with RecordingTLSServer(PKI, bind="0.0.0.0") as s:
            r = probe(s.port, "--connects", "2", "--then-host", "127.0.0.2", identity=None)
        self.assertEqual(r.returncode, HOSTNAME, r.stdout)
        self.assertIn("'127.0.0.2' is not a name", r.stdout)
        with RecordingTLSServer(PKI) as s:
            r = probe(s.port, "--connects", "2", "--then-host", "127.0.0.1", identity=None)
        self.assertEqual(r.returncode, 0, r.stdout)
        self.assertRegex(r.stdout, r"connect 2: .* resumed=0")

    def test_mutual_tls_to_python_server(self):
        with RecordingTLSServer(PKI, require_client_cert=True) as s:
            r = probe(s.port)
        self.assertEqual(r.returncode, 0, r.stdout)


class MbedTLSPeer(unittest.TestCase):
    """Peer behaviour from an mbedTLS server (tls_peer) that OpenSSL servers do not show."""

    def peer(self, *args):
        p = subprocess.Popen([PEER, "--cert", pki("server.crt"), "--key", pki("server.key"),
                              *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = p.stdout.readline()
        if not line.startswith("port "):
            p.kill()
            self.fail(line + p.stderr.read())
        return p, int(line.split()[1])

    def test_empty_records_are_not_the_end_of_the_stream(self):
        # Zero-length application data records are legal (TLS 1.2 and 1.3; mbedTLS takes up
        # to three in a row). mbedtls_ssl_read returns 0 for two of them in a row, as it
        # does at the end of the stream: that is no data yet, not a closed connection.
        for empty in (1, 2, 3):
            with self.subTest(empty=empty):
                p, port = self.peer("--empty", str(empty), "--data", "hello")
                try:
                    r = probe(port, "--read-bytes", "5", identity=None)
                    out, err = p.communicate(timeout=TIMEOUT)
                finally:
                    p.kill()
                    p.wait()
                self.assertEqual(p.returncode, 0, out + err)
                self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
                self.assertIn("read: 5 bytes 'hello'", r.stdout)


class OpenSSLServerWitness(unittest.TestCase):
    """`openssl s_server` as an independent witness: it prints the SNI extension, the ALPN
    list the client advertised and whether it reused the session."""

    def serve(self, naccept, *extra):
        port = free_port()
        # s_server quits at end of its stdin: keep a pipe open until the client is done.
        # wait_port's own probe connection counts as one accept.
        p = subprocess.Popen(["openssl", "s_server", "-accept", str(port), "-cert", pki("server.crt"),
                              "-key", pki("server.key"), "-naccept", str(naccept + 1), "-tlsextdebug",
                              *extra], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT)
        self.assertTrue(wait_port(port), "s_server did not listen")
        return p, port

    def finish(self, p):
        try:
            out, _ = p.communicate(timeout=10)  # closes stdin: s_server exits
        except subprocess.TimeoutExpired:
            p.kill()
            out, _ = p.communicate()
        return out.decode("utf-8", "replace")

    def test_sni_and_alpn(self):
        p, port = self.serve(2, "-alpn", "x-amzn-mqtt-ca")
        # --read-ms: a TLS 1.3 session ticket comes after the handshake; reading picks it up
        # (s_server sends no data, so under TLS 1.2 this just waits).
        r = probe(port, "--alpn", "x-amzn-mqtt-ca,mqtt", "--connects", "2",
                  *(["--read-ms", "2000"] if TLS13 else []), identity=None)
        out = self.finish(p)
        self.assertEqual(r.returncode, 0, r.stdout)
        self.assertIn('TLS client extension "server name"', out)
        self.assertIn(".localhost", out)
        self.assertIn("ALPN protocols advertised by the client: x-amzn-mqtt-ca, mqtt", out)
        self.assertIn("ALPN protocols selected: x-amzn-mqtt-ca", out)
        self.assertIn("Reused session-id", out)
        self.assertRegex(r.stdout, r"connect 2: .* alpn=x-amzn-mqtt-ca resumed=1")


if __name__ == "__main__":
    unittest.main()
