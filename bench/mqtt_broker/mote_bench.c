/* Throughput client on the Mote core + POSIX TCP transport: the same workloads as
 * peer_mosquitto.c, the way an application drives the core (publish until the window or
 * buffer is full, then wait for the socket and run one process pass).
 *
 *   mote_bench HOST PORT pub0 N          QoS 0 publish of N messages
 *   mote_bench HOST PORT pub1 N WINDOW   QoS 1 publish, at most WINDOW unacknowledged
 *   mote_bench HOST PORT sub0 N          subscribe, receive N QoS 0 messages */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mote/mqtt.h"
#include "mote/posix.h"

#define TOPIC "dt/sensors/device-0001/telemetry"
#define MAX_WINDOW 1024

static uint8_t g_rx[32768];
static uint8_t g_tx[32768];
static mote_mqtt_inflight_t g_inflight[MAX_WINDOW];
static uint16_t g_qos2[16];
static long g_acked;
static long g_received;
static int g_subscribed;
static double g_first_rx;
static double g_last_rx;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void on_event(void *user, const mote_mqtt_event_t *evt)
{
    (void)user;
    switch (evt->type) {
    case MOTE_MQTT_EVT_PUBLISH_DONE:
        g_acked++;
        break;
    case MOTE_MQTT_EVT_SUBACK:
        g_subscribed = 1;
        break;
    case MOTE_MQTT_EVT_PUBLISH:
        if (evt->u.publish.last) {
            if (g_received == 0) {
                g_first_rx = now_s();
            }
            g_received++;
        }
        break;
    default:
        break;
    }
}

static int fail(const char *what, mote_err_t err)
{
    fprintf(stderr, "mote_bench: %s: %s\n", what, mote_strerror(err));
    return 1;
}

/* Wait for input (and for room to write when output is queued), then one process pass. */
static mote_err_t step(mote_mqtt_client_t *c, mote_tcp_t *t, int timeout_ms, int want_write)
{
    struct pollfd p = { t->fd, (short)(POLLIN | (want_write ? POLLOUT : 0)), 0 };
    /* What publish coalesced in tx_buf goes out before we sleep. */
    mote_err_t err = mote_mqtt_flush(c);
    if (err != MOTE_OK && err != MOTE_ERR_NEED_MORE) {
        return err;
    }
    (void)poll(&p, 1, timeout_ms);
    err = mote_mqtt_process(c, 0);
    return err == MOTE_ERR_NEED_MORE ? MOTE_OK : err;
}

