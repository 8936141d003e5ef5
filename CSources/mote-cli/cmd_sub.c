/* mote sub: subscribe to one or more filters and print what arrives, like mosquitto_sub.
 * Messages larger than the receive buffer arrive in chunks and are streamed to stdout as
 * they come, so memory stays small whatever the message size. */
#include "cmd_sub.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli_common.h"
#include "cli_format.h"
#include "mote/posix.h"

typedef struct sub_state {
    mote_cli_session_t s;
    const mote_cli_opts_t *o;
    long received;
    bool done;
    bool skipping;                /* this (chunked) message is not printed (-R, -T, ...) */
    bool suback;
    uint16_t sub_id;
    bool unsuback;
    uint16_t unsub_id;
    int unsub_refused;            /* -U filters the broker did not unsubscribe (v5 codes) */
    bool retained_done;           /* --retained-only: a message that is not retained came */
    long not_printed;             /* -F: messages in chunks the format cannot stream */
    long not_cleared;             /* --remove-retained: clearing messages not queued */
    mote_cli_format_state_t fmt;  /* -F: the message being printed */
    int refused;
    int granted;
    bool suback_mismatch;         /* the SUBACK did not carry one reason code per filter */
    size_t suback_count;          /* how many it carried */
    bool output_failed;
} sub_state_t;

/* Whether a message is printed (decided at its first chunk): -T, --retained-only, -R. */
static bool wanted(sub_state_t *st, const mote_mqtt_publish_t *m)
{
    int i;
    if (st->o->retained_only && !m->retain) {
        /* the retained messages have all come: stop here, without printing this one (the
           connection ends from the event, so it is not acknowledged) */
        st->retained_done = true;
        st->done = true;
        mote_cli_disconnect_from_event(&st->s);
        return false;
    }
    if (st->o->no_retained && m->retain) {
        return false;
    }
    for (i = 0; i < st->o->filter_out_count; i++) {
        if (mote_mqtt_topic_matches(mote_bytes_cstr(st->o->filter_outs[i]), m->topic)) {
            return false;
        }
    }
    return true;
}

/* --remove-retained: an empty retained message to the topic clears it (QoS 0: it is
 * written before our DISCONNECT, and the broker handles packets in order). */
static void clear_retained(sub_state_t *st, const mote_mqtt_publish_t *m)
{
    mote_mqtt_publish_t clear;
    mote_err_t err;
    memset(&clear, 0, sizeof clear);
    clear.topic = m->topic;
    clear.retain = true;
    err = mote_mqtt_publish(&st->s.client, &clear, NULL);
    if (err != MOTE_OK) {
        st->not_cleared++;
        if (!st->o->quiet) {
            fprintf(stderr, "mote: could not clear the retained message on '%.*s': %s\n",
                    (int)m->topic.len, (const char *)m->topic.ptr, mote_strerror(err));
        }
    }
}

