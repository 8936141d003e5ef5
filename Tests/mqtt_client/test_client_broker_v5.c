/* MQTT 5 client against what a broker sends: CONNACK limits and their effect on what the
 * client sends, server DISCONNECT and AUTH, incoming topic aliases and subscription
 * identifiers, failure reason codes on acks, forbidden duplicate properties, and a broker
 * that ignores the limits we announced. v5 only (not built against the 3.1.1-only core). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "scripted.h"

#define V5 MOTE_MQTT_VERSION_5

static mote_err_t run(fixture_t *f, int rounds)
{
    mote_err_t rc = MOTE_OK;
    while (rounds-- > 0 && (rc = mote_mqtt_process(&f->c, 0)) == MOTE_OK) {
    }
    return rc;
}

/* How many packets of this type were sent since the last fixture_clear_sent. */
static int count_sent(fixture_t *f, uint8_t want)
{
    size_t cur = 0;
    uint8_t type, flags;
    const uint8_t *body;
    uint32_t rem;
    int n = 0;
    while (sent_next(&f->t, &cur, &type, &flags, &body, &rem))
        n += type == want;
    return n;
}

/* The largest packet sent since the last fixture_clear_sent (bytes, fixed header included). */
static uint32_t largest_sent(fixture_t *f)
{
    size_t cur = 0, prev = 0;
    uint8_t type, flags;
    const uint8_t *body;
    uint32_t rem, most = 0;
    while (sent_next(&f->t, &cur, &type, &flags, &body, &rem)) {
        if (cur - prev > most)
            most = (uint32_t)(cur - prev);
        prev = cur;
    }
    return most;
}

/* Raw CONNACK (session present 0, success) with these property bytes, then connect. */
static mote_err_t connect_raw_props(fixture_t *f, const uint8_t *props, size_t len, bool clean)
{
    uint8_t pkt[64];
    mote_mqtt_connect_opts_t o;
    pkt[0] = 0x20;
    pkt[1] = (uint8_t)(3 + len);
    pkt[2] = clean ? 0 : 1;
    pkt[3] = 0;
    pkt[4] = (uint8_t)len;
    memcpy(pkt + 5, props, len);
    script_bytes(&f->t, pkt, 5 + len);
    memset(&o, 0, sizeof o);
    o.version = V5;
    o.client_id = MOTE_STR("c");
    o.clean_start = clean;
    return mote_mqtt_connect(&f->c, &o, 1000, NULL);
}

/* ---- CONNACK -------------------------------------------------------------------------- */

/* Receive Maximum 0, Maximum Packet Size 0, Maximum QoS 2, a Retain Available of 2 and any
 * property given twice are protocol errors of the server: the connect fails. */
static void connack_bad_limits_fail_connect(void **state)
{
    static const struct {
        uint8_t p[8];
        size_t len;
    } cases[] = {
        { { 0x21, 0x00, 0x00 }, 3 },                         /* receive maximum 0 */
        { { 0x27, 0, 0, 0, 0 }, 5 },                         /* maximum packet size 0 */
        { { 0x24, 0x02 }, 2 },                               /* maximum QoS 2 */
        { { 0x25, 0x02 }, 2 },                               /* retain available 2 */
        { { 0x21, 0x00, 0x05, 0x21, 0x00, 0x06 }, 6 },       /* receive maximum twice */
        { { 0x13, 0x00, 0x05, 0x13, 0x00, 0x06 }, 6 },       /* server keep alive twice */
        { { 0x24, 0x00, 0x24, 0x01 }, 4 },                   /* maximum QoS twice */
    };
    size_t i;
    (void)state;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fixture_t *f = fixture_new(256, 256);
        mote_err_t rc = connect_raw_props(f, cases[i].p, cases[i].len, true);
        if (rc == MOTE_OK)
            fprintf(stderr, "case %zu accepted\n", i);
        assert_true(rc == MOTE_ERR_BAD_PROPERTY || rc == MOTE_ERR_DUP_PROPERTY);
        assert_false(mote_mqtt_is_connected(&f->c));
        fixture_free(f);
    }
}

/* Session Present 1 answering a clean start: the server broke the protocol. */
static void connack_session_present_with_clean_start(void **state)
{
    fixture_t *f = fixture_new(256, 256);
    uint8_t pkt[8] = { 0x20, 0x03, 0x01, 0x00, 0x00 };
    mote_mqtt_connect_opts_t o;
    (void)state;
    script_bytes(&f->t, pkt, 5);
    memset(&o, 0, sizeof o);
    o.version = V5;
    o.client_id = MOTE_STR("c");
    o.clean_start = true;
    assert_int_equal(mote_mqtt_connect(&f->c, &o, 1000, NULL), MOTE_ERR_PROTOCOL);
    assert_false(mote_mqtt_is_connected(&f->c));
    fixture_free(f);
}

