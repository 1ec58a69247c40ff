/* budget: the per-request generation limits, their shares, and the check of
 * a client's schema against them. */
#include "budget.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonio.h"
#include "sample.h"
#include "tokenize.h"

const struct budget_limits budget_defaults = {
    BUDGET_DEFAULT_NODES, BUDGET_DEFAULT_BYTES, BUDGET_DEFAULT_DEPTH};

void budget_share(const struct budget_limits *lim, unsigned n, struct budget *b)
{
    if (lim == NULL)
        lim = &budget_defaults;
    if (n == 0)
        n = 1;
    /* A zeroed struct (an app set up without options) means the defaults. */
    b->nodes = (lim->max_nodes ? lim->max_nodes : BUDGET_DEFAULT_NODES) / n;
    b->bytes = (lim->max_bytes ? lim->max_bytes : BUDGET_DEFAULT_BYTES) / n;
    b->depth = lim->max_depth ? lim->max_depth : BUDGET_DEFAULT_DEPTH;
}

bool budget_spend(struct budget *b, uint64_t nodes, uint64_t bytes)
{
    if (nodes > b->nodes || bytes > b->bytes)
        return false;
    b->nodes -= nodes;
    b->bytes -= bytes;
    return true;
}

/* Sets err from a fault found in the schema at param. */
static void fault_error(const struct sample_fault *f,
                        const struct budget_limits *lim, const char *param,
                        const char *owner, const char *code,
                        struct api_error *err)
{
    char where[sizeof(err->param)];
    struct budget all;

    budget_share(lim, 1, &all);
    if (f->kind == SAMPLE_OOM) {
        api_error_set(err, API_ERR_SERVER, NULL, NULL,
                      "The server ran out of memory checking a schema.");
        return;
    }
    snprintf(where, sizeof(where), "%s%s", param, f->where);
    if (f->kind == SAMPLE_BUDGET)
        api_error_set(err, API_ERR_INVALID_REQUEST, where, code,
                      "Invalid schema for %s: %s. The mock generates at most "
                      "%llu JSON values and %llu bytes per request, divided "
                      "among its choices and shared by every schema it "
                      "carries (--max-gen-nodes, --max-gen-bytes).",
                      owner, f->why, (unsigned long long)all.nodes,
                      (unsigned long long)all.bytes);
    else if (f->kind == SAMPLE_DEPTH)
        api_error_set(err, API_ERR_INVALID_REQUEST, where, code,
                      "Invalid schema for %s: %s (--max-schema-depth).", owner,
                      f->why);
    else
        api_error_set(err, API_ERR_INVALID_REQUEST, where, code,
                      "Invalid schema for %s: %s.", owner, f->why);
}

int budget_check_schema(const json_t *schema, const struct budget_limits *lim,
                        unsigned n, struct budget *pool, const char *param,
                        const char *owner, const char *code,
                        struct api_error *err)
{
    struct sample_fault fault;
    struct budget share, left;
    json_t *v = NULL;
    char *text = NULL;
    int rc = -1;

    if (lim == NULL)
        lim = &budget_defaults;
    budget_share(lim, n, &share);
    if (schema == NULL) {
        rc = 0;
        goto out;
    }
    if (sample_check(schema, &share, &fault) != 0)
        goto fail;
    /* The smallest value must fit one choice's share, and the pool bounds
     * what all the request's schemas may cost to check. */
    left = share;
    if (left.nodes > pool->nodes)
        left.nodes = pool->nodes;
    if (left.bytes > pool->bytes)
        left.bytes = pool->bytes;
    pool->nodes -= left.nodes;
    pool->bytes -= left.bytes;
    v = sample_from_schema(schema, NULL, &left, &fault);
    if (v != NULL &&
        (text = jsonio_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY)) == NULL)
        fault.kind = SAMPLE_OOM;
    else if (v != NULL && !budget_spend(&left,
                                        BUDGET_TOKEN_NODES *
                                            tokenize_count(text, strlen(text)),
                                        0)) {
        fault.kind = SAMPLE_BUDGET;
        fault.where[0] = '\0';
        snprintf(fault.why, sizeof(fault.why),
                 "its smallest value is %llu tokens long, more than this "
                 "request may generate",
                 (unsigned long long)tokenize_count(text, strlen(text)));
    }
    pool->nodes += left.nodes;
    pool->bytes += left.bytes;
    if (v == NULL || fault.kind != SAMPLE_OK)
        goto fail;
    rc = 0;
    goto out;
fail:
    fault_error(&fault, lim, param, owner, code, err);
out:
    free(text);
    json_decref(v);
    return rc;
}
