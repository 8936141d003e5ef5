"""mote sub's mosquitto_sub output and filtering options against a real mosquitto: -F formats
(compared with mosquitto_sub's own output where both print the same), JSON lines, messages
streamed in chunks, -T, --retained-only, --remove-retained, -U, -E, -L URLs, MQTT 5
properties (-D and the -F property fields), and mosquitto_pub's --repeat-delay, -I, -M."""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest

from moteproc import BrokerCase, Proc, mote, run, start_sub
import mote_test


class SubOutputCase(BrokerCase):
    def sub_run(self, *args, timeout=20):
        return run(mote("sub", "-h", "127.0.0.1", "-p", self.port, *args), timeout=timeout)

    def clear(self, *topics):
        for topic in topics:
            self.pub("-r", "-n", "-t", topic)


# Payloads that exercise escaping: quotes, backslashes, control bytes, UTF-8, JSON.
RETAINED = {
    "fmt/a": b'plain text',
    "fmt/b": b'say "hi" \\ there\ttab',
    "fmt/c": '{"k": [1, 2],\n "s": "\u00e9"}'.encode(),
    "fmt/d": "\u00e9\u20ac\U0001F600".encode(),
    "fmt/e": b"ctl\x01\x1f",
}


class FormatTest(SubOutputCase):
    def setUp(self):
        for topic, payload in RETAINED.items():
            self.pub("-r", "-q", 1, "-t", topic, "-s", input=payload)

    def tearDown(self):
        self.clear(*RETAINED)

    def both(self, fmt):
        """The retained messages printed by mote sub and by mosquitto_sub with -F fmt,
        each as a sorted list of lines (the broker's order of retained messages is its own)."""
        args = ["-t", "fmt/#", "-C", str(len(RETAINED)), "-W", "10", "-F", fmt]
        ours = self.sub_run(*args)
        self.assertEqual(ours.returncode, 0, ours.stderr)
        theirs = run(["mosquitto_sub", "-h", "127.0.0.1", "-p", str(self.port)] + args)
        self.assertEqual(theirs.returncode, 0, theirs.stderr)
        return sorted(ours.stdout.split(b"\n")), sorted(theirs.stdout.split(b"\n"))

    def test_fields_match_mosquitto_sub(self):
        if shutil.which("mosquitto_sub") is None:
            self.skipTest("mosquitto clients not installed")
        for fmt in ("%t|%p", "%x %X", "%l %q %r %m", "[%10t][%-8t][%.4t][%-6l][%05l][%4m]",
                    "%%\\t@@|@@Y", "a\\\\b\\e\\r"):
            with self.subTest(format=fmt):
                ours, theirs = self.both(fmt)
                self.assertEqual(ours, theirs)

    def test_null_escape_separates_fields(self):
        """\\0 prints a NUL byte (mosquitto_sub's separator for xargs -0)."""
        if shutil.which("mosquitto_sub") is None:
            self.skipTest("mosquitto clients not installed")
        ours, theirs = self.both("%t\\0%p\\0")
        self.assertEqual(ours, theirs)
        self.assertIn(b"fmt/a\0plain text\0", ours)

    def test_time_fields(self):
        r = self.sub_run("-t", "fmt/a", "-C", 1, "-W", 10, "-F", "%I|%U|@Y-@m-@dT@H:@M:@S@z")
        self.assertEqual(r.returncode, 0, r.stderr)
        iso, unix, fields = r.stdout.decode().rstrip("\n").split("|")
        self.assertRegex(iso, r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4}$")
        self.assertRegex(unix, r"^\d+\.\d{9}$")
        self.assertLess(abs(float(unix) - time.time()), 60)
        self.assertEqual(fields, iso)  # the same instant, field by field (within a second)

    def test_json_matches_mosquitto_sub_but_for_the_timestamp(self):
        """%j: the same objects; the time is ISO 8601 UTC ("...Z", no "+0000" after it)."""
        if shutil.which("mosquitto_sub") is None:
            self.skipTest("mosquitto clients not installed")
        ours, theirs = self.both("%j")
        tst = re.compile(rb'"tst":"[^"]*"')
        self.assertEqual([tst.sub(b'"tst":""', x) for x in ours],
                         [tst.sub(b'"tst":""', x) for x in theirs])
        for line in ours:
            if line:
                self.assertRegex(line, rb'^\{"tst":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z"')

    def test_json_lines_parse_and_carry_the_message(self):
        r = self.sub_run("-t", "fmt/#", "-C", len(RETAINED), "-W", 10, "-F", "%j")
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.decode().splitlines()
        self.assertEqual(len(lines), len(RETAINED))
        for line in lines:
            obj = json.loads(line)
            self.assertEqual(obj["payload"].encode(), RETAINED[obj["topic"]])
            self.assertEqual(obj["payloadlen"], len(RETAINED[obj["topic"]]))
            self.assertEqual(obj["retain"], 1)

    def test_payload_as_json_when_it_is_json(self):
        """%J embeds a JSON payload (on one line); anything else is a string, as with %j."""
        r = self.sub_run("-t", "fmt/#", "-C", len(RETAINED), "-W", 10, "-F", "%J")
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.decode().splitlines()
        self.assertEqual(len(lines), len(RETAINED))
        got = {}
        for line in lines:
            obj = json.loads(line)
            got[obj["topic"]] = obj["payload"]
        self.assertEqual(got["fmt/c"], {"k": [1, 2], "s": "\u00e9"})
        self.assertEqual(got["fmt/a"], "plain text")
        self.assertEqual(got["fmt/d"], "\u00e9\u20ac\U0001F600")


