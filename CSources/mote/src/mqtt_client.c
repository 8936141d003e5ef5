/* MQTT client: connection set-up and the transmit side (publish, subscribe, unsubscribe,
 * disconnect, flush). Outgoing packets are encoded straight into tx_buf and coalesced there,
 * so a burst of small messages leaves in few transport writes; a payload that does not fit
 * is written from the caller's memory as the second piece of a gathered write (no copy).
 * The receive side and the process step are in mqtt_client_rx.c. */
#include <string.h>

#include "mqtt_client_internal.h"
#include "mqtt_wire.h"

static uint32_t now_ms(const mote_mqtt_client_t *c)
{
    return c->cfg->clock(c->cfg->clock_ctx);
}

void mote_client_emit(const mote_mqtt_client_t *c, mote_mqtt_event_t *evt, unsigned type)
{
    evt->type = (mote_mqtt_event_type_t)type;
    if (c->cfg->on_event != NULL)
        c->cfg->on_event(c->cfg->user, evt);
}

static void trace_tx(const mote_mqtt_client_t *c, const uint8_t *p, size_t len)
{
    if (c->cfg->on_trace != NULL)
        c->cfg->on_trace(c->cfg->user, 'S', p, len);
}

/* Forget everything that belongs to one connection (not the session records). */
static void drop_connection(mote_mqtt_client_t *c)
{
    c->state = MQ_DISCONNECTED;
    c->flags = 0;
    c->tx_len = c->tx_sent = c->tx_tail_len = 0;
    c->tx_tail = NULL;
    c->rx_len = c->rx_skip = c->rx_total = 0;
    c->rx_hdr = c->rx_off = 0;
    c->ack_type = 0;
    c->resend_left = 0;
    memset(c->sub_pending, 0, sizeof c->sub_pending);
}

mote_err_t mote_client_fail(mote_mqtt_client_t *c, mote_err_t err)
{
    drop_connection(c);
    return err;
}

void mote_mqtt_reset_connection(mote_mqtt_client_t *c)
{
    if (c != NULL && c->cfg != NULL)
        drop_connection(c);
}

/* Clear a caller table (p may be NULL when n is 0). */
static void zero(void *p, size_t n)
{
    if (n != 0)
        memset(p, 0, n);
}

mote_err_t mote_mqtt_init(mote_mqtt_client_t *c, const mote_mqtt_client_config_t *cfg)
{
    const mote_transport_t *t;
    if (c == NULL || cfg == NULL)
        return MOTE_ERR_BAD_ARG;
    t = cfg->transport;
    /* 16 bytes hold any fixed header plus the short acks; less cannot work. */
    if (t == NULL || t->send == NULL || t->recv == NULL || cfg->clock == NULL ||
        cfg->rx_buf == NULL || cfg->rx_cap < 16 || cfg->tx_buf == NULL || cfg->tx_cap < 16 ||
        (cfg->inflight_count != 0 && cfg->inflight == NULL) ||
        /* a packet id stays free beside every record and pending SUBSCRIBE/UNSUBSCRIBE */
        ((cfg->inflight_count + MOTE_MQTT_MAX_PENDING_SUBS + 1u) >> 16) != 0 ||
        (cfg->qos2_rx_count != 0 && cfg->qos2_rx_ids == NULL))
        return MOTE_ERR_BAD_ARG;
    memset(c, 0, sizeof *c);
    c->cfg = cfg;
    zero(cfg->inflight, (size_t)cfg->inflight_count * sizeof cfg->inflight[0]);
    zero(cfg->qos2_rx_ids, (size_t)cfg->qos2_rx_count * sizeof cfg->qos2_rx_ids[0]);
    return MOTE_OK;
}

bool mote_mqtt_is_connected(const mote_mqtt_client_t *c)
{
    return c != NULL && c->state == MQ_CONNECTED;
}

uint16_t mote_mqtt_inflight_count(const mote_mqtt_client_t *c)
{
    return c != NULL ? c->inflight_used : 0;
}

size_t mote_mqtt_tx_pending(const mote_mqtt_client_t *c)
{
    return c != NULL ? (size_t)(c->tx_len - c->tx_sent) + c->tx_tail_len : 0;
}

/* ---- Writing ---------------------------------------------------------------------------- */