static void on_publish(sub_state_t *st, const mote_mqtt_event_t *evt)
{
    const mote_mqtt_publish_t *m = &evt->u.publish.msg;
    if (st->done) {
        /* A message after the -C count (it came in the same read as the last one): end the
         * connection from here, so the client does not acknowledge it and a persistent
         * session (-c) keeps it for next time. The main loop then ends as usual. */
        if (evt->u.publish.first) {
            mote_cli_disconnect_from_event(&st->s);
        }
        return;
    }
    if (evt->u.publish.first) {
        st->skipping = !wanted(st, m);
        if (st->done) {
            return;
        }
        if (!st->skipping && st->o->verbose && st->o->format == NULL) {
            fwrite(m->topic.ptr, 1, m->topic.len, stdout);
            /* mosquitto_sub -v prints an empty payload as "(null)" */
            fputs(evt->u.publish.total == 0 ? " (null)" : " ", stdout);
        }
    }
    if (!st->skipping && st->o->format != NULL) {
        mote_cli_format_msg_t fm;
        fm.topic = (const char *)m->topic.ptr;
        fm.topic_len = m->topic.len;
        fm.chunk = m->payload.ptr;
        fm.chunk_len = m->payload.len;
        fm.offset = evt->u.publish.offset;
        fm.total = evt->u.publish.total;
        fm.first = evt->u.publish.first;
        fm.last = evt->u.publish.last;
        fm.qos = m->qos;
        fm.retain = m->retain;
        fm.mid = m->packet_id;
        fm.props = m->props;
        if (!mote_cli_format_print(stdout, st->o->format, &fm, &st->fmt)) {
            st->not_printed++;
            st->skipping = true;
            if (!st->o->quiet) {
                fprintf(stderr, "mote: message on '%.*s' not printed: its %lu bytes are more "
                                "than --rx-buffer (%u) and the -F format uses the payload more "
                                "than once, or an MQTT 5 property after it\n",
                        (int)m->topic.len, (const char *)m->topic.ptr,
                        (unsigned long)evt->u.publish.total, (unsigned)st->o->rx_cap);
            }
        }
    } else if (!st->skipping && m->payload.len > 0) {
        fwrite(m->payload.ptr, 1, m->payload.len, stdout);
    }
    /* --remove-retained: only a message being printed is cleared (one the -F format
     * refused above stays retained) */
    if (evt->u.publish.first && !st->skipping && st->o->remove_retained && m->retain) {
        clear_retained(st, m);
    }
    if (evt->u.publish.last) {
        if (!st->skipping) {
            if (!st->o->no_newline) {
                fputc('\n', stdout);
            }
            st->received++;
            if (st->o->count > 0 && st->received >= st->o->count) {
                st->done = true;
            }
        }
        st->skipping = false;
    }
}

static void sub_event(void *user, const mote_mqtt_event_t *evt)
{
    sub_state_t *st = user;
    size_t i;
    switch (evt->type) {
    case MOTE_MQTT_EVT_PUBLISH:
        on_publish(st, evt);
        break;
    case MOTE_MQTT_EVT_UNSUBACK:
        if (evt->u.suback.packet_id != st->unsub_id || st->unsuback) {
            break;
        }
        st->unsuback = true;
        /* 3.1.1 UNSUBACKs carry no codes; v5 ones one per filter */
        for (i = 0; i < evt->u.suback.count && i < (size_t)st->o->unsub_count; i++) {
            uint8_t rc = evt->u.suback.reason_codes[i];
            if (rc >= 0x80) {
                st->unsub_refused++;
                if (!st->o->quiet) {
                    fprintf(stderr, "mote: unsubscribe from '%s' refused: %s (0x%02x)\n",
                            st->o->unsub_topics[i], mote_mqtt_reason_string(rc), (unsigned)rc);
                }
            }
        }
        break;
    case MOTE_MQTT_EVT_SUBACK:
        if (evt->u.suback.packet_id != st->sub_id) {
            break;
        }
        st->suback = true;
        /* One reason code per filter, in order, or the codes cannot be matched to filters:
         * the broker broke the protocol. End the connection; the main loop reports it. */
        if (evt->u.suback.count != (size_t)st->o->topic_count) {
            st->suback_mismatch = true;
            st->suback_count = evt->u.suback.count;
            mote_cli_disconnect_from_event(&st->s);
            break;
        }
        for (i = 0; i < evt->u.suback.count; i++) {
            uint8_t rc = evt->u.suback.reason_codes[i];
            if (rc >= 0x80) {
                st->refused++;
                if (!st->o->quiet) {
                    fprintf(stderr, "mote: subscription to '%s' refused: %s (0x%02x)\n",
                            st->o->topics[i],
                            mote_mqtt_reason_string(rc), (unsigned)rc);
                }
            } else {
                st->granted++;
            }
        }
        break;
    default:
        break;
    }
}

