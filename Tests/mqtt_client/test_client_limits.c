/* MQTT client edge cases a broker can push it into: a QoS 2 message cut off while it was
 * being streamed, a rejected oversize PUBLISH that carries a topic alias or QoS 2,
 * SUBACK/UNSUBACK matching, and the resend after a reconnect to a server whose limits
 * (receive maximum, maximum QoS, maximum packet size) are lower than before.
 * Also built against the 3.1.1-only core (MOTE_MQTT_V5=0): the v5 parts are compiled out. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "scripted.h"

#define V311 MOTE_MQTT_VERSION_311
#define V5 MOTE_MQTT_VERSION_5
#define N_VERSIONS (MOTE_MQTT_V5 ? 2 : 1)

_Static_assert(MOTE_MQTT_MAX_PENDING_SUBS >= 3, "suback_matched_by_packet_id needs 3 slots");

/* Runs process until it fails or `rounds` calls have passed; returns the last result. */
static mote_err_t run(fixture_t *f, int rounds)
{
    mote_err_t rc = MOTE_OK;
    while (rounds-- > 0 && (rc = mote_mqtt_process(&f->c, 0)) == MOTE_OK) {
    }
    return rc;
}

/* The packets sent since the last fixture_clear_sent, as "type:id" pairs for the acks and
 * PUBLISH (id 0 for QoS 0), written to out; returns how many. */
static size_t sent_list(fixture_t *f, mote_mqtt_version_t v, uint32_t *out, size_t cap)
{
    size_t cur = 0, n = 0;
    uint8_t type, flags;
    const uint8_t *body;
    uint32_t rem;
    while (n < cap && sent_next(&f->t, &cur, &type, &flags, &body, &rem)) {
        uint16_t id = 0;
        if (type == MOTE_MQTT_PUBLISH) {
            mote_mqtt_publish_t p;
            assert_int_equal(mote_mqtt_decode_publish(body, rem, flags, v, &p), MOTE_OK);
            id = p.packet_id;
        } else if (type >= MOTE_MQTT_PUBACK && type <= MOTE_MQTT_UNSUBSCRIBE && rem >= 2) {
            id = (uint16_t)(body[0] << 8 | body[1]);
        }
        out[n++] = (uint32_t)type << 16 | id;
    }
    return n;
}

#define PK(type, id) ((uint32_t)(type) << 16 | (id))

/* Script a plain CONNACK and connect with a clean session, the given keep-alive and
 * (v5) maximum packet size. */
static mote_err_t connect_with(fixture_t *f, mote_mqtt_version_t v, uint16_t keep_alive_s,
                               uint32_t max_packet)
{
    uint8_t pkt[64];
    mote_mqtt_connack_t ca;
    mote_mqtt_connect_opts_t o;
    memset(&ca, 0, sizeof ca);
    script_packet(&f->t, pkt, mote_mqtt_encode_connack(pkt, sizeof pkt, v, &ca));
    memset(&o, 0, sizeof o);
    o.version = v;
    o.client_id = MOTE_STR("test-client");
    o.clean_start = true;
    o.keep_alive_s = keep_alive_s;
    o.max_packet_size = max_packet;
    return mote_mqtt_connect(&f->c, &o, 1000, NULL);
}

/* A new connection: what the old one still held unread is gone. */
static void drop_unread(fixture_t *f)
{
    f->t.pos = f->t.data_len;
    f->t.chunk = f->t.chunks;
}

/* ---- QoS 2 streaming ------------------------------------------------------------------ */

/* A QoS 2 message larger than rx_buf is streamed in pieces. When the connection is lost
 * before the last piece, the application has seen only part of it, so it must not count
 * as received: the server's resend (DUP) after the reconnect is delivered again, whole,
 * and its PUBREL is completed normally. */
