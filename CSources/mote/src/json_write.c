/* JSON writer into a caller buffer. Grammar mistakes are caught as they happen; any error
 * sticks and empties the buffer, so a failed document can never be sent by mistake. */
#include <string.h>

#include "json_internal.h"

/* w->state: one bit for each step the grammar allows next, and whether a ',' goes first.
 * The steps a call needs are tested with one AND. Inside an array a value or ']' may come;
 * inside an object the same two bits shifted left by one: a key or '}' (so a close of the
 * wrong kind, or one while a key waits for its value, is simply a step not allowed). */
enum {
    W_VALUE = 1,     /* a value (an opening bracket too) */
    W_KEY = 2,       /* a key */
    W_CLOSE_ARR = 4, /* ']' */
    W_CLOSE_OBJ = 8, /* '}' */
    W_COMMA = 16,    /* an item was written at this level: ',' before the next one */
    W_END = 32       /* the top-level value is complete: only finishing is left */
};

void mote_json_writer_init(mote_json_writer_t *w, char *buf, size_t cap)
{
    if (!w)
        return;
    w->buf = buf;
    w->cap = 0;
    w->len = 0;
    w->err = 0;
    w->depth = 0;
    w->state = W_VALUE; /* one top-level value; w->kinds needs no clearing: a level's bit is
                           written when it opens */
    if (buf && cap) {
        w->cap = cap;
        buf[0] = '\0';
    }
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

/* Grammar check for one step (a W_ bit) and the separating comma before a key or value.
 * Returns MOTE_OK, MOTE_ERR_BAD_ARG (w NULL) or the writer's (now sticky) error. */
static JSON_NOINLINE int before(mote_json_writer_t *w, unsigned step)
{
    if (!w)
        return MOTE_ERR_BAD_ARG;
    if (w->err)
        return w->err;
    if (!(w->state & step))
        return json_writer_fail(w, MOTE_ERR_JSON_NESTING);
    return (w->state & W_COMMA) && step <= W_KEY ? put(w, ",", 1) : MOTE_OK;
}

/* What may come next at the current depth (its kind is the top bit of w->kinds); comma:
 * W_COMMA after an item, 0 after an opening bracket. Returns MOTE_OK. */
static JSON_NOINLINE int settle(mote_json_writer_t *w, unsigned comma)
{
    unsigned d = w->depth - 1u, state = W_END;
    if (w->depth)
        state = (unsigned)(W_VALUE | W_CLOSE_ARR) << ((w->kinds[d >> 3] >> (d & 7)) & 1u) | comma;
    w->state = (uint8_t)state;
    return MOTE_OK;
}

/* '{', '[', '}' or ']'. */
static int bracket(mote_json_writer_t *w, char c)
{
    unsigned open = c & 2, object = (c >> 5) & 1, d;
    int rc = before(w, open ? W_VALUE : (unsigned)W_CLOSE_ARR << object);
    if (rc == MOTE_OK && open && w->depth >= MOTE_JSON_WRITER_MAX_DEPTH)
        rc = json_writer_fail(w, MOTE_ERR_JSON_DEPTH);
    if (rc == MOTE_OK)
        rc = put(w, &c, 1);
    if (rc != MOTE_OK)
        return rc;
    d = w->depth;
    w->depth = (uint16_t)(open ? d + 1 : d - 1);
    if (open) /* the new level's kind bit */
        w->kinds[d >> 3] = (uint8_t)((w->kinds[d >> 3] & ~(1u << (d & 7))) | object << (d & 7));
    return settle(w, open ? 0 : W_COMMA);
}

int mote_json_write_object_begin(mote_json_writer_t *w) { return bracket(w, '{'); }
int mote_json_write_object_end(mote_json_writer_t *w) { return bracket(w, '}'); }
int mote_json_write_array_begin(mote_json_writer_t *w) { return bracket(w, '['); }
int mote_json_write_array_end(mote_json_writer_t *w) { return bracket(w, ']'); }

/* A key (then ':') or a string value: quoted, escaped, UTF-8 checked. */
static int string(mote_json_writer_t *w, const void *s, size_t len, unsigned step)
{
    const uint8_t *p = (const uint8_t *)s;
    int rc = before(w, step);
    if (rc != MOTE_OK)
        return rc;
    if (!s && len) /* before anything of the string is written */
        goto bad;
    rc = put(w, "\"", 1);
    while (rc == MOTE_OK && len) {
        char esc[6] = {'\\', 'u', '0', '0', 0, 0};
        unsigned c, x;
        size_t n = json_utf8_seq(p, p + len), m = n;
        const void *out = p;
        if (!n)
            goto bad;
        c = *p;
        if (c < 0x20 || c == '"' || c == '\\') {
            /* \" \\ \b \t \n \f \r, other control bytes as \u00XX */
            x = c - 8u < 6u ? (unsigned char)"btn\0fr"[c - 8] : c < 0x20 ? 0 : c;
            out = esc;
            m = 2;
            if (x)
                esc[1] = (char)x;
            else {
                x = c & 15;
                esc[4] = (char)('0' + (c >> 4));
                esc[5] = (char)(x + (x > 9 ? 'a' - 10 : '0'));
                m = 6;
            }
        }
        rc = put(w, out, m);
        p += n;
        len -= n;
    }
    if (rc == MOTE_OK)
        rc = put(w, "\":", step); /* W_KEY is 2, W_VALUE 1 */
    if (rc != MOTE_OK)
        return rc;
    if (step == W_VALUE)
        return settle(w, W_COMMA);
    w->state = W_VALUE;
    return MOTE_OK;
bad:
    return json_writer_fail(w, MOTE_ERR_BAD_ARG);
}

int mote_json_write_key(mote_json_writer_t *w, const char *key, size_t len)
{
    return string(w, key, len, W_KEY);
}

int mote_json_write_string(mote_json_writer_t *w, const void *s, size_t len)
{
    return string(w, s, len, W_VALUE);
}

/* Writes one complete scalar token. */
static int scalar(mote_json_writer_t *w, const void *s, size_t n)
{
    int rc = before(w, W_VALUE);
    if (rc == MOTE_OK)
        rc = put(w, s, n);
    return rc == MOTE_OK ? settle(w, W_COMMA) : rc;
}

int mote_json_write_int64(mote_json_writer_t *w, int64_t v)
{
    /* Digits by long division in 16-bit pieces (the top 32 bits, then two halves of the
     * low word with the remainder carried in): no 64-bit division helper on 32-bit CPUs. */
    char tmp[20], *q = tmp + sizeof tmp;
    uint64_t mag = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    uint32_t hi = (uint32_t)(mag >> 32), lo = (uint32_t)mag, r, t;
    do {
        r = hi % 10;
        hi /= 10;
        t = r << 16 | lo >> 16;
        r = t % 10;
        t /= 10;
        lo = (r << 16 | (lo & 0xFFFFu));
        r = lo % 10;
        lo = t << 16 | lo / 10;
        *--q = (char)('0' + r);
    } while (hi | lo);
    if (v < 0)
        *--q = '-';
    return scalar(w, q, (size_t)(tmp + sizeof tmp - q));
}

int json_writer_value_begin(mote_json_writer_t *w)
{
    return before(w, W_VALUE);
}

int json_writer_value_end(mote_json_writer_t *w)
{
    return settle(w, W_COMMA);
}

int mote_json_write_bool(mote_json_writer_t *w, bool v)
{
    return scalar(w, &"falsetrue"[v * 5u], 5u - v); /* one literal holds both words */
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
    int rc = before(w, W_END);
    if (rc != MOTE_OK)
        return rc;
    if (w->len < w->cap)
        w->buf[w->len] = '\0';
    if (out_len)
        *out_len = w->len;
    return MOTE_OK;
}