/* Maximum QoS 0 and Retain Available 0: QoS 1 and retained publishes are refused locally. */
static void connack_max_qos_and_retain(void **state)
{
    fixture_t *f = fixture_new(256, 256);
    static const uint8_t p[] = { 0x24, 0x00, 0x25, 0x00 };
    mote_mqtt_publish_t m = msg("t", "x", 1);
    (void)state;
    assert_int_equal(connect_raw_props(f, p, sizeof p, true), MOTE_OK);
    fixture_clear_sent(f);
    assert_int_equal(mote_mqtt_publish(&f->c, &m, NULL), MOTE_ERR_BAD_QOS);
    m.qos = 0;
    m.retain = true;
    assert_int_equal(mote_mqtt_publish(&f->c, &m, NULL), MOTE_ERR_UNSUPPORTED);
    m.retain = false;
    assert_int_equal(mote_mqtt_publish(&f->c, &m, NULL), MOTE_OK);
    assert_int_equal(mote_mqtt_flush(&f->c), MOTE_OK);
    assert_int_equal(count_sent(f, MOTE_MQTT_PUBLISH), 1);
    fixture_free(f);
}

/* A retained QoS 1 message unacknowledged when the connection dropped, and a new
 * connection (session present) whose server has no retained messages: the client must not
 * send a PUBLISH with RETAIN set, so the record completes as refused (0x9A, Retain not
 * supported) instead of being resent. */
static void resend_retained_to_server_without_retain(void **state)
{
    fixture_t *f = fixture_new(256, 1024);
    static const uint8_t p[] = { 0x25, 0x00 };
    mote_mqtt_publish_t m = msg("r/kept", "R", 1), plain = msg("r/plain", "P", 1);
    uint16_t id, id2;
    size_t cur = 0;
    uint8_t type, flags;
    const uint8_t *body;
    uint32_t rem;
    int retained = 0, resent = 0;
    (void)state;
    m.retain = true;
    assert_int_equal(fixture_connect(f, V5, false, NULL, 0), MOTE_OK);
    assert_int_equal(mote_mqtt_publish(&f->c, &m, &id), MOTE_OK);
    assert_int_equal(mote_mqtt_publish(&f->c, &plain, &id2), MOTE_OK);
    assert_int_equal(run(f, 2), MOTE_OK);
    mote_mqtt_reset_connection(&f->c);
    fixture_clear_sent(f);
    f->nev = 0;
    assert_int_equal(connect_raw_props(f, p, sizeof p, false), MOTE_OK);
    assert_int_equal(run(f, 3), MOTE_OK);
    while (sent_next(&f->t, &cur, &type, &flags, &body, &rem)) {
        if (type == MOTE_MQTT_PUBLISH) {
            resent++;
            retained += flags & 1u;
        }
    }
    assert_int_equal(retained, 0);
    assert_int_equal(resent, 1);
    assert_int_equal(f->nev, 1);
    assert_int_equal(f->ev[0].type, MOTE_MQTT_EVT_PUBLISH_DONE);
    assert_int_equal(f->ev[0].packet_id, id);
    assert_int_equal(f->ev[0].reason, 0x9A);
    assert_int_equal(mote_mqtt_inflight_count(&f->c), 1);
    fixture_free(f);
}

/* The server's maximum packet size covers every packet the client sends, DISCONNECT
 * included: one whose properties would make it larger is refused, nothing is sent, and
 * the client can still disconnect without them. */
static void disconnect_respects_server_max_packet_size(void **state)
{
    fixture_t *f = fixture_new(256, 1024);
    static const uint8_t p[] = { 0x27, 0x00, 0x00, 0x00, 0x20 }; /* 32 bytes */
    uint8_t pb[128];
    mote_mqtt_props_builder_t b;
    mote_mqtt_props_t none = { NULL, 0 };
    (void)state;
    assert_int_equal(connect_raw_props(f, p, sizeof p, true), MOTE_OK);
    fixture_clear_sent(f);
    mote_mqtt_props_init(&b, pb, sizeof pb);
    assert_int_equal(mote_mqtt_props_add_bytes(&b, MOTE_PROP_REASON_STRING,
                                               MOTE_STR("shutting down for a firmware update")),
                     MOTE_OK);
    assert_int_equal(mote_mqtt_disconnect(&f->c, 0, mote_mqtt_props_view(&b)),
                     MOTE_ERR_PACKET_TOO_LARGE);
    assert_int_equal(f->t.sent_len, 0);
    assert_true(mote_mqtt_is_connected(&f->c));
    assert_int_equal(mote_mqtt_disconnect(&f->c, 0, none), MOTE_OK);
    assert_int_equal(count_sent(f, MOTE_MQTT_DISCONNECT), 1);
    assert_true(largest_sent(f) <= 32);
    fixture_free(f);
}

/* Server Keep Alive replaces ours, also when ours was 0; Assigned Client Identifier and
 * Topic Alias Maximum reach the session info. */