mote_err_t mote_mqtt_flush(mote_mqtt_client_t *c)
{
    const mote_transport_t *t;
    if (c == NULL || c->cfg == NULL)
        return MOTE_ERR_BAD_ARG;
    t = c->cfg->transport;
    while (c->tx_sent < c->tx_len || c->tx_tail_len != 0) {
        mote_iovec_t iov[2];
        uint32_t head = c->tx_len - c->tx_sent;
        int32_t w;
        /* Both pieces, leaving out an empty one (the tail, if empty, is the last). */
        iov[0].base = c->cfg->tx_buf + c->tx_sent;
        iov[0].len = head;
        iov[1].base = c->tx_tail;
        iov[1].len = c->tx_tail_len;
        w = t->send(t->ctx, iov + (head == 0), (size_t)(head != 0) + (c->tx_tail_len != 0));
        if (w == 0)
            return MOTE_ERR_NEED_MORE;
        if (w < 0 || (uint32_t)w > head + c->tx_tail_len)
            return mote_client_fail(c, w < 0 ? (mote_err_t)w : MOTE_ERR_TRANSPORT);
        c->last_tx_ms = now_ms(c);
        if ((uint32_t)w <= head) {
            c->tx_sent += (uint32_t)w;
        } else {
            c->tx_sent = c->tx_len;
            c->tx_tail += (uint32_t)w - head;
            c->tx_tail_len -= (uint32_t)w - head;
        }
    }
    c->tx_len = c->tx_sent = 0;
    c->tx_tail = NULL;
    if (c->state == MQ_CLOSING)
        c->state = MQ_DISCONNECTED;
    return MOTE_OK;
}

/* Make need bytes free at tx_buf + tx_len, writing queued output if that is what it takes.
 * MOTE_ERR_NEED_MORE when the transport cannot take it now; MOTE_ERR_BUFFER_TOO_SMALL when
 * tx_buf could never hold need bytes. */
static mote_err_t tx_room(mote_mqtt_client_t *c, size_t need)
{
    size_t cap = c->cfg->tx_cap;
    mote_err_t rc;
    if (c->tx_tail_len == 0 && cap - c->tx_len >= need)
        return MOTE_OK;
    if (need > cap)
        return MOTE_ERR_BUFFER_TOO_SMALL;
    rc = mote_mqtt_flush(c);
    if (rc == MOTE_ERR_NEED_MORE && c->tx_tail_len == 0 && c->tx_sent != 0) {
        /* Partly written: move the rest to the front to make room behind it. */
        memmove(c->cfg->tx_buf, c->cfg->tx_buf + c->tx_sent, c->tx_len - c->tx_sent);
        c->tx_len -= c->tx_sent;
        c->tx_sent = 0;
        return cap - c->tx_len >= need ? MOTE_OK : MOTE_ERR_NEED_MORE;
    }
    return rc;
}

static void tx_commit(mote_mqtt_client_t *c, int32_t n)
{
    trace_tx(c, c->cfg->tx_buf + c->tx_len, (size_t)n);
    c->tx_len += (uint32_t)n;
}

/* Acks and PINGREQ are written here directly rather than through the public encoders:
 * their form is fixed (no properties), and the encoders' argument and property checks
 * would otherwise sit on the deepest receive path and in every device image. */
mote_err_t mote_client_queue_ack(mote_mqtt_client_t *c, unsigned type, uint16_t id)
{
    uint8_t *p;
    /* No room now: park it rather than write from here (that is the process step's job,
     * and a write would put the transport's frames under the receive path). */
    if (c->tx_tail_len != 0 || c->cfg->tx_cap - c->tx_len < 5) {
        c->ack_type = (uint8_t)type;
        c->ack_id = id;
#if MOTE_MQTT_V5
        c->ack_reason = (uint8_t)(type >> 8);
#endif
        return MOTE_OK;
    }
    p = c->cfg->tx_buf + c->tx_len;
    /* PUBREL's flags are 0010 (3.6.1); a v5 reason other than success follows the id,
     * success is the short form without it (5.0 3.4.2.1). */
    p[0] = (uint8_t)(type << 4 | ((type & 0xFFu) == MOTE_MQTT_PUBREL ? 2u : 0u));
    p[1] = 2;
    p[2] = (uint8_t)(id >> 8);
    p[3] = (uint8_t)id;
    if (MQ_V5_LIMIT(type >> 8 != 0)) {
        p[1] = 3;
        p[4] = (uint8_t)(type >> 8);
    }
    tx_commit(c, p[1] + 2);
    return MOTE_OK;
}

mote_err_t mote_client_retry_ack(mote_mqtt_client_t *c)
{
    unsigned type = c->ack_type;
    mote_err_t rc;
    if (type == 0)
        return MOTE_OK;
    rc = tx_room(c, 5); /* writes out (and compacts) what is queued when that makes room */
    if (rc != MOTE_OK)
        return rc == MOTE_ERR_NEED_MORE ? MOTE_OK : rc;
    c->ack_type = 0;
#if MOTE_MQTT_V5
    type |= (unsigned)c->ack_reason << 8;
#endif
    return mote_client_queue_ack(c, type, c->ack_id);
}

