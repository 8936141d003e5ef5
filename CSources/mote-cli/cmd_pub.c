/* mote pub: publish one message (-m, -f, -s, -n, --repeat N) or one message per stdin line
 * (-l), like mosquitto_pub. With QoS 1/2 it waits until every message is acknowledged. */
#include "cmd_pub.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli_common.h"
#include "mote/posix.h"

/* publish_one and publish_line: SIGINT/SIGTERM came while they waited (not a failure: the
 * caller reports the interruption). Outside mote_err_t's values. */
#define PUB_INTERRUPTED ((mote_err_t)-1000)

/* A QoS 1/2 message from stdin lines must stay in memory until its ack: one buffer per
 * in-flight record, reused after the PUBLISH_DONE event. */
typedef struct pub_slot {
    uint16_t packet_id;
    bool busy;
    uint8_t *buf;
    size_t cap;
} pub_slot_t;

typedef struct pub_state {
    mote_cli_session_t s;
    const mote_cli_opts_t *o;
    pub_slot_t *slots;
    uint16_t nslots;
    uint32_t failed;              /* v5 acks with an error reason */
    uint16_t ack_inflight;        /* in flight at the last ack check */
    uint32_t ack_since_ms;        /* when an ack last completed (or waiting began) */
    size_t tx_left;               /* bytes queued for writing at the last progress check */
    uint64_t tx_taken;            /* mote_cli_tx_taken then */
    size_t tx_unsent;             /* mote_cli_tx_unsent then */
    bool tx_draining;             /* the socket holds message data: tx_unsent falling is
                                   * progress (a PINGREQ sent alone is not) */
    uint32_t tx_since_ms;         /* when output last progressed */
    bool request_failed;          /* the error came from mote_mqtt_publish itself */
    uint8_t props_buf[MOTE_CLI_PROPS_CAP];
    mote_mqtt_props_t props;
} pub_state_t;

static void pub_event(void *user, const mote_mqtt_event_t *evt)
{
    pub_state_t *p = user;
    uint16_t i;
    if (evt->type != MOTE_MQTT_EVT_PUBLISH_DONE) {
        return;
    }
    if (evt->u.ack.reason_code >= 0x80) {
        p->failed++;
        if (!p->o->quiet) {
            fprintf(stderr, "mote: publish %u not accepted by broker: %s (reason code 0x%02x)\n",
                    (unsigned)evt->u.ack.packet_id, mote_mqtt_reason_string(evt->u.ack.reason_code),
                    (unsigned)evt->u.ack.reason_code);
        }
    }
    for (i = 0; i < p->nslots; i++) {
        if (p->slots[i].busy && p->slots[i].packet_id == evt->u.ack.packet_id) {
            p->slots[i].busy = false;
            p->slots[i].packet_id = 0;
            break;
        }
    }
}

/* While waiting for acks: MOTE_ERR_TIMEOUT when messages are in flight and none has
 * completed for --ack-timeout (a broker that answers PINGREQ but never acks must not keep
 * the tool waiting forever). */
static mote_err_t ack_progress(pub_state_t *p)
{
    uint16_t inflight = mote_mqtt_inflight_count(&p->s.client);
    uint32_t now = mote_posix_clock_ms(NULL);
    if (inflight == 0 || inflight < p->ack_inflight) {
        p->ack_inflight = inflight;
        p->ack_since_ms = now;
        return MOTE_OK;
    }
    if (inflight > p->ack_inflight) { /* more sent: the clock runs from the first wait */
        if (p->ack_inflight == 0) {
            p->ack_since_ms = now;
        }
        p->ack_inflight = inflight;
    }
    if ((uint32_t)(now - p->ack_since_ms) >= p->o->ack_timeout_ms) {
        fprintf(stderr, "mote: no acknowledgement from the broker for %u s (%u message%s in flight)\n",
                (unsigned)(p->o->ack_timeout_ms / 1000u), (unsigned)inflight,
                inflight == 1 ? "" : "s");
        return MOTE_ERR_TIMEOUT;
    }
    return MOTE_OK;
}

/* Whether output progressed since the last check: the queue changed, the socket took bytes
 * while output was queued (a PINGREQ written with nothing else left is no progress towards
 * an ack), or the socket's send queue fell while it held message data (a large message
 * can sit there long after the socket took its last byte, until a slow link has passed it
 * on). Records the new levels. */
