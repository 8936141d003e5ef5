/* Topic names and filters, matching (MQTT 5.0 4.7, 3.1.1 4.7), MQTT UTF-8 strings,
 * the property builder/iterator, and reason code names. */
#include "test_util.h"

static mote_bytes_t span(const char *s, size_t n)
{
    mote_bytes_t b = { (const uint8_t *)s, n };
    return b;
}
#define S(lit) span(lit, sizeof(lit) - 1)

static void utf8_rules(void **state)
{
    (void)state;
    static const struct { const char *s; size_t n; bool ok; } cases[] = {
        { "", 0, true },
        { "abc", 3, true },
        { "\xC3\xA9", 2, true },              /* U+00E9 */
        { "\xE2\x82\xAC", 3, true },          /* U+20AC */
        { "\xF0\x90\x8D\x88", 4, true },      /* U+10348 */
        { "\xF4\x8F\xBF\xBF", 4, true },      /* U+10FFFF */
        { "\xEF\xBF\xBF", 3, true },          /* U+FFFF: a non-character, but allowed */
        { "\xED\x9F\xBF", 3, true },          /* U+D7FF, just below the surrogates */
        { "\xEE\x80\x80", 3, true },          /* U+E000, just above */
        { "\x01\x7F", 2, true },              /* control characters are allowed */
        { "a\0b", 3, false },                 /* U+0000 */
        { "\xC0\x80", 2, false },             /* overlong U+0000 */
        { "\xC1\xBF", 2, false },             /* overlong */
        { "\xE0\x80\xAF", 3, false },         /* overlong */
        { "\xE0\x9F\xBF", 3, false },         /* overlong */
        { "\xF0\x8F\xBF\xBF", 4, false },     /* overlong */
        { "\xED\xA0\x80", 3, false },         /* U+D800 */
        { "\xED\xBF\xBF", 3, false },         /* U+DFFF */
        { "\xF4\x90\x80\x80", 4, false },     /* U+110000 */
        { "\xF5\x80\x80\x80", 4, false },
        { "\xFF", 1, false },
        { "\x80", 1, false },                 /* lone continuation */
        { "\xC3", 1, false },                 /* truncated */
        { "\xE2\x82", 2, false },
        { "\xF0\x90\x8D", 3, false },
        { "\xC3\x28", 2, false },             /* bad continuation */
        { "\xE2\x28\xAC", 3, false },
        { "\xF0\x90\x28\x88", 4, false },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (mote_mqtt_utf8_valid((const uint8_t *)cases[i].s, cases[i].n) != cases[i].ok)
            fail_msg("utf8 case %zu", i);
    }
}

