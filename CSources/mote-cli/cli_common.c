/* Option parsing, session setup, the I/O step and error reporting shared by pub and sub. */
#include "cli_common.h"

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/ioctl.h>
#include <linux/sockios.h> /* SIOCOUTQ */
#endif

#include "cli_format.h"
#include "mote/mqtt_codec.h"
#include "mote/posix.h"

/* Buffers of the one session a process opens. Static, modest and fixed: larger incoming
 * messages are streamed in chunks, larger outgoing payloads are written from their own
 * memory, so these bound the tool's footprint. */
#define CLI_RX_MAX 65536u
#define CLI_RX_DEFAULT 32768u
#define CLI_TX_CAP 32768u
#define CLI_INFLIGHT_MAX 1024u
static uint8_t g_rx[CLI_RX_MAX];
static uint8_t g_tx[CLI_TX_CAP];
static mote_mqtt_inflight_t g_inflight[CLI_INFLIGHT_MAX];
static uint16_t g_qos2_rx[1024]; /* 3.1.1 brokers may send many QoS 2 messages at once */
static mote_bytes_t g_rx_aliases[16];
static uint8_t g_rx_alias_store[16 * 256];
static uint8_t g_connect_props[MOTE_CLI_PROPS_CAP];
static uint8_t g_will_props[MOTE_CLI_PROPS_CAP];

static volatile sig_atomic_t g_interrupted;
/* While the TCP connection and TLS handshake are set up (the adapters wait through EINTR),
 * an interrupt ends the process at once with this code (-1: not now), as mosquitto does. */
static volatile sig_atomic_t g_exit_on_interrupt = -1;
static const char *volatile g_interrupt_line; /* written to stderr first (NULL: none) */
static volatile size_t g_interrupt_line_len;

static void on_signal(int sig)
{
    (void)sig;
    g_interrupted = 1;
    if (g_exit_on_interrupt >= 0) {
        if (g_interrupt_line != NULL) {
            ssize_t w = write(STDERR_FILENO, g_interrupt_line, g_interrupt_line_len);
            (void)w;
        }
        _exit((int)g_exit_on_interrupt);
    }
}

static const char k_interrupted_connect[] = "mote: interrupted while connecting\n";

int mote_cli_interrupt_exit(const mote_cli_opts_t *o)
{
    return o->mode == MOTE_CLI_PUB ? MOTE_EXIT_ERROR : MOTE_EXIT_OK;
}

void mote_cli_install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    /* No SA_RESTART: a blocking poll returns EINTR so loops notice at once. */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

bool mote_cli_interrupted(void)
{
    return g_interrupted != 0;
}

/* ---- Options --------------------------------------------------------------------- */

enum {
    OPT_WILL_TOPIC = 256,
    OPT_WILL_PAYLOAD,
    OPT_WILL_QOS,
    OPT_WILL_RETAIN,
    OPT_CAFILE,
    OPT_CAPATH,
    OPT_CERT,
    OPT_KEY,
    OPT_KEYPASS,
    OPT_ALPN,
    OPT_TLS_VERSION,
    OPT_OS_CERTS,
    OPT_INSECURE,
    OPT_CIPHERS,
    OPT_SERVERNAME,
    OPT_NO_TLS,
    OPT_HELP,
    OPT_QUIET,
    OPT_RX_BUFFER,
    OPT_MAX_INFLIGHT,
    OPT_CONNECT_TIMEOUT,
    OPT_REPEAT,
    OPT_REPEAT_DELAY,
    OPT_NODELAY,
    OPT_UNIX,
    OPT_ACK_TIMEOUT,
    OPT_PROPERTY,
    OPT_RETAINED_ONLY,
    OPT_REMOVE_RETAINED
};

static const struct option k_long_opts[] = {
    { "host", required_argument, NULL, 'h' },
    { "port", required_argument, NULL, 'p' },
    { "topic", required_argument, NULL, 't' },
    { "message", required_argument, NULL, 'm' },
    { "file", required_argument, NULL, 'f' },
    { "stdin-line", no_argument, NULL, 'l' },
    { "stdin-file", no_argument, NULL, 's' },
    { "null-message", no_argument, NULL, 'n' },
    { "qos", required_argument, NULL, 'q' },
    { "retain", no_argument, NULL, 'r' },
    { "id", required_argument, NULL, 'i' },
    { "disable-clean-session", no_argument, NULL, 'c' },
    { "keepalive", required_argument, NULL, 'k' },
    { "count", required_argument, NULL, 'C' },
    { "timeout", required_argument, NULL, 'W' },
    { "protocol-version", required_argument, NULL, 'V' },
    { "verbose", no_argument, NULL, 'v' },
    { "username", required_argument, NULL, 'u' },
    { "pw", required_argument, NULL, 'P' },
    { "debug", no_argument, NULL, 'd' },
    { "session-expiry-interval", required_argument, NULL, 'x' },
    { "will-topic", required_argument, NULL, OPT_WILL_TOPIC },
    { "will-payload", required_argument, NULL, OPT_WILL_PAYLOAD },
    { "will-qos", required_argument, NULL, OPT_WILL_QOS },
    { "will-retain", no_argument, NULL, OPT_WILL_RETAIN },
    { "cafile", required_argument, NULL, OPT_CAFILE },
    { "capath", required_argument, NULL, OPT_CAPATH },
    { "cert", required_argument, NULL, OPT_CERT },
    { "key", required_argument, NULL, OPT_KEY },
    { "keypass", required_argument, NULL, OPT_KEYPASS },
    { "tls-alpn", required_argument, NULL, OPT_ALPN },
    { "tls-version", required_argument, NULL, OPT_TLS_VERSION },
    { "tls-use-os-certs", no_argument, NULL, OPT_OS_CERTS },
    { "insecure", no_argument, NULL, OPT_INSECURE },
    { "ciphers", required_argument, NULL, OPT_CIPHERS },
    { "tls-servername", required_argument, NULL, OPT_SERVERNAME },
    { "no-tls", no_argument, NULL, OPT_NO_TLS },
    { "help", no_argument, NULL, OPT_HELP },
    { "quiet", no_argument, NULL, OPT_QUIET },
    { "rx-buffer", required_argument, NULL, OPT_RX_BUFFER },
    { "max-inflight", required_argument, NULL, OPT_MAX_INFLIGHT },
    { "connect-timeout", required_argument, NULL, OPT_CONNECT_TIMEOUT },
    { "repeat", required_argument, NULL, OPT_REPEAT },
    { "repeat-delay", required_argument, NULL, OPT_REPEAT_DELAY },
    { "nodelay", no_argument, NULL, OPT_NODELAY },
    { "unix", required_argument, NULL, OPT_UNIX },
    { "ack-timeout", required_argument, NULL, OPT_ACK_TIMEOUT },
    { "property", required_argument, NULL, OPT_PROPERTY },
    { "url", required_argument, NULL, 'L' },
    { "retained-only", no_argument, NULL, OPT_RETAINED_ONLY },
    { "remove-retained", no_argument, NULL, OPT_REMOVE_RETAINED },
    { NULL, 0, NULL, 0 }
};