static bool output_moved(pub_state_t *p)
{
    size_t left = mote_cli_tx_left(&p->s);
    uint64_t taken = mote_cli_tx_taken(&p->s);
    size_t unsent = mote_cli_tx_unsent(&p->s);
    bool moved = left != p->tx_left || (left > 0 && taken != p->tx_taken);
    bool fell = p->tx_draining && unsent < p->tx_unsent;
    p->tx_left = left;
    p->tx_taken = taken;
    p->tx_unsent = unsent;
    if (moved) {
        p->tx_draining = true;
    } else if (left == 0 && unsent == 0) {
        p->tx_draining = false;
    }
    return moved || fell;
}

/* Bytes of messages not yet with the broker: queued, and in the socket while it drains. */
static size_t output_left(const pub_state_t *p)
{
    return p->tx_left + (p->tx_draining ? p->tx_unsent : 0u);
}

/* While waiting with output queued: MOTE_ERR_TIMEOUT when the output has not moved for
 * --ack-timeout, however long the whole payload takes on a slow link that keeps moving. Bytes
 * going out also restart the ack clock: acks cannot come for messages still being sent. */
static mote_err_t pub_progress(pub_state_t *p)
{
    uint32_t now = mote_posix_clock_ms(NULL);
    if (output_moved(p)) {
        p->tx_since_ms = now;
        p->ack_since_ms = now;
    } else if (output_left(p) > 0 &&
               (uint32_t)(now - p->tx_since_ms) >= p->o->ack_timeout_ms) {
        if (!p->o->quiet) {
            fprintf(stderr, "mote: the broker took no data for %u s (%zu bytes not sent)\n",
                    (unsigned)(p->o->ack_timeout_ms / 1000u), output_left(p));
        }
        return MOTE_ERR_TIMEOUT;
    }
    return ack_progress(p);
}

/* Between waits (pub -l idle on stdin): record acks and output that completed meanwhile
 * without judging the time, so the next wait's clocks run from the last progress rather
 * than from an earlier wait. */
static void note_progress(pub_state_t *p)
{
    uint16_t inflight = mote_mqtt_inflight_count(&p->s.client);
    uint32_t now = mote_posix_clock_ms(NULL);
    if (inflight < p->ack_inflight) {
        p->ack_inflight = inflight;
        p->ack_since_ms = now;
    }
    if (output_moved(p)) {
        p->tx_since_ms = now;
    }
}

/* Write all queued output (a QoS 0 payload must be written before its memory is reused or
 * the tool exits); the limit is --ack-timeout without progress. Returns MOTE_OK,
 * PUB_INTERRUPTED or the error that ended the session. */
static mote_err_t pub_flush(pub_state_t *p)
{
    mote_err_t err = mote_cli_flush_all(&p->s, p->o->ack_timeout_ms);
    if (err == MOTE_ERR_NEED_MORE) {
        return PUB_INTERRUPTED;
    }
    if (err == MOTE_ERR_TIMEOUT && !p->o->quiet) {
        fprintf(stderr, "mote: the broker took no data for %u s (%zu bytes not sent)\n",
                (unsigned)(p->o->ack_timeout_ms / 1000u), mote_cli_tx_left(&p->s));
    }
    /* The clocks restart when the output has left the queue; acks are due once the socket
     * has passed it on too (pub_progress follows its send queue). */
    p->tx_left = mote_cli_tx_left(&p->s);
    p->tx_taken = mote_cli_tx_taken(&p->s);
    p->tx_unsent = mote_cli_tx_unsent(&p->s);
    p->tx_draining = p->tx_unsent > 0;
    p->tx_since_ms = mote_posix_clock_ms(NULL);
    p->ack_since_ms = p->tx_since_ms;
    return err;
}

/* Publish one message, waiting (while processing input) when the in-flight window is
 * full. Returns MOTE_OK, PUB_INTERRUPTED or the error that ended the session. */
static mote_err_t publish_one(pub_state_t *p, const uint8_t *payload, size_t len,
                              uint16_t *packet_id)
{
    mote_mqtt_publish_t msg;
    memset(&msg, 0, sizeof msg);
    msg.topic = mote_bytes_cstr(p->o->topics[0]);
    msg.payload.ptr = payload;
    msg.payload.len = len;
    msg.qos = p->o->qos;
    msg.retain = p->o->retain;
    msg.props = p->props;
    for (;;) {
        mote_err_t err = mote_mqtt_publish(&p->s.client, &msg, packet_id);
        if (err == MOTE_OK) {
            return MOTE_OK;
        }
        /* Not queued: the window is full or the socket cannot take more now. */
        if (err != MOTE_ERR_NO_SPACE && err != MOTE_ERR_RECEIVE_MAXIMUM &&
            err != MOTE_ERR_NEED_MORE) {
            p->request_failed = true;
            return err;
        }
        if (mote_cli_interrupted()) {
            return PUB_INTERRUPTED;
        }
        err = mote_cli_step(&p->s, 100);
        if (err == MOTE_OK) {
            err = pub_progress(p);
        }
        if (err != MOTE_OK) {
            return err;
        }
    }
}

