/* Number conversion benchmark: Mote's double reads and shortest round-trip formatting beside
 * the C library calls that cJSON makes for the same jobs (strtod to read; "%.15g", a strtod
 * check and "%.17g" when that fails, to print). Three sets of values: short sensor-style
 * decimals (21.37, -0.004, 1013.25), doubles printed with 17 digits, and random doubles over
 * the whole exponent range. bench/json/run.sh prints nanoseconds per value beside callgrind's
 * instructions per value (the repeatable figure); informative only. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mote/json.h"

#define N 1024

static char g_text[3][N][32];
static double g_value[3][N];
static volatile double g_sink;
static volatile size_t g_sink_len;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t next_random(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void make_sets(void)
{
    uint64_t s = 0x9E3779B97F4A7C15ull;
    int i;
    for (i = 0; i < N; i++) {
        uint64_t r = next_random(&s), u;
        double x;
        /* sensor-style: 1..4 integer digits, 1..3 decimals, some negative */
        int places = 1 + (int)(r % 3);
        double scale = places == 1 ? 10.0 : places == 2 ? 100.0 : 1000.0;
        x = (double)((r >> 8) % 1000000) / scale;
        if ((r >> 40) & 1)
            x = -x;
        snprintf(g_text[0][i], 32, "%.*f", places, x);
        /* 17 digits of a double in [1e-5, 1e5) */
        x = ldexp((double)(next_random(&s) >> 11), -53) * pow(10.0, (double)(r % 11) - 5.0);
        snprintf(g_text[1][i], 32, "%.17g", x);
        /* any finite double */
        do {
            u = next_random(&s);
            memcpy(&x, &u, sizeof x);
        } while (!isfinite(x));
        snprintf(g_text[2][i], 32, "%.17g", x);
    }
    for (i = 0; i < 3 * N; i++)
        g_value[i / N][i % N] = strtod(g_text[i / N][i % N], NULL);
}

/* How cJSON prints a number: 15 digits if they read back, else 17. */
static int cjson_style_print(double d, char *buf, size_t cap)
{
    int n = snprintf(buf, cap, "%1.15g", d);
    if (strtod(buf, NULL) != d)
        n = snprintf(buf, cap, "%1.17g", d);
    return n;
}

static double time_read(int set, int mote, long iters)
{
    double t0 = now(), d = 0;
    long it;
    int i;
    for (it = 0; it < iters; it++)
        for (i = 0; i < N; i++) {
            const char *t = g_text[set][i];
            if (mote)
                mote_json_parse_double(t, strlen(t), &d);
            else
                d = strtod(t, NULL);
            g_sink = d;
        }
    return (now() - t0) * 1e9 / ((double)iters * N);
}

static double time_format(int set, int mote, long iters)
{
    char buf[40];
    double t0 = now();
    long it;
    int i, n = 0;
    for (it = 0; it < iters; it++)
        for (i = 0; i < N; i++) {
            if (mote)
                n = mote_json_format_double(g_value[set][i], buf, sizeof buf);
            else
                n = cjson_style_print(g_value[set][i], buf, sizeof buf);
            g_sink_len = (size_t)n;
        }
    return (now() - t0) * 1e9 / ((double)iters * N);
}

/* One pass of one operation over one value set; callgrind counts instructions inside it. */
__attribute__((noinline)) void run_op(int set, int op);
__attribute__((noinline)) void run_op(int set, int op)
{
    if (op < 2)
        time_read(set, op == 0, 1);
    else
        time_format(set, op == 2, 1);
}

/* bench_numbers [ITERATIONS]: the timing table. bench_numbers one SET OP: one pass of
 * operation OP (0 mote read, 1 strtod, 2 mote format, 3 printf) over value set SET. */
int main(int argc, char **argv)
{
    static const char *names[3] = {"sensor decimals (21.37)", "17-digit doubles in 1e-5..1e5",
                                   "random finite doubles"};
    long iters = argc > 1 ? atol(argv[1]) : 200;
    int set;
    make_sets();
    if (argc == 4 && strcmp(argv[1], "one") == 0) {
        run_op(atoi(argv[2]), atoi(argv[3]));
        return 0;
    }
    for (set = 0; set < 3; set++)
        printf("%s\t%.1f\t%.1f\t%.1f\t%.1f\n", names[set], time_read(set, 1, iters),
               time_read(set, 0, iters), time_format(set, 1, iters), time_format(set, 0, iters));
    return 0;
}
