/* Shared parts of the mote tool's MQTT commands: mosquitto-style option parsing, opening
 * a connection and an MQTT session, the I/O loop step, and one-line error reporting with
 * distinct exit codes. */
#ifndef MOTE_CLI_COMMON_H
#define MOTE_CLI_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cli_net.h"
#include "mote/mqtt.h"

#ifndef MOTE_VERSION_STRING
#define MOTE_VERSION_STRING "0.1.0"
#endif

/* Exit codes, distinct per failure class so scripts can tell them apart. */
enum {
    MOTE_EXIT_OK = 0,
    MOTE_EXIT_ERROR = 1,      /* usage, files, our own limits (--rx-buffer), anything else */
    MOTE_EXIT_NETWORK = 2,    /* resolve, TCP connect or TLS failure */
    MOTE_EXIT_REFUSED = 3,    /* the broker refused CONNECT (CONNACK reason code) */
    MOTE_EXIT_LOST = 4,       /* connection lost or closed by the broker */
    MOTE_EXIT_PROTOCOL = 5,   /* malformed packet or protocol violation from the broker */
    MOTE_EXIT_TIMEOUT = 6     /* connect, keep-alive or -W timeout */
};

#define MOTE_CLI_MAX_TOPICS 64
#define MOTE_CLI_MAX_USER_PROPS 8
/* Client identifiers: MQTT allows 65,535 bytes, brokers far fewer (AWS IoT: 128). */
#define MOTE_CLI_MAX_CLIENT_ID 256
/* Room for the encoded --property block (CONNECT, PUBLISH and SUBSCRIBE each carry it). */
#define MOTE_CLI_PROPS_CAP 512

typedef enum { MOTE_CLI_PUB, MOTE_CLI_SUB } mote_cli_mode_t;

/* The packets -D gives properties to (bits), mosquitto's command names. */
#define MOTE_CLI_PKT_CONNECT 1u
#define MOTE_CLI_PKT_PUBLISH 2u
#define MOTE_CLI_PKT_SUBSCRIBE 4u
#define MOTE_CLI_PKT_UNSUBSCRIBE 8u
#define MOTE_CLI_PKT_WILL 16u
#define MOTE_CLI_MAX_PROPS 16

/* -D COMMAND PROPERTY VALUE (user-property: NAME VALUE): one MQTT 5 property. */
typedef struct mote_cli_prop {
    uint8_t packet;               /* one MOTE_CLI_PKT_ bit */
    uint8_t id;                   /* MOTE_PROP_ */
    const char *name;             /* as given (for messages) */
    uint32_t number;              /* integer properties */
    const char *value;            /* string/binary properties; a user property's name */
    const char *value2;           /* a user property's value */
} mote_cli_prop_t;

/* Every option of pub and sub (each command ignores what does not apply). */
typedef struct mote_cli_opts {
    mote_cli_mode_t mode;         /* the command these options were parsed for */
    mote_cli_net_opts_t net;
    mote_mqtt_version_t version;  /* -V, default mqttv311 like mosquitto */
    const char *client_id;        /* -i */
    const char *client_id_prefix; /* -I: the id is this prefix and the process id */
    bool clean;                   /* false with -c */
    uint16_t keep_alive_s;        /* -k, default 60 */
    const char *username;         /* -u */
    const char *password;         /* -P */
    const char *will_topic;
    const char *will_payload;
    uint8_t will_qos;
    bool will_retain;
    uint32_t session_expiry_s;    /* -x; with -c on v5 and no -x: never expire */
    bool session_expiry_set;
    uint8_t qos;                  /* -q */
    bool retain;                  /* -r */
    bool debug;                   /* -d */
    bool verbose;                 /* -v */
    bool quiet;                   /* --quiet: no error lines */
    const char *topics[MOTE_CLI_MAX_TOPICS]; /* -t (repeatable on sub) */
    int topic_count;
    /* v5 user properties (-D KEY VALUE style: --property KEY VALUE, repeatable) */
    const char *user_keys[MOTE_CLI_MAX_USER_PROPS];
    const char *user_values[MOTE_CLI_MAX_USER_PROPS];
    int user_count;
    mote_cli_prop_t props[MOTE_CLI_MAX_PROPS]; /* -D */
    int prop_count;
    /* pub */
    const char *message;          /* -m */
    const char *file;             /* -f */
    bool lines;                   /* -l */
    bool stdin_whole;             /* -s */
    bool null_message;            /* -n */
    uint32_t repeat;              /* --repeat N (publish the message N times) */
    uint32_t repeat_delay_ms;     /* --repeat-delay S: between those publishes */
    uint32_t ack_timeout_ms;      /* --ack-timeout S: output and QoS 1/2 acks must progress
                                   * within this */
    /* sub */
    long count;                   /* -C, 0: unlimited */
    long wait_s;                  /* -W, 0: none */
    bool no_newline;              /* -N */
    bool no_retained;             /* -R: skip messages with the retain flag */
    bool retained_only;           /* --retained-only: print retained messages, exit at the
                                   * first that is not */
    bool remove_retained;         /* --remove-retained: clear each retained message printed */
    bool exit_after_sub;          /* -E: exit once the subscriptions are acknowledged */
    const char *format;           /* -F: output format (cli_format.h), NULL: -v / plain */
    const char *filter_outs[MOTE_CLI_MAX_TOPICS]; /* -T: topics matching these are not printed */
    int filter_out_count;
    const char *unsub_topics[MOTE_CLI_MAX_TOPICS]; /* -U: filters to unsubscribe from first */
    int unsub_count;
    /* limits */
    uint32_t rx_cap;              /* --rx-buffer BYTES */
    uint16_t max_inflight;        /* --max-inflight N */
} mote_cli_opts_t;

