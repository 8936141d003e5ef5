/* Every packet type of MQTT 3.1.1 and 5.0: encoders produce the bytes the specifications
 * define (vectors worked out by hand from the spec's field layouts), decoders read them
 * back, and decode + re-encode gives the same bytes. Built three times: both versions,
 * 3.1.1 only (MOTE_MQTT_V5=0) and 5 only (MOTE_MQTT_V311=0). */
#include "test_util.h"

static uint8_t buf[1024];

/* Encode, compare with the vector, then round-trip the vector. */
#define ENCODES_TO(call, v, ...)                                                        \
    do {                                                                                \
        static const uint8_t want_[] = { __VA_ARGS__ };                                 \
        int32_t n_ = (call);                                                            \
        expect_bytes(buf, n_, want_, sizeof want_);                                     \
        check_roundtrip(want_, sizeof want_, (v));                                      \
    } while (0)

#if MOTE_MQTT_V311
/* ---- MQTT 3.1.1 ----------------------------------------------------------------------- */

static void v311_connect_minimal(void **state)
{
    (void)state;
    mote_mqtt_connect_t c = { .version = V311, .clean_start = true, .keep_alive_s = 60,
                              .client_id = MOTE_STR("abc") };
    ENCODES_TO(mote_mqtt_encode_connect(buf, sizeof buf, &c), V311,
               0x10, 0x0F, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x02, 0x00, 0x3C,
               0x00, 0x03, 'a', 'b', 'c');
    /* buf NULL: size only */
    assert_int_equal(mote_mqtt_encode_connect(NULL, 0, &c), 17);
}

static void v311_connect_full(void **state)
{
    (void)state;
    mote_mqtt_will_t w = { .topic = MOTE_STR("w/t"), .payload = MOTE_STR("bye"), .qos = 1,
                           .retain = true };
    mote_mqtt_connect_t c = { .version = V311, .clean_start = true, .keep_alive_s = 10,
                              .client_id = MOTE_STR("c"), .will = &w,
                              .username = MOTE_STR("u"), .password = MOTE_STR("p") };
    ENCODES_TO(mote_mqtt_encode_connect(buf, sizeof buf, &c), V311,
               0x10, 0x1D, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0xEE, 0x00, 0x0A,
               0x00, 0x01, 'c', 0x00, 0x03, 'w', '/', 't', 0x00, 0x03, 'b', 'y', 'e',
               0x00, 0x01, 'u', 0x00, 0x01, 'p');
    /* decode fields */
    uint8_t type, flags;
    size_t rem;
    const uint8_t *body = body_of(buf, 31, &type, &flags, &rem);
    mote_mqtt_connect_t d;
    mote_mqtt_will_t dw;
    assert_int_equal(mote_mqtt_decode_connect(body, rem, &d, &dw), MOTE_OK);
    assert_int_equal(d.version, V311);
    assert_true(d.clean_start);
    assert_int_equal(d.keep_alive_s, 10);
    assert_ptr_equal(d.will, &dw);
    assert_int_equal(dw.qos, 1);
    assert_true(dw.retain);
    assert_memory_equal(dw.topic.ptr, "w/t", 3);
    assert_memory_equal(dw.payload.ptr, "bye", 3);
    assert_memory_equal(d.username.ptr, "u", 1);
    assert_memory_equal(d.password.ptr, "p", 1);
}

static void v311_connack(void **state)
{
    (void)state;
    mote_mqtt_connack_t c = { .session_present = true, .reason_code = 0 };
    ENCODES_TO(mote_mqtt_encode_connack(buf, sizeof buf, V311, &c), V311, 0x20, 0x02, 0x01, 0x00);
    c.session_present = false;
    c.reason_code = 5;
    ENCODES_TO(mote_mqtt_encode_connack(buf, sizeof buf, V311, &c), V311, 0x20, 0x02, 0x00, 0x05);
    mote_mqtt_connack_t d;
    assert_int_equal(mote_mqtt_decode_connack(buf + 2, 2, V311, &d), MOTE_OK);
    assert_int_equal(d.reason_code, 5);
    assert_false(d.session_present);
}

