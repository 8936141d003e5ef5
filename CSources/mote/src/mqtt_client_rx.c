/* MQTT client: the receive side and the process step. Bytes are read into rx_buf as far
 * as there is room, every complete packet in it is dispatched in place (events point into
 * rx_buf), and the incomplete rest moves to the front. A PUBLISH larger than rx_buf keeps
 * its header (topic, id, properties) at the front while the payload passes through the
 * rest of the buffer in chunks, so the application sees the topic with every chunk. */
#include <string.h>

#include "mqtt_client_internal.h"

static uint32_t now_ms(const mote_mqtt_client_t *c)
{
    return c->cfg->clock(c->cfg->clock_ctx);
}

/* Move the unconsumed bytes to the front of rx_buf. */
static void rx_compact(mote_mqtt_client_t *c, uint32_t off)
{
    if (off == 0)
        return;
    if (off >= c->rx_len) { /* all consumed (or the connection was dropped meanwhile) */
        c->rx_len = 0;
        return;
    }
    memmove(c->cfg->rx_buf, c->cfg->rx_buf + off, c->rx_len - off);
    c->rx_len -= off;
}

/* Read into rx_buf + at, at most want bytes. Returns the count (0: nothing now) or a
 * fatal error (the connection is dropped). */
static int32_t rx_read(mote_mqtt_client_t *c, uint32_t at, uint32_t want)
{
    const mote_transport_t *t = c->cfg->transport;
    int32_t n = t->recv(t->ctx, c->cfg->rx_buf + at, want);
    if (n < 0 || (uint32_t)n > want)
        return (int32_t)mote_client_fail(c, n < 0 ? (mote_err_t)n : MOTE_ERR_TRANSPORT);
    return n;
}

#if MOTE_MQTT_V5
/* Incoming topic alias: remember topic for the alias, or fill an empty topic from it. */
static mote_err_t resolve_alias(mote_mqtt_client_t *c, mote_mqtt_publish_t *p)
{
    const mote_mqtt_client_config_t *cfg = c->cfg;
    mote_mqtt_prop_t pr;
    mote_bytes_t *e;
    uint8_t *slot;
    if (p->props.len == 0 || !mote_mqtt_prop_find(p->props, MOTE_PROP_TOPIC_ALIAS, &pr))
        return p->topic.len != 0 ? MOTE_OK : MOTE_ERR_TOPIC_ALIAS;
    if (pr.u32 == 0 || pr.u32 > c->alias_max_in)
        return MOTE_ERR_TOPIC_ALIAS;
    e = &cfg->rx_topic_aliases[pr.u32 - 1u];
    slot = cfg->rx_alias_store + (size_t)(pr.u32 - 1u) * cfg->rx_alias_slot_size;
    if (p->topic.len == 0) {
        if (e->len == 0)
            return MOTE_ERR_TOPIC_ALIAS;
        p->topic = *e;
        return MOTE_OK;
    }
    if (p->topic.len > cfg->rx_alias_slot_size)
        return MOTE_ERR_TOPIC_ALIAS;
    memcpy(slot, p->topic.ptr, p->topic.len);
    e->ptr = slot;
    e->len = p->topic.len;
    return MOTE_OK;
}
#define RESOLVE(c, p) (MQ_IS_V5(c) ? resolve_alias((c), (p)) : MOTE_OK)
#else
#define RESOLVE(c, p) MOTE_OK
#endif

/* The ack an incoming PUBLISH of this QoS needs once handled. */
static mote_err_t ack_publish(mote_mqtt_client_t *c, uint8_t qos, uint16_t id)
{
    if (qos == 0)
        return MOTE_OK;
    return mote_client_queue_ack(c, qos == 1 ? MOTE_MQTT_PUBACK : MOTE_MQTT_PUBREC, id, 0);
}

/* Incoming QoS 2 exactly-once: true when the message is new and must be delivered. */
static mote_err_t qos2_is_new(mote_mqtt_client_t *c, const mote_mqtt_publish_t *p, bool *fresh)
{
    mote_err_t rc = MOTE_OK;
    *fresh = true;
    if (p->qos == 2) {
        *fresh = !mote_session_qos2_seen(c, p->packet_id, &rc);
        /* v5: a full table means the server ignored the receive maximum we announced. */
        if (rc != MOTE_OK && MQ_IS_V5(c))
            rc = MOTE_ERR_RECEIVE_MAXIMUM;
    }
    return rc;
}