static void qos2_stream_cut_is_delivered_again(void **state)
{
    int v;
    (void)state;
    for (v = 0; v < N_VERSIONS; v++) {
        mote_mqtt_version_t ver = v ? V5 : V311;
        fixture_t *f = fixture_new(64, 256);
        static uint8_t payload[300], pkt[400];
        mote_mqtt_publish_t p = msg("big/q2", "", 2);
        uint32_t sent[16];
        size_t i, n, first_after;
        int32_t len;
        for (i = 0; i < sizeof payload; i++)
            payload[i] = (uint8_t)(i * 7 + 3);
        p.payload.ptr = payload;
        p.payload.len = sizeof payload;
        p.packet_id = 7;
        len = mote_mqtt_encode_publish(pkt, sizeof pkt, ver, &p);
        assert_true(len > 200);
        assert_int_equal(fixture_connect(f, ver, false, NULL, 0), MOTE_OK);
        fixture_clear_sent(f);
        script_bytes(&f->t, pkt, 150); /* then the connection drops */
        f->t.close_at_end = 1;
        assert_int_equal(run(f, 50), MOTE_ERR_CLOSED);
        assert_true(f->nev >= 1);
        assert_false(f->ev[f->nev - 1].last);
        assert_int_equal(f->t.sent_len, 0); /* no PUBREC for a message not all in */

        /* reconnect, session present: the server sends it again (DUP), then PUBREL */
        f->t.close_at_end = 0;
        first_after = f->nev;
        assert_int_equal(fixture_connect(f, ver, true, NULL, 0), MOTE_OK);
        fixture_clear_sent(f);
        srv_publish(f, ver, "big/q2", payload, sizeof payload, 2, 7, true, NULL, 0);
        srv_ack(f, ver, MOTE_MQTT_PUBREL, 7, 0);
        assert_int_equal(run(f, 50), MOTE_OK);
        assert_true(f->nev > first_after);
        assert_true(f->ev[first_after].first);
        assert_int_equal(f->ev[first_after].offset, 0);
        assert_true(f->ev[f->nev - 1].last);
        assert_int_equal(f->ev[f->nev - 1].offset + f->ev[f->nev - 1].payload_len, sizeof payload);
        assert_memory_equal(f->assembled, payload, sizeof payload);
        {
            size_t got = 0;
            for (i = first_after; i < f->nev; i++)
                got += f->ev[i].payload_len;
            assert_int_equal(got, sizeof payload); /* exactly one whole copy */
        }
        n = sent_list(f, ver, sent, 16);
        assert_int_equal(n, 2);
        assert_int_equal(sent[0], PK(MOTE_MQTT_PUBREC, 7));
        assert_int_equal(sent[1], PK(MOTE_MQTT_PUBCOMP, 7));
        if (v) { /* v5: the PUBCOMP says the id was known (no 0x92) */
            size_t cur = 0;
            uint8_t type, flags;
            const uint8_t *body;
            uint32_t rem;
            mote_mqtt_ack_t a;
            assert_true(sent_next(&f->t, &cur, &type, &flags, &body, &rem));
            assert_true(sent_next(&f->t, &cur, &type, &flags, &body, &rem));
            assert_int_equal(mote_mqtt_decode_ack(body, rem, type, flags, V5, &a), MOTE_OK);
            assert_int_equal(a.reason_code, 0);
        }
        /* a third copy before the PUBREL would have been a duplicate: still exactly one
         * whole delivery after the reconnect */
        for (i = first_after + 1; i < f->nev; i++)
            assert_false(f->ev[i].first);
        fixture_free(f);
    }
}

/* A streamed QoS 2 message received whole is a duplicate when it comes again before its
 * PUBREL: delivered once. */
static void qos2_stream_whole_then_duplicate(void **state)
{
    int v;
    (void)state;
    for (v = 0; v < N_VERSIONS; v++) {
        mote_mqtt_version_t ver = v ? V5 : V311;
        fixture_t *f = fixture_new(64, 256);
        static uint8_t payload[200];
        uint32_t sent[16];
        size_t i, firsts = 0;
        memset(payload, 'q', sizeof payload);
        assert_int_equal(fixture_connect(f, ver, false, NULL, 0), MOTE_OK);
        fixture_clear_sent(f);
        srv_publish(f, ver, "big/q2", payload, sizeof payload, 2, 9, false, NULL, 0);
        srv_publish(f, ver, "big/q2", payload, sizeof payload, 2, 9, true, NULL, 0);
        srv_ack(f, ver, MOTE_MQTT_PUBREL, 9, 0);
        assert_int_equal(run(f, 50), MOTE_OK);
        for (i = 0; i < f->nev; i++)
            firsts += f->ev[i].first;
        assert_int_equal(firsts, 1);
        assert_int_equal(sent_list(f, ver, sent, 16), 3);
        assert_int_equal(sent[0], PK(MOTE_MQTT_PUBREC, 9));
        assert_int_equal(sent[1], PK(MOTE_MQTT_PUBREC, 9));
        assert_int_equal(sent[2], PK(MOTE_MQTT_PUBCOMP, 9));
        fixture_free(f);
    }
}

/* ---- keep-alive ----------------------------------------------------------------------- */

/* A message larger than rx_buf that takes longer to arrive than the keep-alive interval:
 * the PINGRESP comes behind it on the same stream, so while its bytes keep arriving the
 * connection is alive. It is delivered whole, the PINGRESP is read after it, and a server
 * that then goes quiet still times out. */
