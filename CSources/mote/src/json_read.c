/* Reading a document without a tree: iterate containers, look up members and elements,
 * and convert values (strings unescaped, integers range-checked). */
#include <string.h>

#include "json_internal.h"

/* Decodes one item of a validated string body at *pp (an escape or a raw byte) into out
 * (1..4 bytes), advancing *pp. Returns the byte count, 0 when the body is malformed.
 * Inlined into its two users so key comparison during a search calls nothing. */
static JSON_ALWAYS_INLINE size_t unescape_step(const uint8_t **pp, const uint8_t *end, uint8_t out[4])
{
    const uint8_t *p = *pp;
    long cp, lo;
    if (p >= end)
        return 0;
    if (*p != '\\') {
        out[0] = *p;
        *pp = p + 1;
        return 1;
    }
    if (end - p < 2)
        return 0;
    *pp = p + 2;
    switch (p[1]) {
    case 'b': out[0] = '\b'; return 1;
    case 'f': out[0] = '\f'; return 1;
    case 'n': out[0] = '\n'; return 1;
    case 'r': out[0] = '\r'; return 1;
    case 't': out[0] = '\t'; return 1;
    case '"': case '\\': case '/': out[0] = p[1]; return 1;
    case 'u': break;
    default: return 0;
    }
    cp = json_hex4(p + 2, end);
    if (cp < 0)
        return 0;
    p += 6;
    if (cp >= 0xD800 && cp <= 0xDFFF) {
        if (cp > 0xDBFF || end - p < 6 || p[0] != '\\' || p[1] != 'u')
            return 0;
        lo = json_hex4(p + 2, end);
        if (lo < 0xDC00 || lo > 0xDFFF)
            return 0;
        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        p += 6;
    }
    *pp = p;
    if (cp < 0x80) {
        out[0] = (uint8_t)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (uint8_t)(0xC0 | (cp >> 6));
        out[1] = (uint8_t)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (uint8_t)(0xE0 | (cp >> 12));
        out[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (uint8_t)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (uint8_t)(0xF0 | (cp >> 18));
    out[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (uint8_t)(0x80 | (cp & 0x3F));
    return 4;
}

int json_key_equals(const uint8_t *k, size_t klen, const char *s, size_t slen, int mode)
{
    const uint8_t *kend = k + klen;
    const char *send = s + slen;
    size_t i, n;
    uint8_t buf[4];
    for (i = 0; i < klen && k[i] != '\\'; i++) {
    }
    if (i == klen && mode == 0)
        return klen == slen && memcmp(k, s, klen) == 0;
    /* Slow path: escapes on either side; compare decoded bytes. */
    while (k < kend) {
        n = unescape_step(&k, kend, buf);
        if (!n)
            return 0;
        for (i = 0; i < n; i++) {
            uint8_t c;
            if (s == send)
                return 0;
            c = (uint8_t)*s++;
            if (mode == 1 && c == '\\' && s != send)
                c = (uint8_t)*s++;
            else if (mode == 2 && c == '~' && s != send)
                c = *s++ == '0' ? '~' : '/';
            if (c != buf[i])
                return 0;
        }
    }
    return s == send;
}

bool mote_json_string_equals(const mote_json_value_t *v, const char *key, size_t key_len)
{
    if (!v || v->type != MOTE_JSON_STRING || v->len < 2 || (!key && key_len))
        return false;
    return json_key_equals((const uint8_t *)v->ptr + 1, v->len - 2, key, key_len, 0) != 0;
}

int mote_json_iter_init(mote_json_iter_t *it, const mote_json_value_t *container)
{
    if (!it || !container || !container->ptr || !container->len)
        return MOTE_ERR_BAD_ARG;
    if (container->len < 2 || (container->ptr[0] != '{' && container->ptr[0] != '['))
        return MOTE_ERR_JSON_TYPE;
    it->doc = container->ptr;
    it->pos = container->ptr + 1;
    it->end = container->ptr + container->len - 1; /* the closing bracket */
    it->index = 0;
    it->is_object = container->ptr[0] == '{';
    return MOTE_OK;
}

static const uint8_t *skip_ws(const uint8_t *p, const uint8_t *end)
{
    while (p != end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
        p++;
    return p;
}

/* Scans one value at *pp (after whitespace) into v. */
static JSON_ALWAYS_INLINE int scan_item(struct json_scan *sc, mote_json_value_t *v)
{
    int rc;
    sc->p = skip_ws(sc->p, sc->end);
    v->ptr = (const char *)sc->p;
    rc = json_scan_value(sc);
    if (rc != MOTE_OK)
        return rc;
    v->len = (size_t)(sc->p - (const uint8_t *)v->ptr);
    v->type = json_type_of(*(const uint8_t *)v->ptr);
    return MOTE_OK;
}

int mote_json_iter_next(mote_json_iter_t *it, mote_json_value_t *key, mote_json_value_t *value,
                        mote_json_error_t *err)
{
    struct json_scan sc;
    mote_json_value_t tmp; /* stands in for a NULL key or value (one is enough) */
    int rc;
    if (!it || !it->doc)
        return MOTE_ERR_BAD_ARG;
    if (!key)
        key = &tmp;
    if (!value)
        value = &tmp;
    sc.path = NULL;
    sc.end = (const uint8_t *)it->end;
    sc.p = skip_ws((const uint8_t *)it->pos, sc.end);
    if (sc.p == sc.end)
        return MOTE_ERR_NOT_FOUND;
    key->ptr = NULL;
    key->len = 0;
    key->type = MOTE_JSON_NONE;
    sc.reason = MOTE_JSON_R_EXPECTED_COMMA;
    if (it->index > 0) {
        if (*sc.p != ',')
            goto syntax;
        sc.p++;
    }
    if (it->is_object) {
        sc.p = skip_ws(sc.p, sc.end);
        sc.reason = MOTE_JSON_R_EXPECTED_KEY;
        if (sc.p == sc.end || *sc.p != '"')
            goto syntax;
        rc = scan_item(&sc, key);
        if (rc != MOTE_OK)
            goto fail;
        sc.p = skip_ws(sc.p, sc.end);
        sc.reason = MOTE_JSON_R_EXPECTED_COLON;
        if (sc.p == sc.end || *sc.p != ':')
            goto syntax;
        sc.p++;
    }
    rc = scan_item(&sc, value);
    if (rc != MOTE_OK)
        goto fail;
    it->pos = (const char *)sc.p;
    it->index++;
    return MOTE_OK;
syntax:
    rc = MOTE_ERR_JSON_SYNTAX;
fail:
    json_set_error(err, &sc, (const uint8_t *)it->doc);
    it->pos = it->end; /* stop */
    return rc;
}

int mote_json_get_bool(const mote_json_value_t *v, bool *out)
{
    if (!v || !out || !v->ptr)
        return MOTE_ERR_BAD_ARG;
    if (v->len == 4 && memcmp(v->ptr, "true", 4) == 0)
        *out = true;
    else if (v->len == 5 && memcmp(v->ptr, "false", 5) == 0)
        *out = false;
    else
        return MOTE_ERR_JSON_TYPE;
    return MOTE_OK;
}

int mote_json_get_null(const mote_json_value_t *v)
{
    if (!v || !v->ptr)
        return MOTE_ERR_BAD_ARG;
    return v->len == 4 && memcmp(v->ptr, "null", 4) == 0 ? MOTE_OK : MOTE_ERR_JSON_TYPE;
}

int mote_json_get_string(const mote_json_value_t *v, char *buf, size_t cap, size_t *out_len)
{
    const uint8_t *p, *end;
    size_t n = 0, k;
    uint8_t tmp[4];
    if (!v || !v->ptr || (!buf && cap))
        return MOTE_ERR_BAD_ARG;
    if (v->len < 2 || v->ptr[0] != '"')
        return MOTE_ERR_JSON_TYPE;
    p = (const uint8_t *)v->ptr + 1;
    end = (const uint8_t *)v->ptr + v->len - 1;
    while (p < end) {
        k = unescape_step(&p, end, tmp);
        if (!k)
            return MOTE_ERR_JSON_SYNTAX;
        if (n + k < cap)
            memcpy(buf + n, tmp, k);
        n += k;
    }
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
