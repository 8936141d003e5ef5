/* Reading values: int64 range edges, doubles (exact rounding, -0, overflow, subnormals),
 * bool/null, strings unescaped with buffer sizing. */
#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mote/json.h"

static mote_json_value_t num(const char *s)
{
    mote_json_value_t v = {s, strlen(s), MOTE_JSON_NUMBER};
    return v;
}

static void test_int64(void **state)
{
    static const struct {
        const char *text;
        int rc;
        int64_t value;
    } t[] = {
        {"0", MOTE_OK, 0}, {"-0", MOTE_OK, 0}, {"42", MOTE_OK, 42}, {"-42", MOTE_OK, -42},
        {"9223372036854775807", MOTE_OK, INT64_MAX},
        {"-9223372036854775808", MOTE_OK, INT64_MIN},
        {"9223372036854775808", MOTE_ERR_JSON_RANGE, 0},
        {"-9223372036854775809", MOTE_ERR_JSON_RANGE, 0},
        {"18446744073709551616", MOTE_ERR_JSON_RANGE, 0},
        {"99999999999999999999999", MOTE_ERR_JSON_RANGE, 0},
        {"60.0", MOTE_OK, 60}, {"1e3", MOTE_OK, 1000}, {"1.5e1", MOTE_OK, 15},
        {"100e-2", MOTE_OK, 1}, {"0.000", MOTE_OK, 0}, {"0e99999", MOTE_OK, 0},
        {"9.223372036854775807e18", MOTE_OK, INT64_MAX},
        {"9.223372036854775808e18", MOTE_ERR_JSON_RANGE, 0},
        {"-9.223372036854775808e18", MOTE_OK, INT64_MIN},
        {"922337203685477580.7e1", MOTE_OK, INT64_MAX},
        {"1e19", MOTE_ERR_JSON_RANGE, 0}, {"1e400", MOTE_ERR_JSON_RANGE, 0},
        {"1.5", MOTE_ERR_JSON_TYPE, 0}, {"1e-1", MOTE_ERR_JSON_TYPE, 0},
        {"1e-400", MOTE_ERR_JSON_TYPE, 0}, {"0.1e1", MOTE_OK, 1},
    };
    size_t i;
    (void)state;
    for (i = 0; i < sizeof t / sizeof t[0]; i++) {
        mote_json_value_t v = num(t[i].text);
        int64_t out = 12345;
        int rc = mote_json_get_int64(&v, &out);
        if (rc != t[i].rc || (rc == MOTE_OK && out != t[i].value))
            print_error("%s: rc %d value %lld\n", t[i].text, rc, (long long)out);
        assert_int_equal(rc, t[i].rc);
        if (rc == MOTE_OK)
            assert_true(out == t[i].value);
    }
    {
        mote_json_value_t s = {"\"1\"", 3, MOTE_JSON_STRING};
        mote_json_value_t b = {"true", 4, MOTE_JSON_BOOL};
        int64_t out;
        assert_int_equal(mote_json_get_int64(&s, &out), MOTE_ERR_JSON_TYPE);
        assert_int_equal(mote_json_get_int64(&b, &out), MOTE_ERR_JSON_TYPE);
    }
}

/* "<head><zeros x n><tail>" in a buffer the caller frees. */
static char *number_text(const char *head, size_t zeros, const char *tail)
{
    size_t h = strlen(head), t = strlen(tail);
    char *s = malloc(h + zeros + t + 1);
    assert_non_null(s);
    memcpy(s, head, h);
    memset(s + h, '0', zeros);
    memcpy(s + h + zeros, tail, t + 1);
    return s;
}

/* Long exponents and long digit strings: the exponent is exact as long as it matters (an
 * exponent of 1,000,000 cancels a million zeros); beyond that the value is out of range
 * either way. Numbers of 2^24 characters or more are refused as out of range, never read
 * as something else. */
