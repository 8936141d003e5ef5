/* Private helpers shared by the json*.c files (not installed). */
#ifndef MOTE_JSON_INTERNAL_H
#define MOTE_JSON_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "mote/json.h"

struct json_path;

/* One scan over one JSON value: the engine behind validate, find and iteration. */
struct json_scan {
    const uint8_t *p;     /* in: where the value (or whitespace before it) starts; out: after it */
    const uint8_t *end;
    struct json_path *path; /* NULL to only validate */
    const uint8_t *err_at;  /* on failure */
    mote_json_reason_t reason;
};

/* Scans one value (leading whitespace allowed, trailing left alone). Returns MOTE_OK,
 * MOTE_ERR_JSON_SYNTAX or MOTE_ERR_JSON_DEPTH (err_at/reason set). */
int json_scan_value(struct json_scan *sc);

/* Length of the valid UTF-8 sequence at p (1..4), 0 if invalid or truncated. */
size_t json_utf8_seq(const uint8_t *p, const uint8_t *end);

/* Value of the 4 hex digits at p, -1 if not 4 hex digits before end. */
long json_hex4(const uint8_t *p, const uint8_t *end);

/* Decodes one item of a validated string body at *pp (an escape or a raw byte) into out
 * (1..4 bytes), advancing *pp. Returns the byte count, 0 when the body is malformed. */
size_t json_unescape_step(const uint8_t **pp, const uint8_t *end, uint8_t out[4]);

/* Does the string body [k, k+klen) (JSON escapes allowed) equal the key s (slen bytes),
 * where s uses `mode` escapes: 0 none, 1 backslash-literal, 2 JSON Pointer ~0/~1? */
int json_key_equals(const uint8_t *k, size_t klen, const char *s, size_t slen, int mode);

/* Type of the value starting with byte c. */
mote_json_type_t json_type_of(uint8_t c);

/* End of the (already validated) scalar value starting at p. */
const uint8_t *json_scalar_end(const uint8_t *p, const uint8_t *end);

/* Search with a prepared path (json_path.h): the body of mote_json_find. */
int json_find_path(const void *doc, size_t len, struct json_path *jp, mote_json_value_t *out,
                   mote_json_error_t *err);

/* Fills err from sc (if err is not NULL) using base for the offset. */
void json_set_error(mote_json_error_t *err, const struct json_scan *sc, const uint8_t *base);

#endif
