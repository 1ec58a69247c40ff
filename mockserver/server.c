/* server: libmicrohttpd glue: body intake, dispatch, response rendering,
 * answers from sources (source.h) and the timer that resumes them without
 * holding a worker thread. */
#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/sockios.h>
#include <microhttpd.h>

#include "buf.h"
#include "capture.h"
#include "clock.h"
#include "jsonio.h"
#include "log.h"
#include "router.h"
#include "source.h"

/* Memory per connection for the request line and headers: twice the
 * library's default, room for any real client's headers, while thousands of
 * idle streams stay cheap (each connection holds this much). */
#define SERVER_HEADER_MEMORY (64u * 1024u)

/* Seconds a connection may sit idle (client sends or reads nothing) before
 * it is closed; also the longest a connection action waits for the socket. */
#define SERVER_TIMEOUT_S 120u

/* Read-size hint for streamed answers. */
#define STREAM_BLOCK 16384

/* The largest piece, and the largest whole answer, a source may produce. */
#define FEED_MAX_BYTES ((size_t)1 << 26)

/* How often a connection action looks again at a socket that is full or
 * still holds unacknowledged bytes. */
#define FEED_RETRY_MS 2u

/* The status logged for a request whose connection a source cut before any
 * HTTP answer went out (nginx's "no response"). */
#define STATUS_NO_ANSWER 444

struct feed;

/* Min-heap of answers waiting to go on, ordered by due time. */
struct timer_heap {
    struct feed **items;
    size_t n, cap;
};

struct server {
    struct app *app;
    struct MHD_Daemon *daemon;
    unsigned port;
    pthread_t timer_thread;
    bool timer_started;
    pthread_mutex_t lock; /* guards heap, draining, stop_timer */
    pthread_cond_t cond;
    struct timer_heap heap;
    bool draining;
    bool stop_timer;
    atomic_uint inflight;
    atomic_uint_fast64_t next_id;
    uint64_t id_seed;
};

/* Per-request state, from the first callback to completion. */
struct conn_state {
    struct buf body;
    bool too_large;
    char request_id[40];
    char method[16];
    char path[256];
    int status;
    uint64_t start_ms;
    struct feed *feed; /* owned; ended and freed at completion */
};

/* What a feed has for the HTTP layer now. */
enum feed_state {
    FEED_BYTES, /* out holds bytes of the answer from off on */
    FEED_WAIT,  /* parked: the connection is suspended until due */
    FEED_DONE,  /* the source is complete */
    FEED_CUT,   /* a connection action was carried out: close the socket */
    FEED_FAIL,  /* the source or the server failed */
};

/* An answer produced by a source (source.h), from the handler's response to
 * the request's completion. Owned by the request's conn_state; the MHD
 * response of a streamed answer borrows it. */
struct feed {
    struct server *srv;
    struct MHD_Connection *conn;
    struct response resp; /* status, headers, the source; owned */
    struct buf out;       /* the current piece, or an action's raw bytes */
    size_t off;           /* bytes of out already handed on */
    struct buf body;      /* a whole answer's pieces so far */
    uint64_t npieces;     /* pieces in body */
    uint64_t start;       /* real ms when the answer began */
    uint64_t due;         /* real ms at which to go on: the heap's key */
    uint64_t act_until;   /* real ms after which an action stops waiting */
    uint64_t pieces;      /* handed on to MHD (or the socket) */
    uint64_t bytes;
    /* What the socket took, for end() and the log: what was handed on
     * before MHD last asked for more (it asks only once it has sent all it
     * was given), and everything once the answer completed. */
    uint64_t sent_pieces;
    uint64_t sent_bytes;
    enum source_step action; /* SOURCE_CLOSE or SOURCE_RESET once asked */
    bool acting;
    bool hurried;
    bool done; /* the source said SOURCE_DONE */
    bool cut;  /* the server cut the answer (an action, or a failure) */
};

