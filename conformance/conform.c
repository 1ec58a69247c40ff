/* conform: the engine that plans a run (groups, skips), sends every
 * request through the transport and records each check's verdict. */
#include "conform.h"

#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "checks_auth.h"
#include "checks_billing.h"
#include "checks_chat.h"
#include "checks_format.h"
#include "checks_models.h"
#include "checks_notfound.h"
#include "checks_params.h"
#include "checks_ratelimit.h"
#include "checks_stream.h"
#include "checks_tools.h"
#include "checks_usage.h"
#include "buf.h"
#include "fixes.h"
#include "shape.h"

/* After this many exchanges in a row with no answer at all, the server is
 * taken to be gone and later requests are not sent. */
#define MAX_SILENT 3
#define MAX_MESSAGE 2048
/* Why the server could not be reached: the URL quoted in it is cut here. */
#define WHY_MAX 1024

struct conform {
    const struct options *o;
    struct transport *t;
    struct results *results;
    void (*observer)(const struct check_result *r, void *ud);
    void *observer_ud;
    FILE *log;
    char *model;
    char *models_auth;
    struct http_request models_req;
    struct http_response models_resp;
    unsigned silent;
    const struct group_def *group;
    bool *recorded; /* [i]: group->checks[i] has a verdict; owned, sized for
                       the largest group, so a group has no size limit */
    struct timespec mark;
    struct buf bearer;
    char describe[512];
};

static const struct group_def *const groups[] = {
    &group_models,   &group_chat,    &group_stream,    &group_usage,
    &group_tools,    &group_format,  &group_params,    &group_auth,
    &group_notfound, &group_billing, &group_ratelimit,
};

/* options.groups holds one bit per group. */
_Static_assert(sizeof(groups) / sizeof(groups[0]) <=
                   sizeof(unsigned long) * CHAR_BIT,
               "more groups than bits in struct options' groups");

/* The groups in the order they run. */
const struct group_def *const *conform_groups(size_t *n)
{
    *n = sizeof(groups) / sizeof(groups[0]);
    return groups;
}

/* Returns the index of the group called name, or -1. */
int conform_group_index(const char *name)
{
    int ret;
    size_t i;

    for (i = 0; i < sizeof(groups) / sizeof(groups[0]); i++)
        if (strcmp(groups[i]->name, name) == 0) {
            ret = (int)i;
            goto out;
        }
    ret = -1;
out:
    return ret;
}

/* Returns a new engine that sends through t and appends to results (both
 * borrowed: they must outlive the engine), or NULL on OOM. */
struct conform *conform_new(const struct options *o, struct transport *t,
                            struct results *results)
{
    struct conform *ret;
    struct conform *c = calloc(1, sizeof(*c));
    size_t i, most = 0;

    if (c == NULL) {
        ret = NULL;
        goto out;
    }
    for (i = 0; i < sizeof(groups) / sizeof(groups[0]); i++)
        if (groups[i]->n_checks > most)
            most = groups[i]->n_checks;
    c->recorded = calloc(most + 1, sizeof(*c->recorded)); /* never 0 */
    if (c->recorded == NULL) {
        free(c);
        ret = NULL;
        goto out;
    }
    c->o = o;
    c->t = t;
    c->results = results;
    http_response_init(&c->models_resp, o->max_bytes);
    buf_init(&c->bearer, TRANSPORT_AUTH_MAX);
    clock_gettime(CLOCK_MONOTONIC, &c->mark);
    ret = c;
out:
    return ret;
}

/* Frees c; NULL is a no-op. */
void conform_free(struct conform *c)
{
    if (c == NULL)
        return;
    http_response_cleanup(&c->models_resp);
    buf_cleanup(&c->bearer);
    free(c->model);
    free(c->models_auth);
    free(c->recorded);
    free(c);
}

/* Calls fn with each result as soon as it is recorded (the terminal). */
void conform_observe(struct conform *c,
                     void (*fn)(const struct check_result *r, void *ud),
                     void *ud)
{
    c->observer = fn;
    c->observer_ud = ud;
}

