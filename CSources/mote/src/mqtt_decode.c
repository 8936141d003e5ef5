/* MQTT packet decoders (MQTT 3.1.1 3, 5.0 3). Each takes the body of one packet (the bytes
 * after the fixed header, exactly its remaining length), validates every field and returns
 * spans into that body. Running out of bytes inside a complete packet means a length
 * field lied: MOTE_ERR_MALFORMED. */
#include "mqtt_wire.h"

typedef struct reader {
    const uint8_t *p;
    const uint8_t *end;
} reader_t;

static size_t left(const reader_t *r)
{
    return (size_t)(r->end - r->p);
}

#if MOTE_MQTT_SERVER
/* Length-prefixed bytes (binary data, or a string before its UTF-8 check). */
static mote_err_t rd_span(reader_t *r, mote_bytes_t *out)
{
    if (left(r) < 2)
        return MOTE_ERR_NEED_MORE;
    size_t n = mote_wire_get_u16(r->p);
    if (left(r) - 2 < n)
        return MOTE_ERR_NEED_MORE;
    out->ptr = r->p + 2;
    out->len = n;
    r->p += 2 + n;
    return MOTE_OK;
}

static mote_err_t rd_str(reader_t *r, mote_bytes_t *out)
{
    mote_err_t e = rd_span(r, out);
    if (!e && !mote_mqtt_utf8_valid(out->ptr, out->len))
        e = MOTE_ERR_BAD_UTF8;
    return e;
}
#endif

/* A packet identifier, which must not be 0 (3.1.1 2.3.1, 5.0 2.2.1). */
static mote_err_t rd_pid(reader_t *r, uint16_t *out)
{
    if (left(r) < 2)
        return MOTE_ERR_NEED_MORE;
    *out = mote_wire_get_u16(r->p);
    r->p += 2;
    return *out ? MOTE_OK : MOTE_ERR_BAD_PACKET_ID;
}

#if MOTE_MQTT_V5
/* Inlined: it sits between the PUBLISH decoder and the property check on the client's
 * receive path, whose stack depth the process step pays for. */
#if defined(__GNUC__) || defined(__clang__)
__attribute__((always_inline))
#endif
static inline mote_err_t rd_props(reader_t *r, uint8_t kind, mote_mqtt_props_t *out,
                                  uint16_t *alias)
{
    uint32_t n;
    int k = mote_wire_varint_get(r->p, left(r), &n);
    if (k <= 0)
        return k == 0 ? MOTE_ERR_NEED_MORE : MOTE_ERR_MALFORMED;
    r->p += k;
    if (left(r) < n)
        return MOTE_ERR_NEED_MORE;
    out->ptr = r->p;
    out->len = n;
    r->p += n;
    return n ? mote_wire_props_check(out->ptr, n, kind, alias) : MOTE_OK;
}
#endif

/* Finish a decode of a complete packet: truncation and trailing bytes are malformed. */
static mote_err_t finish(const reader_t *r, mote_err_t e)
{
    if (e == MOTE_ERR_NEED_MORE || (!e && r->p != r->end))
        return MOTE_ERR_MALFORMED;
    return e;
}

static void clear_props(mote_mqtt_props_t *pr)
{
    pr->ptr = NULL;
    pr->len = 0;
}

#if MOTE_MQTT_SERVER
/* ---- CONNECT (server side) -------------------------------------------------------- */