static void v311_publish(void **state)
{
    (void)state;
    mote_mqtt_publish_t p = { .topic = MOTE_STR("a/b"), .payload = MOTE_STR("hi") };
    ENCODES_TO(mote_mqtt_encode_publish(buf, sizeof buf, V311, &p), V311,
               0x30, 0x07, 0x00, 0x03, 'a', '/', 'b', 'h', 'i');
    assert_int_equal(mote_mqtt_publish_size(V311, &p), 9);
    p.qos = 1;
    p.dup = true;
    p.retain = true;
    p.packet_id = 10;
    ENCODES_TO(mote_mqtt_encode_publish(buf, sizeof buf, V311, &p), V311,
               0x3B, 0x09, 0x00, 0x03, 'a', '/', 'b', 0x00, 0x0A, 'h', 'i');
    /* header only, for gathered writes */
    assert_int_equal(mote_mqtt_encode_publish_header(buf, 9, V311, &p), 9);
    assert_memory_equal(buf, ((const uint8_t[]){ 0x3B, 0x09, 0x00, 0x03, 'a', '/', 'b', 0x00, 0x0A }), 9);
    mote_mqtt_publish_t d;
    assert_int_equal(mote_mqtt_decode_publish(
                         (const uint8_t[]){ 0x00, 0x03, 'a', '/', 'b', 0x00, 0x0A, 'h', 'i' }, 9,
                         0x0B, V311, &d),
                     MOTE_OK);
    assert_int_equal(d.qos, 1);
    assert_true(d.dup);
    assert_true(d.retain);
    assert_int_equal(d.packet_id, 10);
    assert_int_equal(d.payload.len, 2);
    assert_memory_equal(d.payload.ptr, "hi", 2);
}

static void v311_publish_two_byte_length(void **state)
{
    (void)state;
    uint8_t payload[200];
    memset(payload, 'x', sizeof payload);
    mote_mqtt_publish_t p = { .topic = MOTE_STR("t"), .payload = { payload, sizeof payload } };
    int32_t n = mote_mqtt_encode_publish(buf, sizeof buf, V311, &p);
    assert_int_equal(n, 206);
    /* remaining 203 = 0xCB 0x01 */
    assert_memory_equal(buf, ((const uint8_t[]){ 0x30, 0xCB, 0x01, 0x00, 0x01, 't', 'x' }), 7);
    check_roundtrip(buf, (size_t)n, V311);
    /* every buffer one byte short is refused, never overrun */
    for (size_t cap = 0; cap < 206; cap++)
        assert_int_equal(mote_mqtt_encode_publish(buf, cap, V311, &p), MOTE_ERR_BUFFER_TOO_SMALL);
}

static void v311_publish_streamed_header(void **state)
{
    (void)state;
    static const uint8_t body[] = { 0x00, 0x03, 'a', '/', 'b', 0x12, 0x34, 'p', 'a', 'y' };
    mote_mqtt_publish_t d;
    size_t off = 0;
    for (size_t avail = 0; avail < 7; avail++)
        assert_int_equal(mote_mqtt_decode_publish_header(body, avail, sizeof body, 0x02, V311, &d, &off),
                         MOTE_ERR_NEED_MORE);
    assert_int_equal(mote_mqtt_decode_publish_header(body, 7, sizeof body, 0x02, V311, &d, &off), MOTE_OK);
    assert_int_equal(off, 7);
    assert_int_equal(d.packet_id, 0x1234);
    assert_int_equal(d.payload.len, 3);
    assert_ptr_equal(d.payload.ptr, body + 7);
}

