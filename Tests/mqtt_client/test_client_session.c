/* MQTT client session behaviour over a scripted transport: resend after reconnect,
 * exactly-once QoS 2, streamed oversize PUBLISH, v5 topic aliases and limits, server
 * DISCONNECT, request/response and subscription identifiers, and hostile input.
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

/* ---- reconnect ------------------------------------------------------------------------ */

static void reconnect_resends_in_order(void **state)
{
    int v;
    (void)state;
    for (v = 0; v < N_VERSIONS; v++) {
        mote_mqtt_version_t ver = v ? V5 : V311;
        fixture_t *f = fixture_new(256, 64);
        mote_mqtt_publish_t a = msg("r/a", "AAAA", 1), b = msg("r/b", "BBBB", 2),
                            c = msg("r/c", "CCCC", 1), d = msg("r/d", "DDDD", 2);
        static char big[300];
        mote_mqtt_publish_t e;
        uint16_t ia, ib, ic, id, ie;
        uint8_t type, flags;
        const uint8_t *body;
        uint32_t rem;
        size_t cur = 0;
        mote_mqtt_publish_t p;
        mote_mqtt_ack_t ack;
        memset(big, 'E', sizeof big - 1);
        e = msg("r/e", big, 1); /* larger than tx_buf: resent from caller memory */
        assert_int_equal(fixture_connect(f, ver, false, NULL, 0), MOTE_OK);
        assert_int_equal(mote_mqtt_publish(&f->c, &a, &ia), MOTE_OK);
        assert_int_equal(mote_mqtt_publish(&f->c, &b, &ib), MOTE_OK);
        assert_int_equal(mote_mqtt_publish(&f->c, &c, &ic), MOTE_OK);
        assert_int_equal(mote_mqtt_publish(&f->c, &d, &id), MOTE_OK);
        assert_int_equal(mote_mqtt_publish(&f->c, &e, &ie), MOTE_OK);
        srv_ack(f, ver, MOTE_MQTT_PUBREC, ib, 0); /* b moves on to PUBREL */
        srv_ack(f, ver, MOTE_MQTT_PUBACK, ic, 0); /* c completes */
        assert_int_equal(mote_mqtt_process(&f->c, 0), MOTE_OK);
        assert_int_equal(mote_mqtt_inflight_count(&f->c), 4);
        /* connection lost; reconnect with the session present */
        mote_mqtt_reset_connection(&f->c);
        assert_false(mote_mqtt_is_connected(&f->c));
        assert_int_equal(mote_mqtt_publish(&f->c, &a, NULL), MOTE_ERR_NOT_CONNECTED);
        fixture_clear_sent(f);
        f->t.send_max = 5;
        assert_int_equal(fixture_connect(f, ver, true, NULL, 0), MOTE_OK);
        for (int i = 0; i < 200; i++)
            assert_int_equal(mote_mqtt_process(&f->c, 0), MOTE_OK);
        assert_true(sent_next(&f->t, &cur, &type, &flags, &body, &rem)); /* CONNECT */
        assert_int_equal(type, MOTE_MQTT_CONNECT);
        /* a, d, e were PUBLISHed in that order, then b's PUBREL */
        {
            const uint16_t want_id[4] = { ia, id, ie, ib };
            const uint8_t want_type[4] = { MOTE_MQTT_PUBLISH, MOTE_MQTT_PUBLISH, MOTE_MQTT_PUBLISH, MOTE_MQTT_PUBREL };
            for (int i = 0; i < 4; i++) {
                assert_true(sent_next(&f->t, &cur, &type, &flags, &body, &rem));
                assert_int_equal(type, want_type[i]);
                if (type == MOTE_MQTT_PUBLISH) {
                    assert_int_equal(mote_mqtt_decode_publish(body, rem, flags, ver, &p), MOTE_OK);
                    assert_true(p.dup);
                    assert_int_equal(p.packet_id, want_id[i]);
                    if (i == 2)
                        assert_int_equal(p.payload.len, sizeof big - 1);
                } else {
                    assert_int_equal(mote_mqtt_decode_ack(body, rem, type, flags, ver, &ack), MOTE_OK);
                    assert_int_equal(ack.packet_id, want_id[i]);
                }
            }
        }
        assert_int_equal(cur, f->t.sent_len);
        /* a new session drops the records, each reported: not delivered (0x80), but for
         * b, which the server took with PUBREC (delivered: only its PUBCOMP is gone) */
        mote_mqtt_reset_connection(&f->c);
        f->nev = 0;
        assert_int_equal(fixture_connect(f, ver, false, NULL, 0), MOTE_OK);
        assert_int_equal(f->nev, 4);
        for (size_t i = 0; i < f->nev; i++) {
            assert_int_equal(f->ev[i].type, MOTE_MQTT_EVT_PUBLISH_DONE);
            assert_int_equal(f->ev[i].reason, f->ev[i].packet_id == ib ? 0 : 0x80);
        }
        assert_int_equal(mote_mqtt_inflight_count(&f->c), 0);
        fixture_free(f);
    }
}

