/* Turning mbedTLS results into errors that name the cause: certificate expired, unknown CA,
 * host name mismatch, the alert a server sent, a client certificate the server refused. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "mbedtls/error.h"
#include "mbedtls/net_sockets.h"

#include "tls_internal.h"

mote_err_t mote_tls_fail(mote_tls_t *t, mote_err_t code, const char *fmt, ...)
{
    int n = snprintf(t->err, sizeof t->err, "%s", mote_strerror(code));
    if (fmt && n > 0 && (size_t)n + 3 < sizeof t->err) {
        va_list ap;
        t->err[n++] = ':';
        t->err[n++] = ' ';
        va_start(ap, fmt);
        vsnprintf(t->err + n, sizeof t->err - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return code;
}

void mote_tls_describe_mbed(int ret, char *buf, size_t len)
{
    int n = snprintf(buf, len, "mbedTLS -0x%04x", (unsigned)-ret);
#if defined(MBEDTLS_ERROR_C)
    if (n > 0 && (size_t)n + 3 < len) {
        buf[n++] = ' ';
        buf[n++] = '(';
        mbedtls_strerror(ret, buf + n, len - (size_t)n - 1);
        size_t m = strlen(buf);
        if (m + 1 < len) {
            buf[m] = ')';
            buf[m + 1] = '\0';
        }
    }
#else
    (void)n;
#endif
}

/* RFC 8446 section 6 / RFC 5246 section 7.2 alert names. */
static const char *alert_name(int a)
{
    switch (a) {
    case 0: return "close_notify";
    case 10: return "unexpected_message";
    case 20: return "bad_record_mac";
    case 22: return "record_overflow";
    case 40: return "handshake_failure";
    case 42: return "bad_certificate";
    case 43: return "unsupported_certificate";
    case 44: return "certificate_revoked";
    case 45: return "certificate_expired";
    case 46: return "certificate_unknown";
    case 47: return "illegal_parameter";
    case 48: return "unknown_ca";
    case 49: return "access_denied";
    case 50: return "decode_error";
    case 51: return "decrypt_error";
    case 70: return "protocol_version";
    case 71: return "insufficient_security";
    case 80: return "internal_error";
    case 86: return "inappropriate_fallback";
    case 90: return "user_canceled";
    case 109: return "missing_extension";
    case 110: return "unsupported_extension";
    case 112: return "unrecognized_name";
    case 116: return "certificate_required";
    case 120: return "no_application_protocol";
    default: return "unknown alert";
    }
}

/* Alerts a server sends when it does not accept the client's certificate (or its absence). */
static bool alert_is_client_cert(int a)
{
    switch (a) {
    case 40: case 42: case 43: case 44: case 45: case 46: case 48: case 49: case 116:
        return true;
    default:
        return false;
    }
}

static int received_alert(const mote_tls_t *t)
{
    const unsigned char *msg = t->ssl.MOTE_TLS_FIELD(in_msg);
    return msg ? msg[1] : -1;
}

/* When the server hangs up on us mid-handshake, our next write fails first and its alert
 * stays unread on the socket. Before the server's Finished, TLS 1.2 alerts are plaintext
 * records: type 21, version, length 2, level, description. */
static int unread_plain_alert(const mote_tls_t *t)
{
    unsigned char b[7];
    if (t->tcp.fd < 0) {
        return -1;
    }
    ssize_t n = recv(t->tcp.fd, b, sizeof b, MSG_DONTWAIT | MSG_PEEK);
    if (n == (ssize_t)sizeof b && b[0] == 21 && b[3] == 0 && b[4] == 2) {
        return b[6];
    }
    return -1;
}

/* Had our client certificate (or the empty one that says we have none) gone out in this
 * handshake state, so that an alert or a hang-up is most likely the server's verdict on it?
 * TLS 1.2 sends it before the server's Finished; TLS 1.3 after it, in states of its own
 * (numbered above TLS 1.2's, so the 1.2 comparison would misread them). */
static bool after_client_cert(const mote_tls_t *t, int state, bool hangup)
{
#if defined(MBEDTLS_SSL_PROTO_TLS1_3) && MBEDTLS_VERSION_NUMBER >= 0x03020000
    if (mbedtls_ssl_get_version_number(&t->ssl) == MBEDTLS_SSL_VERSION_TLS1_3) {
        return state == MBEDTLS_SSL_CLIENT_CERTIFICATE_VERIFY ||
               state == MBEDTLS_SSL_CLIENT_FINISHED || state == MBEDTLS_SSL_FLUSH_BUFFERS ||
               state == MBEDTLS_SSL_HANDSHAKE_WRAPUP;
    }
#endif
    (void)t;
    if (hangup) {
        return state > MBEDTLS_SSL_CLIENT_CERTIFICATE && state <= MBEDTLS_SSL_SERVER_FINISHED;
    }
    return state > MBEDTLS_SSL_CLIENT_CERTIFICATE;
}

