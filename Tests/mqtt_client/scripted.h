/* Test double for the MQTT client: a transport whose recv hands out scripted byte chunks
 * (optionally k bytes per call) and whose send records what was written (optionally taking
 * only k bytes per call, or nothing for a number of calls), plus a fake clock. */
#ifndef MOTE_TEST_SCRIPTED_H
#define MOTE_TEST_SCRIPTED_H

#include <string.h>

#include "mote/mqtt.h"

#define SCRIPT_MAX 256
#define SENT_MAX (1u << 20)

typedef struct scripted {
    /* receive script: chunks returned in order */
    uint8_t *data;             /* all scripted bytes, appended */
    size_t data_len, data_cap;
    size_t chunk_end[SCRIPT_MAX]; /* end offset of each chunk within data */
    size_t chunks;
    size_t chunk;              /* current chunk */
    size_t pos;                /* read position in data */
    size_t recv_max;           /* 0: whole chunk at once; k: at most k bytes per recv */
    int close_at_end;          /* return MOTE_ERR_CLOSED once the script is used up */
    int recv_calls;
    /* send side */
    uint8_t sent[SENT_MAX];
    size_t sent_len;
    size_t send_max;           /* 0: take everything; k: at most k bytes per call */
    int send_block;            /* return 0 for this many calls */
    int send_error;            /* return this (negative) from send */
    int send_calls;
    /* clock */
    uint32_t now;
    uint32_t tick;             /* added after each clock read */
} scripted_t;

void scripted_init(scripted_t *s);
void scripted_free(scripted_t *s);
/* Append one chunk that a single recv returns (unless recv_max splits it). */
void script_bytes(scripted_t *s, const void *bytes, size_t len);
/* Append one chunk holding a packet encoded by the codec (fails the test on error). */
void script_packet(scripted_t *s, const uint8_t *pkt, int32_t len);
int32_t scripted_send(void *ctx, const mote_iovec_t *iov, size_t iovcnt);
int32_t scripted_recv(void *ctx, uint8_t *buf, size_t len);
uint32_t scripted_clock(void *ctx);

/* Walk the packets in s->sent from *cursor: returns false when none is complete. */
int sent_next(scripted_t *s, size_t *cursor, uint8_t *type, uint8_t *flags, const uint8_t **body,
              uint32_t *rem);

#endif

/* ---- A client wired to a scripted transport, recording its events ------------------- */

#define EV_MAX 4096

typedef struct ev_rec {
    int type;
    uint16_t packet_id;
    uint8_t reason;
    uint8_t qos;
    int dup, retain, first, last;
    uint32_t offset, total;
    char topic[128];
    size_t topic_len;
    uint8_t props[128];
    size_t props_len;
    size_t payload_len; /* this chunk */
    uint8_t payload[64];   /* first bytes of this chunk */
} ev_rec_t;

typedef struct fixture {
    scripted_t t;
    mote_transport_t tr;
    mote_mqtt_client_config_t cfg;
    mote_mqtt_client_t c;
    uint8_t rx[4096];
    uint8_t tx[4096];
    mote_mqtt_inflight_t inflight[8];
    uint16_t qos2_ids[4];
    mote_bytes_t aliases_out[4];
    mote_bytes_t aliases_in[4];
    uint8_t alias_store[4 * 32];
    ev_rec_t ev[EV_MAX];
    size_t nev;
    uint8_t assembled[1 << 16]; /* payload bytes of streamed chunks, by offset */
    size_t assembled_len;
    /* Called after each event is recorded (NULL: none): a test's answer from the callback. */
    void (*hook)(struct fixture *f, const mote_mqtt_event_t *e);
} fixture_t;

/* Set up with rx_cap / tx_cap bytes of buffer (<= 4096). */
fixture_t *fixture_new(size_t rx_cap, size_t tx_cap);
void fixture_free(fixture_t *f);
/* Script a CONNACK and connect; returns the connect result. props: v5 CONNACK props. */
mote_err_t fixture_connect(fixture_t *f, mote_mqtt_version_t v, bool session_present,
                           const uint8_t *props, size_t props_len);
/* Forget what was sent so far. */
void fixture_clear_sent(fixture_t *f);

/* Script a server ack (PUBACK/PUBREC/PUBREL/PUBCOMP) and a server PUBLISH. */
void srv_ack(fixture_t *f, mote_mqtt_version_t v, uint8_t type, uint16_t id, uint8_t reason);
void srv_publish(fixture_t *f, mote_mqtt_version_t v, const char *topic, const void *payload,
                 size_t len, uint8_t qos, uint16_t id, bool dup, const uint8_t *props,
                 size_t plen);
/* A message to publish (topic and payload from C strings). */
mote_mqtt_publish_t msg(const char *topic, const char *payload, uint8_t qos);
