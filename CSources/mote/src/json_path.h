/* Path state for the one-pass search (private). The scanner calls these hooks only at the
 * one depth it watches, so a search costs little more than validating. Keys are compared by
 * the scanner itself (json_key_equals) so no hook calls another function while the
 * scanner's frame is live, except json_path_advance. */
#ifndef MOTE_JSON_PATH_H
#define MOTE_JSON_PATH_H

#include <stddef.h>
#include <stdint.h>

struct json_path {
    const char *rest;     /* unparsed remainder of the path */
    const char *end;
    const char *key;      /* current segment as a key */
    size_t key_len;
    size_t index;         /* current segment as an array index (if index_ok); counts down
                             the elements still to pass in the watched array */
    const uint8_t *found; /* start of the matched value */
    const uint8_t *found_end; /* end of it; NULL for scalars until computed */
    uint8_t pointer;      /* JSON Pointer syntax (else dotted) */
    uint8_t have;         /* a segment is pending (else the path is fully matched) */
    uint8_t kinds;        /* 1: segment applies to objects, 2: to arrays */
    uint8_t key_mode;     /* escapes inside key: 0 none, 1 backslash, 2 ~0/~1 */
    uint8_t index_ok;
    uint8_t found_pending; /* found a container, waiting for its end */
};

/* Checks the whole path syntax and loads the first segment.
 * Returns MOTE_OK or MOTE_ERR_JSON_BAD_PATH. */
int json_path_init(struct json_path *jp, const char *path, size_t len);

/* A path of one segment: the member `key` (raw bytes, no escapes) when key is not NULL,
 * else the element at `index`. */
void json_path_single(struct json_path *jp, const char *key, size_t key_len, size_t index);

#define JSON_PATH_OBJECT 1u /* kinds: the segment applies to objects */
#define JSON_PATH_ARRAY 2u  /* kinds: the segment applies to arrays */

/* The value the path matched so far starts at p (nesting depth `depth`). Returns the depth
 * to watch next (depth + 1 when descending into it), 0 for none. */
unsigned json_path_on_value(struct json_path *jp, const uint8_t *p, unsigned depth);
/* A key or element of the watched container matched the current segment: next segment. */
void json_path_advance(struct json_path *jp);
/* An element of the watched array starts. 1 when it is the one (then json_path_advance). */
int json_path_on_element(struct json_path *jp);
/* The watched container closed; p is after its last byte. */
void json_path_on_close(struct json_path *jp, const uint8_t *p);

#endif
