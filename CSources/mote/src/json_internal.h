/* Private helpers shared by the json*.c files (not installed). */
#ifndef MOTE_JSON_INTERNAL_H
#define MOTE_JSON_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "mote/json.h"

struct json_path;

/* One scan over one JSON value: the engine behind validate, find and iteration. */
struct json_scan {
    const uint8_t *p;     /* in: where the value (or whitespace before it) starts; out: after
                             it, or on failure the offending byte */
    const uint8_t *end;
    struct json_path *path; /* NULL to only validate */
    mote_json_reason_t reason;
};

/* Scans one value (leading whitespace allowed, trailing left alone). Returns MOTE_OK,
 * MOTE_ERR_JSON_SYNTAX or MOTE_ERR_JSON_DEPTH (p at the offending byte, reason set). */
int json_scan_value(struct json_scan *sc);

/* Length of the valid UTF-8 sequence at p (1..4), 0 if invalid or truncated. */
size_t json_utf8_seq(const uint8_t *p, const uint8_t *end);

#if defined(__GNUC__)
#define JSON_ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define JSON_ALWAYS_INLINE inline
#endif

/* Value of the 4 hex digits at p, -1 if not 4 hex digits before end. Inline: it sits at the
 * bottom of the deepest call chains. */
static JSON_ALWAYS_INLINE long json_hex4(const uint8_t *p, const uint8_t *end)
{
    long v = 0;
    int i;
    if (end - p < 4)
        return -1;
    for (i = 0; i < 4; i++) {
        unsigned c = p[i], d;
        if ((unsigned)(c - '0') < 10u)
            d = c - '0';
        else if ((unsigned)((c | 0x20) - 'a') < 6u)
            d = (c | 0x20) - 'a' + 10;
        else
            return -1;
        v = v * 16 + (long)d;
    }
    return v;
}

/* Does the string body [k, k+klen) (JSON escapes allowed) equal the key s (slen bytes),
 * where s uses `mode` escapes: 0 none, 1 backslash-literal, 2 JSON Pointer ~0/~1? */
int json_key_equals(const uint8_t *k, size_t klen, const char *s, size_t slen, int mode);

/* Type of the value starting with byte c. */
mote_json_type_t json_type_of(uint8_t c);

/* End of the (already validated) scalar value starting at p. */
const uint8_t *json_scalar_end(const uint8_t *p, const uint8_t *end);

/* Fills err from sc (if err is not NULL) using base for the offset. */
void json_set_error(mote_json_error_t *err, const struct json_scan *sc, const uint8_t *base);

#endif
