/* mote json validate|get|keys: the JSON core on files or standard input.
 * Documents are read whole into one buffer, up to a limit (--max-bytes, default 16 MiB),
 * because the core works on complete texts. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_json.h"
#include "mote/json.h"

#define JSON_EXIT_OK 0
#define JSON_EXIT_FAIL 1  /* invalid document, path not found, wrong type */
#define JSON_EXIT_USAGE 2 /* usage or I/O error */

#ifndef MOTE_CLI_JSON_MAX_BYTES
#define MOTE_CLI_JSON_MAX_BYTES (16u * 1024u * 1024u)
#endif

static void usage(FILE *out)
{
    fputs("Usage: mote json validate FILE|-\n"
          "       mote json get FILE|- PATH [-r]\n"
          "       mote json keys FILE|- PATH\n"
          "\n"
          "PATH is a dotted path (state.desired.lights[1].on; \\. and \\[ for keys with\n"
          "those characters) or, when it starts with '/', a JSON Pointer (/state/lights/1).\n"
          "An empty PATH is the whole document. After --, arguments are FILE and PATH\n"
          "even when they start with '-' (mote json get doc.json -- -key).\n"
          "\n"
          "  -r               print a string value unescaped (get)\n"
          "  --max-bytes N    refuse documents larger than N bytes (default 16777216)\n"
          "\n"
          "Exit status: 0 ok, 1 invalid JSON or path not found, 2 usage or I/O error.\n",
          out);
}

