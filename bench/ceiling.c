/* ceiling: a bare libmicrohttpd server with nexus-mock's daemon flags,
 * thread pool and connection limits, answering every request with one
 * fixed body: what the HTTP layer alone can do here, the bench's yardstick
 * for the mock's whole path. */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "benchutil.h"
#include "options.h"

/* The largest body file the ceiling serves. */
#define CEILING_MAX_BODY (16u * 1024u * 1024u)

/* Kept in step with mockserver/server.c: the same flags and options (but
 * the completion hook, which the mock uses for its request log). */
#define CEILING_FLAGS                                                          \
    (MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |                         \
     MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ITC)
#define CEILING_HEADER_MEMORY (64u * 1024u)
#define CEILING_TIMEOUT_S 120u

static const char usage_text[] =
    "Usage: nexus-ceiling --body-file FILE [--port N] [--threads N]\n"
    "                     [--max-connections N]\n"
    "Answers every request 200 with FILE's bytes as application/json;\n"
    "prints 'ceiling listening on http://127.0.0.1:PORT' when ready.\n";

struct ceiling_options {
    const char *body_file;
    unsigned port, threads, max_connections;
};

/* Answers once the request (and any body, which is dropped) is in. */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
                                  const char *url, const char *method,
                                  const char *version, const char *data,
                                  size_t *data_size, void **con_cls)
{
    static int seen;
    struct MHD_Response *resp = cls;

    (void)url;
    (void)method;
    (void)version;
    (void)data;
    if (*con_cls == NULL) {
        *con_cls = &seen;
        return MHD_YES;
    }
    if (*data_size > 0) {
        *data_size = 0;
        return MHD_YES;
    }
    return MHD_queue_response(conn, MHD_HTTP_OK, resp);
}

/* Reads the whole file into a new buffer (free() it). Returns 0 or -1. */
static int read_body(const char *path, char **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *data = NULL;
    size_t n = 0;
    int err = -1;

    if (f == NULL)
        goto out;
    if ((data = malloc(CEILING_MAX_BODY)) == NULL)
        goto out;
    n = fread(data, 1, CEILING_MAX_BODY, f);
    if (ferror(f) || !feof(f))
        goto out;
    *out = data;
    *len = n;
    data = NULL;
    err = 0;
out:
    if (f != NULL)
        fclose(f);
    free(data);
    return err;
}

/* Parses argv; returns 0, or -1 after printing why. */
static int parse_args(int argc, char **argv, struct ceiling_options *o)
{
    unsigned long long v;
    int i;

    o->body_file = NULL;
    o->port = 0;
    o->threads = 4;
    o->max_connections = 10000;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;

        if (strcmp(a, "--body-file") == 0 && val != NULL)
            o->body_file = val;
        else if (strcmp(a, "--port") == 0 &&
                 options_parse_uint(val, 0, 65535, &v) == 0)
            o->port = (unsigned)v;
        else if (strcmp(a, "--threads") == 0 &&
                 options_parse_uint(val, 1, 256, &v) == 0)
            o->threads = (unsigned)v;
        else if (strcmp(a, "--max-connections") == 0 &&
                 options_parse_uint(val, 1, 1000000, &v) == 0)
            o->max_connections = (unsigned)v;
        else {
            fprintf(stderr, "nexus-ceiling: bad option '%s'\n%s", a,
                    usage_text);
            return -1;
        }
        i++;
    }
    if (o->body_file == NULL) {
        fputs(usage_text, stderr);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct ceiling_options o;
    struct MHD_Daemon *d = NULL;
    struct MHD_Response *resp = NULL;
    const union MHD_DaemonInfo *info;
    char *body = NULL;
    size_t len = 0;
    struct sockaddr_in sa;
    sigset_t sigs;
    int sig, status = 1;

    if (parse_args(argc, argv, &o) != 0)
        return 2;
    if (read_body(o.body_file, &body, &len) != 0) {
        fprintf(stderr, "nexus-ceiling: cannot read %s\n", o.body_file);
        goto out;
    }
    resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_PERSISTENT);
    if (resp == NULL || MHD_add_response_header(resp, "Content-Type",
                                                "application/json") != MHD_YES)
        goto out;
    /* Signals are taken by sigwait below, in every thread MHD starts. */
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    bench_raise_nofile();
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)o.port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    d = MHD_start_daemon(CEILING_FLAGS, (uint16_t)o.port, NULL, NULL,
                         on_request, resp, MHD_OPTION_SOCK_ADDR,
                         (struct sockaddr *)&sa, MHD_OPTION_THREAD_POOL_SIZE,
                         o.threads, MHD_OPTION_CONNECTION_LIMIT,
                         o.max_connections, MHD_OPTION_CONNECTION_TIMEOUT,
                         CEILING_TIMEOUT_S, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
                         (size_t)CEILING_HEADER_MEMORY, MHD_OPTION_END);
    if (d == NULL) {
        fprintf(stderr, "nexus-ceiling: cannot listen on port %u: %s\n", o.port,
                strerror(errno));
        goto out;
    }
    info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    printf("ceiling listening on http://127.0.0.1:%u\n",
           info ? info->port : o.port);
    fflush(stdout);
    sigwait(&sigs, &sig);
    status = 0;
out:
    if (d != NULL)
        MHD_stop_daemon(d);
    if (resp != NULL)
        MHD_destroy_response(resp);
    free(body);
    return status;
}
