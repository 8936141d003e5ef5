/* Writer: documents built and read back equal, escaping, numbers, grammar mistakes and
 * buffer exhaustion (an error leaves nothing that looks like JSON). */
#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "mote/json.h"

/* A reported-state document with every kind of value. */
static int build(mote_json_writer_t *w)
{
    static const char notes[] = "quote\" back\\ nl\n tab\t ctl\x01 \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80 /";
    int rc = MOTE_OK;
#define W(call)                                                                            \
    do {                                                                                   \
        if ((rc = (call)) != MOTE_OK)                                                      \
            return rc;                                                                     \
    } while (0)
    W(mote_json_write_object_begin(w));
    W(mote_json_write_key(w, "state", 5));
    W(mote_json_write_object_begin(w));
    W(mote_json_write_key(w, "reported", 8));
    W(mote_json_write_object_begin(w));
    W(mote_json_write_key(w, "temp", 4));
    W(mote_json_write_double(w, 21.37));
    W(mote_json_write_key(w, "min", 3));
    W(mote_json_write_int64(w, INT64_MIN));
    W(mote_json_write_key(w, "max", 3));
    W(mote_json_write_int64(w, INT64_MAX));
    W(mote_json_write_key(w, "zero", 4));
    W(mote_json_write_int64(w, 0));
    W(mote_json_write_key(w, "negz", 4));
    W(mote_json_write_double(w, -0.0));
    W(mote_json_write_key(w, "tiny", 4));
    W(mote_json_write_double(w, 5e-324));
    W(mote_json_write_key(w, "on", 2));
    W(mote_json_write_bool(w, true));
    W(mote_json_write_key(w, "off", 3));
    W(mote_json_write_bool(w, false));
    W(mote_json_write_key(w, "nothing", 7));
    W(mote_json_write_null(w));
    W(mote_json_write_key(w, "notes", 5));
    W(mote_json_write_string(w, notes, sizeof notes - 1));
    W(mote_json_write_key(w, "k\"e.y", 5));
    W(mote_json_write_array_begin(w));
    W(mote_json_write_array_end(w));
    W(mote_json_write_key(w, "list", 4));
    W(mote_json_write_array_begin(w));
    W(mote_json_write_int64(w, -7));
    W(mote_json_write_raw(w, " {\"pre\": [1, 2]} ", 17));
    W(mote_json_write_object_begin(w));
    W(mote_json_write_object_end(w));
    W(mote_json_write_array_begin(w));
    W(mote_json_write_string(w, "", 0));
    W(mote_json_write_array_end(w));
    W(mote_json_write_array_end(w));
    W(mote_json_write_object_end(w));
    W(mote_json_write_object_end(w));
    W(mote_json_write_object_end(w));
#undef W
    return rc;
}

