/* The JSON scanner: one loop over the bytes, no recursion, nesting kept in a bit stack.
 * Validation and path search are the same pass; search only adds a few checks at keys,
 * array elements and closing brackets at the one depth it is watching. */
#include <string.h>

#include "json_internal.h"
#include "json_path.h"

/* Strings are skipped a machine word at a time: a word is "plain" when it holds no quote,
 * backslash, control byte or non-ASCII byte, which is most of a typical document. */
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && (__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__)
#define JSON_SWAR 1
#if UINTPTR_MAX > 0xFFFFFFFFu
typedef uint64_t json_word_t;
#define JSON_CTZ(x) __builtin_ctzll(x)
#else
typedef uint32_t json_word_t;
#define JSON_CTZ(x) __builtin_ctz(x)
#endif
#define JSON_ONES ((json_word_t)-1 / 0xFF)
/* An unaligned word load; the builtin stays a plain load even under -ffreestanding. */
#define JSON_LOAD(v, p) __builtin_memcpy(&(v), (p), sizeof(v))
#else
#define JSON_SWAR 0
#endif

#define IS_DIGIT(c) ((unsigned)((c) - '0') < 10u)

/* Literal checks; the builtin compiles to a word compare even under -ffreestanding. */
#if defined(__GNUC__)
#define JSON_MEMCMP __builtin_memcmp
#else
#define JSON_MEMCMP memcmp
#endif

size_t json_utf8_seq(const uint8_t *p, const uint8_t *end)
{
    unsigned c = p[0], lo = 0x80, hi = 0xBF;
    size_t n, i;
    if (c < 0x80)
        return 1;
    if (c < 0xC2) /* continuation byte, or an overlong 2-byte lead */
        return 0;
    if (c < 0xE0) {
        n = 2;
    } else if (c < 0xF0) {
        n = 3;
        if (c == 0xE0)
            lo = 0xA0; /* overlong */
        else if (c == 0xED)
            hi = 0x9F; /* UTF-16 surrogates */
    } else if (c < 0xF5) {
        n = 4;
        if (c == 0xF0)
            lo = 0x90; /* overlong */
        else if (c == 0xF4)
            hi = 0x8F; /* above U+10FFFF */
    } else {
        return 0;
    }
    if ((size_t)(end - p) < n || p[1] < lo || p[1] > hi)
        return 0;
    for (i = 2; i < n; i++)
        if ((p[i] & 0xC0) != 0x80)
            return 0;
    return n;
}

/* Validates the escape at p (p[0] == '\\'); returns the byte after it or NULL. */
static const uint8_t *scan_escape(struct json_scan *sc, const uint8_t *p, const uint8_t *end)
{
    long cp, lo;
    if (end - p < 2)
        goto bad;
    switch (p[1]) {
    case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
        return p + 2;
    case 'u':
        break;
    default:
        goto bad;
    }
    cp = json_hex4(p + 2, end);
    if (cp < 0)
        goto bad;
    if (cp < 0xD800 || cp > 0xDFFF)
        return p + 6;
    /* A high surrogate must be followed by an escaped low one: only pairs map to UTF-8. */
    if (cp <= 0xDBFF && end - p >= 12 && p[6] == '\\' && p[7] == 'u') {
        lo = json_hex4(p + 8, end);
        if (lo >= 0xDC00 && lo <= 0xDFFF)
            return p + 12;
    }
    sc->reason = MOTE_JSON_R_BAD_SURROGATE;
    sc->p = p;
    return NULL;
bad:
    sc->reason = MOTE_JSON_R_BAD_ESCAPE;
    sc->p = p;
    return NULL;
}

/* Skips a string body starting after the opening quote; returns the byte after the closing
 * quote, or NULL with sc->reason and sc->p set. */
