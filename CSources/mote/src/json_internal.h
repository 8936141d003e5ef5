/* Private helpers shared by the json*.c files (not installed). */
#ifndef MOTE_JSON_INTERNAL_H
#define MOTE_JSON_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "mote/json.h"

#if defined(__GNUC__)
#define JSON_ALWAYS_INLINE inline __attribute__((always_inline))
#define JSON_NOINLINE __attribute__((noinline))
#else
#define JSON_ALWAYS_INLINE inline
#define JSON_NOINLINE
#endif

/* Kept out of line in size-optimised builds only (speed builds inline it). */
#ifdef __OPTIMIZE_SIZE__
#define JSON_SIZE_NOINLINE JSON_NOINLINE
#else
#define JSON_SIZE_NOINLINE JSON_ALWAYS_INLINE
#endif

/* Size-optimised builds only: x's value is hidden from the optimiser at this point, which
 * stops jump threading and code motion from copying code there (speed builds: nothing). */
#if defined(__GNUC__) && defined(__OPTIMIZE_SIZE__)
#define JSON_HIDE(x) __asm__("" : "+r"(x))
#else
#define JSON_HIDE(x) (void)0
#endif

/* What the scanner expects next (after whitespace). The states before a value also say
 * what comes after it, so no separate "inside an array" flag is needed. */
enum {
    JSON_ST_COLON,      /* ':' after a key */
    JSON_ST_KEY_FIRST,  /* a member or '}' (after '{') */
    JSON_ST_KEY,        /* a member (after ',') */
    JSON_ST_AFTER_OBJ,  /* ',' or '}' after a member's value (JSON_ST_KEY + 1) */
    JSON_ST_END,        /* only whitespace after the top-level value */
    JSON_ST_VALUE,      /* a member's value (after ':'); the value states run to _ELEM */
    JSON_ST_TOP,        /* the top-level value */
    JSON_ST_ELEM_FIRST, /* an element or ']' (after '[') */
    JSON_ST_ELEM,       /* an array element (after ',') */
    JSON_ST_AFTER_ARR   /* ',' or ']' after an element (JSON_ST_ELEM + 1) */
};
_Static_assert(JSON_ST_AFTER_OBJ == JSON_ST_KEY + 1 && JSON_ST_AFTER_ARR == JSON_ST_ELEM + 1,
               "an iteration's start state: the item's, or the one after an item");

/* One scan: the engine behind validate, find and iteration. Kept small: it lives in the
 * caller's frame while the scanner's nesting bits are on the stack. */
struct json_scan {
    const uint8_t *p; /* in: where the scan starts; out: after the value, or on failure
                         the offending byte */
    const uint8_t *end;
    uint8_t reason;   /* mote_json_reason_t of a failure */
    uint8_t start;    /* JSON_ST_TOP: one whole document (only whitespace around the
                         value); JSON_ST_KEY or _ELEM: the next member or element of a
                         container at depth 0, JSON_ST_AFTER_OBJ or _ARR: the same after
                         a ',' (the scan ends after that one item) */
    uint8_t search;   /* 1: this is the `sc` of a struct json_find, else 0 */
};

/* A path search: the scan plus the path state (json_path.c), in one struct so a search
 * keeps all its state in a single frame. */
struct json_find {
    struct json_scan sc;      /* first member: the scanner gets &find->sc */
    uint8_t kinds;            /* the segment applies to objects (1) and/or arrays (2, only
                                 when it is a valid index); 0: the path is fully matched */
    uint8_t key_mode;         /* the path's escape byte: '\\' (dotted), '~' (JSON Pointer,
                                 ~0/~1), 0 (a raw key); or JSON_COPY */
    /* (the bytes first: small offsets keep Thumb's 16-bit loads) */
    const char *rest;         /* the path after the current segment */
    const char *pend;         /* end of the path */
    const char *key;          /* current segment as a key: [key, rest) */
    size_t index;             /* current segment as an index; counts down the elements still
                                 to pass in the watched array */
    union {
        mote_json_value_t *out; /* the found value: ptr set where it starts (NULL until
                                   then), len where it ends */
        uint8_t *buf;           /* json_string_walk's output (JSON_COPY) */
    } u;
};

#define JSON_PATH_OBJECT 1u /* kinds: the segment applies to objects */
#define JSON_PATH_ARRAY 2u  /* kinds: the segment applies to arrays */

/* Scans from sc->start (leading whitespace allowed; for a whole document trailing
 * whitespace too and nothing else). Returns MOTE_OK, MOTE_ERR_JSON_SYNTAX or MOTE_ERR_JSON_DEPTH (p at the
 * offending byte, reason set); a search also MOTE_ERR_NOT_FOUND. */
int json_scan_value(struct json_scan *sc);

/* Skips a number starting with '-' or a digit at p (p < end): returns the byte after it,
 * or NULL with sc->p at the offending byte and sc->reason set. */
const uint8_t *json_skip_number(struct json_scan *sc, const uint8_t *p, const uint8_t *end);

/* Fills err (when not NULL) from a failed scan; offsets count from base. Returns rc. */
int json_scan_error(int rc, mote_json_error_t *err, const struct json_scan *sc, const void *base);

/* Length of the valid UTF-8 sequence at p (1..4), 0 if invalid or truncated. */
size_t json_utf8_seq(const uint8_t *p, const uint8_t *end);

/* Walks the string body from k to kend or to an unescaped '"', decoding escapes (\uXXXX
 * and surrogate pairs to UTF-8).
 * key_mode 0, '\\' or '~': compares the decoded bytes with the path key [f->key, f->rest),
 * read with key_mode escapes (0 none, backslash-literal, JSON Pointer ~0/~1); returns 1 when
 * equal, else 0 or (size_t)-1 (a malformed body: the scanner reports it). key_mode JSON_COPY:
 * stores the first f->index decoded bytes at f->u.buf; returns the decoded length, or
 * (size_t)-1 when the body is malformed. f NULL: checks the one escape at k and returns
 * its length, (size_t)-1 when it is invalid, (size_t)-2 for a \u escape of a UTF-16
 * surrogate that is not a high+low pair.
 * A leaf with a small frame: the scanner calls it with its nesting bits live. */
#define JSON_COPY 3u
size_t json_string_walk(struct json_find *f, const uint8_t *k, const uint8_t *kend);

/* Path parsing (json_path.c). json_path_init checks the whole path and loads the first
 * segment (MOTE_OK or MOTE_ERR_JSON_BAD_PATH). */
int json_path_init(struct json_find *f, const char *path, size_t len);
/* A key or element of the watched container matched the current segment: next segment. */
void json_path_advance(struct json_find *f);

/* Writer steps for a value written outside json_write.c (mote_json_write_double, in
 * json_number.c): value_begin checks the grammar and writes a separating comma
 * (MOTE_OK or the writer's sticky error); value_end does the bookkeeping after the value's
 * text was appended (returns MOTE_OK); fail records err, empties the buffer and returns
 * err. */
int json_writer_value_begin(mote_json_writer_t *w);
int json_writer_value_end(mote_json_writer_t *w);
int json_writer_fail(mote_json_writer_t *w, int err);

#endif