static void usage(mote_cli_mode_t mode, FILE *out)
{
    const char *cmd = mode == MOTE_CLI_PUB ? "pub" : "sub";
    fprintf(out, "Usage: mote %s [options]\n", cmd);
    if (mode == MOTE_CLI_PUB) {
        fputs("  -t TOPIC            topic to publish to (required)\n"
              "  -m MESSAGE          message payload\n"
              "  -f FILE             send the file's contents as the payload\n"
              "  -l                  send each line of stdin as a message\n"
              "  -s                  send all of stdin as one message (empty stdin: error)\n"
              "  -n                  send an empty (null) message\n"
              "  -r                  retain the message\n"
              "  --repeat N          publish the message N times\n"
              "  --repeat-delay S    wait S seconds (0.5: half a second) between them\n"
              "  -M N                at most N QoS 1/2 messages unacknowledged (as\n"
              "                      --max-inflight)\n"
              "  --ack-timeout S     give up when the broker takes no byte of what is left\n"
              "                      to send, or QoS 1/2 acks stop coming, for S seconds\n"
              "                      (default 30; exit 6)\n", out);
    } else {
        fputs("  -t FILTER           topic filter to subscribe to (repeatable, required)\n"
              "  -v                  print \"topic payload\"\n"
              "  -C N                exit after N messages\n"
              "  -W SECONDS          give up after SECONDS (exit 6)\n"
              "  -N                  no newline after each payload\n"
              "  -R                  skip retained (stale) messages\n"
              "  -F FORMAT           print each message by FORMAT: %t topic, %p payload,\n"
              "                      %x/%X hex, %l length, %q QoS, %r retain, %m message id,\n"
              "                      %I/%U arrival time (ISO 8601 / Unix), %j/%J the message\n"
              "                      as JSON, @H @M @S... strftime fields, \\n \\t escapes,\n"
              "                      widths like %-20t %05l\n"
              "  -T FILTER           do not print messages on topics matching FILTER\n"
              "                      (repeatable)\n"
              "  -U FILTER           unsubscribe from FILTER first (repeatable; then -t is\n"
              "                      optional: without it, exit after the UNSUBACK)\n"
              "  -E                  exit once the subscriptions are acknowledged\n"
              "  --retained-only     print retained messages only; exit 0 at the first\n"
              "                      message that is not retained\n"
              "  --remove-retained   clear each retained message printed (an empty retained\n"
              "                      message to its topic)\n", out);
    }
    fputs("  -L URL              mqtt://[USER[:PASS]@]HOST[:PORT]/TOPIC (mqtts:// for TLS)\n"
          "  -h HOST             broker host (default localhost)\n"
          "  -A ADDRESS          connect from this local address (picks the interface)\n"
          "  --unix PATH         connect to a broker's Unix domain socket\n"
          "  -p PORT             broker port (default 1883, 8883 with TLS)\n"
          "  -q QOS              quality of service 0, 1 or 2\n"
          "  -i ID               client identifier (default mote-PID)\n"
          "  -I PREFIX           client identifier PREFIX followed by the process id\n"
          "  -c                  persistent session (needs -i)\n"
          "  -x SECONDS          session expiry interval (MQTT 5)\n"
          "  -k SECONDS          keep-alive, 5 to 65535 (default 60)\n"
          "  -V VERSION          mqttv311 (default) or mqttv5 (also 311, 5)\n"
          "  -u USER / -P PASS   username / password\n"
          "  -d                  print a trace of packets to stderr\n"
          "  --will-topic T --will-payload P --will-qos Q --will-retain\n"
          "  --property KEY VALUE  MQTT 5 user property (repeatable)\n"
          "  -D PACKET PROPERTY VALUE  MQTT 5 property, as mosquitto's -D: PACKET connect,\n"
          "                      publish, subscribe, unsubscribe or will (repeatable)\n"
          "  --cafile F --capath D --cert F --key F --keypass P --insecure\n"
          "  --tls-alpn L --tls-version V --tls-use-os-certs --ciphers C --tls-servername N\n"
          "  --no-tls            plain TCP even on port 8883\n"
          "  --connect-timeout S --max-inflight N --rx-buffer BYTES --quiet\n"
          "  --nodelay           accepted for mosquitto's sake: Nagle is always off\n"
          "Exit codes: 0 ok, 1 error, 2 network/TLS, 3 connection refused, 4 connection lost,\n"
          "            5 malformed packet or protocol error, 6 timeout\n", out);
}

static bool parse_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    long v;
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi) {
        return false;
    }
    *out = v;
    return true;
}

static int bad_value(const char *opt, const char *val)
{
    fprintf(stderr, "mote: invalid value for %s: '%s'\n", opt, val);
    return MOTE_EXIT_ERROR;
}

/* Topics and filters are checked before connecting, so a typo is a usage error (like
 * mosquitto's "Invalid publish topic") rather than a failure reported after CONNECT. */
static bool check_topic(const char *t, bool filter)
{
    mote_bytes_t b = mote_bytes_cstr(t);
    const char *kind = filter ? "filter" : "topic";
    const char *why;
    if ((filter ? mote_mqtt_filter_validate(b) : mote_mqtt_topic_validate(b)) == MOTE_OK) {
        return true;
    }
    if (b.len == 0) {
        why = filter ? "a filter cannot be empty" : "a topic cannot be empty";
    } else if (b.len > 65535) {
        why = "longer than 65,535 bytes";
    } else if (!mote_mqtt_utf8_valid(b.ptr, b.len)) {
        why = "not valid UTF-8";
    } else if (!filter) {
        why = "the wildcards + and # are for subscribing, not for a topic to publish to";
    } else {
        why = "'#' must be alone in the last level, '+' alone in its level "
              "($share/GROUP/FILTER for shared subscriptions)";
    }
    fprintf(stderr, "mote: invalid %s '%s': %s\n", kind, t, why);
    return false;
}

/* -D: the properties mosquitto_pub/sub take, and the packets each belongs to. Those mote
 * sets itself (receive-maximum, maximum-packet-size, topic-alias-maximum, topic-alias) or
 * has no use for (authentication) are refused by name. */
enum { PT_BYTE, PT_U32, PT_VARINT, PT_UTF8, PT_TOPIC, PT_BINARY, PT_PAIR };
static const struct {
    const char *name;
    uint8_t id, type, packets;
} k_props[] = {
    { "payload-format-indicator", MOTE_PROP_PAYLOAD_FORMAT, PT_BYTE,
      MOTE_CLI_PKT_PUBLISH | MOTE_CLI_PKT_WILL },
    { "message-expiry-interval", MOTE_PROP_MESSAGE_EXPIRY, PT_U32,
      MOTE_CLI_PKT_PUBLISH | MOTE_CLI_PKT_WILL },
    { "content-type", MOTE_PROP_CONTENT_TYPE, PT_UTF8, MOTE_CLI_PKT_PUBLISH | MOTE_CLI_PKT_WILL },
    { "response-topic", MOTE_PROP_RESPONSE_TOPIC, PT_TOPIC,
      MOTE_CLI_PKT_PUBLISH | MOTE_CLI_PKT_WILL },
    { "correlation-data", MOTE_PROP_CORRELATION_DATA, PT_BINARY,
      MOTE_CLI_PKT_PUBLISH | MOTE_CLI_PKT_WILL },
    { "subscription-identifier", MOTE_PROP_SUBSCRIPTION_ID, PT_VARINT, MOTE_CLI_PKT_SUBSCRIBE },
    { "session-expiry-interval", MOTE_PROP_SESSION_EXPIRY, PT_U32, MOTE_CLI_PKT_CONNECT },
    { "request-problem-information", MOTE_PROP_REQUEST_PROBLEM_INFO, PT_BYTE,
      MOTE_CLI_PKT_CONNECT },
    { "request-response-information", MOTE_PROP_REQUEST_RESPONSE_INFO, PT_BYTE,
      MOTE_CLI_PKT_CONNECT },
    { "will-delay-interval", MOTE_PROP_WILL_DELAY, PT_U32, MOTE_CLI_PKT_WILL },
    { "user-property", MOTE_PROP_USER_PROPERTY, PT_PAIR,
      MOTE_CLI_PKT_CONNECT | MOTE_CLI_PKT_PUBLISH | MOTE_CLI_PKT_SUBSCRIBE |
          MOTE_CLI_PKT_UNSUBSCRIBE | MOTE_CLI_PKT_WILL },
};
static const char *const k_props_set_by_mote[] = {
    "receive-maximum", "maximum-packet-size", "topic-alias-maximum", "topic-alias",
    "authentication-method", "authentication-data",
};
static const char *const k_packet_names[] = { "connect", "publish", "subscribe", "unsubscribe",
                                              "will" };

