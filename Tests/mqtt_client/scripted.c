/* Scripted transport and fake clock for the MQTT client tests and fuzz target. */
#include "scripted.h"

#include <stdio.h>
#include <stdlib.h>

void scripted_init(scripted_t *s)
{
    memset(s, 0, sizeof *s);
    s->data_cap = 1u << 16;
    s->data = malloc(s->data_cap);
}

void scripted_free(scripted_t *s)
{
    free(s->data);
    s->data = NULL;
}

void script_bytes(scripted_t *s, const void *bytes, size_t len)
{
    if (s->chunks >= SCRIPT_MAX) {
        fprintf(stderr, "script too long\n");
        abort();
    }
    while (s->data_len + len > s->data_cap) {
        s->data_cap *= 2;
        s->data = realloc(s->data, s->data_cap);
    }
    if (len)
        memcpy(s->data + s->data_len, bytes, len);
    s->data_len += len;
    s->chunk_end[s->chunks++] = s->data_len;
}

void script_packet(scripted_t *s, const uint8_t *pkt, int32_t len)
{
    if (len <= 0) {
        fprintf(stderr, "encoding a scripted packet failed: %d\n", (int)len);
        abort();
    }
    script_bytes(s, pkt, (size_t)len);
}

int32_t scripted_send(void *ctx, const mote_iovec_t *iov, size_t iovcnt)
{
    scripted_t *s = ctx;
    size_t total = 0, i;
    s->send_calls++;
    if (s->send_error)
        return s->send_error;
    if (s->send_block > 0) {
        s->send_block--;
        return 0;
    }
    for (i = 0; i < iovcnt; i++) {
        size_t take = iov[i].len;
        if (s->send_max && total + take > s->send_max)
            take = s->send_max - total;
        if (s->sent_len + take > SENT_MAX)
            take = SENT_MAX - s->sent_len;
        memcpy(s->sent + s->sent_len, iov[i].base, take);
        s->sent_len += take;
        total += take;
        if (take < iov[i].len)
            break;
    }
    return (int32_t)total;
}

int32_t scripted_recv(void *ctx, uint8_t *buf, size_t len)
{
    scripted_t *s = ctx;
    size_t avail, n;
    s->recv_calls++;
    while (s->chunk < s->chunks && s->pos >= s->chunk_end[s->chunk])
        s->chunk++;
    if (s->chunk >= s->chunks)
        return s->close_at_end ? MOTE_ERR_CLOSED : 0;
    avail = s->chunk_end[s->chunk] - s->pos;
    n = avail < len ? avail : len;
    if (s->recv_max && n > s->recv_max)
        n = s->recv_max;
    memcpy(buf, s->data + s->pos, n);
    s->pos += n;
    return (int32_t)n;
}

uint32_t scripted_clock(void *ctx)
{
    scripted_t *s = ctx;
    uint32_t t = s->now;
    s->now += s->tick;
    return t;
}

int sent_next(scripted_t *s, size_t *cursor, uint8_t *type, uint8_t *flags, const uint8_t **body,
              uint32_t *rem)
{
    size_t hl;
    if (*cursor >= s->sent_len)
        return 0;
    if (mote_mqtt_decode_fixed_header(s->sent + *cursor, s->sent_len - *cursor, type, flags, rem,
                                      &hl) != MOTE_OK)
        return 0;
    if (*cursor + hl + *rem > s->sent_len)
        return 0;
    *body = s->sent + *cursor + hl;
    *cursor += hl + *rem;
    return 1;
}

static void on_event(void *user, const mote_mqtt_event_t *e)
{
    fixture_t *f = user;
    ev_rec_t *r;
    if (f->nev >= EV_MAX)
        return;
    r = &f->ev[f->nev++];
    memset(r, 0, sizeof *r);
    r->type = (int)e->type;
    switch (e->type) {
    case MOTE_MQTT_EVT_PUBLISH: {
        const mote_mqtt_publish_t *m = &e->u.publish.msg;
        r->packet_id = m->packet_id;
        r->qos = m->qos;
        r->dup = m->dup;
        r->retain = m->retain;
        r->first = e->u.publish.first;
        r->last = e->u.publish.last;
        r->offset = e->u.publish.offset;
        r->total = e->u.publish.total;
        r->topic_len = m->topic.len;
        if (m->topic.len < sizeof r->topic)
            memcpy(r->topic, m->topic.ptr, m->topic.len);
        r->props_len = m->props.len;
        if (m->props.len <= sizeof r->props && m->props.len)
            memcpy(r->props, m->props.ptr, m->props.len);
        r->payload_len = m->payload.len;
        memcpy(r->payload, m->payload.ptr, m->payload.len < 64 ? m->payload.len : 64);
        /* chunks of a streamed message are put together by offset */
        if (!(e->u.publish.first && e->u.publish.last) &&
            e->u.publish.offset + m->payload.len <= sizeof f->assembled) {
            if (m->payload.len)
                memcpy(f->assembled + e->u.publish.offset, m->payload.ptr, m->payload.len);
            if (e->u.publish.offset + m->payload.len > f->assembled_len)
                f->assembled_len = e->u.publish.offset + m->payload.len;
        }
        break;
    }
    case MOTE_MQTT_EVT_SUBACK:
    case MOTE_MQTT_EVT_UNSUBACK:
        r->packet_id = e->u.suback.packet_id;
        r->total = (uint32_t)e->u.suback.count;
        r->reason = e->u.suback.count ? e->u.suback.reason_codes[0] : 0;
        r->props_len = e->u.suback.props.len;
        break;
    case MOTE_MQTT_EVT_PINGRESP:
        break;
    default:
        r->packet_id = e->u.ack.packet_id;
        r->reason = e->u.ack.reason_code;
        r->props_len = e->u.ack.props.len;
        if (e->u.ack.props.len <= sizeof r->props && e->u.ack.props.len)
            memcpy(r->props, e->u.ack.props.ptr, e->u.ack.props.len);
        break;
    }
    if (f->hook != NULL)
        f->hook(f, e);
}

