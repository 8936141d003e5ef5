/* Topic names and filters (MQTT 3.1.1 4.7, 5.0 4.7 and 4.8.2): validation and matching. */
#include "mqtt_wire.h"

/* The byte-wise rules behind mote_wire_topic_fast (mqtt_wire.h). Small builds (-Os) skip
 * the word screen; larger ones run it here too, for callers of mote_mqtt_topic_validate. */
mote_err_t mote_wire_topic_chars(const uint8_t *p, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (p[i] == '+' || p[i] == '#')
            return MOTE_ERR_BAD_TOPIC;
    return mote_mqtt_utf8_valid(p, len) ? MOTE_OK : MOTE_ERR_BAD_UTF8;
}

mote_err_t mote_mqtt_topic_validate(mote_bytes_t name)
{
    if (!name.ptr || name.len == 0 || name.len > 65535u)
        return MOTE_ERR_BAD_TOPIC;
    return mote_wire_topic_fast(name.ptr, name.len);
}

/* share_prefix for a "$share/" filter that is not a valid shared subscription. */
#define SHARE_BAD ((size_t)-1)

/* Length of the "$share/GROUP/" prefix of a shared subscription, 0 if f is not one,
 * SHARE_BAD if its share name is empty or contains a wildcard, or no filter follows. */
static size_t share_prefix(const uint8_t *p, size_t len)
{
    const mote_bytes_t f = { p, len };
    if (!mote_wire_is_shared(f))
        return 0;
    size_t k = 7;
    while (k < len && p[k] != '/') {
        if (p[k] == '+' || p[k] == '#')
            return SHARE_BAD;
        k++;
    }
    if (k == 7 || k + 1 >= len)
        return SHARE_BAD;
    return k + 1;
}

mote_err_t mote_mqtt_filter_validate(mote_bytes_t f)
{
    if (!f.ptr || f.len == 0 || f.len > 65535u)
        return MOTE_ERR_BAD_TOPIC;
    if (!mote_mqtt_utf8_valid(f.ptr, f.len))
        return MOTE_ERR_BAD_UTF8;
    const size_t start = share_prefix(f.ptr, f.len);
    if (start == SHARE_BAD)
        return MOTE_ERR_BAD_TOPIC;
    const uint8_t *p = f.ptr;
    for (size_t i = start; i < f.len; i++) {
        uint8_t c = p[i];
        if (c != '+' && c != '#')
            continue;
        /* A wildcard fills its whole level; '#' must also be the last level. */
        if ((i > start && p[i - 1] != '/') || (i + 1 < f.len && p[i + 1] != '/') ||
            (c == '#' && i + 1 != f.len))
            return MOTE_ERR_BAD_TOPIC;
    }
    return MOTE_OK;
}

bool mote_mqtt_topic_matches(mote_bytes_t filter, mote_bytes_t name)
{
    if (!filter.ptr || !name.ptr || filter.len == 0 || name.len == 0)
        return false;
    size_t fi = share_prefix(filter.ptr, filter.len), ni = 0;
    if (fi == SHARE_BAD)
        return false;
    const uint8_t *f = filter.ptr, *n = name.ptr;
    const size_t fl = filter.len, nl = name.len;
    /* Topics starting with '$' are not matched by a wildcard in the first level. */
    if (n[0] == '$' && (f[fi] == '+' || f[fi] == '#'))
        return false;
    while (fi < fl) {
        const uint8_t c = f[fi];
        if (c == '#') /* valid filters have it last, alone in its level */
            return true;
        if (c == '+') { /* one whole level, possibly empty */
            while (ni < nl && n[ni] != '/')
                ni++;
        } else if (ni == nl) {
            /* The name ended: "a/#" still matches its parent "a". */
            return c == '/' && fi + 2 == fl && f[fi + 1] == '#';
        } else if (n[ni++] != c) {
            return false;
        }
        fi++;
    }
    return ni == nl;
}
