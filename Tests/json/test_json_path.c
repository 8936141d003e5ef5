/* Search by dotted path and JSON Pointer (escapes, indexes, first match, not found, bad
 * paths, search of invalid documents), iteration, member and element lookups. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "mote/json.h"

static const char k_doc[] =
    "{\"state\":{\"desired\":{\"lights\":[{\"id\":0,\"on\":true},{\"id\":1,\"on\":false}],"
    "\"mode\":\"auto\"},\"reported\":{\"temp\":21.5}},"
    "\"a.b\":1,\"x[0]\":2,\"back\\\\slash\":3,\"m~n\":4,\"s/t\":5,\"\":6,"
    "\"esc\\u0061ped\":7,\"dup\":8,\"dup\":9,\"e\\u0301\":10,\"arr\":[[1,2],[3,[4,5]]],"
    "\"empty\":{},\"none\":[],\"n\":null, \"sp ace\" : { \"k\" : [ 10 , 20 ] } }";

static void expect(const char *path, int rc, const char *value)
{
    mote_json_value_t v;
    mote_json_error_t err;
    int got = mote_json_find(k_doc, sizeof k_doc - 1, path, strlen(path), &v, &err);
    if (got != rc)
        print_error("path '%s': rc %d, want %d\n", path, got, rc);
    assert_int_equal(got, rc);
    if (rc == MOTE_OK) {
        if (v.len != strlen(value) || memcmp(v.ptr, value, v.len) != 0)
            print_error("path '%s': got '%.*s', want '%s'\n", path, (int)v.len, v.ptr, value);
        assert_int_equal(v.len, strlen(value));
        assert_memory_equal(v.ptr, value, v.len);
    }
}

static void test_dotted(void **state)
{
    (void)state;
    expect("state.desired.mode", MOTE_OK, "\"auto\"");
    expect("state.desired.lights[1].on", MOTE_OK, "false");
    expect("state.desired.lights[0]", MOTE_OK, "{\"id\":0,\"on\":true}");
    expect("state.reported.temp", MOTE_OK, "21.5");
    expect("state.reported", MOTE_OK, "{\"temp\":21.5}");
    expect("arr[1][1][0]", MOTE_OK, "4");
    expect("arr[1][1]", MOTE_OK, "[4,5]");
    expect("arr[0]", MOTE_OK, "[1,2]");
    expect("a\\.b", MOTE_OK, "1");
    expect("x\\[0]", MOTE_OK, "2");
    expect("back\\\\slash", MOTE_OK, "3");
    expect("m~n", MOTE_OK, "4");
    expect("s/t", MOTE_OK, "5");
    expect("escaped", MOTE_OK, "7");
    expect("dup", MOTE_OK, "8");
    expect("e\xcc\x81", MOTE_OK, "10");
    expect("empty", MOTE_OK, "{}");
    expect("none", MOTE_OK, "[]");
    expect("n", MOTE_OK, "null");
    expect("sp ace.k[1]", MOTE_OK, "20");
    expect("sp ace", MOTE_OK, "{ \"k\" : [ 10 , 20 ] }");
    expect("", MOTE_OK, k_doc);
}

static void test_pointer(void **state)
{
    (void)state;
    expect("/state/desired/lights/1/on", MOTE_OK, "false");
    expect("/state/desired/lights/0/id", MOTE_OK, "0");
    expect("/a.b", MOTE_OK, "1");
    expect("/x[0]", MOTE_OK, "2");
    expect("/m~0n", MOTE_OK, "4");
    expect("/s~1t", MOTE_OK, "5");
    expect("/", MOTE_OK, "6");
    expect("/arr/1/1/1", MOTE_OK, "5");
    expect("/back\\slash", MOTE_OK, "3");
    expect("/sp ace/k/0", MOTE_OK, "10");
}

static void test_not_found(void **state)
{
    (void)state;
    expect("state.desired.missing", MOTE_ERR_NOT_FOUND, NULL);
    expect("state.desired.lights[2]", MOTE_ERR_NOT_FOUND, NULL);
    expect("state.desired.lights.0", MOTE_ERR_NOT_FOUND, NULL); /* key on an array */
    expect("state[0]", MOTE_ERR_NOT_FOUND, NULL);              /* index on an object */
    expect("state.desired.mode.x", MOTE_ERR_NOT_FOUND, NULL);  /* below a scalar */
    expect("a.b", MOTE_ERR_NOT_FOUND, NULL);                   /* dot separates */
    expect("empty.x", MOTE_ERR_NOT_FOUND, NULL);
    expect("none[0]", MOTE_ERR_NOT_FOUND, NULL);
    expect("/state/desired/lights/01", MOTE_ERR_NOT_FOUND, NULL);
    expect("/state/desired/lights/-", MOTE_ERR_NOT_FOUND, NULL);
    expect("/m~1n", MOTE_ERR_NOT_FOUND, NULL);
    expect("/arr/1/1/2", MOTE_ERR_NOT_FOUND, NULL);
    expect("/state/", MOTE_ERR_NOT_FOUND, NULL);
    expect("temp", MOTE_ERR_NOT_FOUND, NULL); /* only at the root level */
}

