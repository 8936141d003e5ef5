/* cJSON (Debian libcjson-dev) on the same documents: parse for validate; parse + lookup
 * member by member for the searches (what a device using cJSON does).
 * usage: bench_cjson FILE QUERIES ITERATIONS [OP] */
#define _POSIX_C_SOURCE 200809L
#include <cjson/cJSON.h>

#include "bench_common.h"

static const char *g_doc;
static size_t g_len;
static char g_dotted[2][256], g_pointer[2][256];

int run_op(int op);

__attribute__((noinline)) int run_op(int op)
{
    cJSON *root = cJSON_ParseWithLength(g_doc, g_len), *item = root;
    char key[256], *p, *save = NULL;
    int ok = root != NULL;
    if (ok && op > 0) {
        memcpy(key, g_dotted[op - 1], strlen(g_dotted[op - 1]) + 1);
        for (p = strtok_r(key, ".", &save); p && item; p = strtok_r(NULL, ".", &save))
            item = cJSON_GetObjectItemCaseSensitive(item, p);
        ok = item != NULL;
    }
    cJSON_Delete(root);
    return ok ? 0 : -1;
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
            if (run_op(op) != 0) {
                fprintf(stderr, "cJSON %s failed\n", names[op]);
                return 1;
            }
        }
        printf("%s\t%.0f\n", names[op], (double)g_len * (double)iters / (bench_now() - t0) / 1e6);
    }
    free(doc);
    return 0;
}