/* Queue a packet of two bytes: first, remaining length 0 (PINGREQ, 3.1.1 DISCONNECT). */
static mote_err_t queue_empty(mote_mqtt_client_t *c, uint8_t first)
{
    mote_err_t rc = tx_room(c, 2);
    if (rc != MOTE_OK)
        return rc;
    c->cfg->tx_buf[c->tx_len] = first;
    c->cfg->tx_buf[c->tx_len + 1] = 0;
    tx_commit(c, 2);
    return MOTE_OK;
}

mote_err_t mote_client_queue_ping(mote_mqtt_client_t *c)
{
    mote_err_t rc = queue_empty(c, 0xC0u);
    if (rc != MOTE_OK)
        return rc;
    c->flags |= MQF_PING;
    c->ping_sent_ms = now_ms(c);
    return MOTE_OK;
}

/* Queue one PUBLISH: its header is encoded into tx_buf, the payload is copied behind it
 * when it fits there, else written from caller memory as the second piece of a gathered
 * write. trusted: MOTE_WIRE_PUB_TRUSTED for a resend (checked when first sent, which keeps
 * the property check off the process step's stack), else 0. */
static mote_err_t queue_publish(mote_mqtt_client_t *c, const mote_mqtt_publish_t *p,
                                unsigned trusted)
{
    uint8_t *buf = c->cfg->tx_buf;
    size_t cap = c->cfg->tx_cap, plen = p->payload.len;
    /* Bound on everything before the payload: fixed header 5, topic 2+len, id 2,
     * property length 4 + properties. */
    size_t hdr_max = p->topic.len + (MOTE_MQTT_V5 ? p->props.len : 0u) + 13u;
    int32_t h;
    mote_err_t rc;
    if (c->tx_tail_len != 0 || cap - c->tx_len < hdr_max) {
        rc = tx_room(c, hdr_max);
        if (rc != MOTE_OK)
            return rc;
    }
    h = mote_wire_publish_header(buf + c->tx_len, cap - c->tx_len, p, c->version | trusted);
    if (h < 0)
        return (mote_err_t)h;
    if (MQ_V5_LIMIT(c->max_packet_out != 0 && (uint32_t)h + plen > c->max_packet_out))
        return MOTE_ERR_PACKET_TOO_LARGE;
    if (cap - c->tx_len - (size_t)h >= plen) {
        if (plen != 0)
            memcpy(buf + c->tx_len + h, p->payload.ptr, plen);
        tx_commit(c, h + (int32_t)plen);
        return MOTE_OK;
    }
    /* Not enough room behind what is queued: when the whole packet would fit in an empty
     * tx_buf and the payload is small, write out first and copy; else zero copy. */
    if (c->tx_len != 0 && plen < cap / 4u && (size_t)h + plen <= cap) {
        rc = mote_mqtt_flush(c);
        if (rc != MOTE_OK)
            return rc;
        return queue_publish(c, p, trusted);
    }
    tx_commit(c, h);
    c->tx_tail = p->payload.ptr;
    c->tx_tail_len = (uint32_t)plen;
    /* A big payload is worth a write of its own right away; it also frees QoS 0 callers'
     * memory as early as possible. */
    rc = mote_mqtt_flush(c);
    return rc == MOTE_ERR_NEED_MORE ? MOTE_OK : rc;
}

#if MOTE_MQTT_V5
/* Outgoing topic alias: when the topic is in the caller's alias table, send the alias
 * (and the topic only the first time in this connection). *bit receives the alias bit to
 * mark once queued, 0 when no alias applies. */
static void apply_alias(const mote_mqtt_client_t *c, mote_mqtt_publish_t *p, uint8_t *pbuf,
                        size_t pcap, uint32_t *bit)
{
    const mote_mqtt_client_config_t *cfg = c->cfg;
    uint16_t n = c->alias_max_out, i;
    *bit = 0;
    if (n == 0 || p->topic.len == 0 || p->props.len + 3u > pcap)
        return;
    for (i = 0; i < n; i++) {
        const mote_bytes_t *e = &cfg->topic_aliases[i];
        if (e->ptr != NULL && e->len == p->topic.len && memcmp(e->ptr, p->topic.ptr, e->len) == 0)
            break;
    }
    if (i == n)
        return;
    pbuf[0] = MOTE_PROP_TOPIC_ALIAS;
    pbuf[1] = (uint8_t)((i + 1u) >> 8);
    pbuf[2] = (uint8_t)(i + 1u);
    if (p->props.len != 0)
        memcpy(pbuf + 3, p->props.ptr, p->props.len);
    p->props.ptr = pbuf;
    p->props.len += 3u;
    *bit = 1u << i;
    if (c->alias_sent & *bit)
        p->topic.len = 0;
}
#endif