/* The server's verdict on our client certificate, or on its absence: act is what it did
 * ("sent alert 42 (bad_certificate)"), when what follows (a time, the mbedTLS detail). */
static mote_err_t cert_rejected(mote_tls_t *t, const char *act, const char *when)
{
    if (!t->have_cert) {
        return mote_tls_fail(t, MOTE_ERR_TLS_CLIENT_CERT_REJECTED,
                             "the server requires a client certificate (--cert, --key); it %s%s",
                             act, when);
    }
    return mote_tls_fail(t, MOTE_ERR_TLS_CLIENT_CERT_REJECTED,
                         "server %s in reply to our client certificate%s", act, when);
}

/* "sent alert N (name)" for cert_rejected. */
static const char *sent_alert(char *buf, size_t cap, int alert)
{
    snprintf(buf, cap, "sent alert %d (%s)", alert, alert_name(alert));
    return buf;
}

/* The specific verify failure, most fundamental first: a chain that does not reach a trusted
 * CA makes every other statement about the certificate moot. */
static mote_err_t map_verify(mote_tls_t *t, uint32_t flags)
{
    char info[256];
    info[0] = '\0';
    mbedtls_x509_crt_verify_info(info, sizeof info, "", flags);
    /* verify_info ends each reason with a newline; keep one line. */
    for (char *p = info; *p; p++) {
        if (*p == '\n') {
            *p = p[1] ? ';' : '\0';
        }
    }
    t->last_flags = flags;
    const char *peer = t->peer_desc[0] ? t->peer_desc : "server certificate";
    if (flags & (MBEDTLS_X509_BADCERT_NOT_TRUSTED | MBEDTLS_X509_BADCERT_MISSING)) {
        return mote_tls_fail(t, MOTE_ERR_TLS_UNKNOWN_CA, "%s (%s)", peer, info);
    }
    /* Dates may be wrong on a CA rather than the server's own certificate: name that one. */
    const char *dated = t->dates_desc[0] ? t->dates_desc : peer;
    if (flags & MBEDTLS_X509_BADCERT_EXPIRED) {
        return mote_tls_fail(t, MOTE_ERR_TLS_CERT_EXPIRED, "%s (%s)", dated, info);
    }
    if (flags & MBEDTLS_X509_BADCERT_FUTURE) {
        return mote_tls_fail(t, MOTE_ERR_TLS_CERT_FUTURE, "%s (%s)", dated, info);
    }
    if (flags & MBEDTLS_X509_BADCERT_CN_MISMATCH) {
        return mote_tls_fail(t, MOTE_ERR_TLS_HOSTNAME, "'%s' is not a name of %s", t->verify_name,
                             peer);
    }
    return mote_tls_fail(t, MOTE_ERR_TLS_HANDSHAKE, "server certificate rejected (%s)", info);
}

