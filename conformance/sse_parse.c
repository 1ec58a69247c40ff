/* sse_parse: the WHATWG event-stream rules, applied to bytes fed in pieces. */
#include "sse_parse.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "utf8.h"

/* The spec decodes the stream as UTF-8 and replaces bad sequences; a
 * conformance runner wants the bytes the server sent, so this parser keeps
 * them untouched and only records (stats.invalid_utf8) that some were bad.
 *
 * A line is acted on at the byte that ends it, so an event is dispatched as
 * soon as its blank line's CR or LF arrives, without waiting for the next
 * read (a live stream may pause there); a LF right after a CR is then
 * swallowed as the rest of a CRLF. Hence, for a CRLF blank line, ev->end is
 * just past the CR, and the LF that completes it (when it comes) is the
 * byte at ev->end: a reader that wants the whole blank line takes it too.
 * ev->offset is where the event's block starts: its first line after the
 * previous blank line, comments included, so the bytes from offset to end
 * are the event as it was sent. */

enum parser_state {
    PARSER_OK,
    PARSER_STOPPED,  /* the callback asked to stop */
    PARSER_FAILED,   /* a line or an event passed the cap, or OOM */
    PARSER_FINISHED, /* sse_parser_finish ran */
};

static const unsigned char utf8_bom[3] = {0xEF, 0xBB, 0xBF};

struct sse_parser {
    size_t max;
    sse_event_fn fn;
    void *ud;
    struct sse_stats stats;
    enum parser_state state;

    /* The first bytes are held until they prove to be a BOM or not. */
    unsigned char head[sizeof(utf8_bom)];
    size_t nhead;
    bool head_done;

    uint64_t pos;    /* stream offset of the next byte to interpret */
    bool pending_cr; /* the last byte was a CR: a LF next belongs to it */
    struct buf line;

    /* The event block being read: from its first line to its blank line. */
    bool block_open;
    uint64_t block_start;
    struct buf data;
    struct buf type;
    bool has_type;
    bool has_id;
    bool has_retry;
    bool has_meta; /* an event:, id: or retry: line, valid or not */
    unsigned data_lines;

    /* Stream-wide state that outlives events, as the spec says. */
    struct buf last_id;
    uint64_t retry; /* the last valid retry value, 0 until one comes */

    struct utf8_stream utf8; /* the UTF-8 check, across feeds */
};

/* Advances the UTF-8 check by one byte of the stream. */
static void parser_utf8(struct sse_parser *p, unsigned char c)
{
    if (!utf8_stream_step(&p->utf8, c))
        p->stats.invalid_utf8 = true;
}

/* Records where the current event block starts when a line opens one. */
static void block_note_line(struct sse_parser *p)
{
    if (!p->block_open) {
        p->block_open = true;
        p->block_start = p->pos;
    }
}

/* Forgets the event being built, keeping the stream-wide id and retry. */
static void block_reset(struct sse_parser *p)
{
    buf_reset(&p->data);
    buf_reset(&p->type);
    p->has_type = false;
    p->has_id = false;
    p->has_retry = false;
    p->has_meta = false;
    p->data_lines = 0;
    p->block_open = false;
}

/* Handles a blank line: dispatches the event if it has data. Returns 0, or 1
 * if the callback asked to stop. */
static int parser_dispatch(struct sse_parser *p)
{
    int rc = 0;
    struct sse_event ev;

    if (p->data.len == 0) {
        /* The spec resets the buffers and dispatches nothing, but some
         * SDKs emit an empty event for such a block: note it. */
        p->stats.empty_dispatches++;
        if (p->has_meta) {
            if (p->stats.meta_blocks == 0)
                p->stats.first_meta_at = p->block_start;
            p->stats.meta_blocks++;
            if (p->has_type)
                p->stats.meta_event_blocks++;
        }
        goto out;
    }
    /* Every data line appended a LF; the spec drops the last one. */
    buf_truncate(&p->data, p->data.len - 1);

    memset(&ev, 0, sizeof(ev));
    ev.type = p->type.len > 0 ? buf_str(&p->type) : "message";
    ev.has_type = p->has_type;
    ev.data = buf_str(&p->data);
    ev.data_len = p->data.len;
    ev.last_id = buf_str(&p->last_id);
    ev.has_id = p->has_id;
    ev.has_retry = p->has_retry;
    ev.retry = p->retry;
    ev.offset = p->block_start;
    ev.end = p->pos;
    ev.data_lines = p->data_lines;

    p->stats.events++;
    p->stats.bytes = p->pos;
    if (p->fn != NULL && p->fn(&ev, p->ud) != 0)
        rc = 1;
out:
    block_reset(p);
    return rc;
}