/* Logs each exchange to log (--verbose); NULL stops logging. */
void conform_log_to(struct conform *c, FILE *log)
{
    c->log = log;
}

/* The model under test, or NULL when none is known. */
const char *conform_model(const struct conform *c)
{
    return c->model;
}

/* The configuration. */
const struct options *conform_options(const struct conform *c)
{
    return c->o;
}

/* The "Bearer KEY" value for key, valid until the next call. */
const char *conform_bearer(struct conform *c, const char *key)
{
    buf_reset(&c->bearer);
    /* Fails only without memory: the request then goes without a key. */
    if (buf_appendf(&c->bearer, "Bearer %s", key) != 0)
        buf_reset(&c->bearer);
    return buf_str(&c->bearer);
}

/* The discovery GET /models, made once per run. */
const struct http_response *conform_models_response(const struct conform *c)
{
    return &c->models_resp;
}

/* The request that produced conform_models_response(). */
const struct http_request *conform_models_request(const struct conform *c)
{
    return &c->models_req;
}

/* Initialises resp and performs req (see struct transport). */
void conform_request(struct conform *c, const struct http_request *req,
                     struct http_response *resp, const struct http_sink *sink)
{
    http_response_init(resp, c->o->max_bytes);
    if (c->silent >= MAX_SILENT) {
        http_response_fail(resp, TRANSPORT_SKIPPED,
                           "not sent: the server did not answer the last "
                           "%d requests",
                           MAX_SILENT);
    } else {
        transport_perform(c->t, req, resp, sink);
        if (resp->ts == TRANSPORT_TIMEOUT || resp->ts == TRANSPORT_UNREACHABLE)
            c->silent++;
        else
            c->silent = 0;
    }
    if (c->log != NULL)
        fprintf(c->log, "> %s %s -> %s %ld, %zu bytes, %.1f ms\n", req->method,
                req->path, transport_status_name(resp->ts), resp->status,
                resp->body.len, resp->elapsed_ms);
}

/* Describes a failed exchange in words ("timeout: ...", "HTTP 500"), for
 * messages; valid until the next call. */
const char *conform_describe(struct conform *c,
                             const struct http_response *resp)
{
    if (resp->ts != TRANSPORT_OK)
        snprintf(c->describe, sizeof(c->describe), "%s (%s)", resp->error,
                 transport_status_name(resp->ts));
    else if (resp->status == 0)
        snprintf(c->describe, sizeof(c->describe),
                 "an answer that is not HTTP (%zu bytes)", resp->body.len);
    else
        snprintf(c->describe, sizeof(c->describe), "HTTP %ld", resp->status);
    return c->describe;
}

/* Returns the index of d in the running group, or -1. */
static int check_index(const struct conform *c, const struct check_def *d)
{
    int ret;
    if (c->group == NULL || d < c->group->checks ||
        d >= c->group->checks + c->group->n_checks) {
        ret = -1;
        goto out;
    }
    ret = (int)(d - c->group->checks);
out:
    return ret;
}

/* True when d already has a verdict in this run. */
bool conform_done(const struct conform *c, const struct check_def *d)
{
    int i = check_index(c, d);

    return i >= 0 && c->recorded[i];
}

/* Looks for d's verdict from the end of the list: it is in the running
 * group, so near the end. */
bool conform_passed(const struct conform *c, const struct check_def *d)
{
    bool ret = false;
    size_t i;

    for (i = c->results->n; conform_done(c, d) && i > 0; i--)
        if (strcmp(c->results->items[i - 1].id, d->id) == 0) {
            ret = c->results->items[i - 1].status == CHECK_PASS;
            break;
        }
    return ret;
}

/* Milliseconds since the last verdict, then restarts the count: a check's
 * duration is the time spent since the one before it. */
