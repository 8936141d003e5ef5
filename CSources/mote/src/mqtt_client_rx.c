/* MQTT client: the receive side and the process step. Bytes are read into rx_buf as far
 * as there is room, every complete packet in it is dispatched in place (events point into
 * rx_buf), and the incomplete rest moves to the front. A PUBLISH larger than rx_buf keeps
 * its header (topic, id, properties) at the front while the payload passes through the
 * rest of the buffer in chunks, so the application sees the topic with every chunk. */
#include <string.h>

#include "mqtt_client_internal.h"
#include "mqtt_wire.h"

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
/* Incoming topic alias (0: none): remember the topic for the alias, or fill an empty topic
 * from it. */
static mote_err_t resolve_alias(mote_mqtt_client_t *c, mote_mqtt_publish_t *p, uint16_t alias)
{
    const mote_mqtt_client_config_t *cfg = c->cfg;
    mote_bytes_t *e;
    uint8_t *slot;
    if (alias == 0)
        return p->topic.len != 0 ? MOTE_OK : MOTE_ERR_TOPIC_ALIAS;
    if (alias > c->alias_max_in)
        return MOTE_ERR_TOPIC_ALIAS;
    e = &cfg->rx_topic_aliases[alias - 1u];
    slot = cfg->rx_alias_store + (size_t)(alias - 1u) * cfg->rx_alias_slot_size;
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
#define RESOLVE(c, p, alias) (MQ_IS_V5(c) ? resolve_alias((c), (p), (alias)) : MOTE_OK)
#else
#define RESOLVE(c, p, alias) ((void)(alias), MOTE_OK)
#endif

/* Incoming packets are parsed here rather than with the public decoders: the parsers below
 * are leaves, and the property check runs one level under the function holding the event,
 * never two or three (the process step has a stack budget). The rules are the decoders'
 * (mqtt_decode.c); only the flag nibble is already checked by the fixed-header decoder.
 * Running out of bytes inside a complete packet is MOTE_ERR_MALFORMED. */

#if MOTE_MQTT_V5
/* A v5 property length at p (avail bytes): the properties' span into *props; returns the
 * bytes used (length and properties), 0 when avail ends inside them, -1 when malformed. */
static int32_t props_span(const uint8_t *p, uint32_t avail, mote_mqtt_props_t *props)
{
    uint32_t n;
    int k = mote_wire_varint_get(p, avail, &n);
    if (k <= 0)
        return k;
    if (n > avail - (uint32_t)k)
        return 0;
    props->ptr = p + k;
    props->len = n;
    return k + (int32_t)n;
}
#endif

/* The variable header of a PUBLISH whose body starts at body (rem bytes in all, avail of
 * them present): topic, packet id and property span into p, the payload as far as it is
 * present. flags: the fixed header's flag nibble, plus PUB_V5 for MQTT 5 (five arguments
 * keep the callers' frames smaller). Returns the payload offset, or MOTE_ERR_NEED_MORE
 * while the header is not all in (avail < rem), or an error. Topic characters and
 * properties are the caller's to check (pub_valid). */
#define PUB_V5(c) (MQ_IS_V5(c) ? 0x10u : 0u)
#if (defined(__GNUC__) || defined(__clang__)) && !defined(__OPTIMIZE_SIZE__)
#define RX_HOT static inline __attribute__((always_inline)) /* every message: inline for speed */
#else
#define RX_HOT static
#endif
RX_HOT int32_t pub_header(const uint8_t *body, uint32_t avail, uint32_t rem, unsigned flags,
                          mote_mqtt_publish_t *p)
{
    const mote_err_t cut = avail < rem ? MOTE_ERR_NEED_MORE : MOTE_ERR_MALFORMED;
    uint32_t off;
    /* The fixed header refused QoS 3; DUP on QoS 0 is left (3.3.1.1). */
    if ((flags & 0x0Eu) == 8u)
        return MOTE_ERR_BAD_FLAGS;
    if (avail > rem)
        avail = rem;
    p->qos = (uint8_t)(flags >> 1 & 3u);
    p->dup = (flags & 8u) != 0;
    p->retain = (flags & 1u) != 0;
    p->props.ptr = NULL;
    p->props.len = 0;
    if (avail < 2)
        return cut;
    p->topic.ptr = body + 2;
    p->topic.len = mote_wire_get_u16(body);
    off = 2u + (uint32_t)p->topic.len + (p->qos ? 2u : 0u);
    if (off > avail)
        return cut;
    p->packet_id = p->qos ? mote_wire_get_u16(body + off - 2) : 0;
    if (p->qos && !p->packet_id)
        return MOTE_ERR_BAD_PACKET_ID;
#if MOTE_MQTT_V5
    if (flags & 0x10u) {
        /* no properties (the common case) is a single zero byte: no call for it */
        int32_t k = off < avail && body[off] == 0 ? 1 : props_span(body + off, avail - off, &p->props);
        if (k <= 0)
            return k == 0 ? cut : MOTE_ERR_MALFORMED;
        off += (uint32_t)k;
    }
#endif
    p->payload.ptr = body + off;
    p->payload.len = rem - off;
    return (int32_t)off;
}

/* The checks pub_header leaves: properties, topic characters, the empty topic of an alias.
 * *alias receives the topic alias (0: none). Inlined into its callers, so the property
 * check is only one level below them. */
#if defined(__GNUC__) || defined(__clang__)
__attribute__((always_inline))
#endif
static inline mote_err_t pub_valid(const mote_mqtt_client_t *c, const mote_mqtt_publish_t *p,
                                   uint16_t *alias)
{
    *alias = 0;
#if MOTE_MQTT_V5
    if (p->props.len != 0) {
        mote_err_t rc = mote_wire_props_check(p->props.ptr, p->props.len, MOTE_MQTT_PUBLISH, alias);
        if (rc != MOTE_OK)
            return rc;
    }
#endif
    (void)c;
    if (p->topic.len != 0)
        return mote_wire_topic_fast(p->topic.ptr, p->topic.len);
    return *alias != 0 ? MOTE_OK : MOTE_ERR_BAD_TOPIC; /* 5.0 3.3.2.3.4 */
}

/* PUBACK, PUBREC, PUBREL, PUBCOMP (packet id first), v5 DISCONNECT and AUTH: the optional
 * reason code and properties that end them (AUTH: both or neither). */
static mote_err_t ack_parse(const mote_mqtt_client_t *c, uint8_t type, const uint8_t *p,
                            uint32_t len, mote_mqtt_ack_t *a)
{
    uint32_t i = 0;
    (void)c;
    a->packet_id = 0;
    a->reason_code = 0;
    a->props.ptr = NULL;
    a->props.len = 0;
    if (type <= MOTE_MQTT_PUBCOMP) {
        if (len < 2)
            return MOTE_ERR_MALFORMED;
        a->packet_id = mote_wire_get_u16(p);
        if (a->packet_id == 0)
            return MOTE_ERR_BAD_PACKET_ID;
        i = 2;
    }
#if MOTE_MQTT_V5
    if (MQ_IS_V5(c) && i < len) {
        a->reason_code = p[i++];
        if (!mote_wire_reason_ok(type, a->reason_code))
            return MOTE_ERR_BAD_REASON_CODE;
        if (i < len) {
            int32_t k = props_span(p + i, len - i, &a->props);
            if (k <= 0)
                return MOTE_ERR_MALFORMED;
            i += (uint32_t)k;
            /* an AUTH other than the short form names its method (5.0 3.15.2.2.2) */
            if (type == MOTE_MQTT_AUTH && !a->props.len)
                return MOTE_ERR_BAD_PROPERTY;
        } else if (type == MOTE_MQTT_AUTH) {
            return MOTE_ERR_MALFORMED;
        }
    }
#endif
    return i == len ? MOTE_OK : MOTE_ERR_MALFORMED;
}

/* SUBACK and UNSUBACK: packet id, v5 properties, the reason codes (none in a 3.1.1
 * UNSUBACK). */
static mote_err_t suback_parse(const mote_mqtt_client_t *c, uint8_t type, const uint8_t *p,
                               uint32_t len, mote_mqtt_suback_t *s)
{
    uint32_t i = 2;
    s->props.ptr = NULL;
    s->props.len = 0;
    s->reason_codes = NULL;
    s->count = 0;
    if (len < 2)
        return MOTE_ERR_MALFORMED;
    s->packet_id = mote_wire_get_u16(p);
    if (s->packet_id == 0)
        return MOTE_ERR_BAD_PACKET_ID;
#if MOTE_MQTT_V5
    if (MQ_IS_V5(c)) {
        int32_t k = props_span(p + 2, len - 2, &s->props);
        /* then one code per filter (a request has at least one) */
        if (k <= 0 || (uint32_t)k == len - 2)
            return MOTE_ERR_MALFORMED;
        i += (uint32_t)k;
    } else
#endif
    if (type == MOTE_MQTT_UNSUBACK) {
        /* 3.1.1 3.11: the packet id alone, no codes (and so none to check below) */
        if (len != 2)
            return MOTE_ERR_MALFORMED;
    } else if (i == len) {
        return MOTE_ERR_MALFORMED;
    }
    if (i < len) {
        s->reason_codes = p + i;
        s->count = len - i;
    }
    for (; i < len; i++)
        if (!mote_wire_suback_code_ok(MQ_VERSION(c), type, p[i]))
            return MOTE_ERR_BAD_REASON_CODE;
    return MOTE_OK;
}

/* Check properties parsed by the leaves above (none: MOTE_OK). */
static mote_err_t props_valid(mote_mqtt_props_t props, uint8_t type)
{
#if MOTE_MQTT_V5
    if (props.len != 0)
        return mote_wire_props_check(props.ptr, props.len, type, NULL);
#else
    (void)props, (void)type;
#endif
    return MOTE_OK;
}

/* The ack an incoming PUBLISH of this QoS needs once handled. */
static mote_err_t ack_publish(mote_mqtt_client_t *c, uint8_t qos, uint16_t id)
{
    if (qos == 0)
        return MOTE_OK;
    return mote_client_queue_ack(c, MOTE_MQTT_PUBACK - 1u + qos, id); /* PUBACK, PUBREC */
}

/* Incoming QoS 2 exactly-once: *fresh true when the message is new and must be delivered.
 * Only the room to record it is checked here: see publish_in. */
static mote_err_t qos2_is_new(mote_mqtt_client_t *c, const mote_mqtt_publish_t *p, bool *fresh)
{
    int k = 0;
    if (p->qos == 2)
        k = mote_session_qos2_seen(c, p->packet_id, false);
    *fresh = k == 0;
    /* v5: a full table means the server ignored the receive maximum we announced. */
    if (k < 0)
        return MQ_IS_V5(c) ? MOTE_ERR_RECEIVE_MAXIMUM : (mote_err_t)k;
    return MOTE_OK;
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
            mote_session_done(c, r, a);
            return MOTE_OK;
        }
        if (st != IF_PUBREC && st != IF_PUBCOMP)
            return MOTE_ERR_PROTOCOL;
        r->state = (uint8_t)(IF_PUBCOMP | (r->state & IF_RESEND));
        r->seq = ++c->seq;
        return mote_client_queue_ack(c, MOTE_MQTT_PUBREL, a->packet_id);
    }
    if (st != (type == MOTE_MQTT_PUBACK ? IF_PUBACK : IF_PUBCOMP))
        return MOTE_ERR_PROTOCOL;
    mote_session_done(c, r, a);
    return MOTE_OK;
}