/* A QoS 1/2 publish that fails because the connection broke while it was being written is
 * not in flight: the caller got an error (and will publish it again), so nothing of it may
 * be resent from the session after a reconnect. */
static void publish_failing_on_a_broken_connection_leaves_no_record(void **state)
{
    int v;
    (void)state;
    for (v = 0; v < N_VERSIONS; v++) {
        mote_mqtt_version_t ver = v ? V5 : V311;
        fixture_t *f = fixture_new(256, 64);
        static char big[300];
        mote_mqtt_publish_t a = msg("r/a", "AAAA", 1), e;
        uint16_t ia = 0, ie = 0;
        uint8_t type, flags;
        const uint8_t *body;
        uint32_t rem;
        size_t cur = 0;
        memset(big, 'E', sizeof big - 1);
        e = msg("r/e", big, 1); /* larger than tx_buf: written at once, from caller memory */
        assert_int_equal(fixture_connect(f, ver, false, NULL, 0), MOTE_OK);
        assert_int_equal(mote_mqtt_publish(&f->c, &a, &ia), MOTE_OK); /* queued: in flight */
        f->t.send_error = MOTE_ERR_TRANSPORT;
        assert_int_equal(mote_mqtt_publish(&f->c, &e, &ie), MOTE_ERR_TRANSPORT);
        assert_int_equal(ie, 0);
        assert_false(mote_mqtt_is_connected(&f->c));
        assert_int_equal(mote_mqtt_inflight_count(&f->c), 1); /* only a */
        f->t.send_error = 0;
        fixture_clear_sent(f);
        assert_int_equal(fixture_connect(f, ver, true, NULL, 0), MOTE_OK);
        for (int i = 0; i < 10; i++)
            assert_int_equal(mote_mqtt_process(&f->c, 0), MOTE_OK);
        assert_true(sent_next(&f->t, &cur, &type, &flags, &body, &rem)); /* CONNECT */
        assert_int_equal(type, MOTE_MQTT_CONNECT);
        assert_true(sent_next(&f->t, &cur, &type, &flags, &body, &rem)); /* a again, nothing else */
        assert_int_equal(type, MOTE_MQTT_PUBLISH);
        assert_int_equal(cur, f->t.sent_len);
        fixture_free(f);
    }
}

/* 3.1.1 DISCONNECT is the two bytes E0 00 (reason code and properties are v5's and left
 * out); the session stays, so a reconnect with a present session resends what was
 * unacknowledged. Message properties are v5's too: 3.1.1 PUBLISH packets, first sent or
 * resent, never carry them. */
static void disconnect_v311_keeps_session(void **state)
{
    fixture_t *f = fixture_new(256, 256);
    static const uint8_t props[] = { 0x01, 0x01 }; /* payload format indicator */
    static const uint8_t disconnect[] = { 0xE0, 0x00 };
    mote_mqtt_publish_t m = msg("d/q1", "keep", 1), p;
    mote_mqtt_props_t dprops = { props, sizeof props };
    uint8_t type, flags;
    const uint8_t *body;
    uint32_t rem;
    size_t cur = 0;
    uint16_t id;
    int pass;
    (void)state;
    m.props.ptr = props;
    m.props.len = sizeof props;
    assert_int_equal(fixture_connect(f, V311, false, NULL, 0), MOTE_OK);
    fixture_clear_sent(f);
    assert_int_equal(mote_mqtt_publish(&f->c, &m, &id), MOTE_OK);
    f->t.send_block = 1; /* the first write is refused: DISCONNECT completes later */
    assert_int_equal(mote_mqtt_disconnect(&f->c, 0x04, dprops), MOTE_ERR_NEED_MORE);
    assert_false(mote_mqtt_is_connected(&f->c));
    assert_int_equal(mote_mqtt_publish(&f->c, &m, NULL), MOTE_ERR_NOT_CONNECTED);
    assert_int_equal(mote_mqtt_process(&f->c, 0), MOTE_OK); /* writes the rest */
    assert_int_equal(mote_mqtt_tx_pending(&f->c), 0);
    assert_int_equal(mote_mqtt_process(&f->c, 0), MOTE_ERR_NOT_CONNECTED);
    /* the PUBLISH (without properties), then exactly E0 00 */
    for (pass = 0; pass < 2; pass++) {
        assert_true(sent_next(&f->t, &cur, &type, &flags, &body, &rem));
        assert_int_equal(type, MOTE_MQTT_PUBLISH);
        assert_int_equal(mote_mqtt_decode_publish(body, rem, flags, V311, &p), MOTE_OK);
        assert_int_equal(p.packet_id, id);
        assert_int_equal(p.dup, pass == 1);
        assert_int_equal(p.props.len, 0);
        assert_int_equal(rem, 2 + 4 + 2 + 4); /* topic, id, payload: nothing else */
        assert_memory_equal(p.payload.ptr, "keep", 4);
        if (pass == 0) {
            assert_int_equal(f->t.sent_len - cur, sizeof disconnect);
            assert_memory_equal(f->t.sent + cur, disconnect, sizeof disconnect);
            /* reconnect with the session present: the message is resent with DUP */
            assert_int_equal(mote_mqtt_inflight_count(&f->c), 1);
            fixture_clear_sent(f);
            assert_int_equal(fixture_connect(f, V311, true, NULL, 0), MOTE_OK);
            assert_int_equal(mote_mqtt_process(&f->c, 0), MOTE_OK);
            cur = 0;
            assert_true(sent_next(&f->t, &cur, &type, &flags, &body, &rem));
            assert_int_equal(type, MOTE_MQTT_CONNECT);
        }
    }
    assert_int_equal(cur, f->t.sent_len);
    srv_ack(f, V311, MOTE_MQTT_PUBACK, id, 0);
    assert_int_equal(mote_mqtt_process(&f->c, 0), MOTE_OK);
    assert_int_equal(mote_mqtt_inflight_count(&f->c), 0);
    fixture_free(f);
}

