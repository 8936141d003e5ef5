/* Reading a document without a tree: iterate containers, look up members and elements,
 * and convert values (strings unescaped, integers range-checked). */
#include <string.h>

#include "json_internal.h"

/* Value of the 4 hex digits at p, -1 if not 4 hex digits before end. */
static JSON_ALWAYS_INLINE long hex4(const uint8_t *p, const uint8_t *end)
{
    long v = 0;
    int i;
    if (end - p < 4)
        return -1;
    for (i = 0; i < 4; i++) {
        unsigned c = p[i] - (unsigned)'0';
        if (c > 9) {
            /* a letter in either case (tested after the digits: bytes 0x10..0x19 with
             * 0x20 set would pass for digits) */
            c = (p[i] | 0x20u) - (unsigned)'a';
            if (c > 5)
                return -1;
            c += 10;
        }
        v = v * 16 + (long)c;
    }
    return v;
}

/* The JSON_HIDEs are placed by measurement: together 32 B less -Os code on Cortex-M4. */
size_t json_string_walk(struct json_find *f, const uint8_t *k, const uint8_t *kend)
{
    const char *s = f ? f->key : (const char *)k; /* without f: where the escape starts */
    const unsigned mode = f ? f->key_mode : 0; /* read once (stores to u.buf may alias f) */
    size_t n = 0;
    while (k < kend) {
        unsigned long enc = *k++, lo; /* the UTF-8 bytes of one item, first in the low byte */
        if (enc == '"') /* the end of a key compared before it is scanned */
            break;
        JSON_HIDE(k);
        if (enc == '\\') {
            if (k == kend)
                goto bad;
            enc = *k++;
            if (enc != 'u') {
                /* the one-letter escapes, each followed by its byte */
                const char *e = "b\bf\fn\nr\rt\t\"\"\\\\//";
                while (*e && (unsigned char)*e != enc)
                    e += 2;
                if (!*e)
                    goto bad;
                enc = (unsigned char)e[1];
            } else {
                /* \uXXXX, or a high surrogate and an escaped low one */
                for (enc = 0;;) {
                    lo = (unsigned long)hex4(k, kend);
                    if (lo > 0xFFFF) { /* not 4 hex digits */
                        if (enc)
                            goto bad_pair;
                        goto bad;
                    }
                    k += 4;
                    if (enc) {
                        if (lo - 0xDC00 > 0x3FF)
                            goto bad_pair;
                        enc = 0x10000 + ((enc - 0xD800) << 10) + (lo - 0xDC00);
                        break;
                    }
                    enc = lo;
                    JSON_HIDE(enc);
                    if (enc - 0xD800 >= 0x800)
                        break;
                    if (enc > 0xDBFF || kend - k < 6 || k[0] != '\\' || k[1] != 'u')
                        goto bad_pair;
                    k += 2;
                }
                JSON_HIDE(enc);
                if (enc >= 0x80) {
                    /* continuation bytes from the low end while the rest does not fit in
                     * the lead byte (room: 5, 4, then 3 bits), then the lead with its
                     * marker (0xC0, 0xE0, 0xF0: the bits above room's) */
                    unsigned long cp = enc, room = 0x20;
                    for (enc = 0;; room >>= 1) {
                        enc = (enc | 0x80 | (cp & 0x3F)) << 8;
                        cp >>= 6;
                        if (cp < room)
                            break;
                    }
                    enc |= (0x100 - 2 * room) | cp;
                }
            }
        }
        if (!f)
            return (size_t)(k - (const uint8_t *)s);
        do {
            if (mode == JSON_COPY) {
                if (n < f->index)
                    f->u.buf[n] = (uint8_t)enc;
            } else {
                uint8_t c;
                if (s == f->rest)
                    return 0;
                c = (uint8_t)*s++;
                JSON_HIDE(s);
                /* the path's escape byte ('\\' or '~', 0 for a raw key) is never the key's
                 * last byte (json_path.c checks) */
                if (c && c == mode) {
                    c = (uint8_t)*s++;
                    if (mode == '~')
                        c = c == '0' ? '~' : '/';
                }
                if (c != (uint8_t)enc)
                    return 0;
            }
            n++;
            enc >>= 8;
        } while (enc);
    }
    return mode == JSON_COPY ? n : s == f->rest;
bad_pair:
    return (size_t)-1 - !f; /* -2 for the scanner */
bad:
    return (size_t)-1;
}

bool mote_json_string_equals(const mote_json_value_t *v, const char *key, size_t key_len)
{
    struct json_find sc;
    if (!v || v->type != MOTE_JSON_STRING || v->len < 2 || (!key && key_len))
        return false;
    sc.key = key ? key : (const char *)v; /* an empty key is never read (no NULL + 0) */
    sc.rest = sc.key + key_len;
    sc.key_mode = 0;
    return json_string_walk(&sc, (const uint8_t *)v->ptr + 1, (const uint8_t *)v->ptr + v->len - 1) == 1;
}

