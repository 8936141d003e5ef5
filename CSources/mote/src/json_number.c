/* Numbers: int64 and double reads, and shortest round-trip double formatting, without libc.
 *
 * Reading a double: a number with an exact integer significand below 2^53 and a power of
 * ten up to 22 is one exact multiplication or division (IEEE rounding of exact operands is
 * the correct rounding). Otherwise a double approximation (a few ulp off at most) is
 * corrected one ulp at a time by comparing the decimal input, digit by digit, with the
 * exact decimal expansion of the halfway point between neighbouring doubles. The
 * comparison is exact, so every input is correctly rounded (nearest, ties to even),
 * whatever its length.
 *
 * Writing: the same expansion gives the double's first 18 exact digits; the shortest of the
 * roundings to 15, 16 and 17 digits (from 1 digit for subnormals) that the reader maps back
 * to the same double is printed. One conversion core (`expand`) serves both directions.
 *
 * The expansion lives in one fixed bignum of 35 32-bit limbs (140 B): base 10^9 limbs for
 * the integer part (below 2^1024, so at most 309 digits) and base 2^32 limbs for the
 * fraction (down to 2^-1075). It is built by doubling and read by multiplying by ten, so it
 * needs no division of wide numbers and no runtime helper on 32-bit CPUs. */
#include <float.h>
#include <string.h>

#include "json_internal.h"

#define GEN_LIMBS 35
#define BILLION 1000000000u
#define EXP_INF 0x7FF0000000000000ull
#define MANT_MASK 0x000FFFFFFFFFFFFFull
#define SIGN_BIT 0x8000000000000000ull

/* A validated JSON number: value = (neg ? -1 : 1) * 0.d1 d2 d3 ... * 10^P, d1 (at p) the
 * first non-zero digit; digits run to end ('.' skipped); nz counts the digits through the
 * last non-zero one (0 when the value is zero). */
struct dec {
    const char *p;
    const char *end;
    long P;
    int nz;
    int neg;
};

static void dec_parse(struct dec *x, const char *p, const char *end)
{
    long ex = 0, P = 0;
    int point = 0, n = 0, eneg = 0;
    x->neg = p != end && *p == '-';
    p += x->neg;
    x->p = NULL;
    x->nz = 0;
    for (; p != end && (*p == '.' || (unsigned)(*p - '0') < 10u); p++) {
        if (*p == '.') {
            point = 1;
            continue;
        }
        if (x->p) {
            n++;
        } else if (*p != '0') {
            x->p = p;
            n = 1;
        }
        if (*p != '0')
            x->nz = n;
        /* Significant digits before the point raise P; zeros after the point before the
         * first significant digit lower it. */
        if (!point && x->p)
            P++;
        else if (point && !x->p)
            P--;
    }
    x->end = p;
    if (p != end && ++p != end) { /* exponent */
        if (*p == '+' || *p == '-')
            eneg = *p++ == '-';
        for (; p != end; p++)
            if (ex < 100000)
                ex = ex * 10 + (*p - '0');
    }
    x->P = P + (eneg ? -ex : ex);
}

int mote_json_get_int64(const mote_json_value_t *v, int64_t *out)
{
    struct dec x;
    uint64_t mag = 0;
    const char *q;
    long i;
    if (!v || !out || !v->ptr || !v->len)
        return MOTE_ERR_BAD_ARG;
    if (json_type_of((uint8_t)v->ptr[0]) != MOTE_JSON_NUMBER)
        return MOTE_ERR_JSON_TYPE;
    dec_parse(&x, v->ptr, v->ptr + v->len);
    if (x.nz) {
        if (x.P < x.nz)
            return MOTE_ERR_JSON_TYPE; /* a fraction remains */
        if (x.P > 19)
            return MOTE_ERR_JSON_RANGE;
        for (i = 0, q = x.p; i < x.P; i++) {
            unsigned d = 0;
            if (i < x.nz) {
                q += *q == '.';
                d = (unsigned)(*q++ - '0');
            }
            /* the constant is (2^63 - 1) / 10: a 64-bit division would need a helper */
            if (mag > 922337203685477580u)
                return MOTE_ERR_JSON_RANGE;
            mag = mag * 10 + d;
        }
        if (mag > ((uint64_t)1 << 63) - (uint64_t)!x.neg)
            return MOTE_ERR_JSON_RANGE;
    }
    *out = x.neg ? (int64_t)(0 - mag) : (int64_t)mag;
    return MOTE_OK;
}

