/* libFuzzer target: the MQTT client's receive path fed arbitrary bytes by a scripted
 * transport. The first input byte picks the protocol version, the read chunk size, the
 * receive buffer size, reject_oversize, keep-alive and (v5) whether CONNECT names an
 * Authentication Method; the client connects (scripted CONNACK), queues a few QoS 1/2
 * messages so acks can match (and, with the method, starts a re-authentication, whose
 * server AUTH 0x18 challenges the event callback answers), then processes the rest of the
 * input in chunks until it reports an error or the input runs out. Any crash, sanitizer
 * report or hang is a bug; every error return is fine. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "mote/mqtt.h"

typedef struct fuzz_io {
    const uint8_t *data;
    size_t len, pos;
    size_t chunk;
    uint32_t now;
    size_t sent;
} fuzz_io_t;

static int32_t fz_send(void *ctx, const mote_iovec_t *iov, size_t iovcnt)
{
    fuzz_io_t *io = ctx;
    size_t total = 0, i;
    for (i = 0; i < iovcnt; i++)
        total += iov[i].len;
    /* every other call takes only part, to exercise resumed writes */
    if ((io->sent++ & 1u) && total > 3)
        total = 3;
    return (int32_t)total;
}

static int32_t fz_recv(void *ctx, uint8_t *buf, size_t len)
{
    fuzz_io_t *io = ctx;
    size_t n = io->len - io->pos;
    if (n == 0)
        return MOTE_ERR_CLOSED;
    if (n > io->chunk)
        n = io->chunk;
    if (n > len)
        n = len;
    memcpy(buf, io->data + io->pos, n);
    io->pos += n;
    return (int32_t)n;
}

static uint32_t fz_clock(void *ctx)
{
    fuzz_io_t *io = ctx;
    return io->now += 7;
}

static volatile uint32_t sink;

/* The Authentication Method our CONNECT names (opt bit 7, v5) and every AUTH repeats. */
static const uint8_t fz_method[] = { 0x15, 0x00, 0x02, 'f', 'z' };

static void fz_event(void *user, const mote_mqtt_event_t *e)
{
    size_t i;
    uint32_t h = 0;
    if (e->type == MOTE_MQTT_EVT_PUBLISH) {
        /* touch every byte handed out so the sanitizer sees out-of-bounds spans */
        for (i = 0; i < e->u.publish.msg.topic.len; i++)
            h += e->u.publish.msg.topic.ptr[i];
        for (i = 0; i < e->u.publish.msg.payload.len; i++)
            h += e->u.publish.msg.payload.ptr[i];
        for (i = 0; i < e->u.publish.msg.props.len; i++)
            h += e->u.publish.msg.props.ptr[i];
    } else if (e->type == MOTE_MQTT_EVT_SUBACK || e->type == MOTE_MQTT_EVT_UNSUBACK) {
        for (i = 0; i < e->u.suback.count; i++)
            h += e->u.suback.reason_codes[i];
    } else if (e->type != MOTE_MQTT_EVT_PINGRESP) {
        for (i = 0; i < e->u.ack.props.len; i++)
            h += e->u.ack.props.ptr[i];
        /* answer a challenge from the callback, as an application would */
        if (e->type == MOTE_MQTT_EVT_AUTH && e->u.ack.reason_code == 0x18) {
            mote_mqtt_props_t p = { fz_method, sizeof fz_method };
            h += (uint32_t)mote_mqtt_auth(user, 0x18, p);
        }
    }
    sink += h;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t connack_v311[] = { 0x20, 0x02, 0x00, 0x00 };
    static const uint8_t connack_v5[] = { 0x20, 0x03, 0x00, 0x00, 0x00 };
    uint8_t rx[160], tx[64];
    mote_mqtt_inflight_t inflight[4];
    uint16_t qos2[2];
    mote_bytes_t aliases[3];
    uint8_t alias_store[3 * 16];
    fuzz_io_t io;
    mote_transport_t tr;
    mote_mqtt_client_config_t cfg;
    mote_mqtt_client_t c;
    mote_mqtt_connect_opts_t o;
    uint8_t script[4200];
    uint8_t opt;
    bool v5;
    size_t hdr, i;
    mote_err_t rc;
    if (size < 1 || size > 4096)
        return 0;
    opt = data[0];
    v5 = (opt & 1u) != 0;
    hdr = v5 ? sizeof connack_v5 : sizeof connack_v311;
    memcpy(script, v5 ? connack_v5 : connack_v311, hdr);
    memcpy(script + hdr, data + 1, size - 1);
    memset(&io, 0, sizeof io);
    io.data = script;
    io.len = hdr + size - 1;
    io.chunk = (size_t)((opt >> 1) & 7u) * 5u + 1u; /* 1..36 bytes per read */
    tr.send = fz_send;
    tr.recv = fz_recv;
    tr.ctx = &io;
    memset(&cfg, 0, sizeof cfg);
    cfg.transport = &tr;
    cfg.clock = fz_clock;
    cfg.clock_ctx = &io;
    cfg.rx_buf = rx;
    cfg.rx_cap = (opt & 0x10u) ? 24 : sizeof rx; /* small: oversize PUBLISH streams */
    cfg.tx_buf = tx;
    cfg.tx_cap = sizeof tx;
    cfg.inflight = inflight;
    cfg.inflight_count = 4;
    cfg.qos2_rx_ids = qos2;
    cfg.qos2_rx_count = 2;
    cfg.rx_topic_aliases = aliases;
    cfg.rx_topic_alias_count = 3;
    cfg.rx_alias_store = alias_store;
    cfg.rx_alias_slot_size = 16;
    cfg.reject_oversize = (opt & 0x20u) != 0;
    cfg.on_event = fz_event;
    cfg.user = &c;
    if (mote_mqtt_init(&c, &cfg) != MOTE_OK)
        __builtin_trap();
    memset(&o, 0, sizeof o);
    o.version = v5 ? MOTE_MQTT_VERSION_5 : MOTE_MQTT_VERSION_311;
    o.client_id = MOTE_STR("fuzz");
    o.clean_start = true;
    o.keep_alive_s = (opt & 0x40u) ? 1 : 0;
    if (v5 && (opt & 0x80u)) {
        o.extra_props.ptr = fz_method;
        o.extra_props.len = sizeof fz_method;
    }
    rc = mote_mqtt_connect(&c, &o, 1000, NULL);
    if (rc != MOTE_OK)
        return 0;
    (void)mote_mqtt_auth(&c, 0x19, o.extra_props); /* refused without the method */
    for (i = 0; i < 3; i++) {
        mote_mqtt_publish_t m;
        memset(&m, 0, sizeof m);
        m.topic = MOTE_STR("f/t");
        m.payload = MOTE_STR("payload");
        m.qos = (uint8_t)(1u + (i & 1u));
        (void)mote_mqtt_publish(&c, &m, NULL);
    }
    {
        mote_mqtt_subscription_t s = { MOTE_STR("f/#"), 2 };
        (void)mote_mqtt_subscribe(&c, &s, 1, (mote_mqtt_props_t){ NULL, 0 }, NULL);
    }
    /* every call consumes input or fails; the bound only guards against a hang bug */
    for (i = 0; i < io.len + 64; i++) {
        rc = mote_mqtt_process(&c, 0);
        if (rc != MOTE_OK && rc != MOTE_ERR_OVERSIZE_REJECTED)
            break;
    }
    if (rc == MOTE_OK || rc == MOTE_ERR_OVERSIZE_REJECTED)
        __builtin_trap(); /* the input ends with a close: the client must have seen it */
    return 0;
}
