/* Private helpers shared by the MQTT codec files (mqtt_*.c); not a public header.
 * Byte order is big-endian on the wire (MQTT 3.1.1 1.5.2, 5.0 1.5.2). */
#ifndef MOTE_MQTT_WIRE_H
#define MOTE_MQTT_WIRE_H

#include <string.h>

#include "mote/mqtt_codec.h"

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

/* Topic-name check without the empty/length rules: valid MQTT UTF-8, no '+' or '#'.
 * Returns MOTE_OK, MOTE_ERR_BAD_UTF8 or MOTE_ERR_BAD_TOPIC. */
mote_err_t mote_wire_topic_chars(const uint8_t *p, size_t len);

/* Does this span start a shared subscription ("$share/")? */
bool mote_wire_is_shared(mote_bytes_t filter);

/* SUBSCRIBE options byte check (QoS, reserved bits, v5 retain handling, No Local on a
 * shared subscription). Returns MOTE_OK, MOTE_ERR_BAD_QOS or MOTE_ERR_BAD_FLAGS. */
mote_err_t mote_wire_sub_options_ok(mote_bytes_t filter, unsigned options, bool v5);

/* Is rc a valid SUBACK (or UNSUBACK) reason/return code for version v? */
bool mote_wire_suback_code_ok(mote_mqtt_version_t v, uint8_t type, uint8_t rc);

#if MOTE_MQTT_V5
/* Property sets by packet: the packet type (1..15), or this value for will properties. */
#define MOTE_WIRE_WILL 0u

/* Validate encoded properties for one packet kind: known ids, each value's type and range,
 * allowed in this packet, no forbidden duplicates, UTF-8 strings well formed.
 * Returns MOTE_OK, MOTE_ERR_MALFORMED (truncated), MOTE_ERR_BAD_PROPERTY,
 * MOTE_ERR_DUP_PROPERTY or MOTE_ERR_BAD_UTF8. */
mote_err_t mote_wire_props_check(const uint8_t *p, size_t len, uint8_t kind);

/* Is code a valid v5 reason code for this packet type (CONNACK, PUBACK..PUBCOMP, SUBACK,
 * UNSUBACK, DISCONNECT, AUTH)? */
bool mote_wire_reason_ok(uint8_t type, uint8_t code);
#endif

#endif
