/* Hosted adapters for POSIX systems: TCP transport and clock. Not part of the
 * freestanding core (these use libc and the socket API). */
#ifndef MOTE_POSIX_H
#define MOTE_POSIX_H

#include <stdint.h>

#include "mote/error.h"
#include "mote/transport.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mote_tcp {
    int fd;
    int last_errno;        /* errno of the last failure, for messages */
    uint32_t recv_wait_ms; /* how long recv waits for data before returning 0 (default 50) */
    const char *bind_host; /* the local address (or a name of one) to connect from, to pick
                              an interface on a host with several; NULL: the system's choice.
                              Set before mote_tcp_connect, read only there. */
    int bind_failed;       /* set by mote_tcp_connect when binding to bind_host failed */
} mote_tcp_t;

/* Resolve host (name or address, IPv4/IPv6), connect within timeout_ms, set TCP_NODELAY
 * and non-blocking mode. MOTE_ERR_RESOLVE (host or bind_host), MOTE_ERR_CONNECT (also when
 * no address of bind_host can be bound: bind_failed is then set) or MOTE_ERR_TIMEOUT. */
mote_err_t mote_tcp_connect(mote_tcp_t *t, const char *host, uint16_t port, uint32_t timeout_ms);
/* Connect to a Unix domain socket (a broker on the same host) within timeout_ms; the same
 * transport, wait and close calls apply. MOTE_ERR_BAD_ARG for a path too long for a socket
 * address, MOTE_ERR_CONNECT or MOTE_ERR_TIMEOUT. */
mote_err_t mote_unix_connect(mote_tcp_t *t, const char *path, uint32_t timeout_ms);
/* Fill a transport that sends and receives on this socket (send uses writev). */
void mote_tcp_transport(mote_tcp_t *t, mote_transport_t *out);
/* Wait until the socket is readable or timeout_ms passes; 1 readable, 0 timeout, <0 error. */
int mote_tcp_wait_readable(mote_tcp_t *t, uint32_t timeout_ms);
void mote_tcp_close(mote_tcp_t *t);

/* CLOCK_MONOTONIC in milliseconds (wrapping), usable as a mote_clock_fn. */
uint32_t mote_posix_clock_ms(void *ctx);

#ifdef __cplusplus
}
#endif
#endif
