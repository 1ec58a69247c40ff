/* fault: the fault source, wrapping an answer's own source. */
#include "fault.h"

#include <stdlib.h>
#include <string.h>

/* An event stream piece the fault source keeps at most (a chat event is
 * far smaller; the whole body of a WHOLE answer may be larger, and goes
 * out unchanged past this). */
#define FAULT_PIECE_MAX (8u << 20)
/* What one piece of an endless body holds at most (a few repetitions). */
#define ENDLESS_RUN 16384u

static const char done_event[] = "data: [DONE]\n\n";
static const char error_json[] =
    "{\"error\":{\"message\":\"The server had an error while processing your "
    "request. Sorry about that!\",\"type\":\"server_error\",\"param\":null,"
    "\"code\":\"server_error\"}}";

/* A source carrying out a fault around the answer's own source. */
struct faulty {
    struct source inner; /* owned: the answer's source */
    struct fault f;      /* a copy; f.not_http owned */
    struct buf queue;    /* bytes ready to go out, from qoff on */
    size_t qoff;
    uint64_t qdue;          /* when the queue became due, ms after the start */
    uint64_t at;            /* when the last slice was due (split_delay_ms) */
    uint64_t events;        /* events taken from inner */
    uint64_t lines;         /* line ends written, for FAULT_MIXED */
    struct buf last;        /* the last data event, for FAULT_DONE_EXTRA */
    enum source_step final; /* what comes once the queue is out */
    bool has_final;
    bool hung;             /* waits until hurried (or the client leaves) */
    bool hurried;          /* the server is shutting down */
    bool started;          /* something was queued or done */
    bool parked;           /* the empty piece that starts a wait went out */
    bool endless_on;       /* the inner source is done: endless bytes */
    uint64_t endless_sent; /* bytes of f.endless queued so far */
};

void fault_cleanup(struct fault *f)
{
    free(f->not_http);
    f->not_http = NULL;
    free(f->endless);
    f->endless = NULL;
}

bool fault_streams_body(const struct fault *f)
{
    return f->body_delay_ms > 0 || f->split_bytes > 0 || f->hold_after_done ||
           f->endless != NULL;
}

bool fault_any(const struct fault *f)
{
    return f->close_before_headers || f->not_http != NULL || f->hang ||
           f->headers_delay_ms > 0 || f->has_reset || f->has_close ||
           f->has_silence || f->malformed_event > 0 || f->has_error ||
           f->done != FAULT_DONE_NORMAL || f->hold_after_done ||
           f->line_ends != FAULT_LF || f->bom || f->comments || f->fields ||
           f->split_bytes > 0 || f->body_delay_ms > 0 || f->endless != NULL;
}

/* Appends the n bytes at s to the queue with the fault's line ends. Mixed
 * ends go CRLF, LF, CR in turn: a bare CR is followed by a CRLF or by a
 * line's text, never by a LF, which an SSE reader would take for the end
 * of a CRLF, so that a blank line would vanish and two events join. */
static int queue_text(struct faulty *fs, const char *s, size_t n)
{
    static const char *const mixed[] = {"\r\n", "\n", "\r"};
    const char *end;
    size_t i;
    int rc = 0;

    for (i = 0; rc == 0 && i < n; i++) {
        if (s[i] != '\n' || fs->f.line_ends == FAULT_LF) {
            rc = buf_append(&fs->queue, &s[i], 1);
            continue;
        }
        end = fs->f.line_ends == FAULT_CR     ? "\r"
              : fs->f.line_ends == FAULT_CRLF ? "\r\n"
                                              : mixed[fs->lines % 3];
        fs->lines++;
        rc = buf_appends(&fs->queue, end);
    }
    return rc;
}

/* Queues what goes before the first event: a BOM, a block of fields with
 * no data. */
static int queue_start(struct faulty *fs)
{
    int rc = 0;

    if (fs->started)
        return 0;
    fs->started = true;
    if (fs->f.bom)
        rc = buf_append(&fs->queue, "\xef\xbb\xbf", 3);
    if (rc == 0 && fs->f.fields) {
        static const char block[] = "event: ping\nid: 0\nretry: 3000\n\n";

        rc = queue_text(fs, block, sizeof block - 1);
    }
    return rc;
}

/* Queues one event (n bytes at s) with the fault's comments and fields. */
static int queue_event(struct faulty *fs, const char *s, size_t n)
{
    static const char comment[] = ": keep-alive\n\n";
    struct buf head;
    int rc = queue_start(fs);

    buf_init(&head, 64);
    if (rc == 0 && fs->f.comments)
        rc = queue_text(fs, comment, sizeof comment - 1);
    if (rc == 0 && fs->f.fields && strncmp(s, "data:", 5) == 0)
        rc = buf_appendf(&head, "event: message\nid: %llu\n",
                         (unsigned long long)fs->events);
    if (rc == 0)
        rc = queue_text(fs, head.data != NULL ? head.data : "", head.len);
    if (rc == 0)
        rc = queue_text(fs, s, n);
    buf_cleanup(&head);
    return rc;
}

