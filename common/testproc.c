/* testproc: fork, exec, wait and kill for the process tests, each bounded
 * in time so that a hung child fails a test instead of hanging it. */
#include "testproc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"

/* waitpid's answer while the child still runs. */
#define STILL_RUNNING (-2)

/* Milliseconds on the monotonic clock. */
static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sleeps ms milliseconds. */
static void nap_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    nanosleep(&ts, NULL);
}

/* Makes a sanitizer report in the child exit with 86, so that a leak on a
 * path that exits 1 cannot pass for an expected failure. */
static void sanitizer_exit_code(void)
{
    static const char *const vars[] = {"ASAN_OPTIONS", "LSAN_OPTIONS"};
    char value[1024];
    const char *old;
    size_t i;

    for (i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
        old = getenv(vars[i]);
        snprintf(value, sizeof(value), "%s%sexitcode=86",
                 old != NULL ? old : "", old != NULL && old[0] ? ":" : "");
        setenv(vars[i], value, 1);
    }
}

/* In the child, before exec: die with the test (a failed assertion ends
 * it early), report sanitizer errors distinctly, and send the streams
 * listed in mask (1 stdout, 2 stderr) to path. */
static void child_prepare(const char *path, int mask)
{
    int fd;

    prctl(PR_SET_PDEATHSIG, SIGKILL);
    sanitizer_exit_code();
    if (path == NULL)
        return;
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        _exit(127);
    if (mask & 1)
        dup2(fd, STDOUT_FILENO);
    if (mask & 2)
        dup2(fd, STDERR_FILENO);
    close(fd);
}

