/* operate: one whole run of nexus-conform, from argv to the exit status:
 * options, transport, engine, terminal lines and report files. */
#include "operate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "client.h"
#include "conform.h"
#include "jsonio.h"
#include "options.h"
#include "result.h"

#ifndef NEXUS_VERSION
#define NEXUS_VERSION "unknown"
#endif

/* A report to write at the end, opened at the start so that a bad path is
 * a usage error before any request is sent. */
struct report_file {
    const char *path;
    FILE *f;
    int (*write)(const struct results *r, const struct report_meta *m,
                 FILE *out);
};

/* Where the terminal lines go, and how. */
struct term {
    FILE *out;
    struct term_style style;
    char group[64]; /* of the last line printed */
};

/* Prints one line per check as soon as it is recorded, under the heading
 * of its group. */
static void show(const struct check_result *r, void *ud)
{
    struct term *t = ud;
    const struct group_def *const *g;
    size_t n;
    int i;

    if (strcmp(t->group, r->group) != 0) {
        g = conform_groups(&n);
        i = conform_group_index(r->group);
        report_term_group(r->group, i >= 0 ? g[i]->about : NULL, &t->style,
                          t->out);
        snprintf(t->group, sizeof(t->group), "%s", r->group);
    }
    report_term_line(r, &t->style, t->out);
    fflush(t->out);
}

/* The length of the longest check id, so that messages line up. */
static int id_width(void)
{
    const struct group_def *const *g;
    size_t n, i, k, len;
    int most = 0;

    g = conform_groups(&n);
    for (i = 0; i < n; i++)
        for (k = 0; k < g[i]->n_checks; k++) {
            len = strlen(g[i]->checks[k].id);
            if ((int)len > most && len < 64)
                most = (int)len;
        }
    return most;
}

/* Colour only on a terminal, unless told otherwise (NO_COLOR honoured). */
static bool want_color(enum color_mode m, FILE *out)
{
    const char *term = getenv("TERM");
    bool color = m == COLOR_ALWAYS;

    if (m == COLOR_AUTO)
        color = isatty(fileno(out)) && getenv("NO_COLOR") == NULL &&
                (term == NULL || strcmp(term, "dumb") != 0);
    return color;
}

/* Prints every check of every group, for --list-checks: id, level, basis
 * and rule. */
static void list_checks_text(FILE *out)
{
    const struct group_def *const *g;
    size_t n, i, k;

    g = conform_groups(&n);
    for (i = 0; i < n; i++) {
        fprintf(out, "%s: %s\n", g[i]->name, g[i]->about);
        for (k = 0; k < g[i]->n_checks; k++)
            fprintf(out, "  %-30s %-6s %-8s %s\n", g[i]->checks[k].id,
                    check_level_name(g[i]->checks[k].level),
                    check_basis_name(g[i]->checks[k].basis),
                    g[i]->checks[k].rule);
    }
}

/* The impacts a check may carry: every catalogue entry made for it. New
 * reference or NULL. */
static json_t *impacts_of(const char *check)
{
    enum impact_id ids[IMPACT_COUNT];
    size_t n = 0;
    int id;

    for (id = IMPACT_NONE + 1; id < IMPACT_COUNT; id++) {
        const struct impact *im = impact_get((enum impact_id)id);
        if (impact_for(im, check))
            ids[n++] = (enum impact_id)id;
    }
    return impact_json(ids, n);
}

/* Writes every check as JSON, for --list-checks --format json: {"checks":
 * [{"id","group","level","basis","rule","source","impacts"}], "impacts":
 * [every catalogue entry]}. Returns 0 or -1. */
static int list_checks_json(FILE *out)
{
    const struct group_def *const *g;
    enum impact_id all[IMPACT_COUNT];
    json_t *checks = json_array(), *root = NULL, *c;
    char *text = NULL;
    size_t n, i, k, n_all = 0;
    int err = -1, id;

    g = conform_groups(&n);
    for (i = 0; checks != NULL && i < n; i++) {
        for (k = 0; k < g[i]->n_checks; k++) {
            const struct check_def *d = &g[i]->checks[k];
            c = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:o}", "id", d->id,
                          "group", g[i]->name, "level",
                          check_level_name(d->level), "basis",
                          check_basis_name(d->basis), "rule", d->rule, "source",
                          d->source, "impacts", impacts_of(d->id));
            if (json_array_append_new(checks, c) != 0)
                goto out;
        }
    }
    for (id = IMPACT_NONE + 1; id < IMPACT_COUNT; id++)
        all[n_all++] = (enum impact_id)id;
    root = json_pack("{s:O, s:o}", "checks", checks, "impacts",
                     impact_json(all, n_all));
    text = root != NULL
               ? jsonio_dumps(root, JSON_INDENT(1) | JSON_PRESERVE_ORDER)
               : NULL;
    if (text != NULL && fputs(text, out) != EOF && fputc('\n', out) != EOF)
        err = 0;
out:
    free(text);
    json_decref(checks);
    json_decref(root);
    return err;
}

/* Opens every report file asked for. Returns 0, or -1 after saying which
 * one could not be opened. */
static int open_reports(struct report_file *files, size_t n)
{
    int ret;
    size_t i;

    for (i = 0; i < n; i++) {
        if (files[i].path == NULL)
            continue;
        files[i].f = fopen(files[i].path, "w");
        if (files[i].f == NULL) {
            fprintf(stderr, "nexus-conform: cannot write %s\n", files[i].path);
            ret = -1;
            goto out;
        }
    }
    ret = 0;
out:
    return ret;
}