static void test_long_numbers(void **state)
{
    static const struct {
        const char *head;
        size_t zeros;
        const char *tail;
        int rc_int, rc_double; /* when MOTE_OK: the value is 1, or 0 with zero_value */
        int zero_value;
    } t[] = {
        {"1", 1000000, "e-1000000", MOTE_OK, MOTE_OK, 0},
        {"0.", 999999, "1e1000000", MOTE_OK, MOTE_OK, 0},
        {"-0.", 999999, "1e+1000000", MOTE_OK, MOTE_OK, 0}, /* -1 */
        {"0.", 99999, "1e1000000", MOTE_ERR_JSON_RANGE, MOTE_ERR_JSON_RANGE, 0}, /* 1e900000 */
        {"1", 0, "e1000000000000000000000", MOTE_ERR_JSON_RANGE, MOTE_ERR_JSON_RANGE, 0},
        {"1", 0, "e-1000000000000000000000", MOTE_ERR_JSON_TYPE, MOTE_OK, 1},
        {"1", 1000, "e-0000000000000000000001000", MOTE_OK, MOTE_OK, 0},
        {"1", 16777216, "e-16777216", MOTE_ERR_JSON_RANGE, MOTE_ERR_JSON_RANGE, 0},
        {"0.", 16777216, "", MOTE_OK, MOTE_OK, 1},
    };
    size_t i;
    (void)state;
    for (i = 0; i < sizeof t / sizeof t[0]; i++) {
        char *s = number_text(t[i].head, t[i].zeros, t[i].tail);
        mote_json_value_t v = num(s);
        int64_t n = 7;
        int neg = s[0] == '-';
        assert_int_equal(mote_json_validate(s, v.len, NULL), MOTE_OK);
        assert_int_equal(mote_json_get_int64(&v, &n), t[i].rc_int);
        if (t[i].rc_int == MOTE_OK)
            assert_true(n == (t[i].zero_value ? 0 : neg ? -1 : 1));
#if MOTE_JSON_DOUBLE
        {
            double d = 7;
            assert_int_equal(mote_json_get_double(&v, &d), t[i].rc_double);
            if (t[i].rc_double == MOTE_OK)
                assert_true(d == (t[i].zero_value ? 0.0 : neg ? -1.0 : 1.0));
        }
#endif
        free(s);
    }
}

#if MOTE_JSON_DOUBLE
static void check_double(const char *text, int rc, double want)
{
    mote_json_value_t v = num(text);
    double out = 0;
    int got = mote_json_get_double(&v, &out);
    if (got != rc || (rc == MOTE_OK && memcmp(&out, &want, sizeof out) != 0))
        print_error("%s: rc %d value %.17g (want %.17g)\n", text, got, out, want);
    assert_int_equal(got, rc);
    if (rc == MOTE_OK)
        assert_memory_equal(&out, &want, sizeof out);
}

