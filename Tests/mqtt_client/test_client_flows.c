/* MQTT client over a scripted transport: connect (3.1.1 and 5), publish QoS 0/1/2,
 * subscribe / unsubscribe, keep-alive, partial reads and writes, CONNACK limits.
 * Also built against the 3.1.1-only core (MOTE_MQTT_V5=0): there the v5 parts are compiled
 * out and every 3.1.1 check still runs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "scripted.h"

#define V311 MOTE_MQTT_VERSION_311
#define V5 MOTE_MQTT_VERSION_5
/* Protocol versions the loops below run: 3.1.1, then 5 when the build has it. */
#define N_VERSIONS (MOTE_MQTT_V5 ? 2 : 1)

/* ---- connect ------------------------------------------------------------------------ */

static void connect_v311(void **state)
{
    fixture_t *f = fixture_new(256, 256);
    uint8_t type, flags;
    const uint8_t *body;
    uint32_t rem;
    size_t cur = 0;
    mote_mqtt_connect_t ck;
    mote_mqtt_will_t will;
    (void)state;
    assert_int_equal(fixture_connect(f, V311, false, NULL, 0), MOTE_OK);
    assert_true(mote_mqtt_is_connected(&f->c));
    assert_true(sent_next(&f->t, &cur, &type, &flags, &body, &rem));
    assert_int_equal(type, MOTE_MQTT_CONNECT);
    assert_int_equal(mote_mqtt_decode_connect(body, rem, &ck, &will), MOTE_OK);
    assert_int_equal(ck.version, V311);
    assert_true(ck.clean_start);
    assert_memory_equal(ck.client_id.ptr, "test-client", 11);
    assert_int_equal(cur, f->t.sent_len);
    fixture_free(f);
}

/* A 3.1.1 CONNACK carries no limits: the session info holds our keep-alive and the
 * documented "absent" values. */
static void connect_v311_session_info(void **state)
{
    fixture_t *f = fixture_new(256, 256);
    mote_mqtt_connect_opts_t o;
    mote_mqtt_session_info_t info;
    static const uint8_t connack[] = { 0x20, 0x02, 0x00, 0x00 };
    (void)state;
    memset(&o, 0, sizeof o);
    memset(&info, 0xA5, sizeof info);
    o.version = V311;
    o.client_id = MOTE_STR("c");
    o.clean_start = true;
    o.keep_alive_s = 30;
    script_bytes(&f->t, connack, sizeof connack);
    assert_int_equal(mote_mqtt_connect(&f->c, &o, 1000, &info), MOTE_OK);
    assert_false(info.session_present);
    assert_int_equal(info.reason_code, 0);
    assert_int_equal(info.keep_alive_s, 30);
    assert_int_equal(info.receive_maximum, 65535);
    assert_int_equal(info.max_packet_size, 0);
    assert_int_equal(info.topic_alias_maximum, 0);
    assert_int_equal(info.maximum_qos, 2);
    assert_true(info.retain_available);
    assert_int_equal(info.assigned_client_id.len, 0);
    assert_int_equal(info.props.len, 0);
    fixture_free(f);
}

#if !MOTE_MQTT_V5
/* The 3.1.1-only build has no AUTH: mote_mqtt_auth is a constant MOTE_ERR_UNSUPPORTED and
 * sends nothing. */
static void auth_unsupported_without_v5(void **state)
{
    fixture_t *f = fixture_new(256, 256);
    static const uint8_t method[] = { 0x15, 0x00, 0x01, 'm' };
    mote_mqtt_props_t p = { method, sizeof method };
    (void)state;
    assert_int_equal(fixture_connect(f, V311, false, NULL, 0), MOTE_OK);
    fixture_clear_sent(f);
    assert_int_equal(mote_mqtt_auth(&f->c, 0x18, p), MOTE_ERR_UNSUPPORTED);
    assert_int_equal(mote_mqtt_auth(&f->c, 0x19, p), MOTE_ERR_UNSUPPORTED);
    assert_int_equal(mote_mqtt_flush(&f->c), MOTE_OK);
    assert_int_equal(f->t.sent_len, 0);
    assert_true(mote_mqtt_is_connected(&f->c));
    fixture_free(f);
}
#endif

