/* fuzz_sse: nexus-conform's event-stream parser on arbitrary bytes, fed
 * once whole and once in pieces cut where the input says: both must see the
 * same events and the same framing facts, since a network may cut a stream
 * anywhere.
 *
 * Input: byte 0 sets the largest piece (1..256 bytes) and, with byte 1,
 * seeds the cuts; the low two bits of byte 1 pick the parser's cap (64,
 * 256, 4096 bytes or 1 MiB) and its high six bits make the callback stop
 * after that many events (0: never). The rest is the stream. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "lexicon.h" /* FNV-1a, to digest the events */
#include "sse_parse.h"

/* What one parse saw: a digest of every event, in order, and how it ended. */
struct seen {
    uint64_t digest;
    unsigned events;
    unsigned stop_after; /* 0: never stop */
    int rc;              /* the first non-zero feed result, or 0 */
    bool dropped;        /* sse_parser_finish's answer */
};

/* Folds one number into h, as its own 8 bytes. */
static uint64_t mix_u64(uint64_t h, uint64_t v)
{
    return lexicon_hash(h, &v, sizeof(v));
}

/* Checks an event's own promises and folds it into the digest. */
static int on_event(const struct sse_event *ev, void *ud)
{
    struct seen *s = ud;
    uint64_t h = s->digest;

    fuzz_require(ev->data[ev->data_len] == '\0', "data is NUL-terminated");
    fuzz_require(ev->offset < ev->end, "an event starts before it ends");
    fuzz_require(ev->data_lines > 0, "an event has a data line");
    h = lexicon_hash(h, ev->type, strlen(ev->type) + 1);
    h = lexicon_hash(h, ev->data, ev->data_len);
    h = lexicon_hash(h, ev->last_id, strlen(ev->last_id) + 1);
    h = mix_u64(h, ev->data_len);
    h = mix_u64(h, (uint64_t)ev->has_type << 2 | (uint64_t)ev->has_id << 1 |
                       (uint64_t)ev->has_retry);
    h = mix_u64(h, ev->retry);
    h = mix_u64(h, ev->offset);
    h = mix_u64(h, ev->end);
    h = mix_u64(h, ev->data_lines);
    s->digest = h;
    s->events++;
    return s->stop_after != 0 && s->events >= s->stop_after;
}

/* True if two sets of framing facts are the same, field by field. */
static bool stats_equal(const struct sse_stats *a, const struct sse_stats *b)
{
    return a->bytes == b->bytes && a->lf == b->lf && a->crlf == b->crlf &&
           a->cr == b->cr && a->comments == b->comments &&
           a->unknown_fields == b->unknown_fields &&
           a->empty_dispatches == b->empty_dispatches &&
           a->meta_blocks == b->meta_blocks &&
           a->meta_event_blocks == b->meta_event_blocks &&
           a->first_meta_at == b->first_meta_at &&
           a->id_fields == b->id_fields && a->first_id_at == b->first_id_at &&
           a->bom == b->bom && a->invalid_utf8 == b->invalid_utf8 &&
           a->events == b->events;
}

/* Parses the stream in pieces of 1..max_piece bytes drawn from seed (a
 * max_piece of 0 means one piece); fills *s and *st. */
static void parse(const char *stream, size_t len, size_t cap,
                  unsigned max_piece, uint32_t seed, struct seen *s,
                  struct sse_stats *st)
{
    struct sse_parser *p = sse_parser_new(cap, on_event, s);
    size_t at = 0, piece;

    fuzz_require(p != NULL, "sse_parser_new");
    while (at < len && s->rc == 0) {
        piece = len - at;
        if (max_piece > 0) {
            /* xorshift32: cheap, and the same cuts for the same input. */
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            if (piece > 1 + seed % max_piece)
                piece = 1 + seed % max_piece;
        }
        s->rc = sse_parser_feed(p, stream + at, piece);
        at += piece;
    }
    s->dropped = sse_parser_finish(p);
    *st = *sse_parser_stats(p);
    fuzz_require(st->bytes <= len, "no more bytes counted than fed");
    sse_parser_free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const size_t caps[4] = {64, 256, 4096, 1024 * 1024};
    struct seen whole, cut;
    struct sse_stats st_whole, st_cut;
    char *stream;
    size_t len;

    if (size < 2)
        return 0;
    len = size - 2;
    /* An exact-size copy, so that reading past the end is caught. */
    stream = malloc(len ? len : 1);
    fuzz_require(stream != NULL, "malloc");
    memcpy(stream, data + 2, len);
    memset(&whole, 0, sizeof(whole));
    whole.digest = LEXICON_HASH_INIT;
    whole.stop_after = data[1] >> 2;
    cut = whole;
    parse(stream, len, caps[data[1] & 3], 0, 0, &whole, &st_whole);
    parse(stream, len, caps[data[1] & 3], (unsigned)data[0] + 1,
          (uint32_t)data[0] << 8 | data[1] | 1u << 16, &cut, &st_cut);
    fuzz_require(whole.events == cut.events, "the same number of events");
    fuzz_require(whole.digest == cut.digest, "the same events");
    fuzz_require(whole.rc == cut.rc, "the same end (stop, cap)");
    fuzz_require(whole.dropped == cut.dropped, "the same dropped tail");
    fuzz_require(stats_equal(&st_whole, &st_cut), "the same framing facts");
    free(stream);
    return 0;
}
