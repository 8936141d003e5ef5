/* Shared by the JSON benchmark drivers: read the document and its queries, time an
 * operation. Each driver defines run_op(op) (0 validate/parse, 1 early search, 2 late
 * search); callgrind collects only inside run_op to count instructions per byte. */
#ifndef BENCH_JSON_COMMON_H
#define BENCH_JSON_COMMON_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static char *bench_slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    rewind(f);
    buf = (char *)malloc((size_t)n + 64); /* simdjson wants padding; others ignore it */
    if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
        fclose(f);
        free(buf);
        return NULL;
    }
    memset(buf + n, 0, 64);
    fclose(f);
    *len = (size_t)n;
    return buf;
}

/* The queries file: "dotted<TAB>pointer" per line, the early path then the late one. */
static int bench_queries(const char *path, char dotted[2][256], char pointer[2][256])
{
    FILE *f = fopen(path, "r");
    char line[600];
    int n = 0;
    if (!f)
        return -1;
    while (n < 2 && fgets(line, sizeof line, f)) {
        char *tab = strchr(line, '\t');
        line[strcspn(line, "\r\n")] = '\0';
        if (!tab || strlen(line) >= 255 || strlen(tab + 1) >= 255)
            continue;
        *tab = '\0';
        memcpy(dotted[n], line, strlen(line) + 1);
        memcpy(pointer[n], tab + 1, strlen(tab + 1) + 1);
        n++;
    }
    fclose(f);
    return n == 2 ? 0 : -1;
}

static double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

#endif
