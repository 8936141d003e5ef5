/* mote sub -F: mosquitto_sub's output formats, checked once when the options are parsed and
 * printed for each message, whole or in chunks (messages larger than the receive buffer are
 * streamed, so the payload is never held whole).
 *
 *   %t topic   %p payload   %x / %X payload in lower / upper case hex
 *   %l payload length   %q QoS   %r retain flag (0/1)   %m message id (0 for QoS 0)
 *   %I arrival time, ISO 8601 local time   %U arrival time, Unix seconds.nanoseconds
 *   %j the message as one JSON object, the payload as a string (MQTT 5 properties in
 *      "properties")
 *   %J the same with the payload as JSON when it is valid JSON (else as %j)
 *   MQTT 5 properties (empty when absent): %C content type, %D correlation data, %E message
 *   expiry interval, %F payload format indicator, %R response topic, %S subscription
 *   identifier, %A topic alias, %P user properties (NAME:VALUE, space separated)
 *   %% a '%'   @c the arrival time by strftime's %c (@H, @M, @S, @Y, ...)   @@ an '@'
 *   \n \t \r \a \e \v \0 (a NUL byte) \\ escapes
 * %t %l %m take printf's flags '-' and '0' (numbers), a width, and (%t) a precision: %-20t,
 * %05l, %.10t; the other fields take none (mosquitto_sub also pads and cuts some of them:
 * mote refuses those rather than print something else). */
#ifndef MOTE_CLI_FORMAT_H
#define MOTE_CLI_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "mote/mqtt_codec.h"

/* Checks fmt; on a mistake prints "mote: invalid -F format ..." and returns false. */
bool mote_cli_format_check(const char *fmt);

/* One message or one chunk of it. */
typedef struct mote_cli_format_msg {
    const char *topic;
    size_t topic_len;
    const uint8_t *chunk;   /* this chunk of the payload */
    size_t chunk_len;
    uint32_t offset;        /* where the chunk starts in the payload */
    uint32_t total;         /* the whole payload's length */
    bool first, last;       /* a whole message has both */
    uint8_t qos;
    bool retain;
    uint16_t mid;
    mote_mqtt_props_t props;  /* MQTT 5 properties (with the first chunk only) */
} mote_cli_format_msg_t;

/* What a message being printed needs between its chunks. */
typedef struct mote_cli_format_state {
    struct timespec when;   /* the first chunk's arrival (CLOCK_REALTIME) */
    uint8_t utf8[4];        /* %j: the start of a UTF-8 sequence a chunk ended in */
    uint8_t utf8_len;
    bool refused;           /* this message cannot be printed (see below) */
} mote_cli_format_state_t;

/* Prints the part of fmt that belongs to this chunk: a whole message is printed at once;
 * a chunked one streams its one payload item (%p, %x, %X, %j or %J, the last printed as %j)
 * between the text before it (first chunk) and after it (last chunk). A chunked message
 * whose format uses the payload more than once, or a property field after the payload
 * (the properties come with the first chunk only), cannot be streamed: returns false on its
 * first chunk (nothing printed; st->refused is set and its later chunks print nothing). */
bool mote_cli_format_print(FILE *out, const char *fmt, const mote_cli_format_msg_t *m,
                           mote_cli_format_state_t *st);

#endif
