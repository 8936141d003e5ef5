/* Private helpers shared by the MQTT codec files (mqtt_*.c); not a public header.
 * Byte order is big-endian on the wire (MQTT 3.1.1 1.5.2, 5.0 1.5.2). */
#ifndef MOTE_MQTT_WIRE_H
#define MOTE_MQTT_WIRE_H

#include <string.h>

#include "mote/mqtt_codec.h"

/* Slow paths kept out of line so the fast paths around them stay leaf functions. */
#if defined(__GNUC__) || defined(__clang__)
#define MOTE_WIRE_COLD __attribute__((noinline, cold))
#else
#define MOTE_WIRE_COLD
#endif
/* A hot path shared by several entry points: copied into each (size builds call it from
 * one entry point only, which the others go through). */
#if defined(__GNUC__) || defined(__clang__)
#define MOTE_WIRE_HOT static inline __attribute__((always_inline))
#else
#define MOTE_WIRE_HOT static
#endif

/* Largest value a variable byte integer can carry (four bytes of seven bits). */
#define MOTE_WIRE_VARINT_MAX 268435455u

/* Is v a protocol version this build was compiled with? */
static inline bool mote_wire_version_ok(mote_mqtt_version_t v)
{
    return (MOTE_MQTT_V5 && v == MOTE_MQTT_VERSION_5) ||
           (MOTE_MQTT_V311 && v == MOTE_MQTT_VERSION_311);
}

/* Is v MQTT 5? Constant when only one version is compiled in, so the other version's
 * branches fold away (that is what makes the single-version builds small). */
#if MOTE_MQTT_V5 && MOTE_MQTT_V311
#define MOTE_WIRE_IS_V5(v) ((v) == MOTE_MQTT_VERSION_5)
#elif MOTE_MQTT_V5
#define MOTE_WIRE_IS_V5(v) ((void)(v), 1)
#else
#define MOTE_WIRE_IS_V5(v) ((void)(v), 0)
#endif