/* ---- incoming QoS 2 ------------------------------------------------------------------- */

static void qos2_exactly_once(void **state)
{
    int v;
    (void)state;
    for (v = 0; v < N_VERSIONS; v++) {
        mote_mqtt_version_t ver = v ? V5 : V311;
        fixture_t *f = fixture_new(256, 256);
        uint8_t type, flags;
        const uint8_t *body;
        uint32_t rem;
        size_t cur = 0;
        int recs = 0, comps = 0;
        assert_int_equal(fixture_connect(f, ver, false, NULL, 0), MOTE_OK);
        fixture_clear_sent(f);
        srv_publish(f, ver, "q2", "once", 4, 2, 7, false, NULL, 0);
        srv_publish(f, ver, "q2", "once", 4, 2, 7, true, NULL, 0); /* resent before PUBREL */
        assert_int_equal(mote_mqtt_process(&f->c, 0), MOTE_OK);
        /* reconnect with session present: the server sends it a third time */
        mote_mqtt_reset_connection(&f->c);
        assert_int_equal(fixture_connect(f, ver, true, NULL, 0), MOTE_OK);
        srv_publish(f, ver, "q2", "once", 4, 2, 7, true, NULL, 0);
        srv_ack(f, ver, MOTE_MQTT_PUBREL, 7, 0);
        srv_publish(f, ver, "q2", "again", 5, 2, 7, false, NULL, 0); /* id reused: new message */
        assert_int_equal(mote_mqtt_process(&f->c, 0), MOTE_OK);
        assert_int_equal(f->nev, 2);
        assert_memory_equal(f->ev[0].payload, "once", 4);
        assert_memory_equal(f->ev[1].payload, "again", 5);
        while (sent_next(&f->t, &cur, &type, &flags, &body, &rem)) {
            recs += type == MOTE_MQTT_PUBREC;
            comps += type == MOTE_MQTT_PUBCOMP;
        }
        assert_int_equal(recs, 4);
        assert_int_equal(comps, 1);
        /* PUBREL for an id we do not hold still gets PUBCOMP (v5: reason 0x92) */
        fixture_clear_sent(f);
        srv_ack(f, ver, MOTE_MQTT_PUBREL, 300, 0);
        assert_int_equal(mote_mqtt_process(&f->c, 0), MOTE_OK);
        cur = 0;
        assert_true(sent_next(&f->t, &cur, &type, &flags, &body, &rem));
        assert_int_equal(type, MOTE_MQTT_PUBCOMP);
        if (v)
            assert_int_equal(body[2], 0x92);
        fixture_free(f);
    }
}

/* More incoming QoS 2 messages awaiting PUBREL than qos2_rx_ids holds: in 3.1.1 (no
 * receive maximum to announce) the client reports MOTE_ERR_NO_SPACE after delivering the
 * ones it could track. */
static void qos2_table_full_v311(void **state)
{
    fixture_t *f = fixture_new(256, 256);
    mote_err_t rc = MOTE_OK;
    int i;
    (void)state;
    assert_int_equal(fixture_connect(f, V311, false, NULL, 0), MOTE_OK);
    for (i = 1; i <= 5; i++)
        srv_publish(f, V311, "q2", "x", 1, 2, (uint16_t)i, false, NULL, 0);
    for (i = 0; i < 10 && rc == MOTE_OK; i++)
        rc = mote_mqtt_process(&f->c, 0);
    assert_int_equal(rc, MOTE_ERR_NO_SPACE);
    assert_int_equal(f->nev, 4);
    assert_false(mote_mqtt_is_connected(&f->c));
    fixture_free(f);
}

