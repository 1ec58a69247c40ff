/* retries: the journal's requests grouped into logical calls, per key and
 * scenario, each judged as a retry policy; and GET /_nexus/clients. */
#include "retries.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "buf.h"
#include "journal.h"
#include "router.h"
#include "routes.h"

/* The most waits a call may have asked for, in ms (ten years): a larger
 * Retry-After is read as no advice at all. */
#define ADVICE_MAX_MS 315360000000.0

/* A client: one key (or none) and scenario (or none), with its calls. */
struct client {
    const json_t *first; /* its first entry, for the key and scenario */
    json_t *calls;       /* the calls' reports, in order (owned) */
    size_t attempts, retried, succeeded, gave_up, failed;
};

/* A logical call being gathered: its attempts in order. */
struct call {
    size_t client;
    bool by_idempotency;
    json_t *tries; /* the attempts' entries (owned references) */
};

/* The state of one report. */
struct report {
    const struct retries_opts *o;
    struct client *clients;
    size_t nclients, capclients;
    struct call *calls;
    size_t ncalls, capcalls;
    json_t *client_of; /* group text -> client index */
    json_t *call_of;   /* call key text -> call index */
};

static const char *str_of(const json_t *e, const char *name)
{
    return json_string_value(json_object_get(e, name));
}

static json_int_t int_of(const json_t *e, const char *name)
{
    return json_integer_value(json_object_get(e, name));
}

/* When an entry's answer ended, in the journal's t_ms scale. */
static json_int_t end_of(const json_t *e)
{
    return int_of(e, "t_ms") + json_integer_value(json_object_get(
                                   json_object_get(e, "timing"), "total_ms"));
}

/* Did the attempt get a whole 2xx answer? */
static bool attempt_ok(const json_t *e)
{
    const char *outcome = str_of(e, "outcome");

    return outcome != NULL && strcmp(outcome, "completed") == 0 &&
           int_of(e, "status") / 100 == 2;
}

/* Would a client retry what this attempt got? The openai SDKs retry 408,
 * 409, 429 and 5xx, and a connection that broke. */
static bool attempt_retryable(const json_t *e)
{
    const char *outcome = str_of(e, "outcome");
    json_int_t s = int_of(e, "status");

    if (outcome == NULL || strcmp(outcome, "completed") != 0)
        return true;
    return s == 408 || s == 409 || s == 429 || s >= 500;
}

/* The wait, in ms, that an answer asked of the client before its next
 * attempt: retry-after-ms, else Retry-After in seconds; -1 for none (or an
 * HTTP date, which the mock never sends). */
static double advice_ms(const json_t *e)
{
    const char *ms = str_of(e, "retry_after_ms");
    const char *s = str_of(e, "retry_after");
    char *end;
    double v;

    if (ms != NULL) {
        v = strtod(ms, &end);
        if (end != ms && *end == '\0' && v >= 0 && v <= ADVICE_MAX_MS)
            return v;
    }
    if (s != NULL) {
        v = strtod(s, &end);
        if (end != s && *end == '\0' && v >= 0 && v * 1000 <= ADVICE_MAX_MS)
            return v * 1000;
    }
    return -1;
}

/* Orders entries by arrival, then by id. */
static int by_arrival(const void *a, const void *b)
{
    const json_t *x = *(const json_t *const *)a;
    const json_t *y = *(const json_t *const *)b;
    json_int_t tx = int_of(x, "t_ms"), ty = int_of(y, "t_ms");

    if (tx != ty)
        return tx < ty ? -1 : 1;
    return int_of(x, "id") < int_of(y, "id")   ? -1
           : int_of(x, "id") > int_of(y, "id") ? 1
                                               : 0;
}

/* Grows an array of n items of size sz to hold one more. Returns 0 or -1. */
static int grow(void **items, size_t *cap, size_t n, size_t sz)
{
    size_t ncap;
    void *p;

    if (n < *cap)
        return 0;
    ncap = *cap ? *cap * 2 : 16;
    p = realloc(*items, ncap * sz);
    if (p == NULL)
        return -1;
    *items = p;
    *cap = ncap;
    return 0;
}

/* The index of e's client (its key and scenario), made when new; -1 on
 * OOM. */