static void test_double(void **state)
{
    (void)state;
    check_double("0", MOTE_OK, 0.0);
    check_double("-0", MOTE_OK, -0.0);
    check_double("-0.0e10", MOTE_OK, -0.0);
    check_double("1", MOTE_OK, 1.0);
    check_double("0.1", MOTE_OK, 0.1);
    check_double("21.37", MOTE_OK, 21.37);
    check_double("-1013.25", MOTE_OK, -1013.25);
    check_double("1e22", MOTE_OK, 1e22);
    check_double("1e23", MOTE_OK, 1e23);
    check_double("123456789012345678901234567890", MOTE_OK, 1.2345678901234568e29);
    check_double("9007199254740993", MOTE_OK, 9007199254740992.0);   /* tie: to even */
    check_double("9007199254740995", MOTE_OK, 9007199254740996.0);   /* tie: to even */
    check_double("9007199254740993.0000000000000000000001", MOTE_OK, 9007199254740994.0);
    check_double("1.7976931348623157e308", MOTE_OK, DBL_MAX);
    check_double("1.7976931348623158e308", MOTE_OK, DBL_MAX);
    check_double("1.7976931348623159e308", MOTE_ERR_JSON_RANGE, 0);
    check_double("1e400", MOTE_ERR_JSON_RANGE, 0);
    check_double("-1e400", MOTE_ERR_JSON_RANGE, 0);
    check_double("1e99999999999999999999", MOTE_ERR_JSON_RANGE, 0);
    check_double("2.2250738585072014e-308", MOTE_OK, DBL_MIN);
    check_double("2.2250738585072011e-308", MOTE_OK, 2.2250738585072011e-308);
    check_double("4.9406564584124654e-324", MOTE_OK, 4.9406564584124654e-324);
    check_double("5e-324", MOTE_OK, 4.9406564584124654e-324);
    check_double("2.4703282292062328e-324", MOTE_OK, 4.9406564584124654e-324);
    check_double("2.4703282292062327e-324", MOTE_OK, 0.0);
    check_double("1e-400", MOTE_OK, 0.0);
    check_double("-1e-400", MOTE_OK, -0.0);
    check_double("1e-99999999999999999999", MOTE_OK, 0.0);
    check_double("0.30000000000000004", MOTE_OK, 0.30000000000000004);
    check_double("2.2250738585072012e-308", MOTE_OK, 2.2250738585072014e-308);
    check_double("0.0000000000000000000000000000000000000000001e43", MOTE_OK, 1.0);
    {
        mote_json_value_t s = {"\"1\"", 3, MOTE_JSON_STRING};
        double d;
        assert_int_equal(mote_json_get_double(&s, &d), MOTE_ERR_JSON_TYPE);
        assert_int_equal(mote_json_parse_double("1.", 2, &d), MOTE_ERR_JSON_SYNTAX);
        assert_int_equal(mote_json_parse_double("01", 2, &d), MOTE_ERR_JSON_SYNTAX);
        assert_int_equal(mote_json_parse_double("1e", 2, &d), MOTE_ERR_JSON_SYNTAX);
        assert_int_equal(mote_json_parse_double("", 0, &d), MOTE_ERR_JSON_SYNTAX);
        assert_int_equal(mote_json_parse_double("1x", 2, &d), MOTE_ERR_JSON_SYNTAX);
    }
}

/* Against the C library on many random texts (correct rounding on both sides). */
static void test_double_random(void **state)
{
    int i;
    (void)state;
    srand(7);
    for (i = 0; i < 20000; i++) {
        char text[64];
        double x, want, got;
        uint64_t u = ((uint64_t)rand() << 42) ^ ((uint64_t)rand() << 21) ^ (uint64_t)rand();
        memcpy(&x, &u, sizeof x);
        if (!isfinite(x))
            continue;
        snprintf(text, sizeof text, "%.*e", rand() % 25, x);
        want = strtod(text, NULL);
        if (isinf(want))
            continue;
        assert_int_equal(mote_json_parse_double(text, strlen(text), &got), MOTE_OK);
        if (memcmp(&got, &want, sizeof got) != 0)
            print_error("%s: %.17g want %.17g\n", text, got, want);
        assert_memory_equal(&got, &want, sizeof got);
    }
}

/* Short decimals, the common case in device data (21.37, -0.004, 1013.25e3): 1 to 17
 * significant digits with a decimal exponent of -26..26, covering both sides of the edges
 * where a reader can take shortcuts (15/16 digits, powers of ten up to 10^22). */
static void test_double_short(void **state)
{
    int i;
    (void)state;
    srand(5);
    for (i = 0; i < 200000; i++) {
        char text[64], *q = text;
        double want, got;
        int digits = 1 + rand() % 17, point = rand() % (digits + 1), exp = rand() % 53 - 26, j;
        if (rand() & 1)
            *q++ = '-';
        for (j = 0; j < digits; j++) {
            if (j == point && j > 0)
                *q++ = '.';
            *q++ = (char)('0' + (j == 0 ? 1 + rand() % 9 : rand() % 10));
        }
        if (rand() & 1)
            q += snprintf(q, 8, "e%d", exp);
        *q = '\0';
        want = strtod(text, NULL);
        assert_int_equal(mote_json_parse_double(text, strlen(text), &got), MOTE_OK);
        if (memcmp(&got, &want, sizeof got) != 0)
            print_error("%s: %.17g want %.17g\n", text, got, want);
        assert_memory_equal(&got, &want, sizeof got);
    }
}