/* ---- streaming ------------------------------------------------------------------------ */

static void stream_oversize(void **state)
{
    int v, k;
    (void)state;
    for (v = 0; v < N_VERSIONS; v++) {
        for (k = 0; k < 3; k++) {
            mote_mqtt_version_t ver = v ? V5 : V311;
            fixture_t *f = fixture_new(64, 256);
            static uint8_t payload[3000];
            size_t i;
            uint8_t type, flags;
            const uint8_t *body;
            uint32_t rem;
            size_t cur = 0;
            int rounds;
            for (i = 0; i < sizeof payload; i++)
                payload[i] = (uint8_t)(i * 13 + 1);
            f->t.recv_max = k == 0 ? 0 : k == 1 ? 1 : 17;
            assert_int_equal(fixture_connect(f, ver, false, NULL, 0), MOTE_OK);
            fixture_clear_sent(f);
            srv_publish(f, ver, "stream/topic", payload, sizeof payload, 1, 5, false, NULL, 0);
            srv_publish(f, ver, "after", "ok", 2, 0, 0, false, NULL, 0);
            for (rounds = 0; rounds < 8000; rounds++) {
                assert_int_equal(mote_mqtt_process(&f->c, 0), MOTE_OK);
                if (f->nev && f->ev[f->nev - 1].type == MOTE_MQTT_EVT_PUBLISH &&
                    f->ev[f->nev - 1].topic_len == 5)
                    break;
            }
            assert_true(f->nev > 2);
            assert_true(f->ev[0].first);
            assert_int_equal(f->ev[0].offset, 0);
            {
                uint32_t expect = 0;
                for (i = 0; i + 1 < f->nev; i++) {
                    assert_int_equal(f->ev[i].total, sizeof payload);
                    assert_int_equal(f->ev[i].offset, expect);
                    assert_int_equal(f->ev[i].topic_len, 12);
                    assert_memory_equal(f->ev[i].topic, "stream/topic", 12);
                    assert_int_equal(f->ev[i].packet_id, 5);
                    assert_int_equal(f->ev[i].first, i == 0);
                    assert_int_equal(f->ev[i].last, i + 2 == f->nev);
                    expect += (uint32_t)f->ev[i].payload_len;
                }
                assert_int_equal(expect, sizeof payload);
            }
            assert_memory_equal(f->assembled, payload, sizeof payload);
            assert_true(f->ev[f->nev - 1].first && f->ev[f->nev - 1].last);
            assert_memory_equal(f->ev[f->nev - 1].payload, "ok", 2);
            assert_true(sent_next(&f->t, &cur, &type, &flags, &body, &rem));
            assert_int_equal(type, MOTE_MQTT_PUBACK);
            fixture_free(f);
        }
    }
}

static void stream_reject_oversize(void **state)
{
    fixture_t *f = fixture_new(64, 256);
    static uint8_t payload[500];
    uint8_t type, flags;
    const uint8_t *body;
    uint32_t rem;
    size_t cur = 0;
    mote_err_t rc;
    int rounds, rejected = 0;
    (void)state;
#if MOTE_MQTT_V5
    mote_mqtt_connect_t ck;
    mote_mqtt_will_t will;
    mote_mqtt_prop_t pr;
    f->cfg.reject_oversize = true;
    assert_int_equal(fixture_connect(f, V5, false, NULL, 0), MOTE_OK);
    /* we announced rx_cap as our maximum packet size */
    assert_true(sent_next(&f->t, &cur, &type, &flags, &body, &rem));
    assert_int_equal(mote_mqtt_decode_connect(body, rem, &ck, &will), MOTE_OK);
    assert_true(mote_mqtt_prop_find(ck.props, MOTE_PROP_MAXIMUM_PACKET_SIZE, &pr));
    assert_int_equal(pr.u32, 64);
    /* a server that sends more anyway is refused: maximum packet size applies */
    srv_publish(f, V5, "too/big", payload, sizeof payload, 1, 9, false, NULL, 0);
    assert_int_equal(mote_mqtt_process(&f->c, 0), MOTE_ERR_PACKET_TOO_LARGE);
    assert_false(mote_mqtt_is_connected(&f->c));
    fixture_free(f);
    f = fixture_new(64, 256);
#endif

    /* 3.1.1 (no maximum packet size): the message is skipped, acknowledged, reported */
    f->cfg.reject_oversize = true;
    f->t.recv_max = 40;
    assert_int_equal(fixture_connect(f, V311, false, NULL, 0), MOTE_OK);
    fixture_clear_sent(f);
    srv_publish(f, V311, "too/big", payload, sizeof payload, 1, 9, false, NULL, 0);
    srv_publish(f, V311, "after", "ok", 2, 0, 0, false, NULL, 0);
    for (rounds = 0; rounds < 100; rounds++) {
        rc = mote_mqtt_process(&f->c, 0);
        if (rc == MOTE_ERR_OVERSIZE_REJECTED)
            rejected++;
        else
            assert_int_equal(rc, MOTE_OK);
    }
    assert_int_equal(rejected, 1);
    assert_int_equal(f->nev, 1);
    assert_memory_equal(f->ev[0].topic, "after", 5);
    cur = 0;
    assert_true(sent_next(&f->t, &cur, &type, &flags, &body, &rem));
    assert_int_equal(type, MOTE_MQTT_PUBACK);
    assert_true(mote_mqtt_is_connected(&f->c));
    fixture_free(f);
}