class JsonLineTest(SubOutputCase):
    def test_bytes_that_are_not_utf8_keep_the_line_valid_json(self):
        with start_sub(self.port, "-t", "bin/#", "-q", 1, "-C", 2, "-F", "%j") as s:
            self.pub("-t", "bin/x", "-s", input=b"a\xffb\xc3")
            self.pub("-q", 1, "-t", "bin/y", "-n")
            rc = s.wait(20)
            out = s.stdout_bytes()
        self.assertEqual(rc, 0, s.stderr_text())
        first, second = [json.loads(x) for x in out.decode().splitlines()]
        self.assertEqual(first["payload"], "a\ufffdb\ufffd")
        self.assertEqual(first["payloadlen"], 4)
        self.assertNotIn("mid", first)
        self.assertIsNone(second["payload"])  # an empty message, as mosquitto_sub prints it
        self.assertEqual(second["qos"], 1)
        self.assertGreater(second["mid"], 0)


class ChunkedTest(SubOutputCase):
    """Messages larger than --rx-buffer arrive in chunks and are streamed through -F."""

    PAYLOAD = ("\u00e9" * 300 + '"\\' + "\u20ac" * 200 + "z").encode()

    def one(self, fmt, payload=PAYLOAD):
        with start_sub(self.port, "-t", "big/t", "-C", 1, "--rx-buffer", 64, "-F", fmt) as s:
            self.pub("-t", "big/t", "-s", input=payload)
            rc = s.wait(20)
            return rc, s.stdout_bytes(), s.stderr_text()

    def test_payload_streams(self):
        rc, out, err = self.one("<%t %l %p>")
        self.assertEqual(rc, 0, err)
        self.assertEqual(out, b"<big/t %d " % len(self.PAYLOAD) + self.PAYLOAD + b">\n")

    def test_hex_streams(self):
        rc, out, err = self.one("%X")
        self.assertEqual(rc, 0, err)
        self.assertEqual(out, self.PAYLOAD.hex().upper().encode() + b"\n")

    def test_json_streams_with_utf8_split_between_chunks(self):
        for fmt in ("%j", "%J"):
            with self.subTest(format=fmt):
                rc, out, err = self.one(fmt)
                self.assertEqual(rc, 0, err)
                obj = json.loads(out)
                self.assertEqual(obj["payload"].encode(), self.PAYLOAD)

    def test_format_using_the_payload_twice_skips_that_message(self):
        with start_sub(self.port, "-t", "big/#", "-C", 1, "--rx-buffer", 64,
                       "-F", "%p|%x") as s:
            self.pub("-t", "big/a", "-s", input=self.PAYLOAD)
            self.pub("-t", "big/b", "-m", "ok")
            rc = s.wait(20)
        self.assertEqual(rc, 1, s.stderr_text())
        self.assertEqual(s.stdout_bytes(), b"ok|6f6b\n")
        self.assertIn("message on 'big/a' not printed", s.stderr_text())