/* Turns a wait status into an exit status, or -1 for a signal. */
static int exit_status(int st)
{
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Waits for pid up to timeout_ms. Returns its exit status, -1 when it died
 * of a signal (or cannot be waited for), or STILL_RUNNING. */
static int wait_for(pid_t pid, int64_t timeout_ms)
{
    int64_t deadline = now_ms() + timeout_ms;
    int ret = STILL_RUNNING, st;
    pid_t w;

    for (;;) {
        w = waitpid(pid, &st, WNOHANG);
        if (w == pid) {
            ret = exit_status(st);
            break;
        }
        if (w < 0 && errno != EINTR) {
            ret = -1;
            break;
        }
        if (now_ms() >= deadline)
            break;
        nap_ms(2);
    }
    return ret;
}

/* Kills pid and reaps it: SIGKILL cannot be refused. */
static void kill_and_reap(pid_t pid)
{
    int st;

    kill(pid, SIGKILL);
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
}

/* Waits for pid up to timeout_ms, then kills it. Returns its exit status,
 * or -1 when it died of a signal or was killed. */
static int finish(pid_t pid, int64_t timeout_ms)
{
    int st = wait_for(pid, timeout_ms);

    if (st == STILL_RUNNING) {
        kill_and_reap(pid);
        st = -1;
    }
    return st;
}

/* Reads one line from fd, byte by byte so that nothing after it is
 * consumed, within timeout_ms. The line ending is dropped. Returns 0 or
 * -1 (timeout, end of file, or a line longer than n - 1). */
static int read_line(int fd, char *out, size_t n, int64_t timeout_ms)
{
    int err = -1;
    int64_t deadline = now_ms() + timeout_ms, left;
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    size_t len = 0;
    char c;

    while (len + 1 < n) {
        left = deadline - now_ms();
        if (left <= 0 || poll(&pfd, 1, (int)left) <= 0 || read(fd, &c, 1) != 1)
            goto out;
        if (c == '\n')
            break;
        out[len++] = c;
    }
    if (len + 1 >= n)
        goto out;
    if (len > 0 && out[len - 1] == '\r')
        len--;
    out[len] = '\0';
    err = 0;
out:
    return err;
}

/* Starts a server and reads where it listens. */
int testproc_start(struct testproc *p, char *const argv[], const char *log_path)
{
    static const char said[] = "listening on ";
    int err = -1, fds[2] = {-1, -1};
    char line[512];
    const char *at;

    p->pid = 0;
    p->out_fd = -1;
    p->url[0] = '\0';
    if (pipe(fds) != 0)
        goto out;
    p->pid = fork();
    if (p->pid < 0) {
        p->pid = 0;
        goto out;
    }
    if (p->pid == 0) {
        child_prepare(log_path, 2);
        dup2(fds[1], STDOUT_FILENO);
        close(fds[0]);
        close(fds[1]);
        execv(argv[0], argv);
        _exit(127);
    }
    close(fds[1]); /* else the child's exit would not end the read */
    fds[1] = -1;
    p->out_fd = fds[0]; /* p owns it now */
    fds[0] = -1;
    if (read_line(p->out_fd, line, sizeof(line), TESTPROC_START_MS) != 0)
        goto out;
    at = strstr(line, said);
    if (at == NULL || strlen(at + strlen(said)) >= sizeof(p->url))
        goto out;
    memcpy(p->url, at + strlen(said), strlen(at + strlen(said)) + 1);
    err = 0;
out:
    if (fds[0] >= 0)
        close(fds[0]);
    if (fds[1] >= 0)
        close(fds[1]);
    if (err != 0 && p->pid > 0)
        testproc_stop(p);
    return err;
}

/* SIGTERM, a bounded wait, then SIGKILL. */
int testproc_stop(struct testproc *p)
{
    int st = -1;

    if (p->pid > 0) {
        kill(p->pid, SIGTERM);
        st = finish(p->pid, TESTPROC_STOP_MS);
    }
    if (p->out_fd >= 0)
        close(p->out_fd);
    p->pid = 0;
    p->out_fd = -1;
    return st;
}

/* Runs argv to its end with its output in log_path. */
int testproc_run(char *const argv[], const char *log_path, double timeout_s,
                 double *elapsed_s)
{
    int64_t t0 = now_ms();
    int st = -1;
    pid_t pid = fork();

    if (pid == 0) {
        child_prepare(log_path, 3);
        execv(argv[0], argv);
        _exit(127);
    }
    if (pid > 0)
        st = finish(pid, (int64_t)(timeout_s * 1000));
    if (elapsed_s != NULL)
        *elapsed_s = (double)(now_ms() - t0) / 1000.0;
    return st;
}

/* Reads what is there on fd into b (past its cap, the bytes are dropped:
 * the child must not block on a full pipe). Returns false at end of file
 * or on an error. */
static bool drain(int fd, struct buf *b)
{
    char chunk[4096];
    ssize_t n = read(fd, chunk, sizeof(chunk));

    if (n > 0 && buf_append(b, chunk, (size_t)n) != 0)
        b->toobig = true; /* kept what fitted before */
    return n > 0 || (n < 0 && (errno == EINTR || errno == EAGAIN));
}

/* Runs argv to its end, keeping its stdout and stderr. */
int testproc_capture(char *const argv[], double timeout_s, char **out,
                     char **err)
{
    int64_t deadline = now_ms() + (int64_t)(timeout_s * 1000), left;
    int ofd[2] = {-1, -1}, efd[2] = {-1, -1}, st = -1;
    struct pollfd pfd[2];
    struct buf ob, eb;
    pid_t pid = -1;
    int i;

    buf_init(&ob, TESTPROC_CAPTURE_MAX);
    buf_init(&eb, TESTPROC_CAPTURE_MAX);
    if (pipe(ofd) != 0 || pipe(efd) != 0)
        goto out;
    pid = fork();
    if (pid < 0)
        goto out;
    if (pid == 0) {
        child_prepare(NULL, 0);
        dup2(ofd[1], STDOUT_FILENO);
        dup2(efd[1], STDERR_FILENO);
        close(ofd[0]);
        close(efd[0]);
        close(ofd[1]);
        close(efd[1]);
        execv(argv[0], argv);
        _exit(127);
    }
    close(ofd[1]);
    close(efd[1]);
    ofd[1] = efd[1] = -1;
    /* Both pipes at once: reading one to its end first could deadlock
     * against a child that fills the other. */
    pfd[0] = (struct pollfd){.fd = ofd[0], .events = POLLIN};
    pfd[1] = (struct pollfd){.fd = efd[0], .events = POLLIN};
    while ((pfd[0].fd >= 0 || pfd[1].fd >= 0) &&
           (left = deadline - now_ms()) > 0) {
        if (poll(pfd, 2, (int)left) < 0 && errno != EINTR)
            break;
        for (i = 0; i < 2; i++)
            if (pfd[i].fd >= 0 && pfd[i].revents != 0 &&
                !drain(pfd[i].fd, i == 0 ? &ob : &eb))
                pfd[i].fd = -1;
    }
    st = finish(pid, deadline - now_ms() > 0 ? deadline - now_ms() : 0);
out:
    for (i = 0; i < 2; i++) {
        if (ofd[i] >= 0)
            close(ofd[i]);
        if (efd[i] >= 0)
            close(efd[i]);
    }
    *out = buf_take(&ob, NULL);
    *err = buf_take(&eb, NULL);
    return st;
}
