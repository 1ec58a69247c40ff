/* testproc: the process plumbing of every process test: start a server on
 * a free port and read the URL it says it listens on, stop it by PID, run
 * a program to its end with its output kept. Linked by the tests only. */
#ifndef NEXUS_TESTPROC_H
#define NEXUS_TESTPROC_H

#include <sys/types.h>

/* How long a server may take to print where it listens. */
#define TESTPROC_START_MS 10000
/* How long a server may take to exit after SIGTERM before it is killed
 * (the mock promises 2 s; this is that promise with room for a sanitizer
 * build on a loaded machine). */
#define TESTPROC_STOP_MS 5000
/* What testproc_capture keeps of each output. */
#define TESTPROC_CAPTURE_MAX ((size_t)16 << 20)

/* A started server. A plain data carrier filled by testproc_start. */
struct testproc {
    pid_t pid;     /* 0 when not running */
    int out_fd;    /* the child's stdout past the listening line, held open
                      so that later writes do not fail; -1 when none */
    char url[256]; /* what followed "listening on " */
};

/* Starts argv[0] (a path) with argv (NULL-terminated). argv should make
 * it listen on a free port (--port 0) and say so on its first stdout line,
 * "... listening on URL". Its stderr goes to log_path (truncated), or stays
 * the test's when log_path is NULL. The child is killed if the test dies,
 * and a sanitizer report in it exits 86, a status no program here uses.
 * Returns 0, or -1 (a child that started is stopped again). */
int testproc_start(struct testproc *p, char *const argv[],
                   const char *log_path);
/* Stops a started server: SIGTERM, then SIGKILL after TESTPROC_STOP_MS.
 * Returns its exit status, or -1 when it died of a signal, had to be
 * killed, or was not running. p is empty afterwards. */
int testproc_stop(struct testproc *p);
/* Runs argv (argv[0] a path) to its end with stdout and stderr into
 * log_path, killing it after timeout_s. Returns its exit status, or -1
 * when it could not start, was killed or died of a signal. *elapsed_s,
 * when not NULL, gets the wall time. */
int testproc_run(char *const argv[], const char *log_path, double timeout_s,
                 double *elapsed_s);
/* Runs argv to its end, killing it after timeout_s, with its stdout and
 * stderr (at most TESTPROC_CAPTURE_MAX bytes of each) returned in *out and
 * *err: new strings the caller frees (never NULL unless out of memory).
 * Returns its exit status, or -1 as testproc_run. */
int testproc_capture(char *const argv[], double timeout_s, char **out,
                     char **err);

#endif
