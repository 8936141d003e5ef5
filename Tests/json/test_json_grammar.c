/* Validation: every RFC 8259 grammar rule accepted and rejected, escapes, UTF-8 edge
 * cases, depth, and the offset/reason of failures. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mote/json.h"

typedef struct {
    const char *text;
    size_t len; /* 0: strlen */
} doc_t;

#define D(s) {s, sizeof(s) - 1}

static const doc_t k_valid[] = {
    D("0"), D("-0"), D("1"), D("-1"), D("123"), D("1.5"), D("-0.0"), D("0.001"), D("1e5"),
    D("1E5"), D("1e+5"), D("1e-5"), D("1.5e-10"), D("-12.34E+56"), D("0e0"), D("9007199254740993"),
    D("1e400"), D("true"), D("false"), D("null"), D("\"\""), D("\"abc\""),
    D("\"\\\" \\\\ \\/ \\b \\f \\n \\r \\t\""), D("\"\\u0000\""), D("\"\\u00e9\\u00E9\""),
    D("\"\\ud83d\\ude00\""), D("\"\\uD83D\\uDE00\""), D("\"\\uffff\""), D("\"\\ue000\""),
    D("\"\xc3\xa9\""), D("\"\xe2\x82\xac\""), D("\"\xf0\x9f\x98\x80\""), D("\"\xf4\x8f\xbf\xbf\""),
    D("\"\xed\x9f\xbf\""), D("\"\xee\x80\x80\""), D("\"\xef\xbf\xbf\""), D("\"\x7f\""),
    D("[]"), D("{}"), D("[1]"), D("[1,2,3]"), D("[[],[[]]]"), D("{\"a\":1}"),
    D("{\"a\":1,\"b\":[true,false,null],\"c\":{\"d\":\"e\"}}"), D("{\"\":0}"),
    D("{\"a\":1,\"a\":2}"), D(" \t\r\n[ 1 , { \"k\" : \"v\" } ]\n "), D("  \"x\"  "),
    D("[\"a\\\"b\",\"\\\\\"]"), D("[1e1,0.1e1,-1E-1]"), D("{\"a\":{\"b\":{\"c\":[{}]}}}"),
    D("\"abcdefghijklmnopqrstuvwxyz0123456789 long plain text crosses word boundaries\""),
};

typedef struct {
    const char *text;
    size_t len;
    size_t offset;
    mote_json_reason_t reason;
} bad_t;

#define B(s, off, why) {s, sizeof(s) - 1, off, MOTE_JSON_R_##why}

