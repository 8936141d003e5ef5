/* The JSON scanner: one loop over the bytes, no recursion, nesting kept in a bit stack.
 * Validation and path search are the same pass; search only adds a few checks at keys,
 * array elements and closing brackets at the one depth it is watching. */
#include <string.h>

#include "json_internal.h"

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
            size_t n = json_string_walk(NULL, p, end);
            if (n >= (size_t)-2) {
                sc->reason = n == (size_t)-2 ? MOTE_JSON_R_BAD_SURROGATE : MOTE_JSON_R_BAD_ESCAPE;
                sc->p = p;
                return NULL;
            }
            p += n;
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

#define IS_WS(c) ((c) == ' ' || (c) == '\n' || (c) == '\r' || (c) == '\t')
#define IS_ARRAY(d) ((kinds[((d) - 1) >> 3] >> (((d) - 1) & 7)) & 1u)
#define TOP 256u /* closer of the top level: matches no byte */
#define ARMED 0x10000u /* search: above any depth */
#define SCALAR 0x10001u /* search: inside the matched scalar */

/* Do the 4 bytes at p equal those at lit? One word compare, whatever the alignment. */
static inline int literal4(const uint8_t *p, const uint8_t *lit)
{
    uint32_t a, b;
    memcpy(&a, p, 4);
    memcpy(&b, lit, 4);
    return a == b;
}

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
 * and only then looks for whitespace.
 * Search: `watch` is the depth whose keys/elements are matched (0 = none), ARMED when the
 * next value is the one the path matched so far, SCALAR while the matched value is a
 * scalar whose end is still to be seen (one variable keeps the frame small). */
static JSON_ALWAYS_INLINE int scan_impl(struct json_scan *sc, const int search)
{
    const uint8_t *p = sc->p;
    const uint8_t *const end = sc->end;
    uint8_t kinds[(MOTE_JSON_MAX_DEPTH + 7) / 8]; /* bit set: that level is an array */
    unsigned depth = 0;
    unsigned closer = TOP; /* '}' or ']' closing the innermost open container */
    unsigned watch = search && sc->search ? ARMED : 0; /* 0 never matches a depth */
    unsigned c;
    const uint8_t *k;
    struct json_find *const f = (struct json_find *)sc; /* used only when searching */

value:
    if (p == end)
        goto eof;
    c = *p;
value_c: /* c == *p */
    if (search && watch == ARMED && c > ' ') {
        /* The value the path matched so far starts here. */
        watch = 0;
        if (!f->have) {
            f->u.out->ptr = (const char *)p;
            watch = SCALAR;
        }
        if ((c == '{' && (f->kinds & JSON_PATH_OBJECT)) ||
            (c == '[' && (f->kinds & JSON_PATH_ARRAY) && f->index_ok) ||
            (!f->have && (c == '{' || c == '[')))
            watch = depth + 1;
    }
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
        goto element;
    case '"':
        k = NULL;
        goto string;
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
    case 't': case 'f': case 'n':
        /* the literal's length is 4, or 5 for "false" */
        k = (const uint8_t *)(c == 't' ? "true" : c == 'f' ? "false" : "null");
        if (end - p >= 4 + (c == 'f') && literal4(p, k) && (c != 'f' || p[4] == 'e')) {
            p += 4 + (c == 'f');
            goto next;
        }
        goto bad_literal;
    default:
        sc->reason = MOTE_JSON_R_UNEXPECTED_CHAR;
        goto fail;
    }

element: /* c == *p, the first byte of an array element */
    if (search && depth == watch && (f->kinds & JSON_PATH_ARRAY)) {
        /* the index counts down: each segment applies to exactly one array */
        if (f->index == 0) {
            json_path_advance(f);
            watch = ARMED;
        } else {
            f->index--;
        }
    }
    goto value_c;

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
    k = p + 1;
string: /* *p == '"'; k: the key's first byte, NULL for a string value (one copy of the
         * string loop) */
    p = scan_string(sc, p + 1, end);
    if (!p)
        goto fail_at;
    if (!k)
        goto next;
    
    if (search && depth == watch && (f->kinds & JSON_PATH_OBJECT) &&
        json_string_walk(f, k, p - 1)) {
        json_path_advance(f);
        watch = ARMED;
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
    if (search && watch == SCALAR) {
        f->u.out->len = (size_t)(p - (const uint8_t *)f->u.out->ptr);
        watch = 0;
    }
    if (p == end)
        goto eof_after_value;
    c = *p;
next_c:
    if (c == ',') {
        if (closer == TOP)
            goto done;
        if (++p == end)
            goto eof;
        c = *p;
        if (closer == ']')
            goto element;
        if (c == '"')
            goto key;
        goto key_ws;
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
        if (!f->have) /* the matched container ends */
            f->u.out->len = (size_t)(p - (const uint8_t *)f->u.out->ptr);
        watch = 0;
    }
    depth--;
    closer = depth == 0 ? TOP : IS_ARRAY(depth) ? (unsigned)']' : (unsigned)'}';
    goto next;

done: /* the top-level value ended at or before p */
    if (sc->top) {
        if (p != end) {
            sc->reason = MOTE_JSON_R_TRAILING;
            goto fail;
        }
    } else {
        while (IS_WS(p[-1])) /* values never end in whitespace: step back over it */
            p--;
    }
    sc->p = p;
    if (search && sc->search) {
        mote_json_value_t *out = f->u.out;
        if (!out->ptr)
            return MOTE_ERR_NOT_FOUND;
        out->type = json_type_of((uint8_t)*out->ptr);
    }
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
    sc->reason = depth == 0 && sc->top ? MOTE_JSON_R_EMPTY : MOTE_JSON_R_UNEXPECTED_END;
    goto fail;
too_deep:
    sc->reason = MOTE_JSON_R_TOO_DEEP;
fail:
    sc->p = p;
fail_at:
    return sc->reason == MOTE_JSON_R_TOO_DEEP ? MOTE_ERR_JSON_DEPTH : MOTE_ERR_JSON_SYNTAX;
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
    return sc->search ? scan_search(sc) : scan_validate(sc);
}
#endif

