/* Decimal <-> double without libc.
 *
 * Reading: a number with at most 15 significant digits and a power of ten up to 22 is one
 * exact multiplication or division (both operands exact, so IEEE rounding gives the
 * correctly rounded result). Otherwise a double approximation (a few ulp off at most) is
 * corrected by comparing the decimal input, digit by digit, with the exact decimal
 * expansion of the halfway point between neighbouring doubles. That comparison is exact, so
 * every input is correctly rounded (nearest, ties to even), whatever its length.
 *
 * Writing: the exact expansion of the double gives 17 correct digits; the shortest of the
 * roundings to 15, 16 and 17 digits (from 1 digit for subnormals) that lies inside the double's rounding interval (the
 * same exact comparison) is printed. It always reads back as the same double.
 *
 * The exact expansion uses one fixed bignum of 35 32-bit limbs (140 B): base 10^9 limbs for
 * the integer part (up to 2^1024 ~ 309 digits) and base 2^32 limbs for the fraction (down to
 * 2^-1075). Only 32-bit divisions by constants are used, so 32-bit targets need no runtime
 * helpers. */
#include <float.h>
#include <string.h>

#include "json_internal.h"

#define GEN_LIMBS 35
#if defined(__GNUC__)
#define NUM_INLINE inline __attribute__((always_inline))
#define NUM_NOINLINE __attribute__((noinline))
#else
#define NUM_INLINE inline
#define NUM_NOINLINE
#endif
#define BILLION 1000000000u
#define EXP_INF 0x7FF0000000000000ull

/* The exact decimal expansion of M * 2^q, one significant digit at a time. */
struct gen {
    uint32_t w[GEN_LIMBS]; /* integer limbs w[0..nint), then fraction limbs */
    uint32_t div;          /* power of ten selecting the next digit in w[li] */
    int16_t P;             /* value = 0.d1d2d3... * 10^P */
    int8_t nint;           /* integer limbs (base 10^9, little endian) */
    int8_t fl, flo;        /* fraction limbs (base 2^32, scaled so the top 4 bits are the
                              next digit) and the lowest non-zero one */
    int8_t li;             /* integer limb being printed (-1 when done) */
    int8_t pending;        /* a fraction digit already taken while skipping zeros */
};

/* A decimal: significant digits from p to end (a '.' is skipped), value 0.d1d2... * 10^P. */
struct dec {
    const char *p;
    const char *end;
    int P;
};

/* Helpers below are inlined into gen_init so the bignum walk costs one stack frame. */
static NUM_INLINE void int_mul_pow2(struct gen *g, int s)
{
    while (s > 0) {
        int k = s > 2 ? 2 : s, i;
        uint32_t carry = 0;
        for (i = 0; i < g->nint; i++) {
            uint32_t t = (g->w[i] << k) + carry; /* < 4 * 10^9 + 3 < 2^32 */
            g->w[i] = t % BILLION;
            carry = t / BILLION;
        }
        if (carry)
            g->w[g->nint++] = carry;
        s -= k;
    }
}

/* Integer part = v * 2^s (v < 2^62). */
static NUM_INLINE void int_set(struct gen *g, uint64_t v, int s)
{
    uint32_t lo = (uint32_t)v, add, i;
    g->w[0] = (uint32_t)(v >> 32);
    g->nint = g->w[0] != 0;
    int_mul_pow2(g, 32);
    add = lo % BILLION;
    lo /= BILLION;
    for (i = 0; add || lo; i++) {
        uint32_t t;
        if ((int)i == g->nint)
            g->w[g->nint++] = 0;
        t = g->w[i] + add;
        add = lo + (t >= BILLION);
        lo = 0;
        g->w[i] = t >= BILLION ? t - BILLION : t;
    }
    int_mul_pow2(g, s);
}

