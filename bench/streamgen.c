/* streamgen: opens N paced chat streams on raw non-blocking sockets (one
 * thread, one epoll loop, a few hundred bytes per stream), all at once or
 * spread evenly over --ramp-ms, and measures each SSE event against the
 * schedule the fixture promises: time to first byte, per-event lateness,
 * streams completed and failed, and the server's peak memory and CPU.
 * Prints one JSON object on stdout (its fields are listed in usage_text).
 *
 * Three clocks, three questions. lateness_ms counts an event's schedule
 * from the request's last byte written: what a client sees, the server's
 * queue of new requests included, so a burst of N opens shows up in it.
 * pacing_lateness_ms counts it from the answer's first byte (the headers):
 * the mock starts a stream's schedule when it handles the request and
 * sends the headers at once, so their arrival is the client's best view of
 * the schedule's origin, and the figure is how well tokens keep time once
 * a stream runs (headers held back by a busy server make it read early,
 * never late). It holds while the headers leave before the first event,
 * as the mock's do (bench/smoke.sh checks its median). ramp_ms,
 * last_open_ms, open_lag_max_ms and peak_inflight say how many streams
 * really were open together. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "benchutil.h"
#include "options.h"

/* Bytes read from a socket at a time (one buffer for all streams). */
#define READ_CHUNK 65536
/* Header or chunk-size line kept per stream; longer lines are cut. */
#define LINE_MAX_LEN 160
/* The longest epoll_wait, so that the run's deadline is seen in time. */
#define WAIT_MAX_MS 50
/* The start of an event kept to recognise "data: [DONE]". */
#define DONE_EVENT "data: [DONE]"
#define DONE_LEN (sizeof(DONE_EVENT) - 1)

static const char usage_text[] =
    "Usage: nexus-streamgen --url http://A.B.C.D:PORT --key KEY --model M\n"
    "                       [--streams N] [--ttft-ms MS] "
    "[--tokens-per-second R]\n"
    "                       [--max-tokens T] [--pid PID] [--timeout-s S]\n"
    "                       [--connect-window W] [--ramp-ms R]\n"
    "Opens N streamed chat completions, all at once (R = 0, the default) or\n"
    "stream i at i * R / N ms after the first (evenly over R ms), with at\n"
    "most W connects pending at a time (0, the default: no limit), and\n"
    "prints one JSON object:\n"
    "  streams, completed, errors: N, and how many ended well or not;\n"
    "  error_kinds, first_errors: errors by kind, and the first of each;\n"
    "  events: SSE events received;\n"
    "  ramp_ms: R; last_open_ms: when the last stream was opened, in ms\n"
    "    after the first; open_lag_max_ms: the most a stream was opened\n"
    "    after its time on the ramp (a connect window, a busy generator);\n"
    "  peak_inflight: the most streams open together (request written,\n"
    "    answer not over); peak_inflight_frac: that over N;\n"
    "  wall_s: the run, first open to last stream's end;\n"
    "  connect_ms: connect() to connected;\n"
    "  ttfb_ms: request written to the answer's first byte;\n"
    "  lateness_ms: per event, received minus request written minus the\n"
    "    event's due time ttft + k * 1000 / rate ms (the role and token 0\n"
    "    at ttft, the finish and [DONE] with the last token): the server's\n"
    "    queue of new requests and its pacing together;\n"
    "  pacing_lateness_ms: per event, received minus the answer's first\n"
    "    byte minus the same due time: the pacing once a stream runs (the\n"
    "    mock starts the schedule as it sends the headers);\n"
    "  read_lateness_ms: lateness_ms, timed when the generator read it;\n"
    "  samples_dropped: samples past the generator's buffers (0);\n"
    "  with --pid: mock_rss_before_kb, mock_peak_rss_kb (VmHWM) and\n"
    "    mock_cpu_s, the server's CPU (user + system) during the run.\n"
    "Each *_ms figure is {p50, p99, max} over the samples. Events are timed\n"
    "when the kernel received them (SO_TIMESTAMPNS), so that the\n"
    "generator's own delay in reading them is not the server's.\n";

