/* MQTT packet encoders, the fixed header and variable byte integers (MQTT 3.1.1 2-3,
 * 5.0 2-3). Every encoder sizes the packet arithmetically from the caller's spans (no
 * separate pass over the data), validates what it is given, then writes it in one pass. */
#include "mqtt_wire.h"

/* Inlined into the fixed-header decoder: a device's receive path then needs no call (and,
 * in 3.1.1-only builds, no separate varint function at all). */
#if defined(__GNUC__) || defined(__clang__)
__attribute__((always_inline))
#endif
static inline int varint_get(const uint8_t *p, size_t avail, uint32_t *out)
{
    uint32_t v = 0;
    for (unsigned i = 0; i < 4; i++) {
        if (i >= avail)
            return 0;
        uint8_t b = p[i];
        v |= (uint32_t)(b & 0x7Fu) << (7 * i);
        if (!(b & 0x80u)) {
            if (i && !b) /* a trailing zero group: not the shortest form */
                return -1;
            *out = v;
            return (int)i + 1;
        }
    }
    return -1;
}

int mote_wire_varint_get(const uint8_t *p, size_t avail, uint32_t *out)
{
    return varint_get(p, avail, out);
}

uint8_t *mote_wire_varint_put(uint8_t *p, uint32_t v)
{
    while (v > 0x7Fu) {
        *p++ = (uint8_t)(v | 0x80u);
        v >>= 7;
    }
    *p++ = (uint8_t)v;
    return p;
}

size_t mote_mqtt_varint_size(uint32_t value)
{
    return value < 0x80u ? 1 : value < 0x4000u ? 2 : value < 0x200000u ? 3
         : value <= MOTE_WIRE_VARINT_MAX ? 4 : 0;
}

/* The flag nibbles a packet type may carry: PUBLISH any but QoS 3; PUBREL (6), SUBSCRIBE
 * (8) and UNSUBSCRIBE (10) 0010; the others 0000. */
#define FLAGS_0010_TYPES 0x0540u

/* Out of line beside the fast paths of speed builds; size builds have none, and there it
 * is the body of its one caller. */
#if !defined(__OPTIMIZE_SIZE__)
#define FIXED_HEADER_SLOW MOTE_WIRE_COLD static
#elif defined(__GNUC__) || defined(__clang__)
#define FIXED_HEADER_SLOW __attribute__((always_inline)) static inline
#else
#define FIXED_HEADER_SLOW static
#endif
FIXED_HEADER_SLOW int32_t fixed_header_slow(const uint8_t *buf, size_t len, uint32_t *remaining)
{
    if (len == 0)
        return MOTE_ERR_NEED_MORE;
    const unsigned t = buf[0] >> 4, f = buf[0] & 0x0Fu;
    if (t == 0)
        return MOTE_ERR_BAD_PACKET_TYPE;
    if (t == MOTE_MQTT_PUBLISH ? (f & 6u) == 6u : f != ((FLAGS_0010_TYPES >> t & 1u) << 1))
        return t == MOTE_MQTT_PUBLISH ? MOTE_ERR_BAD_QOS : MOTE_ERR_BAD_FLAGS;
    uint32_t rem;
    int n = varint_get(buf + 1, len - 1, &rem);
    if (n <= 0)
        return n ? MOTE_ERR_BAD_REMAINING_LENGTH : MOTE_ERR_NEED_MORE;
    if (rem && (t == MOTE_MQTT_PINGREQ || t == MOTE_MQTT_PINGRESP))
        return MOTE_ERR_BAD_REMAINING_LENGTH;
    *remaining = rem;
    return n + 1;
}

#if !defined(__OPTIMIZE_SIZE__)
/* Fast path of both decoders below: a valid first byte and a one-byte remaining length.
 * first_ok[b] has bit 0 set when b may start a packet with an empty body, bit 1 with a
 * non-empty one (the PINGs only allow the first). Everything else, errors included, takes
 * the slow path. */
