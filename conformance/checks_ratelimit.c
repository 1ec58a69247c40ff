/* checks_ratelimit: the ratelimit group: with --rpm N, a 429 by request
 * N+1, with Retry-After, and x-ratelimit-* headers that agree. */
#include "checks_ratelimit.h"

#include <stdint.h>
#include <string.h>
#include <time.h>

#include "evidence.h"
#include "exchange.h"
#include "parse.h"
#include "shape.h"

/* The window the limit is counted over. */
#define WINDOW_S 60.0

enum { LIMITED, RETRY_AFTER, RETRY_BOUNDED, HEADERS, LIMIT_HEADER };

static const struct check_def checks[] = {
    [LIMITED] = {"ratelimit.429", LEVEL_MUST, BASIS_CONTRACT,
                 "With a limit of N requests per minute, request N+1 within "
                 "the minute MUST be refused with 429, and SHOULD carry the "
                 "error body",
                 "docs/api.md#rate-limits; docs/api.md#error-statuses",
                 IMPACT_RATELIMIT_NEVER},
    [RETRY_AFTER] = {"ratelimit.retry-after", LEVEL_MUST, BASIS_CLIENT,
                     "A 429 MUST carry Retry-After, and SHOULD give it as "
                     "whole seconds or an HTTP date; retry-after-ms, if "
                     "sent, SHOULD be a non-negative number",
                     "docs/api.md#retry-after; "
                     "https://www.rfc-editor.org/rfc/rfc9110#section-10.2.3; "
                     "docs/client-behaviour.md#retries-and-retry-after",
                     IMPACT_RETRY_AFTER_MISSING},
    [RETRY_BOUNDED] = {"ratelimit.retry-after-range", LEVEL_MUST, BASIS_CLIENT,
                       "Retry-After MUST NOT exceed 60 seconds, and SHOULD "
                       "be at least 1",
                       "docs/api.md#retry-after; "
                       "docs/client-behaviour.md#retries-and-retry-after",
                       IMPACT_RETRY_AFTER_LONG},
    [HEADERS] = {"ratelimit.headers", LEVEL_MUST, BASIS_CONTRACT,
                 "No request within the limit MUST be refused with 429 "
                 "while the previous answer said at least 2 requests "
                 "remain; "
                 "x-ratelimit-limit/remaining/reset-requests (and -tokens), "
                 "where sent, SHOULD parse and agree: the same limit, "
                 "remaining falling by at most one per request (it may stay "
                 "or rise as the budget refills) and 0 at the 429",
                 "docs/api.md#rate-limit-headers", IMPACT_RATELIMIT_EARLY},
    [LIMIT_HEADER] = {"ratelimit.limit-header", LEVEL_SHOULD, BASIS_CLIENT,
                      "x-ratelimit-limit-requests, where sent, SHOULD equal "
                      "the per-minute limit given with --rpm",
                      "docs/api.md#rate-limit-headers; "
                      "docs/api.md#rate-limits",
                      IMPACT_NONE},
};

/* A 429 within the limit --rpm gives fails ratelimit.headers when the
 * answer before it said at least this many requests remain: a margin of
 * one over the strict contradiction (1 remaining, then a refusal) for a
 * bucket that rounds. A 429 past the limit with headers that promise more
 * is the header's fault, which ratelimit.limit-header reports. */
#define EARLY_MARGIN 2
/* ... unless that answer said fewer tokens remain than this, for then the
 * token limit may be what refused it (the runner's request is a few
 * tokens: "Hi" and max_tokens 1). */
#define TOKENS_ENOUGH 100

/* What the walk through the requests has learned so far. */
struct walk {
    bool seen;              /* some response carried the headers */
    int64_t first_limit;    /* the first limit-requests sent, or -1 */
    int64_t limit;          /* -1 until known */
    int64_t remaining;      /* of the previous answer, -1 when unknown */
    int64_t tokens_left;    /* of the previous answer, -1 when not sent */
    long rpm;               /* the limit --rpm gives */
    json_t *bad_evidence;   /* the first disagreement */
    json_t *limit_evidence; /* the answer that first said the limit */
    enum finding bad_kind;
    char bad[256];
};