int main(int argc, char **argv)
{
    static mote_tcp_t tcp;
    static mote_mqtt_client_t client;
    mote_mqtt_client_config_t cfg;
    mote_transport_t tr;
    mote_mqtt_connect_opts_t co;
    mote_mqtt_publish_t msg;
    uint8_t payload[64];
    const char *mode;
    long n, window = 20, i;
    mote_err_t err;
    double t0, t1;

    if (argc < 5) {
        fprintf(stderr, "usage: %s HOST PORT pub0|pub1|sub0 N [WINDOW]\n", argv[0]);
        return 2;
    }
    mode = argv[3];
    n = atol(argv[4]);
    if (argc > 5) {
        window = atol(argv[5]);
    }
    if (window < 1 || window > MAX_WINDOW) {
        return 2;
    }
    memset(payload, 'p', sizeof payload);

    err = mote_tcp_connect(&tcp, argv[1], (uint16_t)atoi(argv[2]), 5000);
    if (err != MOTE_OK) {
        return fail("tcp connect", err);
    }
    mote_tcp_transport(&tcp, &tr);
    memset(&cfg, 0, sizeof cfg);
    cfg.transport = &tr;
    cfg.clock = mote_posix_clock_ms;
    cfg.rx_buf = g_rx;
    cfg.rx_cap = sizeof g_rx;
    cfg.tx_buf = g_tx;
    cfg.tx_cap = sizeof g_tx;
    cfg.inflight = g_inflight;
    cfg.inflight_count = (uint16_t)window;
    cfg.qos2_rx_ids = g_qos2;
    cfg.qos2_rx_count = 16;
    cfg.on_event = on_event;
    err = mote_mqtt_init(&client, &cfg);
    if (err != MOTE_OK) {
        return fail("init", err);
    }
    memset(&co, 0, sizeof co);
    co.version = MOTE_MQTT_VERSION_311;
    co.client_id = mote_bytes_cstr(strcmp(mode, "sub0") == 0 ? "mote-bench-sub" : "mote-bench-pub");
    co.clean_start = true;
    co.keep_alive_s = 60;
    err = mote_mqtt_connect(&client, &co, 5000, NULL);
    if (err != MOTE_OK) {
        return fail("connect", err);
    }
    /* The loop polls; reads must not wait on their own. */
    tcp.recv_wait_ms = 0;

    if (strcmp(mode, "sub0") == 0) {
        mote_mqtt_subscription_t sub = { MOTE_STR(TOPIC), 0 };
        double idle_since;
        err = mote_mqtt_subscribe(&client, &sub, 1, (mote_mqtt_props_t){ NULL, 0 }, NULL);
        if (err != MOTE_OK) {
            return fail("subscribe", err);
        }
        while (!g_subscribed) {
            err = step(&client, &tcp, 1000, 0);
            if (err != MOTE_OK) {
                return fail("suback", err);
            }
        }
        printf("ready\n");
        fflush(stdout);
        idle_since = now_s();
        while (g_received < n) {
            long before = g_received;
            err = step(&client, &tcp, 1000, 0);
            if (err != MOTE_OK) {
                return fail("receive", err);
            }
            if (g_received != before) {
                g_last_rx = idle_since = now_s();
            } else if (now_s() - idle_since > 10.0) {
                break;
            }
        }
        t0 = g_first_rx;
        t1 = g_last_rx;
        printf("RESULT client=mote mode=sub0 n=%ld received=%ld secs=%.4f msgs_per_s=%.0f\n", n,
               g_received, t1 - t0,
               g_received > 1 ? (double)(g_received - 1) / (t1 - t0) : 0.0);
    } else {
        memset(&msg, 0, sizeof msg);
        msg.topic = MOTE_STR(TOPIC);
        msg.payload.ptr = payload;
        msg.payload.len = sizeof payload;
        msg.qos = strcmp(mode, "pub1") == 0 ? 1 : 0;
        t0 = now_s();
        for (i = 0; i < n; i++) {
            while ((err = mote_mqtt_publish(&client, &msg, NULL)) != MOTE_OK) {
                if (err != MOTE_ERR_NO_SPACE && err != MOTE_ERR_RECEIVE_MAXIMUM &&
                    err != MOTE_ERR_NEED_MORE) {
                    return fail("publish", err);
                }
                /* Window full (wait for acks) or socket full (wait for room). */
                err = step(&client, &tcp, 1000, err == MOTE_ERR_NEED_MORE);
                if (err != MOTE_OK) {
                    return fail("process", err);
                }
            }
        }
        if (msg.qos == 0) {
            /* A QoS 1 marker: its PUBACK means the broker has read every message before it,
             * so the rate is what reached the broker, not what fitted in socket buffers. */
            msg.qos = 1;
            while ((err = mote_mqtt_publish(&client, &msg, NULL)) != MOTE_OK) {
                if (err != MOTE_ERR_NEED_MORE && err != MOTE_ERR_NO_SPACE) {
                    return fail("publish", err);
                }
                err = step(&client, &tcp, 1000, 1);
                if (err != MOTE_OK) {
                    return fail("process", err);
                }
            }
        }
        while ((err = mote_mqtt_flush(&client)) == MOTE_ERR_NEED_MORE) {
            struct pollfd p = { tcp.fd, POLLOUT, 0 };
            (void)poll(&p, 1, 1000);
        }
        if (err != MOTE_OK) {
            return fail("flush", err);
        }
        while (mote_mqtt_inflight_count(&client) > 0) {
            err = step(&client, &tcp, 1000, 0);
            if (err != MOTE_OK) {
                return fail("acks", err);
            }
        }
        t1 = now_s();
        printf("RESULT client=mote mode=%s n=%ld window=%ld secs=%.4f msgs_per_s=%.0f\n", mode, n,
               window, t1 - t0, (double)n / (t1 - t0));
    }
    (void)mote_mqtt_disconnect(&client, 0, (mote_mqtt_props_t){ NULL, 0 });
    mote_tcp_close(&tcp);
    return 0;
}