enum conn_phase {
    PH_IDLE,       /* not started yet */
    PH_CONNECTING, /* connect() in progress */
    PH_SENDING,    /* request partly written */
    PH_STATUS,     /* reading the status line */
    PH_HEADERS,    /* reading header lines */
    PH_CHUNK_SIZE, /* reading a chunk-size line */
    PH_CHUNK_DATA, /* inside a chunk */
    PH_CHUNK_END,  /* the CRLF after a chunk's data */
    PH_TRAILER,    /* lines after the last chunk */
    PH_OVER        /* finished, one way or the other */
};

enum fail_kind {
    FAIL_CONNECT, /* socket or connect failed */
    FAIL_STATUS,  /* answered, but not 200 */
    FAIL_CLOSED,  /* closed before the end of the stream */
    FAIL_FRAMING, /* not chunked SSE, or no [DONE] at the end */
    FAIL_TIMEOUT, /* still open when the run's time ran out */
    FAIL_KINDS
};

static const char *const fail_names[FAIL_KINDS] = {
    "connect", "status", "closed", "framing", "timeout"};

struct genopts {
    const char *url, *key, *model;
    unsigned streams, ttft_ms, tokens_per_second, max_tokens;
    unsigned timeout_s, connect_window, ramp_ms;
    pid_t pid;
};

/* One stream's state: a few hundred bytes, whatever the answer's size. */
struct conn {
    int fd;
    enum conn_phase phase;
    size_t sent;
    uint64_t t_start; /* connect() called */
    uint64_t t_sent;  /* request written: lateness counts from here */
    uint64_t t_first; /* first byte received: pacing counts from here */
    bool got_byte;
    bool chunked;
    unsigned status;
    unsigned events;
    uint64_t chunk_left;
    char line[LINE_MAX_LEN];
    size_t line_len;
    char prev;              /* the previous body byte, across reads */
    char ev_head[DONE_LEN]; /* the first bytes of the current event */
    size_t ev_len;
    bool last_done; /* the last whole event was data: [DONE] */
};

/* A growable list of signed microsecond samples, capped. */
struct samples {
    int64_t *v;
    size_t n, cap, dropped;
};

struct gen {
    struct genopts o;
    struct bench_target target;
    char *request;
    size_t request_len;
    int ep;
    struct conn *conns;
    unsigned next, connecting, open, inflight, peak_inflight;
    unsigned completed, fails[FAIL_KINDS];
    uint64_t t_begin;      /* the first stream's opening time */
    uint64_t last_open_us; /* the last opening, after t_begin */
    uint64_t open_lag_us;  /* the most an opening was behind the ramp */
    struct samples connect, ttfb, lateness, pacing, read_lateness;
    /* CLOCK_REALTIME minus CLOCK_MONOTONIC, in us: turns the kernel's
     * receive timestamps into bench_now_us time. */
    int64_t rt_offset;
    char first_fail[FAIL_KINDS][96];
};

/* Adds one sample; past the cap it is only counted. */
static void samples_add(struct samples *s, int64_t v)
{
    if (s->n == s->cap) {
        s->dropped++;
        return;
    }
    s->v[s->n++] = v;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return (x > y) - (x < y);
}

/* Returns {"p50","p99","max"} in milliseconds (new reference), nulls when
 * there are no samples. Sorts the samples. */
static json_t *samples_json(struct samples *s)
{
    size_t i50, i99;

    if (s->n == 0)
        return json_pack("{s:n, s:n, s:n}", "p50", "p99", "max");
    qsort(s->v, s->n, sizeof(s->v[0]), cmp_i64);
    /* Nearest rank: the smallest sample with at least p% at or below. */
    i50 = (s->n * 50 + 99) / 100;
    i99 = (s->n * 99 + 99) / 100;
    return json_pack("{s:f, s:f, s:f}", "p50", (double)s->v[i50 - 1] / 1000.0,
                     "p99", (double)s->v[i99 - 1] / 1000.0, "max",
                     (double)s->v[s->n - 1] / 1000.0);
}

/* When event i is due, in microseconds after the request: the role chunk
 * and token 0 at ttft, token k at ttft + k * 1000 / rate (the mock's
 * integer arithmetic), and the finish chunk and [DONE] with the last
 * token. */
static uint64_t event_due_us(const struct genopts *o, unsigned i)
{
    uint64_t k = i > 0 ? i - 1 : 0, ms = o->ttft_ms;

    if (o->max_tokens > 0 && k > o->max_tokens - 1)
        k = o->max_tokens - 1;
    if (o->tokens_per_second > 0)
        ms += k * 1000u / o->tokens_per_second;
    return ms * 1000u;
}

