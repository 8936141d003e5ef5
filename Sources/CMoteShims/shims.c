#include "CMoteShims.h"

#include <errno.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

/* Swift allocates mote_mqtt_client_t with MemoryLayout; a layout change in the header that
 * the Swift importer sees differently would corrupt memory, so pin what Swift relies on. */
_Static_assert(sizeof(mote_bytes_t) == 2 * sizeof(void *), "mote_bytes_t is {ptr, len}");
_Static_assert(sizeof(mote_iovec_t) == 2 * sizeof(void *), "mote_iovec_t is {base, len}");

int cmote_waker_open(void)
{
    return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
}

void cmote_waker_signal(int fd)
{
    uint64_t one = 1;
    ssize_t r;
    do {
        r = write(fd, &one, sizeof one);
    } while (r < 0 && errno == EINTR);
}

void cmote_waker_drain(int fd)
{
    uint64_t v;
    ssize_t r;
    do {
        r = read(fd, &v, sizeof v);
    } while (r < 0 && errno == EINTR);
}

void cmote_waker_close(int fd)
{
    if (fd >= 0) {
        close(fd);
    }
}

int cmote_wait(int sock_fd, int want_write, int wake_fd, uint32_t timeout_ms)
{
    struct pollfd p[2];
    nfds_t n = 0;
    int r, out = 0;
    p[n].fd = wake_fd;
    p[n].events = POLLIN;
    p[n].revents = 0;
    n++;
    if (sock_fd >= 0) {
        p[n].fd = sock_fd;
        p[n].events = (short)(want_write ? (POLLIN | POLLOUT) : POLLIN);
        p[n].revents = 0;
        n++;
    }
    do {
        r = poll(p, n, timeout_ms > 0x7fffffffu ? -1 : (int)timeout_ms);
    } while (r < 0 && errno == EINTR);
    if (r <= 0) {
        return 0;
    }
    if (p[0].revents != 0) {
        out |= 2;
    }
    if (n > 1 && p[1].revents != 0) {
        out |= 1;
    }
    return out;
}

size_t cmote_sizeof_client(void)
{
    return sizeof(mote_mqtt_client_t);
}