/* splitmix64: spreads a counter into well-mixed bits for request ids. */
static uint64_t mix64(uint64_t x)
{
    x += UINT64_C(0x9e3779b97f4a7c15);
    x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
    return x ^ (x >> 31);
}

/* Writes a fresh "req_" + 32 hex digits id. */
static void make_request_id(struct server *s, char *out, size_t outlen)
{
    uint64_t n = atomic_fetch_add(&s->next_id, 1);
    uint64_t a = mix64(s->id_seed ^ n), b = mix64(a ^ n);

    snprintf(out, outlen, "req_%016" PRIx64 "%016" PRIx64, a, b);
}

/* Heap helpers: swap, sift up, sift down. */
static void heap_swap(struct timer_heap *h, size_t i, size_t j)
{
    struct feed *t = h->items[i];

    h->items[i] = h->items[j];
    h->items[j] = t;
}

static int heap_push(struct timer_heap *h, struct feed *f)
{
    size_t i;

    if (h->n == h->cap) {
        size_t ncap = h->cap ? h->cap * 2 : 64;
        struct feed **p = realloc(h->items, ncap * sizeof(*p));

        if (p == NULL)
            return -1;
        h->items = p;
        h->cap = ncap;
    }
    i = h->n++;
    h->items[i] = f;
    while (i > 0 && h->items[(i - 1) / 2]->due > h->items[i]->due) {
        heap_swap(h, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
    return 0;
}

static struct feed *heap_pop(struct timer_heap *h)
{
    struct feed *top;
    size_t i = 0;

    if (h->n == 0)
        return NULL;
    top = h->items[0];
    h->items[0] = h->items[--h->n];
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;

        if (l < h->n && h->items[l]->due < h->items[m]->due)
            m = l;
        if (r < h->n && h->items[r]->due < h->items[m]->due)
            m = r;
        if (m == i)
            break;
        heap_swap(h, i, m);
        i = m;
    }
    return top;
}

/* Resumes answers as their waits end; everything at once when draining. */
static void *timer_main(void *arg)
{
    struct server *s = arg;

    pthread_mutex_lock(&s->lock);
    while (!s->stop_timer) {
        uint64_t now = clock_real_ms();

        if (s->heap.n > 0 && (s->draining || s->heap.items[0]->due <= now)) {
            struct feed *f = heap_pop(&s->heap);

            MHD_resume_connection(f->conn);
            continue;
        }
        if (s->heap.n == 0) {
            pthread_cond_wait(&s->cond, &s->lock);
        } else {
            uint64_t due = s->heap.items[0]->due;
            struct timespec ts;

            clock_gettime(CLOCK_MONOTONIC, &ts);
            ts.tv_sec += (time_t)((due - now) / 1000);
            ts.tv_nsec += (long)((due - now) % 1000) * 1000000L;
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&s->cond, &s->lock, &ts);
        }
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

/* Parks f's connection until due (real ms); false if it must not wait: the
 * server is shutting down, or the heap cannot grow. Called only from MHD's
 * access handler or content reader, as MHD_suspend_connection requires. */
static bool feed_park(struct feed *f, uint64_t due)
{
    struct server *s = f->srv;
    bool parked = false;

    pthread_mutex_lock(&s->lock);
    if (s->draining)
        goto out;
    f->due = due;
    MHD_suspend_connection(f->conn);
    if (heap_push(&s->heap, f) != 0) {
        MHD_resume_connection(f->conn);
        goto out;
    }
    pthread_cond_signal(&s->cond);
    parked = true;
out:
    pthread_mutex_unlock(&s->lock);
    return parked;
}

/* Hurries the source once the server is shutting down, so it ends at once. */
static void feed_check_drain(struct feed *f)
{
    bool draining;

    if (f->hurried)
        return;
    pthread_mutex_lock(&f->srv->lock);
    draining = f->srv->draining;
    pthread_mutex_unlock(&f->srv->lock);
    if (draining) {
        f->hurried = true;
        f->resp.source.ops->hurry(f->resp.source.self);
    }
}

/* Parks f for a short retry while its connection action may still wait. */
static bool feed_retry(struct feed *f, uint64_t now)
{
    return now < f->act_until && feed_park(f, now + FEED_RETRY_MS);
}

/* Resets a TCP connection (RST) and leaves the descriptor to MHD, which
 * still closes it. Connecting a TCP socket to AF_UNSPEC disconnects it with
 * a reset (Linux: tcp_disconnect); MHD's own shutdown and close then find
 * nothing to send. SO_LINGER {1, 0} is not enough: MHD shuts the socket
 * down for writing before it closes it, and the client reads that FIN as a
 * clean end of the stream before the reset arrives. */
static void socket_reset(int fd)
{
    struct sockaddr sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_family = AF_UNSPEC;
    (void)connect(fd, &sa, sizeof(sa));
}

/* Carries out the source's connection action: its raw bytes go to the
 * socket first (MHD has nothing of this connection's unsent when a source
 * is asked for more), then the reset, or, for a close, nothing more: the
 * caller reports failure to MHD, which shuts the socket down and closes it.
 * Waits parked, never blocking a thread, while the socket is full or the
 * client has not yet acknowledged every byte (a reset would discard them),
 * at most SERVER_TIMEOUT_S and never during shutdown. */
static enum feed_state feed_act(struct feed *f)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(f->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    int fd = ci != NULL ? ci->connect_fd : -1, unsent = 0;
    uint64_t now = clock_real_ms();

    if (!f->acting) {
        f->acting = true;
        f->act_until = now + SERVER_TIMEOUT_S * 1000u;
    }
    while (fd >= 0 && f->off < f->out.len) {
        ssize_t n =
            send(fd, f->out.data + f->off, f->out.len - f->off, MSG_NOSIGNAL);

        if (n > 0) {
            f->off += (size_t)n;
            f->bytes += (uint64_t)n;
            f->sent_bytes += (uint64_t)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) &&
                   feed_retry(f, now)) {
            return FEED_WAIT;
        } else {
            break; /* the client is gone, or the wait is over */
        }
    }
    if (fd >= 0 && f->action == SOURCE_RESET) {
        if (ioctl(fd, SIOCOUTQ, &unsent) == 0 && unsent > 0 &&
            feed_retry(f, now))
            return FEED_WAIT;
        socket_reset(fd);
    }
    f->cut = true;
    return FEED_CUT;
}

/* Asks the source for what comes next, parking the connection while the
 * source says to wait. */
static enum feed_state feed_pull(struct feed *f)
{
    const struct source *src = &f->resp.source;
    uint64_t rel, due;

    if (f->acting)
        return feed_act(f);
    if (f->off < f->out.len)
        return FEED_BYTES;
    feed_check_drain(f);
    rel = src->ops->due_ms(src->self);
    due = rel > UINT64_MAX - f->start ? UINT64_MAX : f->start + rel;
    if (due > clock_real_ms() && feed_park(f, due))
        return FEED_WAIT;
    buf_reset(&f->out);
    f->off = 0;
    switch (src->ops->next(src->self, &f->out)) {
    case SOURCE_PIECE:
        return FEED_BYTES;
    case SOURCE_DONE:
        f->done = true;
        return FEED_DONE;
    case SOURCE_CLOSE:
        f->action = SOURCE_CLOSE;
        return feed_act(f);
    case SOURCE_RESET:
        f->action = SOURCE_RESET;
        return feed_act(f);
    default:
        f->cut = true;
        return FEED_FAIL;
    }
}

/* Hands up to max bytes of the current piece to MHD. */
static ssize_t feed_copy(struct feed *f, char *out, size_t max)
{
    size_t n = f->out.len - f->off;

    if (n > max)
        n = max;
    memcpy(out, f->out.data + f->off, n);
    f->off += n;
    f->bytes += n;
    if (f->off == f->out.len)
        f->pieces++;
    return (ssize_t)n;
}

/* MHD content reader of a streamed answer: one piece at a time, the
 * connection suspended while the source says to wait. MHD asks again only
 * once it has sent everything handed to it before. */
static ssize_t feed_read(void *cls, uint64_t pos, char *out, size_t max)
{
    struct feed *f = cls;
    enum feed_state st;

    (void)pos;
    f->sent_pieces = f->pieces;
    f->sent_bytes = f->bytes;
    while ((st = feed_pull(f)) == FEED_BYTES && f->off == f->out.len)
        f->pieces++; /* an empty piece: nothing to hand on, ask again */
    switch (st) {
    case FEED_BYTES:
        return feed_copy(f, out, max);
    case FEED_WAIT:
        return 0;
    case FEED_DONE:
        return MHD_CONTENT_READER_END_OF_STREAM;
    default:
        return MHD_CONTENT_READER_END_WITH_ERROR;
    }
}

/* The pieces the socket took by the end of the request. */
static uint64_t feed_sent_pieces(const struct feed *f,
                                 enum MHD_RequestTerminationCode toe)
{
    return toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? f->pieces
                                                      : f->sent_pieces;
}

/* Tells the source how its answer ended, then frees f. */
static void feed_end(struct feed *f, enum MHD_RequestTerminationCode toe)
{
    struct source_end how;

    memset(&how, 0, sizeof(how));
    how.pieces = feed_sent_pieces(f, toe);
    how.bytes =
        toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? f->bytes : f->sent_bytes;
    /* No flag when the source's own action or failure cut the answer; any
     * other end short of completion is the client's (closed, reset, timed
     * out) but for the server's shutdown. */
    how.completed = toe == MHD_REQUEST_TERMINATED_COMPLETED_OK && f->done;
    how.shutdown = !how.completed && !f->cut &&
                   toe == MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN;
    how.client_gone = !how.completed && !f->cut && !how.shutdown;
    f->resp.source.ops->end(f->resp.source.self, &how);
    f->resp.source.ops = NULL;
    response_cleanup(&f->resp);
    buf_cleanup(&f->out);
    buf_cleanup(&f->body);
    free(f);
}

/* Builds the MHD response for a JSON (or empty) body: the text and a
 * newline, rendered whole (jsonio.h), or NULL. Not capped here: what a
 * handler builds is bounded by the request's budget already. */
static struct MHD_Response *json_response(const struct response *resp)
{
    struct MHD_Response *r = NULL;
    struct buf text;
    char *bytes = NULL;
    size_t len;

    if (resp->json_text != NULL) {
        r = MHD_create_response_from_buffer(
            resp->json_text_len, resp->json_text, MHD_RESPMEM_MUST_COPY);
        if (r != NULL)
            MHD_add_response_header(r, "Content-Type", "application/json");
        return r;
    }
    if (resp->body == NULL)
        return MHD_create_response_from_buffer(0, (void *)"",
                                               MHD_RESPMEM_PERSISTENT);
    buf_init(&text, SIZE_MAX);
    if (jsonio_append(&text, resp->body, JSON_COMPACT | resp->json_flags) !=
            0 ||
        buf_append(&text, "\n", 1) != 0 ||
        (bytes = buf_take(&text, &len)) == NULL)
        goto out;
    r = MHD_create_response_from_buffer(len, bytes, MHD_RESPMEM_MUST_FREE);
    if (r == NULL)
        goto out;
    bytes = NULL; /* r owns it now */
    MHD_add_response_header(r, "Content-Type", "application/json");
out:
    free(bytes);
    buf_cleanup(&text);
    return r;
}

/* Adds resp's headers and the common ones to r and queues it with resp's
 * status; consumes the caller's reference to r. */
static enum MHD_Result queue(struct MHD_Connection *conn, struct conn_state *cs,
                             const struct response *resp,
                             struct MHD_Response *r)
{
    enum MHD_Result ret;
    size_t i;

    for (i = 0; i < resp->nheaders; i++)
        MHD_add_response_header(r, resp->headers[i].name,
                                resp->headers[i].value);
    MHD_add_response_header(r, "x-request-id", cs->request_id);
    MHD_add_response_header(r, "Access-Control-Allow-Origin", "*");
    MHD_add_response_header(r, "Access-Control-Expose-Headers",
                            "x-request-id, retry-after, retry-after-ms, "
                            "x-ratelimit-limit-requests, "
                            "x-ratelimit-remaining-requests, "
                            "x-ratelimit-reset-requests, "
                            "x-ratelimit-limit-tokens, "
                            "x-ratelimit-remaining-tokens, "
                            "x-ratelimit-reset-tokens");
    cs->status = resp->status;
    ret = MHD_queue_response(conn, (unsigned)resp->status, r);
    MHD_destroy_response(r);
    return ret;
}

/* Answers a bare 500 with an OpenAI error body, rather than drop the
 * client, when the answer could not be built. */
static enum MHD_Result queue_server_error(struct MHD_Connection *conn,
                                          struct conn_state *cs,
                                          const char *message)
{
    struct response resp;
    struct api_error e;
    struct MHD_Response *r;
    enum MHD_Result ret = MHD_NO;

    response_init(&resp);
    api_error_set(&e, API_ERR_SERVER, NULL, NULL, "%s", message);
    response_error(&resp, &e);
    r = json_response(&resp);
    if (r != NULL)
        ret = queue(conn, cs, &resp, r);
    response_cleanup(&resp);
    return ret;
}

/* Queues a JSON answer. */
static enum MHD_Result answer_json(struct MHD_Connection *conn,
                                   struct conn_state *cs, struct response *resp)
{
    struct MHD_Response *r;
    struct api_error e;

    if (resp->status >= 400 && resp->body == NULL && resp->json_text == NULL) {
        /* An error whose body could not be built still gets one. */
        api_error_set(&e, API_ERR_SERVER, NULL, NULL,
                      "The server could not build the error response.");
        response_error(resp, &e);
    }
    r = json_response(resp);
    if (r == NULL)
        return queue_server_error(conn, cs, "Out of memory.");
    return queue(conn, cs, resp, r);
}

/* Goes on with a whole answer: gathers its pieces, parked between them,
 * and queues them as one body once the source is done. Called from the
 * access handler, first by feed_start, then after every resume. */
static enum MHD_Result feed_whole(struct feed *f, struct conn_state *cs)
{
    enum feed_state st;
    struct MHD_Response *r = NULL;
    char *text;
    size_t len = 0;

    while ((st = feed_pull(f)) == FEED_BYTES) {
        if (buf_append(&f->body, f->out.data + f->off, f->out.len - f->off) !=
            0) {
            f->cut = true;
            st = FEED_FAIL;
            break;
        }
        f->off = f->out.len;
        f->npieces++;
    }
    switch (st) {
    case FEED_WAIT:
        return MHD_YES;
    case FEED_CUT:
        cs->status = STATUS_NO_ANSWER;
        return MHD_NO; /* MHD closes the connection */
    case FEED_DONE:
        text = buf_take(&f->body, &len);
        if (text != NULL)
            r = MHD_create_response_from_buffer(len, text,
                                                MHD_RESPMEM_MUST_FREE);
        if (r != NULL)
            break;
        free(text);
        f->cut = true;
        /* fall through */
    default:
        return queue_server_error(f->conn, cs,
                                  "The server could not produce the answer.");
    }
    MHD_add_response_header(r, "Content-Type",
                            f->resp.content_type ? f->resp.content_type
                                                 : "application/octet-stream");
    if (queue(f->conn, cs, &f->resp, r) != MHD_YES)
        return MHD_NO;
    f->pieces = f->sent_pieces = f->npieces;
    f->bytes = f->sent_bytes = len;
    return MHD_YES;
}

/* Starts answering from the source in resp, which it takes: a streamed
 * answer's headers go out now, a whole answer waits for its source. */
static enum MHD_Result feed_start(struct server *s, struct MHD_Connection *conn,
                                  struct conn_state *cs, struct response *resp)
{
    struct feed *f = calloc(1, sizeof(*f));
    struct MHD_Response *r;

    if (f == NULL)
        return queue_server_error(conn, cs, "Out of memory.");
    f->srv = s;
    f->conn = conn;
    f->resp = *resp; /* f owns the source now */
    response_init(resp);
    buf_init(&f->out, FEED_MAX_BYTES);
    buf_init(&f->body, FEED_MAX_BYTES);
    f->start = clock_real_ms();
    cs->feed = f;
    if (f->resp.framing == SOURCE_WHOLE)
        return feed_whole(f, cs);
    r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, STREAM_BLOCK,
                                          feed_read, f, NULL);
    if (r == NULL) {
        f->cut = true;
        return queue_server_error(conn, cs, "Out of memory.");
    }
    MHD_add_response_header(r, "Content-Type",
                            f->resp.content_type ? f->resp.content_type
                                                 : "application/octet-stream");
    MHD_add_response_header(r, "Cache-Control", "no-cache");
    return queue(conn, cs, &f->resp, r);
}

