/* How the mote tool opens its connection: plain TCP or mbedTLS, chosen from the
 * mosquitto_pub/sub-style flags (same meaning as theirs, plus --keypass and
 * --tls-servername). */
#include "cli_net.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mote/error.h"

#define CLI_NET_DEFAULT_TIMEOUT_MS 10000u
#define CLI_NET_MAX_ALPN 8

/* TLS is on when any trust or identity flag is given, or the port is a TLS port, and
 * --no-tls was not given (mosquitto decides the same way from its flags); a -L URL's
 * scheme decides instead of the port. */
static bool cli_net_wants_tls(const mote_cli_net_opts_t *o)
{
    if (o->no_tls) {
        return false;
    }
    if (o->url_scheme == MOTE_CLI_URL_MQTTS) {
        return true;
    }
    return o->cafile || o->capath || o->use_os_certs || o->cert || o->key || o->insecure ||
           (o->url_scheme != MOTE_CLI_URL_MQTT && (o->port == 8883 || o->port == 443));
}

/* Split a comma-separated ALPN list into buf (modified copy) and a NULL-terminated array. */
static bool cli_net_split_alpn(const char *list, char *buf, size_t buflen, const char **out,
                               size_t outcap)
{
    size_t n = 0;
    size_t len = strlen(list);
    if (len + 1 > buflen) {
        return false;
    }
    memcpy(buf, list, len + 1);
    char *p = buf;
    while (*p) {
        char *comma = strchr(p, ',');
        if (comma) {
            *comma = '\0';
        }
        if (*p) {
            if (n + 1 >= outcap) {
                return false;
            }
            out[n++] = p;
        }
        if (!comma) {
            break;
        }
        p = comma + 1;
    }
    out[n] = NULL;
    return n > 0;
}

static int cli_net_open_tcp(const mote_cli_net_opts_t *o, const char *host, uint16_t port,
                            uint32_t timeout, mote_cli_conn_t *conn, char *errbuf, size_t errlen)
{
    mote_err_t err;
    char where[300];
    conn->tcp.bind_host = o->bind_address;
    if (o->unix_path != NULL) {
        err = mote_unix_connect(&conn->tcp, o->unix_path, timeout);
        snprintf(where, sizeof where, "the socket %s", o->unix_path);
    } else {
        err = mote_tcp_connect(&conn->tcp, host, port, timeout);
        snprintf(where, sizeof where, "%s:%u%s%s", host, (unsigned)port,
                 conn->tcp.bind_failed ? " from local address " : "",
                 conn->tcp.bind_failed ? o->bind_address : "");
    }
    if (err == MOTE_ERR_RESOLVE && conn->tcp.bind_failed) {
        snprintf(errbuf, errlen, "cannot resolve the local address '%s' (-A)", o->bind_address);
        return err;
    }
    if (err != MOTE_OK) {
        if (conn->tcp.last_errno != 0) {
            snprintf(errbuf, errlen, "cannot connect to %s: %s (%s)", where, mote_strerror(err),
                     strerror(conn->tcp.last_errno));
        } else {
            snprintf(errbuf, errlen, "cannot connect to %s: %s", where, mote_strerror(err));
        }
        return err;
    }
    mote_tcp_transport(&conn->tcp, &conn->transport);
    return MOTE_OK;
}

/* TLS transport seen through the connection: conn->tcp.recv_wait_ms governs how long recv
 * waits, for TLS as for TCP (the session loop sets it to 0 once it polls by itself). */
static int32_t cli_net_tls_send(void *ctx, const mote_iovec_t *iov, size_t iovcnt)
{
    mote_cli_conn_t *conn = ctx;
    return conn->tls_transport.send(conn->tls_transport.ctx, iov, iovcnt);
}

static int32_t cli_net_tls_recv(void *ctx, uint8_t *buf, size_t len)
{
    mote_cli_conn_t *conn = ctx;
    mote_tls_set_read_wait(conn->tls, conn->tcp.recv_wait_ms);
    return conn->tls_transport.recv(conn->tls_transport.ctx, buf, len);
}