int mote_json_iter_init(mote_json_iter_t *it, const mote_json_value_t *container)
{
    unsigned c;
    if (!it || !container || !container->ptr || !container->len)
        return MOTE_ERR_BAD_ARG;
    c = (uint8_t)container->ptr[0];
    /* '{' or '[', and the span ends with its closer ('}' and ']' are 2 above) */
    if (container->len < 2 || (c | 0x20) != '{' ||
        (uint8_t)container->ptr[container->len - 1] != c + 2)
        return MOTE_ERR_JSON_TYPE;
    it->doc = container->ptr;
    it->pos = container->ptr + 1;
    it->end = container->ptr + container->len - 1; /* the closing bracket */
    it->index = 0;
    it->is_object = (uint8_t)((c >> 5) & 1); /* '{' has bit 5, '[' not */
    return MOTE_OK;
}

int mote_json_iter_next(mote_json_iter_t *it, mote_json_value_t *key, mote_json_value_t *value,
                        mote_json_error_t *err)
{
    /* A search with an empty path over the rest of the container, at depth 0: the
     * scanner checks the item's grammar, takes the next value as the match (after its key
     * in an object) and stops after it. */
    struct json_find f;
    const char *q;
    int rc;
    if (!it || !it->doc || !value)
        return MOTE_ERR_BAD_ARG;
    q = it->pos;
    value->ptr = NULL;
    f.sc.p = (const uint8_t *)q;
    f.sc.end = (const uint8_t *)it->end;
    /* before the first item, else after one (the state after an item follows the other) */
    f.sc.start = (uint8_t)((it->is_object ? JSON_ST_KEY : JSON_ST_ELEM) + (it->index != 0));
    f.sc.search = 1;
    f.kinds = 0;
    f.u.out = value;
    rc = json_scan_value(&f.sc);
    JSON_HIDE(rc); /* size builds: 10 B less (placed by measurement) */
    if (rc != MOTE_OK) {
        it->pos = it->end; /* stop */
        return json_scan_error(rc, err, &f.sc, it->doc);
    }
    if (key) {
        key->ptr = NULL;
        key->len = 0;
        key->type = MOTE_JSON_NONE;
        if (it->is_object) {
            /* only whitespace and ',' lie before the key's opening quote (from the
             * previous position), only whitespace and ':' between its closing quote and
             * the value */
            for (q = it->pos; *q != '"'; q++) {
            }
            key->ptr = q;
            for (q = value->ptr; *--q != '"';) {
            }
            key->len = (size_t)(q + 1 - key->ptr);
            key->type = MOTE_JSON_STRING;
        }
    }
    it->pos = (const char *)f.sc.p;
    it->index++;
    return MOTE_OK;
}

/* Is v exactly the literal word (n bytes)? MOTE_OK, MOTE_ERR_JSON_TYPE or MOTE_ERR_BAD_ARG. */
static int literal(const mote_json_value_t *v, const char *word, size_t n)
{
    if (!v || !v->ptr)
        return MOTE_ERR_BAD_ARG;
    return v->len == n && memcmp(v->ptr, word, n) == 0 ? MOTE_OK : MOTE_ERR_JSON_TYPE;
}

int mote_json_get_bool(const mote_json_value_t *v, bool *out)
{
    int rc = literal(v, "true", 4);
    if (!out)
        return MOTE_ERR_BAD_ARG;
    *out = rc == MOTE_OK;
    return rc == MOTE_ERR_JSON_TYPE ? literal(v, "false", 5) : rc;
}

int mote_json_get_null(const mote_json_value_t *v)
{
    return literal(v, "null", 4);
}

int mote_json_get_string(const mote_json_value_t *v, char *buf, size_t cap, size_t *out_len)
{
    struct json_find sc;
    size_t n;
    if (!v || !v->ptr || (!buf && cap))
        return MOTE_ERR_BAD_ARG;
    if (v->len < 2 || v->ptr[0] != '"')
        return MOTE_ERR_JSON_TYPE;
    sc.key_mode = JSON_COPY;
    sc.u.buf = (uint8_t *)buf;
    sc.index = cap;
    n = json_string_walk(&sc, (const uint8_t *)v->ptr + 1, (const uint8_t *)v->ptr + v->len - 1);
    if (n == (size_t)-1)
        return MOTE_ERR_JSON_SYNTAX;
    if (out_len)
        *out_len = n;
    if (n >= cap) {
        if (cap)
            buf[0] = '\0';
        return MOTE_ERR_BUFFER_TOO_SMALL;
    }
    buf[n] = '\0';
    return MOTE_OK;
}
