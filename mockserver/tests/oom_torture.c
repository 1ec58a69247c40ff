/* oom_torture: the out-of-memory policy, proved as curl's torture tests do.
 * The mock propagates allocation failures (every caller handles NULL) and
 * answers 500 with an OpenAI error body rather than abort. This executable
 * replaces malloc, calloc, realloc and free for the whole process (jansson
 * and libyaml included: they call the C library's allocator, which the
 * executable's definitions interpose), counts every allocation a piece of
 * work makes, then replays it once per allocation N = 1..total with the
 * Nth one failing, and checks each run:
 *
 * - a chat request (plain, streamed, with tools and a json_schema
 *   response_format, with logprobs) through router_dispatch and rendered as
 *   the server would: no crash, either the normal answer byte for byte or a
 *   500 with an error body (never a 2xx that is empty or differs, never a
 *   4xx the request did not earn), and every block allocated freed again;
 * - the fixture loader (libyaml): it loads the same fixture or fails with
 *   "out of memory", and frees everything.
 *
 * --strict (what ctest runs) checks everything and prints each distinct
 * failure once with the failed allocation's call sites (file offsets for
 * addr2line); without it the request runs only count the failures, and
 * fail on a crash. Plain build only: sanitizers bring their own
 * allocator. jsonio_init is called as mock_main calls it, so that the
 * parser's hidden failures are seen (common/jsonio.h). */
#define _GNU_SOURCE /* dladdr */
#include <dlfcn.h>
#include <execinfo.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "app.h"
#include "billing.h"
#include "buf.h"
#include "clock.h"
#include "fixtures.h"
#include "jsonio.h"
#include "ratelimit.h"
#include "router.h"
#include "source.h"

/* glibc's own allocator, which the definitions below wrap. */
void *__libc_malloc(size_t size);
void *__libc_calloc(size_t n, size_t size);
void *__libc_realloc(void *p, size_t size);
void __libc_free(void *p);

#define TRACE_DEPTH 48
/* Distinct failures printed in full (with their stack); the rest are
 * counted. */
#define MAX_REPORTS 64

/* The injector's state. Only this test's one thread runs while it is
 * armed, so plain variables do. */
static struct {
    bool armed;
    unsigned long fail_at; /* fail the Nth counted allocation; 0: never */
    unsigned long count;   /* allocation calls since armed */
    long live;             /* blocks allocated minus blocks freed */
    void *trace[TRACE_DEPTH];
    int depth; /* frames of the failed allocation's call stack */
} inj;

/* Counts one allocation call; true if this one must fail. */
static bool inj_fail_now(void)
{
    if (!inj.armed)
        return false;
    inj.count++;
    if (inj.count != inj.fail_at)
        return false;
    /* backtrace() may allocate on its first call (it was warmed up before
     * arming, but stay safe): disarm around it. */
    inj.armed = false;
    inj.depth = backtrace(inj.trace, TRACE_DEPTH);
    inj.armed = true;
    return true;
}

void *malloc(size_t size)
{
    void *p;

    if (inj_fail_now())
        return NULL;
    p = __libc_malloc(size);
    if (p != NULL && inj.armed)
        inj.live++;
    return p;
}

void *calloc(size_t n, size_t size)
{
    void *p;

    if (inj_fail_now())
        return NULL;
    p = __libc_calloc(n, size);
    if (p != NULL && inj.armed)
        inj.live++;
    return p;
}

void *realloc(void *old, size_t size)
{
    void *p;

    if (inj_fail_now())
        return NULL;
    p = __libc_realloc(old, size);
    if (inj.armed) {
        if (old == NULL && p != NULL)
            inj.live++;
        else if (old != NULL && size == 0)
            inj.live--;
    }
    return p;
}

void free(void *p)
{
    if (p != NULL && inj.armed)
        inj.live--;
    __libc_free(p);
}

/* Starts counting (and failing allocation fail_at, 0 for none). */
static void inj_arm(unsigned long fail_at)
{
    inj.count = 0;
    inj.live = 0;
    inj.depth = 0;
    inj.fail_at = fail_at;
    inj.armed = true;
}

static void inj_disarm(void)
{
    inj.armed = false;
}