static void keepalive_during_long_stream(void **state)
{
    int v;
    (void)state;
    for (v = 0; v < N_VERSIONS; v++) {
        mote_mqtt_version_t ver = v ? V5 : V311;
        fixture_t *f = fixture_new(64, 256);
        static uint8_t payload[3000];
        mote_err_t rc = MOTE_OK;
        size_t i, got = 0;
        int rounds, pings = 0, pingresp = 0;
        uint8_t type, flags;
        const uint8_t *body;
        uint32_t rem;
        size_t cur = 0;
        for (i = 0; i < sizeof payload; i++)
            payload[i] = (uint8_t)i;
        assert_int_equal(connect_with(f, ver, 1, 0), MOTE_OK);
        fixture_clear_sent(f);
        f->t.now += 1000; /* idle for a keep-alive interval: PINGREQ goes out first */
        assert_int_equal(mote_mqtt_process(&f->c, 0), MOTE_OK);
        srv_publish(f, ver, "slow/big", payload, sizeof payload, 1, 3, false, NULL, 0);
        script_bytes(&f->t, "\xD0\x00", 2); /* PINGRESP, behind the message */
        f->t.recv_max = 5;
        f->t.tick = 200; /* every clock read 200 ms on: the message takes several seconds,
                            the interval is 1 s */
        for (rounds = 0; rounds < 5000 && rc == MOTE_OK; rounds++) {
            rc = mote_mqtt_process(&f->c, 0);
            for (; f->nev > 0 && got < f->nev; got++)
                pingresp += f->ev[got].type == MOTE_MQTT_EVT_PINGRESP;
            if (pingresp)
                break;
        }
        assert_int_equal(rc, MOTE_OK);
        assert_int_equal(pingresp, 1);
        assert_true(f->t.now > 5000);
        assert_memory_equal(f->assembled, payload, sizeof payload);
        while (sent_next(&f->t, &cur, &type, &flags, &body, &rem))
            pings += type == MOTE_MQTT_PINGREQ;
        assert_int_equal(pings, 1);
        /* nothing more arrives: the next PINGREQ goes unanswered and the connection fails */
        for (rounds = 0; rounds < 5000 && rc == MOTE_OK; rounds++)
            rc = mote_mqtt_process(&f->c, 0);
        assert_int_equal(rc, MOTE_ERR_KEEPALIVE_TIMEOUT);
        fixture_free(f);
    }
}

/* ---- the application drops the connection from an event ------------------------------ */

static int drop_events;

static void drop_on_publish(void *user, const mote_mqtt_event_t *e)
{
    fixture_t *f = user;
    if (e->type != MOTE_MQTT_EVT_PUBLISH)
        return;
    drop_events++;
    if (f->nev++ == 0)
        mote_mqtt_reset_connection(&f->c);
    else
        mote_mqtt_disconnect(&f->c, 0, (mote_mqtt_props_t){ NULL, 0 });
}

/* The callback may reset or close the connection while a message is delivered: the ack
 * for that message is then not sent (after a reset nothing more may go out; after a
 * DISCONNECT nothing may follow it), and no further packet is read. A QoS 2 message still
 * counts as received, so the copy the server sends after the reconnect is a duplicate. */
static void event_drops_connection(void **state)
{
    int v;
    (void)state;
    for (v = 0; v < N_VERSIONS; v++) {
        mote_mqtt_version_t ver = v ? V5 : V311;
        fixture_t *f = fixture_new(256, 256);
        uint32_t sent[8];
        size_t n;
        drop_events = 0;
        assert_int_equal(fixture_connect(f, ver, false, NULL, 0), MOTE_OK);
        f->cfg.on_event = drop_on_publish;
        fixture_clear_sent(f);
        srv_publish(f, ver, "q/2", "x", 1, 2, 4, false, NULL, 0);
        srv_publish(f, ver, "q/1", "y", 1, 1, 5, false, NULL, 0);
        assert_int_equal(mote_mqtt_process(&f->c, 0), MOTE_OK); /* the step ends */
        assert_int_equal(mote_mqtt_process(&f->c, 0), MOTE_ERR_NOT_CONNECTED);
        assert_int_equal(drop_events, 1);
        assert_int_equal(f->t.sent_len, 0);
        assert_false(mote_mqtt_is_connected(&f->c));
        drop_unread(f);
        /* reconnect: the server sends both again; the QoS 2 copy is a duplicate (PUBREC,
         * no event), the QoS 1 one is delivered, and the callback closes the connection */
        assert_int_equal(fixture_connect(f, ver, true, NULL, 0), MOTE_OK);
        fixture_clear_sent(f);
        srv_publish(f, ver, "q/2", "x", 1, 2, 4, true, NULL, 0);
        srv_publish(f, ver, "q/1", "y", 1, 1, 5, true, NULL, 0);
        mote_mqtt_process(&f->c, 0);
        assert_int_equal(drop_events, 2);
        n = sent_list(f, ver, sent, 8);
        assert_int_equal(n, 2); /* the duplicate's PUBREC, then DISCONNECT (no PUBACK) */
        assert_int_equal(sent[0], PK(MOTE_MQTT_PUBREC, 4));
        assert_int_equal(sent[1] >> 16, MOTE_MQTT_DISCONNECT);
        fixture_free(f);
    }
}

/* The callback resets the connection on the first piece of a streamed QoS 2 message: the
 * application saw only part of it, so it does not count as received; the copy the server
 * sends after the reconnect is delivered again, whole. */
static size_t mid_bytes, mid_firsts, mid_lasts;
static int mid_resets;

static void reset_on_first_piece(void *user, const mote_mqtt_event_t *e)
{
    fixture_t *f = user;
    if (e->type != MOTE_MQTT_EVT_PUBLISH)
        return;
    mid_firsts += e->u.publish.first;
    mid_lasts += e->u.publish.last;
    mid_bytes += e->u.publish.msg.payload.len;
    if (mid_resets == 0) {
        mid_resets++;
        mote_mqtt_reset_connection(&f->c);
    }
}