static long client_index(struct report *r, const json_t *e)
{
    const json_t *k = json_object_get(e, "key_index");
    const char *scen = str_of(e, "scenario");
    struct buf text;
    json_t *found;
    long idx = -1;

    buf_init(&text, SIZE_MAX);
    if (buf_appendf(&text, "%lld|%s",
                    json_is_integer(k) ? (long long)json_integer_value(k)
                                       : -1LL,
                    scen ? scen : "") != 0)
        goto out;
    found = json_object_get(r->client_of, buf_str(&text));
    if (found != NULL) {
        idx = (long)json_integer_value(found);
        goto out;
    }
    if (grow((void **)&r->clients, &r->capclients, r->nclients,
             sizeof(*r->clients)) != 0 ||
        json_object_set_new(r->client_of, buf_str(&text),
                            json_integer((json_int_t)r->nclients)) != 0)
        goto out;
    memset(&r->clients[r->nclients], 0, sizeof(r->clients[0]));
    r->clients[r->nclients].first = e;
    r->clients[r->nclients].calls = json_array();
    if (r->clients[r->nclients].calls == NULL)
        goto out;
    idx = (long)r->nclients++;
out:
    buf_cleanup(&text);
    return idx;
}

/* Does e continue call c (found by its method, path and body)? Only after
 * a failed attempt, within the window, and never when e says it is a
 * first attempt (a retry count of 0). */
static bool continues(const struct report *r, const struct call *c,
                      const json_t *e)
{
    const json_t *last =
        json_array_get(c->tries, json_array_size(c->tries) - 1);
    const json_t *count = json_object_get(e, "retry_count");
    json_int_t gap = int_of(e, "t_ms") - end_of(last);

    if (attempt_ok(last))
        return false;
    if (json_is_integer(count) && json_integer_value(count) == 0)
        return false;
    return gap <= (json_int_t)r->o->window_ms;
}

/* Files e under its call: the one with the same Idempotency-Key, or the
 * one it continues; else a new one. Returns 0, or -1 on OOM. */
static int file_attempt(struct report *r, json_t *e)
{
    const char *idem = str_of(e, "idempotency_key");
    const char *method = str_of(e, "method"), *path = str_of(e, "path");
    long client = client_index(r, e);
    struct buf key;
    json_t *found;
    struct call *c = NULL;
    int err = -1;

    buf_init(&key, SIZE_MAX);
    if (client < 0)
        goto out;
    if (idem != NULL
            ? buf_appendf(&key, "%ld|I|%s", client, idem)
            : buf_appendf(&key, "%ld|B|%zu:%s|%zu:%s|%s", client,
                          strlen(method ? method : ""), method ? method : "",
                          strlen(path ? path : ""), path ? path : "",
                          str_of(e, "body_hash") ? str_of(e, "body_hash") : ""))
        goto out;
    found = json_object_get(r->call_of, buf_str(&key));
    if (found != NULL) {
        c = &r->calls[json_integer_value(found)];
        if (idem == NULL && !continues(r, c, e))
            c = NULL;
    }
    if (c == NULL) {
        if (grow((void **)&r->calls, &r->capcalls, r->ncalls,
                 sizeof(*r->calls)) != 0)
            goto out;
        c = &r->calls[r->ncalls];
        c->client = (size_t)client;
        c->by_idempotency = idem != NULL;
        c->tries = json_array();
        if (c->tries == NULL ||
            json_object_set_new(r->call_of, buf_str(&key),
                                json_integer((json_int_t)r->ncalls)) != 0) {
            json_decref(c->tries);
            goto out;
        }
        r->ncalls++;
    }
    err = json_array_append(c->tries, e);
out:
    buf_cleanup(&key);
    return err;
}

/* A new reference to member name of e, or null when it is absent. */
static json_t *member(const json_t *e, const char *name)
{
    json_t *v = json_object_get(e, name);

    return v != NULL ? json_incref(v) : json_null();
}

/* A number as JSON, or null when below zero (none). */
static json_t *ms_or_null(double v)
{
    return v < 0 ? json_null() : json_integer((json_int_t)(v + 0.5));
}

/* The report of one try: what it got, its retry headers, and for a retry
 * the wait before it against what the previous answer asked. NULL on OOM. */
static json_t *try_json(const json_t *e, const json_t *prev, bool *honored,
                        json_int_t *wait)
{
    json_t *t = json_object();
    double advised = prev != NULL ? advice_ms(prev) : -1;
    int rc = 0;
    static const char *const copied[] = {
        "id",
        "request_id",
        "t_ms",
        "status",
        "outcome",
        "retry_count",
        "idempotency_key",
        "retry_after",
        "retry_after_ms",
    };
    size_t i;

    if (t == NULL)
        return NULL;
    for (i = 0; i < sizeof(copied) / sizeof(copied[0]); i++)
        rc |= json_object_set_new(t, copied[i], member(e, copied[i]));
    *honored = true;
    if (prev != NULL) {
        *wait = int_of(e, "t_ms") - end_of(prev);
        rc |= json_object_set_new(t, "wait_ms", json_integer(*wait));
        *honored =
            advised < 0 || (double)(*wait + RETRIES_TOLERANCE_MS) >= advised;
        rc |= json_object_set_new(t, "advised_wait_ms", ms_or_null(advised));
        rc |= json_object_set_new(
            t, "honored", advised < 0 ? json_null() : json_boolean(*honored));
    } else {
        rc |= json_object_set_new(t, "wait_ms", json_null());
        rc |= json_object_set_new(t, "advised_wait_ms", json_null());
        rc |= json_object_set_new(t, "honored", json_null());
    }
    if (rc != 0) {
        json_decref(t);
        return NULL;
    }
    return t;
}

