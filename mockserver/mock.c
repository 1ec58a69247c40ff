/* mock: option handling, fixture loading, the --check report and the
 * server's lifetime from start to a graceful signal-driven stop. */
#include "mock.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <jansson.h>

#include "admin.h"
#include "billing.h"
#include "clock.h"
#include "fixtures.h"
#include "journal.h"
#include "live.h"
#include "jsonio.h"
#include "log.h"
#include "match.h"
#include "options.h"
#include "ratelimit.h"
#include "rules.h"
#include "server.h"
#include "watch.h"

/* What a signal does to the serving mock. The signals not listed keep
 * their default actions (SIGPIPE excepted, which is ignored: a write to a
 * closed connection fails instead). */
enum signal_action {
    SIGNAL_STOP,   /* a graceful stop */
    SIGNAL_RELOAD, /* re-read the fixtures (reload_fixtures) */
    SIGNAL_IGNORE, /* logged, ignored */
};

struct signal_rule {
    int sig;
    const char *name;
    enum signal_action action;
};

static const struct signal_rule signal_rules[] = {
    {SIGINT, "SIGINT", SIGNAL_STOP},     {SIGTERM, "SIGTERM", SIGNAL_STOP},
    {SIGQUIT, "SIGQUIT", SIGNAL_STOP},   {SIGHUP, "SIGHUP", SIGNAL_RELOAD},
    {SIGUSR1, "SIGUSR1", SIGNAL_IGNORE},
};

#define NSIGNAL_RULES (sizeof(signal_rules) / sizeof(signal_rules[0]))

/* Prints where a fixture is wrong as file:line:column first, as compilers
 * print, so editors and CI annotations can jump to the spot. */
static void print_fixture_error(const struct fixture_error *err)
{
    fprintf(stderr, "%s:%d:%d: %s\n", err->file, err->line, err->column,
            err->message);
}

/* Checks the fixtures the options name (fixtures_check), writing every
 * problem on stderr, at most o->max_problems of them and then how many
 * more there were; with lint, the rules no request can reach too. Returns
 * how many problems there were; *fx is the fixtures when none. */
static size_t report_problems(const struct options *o, bool lint,
                              struct fixtures **fx)
{
    const struct fx_check c = {stderr, o->max_problems, lint};
    size_t n = fixtures_check(o->fixtures, o->nfixtures, &c, fx);

    if (n > o->max_problems)
        fprintf(stderr,
                "%s: %zu more problem%s not listed (--max-problems "
                "%zu)\n",
                o->nfixtures > 0 ? o->fixtures[0] : "ai-nexus.yaml (embedded)",
                n - o->max_problems, n - o->max_problems == 1 ? "" : "s",
                o->max_problems);
    return n;
}

/* Explains why the fixtures did not load: every problem, as --check lists
 * them (the loader stopped at err, the first), or err itself when the
 * check finds none (a problem of the runtime rules, or memory). */
static void explain_load_error(const struct options *o,
                               const struct fixture_error *err)
{
    struct fixtures *fx = NULL;

    if (report_problems(o, false, &fx) == 0)
        print_fixture_error(err);
    fixtures_free(fx);
}

/* Loads the fixtures the options name, printing every problem
 * (file:line:column) when they do not load. */
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
        explain_load_error(o, &err);
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

/* Re-reads the fixture files (with the runtime rules, live.h) and, when
 * they load and agree with the running ones on all but their rules
 * (fixtures_same_world), swaps in their rules and scenarios: requests in
 * flight finish on the set they hold. Otherwise the running set stays,
 * with the loader's file:line:column message or the part that changed on
 * stderr. Models, plans, keys and settings are read at start only, so
 * balances and rate windows carry over untouched. */
static void reload_fixtures(struct app *app, const struct options *o)
{
    struct live_error err;
    size_t n = 0;
    int rc = live_reload(app->live, &n, &err);

    if (rc == 0) {
        log_info(app->log, "reloaded the fixtures: %zu rule%s", n,
                 n == 1 ? "" : "s");
    } else if (rc == -1 && err.changed == NULL) {
        explain_load_error(o, &err.load);
        log_error(app->log, "reload refused: the fixtures do not load (the "
                            "problems are above); the running rules stay");
    } else if (rc == -1) {
        log_error(app->log,
                  "reload refused: the fixtures' %s changed, and a reload "
                  "replaces rules and scenarios only (restart nexus-mock to "
                  "apply them); the running rules stay",
                  err.changed);
    } else {
        log_error(app->log, "reload failed: out of memory; the running "
                            "rules stay");
    }
}

/* Acts on one signal read from the signalfd: reloads on SIGHUP, logs
 * and ignores the others that do not stop the mock. Returns the rule of
 * a stop signal, else NULL. */
static const struct signal_rule *on_signal(int sig, struct app *app,
                                           const struct options *o)
{
    const struct signal_rule *stop = NULL;
    size_t i;

    for (i = 0; i < NSIGNAL_RULES && signal_rules[i].sig != sig; i++)
        ;
    if (i == NSIGNAL_RULES)
        goto out;
    if (signal_rules[i].action == SIGNAL_STOP) {
        stop = &signal_rules[i];
    } else if (signal_rules[i].action == SIGNAL_RELOAD) {
        log_info(app->log, "received %s: reloading the fixtures",
                 signal_rules[i].name);
        reload_fixtures(app, o);
    } else {
        log_info(app->log, "received %s: ignored", signal_rules[i].name);
    }
out:
    return stop;
}

