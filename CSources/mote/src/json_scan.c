/* The JSON scanner: one loop over the tokens, no recursion, nesting kept in a bit stack.
 * Validation, path search and iteration are the same pass; search only adds a few checks
 * at keys, array elements and closing brackets at the one depth it is watching. */
#include <string.h>

#include "json_internal.h"

/* Speed builds skip plain string bytes and digits one machine word per step (most of a
 * typical document); size-optimised builds (-Os) use the byte loops alone, which accept
 * and reject exactly the same bytes. */
#if defined(__GNUC__) && !defined(__OPTIMIZE_SIZE__) && defined(__BYTE_ORDER__) &&         \
    (__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__)
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

/* Speed builds also take the usual next byte (':' after a key, '"' or an element after
 * ',', '"' after '{') without a trip round the token loop; size builds let the loop do it:
 * the same transitions either way. */
#ifdef __OPTIMIZE_SIZE__
#define JSON_FAST 0
#else
#define JSON_FAST 1
#endif

/* Size builds hide the state from the optimiser (JSON_HIDE) at the dispatch and where
 * paths join (an element, the end of a value, a closing bracket): otherwise jump threading
 * copies the loop's head and the value's end into every transition (twice the code, and
 * 62 B more in the joins). The other JSON_HIDEs are placed by measurement: each saves 4 to
 * 8 B of -Os code on Cortex-M4. */

/* Literal checks; the builtin compiles to a word compare even under -ffreestanding. */
#if defined(__GNUC__)
#define JSON_MEMCMP __builtin_memcmp
#else
#define JSON_MEMCMP memcmp
#endif

#define IS_DIGIT(c) ((unsigned)((c) - '0') < 10u)
#define IS_WS(c) ((c) == ' ' || (c) == '\n' || (c) == '\r' || (c) == '\t')

size_t json_utf8_seq(const uint8_t *p, const uint8_t *end)
{
    unsigned c = p[0], n, i;
    uint32_t cp;
    if (c < 0x80)
        return 1;
    if (c - 0xC2u > 0xF4u - 0xC2u) /* continuation byte, overlong 2-byte lead, beyond U+10FFFF */
        return 0;
    n = (unsigned)(2 + (c >= 0xE0) + (c >= 0xF0));
    if ((size_t)(end - p) < n)
        return 0;
    cp = c & (0x7Fu >> n);
    for (i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        cp = cp << 6 | (p[i] & 0x3Fu);
    }
    /* overlong (below 0x800 in 3 bytes, 0x10000 in 4), UTF-16 surrogates, above U+10FFFF */
    if (cp < (1u << (5 * n - 4)) || cp - 0xD800u < 0x800u || cp > 0x10FFFFu)
        return 0;
    return n;
}

_Static_assert(MOTE_JSON_R_BAD_SURROGATE == MOTE_JSON_R_BAD_ESCAPE + 1,
               "the scanner's reason for json_string_walk's failures");

_Static_assert(MOTE_JSON_OBJECT == 1 && MOTE_JSON_ARRAY == 2 && MOTE_JSON_STRING == 3 &&
                   MOTE_JSON_BOOL == 5 && MOTE_JSON_NULL == 6,
               "json_type_of's table");

static mote_json_type_t json_type_of(uint8_t c)
{
    /* the first bytes of the non-number types, each followed by its type */
    const char *t = "{\1[\2\"\3t\5f\5n\6";
    while (*t && (uint8_t)*t != c)
        t += 2;
    return *t ? (mote_json_type_t)t[1] : MOTE_JSON_NUMBER;
}

#if JSON_FAST
/* Skips digits (none or more), a word at a time: numbers are the most common values in
 * device data. */
static JSON_ALWAYS_INLINE const uint8_t *skip_digits(const uint8_t *p, const uint8_t *end)
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

/* Skips a number at p; NULL (sc->p, sc->reason set) when it breaks the grammar. Speed
 * builds take the first digit apart (the shape the word loop runs fastest with); size builds
 * loop over the parts, each a run of digits that must not be empty (q: where the run
 * starts). Both accept the same numbers and report the same offending byte. */
