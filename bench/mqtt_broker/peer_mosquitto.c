/* Throughput peer: libmosquitto (Debian's libmosquitto-dev) doing exactly the workload of
 * mote_bench.c, driven from one thread without the library's background thread.
 *
 *   peer_mosquitto HOST PORT pub0 N          QoS 0 publish of N messages
 *   peer_mosquitto HOST PORT pub1 N WINDOW   QoS 1 publish, at most WINDOW unacknowledged
 *   peer_mosquitto HOST PORT sub0 N          subscribe, receive N QoS 0 messages
 *
 * Prints "ready" when subscribed (sub0) and a RESULT line with messages per second. */
#include <mosquitto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TOPIC "dt/sensors/device-0001/telemetry"

static long g_acked;
static long g_received;
static int g_subscribed;
static int g_connected;
static double g_first_rx;
static double g_last_rx;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void on_publish(struct mosquitto *m, void *u, int mid)
{
    (void)m;
    (void)u;
    (void)mid;
    g_acked++;
}

static void on_connect(struct mosquitto *m, void *u, int rc)
{
    (void)m;
    (void)u;
    g_connected = rc == 0 ? 1 : -1;
}

static void on_subscribe(struct mosquitto *m, void *u, int mid, int n, const int *q)
{
    (void)m;
    (void)u;
    (void)mid;
    (void)n;
    (void)q;
    g_subscribed = 1;
}

static void on_message(struct mosquitto *m, void *u, const struct mosquitto_message *msg)
{
    (void)m;
    (void)u;
    (void)msg;
    if (g_received == 0) {
        g_first_rx = now_s();
    }
    g_received++;
    g_last_rx = now_s();
}

int main(int argc, char **argv)
{
    struct mosquitto *m;
    const char *host, *mode;
    int port, rc;
    long n, window = 20, i;
    unsigned char payload[64];
    double t0, t1;

    if (argc < 5) {
        fprintf(stderr, "usage: %s HOST PORT pub0|pub1|sub0 N [WINDOW]\n", argv[0]);
        return 2;
    }
    host = argv[1];
    port = atoi(argv[2]);
    mode = argv[3];
    n = atol(argv[4]);
    if (argc > 5) {
        window = atol(argv[5]);
    }
    memset(payload, 'p', sizeof payload);

    mosquitto_lib_init();
    m = mosquitto_new(NULL, true, NULL);
    if (m == NULL) {
        return 1;
    }
    mosquitto_connect_callback_set(m, on_connect);
    mosquitto_publish_callback_set(m, on_publish);
    mosquitto_subscribe_callback_set(m, on_subscribe);
    mosquitto_message_callback_set(m, on_message);
    mosquitto_max_inflight_messages_set(m, (unsigned)window);
    rc = mosquitto_connect(m, host, port, 60);
    if (rc != MOSQ_ERR_SUCCESS) {
        fprintf(stderr, "connect: %s\n", mosquitto_strerror(rc));
        return 1;
    }
    /* Read the CONNACK before starting. */
    while (g_connected == 0) {
        if (mosquitto_loop(m, 1000, 1) != MOSQ_ERR_SUCCESS) {
            return 1;
        }
    }
    if (g_connected < 0) {
        fprintf(stderr, "connect refused\n");
        return 1;
    }

    if (strcmp(mode, "sub0") == 0) {
        double idle_since;
        mosquitto_subscribe(m, NULL, TOPIC, 0);
        while (!g_subscribed) {
            if (mosquitto_loop(m, 1000, 1) != MOSQ_ERR_SUCCESS) {
                return 1;
            }
        }
        printf("ready\n");
        fflush(stdout);
        idle_since = now_s();
        while (g_received < n) {
            long before = g_received;
            if (mosquitto_loop(m, 1000, 100) != MOSQ_ERR_SUCCESS) {
                break;
            }
            if (g_received != before) {
                idle_since = now_s();
            } else if (now_s() - idle_since > 10.0) {
                break;
            }
        }
        t0 = g_first_rx;
        t1 = g_last_rx;
        printf("RESULT client=libmosquitto mode=sub0 n=%ld received=%ld secs=%.4f msgs_per_s=%.0f\n",
               n, g_received, t1 - t0, g_received > 1 ? (double)(g_received - 1) / (t1 - t0) : 0.0);
    } else {
        int qos = strcmp(mode, "pub1") == 0 ? 1 : 0;
        t0 = now_s();
        for (i = 0; i < n; i++) {
            if (qos == 1) {
                while (i - g_acked >= window) {
                    if (mosquitto_loop(m, 1000, 1) != MOSQ_ERR_SUCCESS) {
                        return 1;
                    }
                }
            }
            rc = mosquitto_publish(m, NULL, TOPIC, (int)sizeof payload, payload, qos, false);
            if (rc != MOSQ_ERR_SUCCESS) {
                fprintf(stderr, "publish: %s\n", mosquitto_strerror(rc));
                return 1;
            }
            /* Non-threaded use: publish writes at once; drain what the socket refused. */
            while (qos == 0 && mosquitto_want_write(m)) {
                mosquitto_loop(m, 10, 1);
            }
        }
        if (qos == 0) {
            /* A QoS 1 marker: its PUBACK means the broker has read everything before it. */
            mosquitto_publish(m, NULL, TOPIC, (int)sizeof payload, payload, 1, false);
            while (g_acked < 1) {
                if (mosquitto_loop(m, 1000, 1) != MOSQ_ERR_SUCCESS) {
                    return 1;
                }
            }
        } else {
            while (g_acked < n) {
                if (mosquitto_loop(m, 1000, 1) != MOSQ_ERR_SUCCESS) {
                    return 1;
                }
            }
        }
        while (mosquitto_want_write(m)) {
            mosquitto_loop(m, 10, 1);
        }
        t1 = now_s();
        printf("RESULT client=libmosquitto mode=%s n=%ld window=%ld secs=%.4f msgs_per_s=%.0f\n",
               mode, n, window, t1 - t0, (double)n / (t1 - t0));
    }
    mosquitto_disconnect(m);
    mosquitto_loop(m, 10, 1);
    mosquitto_destroy(m);
    mosquitto_lib_cleanup();
    return 0;
}