static void test_roundtrip(void **state)
{
    char buf[1024], s[128];
    mote_json_writer_t w;
    mote_json_value_t v;
    size_t len = 0, n;
    double d;
    int64_t i;
    bool b;
    (void)state;
    mote_json_writer_init(&w, buf, sizeof buf);
    assert_int_equal(build(&w), MOTE_OK);
    assert_int_equal(mote_json_writer_finish(&w, &len), MOTE_OK);
    assert_int_equal(strlen(buf), len);
    assert_int_equal(mote_json_validate(buf, len, NULL), MOTE_OK);

    assert_int_equal(mote_json_find(buf, len, "state.reported.temp", 19, &v, NULL), MOTE_OK);
    assert_int_equal(mote_json_get_double(&v, &d), MOTE_OK);
    assert_true(d == 21.37);
    assert_memory_equal(v.ptr, "21.37", 5);
    assert_int_equal(mote_json_find(buf, len, "state.reported.min", 18, &v, NULL), MOTE_OK);
    assert_int_equal(mote_json_get_int64(&v, &i), MOTE_OK);
    assert_true(i == INT64_MIN);
    assert_int_equal(mote_json_find(buf, len, "state.reported.max", 18, &v, NULL), MOTE_OK);
    assert_int_equal(mote_json_get_int64(&v, &i), MOTE_OK);
    assert_true(i == INT64_MAX);
    assert_int_equal(mote_json_find(buf, len, "state.reported.zero", 19, &v, NULL), MOTE_OK);
    assert_int_equal(v.len, 1);
    assert_int_equal(mote_json_find(buf, len, "state.reported.negz", 19, &v, NULL), MOTE_OK);
    assert_int_equal(mote_json_get_double(&v, &d), MOTE_OK);
    assert_true(d == 0 && signbit(d));
    assert_int_equal(mote_json_find(buf, len, "state.reported.tiny", 19, &v, NULL), MOTE_OK);
    assert_int_equal(mote_json_get_double(&v, &d), MOTE_OK);
    assert_true(d == 5e-324);
    assert_int_equal(mote_json_find(buf, len, "/state/reported/on", 18, &v, NULL), MOTE_OK);
    assert_int_equal(mote_json_get_bool(&v, &b), MOTE_OK);
    assert_true(b);
    assert_int_equal(mote_json_find(buf, len, "/state/reported/nothing", 23, &v, NULL), MOTE_OK);
    assert_int_equal(mote_json_get_null(&v), MOTE_OK);
    assert_int_equal(mote_json_find(buf, len, "/state/reported/notes", 21, &v, NULL), MOTE_OK);
    assert_int_equal(mote_json_get_string(&v, s, sizeof s, &n), MOTE_OK);
    assert_string_equal(s, "quote\" back\\ nl\n tab\t ctl\x01 \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80 /");
    assert_int_equal(mote_json_find(buf, len, "/state/reported/k\"e.y", 21, &v, NULL), MOTE_OK);
    assert_memory_equal(v.ptr, "[]", 2);
    assert_int_equal(mote_json_find(buf, len, "state.reported.list[1].pre[1]", 29, &v, NULL), MOTE_OK);
    assert_memory_equal(v.ptr, "2", 1);
    assert_int_equal(mote_json_find(buf, len, "state.reported.list[3][0]", 25, &v, NULL), MOTE_OK);
    assert_memory_equal(v.ptr, "\"\"", 2);
    assert_non_null(strstr(buf, "ctl\\u0001"));
}

/* Every buffer size below what the document needs fails, and leaves an empty buffer. */
static void test_exhaustion(void **state)
{
    char full[1024], buf[1024];
    mote_json_writer_t w;
    size_t need, cap;
    (void)state;
    mote_json_writer_init(&w, full, sizeof full);
    assert_int_equal(build(&w), MOTE_OK);
    assert_int_equal(mote_json_writer_finish(&w, &need), MOTE_OK);
    for (cap = 0; cap < need; cap++) {
        int rc;
        memset(buf, 'x', sizeof buf);
        mote_json_writer_init(&w, buf, cap);
        rc = build(&w);
        assert_int_equal(rc, MOTE_ERR_BUFFER_TOO_SMALL);
        /* sticky */
        assert_int_equal(mote_json_write_null(&w), MOTE_ERR_BUFFER_TOO_SMALL);
        assert_int_equal(mote_json_writer_finish(&w, NULL), MOTE_ERR_BUFFER_TOO_SMALL);
        if (cap)
            assert_int_equal(buf[0], '\0');
        assert_int_not_equal(mote_json_validate(buf, cap ? strlen(buf) : 0, NULL), MOTE_OK);
    }
    /* Exactly the size: no room for the NUL, which is optional. */
    mote_json_writer_init(&w, buf, need);
    assert_int_equal(build(&w), MOTE_OK);
    assert_int_equal(mote_json_writer_finish(&w, &cap), MOTE_OK);
    assert_int_equal(cap, need);
    assert_memory_equal(buf, full, need);
}

typedef int (*step_fn)(mote_json_writer_t *w);
static int s_obj(mote_json_writer_t *w) { return mote_json_write_object_begin(w); }
static int s_eobj(mote_json_writer_t *w) { return mote_json_write_object_end(w); }
static int s_arr(mote_json_writer_t *w) { return mote_json_write_array_begin(w); }
static int s_earr(mote_json_writer_t *w) { return mote_json_write_array_end(w); }
static int s_key(mote_json_writer_t *w) { return mote_json_write_key(w, "k", 1); }
static int s_num(mote_json_writer_t *w) { return mote_json_write_int64(w, 1); }
static int s_fin(mote_json_writer_t *w) { return mote_json_writer_finish(w, NULL); }

