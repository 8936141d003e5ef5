/* Malformed input: every validation rule of the decoders (and the encoders) returns its
 * specific error. Each vector is a whole packet as it would arrive from the network. */
#include "test_util.h"

typedef struct bad_case {
    const char *what;
    mote_mqtt_version_t v;
    int want;
    const uint8_t *bytes;
    size_t len;
} bad_case_t;

#define BAD(what, v, want, ...) { what, v, want, BYTES(__VA_ARGS__) }

static const bad_case_t decode_cases[] = {
    /* ---- fixed header ---- */
    BAD("remaining length of five bytes", V311, MOTE_ERR_BAD_REMAINING_LENGTH, 0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F),
    BAD("remaining length not minimal (0x80 0x00)", V311, MOTE_ERR_BAD_REMAINING_LENGTH, 0xC0, 0x80, 0x00),
    BAD("remaining length not minimal (3 bytes for 127)", V5, MOTE_ERR_BAD_REMAINING_LENGTH, 0x30, 0xFF, 0x80, 0x00),
    BAD("packet type 0", V311, MOTE_ERR_BAD_PACKET_TYPE, 0x00, 0x00),
    BAD("PUBACK with flags", V311, MOTE_ERR_BAD_FLAGS, 0x41, 0x02, 0x00, 0x01),
    BAD("PUBREL without flag bit 1", V311, MOTE_ERR_BAD_FLAGS, 0x60, 0x02, 0x00, 0x01),
    BAD("SUBSCRIBE flags 0", V311, MOTE_ERR_BAD_FLAGS, 0x80, 0x06, 0x00, 0x01, 0x00, 0x01, 'a', 0x00),
    BAD("UNSUBSCRIBE flags 3", V311, MOTE_ERR_BAD_FLAGS, 0xA3, 0x05, 0x00, 0x01, 0x00, 0x01, 'a'),
    BAD("CONNACK with flags", V5, MOTE_ERR_BAD_FLAGS, 0x28, 0x03, 0x00, 0x00, 0x00),
    BAD("PINGRESP with flags", V311, MOTE_ERR_BAD_FLAGS, 0xD1, 0x00),
    BAD("PUBLISH QoS 3", V311, MOTE_ERR_BAD_QOS, 0x36, 0x05, 0x00, 0x01, 't', 0x00, 0x01),
    BAD("PINGREQ with a body", V311, MOTE_ERR_BAD_REMAINING_LENGTH, 0xC0, 0x01, 0x00),
    /* ---- PUBLISH ---- */
    BAD("packet id 0", V311, MOTE_ERR_BAD_PACKET_ID, 0x32, 0x05, 0x00, 0x01, 't', 0x00, 0x00),
    BAD("DUP on QoS 0", V311, MOTE_ERR_BAD_FLAGS, 0x38, 0x03, 0x00, 0x01, 't'),
    BAD("topic with +", V311, MOTE_ERR_BAD_TOPIC, 0x30, 0x05, 0x00, 0x03, 'a', '/', '+'),
    BAD("topic with #", V5, MOTE_ERR_BAD_TOPIC, 0x30, 0x04, 0x00, 0x01, '#', 0x00),
    BAD("long topic with + late", V311, MOTE_ERR_BAD_TOPIC, 0x30, 0x0D, 0x00, 0x0B, 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', '/', '+'),
    BAD("topic with U+0000", V311, MOTE_ERR_BAD_UTF8, 0x30, 0x05, 0x00, 0x03, 'a', 0x00, 'b'),
    BAD("long topic with U+0000", V311, MOTE_ERR_BAD_UTF8, 0x30, 0x0C, 0x00, 0x0A, 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 0x00),
    BAD("topic with a surrogate", V311, MOTE_ERR_BAD_UTF8, 0x30, 0x05, 0x00, 0x03, 0xED, 0xA0, 0x80),
    BAD("topic with overlong /", V5, MOTE_ERR_BAD_UTF8, 0x30, 0x05, 0x00, 0x02, 0xC0, 0xAF, 0x00),
    BAD("topic with a lone continuation byte", V311, MOTE_ERR_BAD_UTF8, 0x30, 0x03, 0x00, 0x01, 0x80),
    BAD("empty topic in 3.1.1", V311, MOTE_ERR_BAD_TOPIC, 0x30, 0x02, 0x00, 0x00),
    BAD("empty topic without alias", V5, MOTE_ERR_BAD_TOPIC, 0x30, 0x03, 0x00, 0x00, 0x00),
    BAD("topic length past the end", V311, MOTE_ERR_MALFORMED, 0x30, 0x04, 0x00, 0x05, 'a', 'b'),
    BAD("packet id cut off", V311, MOTE_ERR_MALFORMED, 0x32, 0x04, 0x00, 0x01, 't', 0x00),
    BAD("property length past the end", V5, MOTE_ERR_MALFORMED, 0x30, 0x05, 0x00, 0x01, 't', 0x05, 0x01),
    BAD("property length not minimal", V5, MOTE_ERR_MALFORMED, 0x30, 0x05, 0x00, 0x01, 't', 0x80, 0x00),
    BAD("property value cut off", V5, MOTE_ERR_MALFORMED, 0x30, 0x06, 0x00, 0x01, 't', 0x02, 0x23, 0x00),
    BAD("unknown property 0x05", V5, MOTE_ERR_BAD_PROPERTY, 0x30, 0x06, 0x00, 0x01, 't', 0x02, 0x05, 0x00),
    BAD("unknown property 0x7F", V5, MOTE_ERR_BAD_PROPERTY, 0x30, 0x06, 0x00, 0x01, 't', 0x02, 0x7F, 0x00),
    BAD("session expiry in PUBLISH", V5, MOTE_ERR_BAD_PROPERTY, 0x30, 0x09, 0x00, 0x01, 't', 0x05, 0x11, 0, 0, 0, 1),
    BAD("will delay in PUBLISH", V5, MOTE_ERR_BAD_PROPERTY, 0x30, 0x09, 0x00, 0x01, 't', 0x05, 0x18, 0, 0, 0, 1),
    BAD("duplicate payload format", V5, MOTE_ERR_DUP_PROPERTY, 0x30, 0x08, 0x00, 0x01, 't', 0x04, 0x01, 0x00, 0x01, 0x01),
    BAD("duplicate topic alias", V5, MOTE_ERR_DUP_PROPERTY, 0x30, 0x0A, 0x00, 0x01, 't', 0x06, 0x23, 0x00, 0x01, 0x23, 0x00, 0x01),
    BAD("payload format 2", V5, MOTE_ERR_BAD_PROPERTY, 0x30, 0x06, 0x00, 0x01, 't', 0x02, 0x01, 0x02),
    BAD("topic alias 0", V5, MOTE_ERR_BAD_PROPERTY, 0x30, 0x07, 0x00, 0x01, 't', 0x03, 0x23, 0x00, 0x00),
    BAD("subscription id 0", V5, MOTE_ERR_BAD_PROPERTY, 0x30, 0x06, 0x00, 0x01, 't', 0x02, 0x0B, 0x00),
    BAD("subscription id not minimal", V5, MOTE_ERR_MALFORMED, 0x30, 0x07, 0x00, 0x01, 't', 0x03, 0x0B, 0x81, 0x00),
    BAD("subscription id of five bytes", V5, MOTE_ERR_MALFORMED, 0x30, 0x0A, 0x00, 0x01, 't', 0x06, 0x0B, 0x81, 0x81, 0x81, 0x81, 0x01),
    BAD("content type not UTF-8", V5, MOTE_ERR_BAD_UTF8, 0x30, 0x08, 0x00, 0x01, 't', 0x04, 0x03, 0x00, 0x01, 0xFF),
    BAD("user property key with U+0000", V5, MOTE_ERR_BAD_UTF8, 0x30, 0x0B, 0x00, 0x01, 't', 0x07, 0x26, 0x00, 0x01, 0x00, 0x00, 0x01, 'v'),
    BAD("response topic with wildcard", V5, MOTE_ERR_BAD_PROPERTY, 0x30, 0x08, 0x00, 0x01, 't', 0x04, 0x08, 0x00, 0x01, '#'),
    /* ---- CONNACK ---- */
    BAD("3.1.1 return code 6", V311, MOTE_ERR_BAD_REASON_CODE, 0x20, 0x02, 0x00, 0x06),
    BAD("3.1.1 reserved acknowledge flag", V311, MOTE_ERR_BAD_FLAGS, 0x20, 0x02, 0x02, 0x00),
    BAD("3.1.1 session present on refusal", V311, MOTE_ERR_BAD_FLAGS, 0x20, 0x02, 0x01, 0x05),
    BAD("3.1.1 CONNACK too long", V311, MOTE_ERR_MALFORMED, 0x20, 0x03, 0x00, 0x00, 0x00),
    BAD("3.1.1 CONNACK too short", V311, MOTE_ERR_MALFORMED, 0x20, 0x01, 0x00),
    BAD("v5 CONNACK reason 0x10", V5, MOTE_ERR_BAD_REASON_CODE, 0x20, 0x03, 0x00, 0x10, 0x00),
    BAD("v5 CONNACK reason 0x8B", V5, MOTE_ERR_BAD_REASON_CODE, 0x20, 0x03, 0x00, 0x8B, 0x00),
    BAD("v5 CONNACK without property length", V5, MOTE_ERR_MALFORMED, 0x20, 0x02, 0x00, 0x00),
    BAD("v5 session present on refusal", V5, MOTE_ERR_BAD_FLAGS, 0x20, 0x03, 0x01, 0x87, 0x00),
    BAD("topic alias in CONNACK", V5, MOTE_ERR_BAD_PROPERTY, 0x20, 0x06, 0x00, 0x00, 0x03, 0x23, 0x00, 0x01),
    BAD("duplicate session expiry", V5, MOTE_ERR_DUP_PROPERTY, 0x20, 0x0D, 0x00, 0x00, 0x0A, 0x11, 0, 0, 0, 1, 0x11, 0, 0, 0, 2),
    BAD("receive maximum 0", V5, MOTE_ERR_BAD_PROPERTY, 0x20, 0x06, 0x00, 0x00, 0x03, 0x21, 0x00, 0x00),
    BAD("maximum packet size 0", V5, MOTE_ERR_BAD_PROPERTY, 0x20, 0x08, 0x00, 0x00, 0x05, 0x27, 0, 0, 0, 0),
    BAD("maximum QoS 2", V5, MOTE_ERR_BAD_PROPERTY, 0x20, 0x05, 0x00, 0x00, 0x02, 0x24, 0x02),
    BAD("retain available 2", V5, MOTE_ERR_BAD_PROPERTY, 0x20, 0x05, 0x00, 0x00, 0x02, 0x25, 0x02),
    BAD("auth data without method", V5, MOTE_ERR_BAD_PROPERTY, 0x20, 0x07, 0x00, 0x00, 0x04, 0x16, 0x00, 0x01, 'd'),
    BAD("request problem info in CONNACK", V5, MOTE_ERR_BAD_PROPERTY, 0x20, 0x05, 0x00, 0x00, 0x02, 0x17, 0x01),
    /* ---- PUBACK .. PUBCOMP ---- */
    BAD("3.1.1 PUBACK with reason", V311, MOTE_ERR_MALFORMED, 0x40, 0x03, 0x00, 0x01, 0x00),
    BAD("PUBACK packet id 0", V5, MOTE_ERR_BAD_PACKET_ID, 0x40, 0x02, 0x00, 0x00),
    BAD("PUBACK too short", V311, MOTE_ERR_MALFORMED, 0x40, 0x01, 0x00),
    BAD("PUBACK reason 0x92", V5, MOTE_ERR_BAD_REASON_CODE, 0x40, 0x03, 0x00, 0x01, 0x92),
    BAD("PUBREC reason 0x04", V5, MOTE_ERR_BAD_REASON_CODE, 0x50, 0x03, 0x00, 0x01, 0x04),
    BAD("PUBREL reason 0x10", V5, MOTE_ERR_BAD_REASON_CODE, 0x62, 0x03, 0x00, 0x01, 0x10),
    BAD("PUBCOMP reason 0x80", V5, MOTE_ERR_BAD_REASON_CODE, 0x70, 0x03, 0x00, 0x01, 0x80),
    BAD("PUBACK with topic alias", V5, MOTE_ERR_BAD_PROPERTY, 0x40, 0x07, 0x00, 0x01, 0x00, 0x03, 0x23, 0x00, 0x01),
    BAD("PUBACK duplicate reason string", V5, MOTE_ERR_DUP_PROPERTY, 0x40, 0x0A, 0x00, 0x01, 0x00, 0x06, 0x1F, 0x00, 0x00, 0x1F, 0x00, 0x00),
    BAD("PUBACK trailing byte after properties", V5, MOTE_ERR_MALFORMED, 0x40, 0x05, 0x00, 0x01, 0x00, 0x00, 0x00),
    /* ---- SUBSCRIBE ---- */
    BAD("SUBSCRIBE without filters", V311, MOTE_ERR_MALFORMED, 0x82, 0x02, 0x00, 0x01),
    BAD("SUBSCRIBE packet id 0", V311, MOTE_ERR_BAD_PACKET_ID, 0x82, 0x06, 0x00, 0x00, 0x00, 0x01, 'a', 0x00),
    BAD("SUBSCRIBE QoS 3", V311, MOTE_ERR_BAD_QOS, 0x82, 0x06, 0x00, 0x01, 0x00, 0x01, 'a', 0x03),
    BAD("3.1.1 SUBSCRIBE option bits", V311, MOTE_ERR_BAD_FLAGS, 0x82, 0x06, 0x00, 0x01, 0x00, 0x01, 'a', 0x04),
    BAD("v5 SUBSCRIBE reserved bits", V5, MOTE_ERR_BAD_FLAGS, 0x82, 0x07, 0x00, 0x01, 0x00, 0x00, 0x01, 'a', 0x40),
    BAD("v5 retain handling 3", V5, MOTE_ERR_BAD_FLAGS, 0x82, 0x07, 0x00, 0x01, 0x00, 0x00, 0x01, 'a', 0x30),
    BAD("No Local on a shared subscription", V5, MOTE_ERR_BAD_FLAGS, 0x82, 0x10, 0x00, 0x01, 0x00, 0x00, 0x0A, '$', 's', 'h', 'a', 'r', 'e', '/', 'g', '/', 'a', 0x04),
    BAD("filter a/#/b", V311, MOTE_ERR_BAD_TOPIC, 0x82, 0x0A, 0x00, 0x01, 0x00, 0x05, 'a', '/', '#', '/', 'b', 0x00),
    BAD("filter a+", V311, MOTE_ERR_BAD_TOPIC, 0x82, 0x07, 0x00, 0x01, 0x00, 0x02, 'a', '+', 0x00),
    BAD("empty filter", V311, MOTE_ERR_BAD_TOPIC, 0x82, 0x05, 0x00, 0x01, 0x00, 0x00, 0x00),
    BAD("options byte missing", V311, MOTE_ERR_MALFORMED, 0x82, 0x05, 0x00, 0x01, 0x00, 0x01, 'a'),
    BAD("subscription id twice in SUBSCRIBE", V5, MOTE_ERR_DUP_PROPERTY, 0x82, 0x0B, 0x00, 0x01, 0x04, 0x0B, 0x01, 0x0B, 0x02, 0x00, 0x01, 'a', 0x00),
    BAD("topic alias in SUBSCRIBE", V5, MOTE_ERR_BAD_PROPERTY, 0x82, 0x0A, 0x00, 0x01, 0x03, 0x23, 0x00, 0x01, 0x00, 0x01, 'a', 0x00),
    /* ---- UNSUBSCRIBE ---- */
    BAD("UNSUBSCRIBE without filters", V5, MOTE_ERR_MALFORMED, 0xA2, 0x03, 0x00, 0x01, 0x00),
    BAD("UNSUBSCRIBE bad filter", V311, MOTE_ERR_BAD_TOPIC, 0xA2, 0x06, 0x00, 0x01, 0x00, 0x02, 'a', '#'),
    /* ---- SUBACK, UNSUBACK ---- */
    BAD("3.1.1 SUBACK code 3", V311, MOTE_ERR_BAD_REASON_CODE, 0x90, 0x03, 0x00, 0x01, 0x03),
    BAD("3.1.1 SUBACK code 0x87", V311, MOTE_ERR_BAD_REASON_CODE, 0x90, 0x03, 0x00, 0x01, 0x87),
    BAD("SUBACK without codes", V311, MOTE_ERR_MALFORMED, 0x90, 0x02, 0x00, 0x01),
    BAD("v5 SUBACK code 0x11", V5, MOTE_ERR_BAD_REASON_CODE, 0x90, 0x04, 0x00, 0x01, 0x00, 0x11),
    BAD("v5 SUBACK without property length", V5, MOTE_ERR_MALFORMED, 0x90, 0x02, 0x00, 0x01),
    BAD("3.1.1 UNSUBACK with a code", V311, MOTE_ERR_MALFORMED, 0xB0, 0x03, 0x00, 0x01, 0x00),
    BAD("v5 UNSUBACK code 0x01", V5, MOTE_ERR_BAD_REASON_CODE, 0xB0, 0x04, 0x00, 0x01, 0x00, 0x01),
    BAD("v5 UNSUBACK without codes", V5, MOTE_ERR_MALFORMED, 0xB0, 0x03, 0x00, 0x01, 0x00),
    BAD("UNSUBACK packet id 0", V311, MOTE_ERR_BAD_PACKET_ID, 0xB0, 0x02, 0x00, 0x00),
    /* ---- DISCONNECT, AUTH ---- */
    BAD("3.1.1 DISCONNECT with a body", V311, MOTE_ERR_MALFORMED, 0xE0, 0x01, 0x00),
    BAD("v5 DISCONNECT reason 0x05", V5, MOTE_ERR_BAD_REASON_CODE, 0xE0, 0x01, 0x05),
    BAD("v5 DISCONNECT reason 0x18", V5, MOTE_ERR_BAD_REASON_CODE, 0xE0, 0x01, 0x18),
    BAD("will delay in DISCONNECT", V5, MOTE_ERR_BAD_PROPERTY, 0xE0, 0x07, 0x00, 0x05, 0x18, 0, 0, 0, 0),
    BAD("AUTH in 3.1.1", V311, MOTE_ERR_BAD_PACKET_TYPE, 0xF0, 0x00),
    BAD("AUTH reason without property length", V5, MOTE_ERR_MALFORMED, 0xF0, 0x01, 0x18),
    BAD("AUTH reason 0x04", V5, MOTE_ERR_BAD_REASON_CODE, 0xF0, 0x02, 0x04, 0x00),
    BAD("AUTH with reason string twice", V5, MOTE_ERR_DUP_PROPERTY, 0xF0, 0x08, 0x18, 0x06, 0x1F, 0x00, 0x00, 0x1F, 0x00, 0x00),
    /* 5.0 3.15.2.2.2: only the short form (no reason code, no properties) has no method */
    BAD("AUTH without a method", V5, MOTE_ERR_BAD_PROPERTY, 0xF0, 0x02, 0x18, 0x00),
    BAD("AUTH success without a method", V5, MOTE_ERR_BAD_PROPERTY, 0xF0, 0x02, 0x00, 0x00),
    BAD("AUTH with a reason string only", V5, MOTE_ERR_BAD_PROPERTY, 0xF0, 0x05, 0x18, 0x03, 0x1F, 0x00, 0x00),
    /* ---- CONNECT ---- */
    BAD("protocol name MQIsdp", V311, MOTE_ERR_BAD_PROTOCOL, 0x10, 0x0E, 0x00, 0x06, 'M', 'Q', 'I', 's', 'd', 'p', 0x03, 0x02, 0x00, 0x00, 0x00, 0x00),
    BAD("protocol level 3", V311, MOTE_ERR_BAD_PROTOCOL, 0x10, 0x0C, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x03, 0x02, 0x00, 0x00, 0x00, 0x00),
    BAD("protocol level 6", V5, MOTE_ERR_BAD_PROTOCOL, 0x10, 0x0D, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x06, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00),
    BAD("CONNECT reserved flag", V311, MOTE_ERR_BAD_FLAGS, 0x10, 0x0C, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x03, 0x00, 0x00, 0x00, 0x00),
    BAD("will QoS without will", V311, MOTE_ERR_BAD_FLAGS, 0x10, 0x0C, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x0A, 0x00, 0x00, 0x00, 0x00),
    BAD("will retain without will", V311, MOTE_ERR_BAD_FLAGS, 0x10, 0x0C, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x22, 0x00, 0x00, 0x00, 0x00),
    BAD("will QoS 3", V311, MOTE_ERR_BAD_QOS, 0x10, 0x11, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x1E, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 'w', 0x00, 0x00),
    BAD("3.1.1 password without user name", V311, MOTE_ERR_BAD_FLAGS, 0x10, 0x0E, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x42, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00),
    BAD("client id not UTF-8", V311, MOTE_ERR_BAD_UTF8, 0x10, 0x0D, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x02, 0x00, 0x00, 0x00, 0x01, 0xC3),
    BAD("will topic with wildcard", V311, MOTE_ERR_BAD_TOPIC, 0x10, 0x11, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, '+', 0x00, 0x00),
    BAD("user name not UTF-8", V311, MOTE_ERR_BAD_UTF8, 0x10, 0x0F, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x82, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0xFE),
    BAD("CONNECT trailing byte", V311, MOTE_ERR_MALFORMED, 0x10, 0x0D, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00),
    BAD("will delay in CONNECT properties", V5, MOTE_ERR_BAD_PROPERTY, 0x10, 0x12, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x05, 0x02, 0x00, 0x00, 0x05, 0x18, 0, 0, 0, 0, 0x00, 0x00),
    BAD("session expiry in will properties", V5, MOTE_ERR_BAD_PROPERTY, 0x10, 0x18, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x05, 0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x11, 0, 0, 0, 0, 0x00, 0x01, 'w', 0x00, 0x00),
    BAD("request response info 2", V5, MOTE_ERR_BAD_PROPERTY, 0x10, 0x0F, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x05, 0x02, 0x00, 0x00, 0x02, 0x19, 0x02, 0x00, 0x00),
    BAD("CONNECT cut inside the header", V311, MOTE_ERR_MALFORMED, 0x10, 0x08, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x02),
};

static void decoders_reject(void **state)
{
    (void)state;
    uint8_t out[256];
    int failures = 0;
    for (size_t i = 0; i < sizeof decode_cases / sizeof decode_cases[0]; i++) {
        const bad_case_t *c = &decode_cases[i];
        if (!((MOTE_MQTT_V5 && c->v == V5) || (MOTE_MQTT_V311 && c->v == V311)))
            continue;
        /* exact-size heap copy: a read past the end is an ASan error */
        uint8_t *copy = malloc(c->len);
        assert_non_null(copy);
        memcpy(copy, c->bytes, c->len);
        /* the vector itself must be one whole packet: its lies are inside the body */
        uint8_t t, f;
        uint32_t rem;
        size_t hl;
        if (mote_mqtt_decode_fixed_header(copy, c->len, &t, &f, &rem, &hl) == MOTE_OK &&
            hl + rem != c->len) {
            fprintf(stderr, "case '%s': vector length %zu, header says %zu\n", c->what, c->len, hl + rem);
            failures++;
        }
        int stage;
        int32_t got = rt_reencode(copy, c->len, c->v, out, sizeof out, &stage);
        free(copy);
        if (got != c->want || (got < 0 && stage != 1)) {
            fprintf(stderr, "case '%s': got %d (stage %d), want %d\n", c->what, (int)got, stage, c->want);
            failures++;
        }
    }
    assert_int_equal(failures, 0);
}

static void fixed_header_needs_more(void **state)
{
    (void)state;
    uint8_t type, flags;
    uint32_t rem;
    size_t hl;
    assert_int_equal(mote_mqtt_decode_fixed_header((const uint8_t *)"", 0, &type, &flags, &rem, &hl), MOTE_ERR_NEED_MORE);
    assert_int_equal(mote_mqtt_decode_fixed_header(BYTES(0x30), &type, &flags, &rem, &hl), MOTE_ERR_NEED_MORE);
    assert_int_equal(mote_mqtt_decode_fixed_header(BYTES(0x30, 0x80), &type, &flags, &rem, &hl), MOTE_ERR_NEED_MORE);
    assert_int_equal(mote_mqtt_decode_fixed_header(BYTES(0x30, 0xFF, 0xFF, 0xFF), &type, &flags, &rem, &hl), MOTE_ERR_NEED_MORE);
    assert_int_equal(mote_mqtt_decode_fixed_header(BYTES(0x30, 0xFF, 0xFF, 0xFF, 0x7F), &type, &flags, &rem, &hl), MOTE_OK);
    assert_int_equal(rem, 268435455u);
    assert_int_equal(hl, 5);
    assert_int_equal(mote_mqtt_decode_fixed_header(BYTES(0x30, 0x80, 0x01), &type, &flags, &rem, &hl), MOTE_OK);
    assert_int_equal(rem, 128);
    assert_int_equal(mote_mqtt_varint_size(0), 1);
    assert_int_equal(mote_mqtt_varint_size(127), 1);
    assert_int_equal(mote_mqtt_varint_size(128), 2);
    assert_int_equal(mote_mqtt_varint_size(16383), 2);
    assert_int_equal(mote_mqtt_varint_size(16384), 3);
    assert_int_equal(mote_mqtt_varint_size(2097151), 3);
    assert_int_equal(mote_mqtt_varint_size(2097152), 4);
    assert_int_equal(mote_mqtt_varint_size(268435455), 4);
    assert_int_equal(mote_mqtt_varint_size(268435456), 0);
}

#if MOTE_MQTT_V5
static void publish_header_streaming(void **state)
{
    (void)state;
    /* v5 QoS 1 with a 3-byte property block: header is 2+1+2+1+3 = 9 bytes */
    static const uint8_t body[] = { 0x00, 0x01, 't', 0x00, 0x07, 0x03, 0x23, 0x00, 0x02, 'p', 'a', 'y' };
    mote_mqtt_publish_t p;
    size_t off;
    for (size_t avail = 0; avail < 9; avail++)
        assert_int_equal(mote_mqtt_decode_publish_header(body, avail, sizeof body, 0x02, V5, &p, &off),
                         MOTE_ERR_NEED_MORE);
    assert_int_equal(mote_mqtt_decode_publish_header(body, 9, sizeof body, 0x02, V5, &p, &off), MOTE_OK);
    assert_int_equal(off, 9);
    assert_int_equal(p.payload.len, 3);
    /* the whole packet is there but the header does not fit: malformed, not need-more */
    assert_int_equal(mote_mqtt_decode_publish_header(body, 8, 8, 0x02, V5, &p, &off), MOTE_ERR_MALFORMED);
}
#endif

static void encoders_reject(void **state)
{
    (void)state;
    uint8_t buf[256];
    mote_mqtt_props_t none = { NULL, 0 };
    mote_mqtt_version_t v = MOTE_MQTT_V5 ? V5 : V311;
    mote_mqtt_publish_t p = { .topic = MOTE_STR("a/b"), .qos = 3, .packet_id = 1 };
    assert_int_equal(mote_mqtt_encode_publish(buf, sizeof buf, v, &p), MOTE_ERR_BAD_QOS);
    p.qos = 1;
    p.packet_id = 0;
    assert_int_equal(mote_mqtt_encode_publish(buf, sizeof buf, v, &p), MOTE_ERR_BAD_PACKET_ID);
    assert_int_equal(mote_mqtt_publish_size(v, &p), 0);
    p.packet_id = 1;
    p.topic = MOTE_STR("a/#");
    assert_int_equal(mote_mqtt_encode_publish(buf, sizeof buf, v, &p), MOTE_ERR_BAD_TOPIC);
    p.topic = MOTE_STR("");
    assert_int_equal(mote_mqtt_encode_publish(buf, sizeof buf, v, &p), MOTE_ERR_BAD_TOPIC);
    p.topic = MOTE_STR("a\xED\xA0\x80");
    assert_int_equal(mote_mqtt_encode_publish(buf, sizeof buf, v, &p), MOTE_ERR_BAD_UTF8);
    p.topic = MOTE_STR("t");
    p.qos = 0;
    p.dup = true;
    assert_int_equal(mote_mqtt_encode_publish(buf, sizeof buf, v, &p), MOTE_ERR_BAD_FLAGS);
    p.dup = false;
    assert_int_equal(mote_mqtt_encode_publish(buf, sizeof buf, (mote_mqtt_version_t)3, &p), MOTE_ERR_UNSUPPORTED);
    assert_int_equal(mote_mqtt_encode_publish(buf, 2, v, &p), MOTE_ERR_BUFFER_TOO_SMALL);

    mote_mqtt_subscription_t s = { MOTE_STR("a/#/b"), 0 };
    assert_int_equal(mote_mqtt_encode_subscribe(buf, sizeof buf, v, 1, &s, 1, none), MOTE_ERR_BAD_TOPIC);
    s.filter = MOTE_STR("a");
    s.options = 3;
    assert_int_equal(mote_mqtt_encode_subscribe(buf, sizeof buf, v, 1, &s, 1, none), MOTE_ERR_BAD_QOS);
    s.options = 0;
    assert_int_equal(mote_mqtt_encode_subscribe(buf, sizeof buf, v, 0, &s, 1, none), MOTE_ERR_BAD_PACKET_ID);
    assert_int_equal(mote_mqtt_encode_subscribe(buf, sizeof buf, v, 1, &s, 0, none), MOTE_ERR_BAD_ARG);
    mote_mqtt_ack_t a = { .packet_id = 0 };
    assert_int_equal(mote_mqtt_encode_ack(buf, sizeof buf, v, MOTE_MQTT_PUBACK, &a), MOTE_ERR_BAD_PACKET_ID);
    a.packet_id = 1;
    assert_int_equal(mote_mqtt_encode_ack(buf, sizeof buf, v, MOTE_MQTT_CONNACK, &a), MOTE_ERR_BAD_ARG);
    mote_mqtt_connect_t c = { .version = v, .client_id = { (const uint8_t *)"a\0b", 3 } };
    assert_int_equal(mote_mqtt_encode_connect(buf, sizeof buf, &c), MOTE_ERR_BAD_UTF8);
    mote_mqtt_will_t w = { .topic = MOTE_STR("w"), .qos = 3 };
    c.client_id = MOTE_STR("c");
    c.will = &w;
    assert_int_equal(mote_mqtt_encode_connect(buf, sizeof buf, &c), MOTE_ERR_BAD_QOS);
    w.qos = 0;
    w.topic = MOTE_STR("w/+");
    assert_int_equal(mote_mqtt_encode_connect(buf, sizeof buf, &c), MOTE_ERR_BAD_TOPIC);
#if MOTE_MQTT_V311
    c = (mote_mqtt_connect_t){ .version = V311, .client_id = MOTE_STR("c"), .password = MOTE_STR("p") };
    assert_int_equal(mote_mqtt_encode_connect(buf, sizeof buf, &c), MOTE_ERR_BAD_ARG);
    /* an empty client id asks the server for one, which 3.1.1 allows a clean session only */
    c = (mote_mqtt_connect_t){ .version = V311 };
    assert_int_equal(mote_mqtt_encode_connect(buf, sizeof buf, &c), MOTE_ERR_BAD_ARG);
    c.clean_start = true;
    assert_int_equal(mote_mqtt_encode_connect(buf, sizeof buf, &c), 14);
    /* ...while a server decodes it, to answer "identifier rejected" */
    static const uint8_t no_id[] = { 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x00, 0x00, 0x3C, 0x00, 0x00 };
    mote_mqtt_will_t dw;
    assert_int_equal(mote_mqtt_decode_connect(no_id, sizeof no_id, &c, &dw), MOTE_OK);
    assert_true(c.client_id.len == 0 && !c.clean_start);
    static const uint8_t codes311[] = { 0x87 };
    mote_mqtt_suback_t sa = { .packet_id = 1, .reason_codes = codes311, .count = 1 };
    assert_int_equal(mote_mqtt_encode_suback(buf, sizeof buf, V311, MOTE_MQTT_SUBACK, &sa), MOTE_ERR_BAD_REASON_CODE);
    mote_mqtt_connack_t ca = { .reason_code = 6 };
    assert_int_equal(mote_mqtt_encode_connack(buf, sizeof buf, V311, &ca), MOTE_ERR_BAD_REASON_CODE);
#endif
#if MOTE_MQTT_V5
    /* v5 has no such rule: the server may keep an assigned identifier's session */
    c = (mote_mqtt_connect_t){ .version = V5 };
    assert_int_equal(mote_mqtt_encode_connect(buf, sizeof buf, &c), 15);
    a.reason_code = 0x92;
    assert_int_equal(mote_mqtt_encode_ack(buf, sizeof buf, V5, MOTE_MQTT_PUBACK, &a), MOTE_ERR_BAD_REASON_CODE);
    a.reason_code = 0;
    static const uint8_t se[] = { 0x11, 0, 0, 0, 1 };
    a.props = (mote_mqtt_props_t){ se, sizeof se };
    assert_int_equal(mote_mqtt_encode_ack(buf, sizeof buf, V5, MOTE_MQTT_PUBACK, &a), MOTE_ERR_BAD_PROPERTY);
    p = (mote_mqtt_publish_t){ .topic = MOTE_STR("t"), .props = { se, sizeof se } };
    assert_int_equal(mote_mqtt_encode_publish(buf, sizeof buf, V5, &p), MOTE_ERR_BAD_PROPERTY);
    s = (mote_mqtt_subscription_t){ MOTE_STR("$share/g/a"), MOTE_SUB_NO_LOCAL };
    assert_int_equal(mote_mqtt_encode_subscribe(buf, sizeof buf, V5, 1, &s, 1, none), MOTE_ERR_BAD_FLAGS);
    s = (mote_mqtt_subscription_t){ MOTE_STR("a"), 0x30 };
    assert_int_equal(mote_mqtt_encode_subscribe(buf, sizeof buf, V5, 1, &s, 1, none), MOTE_ERR_BAD_FLAGS);
    assert_int_equal(mote_mqtt_encode_disconnect(buf, sizeof buf, V5, 0x18, none), MOTE_ERR_BAD_REASON_CODE);
    assert_int_equal(mote_mqtt_encode_auth(buf, sizeof buf, 0x04, none), MOTE_ERR_BAD_REASON_CODE);
    assert_int_equal(mote_mqtt_encode_auth(buf, sizeof buf, 0x18, none), MOTE_ERR_BAD_PROPERTY);
    assert_int_equal(mote_mqtt_encode_auth(buf, sizeof buf, 0x18,
                                           (mote_mqtt_props_t){ (const uint8_t[]){ 0x1F, 0, 0 }, 3 }),
                     MOTE_ERR_BAD_PROPERTY);
    mote_mqtt_connack_t ca5 = { .session_present = true, .reason_code = 0x80 };
    assert_int_equal(mote_mqtt_encode_connack(buf, sizeof buf, V5, &ca5), MOTE_ERR_BAD_FLAGS);
    static const uint8_t dup[] = { 0x01, 0x00, 0x01, 0x01 };
    p.props = (mote_mqtt_props_t){ dup, sizeof dup };
    assert_int_equal(mote_mqtt_encode_publish(buf, sizeof buf, V5, &p), MOTE_ERR_DUP_PROPERTY);
    /* an empty topic is fine with an alias, not without */
    p.topic = MOTE_STR("");
    p.props = none;
    assert_int_equal(mote_mqtt_encode_publish(buf, sizeof buf, V5, &p), MOTE_ERR_BAD_TOPIC);
#else
    assert_int_equal(mote_mqtt_encode_auth(buf, sizeof buf, 0, none), MOTE_ERR_UNSUPPORTED);
    assert_int_equal(mote_mqtt_encode_publish(buf, sizeof buf, MOTE_MQTT_VERSION_5, &p), MOTE_ERR_UNSUPPORTED);
#endif
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(decoders_reject),
        cmocka_unit_test(fixed_header_needs_more),
#if MOTE_MQTT_V5
        cmocka_unit_test(publish_header_streaming),
#endif
        cmocka_unit_test(encoders_reject),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