mote_err_t mote_mqtt_decode_connect(const uint8_t *body, size_t len, mote_mqtt_connect_t *c,
                                    mote_mqtt_will_t *will_out)
{
    if (!c || (!body && len))
        return MOTE_ERR_BAD_ARG;
    reader_t r = { body, body + len };
    mote_bytes_t name;
    mote_err_t e = rd_span(&r, &name);
    if (e)
        return finish(&r, e);
    if (name.len != 4 || memcmp(name.ptr, "MQTT", 4) != 0)
        return MOTE_ERR_BAD_PROTOCOL;
    if (left(&r) < 4)
        return MOTE_ERR_MALFORMED;
    uint8_t level = r.p[0], flags = r.p[1];
    memset(c, 0, sizeof *c);
    c->keep_alive_s = mote_wire_get_u16(r.p + 2);
    r.p += 4;
    if (!mote_wire_version_ok((mote_mqtt_version_t)level))
        return MOTE_ERR_BAD_PROTOCOL;
    c->version = (mote_mqtt_version_t)level;
    const bool v5 = MOTE_WIRE_IS_V5(c->version);
    const bool will = flags & 0x04u;
    const unsigned wqos = flags >> 3 & 3u;
    /* Reserved bit 0; will QoS/retain without a will; 3.1.1 password without user name. */
    if ((flags & 1u) || (!will && (flags & 0x38u)) ||
        (!v5 && (flags & 0x40u) && !(flags & 0x80u)))
        return MOTE_ERR_BAD_FLAGS;
    if (wqos == 3)
        return MOTE_ERR_BAD_QOS;
    c->clean_start = flags & 0x02u;
#if MOTE_MQTT_V5
    if (v5)
        e = rd_props(&r, MOTE_MQTT_CONNECT, &c->props, NULL);
#endif
    if (!e)
        e = rd_str(&r, &c->client_id);
    if (!e && will) {
        if (!will_out)
            return MOTE_ERR_BAD_ARG;
        memset(will_out, 0, sizeof *will_out);
        will_out->qos = (uint8_t)wqos;
        will_out->retain = flags & 0x20u;
#if MOTE_MQTT_V5
        if (v5)
            e = rd_props(&r, MOTE_WIRE_WILL, &will_out->props, NULL);
#endif
        if (!e)
            e = rd_span(&r, &will_out->topic);
        if (!e)
            e = mote_mqtt_topic_validate(will_out->topic);
        if (!e)
            e = rd_span(&r, &will_out->payload);
        c->will = will_out;
    }
    if (!e && (flags & 0x80u))
        e = rd_str(&r, &c->username);
    if (!e && (flags & 0x40u))
        e = rd_span(&r, &c->password);
    return finish(&r, e);
}

#endif

/* ---- CONNACK ---------------------------------------------------------------------- */

mote_err_t mote_mqtt_decode_connack(const uint8_t *body, size_t len, mote_mqtt_version_t v,
                                    mote_mqtt_connack_t *c)
{
    if (!c || (!body && len))
        return MOTE_ERR_BAD_ARG;
    if (!mote_wire_version_ok(v))
        return MOTE_ERR_UNSUPPORTED;
    if (len < 2)
        return MOTE_ERR_MALFORMED;
    reader_t r = { body + 2, body + len };
    mote_err_t e = MOTE_OK;
    c->session_present = body[0] & 1u;
    c->reason_code = body[1];
    clear_props(&c->props);
    if (body[0] & 0xFEu)
        return MOTE_ERR_BAD_FLAGS;
    if (MOTE_WIRE_IS_V5(v)) {
#if MOTE_MQTT_V5
        if (!mote_wire_reason_ok(MOTE_MQTT_CONNACK, c->reason_code))
            return MOTE_ERR_BAD_REASON_CODE;
        e = rd_props(&r, MOTE_MQTT_CONNACK, &c->props, NULL);
#endif
    } else if (c->reason_code > 5) {
        return MOTE_ERR_BAD_REASON_CODE;
    }
    if (!e && c->session_present && c->reason_code)
        e = MOTE_ERR_BAD_FLAGS;
    return finish(&r, e);
}

/* ---- PUBLISH ---------------------------------------------------------------------- */

/* Everything after the packet id that the fast path below leaves: properties, short or
 * suspicious topics, the empty topic of an alias. p already holds topic, flags and id. */
MOTE_WIRE_COLD static mote_err_t publish_header_slow(const uint8_t *body, size_t avail,
                                                     size_t total, mote_mqtt_version_t v,
                                                     mote_mqtt_publish_t *p, size_t *payload_offset)
{
    size_t off = 2 + p->topic.len + (p->qos ? 2u : 0u);
    mote_err_t e = MOTE_OK;
    uint16_t alias = 0; /* from the property check: the empty-topic rule needs no second walk */
#if MOTE_MQTT_V5
    if (MOTE_WIRE_IS_V5(v)) {
        reader_t r = { body + off, body + avail };
        e = rd_props(&r, MOTE_MQTT_PUBLISH, &p->props, &alias);
        off = (size_t)(r.p - body);
    }
#else
    (void)v;
#endif
    if (e == MOTE_ERR_NEED_MORE)
        return avail < total ? MOTE_ERR_NEED_MORE : MOTE_ERR_MALFORMED;
    if (e)
        return e;
    if (p->topic.len) {
        e = mote_wire_topic_fast(p->topic.ptr, p->topic.len);
        if (e)
            return e;
    } else if (!MOTE_WIRE_IS_V5(v) || !alias) {
        return MOTE_ERR_BAD_TOPIC; /* an empty topic name needs a topic alias (5.0 3.3.2.3.4) */
    }
    p->payload.ptr = body + off;
    p->payload.len = total - off;
    if (payload_offset)
        *payload_offset = off;
    return MOTE_OK;
}