/* -D COMMAND PROPERTY VALUE [VALUE]: argv[optind...] holds PROPERTY and the value(s). */
static bool parse_prop(const char *cmd, int argc, char **argv, mote_cli_mode_t mode,
                       mote_cli_opts_t *o)
{
    unsigned packet = 0, i;
    const char *name, *value;
    mote_cli_prop_t *p;
    long v;
    for (i = 0; i < sizeof k_packet_names / sizeof k_packet_names[0]; i++) {
        if (strcmp(cmd, k_packet_names[i]) == 0) {
            packet = 1u << i;
        }
    }
    if (packet == 0) {
        fprintf(stderr, "mote: -D %s: the packet is connect, publish, subscribe, unsubscribe "
                        "or will\n", cmd);
        return false;
    }
    if ((packet == MOTE_CLI_PKT_PUBLISH && mode != MOTE_CLI_PUB) ||
        ((packet == MOTE_CLI_PKT_SUBSCRIBE || packet == MOTE_CLI_PKT_UNSUBSCRIBE) &&
         mode != MOTE_CLI_SUB)) {
        fprintf(stderr, "mote: -D %s applies to mote %s\n", cmd,
                packet == MOTE_CLI_PKT_PUBLISH ? "pub" : "sub");
        return false;
    }
    if (optind + 1 >= argc) {
        fprintf(stderr, "mote: -D needs COMMAND PROPERTY VALUE\n");
        return false;
    }
    name = argv[optind++];
    value = argv[optind++];
    for (i = 0; i < sizeof k_props_set_by_mote / sizeof k_props_set_by_mote[0]; i++) {
        if (strcmp(name, k_props_set_by_mote[i]) == 0) {
            fprintf(stderr, "mote: -D %s %s: mote sets this property itself\n", cmd, name);
            return false;
        }
    }
    for (i = 0; i < sizeof k_props / sizeof k_props[0]; i++) {
        if (strcmp(name, k_props[i].name) == 0) {
            break;
        }
    }
    if (i == sizeof k_props / sizeof k_props[0]) {
        fprintf(stderr, "mote: -D %s: unknown property '%s'\n", cmd, name);
        return false;
    }
    if (!(k_props[i].packets & packet)) {
        fprintf(stderr, "mote: -D %s %s: not a property of %s\n", cmd, name, cmd);
        return false;
    }
    if (o->prop_count >= MOTE_CLI_MAX_PROPS) {
        fprintf(stderr, "mote: too many -D properties (at most %d)\n", MOTE_CLI_MAX_PROPS);
        return false;
    }
    p = &o->props[o->prop_count];
    memset(p, 0, sizeof *p);
    p->packet = (uint8_t)packet;
    p->id = k_props[i].id;
    p->name = name;
    p->value = value;
    switch (k_props[i].type) {
    case PT_BYTE:
    case PT_U32:
    case PT_VARINT:
        if (!parse_long(value, k_props[i].type == PT_VARINT ? 1 : 0,
                        k_props[i].type == PT_BYTE ? 1 : k_props[i].type == PT_VARINT ? 268435455L
                                                                            : 0xffffffffL,
                        &v)) {
            fprintf(stderr, "mote: -D %s %s: invalid value '%s' (%s)\n", cmd, name, value,
                    k_props[i].type == PT_BYTE ? "0 or 1"
                    : k_props[i].type == PT_VARINT ? "1 to 268435455"
                                                   : "0 to 4294967295");
            return false;
        }
        p->number = (uint32_t)v;
        break;
    case PT_PAIR:
        if (optind >= argc) {
            fprintf(stderr, "mote: -D %s user-property needs NAME VALUE\n", cmd);
            return false;
        }
        p->value2 = argv[optind++];
        break;
    case PT_TOPIC:
        if (mote_mqtt_topic_validate(mote_bytes_cstr(value)) != MOTE_OK) {
            fprintf(stderr, "mote: -D %s %s: '%s' is not a topic name\n", cmd, name, value);
            return false;
        }
        break;
    default:
        break;
    }
    /* one of each, but for user properties */
    for (i = 0; i < (unsigned)o->prop_count; i++) {
        if (o->props[i].packet == p->packet && o->props[i].id == p->id &&
            p->id != MOTE_PROP_USER_PROPERTY) {
            fprintf(stderr, "mote: -D %s %s given twice\n", cmd, name);
            return false;
        }
    }
    if (packet == MOTE_CLI_PKT_CONNECT && p->id == MOTE_PROP_SESSION_EXPIRY) {
        o->session_expiry_s = p->number; /* the same as -x (CONNECT carries it from there) */
        o->session_expiry_set = true;
    }
    o->prop_count++;
    return true;
}

/* Adds a packet's properties to b; false (with a message naming the property) when one
 * does not fit or is not valid UTF-8. */
static bool add_props(const mote_cli_opts_t *o, unsigned packet, mote_mqtt_props_builder_t *b)
{
    mote_err_t err = MOTE_OK;
    int i;
    char what[96] = "";
    if (packet != MOTE_CLI_PKT_WILL) {
        for (i = 0; i < o->user_count && err == MOTE_OK; i++) {
            err = mote_mqtt_props_add_user(b, mote_bytes_cstr(o->user_keys[i]),
                                           mote_bytes_cstr(o->user_values[i]));
            snprintf(what, sizeof what, "--property '%s'", o->user_keys[i]);
        }
    }
    for (i = 0; i < o->prop_count && err == MOTE_OK; i++) {
        const mote_cli_prop_t *p = &o->props[i];
        if (p->packet != packet || p->id == MOTE_PROP_SESSION_EXPIRY) {
            continue; /* (session expiry: set as -x) */
        }
        if (p->id == MOTE_PROP_USER_PROPERTY) {
            err = mote_mqtt_props_add_user(b, mote_bytes_cstr(p->value), mote_bytes_cstr(p->value2));
        } else if (p->id == MOTE_PROP_CONTENT_TYPE || p->id == MOTE_PROP_RESPONSE_TOPIC ||
                   p->id == MOTE_PROP_CORRELATION_DATA) {
            err = mote_mqtt_props_add_bytes(b, p->id, mote_bytes_cstr(p->value));
        } else {
            err = mote_mqtt_props_add_int(b, p->id, p->number);
        }
        snprintf(what, sizeof what, "-D %s %s", k_packet_names[__builtin_ctz(packet)], p->name);
    }
    if (err == MOTE_ERR_BAD_UTF8) {
        fprintf(stderr, "mote: %s: names and values must be valid UTF-8\n", what);
        return false;
    }
    if (err != MOTE_OK) {
        fprintf(stderr, "mote: %s: properties too large: those of one packet must fit in %u "
                        "bytes encoded (a user property takes 5 + name + value bytes)\n",
                what, (unsigned)MOTE_CLI_PROPS_CAP);
        return false;
    }
    return true;
}

/* Every packet's properties must be UTF-8 where text and fit, encoded, in
 * MOTE_CLI_PROPS_CAP bytes: checked here so none is ever dropped later. */
static bool check_props(const mote_cli_opts_t *o)
{
    static uint8_t scratch[MOTE_CLI_PROPS_CAP];
    mote_mqtt_props_builder_t b;
    unsigned packet;
    for (packet = MOTE_CLI_PKT_CONNECT; packet <= MOTE_CLI_PKT_WILL; packet <<= 1) {
        mote_mqtt_props_init(&b, scratch, sizeof scratch);
        if (!add_props(o, packet, &b)) {
            return false;
        }
    }
    return true;
}

/* -L mqtt(s)://[USER[:PASS]@]HOST[:PORT]/TOPIC, split in place: sets the host, port,
 * credentials, the TLS choice and (when the path is not empty) a topic, as the flags
 * would. */
