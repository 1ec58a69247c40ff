/* test_lifecycle: nexus-mock's start and stop as a real process: a ready
 * line that cannot be written fails the start. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "buf.h"
#include "testutil.h"

/* What the mock's stdout is in run_without_stdout. */
enum stdout_kind {
    STDOUT_CLOSED,   /* no descriptor 1 at all */
    STDOUT_FULL,     /* /dev/full: every write fails (ENOSPC) */
    STDOUT_READONLY, /* opened for reading only: writes fail (EBADF) */
};

/* Starts nexus-mock with stdout as kind says and its stderr into a pipe,
 * and waits at most 5 s for it to exit. Returns its exit status, or -1
 * when it was still running (then it is killed) or died of a signal. Its
 * stderr goes to *err (free()). */
static int run_without_stdout(enum stdout_kind kind, char **err)
{
    const char *bin = getenv("NEXUS_MOCK_BIN");
    int fds[2], status = -1, i;
    struct buf b;
    char chunk[512];
    ssize_t n;
    pid_t pid;

    assert_non_null(bin);
    assert_int_equal(pipe(fds), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(fds[1], 2);
        close(fds[0]);
        close(fds[1]);
        close(1);
        if (kind == STDOUT_FULL)
            open("/dev/full", O_WRONLY); /* takes descriptor 1 */
        else if (kind == STDOUT_READONLY)
            open("/dev/null", O_RDONLY);
        execl(bin, bin, "--port", "0", "--host", "127.0.0.1", (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    for (i = 0; i < 500; i++) {
        struct timespec ts = {0, 10 * 1000000L};

        if (waitpid(pid, &status, WNOHANG) == pid)
            break;
        nanosleep(&ts, NULL);
    }
    if (i == 500) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        status = -1;
    } else {
        status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    buf_init(&b, 1 << 16);
    while ((n = read(fds[0], chunk, sizeof(chunk))) > 0)
        if (buf_append(&b, chunk, (size_t)n) != 0)
            break;
    close(fds[0]);
    *err = buf_take(&b, NULL);
    assert_non_null(*err);
    return status;
}

/* Without a stdout to say where it listens, the mock must not serve
 * silently: it says why on stderr and exits 1 at once. */
static void test_no_stdout_fails_at_start(void **state)
{
    static const enum stdout_kind kinds[] = {STDOUT_CLOSED, STDOUT_FULL,
                                             STDOUT_READONLY};
    size_t k;

    (void)state;
    for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
        char *err = NULL;
        int status = run_without_stdout(kinds[k], &err);

        fprintf(stderr, "# stdout kind %zu: exit %d, stderr: %s", k, status,
                err);
        assert_int_equal(status, 1);
        assert_non_null(strstr(err, "nexus-mock: "));
        assert_non_null(strstr(err, "stdout"));
        free(err);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_stdout_fails_at_start),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
