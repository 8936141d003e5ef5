"""mote pub / mote sub against a real mosquitto on a free loopback port: QoS round trips,
retained messages, wills, persistent sessions, keep-alive, large payloads, both protocol
versions, and interoperability with mosquitto_pub / mosquitto_sub."""
import os
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

from moteproc import BrokerCase, Proc, mote, run, start_sub, t
import mote_test

VERSIONS = ("mqttv311", "mqttv5")


class MosquittoTest(BrokerCase):
    def test_qos_round_trips_both_versions(self):
        for v in VERSIONS:
            for qos in (0, 1, 2):
                with self.subTest(version=v, qos=qos):
                    topic = "rt/%s/%d" % (v, qos)
                    with self.sub("-V", v, "-q", qos, "-t", topic, "-C", 1, "-v") as s:
                        self.pub("-V", v, "-q", qos, "-t", topic, "-m", "hello %d" % qos)
                        out = self.finish(s)
                    self.assertEqual(out, ("%s hello %d\n" % (topic, qos)).encode())

    def test_many_lines_in_order(self):
        for v in VERSIONS:
            for qos in (0, 1, 2):
                with self.subTest(version=v, qos=qos):
                    topic = "lines/%s/%d" % (v, qos)
                    n = 300
                    lines = "".join("line %d\n" % i for i in range(n)).encode()
                    with self.sub("-V", v, "-q", qos, "-t", topic, "-C", n) as s:
                        self.pub("-V", v, "-q", qos, "-t", topic, "-l", input=lines)
                        out = self.finish(s, 30)
                    if qos == 0:
                        # QoS 0 may drop under pressure in theory; on loopback it does not.
                        self.assertEqual(out.count(b"\n"), n)
                    self.assertEqual(out, lines)

    def test_repeat_publish_qos1_window(self):
        topic = "repeat/q1"
        with self.sub("-q", 1, "-t", topic, "-C", 500) as s:
            self.pub("-q", 1, "-t", topic, "-m", "x", "--repeat", 500, "--max-inflight", 5)
            out = self.finish(s)
        self.assertEqual(out, b"x\n" * 500)

    def test_retained_message(self):
        for v in VERSIONS:
            with self.subTest(version=v):
                topic = "retained/%s" % v
                self.pub("-V", v, "-q", 1, "-r", "-t", topic, "-m", "kept")
                r = run(mote("sub", "-h", "127.0.0.1", "-p", self.port, "-V", v, "-t", topic,
                             "-C", 1, "-v", "-W", 10))
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertEqual(r.stdout, ("%s kept\n" % topic).encode())
                # -R skips stale retained messages: only the fresh one is printed.
                with self.sub("-V", v, "-t", topic, "-C", 1, "-R") as s:
                    self.pub("-V", v, "-t", topic, "-m", "fresh")
                    self.assertEqual(self.finish(s), b"fresh\n")
                # Clear it again with an empty retained message.
                self.pub("-V", v, "-r", "-n", "-t", topic)

    def test_will_on_abnormal_disconnect(self):
        for v in VERSIONS:
            with self.subTest(version=v):
                will = "will/%s" % v
                with self.sub("-V", v, "-t", will, "-C", 1, "-v") as s:
                    # pub -l keeps the connection open while waiting for stdin.
                    p = Proc(mote("pub", "-h", "127.0.0.1", "-p", self.port, "-V", v, "-d",
                                  "-t", "will/data", "-l", "--will-topic", will,
                                  "--will-payload", "device gone", "--will-qos", 1),
                             stdin=subprocess.PIPE)
                    with p:
                        self.assertTrue(p.wait_stderr("received CONNACK"), p.stderr_text())
                        os.kill(p.p.pid, signal.SIGKILL)
                        p.p.wait()
                    out = self.finish(s)
                self.assertEqual(out, ("%s device gone\n" % will).encode())

    def test_no_will_on_clean_disconnect(self):
        will = "will/clean"
        with self.sub("-t", will, "-W", int(t(3))) as s:
            self.pub("-t", "will/data", "-m", "x", "--will-topic", will, "--will-payload", "no")
            rc = s.wait(10)
        self.assertEqual(rc, 6, s.stderr_text())  # timed out: nothing came
        self.assertEqual(s.stdout_bytes(), b"")
        self.assertIn("timed out", s.stderr_text())

    def test_persistent_session_queues_while_offline(self):
        for v in VERSIONS:
            with self.subTest(version=v):
                cid = "persist-%s-%d" % (v, os.getpid())
                topic = "persist/%s" % v
                with self.sub("-V", v, "-c", "-i", cid, "-q", 1, "-t", topic, "-C", 1) as s:
                    self.pub("-V", v, "-q", 1, "-t", topic, "-m", "online")
                    self.assertEqual(self.finish(s), b"online\n")
                # The subscriber is offline now; the broker queues for the session.
                for i in range(3):
                    self.pub("-V", v, "-q", 1, "-t", topic, "-m", "queued %d" % i)
                r = run(mote("sub", "-h", "127.0.0.1", "-p", self.port, "-V", v, "-c", "-i", cid,
                             "-q", 1, "-t", topic, "-C", 3, "-W", 10))
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertEqual(r.stdout, b"queued 0\nqueued 1\nqueued 2\n")

    def test_keep_alive_across_idle_period(self):
        for v in VERSIONS:
            with self.subTest(version=v):
                topic = "ka/%s" % v
                with self.sub("-V", v, "-k", 5, "-t", topic, "-C", 1) as s:
                    # Idle past the keep-alive (5 s, the shortest mosquitto_sub allows).
                    self.assertTrue(s.wait_stderr("received PINGRESP", 30), s.stderr_text())
                    self.assertIsNone(s.p.poll(), s.stderr_text())
                    self.pub("-V", v, "-t", topic, "-m", "still here")
                    out = self.finish(s)
                self.assertEqual(out, b"still here\n")
                err = s.stderr_text()
                self.assertIn("sending PINGREQ", err)
                self.assertIn("received PINGRESP", err)

    def test_pub_lines_keeps_alive_while_stdin_idle(self):
        topic = "ka/lines"
        with self.sub("-t", topic, "-C", 1, "-q", 1) as s:
            p = Proc(mote("pub", "-h", "127.0.0.1", "-p", self.port, "-d", "-k", 5, "-q", 1,
                          "-t", topic, "-l"), stdin=subprocess.PIPE)
            with p:
                self.assertTrue(p.wait_stderr("received PINGRESP", 30), p.stderr_text())
                p.p.stdin.write(b"after idle\n")
                p.p.stdin.close()
                self.assertEqual(p.wait(10), 0, p.stderr_text())
            self.assertEqual(self.finish(s), b"after idle\n")

    def test_one_megabyte_payload(self):
        data = bytes((i * 7 + (i >> 8)) & 0xFF for i in range(1 << 20))
        tmp = tempfile.mkdtemp()
        try:
            path = os.path.join(tmp, "big.bin")
            with open(path, "wb") as f:
                f.write(data)
            for v in VERSIONS:
                for rx in ("32768", "1024"):
                    with self.subTest(version=v, rx_buffer=rx):
                        topic = "big/%s" % v
                        with self.sub("-V", v, "-q", 1, "-t", topic, "-C", 1, "-N",
                                      "--rx-buffer", rx) as s:
                            self.pub("-V", v, "-q", 1, "-t", topic, "-f", path, timeout=60)
                            out = self.finish(s, 60)
                        self.assertEqual(len(out), len(data))
                        self.assertTrue(out == data, "payload differs")
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def test_several_filters(self):
        with self.sub("-t", "multi/a", "-t", "multi/+/x", "-t", "other/#", "-C", 2, "-v",
                      "-V", "mqttv5") as s:
            self.pub("-t", "multi/b/x", "-m", "1")
            self.pub("-t", "other/zzz", "-m", "2")
            out = self.finish(s)
        self.assertEqual(out, b"multi/b/x 1\nother/zzz 2\n")

    def test_user_properties_v5(self):
        with self.sub("-V", "mqttv5", "-t", "props", "-C", 1) as s:
            self.pub("-V", "mqttv5", "-t", "props", "-m", "p", "--property", "k", "v")
            self.assertEqual(self.finish(s), b"p\n")

    def test_interop_with_mosquitto_clients(self):
        if shutil.which("mosquitto_pub") is None:
            self.skipTest("mosquitto clients not installed")
        for v in ("mqttv311", "mqttv5"):
            with self.subTest(direction="mosquitto_pub -> mote sub", version=v):
                with self.sub("-V", v, "-q", 2, "-t", "interop/a", "-C", 1, "-v") as s:
                    r = run(["mosquitto_pub", "-p", str(self.port), "-h", "127.0.0.1", "-V", v,
                             "-q", "2", "-t", "interop/a", "-m", "from mosquitto"])
                    self.assertEqual(r.returncode, 0, r.stderr)
                    self.assertEqual(self.finish(s), b"interop/a from mosquitto\n")
            with self.subTest(direction="mote pub -> mosquitto_sub", version=v):
                # Retained, so mosquitto_sub (whose -d trace is buffered) needs no readiness
                # signal: it receives the message whenever it subscribes.
                topic = "interop/b/%s" % v
                self.pub("-V", v, "-q", 2, "-r", "-t", topic, "-m", "from mote")
                r = run(["mosquitto_sub", "-p", str(self.port), "-h", "127.0.0.1", "-V", v,
                         "-q", "2", "-t", topic, "-C", "1", "-v", "-W", "10"])
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertEqual(r.stdout, ("%s from mote\n" % topic).encode())
                self.pub("-V", v, "-r", "-n", "-t", topic)

    def test_sub_timeout_exit_code(self):
        r = run(mote("sub", "-h", "127.0.0.1", "-p", self.port, "-t", "nothing/here", "-W", 1))
        self.assertEqual(r.returncode, 6, r.stderr)
        self.assertIn(b"timed out", r.stderr)

    def test_usage_errors(self):
        for args in (("pub", "-m", "x"), ("pub", "-t", "a", "-m", "x", "-q", "3"),
                     ("sub", "-t", "a", "-c"), ("pub", "-t", "a"), ("sub", "--bogus"),
                     ("nosuchcommand",)):
            with self.subTest(args=args):
                r = run(mote(*args))
                self.assertEqual(r.returncode, 1, r.stderr)
                self.assertTrue(r.stderr.startswith(b"mote: ") or b"Usage" in r.stderr, r.stderr)
        r = run(mote("--version"))
        self.assertEqual(r.returncode, 0)
        self.assertTrue(r.stdout.startswith(b"mote "))
        self.assertEqual(run(mote("pub", "--help")).returncode, 0)

    def test_keep_alive_outside_5_to_65535_is_a_usage_error(self):
        """Like mosquitto_pub/sub ("Invalid keepalive given, it must be between 5 and 65535
        inclusive", exit 1), 0 included: refused before connecting, nothing is sent."""
        for cmd in ("pub", "sub"):
            for k in ("0", "1", "4", "65536", "-1", "x"):
                with self.subTest(cmd=cmd, k=k):
                    args = ["-t", "ka/usage"] + (["-m", "x"] if cmd == "pub" else ["-W", 1])
                    r = run(mote(cmd, "-h", "127.0.0.1", "-p", self.port, "-d", "-k", k, *args))
                    self.assertEqual(r.returncode, 1, r.stderr)
                    self.assertIn(b"-k", r.stderr)
                    self.assertIn(b"between 5 and 65535", r.stderr)
                    self.assertNotIn(b"CONNECT", r.stderr)  # the -d trace: nothing was sent
        for k in ("5", "65535"):
            with self.subTest(k=k):
                r = run(mote("pub", "-h", "127.0.0.1", "-p", self.port, "-d", "-k", k,
                             "-t", "ka/usage", "-m", "x"))
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertIn(("keep-alive %s s" % k).encode(), r.stderr)

    def test_unreadable_payload_file_is_an_error(self):
        """A directory or a missing file given to -f fails before connecting; nothing is sent."""
        for path in ("/", "/nonexistent/payload.bin"):
            with self.subTest(path=path):
                r = run(mote("pub", "-h", "127.0.0.1", "-p", self.port, "-t", "a", "-f", path))
                self.assertEqual(r.returncode, 1, r.stderr)
                self.assertIn(b"cannot read", r.stderr)

    def test_invalid_topic_rejected(self):
        """Checked while parsing options, before connecting: a usage error naming the value,
        not a 'protocol error from the broker' (exit 5) after CONNECT."""
        for args, word in ((("pub", "-t", "bad/#", "-m", "x"), b"invalid topic 'bad/#'"),
                           (("pub", "-t", "a/+", "-m", "x"), b"invalid topic 'a/+'"),
                           (("pub", "-t", "", "-m", "x"), b"invalid topic ''"),
                           (("pub", "-t", "ok", "-m", "x", "--will-topic", "w/#"),
                            b"invalid topic 'w/#'"),
                           (("sub", "-t", "a/#/b"), b"invalid filter 'a/#/b'"),
                           (("sub", "-t", "ok", "-t", "a+"), b"invalid filter 'a+'"),
                           (("sub", "-t", ""), b"invalid filter ''")):
            with self.subTest(args=args):
                r = run(mote(args[0], "-h", "127.0.0.1", "-p", self.port, "-d", *args[1:]))
                self.assertEqual(r.returncode, 1, r.stderr)
                self.assertIn(word, r.stderr)
                self.assertNotIn(b"broker", r.stderr)
                self.assertNotIn(b"CONNECT", r.stderr)  # the -d trace: nothing was sent

    def test_sub_count_leaves_later_messages_in_the_session(self):
        """-C N with QoS 1 and a persistent session: messages that arrive after the Nth (in
        the same read) are not acknowledged, so the next run gets them; none is lost and
        none comes twice."""
        for v in VERSIONS:
            with self.subTest(version=v):
                cid = "count-%s-%d" % (v, os.getpid())
                topic = "count/%s" % v
                base = ("sub", "-h", "127.0.0.1", "-p", self.port, "-V", v, "-c", "-i", cid,
                        "-q", 1, "-t", topic)
                # Subscribe once so the session exists, then queue while offline.
                r = run(mote(*base, "-W", 1))
                self.assertEqual(r.returncode, 6, r.stderr)
                n = 8
                self.pub("-V", v, "-q", 1, "-t", topic, "-l",
                         input="".join("m%d\n" % i for i in range(n)).encode())
                first = run(mote(*base, "-C", 2, "-W", 10))
                self.assertEqual(first.returncode, 0, first.stderr)
                self.assertEqual(first.stdout, b"m0\nm1\n")
                rest = run(mote(*base, "-C", n - 2, "-W", 10))
                self.assertEqual(rest.returncode, 0, rest.stderr + rest.stdout)
                self.assertEqual(rest.stdout, "".join("m%d\n" % i for i in range(2, n)).encode())
                # Nothing left over: a third run times out empty.
                r = run(mote(*base, "-W", 1))
                self.assertEqual((r.returncode, r.stdout), (6, b""), r.stderr)

    def test_long_client_id_is_sent_whole(self):
        cid = "long-client-id-%d-" % os.getpid()
        cid += "x" * (200 - len(cid))
        r = run(mote("pub", "-h", "127.0.0.1", "-p", self.port, "-i", cid, "-t", "cid",
                     "-m", "x", "-d"))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(("Client %s sending CONNECT" % cid).encode(), r.stderr)
        deadline = time.time() + 5
        while cid not in self.broker.log() and time.time() < deadline:
            time.sleep(0.05)
        self.assertIn("as %s " % cid, self.broker.log())
        # Above the limit: a usage error, never a truncated id.
        r = run(mote("pub", "-h", "127.0.0.1", "-p", self.port, "-i", "y" * 257, "-t", "cid",
                     "-m", "x"))
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn(b"client id too long", r.stderr)

    def test_sub_large_timeout_values(self):
        """-W values whose milliseconds overflow 32 bits (2,147,484 s and up) still wait."""
        for w in (2147484, 4294968, 86400 * 365):
            with self.subTest(w=w):
                topic = "bigw/%d" % w
                with self.sub("-t", topic, "-C", 1, "-W", w) as s:
                    self.pub("-t", topic, "-m", "ok")
                    self.assertEqual(self.finish(s), b"ok\n")

    def test_user_properties_too_large_is_a_usage_error(self):
        r = run(mote("pub", "-h", "127.0.0.1", "-p", self.port, "-V", "mqttv5", "-t", "props",
                     "-m", "x", "--property", "k", "v" * 600))
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn(b"--property 'k'", r.stderr)
        self.assertIn(b"too large", r.stderr)
        # Several that fit one by one but not together.
        args = []
        for i in range(4):
            args += ["--property", "k%d" % i, "v" * 150]
        r = run(mote("sub", "-h", "127.0.0.1", "-p", self.port, "-V", "mqttv5", "-t", "props",
                     "-W", 1, *args))
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn(b"too large", r.stderr)

    def test_verbose_empty_payload_prints_null(self):
        """Like mosquitto_sub -v: "topic (null)"; without -v an empty line."""
        with self.sub("-t", "empty/v", "-C", 1, "-v") as s:
            self.pub("-t", "empty/v", "-n")
            self.assertEqual(self.finish(s), b"empty/v (null)\n")
        with self.sub("-t", "empty/plain", "-C", 1) as s:
            self.pub("-t", "empty/plain", "-n")
            self.assertEqual(self.finish(s), b"\n")

    def test_pub_lines_interrupted_reports_unacknowledged(self):
        """SIGINT while QoS 1 messages from -l are unacknowledged (the broker is stopped
        with SIGSTOP so no PUBACK comes): reported like the -m path, exit 1."""
        with mote_test.Broker() as b:
            p = Proc(mote("pub", "-h", "127.0.0.1", "-p", b.port, "-q", 1, "-t", "intr",
                          "-l", "-d"), stdin=subprocess.PIPE)
            with p:
                self.assertTrue(p.wait_stderr("received CONNACK"), p.stderr_text())
                os.kill(b.proc.pid, signal.SIGSTOP)
                try:
                    p.p.stdin.write(b"one\ntwo\n")
                    p.p.stdin.flush()
                    deadline = time.time() + t(10)
                    while p.stderr_text().count("sending PUBLISH") < 2:
                        self.assertLess(time.time(), deadline, p.stderr_text())
                        time.sleep(0.02)
                    p.p.send_signal(signal.SIGINT)
                    rc = p.wait(10)
                finally:
                    os.kill(b.proc.pid, signal.SIGCONT)
            self.assertEqual(rc, 1, p.stderr_text())
            self.assertIn("interrupted before every message was acknowledged", p.stderr_text())