static bool parse_url(char *url, mote_cli_mode_t mode, mote_cli_opts_t *o)
{
    char *s, *at, *slash, *colon;
    long v;
    /* the URL as given, for messages (url itself is split in place below) */
    char original[512];
    snprintf(original, sizeof original, "%s", url);
    if (strncmp(url, "mqtt://", 7) == 0) {
        o->net.url_scheme = MOTE_CLI_URL_MQTT;
        s = url + 7;
    } else if (strncmp(url, "mqtts://", 8) == 0) {
        o->net.url_scheme = MOTE_CLI_URL_MQTTS;
        s = url + 8;
    } else {
        fprintf(stderr, "mote: invalid -L URL '%s': it starts with mqtt:// or mqtts://\n", url);
        return false;
    }
    slash = strchr(s, '/');
    if (slash == NULL) {
        fprintf(stderr, "mote: invalid -L URL '%s': no /TOPIC after the host\n", original);
        return false;
    }
    *slash = '\0';
    at = strrchr(s, '@');
    if (at != NULL) {
        *at = '\0';
        colon = strchr(s, ':');
        if (colon != NULL) {
            *colon = '\0';
            o->password = colon + 1;
        }
        o->username = s;
        s = at + 1;
    }
    /* HOST, [IPv6]:PORT or HOST:PORT */
    colon = NULL;
    if (*s == '[') {
        char *close = strchr(s, ']');
        if (close == NULL || (close[1] != '\0' && close[1] != ':')) {
            fprintf(stderr, "mote: invalid -L URL '%s': bad [IPv6] host\n", original);
            return false;
        }
        *close = '\0';
        colon = close[1] == ':' ? close + 1 : NULL;
        s++;
    } else {
        colon = strchr(s, ':');
    }
    if (colon != NULL) {
        *colon = '\0';
        if (!parse_long(colon + 1, 1, 65535, &v)) {
            fprintf(stderr, "mote: invalid -L URL '%s': bad port '%s'\n", original, colon + 1);
            return false;
        }
        o->net.port = (uint16_t)v;
    } else {
        o->net.port = 0; /* the scheme's port (1883, 8883 for mqtts), whatever -p said */
    }
    if (*s == '\0') {
        fprintf(stderr, "mote: invalid -L URL '%s': no host\n", original);
        return false;
    }
    o->net.host = s;
    if (slash[1] != '\0') {
        if (o->topic_count > 0 && mode == MOTE_CLI_PUB) {
            fprintf(stderr, "mote: only one topic can be given to pub (-t or -L)\n");
            return false;
        }
        if (o->topic_count >= MOTE_CLI_MAX_TOPICS) {
            fprintf(stderr, "mote: too many topics (at most %d)\n", MOTE_CLI_MAX_TOPICS);
            return false;
        }
        o->topics[o->topic_count++] = slash + 1;
    }
    return true;
}

