/* MQTT 5 properties (5.0 2.2.2): the table of identifiers, validation per packet type,
 * iteration over validated properties, and a builder for outgoing ones. */
#include "mqtt_wire.h"

#if MOTE_MQTT_V5
/* Value types (5.0 1.5). */
enum { T_NONE, T_BYTE, T_U16, T_U32, T_VARINT, T_STR, T_BIN, T_PAIR };

/* Which packets a property may appear in: one bit per packet type, bit 0 for will
 * properties. Properties share a few sets, so each id stores a set number. */
#define B(t) (1u << (t))
static const uint16_t prop_sets[] = {
    0,
    B(MOTE_WIRE_WILL) | B(MOTE_MQTT_PUBLISH),
    B(MOTE_MQTT_PUBLISH) | B(MOTE_MQTT_SUBSCRIBE),
    B(MOTE_MQTT_CONNECT) | B(MOTE_MQTT_CONNACK) | B(MOTE_MQTT_DISCONNECT),
    B(MOTE_MQTT_CONNACK),
    B(MOTE_MQTT_CONNECT) | B(MOTE_MQTT_CONNACK) | B(MOTE_MQTT_AUTH),
    B(MOTE_MQTT_CONNECT),
    B(MOTE_WIRE_WILL),
    B(MOTE_MQTT_CONNACK) | B(MOTE_MQTT_DISCONNECT),
    B(MOTE_MQTT_CONNACK) | B(MOTE_MQTT_PUBACK) | B(MOTE_MQTT_PUBREC) | B(MOTE_MQTT_PUBREL) |
        B(MOTE_MQTT_PUBCOMP) | B(MOTE_MQTT_SUBACK) | B(MOTE_MQTT_UNSUBACK) |
        B(MOTE_MQTT_DISCONNECT) | B(MOTE_MQTT_AUTH),
    B(MOTE_MQTT_CONNECT) | B(MOTE_MQTT_CONNACK),
    B(MOTE_MQTT_PUBLISH),
    0xFFFFu & ~(B(MOTE_MQTT_PINGREQ) | B(MOTE_MQTT_PINGRESP)),
};
#undef B

/* One byte per id 0x00..0x2A: type in bits 0-2, set number in bits 3-6, bit 7 "must not
 * be zero". Every byte-typed property is a 0/1 flag, which is checked by type. */
#define P(type, set, nonzero) (uint8_t)((type) | (set) << 3 | (nonzero) << 7)
static const uint8_t prop_table[0x2B] = {
    [MOTE_PROP_PAYLOAD_FORMAT] = P(T_BYTE, 1, 0),
    [MOTE_PROP_MESSAGE_EXPIRY] = P(T_U32, 1, 0),
    [MOTE_PROP_CONTENT_TYPE] = P(T_STR, 1, 0),
    [MOTE_PROP_RESPONSE_TOPIC] = P(T_STR, 1, 0),
    [MOTE_PROP_CORRELATION_DATA] = P(T_BIN, 1, 0),
    [MOTE_PROP_SUBSCRIPTION_ID] = P(T_VARINT, 2, 1),
    [MOTE_PROP_SESSION_EXPIRY] = P(T_U32, 3, 0),
    [MOTE_PROP_ASSIGNED_CLIENT_ID] = P(T_STR, 4, 0),
    [MOTE_PROP_SERVER_KEEP_ALIVE] = P(T_U16, 4, 0),
    [MOTE_PROP_AUTH_METHOD] = P(T_STR, 5, 0),
    [MOTE_PROP_AUTH_DATA] = P(T_BIN, 5, 0),
    [MOTE_PROP_REQUEST_PROBLEM_INFO] = P(T_BYTE, 6, 0),
    [MOTE_PROP_WILL_DELAY] = P(T_U32, 7, 0),
    [MOTE_PROP_REQUEST_RESPONSE_INFO] = P(T_BYTE, 6, 0),
    [MOTE_PROP_RESPONSE_INFO] = P(T_STR, 4, 0),
    [MOTE_PROP_SERVER_REFERENCE] = P(T_STR, 8, 0),
    [MOTE_PROP_REASON_STRING] = P(T_STR, 9, 0),
    [MOTE_PROP_RECEIVE_MAXIMUM] = P(T_U16, 10, 1),
    [MOTE_PROP_TOPIC_ALIAS_MAXIMUM] = P(T_U16, 10, 0),
    [MOTE_PROP_TOPIC_ALIAS] = P(T_U16, 11, 1),
    [MOTE_PROP_MAXIMUM_QOS] = P(T_BYTE, 4, 0),
    [MOTE_PROP_RETAIN_AVAILABLE] = P(T_BYTE, 4, 0),
    [MOTE_PROP_USER_PROPERTY] = P(T_PAIR, 12, 0),
    [MOTE_PROP_MAXIMUM_PACKET_SIZE] = P(T_U32, 10, 1),
    [MOTE_PROP_WILDCARD_SUB_AVAILABLE] = P(T_BYTE, 4, 0),
    [MOTE_PROP_SUB_ID_AVAILABLE] = P(T_BYTE, 4, 0),
    [MOTE_PROP_SHARED_SUB_AVAILABLE] = P(T_BYTE, 4, 0),
};
#undef P

