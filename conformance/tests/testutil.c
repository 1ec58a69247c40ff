/* testutil: what the conformance tests share: running the engine on a
 * script without a socket, starting and stopping server processes, running
 * nexus-conform and reading its JSON report. */
#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "conform.h"
#include "fake_transport.h"
#include "options.h"

/* Returns the environment variable, failing the test when unset. */
const char *tu_env(const char *name)
{
    const char *v = getenv(name);

    if (v == NULL || v[0] == '\0')
        fail_msg("environment variable %s is not set (run through ctest)",
                 name);
    return v;
}

/* Returns NEXUS_SOURCE_DIR/conformance/tests/rel in buf. */
const char *tu_data(const char *rel, char *buf, size_t n)
{
    snprintf(buf, n, "%s/conformance/tests/%s", tu_env("NEXUS_SOURCE_DIR"),
             rel);
    return buf;
}

/* Loads a JSON file, failing the test when it cannot. */
json_t *tu_load(const char *path)
{
    json_error_t e;
    json_t *v = json_load_file(path, 0, &e);

    if (v == NULL)
        fail_msg("%s:%d:%d: %s", path, e.line, e.column, e.text);
    return v;
}

/* Sorts file names for a stable order. */
static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Reads the directory once, then sorts, so every run takes the cases in
 * the same order. */
size_t tu_break_cases(char *dir, size_t dir_n, char **names, size_t max)
{
    struct dirent *e;
    size_t n = 0;
    DIR *d;

    tu_data("breaks", dir, dir_n);
    d = opendir(dir);
    assert_non_null(d);
    while ((e = readdir(d)) != NULL) {
        if (strstr(e->d_name, ".json") == NULL)
            continue;
        if (n == max)
            fail_msg("more than %zu break cases in %s", max, dir);
        names[n] = strdup(e->d_name);
        assert_non_null(names[n]);
        n++;
    }
    closedir(d);
    qsort(names, n, sizeof(names[0]), by_name);
    return n;
}

/* Returns a script whose routes are override's routes, then base's; the
 * other members come from base. */
json_t *tu_compose(const json_t *base, const json_t *override)
{
    json_t *out = json_deep_copy(base), *routes = json_array(), *r;
    size_t i;

    json_array_foreach(json_object_get(override, "routes"), i, r)
        json_array_append(routes, r);
    json_array_foreach(json_object_get(base, "routes"), i, r)
        json_array_append(routes, r);
    json_object_set_new(out, "routes", routes);
    if (json_object_get(override, "raw_hex") != NULL)
        json_object_set(out, "raw_hex", json_object_get(override, "raw_hex"));
    return out;
}

/* Joins with a comma before every string but the first. */
void tu_join(const json_t *list, struct buf *out)
{
    size_t i;
    json_t *v;

    json_array_foreach(list, i, v)
    {
        assert_int_equal(
            buf_appendf(out, "%s%s", i > 0 ? "," : "", json_string_value(v)),
            0);
    }
}

/* Returns the environment to options_parse: nothing, so runs are
 * independent of the tester's OPENAI_* variables. */
static const char *no_env(const char *name)
{
    (void)name;
    return NULL;
}

/* Runs the engine in-process over the fake transport playing script with
 * extra arguments (NULL-terminated), bodies delivered in pieces of piece
 * bytes. */
int tu_conform(const json_t *script, const char *const *extra, size_t piece,
               struct results *results)
{
    const char *argv[64] = {"nexus-conform", "--base-url",
                            "http://fake.invalid/v1", "--api-key", TU_KEY};
    struct options o;
    struct script *s;
    struct transport *t;
    struct conform *c;
    char *cause = NULL;
    int argc = 5, rc;

    while (extra != NULL && *extra != NULL && argc < 63)
        argv[argc++] = *extra++;
    results_init(results);
    if (options_parse(&o, argc, (char *const *)argv, no_env, &cause) !=
        OPTIONS_RUN)
        fail_msg("bad test arguments: %s", cause);
    s = script_from_json(script, &cause);
    if (s == NULL)
        fail_msg("bad script: %s", cause);
    t = fake_transport_new(s, "/v1", piece);
    c = conform_new(&o, t, results);
    assert_non_null(c);
    rc = conform_run(c, &cause);
    free(cause);
    conform_free(c);
    transport_free(t);
    script_free(s);
    return rc;
}

/* The status of check id in results, or -1 when absent. */
int tu_status(const struct results *r, const char *id)
{
    int ret;
    size_t i;

    for (i = 0; i < r->n; i++)
        if (strcmp(r->items[i].id, id) == 0) {
            ret = (int)r->items[i].status;
            goto out;
        }
    ret = -1;
out:
    return ret;
}

/* Writes "id=status ..." of every non-passing result into buf. */
const char *tu_describe(const struct results *r, char *buf, size_t n)
{
    size_t i, len = 0;

    buf[0] = '\0';
    for (i = 0; i < r->n && len < n; i++) {
        if (r->items[i].status == CHECK_PASS)
            continue;
        snprintf(buf + len, n - len, "\n  %s=%s: %s", r->items[i].id,
                 check_status_name(r->items[i].status), r->items[i].message);
        len = strlen(buf);
    }
    return buf;
}