MQ_NOINLINE static void publish_done(mote_mqtt_client_t *c, mote_mqtt_inflight_t *r, const mote_mqtt_ack_t *a)
{
    mote_mqtt_event_t evt;
    evt.type = MOTE_MQTT_EVT_PUBLISH_DONE;
    evt.u.ack = *a;
    mote_session_free(c, r);
    mote_client_emit(c, &evt);
}

/* PUBACK, PUBREC, PUBCOMP for our messages. */
static mote_err_t on_ack(mote_mqtt_client_t *c, uint8_t type, const mote_mqtt_ack_t *a)
{
    mote_mqtt_inflight_t *r = mote_session_find(c, a->packet_id);
    uint8_t st;
    if (r == NULL)
        return MOTE_ERR_UNKNOWN_PACKET_ID;
    st = IF_STATE(r->state);
    if (type == MOTE_MQTT_PUBREC) {
        if (st == IF_PUBREC && a->reason_code >= 0x80u) {
            publish_done(c, r, a);
            return MOTE_OK;
        }
        if (st != IF_PUBREC && st != IF_PUBCOMP)
            return MOTE_ERR_PROTOCOL;
        r->state = (uint8_t)(IF_PUBCOMP | (r->state & IF_RESEND));
        r->seq = ++c->seq;
        return mote_client_queue_ack(c, MOTE_MQTT_PUBREL, a->packet_id, 0);
    }
    if (st != (type == MOTE_MQTT_PUBACK ? IF_PUBACK : IF_PUBCOMP))
        return MOTE_ERR_PROTOCOL;
    publish_done(c, r, a);
    return MOTE_OK;
}

/* One complete packet at pkt (header_len + remaining bytes). */
static mote_err_t dispatch(mote_mqtt_client_t *c, const uint8_t *pkt, size_t hl,
                                       uint32_t rem)
{
    /* type and flags come from the first byte again: fewer arguments, a smaller frame */
    const uint8_t type = (uint8_t)(pkt[0] >> 4), flags = (uint8_t)(pkt[0] & 0x0Fu);
    const uint8_t *body = pkt + hl;
    mote_mqtt_version_t v = MQ_VERSION(c);
    mote_mqtt_event_t evt;
    mote_err_t rc;
    bool fresh;
    if (c->cfg->on_trace != NULL)
        c->cfg->on_trace(c->cfg->user, 'R', pkt, hl + rem);
    if ((c->state == MQ_CONNECTING) != (type == MOTE_MQTT_CONNACK) &&
        !(type == MOTE_MQTT_AUTH && MQ_IS_V5(c)))
        return MOTE_ERR_PROTOCOL; /* CONNACK first, and only then */
    switch (type) {
    case MOTE_MQTT_PUBLISH: {
        mote_mqtt_publish_t *p = &evt.u.publish.msg;
        /* The header decoder directly: the whole-packet one is a wrapper around it in
         * size builds, one frame more on the deepest path. */
        rc = mote_mqtt_decode_publish_header(body, rem, rem, flags, v, p, NULL);
        if (rc == MOTE_OK)
            rc = RESOLVE(c, p);
        if (rc == MOTE_OK)
            rc = qos2_is_new(c, p, &fresh);
        if (rc != MOTE_OK)
            return rc;
        if (fresh) {
            evt.type = MOTE_MQTT_EVT_PUBLISH;
            evt.u.publish.offset = 0;
            evt.u.publish.total = (uint32_t)p->payload.len;
            evt.u.publish.first = evt.u.publish.last = true;
            mote_client_emit(c, &evt);
        }
        return ack_publish(c, p->qos, p->packet_id);
    }
    case MOTE_MQTT_PUBACK:
    case MOTE_MQTT_PUBREC:
    case MOTE_MQTT_PUBCOMP:
        rc = mote_mqtt_decode_ack(body, rem, type, flags, v, &evt.u.ack);
        return rc != MOTE_OK ? rc : on_ack(c, type, &evt.u.ack);
    case MOTE_MQTT_PUBREL:
        rc = mote_mqtt_decode_ack(body, rem, type, flags, v, &evt.u.ack);
        if (rc != MOTE_OK)
            return rc;
        fresh = mote_session_qos2_release(c, evt.u.ack.packet_id);
        /* v5 says which ids were unknown (0x92); 3.1.1 completes them anyway. */
        return mote_client_queue_ack(c, MOTE_MQTT_PUBCOMP, evt.u.ack.packet_id,
                                     (fresh || !MQ_IS_V5(c)) ? 0u : 0x92u);
    case MOTE_MQTT_SUBACK:
    case MOTE_MQTT_UNSUBACK:
        rc = mote_mqtt_decode_suback(body, rem, type, v, &evt.u.suback);
        if (rc != MOTE_OK)
            return rc;
        if (c->sub_pending == 0)
            return MOTE_ERR_UNKNOWN_PACKET_ID;
        c->sub_pending--;
        evt.type = type == MOTE_MQTT_SUBACK ? MOTE_MQTT_EVT_SUBACK : MOTE_MQTT_EVT_UNSUBACK;
        mote_client_emit(c, &evt);
        return MOTE_OK;
    case MOTE_MQTT_PINGRESP:
        if (rem != 0)
            return MOTE_ERR_MALFORMED;
        c->flags &= (uint8_t)~MQF_PING;
        evt.type = MOTE_MQTT_EVT_PINGRESP;
        mote_client_emit(c, &evt);
        return MOTE_OK;
#if MOTE_MQTT_V5
    case MOTE_MQTT_DISCONNECT:
    case MOTE_MQTT_AUTH:
        if (!MQ_IS_V5(c))
            return MOTE_ERR_PROTOCOL;
        rc = mote_mqtt_decode_disconnect(body, rem, type, v, &evt.u.ack);
        if (rc != MOTE_OK)
            return rc;
        evt.type = type == MOTE_MQTT_AUTH ? MOTE_MQTT_EVT_AUTH : MOTE_MQTT_EVT_DISCONNECT;
        mote_client_emit(c, &evt);
        return type == MOTE_MQTT_AUTH ? MOTE_OK : MOTE_ERR_SERVER_DISCONNECT;
#endif
    default:
        return MOTE_ERR_PROTOCOL; /* CONNECT, CONNACK again, SUBSCRIBE, PINGREQ, ... */
    }
}