static unsigned prop_type(uint8_t id)
{
    return id < sizeof prop_table ? prop_table[id] & 7u : T_NONE;
}

/* Read a two-byte length and that many bytes. Returns bytes used or 0 if truncated. */
static size_t take_bytes(const uint8_t *p, size_t avail, mote_bytes_t *out)
{
    if (avail < 2)
        return 0;
    size_t n = mote_wire_get_u16(p);
    if (avail - 2 < n)
        return 0;
    out->ptr = p + 2;
    out->len = n;
    return n + 2;
}

/* Parse one property at p. Returns its encoded length, MOTE_ERR_MALFORMED when it is
 * truncated, MOTE_ERR_BAD_PROPERTY for an unknown id. Values are not range-checked here. */
static int parse_one(const uint8_t *p, size_t avail, mote_mqtt_prop_t *out)
{
    uint8_t id = p[0];
    unsigned type = prop_type(id);
    size_t used = 1, n;
    const uint8_t *v = p + 1;
    avail--;
    out->id = id;
    out->u32 = 0;
    out->key.ptr = out->value.ptr = NULL;
    out->key.len = out->value.len = 0;
    switch (type) {
    case T_BYTE:
        if (avail < 1)
            return MOTE_ERR_MALFORMED;
        out->u32 = v[0];
        used += 1;
        break;
    case T_U16:
        if (avail < 2)
            return MOTE_ERR_MALFORMED;
        out->u32 = mote_wire_get_u16(v);
        used += 2;
        break;
    case T_U32:
        if (avail < 4)
            return MOTE_ERR_MALFORMED;
        out->u32 = (uint32_t)v[0] << 24 | (uint32_t)v[1] << 16 | (uint32_t)v[2] << 8 | v[3];
        used += 4;
        break;
    case T_VARINT: {
        int k = mote_wire_varint_get(v, avail, &out->u32);
        if (k <= 0)
            return MOTE_ERR_MALFORMED;
        used += (size_t)k;
        break;
    }
    case T_PAIR:
        n = take_bytes(v, avail, &out->key);
        if (!n)
            return MOTE_ERR_MALFORMED;
        used += n;
        v += n;
        avail -= n;
        /* fall through */
    case T_STR:
    case T_BIN:
        n = take_bytes(v, avail, &out->value);
        if (!n)
            return MOTE_ERR_MALFORMED;
        used += n;
        break;
    default:
        return MOTE_ERR_BAD_PROPERTY;
    }
    return (int)used;
}

/* The parse is written out here rather than through parse_one, and the only calls are to
 * the UTF-8 check: this sits under the client's receive path, whose stack depth the
 * process step pays for, so it keeps one small frame and no property record. */