#define F16(m, v) (((m) >> 0 & 1) * (v)), (((m) >> 1 & 1) * (v)), (((m) >> 2 & 1) * (v)),          \
                  (((m) >> 3 & 1) * (v)), (((m) >> 4 & 1) * (v)), (((m) >> 5 & 1) * (v)),          \
                  (((m) >> 6 & 1) * (v)), (((m) >> 7 & 1) * (v)), (((m) >> 8 & 1) * (v)),          \
                  (((m) >> 9 & 1) * (v)), (((m) >> 10 & 1) * (v)), (((m) >> 11 & 1) * (v)),        \
                  (((m) >> 12 & 1) * (v)), (((m) >> 13 & 1) * (v)), (((m) >> 14 & 1) * (v)),       \
                  (((m) >> 15 & 1) * (v))
static const uint8_t first_ok[256] = {
    F16(0, 3), F16(0x0001, 3), F16(0x0001, 3), F16(0x3F3F, 3), F16(0x0001, 3), F16(0x0001, 3),
    F16(0x0004, 3), F16(0x0001, 3), F16(0x0004, 3), F16(0x0001, 3), F16(0x0004, 3),
    F16(0x0001, 3), F16(0x0001, 1), F16(0x0001, 1), F16(0x0001, 3), F16(0x0001, 3),
};
#undef F16
#endif

int32_t mote_wire_fixed_header(const uint8_t *buf, size_t len, uint32_t *remaining)
{
#if !defined(__OPTIMIZE_SIZE__)
    if (len >= 2) {
        const unsigned b0 = buf[0], r = buf[1];
        /* Store first, test after: keeps the path free of saved registers. On failure the
         * slow path below overwrites it or returns an error. */
        *remaining = r;
        if (r < 0x80u && (first_ok[b0] >> (r != 0) & 1u))
            return 2;
    }
#endif
    return fixed_header_slow(buf, len, remaining);
}

/* The public decoder's slow path: every output written here, so the fast path below stays
 * a leaf that ends in a tail call. */
MOTE_WIRE_COLD static mote_err_t decode_fixed_header_slow(const uint8_t *buf, size_t len,
                                                          uint8_t *type, uint8_t *flags,
                                                          uint32_t *remaining, size_t *header_len)
{
    int32_t n = mote_wire_fixed_header(buf, len, remaining); /* (one caller of the slow path) */
    if (n < 0)
        return (mote_err_t)n;
    *type = (uint8_t)(buf[0] >> 4);
    *flags = (uint8_t)(buf[0] & 0x0Fu);
    *header_len = (size_t)n;
    return MOTE_OK;
}

mote_err_t mote_mqtt_decode_fixed_header(const uint8_t *buf, size_t len, uint8_t *type,
                                         uint8_t *flags, uint32_t *remaining, size_t *header_len)
{
#if !defined(__OPTIMIZE_SIZE__)
    if (len >= 2) {
        const unsigned b0 = buf[0], r = buf[1];
        /* the same fast path, with all four outputs stored before the test */
        *type = (uint8_t)(b0 >> 4);
        *flags = (uint8_t)(b0 & 0x0Fu);
        *remaining = r;
        *header_len = 2;
        if (r < 0x80u && (first_ok[b0] >> (r != 0) & 1u))
            return MOTE_OK;
    }
#endif
    return decode_fixed_header_slow(buf, len, type, flags, remaining, header_len);
}

/* ---- shared encoder helpers ------------------------------------------------------- */

/* Check sizes and write the fixed header of a packet with rem bytes after it, of which
 * the last omit bytes are not written by this call (the PUBLISH payload of a gathered
 * write). Returns the bytes this call produces (or would, when buf is NULL) or an error;
 * *body receives where the variable header goes. */
