/* Strict RFC 8259 JSON over caller memory: validate, one-pass path search, iteration, typed
 * reads, and a writer into a caller buffer.
 *
 * Nothing here allocates, recurses on the input's nesting, or keeps global state. Nesting is
 * tracked in a bit stack of MOTE_JSON_MAX_DEPTH bits on the C stack (128 B at the default),
 * so the C stack use of every call is bounded independently of the document.
 *
 * A value is a span of the document (mote_json_value_t). Spans returned by these calls are
 * themselves valid JSON texts, so a span can be searched, iterated or read again: that is
 * how `doc["state"]["desired"]` is expressed (mote_json_member on the result of
 * mote_json_member, or one mote_json_find with "state.desired").
 *
 * Documents and byte strings are `const void *` + length so Swift can pass any byte buffer;
 * paths and keys are `const char *` + length (Swift strings convert directly).
 *
 * Worst-case stack on Cortex-M4 (-Os, measured by toolchain/size.sh): validate 220 B,
 * find and iterate 252 B, member/element 244 B, double reads 240 B, double formatting
 * and write_double 256 B (a 140 B bignum for exact digits, the candidate digits one frame
 * above it); write_raw 236 B (it validates), the writer's other calls under 110 B. */
#ifndef MOTE_JSON_H
#define MOTE_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mote/config.h"
#include "mote/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Deepest nesting the writer accepts (one bit per level lives in the writer). Default: 64. */
#ifndef MOTE_JSON_WRITER_MAX_DEPTH
#define MOTE_JSON_WRITER_MAX_DEPTH 64
#endif

typedef enum mote_json_type {
    MOTE_JSON_NONE = 0,
    MOTE_JSON_OBJECT,
    MOTE_JSON_ARRAY,
    MOTE_JSON_STRING,
    MOTE_JSON_NUMBER,
    MOTE_JSON_BOOL,
    MOTE_JSON_NULL
} mote_json_type_t;

/* One value inside a document: `ptr` is its first byte (the opening quote of a string, the
 * bracket of a container), `len` covers it up to and including its last byte. */
typedef struct mote_json_value {
    const char *ptr;
    size_t len;
    mote_json_type_t type;
} mote_json_value_t;

/* Why a document was rejected. */
typedef enum mote_json_reason {
    MOTE_JSON_R_NONE = 0,
    MOTE_JSON_R_EMPTY,          /* no value at all (empty or only whitespace) */
    MOTE_JSON_R_UNEXPECTED_END, /* document ends inside a value */
    MOTE_JSON_R_UNEXPECTED_CHAR,/* a byte that cannot start a value here */
    MOTE_JSON_R_EXPECTED_KEY,   /* object member must start with a string key */
    MOTE_JSON_R_EXPECTED_COLON,
    MOTE_JSON_R_EXPECTED_COMMA, /* ',' or the closing bracket was expected */
    MOTE_JSON_R_BAD_LITERAL,    /* not exactly true, false or null */
    MOTE_JSON_R_BAD_NUMBER,     /* number grammar: leading zero, "1.", "1e", "-" */
    MOTE_JSON_R_BAD_ESCAPE,     /* unknown escape or \u not followed by 4 hex digits */
    MOTE_JSON_R_BAD_SURROGATE,  /* \uD800-\uDFFF not forming a high+low pair */
    MOTE_JSON_R_CONTROL_CHAR,   /* unescaped byte below 0x20 in a string */
    MOTE_JSON_R_BAD_UTF8,       /* overlong, surrogate, > U+10FFFF, stray or truncated */
    MOTE_JSON_R_TOO_DEEP,       /* nesting deeper than MOTE_JSON_MAX_DEPTH */
    MOTE_JSON_R_TRAILING        /* something other than whitespace after the value */
} mote_json_reason_t;

/* Where and why parsing failed. `offset` is the byte offset of the offending byte. */
typedef struct mote_json_error {
    size_t offset;
    mote_json_reason_t reason;
} mote_json_error_t;

/* Short English text for a reason (never NULL). */
const char *mote_json_reason_text(mote_json_reason_t reason);