/* One complete packet other than PUBLISH at pkt (hl + rem bytes); evt is the caller's. */
static inline mote_err_t dispatch(mote_mqtt_client_t *c, mote_mqtt_event_t *evt, uint8_t type,
                                  const uint8_t *body, uint32_t rem)
{
    mote_err_t rc;
    switch (type) {
    case MOTE_MQTT_PUBACK:
    case MOTE_MQTT_PUBREC:
    case MOTE_MQTT_PUBCOMP:
    case MOTE_MQTT_PUBREL:
        rc = ack_parse(c, type, body, rem, &evt->u.ack);
        if (rc == MOTE_OK)
            rc = props_valid(evt->u.ack.props, type);
        if (rc != MOTE_OK)
            return rc;
        if (type != MOTE_MQTT_PUBREL)
            return on_ack(c, type, &evt->u.ack);
        /* v5 says which ids were unknown (0x92); 3.1.1 completes them anyway. */
        return mote_client_queue_ack(c, MOTE_MQTT_PUBCOMP |
                                     ((mote_session_qos2_release(c, evt->u.ack.packet_id) ||
                                       !MQ_IS_V5(c)) ? 0u : 0x92u << 8),
                                     evt->u.ack.packet_id);
    case MOTE_MQTT_SUBACK:
    case MOTE_MQTT_UNSUBACK:
        rc = suback_parse(c, type, body, rem, &evt->u.suback);
        if (rc == MOTE_OK)
            rc = props_valid(evt->u.suback.props, type);
        if (rc != MOTE_OK)
            return rc;
        if (!mote_session_sub_swap(c, evt->u.suback.packet_id, 0))
            return MOTE_ERR_UNKNOWN_PACKET_ID;
        mote_client_emit(c, evt,
                         type == MOTE_MQTT_SUBACK ? MOTE_MQTT_EVT_SUBACK : MOTE_MQTT_EVT_UNSUBACK);
        return MOTE_OK;
    case MOTE_MQTT_PINGRESP:
        if (rem != 0)
            return MOTE_ERR_MALFORMED;
        c->flags &= (uint8_t)~MQF_PING;
        mote_client_emit(c, evt, MOTE_MQTT_EVT_PINGRESP);
        return MOTE_OK;
#if MOTE_MQTT_V5
    case MOTE_MQTT_DISCONNECT:
    case MOTE_MQTT_AUTH:
        if (!MQ_IS_V5(c))
            return MOTE_ERR_PROTOCOL;
        rc = ack_parse(c, type, body, rem, &evt->u.ack);
        if (rc == MOTE_OK)
            rc = props_valid(evt->u.ack.props, type);
        if (rc != MOTE_OK)
            return rc;
        /* AUTH only after a CONNECT that named a method (5.0 4.12), connecting or not */
        if (type == MOTE_MQTT_AUTH && !(c->flags & MQF_AUTH))
            return MOTE_ERR_PROTOCOL;
        mote_client_emit(c, evt,
                         type == MOTE_MQTT_AUTH ? MOTE_MQTT_EVT_AUTH : MOTE_MQTT_EVT_DISCONNECT);
        return type == MOTE_MQTT_AUTH ? MOTE_OK : MOTE_ERR_SERVER_DISCONNECT;
#endif
    default:
        return MOTE_ERR_PROTOCOL; /* CONNECT, CONNACK again, SUBSCRIBE, PINGREQ, ... */
    }
}