class FilterTest(SubOutputCase):
    def test_filter_out_hides_and_does_not_count(self):
        with start_sub(self.port, "-t", "flt/#", "-T", "flt/secret/#", "-T", "flt/+/noise",
                       "-C", 2, "-v") as s:
            for topic in ("flt/secret/a", "flt/x/noise", "flt/one", "flt/secret", "flt/two"):
                self.pub("-t", topic, "-m", topic)
            rc = s.wait(20)
        self.assertEqual(rc, 0, s.stderr_text())
        # ('flt/secret/#' also matches 'flt/secret' itself)
        self.assertEqual(s.stdout_bytes(), b"flt/one flt/one\nflt/two flt/two\n")

    def test_retained_only_ends_at_the_first_live_message(self):
        self.pub("-r", "-t", "ro/1", "-m", "r1")
        self.pub("-r", "-t", "ro/2", "-m", "r2")
        try:
            with start_sub(self.port, "-t", "ro/#", "--retained-only", "-v") as s:
                s.wait_stdout(b"r2", 10)
                self.pub("-t", "ro/3", "-m", "live")
                rc = s.wait(20)
            self.assertEqual(rc, 0, s.stderr_text())
            self.assertEqual(sorted(s.stdout_bytes().splitlines()), [b"ro/1 r1", b"ro/2 r2"])
        finally:
            self.clear("ro/1", "ro/2")

    def test_remove_retained_clears_what_it_printed(self):
        for topic in ("rm/a", "rm/b", "rm/keep"):
            self.pub("-r", "-t", topic, "-m", topic)
        try:
            r = self.sub_run("-t", "rm/#", "-T", "rm/keep", "--remove-retained", "-C", 2, "-W", 10)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(sorted(r.stdout.splitlines()), [b"rm/a", b"rm/b"])
            left = self.sub_run("-t", "rm/#", "-C", 2, "-W", 2, "-v")
            self.assertEqual(left.returncode, 6, left.stderr)  # only one retained message left
            self.assertEqual(left.stdout, b"rm/keep rm/keep\n")
        finally:
            self.clear("rm/a", "rm/b", "rm/keep")

    def test_remove_retained_keeps_a_message_it_could_not_print(self):
        """A chunked message the -F format cannot stream is not printed: it stays retained."""
        big = b"x" * 300
        self.pub("-r", "-t", "rmc/big", "-s", input=big)
        self.pub("-r", "-t", "rmc/small", "-m", "s")
        try:
            r = self.sub_run("-t", "rmc/#", "--remove-retained", "--retained-only",
                             "--rx-buffer", 64, "-F", "%t %p|%x", "-W", 10)
            self.assertEqual(r.returncode, 1, r.stderr)
            self.assertIn(b"rmc/small s|73\n", r.stdout)
            self.assertIn("message on 'rmc/big' not printed", r.stderr.decode())
            left = self.sub_run("-t", "rmc/#", "-C", 1, "-W", 5, "-F", "%t %l")
            self.assertEqual(left.returncode, 0, left.stderr)
            self.assertEqual(left.stdout, b"rmc/big 300\n")
        finally:
            self.clear("rmc/big", "rmc/small")


class UnsubscribeTest(SubOutputCase):
    def test_unsubscribe_ends_a_persistent_subscription(self):
        for v in ("mqttv311", "mqttv5"):
            with self.subTest(version=v):
                cid = "unsub-%s" % v
                base = ("-V", v, "-i", cid, "-c", "-q", 1)
                r = self.sub_run(*base, "-t", "us/%s/a" % v, "-t", "us/%s/b" % v, "-E")
                self.assertEqual(r.returncode, 0, r.stderr)  # -E: exits once subscribed
                r = self.sub_run(*base, "-U", "us/%s/a" % v)
                self.assertEqual(r.returncode, 0, r.stderr)  # -U alone: exits after UNSUBACK
                self.pub("-q", 1, "-t", "us/%s/a" % v, "-m", "gone")
                self.pub("-q", 1, "-t", "us/%s/b" % v, "-m", "kept")
                r = self.sub_run(*base, "-t", "us/%s/b" % v, "-C", 1, "-W", 10, "-v")
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertEqual(r.stdout, b"us/%s/b kept\n" % v.encode())
                self.sub_run("-V", v, "-i", cid, "-U", "us/%s/b" % v)  # clean session: ends it