#if MOTE_MQTT_V5
static void connect_v5_connack_props(void **state)
{
    fixture_t *f = fixture_new(512, 512);
    uint8_t pb[128], pkt[128];
    mote_mqtt_props_builder_t b;
    mote_mqtt_connack_t ca;
    mote_mqtt_connect_opts_t o;
    mote_mqtt_session_info_t info;
    mote_mqtt_publish_t m = msg("a/b", "x", 1);
    mote_mqtt_connect_t ck;
    mote_mqtt_will_t will;
    mote_mqtt_prop_t pr;
    uint8_t type, flags;
    const uint8_t *body;
    uint32_t rem;
    size_t cur = 0;
    char big[200];
    (void)state;
    mote_mqtt_props_init(&b, pb, sizeof pb);
    assert_int_equal(mote_mqtt_props_add_int(&b, MOTE_PROP_RECEIVE_MAXIMUM, 2), MOTE_OK);
    assert_int_equal(mote_mqtt_props_add_int(&b, MOTE_PROP_MAXIMUM_PACKET_SIZE, 100), MOTE_OK);
    assert_int_equal(mote_mqtt_props_add_int(&b, MOTE_PROP_TOPIC_ALIAS_MAXIMUM, 3), MOTE_OK);
    assert_int_equal(mote_mqtt_props_add_int(&b, MOTE_PROP_SERVER_KEEP_ALIVE, 5), MOTE_OK);
    assert_int_equal(mote_mqtt_props_add_bytes(&b, MOTE_PROP_ASSIGNED_CLIENT_ID, MOTE_STR("auto-1")), MOTE_OK);
    memset(&ca, 0, sizeof ca);
    ca.props = mote_mqtt_props_view(&b);
    script_packet(&f->t, pkt, mote_mqtt_encode_connack(pkt, sizeof pkt, V5, &ca));
    memset(&o, 0, sizeof o);
    o.version = V5;
    o.clean_start = true;
    o.keep_alive_s = 60;
    o.session_expiry_s = 3600;
    o.max_packet_size = 1000;
    assert_int_equal(mote_mqtt_connect(&f->c, &o, 1000, &info), MOTE_OK);
    assert_false(info.session_present);
    assert_int_equal(info.receive_maximum, 2);
    assert_int_equal(info.max_packet_size, 100);
    assert_int_equal(info.topic_alias_maximum, 3);
    assert_int_equal(info.keep_alive_s, 5);
    assert_int_equal(info.assigned_client_id.len, 6);
    assert_memory_equal(info.assigned_client_id.ptr, "auto-1", 6);
    /* Our CONNECT announced session expiry, receive maximum, max packet size, aliases. */
    assert_true(sent_next(&f->t, &cur, &type, &flags, &body, &rem));
    assert_int_equal(mote_mqtt_decode_connect(body, rem, &ck, &will), MOTE_OK);
    assert_int_equal(ck.client_id.len, 0);
    assert_true(mote_mqtt_prop_find(ck.props, MOTE_PROP_SESSION_EXPIRY, &pr));
    assert_int_equal(pr.u32, 3600);
    assert_true(mote_mqtt_prop_find(ck.props, MOTE_PROP_RECEIVE_MAXIMUM, &pr));
    assert_int_equal(pr.u32, 4);
    assert_true(mote_mqtt_prop_find(ck.props, MOTE_PROP_MAXIMUM_PACKET_SIZE, &pr));
    assert_int_equal(pr.u32, 1000);
    assert_true(mote_mqtt_prop_find(ck.props, MOTE_PROP_TOPIC_ALIAS_MAXIMUM, &pr));
    assert_int_equal(pr.u32, 4);
    /* Receive maximum 2: the third QoS 1 publish waits. */
    assert_int_equal(mote_mqtt_publish(&f->c, &m, NULL), MOTE_OK);
    assert_int_equal(mote_mqtt_publish(&f->c, &m, NULL), MOTE_OK);
    assert_int_equal(mote_mqtt_publish(&f->c, &m, NULL), MOTE_ERR_RECEIVE_MAXIMUM);
    /* Server's maximum packet size 100. */
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = 0;
    m = msg("a/b", big, 0);
    assert_int_equal(mote_mqtt_publish(&f->c, &m, NULL), MOTE_ERR_PACKET_TOO_LARGE);
    /* Server keep-alive 5 s replaces our 60. */
    assert_int_equal(mote_mqtt_flush(&f->c), MOTE_OK);
    fixture_clear_sent(f);
    f->t.now += 5000;
    assert_int_equal(mote_mqtt_process(&f->c, 0), MOTE_OK);
    cur = 0;
    {
        int ping = 0;
        while (sent_next(&f->t, &cur, &type, &flags, &body, &rem))
            ping += type == MOTE_MQTT_PINGREQ;
        assert_int_equal(ping, 1);
    }
    fixture_free(f);
}
#else
/* The 3.1.1-only build: a v5 connect is refused before anything is sent (config.h: "v5
 * calls then return MOTE_ERR_UNSUPPORTED"), and the client stays usable for 3.1.1. */
static void connect_v5_unsupported(void **state)
{
    fixture_t *f = fixture_new(256, 256);
    mote_mqtt_connect_opts_t o;
    mote_mqtt_session_info_t info;
    static const uint8_t connack[] = { 0x20, 0x02, 0x00, 0x00 };
    (void)state;
    memset(&o, 0, sizeof o);
    o.version = V5;
    o.client_id = MOTE_STR("c");
    o.clean_start = true;
    script_bytes(&f->t, connack, sizeof connack);
    assert_int_equal(mote_mqtt_connect(&f->c, &o, 1000, &info), MOTE_ERR_UNSUPPORTED);
    assert_int_equal(f->t.sent_len, 0);
    assert_int_equal(f->t.recv_calls, 0);
    assert_false(mote_mqtt_is_connected(&f->c));
    assert_int_equal(mote_mqtt_process(&f->c, 0), MOTE_ERR_NOT_CONNECTED);
    /* the scripted CONNACK is still there for a 3.1.1 connect */
    o.version = V311;
    assert_int_equal(mote_mqtt_connect(&f->c, &o, 1000, &info), MOTE_OK);
    assert_true(mote_mqtt_is_connected(&f->c));
    fixture_free(f);
}
#endif