static void connack_server_keep_alive_and_assigned_id(void **state)
{
    fixture_t *f = fixture_new(256, 256);
    static const uint8_t props[] = { 0x13, 0x00, 0x02, 0x12, 0x00, 0x02, 'i', 'd', 0x22, 0x00, 0x01 };
    uint8_t pkt[32];
    mote_mqtt_connect_opts_t o;
    mote_mqtt_session_info_t info;
    (void)state;
    pkt[0] = 0x20;
    pkt[1] = (uint8_t)(3 + sizeof props);
    pkt[2] = 0;
    pkt[3] = 0;
    pkt[4] = sizeof props;
    memcpy(pkt + 5, props, sizeof props);
    script_bytes(&f->t, pkt, 5 + sizeof props);
    memset(&o, 0, sizeof o);
    o.version = V5;
    o.clean_start = true;
    o.keep_alive_s = 0;
    assert_int_equal(mote_mqtt_connect(&f->c, &o, 1000, &info), MOTE_OK);
    assert_int_equal(info.keep_alive_s, 2);
    assert_int_equal(info.assigned_client_id.len, 2);
    assert_int_equal(info.topic_alias_maximum, 1);
    fixture_clear_sent(f);
    f->t.now += 2000;
    assert_int_equal(mote_mqtt_process(&f->c, 0), MOTE_OK);
    assert_int_equal(count_sent(f, MOTE_MQTT_PINGREQ), 1);
    fixture_free(f);
}

/* ---- DISCONNECT and AUTH from the server ------------------------------------------------ */

/* Forbidden duplicates in DISCONNECT, AUTH and acks: malformed/protocol errors. */
static void duplicate_properties_in_acks(void **state)
{
    static const struct {
        uint8_t b[24];
        size_t len;
    } cases[] = {
        /* DISCONNECT with two reason strings */
        { { 0xE0, 0x09, 0x8B, 0x07, 0x1F, 0x00, 0x01, 'a', 0x1F, 0x00, 0x00 }, 11 },
        /* DISCONNECT with two server references */
        { { 0xE0, 0x09, 0x9C, 0x07, 0x1C, 0x00, 0x01, 'a', 0x1C, 0x00, 0x00 }, 11 },
        /* AUTH with two methods */
        { { 0xF0, 0x09, 0x18, 0x07, 0x15, 0x00, 0x01, 'a', 0x15, 0x00, 0x00 }, 11 },
        /* PUBACK (unknown id 9, checked later) with two reason strings */
        { { 0x40, 0x0A, 0x00, 0x09, 0x00, 0x06, 0x1F, 0x00, 0x00, 0x1F, 0x00, 0x00 }, 12 },
    };
    size_t i;
    (void)state;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fixture_t *f = fixture_new(256, 256);
        assert_int_equal(fixture_connect(f, V5, false, NULL, 0), MOTE_OK);
        script_bytes(&f->t, cases[i].b, cases[i].len);
        assert_int_equal(run(f, 3), MOTE_ERR_DUP_PROPERTY);
        assert_int_equal(f->nev, 0);
        fixture_free(f);
    }
}

/* ---- Enhanced authentication (5.0 4.12, AUTH 3.15) ----------------------------------------- */

/* The method our CONNECT names, and the packets of a challenge/response exchange. */
static const uint8_t k_method[] = { 0x15, 0x00, 0x05, 'S', 'C', 'R', 'A', 'M' };
/* server AUTH 0x18 (continue), method and data "c1" */
static const uint8_t k_srv_continue[] = { 0xF0, 0x0F, 0x18, 0x0D, 0x15, 0x00, 0x05, 'S', 'C', 'R',
                                          'A', 'M', 0x16, 0x00, 0x02, 'c', '1' };
/* server AUTH 0x00 (success), method only */
static const uint8_t k_srv_success[] = { 0xF0, 0x0A, 0x00, 0x08, 0x15, 0x00, 0x05, 'S', 'C', 'R',
                                         'A', 'M' };
/* CONNACK 0x00 naming the method */
static const uint8_t k_connack_method[] = { 0x20, 0x0B, 0x00, 0x00, 0x08, 0x15, 0x00, 0x05, 'S',
                                            'C', 'R', 'A', 'M' };

/* Our answer: method and data "r1". */
static mote_mqtt_props_t answer_props(uint8_t *buf, size_t cap)
{
    mote_mqtt_props_builder_t b;
    mote_mqtt_props_init(&b, buf, cap);
    assert_int_equal(mote_mqtt_props_add_bytes(&b, MOTE_PROP_AUTH_METHOD, MOTE_STR("SCRAM")), MOTE_OK);
    assert_int_equal(mote_mqtt_props_add_bytes(&b, MOTE_PROP_AUTH_DATA, MOTE_STR("r1")), MOTE_OK);
    return mote_mqtt_props_view(&b);
}

/* The bytes of AUTH with that answer and this reason code. */
static size_t answer_packet(uint8_t reason, uint8_t *out)
{
    static const uint8_t tail[] = { 0x0D, 0x15, 0x00, 0x05, 'S', 'C', 'R', 'A', 'M',
                                    0x16, 0x00, 0x02, 'r', '1' };
    out[0] = 0xF0;
    out[1] = 0x0F;
    out[2] = reason;
    memcpy(out + 3, tail, sizeof tail);
    return 3 + sizeof tail;
}

/* What the answering callback saw: the result of each mote_mqtt_auth it made. */
static mote_err_t g_answer_rc[8];
static int g_answers;

