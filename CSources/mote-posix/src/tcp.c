/* POSIX TCP transport and monotonic clock.
 *
 * The socket is non-blocking after connect: send takes what the kernel accepts now (the
 * client resumes partial writes), recv waits at most recv_wait_ms for data so a process
 * loop does not spin. TCP_NODELAY is set because the client writes whole packets (often
 * several at once) and Nagle's algorithm plus delayed ACKs would stall small QoS 1 streams. */
#include "mote/posix.h"
#include "tcp_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define MOTE_TCP_MAX_IOV 16

uint32_t mote_posix_clock_ms(void *ctx)
{
    struct timespec ts;
    (void)ctx;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint32_t)((uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u);
}

static int set_nonblocking(int fd)
{
    int fl = fcntl(fd, F_GETFL, 0);
    if (fl < 0) {
        return -1;
    }
    return fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* Milliseconds left before deadline (wrap-safe), 0 when passed. */
static uint32_t ms_left(uint32_t deadline)
{
    int32_t d = (int32_t)(deadline - mote_posix_clock_ms(NULL));
    return d > 0 ? (uint32_t)d : 0u;
}

/* One non-blocking connect attempt to one resolved address (from a local address of the
 * same family in `local`, when not NULL). */
static mote_err_t try_connect(mote_tcp_t *t, const struct addrinfo *ai,
                              const struct addrinfo *local, uint32_t deadline)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
        t->last_errno = errno;
        return MOTE_ERR_CONNECT;
    }
    if (set_nonblocking(fd) != 0) {
        t->last_errno = errno;
        close(fd);
        return MOTE_ERR_CONNECT;
    }
    if (local != NULL) {
        for (; local != NULL; local = local->ai_next) {
            if (local->ai_family == ai->ai_family) {
                break;
            }
        }
        if (local == NULL || bind(fd, local->ai_addr, local->ai_addrlen) != 0) {
            /* (no local address of this family: as the kernel says for a wrong family) */
            t->last_errno = local == NULL ? EAFNOSUPPORT : errno;
            t->bind_failed = 1;
            close(fd);
            return MOTE_ERR_CONNECT;
        }
    }
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
        if (errno != EINPROGRESS) {
            t->last_errno = errno;
            close(fd);
            return MOTE_ERR_CONNECT;
        }
        for (;;) {
            struct pollfd p = { fd, POLLOUT, 0 };
            uint32_t left = ms_left(deadline);
            int r;
            if (left == 0) {
                t->last_errno = ETIMEDOUT;
                close(fd);
                return MOTE_ERR_TIMEOUT;
            }
            r = poll(&p, 1, (int)left);
            if (r < 0 && errno == EINTR) {
                continue;
            }
            if (r < 0) {
                t->last_errno = errno;
                close(fd);
                return MOTE_ERR_CONNECT;
            }
            if (r == 0) {
                t->last_errno = ETIMEDOUT;
                close(fd);
                return MOTE_ERR_TIMEOUT;
            }
            break;
        }
        {
            int soerr = 0;
            socklen_t sl = sizeof soerr;
            if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0 || soerr != 0) {
                t->last_errno = soerr ? soerr : errno;
                close(fd);
                return MOTE_ERR_CONNECT;
            }
        }
    }
    {
        int one = 1;
        (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
#ifdef SO_NOSIGPIPE
        (void)setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof one);
#endif
    }
    t->fd = fd;
    return MOTE_OK;
}

mote_err_t mote_tcp_connect_list(mote_tcp_t *t, const struct addrinfo *list, uint32_t deadline)
{
    const struct addrinfo *ai;
    struct addrinfo *local = NULL;
    mote_err_t err = MOTE_ERR_CONNECT;
    unsigned n = 0;
    t->bind_failed = 0;
    if (t->bind_host != NULL) {
        struct addrinfo hints;
        memset(&hints, 0, sizeof hints);
        hints.ai_family = AF_UNSPEC;
        hints.ai_socktype = SOCK_STREAM;
        hints.ai_flags = AI_PASSIVE;
        if (getaddrinfo(t->bind_host, NULL, &hints, &local) != 0) {
            t->last_errno = 0;
            t->bind_failed = 1;
            return MOTE_ERR_RESOLVE;
        }
    }
    for (ai = list; ai != NULL; ai = ai->ai_next)
        n++;
    /* Each address gets an equal share of the time left, the last one all of it: an
     * address that drops the SYN (a host that is down behind a name with several
     * addresses) does not use up the time of the ones after it. */
    for (ai = list; ai != NULL; ai = ai->ai_next, n--) {
        uint32_t left = ms_left(deadline);
        if (left == 0) {
            t->last_errno = ETIMEDOUT;
            return MOTE_ERR_TIMEOUT;
        }
        err = try_connect(t, ai, local, mote_posix_clock_ms(NULL) + left / n);
        if (err == MOTE_OK) {
            t->bind_failed = 0;
            break;
        }
    }
    if (local != NULL) {
        freeaddrinfo(local);
    }
    return err;
}