static void test_bad_paths(void **state)
{
    static const char *bad[] = {"a..b", ".a", "a.", "a[", "a[]", "a[x]", "a[01]", "a[-1]",
                                "a\\", "[0", "a[0]b", "/a~", "/a~2", "/~x",
                                "a[99999999999999999999999]"};
    size_t i;
    mote_json_value_t v;
    (void)state;
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = mote_json_find(k_doc, sizeof k_doc - 1, bad[i], strlen(bad[i]), &v, NULL);
        if (rc != MOTE_ERR_JSON_BAD_PATH)
            print_error("path '%s': rc %d\n", bad[i], rc);
        assert_int_equal(rc, MOTE_ERR_JSON_BAD_PATH);
    }
    /* A bad path is reported even for an invalid document. */
    assert_int_equal(mote_json_find("[", 1, "a..b", 4, &v, NULL), MOTE_ERR_JSON_BAD_PATH);
    assert_int_equal(mote_json_find(k_doc, 3, NULL, 1, &v, NULL), MOTE_ERR_BAD_ARG);
}

/* Search validates the whole document, before and after the match. */
static void test_search_invalid(void **state)
{
    mote_json_value_t v;
    mote_json_error_t err;
    (void)state;
    assert_int_equal(mote_json_find("{\"a\":1,\"b\":}", 12, "a", 1, &v, &err), MOTE_ERR_JSON_SYNTAX);
    assert_int_equal(err.offset, 11);
    assert_int_equal(mote_json_find("{\"a\":01}", 8, "a", 1, &v, &err), MOTE_ERR_JSON_SYNTAX);
    assert_int_equal(mote_json_find("{\"a\":[1,2] x", 12, "a[1]", 4, &v, &err), MOTE_ERR_JSON_SYNTAX);
    assert_int_equal(mote_json_find("{\"a\":1}", 7, "a", 1, &v, &err), MOTE_OK);
    assert_int_equal(v.type, MOTE_JSON_NUMBER);
}

static void test_types(void **state)
{
    static const struct {
        const char *path;
        mote_json_type_t type;
    } t[] = {{"state", MOTE_JSON_OBJECT}, {"arr", MOTE_JSON_ARRAY},
             {"state.desired.mode", MOTE_JSON_STRING}, {"a\\.b", MOTE_JSON_NUMBER},
             {"state.desired.lights[0].on", MOTE_JSON_BOOL}, {"n", MOTE_JSON_NULL}};
    size_t i;
    (void)state;
    for (i = 0; i < sizeof t / sizeof t[0]; i++) {
        mote_json_value_t v;
        assert_int_equal(mote_json_find(k_doc, sizeof k_doc - 1, t[i].path, strlen(t[i].path), &v, NULL), MOTE_OK);
        assert_int_equal(v.type, t[i].type);
    }
}