int mote_cli_parse(int argc, char **argv, mote_cli_mode_t mode, mote_cli_opts_t *o)
{
    const char *shorts = mode == MOTE_CLI_PUB ? ":h:p:t:m:f:lsnq:ri:I:ck:V:u:P:dx:L:D:M:A:"
                                              : ":h:p:t:q:i:I:ck:C:W:V:vu:P:dx:NRL:F:T:U:ED:A:";
    int c, i;
    bool x_given = false; /* -x (the session expiry may be given once) */
    long v;

    memset(o, 0, sizeof *o);
    o->mode = mode;
    o->net.host = "localhost";
    o->net.connect_timeout_ms = 10000;
    o->ack_timeout_ms = 30000;
    o->version = MOTE_MQTT_VERSION_311;
    o->clean = true;
    o->keep_alive_s = 60;
    o->rx_cap = CLI_RX_DEFAULT;
    o->max_inflight = 20;
    o->repeat = 1;

    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, shorts, k_long_opts, NULL)) != -1) {
        switch (c) {
        case 'h': o->net.host = optarg; break;
        case 'p':
            if (!parse_long(optarg, 1, 65535, &v)) return bad_value("-p", optarg);
            o->net.port = (uint16_t)v;
            break;
        case 't':
            if (o->topic_count > 0 && mode == MOTE_CLI_PUB) {
                fprintf(stderr, "mote: only one -t topic can be given to pub\n");
                return MOTE_EXIT_ERROR;
            }
            if (o->topic_count >= MOTE_CLI_MAX_TOPICS) {
                fprintf(stderr, "mote: too many -t topics (at most %d)\n", MOTE_CLI_MAX_TOPICS);
                return MOTE_EXIT_ERROR;
            }
            o->topics[o->topic_count++] = optarg;
            break;
        case 'm': o->message = optarg; break;
        case 'f': o->file = optarg; break;
        case 'l': o->lines = true; break;
        case 's': o->stdin_whole = true; break;
        case 'n': o->null_message = true; break;
        case 'q':
            if (!parse_long(optarg, 0, 2, &v)) return bad_value("-q", optarg);
            o->qos = (uint8_t)v;
            break;
        case 'r': o->retain = true; break;
        case 'i': o->client_id = optarg; break;
        case 'c': o->clean = false; break;
        case 'k':
            /* mosquitto_pub/sub's range and message; like them, 0 (no keep-alive) is refused. */
            if (!parse_long(optarg, 5, 65535, &v)) {
                fprintf(stderr, "mote: invalid value for -k: '%s': the keep-alive must be "
                                "between 5 and 65535 seconds\n", optarg);
                return MOTE_EXIT_ERROR;
            }
            o->keep_alive_s = (uint16_t)v;
            break;
        case 'C':
            if (!parse_long(optarg, 1, 0x7fffffffL, &v)) return bad_value("-C", optarg);
            o->count = v;
            break;
        case 'W':
            if (!parse_long(optarg, 1, 86400L * 365, &v)) return bad_value("-W", optarg);
            o->wait_s = v;
            break;
        case 'V':
            if (strcmp(optarg, "mqttv311") == 0 || strcmp(optarg, "311") == 0 ||
                strcmp(optarg, "v311") == 0) {
                o->version = MOTE_MQTT_VERSION_311;
            } else if (strcmp(optarg, "mqttv5") == 0 || strcmp(optarg, "5") == 0 ||
                       strcmp(optarg, "v5") == 0) {
                o->version = MOTE_MQTT_VERSION_5;
            } else {
                return bad_value("-V (mqttv311 or mqttv5)", optarg);
            }
            break;
        case 'v': o->verbose = true; break;
        case 'u': o->username = optarg; break;
        case 'P': o->password = optarg; break;
        case 'd': o->debug = true; break;
        case 'x':
            if (!parse_long(optarg, 0, 0xffffffffL, &v)) return bad_value("-x", optarg);
            o->session_expiry_s = (uint32_t)v;
            o->session_expiry_set = true;
            x_given = true;
            break;
        case 'N': o->no_newline = true; break;
        case 'R': o->no_retained = true; break;
        case 'E': o->exit_after_sub = true; break;
        case 'F': o->format = optarg; break;
        case 'T':
        case 'U':
            if ((c == 'T' ? o->filter_out_count : o->unsub_count) >= MOTE_CLI_MAX_TOPICS) {
                fprintf(stderr, "mote: too many -%c filters (at most %d)\n", c,
                        MOTE_CLI_MAX_TOPICS);
                return MOTE_EXIT_ERROR;
            }
            if (c == 'T') {
                o->filter_outs[o->filter_out_count++] = optarg;
            } else {
                o->unsub_topics[o->unsub_count++] = optarg;
            }
            break;
        case 'L':
            if (!parse_url(optarg, mode, o)) {
                return MOTE_EXIT_ERROR;
            }
            break;
        case OPT_RETAINED_ONLY:
        case OPT_REMOVE_RETAINED:
            if (mode != MOTE_CLI_SUB) {
                fprintf(stderr, "mote: unknown option %s (see mote pub --help)\n", argv[optind - 1]);
                return MOTE_EXIT_ERROR;
            }
            if (c == OPT_RETAINED_ONLY) {
                o->retained_only = true;
            } else {
                o->remove_retained = true;
            }
            break;
        case 'D':
            if (!parse_prop(optarg, argc, argv, mode, o)) {
                return MOTE_EXIT_ERROR;
            }
            break;
        case OPT_PROPERTY:
            /* KEY VALUE: the value is the next argument. */
            if (optind >= argc) {
                fprintf(stderr, "mote: --property needs KEY VALUE\n");
                return MOTE_EXIT_ERROR;
            }
            if (o->user_count >= MOTE_CLI_MAX_USER_PROPS) {
                fprintf(stderr, "mote: too many user properties (at most %d)\n",
                        MOTE_CLI_MAX_USER_PROPS);
                return MOTE_EXIT_ERROR;
            }
            o->user_keys[o->user_count] = optarg;
            o->user_values[o->user_count++] = argv[optind++];
            break;
        case OPT_WILL_TOPIC: o->will_topic = optarg; break;
        case OPT_WILL_PAYLOAD: o->will_payload = optarg; break;
        case OPT_WILL_QOS:
            if (!parse_long(optarg, 0, 2, &v)) return bad_value("--will-qos", optarg);
            o->will_qos = (uint8_t)v;
            break;
        case OPT_WILL_RETAIN: o->will_retain = true; break;
        case OPT_CAFILE: o->net.cafile = optarg; break;
        case OPT_CAPATH: o->net.capath = optarg; break;
        case OPT_CERT: o->net.cert = optarg; break;
        case OPT_KEY: o->net.key = optarg; break;
        case OPT_KEYPASS: o->net.keypass = optarg; break;
        case OPT_ALPN: o->net.alpn = optarg; break;
        case OPT_TLS_VERSION: o->net.tls_version = optarg; break;
        case OPT_OS_CERTS: o->net.use_os_certs = true; break;
        case OPT_INSECURE: o->net.insecure = true; break;
        case OPT_CIPHERS: o->net.ciphers = optarg; break;
        case OPT_SERVERNAME: o->net.servername = optarg; break;
        case OPT_NO_TLS: o->net.no_tls = true; break;
        case OPT_QUIET: o->quiet = true; break;
        case OPT_RX_BUFFER:
            if (!parse_long(optarg, 64, CLI_RX_MAX - 1, &v)) return bad_value("--rx-buffer", optarg);
            o->rx_cap = (uint32_t)v;
            break;
        case OPT_MAX_INFLIGHT:
            if (!parse_long(optarg, 1, CLI_INFLIGHT_MAX, &v)) {
                return bad_value("--max-inflight", optarg);
            }
            o->max_inflight = (uint16_t)v;
            break;
        case OPT_CONNECT_TIMEOUT:
            if (!parse_long(optarg, 1, 3600, &v)) return bad_value("--connect-timeout", optarg);
            o->net.connect_timeout_ms = (uint32_t)v * 1000u;
            break;
        case OPT_ACK_TIMEOUT:
            if (!parse_long(optarg, 1, 86400, &v)) return bad_value("--ack-timeout", optarg);
            o->ack_timeout_ms = (uint32_t)v * 1000u;
            break;
        case OPT_REPEAT_DELAY: {
            /* seconds, with a fraction (0.25): mosquitto_pub's form */
            char *end;
            double d;
            errno = 0;
            d = mode == MOTE_CLI_PUB ? strtod(optarg, &end) : -1.0;
            if (mode != MOTE_CLI_PUB) {
                fprintf(stderr, "mote: unknown option --repeat-delay (see mote sub --help)\n");
                return MOTE_EXIT_ERROR;
            }
            if (errno != 0 || end == optarg || *end != '\0' || !(d >= 0.0 && d <= 86400.0)) {
                return bad_value("--repeat-delay (seconds, 0 to 86400)", optarg);
            }
            o->repeat_delay_ms = (uint32_t)(d * 1000.0 + 0.5);
            break;
        }
        case OPT_NODELAY:
            break; /* TCP_NODELAY is always on: the client writes whole packets */
        case 'I': o->client_id_prefix = optarg; break;
        case 'A': o->net.bind_address = optarg; break;
        case OPT_UNIX: o->net.unix_path = optarg; break;
        case 'M':
            if (!parse_long(optarg, 1, CLI_INFLIGHT_MAX, &v)) return bad_value("-M", optarg);
            o->max_inflight = (uint16_t)v;
            break;
        case OPT_REPEAT:
            if (!parse_long(optarg, 1, 0x7fffffffL, &v)) return bad_value("--repeat", optarg);
            o->repeat = (uint32_t)v;
            break;
        case OPT_HELP:
            usage(mode, stdout);
            return -1;
        case ':':
            fprintf(stderr, "mote: option %s needs a value\n", argv[optind - 1]);
            return MOTE_EXIT_ERROR;
        default:
            if (optopt != 0 && optopt < 256) {
                fprintf(stderr, "mote: unknown option -%c (see mote %s --help)\n", optopt,
                        mode == MOTE_CLI_PUB ? "pub" : "sub");
            } else {
                fprintf(stderr, "mote: unknown option %s (see mote %s --help)\n",
                        argv[optind - 1], mode == MOTE_CLI_PUB ? "pub" : "sub");
            }
            return MOTE_EXIT_ERROR;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "mote: unexpected argument '%s'\n", argv[optind]);
        return MOTE_EXIT_ERROR;
    }
    if (o->topic_count == 0 && o->unsub_count == 0) {
        fprintf(stderr, mode == MOTE_CLI_PUB ? "mote: a topic is required (-t or -L)\n"
                                             : "mote: a topic is required (-t, -L or -U)\n");
        return MOTE_EXIT_ERROR;
    }
    if (o->no_retained && o->retained_only) {
        fprintf(stderr, "mote: -R (skip retained messages) and --retained-only exclude each "
                        "other\n");
        return MOTE_EXIT_ERROR;
    }
    if (o->format != NULL && !mote_cli_format_check(o->format)) {
        return MOTE_EXIT_ERROR;
    }
    for (i = 0; i < o->filter_out_count; i++) {
        if (!check_topic(o->filter_outs[i], true)) {
            return MOTE_EXIT_ERROR;
        }
    }
    for (i = 0; i < o->unsub_count; i++) {
        if (!check_topic(o->unsub_topics[i], true)) {
            return MOTE_EXIT_ERROR;
        }
    }
    if (o->net.unix_path != NULL &&
        (o->net.cafile || o->net.capath || o->net.use_os_certs || o->net.cert || o->net.key ||
         o->net.insecure || o->net.url_scheme == MOTE_CLI_URL_MQTTS || o->net.bind_address)) {
        fprintf(stderr, "mote: --unix connects with plain MQTT from this host: no TLS flags, "
                        "mqtts:// or -A\n");
        return MOTE_EXIT_ERROR;
    }
    if (o->client_id != NULL && o->client_id_prefix != NULL) {
        fprintf(stderr, "mote: -i and -I exclude each other\n");
        return MOTE_EXIT_ERROR;
    }
    if (!o->clean && o->client_id_prefix != NULL) {
        /* a session under an id with this run's process id could never be resumed */
        fprintf(stderr, "mote: -c (persistent session) needs a fixed client id (-i), not -I\n");
        return MOTE_EXIT_ERROR;
    }
    for (i = 0; i < o->prop_count; i++) {
        if (x_given && o->props[i].id == MOTE_PROP_SESSION_EXPIRY) {
            fprintf(stderr, "mote: the session expiry interval is given twice (-x and -D connect "
                            "session-expiry-interval)\n");
            return MOTE_EXIT_ERROR;
        }
    }
    if (o->client_id_prefix != NULL) {
        /* the id is built here, so the checks below see it */
        static char id[MOTE_CLI_MAX_CLIENT_ID + 32];
        snprintf(id, sizeof id, "%s%ld", o->client_id_prefix, (long)getpid());
        o->client_id = id;
    }
    if (!o->clean && o->client_id == NULL) {
        fprintf(stderr, "mote: -c (persistent session) needs a client id (-i)\n");
        return MOTE_EXIT_ERROR;
    }
    /* A stall of TLS output is --ack-timeout's to judge (with its message and exit 6): the
     * transport's own limit comes a second later, not at its fixed 30 s. */
    o->net.write_timeout_ms = o->ack_timeout_ms + 1000u;
    if (o->client_id != NULL) {
        size_t n = strlen(o->client_id);
        if (n > MOTE_CLI_MAX_CLIENT_ID) {
            fprintf(stderr, "mote: client id too long: %zu bytes (at most %d)\n", n,
                    MOTE_CLI_MAX_CLIENT_ID);
            return MOTE_EXIT_ERROR;
        }
        if (!mote_mqtt_utf8_valid((const uint8_t *)o->client_id, n)) {
            fprintf(stderr, "mote: client id is not valid UTF-8\n");
            return MOTE_EXIT_ERROR;
        }
    }
    if (o->username != NULL &&
        !mote_mqtt_utf8_valid((const uint8_t *)o->username, strlen(o->username))) {
        fprintf(stderr, "mote: username is not valid UTF-8\n");
        return MOTE_EXIT_ERROR;
    }
    if (o->password != NULL && strlen(o->password) > 65535) {
        fprintf(stderr, "mote: password too long (at most 65,535 bytes)\n");
        return MOTE_EXIT_ERROR;
    }
    for (i = 0; i < o->topic_count; i++) {
        if (!check_topic(o->topics[i], mode == MOTE_CLI_SUB)) {
            return MOTE_EXIT_ERROR;
        }
    }
    if (o->will_topic != NULL && !check_topic(o->will_topic, false)) {
        return MOTE_EXIT_ERROR;
    }
    if ((o->will_payload != NULL || o->will_qos != 0 || o->will_retain) && o->will_topic == NULL) {
        fprintf(stderr, "mote: will options need --will-topic\n");
        return MOTE_EXIT_ERROR;
    }
    if ((o->user_count > 0 || o->prop_count > 0) && o->version != MOTE_MQTT_VERSION_5) {
        fprintf(stderr, "mote: properties (--property, -D) need -V mqttv5\n");
        return MOTE_EXIT_ERROR;
    }
    for (i = 0; i < o->prop_count; i++) {
        if (o->props[i].packet == MOTE_CLI_PKT_WILL && o->will_topic == NULL) {
            fprintf(stderr, "mote: -D will needs --will-topic\n");
            return MOTE_EXIT_ERROR;
        }
    }
    if (!check_props(o)) {
        return MOTE_EXIT_ERROR;
    }
    if (mode == MOTE_CLI_PUB) {
        int sources = (o->message != NULL) + (o->file != NULL) + o->lines + o->stdin_whole +
                      o->null_message;
        if (sources != 1) {
            fprintf(stderr, "mote: give exactly one of -m, -f, -l, -s, -n\n");
            return MOTE_EXIT_ERROR;
        }
    }
    return 0;
}