static const bad_t k_invalid[] = {
    B("", 0, EMPTY), B("   ", 3, EMPTY),
    /* numbers */
    B("01", 1, BAD_NUMBER), B("-01", 2, BAD_NUMBER), B("00", 1, BAD_NUMBER), B("1.", 2, BAD_NUMBER),
    B(".5", 0, UNEXPECTED_CHAR), B("-", 1, BAD_NUMBER), B("-a", 1, BAD_NUMBER), B("+1", 0, UNEXPECTED_CHAR),
    B("1e", 2, BAD_NUMBER), B("1e+", 3, BAD_NUMBER), B("1E-", 3, BAD_NUMBER), B("1.e5", 2, BAD_NUMBER),
    B("1.5.", 3, TRAILING), B("0x10", 1, TRAILING), B("1 2", 2, TRAILING), B("[01]", 2, BAD_NUMBER),
    B("[1.]", 3, BAD_NUMBER), B("-Infinity", 1, BAD_NUMBER), B("NaN", 0, UNEXPECTED_CHAR),
    B("[1e]", 3, BAD_NUMBER),
    /* literals */
    B("tru", 0, BAD_LITERAL), B("truex", 4, TRAILING), B("True", 0, UNEXPECTED_CHAR),
    B("nul", 0, BAD_LITERAL), B("fals", 0, BAD_LITERAL), B("[nulL]", 1, BAD_LITERAL),
    B("undefined", 0, UNEXPECTED_CHAR),
    /* strings */
    B("\"abc", 4, UNEXPECTED_END), B("\"", 1, UNEXPECTED_END), B("'a'", 0, UNEXPECTED_CHAR),
    B("\"a\tb\"", 2, CONTROL_CHAR), B("\"a\nb\"", 2, CONTROL_CHAR), B("\"\x01\"", 1, CONTROL_CHAR),
    B("\"\x1f\"", 1, CONTROL_CHAR), B("\"0123456789\x1f\"", 11, CONTROL_CHAR),
    B("\"\\x\"", 1, BAD_ESCAPE), B("\"\\\"", 3, UNEXPECTED_END), B("\"\\u12\"", 1, BAD_ESCAPE),
    B("\"\\u12g4\"", 1, BAD_ESCAPE), B("\"\\U0041\"", 1, BAD_ESCAPE), B("\"\\'\"", 1, BAD_ESCAPE),
    B("\"\\", 1, BAD_ESCAPE), B("\"\\ud800\"", 1, BAD_SURROGATE), B("\"\\udc00\"", 1, BAD_SURROGATE),
    B("\"\\ud800\\u0041\"", 1, BAD_SURROGATE), B("\"\\ud800\\ud800\"", 1, BAD_SURROGATE),
    B("\"\\ude00\\ud83d\"", 1, BAD_SURROGATE), B("\"\\ud83d\"", 1, BAD_SURROGATE),
    /* bytes 0x10-0x19 are not hex digits (a case fold must not turn them into '0'-'9') */
    B("\"\\u\x10\x11\x12\x13\"", 1, BAD_ESCAPE), B("\"\\u004\x19\"", 1, BAD_ESCAPE),
    B("\"\\ud83d\\ude0\x10\"", 1, BAD_SURROGATE),
    /* UTF-8 */
    B("\"\x80\"", 1, BAD_UTF8), B("\"\xbf\"", 1, BAD_UTF8), B("\"\xc0\xaf\"", 1, BAD_UTF8),
    B("\"\xc1\xbf\"", 1, BAD_UTF8), B("\"\xe0\x80\xaf\"", 1, BAD_UTF8), B("\"\xe0\x9f\xbf\"", 1, BAD_UTF8),
    B("\"\xf0\x80\x80\xaf\"", 1, BAD_UTF8), B("\"\xf0\x8f\xbf\xbf\"", 1, BAD_UTF8),
    B("\"\xed\xa0\x80\"", 1, BAD_UTF8), B("\"\xed\xbf\xbf\"", 1, BAD_UTF8),
    B("\"\xf4\x90\x80\x80\"", 1, BAD_UTF8), B("\"\xf5\x80\x80\x80\"", 1, BAD_UTF8),
    B("\"\xf8\x88\x80\x80\x80\"", 1, BAD_UTF8), B("\"\xff\"", 1, BAD_UTF8), B("\"\xfe\"", 1, BAD_UTF8),
    B("\"\xc3\"", 1, BAD_UTF8), B("\"\xc3", 1, BAD_UTF8), B("\"\xe2\x82\"", 1, BAD_UTF8),
    B("\"\xe2\x82", 1, BAD_UTF8), B("\"\xf0\x9f\x98\"", 1, BAD_UTF8), B("\"\xc3\x28\"", 1, BAD_UTF8),
    B("\"abcdefgh\xc3\x28\"", 9, BAD_UTF8), B("\xef\xbb\xbf{}", 0, UNEXPECTED_CHAR),
    /* structure */
    B("[", 1, UNEXPECTED_END), B("[1", 2, UNEXPECTED_END), B("[1,", 3, UNEXPECTED_END),
    B("[1,]", 3, UNEXPECTED_CHAR), B("[,1]", 1, UNEXPECTED_CHAR), B("[1 2]", 3, EXPECTED_COMMA),
    B("[1}", 2, EXPECTED_COMMA), B("{\"a\":1]", 6, EXPECTED_COMMA), B("]", 0, UNEXPECTED_CHAR),
    B("{", 1, UNEXPECTED_END), B("{\"a\"", 4, UNEXPECTED_END), B("{\"a\":", 5, UNEXPECTED_END),
    B("{\"a\" 1}", 5, EXPECTED_COLON), B("{\"a\":1,}", 7, EXPECTED_KEY), B("{a:1}", 1, EXPECTED_KEY),
    B("{1:1}", 1, EXPECTED_KEY), B("{\"a\":1 \"b\":2}", 7, EXPECTED_COMMA), B("{,}", 1, EXPECTED_KEY),
    B("{\"a\"::1}", 5, UNEXPECTED_CHAR), B("[]]", 2, TRAILING), B("{}{}", 2, TRAILING),
    B("[] x", 3, TRAILING), B("1,", 1, TRAILING), B("[\x0b]", 1, UNEXPECTED_CHAR),
    B("\x0c[]", 0, UNEXPECTED_CHAR), B("[\"a\":1]", 4, EXPECTED_COMMA), B("{\"a\":1:2}", 6, EXPECTED_COMMA),
};