/* Scalars at the top level and at the end of the document. */
static void test_scalar_ends(void **state)
{
    mote_json_value_t v;
    (void)state;
    assert_int_equal(mote_json_find(" -12.5e3 ", 9, "", 0, &v, NULL), MOTE_OK);
    assert_int_equal(v.len, 7);
    assert_int_equal(mote_json_find("\"a\\\"b\"", 6, "", 0, &v, NULL), MOTE_OK);
    assert_int_equal(v.len, 6);
    assert_int_equal(mote_json_find("[1,true]", 8, "[1]", 3, &v, NULL), MOTE_OK);
    assert_int_equal(v.len, 4);
    assert_int_equal(mote_json_find("[false]", 7, "[0]", 3, &v, NULL), MOTE_OK);
    assert_int_equal(v.len, 5);
    assert_int_equal(mote_json_find("[12]", 4, "[0]", 3, &v, NULL), MOTE_OK);
    assert_int_equal(v.len, 2);
}

static void test_iterate(void **state)
{
    mote_json_value_t root, k, v;
    mote_json_iter_t it;
    char name[32];
    int n = 0;
    (void)state;
    assert_int_equal(mote_json_find(k_doc, sizeof k_doc - 1, "", 0, &root, NULL), MOTE_OK);
    assert_int_equal(mote_json_iter_init(&it, &root), MOTE_OK);
    while (mote_json_iter_next(&it, &k, &v, NULL) == MOTE_OK) {
        assert_int_equal(k.type, MOTE_JSON_STRING);
        assert_int_equal(mote_json_get_string(&k, name, sizeof name, NULL), MOTE_OK);
        if (n == 0) {
            assert_string_equal(name, "state");
            assert_int_equal(v.type, MOTE_JSON_OBJECT);
        }
        if (n == 7) {
            assert_string_equal(name, "escaped");
            assert_memory_equal(v.ptr, "7", 1);
        }
        n++;
    }
    assert_int_equal(n, 16);
    assert_int_equal(it.index, 16);
    assert_int_equal(mote_json_iter_next(&it, &k, &v, NULL), MOTE_ERR_NOT_FOUND);

    /* Arrays: no key; whitespace around items is not part of them. */
    assert_int_equal(mote_json_find(k_doc, sizeof k_doc - 1, "sp ace.k", 8, &root, NULL), MOTE_OK);
    assert_int_equal(mote_json_iter_init(&it, &root), MOTE_OK);
    assert_int_equal(mote_json_iter_next(&it, &k, &v, NULL), MOTE_OK);
    assert_int_equal(k.type, MOTE_JSON_NONE);
    assert_int_equal(v.len, 2);
    assert_memory_equal(v.ptr, "10", 2);
    assert_int_equal(mote_json_iter_next(&it, NULL, &v, NULL), MOTE_OK);
    assert_memory_equal(v.ptr, "20", 2);
    assert_int_equal(v.len, 2);
    assert_int_equal(mote_json_iter_next(&it, NULL, &v, NULL), MOTE_ERR_NOT_FOUND);

    /* Empty containers. */
    assert_int_equal(mote_json_find(k_doc, sizeof k_doc - 1, "empty", 5, &root, NULL), MOTE_OK);
    assert_int_equal(mote_json_iter_init(&it, &root), MOTE_OK);
    assert_int_equal(mote_json_iter_next(&it, &k, &v, NULL), MOTE_ERR_NOT_FOUND);
    assert_int_equal(mote_json_find(k_doc, sizeof k_doc - 1, "none", 4, &root, NULL), MOTE_OK);
    assert_int_equal(mote_json_iter_init(&it, &root), MOTE_OK);
    assert_int_equal(mote_json_iter_next(&it, &k, &v, NULL), MOTE_ERR_NOT_FOUND);

    /* Not a container. */
    assert_int_equal(mote_json_find(k_doc, sizeof k_doc - 1, "n", 1, &root, NULL), MOTE_OK);
    assert_int_equal(mote_json_iter_init(&it, &root), MOTE_ERR_JSON_TYPE);
}

