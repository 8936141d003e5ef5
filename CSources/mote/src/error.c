#include "mote/error.h"

const char *mote_strerror(int err)
{
    switch (err) {
    case MOTE_OK: return "success";
    case MOTE_ERR_BAD_ARG: return "invalid argument";
    case MOTE_ERR_BUFFER_TOO_SMALL: return "buffer too small";
    case MOTE_ERR_NEED_MORE: return "incomplete input";
    case MOTE_ERR_STATE: return "operation not valid in this state";
    case MOTE_ERR_NO_SPACE: return "table full";
    case MOTE_ERR_NOT_FOUND: return "not found";
    case MOTE_ERR_TIMEOUT: return "timed out";
    case MOTE_ERR_UNSUPPORTED: return "not supported by this build";
    case MOTE_ERR_MALFORMED: return "malformed packet";
    case MOTE_ERR_BAD_REMAINING_LENGTH: return "malformed packet: invalid remaining length";
    case MOTE_ERR_BAD_PACKET_TYPE: return "malformed packet: invalid packet type";
    case MOTE_ERR_BAD_FLAGS: return "malformed packet: invalid flags";
    case MOTE_ERR_BAD_QOS: return "malformed packet: invalid QoS";
    case MOTE_ERR_BAD_UTF8: return "malformed packet: invalid UTF-8 string";
    case MOTE_ERR_BAD_PROPERTY: return "malformed packet: invalid property";
    case MOTE_ERR_DUP_PROPERTY: return "malformed packet: duplicate property";
    case MOTE_ERR_BAD_TOPIC: return "invalid topic";
    case MOTE_ERR_BAD_PACKET_ID: return "malformed packet: invalid packet identifier";
    case MOTE_ERR_BAD_REASON_CODE: return "malformed packet: invalid reason code";
    case MOTE_ERR_PACKET_TOO_LARGE: return "packet exceeds the maximum packet size";
    case MOTE_ERR_BAD_PROTOCOL: return "unsupported protocol name or version";
    case MOTE_ERR_PROTOCOL: return "protocol error by peer";
    case MOTE_ERR_NOT_CONNECTED: return "not connected";
    case MOTE_ERR_CONNACK_REFUSED: return "connection refused by broker";
    case MOTE_ERR_KEEPALIVE_TIMEOUT: return "keep-alive timeout: no PINGRESP";
    case MOTE_ERR_UNKNOWN_PACKET_ID: return "acknowledgement for an unknown packet identifier";
    case MOTE_ERR_SERVER_DISCONNECT: return "broker sent DISCONNECT";
    case MOTE_ERR_RECEIVE_MAXIMUM: return "broker's receive maximum reached";
    case MOTE_ERR_OVERSIZE_REJECTED: return "incoming packet larger than the receive buffer";
    case MOTE_ERR_TOPIC_ALIAS: return "invalid topic alias";
    case MOTE_ERR_TRANSPORT: return "transport error";
    case MOTE_ERR_CLOSED: return "connection closed by peer";
    case MOTE_ERR_RESOLVE: return "host name lookup failed";
    case MOTE_ERR_CONNECT: return "TCP connect failed";
    case MOTE_ERR_FILE: return "file not found or unreadable";
    case MOTE_ERR_TLS: return "TLS error";
    case MOTE_ERR_TLS_HANDSHAKE: return "TLS handshake failed";
    case MOTE_ERR_TLS_CERT_EXPIRED: return "TLS: certificate expired";
    case MOTE_ERR_TLS_CERT_FUTURE: return "TLS: certificate not yet valid";
    case MOTE_ERR_TLS_UNKNOWN_CA: return "TLS: certificate signed by an unknown CA";
    case MOTE_ERR_TLS_HOSTNAME: return "TLS: certificate does not match the host name";
    case MOTE_ERR_TLS_CLIENT_CERT_REJECTED: return "TLS: server rejected the client certificate";
    case MOTE_ERR_TLS_KEY_MISMATCH: return "TLS: private key does not match the certificate";
    case MOTE_ERR_TLS_KEY_PASSWORD: return "TLS: wrong or missing private key password";
    case MOTE_ERR_TLS_BAD_CERT: return "TLS: certificate or key does not parse";
    case MOTE_ERR_JSON_SYNTAX: return "invalid JSON";
    case MOTE_ERR_JSON_DEPTH: return "JSON nested too deeply";
    case MOTE_ERR_JSON_TYPE: return "JSON value has another type";
    case MOTE_ERR_JSON_RANGE: return "JSON number out of range";
    case MOTE_ERR_JSON_BAD_PATH: return "invalid JSON path";
    case MOTE_ERR_JSON_NESTING: return "JSON writer nesting error";
    default: return "unknown error";
    }
}