/* Parse argv (argv[0] is the command name). Returns 0 to go on, -1 after printing --help
 * (exit 0), or an exit code after printing a usage error. */
int mote_cli_parse(int argc, char **argv, mote_cli_mode_t mode, mote_cli_opts_t *o);

/* One open connection with its MQTT client and buffers. */
typedef struct mote_cli_session {
    const mote_cli_opts_t *opts;
    mote_cli_conn_t conn;
    mote_mqtt_client_t client;
    mote_mqtt_client_config_t cfg;
    mote_mqtt_session_info_t info;
    mote_transport_t transport;   /* wraps conn.transport to watch for pending output */
    void (*on_event)(void *user, const mote_mqtt_event_t *evt);
    void *user;
    bool tx_pending;              /* the last flush left bytes unwritten */
    uint64_t tx_taken;            /* bytes the transport's send has taken (TCP: the socket) */
    bool server_disconnect;       /* broker sent DISCONNECT (v5): reason below */
    uint8_t disconnect_reason;
    bool net_open;
    bool connecting;              /* waiting for CONNACK: an interrupt fails the read */
    bool disconnect_sent;         /* mote_cli_disconnect_from_event queued our DISCONNECT */
    char client_id[MOTE_CLI_MAX_CLIENT_ID + 1];
} mote_cli_session_t;

/* Open the network connection, create the client and connect (CONNECT/CONNACK) within
 * timeout_ms (0: --connect-timeout; never longer than that). Prints the error line itself;
 * returns an exit code (0 when connected), or MOTE_CLI_OPEN_INTERRUPTED when SIGINT/SIGTERM
 * came while waiting for CONNACK (the command exits with mote_cli_interrupt_exit then; an
 * interrupt while the TCP or TLS connection is being set up exits the process at once with
 * that code, as mosquitto_pub/sub do). */
#define MOTE_CLI_OPEN_INTERRUPTED (-1)
int mote_cli_open(mote_cli_session_t *s, const mote_cli_opts_t *o,
                  void (*on_event)(void *user, const mote_mqtt_event_t *evt), void *user,
                  uint32_t timeout_ms);

/* Wait up to wait_ms for input (or for room to write when output is pending), then run
 * one non-blocking process pass. Returns MOTE_OK or the client's error. */
mote_err_t mote_cli_step(mote_cli_session_t *s, uint32_t wait_ms);

/* Bytes queued that the socket has not taken yet: the client's queue and, over TLS, the
 * record the transport has staged but not written. */
size_t mote_cli_tx_left(const mote_cli_session_t *s);
/* A count that grows whenever the socket takes bytes (over TLS: bytes of records, so a
 * record that leaves slowly shows progress before it is all written). */
uint64_t mote_cli_tx_taken(const mote_cli_session_t *s);

/* Bytes the socket took that the peer has not acknowledged yet (the kernel's send queue:
 * on a slow link a large message can wait there far longer than it took to write it). 0
 * where the system cannot tell (no SIOCOUTQ): the socket taking a byte is then all the
 * progress there is to see. */
size_t mote_cli_tx_unsent(const mote_cli_session_t *s);

/* Flush all queued output, waiting for the socket as needed. MOTE_ERR_TIMEOUT when the
 * socket takes no byte for idle_ms: the limit is on lack of progress, so a slow link that
 * keeps taking bytes is not a timeout however long the whole flush takes.
 * MOTE_ERR_NEED_MORE: SIGINT/SIGTERM came while waiting (output left unwritten). */
mote_err_t mote_cli_flush_all(mote_cli_session_t *s, uint32_t idle_ms);

/* Print "mote: WHAT: reason" for err and return its exit code. For errors of the process
 * step and of the connection, where malformed input is the broker's. */
int mote_cli_fail(const mote_cli_session_t *s, const char *what, int err);

/* The same for an error returned by one of our own requests (mote_mqtt_publish,
 * mote_mqtt_subscribe): a bad topic, bad UTF-8 or a packet too large is ours to fix (exit 1),
 * not the broker's. Other errors (a write that failed, ...) are reported as mote_cli_fail. */
int mote_cli_fail_request(const mote_cli_session_t *s, const char *what, int err);

/* Map an error to its exit code class. */
int mote_cli_exit_code(int err);

/* From an event handler: end the connection (v5 reason 0). Called while handling a
 * PUBLISH, that message is not acknowledged and nothing more is read; the command's loop
 * then ends and mote_cli_close finishes the shutdown (no second DISCONNECT). */
void mote_cli_disconnect_from_event(mote_cli_session_t *s);

/* Clean shutdown: DISCONNECT (when connected), flush, wait briefly for the broker to close,
 * close the connection. */
void mote_cli_close(mote_cli_session_t *s);

/* Build the v5 property block of one packet (a MOTE_CLI_PKT_ bit) into buf: the --property
 * user properties (CONNECT, PUBLISH, SUBSCRIBE, UNSUBSCRIBE) and that packet's -D ones.
 * mote_cli_parse checked that every block fits MOTE_CLI_PROPS_CAP bytes. */
mote_mqtt_props_t mote_cli_props(const mote_cli_opts_t *o, unsigned packet, uint8_t *buf,
                                 size_t cap);

/* Set by SIGINT/SIGTERM; the loops stop and disconnect cleanly. */
bool mote_cli_interrupted(void);
/* Exit code of a command interrupted before its work was done: sub 0 (an interrupt is how
 * it normally ends), pub 1 (messages not sent or not acknowledged). */
int mote_cli_interrupt_exit(const mote_cli_opts_t *o);
void mote_cli_install_signals(void);

#endif
