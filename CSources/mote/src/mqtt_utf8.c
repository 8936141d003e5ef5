/* MQTT UTF-8 strings (3.1.1 1.5.3, 5.0 1.5.4): well-formed UTF-8 (RFC 3629), no U+0000,
 * no UTF-16 surrogates (U+D800..U+DFFF). Also the byte-span helper mote_bytes_cstr. */
#include "mqtt_wire.h"

mote_bytes_t mote_bytes_cstr(const char *s)
{
    mote_bytes_t b = { (const uint8_t *)s, s ? strlen(s) : 0u };
    return b;
}

bool mote_mqtt_utf8_valid(const uint8_t *s, size_t len)
{
    const uint8_t *const end = s + len;
    if (len && !s)
        return false;
    while (s < end) {
        unsigned c = *s++, n, lo = 0x80u, hi = 0xBFu;
        if (c < 0x80u) {
            if (c == 0)
                return false;
            continue;
        }
        /* Lead byte gives the number of continuation bytes after the first (n) and the
         * allowed range of the first; that range is what excludes overlong forms,
         * surrogates (ED A0..BF) and code points above U+10FFFF. */
        if (c < 0xC2u || c > 0xF4u)
            return false;
        n = (c >= 0xE0u) + (c >= 0xF0u);
        if (c == 0xE0u)
            lo = 0xA0u;
        if (c == 0xF0u)
            lo = 0x90u;
        if (c == 0xEDu)
            hi = 0x9Fu;
        if (c == 0xF4u)
            hi = 0x8Fu;
        if ((size_t)(end - s) <= n || *s < lo || *s > hi)
            return false;
        while (n--) /* the first continuation byte is in range, so only the others */
            if ((*++s & 0xC0u) != 0x80u)
                return false;
        s++;
    }
    return true;
}
