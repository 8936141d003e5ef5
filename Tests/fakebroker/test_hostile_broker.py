"""A hostile or broken broker must make `mote` exit non-zero with a message naming the
cause: never a crash, a hang past its timeouts, or exit 0."""
import os
import subprocess
import sys
import time
import unittest

from fakebroker import FakeBroker, mqtt_str, packet

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib"))
import mote_test  # noqa: E402

SLOW = 4.0 if os.environ.get("MOTE_SANITIZED") == "1" else 1.0

EXIT_NETWORK, EXIT_REFUSED, EXIT_LOST, EXIT_PROTOCOL, EXIT_TIMEOUT = 2, 3, 4, 5, 6


def stay_open(conn, seconds=30):
    """Keep the connection open, reading (and ignoring) whatever the client sends."""
    conn.sock.settimeout(seconds)
    try:
        while conn.recv_packet():
            pass
    except Exception:  # noqa: BLE001 - the client closing is the expected end
        pass


class HostileBrokerTest(unittest.TestCase):
    def run_mote(self, script, args, timeout=20):
        with FakeBroker(script) as fb:
            start = time.time()
            try:
                r = subprocess.run([mote_test.mote_bin()] + [str(a) for a in args] +
                                   ["-h", "127.0.0.1", "-p", str(fb.port)],
                                   capture_output=True, timeout=timeout * SLOW)
            except subprocess.TimeoutExpired:
                self.fail("mote hung past %d s" % timeout)
            elapsed = time.time() - start
        self.assertIsNone(fb.error)
        err = r.stderr.decode("utf-8", "replace")
        # Negative return codes are signals (a crash, or a sanitizer abort).
        self.assertGreater(r.returncode, 0, "exit %d, stderr: %s" % (r.returncode, err))
        self.assertTrue(err.startswith("mote: ") or "\nmote: " in err, err)
        return r.returncode, err, elapsed

    def pub(self, *extra):
        return ["pub", "-t", "t", "-m", "x", "--connect-timeout", 3] + list(extra)

    def sub(self, *extra):
        return ["sub", "-t", "t", "-W", 5] + list(extra)

    # ---- CONNACK stage ---------------------------------------------------------------

    def test_garbage_instead_of_connack(self):
        def script(c):
            c.handshake()
            c.send(b"\x00\x01garbage bytes \xff\xfe")
            stay_open(c, 10)
        rc, err, _ = self.run_mote(script, self.pub())
        self.assertEqual(rc, EXIT_PROTOCOL, err)
        self.assertIn("malformed", err)

    def test_invalid_remaining_length(self):
        def script(c):
            c.handshake()
            c.send(b"\x20\xff\xff\xff\xff\x01")
            stay_open(c, 10)
        rc, err, _ = self.run_mote(script, self.pub())
        self.assertEqual(rc, EXIT_PROTOCOL, err)
        self.assertIn("remaining length", err.lower())

    def test_truncated_connack_then_close(self):
        def script(c):
            c.handshake()
            c.send(b"\x20\x02\x00")
            c.close()
        rc, err, _ = self.run_mote(script, self.pub())
        self.assertEqual(rc, EXIT_LOST, err)
        self.assertIn("connection lost", err)

    def test_close_right_after_accept(self):
        def script(c):
            c.close()
        rc, err, _ = self.run_mote(script, self.pub())
        self.assertIn(rc, (EXIT_LOST, EXIT_NETWORK), err)

    def test_connack_lies_about_length(self):
        # A 3.1.1 CONNACK is exactly 2 bytes long; this one claims 5.
        def script(c):
            c.handshake()
            c.send(b"\x20\x05\x00\x00\x00\x00\x00")
            stay_open(c, 10)
        rc, err, _ = self.run_mote(script, self.pub())
        self.assertEqual(rc, EXIT_PROTOCOL, err)

    def test_refused_connack_v311_not_authorized(self):
        def script(c):
            c.handshake()
            c.send(b"\x20\x02\x00\x05")
            stay_open(c, 10)
        rc, err, _ = self.run_mote(script, self.pub("-V", "mqttv311"))
        self.assertEqual(rc, EXIT_REFUSED, err)
        self.assertIn("refused", err)
        self.assertIn("5", err)
        self.assertIn("authori", err.lower())

    def test_refused_connack_v5_not_authorized(self):
        def script(c):
            c.handshake()
            c.send(b"\x20\x03\x00\x87\x00")
            stay_open(c, 10)
        rc, err, _ = self.run_mote(script, self.pub("-V", "mqttv5"))
        self.assertEqual(rc, EXIT_REFUSED, err)
        self.assertIn("0x87", err)
        self.assertIn("authori", err.lower())

    def test_v311_broker_answers_v5_connect(self):
        # A 3.1.1-only broker answers a v5 CONNECT with its own two-byte CONNACK, return
        # code 1 (unacceptable protocol version): a refusal that says what to do.
        def script(c):
            c.handshake()
            c.send(b"\x20\x02\x00\x01")
            stay_open(c, 10)
        rc, err, _ = self.run_mote(script, self.pub("-V", "mqttv5"))
        self.assertEqual(rc, EXIT_REFUSED, err)
        self.assertIn("0x84", err)
        self.assertIn("-V mqttv311", err)

    def test_silent_server_connect_timeout(self):
        def script(c):
            c.handshake()
            stay_open(c, 20)
        rc, err, elapsed = self.run_mote(script, self.pub())
        self.assertEqual(rc, EXIT_TIMEOUT, err)
        self.assertIn("timeout", err.lower())

    def test_dripping_connack_times_out(self):
        def script(c):
            c.handshake()
            c.drip(b"\x20\x02\x00\x00", 1.0)
            stay_open(c, 10)
        rc, err, _ = self.run_mote(script, ["pub", "-t", "t", "-m", "x", "--connect-timeout", 2])
        self.assertEqual(rc, EXIT_TIMEOUT, err)

    # ---- After connecting ----------------------------------------------------------

    def test_puback_for_unknown_packet_id(self):
        def script(c):
            c.handshake()
            c.connack()
            c.expect(3)
            c.send(packet(0x40, b"\x12\x34"))
            stay_open(c, 10)
        rc, err, _ = self.run_mote(script, self.pub("-q", 1, "-k", 2))
        self.assertEqual(rc, EXIT_PROTOCOL, err)
        self.assertIn("packet id", err)

    def test_pubrec_for_unknown_packet_id(self):
        def script(c):
            c.handshake()
            c.connack()
            c.expect(3)
            c.send(packet(0x50, b"\x77\x77"))
            stay_open(c, 10)
        rc, err, _ = self.run_mote(script, self.pub("-q", 2, "-k", 2))
        self.assertGreater(rc, 0, err)

    def test_qos3_publish(self):
        def script(c):
            c.handshake()
            c.connack()
            c.suback()
            c.send(packet(0x36, mqtt_str("t") + b"\x00\x01x"))
            stay_open(c, 10)
        rc, err, _ = self.run_mote(script, self.sub())
        self.assertEqual(rc, EXIT_PROTOCOL, err)
        self.assertIn("qos", err.lower())

    def test_publish_topic_longer_than_packet(self):
        def script(c):
            c.handshake()
            c.connack()
            c.suback()
            c.send(packet(0x30, b"\x00\x40abc"))
            stay_open(c, 10)
        rc, err, _ = self.run_mote(script, self.sub())
        self.assertEqual(rc, EXIT_PROTOCOL, err)

    def test_publish_invalid_utf8_topic(self):
        def script(c):
            c.handshake()
            c.connack()
            c.suback()
            c.send(packet(0x30, mqtt_str(b"t/\xc3\x28") + b"x"))
            stay_open(c, 10)
        rc, err, _ = self.run_mote(script, self.sub())
        self.assertEqual(rc, EXIT_PROTOCOL, err)

    def test_garbage_after_subscribe(self):
        def script(c):
            c.handshake()
            c.connack()
            c.suback()
            c.send(bytes(range(256)))
            stay_open(c, 10)
        rc, err, _ = self.run_mote(script, self.sub())
        self.assertEqual(rc, EXIT_PROTOCOL, err)

    def test_truncated_publish_then_close(self):
        def script(c):
            c.handshake()
            c.connack()
            c.suback()
            c.send(packet(0x30, mqtt_str("t") + b"0123456789")[:8])
            c.close()
        rc, err, _ = self.run_mote(script, self.sub())
        self.assertEqual(rc, EXIT_LOST, err)

    def test_dripping_publish_hits_sub_timeout(self):
        def script(c):
            c.handshake()
            c.connack()
            c.suback()
            c.drip(packet(0x30, mqtt_str("t") + b"x" * 100), 1.0)
        rc, err, elapsed = self.run_mote(script, ["sub", "-t", "t", "-W", 3])
        self.assertEqual(rc, EXIT_TIMEOUT, err)
        self.assertIn("timed out", err)
        self.assertLess(elapsed, 15 * SLOW)

    def test_missing_pingresp_keepalive_timeout(self):
        def script(c):
            c.handshake()
            c.connack()
            c.suback()
            stay_open(c, 20)
        rc, err, _ = self.run_mote(script, ["sub", "-t", "t", "-k", 1, "-W", 15])
        self.assertEqual(rc, EXIT_TIMEOUT, err)
        self.assertIn("keep", err.lower())

    def test_broker_that_never_acks_qos1(self):
        """PINGREQ answered, PUBLISH never acknowledged: --ack-timeout ends the wait."""
        def script(c):
            c.handshake()
            c.connack()
            c.sock.settimeout(20)
            try:
                while True:
                    ptype, _, _ = c.recv_packet()
                    if ptype == 12:
                        c.send(packet(0xD0, b""))
            except Exception:  # noqa: BLE001 - the client giving up ends the script
                pass
        rc, err, elapsed = self.run_mote(script, self.pub("-q", 1, "-k", 1, "--ack-timeout", 3))
        self.assertEqual(rc, EXIT_TIMEOUT, err)
        self.assertIn("no acknowledgement", err)
        self.assertGreaterEqual(elapsed, 2.5)

    def test_suback_for_unknown_packet_id_then_silence(self):
        def script(c):
            c.handshake()
            c.connack()
            c.expect(8)
            c.send(packet(0x90, b"\x43\x21\x00"))
            stay_open(c, 10)
        rc, err, _ = self.run_mote(script, self.sub())
        self.assertGreater(rc, 0, err)

    def test_server_disconnect_v5(self):
        def script(c):
            c.handshake()
            c.connack()
            c.suback()
            c.send(packet(0xE0, b"\x8b\x00"))
            stay_open(c, 10)
        rc, err, _ = self.run_mote(script, self.sub("-V", "mqttv5"))
        self.assertEqual(rc, EXIT_LOST, err)
        self.assertIn("DISCONNECT", err)

    def test_oversized_packet_length_claim(self):
        # Claims 256 MB and then stops: a lie the client must not wait for forever.
        def script(c):
            c.handshake()
            c.connack()
            c.suback()
            c.send(b"\x30\xff\xff\xff\x7f" + mqtt_str("t") + b"x" * 10)
            c.close()
        rc, err, _ = self.run_mote(script, self.sub())
        self.assertIn(rc, (EXIT_LOST, EXIT_PROTOCOL), err)

    def test_all_subscriptions_refused(self):
        def script(c):
            c.handshake()
            c.connack()
            c.suback(granted=0x80)
            stay_open(c, 10)
        rc, err, _ = self.run_mote(script, self.sub())
        self.assertEqual(rc, 1, err)
        self.assertIn("refused", err)


