/* libFuzzer: mote_json_validate on arbitrary bytes, and the property that whatever it
 * accepts can be walked with the iterator, re-emitted with the writer, and that the result
 * validates and is structurally equal to the input (same types, keys in order, unescaped
 * strings, number texts). Doubles also round-trip through format/parse bit-exactly, and
 * number reads agree with the C library (strtod for doubles, strtold for int64). */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mote/json.h"

#define CHECK(x)                                                                           \
    do {                                                                                   \
        if (!(x))                                                                          \
            abort();                                                                       \
    } while (0)

static int emit(mote_json_writer_t *w, const mote_json_value_t *v, char *tmp, size_t cap)
{
    mote_json_iter_t it;
    mote_json_value_t k, e;
    size_t n;
    int rc;
    switch (v->type) {
    case MOTE_JSON_OBJECT:
    case MOTE_JSON_ARRAY:
        rc = v->type == MOTE_JSON_OBJECT ? mote_json_write_object_begin(w) : mote_json_write_array_begin(w);
        if (rc != MOTE_OK)
            return rc;
        CHECK(mote_json_iter_init(&it, v) == MOTE_OK);
        while ((rc = mote_json_iter_next(&it, &k, &e, NULL)) == MOTE_OK) {
            if (v->type == MOTE_JSON_OBJECT) {
                CHECK(mote_json_get_string(&k, tmp, cap, &n) == MOTE_OK);
                if ((rc = mote_json_write_key(w, tmp, n)) != MOTE_OK)
                    return rc;
            }
            if ((rc = emit(w, &e, tmp, cap)) != MOTE_OK)
                return rc;
        }
        CHECK(rc == MOTE_ERR_NOT_FOUND);
        return v->type == MOTE_JSON_OBJECT ? mote_json_write_object_end(w) : mote_json_write_array_end(w);
    case MOTE_JSON_STRING:
        CHECK(mote_json_get_string(v, tmp, cap, &n) == MOTE_OK);
        return mote_json_write_string(w, tmp, n);
    case MOTE_JSON_NUMBER: {
        double d, back;
        char buf[MOTE_JSON_DOUBLE_MAX];
        int64_t i;
        int len;
        char *text = malloc(v->len + 1); /* NUL-terminated copy for the C library */
        long double ref;
        CHECK(text != NULL);
        memcpy(text, v->ptr, v->len);
        text[v->len] = '\0';
        rc = mote_json_get_double(v, &d);
        CHECK(rc == MOTE_OK || rc == MOTE_ERR_JSON_RANGE);
        /* the C library's strtod rounds correctly too: the same bits, or both overflow */
        back = strtod(text, NULL);
        if (rc == MOTE_OK)
            CHECK(memcmp(&d, &back, sizeof d) == 0);
        else
            CHECK(back == HUGE_VAL || back == -HUGE_VAL);
        ref = strtold(text, NULL);
        if (rc == MOTE_OK) {
            len = mote_json_format_double(d, buf, sizeof buf);
            CHECK(len > 0);
            CHECK(mote_json_validate(buf, (size_t)len, NULL) == MOTE_OK);
            CHECK(mote_json_parse_double(buf, (size_t)len, &back) == MOTE_OK);
            CHECK(memcmp(&d, &back, sizeof d) == 0);
        }
        rc = mote_json_get_int64(v, &i);
        CHECK(rc == MOTE_OK || rc == MOTE_ERR_JSON_RANGE || rc == MOTE_ERR_JSON_TYPE);
#if LDBL_MANT_DIG >= 64
        /* an integral value in range is exact in a 64-bit mantissa */
        if (rc == MOTE_OK)
            CHECK(ref == (long double)i);
        if (rc == MOTE_ERR_JSON_RANGE)
            CHECK(ref < -0x1p63L || ref >= 0x1p63L);
#endif
        (void)ref;
        free(text);
        return mote_json_write_raw(w, v->ptr, v->len);
    }
    case MOTE_JSON_BOOL: {
        bool b;
        CHECK(mote_json_get_bool(v, &b) == MOTE_OK);
        return mote_json_write_bool(w, b);
    }
    case MOTE_JSON_NULL:
        CHECK(mote_json_get_null(v) == MOTE_OK);
        return mote_json_write_null(w);
    default:
        abort();
    }
}

/* Structural equality of two values, compared by walking both. */
static void same(const mote_json_value_t *a, const mote_json_value_t *b, char *t1, char *t2, size_t cap)
{
    mote_json_iter_t ia, ib;
    mote_json_value_t ka, kb, ea, eb;
    size_t na, nb;
    int ra, rb;
    CHECK(a->type == b->type);
    switch (a->type) {
    case MOTE_JSON_OBJECT:
    case MOTE_JSON_ARRAY:
        CHECK(mote_json_iter_init(&ia, a) == MOTE_OK && mote_json_iter_init(&ib, b) == MOTE_OK);
        for (;;) {
            ra = mote_json_iter_next(&ia, &ka, &ea, NULL);
            rb = mote_json_iter_next(&ib, &kb, &eb, NULL);
            CHECK(ra == rb);
            if (ra != MOTE_OK)
                break;
            if (a->type == MOTE_JSON_OBJECT) {
                CHECK(mote_json_get_string(&ka, t1, cap, &na) == MOTE_OK);
                CHECK(mote_json_string_equals(&kb, t1, na));
            }
            same(&ea, &eb, t1, t2, cap);
        }
        CHECK(ra == MOTE_ERR_NOT_FOUND);
        break;
    case MOTE_JSON_STRING:
        CHECK(mote_json_get_string(a, t1, cap, &na) == MOTE_OK);
        CHECK(mote_json_get_string(b, t2, cap, &nb) == MOTE_OK);
        CHECK(na == nb && memcmp(t1, t2, na) == 0);
        break;
    default:
        CHECK(a->len == b->len && memcmp(a->ptr, b->ptr, a->len) == 0);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mote_json_error_t err;
    mote_json_value_t root, again;
    mote_json_writer_t w;
    char *out, *t1, *t2;
    size_t cap = size * 8 + 64, len;
    int rc = mote_json_validate((const char *)data, size, &err);
    if (rc != MOTE_OK) {
        CHECK(rc == MOTE_ERR_JSON_SYNTAX || rc == MOTE_ERR_JSON_DEPTH);
        CHECK(err.offset <= size && err.reason != MOTE_JSON_R_NONE);
        CHECK(mote_json_find((const char *)data, size, "", 0, &root, NULL) == rc);
        return 0;
    }
    CHECK(mote_json_find((const char *)data, size, "", 0, &root, NULL) == MOTE_OK);
    out = malloc(cap);
    t1 = malloc(cap);
    t2 = malloc(cap);
    CHECK(out && t1 && t2);
    mote_json_writer_init(&w, out, cap);
    rc = emit(&w, &root, t1, size + 1);
    if (rc == MOTE_ERR_JSON_DEPTH) {
        /* Only documents nested deeper than the writer allows. */
        CHECK(size > MOTE_JSON_WRITER_MAX_DEPTH);
    } else {
        CHECK(rc == MOTE_OK);
        CHECK(mote_json_writer_finish(&w, &len) == MOTE_OK);
        CHECK(mote_json_validate(out, len, NULL) == MOTE_OK);
        CHECK(mote_json_find(out, len, "", 0, &again, NULL) == MOTE_OK);
        same(&root, &again, t1, t2, size + 1 > cap ? size + 1 : cap);
    }
    free(out);
    free(t1);
    free(t2);
    return 0;
}