static void v311_acks(void **state)
{
    (void)state;
    mote_mqtt_ack_t a = { .packet_id = 1 };
    ENCODES_TO(mote_mqtt_encode_ack(buf, sizeof buf, V311, MOTE_MQTT_PUBACK, &a), V311, 0x40, 0x02, 0x00, 0x01);
    ENCODES_TO(mote_mqtt_encode_ack(buf, sizeof buf, V311, MOTE_MQTT_PUBREC, &a), V311, 0x50, 0x02, 0x00, 0x01);
    ENCODES_TO(mote_mqtt_encode_ack(buf, sizeof buf, V311, MOTE_MQTT_PUBREL, &a), V311, 0x62, 0x02, 0x00, 0x01);
    a.packet_id = 0xFFFF;
    ENCODES_TO(mote_mqtt_encode_ack(buf, sizeof buf, V311, MOTE_MQTT_PUBCOMP, &a), V311, 0x70, 0x02, 0xFF, 0xFF);
    mote_mqtt_ack_t d;
    assert_int_equal(mote_mqtt_decode_ack((const uint8_t[]){ 0x12, 0x34 }, 2, MOTE_MQTT_PUBREL, 2, V311, &d), MOTE_OK);
    assert_int_equal(d.packet_id, 0x1234);
    assert_int_equal(d.reason_code, 0);
}

static void v311_subscribe(void **state)
{
    (void)state;
    mote_mqtt_subscription_t s[] = { { MOTE_STR("a/+"), 1 }, { MOTE_STR("b/#"), 2 } };
    mote_mqtt_props_t none = { NULL, 0 };
    ENCODES_TO(mote_mqtt_encode_subscribe(buf, sizeof buf, V311, 1, s, 2, none), V311,
               0x82, 0x0E, 0x00, 0x01, 0x00, 0x03, 'a', '/', '+', 0x01, 0x00, 0x03, 'b', '/', '#', 0x02);
    uint16_t pid;
    mote_mqtt_props_t props;
    size_t count, cur = 0;
    assert_int_equal(mote_mqtt_decode_subscribe(buf + 2, 14, 2, V311, &pid, &props, &count), MOTE_OK);
    assert_int_equal(pid, 1);
    assert_int_equal(count, 2);
    mote_mqtt_subscription_t d;
    assert_true(mote_mqtt_subscribe_next(buf + 2, 14, V311, &cur, &d));
    assert_memory_equal(d.filter.ptr, "a/+", 3);
    assert_int_equal(d.options, 1);
    assert_true(mote_mqtt_subscribe_next(buf + 2, 14, V311, &cur, &d));
    assert_memory_equal(d.filter.ptr, "b/#", 3);
    assert_int_equal(d.options, 2);
    assert_false(mote_mqtt_subscribe_next(buf + 2, 14, V311, &cur, &d));
}

static void v311_suback_unsub(void **state)
{
    (void)state;
    static const uint8_t codes[] = { 0x01, 0x80 };
    mote_mqtt_suback_t s = { .packet_id = 1, .reason_codes = codes, .count = 2 };
    ENCODES_TO(mote_mqtt_encode_suback(buf, sizeof buf, V311, MOTE_MQTT_SUBACK, &s), V311,
               0x90, 0x04, 0x00, 0x01, 0x01, 0x80);
    mote_bytes_t f[] = { MOTE_STR("a") };
    mote_mqtt_props_t none = { NULL, 0 };
    ENCODES_TO(mote_mqtt_encode_unsubscribe(buf, sizeof buf, V311, 3, f, 1, none), V311,
               0xA2, 0x05, 0x00, 0x03, 0x00, 0x01, 'a');
    s.packet_id = 3;
    ENCODES_TO(mote_mqtt_encode_suback(buf, sizeof buf, V311, MOTE_MQTT_UNSUBACK, &s), V311,
               0xB0, 0x02, 0x00, 0x03);
    mote_mqtt_suback_t d;
    assert_int_equal(mote_mqtt_decode_suback((const uint8_t[]){ 0, 1, 0, 1, 2, 0x80 }, 6, MOTE_MQTT_SUBACK, V311, &d), MOTE_OK);
    assert_int_equal(d.count, 4);
    assert_int_equal(d.reason_codes[3], 0x80);
}

static void v311_ping_disconnect(void **state)
{
    (void)state;
    mote_mqtt_props_t none = { NULL, 0 };
    ENCODES_TO(mote_mqtt_encode_pingreq(buf, sizeof buf), V311, 0xC0, 0x00);
    ENCODES_TO(mote_mqtt_encode_pingresp(buf, sizeof buf), V311, 0xD0, 0x00);
    ENCODES_TO(mote_mqtt_encode_disconnect(buf, sizeof buf, V311, 0, none), V311, 0xE0, 0x00);
    assert_int_equal(mote_mqtt_encode_pingreq(buf, 1), MOTE_ERR_BUFFER_TOO_SMALL);
}
#endif