/* QoS 1/2 (and anything needing a changed copy of msg): in-flight record, alias, DUP. */
MQ_NOINLINE static mote_err_t publish_tracked(mote_mqtt_client_t *c, const mote_mqtt_publish_t *msg,
                                             uint16_t *packet_id)
{
    mote_mqtt_publish_t p;
    mote_mqtt_inflight_t *r = NULL;
    mote_err_t rc;
#if MOTE_MQTT_V5
    uint8_t pbuf[64];
    uint32_t bit = 0;
#endif
    /* The in-flight record keeps 16-bit lengths. Without v5 the encoder refuses a longer
     * topic (MOTE_ERR_BAD_TOPIC) before anything is recorded; in v5 an alias can keep the
     * topic from the encoder, and properties may be longer. */
    if (MQ_V5_LIMIT(msg->props.len > 0xFFFFu || msg->topic.len > 0xFFFFu))
        return MOTE_ERR_BAD_ARG;
    p = *msg;
    p.dup = false;
    p.packet_id = 0;
#if MOTE_MQTT_V5
    if (MQ_IS_V5(c))
        apply_alias(c, &p, pbuf, sizeof pbuf, &bit);
#endif
    if (p.qos != 0) {
        if (MQ_V5_LIMIT(c->inflight_used >= c->receive_max))
            return MOTE_ERR_RECEIVE_MAXIMUM;
        r = mote_session_alloc(c);
        if (r == NULL)
            return MOTE_ERR_NO_SPACE;
        p.packet_id = r->packet_id;
    }
    rc = queue_publish(c, &p, 0);
    if (rc != MOTE_OK) {
        /* Not sent (a broken connection leaves at most a partial packet, which the peer
         * drops): the caller gets the error and no record is left to be resent. */
        if (r != NULL)
            mote_session_free(c, r);
        return rc;
    }
#if MOTE_MQTT_V5
    c->alias_sent |= bit;
#endif
    if (r != NULL) {
        r->topic = msg->topic.ptr;
        r->topic_len = (uint16_t)msg->topic.len;
        r->payload = msg->payload.ptr;
        r->payload_len = (uint32_t)msg->payload.len;
#if MOTE_MQTT_V5 /* (3.1.1 has no properties to resend) */
        r->props = msg->props.ptr;
        r->props_len = (uint16_t)msg->props.len;
#endif
        r->flags = (uint8_t)(msg->qos | (msg->retain ? IFF_RETAIN : 0u));
        r->state = msg->qos == 1 ? IF_PUBACK : IF_PUBREC;
        r->seq = ++c->seq;
        if (packet_id != NULL)
            *packet_id = r->packet_id;
    }
    return MOTE_OK;
}

mote_err_t mote_mqtt_publish(mote_mqtt_client_t *c, const mote_mqtt_publish_t *msg,
                             uint16_t *packet_id)
{
    if (c == NULL || msg == NULL)
        return MOTE_ERR_BAD_ARG;
    if (c->state != MQ_CONNECTED)
        return MOTE_ERR_NOT_CONNECTED;
    if (msg->qos > 2 || MQ_V5_LIMIT(msg->qos > c->max_qos))
        return MOTE_ERR_BAD_QOS;
    if (MQ_V5_LIMIT(msg->retain && !(c->flags & MQF_RETAIN_OK)))
        return MOTE_ERR_UNSUPPORTED;
    /* The common QoS 0 case goes straight to the encoder, without a copy of msg. */
    if (msg->qos == 0 && !msg->dup && (!MQ_IS_V5(c) || c->alias_max_out == 0))
        return queue_publish(c, msg, 0);
    return publish_tracked(c, msg, packet_id);
}

#if MOTE_MQTT_V5
/* A record the new connection's server would refuse: PUBLISH_DONE with reason (its own
 * frame, so the event is not in the resend loop's). */
MQ_NOINLINE static void resend_refused(mote_mqtt_client_t *c, mote_mqtt_inflight_t *r, uint8_t reason)
{
    mote_mqtt_ack_t a;
    a.packet_id = r->packet_id;
    a.reason_code = reason;
    a.props.ptr = NULL;
    a.props.len = 0;
    mote_session_done(c, r, &a); /* (resend_left too: the record is still marked) */
}
#endif

