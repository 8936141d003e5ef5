/* Numbers: int64 and double reads, and shortest round-trip double formatting, without libc.
 * The double part is left out when MOTE_JSON_DOUBLE is 0.
 *
 * Reading a double: the first 19 significant digits are scaled by the power of ten in
 * 64-bit integer steps (times ten as * 5/8, a tenth by 32-bit divisions, normalised after
 * each), which ends below the exact value by a known bound. When that bound cannot reach
 * across a rounding boundary the rounding is decided there (most short inputs; speed builds
 * only: size builds skip the test and always correct, slower but smaller); otherwise
 * the approximation (a few ulp off at most) is corrected one ulp at a time by comparing
 * the decimal input, digit by digit, with the exact decimal expansion of the halfway point
 * between neighbouring doubles. The comparison is exact, so every input is correctly
 * rounded (nearest, ties to even), whatever its length. The exact path has no floating-point
 * operation, so firmware without an FPU links no soft-float code.
 *
 * Writing: the same expansion gives the double's first 18 exact digits; the shortest of the
 * roundings to 15, 16 and 17 digits (from 1 digit for subnormals) that the reader maps back
 * to the same double is printed. One conversion core (`expand`) serves both directions.
 *
 * Speed builds (not -Os) add quick paths that decide most reads and format checks without
 * the expansion, and take it in bigger steps (JSON_QUICK, JSON_BIG_STEPS below); firmware
 * builds (-Os) run the exact path alone, which is smaller.
 *
 * The expansion lives in one fixed bignum of 35 32-bit limbs (140 B): base 10^9 limbs for
 * the integer part (below 2^1024, so at most 309 digits) and base 2^32 limbs for the
 * fraction (down to 2^-1075). It is built by doubling and read by multiplying by ten, so it
 * needs no division of wide numbers and no runtime helper on 32-bit CPUs. */
#include <string.h>

#include "json_internal.h"

#define GEN_LIMBS 35
#define BILLION 1000000000u
#define EXP_INF 0x7FF0000000000000ull
#define MANT_MASK 0x000FFFFFFFFFFFFFull
#define SIGN_BIT 0x8000000000000000ull

/* Speed builds (not -Os) add quick paths on top of the exact one; size builds, what firmware
 * runs, have only the exact one. Each quick path either gives the same result or declines.
 *
 * Big steps: the expansion takes the integer part at once, up to 29 doublings, or nine
 * leading zero digits of the fraction per pass over the bignum (64-bit limb arithmetic)
 * instead of one at a time. */
#if defined(__GNUC__) && !defined(__OPTIMIZE_SIZE__)
#define JSON_BIG_STEPS 1
#else
#define JSON_BIG_STEPS 0
#endif

/* Wide: with 128-bit integers, reads are approximated closely enough (approx_wide) that the
 * exact correction is almost never needed. */
#if !defined(__OPTIMIZE_SIZE__) && defined(__SIZEOF_INT128__) && defined(__GNUC__)
#define JSON_WIDE 1
#else
#define JSON_WIDE 0
#endif

/* FP: on CPUs with double-precision hardware that rounds every operation to double
 * (FLT_EVAL_METHOD 0: x86-64 SSE2, AArch64, ARM VFP with doubles), short numbers are read
 * with one multiplication or division: when the digits fit in 53 bits and the power of ten
 * is exact (10^0..10^22), the one rounding of that operation is the correct rounding. Size
 * builds and CPUs without such hardware (Cortex-M4: no double FPU) never touch floating
 * point, so firmware links no soft-float code. */
#if !defined(__OPTIMIZE_SIZE__) && defined(__FLT_EVAL_METHOD__) && __FLT_EVAL_METHOD__ == 0 && \
    (defined(__x86_64__) || defined(__aarch64__) || (defined(__ARM_FP) && (__ARM_FP & 8)))
#define JSON_FP_FAST 1
#else
#define JSON_FP_FAST 0
#endif
#define JSON_QUICK (JSON_FP_FAST || JSON_WIDE)

/* Decide: speed builds decide a read's rounding from the approximation when its error bound
 * allows (most short inputs); size builds always let the exact correction decide, starting
 * from the approximation rounded to nearest (two expansions, one more per ulp it is off:
 * slower for short inputs, no slower in the worst case, and the test's code is saved). */
#ifndef __OPTIMIZE_SIZE__
#define JSON_DECIDE 1
#else
#define JSON_DECIDE 0
#endif