/* How publish_in sees its PUBLISH. */
#define PUB_WHOLE 0u /* complete in rx_buf */
#define PUB_FIRST 1u /* larger than rx_buf, at its front (rx_len bytes of it so far) */
#define PUB_NEXT 2u  /* n payload bytes just read behind the header kept at the front */

/* A PUBLISH at pkt (hl + rem bytes; avail of them present), whole or one piece of one too
 * large for rx_buf. Such a message keeps its header (fixed + variable, rx_hdr bytes) at
 * the front of rx_buf and its payload passes through the rest: PUB_FIRST, once the
 * variable header is in, keeps it (rx_hdr set; still 0 while it is incomplete) and
 * delivers what follows as the first piece; PUB_NEXT delivers the next n bytes. The first
 * piece decides whether the message is delivered (not a QoS 2 duplicate) or skipped
 * (reject_oversize); the last one sends the ack. One function for all three, inlined into
 * its one caller, so the event and the property check are never deeper than there. */
#if defined(__GNUC__) || defined(__clang__)
__attribute__((always_inline))
#endif
static inline mote_err_t publish_in(mote_mqtt_client_t *c, mote_mqtt_event_t *evt,
                                    const uint8_t *pkt, uint32_t hl, uint32_t rem,
                                    uint32_t avail, uint32_t n, unsigned mode)
{
    mote_mqtt_publish_t *p = &evt->u.publish.msg;
    uint16_t alias;
    mote_err_t rc;
    bool fresh, last;
    int32_t off = pub_header(pkt + hl, avail - hl, rem, (pkt[0] & 0x0Fu) | PUB_V5(c), p);
    if (off < 0) {
        if (off == MOTE_ERR_NEED_MORE) /* PUB_FIRST: the header is not all in yet */
            return c->rx_len >= c->cfg->rx_cap ? MOTE_ERR_PACKET_TOO_LARGE : MOTE_OK;
        return (mote_err_t)off;
    }
    if (mode != PUB_NEXT) {
        uint32_t hdr = hl + (uint32_t)off;
        n = avail - hdr;
        if (mode == PUB_FIRST) {
            if (hdr >= c->cfg->rx_cap || hdr > 0xFFFFu)
                return MOTE_ERR_PACKET_TOO_LARGE;
            if (c->cfg->on_trace != NULL)
                c->cfg->on_trace(c->cfg->user, 'R', pkt, avail);
            c->rx_hdr = (uint16_t)hdr;
            c->rx_total = rem - (uint32_t)off;
            c->rx_skip = c->rx_total - n;
        }
        rc = pub_valid(c, p, &alias);
        if (rc == MOTE_OK) /* (a rejected message sets its alias too) */
            rc = RESOLVE(c, p, alias);
        /* A QoS 2 message is recorded as received only once it is all in (here only the
         * room for it is checked): a connection lost before then brings a streamed one
         * again, and it is delivered again whole. */
        if (rc == MOTE_OK)
            rc = qos2_is_new(c, p, &fresh);
        if (rc != MOTE_OK)
            return rc;
        if (mode == PUB_FIRST && c->cfg->reject_oversize) {
            c->flags |= MQF_DISCARD;
            return MOTE_ERR_OVERSIZE_REJECTED;
        }
        if (mode == PUB_FIRST)
            c->flags |= (uint8_t)(MQF_STREAM | (fresh ? MQF_DELIVER : 0u));
    } else {
        fresh = (c->flags & MQF_DELIVER) != 0;
#if MOTE_MQTT_V5
        /* Later pieces: an aliased topic comes from the alias table again (the kept
         * header was checked with the first piece; a leaf finds the alias). */
        if (fresh && p->topic.len == 0 &&
            (rc = RESOLVE(c, p, mote_wire_topic_alias(p->props.ptr, p->props.len))) != MOTE_OK)
            return rc;
#endif
    }
    /* The three cases join here: size builds keep one copy of the rest, not one per path
     * that jump threading would specialise. */
    MQ_HIDE(mode);
    MQ_HIDE(fresh);
    MQ_HIDE(p);
    /* rx_skip is 0 for a whole message (nothing is being streamed), and for the last piece;
     * taken before the event, which may reset the connection (and rx_skip with it) */
    last = c->rx_skip == 0;
    if (fresh) {
        uint32_t total = mode == PUB_WHOLE ? n : c->rx_total;
        p->payload.len = n;
        evt->u.publish.total = total;
        evt->u.publish.offset = total - c->rx_skip - n;
        evt->u.publish.first = mode != PUB_NEXT;
        evt->u.publish.last = last;
        mote_client_emit(c, evt, MOTE_MQTT_EVT_PUBLISH);
    }
    if (!last)
        return MOTE_OK;
    if (mode != PUB_WHOLE) {
        c->flags &= (uint8_t)~(MQF_STREAM | MQF_DELIVER | MQF_DISCARD);
        c->rx_len = 0;
        c->rx_hdr = 0;
    }
    /* All in (or skipped): a QoS 2 message is recorded now, so a copy is a duplicate and
     * its PUBREL finds it (its whole or first piece found room, and nothing else was read
     * since). */
    if (p->qos == 2)
        (void)mote_session_qos2_seen(c, p->packet_id, true);
    /* The application reset or closed the connection from the event: nothing more is sent
     * on it (the server sends the message again; a QoS 2 copy is known as a duplicate). */
    if (c->state != MQ_CONNECTED)
        return MOTE_OK;
    /* A rejected message is acknowledged too, so the broker does not send it again. */
    return ack_publish(c, p->qos, p->packet_id);
}