mote_err_t mote_client_resend(mote_mqtt_client_t *c)
{
    while (c->resend_left != 0) {
        mote_mqtt_inflight_t *r;
        mote_err_t rc;
        /* v5: the server's receive maximum of this connection counts every record sent in
         * it (PUBREL ones too: their PUBLISH is not complete yet); the rest wait for acks. */
        if (MQ_V5_LIMIT((uint32_t)(c->inflight_used - c->resend_left) >= c->receive_max))
            break;
        r = mote_session_next_resend(c);
        if (r == NULL) {
            c->resend_left = 0;
            break;
        }
        if (IF_STATE(r->state) == IF_PUBCOMP) {
            rc = tx_room(c, 8);
            if (rc == MOTE_OK)
                rc = mote_client_queue_ack(c, MOTE_MQTT_PUBREL, r->packet_id);
        } else {
            mote_mqtt_publish_t p;
            p.topic.ptr = r->topic;
            p.topic.len = r->topic_len;
            p.payload.ptr = r->payload;
            p.payload.len = r->payload_len;
#if MOTE_MQTT_V5
            p.props.ptr = r->props;
            p.props.len = r->props_len;
#else
            p.props.ptr = NULL;
            p.props.len = 0;
#endif
            p.qos = (uint8_t)(r->flags & IFF_QOS_MASK);
            p.retain = (r->flags & IFF_RETAIN) != 0;
            p.dup = true;
            p.packet_id = r->packet_id;
#if MOTE_MQTT_V5
            {
                /* The new connection's server would refuse it (no retained messages, a
                 * lower maximum QoS or packet size): it completes as not delivered, with
                 * the reason the server would give, instead of failing every reconnect.
                 * A RETAIN flag is not ours to drop. */
                uint8_t why = 0x9Au;
                rc = MOTE_ERR_UNSUPPORTED;
                if (!p.retain || (c->flags & MQF_RETAIN_OK)) {
                    why = 0x9Bu;
                    if (p.qos <= c->max_qos) {
                        why = 0x95u;
                        rc = queue_publish(c, &p, MOTE_WIRE_PUB_TRUSTED);
                    }
                }
                if (rc == MOTE_ERR_UNSUPPORTED || rc == MOTE_ERR_PACKET_TOO_LARGE) {
                    resend_refused(c, r, why);
                    continue;
                }
            }
#else
            rc = queue_publish(c, &p, MOTE_WIRE_PUB_TRUSTED);
#endif
        }
        if (rc == MOTE_ERR_NEED_MORE)
            return MOTE_OK; /* the process step continues later */
        if (rc != MOTE_OK)
            return rc;
        r->state &= (uint8_t)~IF_RESEND;
        c->resend_left--;
    }
    return MOTE_OK;
}

/* SUBSCRIBE and UNSUBSCRIBE share everything: items are the subscriptions or, with
 * MOTE_WIRE_UNSUB in count (mote_mqtt_unsubscribe), the bare filters, the filter first in
 * each (the codec walks them the same way). No real count has that bit set: the items
 * would not fit in memory. */
mote_err_t mote_mqtt_subscribe(mote_mqtt_client_t *c, const mote_mqtt_subscription_t *subs,
                               size_t count, mote_mqtt_props_t props, uint16_t *packet_id)
{
    const size_t stride = (count & MOTE_WIRE_UNSUB) ? sizeof(mote_bytes_t) : sizeof *subs;
    size_t need = (MOTE_MQTT_V5 ? props.len : 0u) + 16u, i; /* (3.1.1 ignores props) */
    const uint8_t *it = (const uint8_t *)subs;
    uint16_t id;
    int32_t n;
    mote_err_t rc;
    if (c == NULL || subs == NULL || (count & ~MOTE_WIRE_UNSUB) == 0)
        return MOTE_ERR_BAD_ARG;
    if (c->state != MQ_CONNECTED)
        return MOTE_ERR_NOT_CONNECTED;
    for (i = count & ~MOTE_WIRE_UNSUB; i != 0; i--, it += stride)
        need += 3u + ((const mote_bytes_t *)(const void *)it)->len;
    rc = tx_room(c, need);
    if (rc != MOTE_OK)
        return rc;
    id = mote_session_next_id(c);
    n = mote_wire_sub_encode(c->cfg->tx_buf + c->tx_len, c->cfg->tx_cap - c->tx_len,
                             c->version | (unsigned)id << 8, subs, count, &props);
    if (n < 0)
        return (mote_err_t)n;
    if (MQ_V5_LIMIT(c->max_packet_out != 0 && (uint32_t)n > c->max_packet_out))
        return MOTE_ERR_PACKET_TOO_LARGE;
    /* encoded but not committed: a full table leaves nothing queued */
    if (!mote_session_sub_swap(c, 0, id))
        return MOTE_ERR_NO_SPACE;
    tx_commit(c, n);
    if (packet_id != NULL)
        *packet_id = id;
    return MOTE_OK;
}

mote_err_t mote_mqtt_unsubscribe(mote_mqtt_client_t *c, const mote_bytes_t *filters,
                                 size_t count, mote_mqtt_props_t props, uint16_t *packet_id)
{
    return mote_mqtt_subscribe(c, (const mote_mqtt_subscription_t *)(const void *)filters,
                               count | MOTE_WIRE_UNSUB, props, packet_id);
}