static inline const uint8_t *scan_string(struct json_scan *sc, const uint8_t *p, const uint8_t *end)
{
    unsigned c;
    for (;;) {
#if JSON_SWAR
        while ((size_t)(end - p) >= sizeof(json_word_t)) {
            json_word_t v, q, b, m;
            JSON_LOAD(v, p);
            /* q = v ^ 0x02 maps '"' to 0x20 and keeps control bytes below 0x20, so one
             * "below 0x21" test finds both; backslash is a zero byte of v ^ '\\'; bytes
             * from 0x80 have their top bit set already. Borrows only disturb bytes after
             * the first flagged one, and only the first is used. */
            q = v ^ (JSON_ONES * 0x02);
            b = v ^ (JSON_ONES * '\\');
            m = ((q - JSON_ONES * 0x21) | ((b - JSON_ONES) & ~b) | v) & (JSON_ONES * 0x80);
            if (m) {
                p += (unsigned)JSON_CTZ(m) >> 3;
                goto special;
            }
            p += sizeof(json_word_t);
        }
#endif
        for (;;) {
            if (p == end) {
                sc->reason = MOTE_JSON_R_UNEXPECTED_END;
                sc->p = p;
                return NULL;
            }
            c = *p;
            if (c == '"' || c == '\\' || c < 0x20 || c >= 0x80)
                break;
            p++;
        }
#if JSON_SWAR
    special:
#endif
        c = *p;
        if (c == '"')
            return p + 1;
        if (c == '\\') {
            p = scan_escape(sc, p, end);
            if (!p)
                return NULL;
        } else if (c < 0x20) {
            sc->reason = MOTE_JSON_R_CONTROL_CHAR;
            sc->p = p;
            return NULL;
        } else {
            size_t n = json_utf8_seq(p, end);
            if (!n) {
                sc->reason = MOTE_JSON_R_BAD_UTF8;
                sc->p = p;
                return NULL;
            }
            p += n;
        }
    }
}

mote_json_type_t json_type_of(uint8_t c)
{
    switch (c) {
    case '{': return MOTE_JSON_OBJECT;
    case '[': return MOTE_JSON_ARRAY;
    case '"': return MOTE_JSON_STRING;
    case 't': case 'f': return MOTE_JSON_BOOL;
    case 'n': return MOTE_JSON_NULL;
    default: return MOTE_JSON_NUMBER;
    }
}

const uint8_t *json_scalar_end(const uint8_t *p, const uint8_t *end)
{
    struct json_scan sc;
    switch (*p) {
    case '"':
        p = scan_string(&sc, p + 1, end);
        return p ? p : end;
    case 't': case 'n':
        return p + 4;
    case 'f':
        return p + 5;
    default:
        while (p != end && (IS_DIGIT(*p) || *p == '-' || *p == '+' || *p == '.' || (*p | 0x20) == 'e'))
            p++;
        return p;
    }
}

#define IS_WS(c) ((c) == ' ' || (c) == '\n' || (c) == '\r' || (c) == '\t')
#define IS_ARRAY(d) ((kinds[((d) - 1) >> 3] >> (((d) - 1) & 7)) & 1u)
#define TOP 256u /* closer of the top level: matches no byte */
#define ARMED 0x10000u /* search: above any depth */

/* Skips digits, a word at a time: numbers are the most common values in device data. */
static inline const uint8_t *skip_digits(const uint8_t *p, const uint8_t *end)
{
#if JSON_SWAR
    while ((size_t)(end - p) >= sizeof(json_word_t)) {
        json_word_t v, t;
        JSON_LOAD(v, p);
        /* high bit set in each byte outside '0'..'9' (carries only reach later bytes) */
        t = ((v + JSON_ONES * 0x46) | (v - JSON_ONES * 0x30)) & (JSON_ONES * 0x80);
        if (t)
            return p + ((unsigned)JSON_CTZ(t) >> 3);
        p += sizeof(json_word_t);
    }
#endif
    while (p != end && IS_DIGIT(*p))
        p++;
    return p;
}

/* The scanner. `search` is a constant at each call site, so the validate-only copy carries
 * no search checks at all (size-optimised builds keep one copy for both).
 * Whitespace is rare in device documents: every place first tests for the byte it expects
 * and only then looks for whitespace. */