/* Queues the error object that replaces the rest of the stream. */
static int queue_error(struct faulty *fs)
{
    struct buf ev;
    int rc;

    buf_init(&ev, 512);
    rc = buf_appendf(&ev, "%sdata: %s\n\n",
                     fs->f.error_event ? "event: error\n" : "", error_json);
    if (rc == 0)
        rc = queue_event(fs, ev.data, ev.len);
    buf_cleanup(&ev);
    return rc;
}

/* Says what comes once the queue is out. */
static void finish(struct faulty *fs, enum source_step step, bool hang)
{
    fs->final = step;
    fs->has_final = true;
    fs->hung = hang;
}

/* Queues what one event of inner becomes (piece), or finishes. */
static int take_piece(struct faulty *fs, struct buf *piece)
{
    uint64_t k = fs->events++;
    bool is_done = piece->len == sizeof done_event - 1 &&
                   memcmp(piece->data, done_event, piece->len) == 0;
    int rc = 0;

    if (fs->f.has_close && k == fs->f.close_after_events) {
        if (piece->len > fs->f.close_after_bytes)
            buf_truncate(piece, fs->f.close_after_bytes);
        rc = queue_start(fs);
        if (rc == 0)
            rc = queue_text(fs, piece->data != NULL ? piece->data : "",
                            piece->len);
        finish(fs, SOURCE_CLOSE, false);
        return rc;
    }
    if (is_done) {
        if (fs->f.done != FAULT_DONE_MISSING)
            rc = queue_event(fs, piece->data, piece->len);
        if (rc == 0 && fs->f.done == FAULT_DONE_TWICE)
            rc = queue_event(fs, piece->data, piece->len);
        if (rc == 0 && fs->f.done == FAULT_DONE_EXTRA && fs->last.len > 0)
            rc = queue_event(fs, fs->last.data, fs->last.len);
        if (fs->f.hold_after_done)
            finish(fs, SOURCE_DONE, true);
        return rc;
    }
    if (fs->f.malformed_event == k + 1 && piece->len >= 3 &&
        memcmp(piece->data + piece->len - 3, "}\n\n", 3) == 0) {
        memmove(piece->data + piece->len - 3, "\n\n", 2);
        buf_truncate(piece, piece->len - 1);
    }
    if (piece->len >= 7 && memcmp(piece->data, "data: {", 7) == 0) {
        buf_reset(&fs->last);
        rc = buf_append(&fs->last, piece->data, piece->len);
    }
    if (rc == 0)
        rc = queue_event(fs, piece->data, piece->len);
    return rc;
}

/* Queues the next run of the endless bytes (about ENDLESS_RUN of them),
 * or finishes when one more repetition would pass endless_max. The server asks
 * for more only as the client reads, so an endless body costs what the client
 * takes. */
static int queue_endless(struct faulty *fs)
{
    const struct fault *f = &fs->f;
    int rc = 0;

    if (f->endless_len == 0 ||
        fs->endless_sent + f->endless_len > f->endless_max) {
        finish(fs, SOURCE_DONE, f->hold_after_done);
        return 0;
    }
    do {
        rc = buf_append(&fs->queue, f->endless, f->endless_len);
        fs->endless_sent += f->endless_len;
    } while (rc == 0 && fs->queue.len + f->endless_len <= ENDLESS_RUN &&
             fs->endless_sent + f->endless_len <= f->endless_max);
    return rc;
}

/* Fills the queue with what comes next, or finishes. */
static int fill(struct faulty *fs)
{
    uint64_t k = fs->events;
    struct buf piece;
    enum source_step step;
    int rc = 0;

    buf_reset(&fs->queue);
    fs->qoff = 0;
    fs->qdue = fs->inner.ops->due_ms(fs->inner.self);
    /* The first bytes wait for the body's delay too (split pieces are
     * then timed from it). */
    if (!fs->started && !fs->hurried && fs->qdue < fs->f.body_delay_ms)
        fs->qdue = fs->f.body_delay_ms;
    if (!fs->started && (fs->f.close_before_headers || fs->f.not_http)) {
        finish(fs, SOURCE_CLOSE, false);
        return 0;
    }
    if (!fs->started && fs->f.hang) {
        finish(fs, SOURCE_CLOSE, true);
        return 0;
    }
    if (fs->f.has_reset && k == fs->f.reset_after_events) {
        finish(fs, SOURCE_RESET, false);
        return 0;
    }
    if (fs->f.has_silence && k == fs->f.silence_after_events) {
        finish(fs, SOURCE_CLOSE, true);
        return 0;
    }
    if (fs->f.has_error && k == fs->f.error_after_events) {
        finish(fs, SOURCE_DONE, false);
        return queue_error(fs);
    }
    if (fs->endless_on)
        return queue_endless(fs);
    buf_init(&piece, FAULT_PIECE_MAX);
    step = fs->inner.ops->next(fs->inner.self, &piece);
    if (step == SOURCE_DONE && fs->f.endless != NULL) {
        buf_cleanup(&piece);
        fs->endless_on = true;
        return queue_endless(fs);
    }
    if (step == SOURCE_PIECE)
        rc = take_piece(fs, &piece);
    else
        finish(fs, step == SOURCE_DONE ? SOURCE_DONE : SOURCE_FAIL,
               step == SOURCE_DONE && fs->f.hold_after_done);
    buf_cleanup(&piece);
    return rc;
}