/* Ends a stream: closes its socket and counts the outcome. */
static void conn_finish(struct gen *g, struct conn *c, int fail,
                        const char *why)
{
    if (c->phase == PH_OVER)
        return;
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    if (c->phase == PH_CONNECTING)
        g->connecting--;
    if (c->phase >= PH_STATUS)
        g->inflight--;
    c->phase = PH_OVER;
    g->open--;
    if (fail < 0) {
        g->completed++;
        return;
    }
    if (g->fails[fail]++ == 0)
        snprintf(g->first_fail[fail], sizeof(g->first_fail[fail]), "%s", why);
}

/* A header, status or chunk-size line is complete in c->line. Returns 0,
 * or -1 when the stream has been finished (failed). */
static int conn_line(struct gen *g, struct conn *c)
{
    char *end;
    unsigned long long size;

    if (c->line_len > 0 && c->line[c->line_len - 1] == '\r')
        c->line_len--;
    c->line[c->line_len] = '\0';
    switch (c->phase) {
    case PH_STATUS:
        if (strncmp(c->line, "HTTP/1.", 7) != 0 || strlen(c->line) < 12) {
            conn_finish(g, c, FAIL_FRAMING, "no HTTP status line");
            return -1;
        }
        c->status = (unsigned)strtoul(c->line + 9, NULL, 10);
        c->phase = PH_HEADERS;
        break;
    case PH_HEADERS:
        if (c->line_len == 0) {
            if (c->status != 200) {
                char why[64];

                snprintf(why, sizeof(why), "status %u", c->status);
                conn_finish(g, c, FAIL_STATUS, why);
                return -1;
            }
            if (!c->chunked) {
                conn_finish(g, c, FAIL_FRAMING, "not chunked");
                return -1;
            }
            c->phase = PH_CHUNK_SIZE;
        } else if (strncasecmp(c->line, "transfer-encoding:", 18) == 0 &&
                   strstr(c->line + 18, "chunked") != NULL) {
            c->chunked = true;
        }
        break;
    case PH_CHUNK_SIZE:
        errno = 0;
        size = strtoull(c->line, &end, 16);
        if (end == c->line || errno != 0) {
            conn_finish(g, c, FAIL_FRAMING, "bad chunk size");
            return -1;
        }
        c->chunk_left = size;
        c->phase = size == 0 ? PH_TRAILER : PH_CHUNK_DATA;
        break;
    case PH_TRAILER:
        if (c->line_len == 0) {
            if (c->last_done)
                conn_finish(g, c, -1, NULL);
            else
                conn_finish(g, c, FAIL_FRAMING, "no data: [DONE] at the end");
            return -1;
        }
        break;
    default:
        break;
    }
    c->line_len = 0;
    return 0;
}

/* When bytes were received (by the kernel) and read (by the generator). */
struct arrival {
    uint64_t kernel, read;
};

/* One byte of SSE body: a blank line ends an event, which is timed. */
static void conn_sse_byte(struct gen *g, struct conn *c, char b,
                          const struct arrival *at)
{
    if (c->ev_len < DONE_LEN)
        c->ev_head[c->ev_len++] = b;
    if (b == '\n' && c->prev == '\n') {
        int64_t due = (int64_t)event_due_us(&g->o, c->events);

        samples_add(&g->lateness, (int64_t)(at->kernel - c->t_sent) - due);
        samples_add(&g->pacing, (int64_t)(at->kernel - c->t_first) - due);
        samples_add(&g->read_lateness, (int64_t)(at->read - c->t_sent) - due);
        c->last_done = c->ev_len == DONE_LEN &&
                       memcmp(c->ev_head, DONE_EVENT, DONE_LEN) == 0;
        c->events++;
        c->ev_len = 0;
        c->prev = '\0';
        return;
    }
    c->prev = b;
}

/* Feeds received bytes through the HTTP and chunk framing to the SSE
 * events. */