#if MOTE_MQTT_V5
/* ---- MQTT 5.0 ------------------------------------------------------------------------- */

static void v5_connect_props(void **state)
{
    (void)state;
    uint8_t pb[32];
    mote_mqtt_props_builder_t b;
    mote_mqtt_props_init(&b, pb, sizeof pb);
    assert_int_equal(mote_mqtt_props_add_int(&b, MOTE_PROP_SESSION_EXPIRY, 3600), MOTE_OK);
    assert_int_equal(mote_mqtt_props_add_int(&b, MOTE_PROP_RECEIVE_MAXIMUM, 20), MOTE_OK);
    mote_mqtt_connect_t c = { .version = V5, .clean_start = true, .keep_alive_s = 60,
                              .client_id = MOTE_STR("abc"), .props = mote_mqtt_props_view(&b) };
    ENCODES_TO(mote_mqtt_encode_connect(buf, sizeof buf, &c), V5,
               0x10, 0x18, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x05, 0x02, 0x00, 0x3C,
               0x08, 0x11, 0x00, 0x00, 0x0E, 0x10, 0x21, 0x00, 0x14, 0x00, 0x03, 'a', 'b', 'c');
}

static void v5_connect_will_password_only(void **state)
{
    (void)state;
    static const uint8_t wp[] = { 0x18, 0x00, 0x00, 0x00, 0x05 };
    mote_mqtt_will_t w = { .topic = MOTE_STR("w"), .payload = MOTE_STR("x"),
                           .props = { wp, sizeof wp } };
    mote_mqtt_connect_t c = { .version = V5, .clean_start = true, .client_id = MOTE_STR("c"),
                              .will = &w };
    ENCODES_TO(mote_mqtt_encode_connect(buf, sizeof buf, &c), V5,
               0x10, 0x1A, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x05, 0x06, 0x00, 0x00, 0x00,
               0x00, 0x01, 'c', 0x05, 0x18, 0x00, 0x00, 0x00, 0x05, 0x00, 0x01, 'w', 0x00, 0x01, 'x');
    /* v5 allows a password without a user name */
    c.will = NULL;
    c.password = MOTE_STR("pw");
    ENCODES_TO(mote_mqtt_encode_connect(buf, sizeof buf, &c), V5,
               0x10, 0x12, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x05, 0x42, 0x00, 0x00, 0x00,
               0x00, 0x01, 'c', 0x00, 0x02, 'p', 'w');
}

static void v5_connack(void **state)
{
    (void)state;
    mote_mqtt_connack_t c = { .reason_code = 0 };
    ENCODES_TO(mote_mqtt_encode_connack(buf, sizeof buf, V5, &c), V5, 0x20, 0x03, 0x00, 0x00, 0x00);
    static const uint8_t pr[] = { 0x12, 0x00, 0x01, 'x', 0x22, 0x00, 0x0A };
    c.session_present = true;
    c.props = (mote_mqtt_props_t){ pr, sizeof pr };
    ENCODES_TO(mote_mqtt_encode_connack(buf, sizeof buf, V5, &c), V5,
               0x20, 0x0A, 0x01, 0x00, 0x07, 0x12, 0x00, 0x01, 'x', 0x22, 0x00, 0x0A);
    mote_mqtt_connack_t d;
    assert_int_equal(mote_mqtt_decode_connack(buf + 2, 10, V5, &d), MOTE_OK);
    mote_mqtt_prop_t p;
    assert_true(mote_mqtt_prop_find(d.props, MOTE_PROP_ASSIGNED_CLIENT_ID, &p));
    assert_int_equal(p.value.len, 1);
    assert_int_equal(p.value.ptr[0], 'x');
    assert_true(mote_mqtt_prop_find(d.props, MOTE_PROP_TOPIC_ALIAS_MAXIMUM, &p));
    assert_int_equal(p.u32, 10);
    assert_false(mote_mqtt_prop_find(d.props, MOTE_PROP_MAXIMUM_QOS, &p));
    c.session_present = false;
    c.props = (mote_mqtt_props_t){ NULL, 0 };
    c.reason_code = 0x87;
    ENCODES_TO(mote_mqtt_encode_connack(buf, sizeof buf, V5, &c), V5, 0x20, 0x03, 0x00, 0x87, 0x00);
}