static JSON_ALWAYS_INLINE int scan_impl(struct json_scan *sc, const int search)
{
    const uint8_t *p = sc->p;
    const uint8_t *const end = sc->end;
    uint8_t kinds[(MOTE_JSON_MAX_DEPTH + 7) / 8]; /* bit set: that level is an array */
    unsigned depth = 0;
    unsigned closer = TOP; /* '}' or ']' closing the innermost open container */
    /* search: the depth whose keys/elements are matched (0 = none), or ARMED when the next
     * value is the one the path matched so far (one variable keeps the frame small) */
    unsigned watch = search && sc->path ? ARMED : 0;
    unsigned c;

value:
    if (p == end)
        goto eof;
    c = *p;
value_c: /* c == *p */
    if (search && watch == ARMED && c > ' ')
        watch = json_path_on_value(sc->path, p, depth);
    switch (c) {
    case ' ': case '\t': case '\n': case '\r':
        if (++p == end)
            goto eof;
        c = *p;
        goto value_c;
    case '{':
        if (depth >= MOTE_JSON_MAX_DEPTH)
            goto too_deep;
        kinds[depth >> 3] &= (uint8_t)~(1u << (depth & 7));
        depth++;
        closer = '}';
        if (++p == end)
            goto eof;
        c = *p;
        if (c == '"')
            goto key;
        if (c == '}') {
            p++;
            goto close;
        }
        goto key_ws;
    case '[':
        if (depth >= MOTE_JSON_MAX_DEPTH)
            goto too_deep;
        kinds[depth >> 3] |= (uint8_t)(1u << (depth & 7));
        depth++;
        closer = ']';
        if (++p == end)
            goto eof;
        c = *p;
        while (IS_WS(c)) {
            if (++p == end)
                goto eof;
            c = *p;
        }
        if (c == ']') {
            p++;
            goto close;
        }
        if (search && depth == watch && json_path_on_element(sc->path)) {
            json_path_advance(sc->path);
            watch = ARMED;
        }
        goto value_c;
    case '"':
        p = scan_string(sc, p + 1, end);
        if (!p)
            return MOTE_ERR_JSON_SYNTAX;
        goto next;
    case '-':
        if (++p == end || !IS_DIGIT(*p))
            goto bad_number;
        /* fall through */
    case '0': case '1': case '2': case '3': case '4':
    case '5': case '6': case '7': case '8': case '9':
        if (*p == '0') {
            if (++p != end && IS_DIGIT(*p))
                goto bad_number;
        } else {
            p = skip_digits(p + 1, end);
        }
        if (p == end || (*p != '.' && (*p | 0x20) != 'e'))
            goto next;
        if (*p == '.') {
            if (++p == end || !IS_DIGIT(*p))
                goto bad_number;
            p = skip_digits(p + 1, end);
            if (p == end || (*p | 0x20) != 'e')
                goto next;
        }
        if (++p != end && (*p == '+' || *p == '-'))
            p++;
        if (p == end || !IS_DIGIT(*p))
            goto bad_number;
        p = skip_digits(p + 1, end);
        goto next;
    case 't':
        if (end - p >= 4 && JSON_MEMCMP(p, "true", 4) == 0) {
            p += 4;
            goto next;
        }
        goto bad_literal;
    case 'f':
        if (end - p >= 5 && JSON_MEMCMP(p, "false", 5) == 0) {
            p += 5;
            goto next;
        }
        goto bad_literal;
    case 'n':
        if (end - p >= 4 && JSON_MEMCMP(p, "null", 4) == 0) {
            p += 4;
            goto next;
        }
        goto bad_literal;
    default:
        sc->reason = MOTE_JSON_R_UNEXPECTED_CHAR;
        goto fail;
    }

key_ws: /* c == *p: whitespace expected before a member */
    while (IS_WS(c)) {
        if (++p == end)
            goto eof;
        c = *p;
    }
    if (c != '"') {
        sc->reason = MOTE_JSON_R_EXPECTED_KEY;
        goto fail;
    }
key: /* *p == '"', the first byte of an object member */
    {
        const uint8_t *k = p + 1;
        p = scan_string(sc, k, end);
        if (!p)
            return MOTE_ERR_JSON_SYNTAX;
        if (search && depth == watch) {
            /* The comparison is called from here, not from a path hook, so the deepest
             * call chain under the scanner is one leaf function. */
            struct json_path *jp = sc->path;
            if (!jp->found_pending && (jp->kinds & JSON_PATH_OBJECT) &&
                json_key_equals(k, (size_t)(p - 1 - k), jp->key, jp->key_len, jp->key_mode)) {
                json_path_advance(jp);
                watch = ARMED;
            }
        }
    }
    if (p != end && *p == ':') {
        p++;
        goto value;
    }
    for (;;) {
        if (p == end)
            goto eof;
        c = *p;
        if (!IS_WS(c))
            break;
        p++;
    }
    if (c != ':') {
        sc->reason = MOTE_JSON_R_EXPECTED_COLON;
        goto fail;
    }
    p++;
    goto value;

next: /* after a value */
    if (p == end)
        goto eof_after_value;
    c = *p;
next_c:
    if (c == ',') {
        if (closer == ']') {
            p++;
            if (search && depth == watch && json_path_on_element(sc->path)) {
                json_path_advance(sc->path);
                watch = ARMED;
            }
            goto value;
        }
        if (closer == '}') {
            if (++p == end)
                goto eof;
            c = *p;
            if (c == '"')
                goto key;
            goto key_ws;
        }
        goto done;
    }
    if (c == closer) {
        p++;
        goto close;
    }
    if (IS_WS(c)) {
        if (++p == end)
            goto eof_after_value;
        c = *p;
        goto next_c;
    }
    if (closer == TOP)
        goto done;
    sc->reason = MOTE_JSON_R_EXPECTED_COMMA;
    goto fail;

close: /* p is after a closing bracket */
    if (search && depth == watch) {
        json_path_on_close(sc->path, p);
        watch = 0;
    }
    depth--;
    closer = depth == 0 ? TOP : IS_ARRAY(depth) ? (unsigned)']' : (unsigned)'}';
    goto next;

done: /* the top-level value ended; values never end in whitespace, so step back over it */
    while (IS_WS(p[-1]))
        p--;
    sc->p = p;
    return MOTE_OK;
bad_number:
    sc->reason = MOTE_JSON_R_BAD_NUMBER;
    goto fail;
bad_literal:
    sc->reason = MOTE_JSON_R_BAD_LITERAL;
    goto fail;
eof_after_value:
    if (closer == TOP)
        goto done;
eof:
    sc->reason = MOTE_JSON_R_UNEXPECTED_END;
    goto fail;
too_deep:
    sc->reason = MOTE_JSON_R_TOO_DEEP;
    sc->p = p;
    return MOTE_ERR_JSON_DEPTH;
fail:
    sc->p = p;
    return MOTE_ERR_JSON_SYNTAX;
}