/* Makes a sanitizer report in a child exit with 86, a status no program
 * here uses, so that a leak on a path that exits 1 cannot pass for a
 * failed check. Called in the child, before exec. */
static void sanitizer_exit_code(void)
{
    static const char *const vars[] = {"ASAN_OPTIONS", "LSAN_OPTIONS"};
    char value[1024];
    const char *old;
    size_t i;

    for (i = 0; i < 2; i++) {
        old = getenv(vars[i]);
        snprintf(value, sizeof(value), "%s%sexitcode=86",
                 old != NULL ? old : "", old != NULL && old[0] ? ":" : "");
        setenv(vars[i], value, 1);
    }
}

/* Seconds on the monotonic clock. */
static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Starts a server process and reads the URL it says it listens on. */
pid_t tu_start_server(char *const argv[], char *url, size_t n)
{
    pid_t ret;
    int fds[2];
    pid_t pid;
    char line[512];
    size_t len = 0;
    ssize_t got;
    double deadline = now_s() + 10;
    const char *at;

    if (pipe(fds) != 0) {
        ret = -1;
        goto out;
    }
    pid = fork();
    if (pid < 0) {
        ret = -1;
        goto out;
    }
    if (pid == 0) {
        dup2(fds[1], STDOUT_FILENO);
        close(fds[0]);
        close(fds[1]);
        sanitizer_exit_code();
        execv(argv[0], argv);
        _exit(127);
    }
    close(fds[1]);
    fcntl(fds[0], F_SETFL, O_NONBLOCK);
    while (now_s() < deadline && len + 1 < sizeof(line) &&
           memchr(line, '\n', len) == NULL) {
        got = read(fds[0], line + len, sizeof(line) - 1 - len);
        if (got > 0)
            len += (size_t)got;
        else if (got == 0)
            break;
        else
            usleep(5000);
    }
    close(fds[0]);
    line[len] = '\0';
    at = strstr(line, "listening on ");
    if (at == NULL || memchr(line, '\n', len) == NULL) {
        tu_stop_server(pid);
        ret = -1;
        goto out;
    }
    at += strlen("listening on ");
    snprintf(url, n, "%.*s", (int)strcspn(at, "\r\n"), at);
    ret = pid;
out:
    return ret;
}

/* Waits for pid up to timeout_s. Returns its exit status, -2 on timeout,
 * or -1 when it died of a signal. */
static int wait_for(pid_t pid, double timeout_s)
{
    double deadline = now_s() + timeout_s;
    int st, ret = -2;
    pid_t w;

    for (;;) {
        w = waitpid(pid, &st, WNOHANG);
        if (w == pid) {
            ret = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
            break;
        }
        if (w < 0 && errno != EINTR) {
            ret = -1;
            break;
        }
        if (now_s() > deadline)
            break;
        usleep(2000);
    }
    return ret;
}

/* Stops a server: SIGTERM, then SIGKILL after 5 s. */
int tu_stop_server(pid_t pid)
{
    int ret;
    int st;

    if (pid <= 0) {
        ret = -1;
        goto out;
    }
    kill(pid, SIGTERM);
    st = wait_for(pid, 5);
    if (st == -2) {
        kill(pid, SIGKILL);
        wait_for(pid, 5);
        st = -1;
    }
    ret = st;
out:
    return ret;
}

/* Runs argv with stdout and stderr into log_path, killing it after
 * timeout_s. */
int tu_run(char *const argv[], const char *log_path, double timeout_s,
           double *elapsed_s)
{
    int ret;
    double t0 = now_s();
    pid_t pid;
    int fd, st;

    pid = fork();
    if (pid < 0) {
        ret = -1;
        goto out;
    }
    if (pid == 0) {
        fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
            dup2(fd, STDOUT_FILENO);
            dup2(fd, STDERR_FILENO);
            close(fd);
        }
        sanitizer_exit_code();
        execv(argv[0], argv);
        _exit(127);
    }
    st = wait_for(pid, timeout_s);
    if (st == -2) {
        kill(pid, SIGKILL);
        wait_for(pid, 5);
        st = -1;
    }
    if (elapsed_s != NULL)
        *elapsed_s = now_s() - t0;
    ret = st;
out:
    return ret;
}

/* Makes a fresh directory under /tmp; writes its path into buf. */
const char *tu_tmpdir(char *buf, size_t n)
{
    snprintf(buf, n, "/tmp/nexus-conform-test-XXXXXX");
    if (mkdtemp(buf) == NULL)
        fail_msg("mkdtemp: %s", strerror(errno));
    return buf;
}

/* The first check of the report whose id is id, or NULL. */
json_t *tu_report_check(const json_t *report, const char *id)
{
    json_t *ret;
    json_t *c;
    size_t i;

    json_array_foreach(json_object_get(report, "checks"), i, c)
    {
        if (strcmp(json_string_value(json_object_get(c, "id")), id) == 0) {
            ret = c;
            goto out;
        }
    }
    ret = NULL;
out:
    return ret;
}

/* The status string of check id in a JSON report, or NULL. */
const char *tu_report_status(const json_t *report, const char *id)
{
    return json_string_value(
        json_object_get(tu_report_check(report, id), "status"));
}
