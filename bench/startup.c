/* startup: starts a server command, times it from exec to its "listening
 * on http://..." line and to the end of its first chat answer, reads its
 * idle resident memory, and stops it. Prints one JSON object on stdout. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "benchutil.h"
#include "options.h"

/* How long the server gets to say it is listening, and to answer. */
#define STARTUP_TIMEOUT_MS 5000
#define READY_MARK "listening on "

extern char **environ;

static const char usage_text[] =
    "Usage: nexus-startup --key KEY --model M [--idle-ms MS] -- COMMAND "
    "[ARGS...]\n"
    "Runs COMMAND (which must print 'listening on http://A.B.C.D:PORT'),\n"
    "sends it one chat completion, waits MS (default 100) and prints\n"
    "{\"ready_ms\",\"first_answer_ms\",\"status\",\"idle_rss_kb\"}.\n";

struct startup_opts {
    const char *key, *model;
    unsigned idle_ms;
    char **command;
};

/* Reads the child's stdout until the ready line; fills url. Returns 0 or
 * -1 (timeout, or the output ended first). */
static int wait_ready(int fd, char *url, size_t urllen)
{
    char text[1024];
    size_t len = 0;
    uint64_t deadline = bench_now_us() + STARTUP_TIMEOUT_MS * 1000u;

    while (len < sizeof(text) - 1) {
        struct pollfd pfd = {fd, POLLIN, 0};
        uint64_t now = bench_now_us();
        char *mark, *eol;
        ssize_t r;

        if (now >= deadline ||
            poll(&pfd, 1, (int)((deadline - now) / 1000u) + 1) <= 0)
            return -1;
        if ((r = read(fd, text + len, sizeof(text) - 1 - len)) <= 0)
            return -1;
        len += (size_t)r;
        text[len] = '\0';
        mark = strstr(text, READY_MARK);
        if (mark != NULL && (eol = strchr(mark, '\n')) != NULL) {
            mark += strlen(READY_MARK);
            snprintf(url, urllen, "%.*s", (int)(eol - mark), mark);
            return 0;
        }
    }
    return -1;
}

/* Sends one chat completion and reads the answer to its end (the server
 * closes: Connection: close). Returns the HTTP status, or -1. */
static int first_answer(const char *url, const struct startup_opts *o)
{
    struct bench_target t;
    struct timeval tv = {STARTUP_TIMEOUT_MS / 1000, 0};
    char *body = NULL, *req = NULL, buf[16384], head[32];
    size_t len = 0, got = 0;
    int fd = -1, status = -1;
    ssize_t r;

    if (bench_target_parse(url, &t) != 0)
        goto out;
    if ((body = bench_chat_body(o->model, false, 0)) == NULL ||
        (req = bench_request_new(&t, "POST", "/v1/chat/completions", o->key,
                                 body, true, &len)) == NULL)
        goto out;
    if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
        goto out;
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    if (connect(fd, (struct sockaddr *)&t.addr, sizeof(t.addr)) != 0 ||
        send(fd, req, len, MSG_NOSIGNAL) != (ssize_t)len)
        goto out;
    /* Only the start of the status line is kept; the rest is dropped. */
    while ((r = recv(fd, buf, sizeof(buf), 0)) > 0) {
        size_t take = sizeof(head) - 1 - got;

        if (take > (size_t)r)
            take = (size_t)r;
        memcpy(head + got, buf, take);
        got += take;
    }
    if (r < 0)
        goto out;
    head[got] = '\0';
    if (got >= 12 && strncmp(head, "HTTP/1.", 7) == 0)
        status = (int)strtol(head + 9, NULL, 10);
out:
    if (fd >= 0)
        close(fd);
    free(body);
    free(req);
    return status;
}

/* Stops the child: SIGTERM, then SIGKILL after the timeout. Returns its
 * exit status, or -1. */
static int stop_child(pid_t pid)
{
    uint64_t deadline = bench_now_us() + STARTUP_TIMEOUT_MS * 1000u;
    int ws;

    kill(pid, SIGTERM);
    while (waitpid(pid, &ws, WNOHANG) == 0) {
        struct timespec ts = {0, 5000000L};

        if (bench_now_us() > deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &ws, 0);
            return -1;
        }
        nanosleep(&ts, NULL);
    }
    return WIFEXITED(ws) ? WEXITSTATUS(ws) : -1;
}

/* Parses argv; returns 0, or -1 after printing why. */
static int parse_args(int argc, char **argv, struct startup_opts *o)
{
    unsigned long long v;
    int i;

    memset(o, 0, sizeof(*o));
    o->idle_ms = 100;
    for (i = 1; i + 1 < argc; i += 2) {
        const char *a = argv[i], *val = argv[i + 1];

        if (strcmp(a, "--") == 0)
            break;
        if (strcmp(a, "--key") == 0)
            o->key = val;
        else if (strcmp(a, "--model") == 0)
            o->model = val;
        else if (strcmp(a, "--idle-ms") == 0 &&
                 options_parse_uint(val, 0, 60000, &v) == 0)
            o->idle_ms = (unsigned)v;
        else
            break;
    }
    if (i + 1 >= argc || strcmp(argv[i], "--") != 0 || o->key == NULL ||
        o->model == NULL) {
        fputs(usage_text, stderr);
        return -1;
    }
    o->command = argv + i + 1;
    return 0;
}

int main(int argc, char **argv)
{
    struct startup_opts o;
    struct bench_proc proc;
    posix_spawn_file_actions_t fa;
    struct timespec idle;
    char url[256];
    int pipefd[2] = {-1, -1}, status = 1, http_status, exit_code;
    uint64_t t0, t_ready, t_answer;
    pid_t pid = -1;
    json_t *out = NULL;

    if (parse_args(argc, argv, &o) != 0)
        return 2;
    signal(SIGPIPE, SIG_IGN);
    if (pipe(pipefd) != 0)
        goto out;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, pipefd[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&fa, pipefd[0]);
    t0 = bench_now_us();
    errno = posix_spawn(&pid, o.command[0], &fa, NULL, o.command, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(pipefd[1]);
    if (errno != 0) {
        fprintf(stderr, "nexus-startup: cannot run %s: %s\n", o.command[0],
                strerror(errno));
        pid = -1;
        goto out;
    }
    if (wait_ready(pipefd[0], url, sizeof(url)) != 0) {
        fprintf(stderr, "nexus-startup: no ready line within %d ms\n",
                STARTUP_TIMEOUT_MS);
        goto out;
    }
    t_ready = bench_now_us();
    http_status = first_answer(url, &o);
    t_answer = bench_now_us();
    idle.tv_sec = o.idle_ms / 1000;
    idle.tv_nsec = (long)(o.idle_ms % 1000) * 1000000L;
    nanosleep(&idle, NULL);
    if (bench_proc_read(pid, &proc) != 0)
        memset(&proc, 0, sizeof(proc));
    exit_code = stop_child(pid);
    pid = -1;
    out = json_pack("{s:f, s:f, s:i, s:I, s:i}", "ready_ms",
                    (double)(t_ready - t0) / 1000.0, "first_answer_ms",
                    (double)(t_answer - t0) / 1000.0, "status", http_status,
                    "idle_rss_kb", (json_int_t)proc.rss_kb, "exit", exit_code);
    if (out == NULL ||
        json_dumpf(out, stdout, JSON_COMPACT | JSON_REAL_PRECISION(6)) != 0)
        goto out;
    fputc('\n', stdout);
    status = 0;
out:
    if (pid > 0)
        stop_child(pid);
    if (pipefd[0] >= 0)
        close(pipefd[0]);
    json_decref(out);
    return status;
}
