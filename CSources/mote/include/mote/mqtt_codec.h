/* MQTT 3.1.1 and 5.0 packet codec: pure functions over caller buffers.
 * No I/O, no clock, no allocation, no global state. Every decoder validates every field
 * and returns a specific mote_err_t for malformed input; the decoded structures point
 * into the caller's input buffer (zero copy), so that buffer must outlive them.
 * Output pointers (and input pointers with a non-zero length) must be valid; the codec
 * never reads or writes outside the spans and capacities it is given. */
#ifndef MOTE_MQTT_CODEC_H
#define MOTE_MQTT_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mote/config.h"
#include "mote/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A byte span in caller memory. Topics and strings are spans too (not NUL-terminated). */
typedef struct mote_bytes {
    const uint8_t *ptr;
    size_t len;
} mote_bytes_t;

/* Span of a C string literal: MOTE_STR("a/b"). */
#define MOTE_STR(s) ((mote_bytes_t){ (const uint8_t *)(s), sizeof(s) - 1u })
mote_bytes_t mote_bytes_cstr(const char *s); /* NULL gives {NULL, 0} */

/* Protocol level on the wire. (MOTE_MQTT_V5 / MOTE_MQTT_V311 are the 0/1 build options of
 * config.h, so the version values carry their own names.) */
typedef enum mote_mqtt_version {
    MOTE_MQTT_VERSION_311 = 4,
    MOTE_MQTT_VERSION_5 = 5
} mote_mqtt_version_t;

typedef enum mote_mqtt_packet_type {
    MOTE_MQTT_CONNECT = 1,
    MOTE_MQTT_CONNACK = 2,
    MOTE_MQTT_PUBLISH = 3,
    MOTE_MQTT_PUBACK = 4,
    MOTE_MQTT_PUBREC = 5,
    MOTE_MQTT_PUBREL = 6,
    MOTE_MQTT_PUBCOMP = 7,
    MOTE_MQTT_SUBSCRIBE = 8,
    MOTE_MQTT_SUBACK = 9,
    MOTE_MQTT_UNSUBSCRIBE = 10,
    MOTE_MQTT_UNSUBACK = 11,
    MOTE_MQTT_PINGREQ = 12,
    MOTE_MQTT_PINGRESP = 13,
    MOTE_MQTT_DISCONNECT = 14,
    MOTE_MQTT_AUTH = 15
} mote_mqtt_packet_type_t;

/* v5 property identifiers (MQTT 5.0 section 2.2.2.2). */
typedef enum mote_mqtt_prop_id {
    MOTE_PROP_PAYLOAD_FORMAT = 0x01,
    MOTE_PROP_MESSAGE_EXPIRY = 0x02,
    MOTE_PROP_CONTENT_TYPE = 0x03,
    MOTE_PROP_RESPONSE_TOPIC = 0x08,
    MOTE_PROP_CORRELATION_DATA = 0x09,
    MOTE_PROP_SUBSCRIPTION_ID = 0x0B,
    MOTE_PROP_SESSION_EXPIRY = 0x11,
    MOTE_PROP_ASSIGNED_CLIENT_ID = 0x12,
    MOTE_PROP_SERVER_KEEP_ALIVE = 0x13,
    MOTE_PROP_AUTH_METHOD = 0x15,
    MOTE_PROP_AUTH_DATA = 0x16,
    MOTE_PROP_REQUEST_PROBLEM_INFO = 0x17,
    MOTE_PROP_WILL_DELAY = 0x18,
    MOTE_PROP_REQUEST_RESPONSE_INFO = 0x19,
    MOTE_PROP_RESPONSE_INFO = 0x1A,
    MOTE_PROP_SERVER_REFERENCE = 0x1C,
    MOTE_PROP_REASON_STRING = 0x1F,
    MOTE_PROP_RECEIVE_MAXIMUM = 0x21,
    MOTE_PROP_TOPIC_ALIAS_MAXIMUM = 0x22,
    MOTE_PROP_TOPIC_ALIAS = 0x23,
    MOTE_PROP_MAXIMUM_QOS = 0x24,
    MOTE_PROP_RETAIN_AVAILABLE = 0x25,
    MOTE_PROP_USER_PROPERTY = 0x26,
    MOTE_PROP_MAXIMUM_PACKET_SIZE = 0x27,
    MOTE_PROP_WILDCARD_SUB_AVAILABLE = 0x28,
    MOTE_PROP_SUB_ID_AVAILABLE = 0x29,
    MOTE_PROP_SHARED_SUB_AVAILABLE = 0x2A
} mote_mqtt_prop_id_t;