/* Looks up a query argument for the router (struct request's query). */
static const char *conn_query(const void *ctx, const char *name)
{
    return MHD_lookup_connection_value((struct MHD_Connection *)ctx,
                                       MHD_GET_ARGUMENT_KIND, name);
}

/* A header callback of struct request's each_header, and its argument. */
struct header_visit {
    void (*fn)(void *arg, const char *name, const char *value);
    void *arg;
};

/* MHD's iterator over the headers, handing each to the visit in cls. */
static enum MHD_Result visit_header(void *cls, enum MHD_ValueKind kind,
                                    const char *key, const char *value)
{
    struct header_visit *v = cls;

    (void)kind;
    v->fn(v->arg, key, value);
    return MHD_YES;
}

/* Calls fn for each request header, for the journal (struct request's
 * each_header). */
static void conn_each_header(const void *ctx,
                             void (*fn)(void *arg, const char *name,
                                        const char *value),
                             void *arg)
{
    struct header_visit v = {fn, arg};

    MHD_get_connection_values((struct MHD_Connection *)ctx, MHD_HEADER_KIND,
                              visit_header, &v);
}

/* Answers a CORS preflight so browser clients can call the mock. */
static enum MHD_Result answer_preflight(struct MHD_Connection *conn,
                                        struct conn_state *cs)
{
    const char *want = MHD_lookup_connection_value(
        conn, MHD_HEADER_KIND, "Access-Control-Request-Headers");
    struct MHD_Response *r =
        MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    enum MHD_Result ret;

