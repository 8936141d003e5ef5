/* Sample Cortex-M4 firmware: the Mote core (MQTT client + JSON) over a stub transport and
 * a SysTick clock, with no heap and no C library beyond memcpy/memset-style functions.
 *
 * It shows what a firmware engineer writes around the core:
 *  - a transport: two callbacks over whatever carries bytes (a modem's TCP socket, lwIP, a
 *    TLS offload chip). Here a tiny in-memory "broker" answers each packet we send, so the
 *    image is self-contained: CONNECT gets a CONNACK, SUBSCRIBE a SUBACK followed by a
 *    shadow delta, a QoS 1 PUBLISH a PUBACK, PINGREQ a PINGRESP;
 *  - a millisecond clock (SysTick here);
 *  - static buffers for receive, transmit and the in-flight table;
 *  - an event callback that reads a shadow delta with the JSON search and answers with a
 *    reported state built by the JSON writer.
 * The build links with newlib-nano, -nostartfiles and no syscall stubs: if anything here or
 * in the core needed malloc, printf or another syscall, the link would fail. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "mote/json.h"
#include "mote/mqtt.h"

#define THING "mote-m4"
#define DELTA_TOPIC "$aws/things/" THING "/shadow/update/delta"
#define UPDATE_TOPIC "$aws/things/" THING "/shadow/update"

#if MOTE_MQTT_V5
#define SAMPLE_VERSION MOTE_MQTT_VERSION_5
#else
#define SAMPLE_VERSION MOTE_MQTT_VERSION_311
#endif

void SysTick_Handler(void);
#ifdef MOTE_CM4_PLANT
void mote_planted_dependency(void);
#endif

/* ---- Clock: SysTick fires every millisecond --------------------------------------- */

static volatile uint32_t ms_ticks;

void SysTick_Handler(void)
{
    ms_ticks++;
}

static uint32_t board_clock_ms(void *ctx)
{
    (void)ctx;
    return ms_ticks;
}

/* ---- Stub transport: an in-memory broker that answers what we send ---------------- */

typedef struct stub_link {
    uint8_t rx[160];         /* bytes the "broker" has queued for us */
    uint16_t rx_len, rx_pos;
    /* Parser state over the bytes we send (packets may arrive in pieces). */
    uint8_t head[48];        /* first bytes of the current outgoing packet */
    uint16_t head_len;
    uint32_t remaining;      /* bytes of the current packet still to come */
    uint8_t varint_shift;
    uint8_t stage;           /* 0 type byte, 1 remaining length, 2 body */
} stub_link_t;

static void stub_queue(stub_link_t *l, const uint8_t *bytes, uint16_t n)
{
    if (l->rx_pos == l->rx_len) {
        l->rx_pos = l->rx_len = 0;
    }
    if (n <= sizeof l->rx - l->rx_len) {
        memcpy(&l->rx[l->rx_len], bytes, n);
        l->rx_len = (uint16_t)(l->rx_len + n);
    }
}

/* The shadow delta the "cloud" pushes after we subscribe. */
static void stub_queue_delta(stub_link_t *l)
{
    static const char topic[] = DELTA_TOPIC;
    static const char doc[] = "{\"version\":7,\"state\":{\"led\":true,\"period_ms\":250}}";
    const uint16_t tlen = (uint16_t)(sizeof topic - 1);
    const uint16_t plen = (uint16_t)(sizeof doc - 1);
    const uint16_t remaining = (uint16_t)(2 + tlen + (MOTE_MQTT_V5 ? 1 : 0) + plen);
    uint8_t hdr[5] = { 0x30, (uint8_t)(remaining | 0x80), (uint8_t)(remaining >> 7),
                       (uint8_t)(tlen >> 8), (uint8_t)tlen };
    stub_queue(l, hdr, sizeof hdr);
    stub_queue(l, (const uint8_t *)topic, tlen);
#if MOTE_MQTT_V5
    static const uint8_t no_props = 0;
    stub_queue(l, &no_props, 1);
#endif
    stub_queue(l, (const uint8_t *)doc, plen);
}