static double lap_ms(struct conform *c)
{
    struct timespec now;
    double ms;

    clock_gettime(CLOCK_MONOTONIC, &now);
    ms = (double)(now.tv_sec - c->mark.tv_sec) * 1000.0 +
         (double)(now.tv_nsec - c->mark.tv_nsec) / 1e6;
    c->mark = now;
    return ms;
}

/* The status of the check called id in this run so far, or -1. */
int conform_status_of(const struct conform *c, const char *id)
{
    int ret = -1;
    size_t i;

    for (i = 0; i < c->results->n; i++)
        if (strcmp(c->results->items[i].id, id) == 0)
            ret = (int)c->results->items[i].status;
    return ret;
}

/* "MUST" or "SHOULD". */
const char *check_level_name(enum check_level l)
{
    return l == LEVEL_MUST ? "MUST" : "SHOULD";
}

/* "contract", "client" or "spec". */
const char *check_basis_name(enum check_basis b)
{
    return b == BASIS_CONTRACT ? "contract"
           : b == BASIS_CLIENT ? "client"
                               : "spec";
}

/* The verdict a finding of kind on d gets in this run (docs/conformance.md,
 * "The policy"). */
static enum check_status verdict(const struct conform *c,
                                 const struct check_def *d, enum finding kind)
{
    enum check_status st;
    bool strict = c->o->strict;

    switch (kind) {
    case FINDING_NONE:
        st = CHECK_PASS;
        break;
    case FINDING_OPTIONAL:
        st = strict ? CHECK_FAIL : CHECK_PASS;
        break;
    case FINDING_ADVICE:
        st = CHECK_WARN;
        break;
    case FINDING_SPEC:
        st = strict ? CHECK_FAIL : CHECK_WARN;
        break;
    case FINDING_BREAK:
    default:
        st = d->level == LEVEL_MUST                   ? CHECK_FAIL
             : d->basis == BASIS_SPEC && c->o->strict ? CHECK_FAIL
                                                      : CHECK_WARN;
        break;
    }
    return st;
}

/* What a finding of kind on d rests on. */
static enum check_basis finding_basis(const struct check_def *d,
                                      enum finding kind)
{
    return kind == FINDING_SPEC || kind == FINDING_OPTIONAL ? BASIS_SPEC
           : kind == FINDING_ADVICE                         ? BASIS_CLIENT
                                                            : d->basis;
}

/* Stores one verdict, once per check, with its level, basis, impact (in
 * words and as catalogue entries, which it steals; NULL: none) and fix,
 * and shows it to the observer. */
static void record(struct conform *c, const struct check_def *d,
                   enum check_status st, enum check_basis basis,
                   json_t *impacts, const char *impact, json_t *evidence,
                   const char *msg)
{
    struct check_result *r;
    int i = check_index(c, d);

    if (i < 0 || c->recorded[i]) {
        fprintf(stderr, "nexus-conform: internal: verdict for %s %s\n", d->id,
                i < 0 ? "outside its group" : "given twice");
        json_decref(evidence);
        json_decref(impacts);
        return;
    }
    c->recorded[i] = true;
    r = results_add(c->results, d->id, c->group->name, st, d->rule, d->source,
                    evidence, "%s", msg);
    if (r != NULL) {
        r->duration_ms = lap_ms(c);
        /* Without memory for these the verdict still stands, bare. */
        results_describe(r, check_level_name(d->level), impact,
                         fixes_get(d->id));
        results_classify(r, check_basis_name(basis), impacts);
        impacts = NULL; /* stolen */
        if (c->observer != NULL)
            c->observer(r, c->observer_ud);
    }
    json_decref(impacts);
}