static void test_iterate_invalid(void **state)
{
    /* including spans with a stray closer inside (never a valid value's span), and spans
     * cut off inside a nested item (where the scan is back in the state it started in) */
    static const char *bad[] = {"[1 2]", "[1,]", "{\"a\" 1}", "{\"a\":}", "{1:2}", "[\"\\x\"]",
                                "[1]]", "[]]", "{\"a\":1}}", "{}}", "[1,]]", "{\"a\":1]}",
                                "{\"a\":{\"b\":1,}", "[[1,]", "[1,[2 ]", "[[]]]", "{\"a\":{}}}"};
    size_t i;
    (void)state;
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        mote_json_value_t c = {bad[i], strlen(bad[i]), MOTE_JSON_NONE}, v;
        mote_json_iter_t it;
        mote_json_error_t err;
        int rc;
        assert_int_equal(mote_json_iter_init(&it, &c), MOTE_OK);
        while ((rc = mote_json_iter_next(&it, NULL, &v, &err)) == MOTE_OK) {
        }
        assert_int_equal(rc, MOTE_ERR_JSON_SYNTAX);
        assert_int_equal(mote_json_iter_next(&it, NULL, &v, NULL), MOTE_ERR_NOT_FOUND);
    }
    /* a span without its closing bracket is not a container */
    {
        static const char *open[] = {"[[", "{\"a\":{", "[1,2", "{]", "[}"};
        for (i = 0; i < sizeof open / sizeof open[0]; i++) {
            mote_json_value_t c = {open[i], strlen(open[i]), MOTE_JSON_NONE};
            mote_json_iter_t it;
            assert_int_equal(mote_json_iter_init(&it, &c), MOTE_ERR_JSON_TYPE);
        }
    }
    /* no container, or an empty span */
    {
        mote_json_value_t empty = {"[]", 0, MOTE_JSON_NONE}, none = {NULL, 0, MOTE_JSON_NONE};
        mote_json_iter_t it;
        assert_int_equal(mote_json_iter_init(&it, NULL), MOTE_ERR_BAD_ARG);
        assert_int_equal(mote_json_iter_init(&it, &empty), MOTE_ERR_BAD_ARG);
        assert_int_equal(mote_json_iter_init(&it, &none), MOTE_ERR_BAD_ARG);
        assert_int_equal(mote_json_iter_init(NULL, &empty), MOTE_ERR_BAD_ARG);
    }
}

/* Keys and values with whitespace around them; the value is required. */
static void test_iterate_spaces(void **state)
{
    static const char doc[] = "{ \"a\" : 1 ,\n\t\"b\\\"\":[ 2 ] , \"c\":{\"d\":\"}\"}}";
    mote_json_value_t c = {doc, sizeof doc - 1, MOTE_JSON_OBJECT}, k, v;
    mote_json_iter_t it;
    char name[8];
    (void)state;
    assert_int_equal(mote_json_iter_init(&it, &c), MOTE_OK);
    assert_int_equal(mote_json_iter_next(&it, &k, NULL, NULL), MOTE_ERR_BAD_ARG);
    assert_int_equal(mote_json_iter_next(&it, &k, &v, NULL), MOTE_OK);
    assert_int_equal(k.len, 3);
    assert_memory_equal(k.ptr, "\"a\"", 3);
    assert_int_equal(v.len, 1);
    assert_int_equal(v.type, MOTE_JSON_NUMBER);
    assert_int_equal(mote_json_iter_next(&it, &k, &v, NULL), MOTE_OK);
    assert_int_equal(mote_json_get_string(&k, name, sizeof name, NULL), MOTE_OK);
    assert_string_equal(name, "b\"");
    assert_int_equal(v.len, 5);
    assert_int_equal(v.type, MOTE_JSON_ARRAY);
    assert_int_equal(mote_json_iter_next(&it, &k, &v, NULL), MOTE_OK);
    assert_memory_equal(k.ptr, "\"c\"", 3);
    assert_int_equal(v.type, MOTE_JSON_OBJECT);
    assert_int_equal(v.len, 9);
    assert_int_equal(mote_json_iter_next(&it, &k, &v, NULL), MOTE_ERR_NOT_FOUND);
    assert_int_equal(it.index, 3);
}

