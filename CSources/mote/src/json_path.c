/* Paths for mote_json_find: dotted ("a.b[2].c", backslash escapes) and JSON Pointer
 * ("/a/b/2/c", ~0 and ~1). Segments are parsed lazily, one per level matched. */
#include <string.h>

#include "json_internal.h"
#include "json_path.h"

#define KIND_OBJECT JSON_PATH_OBJECT
#define KIND_ARRAY JSON_PATH_ARRAY

/* Decimal index without leading zeros; 0 when not one (or too large). */
static JSON_ALWAYS_INLINE int parse_index(const char *s, size_t n, size_t *out)
{
    size_t v = 0, i;
    if (n == 0 || (n > 1 && s[0] == '0'))
        return 0;
    for (i = 0; i < n; i++) {
        unsigned d = (unsigned)(s[i] - '0');
        if (d > 9 || v > ((size_t)-1 - 9) / 10)
            return 0;
        v = v * 10 + d;
    }
    *out = v;
    return 1;
}

/* Parses the segment at jp->rest. `first`: no '.' separator expected before a key. */
static int next_segment(struct json_path *jp, int first)
{
    const char *p = jp->rest, *end = jp->end;
    jp->have = p != end;
    if (!jp->have)
        return MOTE_OK;
    jp->key_mode = 0;
    if (jp->pointer) {
        /* p[0] == '/' */
        jp->key = ++p;
        while (p != end && *p != '/') {
            if (*p == '~') {
                if (p + 1 == end || (p[1] != '0' && p[1] != '1'))
                    return MOTE_ERR_JSON_BAD_PATH;
                jp->key_mode = 2;
                p++;
            }
            p++;
        }
        jp->key_len = (size_t)(p - jp->key);
        jp->kinds = KIND_OBJECT | KIND_ARRAY;
        jp->index_ok = (uint8_t)parse_index(jp->key, jp->key_len, &jp->index);
    } else if (*p == '[') {
        const char *d = ++p;
        while (p != end && *p != ']')
            p++;
        if (p == end || !parse_index(d, (size_t)(p - d), &jp->index))
            return MOTE_ERR_JSON_BAD_PATH;
        p++;
        jp->kinds = KIND_ARRAY;
        jp->index_ok = 1;
    } else {
        if (!first) {
            if (*p != '.')
                return MOTE_ERR_JSON_BAD_PATH;
            p++;
        }
        jp->key = p;
        while (p != end && *p != '.' && *p != '[') {
            if (*p == '\\') {
                if (++p == end)
                    return MOTE_ERR_JSON_BAD_PATH;
                jp->key_mode = 1;
            }
            p++;
        }
        jp->key_len = (size_t)(p - jp->key);
        if (jp->key_len == 0)
            return MOTE_ERR_JSON_BAD_PATH;
        jp->kinds = KIND_OBJECT;
    }
    jp->rest = p;
    return MOTE_OK;
}

int json_path_init(struct json_path *jp, const char *path, size_t len)
{
    int rc, first = 1;
    memset(jp, 0, sizeof *jp);
    jp->rest = path;
    jp->end = path + len;
    jp->pointer = len > 0 && path[0] == '/';
    /* Check the whole path now, so a bad path is reported as such whatever the document. */
    do {
        rc = next_segment(jp, first);
        first = 0;
    } while (rc == MOTE_OK && jp->have);
    if (rc != MOTE_OK)
        return rc;
    jp->rest = path;
    return next_segment(jp, 1);
}

void json_path_single(struct json_path *jp, const char *key, size_t key_len, size_t index)
{
    memset(jp, 0, sizeof *jp);
    jp->rest = jp->end = key ? key + key_len : "";
    jp->have = 1;
    jp->key = key;
    jp->key_len = key_len;
    jp->index = index;
    jp->index_ok = 1;
    jp->kinds = key ? KIND_OBJECT : KIND_ARRAY;
}

unsigned json_path_on_value(struct json_path *jp, const uint8_t *p, unsigned depth)
{
    if (!jp->have) {
        jp->found = p;
        if (*p == '{' || *p == '[') {
            jp->found_pending = 1;
            return depth + 1;
        }
        return 0;
    }
    if (*p == '{' && (jp->kinds & KIND_OBJECT))
        return depth + 1;
    if (*p == '[' && (jp->kinds & KIND_ARRAY) && jp->index_ok)
        return depth + 1;
    return 0; /* a scalar, or the wrong kind of container: not found */
}

void json_path_advance(struct json_path *jp)
{
    next_segment(jp, 0); /* syntax already checked */
}

int json_path_on_element(struct json_path *jp)
{
    /* index counts down: each segment applies to exactly one array */
    if (jp->found_pending)
        return 0;
    if (jp->index == 0)
        return 1;
    jp->index--;
    return 0;
}

void json_path_on_close(struct json_path *jp, const uint8_t *p)
{
    if (jp->found_pending) {
        jp->found_end = p;
        jp->found_pending = 0;
    }
}
