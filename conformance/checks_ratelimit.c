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
    [LIMITED] = {"ratelimit.429", LEVEL_MUST,
                 "With a limit of N requests per minute, request N+1 within "
                 "the minute MUST be refused with 429 and the error body",
                 "AI Nexus reference: Rate Limits, Error Codes (429)",
                 "clients never back off; Python and Node raise "
                 "RateLimitError only for 429"},
    [RETRY_AFTER] = {"ratelimit.retry-after", LEVEL_MUST,
                     "A 429 MUST carry Retry-After (seconds or an HTTP "
                     "date); retry-after-ms, if sent, MUST be a "
                     "non-negative number",
                     "RFC 9110 section 10.2.3 (Retry-After); SDK behaviour, "
                     "section 2",
                     "without it every SDK falls back to its own backoff of "
                     "0.5 s doubling, and retries too early"},
    [RETRY_BOUNDED] =
        {"ratelimit.retry-after-range", LEVEL_SHOULD,
         "Retry-After SHOULD be between 1 and 60 seconds",
         "Official SDK client behaviour, section 2 (Retry-After handling) and "
         "section 5 scenario 18",
         "0 makes Node 6.26+, Go and Java retry at once; over "
         "60 s Node 7.5+ ignores it, over 120 s Python 2.52+ "
         "gives up, and Go 3.52 and Java sleep the full value"},
    [HEADERS] = {"ratelimit.headers", LEVEL_MUST,
                 "x-ratelimit-limit/remaining/reset-requests (and -tokens), "
                 "where sent, MUST parse and agree: the same limit, "
                 "remaining falling by at most one per request (it may stay "
                 "or rise as the budget refills) and 0 at the 429",
                 "OpenAI rate-limit headers (x-ratelimit-*); AI Nexus "
                 "reference: Rate Limits",
                 "clients that pace themselves on these headers pace "
                 "wrongly"},
    [LIMIT_HEADER] = {"ratelimit.limit-header", LEVEL_SHOULD,
                      "x-ratelimit-limit-requests, where sent, SHOULD equal "
                      "the per-minute limit given with --rpm",
                      "OpenAI rate-limit headers (x-ratelimit-limit-requests: "
                      "the maximum number of requests permitted before "
                      "exhausting the rate limit); AI Nexus reference: Rate "
                      "Limits",
                      NULL},
};

/* What the walk through the requests has learned so far. */
struct walk {
    bool seen;              /* some response carried the headers */
    int64_t first_limit;    /* the first limit-requests sent, or -1 */
    int64_t limit;          /* -1 until known */
    int64_t remaining;      /* of the previous answer, -1 when unknown */
    json_t *bad_evidence;   /* the first disagreement */
    json_t *limit_evidence; /* the answer that first said the limit */
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
    int64_t limit, remaining, tl, tr;
    bool ok = true;

    /* Only the first disagreement is kept; a response without the
     * headers says nothing. */
    if (w->bad_evidence != NULL ||
        (http_response_header(r, "x-ratelimit-limit-requests") == NULL &&
         http_response_header(r, "x-ratelimit-remaining-requests") == NULL))
        goto out;
    w->seen = true;
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
    if (!ok) {
        w->bad_evidence = exchange_evidence(x, EVIDENCE_NO_FOCUS);
        evidence_set(w->bad_evidence, "request_number",
                     json_integer((json_int_t)i + 1));
        goto out;
    }
    w->limit = limit;
    w->remaining = remaining;
out:
    return;
}

/* Judges Retry-After and retry-after-ms on the 429. */
static void judge_retry_after(struct conform *c, const struct exchange *x)
{
    const char *ra = http_response_header(&x->resp, "Retry-After");
    const char *ms = http_response_header(&x->resp, "retry-after-ms");
    double s = 0, msv = 0;

    if (ra == NULL || parse_retry_after(ra, time(NULL), &s) != 0 || s < 0) {
        conform_violation(c, &checks[RETRY_AFTER],
                          exchange_evidence(x, EVIDENCE_NO_FOCUS),
                          "Retry-After is %s", ra != NULL ? ra : "missing");
        conform_skip(c, &checks[RETRY_BOUNDED], "no usable Retry-After");
        return;
    }
    if (ms != NULL && (parse_double(ms, &msv) != 0 || msv < 0)) {
        conform_violation(c, &checks[RETRY_AFTER],
                          exchange_evidence(x, EVIDENCE_NO_FOCUS),
                          "retry-after-ms is %s", ms);
    } else {
        conform_pass(c, &checks[RETRY_AFTER], NULL, "Retry-After: %s%s%s", ra,
                     ms != NULL ? ", retry-after-ms: " : "",
                     ms != NULL ? ms : "");
    }
    if (s < 1 || s > 60)
        conform_violation(c, &checks[RETRY_BOUNDED],
                          exchange_evidence(x, EVIDENCE_NO_FOCUS),
                          "Retry-After is %.0f s", s);
    else
        conform_pass(c, &checks[RETRY_BOUNDED], NULL, "%.0f s", s);
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
        conform_violation(
            c, &checks[LIMITED], exchange_evidence(x, EVIDENCE_NO_FOCUS),
            "request %ld of %ld got %s", i, n, conform_describe(c, &x->resp));
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
    struct walk w = {.first_limit = -1, .limit = -1, .remaining = -1};
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
        conform_violation(c, &checks[HEADERS], json_incref(w.bad_evidence),
                          "%s", w.bad);
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