static void v5_publish(void **state)
{
    (void)state;
    mote_mqtt_publish_t p = { .topic = MOTE_STR("a/b"), .payload = MOTE_STR("hi") };
    ENCODES_TO(mote_mqtt_encode_publish(buf, sizeof buf, V5, &p), V5,
               0x30, 0x08, 0x00, 0x03, 'a', '/', 'b', 0x00, 'h', 'i');
    static const uint8_t pr[] = { 0x01, 0x01, 0x23, 0x00, 0x05 };
    p = (mote_mqtt_publish_t){ .topic = MOTE_STR("t"), .payload = MOTE_STR("p"), .qos = 2,
                               .packet_id = 0x1234, .props = { pr, sizeof pr } };
    ENCODES_TO(mote_mqtt_encode_publish(buf, sizeof buf, V5, &p), V5,
               0x34, 0x0C, 0x00, 0x01, 't', 0x12, 0x34, 0x05, 0x01, 0x01, 0x23, 0x00, 0x05, 'p');
    /* empty topic with a topic alias */
    static const uint8_t alias[] = { 0x23, 0x00, 0x05 };
    p = (mote_mqtt_publish_t){ .topic = { (const uint8_t *)"", 0 }, .props = { alias, 3 } };
    ENCODES_TO(mote_mqtt_encode_publish(buf, sizeof buf, V5, &p), V5,
               0x30, 0x06, 0x00, 0x00, 0x03, 0x23, 0x00, 0x05);
    /* several subscription identifiers and user properties in one PUBLISH */
    static const uint8_t many[] = { 0x0B, 0x01, 0x0B, 0x80, 0x01, 0x26, 0x00, 0x01, 'k', 0x00, 0x01, 'v',
                                    0x26, 0x00, 0x01, 'k', 0x00, 0x00, 0x09, 0x00, 0x02, 0xFF, 0x00,
                                    0x08, 0x00, 0x03, 'r', '/', 't', 0x03, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x3C };
    p = (mote_mqtt_publish_t){ .topic = MOTE_STR("t"), .props = { many, sizeof many } };
    int32_t n = mote_mqtt_encode_publish(buf, sizeof buf, V5, &p);
    assert_int_equal(n, 2 + 3 + 1 + (int32_t)sizeof many);
    check_roundtrip(buf, (size_t)n, V5);
    mote_mqtt_publish_t d;
    assert_int_equal(mote_mqtt_decode_publish(buf + 2, (size_t)n - 2, 0, V5, &d), MOTE_OK);
    size_t cur = 0, subs = 0, users = 0;
    mote_mqtt_prop_t pp;
    while (mote_mqtt_prop_next(d.props, &cur, &pp)) {
        if (pp.id == MOTE_PROP_SUBSCRIPTION_ID)
            assert_int_equal(pp.u32, subs++ ? 128 : 1);
        if (pp.id == MOTE_PROP_USER_PROPERTY) {
            users++;
            assert_int_equal(pp.key.len, 1);
        }
        if (pp.id == MOTE_PROP_MESSAGE_EXPIRY)
            assert_int_equal(pp.u32, 60);
    }
    assert_int_equal(subs, 2);
    assert_int_equal(users, 2);
    assert_int_equal(cur, sizeof many);
}