/* --repeat-delay: wait ms between publishes, reading acks and keeping the connection
 * alive meanwhile. MOTE_OK (also when interrupted: the loop then stops) or the error that
 * ended the session. */
static mote_err_t pause_ms(pub_state_t *p, uint32_t ms)
{
    uint32_t start = mote_posix_clock_ms(NULL), gone;
    while ((gone = mote_posix_clock_ms(NULL) - start) < ms && !mote_cli_interrupted()) {
        uint32_t left = ms - gone;
        mote_err_t err = mote_cli_step(&p->s, left < 200u ? left : 200u);
        if (err == MOTE_OK) {
            err = pub_progress(p);
        }
        if (err != MOTE_OK) {
            return err;
        }
    }
    return MOTE_OK;
}

/* Wait until every QoS 1/2 message is acknowledged. */
static mote_err_t drain(pub_state_t *p)
{
    mote_err_t err = pub_flush(p);
    if (err != MOTE_OK) {
        return err;
    }
    while (mote_mqtt_inflight_count(&p->s.client) > 0 || p->s.tx_pending) {
        if (mote_cli_interrupted()) {
            return MOTE_OK;
        }
        err = mote_cli_step(&p->s, 200);
        if (err == MOTE_OK) {
            err = pub_progress(p);
        }
        if (err != MOTE_OK) {
            return err;
        }
    }
    return MOTE_OK;
}

/* The exit code and error line for how publishing ended (err from the loops and drain). */
static int pub_result(pub_state_t *p, mote_err_t err, bool all_queued)
{
    int code;
    if (err == PUB_INTERRUPTED || (err == MOTE_OK && mote_cli_interrupted() &&
                                   (!all_queued || mote_mqtt_inflight_count(&p->s.client) > 0))) {
        if (!p->o->quiet) {
            fprintf(stderr, "mote: interrupted before every message was %s\n",
                    p->o->qos > 0 ? "acknowledged" : "sent");
        }
        code = mote_cli_interrupt_exit(p->o);
    } else if (err != MOTE_OK) {
        code = p->request_failed ? mote_cli_fail_request(&p->s, "publish", err)
                                 : mote_cli_fail(&p->s, "publish", err);
        /* A request we could not make leaves the connection usable: disconnect cleanly. */
        if (!p->request_failed || code != MOTE_EXIT_ERROR) {
            mote_mqtt_reset_connection(&p->s.client);
        }
    } else {
        code = p->failed > 0 ? MOTE_EXIT_ERROR : MOTE_EXIT_OK;
    }
    mote_cli_close(&p->s);
    return code;
}

static pub_slot_t *free_slot(pub_state_t *p)
{
    uint16_t i;
    for (i = 0; i < p->nslots; i++) {
        if (!p->slots[i].busy) {
            return &p->slots[i];
        }
    }
    return NULL;
}

/* Publish one line: QoS 0 straight from the input buffer (flushed before the buffer is
 * reused), QoS 1/2 from a slot buffer that lives until the ack. */
static mote_err_t publish_line(pub_state_t *p, const uint8_t *line, size_t len)
{
    pub_slot_t *slot;
    mote_err_t err;
    if (p->o->qos == 0) {
        return publish_one(p, line, len, NULL);
    }
    while ((slot = free_slot(p)) == NULL) { /* every slot's message awaits its ack */
        err = mote_cli_step(&p->s, 100);
        if (err == MOTE_OK) {
            err = pub_progress(p);
        }
        if (err != MOTE_OK) {
            return err;
        }
        if (mote_cli_interrupted()) {
            return PUB_INTERRUPTED;
        }
    }
    if (slot->cap < len || slot->buf == NULL) {
        uint8_t *nb = realloc(slot->buf, len > 0 ? len : 1);
        if (nb == NULL) {
            return MOTE_ERR_NO_SPACE;
        }
        slot->buf = nb;
        slot->cap = len > 0 ? len : 1;
    }
    memcpy(slot->buf, line, len);
    slot->busy = true;
    err = publish_one(p, slot->buf, len, &slot->packet_id);
    if (err != MOTE_OK) {
        slot->busy = false;
    }
    return err;
}

/* -l: read stdin without blocking the session (keep-alive and acks go on while waiting for
 * input), publish every complete line. */
