/* The MQTT client: a state machine over a mote_transport_t and a millisecond clock.
 * Caller-owned context and buffers, no allocation, never blocks longer than the time the
 * caller grants (plus what one transport call waits). Not thread-safe: one owner drives a
 * client; other threads hand work to that owner. */
#ifndef MOTE_MQTT_H
#define MOTE_MQTT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mote/config.h"
#include "mote/error.h"
#include "mote/mqtt_codec.h"
#include "mote/transport.h"

#ifdef __cplusplus
extern "C" {
#endif

struct mote_mqtt_event;

/* One outgoing QoS 1/2 message awaiting its acknowledgement. The topic, payload and
 * properties are NOT copied: that memory must stay valid and unchanged until the
 * MOTE_MQTT_EVT_PUBLISH_DONE event for the packet id (it is resent from there after a
 * reconnect). Contents are private to the client; zero the array before the first init. */
typedef struct mote_mqtt_inflight {
    const uint8_t *topic;
    const uint8_t *payload;
    const uint8_t *props;
    uint32_t payload_len;
    uint32_t seq;         /* send order, for in-order resend */
    uint16_t topic_len;
    uint16_t props_len;
    uint16_t packet_id;   /* 0: free slot */
    uint8_t state;        /* awaiting PUBACK / PUBREC / PUBCOMP, plus a resend mark */
    uint8_t flags;        /* qos, retain */
} mote_mqtt_inflight_t;

/* Everything the client needs, given once at init. All memory is the caller's and must
 * outlive the client. */
typedef struct mote_mqtt_client_config {
    const mote_transport_t *transport;
    mote_clock_fn clock;
    void *clock_ctx;
    uint8_t *rx_buf;              /* incoming packets are assembled here */
    size_t rx_cap;
    uint8_t *tx_buf;              /* outgoing packets are encoded (and coalesced) here */
    size_t tx_cap;
    mote_mqtt_inflight_t *inflight; /* outgoing QoS 1/2 records; count bounds in-flight sends */
    uint16_t inflight_count;      /* at most 65,534 - MOTE_MQTT_MAX_PENDING_SUBS (65,530): a
                                     packet id must stay free for every request */
    uint16_t *qos2_rx_ids;        /* incoming QoS 2 ids awaiting PUBREL (exactly-once); needed
                                     to receive QoS 2 (a full table is MOTE_ERR_NO_SPACE, in v5
                                     MOTE_ERR_RECEIVE_MAXIMUM: its size is our receive maximum) */
    uint16_t qos2_rx_count;
    /* v5 outgoing topic aliases: the caller fills entry i with a topic (stable memory) that
     * may use alias i + 1; publishing that exact topic then sends the alias (the topic name
     * only the first time in each connection). Entries with a NULL ptr are unused. At most
     * 32 entries are used, and no more than the server's topic alias maximum. May be NULL. */
    mote_bytes_t *topic_aliases;
    uint16_t topic_alias_count;
    /* v5 incoming topic aliases (index = alias - 1), written by the client; each alias keeps
     * its topic in rx_alias_store + (alias - 1) * rx_alias_slot_size. We announce
     * rx_topic_alias_count as topic alias maximum when both are given, else 0. */
    mote_bytes_t *rx_topic_aliases;
    uint16_t rx_topic_alias_count;
    bool reject_oversize;         /* true: incoming PUBLISH larger than rx_cap is an error
                                     (MOTE_ERR_OVERSIZE_REJECTED) instead of delivered in chunks */
    /* Events. Spans point into rx_buf and are valid during the call only. The callback may
     * publish, subscribe, disconnect, answer an AUTH (mote_mqtt_auth) or reset the
     * connection; it must not call process or connect. After a disconnect or reset from a
     * PUBLISH event that message is not acknowledged (the server sends it again) and no
     * further packet is read. During mote_mqtt_connect the only event is a v5 AUTH: the
     * callback answers it with mote_mqtt_auth (reason 0x18), and a reset from there (or a
     * failed write in mote_mqtt_auth) ends the connect with MOTE_ERR_NOT_CONNECTED. */
    void (*on_event)(void *user, const struct mote_mqtt_event *evt);
    void *user;
    /* Optional debug trace of every packet sent and received (NULL: off). dir is 'S' or 'R'.
     * A PUBLISH whose payload is written from caller memory is traced without the payload;
     * a streamed incoming PUBLISH as its header and first piece. */
    void (*on_trace)(void *user, char dir, const uint8_t *packet, size_t len);
    /* Storage for incoming topic aliases (see rx_topic_aliases): rx_topic_alias_count slots
     * of rx_alias_slot_size bytes. A topic longer than a slot cannot be aliased
     * (MOTE_ERR_TOPIC_ALIAS). */
    uint8_t *rx_alias_store;
    uint16_t rx_alias_slot_size;
} mote_mqtt_client_config_t;

typedef enum mote_mqtt_event_type {
    MOTE_MQTT_EVT_PUBLISH = 1,      /* incoming message (whole, or a chunk: see publish.total) */
    MOTE_MQTT_EVT_PUBLISH_DONE,     /* our QoS 1/2 publish completed (PUBACK / PUBCOMP, or
                                       v5 PUBREC with an error reason) */
    MOTE_MQTT_EVT_SUBACK,
    MOTE_MQTT_EVT_UNSUBACK,
    MOTE_MQTT_EVT_DISCONNECT,       /* v5 server DISCONNECT (reason, properties) */
    MOTE_MQTT_EVT_PINGRESP,
    MOTE_MQTT_EVT_AUTH              /* v5 server AUTH (reason, properties): only when our
                                       CONNECT named an Authentication Method; while
                                       connecting too (answer with mote_mqtt_auth) */
} mote_mqtt_event_type_t;

typedef struct mote_mqtt_event {
    mote_mqtt_event_type_t type;
    union {
        struct {
            mote_mqtt_publish_t msg;  /* topic resolved from an alias; payload = this chunk */
            uint32_t offset;          /* where this chunk starts in the whole payload */
            uint32_t total;           /* whole payload length */
            bool first, last;         /* a whole message has both set */
        } publish;
        mote_mqtt_ack_t ack;          /* PUBLISH_DONE (packet_id, reason), DISCONNECT, AUTH */
        mote_mqtt_suback_t suback;    /* SUBACK / UNSUBACK, the reason codes as the server sent
                                         them: one per filter of the request is due, so
                                         treat a filter without one as not granted */
    } u;
} mote_mqtt_event_t;

/* Options for one connection attempt. */
typedef struct mote_mqtt_connect_opts {
    mote_mqtt_version_t version;
    mote_bytes_t client_id;       /* empty: asks the server to assign one (3.1.1: only with
                                     clean_start, else MOTE_ERR_BAD_ARG) */
    bool clean_start;
    uint16_t keep_alive_s;        /* 0: no keep-alive */
    const mote_mqtt_will_t *will;
    mote_bytes_t username;
    mote_bytes_t password;
    uint32_t session_expiry_s;    /* v5; 0xFFFFFFFF: never */
    uint32_t max_packet_size;     /* v5; 0: not announced (limited only by rx handling) */
    mote_mqtt_props_t extra_props; /* v5: more CONNECT properties (user properties, auth:
                                      an Authentication Method here allows AUTH, see
                                      mote_mqtt_auth) */
} mote_mqtt_connect_opts_t;

/* What the broker told us in CONNACK, plus the limits now in force. */
typedef struct mote_mqtt_session_info {
    bool session_present;
    uint8_t reason_code;
    uint16_t keep_alive_s;        /* server keep-alive if sent, else ours */
    uint16_t receive_maximum;     /* server's, 65535 if absent */
    uint32_t max_packet_size;     /* server's, 0 if absent (no limit) */
    uint16_t topic_alias_maximum;
    uint8_t maximum_qos;
    bool retain_available;
    mote_bytes_t assigned_client_id; /* points into rx_buf: copy before the next process call */
    mote_mqtt_props_t props;      /* all CONNACK properties; same lifetime caveat */
} mote_mqtt_session_info_t;

/* The client context. Members are private; sizeof is part of the footprint budget
 * (at most 128 bytes on a 32-bit MCU). The small members come first: Thumb's 16-bit loads
 * and stores reach bytes at offsets below 32 and halfwords below 64 only, and every access
 * to a member further out costs a 32-bit instruction. */
typedef struct mote_mqtt_client {
    const mote_mqtt_client_config_t *cfg;
    uint8_t ack_type;             /* 0: none */
    uint8_t ack_reason;
    uint8_t version;
    uint8_t state;
    uint8_t flags;
    uint8_t max_qos;
    uint16_t rx_hdr;              /* bytes of the streamed PUBLISH header kept in rx_buf */
    uint16_t next_packet_id;
    uint16_t keep_alive_s;
    uint16_t receive_max;
    uint16_t inflight_used;
    uint16_t alias_max_out;
    uint16_t alias_max_in;
    uint16_t resend_left;         /* records still to resend after a reconnect */
    uint16_t ack_id;              /* an ack that did not fit in tx_buf yet */
    const uint8_t *tx_tail;       /* payload written from caller memory after tx_buf */
    struct mote_mqtt_session_info *info; /* where connect reports the CONNACK */
    uint32_t tx_tail_len;
    uint32_t tx_len;              /* bytes queued in tx_buf */
    uint32_t tx_sent;             /* bytes of tx_buf already written */
    uint32_t rx_len;              /* bytes assembled in rx_buf */
    uint32_t rx_skip;             /* payload bytes of a streamed or skipped PUBLISH still due */
    uint32_t rx_total;            /* whole payload length of the PUBLISH being streamed */
    uint32_t rx_off;              /* bytes at the start of rx_buf already consumed */
    uint32_t last_tx_ms;
    uint32_t ping_sent_ms;
    uint32_t seq;                 /* send order of in-flight records */
    uint32_t max_packet_out;      /* server's maximum packet size (0: none) */
    uint32_t max_packet_in;       /* ours, as announced (0: none) */
    uint32_t alias_sent;          /* outgoing aliases announced in this connection (bits) */
    /* SUBSCRIBE / UNSUBSCRIBE awaiting their ack: packet ids (0: a free slot) */
    uint16_t sub_pending[MOTE_MQTT_MAX_PENDING_SUBS];
} mote_mqtt_client_t;

/* Set up a client. No I/O. Returns MOTE_ERR_BAD_ARG for missing buffers or callbacks,
 * buffers under 16 bytes, or an inflight_count above 65,534 - MOTE_MQTT_MAX_PENDING_SUBS. */
mote_err_t mote_mqtt_init(mote_mqtt_client_t *c, const mote_mqtt_client_config_t *cfg);

/* Send CONNECT and wait up to timeout_ms for CONNACK (the transport must already be
 * connected). On a present session, unacknowledged PUBLISH (DUP set) and PUBREL are
 * resent in their original order (v5: no more at once than the server's receive maximum;
 * ones it would refuse complete with reason 0x9B (QoS above its maximum), 0x9A (retained,
 * without Retain Available) or 0x95 (size)); on a new session the in-flight records are
 * dropped, each reported as PUBLISH_DONE with reason 0x80 (not delivered), or 0 for a
 * QoS 2 message the server acknowledged with PUBREC (delivered). A refusal returns
 * MOTE_ERR_CONNACK_REFUSED with info->reason_code set. info may be NULL. v5: a server
 * AUTH before CONNACK reaches on_event (answer it with mote_mqtt_auth) when the CONNECT
 * named an Authentication Method (opts->extra_props), else the connect fails with
 * MOTE_ERR_PROTOCOL. */
mote_err_t mote_mqtt_connect(mote_mqtt_client_t *c, const mote_mqtt_connect_opts_t *opts,
                             uint32_t timeout_ms, mote_mqtt_session_info_t *info);

/* Queue a PUBLISH. QoS 0 returns once the packet is queued or written; QoS 1/2 take an
 * in-flight record (MOTE_ERR_NO_SPACE when all are used, MOTE_ERR_RECEIVE_MAXIMUM when the
 * broker's receive maximum is reached) and report completion as PUBLISH_DONE. Small
 * packets are coalesced in tx_buf and written by mote_mqtt_flush / mote_mqtt_process (or
 * when tx_buf fills); payloads that do not fit are written straight from caller memory:
 * for QoS 0 that memory must then stay valid until mote_mqtt_tx_pending() is 0 (publish
 * tries to write it before returning). MOTE_ERR_NEED_MORE: the transport cannot take
 * more output now and nothing was queued; run mote_mqtt_process and try again.
 * MOTE_ERR_PACKET_TOO_LARGE: above the server's maximum packet size (v5).
 * *packet_id (may be NULL) receives the id for QoS 1/2. */
mote_err_t mote_mqtt_publish(mote_mqtt_client_t *c, const mote_mqtt_publish_t *msg,
                             uint16_t *packet_id);

/* SUBSCRIBE / UNSUBSCRIBE with one or more filters; the acks arrive as events, matched by
 * packet id (an ack for any other id is MOTE_ERR_UNKNOWN_PACKET_ID from process).
 * MOTE_ERR_NO_SPACE: MOTE_MQTT_MAX_PENDING_SUBS requests await their acks already; nothing
 * was queued. */
mote_err_t mote_mqtt_subscribe(mote_mqtt_client_t *c, const mote_mqtt_subscription_t *subs,
                               size_t count, mote_mqtt_props_t props, uint16_t *packet_id);
mote_err_t mote_mqtt_unsubscribe(mote_mqtt_client_t *c, const mote_bytes_t *filters,
                                 size_t count, mote_mqtt_props_t props, uint16_t *packet_id);

/* Write what is queued. MOTE_OK when all is written, MOTE_ERR_NEED_MORE when the transport
 * took only part (call again or let process do it), or a transport error. */
mote_err_t mote_mqtt_flush(mote_mqtt_client_t *c);

/* The process step: writes queued output, reads and dispatches incoming packets (events
 * go to cfg->on_event), answers QoS handshakes, sends PINGREQ only after keep_alive_s of
 * idle sending and reports MOTE_ERR_KEEPALIVE_TIMEOUT when PINGRESP does not come (or
 * nothing at all could be written for twice that long). Returns after budget_ms (0: one
 * pass over what is available now) or on error. Every error but
 * MOTE_ERR_OVERSIZE_REJECTED (the rejected message is skipped and acknowledged) leaves the
 * client disconnected; malformed input gives the codec's specific error, an ack for an
 * unknown id MOTE_ERR_UNKNOWN_PACKET_ID, an unexpected packet MOTE_ERR_PROTOCOL (so does a
 * v5 AUTH when our CONNECT named no Authentication Method), a v5 server DISCONNECT
 * MOTE_ERR_SERVER_DISCONNECT (after its event), an incoming packet above our maximum
 * packet size (or a non-PUBLISH above rx_cap) MOTE_ERR_PACKET_TOO_LARGE. */
mote_err_t mote_mqtt_process(mote_mqtt_client_t *c, uint32_t budget_ms);

/* Send DISCONNECT (v5 reason code and properties) and flush. The session records stay,
 * so a later connect with a present session resends what was unacknowledged.
 * MOTE_ERR_PACKET_TOO_LARGE (v5): the properties would make it larger than the server's
 * maximum packet size; nothing was queued and the client stays connected. */
mote_err_t mote_mqtt_disconnect(mote_mqtt_client_t *c, uint8_t reason_code,
                                mote_mqtt_props_t props);

/* MQTT 5 enhanced authentication (5.0 4.12): queue an AUTH packet, written by the next
 * flush, process step or connect loop. reason_code 0x18 (continue authentication)
 * answers a server AUTH 0x18, while connecting (from the on_event callback of the
 * MOTE_MQTT_EVT_AUTH that mote_mqtt_connect delivers) or while connected; 0x19
 * (re-authenticate) starts a new exchange while connected, answered by server AUTH
 * events (0x18 to continue, 0x00 for success) or a DISCONNECT. props carry the
 * Authentication Method, which must be the one the CONNECT named (the client does not
 * keep it to compare), and the Authentication Data. Errors, with nothing queued:
 * MOTE_ERR_NOT_CONNECTED before CONNECT was sent, after a disconnect, or 0x19 before
 * CONNACK; MOTE_ERR_BAD_ARG for another reason code, a 3.1.1 connection or a CONNECT
 * without an Authentication Method (the server may not authenticate with AUTH then);
 * MOTE_ERR_BAD_PROPERTY (and the codec's other property errors) for properties without
 * the method or not allowed in AUTH; MOTE_ERR_PACKET_TOO_LARGE above the server's maximum
 * packet size; MOTE_ERR_NEED_MORE when tx_buf is full and the transport takes nothing now;
 * a transport error from writing out what was queued (the connection is then lost).
 * Never blocks, never allocates. The 3.1.1-only build (MOTE_MQTT_V5=0) has no AUTH: the
 * call is a constant MOTE_ERR_UNSUPPORTED there. */
#if MOTE_MQTT_V5
mote_err_t mote_mqtt_auth(mote_mqtt_client_t *c, uint8_t reason_code, mote_mqtt_props_t props);
#else
static inline mote_err_t mote_mqtt_auth(mote_mqtt_client_t *c, uint8_t reason_code,
                                        mote_mqtt_props_t props)
{
    (void)c, (void)reason_code, (void)props;
    return MOTE_ERR_UNSUPPORTED;
}
#endif

/* The connection was lost (transport error): mark the client disconnected, keep the
 * session records for the next mote_mqtt_connect. */
void mote_mqtt_reset_connection(mote_mqtt_client_t *c);

bool mote_mqtt_is_connected(const mote_mqtt_client_t *c);
/* Bytes queued for writing (tx_buf and a payload from caller memory); 0 when all written. */
size_t mote_mqtt_tx_pending(const mote_mqtt_client_t *c);
/* Number of outgoing QoS 1/2 messages not yet completed. */
uint16_t mote_mqtt_inflight_count(const mote_mqtt_client_t *c);

#ifdef __cplusplus
}
#endif
#endif