/* How one run ended. */
enum outcome {
    OUT_NORMAL,    /* the answer, byte for byte (but for the clock) */
    OUT_ERROR_500, /* a 500 with an OpenAI error body */
    OUT_NO_BODY,   /* an error status whose body could not be built: the
                      server answers its own bare 500 (server.c answer) */
    OUT_RENDER,    /* the JSON could not be rendered: the server answers
                      500 (server.c json_response) */
    OUT_CUT,       /* a stream failed after its 200: the server cuts the
                      connection, which no client takes for a whole answer */
    OUT_BAD,       /* anything else: a defect */
};

/* One run: the status and the bytes the client would get. */
struct run {
    int status;
    bool stream;
    bool body_null;
    bool rendered; /* every byte could be rendered */
    struct buf out;
    char error_type[32]; /* error.type of an error body */
};

/* Drains a streamed answer as the server does, each piece into a buffer
 * of its own that is then appended to r->out; ends the source. */
static void drain(struct response *resp, struct run *r)
{
    struct source src = resp->source;
    struct source_end how;
    struct buf piece;
    enum source_step step;

    resp->source.ops = NULL;
    memset(&how, 0, sizeof(how));
    buf_init(&piece, r->out.max);
    do {
        buf_reset(&piece);
        step = src.ops->next(src.self, &piece);
        if (step == SOURCE_PIECE &&
            buf_append(&r->out, piece.data, piece.len) != 0)
            step = SOURCE_FAIL;
        how.pieces += step == SOURCE_PIECE;
    } while (step == SOURCE_PIECE);
    r->rendered = step == SOURCE_DONE;
    how.completed = r->rendered;
    how.bytes = r->out.len;
    src.ops->end(src.self, &how);
    buf_cleanup(&piece);
}

/* Renders the response as the server would send it: the JSON text
 * (rendered as server.c json_response does), or every event of the stream
 * in order. */
static void render(struct response *resp, struct run *r)
{
    json_t *err;

    r->status = resp->status;
    r->stream = resp->source.ops != NULL;
    r->body_null = resp->body == NULL && resp->json_text == NULL && !r->stream;
    r->rendered = false;
    if (r->stream) {
        drain(resp, r);
        return;
    }
    err = json_object_get(json_object_get(resp->body, "error"), "type");
    if (json_is_string(err))
        snprintf(r->error_type, sizeof(r->error_type), "%s",
                 json_string_value(err));
    if (resp->json_text != NULL) {
        r->rendered =
            buf_append(&r->out, resp->json_text, resp->json_text_len) == 0;
        return;
    }
    if (resp->body == NULL)
        return;
    r->rendered = jsonio_append(&r->out, resp->body,
                                JSON_COMPACT | resp->json_flags) == 0 &&
                  buf_append(&r->out, "\n", 1) == 0;
}

/* Dispatches body as a chat request against a fresh app on fx, with
 * allocation fail_at failing, and renders the answer into *r. Returns the
 * blocks left allocated (0 unless something leaked). */
static long run_request(const struct fixtures *fx, const char *body,
                        unsigned long fail_at, struct run *r)
{
    struct app app;
    struct request req;
    struct response resp;
    long live;

    memset(&app, 0, sizeof(app));
    app.fx = fx;
    app.clock = clock_new();
    app.billing = billing_new(fx, 0);
    app.rl = ratelimit_new(fx->nkeys);
    app.max_body = 1024 * 1024;
    assert_true(app.clock && app.billing && app.rl);
    memset(&req, 0, sizeof(req));
    req.method = "POST";
    req.path = "/v1/chat/completions";
    req.authorization = "Bearer sk-ai-nexus-test";
    req.body = body;
    req.body_len = strlen(body);
    req.request_id = "req_00112233445566778899aabbccddeeff";
    memset(r, 0, sizeof(*r));
    buf_init(&r->out, 64 * 1024 * 1024);
    inj_arm(fail_at);
    response_init(&resp);
    router_dispatch(&app, &req, &resp);
    render(&resp, r);
    response_cleanup(&resp);
    /* The rendered bytes are the test's, not the request's. */
    live = inj.live - (r->out.data != NULL ? 1 : 0);
    inj_disarm();
    ratelimit_free(app.rl);
    billing_free(app.billing);
    clock_free(app.clock);
    return live;
}