/* ---- v5 features ---------------------------------------------------------------------- */
#if MOTE_MQTT_V5

static void topic_aliases(void **state)
{
    fixture_t *f = fixture_new(256, 256);
    uint8_t cp[8], ap[8];
    mote_mqtt_props_builder_t b;
    mote_mqtt_publish_t m = msg("alias/out", "1", 0), other = msg("no/alias", "2", 0);
    uint8_t type, flags;
    const uint8_t *body;
    uint32_t rem;
    size_t cur = 0;
    mote_mqtt_publish_t p;
    mote_mqtt_prop_t pr;
    int i;
    (void)state;
    f->aliases_out[1] = MOTE_STR("alias/out");
    f->cfg.topic_aliases = f->aliases_out;
    f->cfg.topic_alias_count = 4;
    mote_mqtt_props_init(&b, cp, sizeof cp);
    mote_mqtt_props_add_int(&b, MOTE_PROP_TOPIC_ALIAS_MAXIMUM, 2);
    assert_int_equal(fixture_connect(f, V5, false, b.buf, b.len), MOTE_OK);
    fixture_clear_sent(f);
    for (i = 0; i < 2; i++)
        assert_int_equal(mote_mqtt_publish(&f->c, &m, NULL), MOTE_OK);
    assert_int_equal(mote_mqtt_publish(&f->c, &other, NULL), MOTE_OK);
    assert_int_equal(mote_mqtt_flush(&f->c), MOTE_OK);
    for (i = 0; i < 3; i++) {
        assert_true(sent_next(&f->t, &cur, &type, &flags, &body, &rem));
        assert_int_equal(mote_mqtt_decode_publish(body, rem, flags, V5, &p), MOTE_OK);
        if (i < 2) {
            assert_true(mote_mqtt_prop_find(p.props, MOTE_PROP_TOPIC_ALIAS, &pr));
            assert_int_equal(pr.u32, 2);
            assert_int_equal(p.topic.len, i == 0 ? 9 : 0);
        } else {
            assert_false(mote_mqtt_prop_find(p.props, MOTE_PROP_TOPIC_ALIAS, &pr));
        }
    }
    /* incoming: topic + alias 3 sets it; empty topic + alias 3 uses it */
    mote_mqtt_props_init(&b, ap, sizeof ap);
    mote_mqtt_props_add_int(&b, MOTE_PROP_TOPIC_ALIAS, 3);
    srv_publish(f, V5, "alias/in", "a", 1, 0, 0, false, b.buf, b.len);
    srv_publish(f, V5, "", "b", 1, 0, 0, false, b.buf, b.len);
    assert_int_equal(mote_mqtt_process(&f->c, 0), MOTE_OK);
    assert_int_equal(f->nev, 2);
    assert_int_equal(f->ev[1].topic_len, 8);
    assert_memory_equal(f->ev[1].topic, "alias/in", 8);
    /* unknown alias */
    mote_mqtt_props_init(&b, ap, sizeof ap);
    mote_mqtt_props_add_int(&b, MOTE_PROP_TOPIC_ALIAS, 2);
    srv_publish(f, V5, "", "c", 1, 0, 0, false, b.buf, b.len);
    assert_int_equal(mote_mqtt_process(&f->c, 0), MOTE_ERR_TOPIC_ALIAS);
    fixture_free(f);

    /* alias above the maximum we announced (4) */
    f = fixture_new(256, 256);
    assert_int_equal(fixture_connect(f, V5, false, NULL, 0), MOTE_OK);
    mote_mqtt_props_init(&b, ap, sizeof ap);
    mote_mqtt_props_add_int(&b, MOTE_PROP_TOPIC_ALIAS, 5);
    srv_publish(f, V5, "x", "c", 1, 0, 0, false, b.buf, b.len);
    assert_int_equal(mote_mqtt_process(&f->c, 0), MOTE_ERR_TOPIC_ALIAS);
    fixture_free(f);
}

