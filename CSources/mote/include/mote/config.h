/* Build options for the Mote core. Override with -D on the compiler line (or CMake's
 * MOTE_* cache options); every option has a documented default here. */
#ifndef MOTE_CONFIG_H
#define MOTE_CONFIG_H

/* MQTT 5 support (properties, reason codes, topic aliases, ...). 0 gives a smaller
 * 3.1.1-only client; v5 calls then return MOTE_ERR_UNSUPPORTED. Default: 1. */
#ifndef MOTE_MQTT_V5
#define MOTE_MQTT_V5 1
#endif

/* MQTT 3.1.1 support. 0 gives a v5-only client. Default: 1. */
#ifndef MOTE_MQTT_V311
#define MOTE_MQTT_V311 1
#endif

#if !MOTE_MQTT_V5 && !MOTE_MQTT_V311
#error "Mote: enable at least one of MOTE_MQTT_V5 and MOTE_MQTT_V311"
#endif

/* Server-side MQTT codec: decode CONNECT, SUBSCRIBE and UNSUBSCRIBE, encode CONNACK,
 * SUBACK, UNSUBACK and PINGRESP (for test brokers and local stand-ins; a device never needs
 * it). Default: 1 on hosted targets (Linux, macOS, Windows), 0 on bare metal. */
#ifndef MOTE_MQTT_SERVER
#if defined(__linux__) || defined(__APPLE__) || defined(_WIN32) || defined(__unix__)
#define MOTE_MQTT_SERVER 1
#else
#define MOTE_MQTT_SERVER 0
#endif
#endif

/* English names for MQTT reason codes (mote_mqtt_reason_string and
 * mote_mqtt_v311_connack_string, about 1 KB of text). 0 makes both return a generic
 * "reason code" text. Default: 1 on hosted targets, 0 on bare metal. */
#ifndef MOTE_MQTT_REASON_STRINGS
#if defined(__linux__) || defined(__APPLE__) || defined(_WIN32) || defined(__unix__)
#define MOTE_MQTT_REASON_STRINGS 1
#else
#define MOTE_MQTT_REASON_STRINGS 0
#endif
#endif

/* SUBSCRIBE and UNSUBSCRIBE requests that may await their acks at once, at least 1 (each
 * costs 2 bytes in mote_mqtt_client_t). Acks are matched by packet id; while all are
 * pending, mote_mqtt_subscribe / _unsubscribe return MOTE_ERR_NO_SPACE. Default: 4. */
#ifndef MOTE_MQTT_MAX_PENDING_SUBS
#define MOTE_MQTT_MAX_PENDING_SUBS 4
#endif

/* JSON double conversions (mote_json_get_double, _parse_double, _format_double,
 * _write_double: correctly rounded reading, shortest round-trip writing). 0 leaves them out
 * (not declared) for firmware that needs no doubles: about 1.5 KB less JSON code on
 * Cortex-M4. The conversions use integer arithmetic only, so neither setting links soft-float
 * helpers. Integers, strings and everything else stay. Default: 1. */
#ifndef MOTE_JSON_DOUBLE
#define MOTE_JSON_DOUBLE 1
#endif

/* Deepest JSON nesting the parser accepts (objects + arrays). The parser keeps one bit per
 * level, not a C stack frame, so this costs MOTE_JSON_MAX_DEPTH/8 bytes. Default: 1024. */
#ifndef MOTE_JSON_MAX_DEPTH
#define MOTE_JSON_MAX_DEPTH 1024
#endif

#endif
