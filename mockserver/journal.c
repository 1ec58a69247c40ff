/* journal: a byte-capped ring of answered requests, and the entries of
 * requests still in flight, behind one lock. */
#include "journal.h"

#include <ctype.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "buf.h"
#include "utf8.h"

/* Buckets of the table of entries in flight, found by request id. The
 * table holds at most one entry per open connection. */
#define PENDING_BUCKETS 256u

/* The most a retry-count header may say and still be read as a number. */
#define RETRY_COUNT_MAX 1000000L

/* One request. Owned by the journal: in the table of entries in flight
 * (hnext) from journal_open to journal_close, then in the ring (prev,
 * next) until evicted or cleared. Every string is owned. */
struct jentry {
    struct jentry *prev, *next; /* the ring, oldest first */
    struct jentry *hnext;       /* a bucket of the table in flight */
    uint64_t id;                /* 1, 2, ...: the order of recording */
    char request_id[48];
    char method[16];
    char *path;
    char *headers; /* "name\0value\0" pairs: names lower-cased, secrets
                      masked, text made valid UTF-8 */
    size_t headers_len;
    char *body; /* the first body_max bytes, valid UTF-8 for display */
    size_t body_len;
    uint64_t body_bytes; /* the whole body's size */
    bool body_truncated;
    uint64_t body_hash; /* FNV-1a of the whole body */
    bool has_key;
    size_t key_index;
    char *key_masked;
    char *plan;
    char *model;
    int stream; /* 1, 0, -1: not said */
    char *rule;
    char *scenario;
    long retry_count; /* X-Stainless-Retry-Count; -1: none or not a number */
    char *idempotency_key;
    char *retry_after;
    char *retry_after_ms;
    int response_status; /* what the HTTP status line said; 0: none */
    int status;          /* as the log line shows it */
    enum log_outcome outcome;
    bool streamed;
    uint64_t events;
    uint64_t bytes;
    bool has_headers, has_first_byte;
    uint64_t arrival_real, headers_real, first_byte_real, end_real;
    uint64_t arrival_wall;
    size_t cost; /* bytes counted against the cap */
};

struct journal {
    pthread_mutex_t lock; /* guards everything below */
    size_t max_bytes;
    size_t body_max;
    uint64_t start_real;
    struct jentry *oldest, *newest;
    size_t entries;
    size_t bytes;
    struct jentry *pending[PENDING_BUCKETS];
    size_t in_flight;
    uint64_t last_id;
    uint64_t evicted;
    uint64_t dropped;
};

/* Frees an entry and what it owns; NULL is a no-op. */
static void entry_free(struct jentry *e)
{
    if (e == NULL)
        return;
    free(e->path);
    free(e->headers);
    free(e->body);
    free(e->key_masked);
    free(e->plan);
    free(e->model);
    free(e->rule);
    free(e->scenario);
    free(e->idempotency_key);
    free(e->retry_after);
    free(e->retry_after_ms);
    free(e);
}

struct journal *journal_new(size_t max_bytes, size_t body_max,
                            uint64_t now_real)
{
    struct journal *j = calloc(1, sizeof(*j));

    if (j == NULL)
        return NULL;
    pthread_mutex_init(&j->lock, NULL);
    j->max_bytes = max_bytes;
    j->body_max = body_max;
    j->start_real = now_real;
    return j;
}

void journal_free(struct journal *j)
{
    struct jentry *e, *next;
    size_t i;

    if (j == NULL)
        return;
    for (e = j->oldest; e != NULL; e = next) {
        next = e->next;
        entry_free(e);
    }
    for (i = 0; i < PENDING_BUCKETS; i++)
        for (e = j->pending[i]; e != NULL; e = next) {
            next = e->hnext;
            entry_free(e);
        }
    pthread_mutex_destroy(&j->lock);
    free(j);
}

/* FNV-1a, 64 bits, continuing from h. */
static uint64_t fnv1a(uint64_t h, const void *data, size_t n)
{
    const unsigned char *p = data;
    size_t i;

    for (i = 0; i < n; i++) {
        h ^= p[i];
        h *= UINT64_C(0x100000001b3);
    }
    return h;
}

#define FNV_OFFSET UINT64_C(0xcbf29ce484222325)

/* The bucket of a request id. */
static size_t bucket_of(const char *request_id)
{
    return (size_t)(fnv1a(FNV_OFFSET, request_id, strlen(request_id)) %
                    PENDING_BUCKETS);
}