/* Validate one complete JSON text (RFC 8259, strict UTF-8). Stricter than the RFC in one
 * place: \u escapes of UTF-16 surrogates must form high+low pairs, so every accepted string
 * unescapes to valid UTF-8.
 * err: optional; on failure receives the offset and reason.
 * Returns MOTE_OK, MOTE_ERR_JSON_SYNTAX, MOTE_ERR_JSON_DEPTH or MOTE_ERR_BAD_ARG (doc NULL
 * with len > 0). */
int mote_json_validate(const void *doc, size_t len, mote_json_error_t *err);

/* Find a value by path in one pass that also validates the whole document (the cost is one
 * read of the document whatever the depth of the path; an invalid document is reported as
 * such even when the value comes before the error).
 * path (path_len bytes, need not be NUL-terminated):
 *   - starting with '/': an RFC 6901 JSON Pointer ("/state/lights/1/on", "~0" is '~',
 *     "~1" is '/'); a token applies to an object as a key and to an array as an index.
 *   - otherwise a dotted path: "state.desired.lights[1].on", "[0].id"; a backslash makes
 *     the next character literal, so "a\.b" is the key "a.b" and "x\[0]" the key "x[0]".
 *   - empty: the whole document.
 * Keys compare with the document's keys after unescaping; the first matching member wins.
 * out: receives the span and type. err: optional, as for validate.
 * Returns MOTE_OK, MOTE_ERR_NOT_FOUND, MOTE_ERR_JSON_BAD_PATH, MOTE_ERR_JSON_SYNTAX,
 * MOTE_ERR_JSON_DEPTH or MOTE_ERR_BAD_ARG. */
int mote_json_find(const void *doc, size_t len, const char *path, size_t path_len,
                   mote_json_value_t *out, mote_json_error_t *err);

/* Iterator over the members of an object or the elements of an array (a span from this
 * API). Fields are private; `index` counts the items returned so far. */
typedef struct mote_json_iter {
    const char *pos;
    const char *end;
    const char *doc;
    size_t index;
    uint8_t is_object;
} mote_json_iter_t;

/* Start iterating `container`. Returns MOTE_OK, MOTE_ERR_JSON_TYPE (not a container: the
 * span must start and end with its brackets) or MOTE_ERR_BAD_ARG (it or container NULL, or
 * an empty span). */
int mote_json_iter_init(mote_json_iter_t *it, const mote_json_value_t *container);

/* Next item. key: for objects the member name as a string span (quotes included; read it
 * with mote_json_get_string), for arrays type MOTE_JSON_NONE; may be NULL. value: the item
 * (required). Returns MOTE_OK, MOTE_ERR_NOT_FOUND after the last item, MOTE_ERR_BAD_ARG,
 * or a syntax/depth error (err optional; offset relative to the container's first byte;
 * key/value undefined). An error ends the iteration: later calls return MOTE_ERR_NOT_FOUND,
 * so a loop must check for the error itself rather than treat every non-MOTE_OK as the end. */
int mote_json_iter_next(mote_json_iter_t *it, mote_json_value_t *key, mote_json_value_t *value,
                        mote_json_error_t *err);

/* The member `key` (key_len raw bytes, no escaping) of an object, or the element at `index`
 * of an array: one search pass over the container's span. Returns MOTE_OK, MOTE_ERR_NOT_FOUND, MOTE_ERR_JSON_TYPE or a syntax error. */
int mote_json_member(const mote_json_value_t *object, const char *key, size_t key_len,
                     mote_json_value_t *out);
int mote_json_element(const mote_json_value_t *array, size_t index, mote_json_value_t *out);

/* Does the string value `v` equal key (key_len raw bytes) after unescaping? */
bool mote_json_string_equals(const mote_json_value_t *v, const char *key, size_t key_len);

/* Typed reads. Each returns MOTE_OK, MOTE_ERR_JSON_TYPE (other type), or as noted. A
 * number written with 2^24 (16,777,216) characters or more reads as MOTE_ERR_JSON_RANGE
 * (zero as zero).
 * get_int64: integers, and numbers with a fraction or exponent whose value is integral
 *   ("60.0", "1e3"); MOTE_ERR_JSON_RANGE outside INT64_MIN..INT64_MAX, MOTE_ERR_JSON_TYPE
 *   for non-integral values.
 * get_double: correctly rounded (nearest, ties to even) for every input, "-0" gives -0.0;
 *   MOTE_ERR_JSON_RANGE when the magnitude rounds above DBL_MAX; values below the smallest
 *   subnormal round to a signed zero (MOTE_OK).
 * get_string: unescapes into buf (cap bytes) and NUL-terminates; *out_len (optional) gets
 *   the byte length without the NUL. MOTE_ERR_BUFFER_TOO_SMALL when cap < length + 1, with
 *   *out_len set to the length needed (without the NUL). \u escapes (with surrogate pairs)
 *   become UTF-8; an escaped \u0000 is copied as a 0 byte (count it with out_len). */