class UnsubscribeWindowTest(SubOutputCase):
    def test_message_not_printed_while_unsubscribing_fails_the_run(self):
        """-C reached by session messages that come while -U waits for the UNSUBACK: a
        message the format could not print still makes the exit code 1."""
        base = ("-i", "unsub-window", "-c", "-q", 1)
        r = self.sub_run(*base, "-t", "uw/t", "-E")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.pub("-q", 1, "-t", "uw/t", "-s", input=b"x" * 500)
        self.pub("-q", 1, "-t", "uw/t", "-m", "ok")
        r = self.sub_run(*base, "-U", "uw/other", "-C", 1, "--rx-buffer", 64, "-F", "%p|%x")
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertEqual(r.stdout, b"ok|6f6b\n")
        self.assertIn(b"not printed", r.stderr)
        self.sub_run("-i", "unsub-window", "-U", "uw/t")  # clean session: ends it


class UrlTest(SubOutputCase):
    def test_url_gives_host_port_and_topic(self):
        url = "mqtt://user:secret@127.0.0.1:%d/url/topic" % self.port
        with start_sub(self.port, "-L", url, "-C", 1, "-v") as s:
            r = run(mote("pub", "-L", url, "-m", "via url"))
            self.assertEqual(r.returncode, 0, r.stderr)
            rc = s.wait(20)
        self.assertEqual(rc, 0, s.stderr_text())
        self.assertEqual(s.stdout_bytes(), b"url/topic via url\n")

    def test_url_without_a_port_takes_the_schemes(self):
        """-L without a port: 1883 (mqtt://), whatever -p said before it."""
        with start_sub(self.port, "-t", "url/port", "-C", 1) as s:
            # -p before -L: the URL's default port is used, so this one misses our broker
            run(mote("pub", "-p", self.port, "-L", "mqtt://127.0.0.1/url/port", "-m", "x",
                     "--connect-timeout", 2))
            # -p after -L sets the port
            r = run(mote("pub", "-L", "mqtt://127.0.0.1/url/port", "-p", self.port, "-m", "y"))
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(s.wait(20), 0, s.stderr_text())
        self.assertEqual(s.stdout_bytes(), b"y\n")

    def test_mqtts_url_uses_tls(self):
        # the broker speaks plain MQTT: a TLS handshake with it fails (exit 2)
        r = run(mote("pub", "-L", "mqtts://127.0.0.1:%d/t" % self.port, "--insecure",
                     "-m", "x", "--connect-timeout", 5))
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn(b"TLS", r.stderr)


PUBLISH_PROPS = ("-D", "publish", "content-type", "text/plain",
                 "-D", "publish", "correlation-data", "req-42",
                 "-D", "publish", "message-expiry-interval", "600",
                 "-D", "publish", "payload-format-indicator", "1",
                 "-D", "publish", "response-topic", "reply/here",
                 "-D", "publish", "user-property", "k1", "v1",
                 "-D", "publish", "user-property", "k2", "v2")