class TransportTest(unittest.TestCase):
    """The TCP adapter itself, with a well-behaved scripted broker."""

    def good_broker(self, c):
        c.handshake()
        c.connack()
        _, flags, body = c.expect(3)
        if (flags >> 1) & 3:
            pid = body[2 + int.from_bytes(body[:2], "big"):][:2]
            c.send(packet(0x40, pid))
        c.expect(14)

    def test_ipv6_loopback(self):
        try:
            fb = FakeBroker(self.good_broker, host="::1")
        except OSError:
            self.skipTest("no IPv6 loopback")
        with fb:
            r = subprocess.run([mote_test.mote_bin(), "pub", "-h", "::1", "-p", str(fb.port),
                                "-t", "v6", "-m", "x", "-q", "1"], capture_output=True,
                               timeout=20 * SLOW)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIsNone(fb.error)

    def test_name_resolving_to_several_addresses(self):
        # "localhost" may give ::1 first; the broker only listens on 127.0.0.1.
        with FakeBroker(self.good_broker) as fb:
            r = subprocess.run([mote_test.mote_bin(), "pub", "-h", "localhost", "-p", str(fb.port),
                                "-t", "v4", "-m", "x", "-q", "1"], capture_output=True,
                               timeout=20 * SLOW)
        self.assertEqual(r.returncode, 0, r.stderr)


if __name__ == "__main__":
    unittest.main()