/* Judges whether the retry counts a call sent are 0, 1, 2, ... in order:
 * true or false, or null when it sent none. */
static json_t *counts_consistent(const json_t *tries)
{
    const json_t *e;
    size_t i, sent = 0;
    bool ok = true;

    json_array_foreach(tries, i, e)
    {
        const json_t *c = json_object_get(e, "retry_count");

        if (json_is_integer(c)) {
            sent++;
            ok = ok && json_integer_value(c) == (json_int_t)i;
        }
    }
    if (sent == 0)
        return json_null();
    return json_boolean(ok && sent == json_array_size(tries));
}

/* Builds the report of call c into its client. Returns 0, or -1 on OOM. */
static int call_report(struct report *r, const struct call *c)
{
    struct client *cl = &r->clients[c->client];
    size_t n = json_array_size(c->tries), i;
    const json_t *first = json_array_get(c->tries, 0);
    const json_t *last = json_array_get(c->tries, n - 1), *e;
    json_t *o = json_object(), *tries = json_array(), *counts = json_array();
    json_t *waits = json_array(), *retried = json_array();
    bool advised_any = false, honored_all = true, grew = true;
    json_int_t prev_wait = 0;
    const char *outcome;
    int rc = 0;

    if (o == NULL || tries == NULL || counts == NULL || waits == NULL ||
        retried == NULL)
        rc = -1;
    json_array_foreach(c->tries, i, e)
    {
        const json_t *prev = i > 0 ? json_array_get(c->tries, i - 1) : NULL;
        json_int_t wait = 0;
        bool honored;
        json_t *t = rc == 0 ? try_json(e, prev, &honored, &wait) : NULL;

        if (t == NULL || json_array_append_new(tries, t) != 0) {
            rc = -1;
            break;
        }
        rc |= json_array_append(counts, json_object_get(e, "retry_count"));
        if (prev == NULL)
            continue;
        rc |= json_array_append_new(waits, json_integer(wait));
        rc |= json_array_append(retried, json_object_get(prev, "status"));
        if (advice_ms(prev) >= 0) {
            advised_any = true;
            honored_all = honored_all && honored;
        }
        if (i >= 2 && wait <= prev_wait)
            grew = false;
        prev_wait = wait;
    }
    if (attempt_ok(last)) {
        outcome = "succeeded";
        cl->succeeded++;
    } else if (attempt_retryable(last)) {
        outcome = "gave_up";
        cl->gave_up++;
    } else {
        outcome = "failed";
        cl->failed++;
    }
    cl->attempts += n;
    if (n > 1)
        cl->retried++;
    if (rc == 0)
        rc = json_object_set_new(o, "method", member(first, "method")) |
             json_object_set_new(o, "path", member(first, "path")) |
             json_object_set_new(o, "model", member(first, "model")) |
             json_object_set_new(o, "idempotency_key",
                                 member(first, "idempotency_key")) |
             json_object_set_new(
                 o, "grouped_by",
                 json_string(c->by_idempotency ? "idempotency_key" : "body")) |
             json_object_set_new(o, "attempts", json_integer((json_int_t)n)) |
             json_object_set_new(o, "retries",
                                 json_integer((json_int_t)(n - 1))) |
             json_object_set_new(o, "outcome", json_string(outcome)) |
             json_object_set_new(o, "final_status", member(last, "status")) |
             json_object_set_new(
                 o, "stopped_at_limit",
                 strcmp(outcome, "gave_up") == 0
                     ? json_boolean(n == (size_t)r->o->max_retries + 1)
                     : json_null()) |
             json_object_set_new(
                 o, "over_limit",
                 json_boolean(n > (size_t)r->o->max_retries + 1)) |
             json_object_set_new(o, "backoff_grew",
                                 n >= 3 ? json_boolean(grew) : json_null()) |
             json_object_set_new(o, "honored_retry_after",
                                 advised_any ? json_boolean(honored_all)
                                             : json_null()) |
             json_object_set_new(o, "retry_count_headers", counts) |
             json_object_set_new(o, "retry_count_consistent",
                                 counts_consistent(c->tries)) |
             json_object_set_new(o, "waits_ms", waits) |
             json_object_set_new(o, "retried_after_status", retried) |
             json_object_set_new(o, "tries", tries);
    else {
        json_decref(counts);
        json_decref(waits);
        json_decref(retried);
        json_decref(tries);
    }
    if (rc != 0) {
        json_decref(o);
        return -1;
    }
    return json_array_append_new(cl->calls, o) != 0 ? -1 : 0;
}