static int frac_digit(struct gen *g)
{
    uint32_t *f = g->w + g->nint;
    uint32_t carry = 0;
    int i, d;
    if (g->flo == g->fl)
        return -1;
    for (i = g->flo; i < g->fl; i++) {
        uint64_t t = (uint64_t)f[i] * 10u + carry;
        f[i] = (uint32_t)t;
        carry = (uint32_t)(t >> 32);
    }
    d = (int)(f[g->fl - 1] >> 28);
    f[g->fl - 1] &= 0x0FFFFFFFu;
    while (g->flo < g->fl && f[g->flo] == 0)
        g->flo++;
    return d;
}

static NUM_NOINLINE void gen_init(struct gen *g, uint64_t M, int q)
{
    uint64_t I = M, F = 0;
    int fb = q < 0 ? -q : 0, s = q < 0 ? 0 : q;
    g->pending = -1;
    g->fl = g->flo = 0;
    g->nint = 0;
    if (fb) { /* split into integer and fraction bits */
        I = fb < 64 ? M >> fb : 0;
        F = fb < 64 ? M & (((uint64_t)1 << fb) - 1) : M;
    }
    if (I)
        int_set(g, I, s); /* one call site keeps the inlined bignum code once */
    if (fb) {
        int sh;
        uint32_t *f;
        g->fl = (int8_t)((fb + 4 + 31) / 32);
        sh = 32 * g->fl - 4 - fb;
        f = g->w + g->nint;
        memset(f, 0, (size_t)g->fl * sizeof *f);
        f[0] = (uint32_t)(F << sh);
        if (g->fl > 1)
            f[1] = (uint32_t)((F << sh) >> 32);
        if (g->fl > 2 && sh)
            f[2] = (uint32_t)(F >> (64 - sh));
        while (g->flo < g->fl && f[g->flo] == 0)
            g->flo++;
    }
    if (g->nint) {
        uint32_t top = g->w[g->nint - 1];
        int n = 1;
        g->div = 1;
        while (g->div <= top / 10) {
            g->div *= 10;
            n++;
        }
        g->li = g->nint - 1;
        g->P = (int16_t)((g->nint - 1) * 9 + n);
    } else {
        g->li = -1;
        g->P = 1; /* gen_digit skips the fraction's leading zeros, moving P down */
        g->pending = -2;
    }
}

/* Next digit, or -1 when every remaining digit is zero. */
static int gen_digit(struct gen *g)
{
    int d;
    if (g->li >= 0) {
        d = (int)(g->w[g->li] / g->div % 10);
        g->div /= 10;
        if (!g->div) {
            g->li--;
            g->div = BILLION / 10;
        }
        return d;
    }
    if (g->pending >= 0) {
        d = g->pending;
        g->pending = -1;
        return d;
    }
    return frac_digit(g);
}

/* Finishes gen_init for values below 1 (kept out of it so gen_init calls nothing): reads
 * the zeros after the point to find P and keeps the first significant digit. */
static void gen_start(struct gen *g)
{
    int d;
    if (g->pending != -2)
        return;
    g->P = 0;
    while ((d = frac_digit(g)) == 0)
        g->P--;
    g->pending = (int8_t)d;
}

static int dec_digit(struct dec *x)
{
    if (x->p != x->end && *x->p == '.')
        x->p++;
    if (x->p == x->end)
        return -1;
    return *x->p++ - '0';
}

/* Sign of (x - M * 2^q), exactly. M > 0. */
static int cmp_dec_bin(const struct dec *xp, uint64_t M, int q)
{
    struct gen g;
    struct dec x = *xp;
    int dx, dg;
    gen_init(&g, M, q);
    gen_start(&g);
    if (x.P != g.P)
        return x.P > g.P ? 1 : -1;
    for (;;) {
        dx = dec_digit(&x);
        dg = gen_digit(&g);
        if (dx < 0) {
            while (dg == 0)
                dg = gen_digit(&g);
            return dg < 0 ? 0 : -1;
        }
        if (dg < 0) {
            while (dx == 0)
                dx = dec_digit(&x);
            return dx < 0 ? 0 : 1;
        }
        if (dx != dg)
            return dx > dg ? 1 : -1;
    }
}