/* True if the n bytes at s spell the field name want. */
static bool field_is(const char *s, size_t n, const char *want)
{
    return n == strlen(want) && memcmp(s, want, n) == 0;
}

/* Parses a retry value: ASCII digits only, saturating rather than wrapping
 * so a huge value stays huge. Returns false if the value is not digits. */
static bool parse_retry(const char *s, size_t n, uint64_t *out)
{
    bool ok = false;
    uint64_t v = 0;
    size_t i;

    if (n == 0)
        goto out;
    for (i = 0; i < n; i++) {
        unsigned d;

        if (s[i] < '0' || s[i] > '9')
            goto out;
        d = (unsigned)(s[i] - '0');
        v = v > (UINT64_MAX - d) / 10 ? UINT64_MAX : v * 10 + d;
    }
    *out = v;
    ok = true;
out:
    return ok;
}

/* Applies one field, from the line that starts at offset at, to the event
 * being built. Returns 0, or -1 if the data would pass the cap (or on
 * OOM). */
static int parser_field(struct sse_parser *p, uint64_t at, const char *name,
                        size_t name_len, const char *value, size_t value_len)
{
    int err = -1;
    uint64_t retry;

    if (field_is(name, name_len, "event") || field_is(name, name_len, "id") ||
        field_is(name, name_len, "retry"))
        p->has_meta = true;
    if (field_is(name, name_len, "id")) {
        if (p->stats.id_fields == 0)
            p->stats.first_id_at = at;
        p->stats.id_fields++;
    }
    if (field_is(name, name_len, "event")) {
        buf_reset(&p->type);
        if (buf_append(&p->type, value, value_len) != 0)
            goto out;
        p->has_type = true;
    } else if (field_is(name, name_len, "data")) {
        /* The cap counts each line's LF: it is part of the buffer. */
        if (buf_append(&p->data, value, value_len) != 0 ||
            buf_append(&p->data, "\n", 1) != 0)
            goto out;
        p->data_lines++;
    } else if (field_is(name, name_len, "id")) {
        if (memchr(value, '\0', value_len) == NULL) {
            buf_reset(&p->last_id);
            if (buf_append(&p->last_id, value, value_len) != 0)
                goto out;
            p->has_id = true;
        }
    } else if (field_is(name, name_len, "retry")) {
        if (parse_retry(value, value_len, &retry)) {
            p->retry = retry;
            p->has_retry = true;
        }
    } else {
        p->stats.unknown_fields++;
    }
    err = 0;
out:
    return err;
}

/* Interprets the line just ended. Returns 0, 1 (stop) or -1 (cap, OOM). */
static int parser_line(struct sse_parser *p)
{
    int rc = 0;
    const char *s = buf_str(&p->line);
    size_t n = p->line.len;
    const char *colon;
    size_t name_len, value_len;
    const char *value;

    if (n == 0) {
        rc = parser_dispatch(p);
        goto out;
    }
    if (s[0] == ':') {
        p->stats.comments++;
        goto out;
    }
    colon = memchr(s, ':', n);
    if (colon != NULL) {
        name_len = (size_t)(colon - s);
        value = colon + 1;
        value_len = n - name_len - 1;
        if (value_len > 0 && value[0] == ' ') {
            value++;
            value_len--;
        }
    } else {
        /* A bare name is that field with an empty value. */
        name_len = n;
        value = s + n;
        value_len = 0;
    }
    /* The line's end byte is already counted in pos. */
    rc = parser_field(p, p->pos - 1 - n, s, name_len, value, value_len);
out:
    buf_reset(&p->line);
    return rc;
}

/* Returns how many bytes from s on are not line ends. */
static size_t span_text(const unsigned char *s, size_t len)
{
    size_t i = 0;

    while (i < len && s[i] != '\r' && s[i] != '\n')
        i++;
    return i;
}

/* Interprets len bytes that come after the BOM check, stopping at the first
 * byte that ends the parse. Returns 0, 1 (stop) or -1 (cap, OOM). */