/* Decimals at and beside the halfway point between neighbouring doubles, the inputs where
 * rounding is decided by digits far to the right: the exact midpoint (all its digits, a tie
 * that must go to the even neighbour) and its roundings to 17..40 significant digits (just
 * above or below it). The midpoint needs 54 bits, so it is exact in a long double of 64 or
 * more; where long double is the same as double (32-bit ARM) only the random test runs. */
static void test_double_halfway(void **state)
{
    int i, total = 0;
    (void)state;
#if LDBL_MANT_DIG >= 64
    srand(11);
    for (i = 0; i < 4000; i++) {
        static char text[900];
        double x, hi, want, got;
        long double mid;
        int digits;
        uint64_t u = ((uint64_t)rand() << 42) ^ ((uint64_t)rand() << 21) ^ (uint64_t)rand();
        u &= ~((uint64_t)1 << 63);
        if (i % 4 == 0)
            u &= ((uint64_t)1 << 52) - 1; /* subnormals */
        memcpy(&x, &u, sizeof x);
        hi = nextafter(x, HUGE_VAL);
        if (!isfinite(hi))
            continue;
        mid = ((long double)x + (long double)hi) / 2;
        for (digits = 16; digits <= 40; digits += 4) {
            /* %.*Le rounds correctly; 800 places print the midpoint exactly */
            snprintf(text, sizeof text, "%.*Le", digits == 40 ? 800 : digits, mid);
            want = strtod(text, NULL);
            assert_int_equal(mote_json_parse_double(text, strlen(text), &got), MOTE_OK);
            if (memcmp(&got, &want, sizeof got) != 0)
                print_error("%.40s...: %.17g want %.17g\n", text, got, want);
            assert_memory_equal(&got, &want, sizeof got);
            total++;
        }
    }
    assert_true(total > 20000);
#else
    (void)i;
    (void)total;
#endif
}

static void test_format_double(void **state)
{
    static const struct {
        double v;
        const char *text;
    } t[] = {{0.0, "0"}, {-0.0, "-0"}, {1.0, "1"}, {-1.5, "-1.5"}, {0.1, "0.1"}, {21.37, "21.37"},
             {100.0, "100"}, {1e21, "1e+21"}, {1e20, "100000000000000000000"}, {1e-6, "0.000001"},
             {1e-7, "1e-7"}, {0.30000000000000004, "0.30000000000000004"},
             {DBL_MAX, "1.7976931348623157e+308"}, {4.9406564584124654e-324, "5e-324"},
             {DBL_MIN, "2.2250738585072014e-308"}, {123456.789, "123456.789"},
             {9007199254740992.0, "9007199254740992"}};
    size_t i;
    char buf[MOTE_JSON_DOUBLE_MAX];
    double inf = HUGE_VAL;
    (void)state;
    for (i = 0; i < sizeof t / sizeof t[0]; i++) {
        int n = mote_json_format_double(t[i].v, buf, sizeof buf);
        assert_true(n > 0);
        if ((size_t)n != strlen(t[i].text) || memcmp(buf, t[i].text, (size_t)n) != 0)
            print_error("%.17g -> %.*s (want %s)\n", t[i].v, n, buf, t[i].text);
        assert_int_equal(n, strlen(t[i].text));
        assert_memory_equal(buf, t[i].text, (size_t)n);
    }
    assert_int_equal(mote_json_format_double(inf, buf, sizeof buf), MOTE_ERR_BAD_ARG);
    assert_int_equal(mote_json_format_double(-inf, buf, sizeof buf), MOTE_ERR_BAD_ARG);
    assert_int_equal(mote_json_format_double(nan(""), buf, sizeof buf), MOTE_ERR_BAD_ARG);
    assert_int_equal(mote_json_format_double(0.1, buf, 2), MOTE_ERR_BUFFER_TOO_SMALL);
}

/* Significant digits of a formatted number: from the first non-zero digit to the last one
 * before any exponent. */