/* Answer every server AUTH 0x18 with AUTH 0x18 from the callback. A real server sends
 * CONNACK only after our answer: while connecting, the CONNACK is scripted here, once the
 * answer was queued. */
static void answer_continue(fixture_t *f, const mote_mqtt_event_t *e)
{
    uint8_t pb[32];
    mote_err_t rc;
    bool connecting;
    if (e->type != MOTE_MQTT_EVT_AUTH || e->u.ack.reason_code != 0x18)
        return;
    connecting = !mote_mqtt_is_connected(&f->c);
    rc = mote_mqtt_auth(&f->c, 0x18, answer_props(pb, sizeof pb));
    if (g_answers < 8)
        g_answer_rc[g_answers++] = rc;
    if (rc == MOTE_OK && connecting)
        script_bytes(&f->t, k_connack_method, sizeof k_connack_method);
}

static mote_mqtt_connect_opts_t opts_with_method(void)
{
    mote_mqtt_connect_opts_t o;
    memset(&o, 0, sizeof o);
    o.version = V5;
    o.client_id = MOTE_STR("c");
    o.clean_start = true;
    o.extra_props.ptr = k_method;
    o.extra_props.len = sizeof k_method;
    return o;
}

/* Connect naming the method; the server accepts at once (CONNACK without a challenge). */
static mote_err_t connect_with_method(fixture_t *f)
{
    mote_mqtt_connect_opts_t o = opts_with_method();
    script_bytes(&f->t, k_connack_method, sizeof k_connack_method);
    return mote_mqtt_connect(&f->c, &o, 1000, NULL);
}

/* CONNECT with a method -> server AUTH 0x18 -> the application answers AUTH 0x18 from the
 * callback -> CONNACK 0x00: the connect succeeds, our AUTH went out after CONNECT. */
static void auth_challenge_during_connect(void **state)
{
    fixture_t *f = fixture_new(256, 256);
    mote_mqtt_connect_opts_t o = opts_with_method();
    uint8_t want[32];
    size_t want_len = answer_packet(0x18, want), cur = 0;
    uint8_t type, flags;
    const uint8_t *body;
    uint32_t rem;
    (void)state;
    g_answers = 0;
    f->hook = answer_continue;
    f->t.tick = 1; /* a connect left waiting ends at its timeout */
    script_bytes(&f->t, k_srv_continue, sizeof k_srv_continue);
    assert_int_equal(mote_mqtt_connect(&f->c, &o, 1000, NULL), MOTE_OK);
    assert_true(mote_mqtt_is_connected(&f->c));
    assert_int_equal(g_answers, 1);
    assert_int_equal(g_answer_rc[0], MOTE_OK);
    assert_int_equal(f->nev, 1);
    assert_int_equal(f->ev[0].type, MOTE_MQTT_EVT_AUTH);
    assert_int_equal(f->ev[0].reason, 0x18);
    /* sent: CONNECT (naming the method), then exactly our AUTH */
    assert_true(sent_next(&f->t, &cur, &type, &flags, &body, &rem));
    assert_int_equal(type, MOTE_MQTT_CONNECT);
    assert_true(f->t.sent_len - cur == want_len);
    assert_memory_equal(f->t.sent + cur, want, want_len);
    fixture_free(f);
}

/* Re-authentication while connected: AUTH 0x19 -> server AUTH 0x18 -> the application
 * answers AUTH 0x18 from the callback -> server AUTH 0x00: events for both, the bytes of
 * both our packets, the connection stays. */
static void reauth_while_connected(void **state)
{
    fixture_t *f = fixture_new(256, 256);
    uint8_t pb[32], want[32];
    size_t want_len;
    (void)state;
    g_answers = 0;
    assert_int_equal(connect_with_method(f), MOTE_OK);
    fixture_clear_sent(f);
    f->hook = answer_continue;
    assert_int_equal(mote_mqtt_auth(&f->c, 0x19, answer_props(pb, sizeof pb)), MOTE_OK);
    assert_int_equal(mote_mqtt_flush(&f->c), MOTE_OK);
    want_len = answer_packet(0x19, want);
    assert_int_equal(f->t.sent_len, want_len);
    assert_memory_equal(f->t.sent, want, want_len);
    fixture_clear_sent(f);
    script_bytes(&f->t, k_srv_continue, sizeof k_srv_continue);
    script_bytes(&f->t, k_srv_success, sizeof k_srv_success);
    assert_int_equal(run(f, 3), MOTE_OK);
    assert_int_equal(f->nev, 2);
    assert_int_equal(f->ev[0].type, MOTE_MQTT_EVT_AUTH);
    assert_int_equal(f->ev[0].reason, 0x18);
    assert_int_equal(f->ev[1].type, MOTE_MQTT_EVT_AUTH);
    assert_int_equal(f->ev[1].reason, 0x00);
    assert_int_equal(f->ev[1].props_len, 8);
    assert_int_equal(g_answers, 1);
    assert_int_equal(g_answer_rc[0], MOTE_OK);
    want_len = answer_packet(0x18, want);
    assert_int_equal(f->t.sent_len, want_len);
    assert_memory_equal(f->t.sent, want, want_len);
    assert_true(mote_mqtt_is_connected(&f->c));
    fixture_free(f);
}