static void event_drops_connection_mid_stream(void **state)
{
    int v;
    (void)state;
    for (v = 0; v < N_VERSIONS; v++) {
        mote_mqtt_version_t ver = v ? V5 : V311;
        fixture_t *f = fixture_new(64, 256);
        static uint8_t payload[300];
        uint32_t sent[8];
        memset(payload, 's', sizeof payload);
        mid_bytes = mid_firsts = mid_lasts = 0;
        mid_resets = 0;
        assert_int_equal(fixture_connect(f, ver, false, NULL, 0), MOTE_OK);
        f->cfg.on_event = reset_on_first_piece;
        fixture_clear_sent(f);
        srv_publish(f, ver, "big/q2", payload, sizeof payload, 2, 6, false, NULL, 0);
        (void)run(f, 5);
        assert_false(mote_mqtt_is_connected(&f->c));
        assert_int_equal(mid_firsts, 1);
        assert_int_equal(mid_lasts, 0);
        assert_int_equal(f->t.sent_len, 0);
        drop_unread(f);
        assert_int_equal(fixture_connect(f, ver, true, NULL, 0), MOTE_OK);
        fixture_clear_sent(f);
        mid_bytes = mid_firsts = mid_lasts = 0;
        srv_publish(f, ver, "big/q2", payload, sizeof payload, 2, 6, true, NULL, 0);
        srv_ack(f, ver, MOTE_MQTT_PUBREL, 6, 0);
        assert_int_equal(run(f, 50), MOTE_OK);
        assert_int_equal(mid_firsts, 1);
        assert_int_equal(mid_lasts, 1);
        assert_int_equal(mid_bytes, sizeof payload);
        assert_int_equal(sent_list(f, ver, sent, 8), 2);
        assert_int_equal(sent[0], PK(MOTE_MQTT_PUBREC, 6));
        assert_int_equal(sent[1], PK(MOTE_MQTT_PUBCOMP, 6));
        fixture_free(f);
    }
}

/* ---- SUBACK / UNSUBACK matching ------------------------------------------------------ */

static void srv_suback(fixture_t *f, uint8_t type, uint16_t id, mote_mqtt_version_t v)
{
    uint8_t b[6] = { (uint8_t)(type << 4), 3, (uint8_t)(id >> 8), (uint8_t)id, 0, 0 };
    if (v == V5) { /* property length 0, then one reason code */
        b[1] = 4;
        script_bytes(&f->t, b, 6);
    } else if (type == MOTE_MQTT_SUBACK) {
        script_bytes(&f->t, b, 5);
    } else { /* 3.1.1 UNSUBACK: the id alone */
        b[1] = 2;
        script_bytes(&f->t, b, 4);
    }
}

/* Acks are matched to the requests by packet id, in any order; an id nobody asked for is
 * refused even while other requests await their acks. The table of requests is bounded:
 * MOTE_ERR_NO_SPACE, nothing sent, until an ack frees a slot; a new connection empties it. */