static void max_packet_size_incoming(void **state)
{
    fixture_t *f = fixture_new(1024, 256);
    mote_mqtt_connect_opts_t o;
    uint8_t pkt[16];
    mote_mqtt_connack_t ca;
    static uint8_t payload[200];
    (void)state;
    memset(&ca, 0, sizeof ca);
    script_packet(&f->t, pkt, mote_mqtt_encode_connack(pkt, sizeof pkt, V5, &ca));
    memset(&o, 0, sizeof o);
    o.version = V5;
    o.clean_start = true;
    o.max_packet_size = 128;
    assert_int_equal(mote_mqtt_connect(&f->c, &o, 1000, NULL), MOTE_OK);
    srv_publish(f, V5, "t", payload, 100, 0, 0, false, NULL, 0);
    srv_publish(f, V5, "t", payload, 200, 0, 0, false, NULL, 0);
    assert_int_equal(mote_mqtt_process(&f->c, 0), MOTE_ERR_PACKET_TOO_LARGE);
    assert_int_equal(f->nev, 1);
    fixture_free(f);
}

static void server_disconnect(void **state)
{
    fixture_t *f = fixture_new(256, 256);
    uint8_t pkt[64], pb[32];
    mote_mqtt_props_builder_t b;
    (void)state;
    assert_int_equal(fixture_connect(f, V5, false, NULL, 0), MOTE_OK);
    mote_mqtt_props_init(&b, pb, sizeof pb);
    mote_mqtt_props_add_bytes(&b, MOTE_PROP_REASON_STRING, MOTE_STR("bye"));
    script_packet(&f->t, pkt, mote_mqtt_encode_disconnect(pkt, sizeof pkt, V5, 0x8B, mote_mqtt_props_view(&b)));
    assert_int_equal(mote_mqtt_process(&f->c, 0), MOTE_ERR_SERVER_DISCONNECT);
    assert_int_equal(f->nev, 1);
    assert_int_equal(f->ev[0].type, MOTE_MQTT_EVT_DISCONNECT);
    assert_int_equal(f->ev[0].reason, 0x8B);
    assert_int_equal(f->ev[0].props_len, b.len);
    assert_false(mote_mqtt_is_connected(&f->c));
    fixture_free(f);
}

static void request_response_and_sub_ids(void **state)
{
    fixture_t *f = fixture_new(256, 256);
    uint8_t pb[64];
    mote_mqtt_props_builder_t b;
    mote_mqtt_publish_t m = msg("req", "ping", 1), p;
    uint8_t type, flags;
    const uint8_t *body;
    uint32_t rem;
    size_t cur = 0;
    mote_mqtt_prop_t pr;
    mote_mqtt_props_t got;
    size_t pc = 0;
    int subids = 0;
    (void)state;
    assert_int_equal(fixture_connect(f, V5, false, NULL, 0), MOTE_OK);
    fixture_clear_sent(f);
    mote_mqtt_props_init(&b, pb, sizeof pb);
    mote_mqtt_props_add_bytes(&b, MOTE_PROP_RESPONSE_TOPIC, MOTE_STR("resp/me"));
    mote_mqtt_props_add_bytes(&b, MOTE_PROP_CORRELATION_DATA, MOTE_STR("\x01\x02"));
    mote_mqtt_props_add_int(&b, MOTE_PROP_MESSAGE_EXPIRY, 30);
    m.props = mote_mqtt_props_view(&b);
    assert_int_equal(mote_mqtt_publish(&f->c, &m, NULL), MOTE_OK);
    assert_int_equal(mote_mqtt_flush(&f->c), MOTE_OK);
    assert_true(sent_next(&f->t, &cur, &type, &flags, &body, &rem));
    assert_int_equal(mote_mqtt_decode_publish(body, rem, flags, V5, &p), MOTE_OK);
    assert_true(mote_mqtt_prop_find(p.props, MOTE_PROP_RESPONSE_TOPIC, &pr));
    assert_memory_equal(pr.value.ptr, "resp/me", 7);
    assert_true(mote_mqtt_prop_find(p.props, MOTE_PROP_CORRELATION_DATA, &pr));
    assert_int_equal(pr.value.len, 2);
    /* incoming: response properties and two subscription identifiers reach the app */
    mote_mqtt_props_init(&b, pb, sizeof pb);
    mote_mqtt_props_add_bytes(&b, MOTE_PROP_RESPONSE_TOPIC, MOTE_STR("back"));
    mote_mqtt_props_add_bytes(&b, MOTE_PROP_CORRELATION_DATA, MOTE_STR("cd"));
    mote_mqtt_props_add_int(&b, MOTE_PROP_SUBSCRIPTION_ID, 42);
    mote_mqtt_props_add_int(&b, MOTE_PROP_SUBSCRIPTION_ID, 300);
    srv_publish(f, V5, "req", "x", 1, 0, 0, false, b.buf, b.len);
    assert_int_equal(mote_mqtt_process(&f->c, 0), MOTE_OK);
    assert_int_equal(f->nev, 1);
    got.ptr = f->ev[0].props;
    got.len = f->ev[0].props_len;
    assert_true(mote_mqtt_prop_find(got, MOTE_PROP_RESPONSE_TOPIC, &pr));
    assert_memory_equal(pr.value.ptr, "back", 4);
    while (mote_mqtt_prop_next(got, &pc, &pr))
        if (pr.id == MOTE_PROP_SUBSCRIPTION_ID)
            assert_int_equal(pr.u32, subids++ ? 300 : 42);
    assert_int_equal(subids, 2);
    fixture_free(f);
}
#endif /* MOTE_MQTT_V5 */