/* ---- Errors ------------------------------------------------------------------------ */

int mote_cli_exit_code(int err)
{
    switch (err) {
    case MOTE_OK:
        return MOTE_EXIT_OK;
    case MOTE_ERR_CONNACK_REFUSED:
        return MOTE_EXIT_REFUSED;
    case MOTE_ERR_TIMEOUT:
    case MOTE_ERR_KEEPALIVE_TIMEOUT:
        return MOTE_EXIT_TIMEOUT;
    case MOTE_ERR_CLOSED:
    case MOTE_ERR_TRANSPORT:
    case MOTE_ERR_NOT_CONNECTED:
    case MOTE_ERR_SERVER_DISCONNECT:
        return MOTE_EXIT_LOST;
    case MOTE_ERR_RESOLVE:
    case MOTE_ERR_CONNECT:
        return MOTE_EXIT_NETWORK;
    case MOTE_ERR_PACKET_TOO_LARGE:
        /* We announce no maximum packet size: this is our receive buffer (or, for our own
         * requests, the broker's announced maximum), not a broker fault. */
        return MOTE_EXIT_ERROR;
    default:
        break;
    }
    if (err <= MOTE_ERR_MALFORMED && err >= MOTE_ERR_BAD_PROTOCOL) {
        return MOTE_EXIT_PROTOCOL;
    }
    if (err == MOTE_ERR_PROTOCOL || err == MOTE_ERR_UNKNOWN_PACKET_ID ||
        err == MOTE_ERR_TOPIC_ALIAS || err == MOTE_ERR_OVERSIZE_REJECTED) {
        return MOTE_EXIT_PROTOCOL;
    }
    if (err <= MOTE_ERR_TLS && err >= MOTE_ERR_TLS_BAD_CERT) {
        return MOTE_EXIT_NETWORK;
    }
    return MOTE_EXIT_ERROR;
}

/* A phrase saying which class of failure an error belongs to. */
static const char *err_class(int err)
{
    switch (mote_cli_exit_code(err)) {
    case MOTE_EXIT_LOST: return "connection lost";
    case MOTE_EXIT_PROTOCOL: return "malformed packet or protocol error from the broker";
    case MOTE_EXIT_TIMEOUT: return "timeout";
    case MOTE_EXIT_NETWORK: return "network error";
    default: return NULL;
    }
}

int mote_cli_fail(const mote_cli_session_t *s, const char *what, int err)
{
    bool quiet = s != NULL && s->opts != NULL && s->opts->quiet;
    if (!quiet) {
        const char *cls = err_class(err);
        if (err == MOTE_ERR_PACKET_TOO_LARGE) {
            /* What the core reports when an incoming packet, or a PUBLISH's topic and
             * properties, do not fit in rx_buf (larger payloads are streamed). */
            fprintf(stderr, "mote: %s: the broker sent a message header (topic and properties) "
                            "or packet larger than the receive buffer (--rx-buffer %u; at most "
                            "%u) (%d)\n",
                    what, s != NULL && s->opts != NULL ? (unsigned)s->opts->rx_cap : 0u,
                    (unsigned)(CLI_RX_MAX - 1), err);
        } else if (err == MOTE_ERR_SERVER_DISCONNECT && s != NULL && s->server_disconnect) {
            fprintf(stderr, "mote: %s: connection lost: broker sent DISCONNECT: %s (0x%02x)\n",
                    what, mote_mqtt_reason_string(s->disconnect_reason),
                    (unsigned)s->disconnect_reason);
        } else if (cls != NULL) {
            /* TLS errors after the handshake (TLS 1.3 reports a refused client certificate
             * there) carry the adapter's detail: which alert, what to pass; so does a
             * connection the server closed (whether with close_notify). */
            const char *text = (s != NULL && s->conn.tls != NULL &&
                                ((err <= MOTE_ERR_TLS && err >= MOTE_ERR_TLS_BAD_CERT) ||
                                 err == MOTE_ERR_CLOSED) &&
                                strcmp(mote_tls_last_error(s->conn.tls), "no error") != 0)
                                   ? mote_tls_last_error(s->conn.tls)
                                   : mote_strerror(err);
            fprintf(stderr, "mote: %s: %s: %s (%d)\n", what, cls, text, err);
        } else {
            fprintf(stderr, "mote: %s: %s (%d)\n", what, mote_strerror(err), err);
        }
    }
    return mote_cli_exit_code(err);
}

int mote_cli_fail_request(const mote_cli_session_t *s, const char *what, int err)
{
    bool quiet = s != NULL && s->opts != NULL && s->opts->quiet;
    const char *why;
    switch (err) {
    case MOTE_ERR_BAD_TOPIC: why = "invalid topic or filter"; break;
    case MOTE_ERR_BAD_UTF8: why = "a string to send is not valid UTF-8"; break;
    case MOTE_ERR_BAD_PROPERTY: why = "invalid property"; break;
    case MOTE_ERR_BAD_QOS: why = "QoS above the broker's maximum QoS"; break;
    case MOTE_ERR_UNSUPPORTED: why = "the broker does not support retained messages"; break;
    case MOTE_ERR_PACKET_TOO_LARGE:
        why = "the packet is larger than the broker's maximum packet size";
        break;
    case MOTE_ERR_BUFFER_TOO_SMALL:
        why = "the topic and properties do not fit in the send buffer";
        break;
    default:
        return mote_cli_fail(s, what, err);
    }
    if (!quiet) {
        fprintf(stderr, "mote: %s: %s (%d)\n", what, why, err);
    }
    return MOTE_EXIT_ERROR;
}

/* ---- Session ----------------------------------------------------------------------- */

static const char *packet_name(uint8_t type)
{
    static const char *const names[16] = {
        "RESERVED", "CONNECT", "CONNACK", "PUBLISH", "PUBACK", "PUBREC", "PUBREL", "PUBCOMP",
        "SUBSCRIBE", "SUBACK", "UNSUBSCRIBE", "UNSUBACK", "PINGREQ", "PINGRESP", "DISCONNECT",
        "AUTH"
    };
    return names[type & 15u];
}

/* -d: one line per packet, in mosquitto's "Client ID sending TYPE" style. */
static void on_trace(void *user, char dir, const uint8_t *packet, size_t len)
{
    const mote_cli_session_t *s = user;
    uint8_t type;
    if (len == 0) {
        return;
    }
    type = (uint8_t)(packet[0] >> 4);
    if (type == MOTE_MQTT_PUBLISH) {
        fprintf(stderr, "Client %s %s %s (d%u, q%u, r%u, %zu bytes)\n", s->client_id,
                dir == 'S' ? "sending" : "received", packet_name(type),
                (unsigned)((packet[0] >> 3) & 1u), (unsigned)((packet[0] >> 1) & 3u),
                (unsigned)(packet[0] & 1u), len);
    } else {
        fprintf(stderr, "Client %s %s %s (%zu bytes)\n", s->client_id,
                dir == 'S' ? "sending" : "received", packet_name(type), len);
    }
}