/* Reads FILE (or stdin for "-") into a malloc'd buffer of at most max bytes. */
static int read_all(const char *name, size_t max, char **out, size_t *out_len)
{
    FILE *f = strcmp(name, "-") == 0 ? stdin : fopen(name, "rb");
    size_t cap = 65536, len = 0;
    char *buf;
    if (!f) {
        fprintf(stderr, "mote json: %s: %s\n", name, strerror(errno));
        return JSON_EXIT_USAGE;
    }
    buf = malloc(cap);
    while (buf) {
        size_t n;
        if (len == cap) {
            char *nb;
            if (cap > max) {
                break;
            }
            /* (a buffer that cannot double is out of memory, never a cut-off document) */
            nb = cap <= SIZE_MAX / 2 ? realloc(buf, cap * 2) : NULL;
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
        n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (len > max) {
            break;
        }
        if (n == 0) {
            break;
        }
    }
    if (!buf) {
        fprintf(stderr, "mote json: %s: out of memory\n", name);
        if (f != stdin)
            fclose(f);
        return JSON_EXIT_USAGE;
    }
    if (ferror(f)) {
        fprintf(stderr, "mote json: %s: read error: %s\n", name, strerror(errno));
        free(buf);
        if (f != stdin)
            fclose(f);
        return JSON_EXIT_USAGE;
    }
    if (f != stdin)
        fclose(f);
    if (len > max) {
        fprintf(stderr, "mote json: %s: larger than the limit of %zu bytes (see --max-bytes)\n",
                name, max);
        free(buf);
        return JSON_EXIT_USAGE;
    }
    *out = buf;
    *out_len = len;
    return JSON_EXIT_OK;
}

static int report(const char *name, int rc, const mote_json_error_t *err, const char *path)
{
    if (rc == MOTE_ERR_JSON_SYNTAX || rc == MOTE_ERR_JSON_DEPTH) {
        fprintf(stderr, "mote json: %s: invalid JSON at byte %zu: %s\n", name, err->offset,
                mote_json_reason_text(err->reason));
        return JSON_EXIT_FAIL;
    }
    if (rc == MOTE_ERR_NOT_FOUND) {
        fprintf(stderr, "mote json: %s: path not found: %s\n", name, path);
        return JSON_EXIT_FAIL;
    }
    if (rc == MOTE_ERR_NO_SPACE) { /* the copy print_string could not allocate */
        fprintf(stderr, "mote json: %s: out of memory\n", name);
        return JSON_EXIT_USAGE;
    }
    if (rc == MOTE_ERR_JSON_BAD_PATH) {
        fprintf(stderr, "mote json: invalid path: %s\n", path);
        return JSON_EXIT_USAGE;
    }
    fprintf(stderr, "mote json: %s: %s\n", name, mote_strerror(rc));
    return JSON_EXIT_FAIL;
}

/* Prints a string value unescaped, followed by a newline. */
static int print_string(const mote_json_value_t *v)
{
    size_t need = 0;
    char small[256];
    char *buf = small;
    int rc = mote_json_get_string(v, small, sizeof small, &need);
    if (rc == MOTE_ERR_BUFFER_TOO_SMALL) {
        buf = malloc(need + 1);
        if (!buf)
            return MOTE_ERR_NO_SPACE;
        rc = mote_json_get_string(v, buf, need + 1, &need);
    }
    if (rc == MOTE_OK) {
        fwrite(buf, 1, need, stdout);
        fputc('\n', stdout);
    }
    if (buf != small)
        free(buf);
    return rc;
}

static int list_keys(const mote_json_value_t *v)
{
    mote_json_iter_t it;
    mote_json_value_t key, val;
    int rc = mote_json_iter_init(&it, v);
    if (rc != MOTE_OK)
        return rc;
    while ((rc = mote_json_iter_next(&it, &key, &val, NULL)) == MOTE_OK) {
        if (key.type == MOTE_JSON_STRING) {
            rc = print_string(&key);
            if (rc != MOTE_OK)
                return rc;
        } else {
            printf("%zu\n", it.index - 1);
        }
    }
    return rc == MOTE_ERR_NOT_FOUND ? MOTE_OK : rc;
}

int mote_cmd_json(int argc, char **argv)
{
    const char *args[3] = {NULL, NULL, NULL};
    const char *sub, *path = "";
    size_t max = MOTE_CLI_JSON_MAX_BYTES, len = 0;
    int nargs = 0, raw = 0, i, rc, code;
    char *doc = NULL;
    mote_json_error_t err = {0, MOTE_JSON_R_NONE};
    mote_json_value_t v;
    int options = 1; /* 0 after "--": the rest are FILE and PATH, whatever they start with */

    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!options || a[0] != '-' || a[1] == '\0' || a[1] == '/') {
            /* FILE, "-" (stdin) or PATH (a JSON Pointer may start "/-") */
            if (nargs == 3) {
                fprintf(stderr, "mote json: too many arguments\n");
                return JSON_EXIT_USAGE;
            }
            args[nargs++] = a;
        } else if (strcmp(a, "--") == 0) {
            options = 0;
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return JSON_EXIT_OK;
        } else if (strcmp(a, "-r") == 0) {
            raw = 1;
        } else if (strcmp(a, "--max-bytes") == 0) {
            /* digits only (strtoull would take a sign or spaces: "-1" as 2^64 - 1); a
             * limit beyond SIZE_MAX (or ULLONG_MAX) is no limit, not a wrapped one */
            const char *s = i + 1 < argc ? argv[++i] : "";
            char *endp;
            unsigned long long n = strtoull(s, &endp, 10);
            if (*s < '0' || *s > '9' || *endp) {
                fprintf(stderr, "mote json: --max-bytes needs a number\n");
                return JSON_EXIT_USAGE;
            }
            max = n > SIZE_MAX ? SIZE_MAX : (size_t)n;
        } else if (nargs > 0) {
            /* (a key that starts with '-' goes after "--", or is written \-x or /-x) */
            fprintf(stderr, "mote json: unknown option '%s' (a PATH starting with '-' goes "
                            "after --)\n", a);
            usage(stderr);
            return JSON_EXIT_USAGE;
        } else if (nargs < 3) {
            args[nargs++] = a;
        }
    }
    sub = args[0];
    if (!sub) {
        usage(stderr);
        return JSON_EXIT_USAGE;
    }
    if (strcmp(sub, "validate") == 0) {
        if (raw)
            goto raw_not_get;
        if (nargs != 2) {
            fprintf(stderr, "mote json: validate needs one FILE\n");
            goto bad_usage;
        }
    } else if (strcmp(sub, "get") == 0 || strcmp(sub, "keys") == 0) {
        if (raw && sub[0] != 'g')
            goto raw_not_get;
        if (nargs != 3) {
            fprintf(stderr, "mote json: %s needs FILE and PATH\n", sub);
            goto bad_usage;
        }
        path = args[2];
    } else {
        fprintf(stderr, "mote json: unknown subcommand '%s'\n", sub);
        usage(stderr);
        return JSON_EXIT_USAGE;
    }

    code = read_all(args[1], max, &doc, &len);
    if (code != JSON_EXIT_OK)
        return code;
    if (sub[0] == 'v') {
        rc = mote_json_validate(doc, len, &err);
        code = rc == MOTE_OK ? JSON_EXIT_OK : report(args[1], rc, &err, path);
    } else {
        rc = mote_json_find(doc, len, path, strlen(path), &v, &err);
        if (rc != MOTE_OK) {
            code = report(args[1], rc, &err, path);
        } else if (sub[0] == 'k') {
            rc = list_keys(&v);
            if (rc == MOTE_ERR_JSON_TYPE) {
                fprintf(stderr, "mote json: %s: value at '%s' is not an object or array\n",
                        args[1], path);
                code = JSON_EXIT_FAIL;
            } else {
                code = rc == MOTE_OK ? JSON_EXIT_OK : report(args[1], rc, &err, path);
            }
        } else if (raw && v.type == MOTE_JSON_STRING) {
            rc = print_string(&v);
            code = rc == MOTE_OK ? JSON_EXIT_OK : report(args[1], rc, &err, path);
        } else {
            fwrite(v.ptr, 1, v.len, stdout);
            fputc('\n', stdout);
            code = JSON_EXIT_OK;
        }
    }
    free(doc);
    if (fflush(stdout) != 0) {
        fprintf(stderr, "mote json: write error: %s\n", strerror(errno));
        return JSON_EXIT_USAGE;
    }
    return code;

raw_not_get:
    fprintf(stderr, "mote json: -r applies to get only\n");
bad_usage:
    usage(stderr);
    return JSON_EXIT_USAGE;
}