static void connect_refused(void **state)
{
    uint8_t pkt[32];
    mote_mqtt_connack_t ca;
    mote_mqtt_connect_opts_t o;
    mote_mqtt_session_info_t info;
    int v;
    (void)state;
    for (v = 0; v < N_VERSIONS; v++) {
        fixture_t *f = fixture_new(256, 256);
        memset(&ca, 0, sizeof ca);
        ca.reason_code = v ? 0x87 : 5;
        script_packet(&f->t, pkt, mote_mqtt_encode_connack(pkt, sizeof pkt, v ? V5 : V311, &ca));
        memset(&o, 0, sizeof o);
        o.version = v ? V5 : V311;
        o.client_id = MOTE_STR("c");
        o.clean_start = true;
        assert_int_equal(mote_mqtt_connect(&f->c, &o, 1000, &info), MOTE_ERR_CONNACK_REFUSED);
        assert_int_equal(info.reason_code, v ? 0x87 : 5);
        assert_false(mote_mqtt_is_connected(&f->c));
        assert_int_equal(mote_mqtt_process(&f->c, 0), MOTE_ERR_NOT_CONNECTED);
        fixture_free(f);
    }
}

static void connect_timeout_and_bad_connack(void **state)
{
    fixture_t *f = fixture_new(256, 256);
    mote_mqtt_connect_opts_t o;
    static const uint8_t sp_with_clean[] = { 0x20, 0x02, 0x01, 0x00 };
    static const uint8_t suback_first[] = { 0x90, 0x03, 0x00, 0x01, 0x00 };
    (void)state;
    memset(&o, 0, sizeof o);
    o.version = V311;
    o.client_id = MOTE_STR("c");
    o.clean_start = true;
    f->t.tick = 10; /* the clock moves while the client waits */
    assert_int_equal(mote_mqtt_connect(&f->c, &o, 500, NULL), MOTE_ERR_TIMEOUT);
    /* session present although we asked for a clean start */
    script_bytes(&f->t, sp_with_clean, sizeof sp_with_clean);
    assert_int_equal(mote_mqtt_connect(&f->c, &o, 500, NULL), MOTE_ERR_PROTOCOL);
    /* something else before CONNACK */
    script_bytes(&f->t, suback_first, sizeof suback_first);
    assert_int_equal(mote_mqtt_connect(&f->c, &o, 500, NULL), MOTE_ERR_PROTOCOL);
    /* the transport closes */
    f->t.close_at_end = 1;
    assert_int_equal(mote_mqtt_connect(&f->c, &o, 500, NULL), MOTE_ERR_CLOSED);
    fixture_free(f);
}

/* A 3.1.1 CONNACK that breaks 3.2: the client stays disconnected. (The 3.1.1-only build
 * checks CONNACK without the codec's decoder: the same rules must hold there.) */
static void connack_malformed_v311(void **state)
{
    static const struct {
        uint8_t bytes[5];
        size_t len;
        mote_err_t want;
    } cases[] = {
        { { 0x20, 0x02, 0x02, 0x00 }, 4, MOTE_ERR_BAD_FLAGS },       /* reserved flag bit */
        { { 0x20, 0x02, 0x00, 0x06 }, 4, MOTE_ERR_BAD_REASON_CODE }, /* return code 6 */
        { { 0x20, 0x02, 0x01, 0x05 }, 4, MOTE_ERR_BAD_FLAGS },       /* session with refusal */
        { { 0x20, 0x03, 0x00, 0x00, 0x00 }, 5, MOTE_ERR_MALFORMED }, /* a byte too many */
        { { 0x20, 0x01, 0x00 }, 3, MOTE_ERR_MALFORMED },             /* a byte short */
    };
    size_t i;
    (void)state;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fixture_t *f = fixture_new(256, 256);
        mote_mqtt_connect_opts_t o;
        memset(&o, 0, sizeof o);
        o.version = V311;
        o.client_id = MOTE_STR("c");
        o.clean_start = true;
        script_bytes(&f->t, cases[i].bytes, cases[i].len);
        assert_int_equal(mote_mqtt_connect(&f->c, &o, 500, NULL), cases[i].want);
        assert_false(mote_mqtt_is_connected(&f->c));
        fixture_free(f);
    }
}

/* CONNACK and the first PUBLISH in one read: the CONNACK's spans (v5 assigned client id)
 * stay valid after connect, the PUBLISH is delivered by the next process call. */