class PayloadSourcesTest(BrokerCase):
    """-s (all of stdin), -n (empty message), -f from a pipe."""

    def test_stdin_whole_and_null_message(self):
        with self.sub("-t", "src/s", "-C", 2, "-q", 1) as s:
            self.pub("-t", "src/s", "-q", 1, "-s", input=b"two\nlines")
            self.pub("-t", "src/s", "-q", 1, "-n")
            self.assertEqual(self.finish(s), b"two\nlines\n\n")

    def test_stdin_whole_empty_is_refused(self):
        """-s with empty stdin: an error before connecting, nothing sent (mosquitto_pub 2.0.11:
        "Error: Zero length input.", exit 1, no connection); -n is for an empty message."""
        for v in VERSIONS:
            with self.subTest(version=v):
                r = run(mote("pub", "-h", "127.0.0.1", "-p", self.port, "-V", v, "-d", "-q", 1,
                             "-t", "src/empty-s", "-s"), input=b"")
                self.assertEqual(r.returncode, 1, r.stderr)
                self.assertIn(b"standard input is empty", r.stderr)
                self.assertIn(b"-n", r.stderr)
                self.assertNotIn(b"CONNECT", r.stderr)  # the -d trace: nothing was sent

    def test_empty_file_sends_an_empty_message(self):
        """-f with an empty file publishes a zero-length message, as mosquitto_pub -f does."""
        tmp = tempfile.mkdtemp()
        try:
            path = os.path.join(tmp, "empty")
            open(path, "wb").close()
            with self.sub("-t", "src/empty-f", "-C", 1, "-v") as s:
                self.pub("-t", "src/empty-f", "-f", path)
                self.assertEqual(self.finish(s), b"src/empty-f (null)\n")
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def test_file_from_pipe(self):
        with self.sub("-t", "src/f", "-C", 1) as s:
            self.pub("-t", "src/f", "-f", "/dev/stdin", input=b"piped")
            self.assertEqual(self.finish(s), b"piped\n")