#ifdef __OPTIMIZE_SIZE__
int json_scan_value(struct json_scan *sc)
{
    return scan_impl(sc, 1);
}
#else
static int scan_validate(struct json_scan *sc)
{
    return scan_impl(sc, 0);
}

static int scan_search(struct json_scan *sc)
{
    return scan_impl(sc, 1);
}

int json_scan_value(struct json_scan *sc)
{
    return sc->path ? scan_search(sc) : scan_validate(sc);
}
#endif

void json_set_error(mote_json_error_t *err, const struct json_scan *sc, const uint8_t *base)
{
    if (err) {
        err->offset = (size_t)(sc->p - base);
        err->reason = sc->reason;
    }
}

/* Scans the whole text [doc, doc+len) as one value with only whitespace around it. Inlined
 * into its two callers so it adds no stack frame of its own. */
static JSON_ALWAYS_INLINE int scan_document(const void *doc, size_t len, struct json_path *path, mote_json_error_t *err)
{
    struct json_scan sc;
    const uint8_t *base = (const uint8_t *)doc;
    int rc;
    if (err) {
        err->offset = 0;
        err->reason = MOTE_JSON_R_NONE;
    }
    if (!doc && len)
        return MOTE_ERR_BAD_ARG;
    if (!doc)
        base = (const uint8_t *)"";
    sc.p = base;
    sc.end = base + len;
    sc.path = path;
    while (sc.p != sc.end && IS_WS(*sc.p))
        sc.p++;
    if (sc.p == sc.end) {
        sc.reason = MOTE_JSON_R_EMPTY;
        json_set_error(err, &sc, base);
        return MOTE_ERR_JSON_SYNTAX;
    }
    rc = json_scan_value(&sc);
    if (rc == MOTE_OK) {
        while (sc.p != sc.end && IS_WS(*sc.p))
            sc.p++;
        if (sc.p != sc.end) {
            sc.reason = MOTE_JSON_R_TRAILING;
            rc = MOTE_ERR_JSON_SYNTAX;
        }
    }
    if (rc != MOTE_OK)
        json_set_error(err, &sc, base);
    return rc;
}