static int significant_digits(const char *t, int n)
{
    int i, first = -1, last = -1, count = 0;
    for (i = 0; i < n && t[i] != 'e'; i++) {
        if (t[i] < '0' || t[i] > '9')
            continue;
        if (t[i] != '0') {
            if (first < 0)
                first = count;
            last = count;
        }
        count++;
    }
    return first < 0 ? 1 : last - first + 1;
}

/* Every finite double (random bit patterns) formats to text that validates and reads back
 * bit-identical, in as few significant digits as any text that reads back (found with the C
 * library: the first precision whose correctly rounded text strtod maps back). */
static void test_format_roundtrip(void **state)
{
    int i;
    (void)state;
    srand(11);
    for (i = 0; i < 20000; i++) {
        char buf[MOTE_JSON_DOUBLE_MAX], ref[40];
        double x, y;
        int n, p;
        uint64_t u = ((uint64_t)rand() << 42) ^ ((uint64_t)rand() << 21) ^ (uint64_t)rand();
        if (i % 4 == 0)
            u &= 0x000FFFFFFFFFFFFFull | (1ull << 63); /* subnormals too */
        memcpy(&x, &u, sizeof x);
        if (i % 4 == 1) /* a short decimal, as device data has: 2137 / 100 */
            x = (double)(rand() % 1000000) / pow(10.0, (double)(rand() % 9));
        if (!isfinite(x))
            continue;
        n = mote_json_format_double(x, buf, sizeof buf);
        assert_true(n > 0 && n <= MOTE_JSON_DOUBLE_MAX);
        assert_int_equal(mote_json_validate(buf, (size_t)n, NULL), MOTE_OK);
        assert_int_equal(mote_json_parse_double(buf, (size_t)n, &y), MOTE_OK);
        if (memcmp(&x, &y, sizeof x) != 0)
            print_error("%.17g -> %.*s -> %.17g\n", x, n, buf, y);
        assert_memory_equal(&x, &y, sizeof x);
        for (p = 0; p < 16; p++) {
            snprintf(ref, sizeof ref, "%.*e", p, x);
            if (strtod(ref, NULL) == x)
                break;
        }
        if (significant_digits(buf, n) != p + 1)
            print_error("%.17g -> %.*s, but %s reads back\n", x, n, buf, ref);
        assert_int_equal(significant_digits(buf, n), p + 1);
    }
}

#endif /* MOTE_JSON_DOUBLE */

static void test_bool_null(void **state)
{
    mote_json_value_t t = {"true", 4, MOTE_JSON_BOOL}, f = {"false", 5, MOTE_JSON_BOOL},
                      n = {"null", 4, MOTE_JSON_NULL}, z = {"0", 1, MOTE_JSON_NUMBER};
    bool b = false;
    (void)state;
    assert_int_equal(mote_json_get_bool(&t, &b), MOTE_OK);
    assert_true(b);
    assert_int_equal(mote_json_get_bool(&f, &b), MOTE_OK);
    assert_false(b);
    assert_int_equal(mote_json_get_bool(&n, &b), MOTE_ERR_JSON_TYPE);
    assert_int_equal(mote_json_get_bool(&z, &b), MOTE_ERR_JSON_TYPE);
    assert_int_equal(mote_json_get_null(&n), MOTE_OK);
    assert_int_equal(mote_json_get_null(&t), MOTE_ERR_JSON_TYPE);
    assert_int_equal(mote_json_get_bool(NULL, &b), MOTE_ERR_BAD_ARG);
}

