/* C helpers for the Swift Mote module: a wake-up descriptor so other threads can interrupt
 * the connection thread's wait, and a wait over the socket plus that descriptor. Kept in C
 * because poll(2)/eventfd(2) are awkward from Swift and need no state of their own. */
#ifndef CMOTE_SHIMS_H
#define CMOTE_SHIMS_H

#include <stddef.h>
#include <stdint.h>

#include "mote/error.h"
#include "mote/mqtt.h"
#include "mote/posix.h"
#include "mote/tls.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Create a wake-up descriptor (eventfd, non-blocking). Returns the fd or -1. */
int cmote_waker_open(void);
/* Make the descriptor readable; safe from any thread, any number of times. */
void cmote_waker_signal(int fd);
/* Consume pending wake-ups (the owner calls it after waking). */
void cmote_waker_drain(int fd);
void cmote_waker_close(int fd);

/* Wait until sock_fd (may be -1) is readable (or writable too, when want_write) or wake_fd
 * is signalled, at most timeout_ms. Returns a bit set: 1 socket ready (or error/hang-up,
 * which the next recv or send reports), 2 woken; 0 on timeout. */
int cmote_wait(int sock_fd, int want_write, int wake_fd, uint32_t timeout_ms);

/* Size of the C client context, so tests can check the Swift side allocates enough. */
size_t cmote_sizeof_client(void);

#ifdef __cplusplus
}
#endif
#endif