mote_err_t mote_unix_connect(mote_tcp_t *t, const char *path, uint32_t timeout_ms)
{
    struct sockaddr_un sun;
    struct addrinfo ai;
    if (t == NULL || path == NULL || path[0] == '\0') {
        return MOTE_ERR_BAD_ARG;
    }
    if (strlen(path) >= sizeof sun.sun_path) {
        t->last_errno = ENAMETOOLONG;
        return MOTE_ERR_BAD_ARG;
    }
    t->fd = -1;
    t->last_errno = 0;
    t->bind_failed = 0;
    if (t->recv_wait_ms == 0) {
        t->recv_wait_ms = 50;
    }
    memset(&sun, 0, sizeof sun);
    sun.sun_family = AF_UNIX;
    memcpy(sun.sun_path, path, strlen(path) + 1);
    memset(&ai, 0, sizeof ai);
    ai.ai_family = AF_UNIX;
    ai.ai_socktype = SOCK_STREAM;
    ai.ai_addr = (struct sockaddr *)&sun;
    ai.ai_addrlen = (socklen_t)sizeof sun;
    return try_connect(t, &ai, NULL,
                       mote_posix_clock_ms(NULL) + (timeout_ms ? timeout_ms : 10000u));
}

mote_err_t mote_tcp_connect(mote_tcp_t *t, const char *host, uint16_t port, uint32_t timeout_ms)
{
    struct addrinfo hints, *res = NULL;
    char portstr[8];
    uint32_t deadline;
    mote_err_t err;
    int rc;

    if (t == NULL || host == NULL || port == 0) {
        return MOTE_ERR_BAD_ARG;
    }
    t->fd = -1;
    t->last_errno = 0;
    if (t->recv_wait_ms == 0) {
        t->recv_wait_ms = 50;
    }
    if (timeout_ms == 0) {
        timeout_ms = 10000;
    }
    deadline = mote_posix_clock_ms(NULL) + timeout_ms;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_ADDRCONFIG;
    snprintf(portstr, sizeof portstr, "%u", (unsigned)port);
    rc = getaddrinfo(host, portstr, &hints, &res);
    if (rc == EAI_NONAME || rc == EAI_FAMILY) {
        /* AI_ADDRCONFIG hides loopback-only families on hosts without other addresses. */
        hints.ai_flags = 0;
        rc = getaddrinfo(host, portstr, &hints, &res);
    }
    if (rc != 0) {
        t->last_errno = (rc == EAI_SYSTEM) ? errno : 0;
        return MOTE_ERR_RESOLVE;
    }
    err = mote_tcp_connect_list(t, res, deadline);
    freeaddrinfo(res);
    return err;
}

static int32_t tcp_send(void *ctx, const mote_iovec_t *iov, size_t iovcnt)
{
    mote_tcp_t *t = ctx;
    struct iovec v[MOTE_TCP_MAX_IOV];
    struct msghdr mh;
    size_t n = iovcnt < MOTE_TCP_MAX_IOV ? iovcnt : MOTE_TCP_MAX_IOV;
    size_t i, total = 0;
    ssize_t r;

    for (i = 0; i < n; i++) {
        v[i].iov_base = (void *)(uintptr_t)iov[i].base;
        v[i].iov_len = iov[i].len;
        /* Keep the result representable as int32_t. */
        if (iov[i].len > (size_t)INT32_MAX - total) {
            v[i].iov_len = (size_t)INT32_MAX - total;
            n = i + 1;
            break;
        }
        total += iov[i].len;
    }
    memset(&mh, 0, sizeof mh);
    mh.msg_iov = v;
    mh.msg_iovlen = n;
    for (;;) {
        /* sendmsg with MSG_NOSIGNAL: a writev that cannot raise SIGPIPE on a closed peer. */
#ifdef MSG_NOSIGNAL
        r = sendmsg(t->fd, &mh, MSG_NOSIGNAL);
#else
        r = sendmsg(t->fd, &mh, 0);
#endif
        if (r >= 0) {
            return (int32_t)r;
        }
        if (errno == EINTR) {
            continue;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            return 0;
        }
        t->last_errno = errno;
        return (errno == EPIPE || errno == ECONNRESET) ? MOTE_ERR_CLOSED : MOTE_ERR_TRANSPORT;
    }
}

int mote_tcp_wait_readable(mote_tcp_t *t, uint32_t timeout_ms)
{
    uint32_t deadline = mote_posix_clock_ms(NULL) + timeout_ms;
    for (;;) {
        struct pollfd p = { t->fd, POLLIN, 0 };
        int r = poll(&p, 1, (int)ms_left(deadline));
        if (r > 0) {
            return 1;
        }
        if (r == 0) {
            return 0;
        }
        if (errno != EINTR) {
            t->last_errno = errno;
            return MOTE_ERR_TRANSPORT;
        }
    }
}

static int32_t tcp_recv(void *ctx, uint8_t *buf, size_t len)
{
    mote_tcp_t *t = ctx;
    int waited = 0;
    if (len > (size_t)INT32_MAX) {
        len = (size_t)INT32_MAX;
    }
    for (;;) {
        ssize_t r = recv(t->fd, buf, len, 0);
        if (r > 0) {
            return (int32_t)r;
        }
        if (r == 0) {
            return MOTE_ERR_CLOSED;
        }
        if (errno == EINTR) {
            continue;
        }
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
            t->last_errno = errno;
            return errno == ECONNRESET ? MOTE_ERR_CLOSED : MOTE_ERR_TRANSPORT;
        }
        if (waited || t->recv_wait_ms == 0) {
            return 0;
        }
        waited = 1;
        {
            int w = mote_tcp_wait_readable(t, t->recv_wait_ms);
            if (w < 0) {
                return (int32_t)w;
            }
            if (w == 0) {
                return 0;
            }
        }
    }
}

void mote_tcp_transport(mote_tcp_t *t, mote_transport_t *out)
{
    out->send = tcp_send;
    out->recv = tcp_recv;
    out->ctx = t;
}

void mote_tcp_close(mote_tcp_t *t)
{
    if (t != NULL && t->fd >= 0) {
        close(t->fd);
        t->fd = -1;
    }
}