/* One decoded property. Which members are meaningful depends on the id's data type:
 * byte, two-byte and four-byte integers and variable byte integers -> u32;
 * UTF-8 string and binary data -> value; UTF-8 string pair (user property) -> key + value. */
typedef struct mote_mqtt_prop {
    uint8_t id;
    uint32_t u32;
    mote_bytes_t key;
    mote_bytes_t value;
} mote_mqtt_prop_t;

/* Properties are carried as their encoded bytes (without the leading length). Decoders
 * validate them once; iterate them with mote_mqtt_prop_next. */
typedef struct mote_mqtt_props {
    const uint8_t *ptr;
    size_t len;
} mote_mqtt_props_t;

#if MOTE_MQTT_V5
/* Iterate validated properties: init the cursor to 0, then call until it returns false. */
bool mote_mqtt_prop_next(mote_mqtt_props_t props, size_t *cursor, mote_mqtt_prop_t *out);
/* Find the first property with this id. */
bool mote_mqtt_prop_find(mote_mqtt_props_t props, uint8_t id, mote_mqtt_prop_t *out);
#endif

/* Building properties for outgoing packets into a caller buffer. Each add returns MOTE_OK or
 * MOTE_ERR_BUFFER_TOO_SMALL / MOTE_ERR_BAD_ARG (wrong type for the id). The result
 * (builder.buf, builder.len) is passed as a mote_mqtt_props_t to the encoders. */
typedef struct mote_mqtt_props_builder {
    uint8_t *buf;
    size_t cap;
    size_t len;
} mote_mqtt_props_builder_t;

#if MOTE_MQTT_V5
void mote_mqtt_props_init(mote_mqtt_props_builder_t *b, uint8_t *buf, size_t cap);
mote_err_t mote_mqtt_props_add_int(mote_mqtt_props_builder_t *b, uint8_t id, uint32_t value);
mote_err_t mote_mqtt_props_add_bytes(mote_mqtt_props_builder_t *b, uint8_t id, mote_bytes_t value);
mote_err_t mote_mqtt_props_add_user(mote_mqtt_props_builder_t *b, mote_bytes_t key, mote_bytes_t value);
mote_mqtt_props_t mote_mqtt_props_view(const mote_mqtt_props_builder_t *b);
#else
/* 3.1.1-only build (MOTE_MQTT_V5=0): properties do not exist. The calls stay so that code
 * written for both versions still compiles, but they are constant answers here (nothing
 * found, MOTE_ERR_UNSUPPORTED, an empty view): the library carries no code for them. */
static inline bool mote_mqtt_prop_next(mote_mqtt_props_t props, size_t *cursor,
                                       mote_mqtt_prop_t *out)
{
    const mote_mqtt_prop_t none = { 0, 0, { NULL, 0 }, { NULL, 0 } };
    (void)props, (void)cursor;
    *out = none;
    return false;
}

static inline bool mote_mqtt_prop_find(mote_mqtt_props_t props, uint8_t id, mote_mqtt_prop_t *out)
{
    (void)id;
    return mote_mqtt_prop_next(props, NULL, out);
}

static inline void mote_mqtt_props_init(mote_mqtt_props_builder_t *b, uint8_t *buf, size_t cap)
{
    b->buf = buf;
    b->cap = cap;
    b->len = 0;
}

static inline mote_err_t mote_mqtt_props_add_int(mote_mqtt_props_builder_t *b, uint8_t id,
                                                 uint32_t value)
{
    (void)b, (void)id, (void)value;
    return MOTE_ERR_UNSUPPORTED;
}

static inline mote_err_t mote_mqtt_props_add_bytes(mote_mqtt_props_builder_t *b, uint8_t id,
                                                   mote_bytes_t value)
{
    (void)b, (void)id, (void)value;
    return MOTE_ERR_UNSUPPORTED;
}

static inline mote_err_t mote_mqtt_props_add_user(mote_mqtt_props_builder_t *b, mote_bytes_t key,
                                                  mote_bytes_t value)
{
    (void)b, (void)key, (void)value;
    return MOTE_ERR_UNSUPPORTED;
}