static void conn_feed(struct gen *g, struct conn *c, const char *p, size_t n,
                      const struct arrival *at)
{
    size_t i = 0;

    if (n > 0 && !c->got_byte) {
        c->got_byte = true;
        c->t_first = at->kernel;
        samples_add(&g->ttfb, (int64_t)(at->kernel - c->t_sent));
    }
    while (i < n && c->phase != PH_OVER) {
        if (c->phase == PH_CHUNK_DATA) {
            size_t take = n - i;

            if (take > c->chunk_left)
                take = (size_t)c->chunk_left;
            for (size_t k = 0; k < take; k++)
                conn_sse_byte(g, c, p[i + k], at);
            i += take;
            c->chunk_left -= take;
            if (c->chunk_left == 0)
                c->phase = PH_CHUNK_END;
        } else if (c->phase == PH_CHUNK_END) {
            /* The CRLF after the data; then the next size line. */
            if (p[i++] == '\n')
                c->phase = PH_CHUNK_SIZE;
        } else if (p[i] == '\n') {
            i++;
            if (conn_line(g, c) != 0)
                return;
        } else {
            if (c->line_len < sizeof(c->line) - 1)
                c->line[c->line_len++] = p[i];
            i++;
        }
    }
}

/* When stream idx is due to open (bench_now_us time): i * R / N into the
 * ramp, all at t_begin when there is none. */
static uint64_t gen_open_due(const struct gen *g, unsigned idx)
{
    return g->t_begin + (uint64_t)idx * g->o.ramp_ms * 1000u / g->o.streams;
}

/* Starts stream idx: a non-blocking connect, watched for writability. */
static void conn_start(struct gen *g, unsigned idx)
{
    struct conn *c = &g->conns[idx];
    struct epoll_event ev;
    uint64_t due = gen_open_due(g, idx);
    char why[96];

    c->fd = -1;
    c->phase = PH_CONNECTING;
    c->t_start = bench_now_us();
    g->last_open_us = c->t_start - g->t_begin;
    if (c->t_start > due && c->t_start - due > g->open_lag_us)
        g->open_lag_us = c->t_start - due;
    g->connecting++;
    g->open++;
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0)
        goto fail;
    /* Without it, events are timed when read (conn_readable). */
    (void)setsockopt(c->fd, SOL_SOCKET, SO_TIMESTAMPNS, &(int){1}, sizeof(int));
    if (connect(c->fd, (struct sockaddr *)&g->target.addr,
                sizeof(g->target.addr)) != 0 &&
        errno != EINPROGRESS)
        goto fail;
    ev.events = EPOLLOUT;
    ev.data.u32 = idx;
    if (epoll_ctl(g->ep, EPOLL_CTL_ADD, c->fd, &ev) != 0)
        goto fail;
    return;
fail:
    snprintf(why, sizeof(why), "socket/connect: %s", strerror(errno));
    conn_finish(g, c, FAIL_CONNECT, why);
}

/* The socket is writable: the connect ended; write (more of) the request. */
static void conn_writable(struct gen *g, struct conn *c, uint32_t idx)
{
    struct epoll_event ev;
    int soerr = 0;
    socklen_t sl = sizeof(soerr);
    ssize_t w;
    char why[96];

    if (c->phase == PH_CONNECTING) {
        if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0 ||
            soerr != 0) {
            snprintf(why, sizeof(why), "connect: %s", strerror(soerr));
            conn_finish(g, c, FAIL_CONNECT, why);
            return;
        }
        samples_add(&g->connect, (int64_t)(bench_now_us() - c->t_start));
        g->connecting--;
        c->phase = PH_SENDING;
    }
    w = send(c->fd, g->request + c->sent, g->request_len - c->sent,
             MSG_NOSIGNAL);
    if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return;
    if (w < 0) {
        snprintf(why, sizeof(why), "send: %s", strerror(errno));
        conn_finish(g, c, FAIL_CLOSED, why);
        return;
    }
    c->sent += (size_t)w;
    if (c->sent < g->request_len)
        return;
    c->t_sent = bench_now_us();
    c->phase = PH_STATUS;
    if (++g->inflight > g->peak_inflight)
        g->peak_inflight = g->inflight;
    ev.events = EPOLLIN;
    ev.data.u32 = idx;
    if (epoll_ctl(g->ep, EPOLL_CTL_MOD, c->fd, &ev) != 0)
        conn_finish(g, c, FAIL_CLOSED, "epoll_ctl");
}