static void test_valid(void **state)
{
    size_t i;
    (void)state;
    for (i = 0; i < sizeof k_valid / sizeof k_valid[0]; i++) {
        mote_json_error_t err;
        int rc = mote_json_validate(k_valid[i].text, k_valid[i].len, &err);
        if (rc != MOTE_OK)
            print_error("valid #%zu rejected at %zu: %s\n", i, err.offset,
                        mote_json_reason_text(err.reason));
        assert_int_equal(rc, MOTE_OK);
        assert_int_equal(err.reason, MOTE_JSON_R_NONE);
    }
}

static void test_invalid(void **state)
{
    size_t i;
    (void)state;
    for (i = 0; i < sizeof k_invalid / sizeof k_invalid[0]; i++) {
        mote_json_error_t err;
        int rc = mote_json_validate(k_invalid[i].text, k_invalid[i].len, &err);
        if (rc != MOTE_ERR_JSON_SYNTAX || err.offset != k_invalid[i].offset ||
            err.reason != k_invalid[i].reason)
            print_error("invalid #%zu: rc %d offset %zu reason %s (want %zu %s)\n", i, rc,
                        err.offset, mote_json_reason_text(err.reason), k_invalid[i].offset,
                        mote_json_reason_text(k_invalid[i].reason));
        assert_int_equal(rc, MOTE_ERR_JSON_SYNTAX);
        assert_int_equal(err.offset, k_invalid[i].offset);
        assert_int_equal(err.reason, k_invalid[i].reason);
    }
}

/* Every proper prefix of a valid document is invalid (the end is detected everywhere),
 * except prefixes that are themselves complete numbers. */
static void test_truncations(void **state)
{
    static const char doc[] =
        "{\"state\":{\"desired\":{\"a\":[1,2.5e3,true,false,null,\"x\\u00e9\\n\"],\"b\":{}}}}";
    size_t n;
    (void)state;
    for (n = 0; n < sizeof doc - 1; n++)
        assert_int_not_equal(mote_json_validate(doc, n, NULL), MOTE_OK);
    assert_int_equal(mote_json_validate(doc, sizeof doc - 1, NULL), MOTE_OK);
}

static void test_nul_bytes(void **state)
{
    (void)state;
    assert_int_equal(mote_json_validate("\"a\0b\"", 5, NULL), MOTE_ERR_JSON_SYNTAX);
    assert_int_equal(mote_json_validate("[1]\0", 4, NULL), MOTE_ERR_JSON_SYNTAX);
    assert_int_equal(mote_json_validate("[\0]", 3, NULL), MOTE_ERR_JSON_SYNTAX);
    assert_int_equal(mote_json_validate(NULL, 0, NULL), MOTE_ERR_JSON_SYNTAX);
    assert_int_equal(mote_json_validate(NULL, 3, NULL), MOTE_ERR_BAD_ARG);
}

/* A NULL document of length 0 is empty: the error is at offset 0 (not the distance from
 * NULL to wherever the scan ran). */
static void test_null_document_offset(void **state)
{
    mote_json_error_t err = {99, MOTE_JSON_R_NONE};
    mote_json_value_t v;
    (void)state;
    assert_int_equal(mote_json_validate(NULL, 0, &err), MOTE_ERR_JSON_SYNTAX);
    assert_int_equal(err.offset, 0);
    assert_int_equal(err.reason, MOTE_JSON_R_EMPTY);
    err.offset = 99;
    assert_int_equal(mote_json_find(NULL, 0, "a", 1, &v, &err), MOTE_ERR_JSON_SYNTAX);
    assert_int_equal(err.offset, 0);
    assert_int_equal(err.reason, MOTE_JSON_R_EMPTY);
}