/* A server AUTH when our CONNECT named no method is a protocol error (5.0 4.12): while
 * connecting the connect fails at once, not at its timeout, with no event. */
static void server_auth_without_our_method_fails_connect(void **state)
{
    fixture_t *f = fixture_new(256, 256);
    mote_mqtt_connect_opts_t o;
    (void)state;
    memset(&o, 0, sizeof o);
    o.version = V5;
    o.client_id = MOTE_STR("c");
    o.clean_start = true;
    f->t.tick = 1;
    script_bytes(&f->t, k_srv_continue, sizeof k_srv_continue);
    assert_int_equal(mote_mqtt_connect(&f->c, &o, 1000, NULL), MOTE_ERR_PROTOCOL);
    assert_true(f->t.now < 100);
    assert_false(mote_mqtt_is_connected(&f->c));
    assert_int_equal(f->nev, 0);
    /* also when the server follows it with a CONNACK */
    script_bytes(&f->t, k_srv_continue, sizeof k_srv_continue);
    script_bytes(&f->t, k_connack_method, sizeof k_connack_method);
    assert_int_equal(mote_mqtt_connect(&f->c, &o, 1000, NULL), MOTE_ERR_PROTOCOL);
    assert_false(mote_mqtt_is_connected(&f->c));
    assert_int_equal(f->nev, 0);
    fixture_free(f);
}

/* ... and while connected: the connection fails, no event. */
static void server_auth_without_our_method_when_connected(void **state)
{
    fixture_t *f = fixture_new(256, 256);
    (void)state;
    assert_int_equal(fixture_connect(f, V5, false, NULL, 0), MOTE_OK);
    script_bytes(&f->t, k_srv_continue, sizeof k_srv_continue);
    assert_int_equal(run(f, 2), MOTE_ERR_PROTOCOL);
    assert_false(mote_mqtt_is_connected(&f->c));
    assert_int_equal(f->nev, 0);
    fixture_free(f);
}

/* AUTH while connected (our CONNECT named a method) reaches the application as an event,
 * the connection stays. */
static void server_auth_event(void **state)
{
    fixture_t *f = fixture_new(256, 256);
    (void)state;
    assert_int_equal(connect_with_method(f), MOTE_OK);
    script_bytes(&f->t, k_srv_continue, sizeof k_srv_continue);
    assert_int_equal(run(f, 2), MOTE_OK);
    assert_int_equal(f->nev, 1);
    assert_int_equal(f->ev[0].type, MOTE_MQTT_EVT_AUTH);
    assert_int_equal(f->ev[0].reason, 0x18);
    assert_true(mote_mqtt_is_connected(&f->c));
    fixture_free(f);
}

/* The application gives up from the callback of the challenge (resets the connection):
 * the connect fails with MOTE_ERR_NOT_CONNECTED, even though a CONNACK follows. */
static void reset_from_auth_callback(fixture_t *f, const mote_mqtt_event_t *e)
{
    if (e->type == MOTE_MQTT_EVT_AUTH)
        mote_mqtt_reset_connection(&f->c);
}

static void reset_during_auth_fails_connect(void **state)
{
    fixture_t *f = fixture_new(256, 256);
    mote_mqtt_connect_opts_t o = opts_with_method();
    (void)state;
    f->hook = reset_from_auth_callback;
    script_bytes(&f->t, k_srv_continue, sizeof k_srv_continue);
    script_bytes(&f->t, k_connack_method, sizeof k_connack_method);
    assert_int_equal(mote_mqtt_connect(&f->c, &o, 1000, NULL), MOTE_ERR_NOT_CONNECTED);
    assert_false(mote_mqtt_is_connected(&f->c));
    assert_int_equal(f->nev, 1);
    fixture_free(f);
}

/* mote_mqtt_auth refused: before connect, on a 3.1.1 connection, on a v5 connection whose
 * CONNECT named no method, with a reason code other than 0x18/0x19, without a method in
 * the properties, above the server's maximum packet size, and 0x19 while connecting (a
 * re-authentication needs the connection). Nothing is sent for any of them. */
