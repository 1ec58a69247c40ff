/* server: libmicrohttpd glue: body intake, dispatch, response rendering,
 * answers from sources (source.h) and the timer that resumes them without
 * holding a worker thread. */
#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
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
#include "slots.h"
#include "source.h"

/* The buffer libmicrohttpd allocates, and clears, with each streamed
 * answer's response. A chunked answer (HTTP/1.1) goes out through the
 * connection's own buffer and never uses it, so it gets the least the
 * library takes (STREAM_BLOCK_CHUNKED); only an HTTP/1.0 client reads
 * through it, a block at a time (STREAM_BLOCK). At 16 KiB it was a third
 * of what a waiting stream cost (profile of 2,000 paced streams, page
 * faults); at 256 bytes, with the response, a twentieth (heaptrack). */
#define STREAM_BLOCK 256
#define STREAM_BLOCK_CHUNKED 1

/* The most bytes of a request's path its log line gives. */
#define PATH_LOG_MAX 255

/* The largest piece, and the largest whole answer, a source may produce. */
#define FEED_MAX_BYTES ((size_t)1 << 26)

/* How often a connection action looks again at a socket that is full or
 * still holds unacknowledged bytes. */
#define FEED_RETRY_MS 2u

/* The status logged for a request whose connection a source cut before any
 * HTTP answer went out (nginx's "no response"). */
#define STATUS_NO_ANSWER 444

/* A request id: "req_", 32 hex digits and the NUL. */
#define REQUEST_ID_SIZE 37

/* Where a feed that is not parked says it is in the timer heap. */
#define NOT_PARKED SIZE_MAX

/* Socket events the timer thread takes in one epoll_wait. */
#define TIMER_EVENTS 64

/* Paced pieces the timer thread writes itself between two looks at the
 * clock and its events, and the most bytes of pieces due at once it
 * gathers into one chunk. */
#define DIRECT_BATCH 256
#define DIRECT_GATHER 16384u

/* Room before a chunk's data for its size line: up to 16 hex digits and
 * CRLF. */
#define CHUNK_HEAD_ROOM 18

/* What an answer's headers need of the connection's memory besides the
 * request's head (the longest the mock writes: rate-limit, retry, CORS and
 * a rule's own headers, with room for the chunked writer), and the least
 * that still holds an error answer's own headers (CORS, request id). */
#define ANSWER_ROOM 2048u
#define ERROR_ROOM 1024u

struct feed;

/* Min-heap of answers waiting to go on, ordered by due time; each feed
 * knows its index (at), so a client that leaves takes its feed out. */
struct timer_heap {
    struct feed **items;
    size_t n, cap;
};

/* A timer thread and what it owns: the answers parked on it (a heap by due
 * time), the epoll set that watches their sockets, and the chunks it
 * writes for them. The server runs one per worker thread (--threads), and
 * an answer parks on the one its socket's number picks, for its whole
 * life: writing paced pieces, most of what a paced stream costs, spreads
 * over the cores (one timer thread was 90% busy at 10,000 paced streams
 * while the workers idled). */
struct timer {
    struct server *srv;
    pthread_t thread;
    bool started;
    pthread_mutex_t lock; /* guards what follows, and its feeds' gone */
    struct timer_heap heap;
    /* The thread sleeps in epoll_wait on ep, which holds the socket of
     * every answer parked here since its first wait (so that it sees a
     * client leave) and wake, an eventfd written when the first wait
     * changes or the server stops. Two descriptors a timer, none per
     * answer. */
    int ep;
    int wake;
    /* The thread is in (or just out of) epoll_wait without the lock: an
     * event it holds may name a feed that has ended since. Such a feed
     * goes to graveyard (linked by next_dead) instead of being freed, and
     * the thread frees it once it has read its events. */
    bool polling;
    struct feed *graveyard;
    bool draining;
    bool stop;
    /* Feeds the thread holds outside the heap: writing their pieces
     * (unlocked), or waiting for their socket to take the rest of a chunk
     * (the list pending, linked by next_pending). Not idle until 0. */
    size_t held;
    struct feed *pending;
    /* The thread's own: a chunk being made, and one piece. */
    struct buf chunk;
    struct buf piece;
};

struct server {
    struct app *app;
    struct MHD_Daemon *daemon;
    unsigned port;
    size_t max_headers;         /* each connection's memory (server_config) */
    unsigned idle_s;            /* the idle timeout (server_config) */
    struct slots_config limits; /* as slots has them, for the log */
    struct slots *slots;        /* every connection held, and its deadline */
    /* The address of this byte marks a request whose raw path holds %00
     * (on_uri); it is never read or written. */
    char nul_path;
    /* The timer threads, one per worker thread; the first also cuts
     * connections at their deadlines and logs what was refused or cut. */
    struct timer *timers;
    unsigned ntimers;
    /* Set by server_stop: every new connection is closed as soon as it is
     * accepted (see server_stop for why not MHD_quiesce_daemon). */
    atomic_bool closing;
    atomic_uint inflight;
    atomic_uint_fast64_t next_id;
    uint64_t id_seed;
};

/* Per-request state, from the first callback to completion. */
struct conn_state {
    struct buf body;
    bool too_large;
    /* The head left less than ANSWER_ROOM of the connection's memory: the
     * bytes it left (the answer is a 431). SIZE_MAX: room enough. */
    size_t cramped;
    const char *bad; /* the error code of a malformed request, or NULL */
    char request_id[REQUEST_ID_SIZE];
    char method[16];
    bool http10; /* the request is HTTP/1.0: a stream is not chunked */
    int status;
    uint64_t start_ms;
    struct feed *feed; /* owned; ended and freed at completion */
    /* The path for the log line, cut to PATH_LOG_MAX bytes: as long as it
     * is, where a fixed 256 bytes was most of what the state cost a
     * waiting stream. */
    char path[];
};

/* What a feed has for the HTTP layer now. */
enum feed_state {
    FEED_BYTES, /* out holds bytes of the answer from off on */
    FEED_WAIT,  /* parked: the connection is suspended until due */
    FEED_DONE,  /* the source is complete */
    FEED_CUT,   /* a connection action was carried out: close the socket */
    FEED_GONE,  /* the client left while the answer waited */
    FEED_FAIL,  /* the source or the server failed */
};

/* What only a whole answer keeps while its source runs: the response it
 * queues at the end (status, headers, content type; its source moved to
 * the feed) and the pieces so far. A stream has none: it would be 150
 * bytes of each waiting stream's (heaptrack, 2,000 paced streams). */
struct whole {
    struct response resp;
    struct buf body;  /* the pieces so far */
    uint64_t npieces; /* pieces in body */
};

/* An answer produced by a source (source.h), from the handler's response to
 * the request's completion. Owned by the request's conn_state; the MHD
 * response of a streamed answer borrows it. */