/* One piece of a PUBLISH too large for rx_buf: its header (fixed + variable, rx_hdr
 * bytes) stays at the front of rx_buf and the n payload bytes just received follow it.
 * The first piece decides whether the message is delivered (not a QoS 2 duplicate) or
 * skipped (reject_oversize); the last one sends the ack. */
MQ_NOINLINE static mote_err_t stream_piece(mote_mqtt_client_t *c, uint32_t n, bool first)
{
    uint8_t *buf = c->cfg->rx_buf;
    mote_mqtt_event_t evt;
    mote_mqtt_publish_t *p = &evt.u.publish.msg;
    uint8_t type, flags;
    uint32_t rem;
    size_t hl, poff;
    bool fresh;
    /* Decoding the kept header again is cheaper in RAM than keeping its fields. */
    mote_err_t rc = mote_mqtt_decode_fixed_header(buf, c->rx_hdr, &type, &flags, &rem, &hl);
    if (rc == MOTE_OK)
        rc = mote_mqtt_decode_publish_header(buf + hl, c->rx_hdr - hl, rem, flags, MQ_VERSION(c), p,
                                             &poff);
    if (rc != MOTE_OK)
        return rc;
    if (first) {
        if (c->cfg->reject_oversize) {
            c->flags |= MQF_DISCARD;
            return MOTE_ERR_OVERSIZE_REJECTED;
        }
        rc = RESOLVE(c, p);
        if (rc == MOTE_OK)
            rc = qos2_is_new(c, p, &fresh);
        if (rc != MOTE_OK)
            return rc;
        c->flags |= (uint8_t)(MQF_STREAM | (fresh ? MQF_DELIVER : 0u));
    }
    if (c->flags & MQF_DELIVER) {
        if (!first && (rc = RESOLVE(c, p)) != MOTE_OK)
            return rc;
        evt.type = MOTE_MQTT_EVT_PUBLISH;
        p->payload.ptr = buf + c->rx_hdr;
        p->payload.len = n;
        evt.u.publish.total = c->rx_total;
        evt.u.publish.offset = c->rx_total - c->rx_skip - n;
        evt.u.publish.first = first;
        evt.u.publish.last = c->rx_skip == 0;
        mote_client_emit(c, &evt);
    }
    if (c->rx_skip != 0)
        return MOTE_OK;
    c->flags &= (uint8_t)~(MQF_STREAM | MQF_DELIVER | MQF_DISCARD);
    c->rx_len = 0;
    c->rx_hdr = 0;
    /* A rejected message is acknowledged too, so the broker does not send it again. */
    return ack_publish(c, p->qos, p->packet_id);
}

/* A PUBLISH too large for rx_buf starts at the front of rx_buf (hl bytes of fixed header):
 * once its variable header is in, keep that and stream the payload through the rest
 * (rx_hdr set; still 0 while the variable header is incomplete). */