int mote_json_validate(const void *doc, size_t len, mote_json_error_t *err)
{
    return scan_document(doc, len, NULL, err);
}

static JSON_ALWAYS_INLINE int find_path(const void *doc, size_t len, struct json_path *jp,
                                        mote_json_value_t *out, mote_json_error_t *err)
{
    int rc = scan_document(doc, len, jp, err);
    if (rc != MOTE_OK)
        return rc;
    if (!jp->found)
        return MOTE_ERR_NOT_FOUND;
    if (!jp->found_end)
        jp->found_end = json_scalar_end(jp->found, (const uint8_t *)doc + len);
    out->ptr = (const char *)jp->found;
    out->len = (size_t)(jp->found_end - jp->found);
    out->type = json_type_of(*jp->found);
    return MOTE_OK;
}

int mote_json_find(const void *doc, size_t len, const char *path, size_t path_len,
                   mote_json_value_t *out, mote_json_error_t *err)
{
    struct json_path jp;
    int rc;
    if (!out || (!path && path_len))
        return MOTE_ERR_BAD_ARG;
    out->ptr = NULL;
    out->len = 0;
    out->type = MOTE_JSON_NONE;
    rc = json_path_init(&jp, path ? path : "", path_len);
    return rc != MOTE_OK ? rc : find_path(doc, len, &jp, out, err);
}


/* Member and element lookups are one-segment searches over the container's span. */
static int lookup(const mote_json_value_t *c, const char *key, size_t key_len, size_t index,
                  mote_json_value_t *out)
{
    struct json_path jp;
    if (!out || !c || !c->ptr || !c->len || (!key && key_len))
        return MOTE_ERR_BAD_ARG;
    if (c->ptr[0] != (key ? '{' : '['))
        return MOTE_ERR_JSON_TYPE;
    json_path_single(&jp, key, key_len, index);
    return find_path(c->ptr, c->len, &jp, out, NULL);
}

int mote_json_member(const mote_json_value_t *object, const char *key, size_t key_len,
                     mote_json_value_t *out)
{
    return lookup(object, key ? key : "", key_len, 0, out);
}

int mote_json_element(const mote_json_value_t *array, size_t index, mote_json_value_t *out)
{
    return lookup(array, NULL, 0, index, out);
}

const char *mote_json_reason_text(mote_json_reason_t reason)
{
    switch (reason) {
    case MOTE_JSON_R_NONE: return "no error";
    case MOTE_JSON_R_EMPTY: return "no value";
    case MOTE_JSON_R_UNEXPECTED_END: return "unexpected end of input";
    case MOTE_JSON_R_UNEXPECTED_CHAR: return "unexpected character";
    case MOTE_JSON_R_EXPECTED_KEY: return "expected a string key";
    case MOTE_JSON_R_EXPECTED_COLON: return "expected ':'";
    case MOTE_JSON_R_EXPECTED_COMMA: return "expected ',' or closing bracket";
    case MOTE_JSON_R_BAD_LITERAL: return "invalid literal";
    case MOTE_JSON_R_BAD_NUMBER: return "invalid number";
    case MOTE_JSON_R_BAD_ESCAPE: return "invalid escape";
    case MOTE_JSON_R_BAD_SURROGATE: return "unpaired UTF-16 surrogate escape";
    case MOTE_JSON_R_CONTROL_CHAR: return "control character in string";
    case MOTE_JSON_R_BAD_UTF8: return "invalid UTF-8";
    case MOTE_JSON_R_TOO_DEEP: return "nesting too deep";
    case MOTE_JSON_R_TRAILING: return "data after the value";
    default: return "unknown";
    }
}