/* Shared by both PUBLISH decoders: inlined into each when optimising for speed, into the
 * streaming one only when optimising for size. The fast path (no properties, a topic of
 * 16+ plain bytes) makes no calls. */
#if (defined(__GNUC__) || defined(__clang__))
__attribute__((always_inline))
#endif
static inline mote_err_t publish_header(const uint8_t *body, size_t avail, size_t total,
                                        unsigned flags, mote_mqtt_version_t v,
                                        mote_mqtt_publish_t *p, size_t *payload_offset)
{
    if (!mote_wire_version_ok(v))
        return MOTE_ERR_UNSUPPORTED;
    /* 0x3C3F: the flag nibbles allowed, i.e. not QoS 3 (6, 7, 14, 15) and not DUP on
     * QoS 0 (8, 9) */
    flags &= 0x0Fu;
    if (!(0x3C3Fu >> flags & 1u))
        return (flags & 6u) == 6u ? MOTE_ERR_BAD_QOS : MOTE_ERR_BAD_FLAGS;
    const unsigned qos = flags >> 1 & 3u;
    if (avail > total)
        avail = total;
    if (avail < 2)
        return avail < total ? MOTE_ERR_NEED_MORE : MOTE_ERR_MALFORMED;
    const size_t tl = mote_wire_get_u16(body);
    size_t off = 2 + tl + (qos ? 2u : 0u);
    if (off > avail)
        return avail < total ? MOTE_ERR_NEED_MORE : MOTE_ERR_MALFORMED;
    p->topic.ptr = body + 2;
    p->topic.len = tl;
    p->qos = (uint8_t)qos;
    p->dup = flags & 8u;
    p->retain = flags & 1u;
    p->packet_id = qos ? mote_wire_get_u16(body + off - 2) : 0;
    p->props.ptr = NULL;
    p->props.len = 0;
    if (qos && !p->packet_id)
        return MOTE_ERR_BAD_PACKET_ID;
#if !defined(__OPTIMIZE_SIZE__) && MOTE_WIRE_VEC
    if (tl >= 16 && (!MOTE_WIRE_IS_V5(v) || (off < avail && body[off] == 0))) {
        off += MOTE_WIRE_IS_V5(v) ? 1u : 0u; /* the zero property length */
        if (!mote_wire_screen_range(body + 2, tl)) {
            p->payload.ptr = body + off;
            p->payload.len = total - off;
            if (payload_offset)
                *payload_offset = off;
            return MOTE_OK;
        }
    }
#endif
    return publish_header_slow(body, avail, total, v, p, payload_offset);
}

mote_err_t mote_mqtt_decode_publish_header(const uint8_t *body, size_t avail, size_t total,
                                           uint8_t flags, mote_mqtt_version_t v,
                                           mote_mqtt_publish_t *p, size_t *payload_offset)
{
    return publish_header(body, avail, total, flags, v, p, payload_offset);
}

mote_err_t mote_mqtt_decode_publish(const uint8_t *body, size_t len, uint8_t flags,
                                    mote_mqtt_version_t v, mote_mqtt_publish_t *p)
{
#if defined(__OPTIMIZE_SIZE__)
    /* One copy of the decoder (inlined into the streaming entry point), no extra frame. */
    return mote_mqtt_decode_publish_header(body, len, len, flags, v, p, NULL);
#else
    return publish_header(body, len, len, flags, v, p, NULL);
#endif
}

/* ---- PUBACK, PUBREC, PUBREL, PUBCOMP, DISCONNECT, AUTH ---------------------------- */

