/* JSON writer into a caller buffer. Grammar mistakes are caught as they happen; any error
 * sticks and empties the buffer, so a failed document can never be sent by mistake. */
#include <string.h>

#include "json_internal.h"

void mote_json_writer_init(mote_json_writer_t *w, char *buf, size_t cap)
{
    if (!w)
        return;
    memset(w, 0, sizeof *w);
    w->buf = buf;
    w->cap = buf ? cap : 0;
    if (w->cap)
        buf[0] = '\0';
}

static int fail(mote_json_writer_t *w, int err)
{
    w->err = err;
    w->len = 0;
    if (w->cap)
        w->buf[0] = '\0';
    return err;
}

static int put(mote_json_writer_t *w, const char *s, size_t n)
{
    if (w->cap - w->len < n)
        return fail(w, MOTE_ERR_BUFFER_TOO_SMALL);
    memcpy(w->buf + w->len, s, n);
    w->len += n;
    return MOTE_OK;
}

static int top_is_object(const mote_json_writer_t *w)
{
    unsigned d = w->depth - 1u;
    return (w->kinds[d >> 3] >> (d & 7)) & 1u;
}

/* Grammar check and separator before a value (or a key when `key`). */
static int before(mote_json_writer_t *w, int key)
{
    if (!w)
        return MOTE_ERR_BAD_ARG;
    if (w->err)
        return w->err;
    if (w->done)
        return fail(w, MOTE_ERR_JSON_NESTING);
    if (w->depth == 0)
        return key ? fail(w, MOTE_ERR_JSON_NESTING) : MOTE_OK;
    if (top_is_object(w)) {
        if (key != w->need_key)
            return fail(w, MOTE_ERR_JSON_NESTING);
        if (!key)
            return MOTE_OK; /* the value after a key */
    } else if (key) {
        return fail(w, MOTE_ERR_JSON_NESTING);
    }
    return w->need_comma ? put(w, ",", 1) : MOTE_OK;
}

/* Bookkeeping once a complete value has been written. */
static int after(mote_json_writer_t *w)
{
    if (w->depth == 0) {
        w->done = 1;
    } else {
        w->need_comma = 1;
        w->need_key = (uint8_t)top_is_object(w);
    }
    return MOTE_OK;
}

static int begin(mote_json_writer_t *w, int object)
{
    int rc = before(w, 0);
    unsigned d;
    if (rc != MOTE_OK)
        return rc;
    if (w->depth >= MOTE_JSON_WRITER_MAX_DEPTH)
        return fail(w, MOTE_ERR_JSON_DEPTH);
    rc = put(w, object ? "{" : "[", 1);
    if (rc != MOTE_OK)
        return rc;
    d = w->depth++;
    if (object)
        w->kinds[d >> 3] |= (uint8_t)(1u << (d & 7));
    else
        w->kinds[d >> 3] &= (uint8_t)~(1u << (d & 7));
    w->need_comma = 0;
    w->need_key = (uint8_t)object;
    return MOTE_OK;
}

static int end(mote_json_writer_t *w, int object)
{
    int rc;
    if (!w)
        return MOTE_ERR_BAD_ARG;
    if (w->err)
        return w->err;
    /* Closing needs an open container of that kind, and no key waiting for its value. */
    if (w->depth == 0 || top_is_object(w) != object || (object && !w->need_key))
        return fail(w, MOTE_ERR_JSON_NESTING);
    rc = put(w, object ? "}" : "]", 1);
    if (rc != MOTE_OK)
        return rc;
    w->depth--;
    return after(w);
}

int mote_json_write_object_begin(mote_json_writer_t *w) { return begin(w, 1); }
int mote_json_write_object_end(mote_json_writer_t *w) { return end(w, 1); }
int mote_json_write_array_begin(mote_json_writer_t *w) { return begin(w, 0); }
int mote_json_write_array_end(mote_json_writer_t *w) { return end(w, 0); }