mote_err_t mote_mqtt_disconnect(mote_mqtt_client_t *c, uint8_t reason_code,
                                mote_mqtt_props_t props)
{
    int32_t n;
    mote_err_t rc;
    if (c == NULL)
        return MOTE_ERR_BAD_ARG;
    if (c->state == MQ_CLOSING)
        return mote_mqtt_flush(c);
    if (c->state != MQ_CONNECTED)
        return MOTE_ERR_NOT_CONNECTED;
#if MOTE_MQTT_V5
    rc = tx_room(c, props.len + 12u);
    if (rc != MOTE_OK)
        return rc;
    n = mote_mqtt_encode_disconnect(c->cfg->tx_buf + c->tx_len, c->cfg->tx_cap - c->tx_len,
                                    MQ_VERSION(c), reason_code, props);
    if (n < 0)
        return (mote_err_t)n;
    /* the server's maximum packet size holds for DISCONNECT too: nothing is queued */
    if (c->max_packet_out != 0 && (uint32_t)n > c->max_packet_out)
        return MOTE_ERR_PACKET_TOO_LARGE;
    tx_commit(c, n);
#else
    /* 3.1.1: the two bytes of an empty DISCONNECT, without an encoder call. */
    (void)reason_code, (void)props, (void)n;
    rc = queue_empty(c, 0xE0u);
    if (rc != MOTE_OK)
        return rc;
#endif
    c->state = MQ_CLOSING;
    return mote_mqtt_flush(c);
}

#if MOTE_MQTT_V5
mote_err_t mote_mqtt_auth(mote_mqtt_client_t *c, uint8_t reason_code, mote_mqtt_props_t props)
{
    int32_t n;
    mote_err_t rc;
    if (c == NULL || (reason_code != 0x18u && reason_code != 0x19u))
        return MOTE_ERR_BAD_ARG; /* 0x00 (success) is the server's to send (5.0 3.15.2.1) */
    /* Continue answers the server during connect or a re-authentication; Re-authenticate
     * starts one, only after CONNACK (5.0 4.12.1). CONNECTING means CONNECT is queued. */
    if (c->state != MQ_CONNECTED && (c->state != MQ_CONNECTING || reason_code != 0x18u))
        return MOTE_ERR_NOT_CONNECTED;
    /* No AUTH without a method in CONNECT (5.0 4.12); a 3.1.1 connection never has one. */
    if (!(c->flags & MQF_AUTH))
        return MOTE_ERR_BAD_ARG;
    rc = tx_room(c, props.len + 12u);
    if (rc != MOTE_OK)
        return rc;
    n = mote_mqtt_encode_auth(c->cfg->tx_buf + c->tx_len, c->cfg->tx_cap - c->tx_len,
                              reason_code, props);
    if (n < 0)
        return (mote_err_t)n;
    if (c->max_packet_out != 0 && (uint32_t)n > c->max_packet_out)
        return MOTE_ERR_PACKET_TOO_LARGE;
    tx_commit(c, n);
    return MOTE_OK;
}

/* Did the CONNECT just encoded (its properties validated by the encoder) name an
 * Authentication Method? Out of line: the property record stays off the frames that wait
 * for CONNACK. */
MQ_NOINLINE static void note_auth_method(mote_mqtt_client_t *c, mote_mqtt_props_t props)
{
    mote_mqtt_prop_t pr;
    if (mote_mqtt_prop_find(props, MOTE_PROP_AUTH_METHOD, &pr))
        c->flags |= MQF_AUTH;
}
#endif

/* ---- Connecting ---------------------------------------------------------------------- */

#if MOTE_MQTT_V5
/* Our CONNECT properties, built in rx_buf (unused until CONNACK arrives). */
static mote_err_t connect_props(mote_mqtt_client_t *c, const mote_mqtt_connect_opts_t *o,
                                mote_mqtt_props_t *out)
{
    const mote_mqtt_client_config_t *cfg = c->cfg;
    mote_mqtt_props_builder_t b;
    mote_err_t rc = MOTE_OK;
    uint32_t max_in = o->max_packet_size;
    uint16_t i;
    mote_mqtt_props_init(&b, cfg->rx_buf, cfg->rx_cap);
    if (max_in == 0 && cfg->reject_oversize)
        max_in = (uint32_t)cfg->rx_cap;
    if (cfg->rx_topic_aliases != NULL && cfg->rx_alias_store != NULL && cfg->rx_alias_slot_size != 0)
        c->alias_max_in = cfg->rx_topic_alias_count;
    for (i = 0; i < c->alias_max_in; i++)
        cfg->rx_topic_aliases[i].len = 0;
    c->max_packet_in = max_in;
    if (o->session_expiry_s != 0)
        rc = mote_mqtt_props_add_int(&b, MOTE_PROP_SESSION_EXPIRY, o->session_expiry_s);
    if (rc == MOTE_OK && cfg->qos2_rx_count != 0)
        rc = mote_mqtt_props_add_int(&b, MOTE_PROP_RECEIVE_MAXIMUM, cfg->qos2_rx_count);
    if (rc == MOTE_OK && max_in != 0)
        rc = mote_mqtt_props_add_int(&b, MOTE_PROP_MAXIMUM_PACKET_SIZE, max_in);
    if (rc == MOTE_OK && c->alias_max_in != 0)
        rc = mote_mqtt_props_add_int(&b, MOTE_PROP_TOPIC_ALIAS_MAXIMUM, c->alias_max_in);
    if (rc != MOTE_OK)
        return rc;
    if (o->extra_props.len != 0) {
        if (o->extra_props.len > b.cap - b.len)
            return MOTE_ERR_BUFFER_TOO_SMALL;
        memcpy(b.buf + b.len, o->extra_props.ptr, o->extra_props.len);
        b.len += o->extra_props.len;
    }
    *out = mote_mqtt_props_view(&b);
    return MOTE_OK;
}
#endif