/* Reads an integer header into *v; says why not in w. */
static bool int_header(const struct http_response *r, const char *name,
                       int64_t *v, struct walk *w)
{
    bool ret;
    const char *s = http_response_header(r, name);

    if (s == NULL || parse_int64(s, v) != 0 || *v < 0) {
        snprintf(w->bad, sizeof(w->bad), "%s is %s", name,
                 s != NULL ? s : "missing");
        ret = false;
        goto out;
    }
    ret = true;
out:
    return ret;
}

/* Checks one family (-requests or -tokens) of headers on one response. */
static bool family_ok(const struct http_response *r, const char *family,
                      int64_t *limit, int64_t *remaining, struct walk *w)
{
    bool ret;
    char name[64];
    const char *reset;
    double ms;

    snprintf(name, sizeof(name), "x-ratelimit-limit-%s", family);
    if (!int_header(r, name, limit, w)) {
        ret = false;
        goto out;
    }
    snprintf(name, sizeof(name), "x-ratelimit-remaining-%s", family);
    if (!int_header(r, name, remaining, w)) {
        ret = false;
        goto out;
    }
    if (*remaining > *limit || *limit < 1) {
        snprintf(w->bad, sizeof(w->bad), "remaining-%s %lld with limit %lld",
                 family, (long long)*remaining, (long long)*limit);
        ret = false;
        goto out;
    }
    snprintf(name, sizeof(name), "x-ratelimit-reset-%s", family);
    reset = http_response_header(r, name);
    if (reset == NULL || parse_duration_ms(reset, &ms) != 0) {
        snprintf(w->bad, sizeof(w->bad),
                 "%s is %s, not a duration like 1s or 6m0s", name,
                 reset != NULL ? reset : "missing");
        ret = false;
        goto out;
    }
    ret = true;
out:
    return ret;
}

/* Folds one response into the walk. */
static void walk_step(struct walk *w, const struct exchange *x, size_t i)
{
    const struct http_response *r = &x->resp;
    bool limited = r->status == 429;
    int64_t limit, remaining, tl, tr = -1;
    bool ok = true;

    /* Only the first disagreement is kept. A 429 that the previous answer
     * promised would not come breaks the limit the server states. */
    if (w->bad_evidence != NULL)
        goto out;
    if (limited && (long)i + 1 <= w->rpm && w->remaining >= EARLY_MARGIN &&
        (w->tokens_left < 0 || w->tokens_left >= TOKENS_ENOUGH)) {
        snprintf(w->bad, sizeof(w->bad),
                 "request %zu was refused with 429 although the answer "
                 "before it said %lld requests remain",
                 i + 1, (long long)w->remaining);
        w->bad_kind = FINDING_BREAK;
        ok = false;
        goto judged;
    }
    /* A response without the headers says nothing more. */
    if (http_response_header(r, "x-ratelimit-limit-requests") == NULL &&
        http_response_header(r, "x-ratelimit-remaining-requests") == NULL)
        goto out;
    w->seen = true;
    w->bad_kind = FINDING_SPEC;
    if (w->first_limit < 0 &&
        parse_int64(http_response_header(r, "x-ratelimit-limit-requests") !=
                            NULL
                        ? http_response_header(r, "x-ratelimit-limit-requests")
                        : "",
                    &limit) == 0)
        w->first_limit = limit;
    if (!family_ok(r, "requests", &limit, &remaining, w)) {
        ok = false;
    } else if (http_response_header(r, "x-ratelimit-limit-tokens") != NULL &&
               !family_ok(r, "tokens", &tl, &tr, w)) {
        ok = false;
    } else if (w->limit >= 0 && limit != w->limit) {
        snprintf(w->bad, sizeof(w->bad), "the limit changed from %lld to %lld",
                 (long long)w->limit, (long long)limit);
        ok = false;
    } else if (limited && remaining != 0) {
        snprintf(w->bad, sizeof(w->bad), "the 429 says %lld remaining",
                 (long long)remaining);
        ok = false;
    } else if (w->remaining >= 0 && remaining < w->remaining - 1) {
        /* A token bucket (OpenAI's) refills between requests, so remaining
         * may stay or rise; one request can take only one from it. */
        snprintf(w->bad, sizeof(w->bad),
                 "remaining went from %lld to %lld in one request%s",
                 (long long)w->remaining, (long long)remaining,
                 limited ? " (the 429)" : "");
        ok = false;
    }
judged:
    if (!ok) {
        w->bad_evidence = exchange_evidence(x, EVIDENCE_NO_FOCUS);
        evidence_set(w->bad_evidence, "request_number",
                     json_integer((json_int_t)i + 1));
        goto out;
    }
    w->limit = limit;
    w->remaining = remaining;
    w->tokens_left =
        http_response_header(r, "x-ratelimit-limit-tokens") != NULL ? tr : -1;
out:
    return;
}