static double from_bits(uint64_t u)
{
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

static uint64_t to_bits(double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    return u;
}

/* The conversion core, with the bignum in its own frame. Modes:
 *  - dg != NULL: writes the first 18 exact digits of the positive double *u into dg and
 *    returns P (value = 0.d1d2... * 10^P).
 *  - dg == NULL: moves *u (a guess) to the correctly rounded double of the decimal
 *    [p, end) * 10^(P - 1) (p at a non-zero digit, '.' skipped). Returns MOTE_OK or
 *    MOTE_ERR_JSON_RANGE; with `verify`, returns 1 as soon as *u would move.
 * Every loop body appears once, so the whole walk is a single stack frame. */
static int expand(const char *p, const char *end, long P, uint64_t *up, char *dg, int verify)
{
    uint32_t w[GEN_LIMBS];
    uint64_t u = *up;
    int dir = 0; /* 0: compare with the halfway above u, 1: the halfway below it */
    for (;;) {
        uint64_t b = u - (uint64_t)dir, H = b & MANT_MASK;
        int ef = (int)(b >> 52), E, ni = 0, fl, li, i, j, t, n = 0, c, dx, dd;
        uint32_t div = BILLION / 10;
        long Pg;
        const char *q = p;
        if (ef)
            H |= MANT_MASK + 1;
        E = ef ? ef - 1075 : -1074;
        if (!dg) { /* the halfway point (2H + 1) * 2^(E-1) */
            H = 2 * H + 1;
            E--;
        }
        /* Bits of H from the top, weight 2^t: at and above the point they double the
         * integer part (base 10^9, then E more doublings); below it they are set in the
         * fraction, top-aligned under 4 spare bits that receive each digit. */
        fl = E < 0 ? (35 - E) / 32 : 0;
        memset(w, 0, sizeof w);
        for (i = 0, t = 63 + E; i < 64 + (E > 0 ? E : 0); i++, t--) {
            uint32_t carry = (uint32_t)(H >> 63);
            H <<= 1;
            if (t >= 0) {
                for (j = 0; j < ni; j++) {
                    uint32_t v = w[j] * 2 + carry;
                    carry = v >= BILLION;
                    w[j] = carry ? v - BILLION : v;
                }
                if (carry)
                    w[ni++] = carry;
            } else if (carry) {
                j = 32 * fl - 4 + t;
                w[ni + j / 32] |= 1u << (j % 32);
            }
        }
        li = ni - 1;
        Pg = 9L * ni;
        /* Walk the digits (leading zeros only lower Pg); -1 means "only zeros remain". */
        for (;;) {
            if (li >= 0) {
                dd = (int)(w[li] / div % 10);
                div /= 10;
                if (!div) {
                    div = BILLION / 10;
                    li--;
                }
            } else {
                uint32_t *f = w + ni, carry = 0, any = 0;
                for (j = 0; j < fl; j++) {
                    uint64_t m = (uint64_t)f[j] * 10 + carry;
                    any |= f[j];
                    f[j] = (uint32_t)m;
                    carry = (uint32_t)(m >> 32);
                }
                dd = any ? (int)(f[fl - 1] >> 28) : -1;
                if (any)
                    f[fl - 1] &= 0x0FFFFFFFu;
            }
            if (n == 0) {
                if (dd == 0) {
                    Pg--;
                    continue;
                }
                if (!dg && P != Pg) {
                    c = P > Pg ? 1 : -1;
                    break;
                }
            }
            if (dg) {
                dg[n++] = (char)('0' + (dd < 0 ? 0 : dd));
                if (n == 18)
                    return (int)Pg;
                continue;
            }
            n = 1;
            dx = -1;
            while (q != end) {
                char ch = *q++;
                if (ch != '.') {
                    dx = ch - '0';
                    break;
                }
            }
            /* an exhausted side reads as zeros until both are */
            if ((dx < 0 ? 0 : dx) != (dd < 0 ? 0 : dd)) {
                c = (dx < 0 ? 0 : dx) > (dd < 0 ? 0 : dd) ? 1 : -1;
                break;
            }
            if (dx < 0 && dd < 0) {
                c = 0;
                break;
            }
        }
        /* Move u while the decimal lies beyond the halfway point (ties go to even). */
        if ((dir ? c < 0 : c > 0) || (c == 0 && (u & 1))) {
            if (verify)
                return 1;
            u = dir ? u - 1 : u + 1;
            if (u == EXP_INF)
                return MOTE_ERR_JSON_RANGE;
            continue;
        }
        if (dir || u == 0)
            break;
        dir = 1;
    }
    *up = u;
    return MOTE_OK;
}

/* 10^n for 0 <= n <= 22, exact. */
static double pow10_small(int n)
{
    double r = 1.0;
    while (n-- > 0)
        r *= 10.0;
    return r;
}

int mote_json_parse_double(const char *text, size_t len, double *out)
{
    struct json_scan sc;
    struct dec x;
    uint64_t D = 0, u;
    const char *q;
    int k = 0, rc;
    double d = 0;
    if (!text || !out)
        return MOTE_ERR_BAD_ARG;
    /* The scanner checks the grammar: one number and nothing around it. */
    sc.p = (const uint8_t *)text;
    sc.end = sc.p + len;
    sc.top = 1;
    sc.search = 0;
    if (!len || (*text != '-' && (unsigned)(*text - '0') > 9u) ||
        (unsigned)(text[len - 1] - '0') > 9u || json_scan_value(&sc) != MOTE_OK)
        return MOTE_ERR_JSON_SYNTAX;
    dec_parse(&x, text, text + len);
    if (x.nz && x.P >= -330) {
        if (x.P > 310)
            return MOTE_ERR_JSON_RANGE;
        /* value ~ D * 10^k from the first 19 digits */
        for (q = x.p; q != x.end && k < 19; q++)
            if (*q != '.') {
                D = D * 10 + (uint64_t)(*q - '0');
                k++;
            }
        rc = k;
        k = (int)x.P - k;
#if FLT_EVAL_METHOD == 0
        if (x.nz <= rc && D <= ((uint64_t)1 << 53) && k >= -22 && k <= 22) {
            d = k >= 0 ? (double)D * pow10_small(k) : (double)D / pow10_small(-k);
            goto done;
        }
#endif
        d = (double)D;
        for (; k >= 22; k -= 22)
            d *= 1e22;
        for (; k <= -22; k += 22)
            d /= 1e22;
        d = k >= 0 ? d * pow10_small(k) : d / pow10_small(-k);
        u = to_bits(d);
        if (u >= EXP_INF)
            u = EXP_INF - 1; /* DBL_MAX; expand decides about overflow */
        rc = expand(x.p, x.end, x.P, &u, NULL, 0);
        if (rc != MOTE_OK)
            return rc;
        d = from_bits(u);
    }
#if FLT_EVAL_METHOD == 0
done:
#endif
    *out = x.neg ? -d : d;
    return MOTE_OK;
}

int mote_json_get_double(const mote_json_value_t *v, double *out)
{
    if (!v || !out || !v->ptr || !v->len)
        return MOTE_ERR_BAD_ARG;
    if (json_type_of((uint8_t)v->ptr[0]) != MOTE_JSON_NUMBER)
        return MOTE_ERR_JSON_TYPE;
    return mote_json_parse_double(v->ptr, v->len, out);
}

#define PUT(ch)                                                                            \
    do {                                                                                   \
        if (pass)                                                                          \
            buf[o] = (char)(ch);                                                           \
        o++;                                                                               \
    } while (0)

int mote_json_format_double(double value, char *buf, size_t cap)
{
    char dg[18];
    uint64_t u = to_bits(value), w;
    int neg = (int)(u >> 63), P = 1, Pc = 1, prec, n = 1, i, j, E, o = 0, pass;
    u &= ~SIGN_BIT;
    if ((!buf && cap) || u >= EXP_INF)
        return MOTE_ERR_BAD_ARG;
    dg[0] = '0';
    if (u)
        P = expand(NULL, NULL, 0, &u, dg, 0);
    /* For normal doubles any text of at most 15 digits that reads back is the 15-digit
     * rounding with zeros stripped (DBL_DIG); subnormals have less precision, so there the
     * search starts at one digit. Each rounding is undone after a failed try. */
    for (prec = (u >> 52) ? 15 : 1; u && prec <= 17; prec++) {
        int up = dg[prec] >= '5';
        Pc = P;
        i = prec;
        if (up) {
            for (i = prec - 1; i >= 0 && dg[i] == '9'; i--)
                dg[i] = '0';
            if (i >= 0) {
                dg[i]++;
            } else {
                dg[0] = '1';
                Pc++;
            }
        }
        for (n = prec; n > 1 && dg[n - 1] == '0'; n--) {
        }
        w = u;
        if (prec == 17 || expand(dg, dg + n, Pc, &w, NULL, 1) == MOTE_OK)
            break;
        for (j = i + 1; j < prec; j++)
            dg[j] = '9';
        if (i >= 0 && i < prec)
            dg[i]--;
    }
    /* Two passes: count, then write if it fits. Plain notation for exponents -6..20
     * (123.45, 1200, 0.00012), else one digit before the point (1.5e+300, 5e-324). */
    E = Pc - 1;
    j = E >= -6 && E < 21 ? E : 0; /* the exponent the digits are placed at */
    for (pass = 0; pass < 2; pass++) {
        o = 0;
        if (neg)
            PUT('-');
        for (i = j < 0 ? j : 0; i < n || i <= j; i++) {
            if (i == j + 1)
                PUT('.');
            PUT(i >= 0 && i < n ? dg[i] : '0');
        }
        if (j != E) {
            PUT('e');
            PUT(E < 0 ? '-' : '+');
            E = E < 0 ? -E : E;
            if (E >= 100)
                PUT('0' + E / 100);
            if (E >= 10)
                PUT('0' + E / 10 % 10);
            PUT('0' + E % 10);
            E = Pc - 1;
        }
        if ((size_t)o > cap)
            return MOTE_ERR_BUFFER_TOO_SMALL;
    }
    return o;
}
