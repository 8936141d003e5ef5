/* Private to the MQTT client files (mqtt_client.c, mqtt_client_rx.c, mqtt_session.c):
 * state constants and the functions they share. Not installed, not public API. */
#ifndef MOTE_MQTT_CLIENT_INTERNAL_H
#define MOTE_MQTT_CLIENT_INTERNAL_H

#include "mote/mqtt.h"

/* Keeps a helper's locals (an event struct, mostly) out of its caller's frame, so the
 * deepest receive path holds only one of them: the process step has a stack budget. */
#if defined(__GNUC__) || defined(__clang__)
#define MQ_NOINLINE __attribute__((noinline))
#else
#define MQ_NOINLINE
#endif

/* Size-optimised builds only: x's value is hidden from the optimiser at this point, which
 * stops jump threading from copying the code after a join into each path to it (speed
 * builds: nothing). */
#if defined(__GNUC__) && defined(__OPTIMIZE_SIZE__)
#define MQ_HIDE(x) __asm__("" : "+r"(x))
#else
#define MQ_HIDE(x) (void)0
#endif

/* mote_mqtt_client_t.state */
#define MQ_DISCONNECTED 0u
#define MQ_CONNECTING 1u
#define MQ_CONNECTED 2u
#define MQ_CLOSING 3u /* DISCONNECT queued, waiting for it to be written */

/* mote_mqtt_client_t.flags */
#define MQF_PING 0x01u        /* PINGREQ sent, PINGRESP outstanding */
#define MQF_STREAM 0x02u      /* rx_skip bytes belong to a PUBLISH streamed to the app */
#define MQF_DISCARD 0x04u     /* rx_skip bytes belong to a PUBLISH being dropped */
#define MQF_DELIVER 0x08u     /* the streamed PUBLISH is new (not a QoS 2 duplicate) */
#define MQF_RETAIN_OK 0x10u   /* server allows retained messages */
#define MQF_CLEAN 0x20u       /* CONNECT asked for a clean start */
#define MQF_RX 0x40u          /* bytes arrived since the last keep-alive check */
#define MQF_AUTH 0x80u        /* v5: our CONNECT named an Authentication Method, so AUTH may
                                 flow both ways (5.0 4.12) */

/* mote_mqtt_inflight_t.state */
#define IF_PUBACK 1u          /* QoS 1 sent, awaiting PUBACK */
#define IF_PUBREC 2u          /* QoS 2 sent, awaiting PUBREC */
#define IF_PUBCOMP 3u         /* PUBREL sent, awaiting PUBCOMP */
#define IF_RESEND 0x80u       /* must be sent again after a reconnect */
#define IF_STATE(s) ((uint8_t)((s) & 0x7Fu))

/* mote_mqtt_inflight_t.flags */
#define IFF_QOS_MASK 0x03u
#define IFF_RETAIN 0x04u

#if MOTE_MQTT_V5 && MOTE_MQTT_V311
#define MQ_IS_V5(c) ((c)->version == MOTE_MQTT_VERSION_5)
#elif MOTE_MQTT_V5
#define MQ_IS_V5(c) 1
#else
#define MQ_IS_V5(c) 0
#endif

#define MQ_VERSION(c) ((mote_mqtt_version_t)(c)->version)

/* A check that only a v5 server's limits can make true: folds away in 3.1.1-only builds. */
#define MQ_V5_LIMIT(cond) (MOTE_MQTT_V5 && (cond))

/* ---- Session (mqtt_session.c) --------------------------------------------------------- */

/* The record for an outgoing packet id, or NULL when that id is not in flight. O(1). */
mote_mqtt_inflight_t *mote_session_find(const mote_mqtt_client_t *c, uint16_t packet_id);
/* A free record with a fresh packet id written into it (state still 0), or NULL. */
mote_mqtt_inflight_t *mote_session_alloc(mote_mqtt_client_t *c);
/* Release a completed record. */
void mote_session_free(mote_mqtt_client_t *c, mote_mqtt_inflight_t *r);
/* Release a completed record and report it (PUBLISH_DONE with a's id, reason and
 * properties). Kept out of its callers so the event is not in their frames. */
void mote_session_done(mote_mqtt_client_t *c, mote_mqtt_inflight_t *r, const mote_mqtt_ack_t *a);
/* The next packet id that neither an in-flight record nor a SUBSCRIBE / UNSUBSCRIBE
 * awaiting its ack uses (c->next_packet_id: the last one handed out). */
uint16_t mote_session_next_id(mote_mqtt_client_t *c);
/* SUBSCRIBE / UNSUBSCRIBE awaiting their acks (c->sub_pending, packet ids): replaces the
 * entry want with put (want 0: takes a free slot, put 0: frees one). Returns false when
 * there is no such entry. */
bool mote_session_sub_swap(mote_mqtt_client_t *c, uint16_t want, uint16_t put);
/* After CONNACK: present session -> mark every record for resend; new session -> drop
 * them (PUBLISH_DONE with reason 0x80 each) and forget incoming QoS 2 ids. */
void mote_session_on_connack(mote_mqtt_client_t *c, bool session_present);
/* The marked record sent earliest, or NULL. */
mote_mqtt_inflight_t *mote_session_next_resend(const mote_mqtt_client_t *c);
/* Incoming QoS 2: is this id awaiting PUBREL? Returns 1 if it was already present (a
 * duplicate); otherwise 0, having recorded it when record is true, or MOTE_ERR_NO_SPACE
 * when the table has no room for it. */
int mote_session_qos2_seen(mote_mqtt_client_t *c, uint16_t packet_id, bool record);
/* PUBREL arrived: forget the id. Returns false when it was not recorded. */
bool mote_session_qos2_release(mote_mqtt_client_t *c, uint16_t packet_id);

/* ---- Client transmit side (mqtt_client.c) ------------------------------------------- */

/* Queue an ack-like packet (PUBACK/PUBREC/PUBREL/PUBCOMP; a v5 reason code other than
 * success in bits 8-15 of type); when tx_buf cannot take it now, it is parked in the
 * context and retried by the process step. */
mote_err_t mote_client_queue_ack(mote_mqtt_client_t *c, unsigned type, uint16_t id);
/* Try to queue the parked ack; MOTE_OK when none is left parked. */
mote_err_t mote_client_retry_ack(mote_mqtt_client_t *c);
/* Send what the resend after a reconnect still owes, as far as tx_buf allows. */
mote_err_t mote_client_resend(mote_mqtt_client_t *c);
/* Queue a PINGREQ. */
mote_err_t mote_client_queue_ping(mote_mqtt_client_t *c);
/* Record a fatal error: the connection is unusable from now on. Returns err. */
mote_err_t mote_client_fail(mote_mqtt_client_t *c, mote_err_t err);
/* Deliver an event of this type (stored into evt->type here) to the application. */
void mote_client_emit(const mote_mqtt_client_t *c, mote_mqtt_event_t *evt, unsigned type);

/* ---- Client receive side (mqtt_client_rx.c) --------------------------------------------- */

/* Read once from the transport and dispatch every complete packet (while connecting:
 * CONNACK and v5 AUTH only). Returns the number of bytes read (0: nothing available now)
 * or an error; fatal errors leave the client disconnected. */
int32_t mote_client_rx_pump(mote_mqtt_client_t *c);
/* CONNACK while connecting (mqtt_client.c): refused or accepted, and the server's limits;
 * reports into c->info (never NULL while connecting). The session itself (resend or drop)
 * is resumed by mote_mqtt_connect afterwards. */
mote_err_t mote_client_on_connack(mote_mqtt_client_t *c, const uint8_t *body, uint32_t len);

#endif