/* The report of client cl. NULL on OOM. */
static json_t *client_json(struct client *cl)
{
    json_t *o = json_pack(
        "{s:O?, s:O?, s:O?, s:O?, s:{s:I, s:I, s:I, s:I, s:I, s:I}, s:O}",
        "key", json_object_get(cl->first, "key"), "key_index",
        json_object_get(cl->first, "key_index"), "plan",
        json_object_get(cl->first, "plan"), "scenario",
        json_object_get(cl->first, "scenario"), "summary", "calls",
        (json_int_t)json_array_size(cl->calls), "attempts",
        (json_int_t)cl->attempts, "retried_calls", (json_int_t)cl->retried,
        "succeeded", (json_int_t)cl->succeeded, "gave_up",
        (json_int_t)cl->gave_up, "failed", (json_int_t)cl->failed, "calls",
        cl->calls);

    return o;
}

json_t *retries_report(const json_t *entries, const struct retries_opts *o)
{
    struct report r;
    const json_t **order = NULL;
    json_t *out = NULL, *list = NULL;
    size_t n = json_array_size(entries), i;

    memset(&r, 0, sizeof(r));
    r.o = o;
    r.client_of = json_object();
    r.call_of = json_object();
    list = json_array();
    order = calloc(n ? n : 1, sizeof(*order));
    if (r.client_of == NULL || r.call_of == NULL || list == NULL ||
        order == NULL)
        goto out;
    for (i = 0; i < n; i++)
        order[i] = json_array_get(entries, i);
    qsort(order, n, sizeof(*order), by_arrival);
    for (i = 0; i < n; i++) {
        const char *method = str_of(order[i], "method");

        if (method != NULL && strcmp(method, "OPTIONS") == 0)
            continue; /* a browser's preflight is no attempt */
        if (file_attempt(&r, (json_t *)order[i]) != 0)
            goto out;
    }
    for (i = 0; i < r.ncalls; i++)
        if (call_report(&r, &r.calls[i]) != 0)
            goto out;
    for (i = 0; i < r.nclients; i++)
        if (json_array_append_new(list, client_json(&r.clients[i])) != 0)
            goto out;
    out = json_pack("{s:s, s:I, s:I, s:I, s:I, s:O}", "object", "nexus.clients",
                    "max_retries", (json_int_t)o->max_retries, "window_ms",
                    (json_int_t)o->window_ms, "tolerance_ms",
                    (json_int_t)RETRIES_TOLERANCE_MS, "entries", (json_int_t)n,
                    "clients", list);
out:
    for (i = 0; i < r.ncalls; i++)
        json_decref(r.calls[i].tries);
    for (i = 0; i < r.nclients; i++)
        json_decref(r.clients[i].calls);
    free(r.calls);
    free(r.clients);
    free(order);
    json_decref(list);
    json_decref(r.client_of);
    json_decref(r.call_of);
    return out;
}

/* GET /_nexus/clients[?key=KEY&scenario=S&path=P&max_retries=N&window_ms=N]:
 * retries_report over the journal. */
static void retries_get(struct app *app, struct request *req,
                        struct response *resp)
{
    struct journal_filter f;
    struct retries_opts o;
    struct api_error e;
    unsigned long long max_retries = RETRIES_DEFAULT_MAX_RETRIES;
    unsigned long long window = RETRIES_DEFAULT_WINDOW_MS;
    json_t *entries = NULL, *body = NULL;
    size_t matched;

    memset(&f, 0, sizeof(f));
    f.scenario = request_query(req, "scenario");
    f.path = request_query(req, "path");
    f.limit = SIZE_MAX;
    f.brief = true;
    if (admin_query_key(app, req, &f.by_key, &f.key_index, &e) != 0 ||
        admin_query_uint(req, "max_retries", 0, 1000, &max_retries, &e) != 0 ||
        admin_query_uint(req, "window_ms", 0, UINT64_C(86400000), &window,
                         &e) != 0) {
        response_error(resp, &e);
        return;
    }
    o.max_retries = (unsigned)max_retries;
    o.window_ms = window;
    entries = app->journal != NULL ? journal_query(app->journal, &f, &matched)
                                   : json_array();
    if (entries != NULL)
        body = retries_report(entries, &o);
    json_decref(entries);
    if (body == NULL) {
        admin_oom(resp);
        return;
    }
    response_json(resp, 200, body);
}

const struct route route_admin_clients = {.name = "admin.clients",
                                          .method = "GET",
                                          .path = "/_nexus/clients",
                                          .admin = true,
                                          .handler = retries_get};