/* A copy of s (NULL stays NULL) made valid UTF-8, counted into *cost.
 * Returns 0, or -1 on OOM. */
static int dup_text(const char *s, char **out, size_t *cost)
{
    size_t len;

    *out = NULL;
    if (s == NULL)
        return 0;
    *out = utf8_scrub_dup(s, strlen(s), &len);
    if (*out == NULL)
        return -1;
    *cost += len + 1;
    return 0;
}

bool journal_is_secret(const char *name, bool *has_scheme)
{
    static const struct {
        const char *name;
        bool scheme;
    } secrets[] = {
        {"authorization", true}, {"proxy-authorization", true},
        {"api-key", false},      {"x-api-key", false},
        {"cookie", false},       {"x-nexus-admin-token", false},
    };
    size_t i;

    for (i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++)
        if (strcasecmp(name, secrets[i].name) == 0) {
            *has_scheme = secrets[i].scheme;
            return true;
        }
    return false;
}

void journal_mask(const char *value, bool has_scheme, char *out, size_t outlen)
{
    const char *secret = value;
    size_t slen, keep_head, keep_tail;
    int scheme_len = 0;

    if (outlen == 0)
        return;
    if (has_scheme) {
        const char *sp = strchr(value, ' ');

        if (sp != NULL) {
            scheme_len = (int)(sp - value);
            secret = sp;
            while (*secret == ' ')
                secret++;
        }
    }
    slen = strlen(secret);
    if (slen >= 16) {
        keep_head = 6;
        keep_tail = 4;
    } else if (slen >= 8) {
        keep_head = 2;
        keep_tail = 2;
    } else {
        keep_head = 0;
        keep_tail = 0;
    }
    if (keep_head == 0)
        snprintf(out, outlen, "%.*s%s***", scheme_len, value,
                 scheme_len ? " " : "");
    else
        snprintf(out, outlen, "%.*s%s%.*s...%s", scheme_len, value,
                 scheme_len ? " " : "", (int)keep_head, secret,
                 secret + slen - keep_tail);
}

/* Parses a retry-count header: a decimal number, else -1. */
static long parse_retry_count(const char *s)
{
    char *end;
    long v;

    if (s == NULL || *s < '0' || *s > '9')
        return -1;
    v = strtol(s, &end, 10);
    if (*end != '\0' || v < 0 || v > RETRY_COUNT_MAX)
        return -1;
    return v;
}

/* Gathers the headers of a request into an entry (journal_open's
 * iterator callback). */
struct header_sink {
    struct jentry *e;
    struct buf out;
    bool failed;
};

/* Adds one header: the name lower-cased, a secret masked, both made valid
 * UTF-8; notes the retry count and the idempotency key. */
static void header_add(void *arg, const char *name, const char *value)
{
    struct header_sink *hs = arg;
    char lname[128], masked[160];
    char *clean = NULL;
    size_t i, len;
    bool scheme;

    if (hs->failed || name == NULL)
        return;
    if (value == NULL)
        value = "";
    for (i = 0; name[i] != '\0' && i + 1 < sizeof(lname); i++)
        lname[i] = (char)tolower((unsigned char)name[i]);
    lname[i] = '\0';
    if (journal_is_secret(lname, &scheme)) {
        journal_mask(value, scheme, masked, sizeof(masked));
        value = masked;
    } else if (strcmp(lname, "x-stainless-retry-count") == 0) {
        hs->e->retry_count = parse_retry_count(value);
    } else if (strcmp(lname, "idempotency-key") == 0 &&
               hs->e->idempotency_key == NULL) {
        if (dup_text(value, &hs->e->idempotency_key, &hs->e->cost) != 0)
            hs->failed = true;
    }
    utf8_scrub(lname);
    clean = utf8_scrub_dup(value, strlen(value), &len);
    if (clean == NULL || buf_append(&hs->out, lname, strlen(lname) + 1) != 0 ||
        buf_append(&hs->out, clean, len + 1) != 0)
        hs->failed = true;
    free(clean);
}

