/* script: canned answers, chosen by method, path, Authorization and body,
 * read from a JSON script; played by the fake transport (no socket) for
 * the engine's unit tests. (Servers over loopback are nexus-mock
 * fixtures: fixtures/faults/servers/.) */
#include "script.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "buf.h"
#include "match.h"

/* Enough for any script a test writes; a bigger one is a mistake. */
#define MAX_BODY ((size_t)16 << 20)

/* The answers of one route; what it matches is rule i of the table. */
struct route {
    struct script_reply *replies;
    size_t n_replies;
};

struct script {
    struct route *routes;
    size_t n_routes;
    struct match_table *table; /* rule i: when routes[i] answers */
    struct script_reply not_found;
    char *raw;
    size_t raw_len;
};

/* What every reply of a script is read with. */
struct reading {
    const json_t *defaults; /* the headers every reply gets */
    /* Script "now": these digits in a body become the Unix time at load,
     * so recorded answers carry a created near the runner's clock. The two
     * have the same length, so offsets in the bodies hold. */
    const char *now_from;
    char now_to[32];
};

/* Replaces every now_from in b with now_to (same length: in place). */
static void now_apply(const struct reading *rd, struct buf *b)
{
    size_t n = rd->now_from != NULL ? strlen(rd->now_from) : 0, i;

    if (n == 0 || strlen(rd->now_to) != n || b->len < n)
        return;
    for (i = 0; i + n <= b->len; i++)
        if (memcmp(b->data + i, rd->now_from, n) == 0)
            memcpy(b->data + i, rd->now_to, n);
}

/* Copies a JSON string member, or returns NULL when absent. */
static char *member_str(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));

    return s != NULL ? strdup(s) : NULL;
}

/* Reads hex digits into bytes. Returns 0 or -1. */
static int unhex(const char *hex, struct buf *out)
{
    int ret;
    unsigned v;
    size_t i;
    char byte;

    if (strlen(hex) % 2 != 0) {
        ret = -1;
        goto out;
    }
    for (i = 0; hex[i] != '\0'; i += 2) {
        if (sscanf(hex + i, "%2x", &v) != 1) {
            ret = -1;
            goto out;
        }
        byte = (char)v;
        if (buf_append(out, &byte, 1) != 0) {
            ret = -1;
            goto out;
        }
    }
    ret = 0;
out:
    return ret;
}

/* Adds a condition on field for each string of the JSON list arr (NULL:
 * none). Returns 0, or -1 when arr is not a list of strings (or on OOM). */
static int add_each(struct match_rule *r, enum match_field field,
                    enum match_op op, const json_t *arr)
{
    int err = -1;
    size_t i;
    json_t *v;

    if (arr != NULL && !json_is_array(arr))
        goto out;
    json_array_foreach(arr, i, v)
    {
        if (!json_is_string(v) ||
            match_rule_add(r, field, op, json_string_value(v)) != 0)
            goto out;
    }
    err = 0;
out:
    return err;
}

/* Compiles what a route matches: method and path, the Authorization value
 * (auth: "-" for none), substrings the body has and lacks. Returns a new
 * rule, or NULL with *cause set. */
static struct match_rule *read_rule(const json_t *o, char **cause)
{
    struct match_rule *r = match_rule_new(), *ret = NULL;
    const char *method = json_string_value(json_object_get(o, "method"));
    const char *path = json_string_value(json_object_get(o, "path"));
    const char *auth = json_string_value(json_object_get(o, "auth"));

    if (r == NULL)
        goto out;
    if (method == NULL || path == NULL) {
        *cause = strdup("a route needs method and path");
        goto out;
    }
    if (match_rule_add(r, MATCH_METHOD, MATCH_EQUALS, method) != 0 ||
        match_rule_add(r, MATCH_PATH, MATCH_EQUALS, path) != 0 ||
        (auth != NULL && strcmp(auth, "-") == 0 &&
         match_rule_add(r, MATCH_AUTHORIZATION, MATCH_ABSENT, NULL) != 0) ||
        (auth != NULL && strcmp(auth, "-") != 0 &&
         match_rule_add(r, MATCH_AUTHORIZATION, MATCH_EQUALS, auth) != 0))
        goto out;
    if (add_each(r, MATCH_BODY, MATCH_CONTAINS,
                 json_object_get(o, "body_has")) != 0 ||
        add_each(r, MATCH_BODY, MATCH_LACKS,
                 json_object_get(o, "body_lacks")) != 0) {
        *cause = strdup("body_has and body_lacks are lists of strings");
        goto out;
    }
    ret = r;
    r = NULL;
out:
    match_rule_free(r);
    return ret;
}