static void check_string(const char *json, const char *want, size_t want_len)
{
    mote_json_value_t v = {json, strlen(json), MOTE_JSON_STRING};
    char buf[64];
    size_t len = 999;
    assert_int_equal(mote_json_validate(json, strlen(json), NULL), MOTE_OK);
    assert_int_equal(mote_json_get_string(&v, buf, sizeof buf, &len), MOTE_OK);
    assert_int_equal(len, want_len);
    assert_memory_equal(buf, want, want_len);
    assert_int_equal(buf[len], '\0');
    /* Exactly enough room (length + NUL) works; one byte less reports the size needed. */
    memset(buf, 'x', sizeof buf);
    assert_int_equal(mote_json_get_string(&v, buf, want_len + 1, &len), MOTE_OK);
    assert_int_equal(mote_json_get_string(&v, buf, want_len, &len), MOTE_ERR_BUFFER_TOO_SMALL);
    assert_int_equal(len, want_len);
    if (want_len)
        assert_int_equal(buf[0], '\0');
    for (size_t i = want_len; i < sizeof buf; i++)
        assert_int_equal(buf[i], i == want_len ? buf[i] : 'x');
}

static void test_string(void **state)
{
    (void)state;
    check_string("\"\"", "", 0);
    check_string("\"plain\"", "plain", 5);
    check_string("\"a\\\"b\\\\c\\/d\"", "a\"b\\c/d", 7);
    check_string("\"\\b\\f\\n\\r\\t\"", "\b\f\n\r\t", 5);
    check_string("\"\\u0041\\u00e9\\u20AC\"", "A\xc3\xa9\xe2\x82\xac", 6);
    check_string("\"\\ud83d\\ude00!\"", "\xf0\x9f\x98\x80!", 5);
    check_string("\"\\udbff\\udfff\"", "\xf4\x8f\xbf\xbf", 4);
    check_string("\"a\\u0000b\"", "a\0b", 3);
    check_string("\"\xc3\xa9\xf0\x9f\x98\x80\"", "\xc3\xa9\xf0\x9f\x98\x80", 6);
    {
        mote_json_value_t n = {"12", 2, MOTE_JSON_NUMBER};
        char buf[4];
        size_t len = 7;
        assert_int_equal(mote_json_get_string(&n, buf, sizeof buf, &len), MOTE_ERR_JSON_TYPE);
        n.ptr = "\"abc\"";
        n.len = 5;
        assert_int_equal(mote_json_get_string(&n, NULL, 0, &len), MOTE_ERR_BUFFER_TOO_SMALL);
        assert_int_equal(len, 3);
    }
}

/* Values found in a document read back as typed. */
static void test_from_document(void **state)
{
    static const char doc[] = "{\"t\":-0.0,\"big\":1e400,\"i\":-9223372036854775808,\"s\":\"x\\ty\"}";
    mote_json_value_t v;
    int64_t i;
    char buf[8];
    (void)state;
#if MOTE_JSON_DOUBLE
    double d;
    assert_int_equal(mote_json_find(doc, sizeof doc - 1, "t", 1, &v, NULL), MOTE_OK);
    assert_int_equal(mote_json_get_double(&v, &d), MOTE_OK);
    assert_true(d == 0.0 && signbit(d));
    assert_int_equal(mote_json_find(doc, sizeof doc - 1, "big", 3, &v, NULL), MOTE_OK);
    assert_int_equal(mote_json_get_double(&v, &d), MOTE_ERR_JSON_RANGE);
#endif
    assert_int_equal(mote_json_find(doc, sizeof doc - 1, "i", 1, &v, NULL), MOTE_OK);
    assert_int_equal(mote_json_get_int64(&v, &i), MOTE_OK);
    assert_true(i == INT64_MIN);
    assert_int_equal(mote_json_find(doc, sizeof doc - 1, "/s", 2, &v, NULL), MOTE_OK);
    assert_int_equal(mote_json_get_string(&v, buf, sizeof buf, NULL), MOTE_OK);
    assert_string_equal(buf, "x\ty");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_int64),           cmocka_unit_test(test_long_numbers),
#if MOTE_JSON_DOUBLE
        cmocka_unit_test(test_double),          cmocka_unit_test(test_double_random),
        cmocka_unit_test(test_double_short),
        cmocka_unit_test(test_double_halfway),
        cmocka_unit_test(test_format_double),   cmocka_unit_test(test_format_roundtrip),
#endif
        cmocka_unit_test(test_bool_null),
        cmocka_unit_test(test_string),          cmocka_unit_test(test_from_document),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