/* Copies the fields of r into e. Returns 0, or -1 on OOM. */
static int entry_fill(struct jentry *e, const struct journal_request *r,
                      size_t body_max)
{
    struct header_sink hs;
    size_t keep = r->body_len < body_max ? r->body_len : body_max;
    char masked[64];
    int err = -1;

    memset(&hs, 0, sizeof(hs));
    hs.e = e;
    buf_init(&hs.out, SIZE_MAX);
    snprintf(e->request_id, sizeof(e->request_id), "%s",
             r->request_id ? r->request_id : "");
    snprintf(e->method, sizeof(e->method), "%s", r->method ? r->method : "");
    utf8_scrub(e->method);
    e->retry_count = -1;
    e->stream = r->stream;
    e->response_status = r->status;
    e->body_bytes = r->body_len;
    e->body_hash = fnv1a(FNV_OFFSET, r->body ? r->body : "", r->body_len);
    if (r->body != NULL && keep > 0) {
        keep = keep < r->body_len ? utf8_trim_partial(r->body, keep) : keep;
        e->body = utf8_scrub_dup(r->body, keep, &e->body_len);
        if (e->body == NULL)
            goto out;
        e->cost += e->body_len + 1;
    }
    e->body_truncated = keep < r->body_len;
    e->has_key = r->has_key;
    e->key_index = r->key_index;
    if (r->has_key && r->key != NULL) {
        journal_mask(r->key, false, masked, sizeof(masked));
        if (dup_text(masked, &e->key_masked, &e->cost) != 0)
            goto out;
    }
    if (dup_text(r->path, &e->path, &e->cost) != 0 ||
        dup_text(r->has_key ? r->plan : NULL, &e->plan, &e->cost) != 0 ||
        dup_text(r->model, &e->model, &e->cost) != 0 ||
        dup_text(r->rule, &e->rule, &e->cost) != 0 ||
        dup_text(r->scenario, &e->scenario, &e->cost) != 0 ||
        dup_text(r->retry_after, &e->retry_after, &e->cost) != 0 ||
        dup_text(r->retry_after_ms, &e->retry_after_ms, &e->cost) != 0)
        goto out;
    if (r->each_header != NULL)
        r->each_header(r->header_ctx, header_add, &hs);
    if (hs.failed)
        goto out;
    e->headers = buf_take(&hs.out, &e->headers_len);
    if (e->headers == NULL)
        goto out;
    e->cost += e->headers_len;
    err = 0;
out:
    buf_cleanup(&hs.out);
    return err;
}

/* The entry in flight for request_id, or NULL; with the lock held. */
static struct jentry **pending_find(struct journal *j, const char *request_id)
{
    struct jentry **pp = &j->pending[bucket_of(request_id)];

    while (*pp != NULL && strcmp((*pp)->request_id, request_id) != 0)
        pp = &(*pp)->hnext;
    return pp;
}

void journal_open(struct journal *j, const struct journal_request *r,
                  uint64_t now_real)
{
    struct jentry *e = NULL, **pp;

    if (j == NULL || r->request_id == NULL)
        return;
    e = calloc(1, sizeof(*e));
    if (e == NULL)
        return;
    e->cost = sizeof(*e);
    if (entry_fill(e, r, j->body_max) != 0)
        goto out;
    if (r->whole_now) {
        e->has_headers = e->has_first_byte = true;
        e->headers_real = e->first_byte_real = now_real;
        e->bytes = r->bytes;
    }
    pthread_mutex_lock(&j->lock);
    pp = pending_find(j, e->request_id);
    if (*pp == NULL) {
        *pp = e;
        e = NULL;
        j->in_flight++;
    }
    pthread_mutex_unlock(&j->lock);
out:
    entry_free(e);
}

void journal_answer(struct journal *j, const char *request_id,
                    const struct journal_timing *t)
{
    struct jentry *e;

    if (j == NULL || request_id == NULL)
        return;
    pthread_mutex_lock(&j->lock);
    e = *pending_find(j, request_id);
    if (e != NULL) {
        e->has_headers = t->has_headers;
        e->headers_real = t->headers_at;
        e->has_first_byte = t->has_first_byte;
        e->first_byte_real = t->first_byte_at;
        e->bytes = t->bytes;
    }
    pthread_mutex_unlock(&j->lock);
}

/* Unlinks e from the ring; with the lock held. */
static void ring_unlink(struct journal *j, struct jentry *e)
{
    if (e->prev != NULL)
        e->prev->next = e->next;
    else
        j->oldest = e->next;
    if (e->next != NULL)
        e->next->prev = e->prev;
    else
        j->newest = e->prev;
    e->prev = e->next = NULL;
    j->entries--;
    j->bytes -= e->cost;
}

