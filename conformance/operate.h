/* operate: one whole run of nexus-conform, from argv to the exit status:
 * options, transport, engine, terminal lines and report files. */
#ifndef CONFORM_OPERATE_H
#define CONFORM_OPERATE_H

/* Exit statuses, as the CLI documents them. */
#define EXIT_ALL_PASSED 0
#define EXIT_CHECK_FAILED 1
#define EXIT_USAGE 2

/* Runs nexus-conform and returns its exit status. */
int operate_main(int argc, char *argv[]);

#endif