static inline uint16_t mote_wire_get_u16(const uint8_t *p)
{
    return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static inline uint8_t *mote_wire_put_u16(uint8_t *p, size_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
    return p + 2;
}

/* Decode a variable byte integer from p (avail bytes). Returns its length (1..4), 0 when
 * avail ends inside it, -1 when it is longer than four bytes or not minimally encoded
 * (MQTT 5.0 1.5.5 requires the minimum number of bytes; we hold 3.1.1 peers to it too). */
int mote_wire_varint_get(const uint8_t *p, size_t avail, uint32_t *out);

/* Write v (<= MOTE_WIRE_VARINT_MAX) as a variable byte integer; returns the end. */
uint8_t *mote_wire_varint_put(uint8_t *p, uint32_t v);

/* mote_mqtt_decode_fixed_header with fewer outputs (the client's receive path): the header
 * length (2..5) with *remaining set, or the decoder's error. Type and flags are buf[0]'s
 * nibbles. */
int32_t mote_wire_fixed_header(const uint8_t *buf, size_t len, uint32_t *remaining);

/* Topic-name check without the empty/length rules: valid MQTT UTF-8, no '+' or '#'.
 * Returns MOTE_OK, MOTE_ERR_BAD_UTF8 or MOTE_ERR_BAD_TOPIC. */
mote_err_t mote_wire_topic_chars(const uint8_t *p, size_t len);

/* Word-at-a-time screening for the hot paths (PUBLISH encode/decode): most topics are
 * plain ASCII without wildcards, so test a machine word per step and leave the byte-wise
 * rules to mote_wire_topic_chars only when some byte needs a closer look. For each word
 * w, with t = (w | 0x08..) ^ 0x2B.. (which maps both '#' 0x23 and '+' 0x2B to 0):
 * the high bit of a byte of (w - 0x01..) | w | (t - 0x01..) is set exactly when a byte of
 * w is 0x00, >= 0x80, '#' or '+' (a borrow only ever starts at a zero byte, itself a hit).
 * The tail re-reads an overlapping last word instead of looping bytewise. */
#define MOTE_WIRE_ONES ((size_t)-1 / 0xFFu)
static inline size_t mote_wire_screen_word(const uint8_t *p)
{
    size_t w;
    memcpy(&w, p, sizeof w);
    size_t t = (w | MOTE_WIRE_ONES * 0x08u) ^ (MOTE_WIRE_ONES * 0x2Bu);
    return (w - MOTE_WIRE_ONES) | w | (t - MOTE_WIRE_ONES);
}

#if !defined(__OPTIMIZE_SIZE__) && (defined(__SSE2__) || defined(__ARM_NEON)) && \
    (defined(__GNUC__) || defined(__clang__))
/* With 16-byte vector registers (GNU vector extension) the test is a signed compare per
 * lane: a byte is suspicious when, read as signed, it is <= 0 (NUL or >= 0x80), or when
 * OR 0x08 turns it into '+' (so '#' or '+'). Suspicious lanes become 0xFF. */
#define MOTE_WIRE_VEC 1
typedef signed char mote_wire_v16 __attribute__((vector_size(16)));
typedef char mote_wire_c16 __attribute__((vector_size(16)));
static inline mote_wire_v16 mote_wire_screen_v16(const uint8_t *p)
{
    mote_wire_v16 w;
    memcpy(&w, p, sizeof w);
    return (mote_wire_v16)((w < 1) | ((w | 8) == 0x2B));
}

/* Nonzero when some lane of acc was flagged. */
static inline size_t mote_wire_v16_any(mote_wire_v16 acc)
{
#if defined(__SSE2__)
    return (size_t)__builtin_ia32_pmovmskb128((mote_wire_c16)acc);
#else
    size_t half[16 / sizeof(size_t)], any = 0;
    memcpy(half, &acc, sizeof half);
    for (size_t i = 0; i < sizeof half / sizeof half[0]; i++)
        any |= half[i];
    return any;
#endif
}

/* Screen len >= 16 bytes: the first and the last 16 (overlapping for short topics, so no
 * bytewise tail), then whatever lies between. Nonzero if a byte needs the byte-wise rules. */
static inline size_t mote_wire_screen_range(const uint8_t *p, size_t len)
{
    mote_wire_v16 acc = mote_wire_screen_v16(p) | mote_wire_screen_v16(p + len - 16);
    for (size_t i = 16; i + 16 < len; i += 16)
        acc |= mote_wire_screen_v16(p + i);
    return mote_wire_v16_any(acc);
}

/* The same while copying the bytes to dst. */
static inline size_t mote_wire_copy_screen(uint8_t *dst, const uint8_t *src, size_t len)
{
    mote_wire_v16 a, b, acc;
    memcpy(&a, src, 16);
    memcpy(&b, src + len - 16, 16);
    memcpy(dst, &a, 16);
    memcpy(dst + len - 16, &b, 16);
    acc = (mote_wire_v16)((a < 1) | ((a | 8) == 0x2B) | (b < 1) | ((b | 8) == 0x2B));
    for (size_t i = 16; i + 16 < len; i += 16) {
        memcpy(&a, src + i, 16);
        memcpy(dst + i, &a, 16);
        acc |= (mote_wire_v16)((a < 1) | ((a | 8) == 0x2B));
    }
    return mote_wire_v16_any(acc);
}
#endif

static inline mote_err_t mote_wire_topic_fast(const uint8_t *p, size_t len)
{
#if !defined(__OPTIMIZE_SIZE__)
    const size_t W = sizeof(size_t);
#if MOTE_WIRE_VEC
    if (len >= 16) {
        if (!mote_wire_screen_range(p, len))
            return MOTE_OK;
    } else
#endif
    if (len >= W) {
        size_t acc = mote_wire_screen_word(p + len - W);
        for (size_t i = 0; i + W < len; i += W)
            acc |= mote_wire_screen_word(p + i);
        if (!(acc & MOTE_WIRE_ONES * 0x80u))
            return MOTE_OK;
    }
#endif
    return mote_wire_topic_chars(p, len);
}

/* PUBLISH encoder modes: the protocol version in the low byte, plus these flags. */
#define MOTE_WIRE_PUB_PAYLOAD 0x100u /* copy the payload behind the header */
#define MOTE_WIRE_PUB_TRUSTED 0x200u /* fields and properties passed these checks in an
                                        earlier encode (a resend): only the topic is checked */

/* mote_mqtt_encode_publish_header for the client, with MOTE_WIRE_PUB_TRUSTED in mode
 * when wanted. (MOTE_WIRE_PUB_PAYLOAD is for the codec's own entry points, which size
 * builds route through here; the client never sets it.) */
int32_t mote_wire_publish_header(uint8_t *buf, size_t cap, const mote_mqtt_publish_t *p,
                                 unsigned mode);

/* Set in the item count of SUBSCRIBE encodes: the items are bare filters (mote_bytes_t,
 * UNSUBSCRIBE), not subscriptions. No real count reaches this bit (the items would not fit
 * in memory), so SUBSCRIBE and UNSUBSCRIBE share one path with one argument list. */
#define MOTE_WIRE_UNSUB ((size_t)1 << (sizeof(size_t) * 8u - 1u))

/* SUBSCRIBE or UNSUBSCRIBE (count | MOTE_WIRE_UNSUB) for the client: mode is the protocol
 * version | packet id << 8. */
int32_t mote_wire_sub_encode(uint8_t *buf, size_t cap, unsigned mode, const void *items,
                             size_t count, const mote_mqtt_props_t *props);

/* Does this span start a shared subscription ("$share/")? */
static inline bool mote_wire_is_shared(mote_bytes_t f)
{
    return f.len >= 7 && memcmp(f.ptr, "$share/", 7) == 0;
}

/* SUBSCRIBE options byte check (QoS, reserved bits, v5 retain handling, No Local on a
 * shared subscription). Returns MOTE_OK, MOTE_ERR_BAD_QOS or MOTE_ERR_BAD_FLAGS. */
static inline mote_err_t mote_wire_sub_options_ok(const mote_bytes_t *filter, unsigned o, bool v5)
{
    if ((o & 3u) == 3u)
        return MOTE_ERR_BAD_QOS;
    if (!MOTE_MQTT_V5 || !v5)
        return (o & ~3u) ? MOTE_ERR_BAD_FLAGS : MOTE_OK;
    /* Reserved bits 6-7, retain handling 3, and No Local on a shared subscription
     * (5.0 3.8.3.1) are all errors. */
    if ((o & 0xC0u) || (o & 0x30u) == 0x30u ||
        ((o & MOTE_SUB_NO_LOCAL) && mote_wire_is_shared(*filter)))
        return MOTE_ERR_BAD_FLAGS;
    return MOTE_OK;
}

#if MOTE_MQTT_V5
/* Is code a valid v5 reason code for this packet type (CONNACK, PUBACK..PUBCOMP, SUBACK,
 * UNSUBACK, DISCONNECT, AUTH)? */
bool mote_wire_reason_ok(uint8_t type, uint8_t code);
#endif

/* Is rc a valid SUBACK (or UNSUBACK) reason/return code for version v? Inline: the 3.1.1
 * rule is one comparison. */
static inline bool mote_wire_suback_code_ok(mote_mqtt_version_t v, uint8_t type, uint8_t rc)
{
#if MOTE_MQTT_V5
    if (MOTE_WIRE_IS_V5(v))
        return mote_wire_reason_ok(type, rc);
#endif
    (void)v, (void)type;
    return rc <= 2 || rc == 0x80u; /* 3.1.1 3.9.3 */
}

#if MOTE_MQTT_V5
/* Property sets by packet: the packet type (1..15), or this value for will properties. */
#define MOTE_WIRE_WILL 0u

/* Validate encoded properties for one packet kind: known ids, each value's type and range,
 * allowed in this packet, no forbidden duplicates, UTF-8 strings well formed.
 * Returns MOTE_OK, MOTE_ERR_MALFORMED (truncated), MOTE_ERR_BAD_PROPERTY,
 * MOTE_ERR_DUP_PROPERTY or MOTE_ERR_BAD_UTF8. *alias (may be NULL) receives the topic
 * alias on success (0: none), so callers need no second walk for it. */
mote_err_t mote_wire_props_check(const uint8_t *p, size_t len, uint8_t kind, uint16_t *alias);

/* The topic alias among properties already validated (0: none). A leaf: no property
 * record, no calls. */
uint16_t mote_wire_topic_alias(const uint8_t *p, size_t len);
#endif

#endif