/* Appends e to the ring, evicting the oldest entries until it fits; an
 * entry larger than the whole cap is dropped. With the lock held; takes
 * e. */
static void ring_append(struct journal *j, struct jentry *e)
{
    if (e->cost > j->max_bytes) {
        j->dropped++;
        entry_free(e);
        return;
    }
    while (j->oldest != NULL && j->bytes + e->cost > j->max_bytes) {
        struct jentry *old = j->oldest;

        ring_unlink(j, old);
        entry_free(old);
        j->evicted++;
    }
    e->id = ++j->last_id;
    e->prev = j->newest;
    e->next = NULL;
    if (j->newest != NULL)
        j->newest->next = e;
    else
        j->oldest = e;
    j->newest = e;
    j->entries++;
    j->bytes += e->cost;
}

/* A bare entry for a request that was never opened. NULL on OOM. */
static struct jentry *entry_bare(const struct log_entry *e)
{
    struct journal_request r;
    struct jentry *ent = calloc(1, sizeof(*ent));

    if (ent == NULL)
        return NULL;
    memset(&r, 0, sizeof(r));
    r.request_id = e->request_id;
    r.method = e->method;
    r.path = e->path;
    r.stream = -1;
    r.status = e->status;
    ent->cost = sizeof(*ent);
    if (entry_fill(ent, &r, 0) != 0) {
        entry_free(ent);
        return NULL;
    }
    return ent;
}

void journal_close(struct journal *j, const struct log_entry *e,
                   uint64_t now_real, uint64_t now_wall)
{
    struct jentry *ent, **pp;
    uint64_t ms = e->ms > 0 ? (uint64_t)e->ms : 0;

    if (j == NULL || e->request_id == NULL)
        return;
    pthread_mutex_lock(&j->lock);
    pp = pending_find(j, e->request_id);
    ent = *pp;
    if (ent != NULL) {
        *pp = ent->hnext;
        ent->hnext = NULL;
        j->in_flight--;
    }
    pthread_mutex_unlock(&j->lock);
    if (ent == NULL) {
        if (e->path != NULL && strncmp(e->path, "/_nexus/", 8) == 0)
            return;
        ent = entry_bare(e);
        if (ent == NULL)
            return;
    }
    ent->response_status = e->status;
    ent->status = log_status(e);
    ent->outcome = e->outcome;
    ent->streamed = e->streamed;
    ent->events = e->events;
    ent->end_real = now_real;
    ent->arrival_real = now_real >= ms ? now_real - ms : 0;
    ent->arrival_wall = now_wall >= ms ? now_wall - ms : 0;
    pthread_mutex_lock(&j->lock);
    ring_append(j, ent);
    pthread_mutex_unlock(&j->lock);
}

/* Does the entry's status fall under the filter's (exact or class)? */
static bool status_matches(int want, int status)
{
    if (want == 0)
        return true;
    if (want < 10)
        return status / 100 == want;
    return status == want;
}

/* Is s equal to want (NULL want: anything)? A want ending in '*' is a
 * prefix. */
static bool text_matches(const char *want, const char *s)
{
    size_t n;

    if (want == NULL)
        return true;
    if (s == NULL)
        return false;
    n = strlen(want);
    if (n > 0 && want[n - 1] == '*')
        return strncmp(s, want, n - 1) == 0;
    return strcmp(s, want) == 0;
}

/* Does e pass every condition of f? */
static bool entry_matches(const struct jentry *e,
                          const struct journal_filter *f)
{
    return text_matches(f->method, e->method) &&
           text_matches(f->path, e->path) && text_matches(f->model, e->model) &&
           text_matches(f->rule, e->rule) &&
           text_matches(f->scenario, e->scenario) &&
           text_matches(f->request_id, e->request_id) &&
           (!f->by_key || (e->has_key && e->key_index == f->key_index)) &&
           status_matches(f->status, e->status) && e->id > f->after_id &&
           (!f->by_time || e->arrival_wall >= f->since_unix_ms);
}

/* json_string of s, or null for NULL. */
static json_t *string_or_null(const char *s)
{
    return s != NULL ? json_string(s) : json_null();
}

/* The ms from a to b, as JSON, or null when b is not known. */
static json_t *span_or_null(bool known, uint64_t a, uint64_t b)
{
    return known ? json_integer((json_int_t)(b >= a ? b - a : 0)) : json_null();
}

