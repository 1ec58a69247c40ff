/* nexus-fake-server: a deliberately scriptable HTTP server for the tests:
 * canned answers from a JSON script, stalls, endless and held-open bodies,
 * and raw bytes that are not HTTP at all. Loopback only. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "buf.h"
#include "parse.h"
#include "script.h"

#define MAX_REQUEST_BODY ((size_t)1 << 20)
/* A held stream or a stall gives up after this, so no test can hang. */
#define MAX_HOLD_MS 30000

static volatile sig_atomic_t stop_signal;
static atomic_bool stopping;

/* Records the signal that asks the server to stop. */
static void on_signal(int sig)
{
    (void)sig;
    stop_signal = 1;
}

/* Sleeps ms milliseconds. */
static void nap(unsigned ms)
{
    struct timespec ts = {.tv_sec = ms / 1000,
                          .tv_nsec = (long)(ms % 1000) * 1000000L};

    nanosleep(&ts, NULL);
}

/* What one connection has uploaded so far. */
struct upload {
    struct buf body;
};

/* Where a callback response is in its reply. */
struct playback {
    const struct script_reply *r;
    size_t pos;
    unsigned held_ms;
};

/* Writes the next piece of a scripted body, then what follows it. */
static ssize_t play(void *cls, uint64_t offset, char *buf, size_t max)
{
    ssize_t ret;
    struct playback *p = cls;
    const struct script_reply *r = p->r;
    size_t n, i;

    (void)offset;
    if (atomic_load(&stopping)) {
        ret = MHD_CONTENT_READER_END_OF_STREAM;
        goto out;
    }
    if (p->pos < r->body_len) {
        if (p->pos == 0 && r->wait_ms > 0)
            nap(r->wait_ms);
        if (p->pos > 0 && r->delay_ms > 0)
            nap(r->delay_ms);
        n = r->body_len - p->pos;
        if (r->chunk != 0 && n > r->chunk)
            n = r->chunk;
        if (n > max)
            n = max;
        memcpy(buf, r->body + p->pos, n);
        p->pos += n;
        ret = (ssize_t)n;
        goto out;
    }
    if (r->endless != NULL && r->endless_len > 0 && r->endless_len <= max) {
        for (i = 0; i + r->endless_len <= max; i += r->endless_len)
            memcpy(buf + i, r->endless, r->endless_len);
        ret = (ssize_t)i;
        goto out;
    }
    if (r->hold_open && p->held_ms < MAX_HOLD_MS) {
        nap(20);
        p->held_ms += 20;
        ret = 0; /* nothing now: MHD asks again */
        goto out;
    }
    ret = MHD_CONTENT_READER_END_OF_STREAM;
out:
    return ret;
}

/* Builds the MHD response for a reply. */
static struct MHD_Response *build(const struct script_reply *r)
{
    struct MHD_Response *ret;
    struct MHD_Response *resp;
    struct playback *p;
    size_t i;

    if (r->chunk == 0 && r->delay_ms == 0 && r->wait_ms == 0 &&
        r->endless == NULL && !r->hold_open) {
        resp = MHD_create_response_from_buffer(r->body_len, r->body,
                                               MHD_RESPMEM_PERSISTENT);
    } else {
        p = calloc(1, sizeof(*p));
        if (p == NULL) {
            ret = NULL;
            goto out;
        }
        p->r = r;
        resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 65536, play,
                                                 p, free);
        if (resp == NULL)
            free(p);
    }
    for (i = 0; resp != NULL && i < r->n_headers; i++)
        if (r->headers[i].value != NULL)
            MHD_add_response_header(resp, r->headers[i].name,
                                    r->headers[i].value);
    ret = resp;
out:
    return ret;
}