/* rx_parse stopped at a CONNACK for the caller to handle (not a mote_err_t value). */
#define RX_CONNACK ((mote_err_t)1)

/* Dispatch every complete packet in rx_buf and start streaming an oversize PUBLISH; or,
 * with piece != 0, deliver the piece bytes of a streamed payload just read. */
static mote_err_t rx_parse(mote_mqtt_client_t *c, uint32_t piece)
{
    uint8_t *buf = c->cfg->rx_buf;
    uint32_t off = 0;
    mote_err_t rc = MOTE_OK;
    mote_mqtt_event_t evt;
    for (;;) {
        const uint8_t *pkt = buf;
        uint32_t rem, avail;
        unsigned mode;
        int32_t hl;
        if (piece != 0) {
            /* Decoding the kept header again is cheaper in RAM than keeping its fields. */
            avail = c->rx_hdr;
            mode = PUB_NEXT;
        } else {
            if (c->ack_type != 0 || (c->state != MQ_CONNECTED && c->state != MQ_CONNECTING) ||
                off >= c->rx_len)
                break;
            pkt = buf + off;
            avail = c->rx_len - off;
            mode = PUB_WHOLE;
        }
        hl = mote_wire_fixed_header(pkt, avail, &rem);
        if (hl == MOTE_ERR_NEED_MORE && mode == PUB_WHOLE)
            break;
        if (hl < 0) {
            rc = (mote_err_t)hl;
            break;
        }
        if (mode == PUB_WHOLE) {
            const uint8_t type = (uint8_t)(pkt[0] >> 4);
            uint32_t total = (uint32_t)hl + rem;
            if (MQ_V5_LIMIT(c->max_packet_in != 0 && total > c->max_packet_in)) {
                rc = MOTE_ERR_PACKET_TOO_LARGE;
                break;
            }
            if (total <= avail) {
                off += total;
                if (c->cfg->on_trace != NULL)
                    c->cfg->on_trace(c->cfg->user, 'R', pkt, total);
                if ((c->state == MQ_CONNECTING) != (type == MOTE_MQTT_CONNACK) &&
                    !(type == MOTE_MQTT_AUTH && MQ_IS_V5(c))) {
                    rc = MOTE_ERR_PROTOCOL; /* CONNACK first, and only then */
                    break;
                }
                if (type == MOTE_MQTT_CONNACK) {
                    /* Handled by the caller (rx_pump), so the CONNACK decoder and its
                     * properties never stack on this frame. rx_off: its end (consumed
                     * lazily: see mote_mqtt_connect); rx_total: its body length. */
                    c->rx_off = off;
                    c->rx_total = rem;
                    return RX_CONNACK;
                }
                if (type != MOTE_MQTT_PUBLISH) {
                    rc = dispatch(c, &evt, type, pkt + hl, rem);
                    if (rc != MOTE_OK)
                        break;
                    continue;
                }
                avail = total;
            } else if (total <= c->cfg->rx_cap) {
                break; /* fits once the rest arrives */
            } else if (type != MOTE_MQTT_PUBLISH || c->state != MQ_CONNECTED) {
                rc = MOTE_ERR_PACKET_TOO_LARGE;
                break;
            } else {
                /* Too large for rx_buf: streamed from the front of it. */
                rx_compact(c, off);
                off = 0;
                pkt = buf;
                avail = c->rx_len;
                mode = PUB_FIRST;
            }
        }
#if !defined(__OPTIMIZE_SIZE__)
        /* Speed builds give the common case (a whole message) a copy of its own, with the
         * mode and lengths folded in; size builds keep the one. */
        if (mode == PUB_WHOLE)
            rc = publish_in(c, &evt, pkt, (uint32_t)hl, rem, (uint32_t)hl + rem, 0, PUB_WHOLE);
        else
#endif
            rc = publish_in(c, &evt, pkt, (uint32_t)hl, rem, avail, piece, mode);
        if (rc != MOTE_OK || mode != PUB_WHOLE)
            break;
    }
    rx_compact(c, off);
    return rc;
}