static JSON_ALWAYS_INLINE const uint8_t *skip_number(struct json_scan *sc, const uint8_t *p,
                                                     const uint8_t *end)
{
    if (*p == '-' && (++p == end || !IS_DIGIT(*p)))
        goto fail;
    if (*p++ == '0') {
        if (p != end && IS_DIGIT(*p))
            goto fail;
    } else {
        p = skip_digits(p, end);
    }
    if (p != end && *p == '.') {
        if (++p == end || !IS_DIGIT(*p))
            goto fail;
        p = skip_digits(p + 1, end);
    }
    if (p != end && (*p | 0x20) == 'e') {
        if (++p != end && (*p == '+' || *p == '-'))
            p++;
        if (p == end || !IS_DIGIT(*p))
            goto fail;
        p = skip_digits(p + 1, end);
    }
    return p;
fail:
    sc->reason = MOTE_JSON_R_BAD_NUMBER;
    sc->p = p;
    return NULL;
}

const uint8_t *json_skip_number(struct json_scan *sc, const uint8_t *p, const uint8_t *end)
{
    return skip_number(sc, p, end);
}
#else
#define skip_number json_skip_number /* the scanner calls this one directly */

const uint8_t *json_skip_number(struct json_scan *sc, const uint8_t *p, const uint8_t *end)
{
    const uint8_t *q;
    unsigned part = 0, c; /* part: 0 the integer, 1 the fraction, 2 the exponent */
    if (*p == '-')
        p++;
    for (;;) {
        q = p;
        while (p != end && IS_DIGIT(*p))
            p++;
        JSON_HIDE(q); /* size builds: 4 B less */
        if (p == q)
            goto fail;
        if (!part && *q == '0' && p != q + 1) { /* a leading zero */
            q++;
            goto fail;
        }
        c = p != end ? *p : 0;
        JSON_HIDE(part); /* size builds: 10 B less */
        if (!part && c == '.') {
            part = 1;
            p++;
        } else if (part < 2 && (c | 0x20) == 'e') {
            part = 2;
            if (++p != end && (*p == '+' || *p == '-'))
                p++;
        } else {
            break;
        }
    }
    return p;
fail:
    sc->reason = MOTE_JSON_R_BAD_NUMBER;
    sc->p = q;
    return NULL;
}
#endif

#define ST_KEY JSON_ST_KEY
#define ST_KEY_FIRST JSON_ST_KEY_FIRST
#define ST_COLON JSON_ST_COLON
#define ST_AFTER_OBJ JSON_ST_AFTER_OBJ
#define ST_AFTER_ARR JSON_ST_AFTER_ARR
#define ST_END JSON_ST_END
#define ST_TOP JSON_ST_TOP
#define ST_VALUE JSON_ST_VALUE
#define ST_ELEM JSON_ST_ELEM
#define ST_ELEM_FIRST JSON_ST_ELEM_FIRST

_Static_assert(ST_TOP - ST_END == ST_VALUE - ST_AFTER_OBJ && ST_ELEM_FIRST > ST_TOP &&
                   ST_ELEM_FIRST > ST_VALUE && ST_ELEM > ST_ELEM_FIRST,
               "the state after a value");

_Static_assert(JSON_PATH_OBJECT == JSON_PATH_ARRAY >> 1 && (('{' >> 5) & 1) == 1 &&
                   (('[' >> 5) & 1) == 0,
               "arm: a bracket's kind from its bit 5");

#define IS_ARRAY(d) ((kinds[((d) - 1) >> 3] >> (((d) - 1) & 7)) & 1u)
#define ARMED ((unsigned)-1)  /* search: above any depth */
#define SCALAR ((unsigned)-2) /* search: inside the matched scalar */

/* Search: the value the path matched so far starts at p (at nesting depth `depth`).
 * Returns what the scanner watches next: the depth of the container the rest of the path
 * applies to, SCALAR for a matched scalar, else 0. */