    if (r == NULL)
        return MHD_NO;
    MHD_add_response_header(r, "Access-Control-Allow-Origin", "*");
    MHD_add_response_header(r, "Access-Control-Allow-Methods",
                            "GET, POST, OPTIONS");
    MHD_add_response_header(r, "Access-Control-Allow-Headers",
                            want ? want : "Authorization, Content-Type");
    MHD_add_response_header(r, "Access-Control-Max-Age", "86400");
    MHD_add_response_header(r, "x-request-id", cs->request_id);
    cs->status = MHD_HTTP_NO_CONTENT;
    ret = MHD_queue_response(conn, MHD_HTTP_NO_CONTENT, r);
    MHD_destroy_response(r);
    return ret;
}

/* Looks up a request header for the router (struct request's header). */
static const char *conn_header(const void *ctx, const char *name)
{
    return MHD_lookup_connection_value((struct MHD_Connection *)ctx,
                                       MHD_HEADER_KIND, name);
}

/* Routes the finished request and queues its answer. */
static enum MHD_Result answer(struct server *s, struct MHD_Connection *conn,
                              const char *url, const char *method,
                              struct conn_state *cs)
{
    struct request req;
    struct response resp;
    enum MHD_Result ret;

    if (strcmp(method, "OPTIONS") == 0)
        return answer_preflight(conn, cs);
    memset(&req, 0, sizeof(req));
    req.method = method;
    req.path = url;
    req.query = conn_query;
    req.each_header = conn_each_header;
    req.authorization =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
    req.body = cs->body.data;
    req.body_len = cs->body.len;
    req.body_too_large = cs->too_large;
    req.request_id = cs->request_id;
    req.header = conn_header;
    req.header_ctx = conn;
    response_init(&resp);
    router_dispatch(s->app, &req, &resp);
    if (resp.source.ops != NULL)
        ret = feed_start(s, conn, cs, &resp);
    else
        ret = answer_json(conn, cs, &resp);
    response_cleanup(&resp);
    return ret;
}