static void auth_refused(void **state)
{
    fixture_t *f = fixture_new(256, 256);
    uint8_t pb[32];
    mote_mqtt_props_t ok = answer_props(pb, sizeof pb), none = { NULL, 0 };
    static const uint8_t small[] = { 0x27, 0x00, 0x00, 0x00, 0x10 }; /* 16 bytes */
    static const uint8_t bad_codes[] = { 0x00, 0x04, 0x17, 0x1A, 0x80, 0x87 };
    mote_mqtt_connect_opts_t o = opts_with_method();
    size_t i;
    uint8_t pkt[32];
    (void)state;
    assert_int_equal(mote_mqtt_auth(&f->c, 0x18, ok), MOTE_ERR_NOT_CONNECTED);
    assert_int_equal(mote_mqtt_auth(&f->c, 0x19, ok), MOTE_ERR_NOT_CONNECTED);
    assert_int_equal(mote_mqtt_auth(NULL, 0x18, ok), MOTE_ERR_BAD_ARG);
    assert_int_equal(fixture_connect(f, MOTE_MQTT_VERSION_311, false, NULL, 0), MOTE_OK);
    fixture_clear_sent(f);
    assert_int_equal(mote_mqtt_auth(&f->c, 0x18, ok), MOTE_ERR_BAD_ARG);
    assert_int_equal(mote_mqtt_auth(&f->c, 0x19, ok), MOTE_ERR_BAD_ARG);
    mote_mqtt_reset_connection(&f->c);
    assert_int_equal(fixture_connect(f, V5, false, NULL, 0), MOTE_OK);
    assert_int_equal(mote_mqtt_auth(&f->c, 0x19, ok), MOTE_ERR_BAD_ARG);
    mote_mqtt_reset_connection(&f->c);
    assert_int_equal(connect_with_method(f), MOTE_OK);
    fixture_clear_sent(f);
    for (i = 0; i < sizeof bad_codes; i++)
        assert_int_equal(mote_mqtt_auth(&f->c, bad_codes[i], ok), MOTE_ERR_BAD_ARG);
    assert_int_equal(mote_mqtt_auth(&f->c, 0x19, none), MOTE_ERR_BAD_PROPERTY);
    assert_int_equal(mote_mqtt_flush(&f->c), MOTE_OK);
    assert_int_equal(f->t.sent_len, 0);
    assert_int_equal(mote_mqtt_disconnect(&f->c, 0, none), MOTE_OK);
    fixture_clear_sent(f);
    assert_int_equal(mote_mqtt_auth(&f->c, 0x19, ok), MOTE_ERR_NOT_CONNECTED);
    /* the server's maximum packet size: our 17-byte AUTH does not fit in 16 */
    pkt[0] = 0x20;
    pkt[1] = (uint8_t)(3 + sizeof small + sizeof k_method);
    pkt[2] = 0;
    pkt[3] = 0;
    pkt[4] = (uint8_t)(sizeof small + sizeof k_method);
    memcpy(pkt + 5, small, sizeof small);
    memcpy(pkt + 5 + sizeof small, k_method, sizeof k_method);
    script_bytes(&f->t, pkt, 5 + sizeof small + sizeof k_method);
    assert_int_equal(mote_mqtt_connect(&f->c, &o, 1000, NULL), MOTE_OK);
    fixture_clear_sent(f);
    assert_int_equal(mote_mqtt_auth(&f->c, 0x19, ok), MOTE_ERR_PACKET_TOO_LARGE);
    assert_int_equal(mote_mqtt_flush(&f->c), MOTE_OK);
    assert_int_equal(f->t.sent_len, 0);
    assert_true(mote_mqtt_is_connected(&f->c));
    fixture_free(f);
}

/* Re-authenticate is the client's to start after CONNACK: refused while connecting (the
 * callback of a server AUTH 0x18), and the connect goes on to its CONNACK. */
static void reauth_refused_while_connecting_hook(fixture_t *f, const mote_mqtt_event_t *e)
{
    uint8_t pb[32];
    if (e->type != MOTE_MQTT_EVT_AUTH)
        return;
    if (g_answers < 8)
        g_answer_rc[g_answers++] = mote_mqtt_auth(&f->c, 0x19, answer_props(pb, sizeof pb));
}

static void reauth_refused_while_connecting(void **state)
{
    fixture_t *f = fixture_new(256, 256);
    mote_mqtt_connect_opts_t o = opts_with_method();
    size_t cur = 0;
    uint8_t type, flags;
    const uint8_t *body;
    uint32_t rem;
    (void)state;
    g_answers = 0;
    f->hook = reauth_refused_while_connecting_hook;
    script_bytes(&f->t, k_srv_continue, sizeof k_srv_continue);
    script_bytes(&f->t, k_connack_method, sizeof k_connack_method);
    assert_int_equal(mote_mqtt_connect(&f->c, &o, 1000, NULL), MOTE_OK);
    assert_int_equal(g_answers, 1);
    assert_int_equal(g_answer_rc[0], MOTE_ERR_NOT_CONNECTED);
    assert_true(sent_next(&f->t, &cur, &type, &flags, &body, &rem));
    assert_int_equal(type, MOTE_MQTT_CONNECT);
    assert_int_equal(cur, f->t.sent_len); /* nothing after CONNECT */
    fixture_free(f);
}

/* ---- Incoming PUBLISH ------------------------------------------------------------------ */

/* Topic alias 0, an alias given twice, an alias above our maximum, an empty topic with an
 * alias never set, a subscription identifier of 0: each a protocol error, no event. */