static int cli_net_open_tls(const mote_cli_net_opts_t *o, const char *host, uint16_t port,
                            uint32_t timeout, mote_cli_conn_t *conn, char *errbuf, size_t errlen)
{
    mote_tls_config_t cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.ca_file = o->cafile;
    cfg.ca_path = o->capath;
    cfg.use_os_certs = o->use_os_certs;
    /* Nothing to trust given: the system bundle (holds Amazon Root CA 1), like a browser. */
    if (!o->cafile && !o->capath && !o->use_os_certs && !o->insecure) {
        cfg.use_os_certs = true;
    }
    cfg.cert_file = o->cert;
    cfg.key.file = o->key;
    cfg.key.password = o->keypass;
    cfg.server_name = o->servername;
    cfg.bind_address = o->bind_address;
    cfg.tls_version = o->tls_version;
    cfg.ciphers = o->ciphers;
    cfg.insecure = o->insecure;
    cfg.handshake_timeout_ms = timeout;
    cfg.write_timeout_ms = o->write_timeout_ms;
    cfg.session_resumption = true;

    char alpn_buf[256];
    const char *alpn[CLI_NET_MAX_ALPN + 1];
    if (o->alpn && *o->alpn) {
        if (!cli_net_split_alpn(o->alpn, alpn_buf, sizeof alpn_buf, alpn, CLI_NET_MAX_ALPN + 1)) {
            snprintf(errbuf, errlen, "invalid --tls-alpn list '%s'", o->alpn);
            return MOTE_ERR_BAD_ARG;
        }
        cfg.alpn = alpn;
    } else if (port == 443) {
        /* AWS IoT Core selects MQTT on 443 by this ALPN name. */
        alpn[0] = "x-amzn-mqtt-ca";
        alpn[1] = NULL;
        cfg.alpn = alpn;
    }
    if (o->insecure) {
        fprintf(stderr, "mote: WARNING: --insecure: the server certificate is NOT verified; "
                        "anyone can impersonate %s. Use for tests only.\n", host);
    }

    mote_err_t err = MOTE_OK;
    conn->tls = mote_tls_new(&cfg, &err);
    if (!conn->tls) {
        snprintf(errbuf, errlen, "TLS setup failed: %s", mote_strerror(err));
        return err != MOTE_OK ? err : MOTE_ERR_TLS;
    }
    if (err != MOTE_OK) {
        snprintf(errbuf, errlen, "TLS setup failed: %s", mote_tls_last_error(conn->tls));
        mote_tls_free(conn->tls);
        conn->tls = NULL;
        return err;
    }
    err = mote_tls_connect(conn->tls, host, port, timeout);
    if (err != MOTE_OK) {
        snprintf(errbuf, errlen, "cannot connect to %s:%u over TLS: %s", host, (unsigned)port,
                 mote_tls_last_error(conn->tls));
        mote_tls_free(conn->tls);
        conn->tls = NULL;
        return err;
    }
    mote_tls_transport(conn->tls, &conn->tls_transport);
    conn->transport.send = cli_net_tls_send;
    conn->transport.recv = cli_net_tls_recv;
    conn->transport.ctx = conn;
    /* tcp mirrors the TLS socket so poll loops on conn->tcp.fd work for both; the TLS object
     * owns and closes it. */
    conn->tcp.fd = mote_tls_fd(conn->tls);
    conn->tcp.recv_wait_ms = 50;
    return MOTE_OK;
}

int mote_cli_net_open(const mote_cli_net_opts_t *o, mote_cli_conn_t *conn, char *errbuf,
                      size_t errlen)
{
    if (!o || !conn || !errbuf || errlen == 0) {
        return MOTE_ERR_BAD_ARG;
    }
    errbuf[0] = '\0';
    memset(conn, 0, sizeof *conn);
    conn->tcp.fd = -1;
    const char *host = (o->host && *o->host) ? o->host : "localhost";
    bool tls = cli_net_wants_tls(o);
    uint16_t port = o->port ? o->port : (tls ? 8883 : 1883);
    uint32_t timeout = o->connect_timeout_ms ? o->connect_timeout_ms : CLI_NET_DEFAULT_TIMEOUT_MS;
    if (tls) {
        return cli_net_open_tls(o, host, port, timeout, conn, errbuf, errlen);
    }
    return cli_net_open_tcp(o, host, port, timeout, conn, errbuf, errlen);
}

int mote_cli_net_wait(mote_cli_conn_t *conn, uint32_t timeout_ms)
{
    if (conn->tls) {
        return mote_tls_wait_readable(conn->tls, timeout_ms);
    }
    return mote_tcp_wait_readable(&conn->tcp, timeout_ms);
}

void mote_cli_net_close(mote_cli_conn_t *conn)
{
    if (!conn) {
        return;
    }
    if (conn->tls) {
        mote_tls_close(conn->tls);
        mote_tls_free(conn->tls);
        conn->tls = NULL;
    } else if (conn->tcp.fd >= 0) {
        mote_tcp_close(&conn->tcp);
    }
    conn->tcp.fd = -1;
}