class AuthenticationTest(unittest.TestCase):
    """Username/password against a broker with a password file: accepted, and refused with
    the reason named, on both protocol versions."""

    def test_username_password(self):
        if shutil.which("mosquitto_passwd") is None:
            self.skipTest("mosquitto_passwd missing")
        b = mote_test.Broker(extra=["allow_anonymous false"])
        pw = os.path.join(b.dir, "passwd")
        subprocess.run(["mosquitto_passwd", "-c", "-b", pw, "alice", "secret"], check=True,
                       capture_output=True)
        os.chmod(pw, 0o644)
        b.extra.append("password_file %s" % pw)
        with b:
            for v, code in (("mqttv311", b"return code 5"), ("mqttv5", b"0x87")):
                with self.subTest(version=v):
                    base = mote("pub", "-h", "127.0.0.1", "-p", b.port, "-V", v, "-t", "auth",
                                "-m", "x", "-q", 1)
                    r = run(base + ["-u", "alice", "-P", "secret"])
                    self.assertEqual(r.returncode, 0, r.stderr)
                    r = run(base + ["-u", "alice", "-P", "wrong"])
                    self.assertEqual(r.returncode, 3, r.stderr)
                    self.assertIn(b"refused", r.stderr)
                    r = run(base)
                    self.assertEqual(r.returncode, 3, r.stderr)
                    self.assertIn(code, r.stderr)