struct feed {
    struct server *srv;
    struct MHD_Connection *conn;
    struct source source; /* owned */
    struct whole *whole;  /* owned; SOURCE_WHOLE only */
    struct buf out;       /* the current piece, or an action's raw bytes; freed
                             while the answer waits */
    /* A streamed answer's MHD response while it still holds its header
     * list (borrowed: the connection owns it); NULL once dropped. */
    struct MHD_Response *headed;
    size_t off;     /* bytes of out already handed on */
    uint64_t start; /* real ms when the answer began, rounded up */
    /* real ms at which to go on: the heap's key; while pending, the end of
     * the wait for room (the idle timeout after the last progress) */
    uint64_t due;
    size_t at; /* index in the timer heap, or NOT_PARKED */
    union {
        struct feed *next_dead;    /* in srv->graveyard, once dead */
        struct feed *next_pending; /* in srv->pending, while pending */
    } link;
    uint64_t act_until; /* real ms after which an action stops waiting */
    uint64_t pieces;    /* handed on to MHD (or the socket) */
    uint64_t bytes;
    /* What the socket took, for end() and the log: what was handed on
     * before MHD last asked for more (it asks only once it has sent all it
     * was given), and everything once the answer completed. */
    uint64_t sent_pieces;
    uint64_t sent_bytes;
    enum source_framing framing;
    enum source_step action; /* SOURCE_CLOSE or SOURCE_RESET once asked */
    enum source_step deferred_step;
    int fd; /* the connection's socket (MHD's), or -1 */
    /* pending: out's chunk rest ends here (a chunk is at most
     * DIRECT_GATHER bytes and one piece of at most FEED_MAX_BYTES) */
    uint32_t chunk_end;
    /* fd is in the timer's epoll set: from the first wait to the end of
     * the answer (under its timer's lock) */
    bool watched;
    /* the client left (under its timer's lock, or by that timer's thread
     * while it holds the feed out of the heap, unlocked) */
    bool gone;
    /* ended while its timer's thread polled (under its timer's lock) */
    bool dead;
    /* Its pieces go out chunked (HTTP/1.1, not HEAD): once parked at a
     * wait, the timer thread may write them to the socket itself. */
    bool chunked;
    bool direct;   /* parked for the timer thread to write (under lock) */
    bool pending;  /* out[off..] is a chunk's rest the socket did not take */
    bool writable; /* the socket said it takes more (timer thread) */
    bool acting;
    bool hurried;
    bool done;     /* the source said SOURCE_DONE */
    bool deferred; /* deferred_step awaits the next feed_pull */
    bool cut;      /* the server cut the answer (an action, or a failure) */
};

/* splitmix64: spreads a counter into well-mixed bits for request ids. */
static uint64_t mix64(uint64_t x)
{
    x += UINT64_C(0x9e3779b97f4a7c15);
    x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
    return x ^ (x >> 31);
}

/* Writes the 16 lower-case hex digits of v at out. */
static void put_hex64(char *out, uint64_t v)
{
    static const char hex[] = "0123456789abcdef";
    int i;

    for (i = 15; i >= 0; i--, v >>= 4)
        out[i] = hex[v & 15];
}

/* Writes a fresh "req_" + 32 hex digits id (by hand: snprintf was a
 * percent of the chat path's time). out holds at least REQUEST_ID_SIZE. */
static void make_request_id(struct server *s, char out[REQUEST_ID_SIZE])
{
    uint64_t n = atomic_fetch_add(&s->next_id, 1);
    uint64_t a = mix64(s->id_seed ^ n), b = mix64(a ^ n);

    memcpy(out, "req_", 4);
    put_hex64(out + 4, a);
    put_hex64(out + 20, b);
    out[36] = '\0';
}

/* Puts f at index i of the heap. */
static void heap_place(struct timer_heap *h, size_t i, struct feed *f)
{
    h->items[i] = f;
    f->at = i;
}

/* Heap helpers: swap, sift up, sift down. */
static void heap_swap(struct timer_heap *h, size_t i, size_t j)
{
    struct feed *t = h->items[i];

    heap_place(h, i, h->items[j]);
    heap_place(h, j, t);
}