/* The point halfway between the positive double with bits u and the next one up. */
static int cmp_halfway(const struct dec *x, uint64_t u)
{
    int e = (int)(u >> 52);
    uint64_t m = u & (((uint64_t)1 << 52) - 1);
    if (e)
        m |= (uint64_t)1 << 52;
    return cmp_dec_bin(x, 2 * m + 1, (e ? e - 1075 : -1074) - 1);
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
    const char *p = text, *end = text + len, *sig = NULL, *mend;
    long ex = 0;
    int neg, eneg = 0, P = 0, n = 0, nz = 0, seen_point = 0, k;
    uint64_t D = 0, u;
    double d;
    struct dec x;
    if (!text || !out)
        return MOTE_ERR_BAD_ARG;
    /* Grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
    neg = p != end && *p == '-';
    p += neg;
    if (p == end || (unsigned)(*p - '0') > 9u || (*p == '0' && p + 1 != end && (unsigned)(p[1] - '0') < 10u))
        return MOTE_ERR_JSON_SYNTAX;
    for (; p != end; p++) {
        if (*p == '.') {
            if (seen_point || p + 1 == end || (unsigned)(p[1] - '0') > 9u)
                return MOTE_ERR_JSON_SYNTAX;
            seen_point = 1;
            continue;
        }
        if ((unsigned)(*p - '0') > 9u)
            break;
        if (sig) {
            n++;
        } else if (*p != '0') {
            sig = p;
            n = 1;
        }
        if (sig && *p != '0')
            nz = n;
        /* Digits before the point count toward P once significant; zeros after it
         * but before the first significant digit move P down. */
        if (!seen_point && sig)
            P++;
        else if (seen_point && !sig)
            P--;
    }
    mend = p;
    if (p != end) {
        if ((*p | 0x20) != 'e' || ++p == end)
            return MOTE_ERR_JSON_SYNTAX;
        if (*p == '+' || *p == '-')
            eneg = *p++ == '-';
        if (p == end)
            return MOTE_ERR_JSON_SYNTAX;
        for (; p != end; p++) {
            if ((unsigned)(*p - '0') > 9u)
                return MOTE_ERR_JSON_SYNTAX;
            if (ex < 100000)
                ex = ex * 10 + (*p - '0');
        }
    }
    if (!sig || (!eneg && P + ex < -400) || (eneg && P - ex < -400)) {
        *out = neg ? -0.0 : 0.0;
        return MOTE_OK;
    }
    P += (int)(eneg ? -ex : ex);
    if (P > 310)
        return MOTE_ERR_JSON_RANGE;
    /* First up to 19 significant digits (through the last non-zero one). */
    for (k = 0, p = sig; k < nz && k < 19; p++) {
        if (*p == '.')
            continue;
        D = D * 10 + (uint64_t)(*p - '0');
        k++;
    }
    k = P - k; /* value ~ D * 10^k */