/* Every code point class round the UTF-8 boundaries, both raw and escaped. */
static void test_utf8_boundaries(void **state)
{
    static const uint32_t ok[] = {0x20, 0x7f, 0x80, 0x7ff, 0x800, 0xd7ff, 0xe000, 0xfffd,
                                  0xffff, 0x10000, 0x10ffff};
    size_t i;
    (void)state;
    for (i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        uint32_t cp = ok[i];
        char s[16];
        size_t n = 0;
        s[n++] = '"';
        if (cp < 0x80) {
            s[n++] = (char)cp;
        } else if (cp < 0x800) {
            s[n++] = (char)(0xc0 | (cp >> 6));
            s[n++] = (char)(0x80 | (cp & 0x3f));
        } else if (cp < 0x10000) {
            s[n++] = (char)(0xe0 | (cp >> 12));
            s[n++] = (char)(0x80 | ((cp >> 6) & 0x3f));
            s[n++] = (char)(0x80 | (cp & 0x3f));
        } else {
            s[n++] = (char)(0xf0 | (cp >> 18));
            s[n++] = (char)(0x80 | ((cp >> 12) & 0x3f));
            s[n++] = (char)(0x80 | ((cp >> 6) & 0x3f));
            s[n++] = (char)(0x80 | (cp & 0x3f));
        }
        s[n++] = '"';
        assert_int_equal(mote_json_validate(s, n, NULL), MOTE_OK);
    }
}

static char *nested(size_t depth, int objects)
{
    char *s = malloc(depth * 6 + 8), *p = s;
    size_t i;
    for (i = 0; i < depth; i++) {
        if (objects) {
            memcpy(p, "{\"a\":", 5);
            p += 5;
        } else {
            *p++ = '[';
        }
    }
    *p++ = '1';
    for (i = 0; i < depth; i++)
        *p++ = objects ? '}' : ']';
    *p = '\0';
    return s;
}

static void test_depth(void **state)
{
    mote_json_error_t err;
    char *s;
    int objects;
    (void)state;
    for (objects = 0; objects < 2; objects++) {
        s = nested(1000, objects);
        assert_int_equal(mote_json_validate(s, strlen(s), NULL), MOTE_OK);
        free(s);
        s = nested(MOTE_JSON_MAX_DEPTH, objects);
        assert_int_equal(mote_json_validate(s, strlen(s), NULL), MOTE_OK);
        free(s);
        s = nested(MOTE_JSON_MAX_DEPTH + 1, objects);
        assert_int_equal(mote_json_validate(s, strlen(s), &err), MOTE_ERR_JSON_DEPTH);
        assert_int_equal(err.reason, MOTE_JSON_R_TOO_DEEP);
        assert_int_equal(err.offset, (size_t)MOTE_JSON_MAX_DEPTH * (objects ? 5 : 1));
        free(s);
    }
    /* Deep but unbalanced stays a syntax error, not a crash. */
    s = nested(100000, 0);
    assert_int_equal(mote_json_validate(s, strlen(s), &err), MOTE_ERR_JSON_DEPTH);
    free(s);
}

static void test_reason_texts(void **state)
{
    int r;
    (void)state;
    for (r = MOTE_JSON_R_NONE; r <= MOTE_JSON_R_TRAILING; r++)
        assert_string_not_equal(mote_json_reason_text((mote_json_reason_t)r), "unknown");
    assert_string_equal(mote_json_reason_text((mote_json_reason_t)99), "unknown");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),           cmocka_unit_test(test_invalid),
        cmocka_unit_test(test_truncations),     cmocka_unit_test(test_nul_bytes),
        cmocka_unit_test(test_utf8_boundaries), cmocka_unit_test(test_depth),
        cmocka_unit_test(test_reason_texts),
        cmocka_unit_test(test_null_document_offset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
