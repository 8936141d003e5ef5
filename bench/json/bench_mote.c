/* Mote JSON benchmark: validate, early search, late search on one document.
 * usage: bench_mote FILE QUERIES ITER
 * Prints MB/s per operation. Under callgrind, run with ITER=1 and collect only the
 * mote_json_* functions (--toggle-collect) to get instructions per byte. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mote/json.h"

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    rewind(f);
    buf = malloc((size_t)n + 1);
    if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
        fclose(f);
        free(buf);
        return NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The queries file holds one line: "dotted<TAB>pointer" per path (early, then late). */
static int read_queries(const char *path, char q[2][256])
{
    FILE *f = fopen(path, "r");
    char line[600];
    int n = 0;
    if (!f)
        return -1;
    while (n < 2 && fgets(line, sizeof line, f)) {
        char *tab = strchr(line, '\t');
        if (tab)
            *tab = '\0';
        line[strcspn(line, "\r\n")] = '\0';
        snprintf(q[n++], 256, "%s", line);
    }
    fclose(f);
    return n == 2 ? 0 : -1;
}

int main(int argc, char **argv)
{
    size_t len;
    char q[2][256];
    char *doc;
    long iters, i;
    volatile size_t sink = 0;
    int op;
    static const char *names[3] = {"validate", "early search", "late search"};
    if (argc != 4)
        return 2;
    doc = slurp(argv[1], &len);
    if (!doc || read_queries(argv[2], q) != 0)
        return 2;
    iters = atol(argv[3]);
    for (op = 0; op < 3; op++) {
        double t0 = now(), dt;
        for (i = 0; i < iters; i++) {
            mote_json_value_t v;
            int rc;
            if (op == 0) {
                rc = mote_json_validate(doc, len, NULL);
            } else {
                rc = mote_json_find(doc, len, q[op - 1], strlen(q[op - 1]), &v, NULL);
                sink += v.len;
            }
            if (rc != MOTE_OK) {
                fprintf(stderr, "%s failed: %s\n", names[op], mote_strerror(rc));
                return 1;
            }
        }
        dt = now() - t0;
        printf("%s\t%.0f\n", names[op], (double)len * (double)iters / dt / 1e6);
    }
    (void)sink;
    free(doc);
    return 0;
}