static void suback_matched_by_packet_id(void **state)
{
    int v;
    (void)state;
    for (v = 0; v < N_VERSIONS; v++) {
        mote_mqtt_version_t ver = v ? V5 : V311;
        fixture_t *f = fixture_new(256, 1024);
        mote_mqtt_subscription_t s = { MOTE_STR("a/#"), 1 };
        mote_bytes_t filter = MOTE_STR("a/#");
        uint16_t ids[MOTE_MQTT_MAX_PENDING_SUBS], extra, unsub;
        size_t sent_before;
        int i;
        assert_int_equal(fixture_connect(f, ver, false, NULL, 0), MOTE_OK);
        for (i = 0; i < MOTE_MQTT_MAX_PENDING_SUBS - 1; i++)
            assert_int_equal(mote_mqtt_subscribe(&f->c, &s, 1, (mote_mqtt_props_t){ NULL, 0 }, &ids[i]),
                             MOTE_OK);
        assert_int_equal(mote_mqtt_unsubscribe(&f->c, &filter, 1, (mote_mqtt_props_t){ NULL, 0 }, &unsub),
                         MOTE_OK);
        assert_int_equal(mote_mqtt_flush(&f->c), MOTE_OK);
        sent_before = f->t.sent_len;
        assert_int_equal(mote_mqtt_subscribe(&f->c, &s, 1, (mote_mqtt_props_t){ NULL, 0 }, &extra),
                         MOTE_ERR_NO_SPACE);
        assert_int_equal(mote_mqtt_unsubscribe(&f->c, &filter, 1, (mote_mqtt_props_t){ NULL, 0 }, &extra),
                         MOTE_ERR_NO_SPACE);
        assert_int_equal(mote_mqtt_flush(&f->c), MOTE_OK);
        assert_int_equal(f->t.sent_len, sent_before);
        /* acks out of order: the UNSUBACK, then the last SUBSCRIBE's, then the first's */
        srv_suback(f, MOTE_MQTT_UNSUBACK, unsub, ver);
        srv_suback(f, MOTE_MQTT_SUBACK, ids[MOTE_MQTT_MAX_PENDING_SUBS - 2], ver);
        srv_suback(f, MOTE_MQTT_SUBACK, ids[0], ver);
        assert_int_equal(run(f, 5), MOTE_OK);
        assert_int_equal(f->nev, 3);
        assert_int_equal(f->ev[0].type, MOTE_MQTT_EVT_UNSUBACK);
        assert_int_equal(f->ev[0].packet_id, unsub);
        assert_int_equal(f->ev[1].type, MOTE_MQTT_EVT_SUBACK);
        assert_int_equal(f->ev[1].packet_id, ids[MOTE_MQTT_MAX_PENDING_SUBS - 2]);
        /* room again */
        assert_int_equal(mote_mqtt_subscribe(&f->c, &s, 1, (mote_mqtt_props_t){ NULL, 0 }, &extra),
                         MOTE_OK);
        /* an ack already received, or one for an id never used: refused */
        srv_suback(f, MOTE_MQTT_SUBACK, unsub == 0x7777 ? 0x7778 : 0x7777, ver);
        assert_int_equal(run(f, 5), MOTE_ERR_UNKNOWN_PACKET_ID);
        assert_false(mote_mqtt_is_connected(&f->c));
        /* a new connection forgets the requests of the old one */
        assert_int_equal(fixture_connect(f, ver, true, NULL, 0), MOTE_OK);
        for (i = 0; i < MOTE_MQTT_MAX_PENDING_SUBS; i++)
            assert_int_equal(mote_mqtt_subscribe(&f->c, &s, 1, (mote_mqtt_props_t){ NULL, 0 }, &ids[i]),
                             MOTE_OK);
        srv_suback(f, MOTE_MQTT_SUBACK, extra, ver); /* the old connection's request */
        assert_int_equal(run(f, 5), MOTE_ERR_UNKNOWN_PACKET_ID);
        fixture_free(f);
    }
}

/* mote_mqtt_init refuses a configuration it cannot work with, and leaves the client
 * untouched: missing transport, callbacks or buffers, buffers under 16 bytes, a table count
 * without its table, and more in-flight records than packet ids can serve beside the
 * pending SUBSCRIBE/UNSUBSCRIBE requests (every id in use would leave nothing to hand out). */
static void init_rejects_unusable_config(void **state)
{
    fixture_t *f = fixture_new(256, 1024);
    mote_mqtt_client_config_t good = f->cfg, bad;
    mote_transport_t no_send = f->tr;
    const uint16_t most = (uint16_t)(65534u - MOTE_MQTT_MAX_PENDING_SUBS);
    mote_mqtt_inflight_t *big = calloc((size_t)most + 1u, sizeof *big);
    mote_mqtt_client_t c;
    (void)state;
    assert_non_null(big);
    no_send.send = NULL;
#define REFUSED(field, value)                                                               \
    do {                                                                                    \
        bad = good;                                                                         \
        bad.field = value;                                                                  \
        memset(&c, 0xA5, sizeof c);                                                         \
        assert_int_equal(mote_mqtt_init(&c, &bad), MOTE_ERR_BAD_ARG);                       \
        assert_int_equal(((const uint8_t *)&c)[sizeof c - 1], 0xA5);                        \
    } while (0)
    REFUSED(transport, NULL);
    REFUSED(transport, &no_send);
    REFUSED(clock, NULL);
    REFUSED(rx_buf, NULL);
    REFUSED(rx_cap, 15);
    REFUSED(tx_buf, NULL);
    REFUSED(tx_cap, 15);
    REFUSED(inflight, NULL);
    REFUSED(qos2_rx_ids, NULL);
    good.inflight = big;
    REFUSED(inflight_count, (uint16_t)(most + 1u));
    REFUSED(inflight_count, 0xFFFF);
#undef REFUSED
    assert_int_equal(mote_mqtt_init(NULL, &good), MOTE_ERR_BAD_ARG);
    assert_int_equal(mote_mqtt_init(&c, NULL), MOTE_ERR_BAD_ARG);
    /* the largest table that leaves an id free is accepted (and cleared) */
    good.inflight_count = most;
    big[most - 1].packet_id = 7;
    assert_int_equal(mote_mqtt_init(&c, &good), MOTE_OK);
    assert_int_equal(big[most - 1].packet_id, 0);
    assert_int_equal(mote_mqtt_inflight_count(&c), 0);
    free(big);
    fixture_free(f);
}

/* Packet ids are unique among everything in flight, whatever its type: when the ids wrap
 * around, a PUBLISH or another SUBSCRIBE does not take the id of a SUBSCRIBE or UNSUBSCRIBE
 * still awaiting its ack. */
