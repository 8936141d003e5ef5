/* Reason codes: which v5 codes each packet may carry (MQTT 5.0 2.4, table 2-6) and their
 * names; MQTT 3.1.1 CONNACK return codes (3.2.2.3). */
#include "mqtt_wire.h"

/* What both functions return without MOTE_MQTT_REASON_STRINGS (config.h): one text. */
#define GENERIC_TEXT "MQTT reason code"

#if MOTE_MQTT_V5
/* Packet classes a code is valid in (one bit each). */
enum {
    C_CONNACK = 0x01,
    C_PUBACK = 0x02, /* PUBACK and PUBREC */
    C_PUBREL = 0x04, /* PUBREL and PUBCOMP */
    C_SUBACK = 0x08,
    C_UNSUBACK = 0x10,
    C_DISCONNECT = 0x20,
    C_AUTH = 0x40
};
#define C_ERR (C_CONNACK | C_PUBACK | C_SUBACK | C_UNSUBACK | C_DISCONNECT)

/* { code, classes }; the names below are in the same order, NUL separated, so the table
 * costs two bytes a code instead of a pointer each. */
static const uint8_t reason_table[][2] = {
    { 0x00, 0x7F }, { 0x01, C_SUBACK }, { 0x02, C_SUBACK }, { 0x04, C_DISCONNECT },
    { 0x10, C_PUBACK }, { 0x11, C_UNSUBACK }, { 0x18, C_AUTH }, { 0x19, C_AUTH },
    { 0x80, C_ERR }, { 0x81, C_CONNACK | C_DISCONNECT }, { 0x82, C_CONNACK | C_DISCONNECT },
    { 0x83, C_ERR }, { 0x84, C_CONNACK }, { 0x85, C_CONNACK }, { 0x86, C_CONNACK },
    { 0x87, C_ERR }, { 0x88, C_CONNACK }, { 0x89, C_CONNACK | C_DISCONNECT },
    { 0x8A, C_CONNACK }, { 0x8B, C_DISCONNECT }, { 0x8C, C_CONNACK | C_DISCONNECT },
    { 0x8D, C_DISCONNECT }, { 0x8E, C_DISCONNECT },
    { 0x8F, C_SUBACK | C_UNSUBACK | C_DISCONNECT },
    { 0x90, C_CONNACK | C_PUBACK | C_DISCONNECT },
    { 0x91, C_PUBACK | C_SUBACK | C_UNSUBACK }, { 0x92, C_PUBREL },
    { 0x93, C_DISCONNECT }, { 0x94, C_DISCONNECT }, { 0x95, C_CONNACK | C_DISCONNECT },
    { 0x96, C_DISCONNECT }, { 0x97, C_CONNACK | C_PUBACK | C_SUBACK | C_DISCONNECT },
    { 0x98, C_DISCONNECT }, { 0x99, C_CONNACK | C_PUBACK | C_DISCONNECT },
    { 0x9A, C_CONNACK | C_DISCONNECT }, { 0x9B, C_CONNACK | C_DISCONNECT },
    { 0x9C, C_CONNACK | C_DISCONNECT }, { 0x9D, C_CONNACK | C_DISCONNECT },
    { 0x9E, C_SUBACK | C_DISCONNECT }, { 0x9F, C_CONNACK | C_DISCONNECT },
    { 0xA0, C_DISCONNECT }, { 0xA1, C_SUBACK | C_DISCONNECT },
    { 0xA2, C_SUBACK | C_DISCONNECT },
};

#if MOTE_MQTT_REASON_STRINGS
static const char reason_names[] =
    "Success\0Granted QoS 1\0Granted QoS 2\0Disconnect with Will Message\0"
    "No matching subscribers\0No subscription existed\0Continue authentication\0"
    "Re-authenticate\0Unspecified error\0Malformed Packet\0Protocol Error\0"
    "Implementation specific error\0Unsupported Protocol Version\0"
    "Client Identifier not valid\0Bad User Name or Password\0Not authorized\0"
    "Server unavailable\0Server busy\0Banned\0Server shutting down\0"
    "Bad authentication method\0Keep Alive timeout\0Session taken over\0"
    "Topic Filter invalid\0Topic Name invalid\0Packet Identifier in use\0"
    "Packet Identifier not found\0Receive Maximum exceeded\0Topic Alias invalid\0"
    "Packet too large\0Message rate too high\0Quota exceeded\0Administrative action\0"
    "Payload format invalid\0Retain not supported\0QoS not supported\0"
    "Use another server\0Server moved\0Shared Subscriptions not supported\0"
    "Connection rate exceeded\0Maximum connect time\0"
    "Subscription Identifiers not supported\0Wildcard Subscriptions not supported";
#endif

#define REASON_COUNT (sizeof reason_table / sizeof reason_table[0])

/* Class bit by packet type (index 0..15); 0 for packets without reason codes. */
static const uint8_t class_by_type[16] = {
    0, 0, C_CONNACK, 0, C_PUBACK, C_PUBACK, C_PUBREL, C_PUBREL,
    0, C_SUBACK, 0, C_UNSUBACK, 0, 0, C_DISCONNECT, C_AUTH,
};

static size_t reason_index(uint8_t code)
{
    size_t i = 0;
    while (i < REASON_COUNT && reason_table[i][0] != code)
        i++;
    return i;
}

bool mote_wire_reason_ok(uint8_t type, uint8_t code)
{
    size_t i = reason_index(code);
    return i < REASON_COUNT && (reason_table[i][1] & class_by_type[type & 15u]) != 0;
}

const char *mote_mqtt_reason_string(uint8_t reason_code)
{
    size_t i = reason_index(reason_code);
    if (i == REASON_COUNT)
        return "Unknown reason code";
#if MOTE_MQTT_REASON_STRINGS
    const char *s = reason_names;
    while (i--)
        s += strlen(s) + 1;
    return s;
#else
    return GENERIC_TEXT;
#endif
}
#else
/* 3.1.1 has no reason code table; codes still appear (0x80 in SUBACK and in PUBLISH_DONE
 * for a dropped session). */
const char *mote_mqtt_reason_string(uint8_t reason_code)
{
    (void)reason_code;
#if MOTE_MQTT_REASON_STRINGS
    return "Unknown reason code";
#else
    return GENERIC_TEXT;
#endif
}
#endif

const char *mote_mqtt_v311_connack_string(uint8_t return_code)
{
#if MOTE_MQTT_REASON_STRINGS
    static const char names[] =
        "Connection accepted\0Unacceptable protocol version\0Identifier rejected\0"
        "Server unavailable\0Bad user name or password\0Not authorized";
    if (return_code > 5)
        return "Unknown return code";
    const char *s = names;
    while (return_code--)
        s += strlen(s) + 1;
    return s;
#else
    (void)return_code;
    return GENERIC_TEXT;
#endif
}