/* A validated JSON number without its sign: value = 0.d1 d2 d3 ... * 10^P, d1 (at p) the
 * first non-zero digit; digits run to end ('.' skipped). */
struct dec {
    const char *p;
    const char *end;
    long P;
};

/* Checks that [p, p+len) is exactly one number by the JSON grammar (the scanner's rule)
 * and decomposes it into x. Returns how many digits run from x->p through the last
 * non-zero one (0 when the value is zero, x->p then NULL), or -1 when the text is not a
 * number. */
static long dec_parse(struct dec *x, const char *p, size_t len)
{
    struct json_scan sc;
    const char *end = p + len;
    long ex = 0, P = 0, n = 0, nz = 0; /* (long: digit counts of any text a 32-bit CPU holds) */
    int point = 0, eneg;
    if (!len || (*p != '-' && (unsigned)(*p - '0') > 9u) ||
        json_skip_number(&sc, (const uint8_t *)p, (const uint8_t *)end) != (const uint8_t *)end)
        return -1;
    p += *p == '-';
    x->p = NULL;
    for (; p != end && (*p | 0x20) != 'e'; p++) {
        if (*p == '.') {
            point = 1;
            continue;
        }
        if (!x->p && *p != '0')
            x->p = p;
        /* Digits from the first significant one before the point raise P; zeros after the
         * point before it lower P. */
        if (x->p) {
            n++;
            if (*p != '0')
                nz = n;
            P += !point;
        } else {
            P -= point;
        }
    }
    x->end = p;
    if (p != end) { /* exponent */
        eneg = *++p == '-';
        p += *p == '-' || *p == '+';
        for (; p != end; p++)
            if (ex < 100000000L) /* then at most 999,999,999: fits a 32-bit long */
                ex = ex * 10 + (*p - '0');
        if (eneg)
            ex = -ex;
    }
    /* An exponent cut off at 10^8 is still as far out of every range as the real one
     * while the digits move the point by less than that: numbers of 2^24 characters or
     * more (which could be told apart wrongly) are out of range. */
    x->P = len >> 24 ? 1L << 30 : P + ex;
    return nz;
}

/* The first n digits of x as an integer, zeros once x's digits run out (n <= 19: below
 * 2^64). Shared by the int64 and double reads (inline when only the int64 read is built). */
#if MOTE_JSON_DOUBLE
JSON_NOINLINE
#endif
static uint64_t dec_digits(const struct dec *x, long n)
{
    uint64_t m = 0;
    const char *q = x->p;
    for (; n > 0; n--) {
        unsigned d = 0;
        if (q != x->end) {
            q += *q == '.';
            d = (unsigned)(*q++ - '0');
        }
        m = m * 10 + d;
    }
    return m;
}

int mote_json_get_int64(const mote_json_value_t *v, int64_t *out)
{
    struct dec x;
    uint64_t mag = 0;
    long nz;
    int neg;
    if (!v || !out || !v->ptr || !v->len)
        return MOTE_ERR_BAD_ARG;
    neg = v->ptr[0] == '-';
    nz = dec_parse(&x, v->ptr, v->len);
    if (nz < 0)
        return MOTE_ERR_JSON_TYPE;
    if (nz) {
        if (x.P < nz)
            return MOTE_ERR_JSON_TYPE; /* a fraction remains */
        if (x.P > 19)
            return MOTE_ERR_JSON_RANGE;
        mag = dec_digits(&x, x.P); /* at most 19 digits: 64 bits do not overflow */
        if (mag > ((uint64_t)1 << 63) - (uint64_t)!neg)
            return MOTE_ERR_JSON_RANGE;
    }
    *out = neg ? (int64_t)(0 - mag) : (int64_t)mag;
    return MOTE_OK;
}

#if MOTE_JSON_DOUBLE /* the rest of the file */

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

/* A conversion's operands, in the caller's frame so the core's frame holds only the bignum
 * and its loop state. */
struct conv {
    struct dec x;  /* a positive decimal */
    uint32_t u[2]; /* a positive double's bits (memcpy'd: 4-byte aligned, so a caller's
                      struct holding this one packs without padding) */
};

static uint64_t conv_u(const struct conv *c)
{
    uint64_t u;
    memcpy(&u, c->u, sizeof u);
    return u;
}

static void conv_set_u(struct conv *c, uint64_t u)
{
    memcpy(c->u, &u, sizeof u);
}