/* Adds a header unless one of that name (any case) is already there. */
static void add_header(struct script_reply *r, const char *name,
                       const char *value)
{
    struct script_header *grown;
    size_t i;

    /* The reply's own headers come first and win over the defaults. */
    for (i = 0; i < r->n_headers; i++)
        if (strcasecmp(r->headers[i].name, name) == 0)
            goto out;
    grown = realloc(r->headers, (r->n_headers + 1) * sizeof(*grown));
    if (grown == NULL)
        goto out;
    r->headers = grown;
    r->headers[r->n_headers].name = strdup(name);
    /* A null value keeps a default header out of this reply. */
    r->headers[r->n_headers].value = value != NULL ? strdup(value) : NULL;
    r->n_headers++;
out:
    return;
}

/* Reads one reply. */
static int read_reply(const json_t *o, const struct reading *rd,
                      struct script_reply *r, char **cause)
{
    const char *k;
    json_t *v, *body;
    struct buf b;
    bool ok = true;
    int err = -1;

    buf_init(&b, MAX_BODY);
    memset(r, 0, sizeof(*r));
    r->status = (int)json_integer_value(json_object_get(o, "status"));
    if (r->status == 0)
        r->status = 200;
    json_object_foreach((json_t *)json_object_get(o, "headers"), k, v)
        add_header(r, k, json_string_value(v));
    json_object_foreach((json_t *)rd->defaults, k, v) add_header(
        r, k, json_string_value(v) != NULL ? json_string_value(v) : "");
    body = json_object_get(o, "json");
    if (body != NULL) {
        char *text = json_dumps(body, JSON_COMPACT | JSON_ENCODE_ANY);
        ok = text != NULL && buf_appends(&b, text) == 0;
        free(text);
        add_header(r, "Content-Type", "application/json");
    } else if (json_is_string(json_object_get(o, "body"))) {
        ok = buf_append(&b, json_string_value(json_object_get(o, "body")),
                        json_string_length(json_object_get(o, "body"))) == 0;
    } else if (json_is_string(json_object_get(o, "body_hex")) &&
               unhex(json_string_value(json_object_get(o, "body_hex")), &b) !=
                   0) {
        *cause = strdup("bad body_hex");
        goto out;
    }
    if (!ok) {
        *cause = strdup("a body is larger than 16 MiB");
        goto out;
    }
    now_apply(rd, &b);
    r->body_len = b.len;
    r->body = buf_take(&b, NULL);
    r->stall = json_is_true(json_object_get(o, "stall"));
    r->unreachable = json_is_true(json_object_get(o, "unreachable"));
    r->stall = r->stall || r->unreachable;
    r->hold_open = json_is_true(json_object_get(o, "hold_open"));
    if (json_is_string(json_object_get(o, "endless"))) {
        r->endless = member_str(o, "endless");
        r->endless_len = strlen(r->endless);
    }
    r->chunk = (size_t)json_integer_value(json_object_get(o, "chunk"));
    r->delay_ms = (unsigned)json_integer_value(json_object_get(o, "delay_ms"));
    r->wait_ms = (unsigned)json_integer_value(json_object_get(o, "wait_ms"));
    err = 0;
out:
    buf_cleanup(&b);
    return err;
}

/* Frees what a reply holds. */
static void reply_cleanup(struct script_reply *r)
{
    size_t i;

    for (i = 0; i < r->n_headers; i++) {
        free(r->headers[i].name);
        free(r->headers[i].value);
    }
    free(r->headers);
    free(r->body);
    free(r->endless);
}

/* Reads one route: its rule goes into the table t, its replies into rt. */
static int read_route(const json_t *o, const struct reading *rd,
                      struct match_table *t, struct route *rt, char **cause)
{
    int ret = -1;
    const json_t *replies = json_object_get(o, "responses"), *one;
    size_t i;

    memset(rt, 0, sizeof(*rt));
    if (match_table_add(t, read_rule(o, cause)) != 0) {
        ret = -1;
        goto out;
    }
    if (replies == NULL && json_object_get(o, "response") != NULL) {
        rt->replies = calloc(1, sizeof(*rt->replies));
        if (rt->replies == NULL) {
            ret = -1;
            goto out;
        }
        rt->n_replies = 1;
        ret = read_reply(json_object_get(o, "response"), rd, &rt->replies[0],
                         cause);
        goto out;
    }
    if (!json_is_array(replies) || json_array_size(replies) == 0) {
        *cause = strdup("a route needs response or responses");
        ret = -1;
        goto out;
    }
    rt->replies = calloc(json_array_size(replies), sizeof(*rt->replies));
    if (rt->replies == NULL) {
        ret = -1;
        goto out;
    }
    json_array_foreach(replies, i, one)
    {
        rt->n_replies++;
        if (read_reply(one, rd, &rt->replies[i], cause) != 0) {
            ret = -1;
            goto out;
        }
    }
    ret = 0;
out:
    return ret;
}

