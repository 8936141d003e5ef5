/* mote sub: subscribe to one or more filters and print what arrives, like mosquitto_sub.
 * Messages larger than the receive buffer arrive in chunks and are streamed to stdout as
 * they come, so memory stays small whatever the message size. */
#include "cmd_sub.h"

#include <stdio.h>
#include <string.h>

#include "cli_common.h"
#include "mote/posix.h"

typedef struct sub_state {
    mote_cli_session_t s;
    const mote_cli_opts_t *o;
    long received;
    bool done;
    bool skipping;                /* -R: this (chunked) message is retained: drop it */
    bool suback;
    uint16_t sub_id;
    int refused;
    int granted;
    bool output_failed;
} sub_state_t;

static void on_publish(sub_state_t *st, const mote_mqtt_event_t *evt)
{
    const mote_mqtt_publish_t *m = &evt->u.publish.msg;
    if (st->done) {
        return;
    }
    if (evt->u.publish.first) {
        st->skipping = st->o->no_retained && m->retain;
        if (!st->skipping && st->o->verbose) {
            fwrite(m->topic.ptr, 1, m->topic.len, stdout);
            fputc(' ', stdout);
        }
    }
    if (!st->skipping && m->payload.len > 0) {
        fwrite(m->payload.ptr, 1, m->payload.len, stdout);
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
    case MOTE_MQTT_EVT_SUBACK:
        if (evt->u.suback.packet_id != st->sub_id) {
            break;
        }
        st->suback = true;
        for (i = 0; i < evt->u.suback.count; i++) {
            uint8_t rc = evt->u.suback.reason_codes[i];
            if (rc >= 0x80) {
                st->refused++;
                if (!st->o->quiet) {
                    fprintf(stderr, "mote: subscription to '%s' refused: %s (0x%02x)\n",
                            i < (size_t)st->o->topic_count ? st->o->topics[i] : "?",
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

static uint32_t ms_until(uint32_t deadline)
{
    int32_t d = (int32_t)(deadline - mote_posix_clock_ms(NULL));
    return d > 0 ? (uint32_t)d : 0u;
}

int mote_cmd_sub(int argc, char **argv)
{
    static sub_state_t st;
    static mote_mqtt_subscription_t subs[MOTE_CLI_MAX_TOPICS];
    static uint8_t props_buf[512];
    mote_cli_opts_t o;
    mote_mqtt_props_t props = { NULL, 0 };
    uint32_t deadline = 0;
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
        deadline = mote_posix_clock_ms(NULL) + (uint32_t)o.wait_s * 1000u;
    }
    code = mote_cli_open(&st.s, &o, sub_event, &st, has_deadline ? (uint32_t)o.wait_s * 1000u : 0);
    if (code != 0) {
        return code;
    }
    for (i = 0; i < o.topic_count; i++) {
        subs[i].filter = mote_bytes_cstr(o.topics[i]);
        subs[i].options = o.qos;
    }
    if (o.version == MOTE_MQTT_VERSION_5) {
        props = mote_cli_user_props(&o, props_buf, sizeof props_buf);
    }
    /* NEED_MORE: not queued, the socket cannot take it yet. */
    while ((err = mote_mqtt_subscribe(&st.s.client, subs, (size_t)o.topic_count, props,
                                      &st.sub_id)) == MOTE_ERR_NEED_MORE) {
        err = mote_cli_step(&st.s, 100);
        if (err != MOTE_OK) {
            break;
        }
    }
    if (err != MOTE_OK) {
        code = mote_cli_fail(&st.s, "subscribe", err);
        mote_cli_close(&st.s);
        return code;
    }

    /* Messages may arrive before the SUBACK (retained ones right after it): one loop
     * handles both, checking the SUBACK when it comes. */
    {
        uint32_t suback_deadline = mote_posix_clock_ms(NULL) + o.net.connect_timeout_ms;
        bool checked = false;
        while (!st.done && !mote_cli_interrupted()) {
            uint32_t wait = 1000;
            if (has_deadline) {
                uint32_t left = ms_until(deadline);
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
                uint32_t left = ms_until(suback_deadline);
                if (left == 0) {
                    fflush(stdout);
                    code = mote_cli_fail(&st.s, "subscribe (waiting for SUBACK)", MOTE_ERR_TIMEOUT);
                    mote_cli_close(&st.s);
                    return code;
                }
                wait = left < wait ? left : wait;
            }
            err = mote_cli_step(&st.s, wait);
            if (fflush(stdout) != 0 || ferror(stdout)) {
                st.output_failed = true;
                break;
            }
            if (err != MOTE_OK) {
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
            }
        }
    }
    mote_cli_close(&st.s);
    if (st.output_failed) {
        return MOTE_EXIT_ERROR;
    }
    return MOTE_EXIT_OK;
}