static bool fatal(mote_err_t rc)
{
    return rc != MOTE_OK && rc != MOTE_ERR_OVERSIZE_REJECTED;
}

int32_t mote_client_rx_pump(mote_mqtt_client_t *c)
{
    mote_err_t rc = MOTE_OK;
    uint32_t at, want, piece = c->rx_skip;
    int32_t n = 0;
    if (c->ack_type != 0)
        return 0; /* a parked ack must go out before anything else is read */
    if (c->rx_off != 0) {
        rx_compact(c, c->rx_off);
        c->rx_off = 0;
    }
    if (piece != 0) {
        /* The next piece of a streamed (or skipped) payload, behind the kept header. */
        at = c->rx_hdr;
        want = (uint32_t)c->cfg->rx_cap - at;
        if (want > piece)
            want = piece;
    } else {
        /* Packets left over from a pass that had to stop for a parked ack go first. */
        rc = rx_parse(c, 0);
        at = c->rx_len;
        want = (uint32_t)c->cfg->rx_cap - at;
        if (rc != MOTE_OK || c->ack_type != 0 || c->rx_off != 0 || c->rx_skip != 0 ||
            want == 0 || (c->state != MQ_CONNECTED && c->state != MQ_CONNECTING))
            goto done;
    }
    n = rx_read(c, at, want);
    if (n <= 0)
        return n;
    c->flags |= MQF_RX;
    if (piece != 0) {
        c->rx_skip -= (uint32_t)n;
        piece = (uint32_t)n;
    } else {
        c->rx_len += (uint32_t)n;
    }
    rc = rx_parse(c, piece);
done:
    if (rc == RX_CONNACK) {
        rc = mote_client_on_connack(c, c->cfg->rx_buf + c->rx_off - c->rx_total, c->rx_total);
        c->rx_total = 0;
    }
    if (fatal(rc))
        mote_client_fail(c, rc); /* (again, when a failure already did: harmless) */
    return rc != MOTE_OK ? (int32_t)rc : n;
}

static mote_err_t keep_alive(mote_mqtt_client_t *c, uint32_t now)
{
    uint32_t ka = (uint32_t)c->keep_alive_s * 1000u;
    unsigned rx = c->flags & MQF_RX;
    c->flags &= (uint8_t)~MQF_RX;
    if (ka == 0)
        return MOTE_OK;
    if (c->flags & MQF_PING) {
        /* Bytes still arriving show the connection alive: the PINGRESP may be queued behind
         * a message that takes longer than the interval to arrive. */
        if (rx)
            c->ping_sent_ms = now;
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
            return mote_client_fail(c, rc); /* (harmless when already disconnected) */
        /* Read what is available (bounded, so a flood cannot keep us here past the
         * budget); acks produced on the way are coalesced and written together below. */
        for (reads = 0; reads < 16 && c->ack_type == 0; reads++) {
            int32_t got = mote_client_rx_pump(c);
            if (got < 0)
                return (mote_err_t)got;
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
