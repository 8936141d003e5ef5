/* Private to the POSIX TCP adapter (and its tests): connecting to an already resolved list
 * of addresses. */
#ifndef MOTE_TCP_INTERNAL_H
#define MOTE_TCP_INTERNAL_H

#include <netdb.h>
#include <stdint.h>

#include "mote/posix.h"

/* Tries the addresses in order until one connects, before deadline (mote_posix_clock_ms
 * time); each gets an equal share of the time left. Returns MOTE_OK (t->fd set),
 * MOTE_ERR_TIMEOUT or MOTE_ERR_CONNECT (t->last_errno set). */
mote_err_t mote_tcp_connect_list(mote_tcp_t *t, const struct addrinfo *list, uint32_t deadline);

#endif
