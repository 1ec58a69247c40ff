/* testutil: what the conformance tests share: running the engine on a
 * script without a socket and reading nexus-conform's JSON report (server
 * processes are started and stopped with common/testproc). */
#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
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
size_t tu_cases(const char *sub, char *dir, size_t dir_n, char **names,
                size_t max)
{
    struct dirent *e;
    size_t n = 0;
    DIR *d;

    tu_data(sub, dir, dir_n);
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

/* tu_cases("breaks", ...). */
size_t tu_break_cases(char *dir, size_t dir_n, char **names, size_t max)
{
    return tu_cases("breaks", dir, dir_n, names, max);
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

/* Every group enabled, with the keys of tests/scripts/good.json. */
const char *const tu_suite_args[] = {
    "--profile",       "ai-nexus", "--empty-key", "sk-empty", "--rpm", "3",
    "--ratelimit-key", "sk-free",  "--timeout",   "2",        NULL};

/* The suite's arguments, the case's and extra, NULL-terminated. */
const char **tu_case_args(const json_t *brk, const char *extra,
                          const char **args, size_t max)
{
    size_t i, n = 0;
    json_t *v;

    for (i = 0; tu_suite_args[i] != NULL && n + 1 < max; i++)
        args[n++] = tu_suite_args[i];
    json_array_foreach(json_object_get(brk, "args"), i, v) if (n + 2 < max)
        args[n++] = json_string_value(v);
    if (extra != NULL && n + 1 < max)
        args[n++] = extra;
    args[n] = NULL;
    return args;
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

/* Sets job's fixtures under fixtures/faults/servers/. */
void tu_job_fixtures(struct tu_job *job, const char *rel, const char *rel2)
{
    const char *src = tu_env("NEXUS_SOURCE_DIR");

    snprintf(job->fixtures[0], sizeof(job->fixtures[0]),
             "%s/fixtures/faults/servers/%s", src, rel);
    job->fixtures[1][0] = '\0';
    if (rel2 != NULL)
        snprintf(job->fixtures[1], sizeof(job->fixtures[1]),
                 "%s/fixtures/faults/servers/%s", src, rel2);
}

/* Runs one job: its mock, nexus-conform against it, the mock stopped.
 * In a worker process: no cmocka assertions here. */
static void job_run(struct tu_job *job, const char *mock_bin,
                    const char *conform_bin, const char *mock_log)
{
    char *margv[16] = {(char *)mock_bin, "--port",           "0", "--quiet",
                       "--no-watch",     "--shutdown-grace", "0"};
    const char *argv[80];
    char base[300];
    struct testproc mock;
    int mc = 7, argc = 0, i;

    job->rc = -1;
    job->mock_rc = -1;
    job->took = 0;
    for (i = 0; i < 2; i++) {
        if (job->fixtures[i][0] == '\0')
            continue;
        margv[mc++] = "--fixtures";
        margv[mc++] = job->fixtures[i];
    }
    margv[mc] = NULL;
    if (testproc_start(&mock, margv, mock_log) != 0)
        return;
    snprintf(base, sizeof(base), "%s/v1", mock.url);
    argv[argc++] = conform_bin;
    argv[argc++] = "--base-url";
    argv[argc++] = base;
    argv[argc++] = "--api-key";
    argv[argc++] = TU_KEY;
    argv[argc++] = "--json";
    argv[argc++] = job->report;
    for (i = 0; job->args[i] != NULL && argc < 79; i++)
        argv[argc++] = job->args[i];
    argv[argc] = NULL;
    job->rc = testproc_run((char *const *)argv, job->log, 120, &job->took);
    job->mock_rc = testproc_stop(&mock);
}

/* Runs the jobs of one worker (every TU_PARALLEL-th from first) and
 * writes what each left to its report path plus ".rc". */
static void worker_run(struct tu_job *jobs, size_t n, size_t first,
                       const char *dir)
{
    const char *mock_bin = getenv("NEXUS_MOCK_BIN");
    const char *conform_bin = getenv("NEXUS_CONFORM_BIN");
    char path[300], mock_log[300];
    FILE *f;
    size_t i;

    for (i = first; i < n; i += TU_PARALLEL) {
        snprintf(mock_log, sizeof(mock_log), "%s/mock-%zu.log", dir, i);
        job_run(&jobs[i], mock_bin, conform_bin, mock_log);
        snprintf(path, sizeof(path), "%s.rc", jobs[i].report);
        f = fopen(path, "w");
        if (f == NULL)
            continue;
        fprintf(f, "%d %d %.3f\n", jobs[i].rc, jobs[i].mock_rc, jobs[i].took);
        fclose(f);
    }
}

/* Runs every job, TU_PARALLEL at once, in worker processes. */
void tu_jobs_run(struct tu_job *jobs, size_t n, const char *dir)
{
    char path[300];
    pid_t pids[TU_PARALLEL];
    size_t w, i;
    FILE *f;
    int st;

    (void)tu_env("NEXUS_MOCK_BIN");
    (void)tu_env("NEXUS_CONFORM_BIN");
    for (i = 0; i < n; i++) {
        snprintf(jobs[i].report, sizeof(jobs[i].report), "%s/report-%zu.json",
                 dir, i);
        snprintf(jobs[i].log, sizeof(jobs[i].log), "%s/run-%zu.log", dir, i);
    }
    fflush(NULL);
    for (w = 0; w < TU_PARALLEL; w++) {
        pids[w] = fork();
        if (pids[w] < 0)
            fail_msg("fork: %s", strerror(errno));
        if (pids[w] == 0) {
            worker_run(jobs, n, w, dir);
            _exit(0);
        }
    }
    for (w = 0; w < TU_PARALLEL; w++)
        if (waitpid(pids[w], &st, 0) != pids[w] || !WIFEXITED(st) ||
            WEXITSTATUS(st) != 0)
            fail_msg("a worker of tu_jobs_run died");
    for (i = 0; i < n; i++) {
        jobs[i].rc = jobs[i].mock_rc = -1;
        snprintf(path, sizeof(path), "%s.rc", jobs[i].report);
        f = fopen(path, "r");
        if (f == NULL)
            continue;
        if (fscanf(f, "%d %d %lf", &jobs[i].rc, &jobs[i].mock_rc,
                   &jobs[i].took) != 3)
            jobs[i].rc = -1;
        fclose(f);
    }
}

/* Loads a job's JSON report, or says why there is none. */
json_t *tu_job_report(const struct tu_job *job)
{
    json_error_t e;
    json_t *r = json_load_file(job->report, 0, &e);
    char text[2048];
    FILE *f;
    size_t n = 0;

    if (r != NULL)
        return r;
    f = fopen(job->log, "r");
    if (f != NULL) {
        n = fread(text, 1, sizeof(text) - 1, f);
        fclose(f);
    }
    text[n] = '\0';
    print_error("no report from %s (exit %d): %s\n", job->fixtures[0], job->rc,
                text);
    return NULL;
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

/* Counts the parser errors of both parsers, HTML5 tag names aside. */
int tu_html_errors(const char *path)
{
    char cmd[1200], line[1024];
    int errors = 0;
    FILE *p;

    if (system("command -v xmllint >/dev/null") != 0)
        fail_msg("xmllint not found: install the Debian package "
                 "libxml2-utils");
    snprintf(cmd, sizeof(cmd),
             "{ xmllint --noout --html '%s'; xmllint --noout '%s'; } 2>&1",
             path, path);
    p = popen(cmd, "r");
    if (p == NULL)
        fail_msg("cannot run xmllint");
    while (fgets(line, sizeof(line), p) != NULL) {
        if (strstr(line, "error") == NULL ||
            (strstr(line, "Tag ") != NULL && strstr(line, " invalid") != NULL))
            continue;
        print_error("%s", line);
        errors++;
    }
    if (pclose(p) != 0)
        errors++;
    return errors;
}