static void heap_up(struct timer_heap *h, size_t i)
{
    while (i > 0 && h->items[(i - 1) / 2]->due > h->items[i]->due) {
        heap_swap(h, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
}

static void heap_down(struct timer_heap *h, size_t i)
{
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
}

static int heap_push(struct timer_heap *h, struct feed *f)
{
    if (h->n == h->cap) {
        size_t ncap = h->cap ? h->cap * 2 : 64;
        struct feed **p = realloc(h->items, ncap * sizeof(*p));

        if (p == NULL)
            return -1;
        h->items = p;
        h->cap = ncap;
    }
    heap_place(h, h->n++, f);
    heap_up(h, f->at);
    return 0;
}

/* Takes f out of the heap, wherever it is. */
static void heap_remove(struct timer_heap *h, struct feed *f)
{
    struct feed *last = h->items[--h->n];

    if (last != f) {
        heap_place(h, f->at, last);
        heap_down(h, last->at);
        heap_up(h, last->at);
    }
    f->at = NOT_PARKED;
}

/* The timer an answer parks on, for its whole life: the one its socket's
 * number picks (the first without a socket). */
static struct timer *feed_timer(const struct feed *f)
{
    const struct server *s = f->srv;

    return &s->timers[f->fd >= 0 ? (unsigned)f->fd % s->ntimers : 0];
}

/* Wakes timer t's thread from its epoll_wait. */
static void timer_wake(struct timer *t)
{
    uint64_t one = 1;
    ssize_t n = write(t->wake, &one, sizeof(one));

    (void)n; /* a full counter already wakes it */
}

/* Resumes a parked answer; gone says its client left. Only its timer's
 * thread calls it, with t->lock held. The socket stays in the epoll set
 * until the answer ends (feed_end): taking it out and putting it back at
 * each wait were two of the three system calls of a paced token (perf
 * stat of 2,000 paced streams: 36,000 epoll_ctl for 20,000 sends). */
static void feed_unpark(struct timer *t, struct feed *f, bool gone)
{
    heap_remove(&t->heap, f);
    f->gone = f->gone || gone;
    MHD_resume_connection(f->conn);
}

/* Cuts a connection at its deadline (slots_expire's callback): the
 * library then reads the end of the stream and closes it, as if the client
 * had left. The descriptor stays the library's to close. */
static void cut_socket(int fd, void *cls)
{
    (void)cls;
    shutdown(fd, SHUT_RDWR);
}

/* Logs what the connection bookkeeping has to report, if a report is due:
 * refusals as an error (they print even with --quiet), deadlines as info. */
static void server_report(struct server *s)
{
    struct slots_news n;

    if (!slots_report(s->slots, clock_real_ms(), &n))
        return;
    if (n.refused_total + n.refused_addr > 0)
        log_error(s->app->log,
                  "refusing connections: %llu refused (%llu at the limit of "
                  "%u in all, %llu at the limit of %u per address; the last "
                  "from %s)",
                  (unsigned long long)(n.refused_total + n.refused_addr),
                  (unsigned long long)n.refused_total, s->limits.max_total,
                  (unsigned long long)n.refused_addr, s->limits.max_per_addr,
                  n.last_refused[0] ? n.last_refused : "an unknown address");
    if (n.cut_headers + n.cut_body > 0)
        log_info(s->app->log,
                 "closed %llu slow connections: %llu past the header "
                 "deadline (%llu s), %llu past the body deadline (%llu s)",
                 (unsigned long long)(n.cut_headers + n.cut_body),
                 (unsigned long long)n.cut_headers,
                 (unsigned long long)(s->limits.header_ms / 1000),
                 (unsigned long long)n.cut_body,
                 (unsigned long long)(s->limits.body_ms / 1000));
}

/* Milliseconds from now until at, for epoll_wait: -1 for never. */
static int wait_ms(uint64_t at, uint64_t now)
{
    if (at == UINT64_MAX)
        return -1;
    if (at <= now)
        return 0;
    return at - now > INT_MAX ? INT_MAX : (int)(at - now);
}

/* Frees the feeds that ended while t's thread polled. With t->lock held,
 * by that thread once it has read its events. */
static void timer_bury(struct timer *t)
{
    while (t->graveyard != NULL) {
        struct feed *f = t->graveyard;

        t->graveyard = f->link.next_dead;
        free(f);
    }
}

/* Parks f's connection until due (real ms); false if it must not wait: the
 * server is shutting down, or the heap cannot grow. Called only from MHD's
 * access handler or content reader, as MHD_suspend_connection requires.
 * Its socket joins the timer's epoll set, watched for the client leaving
 * (EPOLLRDHUP; a reset or an error always reports); without that watch (no
 * memory for it) the answer still ends, when its wait does. direct: MHD
 * has sent all it was given and frames the answer in chunks, so the timer
 * thread may write the pieces due next itself (feed_write). */
static bool feed_park(struct feed *f, uint64_t due, bool direct)
{
    struct timer *t = feed_timer(f);
    struct epoll_event ev;
    bool parked = false;

    pthread_mutex_lock(&t->lock);
    if (t->draining)
        goto out;
    f->due = due;
    MHD_suspend_connection(f->conn);
    if (heap_push(&t->heap, f) != 0) {
        MHD_resume_connection(f->conn);
        goto out;
    }
    if (!f->watched && f->fd >= 0) {
        /* Edge-triggered: a client that leaves while its answer is not
         * parked is reported once (and marked gone), not at every wait. */
        memset(&ev, 0, sizeof(ev));
        ev.events = EPOLLRDHUP | EPOLLET;
        ev.data.ptr = f;
        f->watched = epoll_ctl(t->ep, EPOLL_CTL_ADD, f->fd, &ev) == 0;
    }
    /* Without the watch, a socket that fills could not be waited for. */
    f->direct = direct && f->watched;
    if (f->at == 0)
        timer_wake(t); /* the first wait changed */
    parked = true;
out:
    pthread_mutex_unlock(&t->lock);
    return parked;
}

/* Reads what the timer thread may have said about f: hurries the source
 * once the server is shutting down, so it ends at once, and returns
 * whether f's client left while it was parked. */
static bool feed_check(struct feed *f)
{
    struct timer *t = feed_timer(f);
    bool draining, gone;

    pthread_mutex_lock(&t->lock);
    draining = t->draining;
    gone = f->gone;
    pthread_mutex_unlock(&t->lock);
    if (draining && !f->hurried) {
        f->hurried = true;
        f->source.ops->hurry(f->source.self);
    }
    return gone;
}

/* Parks f for a short retry while its connection action may still wait. */
static bool feed_retry(struct feed *f, uint64_t now)
{
    return now < f->act_until && feed_park(f, now + FEED_RETRY_MS, false);
}

/* Sends what it can of the len bytes at data to fd without blocking, and
 * returns how many the socket took; *full says it stopped because the
 * socket was full (EAGAIN), not because the client is gone (an error, or
 * a send that took nothing). */
static size_t send_some(int fd, const char *data, size_t len, bool *full)
{
    size_t took = 0;

    *full = false;
    while (took < len) {
        ssize_t n =
            send(fd, data + took, len - took, MSG_NOSIGNAL | MSG_DONTWAIT);

        if (n > 0) {
            took += (size_t)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else {
            *full = n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
            break;
        }
    }
    return took;
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
 * at most the idle timeout and never during shutdown. */
static enum feed_state feed_act(struct feed *f)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(f->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    int fd = ci != NULL ? ci->connect_fd : -1, unsent = 0;
    uint64_t now = clock_real_ms();
    bool full;

    if (!f->acting) {
        f->acting = true;
        f->act_until = now + f->srv->idle_s * 1000ull;
    }
    if (fd >= 0 && f->off < f->out.len) {
        size_t took =
            send_some(fd, f->out.data + f->off, f->out.len - f->off, &full);

        f->off += took;
        f->bytes += took;
        f->sent_bytes += took;
        /* Otherwise the client is gone, or the wait is over. */
        if (f->off < f->out.len && full && feed_retry(f, now))
            return FEED_WAIT;
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
/* What the feed does with the step its source took. */
static enum feed_state feed_step(struct feed *f, enum source_step step)
{
    switch (step) {
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

/* Real ms at which the source's next piece is due. */
static uint64_t feed_due(const struct feed *f)
{
    const struct source *src = &f->source;
    uint64_t rel = src->ops->due_ms(src->self);

    return rel > UINT64_MAX - f->start ? UINT64_MAX : f->start + rel;
}

/* Asks the source for its next step into out. */
static enum source_step feed_next(struct feed *f)
{
    const struct source *src = &f->source;

    buf_reset(&f->out);
    f->off = 0;
    return src->ops->next(src->self, &f->out);
}

/* Where the answer stands: bytes to hand on, a wait (the connection is
 * parked), its end, or an action on the socket. */
static enum feed_state feed_pull(struct feed *f)
{
    uint64_t due;

    if (f->acting)
        return feed_act(f);
    if (f->deferred) {
        f->deferred = false;
        return feed_step(f, f->deferred_step);
    }
    if (f->off < f->out.len)
        return FEED_BYTES;
    if (f->done)
        return FEED_DONE;
    if (feed_check(f))
        return FEED_GONE;
    due = feed_due(f);
    if (due > clock_real_ms()) {
        /* Handed on whole: a waiting answer keeps no piece's room. */
        buf_cleanup(&f->out);
        f->off = 0;
        if (feed_park(f, due, f->chunked))
            return FEED_WAIT;
    }
    return feed_step(f, feed_next(f));
}

/* Takes the source's next piece into out if it is due already, so that a
 * burst of pieces (an unpaced stream, or one hurried at shutdown) leaves
 * in one write instead of one write each. Any other step is kept for the
 * next call of feed_pull, once MHD has sent what it holds. Returns true
 * when out holds a new piece. */
static bool feed_more(struct feed *f)
{
    enum source_step step;

    if (f->done || f->deferred || feed_due(f) > clock_real_ms())
        return false;
    step = feed_next(f);
    if (step == SOURCE_PIECE)
        return true;
    f->deferred_step = step;
    f->deferred = true;
    return false;
}

/* What the timer thread does next with a feed it wrote pieces for. */
enum feed_next_move {
    MOVE_PARK,    /* back in the heap until its next piece is due */
    MOVE_RESUME,  /* back to MHD: its end, an action, a burst, a failure */
    MOVE_PENDING, /* wait for the socket to take the rest of the chunk */
};

/* Sends the rest of f's chunk (out from off to chunk_end) without
 * blocking; true once the socket took all of it, and then out keeps only
 * what followed the chunk (an action's bytes). A client that is gone is
 * marked so (its answer then ends through MHD). */
static bool feed_flush(struct feed *f)
{
    size_t after;
    bool full;

    f->off +=
        send_some(f->fd, f->out.data + f->off, f->chunk_end - f->off, &full);
    if (f->off < f->chunk_end) {
        if (!full)
            f->gone = true;
        return false;
    }
    after = f->out.len - f->chunk_end;
    memmove(f->out.data, f->out.data + f->chunk_end, after);
    buf_truncate(&f->out, after);
    f->off = f->chunk_end = 0;
    return true;
}

/* Has MHD's next call of f's content reader cut the connection: the
 * answer cannot go on whole (no memory, or a chunk cut short). */
static enum feed_next_move feed_fail(struct feed *f)
{
    f->deferred_step = SOURCE_FAIL;
    f->deferred = true;
    return MOVE_RESUME;
}

/* Gathers f's pieces that are due into t->chunk, after CHUNK_HEAD_ROOM
 * bytes; returns their length. Anything but a piece is kept for MHD's next
 * call of the content reader (deferred), an action's bytes in f->out. */
static size_t feed_gather(struct timer *t, struct feed *f, uint64_t now)
{
    const struct source *src = &f->source;
    size_t data = 0;

    while (!f->deferred && data < DIRECT_GATHER && feed_due(f) <= now) {
        enum source_step step;

        buf_reset(&t->piece);
        step = src->ops->next(src->self, &t->piece);
        if (step != SOURCE_PIECE) {
            f->deferred_step = step;
            f->deferred = true;
            if (buf_append(&f->out, t->piece.data, t->piece.len) != 0)
                f->deferred_step = SOURCE_FAIL;
            break;
        }
        if (buf_append(&t->chunk, t->piece.data, t->piece.len) != 0) {
            (void)feed_fail(f); /* the piece is lost */
            break;
        }
        f->pieces++;
        f->bytes += t->piece.len;
        data += t->piece.len;
    }
    return data;
}

/* Writes f's pieces that are due (by the timer thread, unlocked, while MHD
 * holds f's connection suspended and has nothing of it unsent) as one
 * chunk, framed as MHD frames them: the size in upper-case hex, CRLF, the
 * bytes, CRLF. This is the paced stream's whole cost per token: one send,
 * where handing the connection back to MHD cost an eventfd write, a
 * worker's wake-up, a walk of its suspended connections and two content
 * reader calls (perf of 10,000 paced streams: 16-19 us of the mock's CPU
 * per event, 8 of them the send). A rest the socket does not take yet
 * waits in f->out (pending) for the socket to have room. */
static enum feed_next_move feed_write(struct timer *t, struct feed *f,
                                      uint64_t now)
{
    char hex[CHUNK_HEAD_ROOM];
    size_t data, head, took, len;
    bool full;
    int hlen;

    if (f->pending) {
        size_t was = f->off;

        if (!feed_flush(f)) {
            if (f->off > was) /* progress: the client reads, slowly */
                f->due = now + f->srv->idle_s * 1000ull;
            return f->gone ? MOVE_RESUME : MOVE_PENDING;
        }
        f->pending = false;
        f->sent_pieces = f->pieces;
        f->sent_bytes = f->bytes;
        goto next;
    }
    buf_reset(&f->out);
    f->off = f->chunk_end = 0;
    buf_reset(&t->chunk);
    if (buf_append(&t->chunk, hex, CHUNK_HEAD_ROOM) != 0)
        return MOVE_RESUME; /* MHD goes on with it */
    data = feed_gather(t, f, now);
    if (data == 0)
        goto next;
    hlen = snprintf(hex, sizeof(hex), "%zX\r\n", data);
    head = CHUNK_HEAD_ROOM - (size_t)hlen;
    memcpy(t->chunk.data + head, hex, (size_t)hlen);
    if (buf_append(&t->chunk, "\r\n", 2) != 0)
        return feed_fail(f);
    len = t->chunk.len - head;
    took = send_some(f->fd, t->chunk.data + head, len, &full);
    if (took < len && !full) {
        f->gone = true;
        return MOVE_RESUME;
    }
    if (took < len) {
        /* The rest goes first, then whatever action came after it. */
        buf_reset(&t->piece);
        if (buf_append(&t->piece, t->chunk.data + head + took, len - took) !=
                0 ||
            buf_append(&t->piece, f->out.data, f->out.len) != 0)
            return feed_fail(f);
        buf_reset(&f->out);
        if (buf_append(&f->out, t->piece.data, t->piece.len) != 0)
            return feed_fail(f);
        f->chunk_end = (uint32_t)(len - took);
        f->pending = true;
        /* A client that stops reading is idle: libmicrohttpd's timeout
         * does not run while the connection is suspended, so the wait for
         * room ends at the same bound. */
        f->due = now + f->srv->idle_s * 1000ull;
        return MOVE_PENDING;
    }
    f->sent_pieces = f->pieces;
    f->sent_bytes = f->bytes;
next:
    if (f->deferred)
        return MOVE_RESUME; /* out holds an action's bytes, if any */
    buf_cleanup(&f->out);
    /* Another piece due already (a burst) goes through MHD, which asks
     * for more only as the socket takes it. */
    return feed_due(f) <= clock_real_ms() ? MOVE_RESUME : MOVE_PARK;
}

/* Watches f's socket for room (EPOLLOUT) or, again, only for its client
 * leaving; false if the set refused. */
static bool feed_watch_room(struct timer *t, struct feed *f, bool room)
{
    struct epoll_event ev;

    memset(&ev, 0, sizeof(ev));
    ev.events = EPOLLRDHUP | EPOLLET | (room ? EPOLLOUT : 0);
    ev.data.ptr = f;
    return epoll_ctl(t->ep, EPOLL_CTL_MOD, f->fd, &ev) == 0;
}

/* Takes f out of the pending list. */
static void pending_remove(struct timer *t, struct feed *f)
{
    struct feed **p = &t->pending;

    while (*p != NULL && *p != f)
        p = &(*p)->link.next_pending;
    if (*p == f)
        *p = f->link.next_pending;
    f->link.next_pending = NULL;
    f->pending = false;
}

/* Hands a feed the timer thread held back to MHD. A chunk cut short on
 * the wire cannot go on: its answer ends as if the client had left. */
static void feed_release(struct timer *t, struct feed *f)
{
    if (f->pending) {
        pending_remove(t, f);
        buf_cleanup(&f->out);
        f->off = f->chunk_end = 0;
        (void)feed_fail(f);
    }
    t->held--;
    MHD_resume_connection(f->conn);
}

/* Does what feed_write said, with t->lock held. */
static void feed_move(struct timer *t, struct feed *f, enum feed_next_move move)
{
    if (move == MOVE_PENDING && !t->draining) {
        if (f->link.next_pending == NULL && t->pending != f) {
            if (!feed_watch_room(t, f, true)) {
                feed_release(t, f);
                return;
            }
            f->link.next_pending = t->pending;
            t->pending = f;
        }
        return;
    }
    if (f->link.next_pending != NULL || t->pending == f) {
        pending_remove(t, f);
        (void)feed_watch_room(t, f, false);
    }
    if (move == MOVE_PARK && !t->draining && !f->gone) {
        f->due = feed_due(f);
        if (heap_push(&t->heap, f) == 0) {
            t->held--;
            return;
        }
    }
    feed_release(t, f);
}

/* The earliest end of a pending feed's wait for room, or UINT64_MAX. */
static uint64_t pending_due(const struct timer *t)
{
    const struct feed *p;
    uint64_t due = UINT64_MAX;

    for (p = t->pending; p != NULL; p = p->link.next_pending)
        if (p->due < due)
            due = p->due;
    return due;
}

/* Writes the pieces of up to DIRECT_BATCH feeds whose wait is over (and of
 * those whose socket has room again), unlocked, then parks or releases
 * each; cuts the pending feeds whose client read nothing for the idle
 * timeout. Returns how many it wrote for; called with t->lock held. */
static size_t timer_write(struct timer *t, uint64_t now)
{
    struct feed *batch[DIRECT_BATCH];
    enum feed_next_move moves[DIRECT_BATCH];
    struct feed *p, *next;
    size_t n = 0, i;

    for (p = t->pending; p != NULL; p = next) {
        next = p->link.next_pending;
        if (p->writable && n < DIRECT_BATCH) {
            p->writable = false;
            batch[n++] = p;
        } else if (!p->writable && p->due <= now) {
            feed_release(t, p); /* idle: its answer is cut */
        }
    }
    while (n < DIRECT_BATCH && t->heap.n > 0 && t->heap.items[0]->due <= now &&
           t->heap.items[0]->direct) {
        p = t->heap.items[0];
        heap_remove(&t->heap, p);
        t->held++;
        batch[n++] = p;
    }
    if (n == 0)
        return 0;
    pthread_mutex_unlock(&t->lock);
    for (i = 0; i < n; i++)
        moves[i] = batch[i]->gone ? MOVE_RESUME : feed_write(t, batch[i], now);
    pthread_mutex_lock(&t->lock);
    for (i = 0; i < n; i++)
        feed_move(t, batch[i], moves[i]);
    return n;
}

/* Takes the events epoll_wait reported: the wake-up, a client that left
 * (its feed resumes, or is marked to be seen at its next pull), a socket
 * with room for a pending chunk. With t->lock held. */
static void timer_events(struct timer *t, const struct epoll_event *ev, int n)
{
    int i;

    for (i = 0; i < n; i++) {
        struct feed *f = ev[i].data.ptr;
        uint64_t count;

        if (f == NULL && read(t->wake, &count, sizeof(count)) < 0)
            continue; /* already drained */
        if (f == NULL || f->dead)
            continue; /* ended after epoll_wait named it */
        if (!(ev[i].events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))) {
            if (f->pending)
                f->writable = true;
            continue;
        }
        if (f->at != NOT_PARKED) {
            feed_unpark(t, f, true);
        } else if (f->pending) {
            /* Its answer ends: feed_end takes the socket out of the set. */
            f->gone = true;
            feed_release(t, f);
        } else {
            f->gone = true; /* seen at its next pull */
        }
    }
}

/* A timer thread: at the end of each wait of an answer parked on it,
 * writes its due pieces itself (a paced stream) or resumes it; resumes it
 * at once when its client leaves (its socket reports the peer's FIN, a
 * reset or an error), and every one of them when the server drains. The
 * first timer also cuts connections at their header and body deadlines
 * (slots), and logs the reports. */
static void *timer_main(void *arg)
{
    struct timer *t = arg;
    struct server *s = t->srv;
    struct epoll_event ev[TIMER_EVENTS];
    int n = 0;

    pthread_mutex_lock(&t->lock);
    while (!t->stop) {
        uint64_t now, next, due;

        timer_events(t, ev, n);
        n = 0;
        timer_bury(t);
        now = clock_real_ms();
        if (t->draining) {
            while (t->pending != NULL)
                feed_release(t, t->pending);
        } else if (timer_write(t, now) > 0) {
            continue; /* the clock moved on: look again */
        }
        while (t->heap.n > 0 && (t->draining || t->heap.items[0]->due <= now))
            feed_unpark(t, t->heap.items[0], false);
        next = t->heap.n > 0 ? t->heap.items[0]->due : UINT64_MAX;
        due = pending_due(t);
        if (due < next)
            next = due;
        t->polling = true;
        pthread_mutex_unlock(&t->lock);
        due = UINT64_MAX;
        if (t == s->timers) { /* the first */
            due = slots_expire(s->slots, now, cut_socket, NULL);
            server_report(s);
        }
        n = epoll_wait(t->ep, ev, TIMER_EVENTS,
                       wait_ms(due < next ? due : next, now));
        if (n < 0)
            n = 0; /* EINTR: look again */
        pthread_mutex_lock(&t->lock);
        t->polling = false;
    }
    timer_bury(t);
    pthread_mutex_unlock(&t->lock);
    return NULL;
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

/* An MHD_KeyValueIterator that takes the first header (cls: name and
 * value) and stops. */
static enum MHD_Result first_header(void *cls, enum MHD_ValueKind kind,
                                    const char *name, const char *value)
{
    const char **nv = cls;

    (void)kind;
    nv[0] = name;
    nv[1] = value;
    return MHD_NO;
}

/* Frees the header list of a streamed answer's MHD response. MHD asks the
 * content reader for a piece only once it has written the status line and
 * headers into the connection's buffer, and never reads the list again;
 * a stream that waits for minutes would otherwise keep a copy of every
 * header (about 900 bytes with the allocator's overhead: a third of what a
 * waiting stream cost besides the connection's memory). */
static void feed_drop_headers(struct feed *f)
{
    const char *nv[2];

    do {
        nv[0] = NULL;
        MHD_get_response_headers(f->headed, first_header, nv);
    } while (nv[0] != NULL &&
             MHD_del_response_header(f->headed, nv[0], nv[1]) == MHD_YES);
    f->headed = NULL;
}

/* MHD content reader of a streamed answer: one piece at a time, the
 * connection suspended while the source says to wait. MHD asks again only
 * once it has sent everything handed to it before. */
static ssize_t feed_read(void *cls, uint64_t pos, char *out, size_t max)
{
    struct feed *f = cls;
    enum feed_state st;
    size_t n;

    (void)pos;
    if (f->headed != NULL)
        feed_drop_headers(f);
    f->sent_pieces = f->pieces;
    f->sent_bytes = f->bytes;
    while ((st = feed_pull(f)) == FEED_BYTES && f->off == f->out.len)
        f->pieces++; /* an empty piece: nothing to hand on, ask again */
    switch (st) {
    case FEED_BYTES:
        n = (size_t)feed_copy(f, out, max);
        /* Whole pieces only: one that does not fit waits in out. */
        while (n < max && f->off == f->out.len && feed_more(f) &&
               f->out.len <= max - n)
            n += (size_t)feed_copy(f, out + n, max - n);
        return (ssize_t)n;
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

/* Takes f's socket out of the timer's epoll set (before MHD closes it);
 * returns whether the timer thread may still hold an event naming f, which
 * it then frees (timer_bury). */
static bool feed_unwatch(struct feed *f)
{
    struct timer *t = feed_timer(f);
    bool kept = false;

    pthread_mutex_lock(&t->lock);
    if (f->watched) {
        epoll_ctl(t->ep, EPOLL_CTL_DEL, f->fd, NULL);
        f->watched = false;
        if (t->polling) {
            f->dead = true;
            f->link.next_dead = t->graveyard;
            t->graveyard = f;
            kept = true;
        }
    }
    pthread_mutex_unlock(&t->lock);
    return kept;
}

/* Tells the source how its answer ended, then frees f (or hands it to the
 * timer thread to free). */
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
    f->source.ops->end(f->source.self, &how);
    f->source.ops = NULL;
    if (f->whole != NULL) {
        response_cleanup(&f->whole->resp);
        buf_cleanup(&f->whole->body);
        free(f->whole);
    }
    buf_cleanup(&f->out);
    /* Last: once handed to the timer thread, f is its to free. */
    if (!feed_unwatch(f))
        free(f);
}

/* Builds the MHD response for a JSON (or empty) body: the text and a
 * newline, rendered whole (jsonio.h), or the text already rendered (which
 * the MHD response takes from resp), or NULL. Not capped here: what a
 * handler builds is bounded by the request's budget already. */
static struct MHD_Response *json_response(struct response *resp)
{
    struct MHD_Response *r = NULL;
    struct buf text;
    char *bytes = NULL;
    size_t len;

    if (resp->json_text != NULL) {
        r = MHD_create_response_from_buffer(
            resp->json_text_len, resp->json_text, MHD_RESPMEM_MUST_FREE);
        if (r != NULL) {
            resp->json_text = NULL; /* r owns it now: no copy */
            MHD_add_response_header(r, "Content-Type", "application/json");
        }
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

/* Adds one of a response's headers to the MHD response in cls. */
static void add_header(void *cls, const char *name, const char *value)
{
    MHD_add_response_header(cls, name, value);
}

/* Adds resp's headers and the common ones to r and queues it with resp's
 * status; consumes the caller's reference to r. */
static enum MHD_Result queue(struct MHD_Connection *conn, struct conn_state *cs,
                             const struct response *resp,
                             struct MHD_Response *r)
{
    enum MHD_Result ret;

    response_each_header(resp, add_header, r);
    /* A scripted answer may set or leave out these itself. */
    if (!response_names_header(resp, "x-request-id"))
        MHD_add_response_header(r, "x-request-id", cs->request_id);
    if (!response_names_header(resp, "Access-Control-Allow-Origin"))
        MHD_add_response_header(r, "Access-Control-Allow-Origin", "*");
    if (!response_names_header(resp, "Access-Control-Expose-Headers"))
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

/* Answers e's status with its OpenAI error body; MHD_NO (the client is
 * dropped) only when not even that can be built. */
static enum MHD_Result queue_error(struct MHD_Connection *conn,
                                   struct conn_state *cs,
                                   const struct api_error *e)
{
    struct response resp;
    struct MHD_Response *r;
    enum MHD_Result ret = MHD_NO;

    response_init(&resp);
    response_error(&resp, e);
    r = json_response(&resp);
    if (r != NULL)
        ret = queue(conn, cs, &resp, r);
    response_cleanup(&resp);
    return ret;
}

/* Answers a bare 500 with an OpenAI error body, rather than drop the
 * client, when the answer could not be built. */
static enum MHD_Result queue_server_error(struct MHD_Connection *conn,
                                          struct conn_state *cs,
                                          const char *message)
{
    struct api_error e;

    api_error_set(&e, API_ERR_SERVER, NULL, NULL, "%s", message);
    return queue_error(conn, cs, &e);
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
    struct whole *w = f->whole;
    enum feed_state st;
    struct MHD_Response *r = NULL;
    char *text;
    size_t len = 0;

    while ((st = feed_pull(f)) == FEED_BYTES) {
        if (buf_append(&w->body, f->out.data + f->off, f->out.len - f->off) !=
            0) {
            f->cut = true;
            st = FEED_FAIL;
            break;
        }
        f->off = f->out.len;
        w->npieces++;
    }
    switch (st) {
    case FEED_WAIT:
        return MHD_YES;
    case FEED_CUT:
        cs->status = STATUS_NO_ANSWER;
        return MHD_NO; /* MHD closes the connection */
    case FEED_GONE:
        return MHD_NO; /* logged 499: the client closed first */
    case FEED_DONE:
        text = buf_take(&w->body, &len);
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
                            w->resp.content_type ? w->resp.content_type
                                                 : "application/octet-stream");
    if (queue(f->conn, cs, &w->resp, r) != MHD_YES)
        return MHD_NO;
    f->pieces = f->sent_pieces = w->npieces;
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

    if (f != NULL && resp->framing == SOURCE_WHOLE &&
        (f->whole = calloc(1, sizeof(*f->whole))) == NULL) {
        free(f);
        f = NULL;
    }
    if (f == NULL)
        return queue_server_error(conn, cs, "Out of memory.");
    f->srv = s;
    f->conn = conn;
    f->at = NOT_PARKED;
    {
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);

        f->fd = ci != NULL ? ci->connect_fd : -1;
    }
    f->source = resp->source; /* f owns the source now */
    f->framing = resp->framing;
    resp->source.ops = NULL;
    resp->source.self = NULL;
    buf_init(&f->out, FEED_MAX_BYTES);
    /* Rounded up: a piece due d ms after the start leaves d ms after the
     * answer began or later, never a fraction of a millisecond sooner. */
    f->start = clock_real_ms_up();
    cs->feed = f;
    if (f->whole != NULL) {
        f->whole->resp = *resp; /* its headers, for the answer at the end */
        response_init(resp);
        buf_init(&f->whole->body, FEED_MAX_BYTES);
        return feed_whole(f, cs);
    }
    r = MHD_create_response_from_callback(
        MHD_SIZE_UNKNOWN, cs->http10 ? STREAM_BLOCK : STREAM_BLOCK_CHUNKED,
        feed_read, f, NULL);
    /* MHD frames an answer of unknown size in chunks for HTTP/1.1 (and
     * sends no body to HEAD); the fixtures cannot set the framing
     * headers that would change that. */
    f->chunked = !cs->http10 && strcmp(cs->method, "HEAD") != 0;
    if (r == NULL) {
        f->cut = true;
        return queue_server_error(conn, cs, "Out of memory.");
    }
    MHD_add_response_header(r, "Content-Type",
                            resp->content_type ? resp->content_type
                                               : "application/octet-stream");
    if (!response_names_header(resp, "Cache-Control"))
        MHD_add_response_header(r, "Cache-Control", "no-cache");
    f->headed = r;
    return queue(conn, cs, resp, r);
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

/* Can a preflight answer echo len bytes of requested headers? The echo
 * shares the connection's memory with the request's own headers, and an
 * answer that does not fit is no answer at all (MHD closes). */
static bool preflight_fits(const struct server *s, struct MHD_Connection *conn,
                           size_t len)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE);
    size_t used = ci != NULL ? ci->header_size : s->max_headers;

    return len <= s->max_headers / 4 &&
           used + len + ANSWER_ROOM <= s->max_headers;
}

/* The bytes of the connection's memory that the request's head leaves,
 * when fewer than an answer's headers may need (ANSWER_ROOM); SIZE_MAX
 * when it leaves enough. Without this check an answer whose headers do not
 * fit is no answer at all: the library closes the connection. */
static size_t head_room(const struct server *s, struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE);
    size_t used = ci != NULL ? ci->header_size : 0;

    if (used + ANSWER_ROOM <= s->max_headers)
        return SIZE_MAX;
    return used < s->max_headers ? s->max_headers - used : 0;
}

/* Answers 431 a request whose head left too little room for an answer:
 * with the error body and, when even the common headers would not fit,
 * only the headers the library adds itself. */
static enum MHD_Result answer_cramped(const struct server *s,
                                      struct MHD_Connection *conn,
                                      struct conn_state *cs)
{
    struct api_error e;
    struct response resp;
    struct MHD_Response *r;
    enum MHD_Result ret = MHD_NO;

    api_error_set(&e, API_ERR_HEADERS_TOO_LARGE, NULL, NULL,
                  "The request's headers take %zu of the %zu bytes "
                  "(--max-headers) that must also hold the answer's "
                  "headers; send at most %zu bytes of them.",
                  s->max_headers - cs->cramped, s->max_headers,
                  s->max_headers - ANSWER_ROOM);
    if (cs->cramped >= ERROR_ROOM)
        return queue_error(conn, cs, &e);
    response_init(&resp);
    response_error(&resp, &e);
    r = json_response(&resp);
    if (r != NULL) {
        cs->status = resp.status;
        ret = MHD_queue_response(conn, (unsigned)resp.status, r);
        MHD_destroy_response(r);
    }
    response_cleanup(&resp);
    return ret;
}

/* Answers a CORS preflight so browser clients can call the mock: 204,
 * echoing the headers asked for, or 431 when they are too many to echo. */
static enum MHD_Result answer_preflight(struct server *s,
                                        struct MHD_Connection *conn,
                                        struct conn_state *cs)
{
    const char *want = MHD_lookup_connection_value(
        conn, MHD_HEADER_KIND, "Access-Control-Request-Headers");
    struct MHD_Response *r;
    struct api_error e;
    enum MHD_Result ret;

    if (want != NULL && !preflight_fits(s, conn, strlen(want))) {
        api_error_set(&e, API_ERR_HEADERS_TOO_LARGE, NULL, NULL,
                      "Access-Control-Request-Headers asks for %zu bytes of "
                      "headers, more than a preflight answer can echo.",
                      strlen(want));
        return queue_error(conn, cs, &e);
    }
    r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
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

    if (cs->bad != NULL) {
        struct api_error e;

        api_error_set(&e, API_ERR_INVALID_REQUEST, NULL, cs->bad, "%s",
                      strcmp(cs->bad, "invalid_path") == 0
                          ? "The request path contains an encoded NUL byte "
                            "(%00)."
                          : "An HTTP/1.1 request needs exactly one Host "
                            "header.");
        return queue_error(conn, cs, &e);
    }
    if (cs->cramped != SIZE_MAX)
        return answer_cramped(s, conn, cs);
    if (strcmp(method, "OPTIONS") == 0)
        return answer_preflight(s, conn, cs);
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
    /* Nothing reads the body again (a stream's completion and the journal
     * hold copies): a stream that waits for minutes keeps none of it. */
    buf_cleanup(&cs->body);
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

/* MHD's hook on the raw request target, before it is decoded: a %00 in
 * the path would decode to a NUL that ends the path MHD hands on (so
 * /v1/balance%00junk would read as /v1/balance). Marks such a request for
 * on_request, which refuses it. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    struct server *s = cls;
    size_t len = strcspn(uri, "?#"), i;

    (void)conn;
    for (i = 0; i + 2 < len; i++)
        if (uri[i] == '%' && uri[i + 1] == '0' && uri[i + 2] == '0')
            return &s->nul_path;
    return NULL;
}

/* MHD header iterator: counts the Host headers. */
static enum MHD_Result count_host(void *cls, enum MHD_ValueKind kind,
                                  const char *key, const char *value)
{
    unsigned *n = cls;

    (void)kind;
    (void)value;
    if (strcasecmp(key, "Host") == 0)
        (*n)++;
    return MHD_YES;
}

/* The error code of a request malformed below its body (RFC 9112: an
 * HTTP/1.1 request has exactly one Host, any request at most one), or
 * NULL when it is well formed. nul_path: its raw path holds %00. */
static const char *malformed(struct MHD_Connection *conn, const char *version,
                             bool nul_path)
{
    unsigned hosts = 0;

    if (nul_path)
        return "invalid_path";
    MHD_get_connection_values(conn, MHD_HEADER_KIND, count_host, &hosts);
    if (hosts > 1 || (hosts == 0 && strcmp(version, "HTTP/1.1") == 0))
        return "invalid_host";
    return NULL;
}

/* The slot of conn's connection (slots), or NULL when it has none: it was
 * refused after the library accepted it. */
static struct slot *slot_of(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

    return ci != NULL ? ci->socket_context : NULL;
}

/* Moves a connection's slot to phase ph. The timer needs no wake: it never
 * sleeps past the shortest deadline from now (slots_expire). */
static void slot_enter(struct slots *slots, struct slot *slot,
                       enum slot_phase ph)
{
    if (slot != NULL)
        slots_enter(slots, slot, ph, clock_real_ms());
}

/* MHD accept policy: a connection over a cap (slots) is refused at once,
 * the library closing it, so that a full server answers a new client with
 * a close rather than silence; refusals are logged once per interval. */
static enum MHD_Result on_accept(void *cls, const struct sockaddr *addr,
                                 socklen_t addrlen)
{
    struct server *s = cls;

    (void)addrlen;
    if (atomic_load(&s->closing))
        return MHD_NO;
    if (slots_would_admit(s->slots, addr))
        return MHD_YES;
    server_report(s);
    timer_wake(&s->timers[0]); /* its next report is not forgotten */
    return MHD_NO;
}

/* MHD connection hook: a connection takes its slot when it starts, with
 * its header deadline running, and gives it back when it closes. One that
 * lost the last slot to another worker since on_accept (or found no
 * memory) is shut down at once, and on_request drops it. */
static void on_connection(void *cls, struct MHD_Connection *conn,
                          void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    struct server *s = cls;
    const union MHD_ConnectionInfo *fd_info, *addr_info;
    struct slot *slot;
    int fd;

    if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
        slots_release(s->slots, *socket_context);
        *socket_context = NULL;
        return;
    }
    fd_info = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    addr_info =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    fd = fd_info != NULL ? fd_info->connect_fd : -1;
    slot = slots_admit(s->slots, addr_info ? addr_info->client_addr : NULL, fd,
                       clock_real_ms());
    *socket_context = slot;
    if (slot == NULL) {
        if (fd >= 0)
            shutdown(fd, SHUT_RDWR);
        server_report(s);
        timer_wake(&s->timers[0]); /* its next report is not forgotten */
    }
}

/* MHD access handler: accumulates the body under its cap, then answers. */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
                                  const char *url, const char *method,
                                  const char *version, const char *data,
                                  size_t *data_size, void **con_cls)
{
    struct server *s = cls;
    struct conn_state *cs = *con_cls;

    if (cs == NULL || *con_cls == &s->nul_path) {
        bool nul_path = cs != NULL;
        struct slot *slot = slot_of(conn);
        size_t plen;

        if (slot == NULL)
            return MHD_NO; /* refused: see on_connection */
        slot_enter(s->slots, slot, SLOT_BODY);
        plen = strnlen(url, PATH_LOG_MAX);
        cs = calloc(1, sizeof(*cs) + plen + 1);
        *con_cls = cs;
        if (cs == NULL)
            return MHD_NO;
        buf_init(&cs->body, s->app->max_body);
        make_request_id(s, cs->request_id);
        snprintf(cs->method, sizeof(cs->method), "%s", method);
        memcpy(cs->path, url, plen);
        cs->start_ms = clock_real_ms();
        atomic_fetch_add(&s->inflight, 1);
        /* A malformed request, or a body declared too large, is refused
         * before the body is read. */
        cs->bad = malformed(conn, version, nul_path);
        cs->http10 = strcmp(version, MHD_HTTP_VERSION_1_0) == 0;
        cs->cramped = head_room(s, conn);
        if (cs->bad != NULL || cs->cramped != SIZE_MAX)
            return answer(s, conn, url, method, cs);
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
    slot_enter(s->slots, slot_of(conn), SLOT_ANSWER);
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
    if (f != NULL && f->framing == SOURCE_STREAMED) {
        e->streamed = true;
        e->events = feed_sent_pieces(f, toe);
    }
}

/* MHD completion hook: ends the request's source (which settles its
 * money), logs the request, and frees its state; then a connection kept
 * alive has its header deadline again, for the next request. That comes
 * last: the client may already be sending that request, and what it asks
 * (a balance) must find the money settled. */
static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct server *s = cls;
    struct conn_state *cs = *con_cls;
    struct slot *slot = slot_of(conn);
    struct log_entry entry;

    /* NULL or the %00 mark: refused by MHD before it reached on_request */
    if (cs != NULL && *con_cls != &s->nul_path) {
        request_outcome(cs, toe, &entry);
        if (entry.outcome == LOG_CLIENT_GONE && slot != NULL &&
            slots_timed_out(s->slots, slot))
            entry.outcome = LOG_TIMED_OUT;
        if (cs->feed != NULL)
            feed_end(cs->feed, toe);
        cs->feed = NULL;
        entry.ms = (double)(clock_real_ms() - cs->start_ms);
        log_request(s->app->log, &entry);
        capture_end(s->app, &entry);
        buf_cleanup(&cs->body);
        atomic_fetch_sub(&s->inflight, 1);
        free(cs);
    }
    *con_cls = NULL;
    if (toe == MHD_REQUEST_TERMINATED_COMPLETED_OK)
        slot_enter(s->slots, slot, SLOT_HEADERS);
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

/* Sets up and starts n timers (their threads last); on failure says why
 * in cause and leaves what it set up for timers_free. */
static int timers_start(struct server *s, unsigned n, char *cause,
                        size_t causelen)
{
    unsigned i;

    s->timers = calloc(n, sizeof(*s->timers));
    if (s->timers == NULL) {
        snprintf(cause, causelen, "out of memory");
        return -1;
    }
    s->ntimers = n;
    for (i = 0; i < n; i++) {
        struct timer *t = &s->timers[i];

        t->srv = s;
        pthread_mutex_init(&t->lock, NULL);
        /* A gathered chunk, or a chunk's rest and an action's bytes. */
        buf_init(&t->chunk, 3 * FEED_MAX_BYTES);
        buf_init(&t->piece, 3 * FEED_MAX_BYTES);
        t->ep = t->wake = -1;
    }
    for (i = 0; i < n; i++) {
        struct timer *t = &s->timers[i];

        t->ep = epoll_create1(EPOLL_CLOEXEC);
        t->wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (t->ep < 0 || t->wake < 0 ||
            epoll_ctl(t->ep, EPOLL_CTL_ADD, t->wake,
                      &(struct epoll_event){.events = EPOLLIN,
                                            .data.ptr = NULL}) != 0) {
            snprintf(cause, causelen, "cannot set up the timer: %s",
                     strerror(errno));
            return -1;
        }
    }
    for (i = 0; i < n; i++) {
        if (pthread_create(&s->timers[i].thread, NULL, timer_main,
                           &s->timers[i]) != 0) {
            snprintf(cause, causelen, "cannot start the timer threads");
            return -1;
        }
        s->timers[i].started = true;
    }
    return 0;
}

/* Tells every timer the server drains: each resumes its parked answers at
 * once and parks no more. */
static void timers_drain(struct server *s)
{
    unsigned i;

    for (i = 0; i < s->ntimers; i++) {
        struct timer *t = &s->timers[i];

        pthread_mutex_lock(&t->lock);
        t->draining = true;
        if (t->started)
            timer_wake(t);
        pthread_mutex_unlock(&t->lock);
    }
}

/* Has every timer resumed its parked answers, and handed back every one it
 * was writing for? */
static bool timers_idle(struct server *s)
{
    bool idle = true;
    unsigned i;

    for (i = 0; i < s->ntimers && idle; i++) {
        struct timer *t = &s->timers[i];

        pthread_mutex_lock(&t->lock);
        idle = !t->started || (t->heap.n == 0 && t->held == 0);
        pthread_mutex_unlock(&t->lock);
    }
    return idle;
}

/* Stops the timer threads and frees the timers. */
static void timers_free(struct server *s)
{
    unsigned i;

    for (i = 0; i < s->ntimers; i++) {
        struct timer *t = &s->timers[i];

        if (t->started) {
            pthread_mutex_lock(&t->lock);
            t->stop = true;
            timer_wake(t);
            pthread_mutex_unlock(&t->lock);
            pthread_join(t->thread, NULL);
        }
        if (t->ep >= 0)
            close(t->ep);
        if (t->wake >= 0)
            close(t->wake);
        pthread_mutex_destroy(&t->lock);
        free(t->heap.items);
        buf_cleanup(&t->chunk);
        buf_cleanup(&t->piece);
    }
    free(s->timers);
    s->timers = NULL;
    s->ntimers = 0;
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
    s->max_headers = cfg->max_headers;
    s->idle_s = cfg->idle_timeout_s;
    atomic_init(&s->inflight, 0);
    atomic_init(&s->next_id, 1);
    if (getrandom(&s->id_seed, sizeof(s->id_seed), 0) !=
        (ssize_t)sizeof(s->id_seed))
        s->id_seed = (uint64_t)time(NULL) ^ (uint64_t)getpid();
    if (resolve(cfg->host, cfg->port, &ss, cause, causelen) != 0)
        goto fail;
    if (ss.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    s->limits.max_total = cfg->max_connections;
    s->limits.max_per_addr =
        cfg->max_per_ip == SERVER_PER_IP_AUTO
            ? slots_default_per_addr((struct sockaddr *)&ss,
                                     cfg->max_connections)
            : cfg->max_per_ip;
    s->limits.header_ms = cfg->header_timeout_s * 1000ull;
    s->limits.body_ms = cfg->body_timeout_s * 1000ull;
    s->slots = slots_new(&s->limits);
    if (s->slots == NULL) {
        snprintf(cause, causelen, "out of memory");
        goto fail;
    }
    if (timers_start(s, cfg->threads > 0 ? cfg->threads : 1, cause, causelen) !=
        0)
        goto fail;
    /* The caps are on_accept's. The library's own limit is split among its
     * workers, and a worker at its share stops accepting, which leaves new
     * clients hanging in the backlog: it is set where no worker can reach
     * it first. */
    s->daemon = MHD_start_daemon(
        flags, (uint16_t)cfg->port, on_accept, s, on_request, s,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)cfg->threads,
        MHD_OPTION_CONNECTION_LIMIT,
        (unsigned int)(cfg->max_connections * cfg->threads + cfg->threads),
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)cfg->idle_timeout_s,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, cfg->max_headers,
        MHD_OPTION_URI_LOG_CALLBACK, on_uri, s, MHD_OPTION_NOTIFY_CONNECTION,
        on_connection, s, MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
        MHD_OPTION_END);
    if (s->daemon == NULL) {
        snprintf(cause, causelen, "cannot listen on %s port %u: %s", cfg->host,
                 cfg->port, errno ? strerror(errno) : "libmicrohttpd refused");
        goto fail;
    }
    info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    s->port = info ? info->port : cfg->port;
    log_info(app->log,
             "connections: at most %u, %u per address (0: no cap); deadlines: "
             "headers %u s, body %u s; idle timeout %u s",
             s->limits.max_total, s->limits.max_per_addr, cfg->header_timeout_s,
             cfg->body_timeout_s, cfg->idle_timeout_s);
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

    if (s == NULL)
        return 0;
    /* New clients are turned away at once: each connection accepted from
     * now on is closed by the accept policy. Not MHD_quiesce_daemon: in
     * libmicrohttpd 0.9.75, with epoll worker threads, it races a worker
     * that takes the listening socket out of its epoll set at the same
     * time, and the loser's epoll_ctl fails and aborts the process
     * ("Failed to remove listen FD from epoll set", daemon.c:5531; seen
     * at SIGTERM in mock_test_budget and mock_test_servers). The socket
     * is closed by MHD_stop_daemon. */
    atomic_store(&s->closing, true);
    timers_drain(s);
    deadline = clock_real_ms() + grace_ms;
    while ((left = atomic_load(&s->inflight)) > 0 &&
           clock_real_ms() < deadline) {
        struct timespec ts = {0, 5 * 1000000L};

        nanosleep(&ts, NULL);
    }
    /* Draining, each timer thread resumes every parked answer at once and
     * parks no more; MHD must not close one it still holds. */
    while (!timers_idle(s)) {
        struct timespec ts = {0, 1000000L};

        nanosleep(&ts, NULL);
    }
    if (s->daemon != NULL)
        MHD_stop_daemon(s->daemon);
    timers_free(s);
    slots_free(s->slots);
    free(s);
    return left;
}