static int run_lines(pub_state_t *p)
{
    size_t cap = 65536, len = 0;
    uint8_t *buf = malloc(cap);
    bool eof = false;
    mote_err_t err = MOTE_OK;
    uint16_t i;
    int code;

    p->nslots = p->o->max_inflight;
    p->slots = calloc(p->nslots, sizeof *p->slots);
    if (buf == NULL || p->slots == NULL) {
        free(buf);
        fprintf(stderr, "mote: out of memory\n");
        return MOTE_EXIT_ERROR;
    }
    while (!eof && !mote_cli_interrupted()) {
        struct pollfd pf[2];
        ssize_t n;
        size_t start = 0, k;
        pf[0].fd = STDIN_FILENO;
        pf[0].events = POLLIN;
        pf[0].revents = 0;
        pf[1].fd = p->s.conn.tcp.fd;
        pf[1].events = (short)(POLLIN | (p->s.tx_pending ? POLLOUT : 0));
        pf[1].revents = 0;
        if (poll(pf, 2, 1000) < 0 && errno != EINTR) {
            err = MOTE_ERR_TRANSPORT;
            break;
        }
        err = mote_mqtt_process(&p->s.client, 0);
        if (err == MOTE_ERR_NEED_MORE) {
            err = MOTE_OK;
        }
        if (err != MOTE_OK) {
            break;
        }
        note_progress(p);
        if ((pf[0].revents & (POLLIN | POLLHUP | POLLERR)) == 0) {
            continue;
        }
        if (len == cap) {
            uint8_t *nb = realloc(buf, cap * 2);
            if (nb == NULL) {
                err = MOTE_ERR_NO_SPACE;
                break;
            }
            buf = nb;
            cap *= 2;
        }
        n = read(STDIN_FILENO, buf + len, cap - len);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN) {
                continue;
            }
            fprintf(stderr, "mote: reading stdin: %s\n", strerror(errno));
            err = MOTE_ERR_FILE;
            break;
        }
        if (n == 0) {
            eof = true;
        }
        len += (size_t)n;
        for (k = 0; k < len && err == MOTE_OK; k++) {
            if (buf[k] == '\n') {
                err = publish_line(p, buf + start, k - start);
                start = k + 1;
            }
        }
        if (eof && start < len && err == MOTE_OK) {
            err = publish_line(p, buf + start, len - start);
            start = len;
        }
        if (err != MOTE_OK) {
            break;
        }
        /* Write what this batch queued now rather than at the next wake-up. */
        err = mote_mqtt_flush(&p->s.client);
        if (err != MOTE_OK && err != MOTE_ERR_NEED_MORE) {
            break;
        }
        err = MOTE_OK;
        if (start > 0) {
            /* QoS 0 payloads may still be referenced from buf: write them out first. */
            if (p->o->qos == 0) {
                err = pub_flush(p);
                if (err != MOTE_OK) {
                    break;
                }
            }
            memmove(buf, buf + start, len - start);
            len -= start;
        }
    }
    if (err == MOTE_OK) {
        err = drain(p);
    }
    free(buf);
    /* Lines not read yet when interrupted are the user's choice to drop (as with
     * mosquitto_pub -l); messages read and not acknowledged are reported. */
    code = pub_result(p, err, true);
    for (i = 0; i < p->nslots; i++) {
        free(p->slots[i].buf);
    }
    free(p->slots);
    return code;
}

/* Read fd to its end into a growing heap buffer (-s, and -f on a pipe or device). A read
 * error is reported, never taken for the end of the message. Returns 0 or an exit code. */
static int read_all(int fd, const char *what, const uint8_t **data, size_t *len,
                    uint8_t **to_free)
{
    size_t cap = 65536, n = 0;
    uint8_t *b = malloc(cap);
    for (;;) {
        ssize_t r;
        if (b == NULL) {
            fprintf(stderr, "mote: out of memory reading %s\n", what);
            return MOTE_EXIT_ERROR;
        }
        if (n == cap) {
            uint8_t *nb = realloc(b, cap * 2);
            if (nb == NULL) {
                free(b);
                fprintf(stderr, "mote: out of memory reading %s (%zu bytes so far)\n", what, n);
                return MOTE_EXIT_ERROR;
            }
            b = nb;
            cap *= 2;
        }
        r = read(fd, b + n, cap - n);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r < 0) {
            fprintf(stderr, "mote: cannot read %s: %s\n", what, strerror(errno));
            free(b);
            return MOTE_EXIT_ERROR;
        }
        if (r == 0) {
            break;
        }
        n += (size_t)r;
    }
    *data = b;
    *len = n;
    *to_free = b;
    return 0;
}