static void packet_ids_skip_pending_subscribe(void **state)
{
    int v;
    (void)state;
    for (v = 0; v < N_VERSIONS; v++) {
        mote_mqtt_version_t ver = v ? V5 : V311;
        fixture_t *f = fixture_new(256, 1024);
        mote_mqtt_subscription_t s = { MOTE_STR("a/#"), 1 };
        mote_bytes_t filter = MOTE_STR("a/#");
        mote_mqtt_publish_t m = msg("t", "x", 1);
        uint16_t sub_id, unsub_id, id;
        assert_int_equal(fixture_connect(f, ver, false, NULL, 0), MOTE_OK);
        assert_int_equal(mote_mqtt_subscribe(&f->c, &s, 1, (mote_mqtt_props_t){ NULL, 0 }, &sub_id),
                         MOTE_OK);
        assert_int_equal(mote_mqtt_unsubscribe(&f->c, &filter, 1, (mote_mqtt_props_t){ NULL, 0 }, &unsub_id),
                         MOTE_OK);
        assert_int_equal(sub_id, 1);
        assert_int_equal(unsub_id, 2);
        /* 65,533 ids later (set directly: acking that many messages adds nothing here), the
         * counter wraps to the two ids still awaiting acks */
        f->c.next_packet_id = 0xFFFF;
        assert_int_equal(mote_mqtt_publish(&f->c, &m, &id), MOTE_OK);
        assert_int_equal(id, 3);
        f->c.next_packet_id = 0xFFFF;
        assert_int_equal(mote_mqtt_subscribe(&f->c, &s, 1, (mote_mqtt_props_t){ NULL, 0 }, &id),
                         MOTE_OK);
        assert_int_equal(id, 4); /* 1 and 2 await acks, 3 is a message in flight */
        /* once acked, an id is free again */
        srv_suback(f, MOTE_MQTT_SUBACK, sub_id, ver);
        assert_int_equal(run(f, 5), MOTE_OK);
        f->c.next_packet_id = 0xFFFF;
        assert_int_equal(mote_mqtt_publish(&f->c, &m, &id), MOTE_OK);
        assert_int_equal(id, 1);
        fixture_free(f);
    }
}

#if MOTE_MQTT_V5
/* ---- v5: rejected oversize messages and the limits of a new connection ------------------ */

/* A PUBLISH larger than rx_buf (but within the maximum packet size we announced) is
 * skipped with reject_oversize. Its topic alias is set all the same (the next message on
 * that alias has its topic), and a QoS 2 one is recorded, so its PUBREL completes with
 * success rather than 0x92 (unknown id). */
static void rejected_oversize_keeps_alias_and_qos2(void **state)
{
    fixture_t *f = fixture_new(64, 256);
    static uint8_t big[200];
    uint8_t ap[8];
    mote_mqtt_props_builder_t b;
    int rounds, rejected = 0;
    mote_err_t rc;
    size_t cur = 0;
    uint8_t type, flags;
    const uint8_t *body;
    uint32_t rem;
    mote_mqtt_ack_t a;
    (void)state;
    memset(big, 'b', sizeof big);
    f->cfg.reject_oversize = true;
    assert_int_equal(connect_with(f, V5, 0, 4096), MOTE_OK);
    fixture_clear_sent(f);
    mote_mqtt_props_init(&b, ap, sizeof ap);
    mote_mqtt_props_add_int(&b, MOTE_PROP_TOPIC_ALIAS, 1);
    srv_publish(f, V5, "old/topic", "1", 1, 0, 0, false, b.buf, b.len);
    srv_publish(f, V5, "new/topic", big, sizeof big, 2, 9, false, b.buf, b.len);
    srv_publish(f, V5, "", "2", 1, 0, 0, false, b.buf, b.len);
    srv_ack(f, V5, MOTE_MQTT_PUBREL, 9, 0);
    for (rounds = 0; rounds < 50; rounds++) {
        rc = mote_mqtt_process(&f->c, 0);
        if (rc == MOTE_ERR_OVERSIZE_REJECTED)
            rejected++;
        else
            assert_int_equal(rc, MOTE_OK);
    }
    assert_int_equal(rejected, 1);
    assert_int_equal(f->nev, 2);
    assert_memory_equal(f->ev[0].topic, "old/topic", 9);
    assert_int_equal(f->ev[1].topic_len, 9);
    assert_memory_equal(f->ev[1].topic, "new/topic", 9);
    assert_true(sent_next(&f->t, &cur, &type, &flags, &body, &rem));
    assert_int_equal(type, MOTE_MQTT_PUBREC);
    assert_true(sent_next(&f->t, &cur, &type, &flags, &body, &rem));
    assert_int_equal(type, MOTE_MQTT_PUBCOMP);
    assert_int_equal(mote_mqtt_decode_ack(body, rem, type, flags, V5, &a), MOTE_OK);
    assert_int_equal(a.packet_id, 9);
    assert_int_equal(a.reason_code, 0);
    assert_true(mote_mqtt_is_connected(&f->c));
    fixture_free(f);
}

/* A v5 SUBACK or UNSUBACK must carry a reason code per filter: none at all is malformed
 * (3.1.1's UNSUBACK has none, and is not affected). */