/* Is the declared Content-Length over the limit? */
static bool declared_too_large(struct MHD_Connection *conn, size_t max)
{
    const char *cl =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
    char *end;
    unsigned long long v;

    if (cl == NULL)
        return false;
    errno = 0;
    v = strtoull(cl, &end, 10);
    return errno == ERANGE || (end != cl && v > max);
}

/* MHD access handler: accumulates the body under its cap, then answers. */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
                                  const char *url, const char *method,
                                  const char *version, const char *data,
                                  size_t *data_size, void **con_cls)
{
    struct server *s = cls;
    struct conn_state *cs = *con_cls;

    (void)version;
    if (cs == NULL) {
        cs = calloc(1, sizeof(*cs));
        if (cs == NULL)
            return MHD_NO;
        buf_init(&cs->body, s->app->max_body);
        make_request_id(s, cs->request_id, sizeof(cs->request_id));
        snprintf(cs->method, sizeof(cs->method), "%s", method);
        snprintf(cs->path, sizeof(cs->path), "%s", url);
        cs->start_ms = clock_real_ms();
        atomic_fetch_add(&s->inflight, 1);
        *con_cls = cs;
        /* A body declared too large is refused before it is read. */
        if (declared_too_large(conn, s->app->max_body)) {
            cs->too_large = true;
            return answer(s, conn, url, method, cs);
        }
        return MHD_YES;
    }
    if (*data_size > 0) {
        if (!cs->too_large && buf_append(&cs->body, data, *data_size) != 0)
            cs->too_large = true;
        *data_size = 0;
        return MHD_YES;
    }
    if (cs->status != 0)
        return MHD_YES; /* already answered (413 before the body) */
    if (cs->feed != NULL)
        return feed_whole(cs->feed, cs); /* resumed: a whole answer goes on */
    return answer(s, conn, url, method, cs);
}