MQ_NOINLINE static mote_err_t start_stream(mote_mqtt_client_t *c)
{
    mote_mqtt_publish_t p;
    size_t hl, poff;
    uint32_t hdr, rem;
    uint8_t type, flags;
    mote_err_t rc = mote_mqtt_decode_fixed_header(c->cfg->rx_buf, c->rx_len, &type, &flags, &rem, &hl);
    if (rc == MOTE_OK)
        rc = mote_mqtt_decode_publish_header(c->cfg->rx_buf + hl, c->rx_len - hl, rem, flags,
                                             MQ_VERSION(c), &p, &poff);
    if (rc == MOTE_ERR_NEED_MORE)
        return c->rx_len >= c->cfg->rx_cap ? MOTE_ERR_PACKET_TOO_LARGE : MOTE_OK;
    if (rc != MOTE_OK)
        return rc;
    hdr = (uint32_t)(hl + poff);
    if (hdr >= c->cfg->rx_cap || hdr > 0xFFFFu)
        return MOTE_ERR_PACKET_TOO_LARGE;
    if (c->cfg->on_trace != NULL)
        c->cfg->on_trace(c->cfg->user, 'R', c->cfg->rx_buf, c->rx_len);
    c->rx_hdr = (uint16_t)hdr;
    c->rx_total = rem - (uint32_t)poff;
    c->rx_skip = c->rx_total - (c->rx_len - hdr);
    return MOTE_OK; /* the caller delivers the first piece: one frame less on the stack */
}

/* Read the next piece of a streamed (or skipped) payload behind the kept header. */
static mote_err_t stream_pump(mote_mqtt_client_t *c, int32_t *got)
{
    uint32_t room = (uint32_t)c->cfg->rx_cap - c->rx_hdr;
    int32_t n = rx_read(c, c->rx_hdr, c->rx_skip < room ? c->rx_skip : room);
    *got = n;
    if (n <= 0)
        return n < 0 ? (mote_err_t)n : MOTE_OK;
    c->rx_skip -= (uint32_t)n;
    return stream_piece(c, (uint32_t)n, false);
}

/* rx_parse stopped at a CONNACK for the caller to handle (not a mote_err_t value). */
#define RX_CONNACK ((mote_err_t)1)

/* Dispatch every complete packet in rx_buf; start streaming an oversize PUBLISH. */
static mote_err_t rx_parse(mote_mqtt_client_t *c)
{
    uint8_t *buf = c->cfg->rx_buf;
    uint32_t off = 0;
    mote_err_t rc = MOTE_OK;
    while (c->ack_type == 0 && (c->state == MQ_CONNECTED || c->state == MQ_CONNECTING) &&
           off < c->rx_len) {
        uint8_t type, flags;
        uint32_t rem, total, avail = c->rx_len - off;
        size_t hl;
        rc = mote_mqtt_decode_fixed_header(buf + off, avail, &type, &flags, &rem, &hl);
        if (rc == MOTE_ERR_NEED_MORE) {
            rc = MOTE_OK;
            break;
        }
        if (rc != MOTE_OK)
            break;
        total = (uint32_t)hl + rem;
        if (MQ_V5_LIMIT(c->max_packet_in != 0 && total > c->max_packet_in)) {
            rc = MOTE_ERR_PACKET_TOO_LARGE;
            break;
        }
        if (total <= avail) {
            if (type == MOTE_MQTT_CONNACK && c->state == MQ_CONNECTING) {
                /* Handled by the caller (rx_pump), so the CONNACK decoder and its
                 * properties never stack on this frame. rx_off: its end (consumed
                 * lazily: see mote_mqtt_connect); rx_total: its body length. */
                if (c->cfg->on_trace != NULL)
                    c->cfg->on_trace(c->cfg->user, 'R', buf + off, total);
                c->rx_off = off + total;
                c->rx_total = rem;
                return RX_CONNACK;
            }
            rc = dispatch(c, buf + off, hl, rem);
            off += total;
            if (rc != MOTE_OK)
                break;
            continue;
        }
        if (total > c->cfg->rx_cap) {
            if (type != MOTE_MQTT_PUBLISH || c->state != MQ_CONNECTED) {
                rc = MOTE_ERR_PACKET_TOO_LARGE;
                break;
            }
            rx_compact(c, off);
            return MOTE_ERR_NEED_MORE; /* the caller starts streaming it */
        }
        break; /* fits once the rest arrives */
    }
    rx_compact(c, off);
    return rc;
}

static bool fatal(mote_err_t rc)
{
    return rc != MOTE_OK && rc != MOTE_ERR_OVERSIZE_REJECTED;
}