static void test_member_element(void **state)
{
    mote_json_value_t root, s, d, l, e, on;
    bool b;
    (void)state;
    assert_int_equal(mote_json_find(k_doc, sizeof k_doc - 1, "", 0, &root, NULL), MOTE_OK);
    assert_int_equal(mote_json_member(&root, "state", 5, &s), MOTE_OK);
    assert_int_equal(mote_json_member(&s, "desired", 7, &d), MOTE_OK);
    assert_int_equal(mote_json_member(&d, "lights", 6, &l), MOTE_OK);
    assert_int_equal(mote_json_element(&l, 1, &e), MOTE_OK);
    assert_int_equal(mote_json_member(&e, "on", 2, &on), MOTE_OK);
    assert_int_equal(mote_json_get_bool(&on, &b), MOTE_OK);
    assert_false(b);
    assert_int_equal(mote_json_element(&l, 2, &e), MOTE_ERR_NOT_FOUND);
    assert_int_equal(mote_json_member(&root, "a.b", 3, &e), MOTE_OK);
    assert_int_equal(mote_json_member(&root, "escaped", 7, &e), MOTE_OK);
    assert_int_equal(mote_json_member(&root, "", 0, &e), MOTE_OK);
    assert_memory_equal(e.ptr, "6", 1);
    assert_int_equal(mote_json_member(&root, "nope", 4, &e), MOTE_ERR_NOT_FOUND);
    assert_int_equal(mote_json_member(&l, "x", 1, &e), MOTE_ERR_JSON_TYPE);
    assert_int_equal(mote_json_element(&root, 0, &e), MOTE_ERR_JSON_TYPE);
    assert_int_equal(mote_json_member(&on, "x", 1, &e), MOTE_ERR_JSON_TYPE);
    /* Searching inside a span found earlier. */
    assert_int_equal(mote_json_find(d.ptr, d.len, "lights[0].id", 12, &e, NULL), MOTE_OK);
    assert_memory_equal(e.ptr, "0", 1);
}

static void test_string_equals(void **state)
{
    mote_json_value_t v = {"\"a\\u00e9\\n\"", 11, MOTE_JSON_STRING};
    (void)state;
    assert_true(mote_json_string_equals(&v, "a\xc3\xa9\n", 4));
    assert_false(mote_json_string_equals(&v, "a\xc3\xa9", 3));
    assert_false(mote_json_string_equals(&v, "a\xc3\xa9\nx", 5));
    v.type = MOTE_JSON_NUMBER;
    assert_false(mote_json_string_equals(&v, "a", 1));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dotted),          cmocka_unit_test(test_pointer),
        cmocka_unit_test(test_not_found),       cmocka_unit_test(test_bad_paths),
        cmocka_unit_test(test_search_invalid),  cmocka_unit_test(test_types),
        cmocka_unit_test(test_scalar_ends),     cmocka_unit_test(test_iterate),
        cmocka_unit_test(test_iterate_invalid),
        cmocka_unit_test(test_iterate_spaces), cmocka_unit_test(test_member_element),
        cmocka_unit_test(test_string_equals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
