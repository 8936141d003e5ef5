#!/usr/bin/env python3
"""Write the seed corpus of fuzz_mqtt_decode: one file per valid packet (first byte picks
the version: 0 = MQTT 3.1.1, 1 = MQTT 5), built from the same field layouts as the unit
test vectors. Run from anywhere; rewrites Tests/fuzz/corpus/mqtt_decode/."""
import os
import struct

here = os.path.dirname(os.path.abspath(__file__))
out = os.path.join(here, "corpus", "mqtt_decode")


def varint(n):
    b = bytearray()
    while True:
        d = n & 0x7F
        n >>= 7
        b.append(d | (0x80 if n else 0))
        if not n:
            return bytes(b)


def s(x):
    x = x.encode() if isinstance(x, str) else x
    return struct.pack(">H", len(x)) + x


def pkt(first, body):
    return bytes([first]) + varint(len(body)) + body


def props(p):
    return varint(len(p)) + p


V3, V5 = b"\x00", b"\x01"
seeds = {
    "connect311": V3 + pkt(0x10, s("MQTT") + b"\x04\xee\x00\x0a" + s("c") + s("w/t") + s("bye") + s("u") + s("p")),
    "connect5": V5 + pkt(0x10, s("MQTT") + b"\x05\xc6\x00\x3c" + props(b"\x11\x00\x00\x0e\x10\x21\x00\x14\x15" + s("m") + b"\x16" + s("d"))
                         + s("id") + props(b"\x18\x00\x00\x00\x05\x01\x01\x26" + s("k") + s("v")) + s("w") + s("x") + s("u") + s("p")),
    "connack311": V3 + pkt(0x20, b"\x01\x00"),
    "connack5": V5 + pkt(0x20, b"\x00\x00" + props(b"\x12" + s("x") + b"\x22\x00\x0a\x24\x01\x25\x01\x27\x00\x01\x00\x00\x13\x00\x1e\x1f" + s("ok"))),
    "publish311": V3 + pkt(0x3b, s("dt/sensors/device-0001/telemetry") + b"\x00\x0a" + b"x" * 64),
    "publish5": V5 + pkt(0x34, s("a/b") + b"\x12\x34" + props(b"\x01\x01\x02\x00\x00\x00\x3c\x03" + s("json") + b"\x08" + s("r/t") + b"\x09" + s(b"\xff\x00")
                                                               + b"\x0b\x01\x0b\x80\x01\x23\x00\x05\x26" + s("k") + s("v")) + b"payload"),
    "publish5alias": V5 + pkt(0x30, s("") + props(b"\x23\x00\x05") + b"hi"),
    "acks311": V3 + pkt(0x40, b"\x00\x01") + pkt(0x50, b"\x00\x02") + pkt(0x62, b"\x00\x02") + pkt(0x70, b"\x00\x02"),
    "acks5": V5 + pkt(0x40, b"\x00\x01\x10" + props(b"\x1f" + s("no"))) + pkt(0x50, b"\x00\x02\x80") + pkt(0x62, b"\x00\x02\x92") + pkt(0x70, b"\x00\x02"),
    "subscribe311": V3 + pkt(0x82, b"\x00\x01" + s("a/+") + b"\x01" + s("b/#") + b"\x02"),
    "subscribe5": V5 + pkt(0x82, b"\x00\x02" + props(b"\x0b\x07\x26" + s("k") + s("v")) + s("a") + b"\x2d" + s("$share/g/x/#") + b"\x12"),
    "suback311": V3 + pkt(0x90, b"\x00\x01\x00\x01\x02\x80"),
    "suback5": V5 + pkt(0x90, b"\x00\x01" + props(b"\x1f" + s("r")) + b"\x00\x01\x02\x80\x97\xa2"),
    "unsubscribe311": V3 + pkt(0xa2, b"\x00\x03" + s("a") + s("b/+")),
    "unsubscribe5": V5 + pkt(0xa2, b"\x00\x03" + props(b"") + s("a")),
    "unsuback311": V3 + pkt(0xb0, b"\x00\x03"),
    "unsuback5": V5 + pkt(0xb0, b"\x00\x03" + props(b"") + b"\x00\x11\x87"),
    "ping": V3 + pkt(0xc0, b"") + pkt(0xd0, b"") + pkt(0xe0, b""),
    "disconnect5": V5 + pkt(0xe0, b"\x04" + props(b"\x11\x00\x00\x00\x00\x1c" + s("other"))),
    "auth5": V5 + pkt(0xf0, b"\x18" + props(b"\x15" + s("SCRAM") + b"\x16" + s(b"\x01\x02"))),
}

os.makedirs(out, exist_ok=True)
for name, data in seeds.items():
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)
print(f"wrote {len(seeds)} seeds to {out}")