/* CONNACK: refused or accepted; take over the server's limits, then the session. */
mote_err_t mote_client_on_connack(mote_mqtt_client_t *c, const uint8_t *body, uint32_t len)
{
    mote_mqtt_connack_t ca;
    mote_mqtt_session_info_t *info = c->info; /* never NULL while connecting */
#if MOTE_MQTT_V5
    mote_err_t rc = mote_mqtt_decode_connack(body, len, MQ_VERSION(c), &ca);
    /* A 3.1.1 server answers a v5 CONNECT with its own two-byte CONNACK, return code 1
     * (unacceptable protocol version): a refusal, v5's 0x84, not a malformed packet. */
    if (MQ_IS_V5(c) && len == 2 && body[0] == 0 && body[1] == 1) {
        memset(&ca, 0, sizeof ca);
        ca.reason_code = 0x84u;
        rc = MOTE_OK;
    }
    if (rc != MOTE_OK)
        return rc;
#else
    /* 3.1.1 (3.2): two bytes, the flags byte only bit 0, return codes 0..5, no session
     * with a refusal; the decoder's rules without its arguments' checks. */
    if (len < 2)
        return MOTE_ERR_MALFORMED;
    if (body[0] & 0xFEu)
        return MOTE_ERR_BAD_FLAGS;
    if (body[1] > 5)
        return MOTE_ERR_BAD_REASON_CODE;
    if (body[0] && body[1])
        return MOTE_ERR_BAD_FLAGS;
    if (len != 2)
        return MOTE_ERR_MALFORMED;
    ca.session_present = body[0] != 0;
    ca.reason_code = body[1];
    ca.props.ptr = NULL;
    ca.props.len = 0;
#endif
    memset(info, 0, sizeof *info);
    info->session_present = ca.session_present;
    info->reason_code = ca.reason_code;
    info->props = ca.props;
    info->maximum_qos = 2;
    info->retain_available = true;
    info->receive_maximum = 0xFFFFu;
    if (ca.reason_code != 0)
        return MOTE_ERR_CONNACK_REFUSED;
    if (ca.session_present && (c->flags & MQF_CLEAN))
        return MOTE_ERR_PROTOCOL;
#if MOTE_MQTT_V5
    if (MQ_IS_V5(c)) {
        size_t cur = 0;
        mote_mqtt_prop_t pr;
        while (mote_mqtt_prop_next(ca.props, &cur, &pr)) {
            switch (pr.id) {
            case MOTE_PROP_RECEIVE_MAXIMUM:
                c->receive_max = (uint16_t)pr.u32;
                break;
            case MOTE_PROP_MAXIMUM_PACKET_SIZE:
                c->max_packet_out = pr.u32;
                break;
            case MOTE_PROP_TOPIC_ALIAS_MAXIMUM:
                info->topic_alias_maximum = (uint16_t)pr.u32;
                break;
            case MOTE_PROP_SERVER_KEEP_ALIVE:
                c->keep_alive_s = (uint16_t)pr.u32;
                break;
            case MOTE_PROP_ASSIGNED_CLIENT_ID:
                info->assigned_client_id = pr.value;
                break;
            case MOTE_PROP_MAXIMUM_QOS:
                c->max_qos = (uint8_t)pr.u32;
                break;
            case MOTE_PROP_RETAIN_AVAILABLE:
                if (pr.u32 == 0)
                    c->flags &= (uint8_t)~MQF_RETAIN_OK;
                break;
            default:
                break;
            }
        }
        {
            uint16_t n = c->cfg->topic_aliases != NULL ? c->cfg->topic_alias_count : 0;
            if (n > 32)
                n = 32;
            if (n > info->topic_alias_maximum)
                n = info->topic_alias_maximum;
            c->alias_max_out = n;
        }
    }
#endif
    info->keep_alive_s = c->keep_alive_s;
#if MOTE_MQTT_V5 /* only a v5 server changes the defaults set above */
    info->receive_maximum = c->receive_max;
    info->max_packet_size = c->max_packet_out;
    info->maximum_qos = c->max_qos;
    info->retain_available = (c->flags & MQF_RETAIN_OK) != 0;
#endif
    c->state = MQ_CONNECTED;
    c->last_tx_ms = now_ms(c);
    return MOTE_OK;
}

