/* test_sse_parse: every event-stream edge, each fed whole and in pieces. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sse_parse.h"

#define MAX_EVENTS 64
#define NO_CAP ((size_t)1 << 20)

/* One event as the callback saw it, copied out of the borrowed strings. */
struct rec_event {
    char *type;
    bool has_type;
    char *data;
    size_t data_len;
    char *last_id;
    bool has_id;
    bool has_retry;
    uint64_t retry;
    uint64_t offset;
    uint64_t end;
    unsigned data_lines;
};

/* Everything one parse produced. */
struct run {
    struct rec_event ev[MAX_EVENTS];
    size_t n;
    size_t stop_after; /* the callback stops at this many events; 0 never */
    int rc;            /* the first non-zero feed result, or 0 */
    bool dropped;
    struct sse_stats stats;
};

/* What a test expects of one event; data_len 0 means strlen(data). */
struct exp_event {
    const char *type;
    bool has_type;
    const char *data;
    size_t data_len;
    const char *last_id;
    bool has_id;
    bool has_retry;
    uint64_t retry;
    uint64_t offset;
    uint64_t end;
    unsigned data_lines;
};

/* What a test expects of a whole stream. */
struct expect {
    const struct exp_event *ev;
    size_t n;
    struct sse_stats stats;
    bool dropped;
    int rc;
    size_t max; /* the parser's cap; 0 means NO_CAP unless max_set */
    bool max_set;
    size_t stop_after; /* as in struct run */
};

