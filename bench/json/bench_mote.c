/* Mote JSON benchmark driver: validate, early search, late search (dotted paths).
 * usage: bench_mote FILE QUERIES ITERATIONS [OP]  -> "op<TAB>MB/s" lines */
#define _POSIX_C_SOURCE 200809L
#include "bench_common.h"
#include "mote/json.h"

static const char *g_doc;
static size_t g_len;
static char g_dotted[2][256], g_pointer[2][256];

int run_op(int op);

__attribute__((noinline)) int run_op(int op)
{
    mote_json_value_t v;
    if (op == 0)
        return mote_json_validate(g_doc, g_len, NULL);
    return mote_json_find(g_doc, g_len, g_dotted[op - 1], strlen(g_dotted[op - 1]), &v, NULL);
}

int main(int argc, char **argv)
{
    static const char *names[3] = {"validate", "early", "late"};
    long iters, i;
    int op, first = 0, last = 2;
    char *doc;
    if (argc < 4 || !(doc = bench_slurp(argv[1], &g_len)) ||
        bench_queries(argv[2], g_dotted, g_pointer) != 0)
        return 2;
    g_doc = doc;
    iters = atol(argv[3]);
    if (argc > 4)
        first = last = atoi(argv[4]);
    for (op = first; op <= last; op++) {
        double t0 = bench_now();
        for (i = 0; i < iters; i++) {
            if (run_op(op) != MOTE_OK) {
                fprintf(stderr, "mote %s failed\n", names[op]);
                return 1;
            }
        }
        printf("%s\t%.0f\n", names[op], (double)g_len * (double)iters / (bench_now() - t0) / 1e6);
    }
    free(doc);
    return 0;
}