static void topic_names(void **state)
{
    (void)state;
    assert_int_equal(mote_mqtt_topic_validate(S("a")), MOTE_OK);
    assert_int_equal(mote_mqtt_topic_validate(S("/")), MOTE_OK);
    assert_int_equal(mote_mqtt_topic_validate(S("dt/sensors/device-0001/telemetry")), MOTE_OK);
    assert_int_equal(mote_mqtt_topic_validate(S("$SYS/broker/load")), MOTE_OK);
    assert_int_equal(mote_mqtt_topic_validate(S("caf\xC3\xA9/\xE2\x82\xAC")), MOTE_OK);
    assert_int_equal(mote_mqtt_topic_validate(S("")), MOTE_ERR_BAD_TOPIC);
    assert_int_equal(mote_mqtt_topic_validate(S("a/+")), MOTE_ERR_BAD_TOPIC);
    assert_int_equal(mote_mqtt_topic_validate(S("#")), MOTE_ERR_BAD_TOPIC);
    assert_int_equal(mote_mqtt_topic_validate(S("0123456789abcdef#")), MOTE_ERR_BAD_TOPIC);
    assert_int_equal(mote_mqtt_topic_validate(S("0123456789abcdef+x")), MOTE_ERR_BAD_TOPIC);
    assert_int_equal(mote_mqtt_topic_validate(S("a\0b")), MOTE_ERR_BAD_UTF8);
    assert_int_equal(mote_mqtt_topic_validate(S("0123456789abcde\xED\xA0\x80")), MOTE_ERR_BAD_UTF8);
    mote_bytes_t none = { NULL, 0 };
    assert_int_equal(mote_mqtt_topic_validate(none), MOTE_ERR_BAD_TOPIC);
    /* every position of a wildcard in a long name is found by the word-wise scan */
    char t[40];
    for (size_t pos = 0; pos < sizeof t; pos++) {
        memset(t, 'x', sizeof t);
        t[pos] = '+';
        assert_int_equal(mote_mqtt_topic_validate(span(t, sizeof t)), MOTE_ERR_BAD_TOPIC);
        t[pos] = '#';
        assert_int_equal(mote_mqtt_topic_validate(span(t, sizeof t)), MOTE_ERR_BAD_TOPIC);
        t[pos] = 0;
        assert_int_equal(mote_mqtt_topic_validate(span(t, sizeof t)), MOTE_ERR_BAD_UTF8);
        t[pos] = (char)0xFF;
        assert_int_equal(mote_mqtt_topic_validate(span(t, sizeof t)), MOTE_ERR_BAD_UTF8);
        t[pos] = '*';
        assert_int_equal(mote_mqtt_topic_validate(span(t, sizeof t)), MOTE_OK);
    }
    /* 65,535 bytes is the longest topic */
    static char big[65536];
    memset(big, 'a', sizeof big);
    assert_int_equal(mote_mqtt_topic_validate(span(big, 65535)), MOTE_OK);
    assert_int_equal(mote_mqtt_topic_validate(span(big, 65536)), MOTE_ERR_BAD_TOPIC);
}

static void topic_filters(void **state)
{
    (void)state;
    static const char *ok[] = { "#", "+", "a/+/b", "+/+", "/", "a/#", "+/#", "/+", "a//b",
                                "$SYS/#", "$share/g/a/#", "$share/g/#", "$share/g/+", "$share",
                                "$sharex/a", "sport/tennis/player1/#" };
    static const char *bad[] = { "", "a#", "a/#/b", "a+", "+a", "a/b+", "##", "++", "a/#/",
                                 "$share/", "$share/g", "$share/g/", "$share//a", "$share/g+/a",
                                 "$share/g#/a", "$share/g/a/#/b" };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        if (mote_mqtt_filter_validate(mote_bytes_cstr(ok[i])) != MOTE_OK)
            fail_msg("filter '%s' should be valid", ok[i]);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (mote_mqtt_filter_validate(mote_bytes_cstr(bad[i])) != MOTE_ERR_BAD_TOPIC)
            fail_msg("filter '%s' should be invalid", bad[i]);
    assert_int_equal(mote_mqtt_filter_validate(S("a/\xC0\x80")), MOTE_ERR_BAD_UTF8);
}