/* The headers of e as an object; a repeated name's values joined by ", ".
 * NULL on OOM. */
static json_t *headers_json(const struct jentry *e)
{
    json_t *o = json_object();
    size_t off = 0;

    while (o != NULL && off < e->headers_len) {
        const char *name = e->headers + off;
        const char *value = name + strlen(name) + 1;
        const char *had = json_string_value(json_object_get(o, name));
        int rc;

        off = (size_t)(value - e->headers) + strlen(value) + 1;
        if (had != NULL) {
            struct buf both;

            buf_init(&both, SIZE_MAX);
            rc = buf_appendf(&both, "%s, %s", had, value) != 0 ||
                         json_object_set_new(o, name,
                                             json_string(buf_str(&both))) != 0
                     ? -1
                     : 0;
            buf_cleanup(&both);
        } else {
            rc = json_object_set_new(o, name, json_string(value));
        }
        if (rc != 0) {
            json_decref(o);
            o = NULL;
        }
    }
    return o;
}

/* The JSON object of one entry; NULL on OOM. */
static json_t *entry_json(const struct journal *j, const struct jentry *e,
                          bool brief)
{
    json_t *o = json_object(), *timing = json_object();
    char when[40], hash[20];
    int rc = 0;

    journal_format_time(e->arrival_wall, when, sizeof(when));
    snprintf(hash, sizeof(hash), "%016" PRIx64, e->body_hash);
    if (o == NULL || timing == NULL)
        goto fail;
    rc |= json_object_set_new(o, "id", json_integer((json_int_t)e->id));
    rc |= json_object_set_new(o, "request_id", json_string(e->request_id));
    rc |= json_object_set_new(o, "time", json_string(when));
    rc |= json_object_set_new(o, "time_unix_ms",
                              json_integer((json_int_t)e->arrival_wall));
    rc |= json_object_set_new(
        o, "t_ms",
        json_integer((json_int_t)(e->arrival_real >= j->start_real
                                      ? e->arrival_real - j->start_real
                                      : 0)));
    rc |= json_object_set_new(o, "method", json_string(e->method));
    rc |= json_object_set_new(o, "path", string_or_null(e->path));
    if (!brief) {
        rc |= json_object_set_new(o, "headers", headers_json(e));
        rc |= json_object_set_new(o, "body",
                                  e->body ? json_stringn(e->body, e->body_len)
                                          : json_string(""));
    }
    rc |= json_object_set_new(o, "body_bytes",
                              json_integer((json_int_t)e->body_bytes));
    rc |= json_object_set_new(o, "body_truncated",
                              json_boolean(e->body_truncated));
    rc |= json_object_set_new(o, "body_hash", json_string(hash));
    rc |= json_object_set_new(o, "key", string_or_null(e->key_masked));
    rc |= json_object_set_new(
        o, "key_index",
        e->has_key ? json_integer((json_int_t)e->key_index) : json_null());
    rc |= json_object_set_new(o, "plan", string_or_null(e->plan));
    rc |= json_object_set_new(o, "model", string_or_null(e->model));
    rc |= json_object_set_new(
        o, "stream", e->stream < 0 ? json_null() : json_boolean(e->stream > 0));
    rc |= json_object_set_new(o, "rule", string_or_null(e->rule));
    rc |= json_object_set_new(o, "scenario", string_or_null(e->scenario));
    rc |= json_object_set_new(o, "retry_count",
                              e->retry_count >= 0
                                  ? json_integer((json_int_t)e->retry_count)
                                  : json_null());
    rc |= json_object_set_new(o, "idempotency_key",
                              string_or_null(e->idempotency_key));
    rc |= json_object_set_new(o, "status", json_integer(e->status));
    rc |= json_object_set_new(o, "response_status",
                              e->response_status > 0
                                  ? json_integer(e->response_status)
                                  : json_null());
    rc |= json_object_set_new(o, "outcome",
                              json_string(log_outcome_name(e->outcome)));
    rc |= json_object_set_new(o, "retry_after", string_or_null(e->retry_after));
    rc |= json_object_set_new(o, "retry_after_ms",
                              string_or_null(e->retry_after_ms));
    rc |= json_object_set_new(o, "bytes", json_integer((json_int_t)e->bytes));
    rc |= json_object_set_new(o, "events",
                              e->streamed ? json_integer((json_int_t)e->events)
                                          : json_null());
    rc |= json_object_set_new(
        timing, "headers_ms",
        span_or_null(e->has_headers, e->arrival_real, e->headers_real));
    rc |= json_object_set_new(
        timing, "first_byte_ms",
        span_or_null(e->has_first_byte, e->arrival_real, e->first_byte_real));
    rc |= json_object_set_new(timing, "total_ms",
                              span_or_null(true, e->arrival_real, e->end_real));
    rc |= json_object_set_new(o, "timing", timing);
    timing = NULL;
    if (rc != 0)
        goto fail;
    return o;
fail:
    json_decref(timing);
    json_decref(o);
    return NULL;
}