static void on_event(void *user, const mote_mqtt_event_t *evt)
{
    mote_cli_session_t *s = user;
    if (evt->type == MOTE_MQTT_EVT_DISCONNECT) {
        s->server_disconnect = true;
        s->disconnect_reason = evt->u.ack.reason_code;
    }
    if (s->on_event != NULL) {
        s->on_event(s->user, evt);
    }
}

/* Transport wrapper: remembers whether the last write left bytes behind, so the loop
 * waits for the socket to become writable instead of for input only. */
static int32_t watch_send(void *ctx, const mote_iovec_t *iov, size_t iovcnt)
{
    mote_cli_session_t *s = ctx;
    size_t want = 0, i;
    int32_t r = s->conn.transport.send(s->conn.transport.ctx, iov, iovcnt);
    for (i = 0; i < iovcnt; i++) {
        want += iov[i].len;
    }
    s->tx_pending = r >= 0 && (size_t)r < want;
    if (r > 0) {
        s->tx_taken += (uint64_t)r;
    }
    return r;
}

static int32_t watch_recv(void *ctx, uint8_t *buf, size_t len)
{
    mote_cli_session_t *s = ctx;
    /* mote_mqtt_connect waits for CONNACK in reads of at most recv_wait_ms: failing the
     * next one ends that wait promptly on Ctrl-C instead of at the connect timeout. */
    if (s->connecting && mote_cli_interrupted()) {
        return MOTE_ERR_TRANSPORT;
    }
    return s->conn.transport.recv(s->conn.transport.ctx, buf, len);
}

mote_mqtt_props_t mote_cli_props(const mote_cli_opts_t *o, unsigned packet, uint8_t *buf,
                                 size_t cap)
{
    mote_mqtt_props_builder_t b;
    mote_mqtt_props_init(&b, buf, cap);
    if (o->version == MOTE_MQTT_VERSION_5 && !add_props(o, packet, &b)) {
        exit(MOTE_EXIT_ERROR); /* (checked by mote_cli_parse: cannot happen) */
    }
    return mote_mqtt_props_view(&b);
}

int mote_cli_open(mote_cli_session_t *s, const mote_cli_opts_t *o,
                  void (*on_evt)(void *user, const mote_mqtt_event_t *evt), void *user,
                  uint32_t timeout_ms)
{
    char errbuf[256];
    mote_mqtt_connect_opts_t co;
    static mote_mqtt_will_t will;
    int err;
    mote_cli_net_opts_t net = o->net;

    memset(s, 0, sizeof *s);
    s->opts = o;
    s->on_event = on_evt;
    s->user = user;
    if (o->client_id != NULL) {
        size_t n = strlen(o->client_id); /* at most MOTE_CLI_MAX_CLIENT_ID (mote_cli_parse) */
        if (n >= sizeof s->client_id) {
            fprintf(stderr, "mote: client id too long\n");
            return MOTE_EXIT_ERROR;
        }
        memcpy(s->client_id, o->client_id, n + 1);
    } else {
        snprintf(s->client_id, sizeof s->client_id, "mote-%ld", (long)getpid());
    }

    if (timeout_ms != 0 && timeout_ms < net.connect_timeout_ms) {
        net.connect_timeout_ms = timeout_ms;
    }
    errbuf[0] = '\0';
    g_interrupt_line = o->quiet ? NULL : k_interrupted_connect;
    g_interrupt_line_len = sizeof k_interrupted_connect - 1;
    g_exit_on_interrupt = mote_cli_interrupt_exit(o);
    if (mote_cli_interrupted()) { /* came before the handler could exit */
        g_exit_on_interrupt = -1;
        if (!o->quiet) {
            fputs(k_interrupted_connect, stderr);
        }
        return MOTE_CLI_OPEN_INTERRUPTED;
    }
    err = mote_cli_net_open(&net, &s->conn, errbuf, sizeof errbuf);
    g_exit_on_interrupt = -1;
    if (err != MOTE_OK) {
        if (!o->quiet) {
            if (errbuf[0] != '\0') {
                fprintf(stderr, "mote: %s\n", errbuf);
            } else {
                fprintf(stderr, "mote: cannot connect to %s: %s\n", net.host, mote_strerror(err));
            }
        }
        if (err == MOTE_ERR_FILE || err == MOTE_ERR_BAD_ARG) {
            return MOTE_EXIT_ERROR; /* a missing key file or a bad flag, not the network */
        }
        return mote_cli_exit_code(err) == MOTE_EXIT_ERROR ? MOTE_EXIT_NETWORK
                                                            : mote_cli_exit_code(err);
    }
    s->net_open = true;

    s->transport.send = watch_send;
    s->transport.recv = watch_recv;
    s->transport.ctx = s;
    s->cfg.transport = &s->transport;
    s->cfg.clock = mote_posix_clock_ms;
    s->cfg.rx_buf = g_rx;
    s->cfg.rx_cap = o->rx_cap;
    s->cfg.tx_buf = g_tx;
    s->cfg.tx_cap = sizeof g_tx;
    s->cfg.inflight = g_inflight;
    s->cfg.inflight_count = o->max_inflight;
    s->cfg.qos2_rx_ids = g_qos2_rx;
    s->cfg.qos2_rx_count = (uint16_t)(sizeof g_qos2_rx / sizeof g_qos2_rx[0]);
    if (o->version == MOTE_MQTT_VERSION_5) {
        s->cfg.rx_topic_aliases = g_rx_aliases;
        s->cfg.rx_topic_alias_count = (uint16_t)(sizeof g_rx_aliases / sizeof g_rx_aliases[0]);
        s->cfg.rx_alias_store = g_rx_alias_store;
        s->cfg.rx_alias_slot_size = (uint16_t)(sizeof g_rx_alias_store / s->cfg.rx_topic_alias_count);
    }
    s->cfg.on_event = on_event;
    s->cfg.user = s;
    if (o->debug) {
        s->cfg.on_trace = on_trace;
    }
    err = mote_mqtt_init(&s->client, &s->cfg);
    if (err != MOTE_OK) {
        mote_cli_close(s);
        return mote_cli_fail(s, "client setup", err);
    }

    memset(&co, 0, sizeof co);
    co.version = o->version;
    co.client_id = mote_bytes_cstr(s->client_id);
    co.clean_start = o->clean;
    co.keep_alive_s = o->keep_alive_s;
    if (o->will_topic != NULL) {
        memset(&will, 0, sizeof will);
        will.topic = mote_bytes_cstr(o->will_topic);
        will.payload = mote_bytes_cstr(o->will_payload != NULL ? o->will_payload : "");
        will.qos = o->will_qos;
        will.retain = o->will_retain;
        will.props = mote_cli_props(o, MOTE_CLI_PKT_WILL, g_will_props, sizeof g_will_props);
        co.will = &will;
    }
    if (o->username != NULL) {
        co.username = mote_bytes_cstr(o->username);
    }
    if (o->password != NULL) {
        co.password = mote_bytes_cstr(o->password);
    }
    if (o->version == MOTE_MQTT_VERSION_5) {
        if (o->session_expiry_set) {
            co.session_expiry_s = o->session_expiry_s;
        } else if (!o->clean) {
            co.session_expiry_s = 0xFFFFFFFFu; /* -c alone: keep the session, like mosquitto */
        }
        co.extra_props = mote_cli_props(o, MOTE_CLI_PKT_CONNECT, g_connect_props,
                                        sizeof g_connect_props);
    }
    /* net.connect_timeout_ms: --connect-timeout, or timeout_ms (-W) when that is shorter. */
    s->connecting = true;
    err = mote_mqtt_connect(&s->client, &co, net.connect_timeout_ms, &s->info);
    s->connecting = false;
    if (err != MOTE_OK && mote_cli_interrupted()) {
        if (!o->quiet) {
            fputs(k_interrupted_connect, stderr);
        }
        mote_mqtt_reset_connection(&s->client);
        mote_cli_close(s);
        return MOTE_CLI_OPEN_INTERRUPTED;
    }
    if (err == MOTE_ERR_CONNACK_REFUSED) {
        uint8_t rc = s->info.reason_code;
        if (!o->quiet) {
            if (o->version == MOTE_MQTT_VERSION_5) {
                fprintf(stderr, "mote: connection refused by broker: %s (reason code 0x%02x)%s\n",
                        mote_mqtt_reason_string(rc), (unsigned)rc,
                        rc == 0x84 ? "; if it speaks only MQTT 3.1.1, try -V mqttv311" : "");
            } else {
                fprintf(stderr, "mote: connection refused by broker: %s (return code %u)\n",
                        mote_mqtt_v311_connack_string(rc), (unsigned)rc);
            }
        }
        mote_mqtt_reset_connection(&s->client);
        mote_cli_close(s);
        return MOTE_EXIT_REFUSED;
    }
    if (err != MOTE_OK) {
        int code = mote_cli_fail(s, "connect", err);
        mote_mqtt_reset_connection(&s->client);
        mote_cli_close(s);
        return code;
    }
    if (o->debug) {
        fprintf(stderr, "Client %s connected (MQTT %s, session present %d, keep-alive %u s)\n",
                s->client_id, o->version == MOTE_MQTT_VERSION_5 ? "5" : "3.1.1",
                s->info.session_present ? 1 : 0, (unsigned)s->info.keep_alive_s);
        if (s->conn.tls != NULL) {
            const char *alpn = mote_tls_alpn(s->conn.tls);
            fprintf(stderr, "Client %s TLS: %s, %s, ALPN %s, session %s\n", s->client_id,
                    mote_tls_version(s->conn.tls), mote_tls_ciphersuite(s->conn.tls),
                    alpn != NULL ? alpn : "none",
                    mote_tls_resumed(s->conn.tls) ? "resumed" : "new");
        }
    }
    /* From here on the loop waits with poll, so reads must not wait themselves. */
    s->conn.tcp.recv_wait_ms = 0;
    return MOTE_EXIT_OK;
}