/* The MHD access handler: gathers the body, then plays the script. */
static enum MHD_Result handle(void *cls, struct MHD_Connection *conn,
                              const char *url, const char *method,
                              const char *version, const char *data,
                              size_t *data_size, void **con_cls)
{
    struct script *s = cls;
    struct upload *u = *con_cls;
    const struct script_reply *r;
    struct MHD_Response *resp;
    enum MHD_Result ret;
    unsigned waited;

    (void)version;
    if (u == NULL) {
        u = calloc(1, sizeof(*u));
        if (u == NULL) {
            ret = MHD_NO;
            goto out;
        }
        buf_init(&u->body, MAX_REQUEST_BODY);
        *con_cls = u;
        ret = MHD_YES;
        goto out;
    }
    if (*data_size > 0) {
        /* A body past the cap ends the connection: no test sends one. */
        ret = buf_append(&u->body, data, *data_size) == 0 ? MHD_YES : MHD_NO;
        *data_size = 0;
        goto out;
    }
    r = script_match(
        s, method, url,
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization"),
        u->body.data, u->body.len);
    if (r->stall) {
        for (waited = 0; waited < MAX_HOLD_MS && !atomic_load(&stopping);
             waited += 20)
            nap(20);
        ret = MHD_NO;
        goto out;
    }
    resp = build(r);
    if (resp == NULL) {
        ret = MHD_NO;
        goto out;
    }
    ret = MHD_queue_response(conn, (unsigned)r->status, resp);
    MHD_destroy_response(resp);
out:
    return ret;
}

/* Frees a connection's upload when its request ends. */
static void completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    struct upload *u = *con_cls;

    (void)cls;
    (void)conn;
    (void)toe;
    if (u != NULL) {
        buf_cleanup(&u->body);
        free(u);
        *con_cls = NULL;
    }
}

/* Answers every connection with raw bytes, as a server that does not
 * speak HTTP would. Returns an exit status. */
static int serve_raw(const char *raw, size_t len, unsigned short port)
{
    int ret;
    struct sockaddr_in a = {.sin_family = AF_INET};
    socklen_t alen = sizeof(a);
    struct pollfd pfd;
    char junk[4096];
    int fd, c, one = 1;

    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
        bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
        listen(fd, 16) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &alen) != 0) {
        perror("nexus-fake-server");
        ret = 1;
        goto out;
    }
    printf("nexus-fake listening on http://127.0.0.1:%u\n",
           (unsigned)ntohs(a.sin_port));
    fflush(stdout);
    while (!stop_signal) {
        pfd.fd = fd;
        pfd.events = POLLIN;
        if (poll(&pfd, 1, 20) <= 0)
            continue;
        c = accept(fd, NULL, NULL);
        if (c < 0)
            continue;
        pfd.fd = c;
        if (poll(&pfd, 1, 200) > 0 && read(c, junk, sizeof(junk)) < 0)
            junk[0] = '\0';
        if (write(c, raw, len) < 0)
            junk[0] = '\0';
        close(c);
    }
    close(fd);
    ret = 0;
out:
    return ret;
}

/* Serves the script with libmicrohttpd until a signal. */
static int serve_http(struct script *s, unsigned short port)
{
    int ret;
    struct sockaddr_in a = {.sin_family = AF_INET};
    const union MHD_DaemonInfo *info;
    struct MHD_Daemon *d;

    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    /* No MHD_USE_ERROR_LOG: the breaks provoke errors on purpose. */
    d = MHD_start_daemon(
        MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD, port,
        NULL, NULL, handle, s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&a,
        MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60, MHD_OPTION_END);
    if (d == NULL) {
        fprintf(stderr, "nexus-fake-server: cannot listen\n");
        ret = 1;
        goto out;
    }
    info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    printf("nexus-fake listening on http://127.0.0.1:%u\n",
           info != NULL ? (unsigned)info->port : (unsigned)port);
    fflush(stdout);
    while (!stop_signal)
        nap(20);
    atomic_store(&stopping, true);
    MHD_stop_daemon(d);
    ret = 0;
out:
    return ret;
}

/* Serves the script until SIGTERM or SIGINT. */
int main(int argc, char *argv[])
{
    const char *path = NULL, *raw;
    struct script *s = NULL;
    struct sigaction sa;
    int64_t port = 0;
    char *cause = NULL;
    size_t raw_len;
    int i, status = 2;

    for (i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--script") == 0)
            path = argv[i + 1];
        else if (strcmp(argv[i], "--port") == 0 &&
                 (parse_int64(argv[i + 1], &port) != 0 || port < 0 ||
                  port > 65535))
            path = NULL;
    }
    if (path == NULL) {
        fprintf(stderr, "usage: nexus-fake-server --script FILE [--port N]\n");
        goto out;
    }
    s = script_load(path, &cause);
    if (s == NULL) {
        fprintf(stderr, "nexus-fake-server: %s\n", cause);
        goto out;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    raw = script_raw(s, &raw_len);
    status = raw != NULL ? serve_raw(raw, raw_len, (unsigned short)port)
                         : serve_http(s, (unsigned short)port);
out:
    script_free(s);
    free(cause);
    return status;
}