/* When the bytes recvmsg read in m arrived: the kernel's timestamp (of the
 * last segment read) in bench_now_us time, or now when there is none. */
static uint64_t arrival_us(const struct gen *g, struct msghdr *m, uint64_t now)
{
    struct cmsghdr *cm;

    for (cm = CMSG_FIRSTHDR(m); cm != NULL; cm = CMSG_NXTHDR(m, cm)) {
        struct timespec ts;
        int64_t us;

        if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_TIMESTAMPNS)
            continue;
        memcpy(&ts, CMSG_DATA(cm), sizeof(ts));
        us = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000 - g->rt_offset;
        /* never after the read, whatever the clocks did meanwhile */
        return us > 0 && (uint64_t)us < now ? (uint64_t)us : now;
    }
    return now;
}

/* The socket is readable: reads until it would block, or to the end. */
static void conn_readable(struct gen *g, struct conn *c, char *buf)
{
    for (;;) {
        union {
            char bytes[CMSG_SPACE(sizeof(struct timespec))];
            struct cmsghdr align;
        } ctl;
        struct iovec iov = {buf, READ_CHUNK};
        struct msghdr m;
        struct arrival at;
        ssize_t r;

        memset(&m, 0, sizeof(m));
        m.msg_iov = &iov;
        m.msg_iovlen = 1;
        m.msg_control = ctl.bytes;
        m.msg_controllen = sizeof(ctl.bytes);
        r = recvmsg(c->fd, &m, 0);
        if (r > 0) {
            at.read = bench_now_us();
            at.kernel = arrival_us(g, &m, at.read);
            conn_feed(g, c, buf, (size_t)r, &at);
            if (c->phase == PH_OVER)
                return;
            continue;
        }
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        conn_finish(g, c, FAIL_CLOSED,
                    r == 0 ? "closed before the end" : strerror(errno));
        return;
    }
}

/* Opens every stream that is due and that the connect window lets in.
 * Returns how long epoll_wait may sleep (ms): until the next opening is
 * due, rounded up, and at most WAIT_MAX_MS, so the deadline is seen. */
static int gen_open_due_streams(struct gen *g)
{
    uint64_t now = bench_now_us(), due;

    for (;;) {
        if (g->next == g->o.streams)
            return WAIT_MAX_MS;
        /* A full window opens up as connects end: epoll_wait sees them. */
        if (g->o.connect_window > 0 && g->connecting >= g->o.connect_window)
            return WAIT_MAX_MS;
        due = gen_open_due(g, g->next);
        if (due > now) {
            /* Read the clock again only once the due streams are open. */
            now = bench_now_us();
            if (due > now)
                break;
        }
        conn_start(g, g->next++);
    }
    due = (due - now + 999) / 1000;
    return due < WAIT_MAX_MS ? (int)due : WAIT_MAX_MS;
}

/* Runs every stream to its end or to the deadline. */
static void gen_run(struct gen *g)
{
    struct epoll_event evs[512];
    char *buf = malloc(READ_CHUNK);
    uint64_t deadline;
    unsigned i;

    if (buf == NULL)
        return;
    g->t_begin = bench_now_us();
    deadline = g->t_begin + (uint64_t)g->o.timeout_s * 1000000u;
    while (g->open > 0 || g->next < g->o.streams) {
        int n, k, wait = gen_open_due_streams(g);

        n = epoll_wait(g->ep, evs, (int)(sizeof(evs) / sizeof(evs[0])), wait);
        for (k = 0; k < n; k++) {
            uint32_t idx = evs[k].data.u32;
            struct conn *c = &g->conns[idx];

            if (c->phase == PH_OVER)
                continue;
            if (c->phase == PH_CONNECTING || c->phase == PH_SENDING)
                conn_writable(g, c, idx);
            else
                conn_readable(g, c, buf);
        }
        if (bench_now_us() > deadline)
            break;
    }
    for (i = 0; i < g->next; i++)
        conn_finish(g, &g->conns[i], FAIL_TIMEOUT, "still open at the end");
    for (i = g->next; i < g->o.streams; i++)
        g->fails[FAIL_TIMEOUT]++;
    free(buf);
}