static inline int32_t begin(uint8_t *buf, size_t cap, unsigned first, size_t rem, size_t omit,
                            uint8_t **body)
{
    if (rem > MOTE_WIRE_VARINT_MAX)
        return MOTE_ERR_PACKET_TOO_LARGE;
    /* rem is in range here, so the length of its encoding is 1..4 (no call needed) */
    size_t total = (rem < 0x80u ? 2u : rem < 0x4000u ? 3u : rem < 0x200000u ? 4u : 5u) + rem - omit;
    if (!buf)
        return (int32_t)total;
    if (cap < total)
        return MOTE_ERR_BUFFER_TOO_SMALL;
    buf[0] = (uint8_t)first;
    *body = mote_wire_varint_put(buf + 1, (uint32_t)rem);
    return (int32_t)total;
}

static uint8_t *put_raw(uint8_t *p, const uint8_t *s, size_t n)
{
    if (n)
        memcpy(p, s, n);
    return p + n;
}

/* By pointer: a span passed by value is stored to the stack first. */
static uint8_t *put_span(uint8_t *p, const mote_bytes_t *s)
{
    return put_raw(mote_wire_put_u16(p, s->len), s->ptr, s->len);
}

/* A length-prefixed field: at most 65,535 bytes, and well-formed UTF-8 when a string. */
static mote_err_t span_ok(mote_bytes_t s, bool utf8)
{
    if (s.len > 65535u || (s.len && !s.ptr))
        return MOTE_ERR_BAD_ARG;
    if (utf8 && !mote_mqtt_utf8_valid(s.ptr, s.len))
        return MOTE_ERR_BAD_UTF8;
    return MOTE_OK;
}

#if MOTE_MQTT_V5
/* Inlined: one frame less above the property check. */
#if defined(__GNUC__) || defined(__clang__)
__attribute__((always_inline))
#endif
static inline mote_err_t props_ok(mote_mqtt_props_t pr, uint8_t kind)
{
    if (pr.len && !pr.ptr)
        return MOTE_ERR_BAD_ARG;
    return mote_wire_props_check(pr.ptr, pr.len, kind, NULL);
}

static size_t props_size(mote_mqtt_props_t pr)
{
    return mote_mqtt_varint_size((uint32_t)pr.len) + pr.len;
}

static uint8_t *put_props(uint8_t *p, mote_mqtt_props_t pr)
{
    return put_raw(mote_wire_varint_put(p, (uint32_t)pr.len), pr.ptr, pr.len);
}
#endif

/* ---- CONNECT ---------------------------------------------------------------------- */

int32_t mote_mqtt_encode_connect(uint8_t *buf, size_t cap, const mote_mqtt_connect_t *c)
{
    /* 3.1.1 lets the server assign an identifier only to a clean session (3.1.3-7). */
    if (!c || (!MOTE_WIRE_IS_V5(c->version) && !c->client_id.len && !c->clean_start))
        return MOTE_ERR_BAD_ARG;
    if (!mote_wire_version_ok(c->version))
        return MOTE_ERR_UNSUPPORTED;
    const bool v5 = MOTE_WIRE_IS_V5(c->version);
    const mote_mqtt_will_t *w = c->will;
    unsigned flags = c->clean_start ? 0x02u : 0u;
    size_t rem = 10 + 2 + c->client_id.len;
    mote_err_t e = span_ok(c->client_id, true);
#if MOTE_MQTT_V5
    if (!e && v5) {
        e = props_ok(c->props, MOTE_MQTT_CONNECT);
        rem += props_size(c->props);
    }
#endif
    if (!e && w) {
        if (w->qos > 2)
            return MOTE_ERR_BAD_QOS;
        e = mote_mqtt_topic_validate(w->topic);
        if (!e)
            e = span_ok(w->payload, false);
#if MOTE_MQTT_V5
        if (!e && v5) {
            e = props_ok(w->props, MOTE_WIRE_WILL);
            rem += props_size(w->props);
        }
#endif
        flags |= 0x04u | (unsigned)w->qos << 3 | (w->retain ? 0x20u : 0u);
        rem += 4 + w->topic.len + w->payload.len;
    }
    if (!e && c->username.ptr) {
        e = span_ok(c->username, true);
        flags |= 0x80u;
        rem += 2 + c->username.len;
    }
    if (!e && c->password.ptr) {
        /* 3.1.1 allows a password only together with a user name (3.1.2.9). */
        if (!v5 && !c->username.ptr)
            return MOTE_ERR_BAD_ARG;
        e = span_ok(c->password, false);
        flags |= 0x40u;
        rem += 2 + c->password.len;
    }
    if (e)
        return e;
    uint8_t *p;
    int32_t n = begin(buf, cap, 0x10u, rem, 0, &p);
    if (n <= 0 || !buf)
        return n;
    static const uint8_t name[] = { 0, 4, 'M', 'Q', 'T', 'T' };
    p = put_raw(p, name, sizeof name);
    *p++ = (uint8_t)c->version;
    *p++ = (uint8_t)flags;
    p = mote_wire_put_u16(p, c->keep_alive_s);
#if MOTE_MQTT_V5
    if (v5)
        p = put_props(p, c->props);
#endif
    p = put_span(p, &c->client_id);
    if (w) {
#if MOTE_MQTT_V5
        if (v5)
            p = put_props(p, w->props);
#endif
        p = put_span(p, &w->topic);
        p = put_span(p, &w->payload);
    }
    if (c->username.ptr)
        p = put_span(p, &c->username);
    if (c->password.ptr)
        put_span(p, &c->password);
    return n;
}