static uint64_t faulty_due(void *self)
{
    struct faulty *fs = self;
    uint64_t due;

    if (fs->qoff < fs->queue.len && fs->f.split_delay_ms > 0 &&
        fs->at + fs->f.split_delay_ms > fs->qdue)
        return fs->at + fs->f.split_delay_ms;
    if (fs->qoff < fs->queue.len)
        return fs->qdue;
    if (fs->has_final)
        return fs->hung && !fs->hurried ? UINT64_MAX : 0;
    due = fs->inner.ops->due_ms(fs->inner.self);
    if (!fs->started && due < fs->f.headers_delay_ms && !fs->hurried)
        due = fs->f.headers_delay_ms;
    if (!fs->started && due < fs->f.body_delay_ms && !fs->hurried)
        due = fs->f.body_delay_ms;
    return due;
}

static enum source_step faulty_next(void *self, struct buf *out)
{
    struct faulty *fs = self;
    size_t n;

    while (!fs->has_final || fs->qoff < fs->queue.len) {
        if (fs->qoff < fs->queue.len) {
            n = fs->queue.len - fs->qoff;
            if (fs->f.split_bytes > 0 && n > fs->f.split_bytes)
                n = fs->f.split_bytes;
            if (buf_append(out, fs->queue.data + fs->qoff, n) != 0)
                return SOURCE_FAIL;
            if (fs->f.split_bytes > 0)
                fs->at = faulty_due(fs);
            fs->qoff += n;
            return SOURCE_PIECE;
        }
        if (fill(fs) != 0)
            return SOURCE_FAIL;
    }
    if (fs->hung && !fs->hurried && !fs->parked) {
        /* Nothing, so that the server asks when to go on: never. */
        fs->parked = true;
        return SOURCE_PIECE;
    }
    if (fs->final == SOURCE_CLOSE && fs->f.not_http != NULL &&
        buf_append(out, fs->f.not_http, fs->f.not_http_len) != 0)
        return SOURCE_FAIL;
    return fs->final;
}

static void faulty_hurry(void *self)
{
    struct faulty *fs = self;

    fs->hurried = true;
    fs->f.split_delay_ms = 0;
    fs->inner.ops->hurry(fs->inner.self);
}

/* Tells inner how it ended in its own events (billing counts those). */
static void faulty_end(void *self, const struct source_end *how)
{
    struct faulty *fs = self;
    struct source_end mine = *how;

    if (mine.completed || mine.pieces > fs->events)
        mine.pieces = fs->events;
    fs->inner.ops->end(fs->inner.self, &mine);
    buf_cleanup(&fs->queue);
    buf_cleanup(&fs->last);
    fault_cleanup(&fs->f);
    free(fs);
}

static const struct source_ops faulty_ops = {
    .due_ms = faulty_due,
    .next = faulty_next,
    .hurry = faulty_hurry,
    .end = faulty_end,
};

/* Returns a copy of the n bytes at s with a NUL after them, or NULL. */
static char *bytes_copy(const char *s, size_t n)
{
    struct buf b;
    char *copy = NULL;

    buf_init(&b, n + 1);
    if (buf_append(&b, s, n) == 0)
        copy = buf_take(&b, NULL);
    buf_cleanup(&b);
    return copy;
}

int fault_wrap(const struct fault *f, struct source *src,
               enum source_framing *framing)
{
    struct faulty *fs;

    if (src->ops == NULL || !fault_any(f))
        return 0;
    fs = calloc(1, sizeof(*fs));
    if (fs == NULL)
        return -1;
    fs->f = *f;
    fs->f.not_http = NULL;
    fs->f.endless = NULL;
    if ((f->not_http != NULL &&
         (fs->f.not_http = bytes_copy(f->not_http, f->not_http_len)) == NULL) ||
        (f->endless != NULL &&
         (fs->f.endless = bytes_copy(f->endless, f->endless_len)) == NULL)) {
        fault_cleanup(&fs->f);
        free(fs);
        return -1;
    }
    buf_init(&fs->queue, FAULT_PIECE_MAX * 2);
    buf_init(&fs->last, FAULT_PIECE_MAX);
    fs->inner = *src;
    src->ops = &faulty_ops;
    src->self = fs;
    if (f->close_before_headers || f->not_http != NULL || f->hang ||
        f->headers_delay_ms > 0)
        *framing = SOURCE_WHOLE;
    return 0;
}
