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

JSON_NOINLINE int json_writer_fail(mote_json_writer_t *w, int err)
{
    w->err = err;
    w->len = 0;
    if (w->cap)
        w->buf[0] = '\0';
    return err;
}

static JSON_NOINLINE int put(mote_json_writer_t *w, const void *s, size_t n)
{
    if (w->cap - w->len < n)
        return json_writer_fail(w, MOTE_ERR_BUFFER_TOO_SMALL);
    memcpy(w->buf + w->len, s, n);
    w->len += n;
    return MOTE_OK;
}

static JSON_NOINLINE int top_is_object(const mote_json_writer_t *w)
{
    unsigned d = w->depth - 1u;
    return w->depth && ((w->kinds[d >> 3] >> (d & 7)) & 1u);
}

/* Grammar check and separator before a value (0), a key (1) or a closing bracket (2). */
static int before(mote_json_writer_t *w, int what)
{
    int obj;
    if (!w)
        return MOTE_ERR_BAD_ARG;
    if (w->err)
        return w->err;
    obj = top_is_object(w);
    /* a close needs an open container and no key waiting for its value; in an object keys
     * and values alternate, elsewhere only values come, one at the top */
    if (what == 2 ? !w->depth || w->need_key != obj : w->done || what != w->need_key)
        return json_writer_fail(w, MOTE_ERR_JSON_NESTING);
    /* the comma goes before a key in an object, before a value in an array */
    return w->need_comma && what == obj ? put(w, ",", 1) : MOTE_OK;
}

/* Bookkeeping once a complete value has been written. */
static int after(mote_json_writer_t *w)
{
    w->done = !w->depth;
    w->need_comma = 1;
    w->need_key = (uint8_t)top_is_object(w);
    return MOTE_OK;
}

/* '{', '[', '}' or ']'. */
static int bracket(mote_json_writer_t *w, char c)
{
    int open = c & 2, object = c & 0x20, rc = before(w, open ? 0 : 2);
    unsigned d, bit;
    if (rc != MOTE_OK)
        return rc;
    if (open ? w->depth >= MOTE_JSON_WRITER_MAX_DEPTH : top_is_object(w) != !!object)
        return json_writer_fail(w, open ? MOTE_ERR_JSON_DEPTH : MOTE_ERR_JSON_NESTING);
    rc = put(w, &c, 1);
    if (rc != MOTE_OK)
        return rc;
    if (!open) {
        w->depth--;
        return after(w);
    }
    d = w->depth++;
    bit = 1u << (d & 7);
    w->kinds[d >> 3] = (uint8_t)(object ? w->kinds[d >> 3] | bit : w->kinds[d >> 3] & ~bit);
    w->need_comma = 0;
    w->need_key = !!object;
    return MOTE_OK;
}

int mote_json_write_object_begin(mote_json_writer_t *w) { return bracket(w, '{'); }
int mote_json_write_object_end(mote_json_writer_t *w) { return bracket(w, '}'); }
int mote_json_write_array_begin(mote_json_writer_t *w) { return bracket(w, '['); }
int mote_json_write_array_end(mote_json_writer_t *w) { return bracket(w, ']'); }

/* A key (then ':') or a string value: quoted, escaped, UTF-8 checked. */
static int string(mote_json_writer_t *w, const void *s, size_t len, int key)
{
    const uint8_t *p = (const uint8_t *)s, *e = p + len;
    int rc = before(w, key);
    if (rc == MOTE_OK && !s && len)
        rc = json_writer_fail(w, MOTE_ERR_BAD_ARG);
    if (rc == MOTE_OK)
        rc = put(w, "\"", 1);
    while (rc == MOTE_OK && p != e) {
        char esc[6] = {'\\', 'u', '0', '0', 0, 0};
        unsigned c = *p;
        size_t n = 1;
        if (c >= 0x80) {
            n = json_utf8_seq(p, e);
            if (!n)
                return json_writer_fail(w, MOTE_ERR_BAD_ARG);
        } else if (c < 0x20 || c == '"' || c == '\\') {
            /* \" \\ \b \t \n \f \r, other control bytes as \u00XX */
            esc[1] = (char)c;
            if (c < 0x20)
                esc[1] = c - 8u < 6u ? "btn\0fr"[c - 8] : 0;
            n = 2;
            if (!esc[1]) {
                esc[1] = 'u';
                esc[4] = (char)('0' + (c >> 4));
                esc[5] = "0123456789abcdef"[c & 15];
                n = 6;
            }
            rc = put(w, esc, n);
            p++;
            continue;
        }
        rc = put(w, p, n);
        p += n;
    }
    if (rc == MOTE_OK)
        rc = put(w, "\":", key ? 2u : 1u);
    if (rc != MOTE_OK)
        return rc;
    w->need_key = 0;
    return key ? MOTE_OK : after(w);
}

int mote_json_write_key(mote_json_writer_t *w, const char *key, size_t len)
{
    return string(w, key, len, 1);
}

int mote_json_write_string(mote_json_writer_t *w, const void *s, size_t len)
{
    return string(w, s, len, 0);
}

/* Writes one complete scalar token. */
static int scalar(mote_json_writer_t *w, const void *s, size_t n)
{
    int rc = before(w, 0);
    if (rc == MOTE_OK)
        rc = put(w, s, n);
    return rc == MOTE_OK ? after(w) : rc;
}

int mote_json_write_int64(mote_json_writer_t *w, int64_t v)
{
    /* Digits by long division in 16-bit pieces: no 64-bit division helper on 32-bit CPUs. */
    char tmp[20], *q = tmp + sizeof tmp;
    uint16_t part[4];
    uint64_t mag = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    unsigned k, nonzero;
    for (k = 0; k < 4; k++)
        part[k] = (uint16_t)(mag >> (48 - 16 * k));
    do {
        uint32_t r = 0;
        nonzero = 0;
        for (k = 0; k < 4; k++) {
            r = (r << 16) | part[k];
            part[k] = (uint16_t)(r / 10);
            r %= 10;
            nonzero |= part[k];
        }
        *--q = (char)('0' + r);
    } while (nonzero);
    if (v < 0)
        *--q = '-';
    return scalar(w, q, (size_t)(tmp + sizeof tmp - q));
}

int json_writer_value_begin(mote_json_writer_t *w)
{
    return before(w, 0);
}

int json_writer_value_end(mote_json_writer_t *w)
{
    return after(w);
}

int mote_json_write_bool(mote_json_writer_t *w, bool v)
{
    return scalar(w, v ? "true" : "false", v ? 4u : 5u);
}

int mote_json_write_null(mote_json_writer_t *w)
{
    return scalar(w, "null", 4);
}

int mote_json_write_raw(mote_json_writer_t *w, const void *json, size_t len)
{
    if (w && !w->err && mote_json_validate(json, len, NULL) != MOTE_OK)
        return json_writer_fail(w, MOTE_ERR_BAD_ARG);
    return scalar(w, json, len);
}

int mote_json_writer_finish(mote_json_writer_t *w, size_t *out_len)
{
    if (!w)
        return MOTE_ERR_BAD_ARG;
    if (w->err)
        return w->err;
    if (!w->done)
        return json_writer_fail(w, MOTE_ERR_JSON_NESTING);
    if (w->len < w->cap)
        w->buf[w->len] = '\0';
    if (out_len)
        *out_len = w->len;
    return MOTE_OK;
}