/* Prints the run's figures as one JSON line. Returns 0 or -1. */
static int gen_report(struct gen *g, double wall_s, const struct bench_proc *p0,
                      const struct bench_proc *p1, bool have_proc)
{
    json_t *o, *kinds = json_object(), *first = json_object();
    unsigned errors = 0;
    int k, err = -1;

    for (k = 0; k < FAIL_KINDS; k++) {
        errors += g->fails[k];
        json_object_set_new(kinds, fail_names[k], json_integer(g->fails[k]));
        if (g->fails[k] > 0)
            json_object_set_new(first, fail_names[k],
                                json_string(g->first_fail[k]));
    }
    o = json_pack(
        "{s:i, s:i, s:i, s:o, s:o, s:i, s:i, s:f, s:o, s:o, s:o, s:I}",
        "streams", (int)g->o.streams, "completed", (int)g->completed, "errors",
        (int)errors, "error_kinds", kinds, "first_errors", first, "events",
        (json_int_t)g->lateness.n, "peak_inflight", (int)g->peak_inflight,
        "wall_s", wall_s, "connect_ms", samples_json(&g->connect), "ttfb_ms",
        samples_json(&g->ttfb), "lateness_ms", samples_json(&g->lateness),
        "samples_dropped",
        (json_int_t)(g->lateness.dropped + g->ttfb.dropped +
                     g->connect.dropped + g->read_lateness.dropped +
                     g->pacing.dropped));
    if (o == NULL ||
        json_object_set_new(o, "pacing_lateness_ms",
                            samples_json(&g->pacing)) != 0 ||
        json_object_set_new(o, "read_lateness_ms",
                            samples_json(&g->read_lateness)) != 0 ||
        json_object_set_new(o, "ramp_ms", json_integer(g->o.ramp_ms)) != 0 ||
        json_object_set_new(o, "last_open_ms",
                            json_real((double)g->last_open_us / 1000.0)) != 0 ||
        json_object_set_new(o, "open_lag_max_ms",
                            json_real((double)g->open_lag_us / 1000.0)) != 0 ||
        json_object_set_new(
            o, "peak_inflight_frac",
            json_real((double)g->peak_inflight / (double)g->o.streams)) != 0)
        goto out;
    if (have_proc &&
        (json_object_set_new(o, "mock_rss_before_kb",
                             json_integer((json_int_t)p0->rss_kb)) != 0 ||
         json_object_set_new(o, "mock_peak_rss_kb",
                             json_integer((json_int_t)p1->hwm_kb)) != 0 ||
         json_object_set_new(o, "mock_cpu_s",
                             json_real(p1->cpu_s - p0->cpu_s)) != 0))
        goto out;
    if (json_dumpf(o, stdout, JSON_COMPACT | JSON_REAL_PRECISION(6)) != 0)
        goto out;
    fputc('\n', stdout);
    err = 0;
out:
    json_decref(o);
    return err;
}

/* A numeric option: its name, where its value goes, and its range. */
struct numopt {
    const char *name;
    unsigned *dst;
    unsigned long long min, max;
};

/* Parses one numeric option; 1 if name is one of opts, -1 if its value is
 * bad, 0 if name is none of them. */
static int parse_numopt(const struct numopt *opts, size_t n, const char *name,
                        const char *val)
{
    unsigned long long v;
    size_t i;

    for (i = 0; i < n; i++) {
        if (strcmp(name, opts[i].name) != 0)
            continue;
        if (options_parse_uint(val, opts[i].min, opts[i].max, &v) != 0)
            return -1;
        *opts[i].dst = (unsigned)v;
        return 1;
    }
    return 0;
}

