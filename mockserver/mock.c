/* mock: option handling, fixture loading, the --check report and the
 * server's lifetime from start to a graceful signal-driven stop. */
#include "mock.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <jansson.h>

#include "billing.h"
#include "clock.h"
#include "fixtures.h"
#include "log.h"
#include "options.h"
#include "ratelimit.h"
#include "server.h"

/* How long in-flight requests get to finish after SIGINT or SIGTERM. */
#define SHUTDOWN_GRACE_MS 2000

/* Loads the fixtures the options name, printing file:line:column on error. */
static struct fixtures *load_fixtures(const struct options *o)
{
    struct fixtures *fx = NULL;
    struct fixture_error err;
    int rc;

    memset(&err, 0, sizeof(err));
    rc = o->fixtures ? fixtures_load_file(o->fixtures, &fx, &err)
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

/* Serves until SIGINT or SIGTERM; returns the exit status. */
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
    sigset_t sigs;
    int sig = 0, status = 1;
    unsigned left;

    memset(&app, 0, sizeof(app));
    app.fx = fx;
    app.admin = o->admin;
    app.max_body = o->max_body;
    app.gen = o->gen;
    app.clock = clock_new();
    app.log = log_new(stderr, o->log_format, o->quiet);
    app.rl = ratelimit_new(fx->nkeys);
    if (app.clock != NULL)
        app.billing = billing_new(fx, clock_wall_ms(app.clock));
    if (app.clock == NULL || app.log == NULL || app.rl == NULL ||
        app.billing == NULL) {
        fprintf(stderr, "nexus-mock: out of memory\n");
        goto out;
    }
    /* Workers inherit this mask, so only sigwait below sees the signals. */
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);
    raise_nofile();
    json_object_seed(0);
    if (server_start(&app, &cfg, &srv, cause, sizeof(cause)) != 0) {
        fprintf(stderr, "nexus-mock: %s\n", cause);
        goto out;
    }
    printf("nexus-mock listening on http://%s%s%s:%u\n",
           strchr(o->host, ':') ? "[" : "", o->host,
           strchr(o->host, ':') ? "]" : "", server_port(srv));
    fflush(stdout);
    log_info(app.log, "serving fixture '%s': %zu models, %zu keys%s",
             fx->name ? fx->name : "(unnamed)", fx->nmodels, fx->nkeys,
             o->admin ? ", admin routes on" : "");
    sigwait(&sigs, &sig);
    log_info(app.log, "received %s, finishing in-flight requests",
             sig == SIGINT ? "SIGINT" : "SIGTERM");
    left = server_stop(srv, SHUTDOWN_GRACE_MS);
    srv = NULL;
    if (left > 0)
        log_error(app.log, "%u requests were cut at shutdown", left);
    log_info(app.log, "stopped");
    status = 0;
out:
    server_stop(srv, 0);
    billing_free(app.billing);
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

    switch (options_parse(argc, argv, &o, stdout, cause, sizeof(cause))) {
    case OPTIONS_EXIT:
        return 0;
    case OPTIONS_ERROR:
        fprintf(stderr, "nexus-mock: %s\n", cause);
        return 2;
    default:
        break;
    }
    fx = load_fixtures(&o);
    if (fx == NULL)
        return 1;
    if (o.check) {
        printf("%s: ok: %zu model%s, %zu plan%s, %zu key%s\n",
               o.fixtures ? o.fixtures : "ai-nexus.yaml (embedded)",
               fx->nmodels, fx->nmodels == 1 ? "" : "s", fx->nplans,
               fx->nplans == 1 ? "" : "s", fx->nkeys,
               fx->nkeys == 1 ? "" : "s");
        fixtures_free(fx);
        return 0;
    }
    status = serve(&o, fx);
    fixtures_free(fx);
    return status;
}