/* Builds a script from JSON (borrowed). */
struct script *script_from_json(const json_t *root, char **cause)
{
    struct script *s = calloc(1, sizeof(*s));
    const json_t *routes = json_object_get(root, "routes"), *r;
    struct reading rd;
    json_t *nf;
    struct buf raw;
    size_t i;
    bool ok = false;

    *cause = NULL;
    buf_init(&raw, MAX_BODY);
    if (s == NULL)
        goto out;
    s->table = match_table_new();
    if (s->table == NULL)
        goto out;
    rd.defaults = json_object_get(json_object_get(root, "defaults"), "headers");
    rd.now_from = json_string_value(json_object_get(root, "now"));
    snprintf(rd.now_to, sizeof(rd.now_to), "%lld", (long long)time(NULL));
    if (json_is_string(json_object_get(root, "raw_hex"))) {
        if (unhex(json_string_value(json_object_get(root, "raw_hex")), &raw) !=
            0) {
            *cause = strdup("bad raw_hex");
            goto out;
        }
        s->raw_len = raw.len;
        s->raw = buf_take(&raw, NULL);
    }
    nf = json_pack("{s:i, s:{s:{s:s, s:s, s:n, s:n}}}", "status", 404, "json",
                   "error", "message", "no scripted route", "type",
                   "invalid_request_error", "param", "code");
    read_reply(nf, &rd, &s->not_found, cause);
    json_decref(nf);
    if (routes != NULL && !json_is_array(routes)) {
        *cause = strdup("routes must be a list");
        goto out;
    }
    s->routes = calloc(json_array_size(routes) + 1, sizeof(*s->routes));
    if (s->routes == NULL)
        goto out;
    json_array_foreach(routes, i, r)
    {
        s->n_routes++;
        if (read_route(r, &rd, s->table, &s->routes[i], cause) != 0)
            goto out;
    }
    ok = true;
out:
    buf_cleanup(&raw);
    if (!ok) {
        if (*cause == NULL)
            *cause = strdup("out of memory");
        script_free(s);
        s = NULL;
    }
    return s;
}

/* Reads a script (the format: tests/scripts/good.json and the fields of
 * struct script_reply).
 */
struct script *script_load(const char *path, char **cause)
{
    struct script *ret;
    json_error_t e;
    json_t *root = json_load_file(path, 0, &e);
    struct script *s = NULL;
    struct buf why;

    *cause = NULL;
    if (root == NULL) {
        buf_init(&why, 1024);
        if (buf_appendf_cut(&why, 1000, "%s:%d:%d: %s", path, e.line, e.column,
                            e.text) == 0)
            *cause = buf_take(&why, NULL);
        buf_cleanup(&why);
        ret = NULL;
        goto out;
    }
    s = script_from_json(root, cause);
    json_decref(root);
    ret = s;
out:
    return ret;
}

/* Frees s; NULL is a no-op. */
void script_free(struct script *s)
{
    size_t i, k;

    if (s == NULL)
        return;
    for (i = 0; i < s->n_routes; i++) {
        struct route *rt = &s->routes[i];
        for (k = 0; k < rt->n_replies; k++)
            reply_cleanup(&rt->replies[k]);
        free(rt->replies);
    }
    free(s->routes);
    reply_cleanup(&s->not_found);
    free(s->raw);
    match_table_free(s->table);
    free(s);
}

/* Returns the reply of the first route that matches, advancing that route's
 * turn, or the built-in 404 when none does. */
const struct script_reply *script_match(struct script *s, const char *method,
                                        const char *path,
                                        const char *authorization,
                                        const char *body, size_t body_len)
{
    const struct script_reply *r = &s->not_found;
    const struct match_view v = {.method = method,
                                 .path = path,
                                 .authorization = authorization,
                                 .body = body,
                                 .body_len = body_len};
    const struct route *rt;
    unsigned long turn = 0;
    long i = match_table_find(s->table, &v, &turn);

    if (i >= 0) {
        /* Past its last reply, a route repeats that one. */
        rt = &s->routes[i];
        r = &rt->replies[turn < rt->n_replies ? turn : rt->n_replies - 1];
    }
    return r;
}

/* When the script says to answer every connection with raw bytes that are
 * not HTTP, returns them (and their length); otherwise NULL. */
const char *script_raw(const struct script *s, size_t *len)
{
    *len = s->raw_len;
    return s->raw;
}

/* How many requests matched no route. */
unsigned script_unmatched(const struct script *s)
{
    return (unsigned)match_table_unmatched(s->table);
}