mote_err_t mote_tls_map_handshake(mote_tls_t *t, int ret)
{
    char why[160];
    t->last_mbed = ret;
    mote_tls_describe_mbed(ret, why, sizeof why);
    if (ret == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED) {
        uint32_t flags = mbedtls_ssl_get_verify_result(&t->ssl);
        if (flags != 0 && flags != (uint32_t)-1) {
            return map_verify(t, flags);
        }
    }
    int state = t->ssl.MOTE_TLS_FIELD(state);
    int alert = -1;
    if (ret == MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE) {
        alert = received_alert(t);
    } else if (ret == MBEDTLS_ERR_SSL_CONN_EOF || ret == MBEDTLS_ERR_NET_CONN_RESET ||
               ret == MBEDTLS_ERR_NET_RECV_FAILED || ret == MBEDTLS_ERR_NET_SEND_FAILED) {
        alert = unread_plain_alert(t);
    }
    if (alert >= 0) {
        t->last_alert = alert;
        /* An alert after our Certificate message went out is the server's verdict on it. */
        if (after_client_cert(t, state, false) && alert_is_client_cert(alert)) {
            return cert_rejected(t, sent_alert(why, sizeof why, alert), "");
        }
        return mote_tls_fail(t, MOTE_ERR_TLS_HANDSHAKE, "server sent alert %d (%s)", alert,
                             alert_name(alert));
    }
    if (ret == MBEDTLS_ERR_SSL_CONN_EOF || ret == MBEDTLS_ERR_NET_CONN_RESET ||
        ret == MBEDTLS_ERR_NET_RECV_FAILED || ret == MBEDTLS_ERR_NET_SEND_FAILED) {
        if (after_client_cert(t, state, true)) {
            /* Hung up without a readable alert right after our certificate went out. */
            char detail[sizeof why + 3];
            snprintf(detail, sizeof detail, " (%s)", why);
            return cert_rejected(t, "closed the connection", detail);
        }
        return mote_tls_fail(t, MOTE_ERR_TLS_HANDSHAKE,
                             "server closed the connection during the handshake (%s)", why);
    }
#if defined(MBEDTLS_ERR_SSL_NO_USABLE_CIPHERSUITE)
    if (ret == MBEDTLS_ERR_SSL_NO_USABLE_CIPHERSUITE) {
        return mote_tls_fail(t, MOTE_ERR_TLS_HANDSHAKE, "no cipher suite in common (%s)", why);
    }
#endif
    return mote_tls_fail(t, MOTE_ERR_TLS_HANDSHAKE, "%s", why);
}

mote_err_t mote_tls_map_io(mote_tls_t *t, int ret)
{
    char why[160];
    t->last_mbed = ret;
    if (ret == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY) {
        /* A clean close: the server ended a connection it had accepted. A server that
         * refuses a client certificate sends an alert (or resets), not close_notify; a
         * broker that refuses the CONNECT may just hang up like this (AWS IoT does when the
         * policy denies iot:Connect). */
        if (t->verdict_pending) {
            return mote_tls_fail(t, MOTE_ERR_CLOSED,
                                 "the server closed the connection cleanly (close_notify) "
                                 "right after accepting the TLS 1.3 handshake; a broker does "
                                 "this when it refuses the client (AWS IoT: a policy that "
                                 "denies iot:Connect)");
        }
        return mote_tls_fail(t, MOTE_ERR_CLOSED, "the server closed the connection (close_notify)");
    }
    if (ret == MBEDTLS_ERR_SSL_CONN_EOF || ret == MBEDTLS_ERR_NET_CONN_RESET) {
        if (t->verdict_pending) {
            /* TLS 1.3, nothing received since the handshake: the server hung up on our
             * certificate (its alert lost to the reset our next write caused). */
            mote_tls_describe_mbed(ret, why, sizeof why);
            if (!t->have_cert) {
                return mote_tls_fail(t, MOTE_ERR_TLS_CLIENT_CERT_REJECTED,
                                     "the server most likely requires a client certificate "
                                     "(--cert, --key): it closed the connection right after "
                                     "the TLS 1.3 handshake (%s)", why);
            }
            return mote_tls_fail(t, MOTE_ERR_TLS_CLIENT_CERT_REJECTED,
                                 "server closed the connection right after the TLS 1.3 "
                                 "handshake, most likely in reply to our client certificate (%s)",
                                 why);
        }
        return mote_tls_fail(t, MOTE_ERR_CLOSED, NULL);
    }
    if (ret == MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE) {
        int alert = received_alert(t);
        t->last_alert = alert;
        if (t->verdict_pending && alert_is_client_cert(alert)) {
            /* TLS 1.3: the first thing after the handshake is the server's verdict on the
             * client certificate; word it as a failed handshake would be. */
            return cert_rejected(t, sent_alert(why, sizeof why, alert),
                                 " after the TLS 1.3 handshake");
        }
        /* TLS 1.3 servers judge the client certificate after the client's Finished. */
        if (alert == 116 || alert == 42 || alert == 48) {
            return mote_tls_fail(t, MOTE_ERR_TLS_CLIENT_CERT_REJECTED, "server sent alert %d (%s)",
                                 alert, alert_name(alert));
        }
        return mote_tls_fail(t, MOTE_ERR_TLS, "server sent alert %d (%s)", alert, alert_name(alert));
    }
    mote_tls_describe_mbed(ret, why, sizeof why);
    if (ret == MBEDTLS_ERR_NET_SEND_FAILED || ret == MBEDTLS_ERR_NET_RECV_FAILED) {
        return mote_tls_fail(t, MOTE_ERR_TRANSPORT, "%s", why);
    }
    return mote_tls_fail(t, MOTE_ERR_TLS, "%s", why);
}