/* Monotonic milliseconds in 64 bits: -W accepts up to a year, which overflows 32-bit ms. */
static uint64_t now_ms64(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static uint64_t ms_until(uint64_t deadline)
{
    uint64_t now = now_ms64();
    return deadline > now ? deadline - now : 0u;
}

/* A message was not printed (-F), a retained one not cleared, or stdout failed: exit 1. */
static bool output_lost(const sub_state_t *st)
{
    return st->output_failed || st->not_printed > 0 || st->not_cleared > 0;
}

/* -U: UNSUBSCRIBE from the filters and wait for the UNSUBACK (messages that come meanwhile
 * are handled as usual). Returns -1 to go on, else the exit code (the session closed). */
static int unsubscribe_first(sub_state_t *st, const mote_cli_opts_t *o, mote_mqtt_props_t props)
{
    static mote_bytes_t filters[MOTE_CLI_MAX_TOPICS];
    uint64_t deadline;
    mote_err_t err;
    int i, code;
    for (i = 0; i < o->unsub_count; i++) {
        filters[i] = mote_bytes_cstr(o->unsub_topics[i]);
    }
    while ((err = mote_mqtt_unsubscribe(&st->s.client, filters, (size_t)o->unsub_count, props,
                                        &st->unsub_id)) == MOTE_ERR_NEED_MORE) {
        err = mote_cli_step(&st->s, 100);
        if (err != MOTE_OK) {
            code = mote_cli_fail(&st->s, "unsubscribe", err);
            mote_mqtt_reset_connection(&st->s.client);
            mote_cli_close(&st->s);
            return code;
        }
    }
    if (err != MOTE_OK) {
        code = mote_cli_fail_request(&st->s, "unsubscribe", err);
        mote_cli_close(&st->s);
        return code;
    }
    deadline = now_ms64() + o->net.connect_timeout_ms;
    while (!st->unsuback && !st->done) {
        uint64_t left = ms_until(deadline);
        if (mote_cli_interrupted()) {
            mote_cli_close(&st->s);
            return mote_cli_interrupt_exit(o);
        }
        if (left == 0) {
            code = mote_cli_fail(&st->s, "unsubscribe (waiting for UNSUBACK)", MOTE_ERR_TIMEOUT);
            mote_cli_close(&st->s);
            return code;
        }
        err = mote_cli_step(&st->s, left < 1000 ? (uint32_t)left : 1000u);
        if (fflush(stdout) != 0 || ferror(stdout)) {
            mote_cli_close(&st->s);
            return MOTE_EXIT_ERROR;
        }
        if (err != MOTE_OK && !st->done) {
            code = mote_cli_fail(&st->s, "receive", err);
            mote_mqtt_reset_connection(&st->s.client);
            mote_cli_close(&st->s);
            return code;
        }
    }
    if (st->done || o->topic_count == 0) {
        /* -C reached by messages of the session, or nothing to subscribe to */
        mote_cli_close(&st->s);
        return (st->unsub_refused > 0 && o->topic_count == 0) || output_lost(st)
                   ? MOTE_EXIT_ERROR
                   : MOTE_EXIT_OK;
    }
    return -1;
}

int mote_cmd_sub(int argc, char **argv)
{
    static sub_state_t st;
    static mote_mqtt_subscription_t subs[MOTE_CLI_MAX_TOPICS];
    static uint8_t props_buf[MOTE_CLI_PROPS_CAP];
    mote_cli_opts_t o;
    mote_mqtt_props_t props = { NULL, 0 };
    uint64_t deadline = 0, wait_ms = 0;
    bool has_deadline;
    int code, i;
    mote_err_t err;

    code = mote_cli_parse(argc, argv, MOTE_CLI_SUB, &o);
    if (code != 0) {
        return code < 0 ? MOTE_EXIT_OK : code;
    }
    mote_cli_install_signals();
    memset(&st, 0, sizeof st);
    st.o = &o;
    has_deadline = o.wait_s > 0;
    if (has_deadline) {
        wait_ms = (uint64_t)o.wait_s * 1000u;
        deadline = now_ms64() + wait_ms;
    }
    /* The connect may take -W when that is shorter than --connect-timeout. */
    code = mote_cli_open(&st.s, &o, sub_event, &st,
                         wait_ms > 0xFFFFFFFFu ? 0xFFFFFFFFu : (uint32_t)wait_ms);
    if (code == MOTE_CLI_OPEN_INTERRUPTED) {
        return mote_cli_interrupt_exit(&o);
    }
    if (code != 0) {
        return code;
    }
    for (i = 0; i < o.topic_count; i++) {
        subs[i].filter = mote_bytes_cstr(o.topics[i]);
        subs[i].options = o.qos;
    }
    props = mote_cli_props(&o, MOTE_CLI_PKT_SUBSCRIBE, props_buf, sizeof props_buf);
    if (o.unsub_count > 0) {
        static uint8_t unsub_props_buf[MOTE_CLI_PROPS_CAP];
        code = unsubscribe_first(&st, &o, mote_cli_props(&o, MOTE_CLI_PKT_UNSUBSCRIBE,
                                                         unsub_props_buf,
                                                         sizeof unsub_props_buf));
        if (code >= 0) {
            return code;
        }
    }
    /* NEED_MORE: not queued, the socket cannot take it yet. */
    while ((err = mote_mqtt_subscribe(&st.s.client, subs, (size_t)o.topic_count, props,
                                      &st.sub_id)) == MOTE_ERR_NEED_MORE) {
        err = mote_cli_step(&st.s, 100);
        if (err != MOTE_OK) {
            code = mote_cli_fail(&st.s, "subscribe", err);
            mote_mqtt_reset_connection(&st.s.client);
            mote_cli_close(&st.s);
            return code;
        }
    }
    if (err != MOTE_OK) {
        code = mote_cli_fail_request(&st.s, "subscribe", err);
        mote_cli_close(&st.s);
        return code;
    }

    /* Messages may arrive before the SUBACK (retained ones right after it): one loop
     * handles both, checking the SUBACK when it comes. */
    {
        uint64_t suback_deadline = now_ms64() + o.net.connect_timeout_ms;
        bool checked = false;
        while (!st.done && !mote_cli_interrupted()) {
            uint64_t wait = 1000;
            if (has_deadline) {
                uint64_t left = ms_until(deadline);
                if (left == 0) {
                    fflush(stdout);
                    if (!o.quiet) {
                        fprintf(stderr, "mote: timed out after %ld s (received %ld message%s)\n",
                                o.wait_s, st.received, st.received == 1 ? "" : "s");
                    }
                    mote_cli_close(&st.s);
                    return MOTE_EXIT_TIMEOUT;
                }
                wait = left < wait ? left : wait;
            }
            if (!st.suback) {
                uint64_t left = ms_until(suback_deadline);
                if (left == 0) {
                    fflush(stdout);
                    code = mote_cli_fail(&st.s, "subscribe (waiting for SUBACK)", MOTE_ERR_TIMEOUT);
                    mote_cli_close(&st.s);
                    return code;
                }
                wait = left < wait ? left : wait;
            }
            err = mote_cli_step(&st.s, (uint32_t)wait);
            if (fflush(stdout) != 0 || ferror(stdout)) {
                st.output_failed = true;
                break;
            }
            if (st.suback_mismatch) {
                if (!o.quiet) {
                    fprintf(stderr, "mote: subscribe: malformed packet or protocol error from the "
                                    "broker: SUBACK with %zu reason code%s for %d filter%s\n",
                            st.suback_count, st.suback_count == 1 ? "" : "s", o.topic_count,
                            o.topic_count == 1 ? "" : "s");
                }
                mote_cli_close(&st.s);
                return MOTE_EXIT_PROTOCOL;
            }
            if (err != MOTE_OK && !st.done) {
                code = mote_cli_fail(&st.s, "receive", err);
                mote_mqtt_reset_connection(&st.s.client);
                mote_cli_close(&st.s);
                return code;
            }
            if (st.suback && !checked) {
                checked = true;
                if (st.granted == 0) {
                    if (!o.quiet) {
                        fprintf(stderr, "mote: every subscription was refused\n");
                    }
                    mote_cli_close(&st.s);
                    return MOTE_EXIT_ERROR;
                }
                if (o.exit_after_sub) {
                    break; /* -E */
                }
            }
        }
    }
    mote_cli_close(&st.s);
    return output_lost(&st) ? MOTE_EXIT_ERROR : MOTE_EXIT_OK;
}