int mote_json_get_int64(const mote_json_value_t *v, int64_t *out);
#if MOTE_JSON_DOUBLE
int mote_json_get_double(const mote_json_value_t *v, double *out);
#endif
int mote_json_get_bool(const mote_json_value_t *v, bool *out);
int mote_json_get_null(const mote_json_value_t *v);
int mote_json_get_string(const mote_json_value_t *v, char *buf, size_t cap, size_t *out_len);

#if MOTE_JSON_DOUBLE
/* Parse a JSON number text (exactly the RFC 8259 number grammar) into a double, with the
 * same rounding and errors as mote_json_get_double; MOTE_ERR_JSON_SYNTAX if not a number. */
int mote_json_parse_double(const char *text, size_t len, double *out);

/* Shortest text (at most 17 significant digits) that reads back as exactly `value` with
 * mote_json_parse_double, in JSON number grammar ("0.1", "-0", "1e+300", "5e-324").
 * buf needs 25 bytes (MOTE_JSON_DOUBLE_MAX). Returns the length, or MOTE_ERR_BAD_ARG for NaN
 * and infinities, MOTE_ERR_BUFFER_TOO_SMALL. No NUL is written. */
#define MOTE_JSON_DOUBLE_MAX 25
int mote_json_format_double(double value, char *buf, size_t cap);
#endif /* MOTE_JSON_DOUBLE */

/* Writer into a caller buffer. Fields are private. After any error the writer is stuck in
 * that error (every later call returns it) and the buffer is emptied (buf[0] = '\0', length
 * 0), so nothing half-written can be mistaken for a JSON text. */
typedef struct mote_json_writer {
    char *buf;
    size_t cap;
    size_t len;
    int err;
    uint16_t depth;
    uint8_t state;      /* what was written last at this level (json_write.c) */
    uint8_t kinds[(MOTE_JSON_WRITER_MAX_DEPTH + 7) / 8]; /* 1 bit per level: object */
} mote_json_writer_t;

/* Start writing into buf (cap bytes). */
void mote_json_writer_init(mote_json_writer_t *w, char *buf, size_t cap);

/* Each returns MOTE_OK or the writer's (sticky) error: MOTE_ERR_BUFFER_TOO_SMALL,
 * MOTE_ERR_JSON_NESTING (key outside an object, value where a key is due, close of the
 * wrong kind or with nothing open, a second top-level value), MOTE_ERR_JSON_DEPTH,
 * MOTE_ERR_BAD_ARG (string not valid UTF-8, NaN/infinite double, raw text not one valid
 * JSON value). Strings are len bytes of UTF-8; they are escaped as needed. */
int mote_json_write_object_begin(mote_json_writer_t *w);
int mote_json_write_object_end(mote_json_writer_t *w);
int mote_json_write_array_begin(mote_json_writer_t *w);
int mote_json_write_array_end(mote_json_writer_t *w);
int mote_json_write_key(mote_json_writer_t *w, const char *key, size_t len);
int mote_json_write_string(mote_json_writer_t *w, const void *s, size_t len);
int mote_json_write_int64(mote_json_writer_t *w, int64_t v);
#if MOTE_JSON_DOUBLE
int mote_json_write_double(mote_json_writer_t *w, double v);
#endif
int mote_json_write_bool(mote_json_writer_t *w, bool v);
int mote_json_write_null(mote_json_writer_t *w);
int mote_json_write_raw(mote_json_writer_t *w, const void *json, size_t len);

/* Finish: the top-level value must be complete. Writes a NUL after the text when there is
 * room (not required). *out_len (optional) gets the text length.
 * Returns MOTE_OK, MOTE_ERR_JSON_NESTING (nothing written or containers still open) or the
 * sticky error. */
int mote_json_writer_finish(mote_json_writer_t *w, size_t *out_len);

#ifdef __cplusplus
}
#endif
#endif