/* ---- PUBLISH ---------------------------------------------------------------------- */

/* Every field rule of an outgoing PUBLISH but the topic's characters: MOTE_OK or the
 * specific error. Speed builds call it only when their one combined test fails. */
MOTE_WIRE_COLD static mote_err_t publish_check(mote_mqtt_version_t v, const mote_mqtt_publish_t *m)
{
    if (m->qos > 2)
        return MOTE_ERR_BAD_QOS;
    if (m->dup && !m->qos)
        return MOTE_ERR_BAD_FLAGS;
    if (m->qos && !m->packet_id)
        return MOTE_ERR_BAD_PACKET_ID;
    if (m->payload.len > MOTE_WIRE_VARINT_MAX)
        return MOTE_ERR_PACKET_TOO_LARGE;
    /* (spans with a length must point somewhere: the caller's side of the contract) */
    if (m->topic.len > 65535u)
        return MOTE_ERR_BAD_TOPIC;
    if (m->topic.len)
        return MOTE_OK;
#if MOTE_MQTT_V5
    /* An empty topic is allowed only with a topic alias (5.0 3.3.2.3.4); alias 0 is
     * refused by the property check. */
    if (MOTE_WIRE_IS_V5(v) && m->props.ptr &&
        mote_wire_topic_alias(m->props.ptr, m->props.len) != 0)
        return MOTE_OK;
#else
    (void)v;
#endif
    return MOTE_ERR_BAD_TOPIC;
}

/* mode: the protocol version in the low byte, plus MOTE_WIRE_PUB_* flags. Four arguments,
 * so the wrappers below are tail calls in size builds (no frame of their own). */