static void v5_acks(void **state)
{
    (void)state;
    mote_mqtt_ack_t a = { .packet_id = 1 };
    ENCODES_TO(mote_mqtt_encode_ack(buf, sizeof buf, V5, MOTE_MQTT_PUBACK, &a), V5, 0x40, 0x02, 0x00, 0x01);
    a.reason_code = 0x10;
    ENCODES_TO(mote_mqtt_encode_ack(buf, sizeof buf, V5, MOTE_MQTT_PUBACK, &a), V5, 0x40, 0x03, 0x00, 0x01, 0x10);
    static const uint8_t rs[] = { 0x1F, 0x00, 0x02, 'n', 'o' };
    a.props = (mote_mqtt_props_t){ rs, sizeof rs };
    ENCODES_TO(mote_mqtt_encode_ack(buf, sizeof buf, V5, MOTE_MQTT_PUBREC, &a), V5,
               0x50, 0x09, 0x00, 0x01, 0x10, 0x05, 0x1F, 0x00, 0x02, 'n', 'o');
    a = (mote_mqtt_ack_t){ .packet_id = 2, .reason_code = 0x92 };
    ENCODES_TO(mote_mqtt_encode_ack(buf, sizeof buf, V5, MOTE_MQTT_PUBREL, &a), V5, 0x62, 0x03, 0x00, 0x02, 0x92);
    ENCODES_TO(mote_mqtt_encode_ack(buf, sizeof buf, V5, MOTE_MQTT_PUBCOMP, &a), V5, 0x70, 0x03, 0x00, 0x02, 0x92);
    /* the long forms are accepted too: reason code 0 spelled out, empty properties */
    mote_mqtt_ack_t d;
    assert_int_equal(mote_mqtt_decode_ack((const uint8_t[]){ 0, 1, 0 }, 3, MOTE_MQTT_PUBACK, 0, V5, &d), MOTE_OK);
    assert_int_equal(mote_mqtt_decode_ack((const uint8_t[]){ 0, 1, 0x10, 0 }, 4, MOTE_MQTT_PUBACK, 0, V5, &d), MOTE_OK);
    assert_int_equal(d.reason_code, 0x10);
    assert_int_equal(d.props.len, 0);
}

static void v5_subscribe(void **state)
{
    (void)state;
    static const uint8_t sid[] = { 0x0B, 0x07 };
    mote_mqtt_subscription_t s[] = {
        { MOTE_STR("a"), 1 | MOTE_SUB_NO_LOCAL | MOTE_SUB_RETAIN_AS_PUBLISHED | MOTE_SUB_RETAIN_DO_NOT_SEND },
    };
    mote_mqtt_props_t props = { sid, sizeof sid };
    ENCODES_TO(mote_mqtt_encode_subscribe(buf, sizeof buf, V5, 2, s, 1, props), V5,
               0x82, 0x09, 0x00, 0x02, 0x02, 0x0B, 0x07, 0x00, 0x01, 'a', 0x2D);
    mote_mqtt_subscription_t sh[] = { { MOTE_STR("$share/g/a/#"), 2 | MOTE_SUB_RETAIN_SEND_IF_NEW } };
    mote_mqtt_props_t none = { NULL, 0 };
    ENCODES_TO(mote_mqtt_encode_subscribe(buf, sizeof buf, V5, 3, sh, 1, none), V5,
               0x82, 0x12, 0x00, 0x03, 0x00, 0x00, 0x0C, '$', 's', 'h', 'a', 'r', 'e', '/', 'g', '/',
               'a', '/', '#', 0x12);
    uint16_t pid;
    size_t count, cur = 0;
    mote_mqtt_props_t dp;
    assert_int_equal(mote_mqtt_decode_subscribe(buf + 2, 0x12, 2, V5, &pid, &dp, &count), MOTE_OK);
    assert_int_equal(count, 1);
    mote_mqtt_subscription_t d;
    assert_true(mote_mqtt_subscribe_next(buf + 2, 0x12, V5, &cur, &d));
    assert_int_equal(d.filter.len, 12);
    assert_int_equal(d.options, 0x12);
}