/* Copies n bytes into a fresh NUL-terminated string. */
static char *copy_bytes(const char *s, size_t n)
{
    char *p = malloc(n + 1);

    assert_non_null(p);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

/* Records an event and stops when the run asks for it. */
static int record(const struct sse_event *ev, void *ud)
{
    struct run *r = ud;
    struct rec_event *e;

    assert_true(r->n < MAX_EVENTS);
    e = &r->ev[r->n++];
    e->type = copy_bytes(ev->type, strlen(ev->type));
    e->has_type = ev->has_type;
    /* The data must be NUL-terminated at data_len. */
    assert_int_equal(ev->data[ev->data_len], '\0');
    e->data = copy_bytes(ev->data, ev->data_len);
    e->data_len = ev->data_len;
    e->last_id = copy_bytes(ev->last_id, strlen(ev->last_id));
    e->has_id = ev->has_id;
    e->has_retry = ev->has_retry;
    e->retry = ev->retry;
    e->offset = ev->offset;
    e->end = ev->end;
    e->data_lines = ev->data_lines;
    return r->stop_after != 0 && r->n == r->stop_after;
}

/* Frees the copies a run made. */
static void run_free(struct run *r)
{
    size_t i;

    for (i = 0; i < r->n; i++) {
        free(r->ev[i].type);
        free(r->ev[i].data);
        free(r->ev[i].last_id);
    }
    r->n = 0;
}

/* Parses in with cuts (sorted offsets, each in 1..len-1) splitting it into
 * feeds; a feed after the first non-zero result must repeat that result. */
static void run_split(struct run *r, const char *in, size_t len,
                      const size_t *cuts, size_t ncuts, const struct expect *x)
{
    struct sse_parser *p;
    size_t i, from = 0;

    memset(r, 0, sizeof(*r));
    r->stop_after = x->stop_after;
    p = sse_parser_new(x->max || x->max_set ? x->max : NO_CAP, record, r);
    assert_non_null(p);
    for (i = 0; i <= ncuts; i++) {
        size_t to = i < ncuts ? cuts[i] : len;
        int rc = sse_parser_feed(p, in + from, to - from);

        if (r->rc != 0)
            assert_int_equal(rc, r->rc);
        else
            r->rc = rc;
        from = to;
    }
    r->dropped = sse_parser_finish(p);
    r->stats = *sse_parser_stats(p);
    sse_parser_free(p);
}

/* Asserts two sets of statistics are identical, field by field. */
static void stats_equal(const struct sse_stats *a, const struct sse_stats *b)
{
    assert_int_equal(a->bytes, b->bytes);
    assert_int_equal(a->lf, b->lf);
    assert_int_equal(a->crlf, b->crlf);
    assert_int_equal(a->cr, b->cr);
    assert_int_equal(a->comments, b->comments);
    assert_int_equal(a->unknown_fields, b->unknown_fields);
    assert_int_equal(a->empty_dispatches, b->empty_dispatches);
    assert_int_equal(a->meta_blocks, b->meta_blocks);
    assert_int_equal(a->meta_event_blocks, b->meta_event_blocks);
    assert_int_equal(a->first_meta_at, b->first_meta_at);
    assert_int_equal(a->id_fields, b->id_fields);
    assert_int_equal(a->first_id_at, b->first_id_at);
    assert_int_equal(a->bom, b->bom);
    assert_int_equal(a->invalid_utf8, b->invalid_utf8);
    assert_int_equal(a->events, b->events);
}

/* Asserts two runs produced exactly the same events and facts. */
static void runs_equal(const struct run *a, const struct run *b)
{
    size_t i;

    assert_int_equal(a->n, b->n);
    for (i = 0; i < a->n; i++) {
        const struct rec_event *x = &a->ev[i], *y = &b->ev[i];

        assert_string_equal(x->type, y->type);
        assert_int_equal(x->has_type, y->has_type);
        assert_int_equal(x->data_len, y->data_len);
        assert_memory_equal(x->data, y->data, x->data_len);
        assert_string_equal(x->last_id, y->last_id);
        assert_int_equal(x->has_id, y->has_id);
        assert_int_equal(x->has_retry, y->has_retry);
        assert_int_equal(x->retry, y->retry);
        assert_int_equal(x->offset, y->offset);
        assert_int_equal(x->end, y->end);
        assert_int_equal(x->data_lines, y->data_lines);
    }
    assert_int_equal(a->rc, b->rc);
    assert_int_equal(a->dropped, b->dropped);
    stats_equal(&a->stats, &b->stats);
}

/* Asserts a run matches what the test expects. */
static void run_matches(const struct run *r, const struct expect *x)
{
    size_t i;

    assert_int_equal(r->n, x->n);
    for (i = 0; i < x->n; i++) {
        const struct rec_event *e = &r->ev[i];
        const struct exp_event *w = &x->ev[i];
        size_t dlen = w->data_len ? w->data_len : strlen(w->data);

        assert_string_equal(e->type, w->type);
        assert_int_equal(e->has_type, w->has_type);
        assert_int_equal(e->data_len, dlen);
        assert_memory_equal(e->data, w->data, dlen);
        assert_string_equal(e->last_id, w->last_id ? w->last_id : "");
        assert_int_equal(e->has_id, w->has_id);
        assert_int_equal(e->has_retry, w->has_retry);
        assert_int_equal(e->retry, w->retry);
        assert_int_equal(e->offset, w->offset);
        assert_int_equal(e->end, w->end);
        assert_int_equal(e->data_lines, w->data_lines);
    }
    assert_int_equal(r->rc, x->rc);
    assert_int_equal(r->dropped, x->dropped);
    stats_equal(&r->stats, &x->stats);
}

/* A small deterministic generator, so random splits repeat exactly. */
static uint32_t xorshift(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

/* Compares the run split at cuts with the reference run. */
static void check_split(const struct run *ref, const char *in, size_t len,
                        const size_t *cuts, size_t ncuts,
                        const struct expect *x)
{
    struct run r;

    run_split(&r, in, len, cuts, ncuts, x);
    runs_equal(ref, &r);
    run_free(&r);
}

/* Parses in whole, checks it against x, then re-feeds it one byte at a time,
 * at every split point (every pair of them for short inputs) and at random
 * split points, and requires every result to be identical. */
static void check_stream(const char *in, size_t len, const struct expect *x)
{
    struct run ref;
    size_t cuts[16];
    size_t i, j, k;
    uint32_t seed = 0x9E3779B9u ^ (uint32_t)len;

    run_split(&ref, in, len, NULL, 0, x);
    run_matches(&ref, x);

    if (len > 1) {
        size_t *bytes = malloc((len - 1) * sizeof(*bytes));
        assert_non_null(bytes);
        for (i = 1; i < len; i++)
            bytes[i - 1] = i;
        check_split(&ref, in, len, bytes, len - 1, x);
        free(bytes);
    }
    for (i = 1; i < len; i++) {
        cuts[0] = i;
        check_split(&ref, in, len, cuts, 1, x);
    }
    if (len <= 64) {
        for (i = 1; i < len; i++) {
            for (j = i + 1; j < len; j++) {
                cuts[0] = i;
                cuts[1] = j;
                check_split(&ref, in, len, cuts, 2, x);
            }
        }
    }
    for (k = 0; k < 64 && len > 1; k++) {
        size_t n = 1 + xorshift(&seed) % 15, m = 0;

        for (i = 0; i < n; i++) {
            size_t c = 1 + xorshift(&seed) % (len - 1);

            /* Keep the cuts sorted and distinct. */
            for (j = 0; j < m && cuts[j] < c; j++)
                ;
            if (j < m && cuts[j] == c)
                continue;
            memmove(&cuts[j + 1], &cuts[j], (m - j) * sizeof(cuts[0]));
            cuts[j] = c;
            m++;
        }
        check_split(&ref, in, len, cuts, m, x);
    }
    run_free(&ref);
}

#define CHECK(in, ...)                                                         \
    do {                                                                       \
        const struct expect x_ = __VA_ARGS__;                                  \
        check_stream((in), sizeof(in) - 1, &x_);                               \
    } while (0)

#define EVS(...)                                                               \
    (const struct exp_event[])                                                 \
    {                                                                          \
        __VA_ARGS__                                                            \
    }
#define LEN(s) ((uint64_t)(sizeof(s) - 1))

/* LF line ends: the plain case. */
static void test_lf(void **state)
{
    (void)state;
    CHECK("data: hello\n\n", {.ev = EVS({.type = "message",
                                         .data = "hello",
                                         .offset = 0,
                                         .end = 13,
                                         .data_lines = 1}),
                              .n = 1,
                              .stats = {.bytes = 13, .lf = 2, .events = 1}});
}

/* CRLF line ends: the event is dispatched at the blank line's CR. */
static void test_crlf(void **state)
{
    (void)state;
    CHECK("data: hello\r\n\r\n",
          {.ev = EVS({.type = "message",
                      .data = "hello",
                      .offset = 0,
                      .end = 14,
                      .data_lines = 1}),
           .n = 1,
           .stats = {.bytes = 15, .crlf = 2, .events = 1}});
}

/* CR line ends, including the last one, which only finish can classify. */
static void test_cr(void **state)
{
    (void)state;
    CHECK("data: hello\r\r", {.ev = EVS({.type = "message",
                                         .data = "hello",
                                         .offset = 0,
                                         .end = 13,
                                         .data_lines = 1}),
                              .n = 1,
                              .stats = {.bytes = 13, .cr = 2, .events = 1}});
}

#define MIX_A "data: a\n"
#define MIX_B "data: b\r\n"
#define MIX_C "data: c\r"
#define MIX_D "\r\n"
#define MIX_E "event: x\r"
#define MIX_F "data: d\n"
#define MIX_G "\r"

/* All three line ends in one stream, including CR followed by CRLF. */
static void test_mixed(void **state)
{
    (void)state;
    CHECK(MIX_A MIX_B MIX_C MIX_D MIX_E MIX_F MIX_G,
          {.ev = EVS({.type = "message",
                      .data = "a\nb\nc",
                      .offset = 0,
                      .end = LEN(MIX_A MIX_B MIX_C) + 1,
                      .data_lines = 3},
                     {.type = "x",
                      .has_type = true,
                      .data = "d",
                      .offset = LEN(MIX_A MIX_B MIX_C MIX_D),
                      .end = LEN(MIX_A MIX_B MIX_C MIX_D MIX_E MIX_F MIX_G),
                      .data_lines = 1}),
           .n = 2,
           .stats = {.bytes = LEN(MIX_A MIX_B MIX_C MIX_D MIX_E MIX_F MIX_G),
                     .lf = 2,
                     .crlf = 2,
                     .cr = 3,
                     .events = 2}});
}

/* A CR ending one feed and a LF opening the next are one line end. */
static void test_crlf_across_feeds(void **state)
{
    struct run r;
    struct sse_parser *p;

    (void)state;
    memset(&r, 0, sizeof(r));
    p = sse_parser_new(NO_CAP, record, &r);
    assert_non_null(p);
    assert_int_equal(sse_parser_feed(p, "data: x\r", 8), 0);
    /* The kind of the line end is not known yet. */
    assert_int_equal(sse_parser_stats(p)->cr, 0);
    assert_int_equal(sse_parser_stats(p)->crlf, 0);
    assert_int_equal(sse_parser_feed(p, "\n", 1), 0);
    assert_int_equal(sse_parser_stats(p)->crlf, 1);
    assert_int_equal(sse_parser_stats(p)->lf, 0);
    assert_int_equal(r.n, 0);
    /* That LF did not also count as a blank line. */
    assert_int_equal(sse_parser_feed(p, "\r", 1), 0);
    assert_int_equal(r.n, 1);
    assert_string_equal(r.ev[0].data, "x");
    assert_int_equal(r.ev[0].end, 10);
    assert_int_equal(sse_parser_feed(p, "\n", 1), 0);
    assert_false(sse_parser_finish(p));
    assert_int_equal(sse_parser_stats(p)->crlf, 2);
    assert_int_equal(sse_parser_stats(p)->cr, 0);
    assert_int_equal(sse_parser_stats(p)->bytes, 11);
    sse_parser_free(p);
    run_free(&r);
}

/* A leading BOM is stripped but still counts in the offsets. */
static void test_bom(void **state)
{
    (void)state;
    CHECK("\xEF\xBB\xBF"
          "data: x\n\n",
          {.ev = EVS({.type = "message",
                      .data = "x",
                      .offset = 3,
                      .end = 12,
                      .data_lines = 1}),
           .n = 1,
           .stats = {.bytes = 12, .lf = 2, .bom = true, .events = 1}});
}

/* Only the first BOM is stripped; a second one is part of the field name. */
static void test_bom_twice(void **state)
{
    (void)state;
    CHECK("\xEF\xBB\xBF\xEF\xBB\xBF"
          "data: x\n\n",
          {.n = 0,
           .stats = {.bytes = 15,
                     .lf = 2,
                     .unknown_fields = 1,
                     .empty_dispatches = 1,
                     .bom = true}});
}

/* Two bytes of a BOM followed by text are ordinary (invalid) text. */
static void test_bom_partial(void **state)
{
    (void)state;
    CHECK("\xEF\xBB"
          "data: x\n\n",
          {.n = 0,
           .stats = {.bytes = 11,
                     .lf = 2,
                     .unknown_fields = 1,
                     .empty_dispatches = 1,
                     .invalid_utf8 = true}});
}

/* A stream that is only a BOM, or shorter than one. */
static void test_bom_short_streams(void **state)
{
    (void)state;
    CHECK("\xEF\xBB\xBF", {.n = 0, .stats = {.bytes = 3, .bom = true}});
    CHECK(
        "\xEF",
        {.n = 0, .dropped = true, .stats = {.bytes = 1, .invalid_utf8 = true}});
    CHECK("", {.n = 0});
}

/* A BOM inside the data is data. */
static void test_bom_in_data(void **state)
{
    (void)state;
    CHECK("data: \xEF\xBB\xBFx\n\n",
          {.ev = EVS({.type = "message",
                      .data = "\xEF\xBB\xBFx",
                      .end = 12,
                      .data_lines = 1}),
           .n = 1,
           .stats = {.bytes = 12, .lf = 2, .events = 1}});
}

#define COM_A ": hi\n:\n\n"
#define COM_B "data: x\n: mid\n\n"

/* Comment lines are counted and change nothing else. */
static void test_comments(void **state)
{
    (void)state;
    CHECK(COM_A COM_B, {.ev = EVS({.type = "message",
                                   .data = "x",
                                   .offset = LEN(COM_A),
                                   .end = LEN(COM_A COM_B),
                                   .data_lines = 1}),
                        .n = 1,
                        .stats = {.bytes = LEN(COM_A COM_B),
                                  .lf = 6,
                                  .comments = 3,
                                  .empty_dispatches = 1,
                                  .events = 1}});
}

/* Data lines join with LF, an empty data line included. */
static void test_multiline_data(void **state)
{
    (void)state;
    CHECK("data: a\ndata: b\ndata:\ndata: c\n\n",
          {.ev = EVS({.type = "message",
                      .data = "a\nb\n\nc",
                      .end = 31,
                      .data_lines = 4}),
           .n = 1,
           .stats = {.bytes = 31, .lf = 5, .events = 1}});
}

#define NC_A "data\n\n"
#define NC_B "data\ndata\n\n"

/* "data" with no colon is a data line with an empty value. */
static void test_data_no_colon(void **state)
{
    (void)state;
    CHECK(
        NC_A NC_B,
        {.ev = EVS(
             {.type = "message", .data = "", .end = LEN(NC_A), .data_lines = 1},
             {.type = "message",
              .data = "\n",
              .offset = LEN(NC_A),
              .end = LEN(NC_A NC_B),
              .data_lines = 2}),
         .n = 2,
         .stats = {.bytes = LEN(NC_A NC_B), .lf = 5, .events = 2}});
}

#define SP_A "data:x\n\n"
#define SP_B "data:  x\n\n"
#define SP_C "data: \n\n"
#define SP_D "data:x \n\n"
#define SP_E "data:\tx\n\n"

/* Only one space after the colon is removed, and only a space. */
static void test_value_spaces(void **state)
{
    (void)state;
    CHECK(SP_A SP_B SP_C SP_D SP_E,
          {.ev = EVS({.type = "message",
                      .data = "x",
                      .end = LEN(SP_A),
                      .data_lines = 1},
                     {.type = "message",
                      .data = " x",
                      .offset = LEN(SP_A),
                      .end = LEN(SP_A SP_B),
                      .data_lines = 1},
                     {.type = "message",
                      .data = "",
                      .offset = LEN(SP_A SP_B),
                      .end = LEN(SP_A SP_B SP_C),
                      .data_lines = 1},
                     {.type = "message",
                      .data = "x ",
                      .offset = LEN(SP_A SP_B SP_C),
                      .end = LEN(SP_A SP_B SP_C SP_D),
                      .data_lines = 1},
                     {.type = "message",
                      .data = "\tx",
                      .offset = LEN(SP_A SP_B SP_C SP_D),
                      .end = LEN(SP_A SP_B SP_C SP_D SP_E),
                      .data_lines = 1}),
           .n = 5,
           .stats = {
               .bytes = LEN(SP_A SP_B SP_C SP_D SP_E), .lf = 10, .events = 5}});
}

#define EV_A "event: add\ndata: 1\n\n"
#define EV_B "event:\ndata: 2\n\n"
#define EV_C "data: 3\n\n"
#define EV_D "event: a\nevent: b\ndata: 4\n\n"

/* The event type: set, empty (so "message"), reset, and overwritten. */
static void test_event_type(void **state)
{
    (void)state;
    CHECK(
        EV_A EV_B EV_C EV_D,
        {.ev = EVS({.type = "add",
                    .has_type = true,
                    .data = "1",
                    .end = LEN(EV_A),
                    .data_lines = 1},
                   {.type = "message",
                    .has_type = true,
                    .data = "2",
                    .offset = LEN(EV_A),
                    .end = LEN(EV_A EV_B),
                    .data_lines = 1},
                   {.type = "message",
                    .data = "3",
                    .offset = LEN(EV_A EV_B),
                    .end = LEN(EV_A EV_B EV_C),
                    .data_lines = 1},
                   {.type = "b",
                    .has_type = true,
                    .data = "4",
                    .offset = LEN(EV_A EV_B EV_C),
                    .end = LEN(EV_A EV_B EV_C EV_D),
                    .data_lines = 1}),
         .n = 4,
         .stats = {.bytes = LEN(EV_A EV_B EV_C EV_D), .lf = 12, .events = 4}});
}

#define ID_A "id: 1\ndata: a\n\n"
#define ID_B "data: b\n\n"
#define ID_C "id\ndata: c\n\n"
#define ID_D "id: 7\n\n"
#define ID_E "data: d\n\n"
#define ID_F "id: 8\ndata: e\nid: 9\n\n"

/* The last event ID persists across events and empty dispatches. */
static void test_id_persists(void **state)
{
    (void)state;
    CHECK(ID_A ID_B ID_C ID_D ID_E ID_F,
          {.ev = EVS({.type = "message",
                      .data = "a",
                      .last_id = "1",
                      .has_id = true,
                      .end = LEN(ID_A),
                      .data_lines = 1},
                     {.type = "message",
                      .data = "b",
                      .last_id = "1",
                      .offset = LEN(ID_A),
                      .end = LEN(ID_A ID_B),
                      .data_lines = 1},
                     {.type = "message",
                      .data = "c",
                      .last_id = "",
                      .has_id = true,
                      .offset = LEN(ID_A ID_B),
                      .end = LEN(ID_A ID_B ID_C),
                      .data_lines = 1},
                     {.type = "message",
                      .data = "d",
                      .last_id = "7",
                      .offset = LEN(ID_A ID_B ID_C ID_D),
                      .end = LEN(ID_A ID_B ID_C ID_D ID_E),
                      .data_lines = 1},
                     {.type = "message",
                      .data = "e",
                      .last_id = "9",
                      .has_id = true,
                      .offset = LEN(ID_A ID_B ID_C ID_D ID_E),
                      .end = LEN(ID_A ID_B ID_C ID_D ID_E ID_F),
                      .data_lines = 1}),
           .n = 5,
           .stats = {.bytes = LEN(ID_A ID_B ID_C ID_D ID_E ID_F),
                     .lf = 16,
                     .empty_dispatches = 1,
                     .meta_blocks = 1,
                     .first_meta_at = LEN(ID_A ID_B ID_C),
                     .id_fields = 5,
                     .events = 5}});
}

#define IDN_A "id: 5\ndata: a\n\n"
#define IDN_B "id: x\0y\ndata: b\n\n"

/* An id containing NUL is ignored: the previous ID stays. */
static void test_id_with_nul(void **state)
{
    (void)state;
    CHECK(
        IDN_A IDN_B,
        {.ev = EVS({.type = "message",
                    .data = "a",
                    .last_id = "5",
                    .has_id = true,
                    .end = LEN(IDN_A),
                    .data_lines = 1},
                   {.type = "message",
                    .data = "b",
                    .last_id = "5",
                    .offset = LEN(IDN_A),
                    .end = LEN(IDN_A IDN_B),
                    .data_lines = 1}),
         .n = 2,
         .stats = {
             .bytes = LEN(IDN_A IDN_B), .lf = 6, .id_fields = 2, .events = 2}});
}

#define RT_A "retry: 3000\ndata: a\n\n"
#define RT_B "data: b\n\n"
#define RT_C "retry: 30a\ndata: c\n\n"
#define RT_D "retry:\nretry\ndata: d\n\n"
#define RT_E "retry:  10\nretry: -1\nretry: +1\ndata: e\n\n"
#define RT_F "retry: 99999999999999999999999\ndata: f\n\n"
#define RT_G "retry: 0\ndata: g\n\n"

/* retry takes ASCII digits only; the value outlives the event. */
static void test_retry(void **state)
{
    (void)state;
    CHECK(RT_A RT_B RT_C RT_D RT_E RT_F RT_G,
          {.ev = EVS({.type = "message",
                      .data = "a",
                      .has_retry = true,
                      .retry = 3000,
                      .end = LEN(RT_A),
                      .data_lines = 1},
                     {.type = "message",
                      .data = "b",
                      .retry = 3000,
                      .offset = LEN(RT_A),
                      .end = LEN(RT_A RT_B),
                      .data_lines = 1},
                     {.type = "message",
                      .data = "c",
                      .retry = 3000,
                      .offset = LEN(RT_A RT_B),
                      .end = LEN(RT_A RT_B RT_C),
                      .data_lines = 1},
                     {.type = "message",
                      .data = "d",
                      .retry = 3000,
                      .offset = LEN(RT_A RT_B RT_C),
                      .end = LEN(RT_A RT_B RT_C RT_D),
                      .data_lines = 1},
                     {.type = "message",
                      .data = "e",
                      .retry = 3000,
                      .offset = LEN(RT_A RT_B RT_C RT_D),
                      .end = LEN(RT_A RT_B RT_C RT_D RT_E),
                      .data_lines = 1},
                     {.type = "message",
                      .data = "f",
                      .has_retry = true,
                      .retry = UINT64_MAX,
                      .offset = LEN(RT_A RT_B RT_C RT_D RT_E),
                      .end = LEN(RT_A RT_B RT_C RT_D RT_E RT_F),
                      .data_lines = 1},
                     {.type = "message",
                      .data = "g",
                      .has_retry = true,
                      .retry = 0,
                      .offset = LEN(RT_A RT_B RT_C RT_D RT_E RT_F),
                      .end = LEN(RT_A RT_B RT_C RT_D RT_E RT_F RT_G),
                      .data_lines = 1}),
           .n = 7,
           .stats = {.bytes = LEN(RT_A RT_B RT_C RT_D RT_E RT_F RT_G),
                     .lf = 23,
                     .events = 7}});
}

#define UNKNOWN "foo: bar\nData: x\nevent : y\n data: z\ndata\t: w\n  \n\n"

/* Field names are exact and case-sensitive; others are counted. */
static void test_unknown_fields(void **state)
{
    (void)state;
    CHECK(UNKNOWN, {.n = 0,
                    .stats = {.bytes = LEN(UNKNOWN),
                              .lf = 7,
                              .unknown_fields = 6,
                              .empty_dispatches = 1}});
}

#define ED_A "event: ping\n\n\n\n"
#define ED_B "data: x\n\n"

/* A blank line with no data dispatches nothing and resets the type. */
static void test_empty_dispatch(void **state)
{
    (void)state;
    CHECK(ED_A ED_B, {.ev = EVS({.type = "message",
                                 .data = "x",
                                 .offset = LEN(ED_A),
                                 .end = LEN(ED_A ED_B),
                                 .data_lines = 1}),
                      .n = 1,
                      .stats = {.bytes = LEN(ED_A ED_B),
                                .lf = 6,
                                .empty_dispatches = 3,
                                .meta_blocks = 1,
                                .meta_event_blocks = 1,
                                .events = 1}});
}

#define MB_A "data: a\n\n"
#define MB_B "retry: 3000\n\n"
#define MB_C ": c\nevent: ping\n\n"
#define MB_D "id: 7\r\n\r\n"
#define MB_E "retry: x\n\n"
#define MB_F "\n"
#define MB_G "data: b\n\n"

/* Blocks with event:, id: or retry: but no data dispatch nothing, yet are
 * counted (some SDKs emit an empty event for them); a plain extra blank
 * line is not one, and every id: line is counted where it starts. */
static void test_meta_blocks(void **state)
{
    (void)state;
    CHECK(MB_A MB_B MB_C MB_D MB_E MB_F MB_G,
          {.ev = EVS({.type = "message",
                      .data = "a",
                      .end = LEN(MB_A),
                      .data_lines = 1},
                     {.type = "message",
                      .data = "b",
                      .last_id = "7",
                      .retry = 3000,
                      .offset = LEN(MB_A MB_B MB_C MB_D MB_E MB_F),
                      .end = LEN(MB_A MB_B MB_C MB_D MB_E MB_F MB_G),
                      .data_lines = 1}),
           .n = 2,
           .stats = {.bytes = LEN(MB_A MB_B MB_C MB_D MB_E MB_F MB_G),
                     .lf = 12,
                     .crlf = 2,
                     .comments = 1,
                     .empty_dispatches = 5,
                     .meta_blocks = 4,
                     .meta_event_blocks = 1,
                     .first_meta_at = LEN(MB_A),
                     .id_fields = 1,
                     .first_id_at = LEN(MB_A MB_B MB_C),
                     .events = 2}});
}

/* An event with no blank line after it is dropped at the end. */
static void test_unterminated_event(void **state)
{
    (void)state;
    CHECK(
        "data: a\n\ndata: b\n",
        {.ev = EVS({.type = "message", .data = "a", .end = 9, .data_lines = 1}),
         .n = 1,
         .dropped = true,
         .stats = {.bytes = 17, .lf = 3, .events = 1}});
    CHECK(
        "data: a\n\ndata: b",
        {.ev = EVS({.type = "message", .data = "a", .end = 9, .data_lines = 1}),
         .n = 1,
         .dropped = true,
         .stats = {.bytes = 16, .lf = 2, .events = 1}});
    CHECK(
        "data: a\r\rdata: b\r",
        {.ev = EVS({.type = "message", .data = "a", .end = 9, .data_lines = 1}),
         .n = 1,
         .dropped = true,
         .stats = {.bytes = 17, .cr = 3, .events = 1}});
    /* A partial comment line is a partial line too. */
    CHECK(
        "data: a\n\n: c",
        {.ev = EVS({.type = "message", .data = "a", .end = 9, .data_lines = 1}),
         .n = 1,
         .dropped = true,
         .stats = {.bytes = 12, .lf = 2, .events = 1}});
    /* Nothing pending: a terminated stream. The id: block never ended, so
     * it is no meta block, but its id: line counts. */
    CHECK(
        "data: a\n\nid: 1\n",
        {.ev = EVS({.type = "message", .data = "a", .end = 9, .data_lines = 1}),
         .n = 1,
         .stats = {.bytes = 15,
                   .lf = 3,
                   .id_fields = 1,
                   .first_id_at = 9,
                   .events = 1}});
}

/* A line exactly at the cap passes; one byte more fails for good. */
static void test_cap_line(void **state)
{
    (void)state;
    CHECK("data: 0123456789\n\n",
          {.ev = EVS({.type = "message",
                      .data = "0123456789",
                      .end = 18,
                      .data_lines = 1}),
           .n = 1,
           .max = 16,
           .stats = {.bytes = 18, .lf = 2, .events = 1}});
    /* The 17th byte of the line breaks the cap and is the last consumed. */
    CHECK(
        "data: 01234567890\n\n",
        {.n = 0, .max = 16, .rc = -1, .dropped = true, .stats = {.bytes = 17}});
    /* Events before the failure stand. */
    CHECK(
        "data: a\n\ndata: 01234567890\n\n",
        {.ev = EVS({.type = "message", .data = "a", .end = 9, .data_lines = 1}),
         .n = 1,
         .max = 16,
         .rc = -1,
         .dropped = true,
         .stats = {.bytes = 26, .lf = 2, .events = 1}});
    /* A cap of 0 allows only blank lines. */
    CHECK("\n\nd", {.n = 0,
                    .max = 0,
                    .max_set = true,
                    .rc = -1,
                    .dropped = true,
                    .stats = {.bytes = 3, .lf = 2, .empty_dispatches = 2}});
}

/* The data buffer (each line plus its LF) may not pass the cap either. */
static void test_cap_data(void **state)
{
    (void)state;
    CHECK("data:0123456\ndata:0123456\n\n",
          {.ev = EVS({.type = "message",
                      .data = "0123456\n0123456",
                      .end = 27,
                      .data_lines = 2}),
           .n = 1,
           .max = 16,
           .stats = {.bytes = 27, .lf = 3, .events = 1}});
    CHECK("data:0123456\ndata:0123456\ndata:0\n\n",
          {.n = 0,
           .max = 16,
           .rc = -1,
           .dropped = true,
           .stats = {.bytes = 33, .lf = 3}});
}

/* Feeding after a failure keeps failing and changes nothing. */
static void test_cap_sticky(void **state)
{
    struct run r;
    struct sse_parser *p;

    (void)state;
    memset(&r, 0, sizeof(r));
    p = sse_parser_new(4, record, &r);
    assert_non_null(p);
    assert_int_equal(sse_parser_feed(p, "data: x\n\n", 9), -1);
    assert_int_equal(sse_parser_feed(p, "\n\n", 2), -1);
    assert_int_equal(sse_parser_stats(p)->bytes, 5);
    assert_true(sse_parser_finish(p));
    assert_int_equal(sse_parser_feed(p, "a", 1), -1);
    assert_int_equal(r.n, 0);
    sse_parser_free(p);
}

/* Well-formed multi-byte UTF-8, at every boundary, is valid. */
static void test_utf8_valid(void **state)
{
    (void)state;
    CHECK("data: \xE2\x82\xAC \xF0\x9F\x98\x80 \xC3\xA9 \xE0\xA0\x80 "
          "\xED\x9F\xBF \xF4\x8F\xBF\xBF\n\n",
          {.ev = EVS({.type = "message",
                      .data = "\xE2\x82\xAC \xF0\x9F\x98\x80 \xC3\xA9 "
                              "\xE0\xA0\x80 \xED\x9F\xBF \xF4\x8F\xBF\xBF",
                      .end = 32,
                      .data_lines = 1}),
           .n = 1,
           .stats = {.bytes = 32, .lf = 2, .events = 1}});
}

/* One stream with a single bad sequence: the bytes pass through as sent. */
static void check_bad_utf8(const char *in, size_t len, const char *data,
                           size_t dlen)
{
    struct exp_event ev = {.type = "message",
                           .data = data,
                           .data_len = dlen,
                           .end = len,
                           .data_lines = 1};
    struct expect x = {
        .ev = &ev,
        .n = 1,
        .stats = {.bytes = len, .lf = 2, .invalid_utf8 = true, .events = 1}};

    check_stream(in, len, &x);
}

#define BAD(seq)                                                               \
    check_bad_utf8("data: " seq "\n\n", LEN("data: " seq "\n\n"), seq, LEN(seq))

/* Each kind of bad UTF-8 is caught, whatever the split. */
static void test_utf8_invalid(void **state)
{
    (void)state;
    BAD("\xE2\x82");         /* truncated by the line end */
    BAD("\xC0\x80");         /* overlong NUL */
    BAD("\xE0\x9F\xBF");     /* overlong three-byte form */
    BAD("\xED\xA0\x80");     /* a surrogate */
    BAD("\xF4\x90\x80\x80"); /* past U+10FFFF */
    BAD("\xF5\x80\x80\x80"); /* a lead byte that never leads */
    BAD("\x80");             /* a lone continuation byte */
    BAD("a\xFF");
    BAD("\xE2\x28\xA1"); /* broken off, then ASCII, then a stray */
}

/* A sequence cut off by the end of the stream is invalid too. */
static void test_utf8_truncated_at_end(void **state)
{
    (void)state;
    CHECK(
        "data: a\n\n\xF0\x9F",
        {.ev = EVS({.type = "message", .data = "a", .end = 9, .data_lines = 1}),
         .n = 1,
         .dropped = true,
         .stats = {.bytes = 11, .lf = 2, .invalid_utf8 = true, .events = 1}});
}

/* NUL bytes in data are kept; data_len tells where the data ends. */
static void test_nul_in_data(void **state)
{
    (void)state;
    CHECK("data: a\0b\n\n", {.ev = EVS({.type = "message",
                                        .data = "a\0b",
                                        .data_len = 3,
                                        .end = 11,
                                        .data_lines = 1}),
                             .n = 1,
                             .stats = {.bytes = 11, .lf = 2, .events = 1}});
}

#define OAI_P1                                                                 \
    "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\","             \
    "\"created\":1700000000,\"model\":\"deepseek-v4\",\"choices\":[{"          \
    "\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},"         \
    "\"finish_reason\":null}],\"usage\":null}"
#define OAI_P2                                                                 \
    "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\","             \
    "\"created\":1700000000,\"model\":\"deepseek-v4\",\"choices\":[{"          \
    "\"index\":0,\"delta\":{\"content\":\"Hel\"},\"finish_reason\":null}],"    \
    "\"usage\":null}"
#define OAI_P3                                                                 \
    "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\","             \
    "\"created\":1700000000,\"model\":\"deepseek-v4\",\"choices\":[{"          \
    "\"index\":0,\"delta\":{\"content\":\"lo \\u00e9\"},"                      \
    "\"finish_reason\":null}],\"usage\":null}"
#define OAI_P4                                                                 \
    "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\","             \
    "\"created\":1700000000,\"model\":\"deepseek-v4\",\"choices\":[{"          \
    "\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],\"usage\":null}"
#define OAI_P5                                                                 \
    "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\","             \
    "\"created\":1700000000,\"model\":\"deepseek-v4\",\"choices\":[],"         \
    "\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":2,"                  \
    "\"total_tokens\":11}}"
#define OAI_E1 "data: " OAI_P1 "\n\n"
#define OAI_E2 "data: " OAI_P2 "\n\n"
#define OAI_K ": keep-alive\n\n"
#define OAI_E3 "data: " OAI_P3 "\n\n"
#define OAI_E4 "data: " OAI_P4 "\n\n"
#define OAI_E5 "data: " OAI_P5 "\n\n"
#define OAI_E6 "data: [DONE]\n\n"

/* The shape an OpenAI chat stream has, with a keep-alive comment. */
static void test_openai_stream(void **state)
{
    (void)state;
    CHECK(
        OAI_E1 OAI_E2 OAI_K OAI_E3 OAI_E4 OAI_E5 OAI_E6,
        {.ev = EVS({.type = "message",
                    .data = OAI_P1,
                    .offset = 0,
                    .end = LEN(OAI_E1),
                    .data_lines = 1},
                   {.type = "message",
                    .data = OAI_P2,
                    .offset = LEN(OAI_E1),
                    .end = LEN(OAI_E1 OAI_E2),
                    .data_lines = 1},
                   {.type = "message",
                    .data = OAI_P3,
                    .offset = LEN(OAI_E1 OAI_E2 OAI_K),
                    .end = LEN(OAI_E1 OAI_E2 OAI_K OAI_E3),
                    .data_lines = 1},
                   {.type = "message",
                    .data = OAI_P4,
                    .offset = LEN(OAI_E1 OAI_E2 OAI_K OAI_E3),
                    .end = LEN(OAI_E1 OAI_E2 OAI_K OAI_E3 OAI_E4),
                    .data_lines = 1},
                   {.type = "message",
                    .data = OAI_P5,
                    .offset = LEN(OAI_E1 OAI_E2 OAI_K OAI_E3 OAI_E4),
                    .end = LEN(OAI_E1 OAI_E2 OAI_K OAI_E3 OAI_E4 OAI_E5),
                    .data_lines = 1},
                   {.type = "message",
                    .data = "[DONE]",
                    .offset = LEN(OAI_E1 OAI_E2 OAI_K OAI_E3 OAI_E4 OAI_E5),
                    .end = LEN(OAI_E1 OAI_E2 OAI_K OAI_E3 OAI_E4 OAI_E5 OAI_E6),
                    .data_lines = 1}),
         .n = 6,
         .stats = {.bytes =
                       LEN(OAI_E1 OAI_E2 OAI_K OAI_E3 OAI_E4 OAI_E5 OAI_E6),
                   .lf = 14,
                   .comments = 1,
                   .empty_dispatches = 1,
                   .events = 6}});
}

/* The same stream with CRLF line ends, as some servers send it. */
static void test_openai_stream_crlf(void **state)
{
    (void)state;
    CHECK(
        "data: " OAI_P4 "\r\n\r\ndata: [DONE]\r\n\r\n",
        {.ev = EVS({.type = "message",
                    .data = OAI_P4,
                    .offset = 0,
                    .end = LEN("data: " OAI_P4 "\r\n\r"),
                    .data_lines = 1},
                   {.type = "message",
                    .data = "[DONE]",
                    .offset = LEN("data: " OAI_P4 "\r\n\r\n"),
                    .end = LEN("data: " OAI_P4 "\r\n\r\ndata: [DONE]\r\n\r"),
                    .data_lines = 1}),
         .n = 2,
         .stats = {.bytes = LEN("data: " OAI_P4 "\r\n\r\ndata: [DONE]\r\n\r\n"),
                   .crlf = 4,
                   .events = 2}});
}

/* A non-zero callback result stops the parse where it is, for good. */
static void test_callback_stops(void **state)
{
    (void)state;
    CHECK(
        "data: a\n\ndata: b\n\n",
        {.ev = EVS({.type = "message", .data = "a", .end = 9, .data_lines = 1}),
         .n = 1,
         .stop_after = 1,
         .rc = 1,
         .stats = {.bytes = 9, .lf = 2, .events = 1}});
    /* The blank line's CR is the last byte seen, so it counts as a CR. */
    CHECK(
        "data: a\r\rdata: b\r\r",
        {.ev = EVS({.type = "message", .data = "a", .end = 9, .data_lines = 1}),
         .n = 1,
         .stop_after = 1,
         .rc = 1,
         .stats = {.bytes = 9, .cr = 2, .events = 1}});
}

/* The API's small promises: no callback, free(NULL), finish twice. */
static void test_api_edges(void **state)
{
    struct sse_parser *p;

    (void)state;
    sse_parser_free(NULL);
    p = sse_parser_new(NO_CAP, NULL, NULL);
    assert_non_null(p);
    assert_int_equal(sse_parser_feed(p, NULL, 0), 0);
    assert_int_equal(sse_parser_feed(p, "data: x\n\ndata: y", 16), 0);
    assert_int_equal(sse_parser_stats(p)->events, 1);
    assert_int_equal(sse_parser_stats(p)->bytes, 16);
    assert_true(sse_parser_finish(p));
    assert_false(sse_parser_finish(p));
    assert_int_equal(sse_parser_feed(p, "\n\n", 2), -1);
    assert_int_equal(sse_parser_stats(p)->events, 1);
    sse_parser_free(p);
}

/* Runs every parser case. */
int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lf),
        cmocka_unit_test(test_crlf),
        cmocka_unit_test(test_cr),
        cmocka_unit_test(test_mixed),
        cmocka_unit_test(test_crlf_across_feeds),
        cmocka_unit_test(test_bom),
        cmocka_unit_test(test_bom_twice),
        cmocka_unit_test(test_bom_partial),
        cmocka_unit_test(test_bom_short_streams),
        cmocka_unit_test(test_bom_in_data),
        cmocka_unit_test(test_comments),
        cmocka_unit_test(test_multiline_data),
        cmocka_unit_test(test_data_no_colon),
        cmocka_unit_test(test_value_spaces),
        cmocka_unit_test(test_event_type),
        cmocka_unit_test(test_id_persists),
        cmocka_unit_test(test_id_with_nul),
        cmocka_unit_test(test_retry),
        cmocka_unit_test(test_unknown_fields),
        cmocka_unit_test(test_empty_dispatch),
        cmocka_unit_test(test_meta_blocks),
        cmocka_unit_test(test_unterminated_event),
        cmocka_unit_test(test_cap_line),
        cmocka_unit_test(test_cap_data),
        cmocka_unit_test(test_cap_sticky),
        cmocka_unit_test(test_utf8_valid),
        cmocka_unit_test(test_utf8_invalid),
        cmocka_unit_test(test_utf8_truncated_at_end),
        cmocka_unit_test(test_nul_in_data),
        cmocka_unit_test(test_openai_stream),
        cmocka_unit_test(test_openai_stream_crlf),
        cmocka_unit_test(test_callback_stops),
        cmocka_unit_test(test_api_edges),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
