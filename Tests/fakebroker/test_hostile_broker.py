"""A hostile or broken broker must make `mote` exit non-zero with a message naming the
cause: never a crash, a hang past its timeouts, or exit 0."""
import os
import signal
import subprocess
import sys
import threading
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


def answer_pings_only(c):
    """A broker that accepts the connection and answers PINGREQ, but acknowledges nothing."""
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


class HostileBrokerTest(unittest.TestCase):
    def run_mote(self, script, args, timeout=20, stdin=b""):
        with FakeBroker(script) as fb:
            start = time.time()
            try:
                r = subprocess.run([mote_test.mote_bin()] + [str(a) for a in args] +
                                   ["-h", "127.0.0.1", "-p", str(fb.port)],
                                   input=stdin, capture_output=True, timeout=timeout * SLOW)
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
        rc, err, _ = self.run_mote(script, self.pub("-q", 1, "-k", 5))
        self.assertEqual(rc, EXIT_PROTOCOL, err)
        self.assertIn("packet id", err)

    def test_pubrec_for_unknown_packet_id(self):
        def script(c):
            c.handshake()
            c.connack()
            c.expect(3)
            c.send(packet(0x50, b"\x77\x77"))
            stay_open(c, 10)
        rc, err, _ = self.run_mote(script, self.pub("-q", 2, "-k", 5))
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
            stay_open(c, 40)
        rc, err, _ = self.run_mote(script, ["sub", "-t", "t", "-k", 5, "-W", 30])
        self.assertEqual(rc, EXIT_TIMEOUT, err)
        self.assertIn("keep", err.lower())

    def test_broker_that_never_acks_qos1(self):
        """PINGREQ answered, PUBLISH never acknowledged: --ack-timeout ends the wait."""
        # the keep-alive (5 s, the least mote accepts) is answered once before the ack
        # timeout ends the wait: answered pings do not count as acknowledgements
        rc, err, elapsed = self.run_mote(answer_pings_only, self.pub("-q", 1, "-k", 5, "--ack-timeout", 7))
        self.assertEqual(rc, EXIT_TIMEOUT, err)
        self.assertIn("no acknowledgement", err)
        self.assertGreaterEqual(elapsed, 6.5)

    def test_broker_that_never_acks_qos1_lines(self):
        """pub -l with every in-flight slot taken by a message never acknowledged: the wait
        for a free slot ends at --ack-timeout too."""
        rc, err, _ = self.run_mote(answer_pings_only,
                                   ["pub", "-t", "t", "-l", "-q", 1, "--max-inflight", 2,
                                    "--ack-timeout", 3, "--connect-timeout", 3],
                                   stdin=b"one\ntwo\nthree\nfour\n")
        self.assertEqual(rc, EXIT_TIMEOUT, err)
        self.assertIn("no acknowledgement", err)
        self.assertIn("2 messages in flight", err)

    def test_lines_after_idle_stdin_are_not_an_ack_timeout(self):
        """pub -l: acks that came while stdin was idle count as progress. Lines typed after a
        pause longer than --ack-timeout, filling every slot again, wait for their acks (sent
        promptly) instead of failing at once on the clock of an earlier wait."""
        acked = threading.Event()

        def script(c):
            c.handshake()
            c.connack()
            seen = 0
            c.sock.settimeout(30)
            try:
                while True:
                    ptype, flags, body = c.recv_packet()
                    if ptype == 12:
                        c.send(packet(0xD0, b""))
                    elif ptype == 3:
                        seen += 1
                        pid = body[2 + int.from_bytes(body[:2], "big"):][:2]
                        if seen > 3:
                            time.sleep(0.5)  # the second batch's acks come a little later
                        c.send(packet(0x40, pid))
                        if seen == 3:
                            acked.set()
            except Exception:  # noqa: BLE001 - the client closing ends the script
                pass
        with FakeBroker(script) as fb:
            args = ["pub", "-t", "t", "-l", "-q", 1, "--max-inflight", 2, "--ack-timeout", 2,
                    "-h", "127.0.0.1", "-p", fb.port]
            p = subprocess.Popen([mote_test.mote_bin()] + [str(a) for a in args],
                                 stdin=subprocess.PIPE, stderr=subprocess.PIPE)
            try:
                p.stdin.write(b"one\ntwo\nthree\n")
                p.stdin.flush()
                self.assertTrue(acked.wait(10 * SLOW), "the first three never arrived")
                time.sleep(3)  # stdin idle for longer than --ack-timeout
                p.stdin.write(b"four\nfive\nsix\n")
                p.stdin.close()
                p.wait(20 * SLOW)
                err = p.stderr.read()
            finally:
                if p.poll() is None:
                    p.kill()
                    p.wait()
        self.assertIsNone(fb.error)
        self.assertEqual(p.returncode, 0, err.decode("utf-8", "replace"))

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

    def suback_count_mismatch(self, version, filters, codes):
        """Subscribe to `filters` filters and answer with the reason codes `codes`: a protocol
        error of the broker, reported, and the connection closed with DISCONNECT."""
        seen = []

        def script(c):
            c.handshake()
            c.connack()
            c.suback(codes=codes)
            c.sock.settimeout(10)
            try:
                while True:
                    pkt = c.recv_packet()
                    seen.append(pkt[0])
            except Exception:  # noqa: BLE001 - the client closing is the expected end
                pass
        args = ["sub", "-V", version, "-W", 5]
        for i in range(filters):
            args += ["-t", "f/%d" % i]
        rc, err, _ = self.run_mote(script, args)
        self.assertEqual(rc, EXIT_PROTOCOL, err)
        self.assertIn("SUBACK with %d reason code%s for %d filter%s" %
                      (len(codes), "" if len(codes) == 1 else "s",
                       filters, "" if filters == 1 else "s"), err)
        self.assertNotIn("'?'", err)
        self.assertEqual(seen, [14], "expected only a DISCONNECT after the SUBACK")

    def test_suback_with_fewer_codes_than_filters(self):
        for v in ("mqttv311", "mqttv5"):
            with self.subTest(version=v):
                self.suback_count_mismatch(v, 2, [0])

    def test_suback_with_more_codes_than_filters(self):
        for v in ("mqttv311", "mqttv5"):
            with self.subTest(version=v):
                self.suback_count_mismatch(v, 1, [0, 0x80])

    def test_publish_header_larger_than_rx_buffer_is_our_limit(self):
        """A 2,000-byte topic with --rx-buffer 1024: the broker did nothing wrong; the error
        names our receive buffer, not a protocol error from the broker."""
        def script(c):
            c.handshake()
            c.connack()
            c.suback()
            c.send(packet(0x30, mqtt_str("t/" + "x" * 2000) + b"payload"))
            stay_open(c, 10)
        for v in ("mqttv311", "mqttv5"):
            with self.subTest(version=v):
                rc, err, _ = self.run_mote(script, self.sub("-V", v, "--rx-buffer", 1024))
                self.assertEqual(rc, 1, err)
                self.assertIn("larger than the receive buffer (--rx-buffer 1024", err)
                self.assertNotIn("from the broker", err)

    def test_publish_above_broker_maximum_packet_size_is_local(self):
        """v5 CONNACK announcing Maximum Packet Size 100: a larger PUBLISH is refused by our
        client before sending; that is not a malformed packet from the broker."""
        def script(c):
            c.handshake()
            c.send(packet(0x20, b"\x00\x00\x05\x27\x00\x00\x00\x64"))
            stay_open(c, 10)
        rc, err, _ = self.run_mote(script, ["pub", "-t", "t", "-m", "x" * 200, "-V", "mqttv5"])
        self.assertEqual(rc, 1, err)
        self.assertIn("maximum packet size", err)
        self.assertNotIn("from the broker", err)