MOTE_WIRE_HOT int32_t publish_common(uint8_t *buf, size_t cap, const mote_mqtt_publish_t *m,
                                     unsigned mode)
{
    const mote_mqtt_version_t v = (mote_mqtt_version_t)(mode & 0xFFu);
    const bool with_payload = (mode & MOTE_WIRE_PUB_PAYLOAD) != 0;
    if (!mote_wire_version_ok(v))
        return MOTE_ERR_UNSUPPORTED;
    const unsigned qos = m->qos;
    const size_t tl = m->topic.len, pl = m->payload.len;
    mote_err_t e;
#if defined(__OPTIMIZE_SIZE__)
    if (!(mode & MOTE_WIRE_PUB_TRUSTED)) {
        e = publish_check(v, m);
        if (e)
            return e;
    }
#else
    /* One test for every field rule; the cold path tells which one failed. (Spans with a
     * length must point somewhere: that is the caller's side of the contract.) */
    if (qos > 2 || (qos ? !m->packet_id : m->dup) || pl > MOTE_WIRE_VARINT_MAX ||
        tl - 1u >= 65535u) {
        e = publish_check(v, m);
        if (e)
            return e;
    }
#endif
    size_t rem = 2 + tl + pl + (qos ? 2u : 0u);
#if MOTE_MQTT_V5
    if (MOTE_WIRE_IS_V5(v)) {
        if (m->props.len && !(mode & MOTE_WIRE_PUB_TRUSTED)) {
            e = props_ok(m->props, MOTE_MQTT_PUBLISH);
            if (e)
                return e;
        }
        rem += props_size(m->props);
    }
#endif
    uint8_t *p;
    unsigned first = 0x30u | (unsigned)m->dup << 3 | qos << 1 | (unsigned)m->retain;
    int32_t n = begin(buf, cap, first, rem, with_payload ? 0 : pl, &p);
    if (n <= 0)
        return n;
    if (!buf) /* sizing only: still refuse a bad topic */
        return tl && (e = mote_wire_topic_fast(m->topic.ptr, tl)) != MOTE_OK ? e : n;
    p = mote_wire_put_u16(p, tl);
    /* Copy the topic and check it in the same pass when the word screen allows. */
#if MOTE_WIRE_VEC
    if (tl >= 16) {
        if (mote_wire_copy_screen(p, m->topic.ptr, tl) &&
            (e = mote_wire_topic_chars(m->topic.ptr, tl)) != MOTE_OK)
            return e;
    } else
#endif
    if (tl) {
        if ((e = mote_wire_topic_fast(m->topic.ptr, tl)) != MOTE_OK)
            return e;
        memcpy(p, m->topic.ptr, tl);
    }
    p += tl;
    if (qos)
        p = mote_wire_put_u16(p, m->packet_id);
#if MOTE_MQTT_V5
    if (MOTE_WIRE_IS_V5(v))
        p = put_props(p, m->props);
#endif
    if (with_payload)
        put_raw(p, m->payload.ptr, pl);
    return n;
}

int32_t mote_wire_publish_header(uint8_t *buf, size_t cap, const mote_mqtt_publish_t *p,
                                 unsigned mode)
{
#if !defined(__OPTIMIZE_SIZE__)
    /* header only: clearing the flag lets speed builds fold the payload branches away */
    mode &= ~MOTE_WIRE_PUB_PAYLOAD;
#endif
    return publish_common(buf, cap, p, mode);
}

/* Speed builds give every entry point its own folded copy of the encoder; size builds keep
 * one, the client's, and go through it. */
#if defined(__OPTIMIZE_SIZE__)
#define PUBLISH_ENCODE mote_wire_publish_header
#else
#define PUBLISH_ENCODE publish_common
#endif

int32_t mote_mqtt_encode_publish(uint8_t *buf, size_t cap, mote_mqtt_version_t v,
                                 const mote_mqtt_publish_t *p)
{
    return PUBLISH_ENCODE(buf, cap, p, ((unsigned)v & 0xFFu) | MOTE_WIRE_PUB_PAYLOAD);
}

int32_t mote_mqtt_encode_publish_header(uint8_t *buf, size_t cap, mote_mqtt_version_t v,
                                        const mote_mqtt_publish_t *p)
{
    return PUBLISH_ENCODE(buf, cap, p, (unsigned)v & 0xFFu);
}

size_t mote_mqtt_publish_size(mote_mqtt_version_t v, const mote_mqtt_publish_t *p)
{
    int32_t n = PUBLISH_ENCODE(NULL, 0, p, ((unsigned)v & 0xFFu) | MOTE_WIRE_PUB_PAYLOAD);
    return n > 0 ? (size_t)n : 0;
}

/* ---- acknowledgements, DISCONNECT, AUTH ------------------------------------------- */

/* PUBACK..PUBCOMP (packet id first), DISCONNECT and AUTH: then an optional reason code
 * and optional properties, in their short forms (5.0 3.4.2.1, 3.14.2.1, 3.15.2.1). */