static void topic_matching(void **state)
{
    (void)state;
    static const struct { const char *f, *t; bool m; } cases[] = {
        /* MQTT 5.0 4.7.1.2 / 4.7.1.3 examples */
        { "sport/tennis/player1/#", "sport/tennis/player1", true },
        { "sport/tennis/player1/#", "sport/tennis/player1/ranking", true },
        { "sport/tennis/player1/#", "sport/tennis/player1/score/wimbledon", true },
        { "sport/#", "sport", true },
        { "#", "sport/tennis", true },
        { "sport/tennis/+", "sport/tennis/player1", true },
        { "sport/tennis/+", "sport/tennis/player1/ranking", false },
        { "sport/+", "sport", false },
        { "sport/+", "sport/", true },
        { "+/+", "/finance", true },
        { "/+", "/finance", true },
        { "+", "/finance", false },
        { "+/tennis/#", "sport/tennis/player1", true },
        /* 4.7.2: $-topics and wildcards in the first level */
        { "#", "$SYS/monitor/Clients", false },
        { "+/monitor/Clients", "$SYS/monitor/Clients", false },
        { "$SYS/#", "$SYS/monitor/Clients", true },
        { "$SYS/monitor/+", "$SYS/monitor/Clients", true },
        { "+", "$SYS", false },
        /* plain levels */
        { "a/b", "a/b", true },
        { "a/b", "a/bc", false },
        { "a/bc", "a/b", false },
        { "a/b", "a", false },
        { "a", "a/b", false },
        { "a/+", "a/b/c", false },
        { "a/+/c", "a/b/c", true },
        { "a/+/c", "a//c", true },
        { "a/#", "a/", true },
        { "a/b/#", "a/c", false },
        { "a//b", "a/b", false },
        { "+/#", "a", true },
        { "a/+/#", "a/b", true },
        { "a/+/#", "a", false },
        { "a/+", "a/", true },
        { "/#", "/", true },
        { "a/b/c", "a/b/c/", false },
        /* shared subscriptions match their inner filter */
        { "$share/g/a/+", "a/b", true },
        { "$share/g/#", "x/y", true },
        { "$share/g/#", "$SYS/x", false },
        { "$share/g/a", "$share/g/a", false },
        { "$share/g", "$share/g", false },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bool got = mote_mqtt_topic_matches(mote_bytes_cstr(cases[i].f), mote_bytes_cstr(cases[i].t));
        if (got != cases[i].m)
            fail_msg("'%s' vs '%s': got %d", cases[i].f, cases[i].t, got);
    }
    assert_false(mote_mqtt_topic_matches(S(""), S("a")));
    assert_false(mote_mqtt_topic_matches(S("#"), S("")));
}

#if MOTE_MQTT_V5
static void props_builder(void **state)
{
    (void)state;
    uint8_t buf[64];
    mote_mqtt_props_builder_t b;
    mote_mqtt_props_init(&b, buf, sizeof buf);
    assert_int_equal(mote_mqtt_props_add_int(&b, MOTE_PROP_PAYLOAD_FORMAT, 1), MOTE_OK);
    assert_int_equal(mote_mqtt_props_add_int(&b, MOTE_PROP_TOPIC_ALIAS, 0x1234), MOTE_OK);
    assert_int_equal(mote_mqtt_props_add_int(&b, MOTE_PROP_MESSAGE_EXPIRY, 0x01020304), MOTE_OK);
    assert_int_equal(mote_mqtt_props_add_int(&b, MOTE_PROP_SUBSCRIPTION_ID, 268435455), MOTE_OK);
    assert_int_equal(mote_mqtt_props_add_bytes(&b, MOTE_PROP_CONTENT_TYPE, S("j")), MOTE_OK);
    assert_int_equal(mote_mqtt_props_add_bytes(&b, MOTE_PROP_CORRELATION_DATA, S("\xFF")), MOTE_OK);
    assert_int_equal(mote_mqtt_props_add_user(&b, S("k"), S("v")), MOTE_OK);
    static const uint8_t want[] = { 0x01, 0x01, 0x23, 0x12, 0x34, 0x02, 0x01, 0x02, 0x03, 0x04,
                                    0x0B, 0xFF, 0xFF, 0xFF, 0x7F, 0x03, 0x00, 0x01, 'j',
                                    0x09, 0x00, 0x01, 0xFF, 0x26, 0x00, 0x01, 'k', 0x00, 0x01, 'v' };
    mote_mqtt_props_t v = mote_mqtt_props_view(&b);
    expect_bytes(v.ptr, (int32_t)v.len, want, sizeof want);
    size_t cur = 0, n = 0;
    mote_mqtt_prop_t p;
    while (mote_mqtt_prop_next(v, &cur, &p))
        n++;
    assert_int_equal(n, 7);
    assert_true(mote_mqtt_prop_find(v, MOTE_PROP_SUBSCRIPTION_ID, &p));
    assert_int_equal(p.u32, 268435455);
    assert_true(mote_mqtt_prop_find(v, MOTE_PROP_USER_PROPERTY, &p));
    assert_int_equal(p.key.ptr[0], 'k');
    assert_int_equal(p.value.ptr[0], 'v');
    /* wrong type for the id, out of range values, unknown ids, bad UTF-8 */
    assert_int_equal(mote_mqtt_props_add_int(&b, MOTE_PROP_CONTENT_TYPE, 1), MOTE_ERR_BAD_ARG);
    assert_int_equal(mote_mqtt_props_add_int(&b, MOTE_PROP_PAYLOAD_FORMAT, 256), MOTE_ERR_BAD_ARG);
    assert_int_equal(mote_mqtt_props_add_int(&b, MOTE_PROP_TOPIC_ALIAS, 65536), MOTE_ERR_BAD_ARG);
    assert_int_equal(mote_mqtt_props_add_int(&b, MOTE_PROP_SUBSCRIPTION_ID, 268435456), MOTE_ERR_BAD_ARG);
    assert_int_equal(mote_mqtt_props_add_int(&b, 0x05, 1), MOTE_ERR_BAD_ARG);
    assert_int_equal(mote_mqtt_props_add_int(&b, 0xFF, 1), MOTE_ERR_BAD_ARG);
    assert_int_equal(mote_mqtt_props_add_bytes(&b, MOTE_PROP_TOPIC_ALIAS, S("x")), MOTE_ERR_BAD_ARG);
    assert_int_equal(mote_mqtt_props_add_bytes(&b, MOTE_PROP_CONTENT_TYPE, S("\xC0\x80")), MOTE_ERR_BAD_UTF8);
    assert_int_equal(mote_mqtt_props_add_user(&b, S("a\0"), S("v")), MOTE_ERR_BAD_UTF8);
    assert_int_equal(b.len, sizeof want);
    /* out of room: the builder is left unchanged */
    mote_mqtt_props_init(&b, buf, 4);
    assert_int_equal(mote_mqtt_props_add_int(&b, MOTE_PROP_MESSAGE_EXPIRY, 1), MOTE_ERR_BUFFER_TOO_SMALL);
    assert_int_equal(b.len, 0);
    assert_int_equal(mote_mqtt_props_add_int(&b, MOTE_PROP_TOPIC_ALIAS, 1), MOTE_OK);
    assert_int_equal(mote_mqtt_props_add_user(&b, S("k"), S("v")), MOTE_ERR_BUFFER_TOO_SMALL);
    assert_int_equal(b.len, 3);
}

