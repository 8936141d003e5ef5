/* Mote error codes: every failing call in the core and the adapters returns one. */
#ifndef MOTE_ERROR_H
#define MOTE_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

/* Negative values so transport callbacks can return either a byte count or an error. */
typedef enum mote_err {
    MOTE_OK = 0,

    /* General */
    MOTE_ERR_BAD_ARG = -1,            /* a NULL pointer, a zero size, a value out of range */
    MOTE_ERR_BUFFER_TOO_SMALL = -2,   /* the caller's buffer cannot hold the result */
    MOTE_ERR_NEED_MORE = -3,          /* input incomplete: call again with more bytes */
    MOTE_ERR_STATE = -4,              /* call not valid in the current state */
    MOTE_ERR_NO_SPACE = -5,           /* a caller-provided table (in-flight, aliases) is full */
    MOTE_ERR_NOT_FOUND = -6,          /* looked-up item absent */
    MOTE_ERR_TIMEOUT = -7,            /* a deadline passed */
    MOTE_ERR_UNSUPPORTED = -8,        /* compiled out or not implemented by this build */

    /* MQTT codec: malformed input */
    MOTE_ERR_MALFORMED = -20,         /* generic malformed packet */
    MOTE_ERR_BAD_REMAINING_LENGTH = -21,
    MOTE_ERR_BAD_PACKET_TYPE = -22,
    MOTE_ERR_BAD_FLAGS = -23,         /* reserved fixed-header or CONNECT/SUBSCRIBE flags */
    MOTE_ERR_BAD_QOS = -24,           /* QoS 3, or QoS not allowed here */
    MOTE_ERR_BAD_UTF8 = -25,          /* MQTT UTF-8 string rules broken */
    MOTE_ERR_BAD_PROPERTY = -26,      /* unknown id, wrong packet, bad value */
    MOTE_ERR_DUP_PROPERTY = -27,      /* property that may appear once appears twice */
    MOTE_ERR_BAD_TOPIC = -28,         /* invalid topic name or filter */
    MOTE_ERR_BAD_PACKET_ID = -29,     /* zero packet id where one is required */
    MOTE_ERR_BAD_REASON_CODE = -30,   /* reason code not valid for the packet */
    MOTE_ERR_PACKET_TOO_LARGE = -31,  /* exceeds maximum packet size (ours or the peer's) */
    MOTE_ERR_BAD_PROTOCOL = -32,      /* protocol name/level not MQTT 3.1.1 or 5 */

    /* MQTT session and client */
    MOTE_ERR_PROTOCOL = -40,          /* peer broke the protocol (unexpected packet, ...) */
    MOTE_ERR_NOT_CONNECTED = -41,
    MOTE_ERR_CONNACK_REFUSED = -42,   /* broker refused CONNECT; reason code in the connack */
    MOTE_ERR_KEEPALIVE_TIMEOUT = -43, /* no PINGRESP within the keep-alive window */
    MOTE_ERR_UNKNOWN_PACKET_ID = -44, /* ack for a packet id we never sent */
    MOTE_ERR_SERVER_DISCONNECT = -45, /* broker sent DISCONNECT (v5); reason in the event */
    MOTE_ERR_RECEIVE_MAXIMUM = -46,   /* peer's receive maximum reached: retry after an ack */
    MOTE_ERR_OVERSIZE_REJECTED = -47, /* incoming packet larger than the receive buffer, rejected by option */
    MOTE_ERR_TOPIC_ALIAS = -48,       /* invalid or unknown topic alias */

    /* Transport */
    MOTE_ERR_TRANSPORT = -60,         /* send/recv failed (errno in the adapter's context) */
    MOTE_ERR_CLOSED = -61,            /* peer closed the connection */
    MOTE_ERR_RESOLVE = -62,           /* host name did not resolve */
    MOTE_ERR_CONNECT = -63,           /* TCP connect failed or was refused */
    MOTE_ERR_FILE = -64,              /* file missing or unreadable */

    /* TLS (hosted adapter) */
    MOTE_ERR_TLS = -80,               /* other TLS failure; the adapter keeps mbedTLS's code */
    MOTE_ERR_TLS_HANDSHAKE = -81,     /* handshake failed (alert received is kept by the adapter) */
    MOTE_ERR_TLS_CERT_EXPIRED = -82,
    MOTE_ERR_TLS_CERT_FUTURE = -83,   /* not yet valid */
    MOTE_ERR_TLS_UNKNOWN_CA = -84,
    MOTE_ERR_TLS_HOSTNAME = -85,      /* certificate does not match the host name */
    MOTE_ERR_TLS_CLIENT_CERT_REJECTED = -86,
    MOTE_ERR_TLS_KEY_MISMATCH = -87,  /* private key does not match the certificate */
    MOTE_ERR_TLS_KEY_PASSWORD = -88,  /* wrong or missing password for an encrypted key */
    MOTE_ERR_TLS_BAD_CERT = -89,      /* certificate or key file does not parse */

    /* JSON */
    MOTE_ERR_JSON_SYNTAX = -100,      /* invalid JSON; offset and reason in the result */
    MOTE_ERR_JSON_DEPTH = -101,       /* nesting deeper than the build option allows */
    MOTE_ERR_JSON_TYPE = -102,        /* value has another type than asked for */
    MOTE_ERR_JSON_RANGE = -103,       /* number does not fit the C type */
    MOTE_ERR_JSON_BAD_PATH = -104,    /* path or pointer syntax invalid */
    MOTE_ERR_JSON_NESTING = -105      /* writer: close without open, key outside object, ... */
} mote_err_t;

/* A short, constant English text for an error code (never NULL). */
const char *mote_strerror(int err);

#ifdef __cplusplus
}
#endif
#endif