static int32_t reason_packet(uint8_t *buf, size_t cap, mote_mqtt_version_t v, uint8_t type,
                             uint16_t packet_id, uint8_t rc, mote_mqtt_props_t props)
{
    if (!mote_wire_version_ok(v))
        return MOTE_ERR_UNSUPPORTED;
    const size_t head = type <= MOTE_MQTT_PUBCOMP ? 2u : 0u;
    if (head && !packet_id)
        return MOTE_ERR_BAD_PACKET_ID;
    size_t rem = head;
#if MOTE_MQTT_V5
    if (MOTE_WIRE_IS_V5(v)) {
        if (!mote_wire_reason_ok(type, rc))
            return MOTE_ERR_BAD_REASON_CODE;
        mote_err_t e = props_ok(props, type);
        if (e)
            return e;
        /* An AUTH other than the short form (reason 0, no properties) names its method. */
        if (type == MOTE_MQTT_AUTH && rc && !props.len)
            return MOTE_ERR_BAD_PROPERTY;
        /* AUTH carries a reason code only together with the property length. */
        if (props.len || (rc && type == MOTE_MQTT_AUTH))
            rem += 1 + props_size(props);
        else if (rc)
            rem += 1;
    }
#else
    (void)rc, (void)props;
#endif
    uint8_t *p;
    int32_t n = begin(buf, cap, (unsigned)type << 4 | (type == MOTE_MQTT_PUBREL ? 2u : 0u), rem,
                      0, &p);
    if (n <= 0 || !buf)
        return n;
    if (head)
        p = mote_wire_put_u16(p, packet_id);
#if MOTE_MQTT_V5
    if (rem > head)
        *p++ = rc;
    if (rem > head + 1)
        put_props(p, props);
#endif
    return n;
}

int32_t mote_mqtt_encode_ack(uint8_t *buf, size_t cap, mote_mqtt_version_t v, uint8_t type,
                             const mote_mqtt_ack_t *a)
{
    if (!a || type < MOTE_MQTT_PUBACK || type > MOTE_MQTT_PUBCOMP)
        return MOTE_ERR_BAD_ARG;
    return reason_packet(buf, cap, v, type, a->packet_id, a->reason_code, a->props);
}

int32_t mote_mqtt_encode_disconnect(uint8_t *buf, size_t cap, mote_mqtt_version_t v,
                                    uint8_t reason_code, mote_mqtt_props_t props)
{
    return reason_packet(buf, cap, v, MOTE_MQTT_DISCONNECT, 0, reason_code, props);
}

int32_t mote_mqtt_encode_auth(uint8_t *buf, size_t cap, uint8_t reason_code,
                              mote_mqtt_props_t props)
{
#if MOTE_MQTT_V5
    return reason_packet(buf, cap, MOTE_MQTT_VERSION_5, MOTE_MQTT_AUTH, 0, reason_code, props);
#else
    (void)buf, (void)cap, (void)reason_code, (void)props;
    return MOTE_ERR_UNSUPPORTED;
#endif
}

static int32_t empty_packet(uint8_t *buf, size_t cap, unsigned first)
{
    uint8_t *p = NULL;
    return begin(buf, cap, first, 0, 0, &p);
}

int32_t mote_mqtt_encode_pingreq(uint8_t *buf, size_t cap)
{
    return empty_packet(buf, cap, 0xC0u);
}

#if MOTE_MQTT_SERVER
int32_t mote_mqtt_encode_pingresp(uint8_t *buf, size_t cap)
{
    return empty_packet(buf, cap, 0xD0u);
}

#endif

/* ---- SUBSCRIBE, UNSUBSCRIBE ------------------------------------------------------- */

/* SUBSCRIBE and UNSUBSCRIBE share one walk: items is either the subscriptions (filter
 * first, then the options byte) or, with MOTE_WIRE_UNSUB in count, the bare filters.
 * mode: the protocol version | packet id << 8. */