/* ---- hostile input -------------------------------------------------------------------- */

typedef struct hostile_case {
    const char *name;
    mote_mqtt_version_t v;
    uint8_t bytes[16];
    size_t len;
    int close_at_end;
    mote_err_t want;
} hostile_case_t;

static void hostile_input(void **state)
{
    static const hostile_case_t cases[] = {
        { "garbage type 0", V311, { 0x00, 0x00 }, 2, 0, MOTE_ERR_BAD_PACKET_TYPE },
        { "remaining length 5 bytes", V311, { 0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F }, 6, 0, MOTE_ERR_BAD_REMAINING_LENGTH },
        { "truncated then closed", V311, { 0x30, 0x0A, 0x00, 0x03, 'a' }, 5, 1, MOTE_ERR_CLOSED },
        { "PUBACK lies about length", V311, { 0x40, 0x01, 0x00 }, 3, 0, MOTE_ERR_MALFORMED },
        { "PUBLISH topic longer than packet", V311, { 0x30, 0x04, 0x00, 0x09, 'a', 'b' }, 6, 0, MOTE_ERR_MALFORMED },
        { "PUBACK for unknown id", V311, { 0x40, 0x02, 0x12, 0x34 }, 4, 0, MOTE_ERR_UNKNOWN_PACKET_ID },
#if MOTE_MQTT_V5
        { "PUBCOMP for unknown id", V5, { 0x70, 0x02, 0x00, 0x09 }, 4, 0, MOTE_ERR_UNKNOWN_PACKET_ID },
#endif
        { "PUBCOMP for unknown id in 3.1.1", V311, { 0x70, 0x02, 0x00, 0x09 }, 4, 0, MOTE_ERR_UNKNOWN_PACKET_ID },
        { "PUBREC for unknown id", V311, { 0x50, 0x02, 0x00, 0x09 }, 4, 0, MOTE_ERR_UNKNOWN_PACKET_ID },
        { "QoS 3 PUBLISH", V311, { 0x36, 0x05, 0x00, 0x01, 'a', 0x00, 0x01 }, 7, 0, MOTE_ERR_BAD_QOS },
        { "second CONNACK", V311, { 0x20, 0x02, 0x00, 0x00 }, 4, 0, MOTE_ERR_PROTOCOL },
        { "PINGREQ from server", V311, { 0xC0, 0x00 }, 2, 0, MOTE_ERR_PROTOCOL },
        { "SUBSCRIBE from server", V311, { 0x82, 0x06, 0x00, 0x01, 0x00, 0x01, 'a', 0x00 }, 8, 0, MOTE_ERR_PROTOCOL },
        { "DISCONNECT in 3.1.1", V311, { 0xE0, 0x00 }, 2, 0, MOTE_ERR_PROTOCOL },
        { "AUTH in 3.1.1", V311, { 0xF0, 0x00 }, 2, 0, MOTE_ERR_PROTOCOL },
        { "PUBACK with a reason code in 3.1.1", V311, { 0x40, 0x03, 0x00, 0x01, 0x00 }, 5, 0, MOTE_ERR_MALFORMED },
        { "SUBACK without return codes", V311, { 0x90, 0x02, 0x00, 0x01 }, 4, 0, MOTE_ERR_MALFORMED },
        { "SUBACK return code 3", V311, { 0x90, 0x03, 0x00, 0x01, 0x03 }, 5, 0, MOTE_ERR_BAD_REASON_CODE },
        { "UNSUBACK with codes in 3.1.1", V311, { 0xB0, 0x03, 0x00, 0x01, 0x00 }, 5, 0, MOTE_ERR_MALFORMED },
        { "bad PUBREL flags", V311, { 0x60, 0x02, 0x00, 0x01 }, 4, 0, MOTE_ERR_BAD_FLAGS },
        { "PUBLISH QoS 1 id 0", V311, { 0x32, 0x05, 0x00, 0x01, 'a', 0x00, 0x00 }, 7, 0, MOTE_ERR_BAD_PACKET_ID },
        { "PUBLISH wildcard topic", V311, { 0x30, 0x03, 0x00, 0x01, '#' }, 5, 0, MOTE_ERR_BAD_TOPIC },
#if MOTE_MQTT_V5
        { "v5 AUTH without a method", V5, { 0xF0, 0x02, 0x18, 0x00 }, 4, 0, MOTE_ERR_BAD_PROPERTY },
        { "v5 AUTH with a reason string only", V5, { 0xF0, 0x05, 0x18, 0x03, 0x1F, 0x00, 0x00 }, 7, 0, MOTE_ERR_BAD_PROPERTY },
        { "v5 bad property", V5, { 0x30, 0x05, 0x00, 0x01, 'a', 0x01, 0x7E }, 7, 0, MOTE_ERR_BAD_PROPERTY },
        { "closed", V5, { 0 }, 0, 1, MOTE_ERR_CLOSED },
#endif
        { "closed in 3.1.1", V311, { 0 }, 0, 1, MOTE_ERR_CLOSED },
    };
    size_t i;
    (void)state;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fixture_t *f = fixture_new(64, 256);
        mote_err_t rc = MOTE_OK;
        int rounds;
        assert_int_equal(fixture_connect(f, cases[i].v, false, NULL, 0), MOTE_OK);
        if (cases[i].len)
            script_bytes(&f->t, cases[i].bytes, cases[i].len);
        f->t.close_at_end = cases[i].close_at_end;
        for (rounds = 0; rounds < 10 && rc == MOTE_OK; rounds++)
            rc = mote_mqtt_process(&f->c, 0);
        if (rc != cases[i].want)
            fprintf(stderr, "case '%s': got %d (%s), want %d\n", cases[i].name, rc,
                    mote_strerror(rc), cases[i].want);
        assert_int_equal(rc, cases[i].want);
        assert_false(mote_mqtt_is_connected(&f->c));
        fixture_free(f);
    }
}