mote_err_t mote_cli_step(mote_cli_session_t *s, uint32_t wait_ms)
{
    /* Queued packets (SUBSCRIBE, coalesced PUBLISH, acks) go out before we sleep. */
    mote_err_t err = mote_mqtt_flush(&s->client);
    if (err != MOTE_OK && err != MOTE_ERR_NEED_MORE) {
        return err;
    }
    if (s->tx_pending) {
        struct pollfd p = { s->conn.tcp.fd, POLLIN | POLLOUT, 0 };
        (void)poll(&p, 1, (int)wait_ms);
    } else if (wait_ms > 0) {
        int w = mote_cli_net_wait(&s->conn, wait_ms);
        if (w < 0 && !mote_cli_interrupted()) {
            return (mote_err_t)w;
        }
    }
    err = mote_mqtt_process(&s->client, 0);
    return err == MOTE_ERR_NEED_MORE ? MOTE_OK : err;
}

size_t mote_cli_tx_left(const mote_cli_session_t *s)
{
    return mote_mqtt_tx_pending(&s->client) +
           (s->conn.tls != NULL ? mote_tls_pending(s->conn.tls) : 0u);
}

uint64_t mote_cli_tx_taken(const mote_cli_session_t *s)
{
    /* Over TLS, send takes a whole record into the transport's stage at once: what counts
     * is what the socket takes of it. */
    return s->conn.tls != NULL ? mote_tls_bytes_written(s->conn.tls) : s->tx_taken;
}

size_t mote_cli_tx_unsent(const mote_cli_session_t *s)
{
#if defined(SIOCOUTQ)
    int queued = 0;
    if (s->net_open && s->conn.tcp.fd >= 0 && ioctl(s->conn.tcp.fd, SIOCOUTQ, &queued) == 0 &&
        queued > 0) {
        return (size_t)queued;
    }
#else
    (void)s;
#endif
    return 0;
}

/* Write queued output until none is left, over TLS including the record the transport has
 * staged. MOTE_ERR_TIMEOUT when the socket takes no byte for idle_ms (a slow link that keeps
 * taking bytes never times out), or once total_ms have passed (0: no such limit).
 * stop_on_interrupt: SIGINT/SIGTERM ends the wait with MOTE_ERR_NEED_MORE, the rest left
 * unwritten. */
static mote_err_t flush_output(mote_cli_session_t *s, uint32_t idle_ms, uint32_t total_ms,
                               bool stop_on_interrupt)
{
    uint32_t start = mote_posix_clock_ms(NULL);
    uint32_t since = start;
    uint64_t taken = mote_cli_tx_taken(s);
    for (;;) {
        mote_err_t err = mote_mqtt_flush(&s->client);
        uint32_t now;
        uint64_t t;
        if (err == MOTE_OK && s->conn.tls != NULL && mote_tls_pending(s->conn.tls) > 0) {
            /* The client's queue is out; the last record is not yet: a send with no pieces
             * writes more of it. */
            int32_t r = s->conn.transport.send(s->conn.transport.ctx, NULL, 0);
            if (r < 0) {
                err = (mote_err_t)r;
            } else if (mote_tls_pending(s->conn.tls) > 0) {
                err = MOTE_ERR_NEED_MORE;
            }
        }
        now = mote_posix_clock_ms(NULL);
        if (err != MOTE_ERR_NEED_MORE) {
            if (err == MOTE_OK) {
                s->tx_pending = false;
            }
            return err;
        }
        if (stop_on_interrupt && mote_cli_interrupted()) {
            return MOTE_ERR_NEED_MORE;
        }
        t = mote_cli_tx_taken(s);
        if (t != taken) {
            taken = t;
            since = now;
        }
        if ((uint32_t)(now - since) >= idle_ms ||
            (total_ms > 0 && (uint32_t)(now - start) >= total_ms)) {
            return MOTE_ERR_TIMEOUT;
        }
        {
            struct pollfd p = { s->conn.tcp.fd, POLLOUT, 0 };
            (void)poll(&p, 1, 100);
        }
    }
}

mote_err_t mote_cli_flush_all(mote_cli_session_t *s, uint32_t idle_ms)
{
    return flush_output(s, idle_ms, 0, true);
}

/* After our DISCONNECT: read and discard until the broker closes (it does on DISCONNECT),
 * for at most timeout_ms. Closing a socket with unread input sends a TCP reset instead of
 * a FIN, and a broker that sees the reset may drop what it has not read yet from us: the
 * last acknowledgements (sub -C with messages beyond the count still arriving), even the
 * DISCONNECT, so the will would be published. */
static void drain_until_closed(mote_cli_session_t *s, uint32_t timeout_ms)
{
    uint8_t scratch[4096];
    uint32_t start = mote_posix_clock_ms(NULL);
    for (;;) {
        uint32_t spent = mote_posix_clock_ms(NULL) - start;
        int32_t r;
        if (spent >= timeout_ms || mote_cli_net_wait(&s->conn, timeout_ms - spent) <= 0) {
            return;
        }
        r = s->conn.transport.recv(s->conn.transport.ctx, scratch, sizeof scratch);
        if (r < 0) {
            return; /* closed by the broker (or failed): nothing more to wait for */
        }
    }
}

void mote_cli_disconnect_from_event(mote_cli_session_t *s)
{
    if (mote_mqtt_is_connected(&s->client)) {
        mote_err_t err = mote_mqtt_disconnect(&s->client, 0, (mote_mqtt_props_t){ NULL, 0 });
        s->disconnect_sent = err == MOTE_OK || err == MOTE_ERR_NEED_MORE;
    }
}

void mote_cli_close(mote_cli_session_t *s)
{
    /* Connected: send DISCONNECT. Already closing (an event handler disconnected): this
     * only writes what is left of that DISCONNECT. Disconnected (after a failure, or
     * that DISCONNECT is all written): nothing to send. */
    mote_err_t err = mote_mqtt_disconnect(&s->client, 0, (mote_mqtt_props_t){ NULL, 0 });
    if (err == MOTE_ERR_NEED_MORE) {
        /* Normally only the DISCONNECT is left. After Ctrl-C the rest of a large payload may
         * be too: the user asked to stop, so it gets 2 s in all, not as long as it moves. */
        err = flush_output(s, 2000, mote_cli_interrupted() ? 2000 : 0, false);
    }
    if (err == MOTE_ERR_NOT_CONNECTED && s->disconnect_sent) {
        err = MOTE_OK;
    }
    if (err == MOTE_OK && s->net_open) {
        drain_until_closed(s, 1000);
    }
    if (s->net_open) {
        mote_cli_net_close(&s->conn);
        s->net_open = false;
    }
}