static int parser_consume(struct sse_parser *p, const unsigned char *s,
                          size_t len)
{
    int rc = 0;
    size_t i = 0;

    while (i < len && rc == 0) {
        unsigned char c = s[i];

        if (p->pending_cr) {
            p->pending_cr = false;
            if (c == '\n') {
                /* The LF finishes a CRLF whose line was handled at the
                 * CR, so events dispatch without waiting for more bytes. */
                p->stats.crlf++;
                parser_utf8(p, c);
                p->pos++;
                i++;
                continue;
            }
            p->stats.cr++;
        }
        block_note_line(p);
        if (c == '\r' || c == '\n') {
            parser_utf8(p, c);
            p->pos++;
            i++;
            if (c == '\r')
                p->pending_cr = true;
            else
                p->stats.lf++;
            rc = parser_line(p);
        } else {
            size_t run = span_text(s + i, len - i);
            size_t room = p->line.len < p->max ? p->max - p->line.len : 0;
            size_t take = run > room ? room + 1 : run;
            size_t k;

            /* Past the cap only the byte that broke it is consumed. */
            for (k = 0; k < take; k++)
                parser_utf8(p, s[i + k]);
            p->pos += take;
            if (take > room ||
                buf_append(&p->line, (const char *)s + i, take) != 0)
                rc = -1;
            i += take;
        }
    }
    return rc;
}

/* Maps a consume result onto the parser's state. */
static void parser_settle(struct sse_parser *p, int rc)
{
    if (rc == 1)
        p->state = PARSER_STOPPED;
    else if (rc < 0)
        p->state = PARSER_FAILED;
    p->stats.bytes = p->pos + (p->head_done ? 0 : p->nhead);
}

/* Allocates a parser in its initial state. */
struct sse_parser *sse_parser_new(size_t max_bytes, sse_event_fn fn, void *ud)
{
    struct sse_parser *p = calloc(1, sizeof(*p));

    if (p == NULL)
        goto out;
    p->max = max_bytes;
    p->fn = fn;
    p->ud = ud;
    p->state = PARSER_OK;
    buf_init(&p->line, max_bytes);
    buf_init(&p->data, max_bytes);
    buf_init(&p->type, max_bytes);
    buf_init(&p->last_id, max_bytes);
    utf8_stream_init(&p->utf8);
out:
    return p;
}

/* Frees the parser and every buffer it grew. */
void sse_parser_free(struct sse_parser *p)
{
    if (p != NULL) {
        buf_cleanup(&p->line);
        buf_cleanup(&p->data);
        buf_cleanup(&p->type);
        buf_cleanup(&p->last_id);
        free(p);
    }
}

/* Feeds bytes through the BOM check and then the line parser. */
int sse_parser_feed(struct sse_parser *p, const char *bytes, size_t len)
{
    int rc = 0;
    const unsigned char *s = (const unsigned char *)bytes;
    size_t i = 0;

    if (p->state != PARSER_OK) {
        rc = p->state == PARSER_STOPPED ? 1 : -1;
        goto out;
    }
    /* A BOM may arrive one byte per feed, so its prefix is held back until
     * it is complete or proves not to be one, then replayed as text. */
    while (!p->head_done && i < len && rc == 0) {
        p->head[p->nhead++] = s[i++];
        if (memcmp(p->head, utf8_bom, p->nhead) != 0) {
            p->head_done = true;
            rc = parser_consume(p, p->head, p->nhead);
        } else if (p->nhead == sizeof(utf8_bom)) {
            p->head_done = true;
            p->stats.bom = true;
            p->pos = sizeof(utf8_bom);
        }
    }
    if (rc == 0 && i < len)
        rc = parser_consume(p, s + i, len - i);
    parser_settle(p, rc);
out:
    return rc;
}

/* Ends the stream, settling what the last bytes left open. */
bool sse_parser_finish(struct sse_parser *p)
{
    bool dropped = false;

    if (p->state == PARSER_FINISHED)
        goto out;
    if (p->state == PARSER_OK && !p->head_done) {
        /* A stream shorter than a BOM: what was held is ordinary text. */
        p->head_done = true;
        parser_settle(p, parser_consume(p, p->head, p->nhead));
    }
    if (p->pending_cr) {
        p->pending_cr = false;
        p->stats.cr++;
    }
    if (!utf8_stream_end(&p->utf8))
        p->stats.invalid_utf8 = true; /* the stream ended mid-sequence */
    dropped = p->state == PARSER_FAILED || p->line.len > 0 || p->data.len > 0;
    p->stats.bytes = p->pos;
    p->state = PARSER_FINISHED;
out:
    return dropped;
}

/* Lends the statistics gathered so far. */
const struct sse_stats *sse_parser_stats(const struct sse_parser *p)
{
    return &p->stats;
}