def never_ack(received, count):
    """A broker script: CONNACK, answer PINGREQ, never acknowledge a PUBLISH; sets the event
    once `count` PUBLISH packets have arrived."""
    def script(c):
        c.handshake()
        c.connack()
        seen = 0
        c.sock.settimeout(20)
        try:
            while True:
                ptype, _, _ = c.recv_packet()
                if ptype == 3:
                    seen += 1
                    if seen >= count:
                        received.set()
                elif ptype == 12:
                    c.send(packet(0xD0, b""))
        except Exception:  # noqa: BLE001 - the client going away ends the script
            pass
    return script


def silent_after(stage, reached):
    """A broker script that stops answering at a stage: 'accept' (not even the TLS
    handshake) or 'connect' (CONNECT read, no CONNACK); sets the event there."""
    def script(c):
        if stage == "connect":
            c.handshake()
        reached.set()
        stay_open(c, 20)
    return script


class InterruptTest(unittest.TestCase):
    """SIGINT ends pub and sub promptly and says so, whatever they are waiting for."""

    def interrupt(self, script, args, reached, stdin=None):
        with FakeBroker(script) as fb:
            p = subprocess.Popen([mote_test.mote_bin()] + [str(a) for a in args] +
                                 ["-h", "127.0.0.1", "-p", str(fb.port)],
                                 stdin=subprocess.PIPE if stdin is not None else None,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            try:
                if stdin is not None:
                    p.stdin.write(stdin)
                    p.stdin.flush()
                self.assertTrue(reached.wait(10 * SLOW), "the broker never got that far")
                time.sleep(0.3 * SLOW)
                start = time.time()
                p.send_signal(signal.SIGINT)
                try:
                    _, err = p.communicate(timeout=10 * SLOW)
                except subprocess.TimeoutExpired:
                    p.kill()
                    self.fail("mote ignored SIGINT")
                elapsed = time.time() - start
            finally:
                if p.poll() is None:
                    p.kill()
                    p.wait()
                if p.stdin:
                    p.stdin.close()
        return p.returncode, err.decode("utf-8", "replace"), elapsed

    def test_interrupt_with_full_window_is_not_a_timeout(self):
        for args, stdin in ((["pub", "-q", 1, "-t", "t", "-m", "x", "--repeat", 10], None),
                            (["pub", "-q", 1, "-t", "t", "-l"], b"".join(b"l%d\n" % i
                                                                       for i in range(10)))):
            with self.subTest(args=args):
                reached = threading.Event()
                rc, err, _ = self.interrupt(never_ack(reached, 2),
                                            args + ["--max-inflight", 2], reached, stdin)
                self.assertEqual(rc, 1, err)
                self.assertIn("interrupted before every message was acknowledged", err)
                self.assertNotIn("timeout", err)

    def test_interrupt_while_waiting_for_connack(self):
        for cmd, code in (("sub", 0), ("pub", 1)):
            with self.subTest(cmd=cmd):
                reached = threading.Event()
                args = [cmd, "-t", "t"] + (["-m", "x"] if cmd == "pub" else [])
                rc, err, elapsed = self.interrupt(silent_after("connect", reached),
                                                  args + ["--connect-timeout", 30], reached)
                self.assertEqual(rc, code, err)
                self.assertIn("interrupted while connecting", err)
                self.assertLess(elapsed, 3 * SLOW)

    def test_interrupt_during_tls_handshake(self):
        for cmd, code in (("sub", 0), ("pub", 1)):
            with self.subTest(cmd=cmd):
                reached = threading.Event()
                args = [cmd, "-t", "t", "--insecure"] + (["-m", "x"] if cmd == "pub" else [])
                rc, err, elapsed = self.interrupt(silent_after("accept", reached),
                                                  args + ["--connect-timeout", 30], reached)
                self.assertEqual(rc, code, err)
                self.assertIn("interrupted while connecting", err)
                self.assertLess(elapsed, 3 * SLOW)


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
