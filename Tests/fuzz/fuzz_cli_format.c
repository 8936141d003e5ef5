/* libFuzzer: mote sub's -F formatter (CSources/mote-cli/cli_format.c) with a fuzzed format
 * (the input's first line, after a byte giving the chunk size) over a fuzzed payload (the
 * rest), as a whole message and streamed in chunks. Properties: a format the check accepts
 * prints without crashing; streamed output equals whole output when the format has at most
 * one payload item and no time field; a format using the payload twice refuses a chunked
 * message; %j output is always valid JSON, whole or streamed, with the same payload string
 * either way, and that string is the payload itself when the payload is valid UTF-8. Every
 * message carries MQTT 5 properties (the property fields and %j's "properties"). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_format.h"
#include "mote/json.h"
#include "mote/mqtt_codec.h"

#define CHECK(x)                                                                           \
    do {                                                                                   \
        if (!(x))                                                                          \
            abort();                                                                       \
    } while (0)

static const char k_topic[] = "a\"b\\c/\x01/\xc3\xa9";

/* MQTT 5 properties for every message: text, binary (not UTF-8) and numbers. */
static mote_mqtt_props_t props(void)
{
    static uint8_t buf[128];
    mote_mqtt_props_builder_t b;
    mote_mqtt_props_init(&b, buf, sizeof buf);
    CHECK(mote_mqtt_props_add_bytes(&b, MOTE_PROP_CONTENT_TYPE, mote_bytes_cstr("t\"x")) == MOTE_OK);
    CHECK(mote_mqtt_props_add_bytes(&b, MOTE_PROP_CORRELATION_DATA,
                                    (mote_bytes_t){ (const uint8_t *)"\xff\x00\x01", 3 }) == MOTE_OK);
    CHECK(mote_mqtt_props_add_int(&b, MOTE_PROP_MESSAGE_EXPIRY, 60) == MOTE_OK);
    CHECK(mote_mqtt_props_add_int(&b, MOTE_PROP_SUBSCRIPTION_ID, 268435455) == MOTE_OK);
    CHECK(mote_mqtt_props_add_user(&b, mote_bytes_cstr("k"), mote_bytes_cstr("v\n")) == MOTE_OK);
    CHECK(mote_mqtt_props_add_user(&b, mote_bytes_cstr("k"), mote_bytes_cstr("w")) == MOTE_OK);
    return mote_mqtt_props_view(&b);
}

/* Prints the message with fmt in chunks of `step` bytes (0: whole) into a new buffer. */
static char *print(const char *fmt, const uint8_t *p, size_t n, size_t step, size_t *len,
                   int *ok)
{
    char *out = NULL;
    FILE *f = open_memstream(&out, len);
    mote_cli_format_state_t st;
    mote_cli_format_msg_t m;
    size_t off = 0;
    CHECK(f != NULL);
    memset(&m, 0, sizeof m);
    m.topic = k_topic;
    m.topic_len = sizeof k_topic - 1;
    m.total = (uint32_t)n;
    m.qos = 1;
    m.mid = 7;
    m.props = props();
    *ok = 1;
    do {
        size_t k = step == 0 || n - off < step ? n - off : step;
        m.chunk = p + off;
        m.chunk_len = k;
        m.offset = (uint32_t)off;
        m.first = off == 0;
        m.last = off + k == n;
        if (!mote_cli_format_print(f, fmt, &m, &st))
            *ok = 0;
        off += k;
    } while (off < n);
    fclose(f);
    return out;
}

/* How many payload items fmt has; *time_items: a field whose text depends on the arrival
 * time; *late_props: a property field after a payload item. */
static int count_payload_items(const char *fmt, int *time_items, int *late_props)
{
    int n = 0;
    *time_items = *late_props = 0;
    for (; *fmt; fmt++) {
        if (*fmt == '\\' || (*fmt == '@' && fmt[1] == '@')) {
            fmt++;
        } else if (*fmt == '@') {
            *time_items = 1;
            fmt++;
        } else if (*fmt == '%') {
            fmt++;
            while (*fmt && strchr("-0123456789.", *fmt))
                fmt++;
            if (strchr("pxXjJ", *fmt))
                n++;
            if (strchr("IUjJ", *fmt))
                *time_items = 1;
            if (n > 0 && strchr("CDEFRSAP", *fmt))
                *late_props = 1;
        }
    }
    return n;
}

/* The "payload" string of a %j line, unescaped into buf; its length. */
static size_t json_payload(const char *line, size_t len, char *buf, size_t cap)
{
    mote_json_value_t v;
    size_t need = 0;
    CHECK(mote_json_validate(line, len, NULL) == MOTE_OK);
    CHECK(mote_json_find(line, len, "payload", 7, &v, NULL) == MOTE_OK);
    if (v.type == MOTE_JSON_NULL)
        return 0;
    CHECK(mote_json_get_string(&v, buf, cap, &need) == MOTE_OK);
    return need;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char fmt[256];
    static char a[16384], b[16384];
    const uint8_t *nl, *payload;
    size_t step, flen, n, len1, len2, pa, pb;
    char *whole, *chunked;
    int items, time_items, late_props, ok1, ok2;
    if (size < 2)
        return 0;
    step = (size_t)(data[0] % 64) + 1;
    nl = memchr(data + 1, '\n', size - 1);
    if (!nl)
        return 0;
    flen = (size_t)(nl - (data + 1));
    if (flen >= sizeof fmt)
        return 0;
    memcpy(fmt, data + 1, flen);
    fmt[flen] = '\0';
    payload = nl + 1;
    n = size - (size_t)(payload - data);
    if (n > 4096 || memchr(fmt, '\0', flen))
        return 0;

    /* %j, whole and streamed: valid JSON with the same payload */
    whole = print("%j", payload, n, 0, &len1, &ok1);
    chunked = print("%j", payload, n, step, &len2, &ok2);
    CHECK(ok1 && ok2);
    pa = json_payload(whole, len1, a, sizeof a);
    pb = json_payload(chunked, len2, b, sizeof b);
    CHECK(pa == pb && memcmp(a, b, pa) == 0);
    if (n > 0 && mote_mqtt_utf8_valid(payload, n))
        CHECK(pa == n && memcmp(a, payload, n) == 0);
    free(whole);
    free(chunked);

    if (!mote_cli_format_check(fmt))
        return 0;
    items = count_payload_items(fmt, &time_items, &late_props);
    whole = print(fmt, payload, n, 0, &len1, &ok1);
    chunked = print(fmt, payload, n, step, &len2, &ok2);
    CHECK(ok1);
    if (step < n && (items > 1 || late_props)) {
        CHECK(!ok2 && len2 == 0); /* refused, nothing printed */
    } else {
        CHECK(ok2);
        /* %J streams as %j, so only a payload that is not JSON prints the same */
        if (!time_items && !strstr(fmt, "J"))
            CHECK(len1 == len2 && memcmp(whole, chunked, len1) == 0);
    }
    free(whole);
    free(chunked);
    return 0;
}
