/* Paths for mote_json_find: dotted ("a.b[2].c", backslash escapes) and JSON Pointer
 * ("/a/b/2/c", ~0 and ~1). Segments are parsed lazily, one per level matched; the scanner
 * (json_scan.c) does the matching. */
#include <string.h>

#include "json_internal.h"

/* Parses the segment at sc->rest; sc->key_mode is the path's escape byte ('~' for a JSON
 * Pointer, else a backslash). `first`: no '.' separator expected before a key. Returns MOTE_OK or
 * MOTE_ERR_JSON_BAD_PATH (a segment that applies to nothing); kinds 0 when the path is fully
 * matched. */
static int next_segment(struct json_find *sc, int first)
{
    const char *p = sc->rest, *end = sc->pend, *d;
    size_t v = 0;
    unsigned kinds = JSON_PATH_OBJECT;
    char stop = '.', stop2 = '[', esc = (char)sc->key_mode; /* a dotted key */
    sc->kinds = 0; /* fully matched: nothing inside the found value matches */
    if (p == end)
        return MOTE_OK;
    if (esc == '~' || *p == '[') {
        /* "/token": a key, or an index when it is one; "[digits]" (an escape there is
         * simply not a digit) */
        stop = stop2 = esc == '~' ? '/' : ']';
        kinds = JSON_PATH_ARRAY | (esc == '~'); /* JSON_PATH_OBJECT too for a token */
        p++;
    } else if (!first && *p++ != '.') {
        return MOTE_ERR_JSON_BAD_PATH;
    }
    d = sc->key = p;
    for (; p != end && *p != stop && *p != stop2; p++) {
        /* "\x" is a literal x; "~0" and "~1" are '~' and '/' */
        if (*p == esc && (++p == end || (esc == '~' && *p != '0' && *p != '1')))
            return MOTE_ERR_JSON_BAD_PATH;
    }
    sc->rest = p;
    /* An index: decimal without leading zeros, not too large; a segment that is not one
     * never applies to an array. */
    if (p == d) /* empty: only a JSON Pointer token, as a key (its ARRAY | OBJECT becomes
                   OBJECT; a dotted key's OBJECT and "[]"'s ARRAY become 0: a bad path) */
        kinds &= kinds >> 1;
    else if (*d == '0' && p != d + 1)
        kinds &= ~JSON_PATH_ARRAY;
    for (; d != p; d++) {
        unsigned c = (unsigned)(*d - '0');
        if (c > 9 || v > ((size_t)-1 - 9) / 10) {
            kinds &= ~JSON_PATH_ARRAY;
            break;
        }
        v = v * 10 + c;
    }
    sc->index = v;
    sc->kinds = (uint8_t)kinds;
    if (!kinds || (stop == ']' && p == end))
        return MOTE_ERR_JSON_BAD_PATH;
    if (stop == ']')
        sc->rest = p + 1;
    return MOTE_OK;
}

int json_path_init(struct json_find *sc, const char *path, size_t len)
{
    int rc, first = 1;
    sc->rest = path;
    sc->pend = path + len;
    sc->key_mode = len > 0 && path[0] == '/' ? '~' : '\\';
    /* Check the whole path now, so a bad path is reported as such whatever the document. */
    do {
        rc = next_segment(sc, first);
        first = 0;
    } while (rc == MOTE_OK && sc->kinds);
    sc->rest = path;
    return rc != MOTE_OK ? rc : next_segment(sc, 1);
}

void json_path_advance(struct json_find *sc)
{
    next_segment(sc, 0); /* syntax already checked */
}
