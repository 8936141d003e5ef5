/* The POSIX TCP adapter's connect over several resolved addresses: an address that drops
 * the SYN (here a listener whose accept queue is full) gets only its share of the time, so
 * the next address still connects; an address that refuses moves on at once. Connecting
 * from a chosen local address (bind_host), and to a Unix domain socket. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "tcp_internal.h"

/* A listener on 127.0.0.1 (any port); backlog as given. Returns the fd, its port in *port. */
static int listener(int backlog, uint16_t *port)
{
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(fd, backlog), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    *port = ntohs(a.sin_port);
    return fd;
}

static void set_addr(struct addrinfo *ai, struct sockaddr_in *sa, uint16_t port, struct addrinfo *next)
{
    memset(sa, 0, sizeof *sa);
    sa->sin_family = AF_INET;
    sa->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa->sin_port = htons(port);
    memset(ai, 0, sizeof *ai);
    ai->ai_family = AF_INET;
    ai->ai_socktype = SOCK_STREAM;
    ai->ai_addr = (struct sockaddr *)sa;
    ai->ai_addrlen = sizeof *sa;
    ai->ai_next = next;
}

static void silent_address_leaves_time_for_the_next(void **state)
{
    uint16_t silent_port, good_port, refused_port;
    int silent = listener(0, &silent_port), good = listener(4, &good_port);
    int filler[8], nfill = 0, closed;
    struct addrinfo a_silent, a_refused, a_good;
    struct sockaddr_in s_silent, s_refused, s_good;
    mote_tcp_t t;
    uint32_t start;
    (void)state;
    /* fill the silent listener's accept queue: from then on its SYNs are dropped */
    for (nfill = 0; nfill < 8; nfill++) {
        mote_tcp_t f;
        struct addrinfo ai;
        struct sockaddr_in sa;
        memset(&f, 0, sizeof f);
        set_addr(&ai, &sa, silent_port, NULL);
        if (mote_tcp_connect_list(&f, &ai, mote_posix_clock_ms(NULL) + 300) != MOTE_OK)
            break;
        filler[nfill] = f.fd;
    }
    assert_true(nfill >= 1 && nfill < 8);
    /* a port nobody listens on: refused at once */
    closed = listener(1, &refused_port);
    close(closed);
    set_addr(&a_good, &s_good, good_port, NULL);
    set_addr(&a_refused, &s_refused, refused_port, &a_good);
    set_addr(&a_silent, &s_silent, silent_port, &a_refused);
    memset(&t, 0, sizeof t);
    start = mote_posix_clock_ms(NULL);
    assert_int_equal(mote_tcp_connect_list(&t, &a_silent, start + 3000), MOTE_OK);
    assert_true(t.fd >= 0);
    close(t.fd);
    /* the silent address alone: the whole time, then a timeout */
    memset(&t, 0, sizeof t);
    a_silent.ai_next = NULL;
    assert_int_equal(mote_tcp_connect_list(&t, &a_silent, mote_posix_clock_ms(NULL) + 300),
                     MOTE_ERR_TIMEOUT);
    while (nfill > 0)
        close(filler[--nfill]);
    close(silent);
    close(good);
}

/* bind_host: the peer sees the connection come from that address; an address that is not
 * local, or of no family of the target's, fails as a bind (bind_failed set); a name that
 * does not resolve is MOTE_ERR_RESOLVE. */
static void connects_from_the_local_address_asked_for(void **state)
{
    uint16_t port;
    int l = listener(4, &port), peer;
    struct sockaddr_in from;
    socklen_t len = sizeof from;
    mote_tcp_t t;
    char text[INET_ADDRSTRLEN];
    (void)state;
    memset(&t, 0, sizeof t);
    t.bind_host = "127.0.0.3";
    assert_int_equal(mote_tcp_connect(&t, "127.0.0.1", port, 2000), MOTE_OK);
    assert_int_equal(t.bind_failed, 0);
    peer = accept(l, (struct sockaddr *)&from, &len);
    assert_true(peer >= 0);
    assert_string_equal(inet_ntop(AF_INET, &from.sin_addr, text, sizeof text), "127.0.0.3");
    close(peer);
    mote_tcp_close(&t);

    memset(&t, 0, sizeof t);
    t.bind_host = "192.0.2.1"; /* TEST-NET-1: not an address of this host */
    assert_int_equal(mote_tcp_connect(&t, "127.0.0.1", port, 2000), MOTE_ERR_CONNECT);
    assert_int_equal(t.bind_failed, 1);
    assert_int_equal(t.fd, -1);
    memset(&t, 0, sizeof t);
    t.bind_host = "::1"; /* no IPv4 address to bind for an IPv4 target */
    assert_int_equal(mote_tcp_connect(&t, "127.0.0.1", port, 2000), MOTE_ERR_CONNECT);
    assert_int_equal(t.bind_failed, 1);
    memset(&t, 0, sizeof t);
    t.bind_host = "no-such-host.invalid";
    assert_int_equal(mote_tcp_connect(&t, "127.0.0.1", port, 2000), MOTE_ERR_RESOLVE);
    assert_int_equal(t.bind_failed, 1);
    close(l);
}

static void connects_to_a_unix_socket(void **state)
{
    struct sockaddr_un sun;
    char dir[] = "/tmp/mote-unix-XXXXXX", path[64], too_long[200];
    int l, peer;
    mote_tcp_t t;
    mote_transport_t tr;
    const mote_iovec_t iov = { "ping", 4 };
    char buf[8];
    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/s", dir);
    l = socket(AF_UNIX, SOCK_STREAM, 0);
    assert_true(l >= 0);
    memset(&sun, 0, sizeof sun);
    sun.sun_family = AF_UNIX;
    memcpy(sun.sun_path, path, strlen(path) + 1);
    assert_int_equal(bind(l, (struct sockaddr *)&sun, sizeof sun), 0);
    assert_int_equal(listen(l, 4), 0);
    memset(&t, 0, sizeof t);
    assert_int_equal(mote_unix_connect(&t, path, 2000), MOTE_OK);
    peer = accept(l, NULL, NULL);
    assert_true(peer >= 0);
    mote_tcp_transport(&t, &tr);
    assert_int_equal(tr.send(tr.ctx, &iov, 1), 4);
    assert_int_equal(read(peer, buf, sizeof buf), 4);
    assert_memory_equal(buf, "ping", 4);
    close(peer);
    mote_tcp_close(&t);
    close(l);
    unlink(path);
    /* nobody listening any more; a path too long for a socket address; none */
    memset(&t, 0, sizeof t);
    assert_int_equal(mote_unix_connect(&t, path, 2000), MOTE_ERR_CONNECT);
    assert_int_equal(t.fd, -1);
    memset(too_long, 'x', sizeof too_long - 1);
    too_long[sizeof too_long - 1] = '\0';
    assert_int_equal(mote_unix_connect(&t, too_long, 2000), MOTE_ERR_BAD_ARG);
    assert_int_equal(mote_unix_connect(&t, "", 2000), MOTE_ERR_BAD_ARG);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(silent_address_leaves_time_for_the_next),
        cmocka_unit_test(connects_from_the_local_address_asked_for),
        cmocka_unit_test(connects_to_a_unix_socket),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