mote_err_t mote_client_rx_pump(mote_mqtt_client_t *c, int32_t *got)
{
    mote_err_t rc;
    int32_t n;
    *got = 0;
    if (c->ack_type != 0)
        return MOTE_OK; /* a parked ack must go out before anything else is read */
    if (c->rx_off != 0) {
        rx_compact(c, c->rx_off);
        c->rx_off = 0;
    }
    if (c->rx_skip != 0) {
        rc = stream_pump(c, got);
    } else {
        /* Packets left over from a pass that had to stop for a parked ack go first. */
        rc = rx_parse(c);
        if ((rc == MOTE_OK || rc == MOTE_ERR_NEED_MORE) && c->ack_type == 0 && c->rx_off == 0 &&
            c->rx_len < c->cfg->rx_cap && (c->state == MQ_CONNECTED || c->state == MQ_CONNECTING)) {
            n = rx_read(c, c->rx_len, (uint32_t)c->cfg->rx_cap - c->rx_len);
            if (n < 0)
                return (mote_err_t)n;
            *got = n;
            c->rx_len += (uint32_t)n;
            if (n > 0)
                rc = rx_parse(c);
        }
        if (rc == RX_CONNACK) {
            rc = mote_client_on_connack(c, c->cfg->rx_buf + c->rx_off - c->rx_total, c->rx_total);
            c->rx_total = 0;
        }
        /* An oversize PUBLISH at the front: streaming starts here, not inside rx_parse,
         * so its frames and the dispatch frames are never on the stack together. */
        if (rc == MOTE_ERR_NEED_MORE) {
            rc = start_stream(c);
            if (rc == MOTE_OK && c->rx_hdr != 0)
                rc = stream_piece(c, c->rx_len - c->rx_hdr, true);
        }
    }
    return fatal(rc) && c->state != MQ_DISCONNECTED ? mote_client_fail(c, rc) : rc;
}

static mote_err_t keep_alive(mote_mqtt_client_t *c, uint32_t now)
{
    uint32_t ka = (uint32_t)c->keep_alive_s * 1000u;
    if (ka == 0)
        return MOTE_OK;
    if (c->flags & MQF_PING) {
        if (now - c->ping_sent_ms >= ka)
            return mote_client_fail(c, MOTE_ERR_KEEPALIVE_TIMEOUT);
        return MOTE_OK;
    }
    if (now - c->last_tx_ms >= ka) {
        mote_err_t rc = mote_client_queue_ping(c);
        if (rc == MOTE_OK)
            rc = mote_mqtt_flush(c);
        if (rc != MOTE_ERR_NEED_MORE)
            return rc;
        /* Nothing has been written for two intervals, not even a PINGREQ: the peer
         * stopped reading, which is as dead as a missing PINGRESP. */
        if (now - c->last_tx_ms >= 2u * ka)
            return mote_client_fail(c, MOTE_ERR_KEEPALIVE_TIMEOUT);
    }
    return MOTE_OK;
}

mote_err_t mote_mqtt_process(mote_mqtt_client_t *c, uint32_t budget_ms)
{
    uint32_t start, now;
    mote_err_t rc;
    if (c == NULL || c->cfg == NULL)
        return MOTE_ERR_BAD_ARG;
    if (c->state == MQ_CLOSING)
        return mote_mqtt_flush(c);
    if (c->state != MQ_CONNECTED)
        return MOTE_ERR_NOT_CONNECTED;
    start = now_ms(c);
    for (;;) {
        int reads;
        rc = mote_mqtt_flush(c);
        if (rc == MOTE_OK || rc == MOTE_ERR_NEED_MORE)
            rc = mote_client_retry_ack(c);
        if (rc == MOTE_OK)
            rc = mote_client_resend(c);
        if (rc != MOTE_OK && rc != MOTE_ERR_NEED_MORE)
            return c->state != MQ_DISCONNECTED ? mote_client_fail(c, rc) : rc;
        /* Read what is available (bounded, so a flood cannot keep us here past the
         * budget); acks produced on the way are coalesced and written together below. */
        for (reads = 0; reads < 16 && c->ack_type == 0; reads++) {
            int32_t got;
            rc = mote_client_rx_pump(c, &got);
            if (rc != MOTE_OK)
                return rc;
            if (got == 0)
                break;
        }
        rc = mote_mqtt_flush(c);
        if (rc != MOTE_OK && rc != MOTE_ERR_NEED_MORE)
            return rc;
        now = now_ms(c);
        rc = keep_alive(c, now);
        if (rc != MOTE_OK)
            return rc;
        if (now - start >= budget_ms)
            return MOTE_OK;
    }
}
