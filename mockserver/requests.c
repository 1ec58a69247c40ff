/* requests: GET and DELETE /_nexus/requests, the journal (journal.h) as the
 * control API shows and clears it. */
#include <stdio.h>
#include <string.h>

#include "admin.h"
#include "journal.h"
#include "options.h"
#include "router.h"
#include "routes.h"

/* How many entries a listing returns when it does not say, and at most. */
#define REQUESTS_DEFAULT_LIMIT 1000u
#define REQUESTS_MAX_LIMIT 100000u

/* Reads "status": a status (100..599) or a class ("4xx"). Returns 0, or -1
 * with e set. */
static int parse_status(const char *v, int *out, struct api_error *e)
{
    unsigned long long n;

    if (v == NULL)
        return 0;
    if (strlen(v) == 3 && v[0] >= '1' && v[0] <= '5' &&
        (strcmp(v + 1, "xx") == 0 || strcmp(v + 1, "XX") == 0)) {
        *out = v[0] - '0';
        return 0;
    }
    if (options_parse_uint(v, 100, 599, &n) == 0) {
        *out = (int)n;
        return 0;
    }
    api_error_set(e, API_ERR_INVALID_REQUEST, "status", "invalid_value",
                  "The query argument 'status' must be a status from 100 to "
                  "599, or a class such as 4xx.");
    return -1;
}

/* Reads "since": an entry id (entries after it) or an ISO-8601 UTC time
 * (entries that arrived at or after it). Returns 0, or -1 with e set. */
static int parse_since(const char *v, struct journal_filter *f,
                       struct api_error *e)
{
    unsigned long long id;

    if (v == NULL)
        return 0;
    if (options_parse_uint(v, 0, UINT64_MAX, &id) == 0) {
        f->after_id = id;
        return 0;
    }
    if (journal_parse_time(v, &f->since_unix_ms) == 0) {
        f->by_time = true;
        return 0;
    }
    api_error_set(e, API_ERR_INVALID_REQUEST, "since", "invalid_value",
                  "The query argument 'since' must be an entry id (entries "
                  "after it) or a time such as 2025-06-01T12:00:00.000Z.");
    return -1;
}

/* Reads "brief": true or false (1 or 0). Returns 0, or -1 with e set. */
static int parse_flag(const char *v, bool *out, struct api_error *e)
{
    if (v == NULL)
        return 0;
    if (strcmp(v, "true") == 0 || strcmp(v, "1") == 0)
        *out = true;
    else if (strcmp(v, "false") == 0 || strcmp(v, "0") == 0)
        *out = false;
    else {
        api_error_set(e, API_ERR_INVALID_REQUEST, "brief", "invalid_value",
                      "The query argument 'brief' must be true or false.");
        return -1;
    }
    return 0;
}

/* GET /_nexus/requests: the journal's entries, oldest first, as the query
 * narrows them: path, method, model, key, rule, scenario, request_id,
 * status, since, limit (the newest that many), brief. */
static void requests_list(struct app *app, struct request *req,
                          struct response *resp)
{
    struct journal_filter f;
    struct api_error e;
    unsigned long long limit = REQUESTS_DEFAULT_LIMIT;
    json_t *data = NULL, *body = NULL;
    size_t matched = 0;

    e.kind = API_ERR_NONE;
    memset(&f, 0, sizeof(f));
    f.method = request_query(req, "method");
    f.path = request_query(req, "path");
    f.model = request_query(req, "model");
    f.rule = request_query(req, "rule");
    f.scenario = request_query(req, "scenario");
    f.request_id = request_query(req, "request_id");
    if (admin_query_key(app, req, &f.by_key, &f.key_index, &e) != 0 ||
        parse_status(request_query(req, "status"), &f.status, &e) != 0 ||
        parse_since(request_query(req, "since"), &f, &e) != 0 ||
        admin_query_uint(req, "limit", 0, REQUESTS_MAX_LIMIT, &limit, &e) !=
            0 ||
        parse_flag(request_query(req, "brief"), &f.brief, &e) != 0)
        goto out;
    f.limit = (size_t)limit;
    data = app->journal != NULL ? journal_query(app->journal, &f, &matched)
                                : json_array();
    if (data != NULL)
        body = json_pack("{s:s, s:o, s:I, s:I, s:b}", "object", "list", "data",
                         data, "matched", (json_int_t)matched, "returned",
                         (json_int_t)json_array_size(data), "truncated",
                         matched > json_array_size(data));
    if (body == NULL) {
        admin_oom(resp);
        goto out;
    }
    response_json(resp, 200, body);
out:
    if (e.kind != API_ERR_NONE)
        response_error(resp, &e);
}

/* DELETE /_nexus/requests[?key=KEY]: empties the journal, or removes one
 * key's entries. Requests still in flight are recorded when they end. */
static void requests_clear(struct app *app, struct request *req,
                           struct response *resp)
{
    struct api_error e;
    bool by_key = false;
    size_t key = JOURNAL_ALL_KEYS, n = 0;

    if (admin_query_key(app, req, &by_key, &key, &e) != 0) {
        response_error(resp, &e);
        return;
    }
    if (app->journal != NULL)
        n = journal_clear(app->journal, by_key ? key : JOURNAL_ALL_KEYS);
    response_json(resp, 200, json_pack("{s:I}", "deleted", (json_int_t)n));
}

const struct route route_admin_requests = {.name = "admin.requests",
                                           .method = "GET",
                                           .path = "/_nexus/requests",
                                           .admin = true,
                                           .handler = requests_list};
const struct route route_admin_requests_clear = {.name = "admin.requests",
                                                 .method = "DELETE",
                                                 .path = "/_nexus/requests",
                                                 .admin = true,
                                                 .handler = requests_clear};