/* Formats a message into buf (size n). */
static void vformat(char *buf, size_t n, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

/* Formats a message, leaving it empty if the format fails. */
static void vformat(char *buf, size_t n, const char *fmt, va_list ap)
{
    if (vsnprintf(buf, n, fmt, ap) < 0)
        buf[0] = '\0';
}

/* What the message of a finding adds after what was found. */
static const char *kind_note(enum finding kind)
{
    return kind == FINDING_SPEC ? "; a deviation from the spec's text that "
                                  "the clients measured cope with (--strict "
                                  "fails it)"
           : kind == FINDING_OPTIONAL
               ? "; the SDKs type it optional (--strict fails the spec's "
                 "text)"
               : "";
}

/* Formats the message of a finding on d, adds its note and its impacts
 * (ids, n of them), and records the verdict the finding gets. */
static void vfinding(struct conform *c, const struct check_def *d,
                     enum finding kind, const enum impact_id *ids, size_t n,
                     json_t *evidence, const char *fmt, va_list ap)
    __attribute__((format(printf, 7, 0)));

/* Formats, adds the note and the impacts, and records. */
static void vfinding(struct conform *c, const struct check_def *d,
                     enum finding kind, const enum impact_id *ids, size_t n,
                     json_t *evidence, const char *fmt, va_list ap)
{
    char msg[MAX_MESSAGE];
    struct buf words;
    json_t *impacts = NULL;
    size_t len;

    buf_init(&words, MAX_MESSAGE);
    vformat(msg, sizeof(msg), fmt, ap);
    len = strlen(msg);
    if (len < sizeof(msg))
        snprintf(msg + len, sizeof(msg) - len, "%s", kind_note(kind));
    if (kind != FINDING_NONE && ids != NULL &&
        impact_describe(ids, n, &words) == 0 && words.len > 0)
        impacts = impact_json(ids, n);
    record(c, d, verdict(c, d, kind), finding_basis(d, kind), impacts,
           words.len > 0 ? buf_str(&words) : NULL, evidence, msg);
    buf_cleanup(&words);
}

/* Formats the message of a verdict that is no finding (a skip, an
 * observation, a refusal) and stores it as st, with no impact. */
static void vplain(struct conform *c, const struct check_def *d,
                   enum check_status st, json_t *evidence, const char *fmt,
                   va_list ap) __attribute__((format(printf, 5, 0)));

/* Formats and records st. */
static void vplain(struct conform *c, const struct check_def *d,
                   enum check_status st, json_t *evidence, const char *fmt,
                   va_list ap)
{
    char msg[MAX_MESSAGE];

    vformat(msg, sizeof(msg), fmt, ap);
    record(c, d, st, d->basis, NULL, NULL, evidence, msg);
}

/* Records that d passed. */
void conform_pass(struct conform *c, const struct check_def *d,
                  json_t *evidence, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vplain(c, d, CHECK_PASS, evidence, fmt, ap);
    va_end(ap);
}

/* Records that d was violated, with d's impact. */
void conform_violation(struct conform *c, const struct check_def *d,
                       json_t *evidence, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vfinding(c, d,
             d->level == LEVEL_MUST     ? FINDING_BREAK
             : d->basis == BASIS_SPEC   ? FINDING_SPEC
             : d->basis == BASIS_CLIENT ? FINDING_ADVICE
                                        : FINDING_BREAK,
             &d->impact, 1, evidence, fmt, ap);
    va_end(ap);
}

/* Records a finding of the given gravity on d, with its impacts. */
void conform_finding(struct conform *c, const struct check_def *d,
                     enum finding kind, const enum impact_id *ids, size_t n,
                     json_t *evidence, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vfinding(c, d, kind, ids, n, evidence, fmt, ap);
    va_end(ap);
}

/* Records the gravest finding w holds on d, or a pass saying ok. */
void conform_judge(struct conform *c, const struct check_def *d,
                   const struct finding_worst *w, json_t *evidence,
                   const char *ok, ...)
{
    va_list ap;

    if (w->kind == FINDING_NONE) {
        va_start(ap, ok);
        vplain(c, d, CHECK_PASS, evidence, ok, ap);
        va_end(ap);
    } else {
        conform_finding(c, d, w->kind, w->impacts, w->n_impacts, evidence, "%s",
                        w->why);
    }
}

/* Records a warning on d whatever its level, without the impact. */
void conform_warn(struct conform *c, const struct check_def *d,
                  json_t *evidence, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vplain(c, d, CHECK_WARN, evidence, fmt, ap);
    va_end(ap);
}

/* Records a failure on d that is no violation of its rule, without the
 * impact. */
void conform_fail(struct conform *c, const struct check_def *d,
                  json_t *evidence, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vplain(c, d, CHECK_FAIL, evidence, fmt, ap);
    va_end(ap);
}

/* Records that d could not be judged, and why. */
void conform_skip(struct conform *c, const struct check_def *d, const char *fmt,
                  ...)
{
    va_list ap;

    va_start(ap, fmt);
    vplain(c, d, CHECK_SKIP, NULL, fmt, ap);
    va_end(ap);
}

/* Records a skip, with the same reason, for every check of the running group
 * that has no verdict yet. */
void conform_skip_rest(struct conform *c, const char *fmt, ...)
{
    char msg[MAX_MESSAGE];
    va_list ap;
    size_t i;

    va_start(ap, fmt);
    vformat(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    for (i = 0; c->group != NULL && i < c->group->n_checks; i++)
        if (!c->recorded[i])
            record(c, &c->group->checks[i], CHECK_SKIP,
                   c->group->checks[i].basis, NULL, NULL, NULL, msg);
}

/* Makes the discovery request and picks the model: --model, or the first
 * one listed. Returns -1 only when nothing could be reached. */
static int discover(struct conform *c, char **cause)
{
    struct buf why;
    json_t *body = NULL, *first;
    const char *id;
    size_t off;
    char err[256];
    int rc = -1;

    buf_init(&why, WHY_MAX + 3);
    c->models_auth = strdup(conform_bearer(c, c->o->api_key));
    if (c->models_auth == NULL)
        goto out;
    c->models_req.method = "GET";
    c->models_req.path = "/models";
    c->models_req.authorization = c->models_auth;
    http_response_cleanup(&c->models_resp);
    conform_request(c, &c->models_req, &c->models_resp, NULL);
    if (c->models_resp.ts == TRANSPORT_UNREACHABLE) {
        if (buf_appendf_cut(&why, WHY_MAX, "cannot reach %s: %s",
                            c->models_resp.url != NULL ? c->models_resp.url
                                                       : c->o->base_url,
                            c->models_resp.error) == 0)
            *cause = buf_take(&why, NULL);
        goto out;
    }
    rc = 0;
    if (c->o->model != NULL) {
        c->model = strdup(c->o->model);
        goto out;
    }
    if (c->models_resp.ts != TRANSPORT_OK)
        goto out;
    body = shape_parse(c->models_resp.body.data, c->models_resp.body.len, err,
                       sizeof(err), &off);
    first = json_array_get(json_object_get(body, "data"), 0);
    id = json_string_value(json_object_get(first, "id"));
    if (id != NULL && id[0] != '\0')
        c->model = strdup(id);
out:
    json_decref(body);
    buf_cleanup(&why);
    return rc;
}

/* Discovers the model, then runs every group. */
int conform_run(struct conform *c, char **cause)
{
    int ret;
    const char *reason;
    size_t i;

    *cause = NULL;
    if (discover(c, cause) != 0) {
        ret = -1;
        goto out;
    }
    for (i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
        c->group = groups[i];
        memset(c->recorded, 0, groups[i]->n_checks * sizeof(*c->recorded));
        lap_ms(c);
        reason = NULL;
        /* Groups left out with --only/--skip are not reported at all. */
        if ((c->o->groups & (1UL << i)) == 0)
            continue;
        if (groups[i]->missing != NULL)
            reason = groups[i]->missing(c);
        if (reason == NULL && groups[i]->needs_model && c->model == NULL)
            reason = "no model to test: the model list could not be read "
                     "and --model was not given";
        if (reason == NULL)
            groups[i]->run(c);
        else
            conform_skip_rest(c, "%s", reason);
        /* A safety net: every check gets a verdict, even after an early
         * return inside a group. */
        conform_skip_rest(c, "not evaluated");
    }
    c->group = NULL;
    ret = 0;
out:
    return ret;
}
