/* mote pub: publish messages like mosquitto_pub. */
#ifndef MOTE_CMD_PUB_H
#define MOTE_CMD_PUB_H

/* argv[0] is "pub". Returns the process exit code (see cli_common.h). */
int mote_cmd_pub(int argc, char **argv);

#endif