/* Load the payload of -f (mapped, so a large file is not copied) or -s (read whole; empty
 * stdin is an error). */
static int load_payload(const mote_cli_opts_t *o, const uint8_t **data, size_t *len,
                        void **to_unmap, uint8_t **to_free)
{
    *data = NULL;
    *len = 0;
    *to_unmap = NULL;
    *to_free = NULL;
    if (o->message != NULL) {
        *data = (const uint8_t *)o->message;
        *len = strlen(o->message);
        return 0;
    }
    if (o->null_message) {
        *data = (const uint8_t *)"";
        return 0;
    }
    if (o->file != NULL) {
        struct stat st;
        int fd = open(o->file, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || fstat(fd, &st) != 0) {
            fprintf(stderr, "mote: cannot read %s: %s\n", o->file, strerror(errno));
            if (fd >= 0) {
                close(fd);
            }
            return MOTE_EXIT_ERROR;
        }
        if (st.st_size > 268435455 - 65536) {
            fprintf(stderr, "mote: %s is too large for one MQTT message\n", o->file);
            close(fd);
            return MOTE_EXIT_ERROR;
        }
        if (S_ISREG(st.st_mode) && st.st_size > 0) {
            void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
            close(fd);
            if (m == MAP_FAILED) {
                fprintf(stderr, "mote: cannot map %s: %s\n", o->file, strerror(errno));
                return MOTE_EXIT_ERROR;
            }
            *data = m;
            *len = (size_t)st.st_size;
            *to_unmap = m;
            return 0;
        }
        if (S_ISREG(st.st_mode)) {
            close(fd);
            *data = (const uint8_t *)"";
            return 0;
        }
        /* A pipe or device: read it whole like -s. */
        {
            int rc = read_all(fd, o->file, data, len, to_free);
            close(fd);
            return rc;
        }
    }
    if (o->stdin_whole) {
        int rc = read_all(STDIN_FILENO, "standard input", data, len, to_free);
        if (rc == 0 && *len == 0) {
            /* As mosquitto_pub -s ("Zero length input"): refused before connecting. An empty
             * file given to -f is still sent, as mosquitto_pub -f does. */
            free(*to_free);
            *to_free = NULL;
            *data = NULL;
            fprintf(stderr, "mote: -s: standard input is empty, nothing to send "
                            "(-n sends an empty message)\n");
            return MOTE_EXIT_ERROR;
        }
        return rc;
    }
    return 0;
}

int mote_cmd_pub(int argc, char **argv)
{
    static pub_state_t p;
    mote_cli_opts_t o;
    const uint8_t *payload = NULL;
    size_t len = 0;
    void *map = NULL;
    uint8_t *heap = NULL;
    int code;
    mote_err_t err = MOTE_OK;
    uint32_t i;

    code = mote_cli_parse(argc, argv, MOTE_CLI_PUB, &o);
    if (code != 0) {
        return code < 0 ? MOTE_EXIT_OK : code;
    }
    mote_cli_install_signals();
    memset(&p, 0, sizeof p);
    p.o = &o;
    if (!o.lines) {
        code = load_payload(&o, &payload, &len, &map, &heap);
        if (code != 0) {
            return code;
        }
    }
    code = mote_cli_open(&p.s, &o, pub_event, &p, 0);
    if (code == MOTE_CLI_OPEN_INTERRUPTED) {
        code = mote_cli_interrupt_exit(&o);
    }
    if (code != 0) {
        goto out;
    }
    if (o.version == MOTE_MQTT_VERSION_5) {
        p.props = mote_cli_props(&o, MOTE_CLI_PKT_PUBLISH, p.props_buf, sizeof p.props_buf);
    }
    if (o.lines) {
        return run_lines(&p);
    }
    for (i = 0; i < o.repeat && err == MOTE_OK && !mote_cli_interrupted(); i++) {
        err = publish_one(&p, payload, len, NULL);
        if (err == MOTE_OK && o.repeat_delay_ms > 0 && i + 1 < o.repeat) {
            err = pause_ms(&p, o.repeat_delay_ms);
        }
        /* Read acks and pings now and then while streaming many messages. */
        if (err == MOTE_OK && (i & 255u) == 255u) {
            err = mote_mqtt_process(&p.s.client, 0);
            if (err == MOTE_ERR_NEED_MORE) {
                err = MOTE_OK;
            }
        }
    }
    if (err == MOTE_OK) {
        err = drain(&p);
    }
    code = pub_result(&p, err, i >= o.repeat);
out:
    if (map != NULL) {
        munmap(map, len);
    }
    free(heap);
    return code;
}
