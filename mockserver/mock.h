/* mock: the nexus-mock program as a function, so main.c stays thin and
 * tests can drive the whole CLI. */
#ifndef NEXUS_MOCK_H
#define NEXUS_MOCK_H

/* Runs nexus-mock with argv; returns the process exit status. Blocks
 * SIGINT and SIGTERM and waits for one of them to stop the server. */
int mock_main(int argc, char **argv);

#endif