/* Skips the digits of a "created": value at *i, so that a run that
 * straddles a second compares equal. */
static void skip_created(const struct buf *b, size_t *i)
{
    static const char key[] = "\"created\":";

    if (*i >= sizeof(key) - 1 &&
        memcmp(b->data + *i - (sizeof(key) - 1), key, sizeof(key) - 1) == 0)
        while (*i < b->len && b->data[*i] >= '0' && b->data[*i] <= '9')
            (*i)++;
}

/* True if the two renderings are the same bytes, "created" aside. */
static bool same_bytes(const struct buf *a, const struct buf *b)
{
    size_t i = 0, j = 0;

    for (;;) {
        skip_created(a, &i);
        skip_created(b, &j);
        if (i == a->len || j == b->len)
            return i == a->len && j == b->len;
        if (a->data[i++] != b->data[j++])
            return false;
    }
}

/* Classifies a run against the reference (the run with no failure). */
static enum outcome classify(const struct run *ref, const struct run *r)
{
    if (r->status == ref->status && r->stream == ref->stream && r->rendered &&
        same_bytes(&r->out, &ref->out))
        return OUT_NORMAL;
    if (r->stream && r->status == 200 && !r->rendered)
        return OUT_CUT;
    if (r->status >= 400 && r->body_null)
        return OUT_NO_BODY;
    if (r->status == 500 && strcmp(r->error_type, "server_error") == 0)
        return r->rendered ? OUT_ERROR_500 : OUT_RENDER;
    if (r->status == ref->status && !r->stream && !r->rendered && !r->body_null)
        return OUT_RENDER;
    return OUT_BAD;
}

/* A distinct failure: what went wrong, and the call site in this program
 * whose allocation failed. */
struct report {
    int status;
    const char *why;
    uintptr_t site;
    unsigned long count;
};

/* The offset in this program's file of the call before return address
 * ret, or 0 when ret is not in this program. */
static uintptr_t self_offset(void *ret)
{
    static Dl_info self;
    Dl_info info;

    if (self.dli_fbase == NULL && dladdr((void *)self_offset, &self) == 0)
        return 0;
    if (dladdr(ret, &info) == 0 || info.dli_fbase != self.dli_fbase)
        return 0;
    return (uintptr_t)ret - (uintptr_t)self.dli_fbase - 1;
}

/* The offset in this program's file of the innermost frame of the failed
 * allocation's stack that is code of this program (not the allocator,
 * jansson or libc): the call site that saw the NULL, or 0. */
static uintptr_t failed_site(int *frame)
{
    int i;

    /* Frames 0 and 1 are inj_fail_now and the allocator itself. */
    for (i = 2; i < inj.depth; i++)
        if (self_offset(inj.trace[i]) != 0) {
            *frame = i;
            return self_offset(inj.trace[i]);
        }
    return 0;
}

/* Records a failure; prints it the first time its kind is seen, with the
 * frames of this program on the failed allocation's stack (file offsets:
 * `addr2line -f -e mock_oom_torture OFFSET...` names them). */
static void report(struct report *seen, unsigned *nseen, const char *name,
                   unsigned long n, unsigned long total, const char *why,
                   const struct run *r, long live)
{
    int frame = inj.depth, i;
    uintptr_t site = failed_site(&frame);
    unsigned k;

    for (k = 0; k < *nseen; k++)
        if (seen[k].site == site && seen[k].why == why &&
            seen[k].status == r->status) {
            seen[k].count++;
            return;
        }
    if (*nseen == MAX_REPORTS)
        return;
    seen[*nseen].site = site;
    seen[*nseen].why = why;
    seen[*nseen].status = r->status;
    seen[(*nseen)++].count = 1;
    fprintf(stderr,
            "%s: allocation %lu of %lu failed: %s (status %d, %s, %zu "
            "bytes, %ld blocks left); stack:",
            name, n, total, why, r->status, r->stream ? "stream" : "json",
            r->out.len, live);
    for (i = frame; i < inj.depth && i < frame + 6; i++)
        if (self_offset(inj.trace[i]) != 0)
            fprintf(stderr, " %#lx", (unsigned long)self_offset(inj.trace[i]));
    fprintf(stderr, "\n");
}