/* Reads Retry-After as the clients do: whole seconds, an HTTP date, or a
 * decimal (which RFC 9110 does not allow, but every client measured
 * reads). Returns 0 with *s and *decimal set, or -1. */
static int read_retry_after(const char *ra, double *s, bool *decimal)
{
    int ret = -1;

    *decimal = false;
    if (ra == NULL)
        goto out;
    if (parse_retry_after(ra, time(NULL), s) == 0) {
        ret = *s >= 0 ? 0 : -1;
        goto out;
    }
    if (parse_double(ra, s) == 0 && *s >= 0) {
        *decimal = true;
        ret = 0;
    }
out:
    return ret;
}

/* Judges Retry-After and retry-after-ms on the 429, then its range. */
static void judge_retry_after(struct conform *c, const struct exchange *x)
{
    const char *ra = http_response_header(&x->resp, "Retry-After");
    const char *ms = http_response_header(&x->resp, "retry-after-ms");
    const enum impact_id ms_only = IMPACT_RETRY_AFTER_MS_ONLY;
    const enum impact_id missing = IMPACT_RETRY_AFTER_MISSING;
    double s = 0, msv = 0;
    bool decimal, ms_ok = ms != NULL && parse_double(ms, &msv) == 0 && msv >= 0;

    if (read_retry_after(ra, &s, &decimal) != 0) {
        conform_finding(c, &checks[RETRY_AFTER], FINDING_BREAK,
                        ms_ok && ra == NULL ? &ms_only : &missing, 1,
                        exchange_evidence(x, EVIDENCE_NO_FOCUS),
                        "Retry-After is %s%s%s", ra != NULL ? ra : "missing",
                        ms_ok ? ", retry-after-ms " : "", ms_ok ? ms : "");
        conform_skip(c, &checks[RETRY_BOUNDED],
                     "no usable Retry-After (see ratelimit.retry-after)");
        return;
    }
    if (decimal)
        conform_finding(c, &checks[RETRY_AFTER], FINDING_SPEC, NULL, 0,
                        exchange_evidence(x, EVIDENCE_NO_FOCUS),
                        "Retry-After: %s is a decimal; RFC 9110 gives whole "
                        "seconds",
                        ra);
    else if (ms != NULL && !ms_ok)
        conform_finding(c, &checks[RETRY_AFTER], FINDING_ADVICE, NULL, 0,
                        exchange_evidence(x, EVIDENCE_NO_FOCUS),
                        "retry-after-ms is %s, not a non-negative number; "
                        "the SDKs then fall back to Retry-After",
                        ms);
    else
        conform_pass(c, &checks[RETRY_AFTER], NULL, "Retry-After: %s%s%s", ra,
                     ms != NULL ? ", retry-after-ms: " : "",
                     ms != NULL ? ms : "");
    if (s > 60)
        conform_violation(c, &checks[RETRY_BOUNDED],
                          exchange_evidence(x, EVIDENCE_NO_FOCUS),
                          "Retry-After is %g s", s);
    else if (s < 1)
        conform_finding(c, &checks[RETRY_BOUNDED], FINDING_SPEC, NULL, 0,
                        exchange_evidence(x, EVIDENCE_NO_FOCUS),
                        "Retry-After is %g s; the spec's minimum is 1", s);
    else
        conform_pass(c, &checks[RETRY_BOUNDED], NULL, "%g s", s);
}