static void publish_alias_errors(void **state)
{
    static const struct {
        uint8_t b[24];
        size_t len;
        mote_err_t want;
    } cases[] = {
        { { 0x30, 0x08, 0x00, 0x01, 't', 0x03, 0x23, 0x00, 0x00, 'x' }, 10, MOTE_ERR_BAD_PROPERTY },
        { { 0x30, 0x0B, 0x00, 0x01, 't', 0x06, 0x23, 0x00, 0x01, 0x23, 0x00, 0x02, 'x' }, 13,
          MOTE_ERR_DUP_PROPERTY },
        { { 0x30, 0x08, 0x00, 0x01, 't', 0x03, 0x23, 0x00, 0x05, 'x' }, 10, MOTE_ERR_TOPIC_ALIAS },
        { { 0x30, 0x07, 0x00, 0x00, 0x03, 0x23, 0x00, 0x01, 'x' }, 9, MOTE_ERR_TOPIC_ALIAS },
        { { 0x30, 0x07, 0x00, 0x01, 't', 0x02, 0x0B, 0x00, 'x' }, 9, MOTE_ERR_BAD_PROPERTY },
        { { 0x30, 0x05, 0x00, 0x00, 0x00, 'x', 'y' }, 7, MOTE_ERR_BAD_TOPIC },
    };
    size_t i;
    (void)state;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fixture_t *f = fixture_new(256, 256);
        assert_int_equal(fixture_connect(f, V5, false, NULL, 0), MOTE_OK);
        script_bytes(&f->t, cases[i].b, cases[i].len);
        assert_int_equal(run(f, 3), cases[i].want);
        assert_int_equal(f->nev, 0);
        fixture_free(f);
    }
}

/* Without an incoming alias table we announce no topic alias maximum: any alias is an error. */
static void publish_alias_without_table(void **state)
{
    fixture_t *f = fixture_new(256, 256);
    static const uint8_t pub[] = { 0x30, 0x08, 0x00, 0x01, 't', 0x03, 0x23, 0x00, 0x01, 'x' };
    (void)state;
    f->cfg.rx_topic_aliases = NULL;
    assert_int_equal(fixture_connect(f, V5, false, NULL, 0), MOTE_OK);
    script_bytes(&f->t, pub, sizeof pub);
    assert_int_equal(run(f, 3), MOTE_ERR_TOPIC_ALIAS);
    assert_int_equal(f->nev, 0);
    fixture_free(f);
}

/* Aliases belong to one connection: after a reconnect an alias of the old one is unknown. */
static void publish_alias_forgotten_on_reconnect(void **state)
{
    fixture_t *f = fixture_new(256, 256);
    static const uint8_t set[] = { 0x30, 0x08, 0x00, 0x01, 't', 0x03, 0x23, 0x00, 0x01, 'x' };
    static const uint8_t use[] = { 0x30, 0x07, 0x00, 0x00, 0x03, 0x23, 0x00, 0x01, 'y' };
    (void)state;
    assert_int_equal(fixture_connect(f, V5, false, NULL, 0), MOTE_OK);
    script_bytes(&f->t, set, sizeof set);
    script_bytes(&f->t, use, sizeof use);
    assert_int_equal(run(f, 3), MOTE_OK);
    assert_int_equal(f->nev, 2);
    assert_int_equal(f->ev[1].topic_len, 1);
    mote_mqtt_reset_connection(&f->c);
    assert_int_equal(fixture_connect(f, V5, false, NULL, 0), MOTE_OK);
    script_bytes(&f->t, use, sizeof use);
    assert_int_equal(run(f, 3), MOTE_ERR_TOPIC_ALIAS);
    assert_int_equal(f->nev, 2);
    fixture_free(f);
}

/* ---- Acks -------------------------------------------------------------------------------- */

/* PUBACK and PUBREC with a failure reason: the message is done (reason reported), no
 * PUBREL follows, and the server's receive maximum has room again. */
static void ack_failure_codes_complete(void **state)
{
    fixture_t *f = fixture_new(256, 256);
    static const uint8_t p[] = { 0x21, 0x00, 0x02 };
    mote_mqtt_publish_t a = msg("a", "1", 1), b = msg("b", "2", 2);
    uint16_t ia, ib;
    (void)state;
    assert_int_equal(connect_raw_props(f, p, sizeof p, true), MOTE_OK);
    assert_int_equal(mote_mqtt_publish(&f->c, &a, &ia), MOTE_OK);
    assert_int_equal(mote_mqtt_publish(&f->c, &b, &ib), MOTE_OK);
    assert_int_equal(mote_mqtt_publish(&f->c, &a, NULL), MOTE_ERR_RECEIVE_MAXIMUM);
    assert_int_equal(mote_mqtt_flush(&f->c), MOTE_OK);
    fixture_clear_sent(f);
    srv_ack(f, V5, MOTE_MQTT_PUBACK, ia, 0x87);
    srv_ack(f, V5, MOTE_MQTT_PUBREC, ib, 0x97);
    assert_int_equal(run(f, 3), MOTE_OK);
    assert_int_equal(f->nev, 2);
    assert_int_equal(f->ev[0].packet_id, ia);
    assert_int_equal(f->ev[0].reason, 0x87);
    assert_int_equal(f->ev[1].packet_id, ib);
    assert_int_equal(f->ev[1].reason, 0x97);
    assert_int_equal(count_sent(f, MOTE_MQTT_PUBREL), 0);
    assert_int_equal(mote_mqtt_inflight_count(&f->c), 0);
    assert_int_equal(mote_mqtt_publish(&f->c, &a, NULL), MOTE_OK);
    assert_int_equal(mote_mqtt_publish(&f->c, &a, NULL), MOTE_OK);
    /* a late PUBREL-stage ack for the refused QoS 2 id is an unknown id */
    srv_ack(f, V5, MOTE_MQTT_PUBCOMP, ib, 0);
    assert_int_equal(run(f, 3), MOTE_ERR_UNKNOWN_PACKET_ID);
    fixture_free(f);
}

