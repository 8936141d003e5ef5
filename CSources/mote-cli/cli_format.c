/* mote sub -F output formats (see cli_format.h). */
#include "cli_format.h"

#include <string.h>

#include "mote/json.h"
#include "mote/mqtt_codec.h"

/* One item of a format: a literal byte, a %-conversion or an @-time field. */
typedef struct fmt_item {
    enum { ITEM_CHAR, ITEM_CONV, ITEM_TIME } kind;
    char c;       /* the byte, the conversion letter or the strftime letter */
    bool left;    /* '-' flag */
    bool zero;    /* '0' flag */
    int width;    /* -1: none */
    int prec;     /* -1: none */
} fmt_item_t;

static bool is_payload_conv(char c)
{
    return c == 'p' || c == 'x' || c == 'X' || c == 'j' || c == 'J';
}

/* The MQTT 5 property fields and their property ids. */
static const char k_prop_convs[] = "CDEFRSAP";
static const uint8_t k_prop_ids[] = { MOTE_PROP_CONTENT_TYPE, MOTE_PROP_CORRELATION_DATA,
                                      MOTE_PROP_MESSAGE_EXPIRY, MOTE_PROP_PAYLOAD_FORMAT,
                                      MOTE_PROP_RESPONSE_TOPIC, MOTE_PROP_SUBSCRIPTION_ID,
                                      MOTE_PROP_TOPIC_ALIAS, MOTE_PROP_USER_PROPERTY };

/* Properties whose value is text or binary data (the others are numbers). */
static bool prop_is_bytes(uint8_t id)
{
    return id == MOTE_PROP_CONTENT_TYPE || id == MOTE_PROP_RESPONSE_TOPIC ||
           id == MOTE_PROP_CORRELATION_DATA;
}

static bool is_prop_conv(char c)
{
    return c != '\0' && strchr(k_prop_convs, c) != NULL;
}

/* The strftime conversions @ accepts (POSIX's, and %s). */
static const char k_time_convs[] = "aAbBcCdDeFgGhHIjmMnprRsStTuUVwWxXyYzZ";

/* Reads the item at *p (not at the end) and moves past it. Returns NULL when it is well
 * formed, else what is wrong with it. */
static const char *next_item(const char **p, fmt_item_t *it)
{
    const char *s = *p;
    it->kind = ITEM_CHAR;
    it->left = it->zero = false;
    it->width = it->prec = -1;
    if (*s == '\\') {
        /* \0 is a NUL byte: mosquitto_sub's separator for xargs -0 */
        static const char from[] = "\\aenrtv0", to[] = "\\\a\033\n\r\t\v\0";
        const char *k = s[1] ? strchr(from, s[1]) : NULL;
        if (!k) {
            return "unknown escape after '\\' (\\n \\t \\r \\a \\e \\v \\0 \\\\)";
        }
        it->c = to[k - from];
        *p = s + 2;
        return NULL;
    }
    if (*s == '@') {
        if (s[1] == '@') {
            it->c = '@';
        } else if (s[1] && strchr(k_time_convs, s[1])) {
            it->kind = ITEM_TIME;
            it->c = s[1];
        } else {
            return "unknown time field after '@' (strftime letters such as @H @M @S; @@ for '@')";
        }
        *p = s + 2;
        return NULL;
    }
    if (*s != '%') {
        it->c = *s;
        *p = s + 1;
        return NULL;
    }
    s++;
    for (;; s++) {
        if (*s == '-') {
            it->left = true;
        } else if (*s == '0') {
            it->zero = true;
        } else {
            break;
        }
    }
    if (*s >= '1' && *s <= '9') {
        it->width = 0;
        while (*s >= '0' && *s <= '9') {
            if (it->width > 999) {
                return "width too large (at most 9999)";
            }
            it->width = it->width * 10 + (*s++ - '0');
        }
    }
    if (*s == '.') {
        it->prec = 0;
        for (s++; *s >= '0' && *s <= '9'; s++) {
            if (it->prec > 999) {
                return "precision too large (at most 9999)";
            }
            it->prec = it->prec * 10 + (*s - '0');
        }
    }
    if (!*s) {
        return "'%' at the end (%% for '%')";
    }
    it->c = *s;
    *p = s + 1;
    if (*s == '%') {
        if (it->left || it->zero || it->width >= 0 || it->prec >= 0) {
            return "%% takes no width or flags";
        }
        it->kind = ITEM_CHAR;
        return NULL;
    }
    it->kind = ITEM_CONV;
    if (strchr("tlm", *s)) {
        if (it->prec >= 0 && *s != 't') {
            return "a precision applies to %t only";
        }
        if (it->zero && *s == 't') {
            return "the 0 flag applies to numbers only";
        }
        return NULL;
    }
    if (strchr("qrpxXjJIUCDEFRSAP", *s)) {
        if (it->left || it->zero || it->width >= 0 || it->prec >= 0) {
            return "width, precision and flags apply to %t %l %m only";
        }
        return NULL;
    }
    return "unknown field after '%' (%t %p %x %X %l %q %r %m %I %U %j %J %C %D %E %F %R %S %A "
           "%P %%)";
}