/* Seconds since start on the monotonic clock. */
static double since(const struct timespec *start)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - start->tv_sec) +
           (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

/* Judges ratelimit.429 once the requests are made: i requests were sent,
 * the last in x; limited when it got a 429. */
static void judge_limited(struct conform *c, const struct exchange *x, long i,
                          bool limited, bool broken, double took, long ok,
                          long other, const struct walk *w)
{
    const struct options *o = conform_options(c);
    long n = o->rpm + 1;

    if (broken) {
        conform_finding(c, &checks[LIMITED], FINDING_BREAK, NULL, 0,
                        exchange_evidence(x, EVIDENCE_NO_FOCUS),
                        "request %ld of %ld got %s", i, n,
                        conform_describe(c, &x->resp));
    } else if (limited && i == 1) {
        /* Nothing of this run was admitted: the window was spent before
         * it began, by another client or an earlier run. */
        conform_fail(c, &checks[LIMITED],
                     exchange_evidence(x, EVIDENCE_NO_FOCUS),
                     "the first request already got HTTP 429: the key's "
                     "window was spent before the run began, so the check "
                     "could not run (wait a minute, or give a fresh "
                     "--ratelimit-key)");
    } else if (limited && shape_error_body(x->json, NULL, 0)) {
        conform_pass(c, &checks[LIMITED],
                     exchange_evidence(x, EVIDENCE_NO_FOCUS),
                     "request %ld got HTTP 429 with the error body%s (--rpm "
                     "%ld)",
                     i,
                     i < n ? ", before the first request over the limit"
                           : ", the first request over the limit",
                     o->rpm);
    } else if (limited) {
        exchange_expect_error(c, &checks[LIMITED], x, 429);
    } else if (took >= WINDOW_S) {
        conform_skip(c, &checks[LIMITED],
                     "%ld requests took %.0f s, longer than the window", n,
                     took);
    } else if (w->first_limit > o->rpm) {
        conform_fail(c, &checks[LIMITED],
                     exchange_evidence(x, EVIDENCE_NO_FOCUS),
                     "%ld requests in %.1f s, none refused, but the server's "
                     "x-ratelimit-limit-requests says %lld, more than --rpm "
                     "%ld, so the check could not run (give --rpm %lld)",
                     n, took, (long long)w->first_limit, o->rpm,
                     (long long)w->first_limit);
    } else {
        conform_violation(c, &checks[LIMITED],
                          exchange_evidence(x, EVIDENCE_NO_FOCUS),
                          "%ld requests in %.1f s, none refused (%ld x 200, "
                          "%ld other)",
                          n, took, ok, other);
    }
}

/* Judges ratelimit.limit-header: the server's own limit against --rpm,
 * and which of the two the first 429 (request i, when limited) bears
 * out. */
static void judge_limit_header(struct conform *c, const struct walk *w, long i,
                               bool limited)
{
    const struct check_def *d = &checks[LIMIT_HEADER];
    long rpm = conform_options(c)->rpm;
    char which[160] = "";

    if (limited && i == (long)w->first_limit + 1)
        snprintf(which, sizeof(which),
                 "; the first 429 came at request %ld, as the header says: "
                 "--rpm is wrong",
                 i);
    else if (limited && i == rpm + 1)
        snprintf(which, sizeof(which),
                 "; the first 429 came at request %ld, as --rpm says: the "
                 "header is wrong",
                 i);
    else if (limited)
        snprintf(which, sizeof(which),
                 "; the first 429 came at request %ld, as neither says", i);
    if (w->first_limit < 0)
        conform_skip(c, d,
                     "the server sends no x-ratelimit-limit-requests header");
    else if (w->bad_evidence != NULL)
        conform_skip(c, d,
                     "the headers disagree among themselves (see "
                     "ratelimit.headers)");
    else if (w->first_limit == rpm)
        conform_pass(c, d, NULL, "x-ratelimit-limit-requests %lld, as --rpm",
                     (long long)w->first_limit);
    else
        conform_violation(c, d, json_incref(w->limit_evidence),
                          "x-ratelimit-limit-requests says %lld, --rpm says "
                          "%ld%s",
                          (long long)w->first_limit, rpm, which);
}

/* Runs the group: up to N+1 requests with the rate-limit key. */
static void run(struct conform *c)
{
    const struct options *o = conform_options(c);
    struct walk w = {.first_limit = -1,
                     .limit = -1,
                     .remaining = -1,
                     .tokens_left = -1,
                     .rpm = o->rpm};
    struct exchange x;
    struct timespec start;
    long i, n = o->rpm + 1, ok = 0, other = 0;
    bool limited = false, broken = false;
    double took;

    exchange_init(&x);
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (i = 0; i < n && !limited && !broken; i++) {
        exchange_send(c, &x, "POST", "/chat/completions",
                      conform_bearer(c, o->ratelimit_key),
                      chat_body(conform_model(c), "Hi", 1), NULL, false);
        broken = x.resp.ts != TRANSPORT_OK;
        limited = !broken && x.resp.status == 429;
        if (!broken && !limited && x.resp.status == 200)
            ok++;
        else if (!broken && !limited)
            other++;
        if (!broken)
            walk_step(&w, &x, (size_t)i);
        if (w.limit_evidence == NULL && w.first_limit >= 0)
            w.limit_evidence = exchange_evidence(&x, EVIDENCE_NO_FOCUS);
    }
    took = since(&start);
    judge_limited(c, &x, i, limited, broken, took, ok, other, &w);
    if (limited)
        judge_retry_after(c, &x);
    else {
        conform_skip(c, &checks[RETRY_AFTER], "no 429 to read");
        conform_skip(c, &checks[RETRY_BOUNDED], "no 429 to read");
    }
    if (w.bad_evidence != NULL)
        conform_finding(c, &checks[HEADERS], w.bad_kind,
                        &checks[HEADERS].impact,
                        w.bad_kind == FINDING_BREAK ? 1 : 0,
                        json_incref(w.bad_evidence), "%s", w.bad);
    else if (!w.seen)
        conform_skip(c, &checks[HEADERS],
                     "the server sends no x-ratelimit-*-requests headers");
    else
        conform_pass(c, &checks[HEADERS], NULL,
                     "limit %lld, remaining %lld after the last request",
                     (long long)w.limit, (long long)w.remaining);
    judge_limit_header(c, &w, i, limited);
    json_decref(w.bad_evidence);
    json_decref(w.limit_evidence);
    exchange_cleanup(&x);
}

/* The group needs to know the limit and a key to spend. */
static const char *missing(const struct conform *c)
{
    const char *ret;
    const struct options *o = conform_options(c);

    if (o->rpm <= 0 || o->ratelimit_key == NULL) {
        ret = "needs --rpm N and --ratelimit-key KEY";
        goto out;
    }
    ret = NULL;
out:
    return ret;
}

const struct group_def group_ratelimit = {
    .name = "ratelimit",
    .about = "with --rpm N: a 429 by request N+1, Retry-After, x-ratelimit-* "
             "headers",
    .checks = checks,
    .n_checks = sizeof(checks) / sizeof(checks[0]),
    .needs_model = true,
    .missing = missing,
    .run = run,
};