/* Reset the connection state and queue CONNECT. Out of line so the packet description
 * is not on the stack while mote_mqtt_connect waits for CONNACK. */
MQ_NOINLINE static mote_err_t queue_connect(mote_mqtt_client_t *c, const mote_mqtt_connect_opts_t *opts)
{
    mote_mqtt_connect_t pk;
    int32_t n;
    drop_connection(c);
    c->version = (uint8_t)opts->version;
    c->keep_alive_s = opts->keep_alive_s;
#if MOTE_MQTT_V5 /* the server's limits: only a v5 CONNACK sets them, only v5 reads them */
    c->receive_max = 0xFFFFu;
    c->max_packet_out = 0;
    c->max_packet_in = 0;
    c->max_qos = 2;
    c->alias_max_out = c->alias_max_in = 0;
    c->alias_sent = 0;
#endif
    c->flags = (uint8_t)(MQF_RETAIN_OK | (opts->clean_start ? MQF_CLEAN : 0u));
    memset(&pk, 0, sizeof pk);
    pk.version = opts->version;
    pk.clean_start = opts->clean_start;
    pk.keep_alive_s = opts->keep_alive_s;
    pk.client_id = opts->client_id;
    pk.will = opts->will;
    pk.username = opts->username;
    pk.password = opts->password;
#if MOTE_MQTT_V5
    if (opts->version == MOTE_MQTT_VERSION_5) {
        mote_err_t rc = connect_props(c, opts, &pk.props);
        if (rc != MOTE_OK)
            return rc;
    }
#endif
    n = mote_mqtt_encode_connect(c->cfg->tx_buf, c->cfg->tx_cap, &pk);
    if (n < 0)
        return (mote_err_t)n;
#if MOTE_MQTT_V5
    note_auth_method(c, pk.props); /* (none in 3.1.1: pk.props is empty) */
#endif
    tx_commit(c, n);
    return MOTE_OK;
}

mote_err_t mote_mqtt_connect(mote_mqtt_client_t *c, const mote_mqtt_connect_opts_t *opts,
                             uint32_t timeout_ms, mote_mqtt_session_info_t *info)
{
    mote_mqtt_session_info_t own;
    mote_err_t rc;
    uint32_t start;
    if (c == NULL || c->cfg == NULL || opts == NULL)
        return MOTE_ERR_BAD_ARG;
#if MOTE_MQTT_V5
    if (opts->version != MOTE_MQTT_VERSION_5 && (!MOTE_MQTT_V311 || opts->version != MOTE_MQTT_VERSION_311))
        return MOTE_ERR_UNSUPPORTED;
#else
    if (opts->version != MOTE_MQTT_VERSION_311)
        return MOTE_ERR_UNSUPPORTED;
#endif
    rc = queue_connect(c, opts);
    if (rc != MOTE_OK)
        return rc;
    c->state = MQ_CONNECTING;
    c->info = info != NULL ? info : &own;
    start = now_ms(c);
    /* The receive path handles CONNACK (and v5 AUTH) while connecting; the CONNACK bytes
     * are consumed lazily, so info's spans stay valid until the next process call. */
    for (;;) {
        rc = mote_mqtt_flush(c);
        if (rc == MOTE_OK) {
            int32_t got = mote_client_rx_pump(c);
            rc = got < 0 ? (mote_err_t)got : MOTE_OK;
        } else if (rc == MOTE_ERR_NEED_MORE)
            rc = MOTE_OK;
#if MOTE_MQTT_V5
        /* Only the callback of a v5 AUTH event runs in here: a reset from it, or a write
         * that failed in its mote_mqtt_auth, ends the attempt. */
        if (rc == MOTE_OK && c->state == MQ_DISCONNECTED)
            rc = MOTE_ERR_NOT_CONNECTED;
#endif
        if (rc != MOTE_OK || c->state == MQ_DISCONNECTED)
            break;
        if (c->state == MQ_CONNECTED) {
            /* The session: resend what is unacknowledged, or drop it (kept out of the
             * receive path, whose stack depth the process step pays for). */
            mote_session_on_connack(c, c->info->session_present);
            rc = mote_client_resend(c);
            if (rc == MOTE_OK)
                rc = mote_mqtt_flush(c);
            if (rc == MOTE_ERR_NEED_MORE)
                rc = MOTE_OK;
            break;
        }
        if (now_ms(c) - start >= timeout_ms) {
            rc = MOTE_ERR_TIMEOUT;
            break;
        }
    }
    MQ_HIDE(rc);
    c->info = NULL;
    if (rc != MOTE_OK)
        drop_connection(c); /* (again, when a failure already did: harmless) */
    return rc;
}