static void connack_then_publish_in_one_read(void **state)
{
    int v;
    (void)state;
    for (v = 0; v < N_VERSIONS; v++) {
        mote_mqtt_version_t ver = v ? V5 : V311;
        fixture_t *f = fixture_new(256, 256);
        uint8_t buf[128];
        mote_mqtt_connack_t ca;
        mote_mqtt_publish_t p = msg("queued/while/offline", "hi", 1);
        mote_mqtt_connect_opts_t o;
        mote_mqtt_session_info_t info;
        int32_t n1, n2;
        memset(&ca, 0, sizeof ca);
        memset(&o, 0, sizeof o);
#if MOTE_MQTT_V5
        uint8_t pb[32];
        mote_mqtt_props_builder_t b;
        if (ver == V5) {
            mote_mqtt_props_init(&b, pb, sizeof pb);
            assert_int_equal(mote_mqtt_props_add_bytes(&b, MOTE_PROP_ASSIGNED_CLIENT_ID, MOTE_STR("given-id")), MOTE_OK);
            ca.props = mote_mqtt_props_view(&b);
        }
#endif
        if (ver == V311)
            o.client_id = MOTE_STR("c"); /* 3.1.1 has no assigned client ids */
        n1 = mote_mqtt_encode_connack(buf, sizeof buf, ver, &ca);
        assert_true(n1 > 0);
        p.packet_id = 1;
        n2 = mote_mqtt_encode_publish(buf + n1, sizeof buf - (size_t)n1, ver, &p);
        assert_true(n2 > 0);
        script_bytes(&f->t, buf, (size_t)(n1 + n2));
        o.version = ver;
        o.clean_start = true;
        assert_int_equal(mote_mqtt_connect(&f->c, &o, 1000, &info), MOTE_OK);
        assert_int_equal(f->nev, 0);
        if (ver == V5) {
            assert_int_equal(info.assigned_client_id.len, 8);
            assert_memory_equal(info.assigned_client_id.ptr, "given-id", 8);
        }
        assert_int_equal(mote_mqtt_process(&f->c, 0), MOTE_OK);
        assert_int_equal(f->nev, 1);
        assert_memory_equal(f->ev[0].topic, "queued/while/offline", 20);
        assert_int_equal(f->ev[0].packet_id, 1);
        fixture_free(f);
    }
}

/* ---- publish -------------------------------------------------------------------------- */

static void publish_qos0_coalesced(void **state)
{
    fixture_t *f = fixture_new(256, 512);
    mote_mqtt_publish_t m = msg("dt/x", "hello", 0);
    uint8_t type, flags;
    const uint8_t *body;
    uint32_t rem;
    size_t cur = 0;
    int i, n = 0;
    (void)state;
    assert_int_equal(fixture_connect(f, V311, false, NULL, 0), MOTE_OK);
    fixture_clear_sent(f);
    f->t.send_calls = 0;
    for (i = 0; i < 10; i++)
        assert_int_equal(mote_mqtt_publish(&f->c, &m, NULL), MOTE_OK);
    assert_int_equal(f->t.send_calls, 0);
    assert_int_equal(mote_mqtt_flush(&f->c), MOTE_OK);
    assert_int_equal(f->t.send_calls, 1); /* ten packets, one write */
    while (sent_next(&f->t, &cur, &type, &flags, &body, &rem)) {
        mote_mqtt_publish_t p;
        assert_int_equal(type, MOTE_MQTT_PUBLISH);
        assert_int_equal(mote_mqtt_decode_publish(body, rem, flags, V311, &p), MOTE_OK);
        assert_memory_equal(p.payload.ptr, "hello", 5);
        n++;
    }
    assert_int_equal(n, 10);
    assert_int_equal(mote_mqtt_tx_pending(&f->c), 0);
    fixture_free(f);
}

static void publish_qos1_qos2_flows(void **state)
{
    int v;
    (void)state;
    for (v = 0; v < N_VERSIONS; v++) {
        mote_mqtt_version_t ver = v ? V5 : V311;
        fixture_t *f = fixture_new(256, 512);
        mote_mqtt_publish_t m1 = msg("q/1", "one", 1), m2 = msg("q/2", "two", 2);
        uint16_t id1, id2;
        uint8_t type, flags;
        const uint8_t *body;
        uint32_t rem;
        size_t cur = 0;
        mote_mqtt_ack_t a;
        assert_int_equal(fixture_connect(f, ver, false, NULL, 0), MOTE_OK);
        fixture_clear_sent(f);
        assert_int_equal(mote_mqtt_publish(&f->c, &m1, &id1), MOTE_OK);
        assert_int_equal(mote_mqtt_publish(&f->c, &m2, &id2), MOTE_OK);
        assert_int_not_equal(id1, id2);
        assert_int_equal(mote_mqtt_inflight_count(&f->c), 2);
        srv_ack(f, ver, MOTE_MQTT_PUBACK, id1, 0);
        srv_ack(f, ver, MOTE_MQTT_PUBREC, id2, 0);
        assert_int_equal(mote_mqtt_process(&f->c, 0), MOTE_OK);
        assert_int_equal(f->nev, 1);
        assert_int_equal(f->ev[0].type, MOTE_MQTT_EVT_PUBLISH_DONE);
        assert_int_equal(f->ev[0].packet_id, id1);
        assert_int_equal(mote_mqtt_inflight_count(&f->c), 1);
        /* PUBLISH, PUBLISH, PUBREL */
        assert_true(sent_next(&f->t, &cur, &type, &flags, &body, &rem));
        assert_int_equal(type, MOTE_MQTT_PUBLISH);
        assert_int_equal((flags >> 1) & 3, 1);
        assert_true(sent_next(&f->t, &cur, &type, &flags, &body, &rem));
        assert_int_equal((flags >> 1) & 3, 2);
        assert_true(sent_next(&f->t, &cur, &type, &flags, &body, &rem));
        assert_int_equal(type, MOTE_MQTT_PUBREL);
        assert_int_equal(mote_mqtt_decode_ack(body, rem, type, flags, ver, &a), MOTE_OK);
        assert_int_equal(a.packet_id, id2);
        srv_ack(f, ver, MOTE_MQTT_PUBCOMP, id2, 0);
        assert_int_equal(mote_mqtt_process(&f->c, 0), MOTE_OK);
        assert_int_equal(f->nev, 2);
        assert_int_equal(f->ev[1].type, MOTE_MQTT_EVT_PUBLISH_DONE);
        assert_int_equal(f->ev[1].packet_id, id2);
        assert_int_equal(mote_mqtt_inflight_count(&f->c), 0);
        /* v5: PUBREC with an error reason completes without PUBREL */
        if (ver == V5) {
            assert_int_equal(mote_mqtt_publish(&f->c, &m2, &id2), MOTE_OK);
            srv_ack(f, ver, MOTE_MQTT_PUBREC, id2, 0x87);
            assert_int_equal(mote_mqtt_process(&f->c, 0), MOTE_OK);
            assert_int_equal(f->ev[2].reason, 0x87);
            assert_int_equal(mote_mqtt_inflight_count(&f->c), 0);
        }
        fixture_free(f);
    }
}