mote_err_t mote_wire_props_check(const uint8_t *p, size_t len, uint8_t kind, uint16_t *alias)
{
    const uint8_t *const end = p + len;
    const unsigned kbit = 1u << kind;
    uint32_t seen[2] = { 0, 0 }; /* ids 0..0x2A: two words keep it in registers */
    uint16_t ta = 0;
    if (len > MOTE_WIRE_VARINT_MAX)
        return MOTE_ERR_BAD_PROPERTY;
    while (p < end) {
        const uint8_t id = *p++;
        const uint8_t *const v = p;
        const unsigned info = id < sizeof prop_table ? prop_table[id] : 0, type = info & 7u;
        uint32_t u = 0;
        size_t k;
        switch (type) {
        case T_BYTE:
        case T_U16:
        case T_U32:
            k = type == T_U32 ? 4u : type;
            if ((size_t)(end - p) < k)
                return MOTE_ERR_MALFORMED;
            while (k--)
                u = u << 8 | *p++;
            break;
        case T_VARINT:
            /* up to four bytes, the last without the continuation bit, and no trailing
             * zero group (the shortest form, 5.0 1.5.5) */
            for (k = 0;; k++) {
                if (k == 4 || p == end)
                    return MOTE_ERR_MALFORMED;
                u |= (uint32_t)(*p & 0x7Fu) << (7 * k);
                if (!(*p++ & 0x80u))
                    break;
            }
            if (k && !p[-1])
                return MOTE_ERR_MALFORMED;
            break;
        case T_STR:
        case T_BIN:
        case T_PAIR:
            /* one length-prefixed span, or two for a pair */
            for (k = type == T_PAIR ? 2u : 1u; k != 0; k--) {
                if (end - p < 2 || (size_t)(end - p) - 2 < mote_wire_get_u16(p))
                    return MOTE_ERR_MALFORMED;
                p += 2u + mote_wire_get_u16(p);
            }
            break;
        default:
            return MOTE_ERR_BAD_PROPERTY;
        }
        if (!(prop_sets[info >> 3 & 15u] & kbit))
            return MOTE_ERR_BAD_PROPERTY;
        if ((seen[id >> 5] >> (id & 31u) & 1u) && id != MOTE_PROP_USER_PROPERTY &&
            !(id == MOTE_PROP_SUBSCRIPTION_ID && kbit == 1u << MOTE_MQTT_PUBLISH))
            return MOTE_ERR_DUP_PROPERTY;
        seen[id >> 5] |= 1u << (id & 31u);
        if (type == T_BYTE && u > 1)
            return MOTE_ERR_BAD_PROPERTY;
        if (type == T_STR || type == T_PAIR) {
            const uint8_t *s = v;
            size_t n = mote_wire_get_u16(s);
            if (type == T_PAIR) {
                if (!mote_mqtt_utf8_valid(s + 2, n))
                    return MOTE_ERR_BAD_UTF8;
                s += 2 + n;
                n = mote_wire_get_u16(s);
            }
            s += 2;
            if (id == MOTE_PROP_RESPONSE_TOPIC) {
                /* A response topic is a topic name: not empty, no wildcards. */
                if (n == 0)
                    return MOTE_ERR_BAD_PROPERTY;
                for (k = 0; k < n; k++)
                    if (s[k] == '+' || s[k] == '#')
                        return MOTE_ERR_BAD_PROPERTY;
            }
            if (!mote_mqtt_utf8_valid(s, n))
                return MOTE_ERR_BAD_UTF8;
        }
        if ((info & 0x80u) && u == 0)
            return MOTE_ERR_BAD_PROPERTY;
        if (id == MOTE_PROP_TOPIC_ALIAS)
            ta = (uint16_t)u;
    }
    /* Authentication data without a method is a protocol error (5.0 3.1.2.11.10), and so
     * is an AUTH without a method (3.15.2.2.2; only its short form, reason 0 without
     * properties, has none: a length of 0 here, left to the callers). */
    if (!(seen[0] >> MOTE_PROP_AUTH_METHOD & 1u) &&
        ((seen[0] >> MOTE_PROP_AUTH_DATA & 1u) || (kind == MOTE_MQTT_AUTH && len)))
        return MOTE_ERR_BAD_PROPERTY;
    if (alias)
        *alias = ta;
    return MOTE_OK;
}

uint16_t mote_wire_topic_alias(const uint8_t *p, size_t len)
{
    size_t i = 0;
    while (i < len) {
        const uint8_t id = p[i++];
        size_t n;
        switch (prop_type(id)) {
        case T_BYTE:
            n = 1;
            break;
        case T_U16:
            if (id == MOTE_PROP_TOPIC_ALIAS)
                return len - i >= 2 ? mote_wire_get_u16(p + i) : 0;
            n = 2;
            break;
        case T_U32:
            n = 4;
            break;
        case T_VARINT:
            for (n = 1; n < 4 && i + n <= len && (p[i + n - 1] & 0x80u); n++) {
            }
            break;
        case T_PAIR:
            if (len - i < 2)
                return 0;
            i += 2u + mote_wire_get_u16(p + i);
            /* fall through */
        case T_STR:
        case T_BIN:
            if (i > len || len - i < 2)
                return 0;
            n = 2u + mote_wire_get_u16(p + i);
            break;
        default:
            return 0;
        }
        if (n > len - i)
            return 0;
        i += n;
    }
    return 0;
}