/* Fills e with how the request in cs ended, for its log line: completed,
 * or cut by a source's action or failure, by the server's shutdown, or by
 * its client (closed, reset, timed out); a stream's events. */
static void request_outcome(const struct conn_state *cs,
                            enum MHD_RequestTerminationCode toe,
                            struct log_entry *e)
{
    const struct feed *f = cs->feed;

    memset(e, 0, sizeof(*e));
    e->request_id = cs->request_id;
    e->method = cs->method;
    e->path = cs->path;
    e->status = cs->status;
    if (toe == MHD_REQUEST_TERMINATED_COMPLETED_OK)
        e->outcome = LOG_COMPLETED;
    else if (f != NULL && f->cut)
        e->outcome = LOG_CUT;
    else if (toe == MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN)
        e->outcome = LOG_SHUTDOWN;
    else
        e->outcome = LOG_CLIENT_GONE;
    if (f != NULL && f->resp.framing == SOURCE_STREAMED) {
        e->streamed = true;
        e->events = feed_sent_pieces(f, toe);
    }
}

/* MHD completion hook: ends the request's source (which settles its
 * money), logs the request, and frees its state. */
static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct server *s = cls;
    struct conn_state *cs = *con_cls;
    struct log_entry entry;

    (void)conn;
    if (cs == NULL)
        return;
    request_outcome(cs, toe, &entry);
    if (cs->feed != NULL)
        feed_end(cs->feed, toe);
    cs->feed = NULL;
    entry.ms = (double)(clock_real_ms() - cs->start_ms);
    log_request(s->app->log, &entry);
    capture_end(s->app, &entry);
    buf_cleanup(&cs->body);
    atomic_fetch_sub(&s->inflight, 1);
    free(cs);
    *con_cls = NULL;
}

