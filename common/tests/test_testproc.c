/* test_testproc: the harness itself, on small /bin/sh servers: the URL is
 * read, the exit status comes back, a child that ignores SIGTERM is killed
 * within the bound, and output is captured whole from both pipes. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "testproc.h"

/* A shell server: says where it listens, then idles until SIGTERM runs its
 * trap. */
#define SERVE(trap, extra)                                                     \
    "trap '" trap "' TERM; " extra "echo 'sh listening on "                    \
    "http://127.0.0.1:1/x'; while :; do sleep 0.05; done"

/* Runs script with /bin/sh -c. */
static int start_sh(struct testproc *p, const char *script, const char *log)
{
    char *argv[] = {"/bin/sh", "-c", (char *)script, NULL};

    return testproc_start(p, argv, log);
}

/* True when this process has no child left to reap. */
static bool no_children(void)
{
    return waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD;
}

/* Makes a temporary file name in buf. */
static const char *temp_path(char *buf, size_t n)
{
    int fd;

    snprintf(buf, n, "/tmp/nexus-testproc-XXXXXX");
    fd = mkstemp(buf);
    assert_true(fd >= 0);
    close(fd);
    return buf;
}

/* Reads a small file into a new string. */
static char *slurp(const char *path)
{
    char *s = calloc(1, 4096);
    FILE *f = fopen(path, "r");

    assert_non_null(s);
    assert_non_null(f);
    assert_true(fread(s, 1, 4095, f) < 4095);
    fclose(f);
    return s;
}

/* The URL is what follows "listening on "; SIGTERM's exit status comes
 * back. */
static void test_start_stop(void **state)
{
    struct testproc p;

    (void)state;
    assert_int_equal(start_sh(&p, SERVE("exit 3", ""), NULL), 0);
    assert_true(p.pid > 0);
    assert_true(p.out_fd >= 0);
    assert_string_equal(p.url, "http://127.0.0.1:1/x");
    assert_int_equal(testproc_stop(&p), 3);
    assert_int_equal(p.pid, 0);
    assert_int_equal(p.out_fd, -1);
    assert_true(no_children());
    /* Stopping again is harmless. */
    assert_int_equal(testproc_stop(&p), -1);
}

/* A child that ignores SIGTERM is killed after the bound. */
static void test_stop_kills(void **state)
{
    struct testproc p;

    (void)state;
    assert_int_equal(start_sh(&p, SERVE("", ""), NULL), 0);
    assert_int_equal(testproc_stop(&p), -1);
    assert_true(no_children());
}

/* A child that exits, or says something else first, is a failed start,
 * and nothing is left behind. */
static void test_bad_start(void **state)
{
    struct testproc p;
    struct timespec t0, t1;

    (void)state;
    /* Fast: the end of its output is seen, not the start timeout. */
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(start_sh(&p, "exit 5", NULL), -1);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    assert_true(t1.tv_sec - t0.tv_sec < 2);
    assert_int_equal(p.pid, 0);
    assert_true(no_children());
    assert_int_equal(start_sh(&p, "echo hello; exec sleep 30", NULL), -1);
    assert_int_equal(p.pid, 0);
    assert_true(no_children());
}

/* stderr goes to the log; stdout stays with the harness. */
static void test_start_logged(void **state)
{
    struct testproc p;
    char path[64];
    char *log;

    (void)state;
    temp_path(path, sizeof(path));
    assert_int_equal(start_sh(&p, SERVE("exit 0", "echo oops >&2; "), path), 0);
    assert_int_equal(testproc_stop(&p), 0);
    log = slurp(path);
    assert_string_equal(log, "oops\n");
    free(log);
    remove(path);
}

/* run: the exit status and both outputs in the log; killed at the
 * timeout. */
static void test_run(void **state)
{
    char *ok[] = {"/bin/sh", "-c", "echo out; echo err >&2; exit 4", NULL};
    char *slow[] = {"/bin/sh", "-c", "exec sleep 30", NULL};
    char path[64];
    double took = -1;
    char *log;

    (void)state;
    temp_path(path, sizeof(path));
    assert_int_equal(testproc_run(ok, path, 10, &took), 4);
    assert_true(took >= 0 && took < 10);
    log = slurp(path);
    assert_string_equal(log, "out\nerr\n");
    free(log);
    assert_int_equal(testproc_run(slow, path, 0.2, &took), -1);
    assert_true(took < 5);
    assert_true(no_children());
    remove(path);
}

/* capture: both outputs whole, even when each is larger than a pipe holds
 * (reading one to its end first would deadlock); the sanitizer exit code
 * is set in the child; killed at the timeout. */
static void test_capture(void **state)
{
    char *small[] = {"/bin/sh", "-c",
                     "printf out; printf err >&2; echo \"$ASAN_OPTIONS\" >&2; "
                     "exit 2",
                     NULL};
    char *big[] = {"/bin/sh", "-c",
                   "yes e | head -c 300000 >&2; yes o | head -c 200000", NULL};
    char *slow[] = {"/bin/sh", "-c", "exec sleep 30", NULL};
    char *out = NULL, *err = NULL;

    (void)state;
    assert_int_equal(testproc_capture(small, 10, &out, &err), 2);
    assert_string_equal(out, "out");
    assert_non_null(strstr(err, "exitcode=86"));
    assert_memory_equal(err, "err", 3);
    free(out);
    free(err);
    assert_int_equal(testproc_capture(big, 10, &out, &err), 0);
    assert_int_equal(strlen(out), 200000);
    assert_int_equal(strlen(err), 300000);
    assert_memory_equal(out, "o\no\n", 4);
    free(out);
    free(err);
    assert_int_equal(testproc_capture(slow, 0.2, &out, &err), -1);
    assert_string_equal(out, "");
    assert_string_equal(err, "");
    free(out);
    free(err);
    assert_true(no_children());
}

/* Runs the tests of this file. */
int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_start_stop), cmocka_unit_test(test_stop_kills),
        cmocka_unit_test(test_bad_start),  cmocka_unit_test(test_start_logged),
        cmocka_unit_test(test_run),        cmocka_unit_test(test_capture),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