static void publish_inflight_full_and_many_ids(void **state)
{
    fixture_t *f = fixture_new(256, 4096);
    mote_mqtt_publish_t m = msg("q", "p", 1);
    uint16_t id;
    int i, round;
    (void)state;
    assert_int_equal(fixture_connect(f, V311, false, NULL, 0), MOTE_OK);
    for (i = 0; i < 8; i++)
        assert_int_equal(mote_mqtt_publish(&f->c, &m, NULL), MOTE_OK);
    assert_int_equal(mote_mqtt_publish(&f->c, &m, NULL), MOTE_ERR_NO_SPACE);
    /* ack them all out of order, then cycle through the whole id space */
    for (i = 8; i >= 1; i--)
        srv_ack(f, V311, MOTE_MQTT_PUBACK, (uint16_t)i, 0);
    assert_int_equal(mote_mqtt_process(&f->c, 0), MOTE_OK);
    assert_int_equal(mote_mqtt_inflight_count(&f->c), 0);
    for (round = 0; round < 70000; round++) {
        scripted_t *t = &f->t;
        assert_int_equal(mote_mqtt_publish(&f->c, &m, &id), MOTE_OK);
        assert_int_not_equal(id, 0);
        t->chunks = t->chunk = 0;
        t->data_len = t->pos = 0;
        srv_ack(f, V311, MOTE_MQTT_PUBACK, id, 0);
        assert_int_equal(mote_mqtt_process(&f->c, 0), MOTE_OK);
        f->nev = 0;
        t->sent_len = 0;
    }
    assert_int_equal(mote_mqtt_inflight_count(&f->c), 0);
    fixture_free(f);
}

static void publish_large_payload_zero_copy(void **state)
{
    fixture_t *f = fixture_new(256, 128);
    static uint8_t payload[5000];
    mote_mqtt_publish_t m;
    mote_mqtt_publish_t small = msg("s", "tiny", 0);
    uint8_t type, flags;
    const uint8_t *body;
    uint32_t rem;
    size_t cur = 0, i;
    mote_mqtt_publish_t p;
    (void)state;
    for (i = 0; i < sizeof payload; i++)
        payload[i] = (uint8_t)(i * 7);
    assert_int_equal(fixture_connect(f, V311, false, NULL, 0), MOTE_OK);
    fixture_clear_sent(f);
    f->t.send_max = 333; /* partial writes */
    memset(&m, 0, sizeof m);
    m.topic = MOTE_STR("big/one");
    m.payload.ptr = payload;
    m.payload.len = sizeof payload;
    m.qos = 1;
    assert_int_equal(mote_mqtt_publish(&f->c, &small, NULL), MOTE_OK);
    assert_int_equal(mote_mqtt_publish(&f->c, &m, NULL), MOTE_OK);
    assert_int_equal(mote_mqtt_publish(&f->c, &small, NULL), MOTE_OK);
    while (mote_mqtt_tx_pending(&f->c))
        assert_true(mote_mqtt_flush(&f->c) == MOTE_OK || mote_mqtt_tx_pending(&f->c));
    assert_true(sent_next(&f->t, &cur, &type, &flags, &body, &rem));
    assert_true(sent_next(&f->t, &cur, &type, &flags, &body, &rem));
    assert_int_equal(mote_mqtt_decode_publish(body, rem, flags, V311, &p), MOTE_OK);
    assert_int_equal(p.payload.len, sizeof payload);
    assert_memory_equal(p.payload.ptr, payload, sizeof payload);
    assert_true(sent_next(&f->t, &cur, &type, &flags, &body, &rem));
    assert_int_equal(mote_mqtt_decode_publish(body, rem, flags, V311, &p), MOTE_OK);
    assert_memory_equal(p.payload.ptr, "tiny", 4);
    assert_int_equal(cur, f->t.sent_len);
    fixture_free(f);
}

