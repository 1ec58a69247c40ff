/* mock: option handling, fixture loading, the --check report and the
 * server's lifetime from start to a graceful signal-driven stop. */
#include "mock.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <jansson.h>

#include "admin.h"
#include "billing.h"
#include "clock.h"
#include "fixtures.h"
#include "journal.h"
#include "jsonio.h"
#include "log.h"
#include "options.h"
#include "ratelimit.h"
#include "rules.h"
#include "server.h"

/* What a signal does to the serving mock. The signals not listed keep
 * their default actions (SIGPIPE excepted, which is ignored: a write to a
 * closed connection fails instead). */
struct signal_rule {
    int sig;
    const char *name;
    bool stops; /* a graceful stop, as SIGTERM; otherwise logged, ignored */
    const char *note; /* what the log line adds for an ignored signal */
};

static const struct signal_rule signal_rules[] = {
    {SIGINT, "SIGINT", true, NULL},
    {SIGTERM, "SIGTERM", true, NULL},
    {SIGQUIT, "SIGQUIT", true, NULL},
    {SIGHUP, "SIGHUP", false,
     "ignored (reloading the fixtures is not "
     "supported yet)"},
    {SIGUSR1, "SIGUSR1", false, "ignored"},
};

#define NSIGNAL_RULES (sizeof(signal_rules) / sizeof(signal_rules[0]))

/* Loads the fixtures the options name, printing file:line:column on error. */
static struct fixtures *load_fixtures(const struct options *o)
{
    struct fixtures *fx = NULL;
    struct fixture_error err;
    int rc;

    memset(&err, 0, sizeof(err));
    rc = o->nfixtures > 0
             ? fixtures_load_paths(o->fixtures, o->nfixtures, &fx, &err)
             : fixtures_load_default(&fx, &err);
    if (rc != 0) {
        /* file:line:column first, as compilers print, so editors and CI
         * annotations can jump to the spot. */
        fprintf(stderr, "%s:%d:%d: %s\n", err.file, err.line, err.column,
                err.message);
        return NULL;
    }
    return fx;
}

/* Raises the open-file limit so thousands of streams can be connected. */
static void raise_nofile(void)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

/* Checks that stdout can take the ready line before anything is opened:
 * with descriptor 1 closed, the listening socket could become descriptor 1
 * and the line would go to it. Returns 0, or -1 with the reason printed. */
static int stdout_writable(void)
{
    int flags = fcntl(STDOUT_FILENO, F_GETFL);

    if (flags >= 0 && (flags & O_ACCMODE) != O_RDONLY)
        return 0;
    fprintf(stderr,
            "nexus-mock: stdout is %s: the line saying where the mock "
            "listens could not be written\n",
            flags < 0 ? "closed" : "not open for writing");
    return -1;
}

/* Prints the ready line and flushes it. Returns 0, or -1 with the reason
 * printed (stdout refused it: a full device, a closed pipe). */
static int print_ready(const char *host, unsigned port)
{
    int written;

    errno = 0;
    written = printf("nexus-mock listening on http://%s%s%s:%u\n",
                     strchr(host, ':') ? "[" : "", host,
                     strchr(host, ':') ? "]" : "", port);
    if (written > 0 && fflush(stdout) == 0 && !ferror(stdout))
        return 0;
    fprintf(stderr, "nexus-mock: cannot write the ready line to stdout: %s\n",
            errno != 0 ? strerror(errno) : "write failed");
    return -1;
}

/* Waits for the signals in sigs (blocked in every thread), logging and
 * ignoring those that do not stop the mock; returns the rule of the
 * first that does. */
static const struct signal_rule *wait_for_stop(const sigset_t *sigs,
                                               struct log *log)
{
    for (;;) {
        int sig = 0;
        size_t i;

        if (sigwait(sigs, &sig) != 0)
            continue;
        for (i = 0; i < NSIGNAL_RULES && signal_rules[i].sig != sig; i++)
            ;
        if (i == NSIGNAL_RULES)
            continue;
        if (signal_rules[i].stops)
            return &signal_rules[i];
        log_info(log, "received %s: %s", signal_rules[i].name,
                 signal_rules[i].note);
    }
}

/* Serves until a stop signal (SIGINT, SIGTERM, SIGQUIT); returns the exit
 * status. */