/* Parses argv; returns 0, or -1 after printing why. */
static int parse_args(int argc, char **argv, struct genopts *o)
{
    const struct numopt nums[] = {
        {"--streams", &o->streams, 1, 1000000},
        {"--ttft-ms", &o->ttft_ms, 0, 3600000},
        {"--tokens-per-second", &o->tokens_per_second, 0, 1000000},
        {"--max-tokens", &o->max_tokens, 1, 100000},
        {"--timeout-s", &o->timeout_s, 1, 3600},
        {"--connect-window", &o->connect_window, 0, 1000000},
        {"--ramp-ms", &o->ramp_ms, 0, 3600000},
    };
    unsigned long long v;
    int i;

    memset(o, 0, sizeof(*o));
    o->streams = 100;
    o->ttft_ms = 200;
    o->tokens_per_second = 10;
    o->max_tokens = 8;
    o->timeout_s = 60;
    for (i = 1; i + 1 < argc; i += 2) {
        const char *a = argv[i], *val = argv[i + 1];
        int rc = parse_numopt(nums, sizeof(nums) / sizeof(nums[0]), a, val);

        if (rc < 0)
            break;
        if (rc > 0)
            continue;
        if (strcmp(a, "--url") == 0)
            o->url = val;
        else if (strcmp(a, "--key") == 0)
            o->key = val;
        else if (strcmp(a, "--model") == 0)
            o->model = val;
        else if (strcmp(a, "--pid") == 0 &&
                 options_parse_uint(val, 1, 1u << 30, &v) == 0)
            o->pid = (pid_t)v;
        else
            break;
    }
    if (i < argc) {
        fprintf(stderr, "nexus-streamgen: bad option '%s'\n%s", argv[i],
                usage_text);
        return -1;
    }
    if (o->url == NULL || o->key == NULL || o->model == NULL) {
        fputs(usage_text, stderr);
        return -1;
    }
    return 0;
}

/* Allocates a run's state; returns 0 or -1. */
static int gen_init(struct gen *g)
{
    size_t per = (size_t)g->o.max_tokens + 8, n = g->o.streams;
    char *body = bench_chat_body(g->o.model, true, g->o.max_tokens);
    int err = -1;

    if (body == NULL)
        goto out;
    g->request = bench_request_new(&g->target, "POST", "/v1/chat/completions",
                                   g->o.key, body, true, &g->request_len);
    g->conns = calloc(n, sizeof(*g->conns));
    g->connect.v = calloc(n, sizeof(int64_t));
    g->ttfb.v = calloc(n, sizeof(int64_t));
    g->lateness.v = calloc(n * per, sizeof(int64_t));
    g->pacing.v = calloc(n * per, sizeof(int64_t));
    g->read_lateness.v = calloc(n * per, sizeof(int64_t));
    if (g->request == NULL || g->conns == NULL || g->connect.v == NULL ||
        g->ttfb.v == NULL || g->lateness.v == NULL || g->pacing.v == NULL ||
        g->read_lateness.v == NULL)
        goto out;
    g->connect.cap = g->ttfb.cap = n;
    g->lateness.cap = g->pacing.cap = g->read_lateness.cap = n * per;
    {
        struct timespec rt;

        clock_gettime(CLOCK_REALTIME, &rt);
        g->rt_offset = (int64_t)rt.tv_sec * 1000000 + rt.tv_nsec / 1000 -
                       (int64_t)bench_now_us();
    }
    if ((g->ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
        goto out;
    err = 0;
out:
    free(body);
    return err;
}

int main(int argc, char **argv)
{
    struct gen g;
    struct bench_proc p0, p1;
    bool have_proc = false;
    unsigned long long nofile;
    uint64_t t0;
    int status = 1;

    memset(&g, 0, sizeof(g));
    g.ep = -1;
    if (parse_args(argc, argv, &g.o) != 0)
        return 2;
    if (bench_target_parse(g.o.url, &g.target) != 0) {
        fprintf(stderr, "nexus-streamgen: --url must be http://A.B.C.D:PORT\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    nofile = bench_raise_nofile();
    if (nofile < (unsigned long long)g.o.streams + 16)
        fprintf(stderr,
                "nexus-streamgen: open-file limit %llu is below %u streams; "
                "the rest fail to connect\n",
                nofile, g.o.streams);
    if (gen_init(&g) != 0) {
        fprintf(stderr, "nexus-streamgen: out of memory\n");
        goto out;
    }
    if (g.o.pid > 0)
        have_proc = bench_proc_read(g.o.pid, &p0) == 0;
    t0 = bench_now_us();
    gen_run(&g);
    if (have_proc)
        have_proc = bench_proc_read(g.o.pid, &p1) == 0;
    if (gen_report(&g, (double)(bench_now_us() - t0) / 1e6, &p0, &p1,
                   have_proc) != 0)
        goto out;
    status = 0;
out:
    if (g.ep >= 0)
        close(g.ep);
    free(g.request);
    free(g.conns);
    free(g.connect.v);
    free(g.ttfb.v);
    free(g.lateness.v);
    free(g.pacing.v);
    free(g.read_lateness.v);
    return status;
}