/* --strict: the request runs must keep the whole policy, not only live. */
static bool strict;

/* Tortures one request: every allocation it makes fails once. */
static void torture(const char *name, const char *body)
{
    struct fixtures *fx = NULL;
    struct fixture_error ferr;
    struct run ref, r;
    unsigned long total, n;
    unsigned long counts[OUT_BAD + 1] = {0};
    struct report seen[MAX_REPORTS];
    unsigned nseen = 0, failures = 0;
    /* OOM_TORTURE_DUMP=N prints the answer and what run N gave instead. */
    const char *env = getenv("OOM_TORTURE_DUMP");
    unsigned long dump = env ? strtoul(env, NULL, 10) : 0;
    long live;

    assert_int_equal(fixtures_load_default(&fx, &ferr), 0);
    /* Warm up anything that allocates once per process. */
    run_request(fx, body, 0, &ref);
    buf_cleanup(&ref.out);
    live = run_request(fx, body, 0, &ref);
    total = inj.count;
    assert_int_equal(live, 0);
    assert_true(ref.rendered);
    assert_int_equal(ref.status, 200);
    assert_true(total > 10);
    for (n = 1; n <= total; n++) {
        enum outcome o;
        const char *why = NULL;

        live = run_request(fx, body, n, &r);
        o = classify(&ref, &r);
        if (dump == n)
            fprintf(stderr, "%s: the answer:\n%.*s\n%s: run %lu:\n%.*s\n", name,
                    (int)ref.out.len, ref.out.data ? ref.out.data : "", name, n,
                    (int)r.out.len, r.out.data ? r.out.data : "");
        counts[o]++;
        if (o == OUT_BAD)
            why = "neither the answer nor a 500 with an error body";
        else if (live != 0)
            why = "blocks leaked";
        if (why != NULL) {
            failures++;
            if (strict)
                report(seen, &nseen, name, n, total, why, &r, live);
        }
        buf_cleanup(&r.out);
    }
    fprintf(stderr,
            "%s: %lu allocations: %lu normal, %lu 500, %lu bare 500, "
            "%lu render 500, %lu stream cut, %lu bad; "
            "%u policy failures%s\n",
            name, total, counts[OUT_NORMAL], counts[OUT_ERROR_500],
            counts[OUT_NO_BODY], counts[OUT_RENDER], counts[OUT_CUT],
            counts[OUT_BAD], failures, strict ? "" : " (--strict lists them)");
    buf_cleanup(&ref.out);
    fixtures_free(fx);
    if (strict)
        assert_int_equal(failures, 0);
}

#define MESSAGES                                                               \
    "\"messages\":[{\"role\":\"system\",\"content\":\"Be brief.\"},"           \
    "{\"role\":\"user\",\"content\":\"Plan a trip to K\\u00f6ln\"}]"
#define TOOLS                                                                  \
    "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"book\","       \
    "\"parameters\":{\"type\":\"object\",\"$defs\":{\"leg\":{\"type\":"        \
    "\"object\",\"properties\":{\"from\":{\"type\":\"string\"},\"day\":{"      \
    "\"type\":\"string\",\"format\":\"date\"},\"seats\":{\"type\":"            \
    "\"integer\",\"minimum\":1,\"maximum\":9}},\"required\":[\"from\"]}},"     \
    "\"properties\":{\"legs\":{\"type\":\"array\",\"items\":{\"$ref\":"        \
    "\"#/$defs/leg\"},\"minItems\":2,\"maxItems\":3},\"class\":{\"enum\":"     \
    "[\"eco\",\"biz\"]},\"note\":{\"anyOf\":[{\"type\":\"string\"},"           \
    "{\"type\":\"null\"}]}},\"required\":[\"legs\"]}}}],"                      \
    "\"tool_choice\":\"required\""
