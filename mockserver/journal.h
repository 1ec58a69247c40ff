/* journal: the requests the mock answered, newest last, for the control
 * API (GET /_nexus/requests, GET /_nexus/clients). A ring capped in bytes:
 * the oldest entries go when a new one would pass the cap, so it never
 * grows without bound. Each entry is opened when its request has been
 * routed (journal_open) and recorded when its answer has ended
 * (journal_close, next to the request's log line, so the two agree);
 * between the two it is "in flight", outside the ring. Locked inside;
 * every time comes in as an argument. */
#ifndef NEXUS_JOURNAL_H
#define NEXUS_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "log.h"

/* --journal-max-bytes and --journal-body-max when not given. */
#define JOURNAL_DEFAULT_MAX_BYTES (16u * 1024u * 1024u)
#define JOURNAL_DEFAULT_BODY_MAX 8192u

/* "Every key" for journal_clear. */
#define JOURNAL_ALL_KEYS ((size_t)-1)

struct journal;

/* Calls fn(arg, name, value) for each header of a request. */
typedef void (*journal_header_fn)(void *arg, const char *name,
                                  const char *value);
typedef void (*journal_headers_fn)(const void *ctx, journal_header_fn fn,
                                   void *arg);

/* What is known of a request once it has been routed. A plain data
 * carrier; every pointer is borrowed for the call (the journal copies what
 * it keeps). */
struct journal_request {
    const char *request_id;
    const char *method;
    const char *path;
    const char *body; /* as received, all of it: the journal keeps at most
                         its body cap, and hashes the whole */
    size_t body_len;
    journal_headers_fn each_header; /* NULL: no headers known */
    const void *header_ctx;
    bool has_key;            /* the Authorization names a fixture key */
    size_t key_index;        /* then: which one */
    const char *key;         /* then: the key itself (shown masked) */
    const char *plan;        /* then: its plan's name */
    const char *model;       /* the body's "model", or NULL */
    int stream;              /* the body's "stream": 1, 0, or -1 when absent */
    const char *rule;        /* what answered: a rule's name, "generated", a
                                route's name; NULL: nothing (no route) */
    const char *scenario;    /* the rule's scenario, or NULL */
    int status;              /* the status the handler answered */
    const char *retry_after; /* the answer's Retry-After, or NULL */
    const char *retry_after_ms; /* its retry-after-ms, or NULL */
    /* A JSON answer goes out whole when routed: its status, headers and
     * first byte leave then. Otherwise a source sends it over time and
     * journal_answer tells when. */
    bool whole_now;
    uint64_t bytes; /* whole_now: the body's bytes */
};

/* What a source-sent answer did, in real (monotonic) ms. Plain data. */
struct journal_timing {
    bool has_headers;
    uint64_t headers_at; /* the status and headers went to the socket */
    bool has_first_byte;
    uint64_t first_byte_at; /* the first byte of the body (or of raw bytes) */
    uint64_t bytes;         /* bytes of body (or raw bytes) the socket took */
};

/* Which entries a query wants. A plain data carrier: zero it, then set what
 * narrows; strings are borrowed for the call. */
struct journal_filter {
    const char *method;     /* exact */
    const char *path;       /* exact, or a prefix when it ends in '*' */
    const char *model;      /* exact */
    const char *rule;       /* exact */
    const char *scenario;   /* exact */
    const char *request_id; /* exact */
    bool by_key;            /* only this key's entries */
    size_t key_index;
    int status;        /* 100..599: that status; 1..5: that class (4 for 4xx) */
    uint64_t after_id; /* only entries with a larger id */
    bool by_time;
    uint64_t since_unix_ms; /* only entries that arrived at or after it */
    size_t limit;           /* at most this many, the newest; 0: none */
    bool brief;             /* leave out headers and body */
};

/* The journal's own figures. Plain data. */
struct journal_stats {
    size_t entries;
    size_t bytes;     /* what the entries account for against max_bytes */
    size_t max_bytes; /* the cap */
    size_t body_max;  /* bytes of a body kept */
    size_t in_flight; /* opened, not yet recorded */
    uint64_t evicted; /* entries dropped, oldest first, to stay under cap */
    uint64_t dropped; /* entries larger than the whole cap, never kept */
    uint64_t last_id; /* the id of the newest entry ever recorded; 0: none */
};

/* Returns an empty journal that keeps at most max_bytes of entries and
 * body_max bytes of each body, with now_real (monotonic ms) as its start,
 * or NULL on OOM. */
struct journal *journal_new(size_t max_bytes, size_t body_max,
                            uint64_t now_real);
/* Frees j and every entry, in flight or not; NULL is a no-op. */
void journal_free(struct journal *j);
/* Opens the entry of a request that has been routed, at now_real. A
 * request opened twice keeps its first entry. Does nothing on OOM (the
 * request then goes unrecorded, or recorded bare). Thread-safe. */
void journal_open(struct journal *j, const struct journal_request *r,
                  uint64_t now_real);
/* Tells the open entry of request_id how its answer went out over time.
 * Does nothing for a request not open. Thread-safe. */
void journal_answer(struct journal *j, const char *request_id,
                    const struct journal_timing *t);
/* Records the request whose log line e is, as it ended at now_real
 * (monotonic ms) and now_wall (unix ms, the mock's clock): its status,
 * outcome and duration are the log line's. A request that was never
 * opened (a preflight) gets an entry with what e tells; one under
 * /_nexus/ gets none. Thread-safe. */
void journal_close(struct journal *j, const struct log_entry *e,
                   uint64_t now_real, uint64_t now_wall);
/* Returns a new reference to the JSON array of the entries f selects,
 * oldest first (the newest f->limit of them), or NULL on OOM. Sets
 * *matched to how many matched in all. Thread-safe. */
json_t *journal_query(struct journal *j, const struct journal_filter *f,
                      size_t *matched);
/* Removes the recorded entries of key (JOURNAL_ALL_KEYS: all of them);
 * entries in flight stay. Returns how many went. Thread-safe. */
size_t journal_clear(struct journal *j, size_t key);
/* Fills *out. Thread-safe. */
void journal_get_stats(struct journal *j, struct journal_stats *out);

/* Writes into out (NUL-terminated, cut to fit) the value of a header
 * that carries a secret as the journal shows it: a scheme word ("Bearer")
 * kept, then the first 6 and last 4 characters of the secret around
 * "..." (first 2 and last 2 when it has 8 to 15; "***" when shorter). */
void journal_mask(const char *value, bool has_scheme, char *out, size_t outlen);
/* True for the names of headers journal_mask hides (any case):
 * Authorization, Proxy-Authorization, api-key, x-api-key, Cookie,
 * X-Nexus-Admin-Token. Sets *has_scheme for those whose value starts with
 * a scheme word. */
bool journal_is_secret(const char *name, bool *has_scheme);
/* Formats unix ms as ISO-8601 UTC with milliseconds
 * ("2025-06-01T12:00:00.123Z") into out. */
void journal_format_time(uint64_t unix_ms, char *out, size_t outlen);
/* Parses that form (milliseconds optional, "Z" required) into unix ms.
 * Returns 0 or -1. */
int journal_parse_time(const char *s, uint64_t *out);

#endif