bool mote_cli_format_check(const char *fmt)
{
    const char *p = fmt;
    fmt_item_t it;
    while (*p) {
        const char *at = p;
        const char *why = next_item(&p, &it);
        if (why) {
            fprintf(stderr, "mote: invalid -F format at '%.12s': %s\n", at, why);
            return false;
        }
    }
    return true;
}

/* ---- Printing ------------------------------------------------------------------------ */

static void put_hex(FILE *out, const uint8_t *b, size_t n, bool upper)
{
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    size_t i;
    for (i = 0; i < n; i++) {
        fputc(digits[b[i] >> 4], out);
        fputc(digits[b[i] & 15], out);
    }
}

/* Length of a UTF-8 sequence by its lead byte, 0 for a byte that cannot lead one. */
static size_t utf8_len(uint8_t lead)
{
    return lead < 0x80 ? 1 : lead < 0xC2 ? 0 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : lead < 0xF5 ? 4 : 0;
}

static void put_replacement(FILE *out)
{
    fputs("\xEF\xBF\xBD", out); /* U+FFFD: a byte that is not UTF-8 */
}

/* Writes bytes as the inside of a JSON string. UTF-8 sequences split between chunks are
 * carried in st; bytes that are not UTF-8 become U+FFFD, so the output is always valid
 * JSON. */
static void put_json_chars(FILE *out, const uint8_t *b, size_t n, mote_cli_format_state_t *st)
{
    size_t i;
    for (i = 0; i < n; i++) {
        uint8_t c = b[i];
        if (st->utf8_len) {
            size_t need = utf8_len(st->utf8[0]);
            if ((c & 0xC0) == 0x80) {
                st->utf8[st->utf8_len++] = c;
                if (st->utf8_len == need) {
                    if (mote_mqtt_utf8_valid(st->utf8, need)) {
                        fwrite(st->utf8, 1, need, out);
                    } else {
                        put_replacement(out);
                    }
                    st->utf8_len = 0;
                }
                continue;
            }
            put_replacement(out); /* cut short: the byte is read again on its own */
            st->utf8_len = 0;
        }
        if (c == '"' || c == '\\') {
            fputc('\\', out);
            fputc(c, out);
        } else if (c < 0x20) {
            static const char short_forms[] = "\b\f\n\r\t", letters[] = "bfnrt";
            const char *k = c ? strchr(short_forms, c) : NULL;
            if (k) {
                fputc('\\', out);
                fputc(letters[k - short_forms], out);
            } else {
                fprintf(out, "\\u%04x", (unsigned)c);
            }
        } else if (c < 0x80) {
            fputc(c, out);
        } else if (utf8_len(c) == 0) {
            put_replacement(out);
        } else {
            st->utf8[0] = c;
            st->utf8_len = 1;
        }
    }
}

static void end_json_chars(FILE *out, mote_cli_format_state_t *st)
{
    if (st->utf8_len) {
        put_replacement(out);
        st->utf8_len = 0;
    }
}

/* A valid JSON text without the whitespace between its tokens, so a message is one line. */
static void put_json_compact(FILE *out, const uint8_t *b, size_t n)
{
    bool in_string = false;
    size_t i;
    for (i = 0; i < n; i++) {
        uint8_t c = b[i];
        if (in_string) {
            fputc(c, out);
            if (c == '\\') {
                fputc(b[++i], out); /* valid JSON: an escape has its next byte */
            } else if (c == '"') {
                in_string = false;
            }
        } else if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
            fputc(c, out);
            in_string = c == '"';
        }
    }
}

static void put_time(FILE *out, const char *f, const struct tm *tm)
{
    char buf[128];
    size_t n = strftime(buf, sizeof buf, f, tm);
    fwrite(buf, 1, n, out);
}

/* A JSON string of bytes (valid UTF-8 or not). */
static void put_json_string(FILE *out, mote_bytes_t b)
{
    mote_cli_format_state_t st;
    memset(&st, 0, sizeof st);
    fputc('"', out);
    put_json_chars(out, b.ptr, b.len, &st);
    end_json_chars(out, &st);
    fputc('"', out);
}

