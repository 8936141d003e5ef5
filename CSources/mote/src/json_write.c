/* JSON writer into a caller buffer. Grammar mistakes are caught as they happen; any error
 * sticks and empties the buffer, so a failed document can never be sent by mistake. */
#include <string.h>

#include "json_internal.h"

/* The steps a call asks for (one bit each, tested against the steps the grammar allows
 * next with one AND). Inside an array a value or ']' may come; inside an object the same two
 * bits shifted left by one: a key or '}' (so a close of the wrong kind, or one while a key
 * waits for its value, is simply a step not allowed). */
enum {
    W_VALUE = 1,     /* a value (an opening bracket too) */
    W_KEY = 2,       /* a key */
    W_CLOSE_ARR = 4, /* ']' */
    W_CLOSE_OBJ = 8, /* '}' */
    W_END = 16,      /* finishing: the top-level value is complete */
    W_OPEN = 32      /* with W_VALUE: an opening bracket (the depth limit applies) */
};

/* w->state: what was written last at the current level (the steps allowed next follow from
 * it, the depth and the level's kind bit, so no call has to work them out ahead). */
enum {
    S_ITEM = 1, /* a value (a member's value in an object): ',' before the next one; at the
                   top level, only finishing is left */
    S_KEYED = 2 /* a key: its value is due */
};              /* 0: nothing yet (after an opening bracket, or at the start) */

void mote_json_writer_init(mote_json_writer_t *w, char *buf, size_t cap)
{
    if (!w)
        return;
    w->buf = buf;
    w->cap = 0;
    w->len = 0;
    w->err = 0;
    w->depth = 0;
    w->state = 0; /* w->kinds needs no clearing: a level's bit is written when it opens */
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

/* One step (step 0: more text of the current one): the grammar check, the separating
 * comma, the depth limit for an opening bracket, then n bytes of s. Returns MOTE_OK,
 * MOTE_ERR_BAD_ARG (w NULL) or the writer's (now sticky) error. */
static JSON_NOINLINE int emit(mote_json_writer_t *w, unsigned step, const void *s, size_t n)
{
    char *dst;
    if (step) {
        unsigned st, d, allowed;
        if (!w)
            return MOTE_ERR_BAD_ARG;
        if (w->err)
            return w->err;
        st = w->state;
        d = w->depth;
        allowed = st ? W_END : W_VALUE; /* the top level: one value */
        if (d--)
            allowed = (unsigned)(W_VALUE | W_CLOSE_ARR) << ((w->kinds[d >> 3] >> (d & 7)) & 1u);
        if (st & S_KEYED)
            allowed = W_VALUE;
        if (!(allowed & step))
            return json_writer_fail(w, MOTE_ERR_JSON_NESTING);
        if ((st & S_ITEM) && (step & (W_VALUE | W_KEY))) {
            if (w->cap == w->len)
                return json_writer_fail(w, MOTE_ERR_BUFFER_TOO_SMALL);
            w->buf[w->len++] = ',';
        }
        if ((step & W_OPEN) && w->depth >= MOTE_JSON_WRITER_MAX_DEPTH)
            return json_writer_fail(w, MOTE_ERR_JSON_DEPTH);
        /* a whole value or a closing bracket completes an item of the level (an opening
         * bracket or a key changes this afterwards; a failure from here on sticks, so the
         * state no longer matters then) */
        w->state = S_ITEM;
    }
    if (!n)
        return MOTE_OK;
    if (w->cap - w->len < n)
        return json_writer_fail(w, MOTE_ERR_BUFFER_TOO_SMALL);
    dst = w->buf + w->len;
    w->len += n;
    memcpy(dst, s, n); /* last: nothing of the frame is needed after it */
    return MOTE_OK;
}

/* k: 0 '[', 1 '{', 2 ']', 3 '}'. */
static int bracket(mote_json_writer_t *w, unsigned k)
{
    unsigned object = k & 1, d;
    int rc = emit(w, k < 2 ? W_VALUE | W_OPEN : (unsigned)W_CLOSE_ARR << object, &"[{]}"[k], 1);
    if (rc != MOTE_OK)
        return rc;
    d = w->depth; /* an opening bracket adds a level, a closing one removes it (emit has
                     recorded the closed level as an item of its parent) */
    if (k < 2) { /* the new level's kind bit */
        w->kinds[d >> 3] = (uint8_t)((w->kinds[d >> 3] & ~(1u << (d & 7))) | object << (d & 7));
        d += 2;
        w->state = 0;
    }
    w->depth = (uint16_t)(d - 1);
    return MOTE_OK;
}

int mote_json_write_object_begin(mote_json_writer_t *w) { return bracket(w, 1); }
int mote_json_write_object_end(mote_json_writer_t *w) { return bracket(w, 3); }
int mote_json_write_array_begin(mote_json_writer_t *w) { return bracket(w, 0); }
int mote_json_write_array_end(mote_json_writer_t *w) { return bracket(w, 2); }

/* A key (then ':') or a string value: quoted, escaped, UTF-8 checked. */
static int string(mote_json_writer_t *w, const void *s, size_t len, unsigned step)
{
    const uint8_t *p = (const uint8_t *)s;
    int rc = emit(w, step, NULL, 0);
    if (rc != MOTE_OK)
        return rc;
    if (!s && len) /* before anything of the string is written */
        goto bad;
    rc = emit(w, 0, "\":", 1); /* the opening quote (one literal for both) */
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
        rc = emit(w, 0, out, m);
        p += n;
        len -= n;
    }
    if (rc == MOTE_OK)
        rc = emit(w, 0, "\":", step); /* W_KEY is 2, W_VALUE 1 */
    if (rc == MOTE_OK)
        w->state = (uint8_t)step; /* S_KEYED is W_KEY, S_ITEM W_VALUE */
    return rc;
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
    return emit(w, W_VALUE, q, (size_t)(tmp + sizeof tmp - q));
}

int json_writer_value_begin(mote_json_writer_t *w)
{
    return emit(w, W_VALUE, NULL, 0);
}

int json_writer_value_end(mote_json_writer_t *w)
{
    (void)w; /* value_begin recorded the item already */
    return MOTE_OK;
}

int mote_json_write_bool(mote_json_writer_t *w, bool v)
{
    return emit(w, W_VALUE, &"falsetrue"[v * 5u], 5u - v); /* one literal holds both words */
}

int mote_json_write_null(mote_json_writer_t *w)
{
    return emit(w, W_VALUE, "null", 4);
}

int mote_json_write_raw(mote_json_writer_t *w, const void *json, size_t len)
{
    if (w && !w->err && mote_json_validate(json, len, NULL) != MOTE_OK)
        return json_writer_fail(w, MOTE_ERR_BAD_ARG);
    return emit(w, W_VALUE, json, len);
}

int mote_json_writer_finish(mote_json_writer_t *w, size_t *out_len)
{
    int rc = emit(w, W_END, NULL, 0);
    if (rc != MOTE_OK)
        return rc;
    if (w->len < w->cap)
        w->buf[w->len] = '\0';
    if (out_len)
        *out_len = w->len;
    return MOTE_OK;
}