/* A PUBREC for a QoS 1 message, a PUBACK for a QoS 2 one: protocol errors. */
static void ack_of_wrong_kind(void **state)
{
    int k;
    (void)state;
    for (k = 0; k < 2; k++) {
        fixture_t *f = fixture_new(256, 256);
        mote_mqtt_publish_t m = msg("w", "x", (uint8_t)(k ? 2 : 1));
        uint16_t id;
        assert_int_equal(fixture_connect(f, V311, false, NULL, 0), MOTE_OK);
        assert_int_equal(mote_mqtt_publish(&f->c, &m, &id), MOTE_OK);
        srv_ack(f, V311, k ? MOTE_MQTT_PUBACK : MOTE_MQTT_PUBREC, id, 0);
        assert_int_equal(mote_mqtt_process(&f->c, 0), MOTE_ERR_PROTOCOL);
        fixture_free(f);
    }
}

/* A server that drips one byte per call and never finishes: process keeps returning
 * within its budget, keep-alive eventually fails the connection. */
static void dripping_server(void **state)
{
    fixture_t *f = fixture_new(64, 256);
    mote_mqtt_connect_opts_t o;
    static const uint8_t connack[] = { 0x20, 0x02, 0x00, 0x00 };
    static uint8_t drip[4000];
    mote_err_t rc = MOTE_OK;
    int rounds;
    (void)state;
    memset(&o, 0, sizeof o);
    o.version = V311;
    o.clean_start = true;
    o.client_id = MOTE_STR("d");
    o.keep_alive_s = 2;
    script_bytes(&f->t, connack, sizeof connack);
    assert_int_equal(mote_mqtt_connect(&f->c, &o, 1000, NULL), MOTE_OK);
    drip[0] = 0x30;
    drip[1] = 0xFF;
    drip[2] = 0xFF;
    drip[3] = 0x7F; /* PUBLISH of 2 MB that never completes */
    drip[4] = 0x00;
    drip[5] = 0x01;
    drip[6] = 'a';
    script_bytes(&f->t, drip, sizeof drip);
    f->t.recv_max = 1;
    f->t.tick = 1;
    for (rounds = 0; rounds < 100000 && rc == MOTE_OK; rounds++)
        rc = mote_mqtt_process(&f->c, 10);
    assert_int_equal(rc, MOTE_ERR_KEEPALIVE_TIMEOUT);
    fixture_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reconnect_resends_in_order),
        cmocka_unit_test(publish_failing_on_a_broken_connection_leaves_no_record),
        cmocka_unit_test(disconnect_v311_keeps_session),
        cmocka_unit_test(qos2_exactly_once),
        cmocka_unit_test(qos2_table_full_v311),
        cmocka_unit_test(stream_oversize),
        cmocka_unit_test(stream_reject_oversize),
#if MOTE_MQTT_V5
        cmocka_unit_test(topic_aliases),
        cmocka_unit_test(max_packet_size_incoming),
        cmocka_unit_test(server_disconnect),
        cmocka_unit_test(request_response_and_sub_ids),
#endif
        cmocka_unit_test(hostile_input),
        cmocka_unit_test(ack_of_wrong_kind),
        cmocka_unit_test(dripping_server),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
