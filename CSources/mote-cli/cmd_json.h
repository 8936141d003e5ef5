/* mote json: validate a JSON document, read a value by path, list an object's keys. */
#ifndef MOTE_CMD_JSON_H
#define MOTE_CMD_JSON_H

/* argv[0] is "json". Returns the process exit code: 0 success, 1 invalid JSON or path not
 * found (a message on stderr), 2 usage or I/O error. */
int mote_cmd_json(int argc, char **argv);

#endif