/* The optional v5 reason code and properties that end these packets, then the end check.
 * AUTH omits both or neither (5.0 3.15.2.1). */
static mote_err_t reason_tail(reader_t *r, mote_err_t e, uint8_t type, mote_mqtt_version_t v,
                              mote_mqtt_ack_t *a)
{
    a->reason_code = 0;
    clear_props(&a->props);
#if MOTE_MQTT_V5
    if (!e && MOTE_WIRE_IS_V5(v) && r->p < r->end) {
        a->reason_code = *r->p++;
        if (!mote_wire_reason_ok(type, a->reason_code))
            e = MOTE_ERR_BAD_REASON_CODE;
        else if (r->p < r->end)
            e = rd_props(r, type, &a->props, NULL);
        else if (type == MOTE_MQTT_AUTH)
            e = MOTE_ERR_MALFORMED;
        /* an AUTH other than the short form names its method (5.0 3.15.2.2.2) */
        if (!e && type == MOTE_MQTT_AUTH && !a->props.len)
            e = MOTE_ERR_BAD_PROPERTY;
    }
#else
    (void)type, (void)v;
#endif
    return finish(r, e);
}

mote_err_t mote_mqtt_decode_ack(const uint8_t *body, size_t len, uint8_t type, uint8_t flags,
                                mote_mqtt_version_t v, mote_mqtt_ack_t *a)
{
    if (!a || (!body && len))
        return MOTE_ERR_BAD_ARG;
    if (type < MOTE_MQTT_PUBACK || type > MOTE_MQTT_PUBCOMP)
        return MOTE_ERR_BAD_PACKET_TYPE;
    if (!mote_wire_version_ok(v))
        return MOTE_ERR_UNSUPPORTED;
    if (flags != (type == MOTE_MQTT_PUBREL ? 2u : 0u))
        return MOTE_ERR_BAD_FLAGS;
    reader_t r = { body, body + len };
    mote_err_t e = rd_pid(&r, &a->packet_id);
    return reason_tail(&r, e, type, v, a);
}

mote_err_t mote_mqtt_decode_disconnect(const uint8_t *body, size_t len, uint8_t type,
                                       mote_mqtt_version_t v, mote_mqtt_ack_t *a)
{
    if (!a || (!body && len))
        return MOTE_ERR_BAD_ARG;
    if (!mote_wire_version_ok(v))
        return MOTE_ERR_UNSUPPORTED;
    if (type != MOTE_MQTT_DISCONNECT && (type != MOTE_MQTT_AUTH || !MOTE_WIRE_IS_V5(v)))
        return MOTE_ERR_BAD_PACKET_TYPE;
    reader_t r = { body, body + len };
    a->packet_id = 0;
    return reason_tail(&r, MOTE_OK, type, v, a);
}

#if MOTE_MQTT_SERVER
/* ---- SUBSCRIBE, UNSUBSCRIBE (server side) ----------------------------------------- */

static mote_err_t decode_sub(const uint8_t *body, size_t len, uint8_t flags,
                             mote_mqtt_version_t v, uint8_t type, uint16_t *packet_id,
                             mote_mqtt_props_t *props, size_t *count)
{
    if (!packet_id || !props || !count || (!body && len))
        return MOTE_ERR_BAD_ARG;
    if (!mote_wire_version_ok(v))
        return MOTE_ERR_UNSUPPORTED;
    if (flags != 2u)
        return MOTE_ERR_BAD_FLAGS;
    const bool v5 = MOTE_WIRE_IS_V5(v);
    reader_t r = { body, body + len };
    size_t n = 0;
    clear_props(props);
    mote_err_t e = rd_pid(&r, packet_id);
#if MOTE_MQTT_V5
    if (!e && v5)
        e = rd_props(&r, type, props, NULL);
#endif
    while (!e && r.p < r.end) {
        mote_bytes_t f;
        e = rd_span(&r, &f);
        if (!e)
            e = mote_mqtt_filter_validate(f);
        if (!e && type == MOTE_MQTT_SUBSCRIBE)
            e = r.p < r.end ? mote_wire_sub_options_ok(&f, *r.p++, v5) : MOTE_ERR_NEED_MORE;
        n++;
    }
    /* At least one filter is required (3.1.1 3.8.3, 5.0 3.8.3). */
    if (!e && !n)
        e = MOTE_ERR_MALFORMED;
    *count = n;
    return finish(&r, e);
}

