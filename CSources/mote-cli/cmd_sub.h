/* mote sub: subscribe and print messages like mosquitto_sub. */
#ifndef MOTE_CMD_SUB_H
#define MOTE_CMD_SUB_H

/* argv[0] is "sub". Returns the process exit code (see cli_common.h). */
int mote_cmd_sub(int argc, char **argv);

#endif