#if defined(__GNUC__) || defined(__clang__)
__attribute__((always_inline)) /* the body of its one caller */
#endif
static inline int32_t sub_common(uint8_t *buf, size_t cap, unsigned mode, const void *items,
                          size_t count, const mote_mqtt_props_t *props)
{
    const mote_mqtt_version_t v = (mote_mqtt_version_t)(mode & 0xFFu);
    const bool sub = !(count & MOTE_WIRE_UNSUB);
    count &= ~MOTE_WIRE_UNSUB;
    if (!count || !items)
        return MOTE_ERR_BAD_ARG;
    if (!mote_wire_version_ok(v))
        return MOTE_ERR_UNSUPPORTED;
    if (!(mode >> 8))
        return MOTE_ERR_BAD_PACKET_ID;
    const bool v5 = MOTE_WIRE_IS_V5(v);
    const size_t stride = sub ? sizeof(mote_mqtt_subscription_t) : sizeof(mote_bytes_t);
    const uint8_t type = sub ? MOTE_MQTT_SUBSCRIBE : MOTE_MQTT_UNSUBSCRIBE;
    size_t rem = 2;
#if MOTE_MQTT_V5
    if (v5) {
        mote_err_t e = props_ok(*props, type);
        if (e)
            return e;
        rem += props_size(*props);
    }
#else
    (void)props;
#endif
    /* The filter is each item's first member (C11 6.7.2.1p15). */
    const size_t opt = offsetof(mote_mqtt_subscription_t, options);
    const uint8_t *const end = (const uint8_t *)items + count * stride;
    const uint8_t *it;
    for (it = items; it != end; it += stride) {
        const mote_bytes_t *f = (const mote_bytes_t *)(const void *)it;
        mote_err_t e = mote_mqtt_filter_validate(*f);
        if (!e && sub)
            e = mote_wire_sub_options_ok(f, it[opt], v5);
        if (e)
            return e;
        rem += 2 + f->len + sub;
        if (rem > MOTE_WIRE_VARINT_MAX)
            return MOTE_ERR_PACKET_TOO_LARGE;
    }
    uint8_t *p;
    int32_t n = begin(buf, cap, (unsigned)type << 4 | 2u, rem, 0, &p);
    if (n <= 0 || !buf)
        return n;
    p = mote_wire_put_u16(p, mode >> 8);
#if MOTE_MQTT_V5
    if (v5)
        p = put_props(p, *props);
#endif
    for (it = items; it != end; it += stride) {
        p = put_span(p, (const mote_bytes_t *)(const void *)it);
        if (sub)
            *p++ = it[opt];
    }
    return n;
}

int32_t mote_wire_sub_encode(uint8_t *buf, size_t cap, unsigned mode, const void *items,
                             size_t count, const mote_mqtt_props_t *props)
{
    return sub_common(buf, cap, mode, items, count, props);
}

/* The public forms: a version outside the byte or a count with the UNSUBSCRIBE bit cannot
 * be passed through the packed arguments (neither is valid anyway). */
static int32_t sub_public(uint8_t *buf, size_t cap, mote_mqtt_version_t v, uint16_t packet_id,
                          const void *items, size_t count, size_t unsub, mote_mqtt_props_t props)
{
    if ((unsigned)v >> 8)
        return MOTE_ERR_UNSUPPORTED;
    if (count & MOTE_WIRE_UNSUB)
        return MOTE_ERR_BAD_ARG;
    return mote_wire_sub_encode(buf, cap, (unsigned)v | (unsigned)packet_id << 8, items,
                                count | unsub, &props); /* (one caller of sub_common) */
}

int32_t mote_mqtt_encode_subscribe(uint8_t *buf, size_t cap, mote_mqtt_version_t v,
                                   uint16_t packet_id, const mote_mqtt_subscription_t *subs,
                                   size_t count, mote_mqtt_props_t props)
{
    return sub_public(buf, cap, v, packet_id, subs, count, 0, props);
}

