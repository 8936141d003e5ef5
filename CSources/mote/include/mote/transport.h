/* The transport interface: how the MQTT client moves bytes, whatever carries them
 * (POSIX TCP, mbedTLS, WebSocket, a UART, a scripted test double). */
#ifndef MOTE_TRANSPORT_H
#define MOTE_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* One piece of a gathered write. */
typedef struct mote_iovec {
    const void *base;
    size_t len;
} mote_iovec_t;

typedef struct mote_transport {
    /* Write from the pieces in order. Returns the number of bytes taken (may be fewer than
     * the total: a partial write, which the client resumes on a later call), 0 when nothing
     * can be written now (would block), or a negative mote_err_t. Must not block for long. */
    int32_t (*send)(void *ctx, const mote_iovec_t *iov, size_t iovcnt);
    /* Read up to len bytes. Returns the count (> 0), 0 when no data is available now (it may
     * wait a short, transport-defined time first), or a negative mote_err_t
     * (MOTE_ERR_CLOSED at end of stream). */
    int32_t (*recv)(void *ctx, uint8_t *buf, size_t len);
    void *ctx;
} mote_transport_t;

/* A millisecond clock: monotonic, may wrap at 2^32 (callers use wrap-safe differences). */
typedef uint32_t (*mote_clock_fn)(void *ctx);

#ifdef __cplusplus
}
#endif
#endif