/* How many packets of this type were sent. */
static int count_type(fixture_t *f, uint8_t want)
{
    uint8_t type, flags;
    const uint8_t *body;
    uint32_t rem;
    size_t cur = 0;
    int n = 0;
    while (sent_next(&f->t, &cur, &type, &flags, &body, &rem))
        n += type == want;
    return n;
}

/* ---- subscribe ------------------------------------------------------------------------ */

static void subscribe_unsubscribe(void **state)
{
    int v;
    (void)state;
    for (v = 0; v < N_VERSIONS; v++) {
        mote_mqtt_version_t ver = v ? V5 : V311;
        fixture_t *f = fixture_new(256, 512);
        mote_mqtt_subscription_t subs[3] = {
            { MOTE_STR("a/+"), 1 },
            { MOTE_STR("b/#"), (uint8_t)(2 | (v ? MOTE_SUB_NO_LOCAL | MOTE_SUB_RETAIN_AS_PUBLISHED | MOTE_SUB_RETAIN_DO_NOT_SEND : 0)) },
            { MOTE_STR("$share/g/c"), 0 },
        };
        mote_bytes_t filters[2] = { MOTE_STR("a/+"), MOTE_STR("b/#") };
        uint8_t pb[16], pkt[64];
        mote_mqtt_props_builder_t b;
        mote_mqtt_props_t props = { NULL, 0 };
        uint16_t sid, uid;
        uint8_t type, flags;
        const uint8_t *body;
        uint32_t rem;
        size_t cur = 0, count, sc = 0;
        uint16_t pid;
        mote_mqtt_props_t got;
        mote_mqtt_subscription_t s;
        mote_mqtt_prop_t pr;
        uint8_t codes[3] = { 1, 2, 0 }, ucodes[2] = { 0x00, 0x11 };
        mote_mqtt_suback_t sa;
        assert_int_equal(fixture_connect(f, ver, false, NULL, 0), MOTE_OK);
        fixture_clear_sent(f);
        if (v) {
            mote_mqtt_props_init(&b, pb, sizeof pb);
            assert_int_equal(mote_mqtt_props_add_int(&b, MOTE_PROP_SUBSCRIPTION_ID, 42), MOTE_OK);
            props = mote_mqtt_props_view(&b);
        }
        assert_int_equal(mote_mqtt_subscribe(&f->c, subs, 3, props, &sid), MOTE_OK);
        assert_int_equal(mote_mqtt_unsubscribe(&f->c, filters, 2, (mote_mqtt_props_t){ NULL, 0 }, &uid), MOTE_OK);
        assert_int_not_equal(sid, uid);
        assert_int_equal(mote_mqtt_flush(&f->c), MOTE_OK);
        assert_true(sent_next(&f->t, &cur, &type, &flags, &body, &rem));
        assert_int_equal(type, MOTE_MQTT_SUBSCRIBE);
        assert_int_equal(mote_mqtt_decode_subscribe(body, rem, flags, ver, &pid, &got, &count), MOTE_OK);
        assert_int_equal(pid, sid);
        assert_int_equal(count, 3);
        assert_true(mote_mqtt_subscribe_next(body, rem, ver, &sc, &s));
        assert_true(mote_mqtt_subscribe_next(body, rem, ver, &sc, &s));
        assert_int_equal(s.options, subs[1].options);
        if (v) {
            assert_true(mote_mqtt_prop_find(got, MOTE_PROP_SUBSCRIPTION_ID, &pr));
            assert_int_equal(pr.u32, 42);
        }
        assert_true(sent_next(&f->t, &cur, &type, &flags, &body, &rem));
        assert_int_equal(type, MOTE_MQTT_UNSUBSCRIBE);
        sa.packet_id = sid;
        sa.reason_codes = codes;
        sa.count = 3;
        sa.props.ptr = NULL;
        sa.props.len = 0;
        script_packet(&f->t, pkt, mote_mqtt_encode_suback(pkt, sizeof pkt, ver, MOTE_MQTT_SUBACK, &sa));
        sa.packet_id = uid;
        sa.count = v ? 2 : 0;
        sa.reason_codes = ucodes;
        script_packet(&f->t, pkt, mote_mqtt_encode_suback(pkt, sizeof pkt, ver, MOTE_MQTT_UNSUBACK, &sa));
        assert_int_equal(mote_mqtt_process(&f->c, 0), MOTE_OK);
        assert_int_equal(f->nev, 2);
        assert_int_equal(f->ev[0].type, MOTE_MQTT_EVT_SUBACK);
        assert_int_equal(f->ev[0].packet_id, sid);
        assert_int_equal(f->ev[0].total, 3);
        assert_int_equal(f->ev[1].type, MOTE_MQTT_EVT_UNSUBACK);
        assert_int_equal(f->ev[1].packet_id, uid);
        /* a further SUBACK matches nothing we sent */
        sa.packet_id = 99;
        sa.count = 3;
        sa.reason_codes = codes;
        script_packet(&f->t, pkt, mote_mqtt_encode_suback(pkt, sizeof pkt, ver, MOTE_MQTT_SUBACK, &sa));
        assert_int_equal(mote_mqtt_process(&f->c, 0), MOTE_ERR_UNKNOWN_PACKET_ID);
        fixture_free(f);
    }
}