#if FLT_EVAL_METHOD == 0
    if (nz <= 15 && k >= -22 && k <= 22) {
        d = k >= 0 ? (double)D * pow10_small(k) : (double)D / pow10_small(-k);
        *out = neg ? -d : d;
        return MOTE_OK;
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
        u = EXP_INF - 1; /* DBL_MAX; the check below decides about overflow */
    x.p = sig;
    x.end = mend;
    x.P = P;
    for (;;) {
        int c = cmp_halfway(&x, u);
        if (c > 0 || (c == 0 && (u & 1))) {
            if (++u == EXP_INF)
                return MOTE_ERR_JSON_RANGE;
            continue;
        }
        if (u > 0) {
            c = cmp_halfway(&x, u - 1);
            if (c < 0 || (c == 0 && (u & 1))) {
                u--;
                continue;
            }
        }
        break;
    }
    d = from_bits(u);
    *out = neg ? -d : d;
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

/* First 18 significant digits of the positive double u (exact), and its P. */
static NUM_NOINLINE int first_digits(uint64_t u, char digits[18])
{
    struct gen g;
    int e = (int)(u >> 52), i, d;
    uint64_t m = u & (((uint64_t)1 << 52) - 1);
    if (e)
        m |= (uint64_t)1 << 52;
    gen_init(&g, m, e ? e - 1075 : -1074);
    gen_start(&g);
    for (i = 0; i < 18; i++) {
        d = gen_digit(&g);
        digits[i] = (char)('0' + (d < 0 ? 0 : d));
    }
    return g.P;
}

/* Does the decimal digits[0..n) * 10^(P-n) read back as the double u? */
static int reads_back(const char *digits, int n, int P, uint64_t u)
{
    struct dec x;
    int c;
    x.p = digits;
    x.end = digits + n;
    x.P = P;
    c = cmp_halfway(&x, u);
    if (c > 0 || (c == 0 && (u & 1)))
        return 0;
    if (u == 0)
        return 1;
    c = cmp_halfway(&x, u - 1);
    return c > 0 || (c == 0 && !(u & 1));
}

/* Writes the text of digits[0..n) * 10^(P-n) into out (when not NULL); returns its length. */
static int emit_number(char *out, int neg, const char *dg, int n, int P)
{
    int o = 0, i, E = P - 1;
#define PUT(ch)                                                                            \
    do {                                                                                   \
        if (out)                                                                           \
            out[o] = (ch);                                                                 \
        o++;                                                                               \
    } while (0)
    if (neg)
        PUT('-');
    if (P > 0 && P <= 21) { /* 123.45, 1200 */
        for (i = 0; i < n || i < P; i++) {
            if (i == P)
                PUT('.');
            PUT(i < n ? dg[i] : '0');
        }
    } else if (P <= 0 && P > -6) { /* 0.00012 */
        PUT('0');
        PUT('.');
        for (i = P; i < 0; i++)
            PUT('0');
        for (i = 0; i < n; i++)
            PUT(dg[i]);
    } else { /* 1.5e+300, 5e-324 */
        PUT(dg[0]);
        if (n > 1)
            PUT('.');
        for (i = 1; i < n; i++)
            PUT(dg[i]);
        PUT('e');
        PUT(E < 0 ? '-' : '+');
        if (E < 0)
            E = -E;
        if (E >= 100)
            PUT((char)('0' + E / 100));
        if (E >= 10)
            PUT((char)('0' + E / 10 % 10));
        PUT((char)('0' + E % 10));
    }
#undef PUT
    return o;
}

int mote_json_format_double(double value, char *buf, size_t cap)
{
    char dg[18]; /* one buffer, regenerated per attempt: a small stack frame matters more */
    uint64_t u = to_bits(value);
    int neg = (int)(u >> 63), P = 1, prec, n = 1, i;
    u &= ~((uint64_t)1 << 63);
    if ((!buf && cap) || u >= EXP_INF)
        return MOTE_ERR_BAD_ARG;
    dg[0] = '0';
    /* For normal doubles any text of at most 15 digits that reads back is the 15-digit
     * rounding with zeros stripped (DBL_DIG); subnormals have less precision, so there the
     * search starts at one digit. */
    for (prec = (u >> 52) ? 15 : 1; u && prec <= 17; prec++) {
        P = first_digits(u, dg);
        if (dg[prec] >= '5') { /* round half up; reads_back decides */
            for (i = prec - 1; i >= 0 && dg[i] == '9'; i--)
                dg[i] = '0';
            if (i >= 0) {
                dg[i]++;
            } else {
                dg[0] = '1';
                P++;
            }
        }
        for (n = prec; n > 1 && dg[n - 1] == '0'; n--) {
        }
        if (prec == 17 || reads_back(dg, n, P, u))
            break;
    }
    i = emit_number(NULL, neg, dg, n, P);
    if ((size_t)i > cap)
        return MOTE_ERR_BUFFER_TOO_SMALL;
    return emit_number(buf, neg, dg, n, P);
}