fixture_t *fixture_new(size_t rx_cap, size_t tx_cap)
{
    fixture_t *f = calloc(1, sizeof *f);
    scripted_init(&f->t);
    f->t.data = realloc(f->t.data, f->t.data_cap);
    f->tr.send = scripted_send;
    f->tr.recv = scripted_recv;
    f->tr.ctx = &f->t;
    f->cfg.transport = &f->tr;
    f->cfg.clock = scripted_clock;
    f->cfg.clock_ctx = &f->t;
    f->cfg.rx_buf = f->rx;
    f->cfg.rx_cap = rx_cap;
    f->cfg.tx_buf = f->tx;
    f->cfg.tx_cap = tx_cap;
    f->cfg.inflight = f->inflight;
    f->cfg.inflight_count = 8;
    f->cfg.qos2_rx_ids = f->qos2_ids;
    f->cfg.qos2_rx_count = 4;
    f->cfg.rx_topic_aliases = f->aliases_in;
    f->cfg.rx_topic_alias_count = 4;
    f->cfg.rx_alias_store = f->alias_store;
    f->cfg.rx_alias_slot_size = 32;
    f->cfg.on_event = on_event;
    f->cfg.user = f;
    if (mote_mqtt_init(&f->c, &f->cfg) != MOTE_OK)
        abort();
    return f;
}

void fixture_free(fixture_t *f)
{
    scripted_free(&f->t);
    free(f);
}

void fixture_clear_sent(fixture_t *f)
{
    f->t.sent_len = 0;
}

mote_err_t fixture_connect(fixture_t *f, mote_mqtt_version_t v, bool session_present,
                           const uint8_t *props, size_t props_len)
{
    uint8_t pkt[256];
    mote_mqtt_connack_t ca;
    mote_mqtt_connect_opts_t o;
    memset(&ca, 0, sizeof ca);
    ca.session_present = session_present;
    ca.props.ptr = props;
    ca.props.len = props_len;
    script_packet(&f->t, pkt, mote_mqtt_encode_connack(pkt, sizeof pkt, v, &ca));
    memset(&o, 0, sizeof o);
    o.version = v;
    o.client_id = MOTE_STR("test-client");
    o.clean_start = !session_present;
    o.keep_alive_s = 0;
    return mote_mqtt_connect(&f->c, &o, 1000, NULL);
}

/* ---- Server-side packets scripted for the client, and messages to publish ---------- */

void srv_ack(fixture_t *f, mote_mqtt_version_t v, uint8_t type, uint16_t id, uint8_t reason)
{
    uint8_t pkt[16];
    mote_mqtt_ack_t a = { id, reason, { NULL, 0 } };
    script_packet(&f->t, pkt, mote_mqtt_encode_ack(pkt, sizeof pkt, v, type, &a));
}

void srv_publish(fixture_t *f, mote_mqtt_version_t v, const char *topic, const void *payload,
                        size_t len, uint8_t qos, uint16_t id, bool dup, const uint8_t *props,
                        size_t plen)
{
    static uint8_t pkt[70000];
    mote_mqtt_publish_t p;
    memset(&p, 0, sizeof p);
    p.topic = mote_bytes_cstr(topic);
    p.payload.ptr = payload;
    p.payload.len = len;
    p.qos = qos;
    p.dup = dup;
    p.packet_id = id;
    p.props.ptr = props;
    p.props.len = plen;
    script_packet(&f->t, pkt, mote_mqtt_encode_publish(pkt, sizeof pkt, v, &p));
}

mote_mqtt_publish_t msg(const char *topic, const char *payload, uint8_t qos)
{
    mote_mqtt_publish_t p;
    memset(&p, 0, sizeof p);
    p.topic = mote_bytes_cstr(topic);
    p.payload = mote_bytes_cstr(payload);
    p.qos = qos;
    return p;
}