static inline mote_mqtt_props_t mote_mqtt_props_view(const mote_mqtt_props_builder_t *b)
{
    mote_mqtt_props_t v = { NULL, 0 };
    (void)b;
    return v;
}
#endif

/* ---- Fixed header ---------------------------------------------------------------- */

/* Parse a fixed header from the start of buf. On MOTE_OK: *type, *flags (low nibble),
 * *remaining and *header_len are set (they may also be written on failure).
 * MOTE_ERR_NEED_MORE when buf ends inside the header; MOTE_ERR_BAD_REMAINING_LENGTH for a
 * length longer than four bytes or not in its shortest form, and for PINGREQ/PINGRESP with
 * a body; MOTE_ERR_BAD_PACKET_TYPE for type 0 (AUTH in a 3.1.1 session is refused by
 * mote_mqtt_decode_disconnect); MOTE_ERR_BAD_FLAGS when the reserved flag bits are wrong for
 * the type; MOTE_ERR_BAD_QOS for a PUBLISH with QoS 3. All pointers must be valid. */
mote_err_t mote_mqtt_decode_fixed_header(const uint8_t *buf, size_t len, uint8_t *type,
                                         uint8_t *flags, uint32_t *remaining, size_t *header_len);

/* Size of a variable byte integer (1..4), 0 if value > 268,435,455. */
size_t mote_mqtt_varint_size(uint32_t value);

/* ---- Packets ----------------------------------------------------------------------- */

typedef struct mote_mqtt_will {
    mote_bytes_t topic;
    mote_bytes_t payload;
    uint8_t qos;
    bool retain;
    mote_mqtt_props_t props; /* v5 will properties */
} mote_mqtt_will_t;

typedef struct mote_mqtt_connect {
    mote_mqtt_version_t version;
    bool clean_start;
    uint16_t keep_alive_s;
    mote_bytes_t client_id;       /* empty in 3.1.1: only with clean_start (MOTE_ERR_BAD_ARG) */
    const mote_mqtt_will_t *will; /* NULL: no will */
    mote_bytes_t username;        /* ptr NULL: absent */
    mote_bytes_t password;        /* ptr NULL: absent */
    mote_mqtt_props_t props;      /* v5 CONNECT properties */
} mote_mqtt_connect_t;

typedef struct mote_mqtt_connack {
    bool session_present;
    uint8_t reason_code; /* v3.1.1 return code (0..5) or v5 reason code */
    mote_mqtt_props_t props;
} mote_mqtt_connack_t;

typedef struct mote_mqtt_publish {
    mote_bytes_t topic;  /* may be empty in v5 when a topic alias is set in props */
    mote_bytes_t payload;
    uint8_t qos;
    bool retain;
    bool dup;
    uint16_t packet_id;  /* QoS 1 and 2 only */
    mote_mqtt_props_t props;
} mote_mqtt_publish_t;

/* PUBACK, PUBREC, PUBREL, PUBCOMP, and (without packet id) DISCONNECT and AUTH. */
typedef struct mote_mqtt_ack {
    uint16_t packet_id;
    uint8_t reason_code; /* 0 when absent */
    mote_mqtt_props_t props;
} mote_mqtt_ack_t;

/* Subscription options byte: QoS in bits 0-1, v5 flags above. */
#define MOTE_SUB_NO_LOCAL 0x04u
#define MOTE_SUB_RETAIN_AS_PUBLISHED 0x08u
#define MOTE_SUB_RETAIN_SEND_ON_SUBSCRIBE 0x00u
#define MOTE_SUB_RETAIN_SEND_IF_NEW 0x10u
#define MOTE_SUB_RETAIN_DO_NOT_SEND 0x20u

typedef struct mote_mqtt_subscription {
    mote_bytes_t filter;
    uint8_t options; /* QoS | v5 flags */
} mote_mqtt_subscription_t;

/* SUBACK / UNSUBACK: one reason code per filter, pointing into the input buffer. */
typedef struct mote_mqtt_suback {
    uint16_t packet_id;
    const uint8_t *reason_codes;
    size_t count;
    mote_mqtt_props_t props;
} mote_mqtt_suback_t;

/* Encoders: write one complete packet into buf. Return the packet length (> 0) or a
 * negative mote_err_t (MOTE_ERR_BUFFER_TOO_SMALL when cap is too small; validation errors
 * for bad topics, QoS, packet ids, strings, v5 properties not allowed in the packet or
 * repeated, reason codes not valid for the packet). With buf NULL they validate and return
 * the length they would write, so callers can size buffers (mote_mqtt_publish_size is the
 * same for PUBLISH, returning 0 on invalid input). On error buf's contents are unspecified.
 * v5 properties are ignored in 3.1.1. They never allocate and never read past the spans
 * they are given. */