/* PUBREL for an id we never received: PUBCOMP with 0x92, the connection stays. */
static void pubrel_unknown_id(void **state)
{
    fixture_t *f = fixture_new(256, 256);
    static const uint8_t want[] = { 0x70, 0x03, 0x00, 0x2A, 0x92 };
    (void)state;
    assert_int_equal(fixture_connect(f, V5, false, NULL, 0), MOTE_OK);
    fixture_clear_sent(f);
    srv_ack(f, V5, MOTE_MQTT_PUBREL, 42, 0);
    assert_int_equal(run(f, 3), MOTE_OK);
    assert_int_equal(f->t.sent_len, sizeof want);
    assert_memory_equal(f->t.sent, want, sizeof want);
    assert_true(mote_mqtt_is_connected(&f->c));
    fixture_free(f);
}

/* ---- A broker ignoring our limits -------------------------------------------------------- */

/* We announce receive maximum 4 (the QoS 2 table): a fifth QoS 2 message before any PUBREL
 * is MOTE_ERR_RECEIVE_MAXIMUM, without delivering it. */
static void broker_exceeds_our_receive_maximum(void **state)
{
    fixture_t *f = fixture_new(256, 256);
    uint16_t id;
    (void)state;
    assert_int_equal(fixture_connect(f, V5, false, NULL, 0), MOTE_OK);
    for (id = 1; id <= 5; id++)
        srv_publish(f, V5, "q2", "x", 1, 2, id, false, NULL, 0);
    assert_int_equal(run(f, 5), MOTE_ERR_RECEIVE_MAXIMUM);
    assert_int_equal(f->nev, 4);
    fixture_free(f);
}

/* A packet above the maximum packet size we announced: MOTE_ERR_PACKET_TOO_LARGE, also for
 * packets other than PUBLISH, and also while streaming is possible (rx_buf smaller). */
static void broker_exceeds_our_max_packet_size(void **state)
{
    fixture_t *f = fixture_new(64, 256);
    uint8_t pkt[16];
    mote_mqtt_connack_t ca;
    mote_mqtt_connect_opts_t o;
    static uint8_t payload[300];
    (void)state;
    memset(&ca, 0, sizeof ca);
    script_packet(&f->t, pkt, mote_mqtt_encode_connack(pkt, sizeof pkt, V5, &ca));
    memset(&o, 0, sizeof o);
    o.version = V5;
    o.clean_start = true;
    o.max_packet_size = 200;
    assert_int_equal(mote_mqtt_connect(&f->c, &o, 1000, NULL), MOTE_OK);
    srv_publish(f, V5, "t", payload, 150, 0, 0, false, NULL, 0); /* streamed, allowed */
    srv_publish(f, V5, "t", payload, 250, 0, 0, false, NULL, 0);
    assert_int_equal(run(f, 20), MOTE_ERR_PACKET_TOO_LARGE);
    assert_true(f->nev >= 1);
    assert_true(f->ev[f->nev - 1].last);
    assert_int_equal(f->ev[f->nev - 1].total, 150);
    fixture_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(connack_bad_limits_fail_connect),
        cmocka_unit_test(connack_session_present_with_clean_start),
        cmocka_unit_test(connack_max_qos_and_retain),
        cmocka_unit_test(resend_retained_to_server_without_retain),
        cmocka_unit_test(disconnect_respects_server_max_packet_size),
        cmocka_unit_test(connack_server_keep_alive_and_assigned_id),
        cmocka_unit_test(duplicate_properties_in_acks),
        cmocka_unit_test(server_auth_event),
        cmocka_unit_test(auth_challenge_during_connect),
        cmocka_unit_test(reauth_while_connected),
        cmocka_unit_test(server_auth_without_our_method_fails_connect),
        cmocka_unit_test(server_auth_without_our_method_when_connected),
        cmocka_unit_test(reset_during_auth_fails_connect),
        cmocka_unit_test(auth_refused),
        cmocka_unit_test(reauth_refused_while_connecting),
        cmocka_unit_test(publish_alias_errors),
        cmocka_unit_test(publish_alias_without_table),
        cmocka_unit_test(publish_alias_forgotten_on_reconnect),
        cmocka_unit_test(ack_failure_codes_complete),
        cmocka_unit_test(pubrel_unknown_id),
        cmocka_unit_test(broker_exceeds_our_receive_maximum),
        cmocka_unit_test(broker_exceeds_our_max_packet_size),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
