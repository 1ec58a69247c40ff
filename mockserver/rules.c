/* rules: an ordered array of rules with a reference count, and a locked
 * slot for the set in use. */
#include "rules.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "template.h"

struct rules {
    atomic_ulong refs;
    struct rule **v; /* owned */
    size_t n;
    size_t nearly;               /* how many of them are early */
    struct scenarios *scenarios; /* owned */
};

struct rules_slot {
    pthread_mutex_t lock;
    struct rules *set; /* one reference, owned */
};

struct rule *rule_new(const char *name)
{
    struct rule *r = calloc(1, sizeof(*r));

    if (r == NULL)
        return NULL;
    r->name = strdup(name);
    r->match = match_rule_new();
    if (r->name == NULL || r->match == NULL) {
        rule_free(r);
        return NULL;
    }
    r->guard.scenario = SCENARIO_NONE;
    r->guard.state = SCENARIO_NONE;
    r->guard.then = SCENARIO_NONE;
    rule_answer_init(&r->answer);
    atomic_init(&r->count, 0);
    return r;
}

void rule_answer_init(struct rule_answer *a)
{
    memset(a, 0, sizeof(*a));
    a->kind = RULE_COMPLETION;
    a->rate_limited = true;
    a->billed = true;
}

struct rule_answer *rule_add_reply(struct rule *r)
{
    struct rule_answer *grown =
        realloc(r->more, (r->nmore + 1) * sizeof(*grown));

    if (grown == NULL)
        return NULL;
    r->more = grown;
    rule_answer_init(&r->more[r->nmore]);
    return &r->more[r->nmore++];
}

/* Frees what an answer owns. */
static void answer_cleanup(struct rule_answer *a)
{
    size_t i;

    free(a->content);
    template_free(a->tmpl);
    free(a->reasoning);
    for (i = 0; i < a->ncalls; i++) {
        free(a->calls[i].id);
        free(a->calls[i].name);
        free(a->calls[i].arguments);
    }
    free(a->calls);
    json_decref(a->deltas);
    free(a->error_message);
    free(a->error_type);
    free(a->error_code);
    free(a->error_param);
    free(a->body);
    template_free(a->body_tmpl);
    free(a->content_type);
    for (i = 0; i < a->nheaders; i++) {
        free(a->headers[i].name);
        free(a->headers[i].value);
    }
    free(a->headers);
    fault_cleanup(&a->fault);
}

void rule_free(struct rule *r)
{
    if (r == NULL)
        return;
    size_t i;

    answer_cleanup(&r->answer);
    for (i = 0; i < r->nmore; i++)
        answer_cleanup(&r->more[i]);
    free(r->more);
    match_rule_free(r->match);
    free(r->name);
    free(r);
}

struct rules *rules_new(struct scenarios *sc)
{
    struct rules *set = calloc(1, sizeof(*set));

    if (set != NULL && sc == NULL)
        sc = scenarios_new();
    if (set == NULL || sc == NULL) {
        free(set);
        scenarios_free(sc);
        return NULL;
    }
    atomic_init(&set->refs, 1);
    set->scenarios = sc;
    return set;
}

int rules_add(struct rules *set, struct rule *r)
{
    int err = -1;
    struct rule **grown;

    if (r == NULL)
        goto out;
    grown = realloc(set->v, (set->n + 1) * sizeof(*grown));
    if (grown == NULL)
        goto out;
    set->v = grown;
    set->nearly += r->early;
    set->v[set->n++] = r; /* the set owns it now */
    r = NULL;
    err = 0;
out:
    rule_free(r);
    return err;
}

size_t rules_count(const struct rules *set)
{
    return set->n;
}

const struct rule *rules_get(const struct rules *set, size_t i)
{
    return set->v[i];
}

struct scenarios *rules_scenarios(const struct rules *set)
{
    return set->scenarios;
}

struct rules *rules_ref(struct rules *set)
{
    if (set != NULL)
        atomic_fetch_add(&set->refs, 1);
    return set;
}

void rules_unref(struct rules *set)
{
    size_t i;

    if (set == NULL || atomic_fetch_sub(&set->refs, 1) != 1)
        return;
    for (i = 0; i < set->n; i++)
        rule_free(set->v[i]);
    free(set->v);
    scenarios_free(set->scenarios);
    free(set);
}

/* Finds the first rule of the phase (early or not) that answers v. */
static bool find_in(struct rules *set, const struct match_view *v, bool early,
                    struct rule_hit *hit)
{
    struct rule *r;
    uint64_t call;
    size_t i;

    for (i = 0; i < set->n; i++) {
        r = set->v[i];
        /* The guard last: it counts the call when it lets the rule step. */
        if (r->early != early || !match_request(r->match, v) ||
            !scenarios_step(set->scenarios, &r->guard, &call))
            continue;
        hit->rule = r;
        hit->count = atomic_fetch_add(&r->count, 1) + 1;
        /* Replies in turn, the last repeating. */
        hit->answer = hit->count < 2 || r->nmore == 0 ? &r->answer
                      : hit->count - 2 < r->nmore     ? &r->more[hit->count - 2]
                                                      : &r->more[r->nmore - 1];
        hit->call = call;
        return true;
    }
    return false;
}

bool rules_find(struct rules *set, const struct match_view *v,
                struct rule_hit *hit)
{
    return find_in(set, v, false, hit);
}

bool rules_any_early(const struct rules *set)
{
    return set->nearly > 0;
}

bool rules_find_early(struct rules *set, const struct match_view *v,
                      struct rule_hit *hit)
{
    return find_in(set, v, true, hit);
}

struct rules_slot *rules_slot_new(struct rules *set)
{
    struct rules_slot *slot = calloc(1, sizeof(*slot));

    if (slot == NULL) {
        rules_unref(set);
        return NULL;
    }
    pthread_mutex_init(&slot->lock, NULL);
    slot->set = set;
    return slot;
}

void rules_slot_free(struct rules_slot *slot)
{
    if (slot == NULL)
        return;
    rules_unref(slot->set);
    pthread_mutex_destroy(&slot->lock);
    free(slot);
}

struct rules *rules_slot_get(struct rules_slot *slot)
{
    struct rules *set;

    pthread_mutex_lock(&slot->lock);
    set = rules_ref(slot->set);
    pthread_mutex_unlock(&slot->lock);
    return set;
}

void rules_slot_set(struct rules_slot *slot, struct rules *set)
{
    struct rules *old;

    pthread_mutex_lock(&slot->lock);
    old = slot->set;
    slot->set = set;
    pthread_mutex_unlock(&slot->lock);
    rules_unref(old);
}