int32_t mote_mqtt_encode_connect(uint8_t *buf, size_t cap, const mote_mqtt_connect_t *c);
int32_t mote_mqtt_encode_publish(uint8_t *buf, size_t cap, mote_mqtt_version_t v,
                                 const mote_mqtt_publish_t *p);
/* Encode only the PUBLISH fixed header, variable header and properties (everything before
 * the payload), for gathered writes that send the payload from caller memory. */
int32_t mote_mqtt_encode_publish_header(uint8_t *buf, size_t cap, mote_mqtt_version_t v,
                                        const mote_mqtt_publish_t *p);
/* type: PUBACK, PUBREC, PUBREL, PUBCOMP. In v5 the reason code and properties are omitted
 * when the code is 0 and there are no properties (the short form). */
int32_t mote_mqtt_encode_ack(uint8_t *buf, size_t cap, mote_mqtt_version_t v, uint8_t type,
                             const mote_mqtt_ack_t *a);
int32_t mote_mqtt_encode_subscribe(uint8_t *buf, size_t cap, mote_mqtt_version_t v,
                                   uint16_t packet_id, const mote_mqtt_subscription_t *subs,
                                   size_t count, mote_mqtt_props_t props);
int32_t mote_mqtt_encode_unsubscribe(uint8_t *buf, size_t cap, mote_mqtt_version_t v,
                                     uint16_t packet_id, const mote_bytes_t *filters,
                                     size_t count, mote_mqtt_props_t props);
int32_t mote_mqtt_encode_pingreq(uint8_t *buf, size_t cap);
int32_t mote_mqtt_encode_disconnect(uint8_t *buf, size_t cap, mote_mqtt_version_t v,
                                    uint8_t reason_code, mote_mqtt_props_t props);
int32_t mote_mqtt_encode_auth(uint8_t *buf, size_t cap, uint8_t reason_code,
                              mote_mqtt_props_t props);
#if MOTE_MQTT_SERVER
/* Server-side packets (used by tests, fake brokers and the local cloud stand-in; build
 * option MOTE_MQTT_SERVER, see config.h). */
int32_t mote_mqtt_encode_connack(uint8_t *buf, size_t cap, mote_mqtt_version_t v,
                                 const mote_mqtt_connack_t *c);
int32_t mote_mqtt_encode_suback(uint8_t *buf, size_t cap, mote_mqtt_version_t v, uint8_t type,
                                const mote_mqtt_suback_t *s); /* type SUBACK or UNSUBACK */
int32_t mote_mqtt_encode_pingresp(uint8_t *buf, size_t cap);
#endif

size_t mote_mqtt_publish_size(mote_mqtt_version_t v, const mote_mqtt_publish_t *p);

/* Decoders: body points at the variable header (after the fixed header), len is the
 * remaining length, flags is the fixed header's low nibble. Every field is validated;
 * output spans point into body. Errors: MOTE_ERR_MALFORMED (lengths that run past len,
 * trailing bytes, missing required parts), MOTE_ERR_BAD_FLAGS, MOTE_ERR_BAD_QOS,
 * MOTE_ERR_BAD_PACKET_ID (0), MOTE_ERR_BAD_UTF8, MOTE_ERR_BAD_TOPIC, MOTE_ERR_BAD_PROPERTY
 * (unknown id, wrong type or value, not allowed in this packet), MOTE_ERR_DUP_PROPERTY,
 * MOTE_ERR_BAD_REASON_CODE, MOTE_ERR_BAD_PROTOCOL (CONNECT), MOTE_ERR_UNSUPPORTED (version
 * compiled out). v5 acks, DISCONNECT and AUTH accept both their short and long forms. */
#if MOTE_MQTT_SERVER
/* CONNECT (server side): the version comes from the packet; will_out receives the will
 * (and c->will points at it) when the will flag is set. */
mote_err_t mote_mqtt_decode_connect(const uint8_t *body, size_t len, mote_mqtt_connect_t *c,
                                    mote_mqtt_will_t *will_out);