#define FORMAT                                                                 \
    "\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{"          \
    "\"name\":\"trip\",\"schema\":{\"type\":\"object\",\"properties\":{"       \
    "\"city\":{\"type\":\"string\"},\"days\":{\"type\":\"number\","            \
    "\"minimum\":1,\"maximum\":5},\"stops\":{\"type\":\"array\",\"items\":"    \
    "{\"type\":\"string\"},\"minItems\":1,\"maxItems\":2}},"                   \
    "\"required\":[\"city\"]}}}"

static void test_plain(void **state)
{
    (void)state;
    torture("plain", "{\"model\":\"qwen-max\"," MESSAGES
                     ",\"n\":2,\"logprobs\":true,\"top_logprobs\":2,"
                     "\"max_tokens\":12,\"stop\":[\"zz\"]}");
}

static void test_stream(void **state)
{
    (void)state;
    torture("stream", "{\"model\":\"qwen-max\"," MESSAGES
                      ",\"stream\":true,\"stream_options\":{\"include_usage\":"
                      "true},\"n\":2,\"logprobs\":true,\"top_logprobs\":2,"
                      "\"max_tokens\":12}");
}

static void test_tools_format(void **state)
{
    (void)state;
    torture("tools+format", "{\"model\":\"deepseek-v4\"," MESSAGES "," TOOLS
                            "," FORMAT ",\"logprobs\":true}");
}

static void test_format_stream(void **state)
{
    (void)state;
    torture("format+stream", "{\"model\":\"deepseek-v4\"," MESSAGES "," FORMAT
                             ",\"stream\":true,\"logprobs\":true,"
                             "\"top_logprobs\":1}");
}

static void test_tools_stream(void **state)
{
    (void)state;
    torture("tools+stream", "{\"model\":\"deepseek-v4\"," MESSAGES "," TOOLS
                            ",\"stream\":true,\"stream_options\":{"
                            "\"include_usage\":true}}");
}

/* Every allocation of loading the embedded fixture fails once: the load
 * either succeeds with the same fixture or fails saying "out of memory",
 * and leaves nothing allocated. */
static void test_fixture_loader(void **state)
{
    struct fixtures *ref = NULL, *fx = NULL;
    struct fixture_error err;
    unsigned long total, n, failed = 0;
    long live;
    int rc;

    (void)state;
    inj_arm(0);
    rc = fixtures_load_default(&ref, &err);
    total = inj.count;
    inj_disarm();
    assert_int_equal(rc, 0);
    assert_true(total > 10);
    for (n = 1; n <= total; n++) {
        inj_arm(n);
        rc = fixtures_load_default(&fx, &err);
        if (rc == 0) {
            assert_int_equal(fx->nmodels, ref->nmodels);
            assert_int_equal(fx->nplans, ref->nplans);
            assert_int_equal(fx->nkeys, ref->nkeys);
            assert_string_equal(fx->models[fx->nmodels - 1].id,
                                ref->models[ref->nmodels - 1].id);
        }
        fixtures_free(fx);
        fx = NULL;
        live = inj.live;
        inj_disarm();
        if (rc != 0) {
            failed++;
            if (strstr(err.message, "out of memory") == NULL)
                fprintf(stderr,
                        "fixtures: allocation %lu of %lu: %s:%d:%d: %s\n", n,
                        total, err.file, err.line, err.column, err.message);
            assert_non_null(strstr(err.message, "out of memory"));
        }
        if (live != 0)
            fprintf(stderr,
                    "fixtures: allocation %lu of %lu: %ld blocks "
                    "leaked\n",
                    n, total, live);
        assert_int_equal(live, 0);
    }
    fprintf(stderr, "fixtures: %lu allocations, %lu loads failed\n", total,
            failed);
    fixtures_free(ref);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixture_loader),
        cmocka_unit_test(test_plain),
        cmocka_unit_test(test_stream),
        cmocka_unit_test(test_tools_format),
        cmocka_unit_test(test_format_stream),
        cmocka_unit_test(test_tools_stream),
    };
    void *warm[1];

    strict = argc > 1 && strcmp(argv[1], "--strict") == 0;
    /* Before anything is armed: jansson's hash seed (it would read
     * /dev/urandom on first use) and backtrace's lazy loading. */
    json_object_seed(1);
    backtrace(warm, 1);
    jsonio_init(); /* as mock_main does */
    return cmocka_run_group_tests(tests, NULL, NULL);
}