class PropertiesTest(SubOutputCase):
    """MQTT 5 properties: -D on pub and sub, and the -F property fields."""

    FIELDS = "[%C][%D][%F][%P][%R][%S][%A]"

    def test_publish_properties_reach_mote_and_mosquitto_sub_alike(self):
        if shutil.which("mosquitto_sub") is None:
            self.skipTest("mosquitto clients not installed")
        topic = "props/all"
        self.pub("-V", "mqttv5", "-r", "-t", topic, "-m", "with props", *PUBLISH_PROPS)
        try:
            args = ["-V", "mqttv5", "-t", topic, "-C", "1", "-W", "10",
                    "-D", "subscribe", "subscription-identifier", "77"]
            for fmt in (self.FIELDS, "%j"):
                with self.subTest(format=fmt):
                    ours = self.sub_run(*args, "-F", fmt)
                    self.assertEqual(ours.returncode, 0, ours.stderr)
                    theirs = run(["mosquitto_sub", "-h", "127.0.0.1", "-p", str(self.port)] +
                                 args + ["-F", fmt])
                    self.assertEqual(theirs.returncode, 0, theirs.stderr)
                    if fmt == "%j":
                        a, b = json.loads(ours.stdout), json.loads(theirs.stdout)
                        del a["tst"], b["tst"]
                        # the expiry counts down while the message is stored: the two reads
                        # may fall on either side of a second
                        for obj in (a, b):
                            expiry = obj["properties"].pop("message-expiry-interval")
                            self.assertTrue(0 < expiry <= 600, expiry)
                        self.assertEqual(a, b)
                        self.assertEqual(a["properties"]["user-properties"],
                                         {"k1": "v1", "k2": "v2"})
                    else:
                        self.assertEqual(ours.stdout, theirs.stdout)
                        self.assertEqual(ours.stdout,
                                         b"[text/plain][req-42][1][k1:v1 k2:v2][reply/here][77][]\n")
            # the expiry counts down while the message is stored: at most what was sent
            r = self.sub_run(*args, "-F", "%E")
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertTrue(0 < int(r.stdout) <= 600, r.stdout)
        finally:
            self.clear(topic)

    def test_property_fields_are_empty_without_properties(self):
        self.pub("-r", "-t", "props/none", "-m", "plain")
        try:
            r = self.sub_run("-V", "mqttv5", "-t", "props/none", "-C", 1, "-W", 10,
                             "-F", self.FIELDS + "%E|%j")
            self.assertEqual(r.returncode, 0, r.stderr)
            fields, line = r.stdout.decode().rstrip("\n").split("|", 1)
            self.assertEqual(fields, "[][][][][][][]")
            self.assertNotIn("properties", json.loads(line))
        finally:
            self.clear("props/none")

    def test_will_properties(self):
        will = "props/will"
        with start_sub(self.port, "-V", "mqttv5", "-t", will, "-C", 1, "-F", "%p %C %P") as s:
            p = Proc(mote("pub", "-h", "127.0.0.1", "-p", self.port, "-V", "mqttv5", "-d",
                          "-t", "props/data", "-l", "--will-topic", will,
                          "--will-payload", "gone", "-D", "will", "content-type", "text/x",
                          "-D", "will", "user-property", "why", "killed"),
                     stdin=subprocess.PIPE)
            with p:
                self.assertTrue(p.wait_stderr("received CONNACK"), p.stderr_text())
                os.kill(p.p.pid, signal.SIGKILL)
                p.p.wait()
            self.assertEqual(s.wait(20), 0, s.stderr_text())
            self.assertEqual(s.stdout_bytes(), b"gone text/x why:killed\n")

    def test_session_expiry_by_property(self):
        """-D connect session-expiry-interval keeps the session like -x."""
        base = ("-V", "mqttv5", "-i", "props-session", "-q", 1)
        r = self.sub_run(*base, "-t", "props/kept", "-E",
                         "-D", "connect", "session-expiry-interval", "60")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.pub("-q", 1, "-t", "props/kept", "-m", "queued")
        r = self.sub_run(*base, "-c", "-t", "props/kept", "-C", 1, "-W", 10)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, b"queued\n")
        self.sub_run("-V", "mqttv5", "-i", "props-session", "-U", "props/kept")

    def test_chunked_message_with_a_property_after_the_payload_is_skipped(self):
        big = b"x" * 500
        with start_sub(self.port, "-V", "mqttv5", "-t", "props/big/#", "-C", 1,
                       "--rx-buffer", 64, "-F", "%C|%p|%C") as s:
            self.pub("-V", "mqttv5", "-t", "props/big/a", "-s", input=big,
                     *("-D", "publish", "content-type", "ct"))
            self.pub("-V", "mqttv5", "-t", "props/big/b", "-m", "small",
                     *("-D", "publish", "content-type", "ct"))
            rc = s.wait(20)
        self.assertEqual(rc, 1, s.stderr_text())
        self.assertEqual(s.stdout_bytes(), b"ct|small|ct\n")
        self.assertIn("property after it", s.stderr_text())
        with start_sub(self.port, "-V", "mqttv5", "-t", "props/big/#", "-C", 1,
                       "--rx-buffer", 64, "-F", "%C|%p") as s:
            self.pub("-V", "mqttv5", "-t", "props/big/a", "-s", input=big,
                     *("-D", "publish", "content-type", "ct"))
            rc = s.wait(20)
        self.assertEqual(rc, 0, s.stderr_text())
        self.assertEqual(s.stdout_bytes(), b"ct|" + big + b"\n")