static void v5_suback_unsub(void **state)
{
    (void)state;
    static const uint8_t codes[] = { 0x01, 0xA2 };
    mote_mqtt_suback_t s = { .packet_id = 1, .reason_codes = codes, .count = 2 };
    ENCODES_TO(mote_mqtt_encode_suback(buf, sizeof buf, V5, MOTE_MQTT_SUBACK, &s), V5,
               0x90, 0x05, 0x00, 0x01, 0x00, 0x01, 0xA2);
    mote_bytes_t f[] = { MOTE_STR("a") };
    mote_mqtt_props_t none = { NULL, 0 };
    ENCODES_TO(mote_mqtt_encode_unsubscribe(buf, sizeof buf, V5, 3, f, 1, none), V5,
               0xA2, 0x06, 0x00, 0x03, 0x00, 0x00, 0x01, 'a');
    static const uint8_t un[] = { 0x11 };
    s = (mote_mqtt_suback_t){ .packet_id = 3, .reason_codes = un, .count = 1 };
    ENCODES_TO(mote_mqtt_encode_suback(buf, sizeof buf, V5, MOTE_MQTT_UNSUBACK, &s), V5,
               0xB0, 0x04, 0x00, 0x03, 0x00, 0x11);
}

static void v5_disconnect_auth(void **state)
{
    (void)state;
    mote_mqtt_props_t none = { NULL, 0 };
    ENCODES_TO(mote_mqtt_encode_disconnect(buf, sizeof buf, V5, 0, none), V5, 0xE0, 0x00);
    ENCODES_TO(mote_mqtt_encode_disconnect(buf, sizeof buf, V5, 0x04, none), V5, 0xE0, 0x01, 0x04);
    static const uint8_t se[] = { 0x11, 0x00, 0x00, 0x00, 0x00 };
    ENCODES_TO(mote_mqtt_encode_disconnect(buf, sizeof buf, V5, 0, (mote_mqtt_props_t){ se, 5 }), V5,
               0xE0, 0x07, 0x00, 0x05, 0x11, 0x00, 0x00, 0x00, 0x00);
    ENCODES_TO(mote_mqtt_encode_auth(buf, sizeof buf, 0, none), V5, 0xF0, 0x00);
    static const uint8_t am[] = { 0x15, 0x00, 0x01, 'm', 0x16, 0x00, 0x01, 'd' };
    ENCODES_TO(mote_mqtt_encode_auth(buf, sizeof buf, 0x18, (mote_mqtt_props_t){ am, 8 }), V5,
               0xF0, 0x0A, 0x18, 0x08, 0x15, 0x00, 0x01, 'm', 0x16, 0x00, 0x01, 'd');
    ENCODES_TO(mote_mqtt_encode_auth(buf, sizeof buf, 0x19, (mote_mqtt_props_t){ am, 4 }), V5,
               0xF0, 0x06, 0x19, 0x04, 0x15, 0x00, 0x01, 'm');
    mote_mqtt_ack_t d;
    assert_int_equal(mote_mqtt_decode_disconnect((const uint8_t[]){ 0x8E }, 1, MOTE_MQTT_DISCONNECT, V5, &d), MOTE_OK);
    assert_int_equal(d.reason_code, 0x8E);
    ENCODES_TO(mote_mqtt_encode_pingreq(buf, sizeof buf), V5, 0xC0, 0x00);
}
#endif

int main(void)
{
    const struct CMUnitTest tests[] = {
#if MOTE_MQTT_V311
        cmocka_unit_test(v311_connect_minimal),
        cmocka_unit_test(v311_connect_full),
        cmocka_unit_test(v311_connack),
        cmocka_unit_test(v311_publish),
        cmocka_unit_test(v311_publish_two_byte_length),
        cmocka_unit_test(v311_publish_streamed_header),
        cmocka_unit_test(v311_acks),
        cmocka_unit_test(v311_subscribe),
        cmocka_unit_test(v311_suback_unsub),
        cmocka_unit_test(v311_ping_disconnect),
#endif
#if MOTE_MQTT_V5
        cmocka_unit_test(v5_connect_props),
        cmocka_unit_test(v5_connect_will_password_only),
        cmocka_unit_test(v5_connack),
        cmocka_unit_test(v5_publish),
        cmocka_unit_test(v5_acks),
        cmocka_unit_test(v5_subscribe),
        cmocka_unit_test(v5_suback_unsub),
        cmocka_unit_test(v5_disconnect_auth),
#endif
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
