/* How the mote tool opens its connection: plain TCP or mbedTLS, from the
 * mosquitto_pub/sub-style flags. */
#ifndef MOTE_CLI_NET_H
#define MOTE_CLI_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mote/posix.h"
#include "mote/tls.h"
#include "mote/transport.h"

#define MOTE_CLI_URL_MQTT 1u
#define MOTE_CLI_URL_MQTTS 2u

typedef struct mote_cli_net_opts {
    const char *host;        /* -h, default localhost */
    uint16_t port;           /* -p; 0: 8883 with TLS, 1883 without */
    /* TLS flags with mosquitto_pub/sub's meaning. TLS is on when any of cafile, capath,
     * use_os_certs, cert, key or insecure is given, or when the port is 8883 or 443. */
    const char *cafile;      /* --cafile */
    const char *capath;      /* --capath */
    const char *cert;        /* --cert */
    const char *key;         /* --key */
    const char *keypass;     /* --keypass */
    const char *alpn;        /* --tls-alpn (comma-separated); port 443 defaults to x-amzn-mqtt-ca */
    const char *tls_version; /* --tls-version tlsv1.2 | tlsv1.3 */
    const char *ciphers;     /* --ciphers */
    const char *servername;  /* --tls-servername */
    bool use_os_certs;       /* --tls-use-os-certs */
    bool insecure;           /* --insecure */
    bool no_tls;             /* --no-tls: force plain TCP */
    const char *bind_address; /* -A: the local address to connect from (NULL: any) */
    const char *unix_path;   /* --unix: a Unix domain socket instead of host and port
                                (plain MQTT only) */
    uint8_t url_scheme;      /* -L: 0 none, MOTE_CLI_URL_MQTT (plain unless a TLS flag is
                                given, whatever the port) or MOTE_CLI_URL_MQTTS (TLS) */
    uint32_t connect_timeout_ms;
    uint32_t write_timeout_ms; /* TLS: output taking no byte this long fails (0: 30 s) */
} mote_cli_net_opts_t;

typedef struct mote_cli_conn {
    mote_tcp_t tcp;          /* with TLS: fd mirrors the TLS socket (for poll), owned by tls;
                              * recv_wait_ms applies to both (0: recv never waits) */
    mote_tls_t *tls;         /* non-NULL when TLS is in use */
    mote_transport_t transport;
    mote_transport_t tls_transport; /* the TLS object's own transport, wrapped by transport */
} mote_cli_conn_t;

/* Open the connection and fill conn->transport. On failure returns the error and writes a
 * one-line description (host, port, cause) into errbuf. */
int mote_cli_net_open(const mote_cli_net_opts_t *o, mote_cli_conn_t *conn, char *errbuf,
                      size_t errlen);
/* Wait for input (for the process loop); 1 readable, 0 timeout, <0 error. */
int mote_cli_net_wait(mote_cli_conn_t *conn, uint32_t timeout_ms);
void mote_cli_net_close(mote_cli_conn_t *conn);

#endif