bool mote_mqtt_prop_next(mote_mqtt_props_t props, size_t *cursor, mote_mqtt_prop_t *out)
{
    if (!cursor || !out || !props.ptr || *cursor >= props.len)
        return false;
    int n = parse_one(props.ptr + *cursor, props.len - *cursor, out);
    if (n <= 0)
        return false;
    *cursor += (size_t)n;
    return true;
}

bool mote_mqtt_prop_find(mote_mqtt_props_t props, uint8_t id, mote_mqtt_prop_t *out)
{
    /* Its own walk rather than calls to mote_mqtt_prop_next: one frame less under the
     * receive path (topic aliases). */
    size_t cur = 0;
    if (!out || !props.ptr)
        return false;
    while (cur < props.len) {
        int n = parse_one(props.ptr + cur, props.len - cur, out);
        if (n <= 0)
            return false;
        if (out->id == id)
            return true;
        cur += (size_t)n;
    }
    return false;
}

void mote_mqtt_props_init(mote_mqtt_props_builder_t *b, uint8_t *buf, size_t cap)
{
    b->buf = buf;
    b->cap = buf ? cap : 0;
    b->len = 0;
}

/* Reserve n bytes at the end of the builder, or NULL if they do not fit. */
static uint8_t *reserve(mote_mqtt_props_builder_t *b, size_t n)
{
    if (!b || b->cap - b->len < n || b->len + n > MOTE_WIRE_VARINT_MAX)
        return NULL;
    uint8_t *p = b->buf + b->len;
    b->len += n;
    return p;
}

mote_err_t mote_mqtt_props_add_int(mote_mqtt_props_builder_t *b, uint8_t id, uint32_t value)
{
    static const uint8_t sizes[] = { 0, 1, 2, 4 };
    unsigned type = prop_type(id);
    size_t n;
    if (type == T_VARINT) {
        n = mote_mqtt_varint_size(value);
        if (!n)
            return MOTE_ERR_BAD_ARG;
    } else if (type >= T_BYTE && type <= T_U32) {
        n = sizes[type];
        if (n < 4 && value >> (8 * n))
            return MOTE_ERR_BAD_ARG;
    } else {
        return MOTE_ERR_BAD_ARG;
    }
    uint8_t *p = reserve(b, 1 + n);
    if (!p)
        return b ? MOTE_ERR_BUFFER_TOO_SMALL : MOTE_ERR_BAD_ARG;
    *p++ = id;
    if (type == T_VARINT) {
        mote_wire_varint_put(p, value);
    } else {
        while (n--) /* big-endian */
            *p++ = (uint8_t)(value >> (8 * n));
    }
    return MOTE_OK;
}

/* Append length-prefixed byte strings after an id: one (string, binary) or two (pair). */
static mote_err_t add_spans(mote_mqtt_props_builder_t *b, uint8_t id, const mote_bytes_t *s,
                            size_t count, bool utf8)
{
    size_t total = 1;
    for (size_t i = 0; i < count; i++) {
        if (s[i].len > 65535u || (s[i].len && !s[i].ptr))
            return MOTE_ERR_BAD_ARG;
        if (utf8 && !mote_mqtt_utf8_valid(s[i].ptr, s[i].len))
            return MOTE_ERR_BAD_UTF8;
        total += 2 + s[i].len;
    }
    uint8_t *p = reserve(b, total);
    if (!p)
        return b ? MOTE_ERR_BUFFER_TOO_SMALL : MOTE_ERR_BAD_ARG;
    *p++ = id;
    for (size_t i = 0; i < count; i++) {
        p = mote_wire_put_u16(p, s[i].len);
        if (s[i].len)
            memcpy(p, s[i].ptr, s[i].len);
        p += s[i].len;
    }
    return MOTE_OK;
}

mote_err_t mote_mqtt_props_add_bytes(mote_mqtt_props_builder_t *b, uint8_t id, mote_bytes_t value)
{
    unsigned type = prop_type(id);
    if (type != T_STR && type != T_BIN)
        return MOTE_ERR_BAD_ARG;
    return add_spans(b, id, &value, 1, type == T_STR);
}

mote_err_t mote_mqtt_props_add_user(mote_mqtt_props_builder_t *b, mote_bytes_t key, mote_bytes_t value)
{
    mote_bytes_t kv[2] = { key, value };
    return add_spans(b, MOTE_PROP_USER_PROPERTY, kv, 2, true);
}

mote_mqtt_props_t mote_mqtt_props_view(const mote_mqtt_props_builder_t *b)
{
    mote_mqtt_props_t v = { b ? b->buf : NULL, b ? b->len : 0 };
    return v;
}
#endif