/* 3.1.1 has no subscription options beyond the QoS: v5 option bits are refused, nothing is
 * queued, and the client stays usable. */
static void subscribe_v311_refuses_v5_options(void **state)
{
    fixture_t *f = fixture_new(256, 256);
    mote_mqtt_subscription_t bad = { MOTE_STR("a/+"), 1 | MOTE_SUB_NO_LOCAL };
    mote_mqtt_subscription_t good = { MOTE_STR("a/+"), 1 };
    mote_mqtt_props_t none = { NULL, 0 };
    uint16_t id;
    (void)state;
    assert_int_equal(fixture_connect(f, V311, false, NULL, 0), MOTE_OK);
    fixture_clear_sent(f);
    assert_int_equal(mote_mqtt_subscribe(&f->c, &bad, 1, none, &id), MOTE_ERR_BAD_FLAGS);
    assert_int_equal(mote_mqtt_tx_pending(&f->c), 0);
    assert_true(mote_mqtt_is_connected(&f->c));
    assert_int_equal(mote_mqtt_subscribe(&f->c, &good, 1, none, &id), MOTE_OK);
    assert_int_equal(mote_mqtt_flush(&f->c), MOTE_OK);
    assert_int_equal(count_type(f, MOTE_MQTT_SUBSCRIBE), 1);
    fixture_free(f);
}

/* ---- keep-alive ----------------------------------------------------------------------- */

static void keep_alive(void **state)
{
    fixture_t *f = fixture_new(256, 256);
    mote_mqtt_connect_opts_t o;
    mote_mqtt_publish_t m = msg("k", "v", 0);
    static const uint8_t connack[] = { 0x20, 0x02, 0x00, 0x00 }, pingresp[] = { 0xD0, 0x00 };
    (void)state;
    memset(&o, 0, sizeof o);
    o.version = V311;
    o.client_id = MOTE_STR("c");
    o.clean_start = true;
    o.keep_alive_s = 10;
    f->t.now = 0xFFFFF000u; /* the clock wraps during the test */
    script_bytes(&f->t, connack, sizeof connack);
    assert_int_equal(mote_mqtt_connect(&f->c, &o, 1000, NULL), MOTE_OK);
    fixture_clear_sent(f);
    f->t.now += 9999;
    assert_int_equal(mote_mqtt_process(&f->c, 0), MOTE_OK);
    assert_int_equal(count_type(f, MOTE_MQTT_PINGREQ), 0);
    /* sending resets the idle time */
    assert_int_equal(mote_mqtt_publish(&f->c, &m, NULL), MOTE_OK);
    assert_int_equal(mote_mqtt_flush(&f->c), MOTE_OK);
    f->t.now += 9999;
    assert_int_equal(mote_mqtt_process(&f->c, 0), MOTE_OK);
    assert_int_equal(count_type(f, MOTE_MQTT_PINGREQ), 0);
    f->t.now += 1;
    assert_int_equal(mote_mqtt_process(&f->c, 0), MOTE_OK);
    assert_int_equal(count_type(f, MOTE_MQTT_PINGREQ), 1);
    /* PINGRESP arrives: no timeout, next ping after another idle interval */
    script_bytes(&f->t, pingresp, sizeof pingresp);
    f->t.now += 3000;
    assert_int_equal(mote_mqtt_process(&f->c, 0), MOTE_OK);
    assert_int_equal(f->ev[f->nev - 1].type, MOTE_MQTT_EVT_PINGRESP);
    f->t.now += 7000;
    assert_int_equal(mote_mqtt_process(&f->c, 0), MOTE_OK);
    assert_int_equal(count_type(f, MOTE_MQTT_PINGREQ), 2);
    /* no PINGRESP this time */
    f->t.now += 9999;
    assert_int_equal(mote_mqtt_process(&f->c, 0), MOTE_OK);
    f->t.now += 1;
    assert_int_equal(mote_mqtt_process(&f->c, 0), MOTE_ERR_KEEPALIVE_TIMEOUT);
    assert_false(mote_mqtt_is_connected(&f->c));
    fixture_free(f);
}

/* A peer that stops reading: nothing can be written, not even a PINGREQ. */
static void keep_alive_blocked_writes(void **state)
{
    fixture_t *f = fixture_new(256, 64);
    mote_mqtt_connect_opts_t o;
    mote_mqtt_publish_t m = msg("k", "0123456789012345678901234567890123456789", 0);
    static const uint8_t connack[] = { 0x20, 0x02, 0x00, 0x00 };
    mote_err_t rc = MOTE_OK;
    int i;
    (void)state;
    memset(&o, 0, sizeof o);
    o.version = V311;
    o.client_id = MOTE_STR("c");
    o.clean_start = true;
    o.keep_alive_s = 5;
    script_bytes(&f->t, connack, sizeof connack);
    assert_int_equal(mote_mqtt_connect(&f->c, &o, 1000, NULL), MOTE_OK);
    f->t.send_block = 1000000;
    for (i = 0; i < 3 && rc == MOTE_OK; i++)
        rc = mote_mqtt_publish(&f->c, &m, NULL);
    assert_int_equal(rc, MOTE_ERR_NEED_MORE);
    f->t.now += 5000;
    assert_int_equal(mote_mqtt_process(&f->c, 0), MOTE_OK);
    f->t.now += 5000;
    assert_int_equal(mote_mqtt_process(&f->c, 0), MOTE_ERR_KEEPALIVE_TIMEOUT);
    fixture_free(f);
}