/* Resolves host into a socket address for MHD. Returns 0 or -1. */
static int resolve(const char *host, unsigned port, struct sockaddr_storage *ss,
                   char *cause, size_t causelen)
{
    struct addrinfo hints, *res = NULL;
    char portstr[8];
    int rc;

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    snprintf(portstr, sizeof(portstr), "%u", port);
    rc = getaddrinfo(host, portstr, &hints, &res);
    if (rc != 0 || res == NULL) {
        snprintf(cause, causelen, "cannot resolve host '%s': %s", host,
                 gai_strerror(rc));
        return -1;
    }
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    freeaddrinfo(res);
    return 0;
}

int server_start(struct app *app, const struct server_config *cfg,
                 struct server **out, char *cause, size_t causelen)
{
    struct server *s = calloc(1, sizeof(*s));
    struct sockaddr_storage ss;
    const union MHD_DaemonInfo *info;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
                     MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ITC;

    if (s == NULL) {
        snprintf(cause, causelen, "out of memory");
        return -1;
    }
    s->app = app;
    pthread_mutex_init(&s->lock, NULL);
    {
        pthread_condattr_t ca;

        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&s->cond, &ca);
        pthread_condattr_destroy(&ca);
    }
    atomic_init(&s->inflight, 0);
    atomic_init(&s->next_id, 1);
    if (getrandom(&s->id_seed, sizeof(s->id_seed), 0) !=
        (ssize_t)sizeof(s->id_seed))
        s->id_seed = (uint64_t)time(NULL) ^ (uint64_t)getpid();
    if (resolve(cfg->host, cfg->port, &ss, cause, causelen) != 0)
        goto fail;
    if (ss.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    if (pthread_create(&s->timer_thread, NULL, timer_main, s) != 0) {
        snprintf(cause, causelen, "cannot start the timer thread");
        goto fail;
    }
    s->timer_started = true;
    s->daemon = MHD_start_daemon(
        flags, (uint16_t)cfg->port, NULL, NULL, on_request, s,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)cfg->threads,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned int)cfg->max_connections,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)SERVER_TIMEOUT_S,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)SERVER_HEADER_MEMORY,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_END);
    if (s->daemon == NULL) {
        snprintf(cause, causelen, "cannot listen on %s port %u: %s", cfg->host,
                 cfg->port, errno ? strerror(errno) : "libmicrohttpd refused");
        goto fail;
    }
    info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    s->port = info ? info->port : cfg->port;
    *out = s;
    return 0;