#if JSON_WIDE
__extension__ typedef unsigned __int128 json_u128;

/* m / p by 32-bit pieces (each step divides a value below p * 2^32 < 2^63), rounded down;
 * inlined so the usual p, 5^13, is a constant and the divisions become multiplications. */
static JSON_ALWAYS_INLINE json_u128 div_wide(json_u128 m, uint64_t p)
{
    json_u128 quo = 0;
    uint64_t r = 0;
    int i;
    for (i = 96; i >= 0; i -= 32) {
        uint64_t part = r << 32 | (uint32_t)(m >> i);
        quo |= (json_u128)(part / p) << i;
        r = part % p;
    }
    return quo;
}

/* Speed builds with 128-bit integers: D * 10^k (D from the first 19 digits; lossy when more
 * were cut off) scaled in 128-bit steps of 10^13 (times 5^13 on the top 96 bits, or a
 * division by 5^13 in 32-bit pieces; the powers of two go to the exponent). Each step
 * truncates by less than 2^-94 of the value, the cut digits by less than 10^-18, so the
 * result lies below the exact value by less than 2^40 (or 2^69 when lossy) units of its
 * last bit of 128. When that cannot reach across the rounding boundary in the 75 bits
 * below the 53 kept, stores the correctly rounded normal double in *u and returns 1;
 * returns 0 when undecided or outside the normal range (the generic path decides). */
static int approx_wide(uint64_t D, int lossy, int k, uint64_t *u)
{
    static const uint32_t five[14] = {1,        5,         25,        125,        625,
                                      3125,     15625,     78125,     390625,     1953125,
                                      9765625,  48828125,  244140625, 1220703125};
    const json_u128 half = (json_u128)1 << 74;
    json_u128 m, low, err = ((json_u128)1 << 40) + ((json_u128)(lossy != 0) << 69);
    int sh = __builtin_clzll(D), q = -64 - sh, be;
    m = (json_u128)(D << sh) << 64;
    while (k) {
        int j = k > 13 || k < -13 ? 13 : k < 0 ? -k : k;
        if (k > 0) {
            m = (m >> 32) * five[j];
            q += 32 + j;
            k -= j;
        } else {
            m = j == 13 ? div_wide(m, 1220703125u) : div_wide(m, five[j]);
            q -= j;
            k += j;
        }
        sh = __builtin_clzll((uint64_t)(m >> 64)); /* m >= 2^97 here */
        m <<= sh;
        q -= sh;
    }
    be = q + 1150; /* value = (m >> 75) * 2^(q + 75); the biased exponent of that */
    if (be < 1 || be > 2046)
        return 0;
    *u = ((uint64_t)(be - 1) << 52) + (uint64_t)(m >> 75);
    low = m & (2 * half - 1);
    if (low + err < half)
        return 1;
    if (low > half && low + err < 2 * half) {
        ++*u;
        return *u < EXP_INF;
    }
    return 0;
}
#endif

#if JSON_QUICK
/* Speed builds: the correctly rounded double of D * 10^k (D: nz significant digits, lossy
 * when digits after them were cut off) into *u, when a quick path can decide: returns 1,
 * else 0 (the exact path decides). */