mote_err_t mote_mqtt_decode_subscribe(const uint8_t *body, size_t len, uint8_t flags,
                                      mote_mqtt_version_t v, uint16_t *packet_id,
                                      mote_mqtt_props_t *props, size_t *count)
{
    return decode_sub(body, len, flags, v, MOTE_MQTT_SUBSCRIBE, packet_id, props, count);
}

mote_err_t mote_mqtt_decode_unsubscribe(const uint8_t *body, size_t len, uint8_t flags,
                                        mote_mqtt_version_t v, uint16_t *packet_id,
                                        mote_mqtt_props_t *props, size_t *count)
{
    return decode_sub(body, len, flags, v, MOTE_MQTT_UNSUBSCRIBE, packet_id, props, count);
}

/* Step over a validated SUBSCRIBE/UNSUBSCRIBE body: the cursor is 0 before the first
 * entry, then the offset of the next one. */
static bool sub_next(const uint8_t *body, size_t len, mote_mqtt_version_t v, size_t *cursor,
                     mote_bytes_t *filter, uint8_t *options)
{
    if (!body || !cursor || !filter)
        return false;
    size_t pos = *cursor;
    if (pos == 0) {
        pos = 2;
#if MOTE_MQTT_V5
        if (MOTE_WIRE_IS_V5(v)) {
            uint32_t n;
            int k = len > pos ? mote_wire_varint_get(body + pos, len - pos, &n) : 0;
            if (k <= 0)
                return false;
            pos += (size_t)k + n;
        }
#else
        (void)v;
#endif
    }
    if (pos > len || len - pos < 2)
        return false;
    size_t flen = mote_wire_get_u16(body + pos), need = 2 + flen + (options ? 1u : 0u);
    if (len - pos < need)
        return false;
    filter->ptr = body + pos + 2;
    filter->len = flen;
    if (options)
        *options = body[pos + 2 + flen];
    *cursor = pos + need;
    return true;
}

bool mote_mqtt_subscribe_next(const uint8_t *body, size_t len, mote_mqtt_version_t v,
                              size_t *cursor, mote_mqtt_subscription_t *out)
{
    return out && sub_next(body, len, v, cursor, &out->filter, &out->options);
}

bool mote_mqtt_unsubscribe_next(const uint8_t *body, size_t len, mote_mqtt_version_t v,
                                size_t *cursor, mote_bytes_t *out)
{
    return sub_next(body, len, v, cursor, out, NULL);
}

#endif

/* ---- SUBACK, UNSUBACK ------------------------------------------------------------- */

mote_err_t mote_mqtt_decode_suback(const uint8_t *body, size_t len, uint8_t type,
                                   mote_mqtt_version_t v, mote_mqtt_suback_t *s)
{
    if (!s || (!body && len))
        return MOTE_ERR_BAD_ARG;
    if (type != MOTE_MQTT_SUBACK && type != MOTE_MQTT_UNSUBACK)
        return MOTE_ERR_BAD_PACKET_TYPE;
    if (!mote_wire_version_ok(v))
        return MOTE_ERR_UNSUPPORTED;
    const bool v5 = MOTE_WIRE_IS_V5(v);
    reader_t r = { body, body + len };
    clear_props(&s->props);
    s->reason_codes = NULL;
    s->count = 0;
    mote_err_t e = rd_pid(&r, &s->packet_id);
#if MOTE_MQTT_V5
    if (!e && v5)
        e = rd_props(&r, type, &s->props, NULL);
#endif
    if (e)
        return finish(&r, e);
    /* A 3.1.1 UNSUBACK is the packet id alone (3.11). */
    if (!v5 && type == MOTE_MQTT_UNSUBACK)
        return finish(&r, MOTE_OK);
    if (r.p == r.end)
        return MOTE_ERR_MALFORMED;
    s->reason_codes = r.p;
    s->count = left(&r);
    for (; r.p < r.end; r.p++)
        if (!mote_wire_suback_code_ok(v, type, *r.p))
            return MOTE_ERR_BAD_REASON_CODE;
    return MOTE_OK;
}