/* Sequences whose last step is a nesting mistake. */
static void test_nesting_errors(void **state)
{
    static const step_fn seqs[][5] = {
        {s_eobj},                          /* close with nothing open */
        {s_earr},
        {s_key},                           /* key at top level */
        {s_num, s_num},                    /* second top-level value */
        {s_obj, s_num},                    /* value without key */
        {s_obj, s_key, s_key},             /* key after key */
        {s_obj, s_key, s_eobj},            /* close with a key waiting */
        {s_obj, s_earr},                   /* wrong closer */
        {s_arr, s_eobj},
        {s_arr, s_key},                    /* key in an array */
        {s_obj, s_key, s_num, s_num},      /* second value for one key */
        {s_obj, s_fin},                    /* finish with open containers */
        {s_fin},                           /* finish with nothing */
        {s_arr, s_earr, s_earr},
    };
    size_t i, j;
    (void)state;
    for (i = 0; i < sizeof seqs / sizeof seqs[0]; i++) {
        char buf[64];
        mote_json_writer_t w;
        int rc = MOTE_OK;
        mote_json_writer_init(&w, buf, sizeof buf);
        for (j = 0; j < 5 && seqs[i][j]; j++) {
            rc = seqs[i][j](&w);
            if (j + 1 < 5 && seqs[i][j + 1])
                assert_int_equal(rc, MOTE_OK);
        }
        if (rc != MOTE_ERR_JSON_NESTING)
            print_error("sequence %zu: rc %d\n", i, rc);
        assert_int_equal(rc, MOTE_ERR_JSON_NESTING);
        assert_int_equal(buf[0], '\0');
        assert_int_equal(mote_json_write_null(&w), MOTE_ERR_JSON_NESTING);
    }
}

static void test_bad_values(void **state)
{
    char buf[64];
    mote_json_writer_t w;
    size_t i;
    (void)state;
    mote_json_writer_init(&w, buf, sizeof buf);
    assert_int_equal(mote_json_write_string(&w, "\xc3\x28", 2), MOTE_ERR_BAD_ARG);
    mote_json_writer_init(&w, buf, sizeof buf);
    assert_int_equal(mote_json_write_string(&w, "\xed\xa0\x80", 3), MOTE_ERR_BAD_ARG);
    mote_json_writer_init(&w, buf, sizeof buf);
    assert_int_equal(mote_json_write_double(&w, HUGE_VAL), MOTE_ERR_BAD_ARG);
    mote_json_writer_init(&w, buf, sizeof buf);
    assert_int_equal(mote_json_write_double(&w, nan("")), MOTE_ERR_BAD_ARG);
    mote_json_writer_init(&w, buf, sizeof buf);
    assert_int_equal(mote_json_write_raw(&w, "[1,", 3), MOTE_ERR_BAD_ARG);
    mote_json_writer_init(&w, buf, sizeof buf);
    assert_int_equal(mote_json_write_raw(&w, "1 2", 3), MOTE_ERR_BAD_ARG);
    assert_int_equal(buf[0], '\0');
    /* Depth limit. */
    mote_json_writer_init(&w, buf, sizeof buf);
    for (i = 0; i < MOTE_JSON_WRITER_MAX_DEPTH; i++)
        assert_int_equal(mote_json_write_array_begin(&w), MOTE_OK);
    assert_int_equal(mote_json_write_array_begin(&w), MOTE_ERR_JSON_DEPTH);
    assert_int_equal(buf[0], '\0');
}

static void test_scalars_top_level(void **state)
{
    char buf[32];
    mote_json_writer_t w;
    size_t n;
    (void)state;
    mote_json_writer_init(&w, buf, sizeof buf);
    assert_int_equal(mote_json_write_int64(&w, -1234567890123LL), MOTE_OK);
    assert_int_equal(mote_json_writer_finish(&w, &n), MOTE_OK);
    assert_string_equal(buf, "-1234567890123");
    mote_json_writer_init(&w, buf, sizeof buf);
    assert_int_equal(mote_json_write_double(&w, 1e300), MOTE_OK);
    assert_int_equal(mote_json_writer_finish(&w, &n), MOTE_OK);
    assert_string_equal(buf, "1e+300");
    mote_json_writer_init(&w, buf, sizeof buf);
    assert_int_equal(mote_json_write_string(&w, "a", 1), MOTE_OK);
    assert_int_equal(mote_json_writer_finish(&w, &n), MOTE_OK);
    assert_string_equal(buf, "\"a\"");
}