static JSON_SIZE_NOINLINE unsigned arm(struct json_find *f, const uint8_t *p, unsigned depth)
{
    unsigned c = *p, kinds = f->kinds, watch = 0;
    if (!f->kinds) { /* the value itself: its end is watched */
        f->u.out->ptr = (const char *)p;
        watch = SCALAR;
        kinds = JSON_PATH_OBJECT | JSON_PATH_ARRAY;
    }
    /* '{' and '[' differ in bit 5: JSON_PATH_OBJECT for '{', JSON_PATH_ARRAY for '[' */
    if ((c | 0x20) == '{' && (kinds & (JSON_PATH_ARRAY >> ((c >> 5) & 1))))
        watch = depth + 1;
    return watch;
}

/* Search: `watch` is the depth whose keys/elements are matched (0: none, as keys and
 * elements lie at depth 1 or deeper), ARMED when the next value is the one the path matched
 * so far (from the start: an iteration's item is the next value), SCALAR while the
 * matched value is a scalar whose end is still to be seen (one variable keeps the frame
 * small). */
static JSON_ALWAYS_INLINE int scan_impl(struct json_scan *sc, const int search)
{
    const uint8_t *p = sc->p;
    const uint8_t *const end = sc->end;
    uint8_t kinds[(MOTE_JSON_MAX_DEPTH + 7) / 8]; /* bit set: that level is an array */
    unsigned depth = 0, st = sc->start, c;
    unsigned watch = search ? 0u - sc->search : 0; /* ARMED for a search: sc->search is 1 */
    size_t n;
    struct json_find *const f = (struct json_find *)sc; /* used only when searching */

    for (;;) {
        if (p == end) {
            if (st == ST_END)
                goto done;
            /* the same outcome written twice: each form compiles best in its build (the
             * size build's saves 32 B; ST_TOP is only ever the start state) */
#if JSON_FAST
            if (st == sc->start && !depth && st != ST_TOP)
                return MOTE_ERR_NOT_FOUND; /* an iteration past the last item */
            sc->reason = st == ST_TOP ? MOTE_JSON_R_EMPTY : MOTE_JSON_R_UNEXPECTED_END;
#else
            sc->reason = MOTE_JSON_R_UNEXPECTED_END;
            if (st == sc->start && !depth) { /* (inside an item: truncated) */
                if (st != ST_TOP)
                    return MOTE_ERR_NOT_FOUND; /* an iteration past the last item */
                sc->reason = MOTE_JSON_R_EMPTY;
            }
#endif
            goto fail;
        }
        c = *p;
        JSON_HIDE(c);
        if (c <= ' ' && IS_WS(c)) {
            p++;
            continue;
        }
        JSON_HIDE(st);
        switch (st) {
        case ST_END:
            sc->reason = MOTE_JSON_R_TRAILING;
            goto fail;
        case ST_AFTER_OBJ:
        case ST_AFTER_ARR:
            if (c == ',')
                goto comma;
            if (depth && c == (st == ST_AFTER_ARR ? ']' : '}'))
                goto close;
            sc->reason = MOTE_JSON_R_EXPECTED_COMMA;
            goto fail;
        case ST_COLON:
            if (c != ':') {
                sc->reason = MOTE_JSON_R_EXPECTED_COLON;
                goto fail;
            }
            p++;
            st = ST_VALUE;
            continue;
        case ST_KEY_FIRST:
            if (c == '}')
                goto close;
            /* fall through */
        case ST_KEY:
            if (c != '"') {
                sc->reason = MOTE_JSON_R_EXPECTED_KEY;
                goto fail;
            }
            goto key;
        case ST_ELEM_FIRST:
            if (c == ']')
                goto close;
            /* fall through */
        case ST_ELEM:
        element: /* c == *p, not whitespace */
            JSON_HIDE(watch);
            /* the index counts down: each segment applies to exactly one array */
            if (search && depth == watch && (f->kinds & JSON_PATH_ARRAY)) {
                if (f->index-- == 0) {
                    json_path_advance(f);
                    watch = ARMED;
                }
            }
            break;
        default:
            break;
        }
    value: /* c == *p, not whitespace; st says where the value is */
        if (search && watch == ARMED)
            watch = arm(f, p, depth);
        JSON_HIDE(watch);
        /* size builds read the byte again rather than keep it in a register across the
         * calls above (32 B less code) */
        if (!JSON_FAST)
            c = *p;
        /* a member's value is followed by ST_AFTER_OBJ, the top-level one by ST_END, an
         * element by ST_AFTER_ARR (size builds: one subtraction for the first two) */
#if JSON_FAST
        st = st == ST_VALUE ? ST_AFTER_OBJ : st == ST_TOP ? ST_END : ST_AFTER_ARR;
#else
        st = st < ST_ELEM_FIRST ? st - (ST_VALUE - ST_AFTER_OBJ) : ST_AFTER_ARR;
#endif
        switch (c) {
        case '{':
        case '[':
            if (depth >= MOTE_JSON_MAX_DEPTH) {
                sc->reason = MOTE_JSON_R_TOO_DEEP;
                sc->p = p;
                return MOTE_ERR_JSON_DEPTH;
            }
            if (c == '[')
                kinds[depth >> 3] |= (uint8_t)(1u << (depth & 7));
            else
                kinds[depth >> 3] &= (uint8_t)~(1u << (depth & 7));
            depth++;
            p++;
            st = ST_ELEM_FIRST;
            if (c == '[')
                continue;
            st = ST_KEY_FIRST;
            if (JSON_FAST && p != end && *p == '"')
                goto key;
            continue;
        case '"':
            goto string;
        case 't':
        case 'f':
        case 'n':
            /* the literal's length is 4, or 5 for "false"; speed builds compare 4 bytes as
             * one word and the last byte again, size builds byte by byte up to the word's
             * NUL */
            {
                const uint8_t *k = (const uint8_t *)(c == 't' ? "true" : c == 'f' ? "false" : "null");
#if JSON_FAST
                n = 4 + (c == 'f');
                if ((size_t)(end - p) < n || JSON_MEMCMP(p, k, 4) || p[n - 1] != k[n - 1]) {
                    sc->reason = MOTE_JSON_R_BAD_LITERAL;
                    goto fail;
                }
                p += n;
#else
                const uint8_t *q = p;
                do {
                    if (q == end || *q++ != *k++) {
                        sc->reason = MOTE_JSON_R_BAD_LITERAL;
                        goto fail;
                    }
                } while (*k);
                p = q;
#endif
            }
            goto value_end;
        default:
            if (c != '-' && !IS_DIGIT(c)) {
                sc->reason = MOTE_JSON_R_UNEXPECTED_CHAR;
                goto fail;
            }
            p = skip_number(sc, p, end);
            if (!p)
                return MOTE_ERR_JSON_SYNTAX;
            goto value_end;
        }

    key: /* *p == '"', a member's key */
        st = ST_COLON;
        if (search && depth == watch && (f->kinds & JSON_PATH_OBJECT) &&
            json_string_walk(f, p + 1, end) == 1) {
            json_path_advance(f);
            watch = ARMED;
        }
        JSON_HIDE(p);
    string: /* *p == '"'; st: ST_COLON for a key, else the state after the value */
        for (p++;;) {
#if JSON_SWAR
            while ((size_t)(end - p) >= sizeof(json_word_t)) {
                json_word_t v, q, b, m;
                JSON_LOAD(v, p);
                /* q = v ^ 0x02 maps '"' to 0x20 and keeps control bytes below 0x20, so one
                 * "below 0x21" test finds both; backslash is a zero byte of v ^ '\\';
                 * bytes from 0x80 have their top bit set already. Borrows only disturb
                 * bytes after the first flagged one, and only the first is used. */
                q = v ^ (JSON_ONES * 0x02);
                b = v ^ (JSON_ONES * '\\');
                m = ((q - JSON_ONES * 0x21) | ((b - JSON_ONES) & ~b) | v) & (JSON_ONES * 0x80);
                if (m) {
                    p += (unsigned)JSON_CTZ(m) >> 3;
                    break;
                }
                p += sizeof(json_word_t);
            }
#endif
            if (p == end) {
                sc->reason = MOTE_JSON_R_UNEXPECTED_END;
                goto fail;
            }
            c = *p;
            if (c == '"')
                break;
            if (c == '\\') {
                n = json_string_walk(NULL, p, end);
                if (n >= (size_t)-2) {
                    /* (size_t)-1: a bad escape, -2: a bad surrogate */
                    sc->reason = (uint8_t)(MOTE_JSON_R_BAD_ESCAPE - 1 - n);
                    goto fail;
                }
            } else if (c < 0x20) {
                sc->reason = MOTE_JSON_R_CONTROL_CHAR;
                goto fail;
            } else {
                n = json_utf8_seq(p, end);
                if (!n) {
                    sc->reason = MOTE_JSON_R_BAD_UTF8;
                    goto fail;
                }
            }
            p += n;
        }
        p++;
        if (st != ST_COLON)
            goto value_end;
        /* the ':' and the value almost always follow at once */
        if (JSON_FAST && p != end && *p == ':') {
            st = ST_VALUE;
            if (++p != end && (c = *p) > ' ')
                goto value;
        }
        continue;

    close: /* *p is the closing bracket of the innermost container */
        JSON_HIDE(depth);
        p++;
        if (search && depth == watch) /* the matched container ends like a scalar */
            watch = f->kinds ? 0 : SCALAR;
        depth--;
        st = !depth ? ST_END : IS_ARRAY(depth) ? ST_AFTER_ARR : ST_AFTER_OBJ;
    value_end:
        JSON_HIDE(st);
        JSON_HIDE(watch);
        if (search && watch == SCALAR) {
            f->u.out->len = (size_t)(p - (const uint8_t *)f->u.out->ptr);
            watch = 0;
        }
        if (!depth) {
            if (sc->start != ST_TOP) /* one item of an iteration */
                goto done;
            JSON_HIDE(depth);
            continue;
        }
        if (!JSON_FAST || p == end || *p != ',')
            continue;
    comma: /* *p == ',' after a value in a container */
        if (!JSON_FAST) {
            st--; /* ST_AFTER_ARR -> ST_ELEM, ST_AFTER_OBJ -> ST_KEY */
            p++;
            continue;
        }
        if (st == ST_AFTER_ARR) {
            st = ST_ELEM;
            if (++p != end && (c = *p) > ' ')
                goto element;
        } else {
            st = ST_KEY;
            if (++p != end && *p == '"')
                goto key;
        }
    }

done: /* the top-level value ended at or before p */
    sc->p = p;
    if (search && sc->search) {
        mote_json_value_t *out = f->u.out;
        if (!out->ptr)
            return MOTE_ERR_NOT_FOUND;
        out->type = json_type_of((uint8_t)*out->ptr);
    }
    return MOTE_OK;
fail:
    sc->p = p;
    return MOTE_ERR_JSON_SYNTAX;
}