static void process_budget_returns(void **state)
{
    fixture_t *f = fixture_new(256, 256);
    uint32_t before;
    (void)state;
    assert_int_equal(fixture_connect(f, V311, false, NULL, 0), MOTE_OK);
    f->t.tick = 1;
    before = f->t.now;
    assert_int_equal(mote_mqtt_process(&f->c, 50), MOTE_OK);
    assert_true(f->t.now - before >= 50 && f->t.now - before < 200);
    fixture_free(f);
}

/* ---- partial I/O ---------------------------------------------------------------------- */

static void partial_reads_and_writes(void **state)
{
    int k;
    (void)state;
    for (k = 1; k <= 7; k += 3) {
        fixture_t *f = fixture_new(64, 64);
        mote_mqtt_publish_t m = msg("part/ial", "0123456789abcdef", 1);
        uint8_t type, flags;
        const uint8_t *body;
        uint32_t rem;
        size_t cur = 0;
        int i, pubs = 0, acks = 0, rounds;
        uint16_t last_id = 0;
        f->t.recv_max = (size_t)k;
        f->t.send_max = (size_t)k;
        assert_int_equal(fixture_connect(f, V311, false, NULL, 0), MOTE_OK);
        for (i = 0; i < 6; i++) {
            char payload[32];
            int n = snprintf(payload, sizeof payload, "message %d", i);
            srv_publish(f, V311, "in/topic", payload, (size_t)n, (uint8_t)(i % 3), (uint16_t)(i + 1), false, NULL, 0);
        }
        for (i = 0; i < 4; i++) {
            mote_err_t rc;
            do {
                rc = mote_mqtt_publish(&f->c, &m, NULL);
                if (rc == MOTE_ERR_NEED_MORE)
                    f->t.send_block = 0;
            } while (rc == MOTE_ERR_NEED_MORE);
            assert_int_equal(rc, MOTE_OK);
            f->t.send_block = 2; /* the transport refuses a couple of writes now and then */
        }
        for (rounds = 0; rounds < 400; rounds++)
            assert_int_equal(mote_mqtt_process(&f->c, 0), MOTE_OK);
        assert_int_equal(f->nev, 6);
        for (i = 0; i < 6; i++) {
            char payload[32];
            int n = snprintf(payload, sizeof payload, "message %d", i);
            assert_int_equal(f->ev[i].type, MOTE_MQTT_EVT_PUBLISH);
            assert_int_equal(f->ev[i].payload_len, (size_t)n);
            assert_memory_equal(f->ev[i].payload, payload, (size_t)n);
            assert_memory_equal(f->ev[i].topic, "in/topic", 8);
        }
        /* everything written exactly once, in order: CONNECT, 4 PUBLISH, acks */
        while (sent_next(&f->t, &cur, &type, &flags, &body, &rem)) {
            if (type == MOTE_MQTT_PUBLISH) {
                mote_mqtt_publish_t p;
                assert_int_equal(mote_mqtt_decode_publish(body, rem, flags, V311, &p), MOTE_OK);
                assert_true(p.packet_id > last_id); /* each once, in order */
                last_id = p.packet_id;
                assert_memory_equal(p.payload.ptr, "0123456789abcdef", 16);
                pubs++;
            }
            acks += type == MOTE_MQTT_PUBACK || type == MOTE_MQTT_PUBREC;
        }
        assert_int_equal(cur, f->t.sent_len);
        assert_int_equal(pubs, 4);
        assert_int_equal(acks, 4);
        fixture_free(f);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(connect_v311),
        cmocka_unit_test(connect_v311_session_info),
#if !MOTE_MQTT_V5
        cmocka_unit_test(auth_unsupported_without_v5),
#endif
#if MOTE_MQTT_V5
        cmocka_unit_test(connect_v5_connack_props),
#else
        cmocka_unit_test(connect_v5_unsupported),
#endif
        cmocka_unit_test(connect_refused),
        cmocka_unit_test(connect_timeout_and_bad_connack),
        cmocka_unit_test(connack_malformed_v311),
        cmocka_unit_test(connack_then_publish_in_one_read),
        cmocka_unit_test(publish_qos0_coalesced),
        cmocka_unit_test(publish_qos1_qos2_flows),
        cmocka_unit_test(publish_inflight_full_and_many_ids),
        cmocka_unit_test(publish_large_payload_zero_copy),
        cmocka_unit_test(subscribe_unsubscribe),
        cmocka_unit_test(subscribe_v311_refuses_v5_options),
        cmocka_unit_test(keep_alive),
        cmocka_unit_test(keep_alive_blocked_writes),
        cmocka_unit_test(process_budget_returns),
        cmocka_unit_test(partial_reads_and_writes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
