"""A scripted fake MQTT broker on a free loopback port, for hostile-server tests.

A script is a function taking a Conn; it reads what the client sends (recv_packet) and
answers with whatever bytes the test wants, well-formed or not."""
import os
import socket
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib"))


def varint(n):
    out = bytearray()
    while True:
        b = n % 128
        n //= 128
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def packet(first_byte, body):
    return bytes([first_byte]) + varint(len(body)) + body


def mqtt_str(s):
    if isinstance(s, str):
        s = s.encode()
    return struct.pack(">H", len(s)) + s


class Conn:
    def __init__(self, sock):
        self.sock = sock
        self.sock.settimeout(30)
        self.buf = b""
        self.version = 4
        self.received = []  # (type, flags, body)

    def _read(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("client closed")
            self.buf += chunk
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def recv_packet(self):
        """Read one packet: returns (type, flags, body)."""
        first = self._read(1)[0]
        mult, length = 1, 0
        for _ in range(4):
            b = self._read(1)[0]
            length += (b & 0x7F) * mult
            mult *= 128
            if not b & 0x80:
                break
        body = self._read(length)
        pkt = (first >> 4, first & 15, body)
        self.received.append(pkt)
        return pkt

    def expect(self, ptype):
        pkt = self.recv_packet()
        if pkt[0] != ptype:
            raise AssertionError("expected packet type %d, got %d" % (ptype, pkt[0]))
        return pkt

    def handshake(self):
        """Read CONNECT and note the protocol level (4 or 5)."""
        _, _, body = self.expect(1)
        name_len = struct.unpack(">H", body[:2])[0]
        self.version = body[2 + name_len]
        return body

    def connack(self, rc=0):
        if self.version == 5:
            self.send(packet(0x20, bytes([0, rc, 0])))
        else:
            self.send(packet(0x20, bytes([0, rc])))

    def suback(self, granted=0, codes=None):
        """Read SUBSCRIBE and answer with one reason code, granted; or with exactly the
        reason codes in codes (a list), however many filters the SUBSCRIBE had."""
        _, _, body = self.expect(8)
        pid = body[:2]
        payload = bytes([granted]) if codes is None else bytes(codes)
        if self.version == 5:
            self.send(packet(0x90, pid + b"\x00" + payload))
        else:
            self.send(packet(0x90, pid + payload))
        return struct.unpack(">H", pid)[0]

    def send(self, data):
        self.sock.sendall(data)

    def drip(self, data, interval=1.0):
        for i in range(len(data)):
            self.sock.sendall(data[i:i + 1])
            time.sleep(interval)

    def close(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()


class FakeBroker:
    """Serve one client connection with script(conn) in a thread."""

    def __init__(self, script, host="127.0.0.1"):
        self.script = script
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.srv = socket.socket(family, socket.SOCK_STREAM)
        self.srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.srv.bind((host, 0))
        self.srv.listen(4)
        self.port = self.srv.getsockname()[1]
        self.error = None
        self.conn = None
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self):
        try:
            self.srv.settimeout(60)
            sock, _ = self.srv.accept()
            self.conn = Conn(sock)
            try:
                self.script(self.conn)
            except (EOFError, ConnectionError, BrokenPipeError, socket.timeout):
                pass  # the client gave up: expected in most scripts
            finally:
                self.conn.close()
        except Exception as e:  # noqa: BLE001 - reported by the test
            self.error = e

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.srv.close()
        self.thread.join(5)
