/* The mote tool: dispatch to a command (pub, sub, json, ...). */
#include <stdio.h>
#include <string.h>

#include "cli_common.h"
#include "cmd_json.h"
#include "cmd_pub.h"
#include "cmd_sub.h"

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} command_t;

static const command_t k_commands[] = {
    { "pub", mote_cmd_pub, "publish messages (mosquitto_pub flags)" },
    { "sub", mote_cmd_sub, "subscribe and print messages (mosquitto_sub flags)" },
    { "json", mote_cmd_json, "validate and query JSON" },
};

static void usage(FILE *out)
{
    size_t i;
    fputs("Usage: mote COMMAND [options]\n\nCommands:\n", out);
    for (i = 0; i < sizeof k_commands / sizeof k_commands[0]; i++) {
        fprintf(out, "  %-6s %s\n", k_commands[i].name, k_commands[i].summary);
    }
    fputs("\n'mote COMMAND --help' shows a command's options.\n"
          "  --version  print the version\n", out);
}

int main(int argc, char **argv)
{
    size_t i;
    if (argc < 2) {
        usage(stderr);
        return MOTE_EXIT_ERROR;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return MOTE_EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
        printf("mote %s\n", MOTE_VERSION_STRING);
        return MOTE_EXIT_OK;
    }
    for (i = 0; i < sizeof k_commands / sizeof k_commands[0]; i++) {
        if (strcmp(argv[1], k_commands[i].name) == 0) {
            return k_commands[i].run(argc - 1, argv + 1);
        }
    }
    fprintf(stderr, "mote: unknown command '%s' (see mote --help)\n", argv[1]);
    return MOTE_EXIT_ERROR;
}