/* `search` is a constant in each copy: speed builds keep a validate-only copy without any
 * search checks, size builds one copy for both. */
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
        /* a NULL document is scanned as "" (scan_init): nothing before the failure */
        err->offset = base ? (size_t)(sc->p - (const uint8_t *)base) : 0;
        err->reason = (mote_json_reason_t)sc->reason;
    }
    return rc;
}

/* Sets up a scan of the whole text [doc, doc+len): a search (f->sc.search set by the
 * caller) for the value that goes to f->u.out, or a validation (f only a struct
 * json_scan). Returns MOTE_ERR_BAD_ARG for a NULL doc with len > 0. */
static JSON_NOINLINE int scan_init(struct json_find *f, const void *doc, size_t len, mote_json_error_t *err)
{
    if (f->sc.search) {
        mote_json_value_t *out = f->u.out;
        out->ptr = NULL;
        out->len = 0;
        out->type = MOTE_JSON_NONE;
    }
    if (err) {
        err->offset = 0;
        err->reason = MOTE_JSON_R_NONE;
    }
    if (!doc && len)
        return MOTE_ERR_BAD_ARG;
    /* a NULL document has len 0 and is never read: any pointer that is not NULL will do
     * (no arithmetic on NULL) */
    f->sc.p = (const uint8_t *)(doc ? doc : (const void *)f);
    f->sc.end = f->sc.p + len;
    f->sc.start = ST_TOP;
    return MOTE_OK;
}

