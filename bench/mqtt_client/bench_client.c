/* Client API cost without a broker: an in-memory transport that swallows what is sent and
 * hands back what a broker would answer (PUBACKs for every QoS 1 message written, or a
 * stream of QoS 0 PUBLISH packets). run.sh measures instructions per message with
 * callgrind as the difference between two run lengths, so set-up cost cancels out.
 *
 * usage: bench_client qos0|qos1|sub MESSAGES [IN_FLIGHT]
 * prints: messages, transport writes, transport reads */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mote/mqtt.h"

#define TOPIC "dt/sensors/device-0001/telemetry"

typedef struct mem_io {
    unsigned long writes, reads;
    unsigned long published;  /* QoS 1 packets the client has queued (ids in order) */
    unsigned long acked;      /* PUBACKs handed back so far */
    uint16_t next_ack_id;
    const uint8_t *stream;    /* subscriber: packets to deliver, cyclic */
    size_t stream_len, stream_pos;
    unsigned long stream_left; /* bytes still to deliver */
    uint32_t now;
} mem_io_t;

static int32_t mem_send(void *ctx, const mote_iovec_t *iov, size_t iovcnt)
{
    mem_io_t *io = ctx;
    size_t total = 0, i;
    for (i = 0; i < iovcnt; i++)
        total += iov[i].len;
    io->writes++;
    return (int32_t)total;
}

static int32_t mem_recv(void *ctx, uint8_t *buf, size_t len)
{
    mem_io_t *io = ctx;
    size_t n = 0;
    if (io->stream != NULL) {
        if (io->stream_left == 0)
            return 0;
        while (n < len && io->stream_left != 0) {
            size_t take = io->stream_len - io->stream_pos;
            if (take > len - n)
                take = len - n;
            if (take > io->stream_left)
                take = io->stream_left;
            memcpy(buf + n, io->stream + io->stream_pos, take);
            n += take;
            io->stream_left -= take;
            io->stream_pos = (io->stream_pos + take) % io->stream_len;
        }
        io->reads++;
        return (int32_t)n;
    }
    /* PUBACK (4 bytes) for every message published and not yet acknowledged */
    while (io->acked < io->published && n + 4 <= len) {
        uint16_t id = io->next_ack_id;
        buf[n] = 0x40;
        buf[n + 1] = 2;
        buf[n + 2] = (uint8_t)(id >> 8);
        buf[n + 3] = (uint8_t)id;
        n += 4;
        io->acked++;
        io->next_ack_id = (uint16_t)(id == 0xFFFF ? 1 : id + 1);
    }
    if (n != 0)
        io->reads++;
    return (int32_t)n;
}

static uint32_t mem_clock(void *ctx)
{
    return ((mem_io_t *)ctx)->now;
}

static unsigned long delivered;
static void on_event(void *user, const mote_mqtt_event_t *e)
{
    (void)user;
    if (e->type == MOTE_MQTT_EVT_PUBLISH || e->type == MOTE_MQTT_EVT_PUBLISH_DONE)
        delivered++;
}

int main(int argc, char **argv)
{
    static uint8_t rx[4096], tx[4096];
    static mote_mqtt_inflight_t inflight[1024];
    static uint16_t qos2[16];
    static uint8_t payload[64];
    static uint8_t stream[4096];
    const char *mode = argc > 1 ? argv[1] : "qos0";
    unsigned long n = argc > 2 ? strtoul(argv[2], NULL, 10) : 100000, i;
    unsigned window = argc > 3 ? (unsigned)strtoul(argv[3], NULL, 10) : 20;
    mem_io_t io;
    mote_transport_t tr;
    mote_mqtt_client_config_t cfg;
    mote_mqtt_client_t c;
    mote_mqtt_connect_opts_t o;
    mote_mqtt_publish_t m;
    static const uint8_t connack[] = { 0x20, 0x02, 0x00, 0x00 };
    mote_err_t rc;
    if (window == 0 || window > 1024)
        window = 20;
    memset(payload, 'p', sizeof payload);
    memset(&io, 0, sizeof io);
    io.next_ack_id = 1;
    tr.send = mem_send;
    tr.recv = mem_recv;
    tr.ctx = &io;
    memset(&cfg, 0, sizeof cfg);
    cfg.transport = &tr;
    cfg.clock = mem_clock;
    cfg.clock_ctx = &io;
    cfg.rx_buf = rx;
    cfg.rx_cap = sizeof rx;
    cfg.tx_buf = tx;
    cfg.tx_cap = sizeof tx;
    cfg.inflight = inflight;
    cfg.inflight_count = (uint16_t)window;
    cfg.qos2_rx_ids = qos2;
    cfg.qos2_rx_count = 16;
    cfg.on_event = on_event;
    if (mote_mqtt_init(&c, &cfg) != MOTE_OK)
        return 1;
    /* CONNACK via the subscriber stream mechanism, once */
    io.stream = connack;
    io.stream_len = sizeof connack;
    io.stream_left = sizeof connack;
    memset(&o, 0, sizeof o);
    o.version = MOTE_MQTT_VERSION_311;
    o.client_id = MOTE_STR("bench");
    o.clean_start = true;
    if (mote_mqtt_connect(&c, &o, 1000, NULL) != MOTE_OK)
        return 1;
    io.stream = NULL;

    memset(&m, 0, sizeof m);
    m.topic = MOTE_STR(TOPIC);
    m.payload.ptr = payload;
    m.payload.len = sizeof payload;
    if (strcmp(mode, "qos0") == 0) {
        for (i = 0; i < n; i++)
            if (mote_mqtt_publish(&c, &m, NULL) != MOTE_OK)
                return 2;
        if (mote_mqtt_flush(&c) != MOTE_OK)
            return 2;
        delivered = n;
    } else if (strcmp(mode, "qos1") == 0) {
        m.qos = 1;
        for (i = 0; i < n;) {
            rc = mote_mqtt_publish(&c, &m, NULL);
            if (rc == MOTE_OK) {
                io.published++;
                i++;
                continue;
            }
            if (rc != MOTE_ERR_NO_SPACE)
                return 3;
            /* window full: write, read the acks, go on */
            if (mote_mqtt_process(&c, 0) != MOTE_OK)
                return 3;
        }
        while (mote_mqtt_inflight_count(&c) != 0)
            if (mote_mqtt_process(&c, 0) != MOTE_OK)
                return 3;
    } else if (strcmp(mode, "sub") == 0) {
        /* a buffer of whole QoS 0 PUBLISH packets, delivered in 4 KB reads */
        int32_t len = mote_mqtt_encode_publish(stream, sizeof stream, MOTE_MQTT_VERSION_311, &m);
        size_t k, per = sizeof stream / (size_t)len;
        for (k = 1; k < per; k++)
            memcpy(stream + k * (size_t)len, stream, (size_t)len);
        io.stream = stream;
        io.stream_len = per * (size_t)len;
        io.stream_left = n * (unsigned long)len;
        while (delivered < n)
            if (mote_mqtt_process(&c, 0) != MOTE_OK)
                return 4;
    } else {
        fprintf(stderr, "usage: %s qos0|qos1|sub MESSAGES [IN_FLIGHT]\n", argv[0]);
        return 1;
    }
    printf("%lu %lu %lu\n", delivered, io.writes, io.reads);
    return delivered == n ? 0 : 5;
}
