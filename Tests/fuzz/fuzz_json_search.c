/* libFuzzer: mote_json_find with a fuzzed path (the input's first line) on a fuzzed
 * document (the rest). Search must agree with validate about validity, return a span inside
 * the document that is itself valid JSON of the reported type, and agree with a lookup
 * done step by step with mote_json_member/mote_json_element for simple dotted paths. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mote/json.h"

#define CHECK(x)                                                                           \
    do {                                                                                   \
        if (!(x))                                                                          \
            abort();                                                                       \
    } while (0)

/* Follows a dotted path without escapes using member/element. */
static int step_by_step(const char *doc, size_t len, const char *path, size_t plen, mote_json_value_t *out)
{
    const char *p = path, *end = path + plen;
    int rc = mote_json_find(doc, len, "", 0, out, NULL);
    while (rc == MOTE_OK && p != end) {
        if (*p == '[') {
            size_t idx = 0;
            for (p++; p != end && *p != ']'; p++)
                idx = idx * 10 + (size_t)(*p - '0');
            p++;
            rc = mote_json_element(out, idx, out);
        } else {
            const char *k;
            if (*p == '.')
                p++;
            for (k = p; p != end && *p != '.' && *p != '['; p++) {
            }
            rc = mote_json_member(out, k, (size_t)(p - k), out);
        }
        if (rc == MOTE_ERR_JSON_TYPE)
            rc = MOTE_ERR_NOT_FOUND;
    }
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *nl = memchr(data, '\n', size);
    const char *path = (const char *)data, *doc;
    size_t plen, dlen;
    mote_json_value_t v, ref;
    mote_json_error_t e1, e2;
    int rc, vrc;
    if (!nl)
        return 0;
    plen = (size_t)(nl - path);
    doc = nl + 1;
    dlen = size - plen - 1;
    rc = mote_json_find(doc, dlen, path, plen, &v, &e1);
    if (rc == MOTE_ERR_JSON_BAD_PATH)
        return 0;
    vrc = mote_json_validate(doc, dlen, &e2);
    if (vrc != MOTE_OK) {
        CHECK(rc == vrc && e1.offset == e2.offset && e1.reason == e2.reason);
        return 0;
    }
    CHECK(rc == MOTE_OK || rc == MOTE_ERR_NOT_FOUND);
    if (rc == MOTE_OK) {
        char small[8];
        size_t n;
        double d;
        int64_t i;
        bool b;
        CHECK(v.ptr >= doc && v.ptr + v.len <= doc + dlen && v.len > 0);
        CHECK(mote_json_validate(v.ptr, v.len, NULL) == MOTE_OK);
        CHECK(v.type != MOTE_JSON_NONE);
        (void)mote_json_get_double(&v, &d);
        (void)mote_json_get_int64(&v, &i);
        (void)mote_json_get_bool(&v, &b);
        rc = mote_json_get_string(&v, small, sizeof small, &n);
        CHECK(v.type == MOTE_JSON_STRING ? (rc == MOTE_OK || rc == MOTE_ERR_BUFFER_TOO_SMALL)
                                         : rc == MOTE_ERR_JSON_TYPE);
        if (v.type == MOTE_JSON_OBJECT || v.type == MOTE_JSON_ARRAY) {
            mote_json_iter_t it;
            mote_json_value_t k, e;
            CHECK(mote_json_iter_init(&it, &v) == MOTE_OK);
            while ((rc = mote_json_iter_next(&it, &k, &e, NULL)) == MOTE_OK)
                CHECK(e.ptr > v.ptr && e.ptr + e.len < v.ptr + v.len);
            CHECK(rc == MOTE_ERR_NOT_FOUND);
        }
        rc = MOTE_OK;
    }
    /* Simple dotted paths (no escapes, no pointer): compare with the step-by-step lookup. */
    if (plen && path[0] != '/' && !memchr(path, '\\', plen)) {
        int r2 = step_by_step(doc, dlen, path, plen, &ref);
        CHECK(r2 == rc);
        if (rc == MOTE_OK)
            CHECK(ref.ptr == v.ptr && ref.len == v.len);
    }
    return 0;
}