/* When two mistakes meet in one call, the first one in the call's order is reported: the
 * grammar, then the separating comma, then the depth limit or a NULL string, then the text.
 * write_raw checks its text before the grammar. */
static void test_error_order(void **state)
{
    char buf[80];
    mote_json_writer_t w;
    size_t i, n;
    (void)state;
    /* "[1" fills 2 bytes: the comma does not fit before the NULL string is seen ... */
    mote_json_writer_init(&w, buf, 2);
    assert_int_equal(mote_json_write_array_begin(&w), MOTE_OK);
    assert_int_equal(mote_json_write_int64(&w, 1), MOTE_OK);
    assert_int_equal(mote_json_write_string(&w, NULL, 1), MOTE_ERR_BUFFER_TOO_SMALL);
    /* ... with room for the comma only, the NULL string comes before its quote */
    mote_json_writer_init(&w, buf, 3);
    assert_int_equal(mote_json_write_array_begin(&w), MOTE_OK);
    assert_int_equal(mote_json_write_int64(&w, 1), MOTE_OK);
    assert_int_equal(mote_json_write_string(&w, NULL, 1), MOTE_ERR_BAD_ARG);
    assert_int_equal(buf[0], '\0');
    /* A NULL string in the wrong place is a nesting mistake first. */
    mote_json_writer_init(&w, buf, sizeof buf);
    assert_int_equal(mote_json_write_object_begin(&w), MOTE_OK);
    assert_int_equal(mote_json_write_string(&w, NULL, 1), MOTE_ERR_JSON_NESTING);
    /* An empty key may be NULL. */
    mote_json_writer_init(&w, buf, sizeof buf);
    assert_int_equal(mote_json_write_object_begin(&w), MOTE_OK);
    assert_int_equal(mote_json_write_key(&w, NULL, 0), MOTE_OK);
    assert_int_equal(mote_json_write_null(&w), MOTE_OK);
    assert_int_equal(mote_json_write_object_end(&w), MOTE_OK);
    assert_int_equal(mote_json_writer_finish(&w, &n), MOTE_OK);
    assert_string_equal(buf, "{\"\":null}");
    /* At the depth limit after an item: the comma first, then the limit, then the bracket. */
    for (n = MOTE_JSON_WRITER_MAX_DEPTH + 1; n <= MOTE_JSON_WRITER_MAX_DEPTH + 2; n++) {
        mote_json_writer_init(&w, buf, n);
        for (i = 0; i < MOTE_JSON_WRITER_MAX_DEPTH; i++)
            assert_int_equal(mote_json_write_array_begin(&w), MOTE_OK);
        assert_int_equal(mote_json_write_int64(&w, 1), MOTE_OK);
        assert_int_equal(mote_json_write_array_begin(&w), n == MOTE_JSON_WRITER_MAX_DEPTH + 1
                                                              ? MOTE_ERR_BUFFER_TOO_SMALL
                                                              : MOTE_ERR_JSON_DEPTH);
    }
    /* Raw text is checked before the grammar. */
    mote_json_writer_init(&w, buf, sizeof buf);
    assert_int_equal(mote_json_write_null(&w), MOTE_OK);
    assert_int_equal(mote_json_write_raw(&w, "[1,", 3), MOTE_ERR_BAD_ARG);
    mote_json_writer_init(&w, buf, sizeof buf);
    assert_int_equal(mote_json_write_null(&w), MOTE_OK);
    assert_int_equal(mote_json_write_raw(&w, "[1]", 3), MOTE_ERR_JSON_NESTING);
    /* Finishing twice is fine; nothing may follow a finished value. */
    mote_json_writer_init(&w, buf, sizeof buf);
    assert_int_equal(mote_json_write_bool(&w, false), MOTE_OK);
    assert_int_equal(mote_json_writer_finish(&w, &n), MOTE_OK);
    assert_int_equal(mote_json_writer_finish(&w, &n), MOTE_OK);
    assert_string_equal(buf, "false");
    assert_int_equal(mote_json_write_array_begin(&w), MOTE_ERR_JSON_NESTING);
    assert_int_equal(mote_json_write_bool(NULL, true), MOTE_ERR_BAD_ARG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip),      cmocka_unit_test(test_exhaustion),
        cmocka_unit_test(test_nesting_errors), cmocka_unit_test(test_bad_values),
        cmocka_unit_test(test_scalars_top_level), cmocka_unit_test(test_error_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
