/* app: the shared context every handler receives: read-only fixtures plus
 * the stateful modules, each of which locks inside itself. */
#ifndef NEXUS_APP_H
#define NEXUS_APP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "budget.h"

struct fixtures;
struct billing;
struct ratelimit;
struct clock;
struct log;
struct journal;
struct route;
struct rules_slot;
struct live;

struct app {
    const struct fixtures *fx; /* read-only once loaded */
    /* The scripted rules requests are answered from, swapped atomically
     * (rules.h); NULL: fx->rules. */
    struct rules_slot *rules;
    /* Rebuilds what the slot holds: reloads and runtime rules (live.h);
     * NULL: neither (only tests serve without it). */
    struct live *live;
    struct billing *billing;
    struct ratelimit *rl;
    struct clock *clock;
    struct log *log;
    /* The requests answered (journal.h), kept with --admin; NULL: none. */
    struct journal *journal;
    bool admin; /* serve the /_nexus/ admin routes */
    /* With --admin-token: what an admin request must carry; NULL: no
     * token (only allowed on a loopback address). */
    const char *admin_token;
    uint64_t started_ms;        /* clock_real_ms() at start, for the uptime */
    size_t max_body;            /* request bodies above this get 413 */
    uint64_t max_endless_bytes; /* what a fault's endless bytes may send,
                                   per answer (--max-endless-bytes) */
    struct budget_limits gen;   /* what one request may make the mock do */
    /* The routes served; NULL: the built-in table (router.c). Only tests
     * serve their own. */
    const struct route *const *routes;
    size_t nroutes;
};

#endif