/* %j's "properties" member (with its comma), when the message has MQTT 5 properties:
 * mosquitto_sub's names; user properties as one object of NAME: VALUE. */
static void put_json_props(FILE *out, mote_mqtt_props_t props)
{
    static const struct {
        uint8_t id;
        const char *name;
    } names[] = {
        { MOTE_PROP_PAYLOAD_FORMAT, "payload-format-indicator" },
        { MOTE_PROP_MESSAGE_EXPIRY, "message-expiry-interval" },
        { MOTE_PROP_CONTENT_TYPE, "content-type" },
        { MOTE_PROP_RESPONSE_TOPIC, "response-topic" },
        { MOTE_PROP_CORRELATION_DATA, "correlation-data" },
        { MOTE_PROP_SUBSCRIPTION_ID, "subscription-identifier" },
        { MOTE_PROP_TOPIC_ALIAS, "topic-alias" },
    };
    mote_mqtt_prop_t pr;
    size_t cursor = 0, i;
    int n = 0, users = 0;
    while (mote_mqtt_prop_next(props, &cursor, &pr)) {
        if (pr.id == MOTE_PROP_USER_PROPERTY) {
            users++;
            continue;
        }
        for (i = 0; i < sizeof names / sizeof names[0]; i++) {
            if (names[i].id == pr.id) {
                break;
            }
        }
        if (i == sizeof names / sizeof names[0]) {
            continue;
        }
        fputs(n++ ? "," : "\"properties\":{", out);
        fprintf(out, "\"%s\":", names[i].name);
        if (prop_is_bytes(pr.id)) {
            put_json_string(out, pr.value);
        } else {
            fprintf(out, "%lu", (unsigned long)pr.u32);
        }
    }
    if (users) {
        fputs(n++ ? ",\"user-properties\":{" : "\"properties\":{\"user-properties\":{", out);
        users = 0;
        cursor = 0;
        while (mote_mqtt_prop_next(props, &cursor, &pr)) {
            if (pr.id == MOTE_PROP_USER_PROPERTY) {
                if (users++) {
                    fputc(',', out);
                }
                put_json_string(out, pr.key);
                fputc(':', out);
                put_json_string(out, pr.value);
            }
        }
        fputc('}', out);
    }
    if (n) {
        fputs("},", out);
    }
}

/* A property field: the value as text, nothing when absent. */
static void put_prop(FILE *out, char conv, mote_mqtt_props_t props)
{
    uint8_t id = k_prop_ids[strchr(k_prop_convs, conv) - k_prop_convs];
    mote_mqtt_prop_t pr;
    size_t cursor = 0;
    int n = 0;
    if (id == MOTE_PROP_USER_PROPERTY) {
        while (mote_mqtt_prop_next(props, &cursor, &pr)) {
            if (pr.id == id) {
                fputs(n++ ? " " : "", out);
                fwrite(pr.key.ptr, 1, pr.key.len, out);
                fputc(':', out);
                fwrite(pr.value.ptr, 1, pr.value.len, out);
            }
        }
        return;
    }
    if (!mote_mqtt_prop_find(props, id, &pr)) {
        return;
    }
    if (prop_is_bytes(id)) {
        fwrite(pr.value.ptr, 1, pr.value.len, out);
    } else {
        fprintf(out, "%lu", (unsigned long)pr.u32);
    }
}

/* The start of a %j / %J object, up to and including the "payload" key. */
static void put_json_head(FILE *out, const mote_cli_format_msg_t *m, mote_cli_format_state_t *st)
{
    struct tm tm;
    mote_cli_format_state_t topic_st;
    gmtime_r(&st->when.tv_sec, &tm);
    fputs("{\"tst\":\"", out);
    put_time(out, "%Y-%m-%dT%H:%M:%S", &tm);
    fprintf(out, ".%06ldZ\",\"topic\":\"", st->when.tv_nsec / 1000);
    memset(&topic_st, 0, sizeof topic_st);
    put_json_chars(out, (const uint8_t *)m->topic, m->topic_len, &topic_st);
    end_json_chars(out, &topic_st);
    fprintf(out, "\",\"qos\":%u,\"retain\":%d,\"payloadlen\":%lu,", (unsigned)m->qos,
            m->retain ? 1 : 0, (unsigned long)m->total);
    if (m->qos > 0) {
        fprintf(out, "\"mid\":%u,", (unsigned)m->mid);
    }
    put_json_props(out, m->props);
    fputs("\"payload\":", out);
}

/* One payload item for the current chunk: begin and end say whether this chunk is the
 * message's first and last. */