static int serve(const struct options *o, struct fixtures *fx)
{
    struct app app;
    struct server *srv = NULL;
    struct server_config cfg = {
        .host = o->host,
        .port = o->port,
        .threads = o->threads,
        .max_connections = o->max_connections,
        .max_per_ip = o->max_connections_per_ip == OPTIONS_PER_IP_AUTO
                          ? SERVER_PER_IP_AUTO
                          : o->max_connections_per_ip,
        .header_timeout_s = o->header_timeout,
        .body_timeout_s = o->body_timeout,
        .idle_timeout_s = o->idle_timeout,
        .max_headers = o->max_headers,
    };
    char cause[256];
    const struct signal_rule *stop;
    sigset_t sigs;
    int status = 1;
    unsigned left;
    size_t i;

    memset(&app, 0, sizeof(app));
    if (stdout_writable() != 0)
        goto out;
    app.fx = fx;
    app.admin = o->admin;
    app.admin_token = o->admin_token;
    app.started_ms = clock_real_ms();
    app.max_body = o->max_body;
    app.gen = o->gen;
    app.clock = clock_new();
    app.log = log_new(stderr, o->log_format, o->quiet);
    app.rl = ratelimit_new(fx->nkeys);
    app.rules = rules_slot_new(rules_ref(fx->rules));
    if (app.clock != NULL)
        app.billing = billing_new(fx, clock_wall_ms(app.clock));
    /* The journal serves only the control API: kept only with it. */
    if (o->admin)
        app.journal = journal_new(o->journal_max_bytes, o->journal_body_max,
                                  app.started_ms);
    if (app.clock == NULL || app.log == NULL || app.rl == NULL ||
        app.billing == NULL || app.rules == NULL ||
        (o->admin && app.journal == NULL)) {
        fprintf(stderr, "nexus-mock: out of memory\n");
        goto out;
    }
    /* Workers inherit this mask, so only sigwait below sees the signals. */
    sigemptyset(&sigs);
    for (i = 0; i < NSIGNAL_RULES; i++)
        sigaddset(&sigs, signal_rules[i].sig);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);
    raise_nofile();
    json_object_seed(0);
    if (server_start(&app, &cfg, &srv, cause, sizeof(cause)) != 0) {
        fprintf(stderr, "nexus-mock: %s\n", cause);
        goto out;
    }
    if (print_ready(o->host, server_port(srv)) != 0)
        goto out;
    log_info(app.log, "serving fixture '%s': %zu models, %zu keys%s",
             fx->name ? fx->name : "(unnamed)", fx->nmodels, fx->nkeys,
             o->admin ? ", admin routes on" : "");
    stop = wait_for_stop(&sigs, app.log);
    log_info(app.log, "received %s, finishing in-flight requests", stop->name);
    left = server_stop(srv, o->shutdown_grace * 1000u);
    srv = NULL;
    if (left > 0)
        log_error(app.log, "%u requests were cut at shutdown", left);
    log_info(app.log, "stopped");
    status = 0;
out:
    server_stop(srv, 0);
    journal_free(app.journal);
    billing_free(app.billing);
    rules_slot_free(app.rules);
    ratelimit_free(app.rl);
    log_free(app.log);
    clock_free(app.clock);
    return status;
}

int mock_main(int argc, char **argv)
{
    struct options o;
    struct fixtures *fx;
    char cause[256];
    int status;

    /* Before any thread: lets the request parser tell out of memory from
     * bad JSON (jsonio.h). */
    jsonio_init();
    switch (options_parse(argc, argv, &o, stdout, cause, sizeof(cause))) {
    case OPTIONS_EXIT:
        return 0;
    case OPTIONS_ERROR:
        fprintf(stderr, "nexus-mock: %s\n", cause);
        return 2;
    default:
        break;
    }
    /* Before anything is opened: the control API must not be served
     * unguarded where others can reach it. */
    if (admin_check_exposure(o.host, o.admin, o.admin_token, cause,
                             sizeof(cause)) != 0) {
        fprintf(stderr, "nexus-mock: %s\n", cause);
        return 2;
    }
    fx = load_fixtures(&o);
    if (fx == NULL)
        return 1;
    if (o.check) {
        printf("%s%s: ok: %zu model%s, %zu plan%s, %zu key%s, %zu rule%s\n",
               o.nfixtures > 0 ? o.fixtures[0] : "ai-nexus.yaml (embedded)",
               o.nfixtures > 1 ? " (and the files after it)" : "", fx->nmodels,
               fx->nmodels == 1 ? "" : "s", fx->nplans,
               fx->nplans == 1 ? "" : "s", fx->nkeys, fx->nkeys == 1 ? "" : "s",
               rules_count(fx->rules), rules_count(fx->rules) == 1 ? "" : "s");
        fixtures_free(fx);
        return 0;
    }
    status = serve(&o, fx);
    fixtures_free(fx);
    return status;
}
