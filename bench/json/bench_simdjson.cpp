// simdjson (Debian libsimdjson-dev) on the same documents: DOM parse for validate; parse +
// at_pointer for the searches. The parser object is reused, as simdjson recommends.
// usage: bench_simdjson FILE QUERIES ITERATIONS [OP]
#include <simdjson.h>

#include "bench_common.h"

static const char *g_doc;
static size_t g_len;
static char g_dotted[2][256], g_pointer[2][256];
static simdjson::dom::parser *g_parser;

extern "C" int run_op(int op);

extern "C" __attribute__((noinline)) int run_op(int op)
{
    simdjson::dom::element root;
    if (g_parser->parse(g_doc, g_len, false).get(root) != simdjson::SUCCESS)
        return -1;
    if (op == 0)
        return 0;
    simdjson::dom::element v;
    return root.at_pointer(g_pointer[op - 1]).get(v) == simdjson::SUCCESS ? 0 : -1;
}

int main(int argc, char **argv)
{
    static const char *names[3] = {"validate", "early", "late"};
    char *doc;
    if (argc < 4 || !(doc = bench_slurp(argv[1], &g_len)) ||
        bench_queries(argv[2], g_dotted, g_pointer) != 0)
        return 2;
    g_doc = doc;
    simdjson::dom::parser parser;
    g_parser = &parser;
    long iters = atol(argv[3]);
    int first = 0, last = 2;
    if (argc > 4)
        first = last = atoi(argv[4]);
    if (run_op(0) != 0) // allocate the parser's buffers outside the measurement
        return 1;
    for (int op = first; op <= last; op++) {
        double t0 = bench_now();
        for (long i = 0; i < iters; i++) {
            if (run_op(op) != 0) {
                fprintf(stderr, "simdjson %s failed\n", names[op]);
                return 1;
            }
        }
        printf("%s\t%.0f\n", names[op], (double)g_len * (double)iters / (bench_now() - t0) / 1e6);
    }
    free(doc);
    return 0;
}