static void reason_names(void **state)
{
    (void)state;
    assert_string_equal(mote_mqtt_reason_string(0x00), "Success");
    assert_string_equal(mote_mqtt_reason_string(0x04), "Disconnect with Will Message");
    assert_string_equal(mote_mqtt_reason_string(0x87), "Not authorized");
    assert_string_equal(mote_mqtt_reason_string(0x97), "Quota exceeded");
    assert_string_equal(mote_mqtt_reason_string(0xA2), "Wildcard Subscriptions not supported");
    assert_string_equal(mote_mqtt_reason_string(0x03), "Unknown reason code");
    assert_string_equal(mote_mqtt_reason_string(0xFF), "Unknown reason code");
}
#endif

static void v311_names(void **state)
{
    (void)state;
    assert_string_equal(mote_mqtt_v311_connack_string(0), "Connection accepted");
    assert_string_equal(mote_mqtt_v311_connack_string(1), "Unacceptable protocol version");
    assert_string_equal(mote_mqtt_v311_connack_string(5), "Not authorized");
    assert_string_equal(mote_mqtt_v311_connack_string(6), "Unknown return code");
    mote_bytes_t b = mote_bytes_cstr("abc");
    assert_int_equal(b.len, 3);
    b = mote_bytes_cstr(NULL);
    assert_null(b.ptr);
    assert_int_equal(b.len, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(utf8_rules),
        cmocka_unit_test(topic_names),
        cmocka_unit_test(topic_filters),
        cmocka_unit_test(topic_matching),
#if MOTE_MQTT_V5
        cmocka_unit_test(props_builder),
        cmocka_unit_test(reason_names),
#endif
        cmocka_unit_test(v311_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