/* The quoted, escaped form of s. */
static int put_string(mote_json_writer_t *w, const char *s, size_t len)
{
    const uint8_t *p = (const uint8_t *)s, *e = p + len, *run;
    int rc = put(w, "\"", 1);
    while (rc == MOTE_OK && p != e) {
        char esc[6];
        unsigned c;
        size_t n;
        for (run = p; p != e && *p >= 0x20 && *p != '"' && *p != '\\' && *p < 0x80; p++) {
        }
        rc = put(w, (const char *)run, (size_t)(p - run));
        if (rc != MOTE_OK || p == e)
            break;
        c = *p;
        if (c >= 0x80) {
            n = json_utf8_seq(p, e);
            if (!n)
                return fail(w, MOTE_ERR_BAD_ARG);
            rc = put(w, (const char *)p, n);
            p += n;
            continue;
        }
        esc[0] = '\\';
        n = 2;
        switch (c) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        default:
            memcpy(esc + 1, "u00", 3);
            esc[4] = "0123456789abcdef"[c >> 4];
            esc[5] = "0123456789abcdef"[c & 15];
            n = 6;
        }
        rc = put(w, esc, n);
        p++;
    }
    return rc == MOTE_OK ? put(w, "\"", 1) : rc;
}

int mote_json_write_key(mote_json_writer_t *w, const char *key, size_t len)
{
    int rc = before(w, 1);
    if (rc != MOTE_OK)
        return rc;
    if (!key && len)
        return fail(w, MOTE_ERR_BAD_ARG);
    rc = put_string(w, key ? key : "", len);
    if (rc == MOTE_OK)
        rc = put(w, ":", 1);
    if (rc == MOTE_OK)
        w->need_key = 0;
    return rc;
}

/* Writes one complete scalar token. */
static int scalar(mote_json_writer_t *w, const char *s, size_t n)
{
    int rc = before(w, 0);
    if (rc == MOTE_OK)
        rc = put(w, s, n);
    return rc == MOTE_OK ? after(w) : rc;
}

int mote_json_write_string(mote_json_writer_t *w, const void *s, size_t len)
{
    int rc = before(w, 0);
    if (rc != MOTE_OK)
        return rc;
    if (!s && len)
        return fail(w, MOTE_ERR_BAD_ARG);
    rc = put_string(w, s ? (const char *)s : "", len);
    return rc == MOTE_OK ? after(w) : rc;
}

int mote_json_write_int64(mote_json_writer_t *w, int64_t v)
{
    /* Digits by long division in 16-bit pieces: no 64-bit division helper on 32-bit CPUs. */
    char tmp[20];
    uint16_t part[4];
    uint64_t mag = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    size_t i = sizeof tmp;
    int k, nonzero;
    for (k = 0; k < 4; k++)
        part[k] = (uint16_t)(mag >> (48 - 16 * k));
    do {
        uint32_t r = 0;
        nonzero = 0;
        for (k = 0; k < 4; k++) {
            uint32_t cur = (r << 16) | part[k];
            part[k] = (uint16_t)(cur / 10);
            r = cur % 10;
            nonzero |= part[k];
        }
        tmp[--i] = (char)('0' + r);
    } while (nonzero);
    if (v < 0)
        tmp[--i] = '-';
    return scalar(w, tmp + i, sizeof tmp - i);
}

int mote_json_write_double(mote_json_writer_t *w, double v)
{
    /* Formatted straight into the buffer (no copy on the stack). */
    int n = before(w, 0);
    if (n != MOTE_OK)
        return n;
    n = mote_json_format_double(v, w->buf ? w->buf + w->len : NULL, w->cap - w->len);
    if (n < 0)
        return fail(w, n);
    w->len += (size_t)n;
    return after(w);
}

int mote_json_write_bool(mote_json_writer_t *w, bool v)
{
    return v ? scalar(w, "true", 4) : scalar(w, "false", 5);
}

int mote_json_write_null(mote_json_writer_t *w)
{
    return scalar(w, "null", 4);
}

int mote_json_write_raw(mote_json_writer_t *w, const void *json, size_t len)
{
    if (!w)
        return MOTE_ERR_BAD_ARG;
    if (!w->err && mote_json_validate(json, len, NULL) != MOTE_OK)
        return fail(w, MOTE_ERR_BAD_ARG);
    return scalar(w, (const char *)json, len);
}

int mote_json_writer_finish(mote_json_writer_t *w, size_t *out_len)
{
    if (!w)
        return MOTE_ERR_BAD_ARG;
    if (w->err)
        return w->err;
    if (!w->done)
        return fail(w, MOTE_ERR_JSON_NESTING);
    if (w->len < w->cap)
        w->buf[w->len] = '\0';
    if (out_len)
        *out_len = w->len;
    return MOTE_OK;
}