class PubOptionsTest(SubOutputCase):
    """mosquitto_pub's --repeat-delay, -I, -M and --nodelay."""

    def test_repeat_delay_spaces_the_messages(self):
        with start_sub(self.port, "-t", "rep/d", "-C", 3) as s:
            start = time.monotonic()
            self.pub("-t", "rep/d", "-m", "x", "--repeat", 3, "--repeat-delay", "0.3",
                     "-q", 1, "-M", 1, "--nodelay")
            took = time.monotonic() - start
            self.assertEqual(s.wait(20), 0, s.stderr_text())
        self.assertEqual(s.stdout_bytes(), b"x\nx\nx\n")
        # two pauses between three messages: pub cannot finish sooner
        self.assertGreaterEqual(took, 0.6)

    def test_local_address(self):
        """-A: the connection comes from the given local address (127.0.0.2 here)."""
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        listener.settimeout(10)
        port = listener.getsockname()[1]
        p = Proc(mote("pub", "-A", "127.0.0.2", "-h", "127.0.0.1", "-p", port, "-t", "a",
                      "-m", "b", "--connect-timeout", 5))
        with p:
            conn, peer = listener.accept()
            conn.close()
            listener.close()
            p.wait(20)
        self.assertEqual(peer[0], "127.0.0.2")
        # and a whole publish through the broker
        self.pub("-A", "127.0.0.1", "-t", "bind/ok", "-m", "x")

    def test_local_address_errors(self):
        for addr, text in (("192.0.2.7", b"from local address 192.0.2.7"),
                           ("::1", b"from local address ::1"),
                           ("no-such-host.invalid", b"cannot resolve the local address")):
            with self.subTest(address=addr):
                r = run(mote("pub", "-A", addr, "-h", "127.0.0.1", "-p", self.port, "-t", "a",
                             "-m", "b"))
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assertIn(text, r.stderr)

    def test_client_id_prefix(self):
        r = run(mote("pub", "-h", "127.0.0.1", "-p", self.port, "-I", "pre-", "-d",
                     "-t", "x", "-m", "y"))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stderr, rb"Client pre-\d+ sending CONNECT")


class UnixSocketTest(unittest.TestCase):
    """--unix: a broker's Unix domain socket listener instead of TCP."""

    def test_publish_and_subscribe_over_a_unix_socket(self):
        d = tempfile.mkdtemp(prefix="mote-unix-")
        os.chmod(d, 0o777)
        path = os.path.join(d, "mqtt.sock")
        with mote_test.Broker(extra=["listener 0 %s" % path]):
            with Proc(mote("sub", "--unix", path, "-d", "-t", "ux/t", "-C", 1, "-v")) as s:
                self.assertTrue(s.wait_stderr("received SUBACK", 15), s.stderr_text())
                r = run(mote("pub", "--unix", path, "-t", "ux/t", "-m", "local"))
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertEqual(s.wait(20), 0, s.stderr_text())
                self.assertEqual(s.stdout_bytes(), b"ux/t local\n")
        r = run(mote("pub", "--unix", path, "-t", "ux/t", "-m", "x"))
        shutil.rmtree(d, ignore_errors=True)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn(b"cannot connect to the socket " + path.encode(), r.stderr)