/* A whole outgoing packet's first bytes are in l->head: answer it. */
static void stub_answer(stub_link_t *l)
{
    const uint8_t type = (uint8_t)(l->head[0] >> 4);
    const uint8_t v5 = MOTE_MQTT_V5 ? 1 : 0;
    if (type == 1) { /* CONNECT */
        const uint8_t connack[] = { 0x20, (uint8_t)(2 + v5), 0, 0, 0 };
        stub_queue(l, connack, (uint16_t)(4 + v5));
    } else if (type == 8 && l->head_len >= 3) { /* SUBSCRIBE: id follows the header */
        const uint8_t suback[] = { 0x90, (uint8_t)(3 + v5), l->head[1], l->head[2], 0, 1 };
        if (v5) {
            stub_queue(l, suback, sizeof suback);
        } else {
            const uint8_t suback311[] = { 0x90, 3, l->head[1], l->head[2], 1 };
            stub_queue(l, suback311, sizeof suback311);
        }
        stub_queue_delta(l);
    } else if (type == 3 && (l->head[0] & 0x06) != 0 && l->head_len >= 3) { /* PUBLISH QoS>0 */
        const uint16_t tlen = (uint16_t)((l->head[1] << 8) | l->head[2]);
        if ((uint32_t)tlen + 5 <= l->head_len) {
            const uint8_t puback[] = { 0x40, 2, l->head[3 + tlen], l->head[4 + tlen] };
            stub_queue(l, puback, sizeof puback);
        }
    } else if (type == 12) { /* PINGREQ */
        const uint8_t pingresp[] = { 0xD0, 0 };
        stub_queue(l, pingresp, sizeof pingresp);
    }
}

static void stub_feed(stub_link_t *l, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const uint8_t b = p[i];
        if (l->stage == 0) {
            l->head[0] = b;
            l->head_len = 1;
            l->remaining = 0;
            l->varint_shift = 0;
            l->stage = 1;
        } else if (l->stage == 1) {
            l->remaining |= (uint32_t)(b & 0x7F) << l->varint_shift;
            l->varint_shift = (uint8_t)(l->varint_shift + 7);
            if ((b & 0x80) == 0) {
                l->stage = 2;
            }
        } else {
            if (l->head_len < sizeof l->head) {
                l->head[l->head_len++] = b;
            }
            l->remaining--;
        }
        if (l->stage == 2 && l->remaining == 0) {
            stub_answer(l);
            l->stage = 0;
        }
    }
}

static int32_t stub_send(void *ctx, const mote_iovec_t *iov, size_t iovcnt)
{
    stub_link_t *l = ctx;
    int32_t total = 0;
    for (size_t i = 0; i < iovcnt; i++) {
        stub_feed(l, iov[i].base, iov[i].len);
        total += (int32_t)iov[i].len;
    }
    return total;
}

static int32_t stub_recv(void *ctx, uint8_t *buf, size_t len)
{
    stub_link_t *l = ctx;
    size_t n = (size_t)(l->rx_len - l->rx_pos);
    if (n > len) {
        n = len;
    }
    memcpy(buf, &l->rx[l->rx_pos], n);
    l->rx_pos = (uint16_t)(l->rx_pos + n);
    return (int32_t)n;
}

/* ---- The application ------------------------------------------------------------- */

typedef struct app {
    mote_mqtt_client_t client;
    bool led;
    int64_t period_ms;
    bool report_due;
    char report[96];
    size_t report_len;
} app_t;

static stub_link_t broker_link;
static uint8_t rx_buf[256];
static uint8_t tx_buf[256];
static mote_mqtt_inflight_t inflight[4];
static uint16_t qos2_rx_ids[4];
static app_t app;

/* Read {"state":{"led":..,"period_ms":..}} from a shadow delta. */
static void apply_delta(app_t *a, const char *doc, size_t len)
{
    mote_json_value_t state, v;
    if (mote_json_find(doc, len, "state", 5, &state, NULL) != MOTE_OK) {
        return;
    }
    /* Walk the members rather than searching twice: unknown keys are ignored. */
    mote_json_iter_t it;
    mote_json_value_t key;
    if (mote_json_iter_init(&it, &state) != MOTE_OK) {
        return;
    }
    while (mote_json_iter_next(&it, &key, &v, NULL) == MOTE_OK) {
        if (mote_json_string_equals(&key, "led", 3)) {
            (void)mote_json_get_bool(&v, &a->led);
        } else if (mote_json_string_equals(&key, "period_ms", 9)) {
            int64_t p;
            if (mote_json_get_int64(&v, &p) == MOTE_OK && p >= 10 && p <= 60000) {
                a->period_ms = p;
            }
        }
    }
    a->report_due = true;
}