int mote_json_validate(const void *doc, size_t len, mote_json_error_t *err)
{
    struct json_scan sc;
    int rc;
    sc.search = 0;
    rc = scan_init((struct json_find *)&sc, doc, len, err);
    return rc != MOTE_OK ? rc : json_scan_error(json_scan_value(&sc), err, &sc, doc);
}

int mote_json_find(const void *doc, size_t len, const char *path, size_t path_len,
                   mote_json_value_t *out, mote_json_error_t *err)
{
    struct json_find f;
    int rc = MOTE_ERR_BAD_ARG;
    f.u.out = out;
    f.sc.search = 1;
    if ((path || !path_len) && out)
        rc = scan_init(&f, doc, len, err);
    if (rc == MOTE_OK)
        rc = json_path_init(&f, path ? path : "", path_len);
    if (rc != MOTE_OK)
        return rc;
    return json_scan_error(json_scan_value(&f.sc), err, &f.sc, doc);
}

/* Member and element lookups are one-segment searches over the container's span: the
 * member `key` when key is not NULL, else the element `index`. */
static int lookup(const mote_json_value_t *c, const char *key, size_t n, mote_json_value_t *out)
{
    struct json_find f;
    if (!c || !c->ptr || !c->len)
        return MOTE_ERR_BAD_ARG;
    if (c->ptr[0] != (key ? '{' : '['))
        return MOTE_ERR_JSON_TYPE;
    if (!out)
        return MOTE_ERR_BAD_ARG;
    f.u.out = out;
    f.sc.search = 1;
    scan_init(&f, c->ptr, c->len, NULL); /* MOTE_OK: c->ptr is not NULL */
    /* one segment: the member `key` (n raw bytes), else the element n */
    f.key = key;
    f.rest = f.pend = key ? key + n : key;
    f.index = n;
    f.key_mode = 0;
    f.kinds = key ? JSON_PATH_OBJECT : JSON_PATH_ARRAY;
    return json_scan_value(&f.sc);
}

int mote_json_member(const mote_json_value_t *object, const char *key, size_t key_len,
                     mote_json_value_t *out)
{
    if (!key && key_len)
        return MOTE_ERR_BAD_ARG;
    /* an empty key is never read: any pointer that is not NULL will do (NULL is an element) */
    return lookup(object, key ? key : (const char *)object, key_len, out);
}

int mote_json_element(const mote_json_value_t *array, size_t index, mote_json_value_t *out)
{
    return lookup(array, NULL, index, out);
}

const char *mote_json_reason_text(mote_json_reason_t reason)
{
    /* One string of NUL-separated texts, in enum order: no pointer table. */
    static const char texts[] = "no error\0no value\0truncated\0unexpected character\0"
                                "expected key\0expected ':'\0expected ',' or bracket\0"
                                "bad literal\0bad number\0bad escape\0lone surrogate\0"
                                "control char\0bad UTF-8\0too deep\0trailing data\0unknown";
    const char *t = texts;
    unsigned r = (unsigned)reason;
    if (r > MOTE_JSON_R_TRAILING)
        r = MOTE_JSON_R_TRAILING + 1;
    while (r)
        if (!*t++)
            r--;
    return t;
}