class BrokerLifecycleTest(unittest.TestCase):
    def test_connection_refused_port(self):
        port = mote_test.free_port()
        r = run(mote("pub", "-h", "127.0.0.1", "-p", port, "-t", "a", "-m", "x"))
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertTrue(r.stderr.startswith(b"mote: "))

    def test_unresolvable_host(self):
        r = run(mote("pub", "-h", "no-such-host.invalid", "-t", "a", "-m", "x"))
        self.assertEqual(r.returncode, 2, r.stderr)

    def test_broker_stop_is_connection_lost(self):
        with mote_test.Broker() as b:
            s = start_sub(b.port, "-t", "gone", "-k", 5)
            with s:
                b.stop()
                rc = s.wait(20)
            self.assertEqual(rc, 4, s.stderr_text())
            self.assertIn("connection lost", s.stderr_text())

    def test_persistent_session_survives_broker_restart(self):
        with mote_test.Broker(persistence=True) as b:
            cid = "restart-%d" % os.getpid()
            s = start_sub(b.port, "-c", "-i", cid, "-q", 1, "-t", "rs", "-V", "mqttv5",
                          "-W", int(t(3)))
            s.wait(10)
            r = run(mote("pub", "-h", "127.0.0.1", "-p", b.port, "-q", 1, "-t", "rs", "-m", "kept"))
            self.assertEqual(r.returncode, 0, r.stderr)
            time.sleep(t(1.5))  # autosave_interval 1
            b.restart()
            r = run(mote("sub", "-h", "127.0.0.1", "-p", b.port, "-c", "-i", cid, "-q", 1,
                         "-t", "rs", "-V", "mqttv5", "-C", 1, "-W", 10))
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(r.stdout, b"kept\n")


if __name__ == "__main__":
    unittest.main()