/* {"state":{"reported":{"led":true,"period_ms":250}}} */
static bool build_report(app_t *a)
{
    mote_json_writer_t w;
    mote_json_writer_init(&w, a->report, sizeof a->report);
    mote_json_write_object_begin(&w);
    mote_json_write_key(&w, "state", 5);
    mote_json_write_object_begin(&w);
    mote_json_write_key(&w, "reported", 8);
    mote_json_write_object_begin(&w);
    mote_json_write_key(&w, "led", 3);
    mote_json_write_bool(&w, a->led);
    mote_json_write_key(&w, "period_ms", 9);
    mote_json_write_int64(&w, a->period_ms);
    mote_json_write_object_end(&w);
    mote_json_write_object_end(&w);
    mote_json_write_object_end(&w);
    return mote_json_writer_finish(&w, &a->report_len) == MOTE_OK;
}

static void on_event(void *user, const mote_mqtt_event_t *evt)
{
    app_t *a = user;
    if (evt->type == MOTE_MQTT_EVT_PUBLISH && evt->u.publish.first && evt->u.publish.last) {
        const mote_mqtt_publish_t *m = &evt->u.publish.msg;
        apply_delta(a, (const char *)m->payload.ptr, m->payload.len);
    }
}

static const mote_transport_t transport = { stub_send, stub_recv, &broker_link };

static const mote_mqtt_client_config_t client_cfg = {
    .transport = &transport,
    .clock = board_clock_ms,
    .rx_buf = rx_buf,
    .rx_cap = sizeof rx_buf,
    .tx_buf = tx_buf,
    .tx_cap = sizeof tx_buf,
    .inflight = inflight,
    .inflight_count = 4,
    .qos2_rx_ids = qos2_rx_ids,
    .qos2_rx_count = 4,
    .on_event = on_event,
    .user = &app,
};

static mote_err_t session_start(app_t *a)
{
    const mote_mqtt_connect_opts_t opts = {
        .version = SAMPLE_VERSION,
        .client_id = MOTE_STR(THING),
        .clean_start = true,
        .keep_alive_s = 60,
    };
    mote_err_t err = mote_mqtt_connect(&a->client, &opts, 5000, NULL);
    if (err != MOTE_OK) {
        return err;
    }
    const mote_mqtt_subscription_t sub = { MOTE_STR(DELTA_TOPIC), 1 };
    return mote_mqtt_subscribe(&a->client, &sub, 1, (mote_mqtt_props_t){ NULL, 0 }, NULL);
}

int main(void)
{
    app.period_ms = 1000;
#ifdef MOTE_CM4_PLANT
    mote_planted_dependency();
#endif
    if (mote_mqtt_init(&app.client, &client_cfg) != MOTE_OK) {
        for (;;) {
        }
    }
    bool connected = session_start(&app) == MOTE_OK;
    for (;;) {
        if (!connected) {
            mote_mqtt_reset_connection(&app.client);
            connected = session_start(&app) == MOTE_OK;
            continue;
        }
        if (mote_mqtt_process(&app.client, 10) != MOTE_OK) {
            connected = false;
            continue;
        }
        /* The report is sent from app.report without a copy: rebuild it only once the
         * previous one is acknowledged. */
        if (app.report_due && mote_mqtt_inflight_count(&app.client) == 0 && build_report(&app)) {
            const mote_mqtt_publish_t msg = {
                .topic = MOTE_STR(UPDATE_TOPIC),
                .payload = { (const uint8_t *)app.report, app.report_len },
                .qos = 1,
            };
            if (mote_mqtt_publish(&app.client, &msg, NULL) == MOTE_OK) {
                app.report_due = false;
            }
        }
    }
}
