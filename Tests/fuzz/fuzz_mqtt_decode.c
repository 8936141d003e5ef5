/* libFuzzer target for the MQTT decoders. The first input byte picks the protocol
 * version (bit 0: 3.1.1 or 5); the rest is a byte stream cut into packets with the fixed
 * header decoder, each handed to the decoder its type calls for. Whenever a packet
 * decodes, it must re-encode, the re-encoding must decode to the same thing (encoding it
 * a third time gives identical bytes), and for packet types with a single encoding the
 * bytes must be the input's. Any break of that is a crash the fuzzer reports. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../mqtt_codec/codec_roundtrip.h"
#include "mote/mqtt_codec.h"

static uint8_t out1[8192];
static uint8_t out2[8192];

static void check_one(const uint8_t *pkt, size_t len, mote_mqtt_version_t v, uint8_t type)
{
    int stage;
    int32_t n = rt_reencode(pkt, len, v, out1, sizeof out1, &stage);
    if (n < 0 && stage == 1)
        return; /* rejected input: fine, that is the decoder's job */
    if (n == MOTE_ERR_NO_SPACE)
        return; /* more filters than the helper's table */
    if (n <= 0 || (size_t)n > len)
        abort(); /* a decoded packet the encoder refuses, or grows */
    if (rt_canonical_type(type) && ((size_t)n != len || memcmp(out1, pkt, len) != 0))
        abort();
    int32_t m = rt_reencode(out1, (size_t)n, v, out2, sizeof out2, &stage);
    if (m != n || memcmp(out1, out2, (size_t)n) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    mote_mqtt_version_t v = (data[0] & 1) ? MOTE_MQTT_VERSION_5 : MOTE_MQTT_VERSION_311;
    data++;
    size--;
    while (size) {
        uint8_t type, flags;
        uint32_t rem;
        size_t hl;
        if (mote_mqtt_decode_fixed_header(data, size, &type, &flags, &rem, &hl) != MOTE_OK)
            return 0;
        if (rem > size - hl) {
            /* a partial PUBLISH: the streaming header decoder must cope */
            if (type == MOTE_MQTT_PUBLISH) {
                mote_mqtt_publish_t p;
                size_t off;
                mote_err_t e = mote_mqtt_decode_publish_header(data + hl, size - hl, rem, flags, v, &p, &off);
                if (e == MOTE_OK && (off > size - hl || p.payload.len != rem - off))
                    abort();
            }
            return 0;
        }
        /* exact-size copy so ASan sees any read past the packet */
        uint8_t *pkt = malloc(hl + rem ? hl + rem : 1);
        if (!pkt)
            return 0;
        memcpy(pkt, data, hl + rem);
        check_one(pkt, hl + rem, v, type);
        /* the other version too: inputs are often valid in both */
        check_one(pkt, hl + rem, v == MOTE_MQTT_VERSION_5 ? MOTE_MQTT_VERSION_311 : MOTE_MQTT_VERSION_5, type);
        free(pkt);
        data += hl + rem;
        size -= hl + rem;
    }
    return 0;
}