int json_scan_error(int rc, mote_json_error_t *err, const struct json_scan *sc, const void *base)
{
    if (err && rc != MOTE_OK && rc != MOTE_ERR_NOT_FOUND) {
        err->offset = (size_t)(sc->p - (const uint8_t *)base);
        err->reason = (mote_json_reason_t)sc->reason;
    }
    return rc;
}

/* Sets up a scan of the whole text [doc, doc+len). Returns MOTE_ERR_BAD_ARG for a NULL
 * doc with len > 0. */
static int scan_init(struct json_scan *sc, const void *doc, size_t len, mote_json_error_t *err)
{
    if (err) {
        err->offset = 0;
        err->reason = MOTE_JSON_R_NONE;
    }
    if (!doc && len)
        return MOTE_ERR_BAD_ARG;
    sc->p = doc ? (const uint8_t *)doc : (const uint8_t *)"";
    sc->end = sc->p + len;
    sc->top = 1;
    sc->search = 0;
    return MOTE_OK;
}

int mote_json_validate(const void *doc, size_t len, mote_json_error_t *err)
{
    struct json_scan sc;
    int rc = scan_init(&sc, doc, len, err);
    return rc != MOTE_OK ? rc : json_scan_error(json_scan_value(&sc), err, &sc, doc);
}

/* Starts a search: the result goes to out. */
static int find_init(struct json_find *f, const void *doc, size_t len, mote_json_value_t *out,
                     mote_json_error_t *err)
{
    if (!out)
        return MOTE_ERR_BAD_ARG;
    out->ptr = NULL;
    out->len = 0;
    out->type = MOTE_JSON_NONE;
    f->u.out = out;
    return scan_init(&f->sc, doc, len, err);
}

int mote_json_find(const void *doc, size_t len, const char *path, size_t path_len,
                   mote_json_value_t *out, mote_json_error_t *err)
{
    struct json_find f;
    int rc = (!path && path_len) ? MOTE_ERR_BAD_ARG : find_init(&f, doc, len, out, err);
    if (rc == MOTE_OK)
        rc = json_path_init(&f, path ? path : "", path_len);
    if (rc != MOTE_OK)
        return rc;
    f.sc.search = 1;
    return json_scan_error(json_scan_value(&f.sc), err, &f.sc, doc);
}

/* Member and element lookups are one-segment searches over the container's span: the
 * member `key` when key is not NULL, else the element `index`. */
static int lookup(const mote_json_value_t *c, const char *key, size_t n, mote_json_value_t *out)
{
    struct json_find f;
    int rc;
    if (!c || !c->ptr || !c->len)
        return MOTE_ERR_BAD_ARG;
    if (c->ptr[0] != (key ? '{' : '['))
        return MOTE_ERR_JSON_TYPE;
    rc = find_init(&f, c->ptr, c->len, out, NULL);
    if (rc != MOTE_OK)
        return rc;
    json_path_single(&f, key, n);
    f.sc.search = 1;
    return json_scan_value(&f.sc);
}

int mote_json_member(const mote_json_value_t *object, const char *key, size_t key_len,
                     mote_json_value_t *out)
{
    if (!key && key_len)
        return MOTE_ERR_BAD_ARG;
    return lookup(object, key ? key : "", key_len, out);
}

int mote_json_element(const mote_json_value_t *array, size_t index, mote_json_value_t *out)
{
    return lookup(array, NULL, index, out);
}

const char *mote_json_reason_text(mote_json_reason_t reason)
{
    /* One string of NUL-separated texts, in enum order: no pointer table. */
    static const char texts[] = "no error\0no value\0unexpected end\0unexpected character\0"
                                "expected a key\0expected ':'\0expected ',' or bracket\0"
                                "bad literal\0bad number\0bad escape\0unpaired surrogate\0"
                                "control character\0bad UTF-8\0too deep\0trailing data\0unknown";
    const char *t = texts;
    unsigned r = (unsigned)reason;
    if (r > MOTE_JSON_R_TRAILING)
        r = MOTE_JSON_R_TRAILING + 1;
    while (r--)
        t += strlen(t) + 1;
    return t;
}
