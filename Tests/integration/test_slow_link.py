"""mote pub -f of a large payload over a slow plain-TCP link to a real mosquitto (a relay in
between passes a few KB at a time): --ack-timeout limits time without progress (the broker
taking no byte, or acks not coming), not how long the whole payload takes, so a slow link
that keeps moving succeeds; a link that stops taking bytes ends in the timeout exit code,
never a hang."""
import hashlib
import os
import socket
import sys
import tempfile
import unittest

from moteproc import mote, run, start_sub
import mote_test

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "tls"))
from tls_fixtures import SlowRelay  # noqa: E402

EXIT_TIMEOUT = 6


class EthernetSlowRelay(SlowRelay):
    """SlowRelay advertising an Ethernet-sized MSS: over loopback's 64 KB segments the
    client's kernel would grow its send buffer past a megabyte and take the whole payload at
    once, and the tool would never wait on the link."""

    def __init__(self, port, **kw):
        super().__init__(port, **kw)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, 1400)
# Larger than the socket buffers on the way can hold, so the tool itself waits on the link.
PAYLOAD_SIZE = 768 * 1024
# Small enough for the client's socket send buffer to hold nearly all of it.
SOCKET_BUFFERED_SIZE = 384 * 1024


class SlowLink(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.broker = mote_test.Broker().start()
        cls.port = cls.broker.port
        cls.dir = tempfile.mkdtemp(prefix="mote-slow-")
        # Not compressible or repetitive: a lost or repeated chunk changes the digest.
        cls.payload = b"".join(hashlib.sha256(b"%d" % i).digest()
                               for i in range(PAYLOAD_SIZE // 32))
        cls.file = os.path.join(cls.dir, "payload.bin")
        with open(cls.file, "wb") as f:
            f.write(cls.payload)

    @classmethod
    def tearDownClass(cls):
        cls.broker.__exit__(None, None, None)
        os.unlink(cls.file)
        os.rmdir(cls.dir)

    def pub_through(self, relay, *args, timeout=20):
        return run(mote("pub", "-h", "127.0.0.1", "-p", relay.port, "-f", self.file,
                        "--ack-timeout", 1, *args), timeout=timeout)

    def test_slow_progressing_link_outlasts_the_ack_timeout(self):
        # About 100 KB/s through a small receive buffer: the payload needs several times the
        # 1 s --ack-timeout to leave, while the link takes bytes every few milliseconds.
        for v, qos in (("mqttv311", 0), ("mqttv5", 1)):
            with self.subTest(version=v, qos=qos):
                topic = "slow/%s/%d" % (v, qos)
                with start_sub(self.port, "-V", v, "-q", qos, "-t", topic, "-C", 1, "-N") as s, \
                        EthernetSlowRelay(self.port, chunk=2048, pause=0.01, rcvbuf=4096) as relay:
                    r = self.pub_through(relay, "-V", v, "-q", qos, "-t", topic)
                    self.assertEqual(r.returncode, 0, r.stderr)
                    rc = s.wait(20)
                    self.assertEqual(rc, 0, s.stderr_text())
                    got = s.stdout_bytes()
                self.assertEqual(len(got), len(self.payload))
                self.assertEqual(hashlib.sha256(got).hexdigest(),
                                 hashlib.sha256(self.payload).hexdigest())

    def test_payload_draining_from_the_socket_buffer_is_progress(self):
        # Over loopback's large segments the kernel takes the whole payload into the socket's
        # send buffer at once; the link then needs about twice the 1 s --ack-timeout to pass
        # it on. The ack is due when the broker has it all, not when the socket took it.
        payload = self.payload[:SOCKET_BUFFERED_SIZE]
        path = os.path.join(self.dir, "buffered.bin")
        with open(path, "wb") as f:
            f.write(payload)
        self.addCleanup(os.unlink, path)
        for v in ("mqttv311", "mqttv5"):
            with self.subTest(version=v):
                topic = "slow/buffered/%s" % v
                with start_sub(self.port, "-V", v, "-q", 1, "-t", topic, "-C", 1, "-N") as s, \
                        SlowRelay(self.port, chunk=4096, pause=0.02, rcvbuf=4096) as relay:
                    r = run(mote("pub", "-h", "127.0.0.1", "-p", relay.port, "-f", path,
                                 "--ack-timeout", 1, "-V", v, "-q", 1, "-t", topic),
                            timeout=20)
                    self.assertEqual(r.returncode, 0, r.stderr)
                    rc = s.wait(20)
                    self.assertEqual(rc, 0, s.stderr_text())
                    got = s.stdout_bytes()
                self.assertEqual(len(got), len(payload))
                self.assertEqual(hashlib.sha256(got).hexdigest(),
                                 hashlib.sha256(payload).hexdigest())

    def test_link_that_stops_taking_bytes_times_out(self):
        for v, qos in (("mqttv311", 0), ("mqttv5", 1)):
            with self.subTest(version=v, qos=qos):
                with EthernetSlowRelay(self.port, chunk=4096, pause=0.001, rcvbuf=1,
                               stall_after=64 * 1024) as relay:
                    r = self.pub_through(relay, "-V", v, "-q", qos, "-t", "stall/%s" % v)
                self.assertEqual(r.returncode, EXIT_TIMEOUT, r.stderr)
                self.assertIn(b"the broker took no data for 1 s", r.stderr)
                self.assertIn(b"bytes not sent", r.stderr)


    def test_peer_that_stops_reading_a_socket_buffered_payload_times_out(self):
        # The socket takes nearly all of the payload at once, then the relay stops reading:
        # its send queue stops falling, and that is judged by --ack-timeout like any stall.
        path = os.path.join(self.dir, "buffered-stall.bin")
        with open(path, "wb") as f:
            f.write(self.payload[:SOCKET_BUFFERED_SIZE])
        self.addCleanup(os.unlink, path)
        for v in ("mqttv311", "mqttv5"):
            with self.subTest(version=v):
                with SlowRelay(self.port, chunk=4096, pause=0.001, rcvbuf=4096,
                               stall_after=64 * 1024) as relay:
                    r = run(mote("pub", "-h", "127.0.0.1", "-p", relay.port, "-f", path,
                                 "--ack-timeout", 1, "-V", v, "-q", 1, "-t", "stall/%s" % v),
                            timeout=20)
                self.assertEqual(r.returncode, EXIT_TIMEOUT, r.stderr)
                self.assertIn(b"the broker took no data for 1 s", r.stderr)
                self.assertIn(b"bytes not sent", r.stderr)


if __name__ == "__main__":
    unittest.main()
