/* router: the request and response descriptions handlers work on, the route
 * table, the checks every request passes before its handler (body size,
 * method and path, authentication) and after it (rate-limit headers), and
 * the rate-limit admission handlers call. */
#ifndef NEXUS_ROUTER_H
#define NEXUS_ROUTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "app.h"
#include "errors.h"
#include "source.h"

struct fx_key;
struct rl_hold;
struct rule_hit;
struct rules;
struct rl_limits;

/* Room for the rate-limit and retry headers and a rule's own (at most 8). */
#define RESPONSE_MAX_HEADERS 32

/* A parsed request; all pointers are borrowed from the server. */
struct request {
    const char *method;
    const char *path; /* without the query string */
    /* Returns the value of query argument name, decoded, or NULL (absent,
     * or no server: tests); and calls fn for each request header. Both
     * read the connection header_ctx below; NULL when there is none. */
    const char *(*query)(const void *ctx, const char *name);
    void (*each_header)(const void *ctx,
                        void (*fn)(void *arg, const char *name,
                                   const char *value),
                        void *arg);
    const char *authorization; /* header value or NULL */
    const char *body;
    size_t body_len;
    bool body_too_large;
    const char *request_id;
    /* Returns the value of request header name (any case) or NULL; NULL
     * when the server gives no headers but authorization. */
    const char *(*header)(const void *ctx, const char *name);
    const void *header_ctx;
    /* Set by the router once the key is known. */
    const struct fx_key *key;
    size_t key_index;
    /* Set by the router: whether this method and path count against rate
     * limits (the fixture's rate_limits.routes), and the rule that answers
     * a chat request with a scripted completion (NULL: generate one). */
    bool rate_counted;
    const struct rule_hit *hit;
    /* What answered, for the journal: the name of the fixture rule and of
     * its scenario, set by the rules engine; NULL: the route's own answer
     * (the journal says "generated" for a chat completion, else the
     * route's name). Borrowed until the request has been dispatched. */
    const char *rule;
    const char *scenario;
    /* The body read as JSON, by the router for rule conditions or by the
     * chat handler, or NULL (not read, or not JSON). Owned by the router
     * until the request has been dispatched; whoever reads the body next
     * takes a reference (json_incref) rather than read it again. The chat
     * handler may have removed the parameters its fixture accepts. */
    json_t *json;
};

/* The longest header name and value a response keeps, terminators
 * included; longer ones are cut (response_header). */
#define RESPONSE_HEADER_NAME_MAX 64
#define RESPONSE_HEADER_VALUE_MAX 256

/* What a handler answers. The server owns turning it into bytes. */
struct response {
    int status;
    json_t *body;      /* owned; NULL for no body */
    size_t json_flags; /* extra json_dumps flags for body */
    /* A JSON body already rendered (jsonw.h: exact decimal money, which
     * jansson cannot print), sent instead of body. Owned; NULL: none. */
    char *json_text;
    size_t json_text_len;
    /* The answer's own headers as "name\0value\0" pairs, in the order
     * added: a few hundred bytes, where a fixed array of the most headers
     * cost 10 KB to clear per request and to copy per stream (profile of
     * 2,000 paced streams: a third of the mock's page faults). Owned; read
     * through response_header_get and response_each_header. */
    struct buf headers;
    size_t nheaders;
    /* The names of headers a scripted answer leaves out ("name\0" each):
     * the server does not add its own of those names. Owned. */
    struct buf omitted;
    bool ratelimited; /* x-ratelimit-* headers already added */
    /* An answer produced over time instead of body (source.h). Owned:
     * response_cleanup ends a source the server never took. */
    struct source source;     /* .ops NULL: none */
    const char *content_type; /* static; the media type of its bytes */
    enum source_framing framing;
};

typedef void (*route_fn)(struct app *app, struct request *req,
                         struct response *resp);

struct route {
    const char *name; /* what the journal calls the route ("models.list") */
    const char *method;
    const char *path;
    bool prefix; /* path is a prefix followed by one more segment */
    bool auth;   /* needs a valid API key */
    bool admin;  /* only with --admin (and its token, when one is set) */
    route_fn handler;
};

/* Prepares an empty 200 response. */
void response_init(struct response *r);
/* Releases what r owns. */
void response_cleanup(struct response *r);
/* Adds a header (name copied, value printf-style, each cut to fit);
 * silently drops it when the table is full, which only a programming error
 * can cause, or when memory runs out. */
void response_header(struct response *r, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Keeps the header name out of the answer: the server's own header of
 * that name (x-request-id, Cache-Control, ...) is not sent either. */
void response_header_omit(struct response *r, const char *name);
/* True when r sets or omits the header name (any case). */
bool response_names_header(const struct response *r, const char *name);
/* The value of r's first header called name (any case), or NULL. Borrowed:
 * valid until r changes. */
const char *response_header_get(const struct response *r, const char *name);
/* Calls fn for each of r's headers, in the order they were added. */
void response_each_header(const struct response *r,
                          void (*fn)(void *arg, const char *name,
                                     const char *value),
                          void *arg);
/* Sets status and body from e, replacing any body. */
void response_error(struct response *r, const struct api_error *e);
/* Sets a 200 (or other status) JSON body, stolen. */
void response_json(struct response *r, int status, json_t *body);
/* Sets a JSON body already rendered as len bytes of text (stolen, freed
 * with free()), replacing any body. */
void response_json_text(struct response *r, int status, char *text, size_t len);

/* The decoded value of query argument name of req, or NULL. Borrowed
 * from the server for the request's dispatch. */
const char *request_query(const struct request *req, const char *name);
/* The value of request header name (any case) of req, or NULL. Borrowed
 * likewise. */
const char *request_header(const struct request *req, const char *name);

/* Runs req through the checks and the matching handler into resp, then
 * hands both to the journal (capture.h) when there is one. */
void router_dispatch(struct app *app, struct request *req,
                     struct response *resp);
/* Counts req against its key's rate limits with `tokens` tokens and adds the
 * x-ratelimit-* headers. Returns 0, or -1 with resp set to the 429. A
 * request whose route does not count (req->rate_counted false) is admitted
 * without counting; the router adds its headers after the handler. */
int router_admit(struct app *app, struct request *req, uint64_t tokens,
                 struct response *resp);
/* Admits req before its work is done, reserving `tokens` (the most it can
 * use) in *hold. Returns 0, or -1 with resp set to the 429 and its
 * headers. An admitted request's headers come with router_settle (or, if
 * the handler never settles, after it: see router_dispatch). */
int router_reserve(struct app *app, struct request *req, uint64_t tokens,
                   struct rl_hold *hold, struct response *resp);
/* Counts the tokens req used in place of its reservation (a no-op for an
 * empty hold) and adds the x-ratelimit-* headers as they stood when it was
 * admitted, with the exact tokens. Empties *hold. */
void router_settle(struct app *app, struct request *req, struct rl_hold *hold,
                   uint64_t tokens, struct response *resp);
/* The rate limits of the plan of key key_index (< app->fx->nkeys). */
struct rl_limits router_key_limits(const struct app *app, size_t key_index);
/* Returns a new reference to the rule set requests are answered from now
 * (app->rules, or the fixture's), or NULL when the app has no fixture.
 * Drop it with rules_unref. */
struct rules *router_rules(const struct app *app);
/* Formats a duration as OpenAI's headers do: "0s", "20ms", "1.5s", "1m0s". */
void router_format_duration(uint64_t ms, char *out, size_t outlen);

#endif