class UsageTest(unittest.TestCase):
    def test_bad_options_are_usage_errors(self):
        cases = [
            (("sub", "-t", "a", "-F", "%Z"), b"unknown field"),
            (("sub", "-t", "a", "-F", "abc%"), b"'%' at the end"),
            (("sub", "-t", "a", "-F", "@"), b"unknown time field"),
            (("sub", "-t", "a", "-F", "%5p"), b"width"),
            (("sub", "-t", "a", "-F", "%.3l"), b"precision"),
            (("sub", "-t", "a", "-F", "%3q"), b"width"),
            (("sub", "-t", "a", "-F", "%5C"), b"width"),
            (("pub", "-t", "a", "-m", "x", "-D", "publish", "content-type", "t"),
             b"need -V mqttv5"),
            (("pub", "-V", "5", "-t", "a", "-m", "x", "-D", "publish", "content-type"),
             b"COMMAND PROPERTY VALUE"),
            (("pub", "-V", "5", "-t", "a", "-m", "x", "-D", "publish", "topic-alias", "1"),
             b"sets this property itself"),
            (("pub", "-V", "5", "-t", "a", "-m", "x", "-D", "publish", "nope", "1"),
             b"unknown property"),
            (("pub", "-V", "5", "-t", "a", "-m", "x", "-D", "connect", "content-type", "t"),
             b"not a property of connect"),
            (("pub", "-V", "5", "-t", "a", "-m", "x", "-D", "subscribe", "user-property", "a",
              "b"), b"applies to mote sub"),
            (("sub", "-V", "5", "-t", "a", "-D", "publish", "content-type", "t"),
             b"applies to mote pub"),
            (("pub", "-V", "5", "-t", "a", "-m", "x", "-D", "will", "content-type", "t"),
             b"needs --will-topic"),
            (("pub", "-V", "5", "-t", "a", "-m", "x", "-D", "disconnect", "user-property", "a",
              "b"), b"the packet is"),
            (("pub", "-V", "5", "-t", "a", "-m", "x", "-D", "publish", "response-topic", "a/#"),
             b"not a topic name"),
            (("pub", "-V", "5", "-t", "a", "-m", "x", "-D", "publish",
              "payload-format-indicator", "2"), b"0 or 1"),
            (("sub", "-V", "5", "-t", "a", "-D", "subscribe", "subscription-identifier",
              "268435456"), b"1 to 268435455"),
            (("pub", "-V", "5", "-t", "a", "-m", "x", "-D", "publish", "content-type", "a",
              "-D", "publish", "content-type", "b"), b"given twice"),
            (("pub", "-V", "5", "-t", "a", "-m", "x", "-D", "publish", "user-property", "k",
              "x" * 600), b"too large"),
            (("pub", "-V", "5", "-t", "a", "-m", "x", "-D", "publish", "content-type",
              "\udcff"), b"UTF-8"),  # the byte 0xff (surrogateescape)
            (("sub", "-t", "a", "-F", "\\q"), b"unknown escape"),
            (("sub", "-t", "a", "-R", "--retained-only"), b"exclude each other"),
            (("pub", "-t", "a", "-m", "x", "--retained-only"), b"unknown option"),
            (("sub", "-t", "a", "-T", "a/#/b"), b"invalid filter"),
            (("sub", "-U", "+x"), b"invalid filter"),
            (("sub", "-L", "http://h/t"), b"mqtt://"),
            (("sub", "-L", "mqtt://host"), b"no /TOPIC"),
            (("sub", "-L", "mqtt://host:99999/t"), b"'mqtt://host:99999/t': bad port"),
            (("sub", "-L", "mqtt://u:p@[::1/t"), b"'mqtt://u:p@[::1/t': bad [IPv6]"),
            (("sub", "-L", "mqtt://:1883/t"), b"no host"),
            (("pub", "-L", "mqtt://host/", "-m", "x"), b"topic is required"),
            (("sub",), b"-t, -L or -U"),
            (("pub", "-t", "a", "-m", "x", "-i", "a", "-I", "b"), b"exclude each other"),
            (("pub", "-t", "a", "-m", "x", "--repeat-delay", "-1"), b"--repeat-delay"),
            (("pub", "-t", "a", "-m", "x", "--repeat-delay", "1s"), b"--repeat-delay"),
            (("sub", "-t", "a", "--repeat-delay", "1"), b"unknown option"),
            (("pub", "-t", "a", "-m", "x", "-M", "0"), b"-M"),
            (("sub", "-t", "a", "-I", "pre-", "-c"), b"needs a fixed client id"),
            (("sub", "-V", "5", "-t", "a", "-i", "x", "-x", "5", "-D", "connect",
              "session-expiry-interval", "6"), b"given twice"),
            (("sub", "-V", "5", "-t", "a", "-i", "x", "-D", "connect", "session-expiry-interval",
              "6", "-x", "5"), b"given twice"),
            (("pub", "--unix", "/tmp/s", "--cafile", "ca.crt", "-t", "a", "-m", "x"),
             b"--unix connects with plain MQTT"),
            (("sub", "--unix", "/tmp/s", "-A", "127.0.0.1", "-t", "a"),
             b"--unix connects with plain MQTT"),
        ]
        for args, text in cases:
            with self.subTest(args=args):
                r = run(mote(*args))
                self.assertEqual(r.returncode, 1, r.stderr)
                self.assertIn(text, r.stderr)


if __name__ == "__main__":
    unittest.main()