int32_t mote_mqtt_encode_unsubscribe(uint8_t *buf, size_t cap, mote_mqtt_version_t v,
                                     uint16_t packet_id, const mote_bytes_t *filters,
                                     size_t count, mote_mqtt_props_t props)
{
    return sub_public(buf, cap, v, packet_id, filters, count, MOTE_WIRE_UNSUB, props);
}

/* ---- server side: CONNACK, SUBACK, UNSUBACK --------------------------------------- */

#if MOTE_MQTT_SERVER
int32_t mote_mqtt_encode_connack(uint8_t *buf, size_t cap, mote_mqtt_version_t v,
                                 const mote_mqtt_connack_t *c)
{
    if (!c)
        return MOTE_ERR_BAD_ARG;
    if (!mote_wire_version_ok(v))
        return MOTE_ERR_UNSUPPORTED;
    /* A refusal never claims a session (3.1.1 3.2.2.2, 5.0 3.2.2.1.1). */
    if (c->session_present && c->reason_code)
        return MOTE_ERR_BAD_FLAGS;
    size_t rem = 2;
    if (MOTE_WIRE_IS_V5(v)) {
#if MOTE_MQTT_V5
        if (!mote_wire_reason_ok(MOTE_MQTT_CONNACK, c->reason_code))
            return MOTE_ERR_BAD_REASON_CODE;
        mote_err_t e = props_ok(c->props, MOTE_MQTT_CONNACK);
        if (e)
            return e;
        rem += props_size(c->props);
#endif
    } else if (c->reason_code > 5) {
        return MOTE_ERR_BAD_REASON_CODE;
    }
    uint8_t *p;
    int32_t n = begin(buf, cap, 0x20u, rem, 0, &p);
    if (n <= 0 || !buf)
        return n;
    *p++ = c->session_present ? 1u : 0u;
    *p++ = c->reason_code;
#if MOTE_MQTT_V5
    if (MOTE_WIRE_IS_V5(v))
        put_props(p, c->props);
#endif
    return n;
}

#endif

#if MOTE_MQTT_SERVER
int32_t mote_mqtt_encode_suback(uint8_t *buf, size_t cap, mote_mqtt_version_t v, uint8_t type,
                                const mote_mqtt_suback_t *s)
{
    if (!s || (type != MOTE_MQTT_SUBACK && type != MOTE_MQTT_UNSUBACK))
        return MOTE_ERR_BAD_ARG;
    if (!mote_wire_version_ok(v))
        return MOTE_ERR_UNSUPPORTED;
    if (!s->packet_id)
        return MOTE_ERR_BAD_PACKET_ID;
    const bool v5 = MOTE_WIRE_IS_V5(v);
    /* A 3.1.1 UNSUBACK is the packet id alone. */
    size_t count = (v5 || type == MOTE_MQTT_SUBACK) ? s->count : 0;
    if ((v5 || type == MOTE_MQTT_SUBACK) && (!count || !s->reason_codes))
        return MOTE_ERR_BAD_ARG;
    if (count > MOTE_WIRE_VARINT_MAX)
        return MOTE_ERR_PACKET_TOO_LARGE;
    for (size_t i = 0; i < count; i++)
        if (!mote_wire_suback_code_ok(v, type, s->reason_codes[i]))
            return MOTE_ERR_BAD_REASON_CODE;
    size_t rem = 2 + count;
#if MOTE_MQTT_V5
    if (v5) {
        mote_err_t e = props_ok(s->props, type);
        if (e)
            return e;
        rem += props_size(s->props);
    }
#endif
    uint8_t *p;
    int32_t n = begin(buf, cap, (unsigned)type << 4, rem, 0, &p);
    if (n <= 0 || !buf)
        return n;
    p = mote_wire_put_u16(p, s->packet_id);
#if MOTE_MQTT_V5
    if (v5)
        p = put_props(p, s->props);
#endif
    put_raw(p, s->reason_codes, count);
    return n;
}
#endif