json_t *journal_query(struct journal *j, const struct journal_filter *f,
                      size_t *matched)
{
    json_t *out = json_array(), *item;
    const struct jentry *e, *first = NULL;
    size_t n = 0, taken = 0;

    *matched = 0;
    if (out == NULL)
        return NULL;
    pthread_mutex_lock(&j->lock);
    /* Back from the newest to find the oldest of the newest `limit`, then
     * forward from there, so the answer reads oldest first. */
    for (e = j->newest; e != NULL; e = e->prev)
        if (entry_matches(e, f)) {
            n++;
            if (n <= f->limit)
                first = e;
        }
    for (e = first; e != NULL && taken < f->limit; e = e->next) {
        if (!entry_matches(e, f))
            continue;
        item = entry_json(j, e, f->brief);
        if (item == NULL || json_array_append_new(out, item) != 0) {
            json_decref(out);
            out = NULL;
            break;
        }
        taken++;
    }
    pthread_mutex_unlock(&j->lock);
    *matched = n;
    return out;
}

size_t journal_clear(struct journal *j, size_t key)
{
    struct jentry *e, *next;
    size_t n = 0;

    pthread_mutex_lock(&j->lock);
    for (e = j->oldest; e != NULL; e = next) {
        next = e->next;
        if (key != JOURNAL_ALL_KEYS && (!e->has_key || e->key_index != key))
            continue;
        ring_unlink(j, e);
        entry_free(e);
        n++;
    }
    pthread_mutex_unlock(&j->lock);
    return n;
}

void journal_get_stats(struct journal *j, struct journal_stats *out)
{
    pthread_mutex_lock(&j->lock);
    *out = (struct journal_stats){.entries = j->entries,
                                  .bytes = j->bytes,
                                  .max_bytes = j->max_bytes,
                                  .body_max = j->body_max,
                                  .in_flight = j->in_flight,
                                  .evicted = j->evicted,
                                  .dropped = j->dropped,
                                  .last_id = j->last_id};
    pthread_mutex_unlock(&j->lock);
}

void journal_format_time(uint64_t unix_ms, char *out, size_t outlen)
{
    time_t t = (time_t)(unix_ms / 1000);
    struct tm tm;
    char base[32];

    gmtime_r(&t, &tm);
    strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, outlen, "%s.%03uZ", base, (unsigned)(unix_ms % 1000));
}

/* Reads exactly n digits at *s into *v, advancing *s. Returns 0 or -1. */
static int digits(const char **s, int n, int *v)
{
    int i;

    *v = 0;
    for (i = 0; i < n; i++) {
        if ((*s)[i] < '0' || (*s)[i] > '9')
            return -1;
        *v = *v * 10 + ((*s)[i] - '0');
    }
    *s += n;
    return 0;
}

int journal_parse_time(const char *s, uint64_t *out)
{
    struct tm tm;
    int y, mo, d, h, mi, sec, ms = 0;
    time_t t;

    if (digits(&s, 4, &y) != 0 || *s++ != '-' || digits(&s, 2, &mo) != 0 ||
        *s++ != '-' || digits(&s, 2, &d) != 0 || *s++ != 'T' ||
        digits(&s, 2, &h) != 0 || *s++ != ':' || digits(&s, 2, &mi) != 0 ||
        *s++ != ':' || digits(&s, 2, &sec) != 0)
        return -1;
    if (*s == '.' && (s++, digits(&s, 3, &ms) != 0))
        return -1;
    if (strcmp(s, "Z") != 0 || y < 1970 || mo < 1 || mo > 12 || d < 1 ||
        d > 31 || h > 23 || mi > 59 || sec > 60)
        return -1;
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    t = timegm(&tm);
    if (t < 0)
        return -1;
    *out = (uint64_t)t * 1000u + (uint64_t)ms;
    return 0;
}
