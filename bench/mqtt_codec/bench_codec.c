/* Codec cost benchmark: encode (sizing included: one mote_mqtt_encode_publish call) and
 * decode (fixed header + mote_mqtt_decode_publish) of one QoS 1 PUBLISH with a 64-byte
 * payload on dt/sensors/device-0001/telemetry, for MQTT 3.1.1 and 5. run.sh counts
 * instructions with callgrind, collecting only inside run_bench(), for N = 1 and
 * N = 1001 iterations; the difference / 1000 is the cost of one iteration.
 * Usage: bench_codec MODE N   (MODE: enc311 dec311 enc5 dec5 hdr311 hdr5) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mote/mqtt_codec.h"

static uint8_t payload[64];
static uint8_t wire[2][256];
static size_t wire_len[2];
static uint8_t out[256];
static volatile uint32_t sink;

static mote_mqtt_publish_t message(void)
{
    mote_mqtt_publish_t p = { .topic = MOTE_STR("dt/sensors/device-0001/telemetry"),
                              .payload = { payload, sizeof payload }, .qos = 1, .packet_id = 42 };
    return p;
}

__attribute__((noinline)) static void run_bench(int mode, long n)
{
    mote_mqtt_version_t v = (mode & 1) ? MOTE_MQTT_VERSION_5 : MOTE_MQTT_VERSION_311;
    const uint8_t *w = wire[mode & 1];
    size_t wl = wire_len[mode & 1];
    for (long i = 0; i < n; i++) {
        if (mode < 2) {
            mote_mqtt_publish_t p = message();
            sink += (uint32_t)mote_mqtt_encode_publish(out, sizeof out, v, &p);
        } else if (mode < 4) {
            uint8_t type, flags;
            uint32_t rem;
            size_t hl;
            mote_mqtt_publish_t p;
            if (mote_mqtt_decode_fixed_header(w, wl, &type, &flags, &rem, &hl) == MOTE_OK &&
                mote_mqtt_decode_publish(w + hl, rem, flags, v, &p) == MOTE_OK)
                sink += p.packet_id;
        } else {
            mote_mqtt_publish_t p = message();
            sink += (uint32_t)mote_mqtt_encode_publish_header(out, sizeof out, v, &p);
        }
    }
}

int main(int argc, char **argv)
{
    static const char *modes[] = { "enc311", "enc5", "dec311", "dec5", "hdr311", "hdr5" };
    if (argc != 3)
        return 2;
    int mode = -1;
    for (int i = 0; i < 6; i++)
        if (strcmp(argv[1], modes[i]) == 0)
            mode = i;
    if (mode < 0)
        return 2;
    memset(payload, 'x', sizeof payload);
    for (int i = 0; i < 2; i++) {
        mote_mqtt_publish_t p = message();
        int32_t n = mote_mqtt_encode_publish(wire[i], sizeof wire[i], i ? MOTE_MQTT_VERSION_5 : MOTE_MQTT_VERSION_311, &p);
        if (n <= 0)
            return 1;
        wire_len[i] = (size_t)n;
    }
    run_bench(mode, atol(argv[2]));
    return sink == 0xFFFFFFFFu; /* keeps the work observable */
}