static void v5_suback_without_reason_codes(void **state)
{
    int k;
    (void)state;
    for (k = 0; k < 2; k++) {
        fixture_t *f = fixture_new(256, 256);
        mote_mqtt_subscription_t s = { MOTE_STR("a"), 0 };
        mote_bytes_t filter = MOTE_STR("a");
        uint16_t id;
        uint8_t b[5] = { (uint8_t)(k ? 0xB0 : 0x90), 3, 0, 0, 0 };
        assert_int_equal(fixture_connect(f, V5, false, NULL, 0), MOTE_OK);
        if (k)
            assert_int_equal(mote_mqtt_unsubscribe(&f->c, &filter, 1, (mote_mqtt_props_t){ NULL, 0 }, &id),
                             MOTE_OK);
        else
            assert_int_equal(mote_mqtt_subscribe(&f->c, &s, 1, (mote_mqtt_props_t){ NULL, 0 }, &id),
                             MOTE_OK);
        b[2] = (uint8_t)(id >> 8);
        b[3] = (uint8_t)id;
        script_bytes(&f->t, b, 5);
        assert_int_equal(run(f, 5), MOTE_ERR_MALFORMED);
        assert_int_equal(f->nev, 0);
        fixture_free(f);
    }
}

/* An MQTT 3.1.1 server answers a v5 CONNECT with its own two-byte CONNACK, return code 1
 * (unacceptable protocol version): that is a refusal for the protocol version (v5 reason
 * 0x84), not a malformed packet. */
static void v5_connect_to_v311_server(void **state)
{
    fixture_t *f = fixture_new(256, 256);
    static const uint8_t old_connack[] = { 0x20, 0x02, 0x00, 0x01 };
    mote_mqtt_connect_opts_t o;
    mote_mqtt_session_info_t info;
    (void)state;
    script_bytes(&f->t, old_connack, sizeof old_connack);
    memset(&o, 0, sizeof o);
    o.version = V5;
    o.client_id = MOTE_STR("new");
    o.clean_start = true;
    assert_int_equal(mote_mqtt_connect(&f->c, &o, 1000, &info), MOTE_ERR_CONNACK_REFUSED);
    assert_int_equal(info.reason_code, 0x84);
    fixture_free(f);
    /* any other two-byte CONNACK on a v5 connection stays malformed */
    f = fixture_new(256, 256);
    script_bytes(&f->t, "\x20\x02\x00\x00", 4);
    assert_int_equal(mote_mqtt_connect(&f->c, &o, 1000, &info), MOTE_ERR_MALFORMED);
    fixture_free(f);
}

/* CONNACK properties for the reconnect below. */
static size_t limits_props(uint8_t *buf, size_t cap, uint32_t receive_max, uint32_t max_qos,
                           uint32_t max_packet)
{
    mote_mqtt_props_builder_t b;
    mote_mqtt_props_init(&b, buf, cap);
    if (receive_max)
        assert_int_equal(mote_mqtt_props_add_int(&b, MOTE_PROP_RECEIVE_MAXIMUM, receive_max), MOTE_OK);
    if (max_qos < 2)
        assert_int_equal(mote_mqtt_props_add_int(&b, MOTE_PROP_MAXIMUM_QOS, max_qos), MOTE_OK);
    if (max_packet)
        assert_int_equal(mote_mqtt_props_add_int(&b, MOTE_PROP_MAXIMUM_PACKET_SIZE, max_packet), MOTE_OK);
    return b.len;
}

/* The server of the new connection allows one unacknowledged QoS 1/2 PUBLISH: the resend
 * sends one record at a time (in the order they were last sent), the next when the previous
 * is acknowledged; a PUBREL counts too (its message is not complete yet). New publishes
 * wait behind the resend. */