static int read_quick(uint64_t D, long nz, int lossy, int k, uint64_t *u)
{
#if JSON_FP_FAST
    if (nz <= 15 && k >= -22 && k <= 22) { /* D < 10^15 < 2^53: exact as a double */
        static const double tens[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                      1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                      1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
        double d = (double)D;
        *u = to_bits(k < 0 ? d / tens[-k] : d * tens[k]);
        return 1;
    }
#endif
#if JSON_WIDE
    return approx_wide(D, lossy, k, u);
#else
    (void)D, (void)nz, (void)lossy, (void)k, (void)u;
    return 0;
#endif
}
#endif

/* A double's text being formatted: the candidate digits x.p = dg .. x.end, value
 * 0.d1d2... * 10^x.P. The digits follow the conversion operands directly, so expand and
 * round_digits find each from the other. */
struct fmt {
    struct conv c;
    char dg[18];
    uint8_t neg; /* a '-' goes first */
};
_Static_assert(offsetof(struct fmt, dg) == sizeof(struct conv), "digits follow the operands");

/* Makes the candidate of the struct fmt whose digits are at dg (the first 18 exact ones)
 * those digits rounded to prec (half up: the check decides): rounding up cuts after the
 * last digit below '9', rounding down strips trailing zeros. A leaf without a frame,
 * called from expand (on top of the bignum's). */
static JSON_NOINLINE void round_digits(char *dg, int prec)
{
    struct conv *cv = &((struct fmt *)(void *)(dg - offsetof(struct fmt, dg)))->c;
    if (dg[prec] >= '5') {
        do
            prec--;
        while (prec >= 0 && dg[prec] == '9');
        if (prec < 0) { /* all nines: 1 at the next power of ten */
            prec = 0;
            dg[0] = '0';
            cv->x.P++;
        }
        dg[prec++]++;
    } else {
        for (; prec > 1 && dg[prec - 1] == '0'; prec--) {
        }
    }
    cv->x.end = dg + prec;
}

/* The conversion core, with the bignum in its own frame (its operands are in the caller's,
 * behind one pointer). Modes:
 *  - dg == NULL: moves cv->u (a guess) to the correctly rounded double of the positive
 *    decimal cv->x. Returns MOTE_OK or MOTE_ERR_JSON_RANGE.
 *  - dg != NULL (cv is the operands of a struct fmt, dg its digits): the shortest text of
 *    the double cv->u (sign included): the first 18 exact digits, rounded to a precision
 *    (round_digits), are checked in the first mode to read back to the double, else
 *    generated again and rounded to one digit more (17 always read back). Returns MOTE_OK
 *    with the text in the struct fmt, or MOTE_ERR_BAD_ARG for NaN and infinities.
 * Every loop body appears once, so the whole walk is a single stack frame. */
static JSON_NOINLINE int expand(struct conv *cv, char *dg)
{
    uint32_t w[GEN_LIMBS];
    int prec = 0; /* formatting: the candidate's digits */
    int dir = 0;  /* 0: compare with the halfway above u, 1: the halfway below it */
    if (dg) { /* load the text: sign, bits, the digits of zero, the first precision */
        uint64_t u = conv_u(cv);
        ((struct fmt *)(void *)cv)->neg = (uint8_t)(u >> 63);
        u &= ~SIGN_BIT;
        conv_set_u(cv, u);
        dg[0] = '0';
        cv->x.p = dg;
        cv->x.end = dg + 1;
        cv->x.P = 1;
        if (u >= EXP_INF)
            return MOTE_ERR_BAD_ARG;
        if (!u)
            return MOTE_OK;
        /* For normal doubles any text of at most 15 digits that reads back is the 15-digit
         * rounding with zeros stripped (DBL_DIG); subnormals have less precision, so there
         * the search starts at one digit. */
        prec = (u >> 52) ? 15 : 1;
    }
    for (;;) {
        uint64_t H = conv_u(cv) - (uint64_t)dir;
        int E = (int)(H >> 52), ni = 0, fl, li, j, t, n = 0, c, dd;
        uint32_t any = 1, div = BILLION / 10, *fb = w, *iw; /* fraction [fb, iw), integer at iw */
        long Pg;
        const char *q = cv->x.p;
        /* H * 2^E: the significand with the exponent field's 1 moved in (normal doubles:
         * the field minus one stays below it), then for reads the halfway point
         * (2H + 1) * 2^(E-1) */
        E -= E != 0;
        JSON_HIDE(E); /* size builds: 12 B less with the one below */
        H -= (uint64_t)E << 52;
        E -= 1074;
        JSON_HIDE(E);
        if (!dg) {
            H = 2 * H + 1;
            E--;
        }
        /* Bits of H from the top, weight 2^t: at and above the point they double the
         * integer part (base 10^9, then E more doublings; its limbs from iw up); below it
         * they are set in the fraction (the fl limbs below iw, their number known before
         * the integer part's), top-aligned under 4 spare bits that receive each digit. */
        fl = E < 0 ? (35 - E) / 32 : 0;
        iw = w + fl;
        memset(w, 0, sizeof w);
#if JSON_BIG_STEPS
        { /* the integer part at once, then up to 29 doublings per pass, then the fraction's
             set bits */
            uint64_t ip = E >= 0 ? H : E > -64 ? H >> -E : 0;
            for (; ip; ip /= BILLION)
                iw[ni++] = (uint32_t)(ip % BILLION);
            for (t = E; t > 0; t -= 29) {
                uint64_t c64 = 0;
                int s = t < 29 ? t : 29;
                for (j = 0; j < ni; j++) {
                    c64 += (uint64_t)iw[j] << s; /* below 10^9 * 2^29 + 2^30: fits */
                    iw[j] = (uint32_t)(c64 % BILLION);
                    c64 /= BILLION;
                }
                for (; c64; c64 /= BILLION)
                    iw[ni++] = (uint32_t)(c64 % BILLION);
            }
            for (H = E >= 0 ? 0 : E > -64 ? H & (((uint64_t)1 << -E) - 1) : H; H; H &= H - 1) {
                j = 32 * fl - 4 + E + __builtin_ctzll(H);
                w[j / 32] |= 1u << (j % 32);
            }
        }
#else
        for (t = 63 + E; t >= (E < 0 ? E : 0); t--) {
            uint32_t carry = (uint32_t)(H >> 63);
            H <<= 1;
            if (t >= 0) {
                for (j = 0; j < ni; j++) {
                    uint32_t v = iw[j] * 2 + carry;
                    carry = v >= BILLION;
                    iw[j] = carry ? v - BILLION : v;
                }
                if (carry)
                    iw[ni++] = carry;
            } else if (carry) {
                unsigned b = (unsigned)(32 * fl - 4 + t); /* fl makes it >= 0 */
                w[b / 32] |= 1u << (b % 32);
            }
        }
#endif
        li = ni - 1;
        Pg = 9L * ni;
        /* Walk the digits (leading zeros only lower Pg); any == 0: only zeros remain. */
        for (;;) {
            if (li >= 0) {
                dd = (int)(iw[li] / div); /* the limb keeps the digits after it */
                iw[li] %= div;
                div /= 10;
                JSON_HIDE(div); /* size builds: 4 B less */
                if (!div) {
                    div = BILLION / 10;
                    li--;
                }
            } else {
                uint32_t carry = 0, *p;
                any = 0;
#if JSON_BIG_STEPS
                /* zero limbs at the bottom stay zero: drop them */
                while (fb != iw && !*fb)
                    fb++;
                if (n == 0 && iw - fb > 1 && iw[-1] == 0 && iw[-2] < (1u << 30)) {
                    /* below 2^-30 < 10^-9: the next nine digits are zeros; the limbs above
                       the top non-zero one (there is one) stay zero but for the carry */
                    uint64_t c64 = 0;
                    uint32_t *top = iw - 1;
                    while (!top[-1])
                        top--;
                    for (p = fb; p != top; p++) {
                        c64 += (uint64_t)*p * BILLION;
                        *p = (uint32_t)c64;
                        c64 >>= 32;
                    }
                    *top = (uint32_t)c64;
                    Pg -= 9;
                    continue;
                }
#endif
                for (p = fb; p != iw; p++) {
                    uint64_t m = (uint64_t)*p * 10 + carry;
                    any |= *p;
                    *p = (uint32_t)m;
                    carry = (uint32_t)(m >> 32);
                }
                dd = 0;
                JSON_HIDE(dd); /* size builds: 4 B less */
                if (any) {
                    dd = (int)(iw[-1] >> 28);
                    iw[-1] &= 0x0FFFFFFFu;
                }
            }
            if (n == 0) {
                if (dd == 0) {
                    Pg--;
                    continue;
                }
                if (!dg && cv->x.P != Pg) {
                    c = cv->x.P > Pg ? 1 : -1;
                    break;
                }
            }
            if (dg) {
                dg[n++] = (char)('0' + dd);
                JSON_HIDE(n); /* size builds: 8 B less */
                if (n < 18)
                    continue;
                cv->x.P = Pg;
#if JSON_QUICK
                { /* speed builds: each rounding checked by a quick read while one decides */
                    char keep[18];
                    memcpy(keep, dg, sizeof keep);
                    for (;; prec++) {
                        uint64_t r;
                        round_digits(dg, prec);
                        n = (int)(cv->x.end - dg);
                        if (prec == 17)
                            return MOTE_OK; /* 17 digits always read back */
                        if (!read_quick(dec_digits(&cv->x, n), n, 0, (int)cv->x.P - n, &r))
                            break; /* the exact check decides */
                        if (r == conv_u(cv))
                            return MOTE_OK;
                        memcpy(dg, keep, sizeof keep);
                        cv->x.P = Pg;
                    }
                }
#else
                round_digits(dg, prec);
                if (prec == 17)
                    return MOTE_OK; /* 17 digits always read back */
#endif
                dg = NULL;          /* check that the candidate reads back */
                goto again;
            }
            n = 1;
            /* the next digit of x, 0 once it is exhausted (an exhausted side reads as
             * zeros until both are) */
            c = 0;
            while (q != cv->x.end) {
                c = *q++;
                if (c != '.') {
                    c -= '0';
                    break;
                }
                c = 0;
            }
            c -= dd;
            if (c) {
                c = c > 0 ? 1 : -1;
                break;
            }
            if (q == cv->x.end && !any)
                break; /* equal: c == 0 */
        }
        /* Move cv->u while the decimal lies beyond the halfway point (ties go to even);
         * c > 0 now means "beyond" in the direction being checked. */
        c = dir ? -c : c;
        if (c > 0 || (c == 0 && (conv_u(cv) & 1))) {
            if (prec) { /* it does not read back: one digit more */
                dg = ((struct fmt *)(void *)cv)->dg;
                prec++;
                dir = 0;
                continue;
            }
            conv_set_u(cv, conv_u(cv) + (uint64_t)(int64_t)(1 - 2 * dir));
            if (conv_u(cv) == EXP_INF)
                return MOTE_ERR_JSON_RANGE;
            continue;
        }
        if (dir || conv_u(cv) == 0)
            return MOTE_OK;
        dir = 1;
    again:;
    }
}


/* Everything of a double read before the exact correction, in its own frame (gone while
 * expand runs): the grammar check and decomposition into x, and c->u, the double near
 * x's first 19 digits times the power of ten, a few ulp off at most, or (speed builds) the
 * correctly rounded double when the error bound allows deciding. Returns a mote_err_t,
 * MOTE_OK when c->u is correctly rounded already, or 1 when expand must correct it. */
static JSON_NOINLINE int read_approx(const char *text, size_t len, struct conv *c)
{
    struct dec *x = &c->x;
    uint64_t D, u;
    uint32_t lossy;
    long nz = dec_parse(x, text, len);
    int k, e;
    conv_set_u(c, 0);
    if (nz < 0)
        return MOTE_ERR_JSON_SYNTAX;
    if (!nz || x->P < -330) /* zero, or below half the smallest subnormal */
        return MOTE_OK;
    if (x->P > 310)
        return MOTE_ERR_JSON_RANGE;
    k = nz < 19 ? (int)nz : 19;
    D = dec_digits(x, k);
    lossy = nz != k; /* digits beyond D cut off */
    k = (int)x->P - k;
#if JSON_QUICK
    if (read_quick(D, nz, (int)lossy, k, &u)) {
        conv_set_u(c, u);
        return MOTE_OK;
    }
#endif
    /* value = D * 2^(e - 1086), D kept normalised (top bit set) after each step: times
     * ten is D * 5/8 with e + 4, a tenth is D / 10 by 32-bit divisions (no soft-float or
     * 64-bit division helper is linked). Every step rounds down by less than 2^-59.6 of
     * the value, so D ends below the exact value by less than 20 units of its last bit
     * per lossy step (32 are allowed for). */
    e = 1086;
#ifndef __OPTIMIZE_SIZE__
    for (; !(D >> 56); e -= 8) /* speed builds: whole bytes first (size: bit by bit below) */
        D <<= 8;
#endif
    for (;;) {
        uint32_t hi, lo, t;
        for (; !(D >> 63); e--)
            D <<= 1;
        if (!k)
            break;
        if (k > 0) {
            lossy += (D & 7) != 0;
            D = (D >> 3) * 5;
            e += 4;
            k--;
            continue;
        }
        hi = (uint32_t)(D >> 32);
        lo = (uint32_t)D;
        t = hi % 10 << 16 | lo >> 16;
        D = (uint64_t)(hi / 10) << 32 | (uint64_t)(t / 10) << 16 |
            ((t % 10) << 16 | (lo & 0xFFFFu)) / 10;
        lossy++;
        k++;
    }
    /* Subnormal: shifted down to the bits that fit (those cut off add below one unit to
     * the error bound). */
    for (; e < 1; e++)
        D >>= 1;
#if JSON_DECIDE
    /* The 11 bits cut off below the 53 kept decide the rounding unless the error bound
     * reaches across half of them (or the end of them): then expand decides. */
    uint32_t low = (uint32_t)D & 0x7FFu;
    int done;
    lossy = (lossy << 5) + 1;
    u = ((uint64_t)(e - 1) << 52) + (D >> 11); /* the top bit of D is the exponent's 1 */
    done = low + lossy < 0x400u; /* below half: stays */
    if (low > 0x400u && low + lossy < 0x800u) { /* above half: up */
        u++;
        done = 1;
    }
    if (u >= EXP_INF) {
        u = EXP_INF - 1; /* DBL_MAX; expand decides about overflow */
        done = 0;
    }
    conv_set_u(c, u);
    return !done;
#else
    /* Size builds: the nearest of the 53-bit values (the top bit of D is the exponent's
     * 1), and expand decides. */
    u = ((uint64_t)(e - 1) << 52) + ((D >> 10) + 1) / 2;
    if (u >= EXP_INF)
        u = EXP_INF - 1; /* DBL_MAX; expand decides about overflow */
    conv_set_u(c, u);
    (void)lossy; /* the error bound is not needed */
    return 1;
#endif
}

int mote_json_parse_double(const char *text, size_t len, double *out)
{
    struct conv c;
    int rc;
    if (!text || !out)
        return MOTE_ERR_BAD_ARG;
    rc = read_approx(text, len, &c);
    if (rc > 0)
        rc = expand(&c, NULL);
    if (rc == MOTE_OK)
        *out = from_bits(conv_u(&c) | (*text == '-' ? SIGN_BIT : 0));
    return rc;
}

int mote_json_get_double(const mote_json_value_t *v, double *out)
{
    if (!v || !v->ptr || !v->len)
        return MOTE_ERR_BAD_ARG;
    /* numbers start with '-' or a digit; no call here keeps the call below a tail call */
    if (v->ptr[0] != '-' && (unsigned)(v->ptr[0] - '0') > 9u)
        return MOTE_ERR_JSON_TYPE;
    return mote_json_parse_double(v->ptr, v->len, out);
}

/* Writes the text of f into buf if it fits in cap (built in a local buffer first, so
 * nothing is written otherwise); returns its length or MOTE_ERR_BUFFER_TOO_SMALL. Plain
 * notation for exponents -6..20 (123.45, 1200, 0.00012), else one digit before the point
 * (1.5e+300, 5e-324). */
static JSON_NOINLINE int emit(char *buf, size_t cap, const struct fmt *f)
{
    char t[MOTE_JSON_DOUBLE_MAX], *q = t;
    int n = (int)(f->c.x.end - f->dg), E = (int)f->c.x.P - 1;
    int j = E >= -6 && E < 21 ? E : 0; /* j: the exponent the digits sit at */
    int i, e;
    *q = '-';
    q += f->neg;
    for (i = j < 0 ? j : 0; i < n || i <= j; i++) {
        if (i == j + 1)
            *q++ = '.';
        *q++ = i >= 0 && i < n ? f->dg[i] : '0';
    }
    if (j != E) {
        *q++ = 'e';
        *q++ = E < 0 ? '-' : '+';
        e = E < 0 ? -E : E;
        q += 1 + (e >= 10) + (e >= 100); /* the digits from the last back */
        for (i = 1; e; e /= 10)
            q[-i++] = (char)('0' + e % 10);
    }
    n = (int)(q - t);
    if ((size_t)n > cap)
        return MOTE_ERR_BUFFER_TOO_SMALL;
    memcpy(buf, t, (size_t)n);
    return n;
}

int mote_json_format_double(double value, char *buf, size_t cap)
{
    struct fmt f;
    conv_set_u(&f.c, to_bits(value));
    if ((!buf && cap) || expand(&f.c, f.dg) != MOTE_OK)
        return MOTE_ERR_BAD_ARG;
    return emit(buf, cap, &f);
}

/* Here rather than in json_write.c so the conversion runs one frame below this call: the
 * writer's grammar step and bookkeeping are calls into json_write.c. */
int mote_json_write_double(mote_json_writer_t *w, double v)
{
    struct fmt f;
    int n = json_writer_value_begin(w);
    if (n != MOTE_OK)
        return n;
    conv_set_u(&f.c, to_bits(v));
    n = expand(&f.c, f.dg);
    if (n == MOTE_OK)
        n = emit(w->buf ? w->buf + w->len : NULL, w->cap - w->len, &f);
    if (n < 0)
        return json_writer_fail(w, n);
    w->len += (size_t)n;
    return json_writer_value_end(w);
}

#endif /* MOTE_JSON_DOUBLE */