static void put_payload(FILE *out, char conv, const mote_cli_format_msg_t *m,
                        mote_cli_format_state_t *st, bool begin, bool end)
{
    if (conv == 'p') {
        fwrite(m->chunk, 1, m->chunk_len, out);
        return;
    }
    if (conv == 'x' || conv == 'X') {
        put_hex(out, m->chunk, m->chunk_len, conv == 'X');
        return;
    }
    if (begin) {
        put_json_head(out, m, st);
        if (m->total == 0) {
            fputs("null}", out); /* an empty (null) message */
            return;
        }
        if (conv == 'J' && end && mote_json_validate(m->chunk, m->chunk_len, NULL) == MOTE_OK) {
            put_json_compact(out, m->chunk, m->chunk_len);
            fputc('}', out);
            return;
        }
        fputc('"', out);
    }
    if (m->total == 0) {
        return;
    }
    put_json_chars(out, m->chunk, m->chunk_len, st);
    if (end) {
        end_json_chars(out, st);
        fputs("\"}", out);
    }
}

static void put_item(FILE *out, const fmt_item_t *it, const mote_cli_format_msg_t *m,
                     mote_cli_format_state_t *st)
{
    struct tm tm;
    char spec[16];
    unsigned long num;
    if (it->kind == ITEM_CHAR) {
        fputc(it->c, out);
        return;
    }
    if (it->kind == ITEM_TIME) {
        char f[3] = { '%', it->c, '\0' };
        localtime_r(&st->when.tv_sec, &tm);
        put_time(out, f, &tm);
        return;
    }
    switch (it->c) {
    case 't': {
        int prec = (int)m->topic_len;
        if (it->prec >= 0 && it->prec < prec) {
            prec = it->prec;
        }
        fprintf(out, it->left ? "%-*.*s" : "%*.*s", it->width < 0 ? 0 : it->width, prec,
                m->topic);
        return;
    }
    case 'l':
    case 'q':
    case 'r':
    case 'm':
        num = it->c == 'l' ? (unsigned long)m->total
            : it->c == 'q' ? (unsigned long)m->qos
            : it->c == 'r' ? (unsigned long)(m->retain ? 1 : 0)
                           : (unsigned long)m->mid;
        snprintf(spec, sizeof spec, "%%%s%s*lu", it->left ? "-" : "",
                 it->zero && !it->left ? "0" : "");
        fprintf(out, spec, it->width < 0 ? 0 : it->width, num);
        return;
    case 'I':
        localtime_r(&st->when.tv_sec, &tm);
        put_time(out, "%Y-%m-%dT%H:%M:%S%z", &tm);
        return;
    case 'U':
        fprintf(out, "%lld.%09ld", (long long)st->when.tv_sec, st->when.tv_nsec);
        return;
    case 'C':
    case 'D':
    case 'E':
    case 'F':
    case 'R':
    case 'S':
    case 'A':
    case 'P':
        put_prop(out, it->c, m->props);
        return;
    default: /* a payload item */
        put_payload(out, it->c, m, st, true, true);
        return;
    }
}

bool mote_cli_format_print(FILE *out, const char *fmt, const mote_cli_format_msg_t *m,
                           mote_cli_format_state_t *st)
{
    const char *p;
    fmt_item_t it;
    bool whole = m->first && m->last, past_payload = false;
    if (m->first) {
        memset(st, 0, sizeof *st);
        clock_gettime(CLOCK_REALTIME, &st->when);
        if (!whole) { /* a message in chunks: decided once, at its first */
            int payload_items = 0;
            bool late_props = false;
            for (p = fmt; *p;) {
                next_item(&p, &it); /* (checked when the options were parsed) */
                payload_items += it.kind == ITEM_CONV && is_payload_conv(it.c);
                late_props |= payload_items > 0 && it.kind == ITEM_CONV && is_prop_conv(it.c);
            }
            st->refused = payload_items > 1 || late_props;
            if (st->refused) {
                return false;
            }
        }
    }
    if (st->refused) {
        return true;
    }
    for (p = fmt; *p;) {
        next_item(&p, &it);
        if (whole) {
            put_item(out, &it, m, st);
        } else if (it.kind == ITEM_CONV && is_payload_conv(it.c)) {
            /* the one payload item: streamed, a chunk at a time (%J as %j: a payload in
             * chunks is never held whole to be checked) */
            put_payload(out, it.c == 'J' ? 'j' : it.c, m, st, m->first, m->last);
            past_payload = true;
        } else if (past_payload ? m->last : m->first) {
            put_item(out, &it, m, st); /* the text before the payload item once, at the first
                                          chunk; the text after it at the last */
        }
    }
    return true;
}