static void resend_keeps_receive_maximum(void **state)
{
    fixture_t *f = fixture_new(256, 1024);
    mote_mqtt_publish_t a = msg("r/a", "A", 1), b = msg("r/b", "B", 2), c = msg("r/c", "C", 1),
                        d = msg("r/d", "D", 1);
    uint16_t ia, ib, ic, id;
    uint8_t props[16];
    uint32_t sent[16];
    size_t n;
    (void)state;
    assert_int_equal(fixture_connect(f, V5, false, NULL, 0), MOTE_OK);
    assert_int_equal(mote_mqtt_publish(&f->c, &a, &ia), MOTE_OK);
    assert_int_equal(mote_mqtt_publish(&f->c, &b, &ib), MOTE_OK);
    assert_int_equal(mote_mqtt_publish(&f->c, &c, &ic), MOTE_OK);
    srv_ack(f, V5, MOTE_MQTT_PUBREC, ib, 0); /* b awaits PUBCOMP: its PUBREL is resent */
    assert_int_equal(run(f, 3), MOTE_OK);
    mote_mqtt_reset_connection(&f->c);
    fixture_clear_sent(f);
    assert_int_equal(fixture_connect(f, V5, true, props, limits_props(props, sizeof props, 1, 2, 0)),
                     MOTE_OK);
    assert_int_equal(run(f, 5), MOTE_OK);
    n = sent_list(f, V5, sent, 16);
    assert_int_equal(n, 2); /* CONNECT, then the first record only */
    assert_int_equal(sent[1], PK(MOTE_MQTT_PUBLISH, ia));
    assert_int_equal(mote_mqtt_publish(&f->c, &d, &id), MOTE_ERR_RECEIVE_MAXIMUM);
    fixture_clear_sent(f);
    srv_ack(f, V5, MOTE_MQTT_PUBACK, ia, 0);
    assert_int_equal(run(f, 5), MOTE_OK);
    n = sent_list(f, V5, sent, 16);
    assert_int_equal(n, 1);
    assert_int_equal(sent[0], PK(MOTE_MQTT_PUBLISH, ic));
    fixture_clear_sent(f);
    srv_ack(f, V5, MOTE_MQTT_PUBACK, ic, 0);
    assert_int_equal(run(f, 5), MOTE_OK);
    n = sent_list(f, V5, sent, 16);
    assert_int_equal(n, 1);
    assert_int_equal(sent[0], PK(MOTE_MQTT_PUBREL, ib));
    assert_int_equal(mote_mqtt_publish(&f->c, &d, &id), MOTE_ERR_RECEIVE_MAXIMUM);
    srv_ack(f, V5, MOTE_MQTT_PUBCOMP, ib, 0);
    assert_int_equal(run(f, 5), MOTE_OK);
    assert_int_equal(mote_mqtt_inflight_count(&f->c), 0);
    assert_int_equal(mote_mqtt_publish(&f->c, &d, &id), MOTE_OK);
    fixture_free(f);
}

/* The server of the new connection would refuse some records: QoS 2 above its maximum QoS
 * of 1, a packet above its maximum packet size. Those complete as not delivered (PUBLISH_DONE
 * with 0x9B, 0x95) instead of failing the connect (and every one after it); the rest are
 * resent. */
static void resend_completes_refused_records(void **state)
{
    fixture_t *f = fixture_new(256, 1024);
    static char big[120];
    mote_mqtt_publish_t q2 = msg("r/q2", "2", 2), large, ok = msg("r/ok", "1", 1);
    uint16_t i2, il, iok;
    uint8_t props[16];
    uint32_t sent[16];
    size_t n, k;
    int seen2 = 0, seenl = 0;
    (void)state;
    memset(big, 'L', sizeof big - 1);
    large = msg("r/large", big, 1);
    assert_int_equal(fixture_connect(f, V5, false, NULL, 0), MOTE_OK);
    assert_int_equal(mote_mqtt_publish(&f->c, &q2, &i2), MOTE_OK);
    assert_int_equal(mote_mqtt_publish(&f->c, &large, &il), MOTE_OK);
    assert_int_equal(mote_mqtt_publish(&f->c, &ok, &iok), MOTE_OK);
    assert_int_equal(run(f, 3), MOTE_OK);
    mote_mqtt_reset_connection(&f->c);
    fixture_clear_sent(f);
    f->nev = 0;
    assert_int_equal(fixture_connect(f, V5, true, props, limits_props(props, sizeof props, 0, 1, 64)),
                     MOTE_OK);
    assert_int_equal(run(f, 5), MOTE_OK);
    assert_true(mote_mqtt_is_connected(&f->c));
    for (k = 0; k < f->nev; k++) {
        assert_int_equal(f->ev[k].type, MOTE_MQTT_EVT_PUBLISH_DONE);
        if (f->ev[k].packet_id == i2) {
            assert_int_equal(f->ev[k].reason, 0x9B);
            seen2++;
        } else {
            assert_int_equal(f->ev[k].packet_id, il);
            assert_int_equal(f->ev[k].reason, 0x95);
            seenl++;
        }
    }
    assert_int_equal(seen2, 1);
    assert_int_equal(seenl, 1);
    n = sent_list(f, V5, sent, 16);
    assert_int_equal(n, 2); /* CONNECT, the one record the server takes */
    assert_int_equal(sent[1], PK(MOTE_MQTT_PUBLISH, iok));
    assert_int_equal(mote_mqtt_inflight_count(&f->c), 1);
    fixture_free(f);
}
#endif

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(qos2_stream_cut_is_delivered_again),
        cmocka_unit_test(qos2_stream_whole_then_duplicate),
        cmocka_unit_test(keepalive_during_long_stream),
        cmocka_unit_test(event_drops_connection),
        cmocka_unit_test(event_drops_connection_mid_stream),
        cmocka_unit_test(suback_matched_by_packet_id),
        cmocka_unit_test(packet_ids_skip_pending_subscribe),
        cmocka_unit_test(init_rejects_unusable_config),
#if MOTE_MQTT_V5
        cmocka_unit_test(v5_connect_to_v311_server),
        cmocka_unit_test(rejected_oversize_keeps_alias_and_qos2),
        cmocka_unit_test(v5_suback_without_reason_codes),
        cmocka_unit_test(resend_keeps_receive_maximum),
        cmocka_unit_test(resend_completes_refused_records),
#endif
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