#endif
mote_err_t mote_mqtt_decode_connack(const uint8_t *body, size_t len, mote_mqtt_version_t v,
                                    mote_mqtt_connack_t *c);
mote_err_t mote_mqtt_decode_publish(const uint8_t *body, size_t len, uint8_t flags,
                                    mote_mqtt_version_t v, mote_mqtt_publish_t *p);
/* PUBLISH variable header only (topic, packet id, properties), for a packet whose payload
 * has not all arrived: avail bytes of body are present, total is the remaining length.
 * *payload_offset (may be NULL) receives where the payload starts within body;
 * p->payload.len is the whole payload length (total - offset), of which only
 * avail - offset bytes are present yet. MOTE_ERR_NEED_MORE while the header itself is
 * incomplete (avail < total); MOTE_ERR_MALFORMED when it cannot fit in total. */
mote_err_t mote_mqtt_decode_publish_header(const uint8_t *body, size_t avail, size_t total,
                                           uint8_t flags, mote_mqtt_version_t v,
                                           mote_mqtt_publish_t *p, size_t *payload_offset);
mote_err_t mote_mqtt_decode_ack(const uint8_t *body, size_t len, uint8_t type, uint8_t flags,
                                mote_mqtt_version_t v, mote_mqtt_ack_t *a);
#if MOTE_MQTT_SERVER
/* SUBSCRIBE (server side): validates packet id, v5 properties, every filter and options
 * byte; *count receives the number of filters. */
mote_err_t mote_mqtt_decode_subscribe(const uint8_t *body, size_t len, uint8_t flags,
                                      mote_mqtt_version_t v, uint16_t *packet_id,
                                      mote_mqtt_props_t *props, size_t *count);
/* Walk SUBSCRIBE filters after mote_mqtt_decode_subscribe validated them. */
bool mote_mqtt_subscribe_next(const uint8_t *body, size_t len, mote_mqtt_version_t v,
                              size_t *cursor, mote_mqtt_subscription_t *out);
/* UNSUBSCRIBE (server side): validates packet id, v5 properties and every filter;
 * *count receives the number of filters. Walk them with mote_mqtt_unsubscribe_next. */
mote_err_t mote_mqtt_decode_unsubscribe(const uint8_t *body, size_t len, uint8_t flags,
                                        mote_mqtt_version_t v, uint16_t *packet_id,
                                        mote_mqtt_props_t *props, size_t *count);
bool mote_mqtt_unsubscribe_next(const uint8_t *body, size_t len, mote_mqtt_version_t v,
                                size_t *cursor, mote_bytes_t *out);
#endif
mote_err_t mote_mqtt_decode_suback(const uint8_t *body, size_t len, uint8_t type,
                                   mote_mqtt_version_t v, mote_mqtt_suback_t *s);
/* DISCONNECT and AUTH (a.packet_id is 0). */
mote_err_t mote_mqtt_decode_disconnect(const uint8_t *body, size_t len, uint8_t type,
                                       mote_mqtt_version_t v, mote_mqtt_ack_t *a);

/* ---- Topics ------------------------------------------------------------------------ */

/* Topic names: non-empty, no wildcards, no NUL, valid UTF-8, at most 65,535 bytes. */
mote_err_t mote_mqtt_topic_validate(mote_bytes_t name);
/* Filters: '#' only last and alone in its level, '+' alone in its level; shared
 * subscriptions ($share/GROUP/filter) are accepted and validated. */
mote_err_t mote_mqtt_filter_validate(mote_bytes_t filter);
/* Does the topic name match the filter? Wildcards at the first level do not match topics
 * beginning with '$'. A $share/GROUP/ prefix is matched against its inner filter. */
bool mote_mqtt_topic_matches(mote_bytes_t filter, mote_bytes_t name);

/* MQTT UTF-8 string check: well-formed UTF-8 (no overlong forms, nothing above U+10FFFF),
 * no U+0000, no UTF-16 surrogates. Control characters and non-characters are allowed. */
bool mote_mqtt_utf8_valid(const uint8_t *s, size_t len);

/* Reason code names for messages ("Not authorized", ...); never NULL. Without the
 * MOTE_MQTT_REASON_STRINGS build option (config.h) both return a generic text. */
const char *mote_mqtt_reason_string(uint8_t reason_code);
/* MQTT 3.1.1 CONNACK return code names. */
const char *mote_mqtt_v311_connack_string(uint8_t return_code);

#ifdef __cplusplus
}
#endif
#endif