/* Waits on sigfd (the signals, blocked in every thread) and on the
 * fixture watch w (NULL: none), reloading on SIGHUP and once the watched
 * files have been left alone for o->watch_delay_ms after a change;
 * returns the rule of the first stop signal. */
static const struct signal_rule *wait_for_stop(int sigfd, struct watch *w,
                                               const struct options *o,
                                               struct app *app)
{
    const struct signal_rule *stop = NULL;
    uint64_t due = 0; /* clock_real_ms() of the pending reload; 0: none */

    while (stop == NULL) {
        struct pollfd fds[2] = {{.fd = sigfd, .events = POLLIN},
                                {.fd = w ? watch_fd(w) : -1, .events = POLLIN}};
        uint64_t now = clock_real_ms();
        int timeout = due == 0 ? -1 : due > now ? (int)(due - now) : 0;
        struct signalfd_siginfo si;

        if (poll(fds, 2, timeout) < 0)
            continue;
        if ((fds[1].revents & POLLIN) && watch_drain(w))
            due = clock_real_ms() + o->watch_delay_ms;
        if (due != 0 && clock_real_ms() >= due) {
            due = 0;
            log_info(app->log, "a fixture file changed: reloading");
            reload_fixtures(app, o);
        }
        if ((fds[0].revents & POLLIN) &&
            read(sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
            stop = on_signal((int)si.ssi_signo, app, o);
    }
    return stop;
}

/* The worker threads --threads asks for: by default one per online core
 * (OPTIONS_THREADS_AUTO), within what the option allows. */
static unsigned worker_threads(const struct options *o)
{
    long cores;

    if (o->threads != OPTIONS_THREADS_AUTO)
        return o->threads;
    cores = sysconf(_SC_NPROCESSORS_ONLN);
    return cores < 1 ? 1u : cores > 256 ? 256u : (unsigned)cores;
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
        .threads = worker_threads(o),
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
    struct watch *watch = NULL;
    sigset_t sigs;
    int sigfd = -1;
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
    app.max_endless_bytes = o->max_endless_bytes;
    app.gen = o->gen;
    app.clock = clock_new();
    app.log = log_new(stderr, o->log_format, o->quiet);
    app.rl = ratelimit_new(fx->nkeys);
    app.rules = rules_slot_new(rules_ref(fx->rules));
    if (app.rules != NULL)
        app.live = live_new(o->fixtures, o->nfixtures, fx, app.rules);
    if (app.clock != NULL)
        app.billing = billing_new(fx, clock_wall_ms(app.clock));
    /* The journal serves only the control API: kept only with it. */
    if (o->admin)
        app.journal = journal_new(o->journal_max_bytes, o->journal_body_max,
                                  app.started_ms);
    if (app.clock == NULL || app.log == NULL || app.rl == NULL ||
        app.billing == NULL || app.rules == NULL || app.live == NULL ||
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
    sigfd = signalfd(-1, &sigs, SFD_CLOEXEC);
    if (sigfd < 0) {
        fprintf(stderr, "nexus-mock: signalfd: %s\n", strerror(errno));
        goto out;
    }
    /* Without the watch the mock still serves, and SIGHUP still reloads:
     * a full inotify quota must not stop a test run. */
    if (o->watch && o->nfixtures > 0) {
        watch = watch_new(o->fixtures, o->nfixtures, cause, sizeof(cause));
        if (watch == NULL)
            log_error(app.log, "not watching the fixtures: %s", cause);
    }
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
    stop = wait_for_stop(sigfd, watch, o, &app);
    log_info(app.log, "received %s, finishing in-flight requests", stop->name);
    left = server_stop(srv, o->shutdown_grace * 1000u);
    srv = NULL;
    if (left > 0)
        log_error(app.log, "%u requests were cut at shutdown", left);
    log_info(app.log, "stopped");
    status = 0;
out:
    server_stop(srv, 0);
    watch_free(watch);
    if (sigfd >= 0)
        close(sigfd);
    journal_free(app.journal);
    billing_free(app.billing);
    live_free(app.live);
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
    if (o.check) {
        size_t problems = report_problems(&o, true, &fx);

        if (problems == 0)
            printf("%s%s: ok: %zu model%s, %zu plan%s, %zu key%s, %zu "
                   "rule%s\n",
                   o.nfixtures > 0 ? o.fixtures[0] : "ai-nexus.yaml (embedded)",
                   o.nfixtures > 1 ? " (and the files after it)" : "",
                   fx->nmodels, fx->nmodels == 1 ? "" : "s", fx->nplans,
                   fx->nplans == 1 ? "" : "s", fx->nkeys,
                   fx->nkeys == 1 ? "" : "s", rules_count(fx->rules),
                   rules_count(fx->rules) == 1 ? "" : "s");
        fixtures_free(fx);
        return problems == 0 ? 0 : 1;
    }
    match_set_regex_limit(o.regex_match_limit);
    fx = load_fixtures(&o);
    if (fx == NULL)
        return 1;
    status = serve(&o, fx);
    fixtures_free(fx);
    return status;
}