/* Writes and closes every report. Returns 0 or -1 on a write error. */
static int close_reports(struct report_file *files, size_t n,
                         const struct results *r, const struct report_meta *m)
{
    int err = 0;
    size_t i;

    for (i = 0; i < n; i++) {
        if (files[i].f == NULL)
            continue;
        if (r != NULL && files[i].write(r, m, files[i].f) != 0)
            err = -1;
        if (fclose(files[i].f) != 0)
            err = -1;
        files[i].f = NULL;
        if (err != 0)
            fprintf(stderr, "nexus-conform: cannot write %s\n", files[i].path);
        if (r == NULL)
            remove(files[i].path); /* nothing ran: leave no empty report */
    }
    return err;
}

/* Seconds between two monotonic times. */
static double seconds(const struct timespec *a, const struct timespec *b)
{
    return (double)(b->tv_sec - a->tv_sec) +
           (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

/* Performs the run itself once the options are known. */
static int run(const struct options *o)
{
    struct report_file files[] = {
        {o->json_path, NULL, report_json_write},
        {o->junit_path, NULL, report_junit_write},
        {o->html_path, NULL, report_html_write},
    };
    size_t n_files = sizeof(files) / sizeof(files[0]);
    struct client_config cc = {
        .base_url = o->base_url,
        .timeout_s = o->timeout_s,
        .stream_timeout_s = o->stream_timeout_s,
        .user_agent = "nexus-conform/" NEXUS_VERSION,
    };
    struct term term = {.out = stdout, .style = {.verbose = o->verbose}};
    struct transport *t = NULL;
    struct conform *c = NULL;
    struct results results;
    struct results_summary sum;
    struct report_meta meta;
    struct timespec t0, t1;
    char started[32], *cause = NULL;
    time_t now = time(NULL);
    struct tm tm;
    int status = EXIT_USAGE;
    bool ran = false, curl_started = false;

    memset(&meta, 0, sizeof(meta));
    results_init(&results);
    term.style.color = want_color(o->color, stdout);
    term.style.id_width = id_width();
    gmtime_r(&now, &tm);
    strftime(started, sizeof(started), "%Y-%m-%dT%H:%M:%SZ", &tm);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (open_reports(files, n_files) != 0)
        goto out;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "nexus-conform: cannot start libcurl\n");
        goto out;
    }
    curl_started = true;
    t = client_new(&cc, &cause);
    c = t != NULL ? conform_new(o, t, &results) : NULL;
    if (c == NULL) {
        fprintf(stderr, "nexus-conform: %s\n",
                cause != NULL ? cause : "out of memory");
        goto out;
    }
    conform_observe(c, show, &term);
    if (o->verbose)
        conform_log_to(c, stderr);
    if (conform_run(c, &cause) != 0) {
        fprintf(stderr, "nexus-conform: %s\n",
                cause != NULL ? cause : "out of memory");
        goto out;
    }
    ran = true;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    report_term_recap(&results, &term.style, stdout);
    report_term_mode(o->strict ? "strict" : "default", stdout);
    report_term_summary(&results, term.style.color, stdout);
    meta.base_url = o->base_url;
    meta.model = conform_model(c) != NULL ? conform_model(c) : "";
    meta.profile = options_profile_name(o->profile);
    meta.version = NEXUS_VERSION;
    meta.started = started;
    meta.duration_s = seconds(&t0, &t1);
    meta.mode = o->strict ? "strict" : "default";
    sum = results_summarize(&results);
    status = sum.failed > 0 ? EXIT_CHECK_FAILED : EXIT_ALL_PASSED;
out:
    if (close_reports(files, n_files, ran ? &results : NULL, &meta) != 0 && ran)
        status = EXIT_USAGE;
    conform_free(c);
    transport_free(t);
    if (curl_started)
        curl_global_cleanup();
    results_cleanup(&results);
    free(cause);
    return status;
}

/* Reads the environment for options_parse. */
static const char *env(const char *name)
{
    return getenv(name);
}

/* Runs nexus-conform and returns its exit status. */
int operate_main(int argc, char *argv[])
{
    struct options o;
    char *cause = NULL;
    int status = EXIT_USAGE;

    switch (options_parse(&o, argc, argv, env, &cause)) {
    case OPTIONS_HELP:
        options_usage(stdout);
        status = EXIT_ALL_PASSED;
        break;
    case OPTIONS_VERSION:
        printf("nexus-conform %s\n", NEXUS_VERSION);
        status = EXIT_ALL_PASSED;
        break;
    case OPTIONS_LIST:
        if (o.list_format == LIST_JSON)
            status =
                list_checks_json(stdout) == 0 ? EXIT_ALL_PASSED : EXIT_USAGE;
        else
            list_checks_text(stdout);
        if (o.list_format != LIST_JSON)
            status = EXIT_ALL_PASSED;
        break;
    case OPTIONS_ERROR:
        fprintf(stderr, "nexus-conform: %s\nTry 'nexus-conform --help'.\n",
                cause != NULL ? cause : "bad arguments");
        break;
    case OPTIONS_RUN:
        status = run(&o);
        break;
    }
    free(cause);
    return status;
}