fail:
    server_stop(s, 0);
    return -1;
}

unsigned server_port(const struct server *s)
{
    return s->port;
}

unsigned server_stop(struct server *s, unsigned grace_ms)
{
    unsigned left = 0;
    uint64_t deadline;
    MHD_socket lsock;

    if (s == NULL)
        return 0;
    if (s->daemon != NULL) {
        lsock = MHD_quiesce_daemon(s->daemon);
        if (lsock != MHD_INVALID_SOCKET)
            close(lsock);
    }
    pthread_mutex_lock(&s->lock);
    s->draining = true;
    pthread_cond_signal(&s->cond);
    pthread_mutex_unlock(&s->lock);
    deadline = clock_real_ms() + grace_ms;
    while ((left = atomic_load(&s->inflight)) > 0 &&
           clock_real_ms() < deadline) {
        struct timespec ts = {0, 5 * 1000000L};

        nanosleep(&ts, NULL);
    }
    if (s->daemon != NULL)
        MHD_stop_daemon(s->daemon);
    if (s->timer_started) {
        pthread_mutex_lock(&s->lock);
        s->stop_timer = true;
        pthread_cond_signal(&s->cond);
        pthread_mutex_unlock(&s->lock);
        pthread_join(s->timer_thread, NULL);
    }
    pthread_cond_destroy(&s->cond);
    pthread_mutex_destroy(&s->lock);
    free(s->heap.items);
    free(s);
    return left;
}
