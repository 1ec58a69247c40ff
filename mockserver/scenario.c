/* scenario: a table of scenarios, each with its interned state names, the
 * state it is in and the calls counted there, behind one lock. */
#include "scenario.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* An array of owned names that grows by one. */
struct names {
    char **v;
    size_t n;
};

struct scenario {
    char *name;          /* owned */
    struct names states; /* owned; indices are state ids */
    size_t initial;      /* state id */
    size_t state;        /* guarded by the set's lock */
    uint64_t calls;      /* calls answered in state; guarded likewise */
};

struct scenarios {
    pthread_mutex_t lock;
    struct scenario *v; /* owned */
    size_t n;
};

/* Returns the index of name in ns, or SCENARIO_NONE. */
static size_t names_find(const struct names *ns, const char *name)
{
    size_t i;

    for (i = 0; i < ns->n; i++)
        if (strcmp(ns->v[i], name) == 0)
            return i;
    return SCENARIO_NONE;
}

/* Returns the index of name in ns, adding a copy if it is new. */
static size_t names_add(struct names *ns, const char *name)
{
    size_t i = names_find(ns, name);
    char **grown, *copy;

    if (i != SCENARIO_NONE)
        return i;
    copy = strdup(name);
    grown = copy != NULL ? realloc(ns->v, (ns->n + 1) * sizeof(*grown)) : NULL;
    if (grown == NULL) {
        free(copy);
        return SCENARIO_NONE;
    }
    ns->v = grown;
    ns->v[ns->n] = copy;
    return ns->n++;
}

struct scenarios *scenarios_new(void)
{
    struct scenarios *s = calloc(1, sizeof(*s));

    if (s != NULL)
        pthread_mutex_init(&s->lock, NULL);
    return s;
}

void scenarios_free(struct scenarios *s)
{
    size_t i, j;

    if (s == NULL)
        return;
    for (i = 0; i < s->n; i++) {
        for (j = 0; j < s->v[i].states.n; j++)
            free(s->v[i].states.v[j]);
        free(s->v[i].states.v);
        free(s->v[i].name);
    }
    free(s->v);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

size_t scenarios_find(const struct scenarios *s, const char *name)
{
    size_t i;

    for (i = 0; i < s->n; i++)
        if (strcmp(s->v[i].name, name) == 0)
            return i;
    return SCENARIO_NONE;
}

size_t scenarios_add(struct scenarios *s, const char *name)
{
    size_t i = scenarios_find(s, name);
    struct scenario *grown, sc;

    if (i != SCENARIO_NONE)
        return i;
    memset(&sc, 0, sizeof(sc));
    sc.name = strdup(name);
    if (sc.name == NULL || names_add(&sc.states, SCENARIO_INITIAL) != 0)
        goto fail;
    grown = realloc(s->v, (s->n + 1) * sizeof(*grown));
    if (grown == NULL)
        goto fail;
    s->v = grown;
    s->v[s->n] = sc;
    return s->n++;
fail:
    free(sc.states.v != NULL ? sc.states.v[0] : NULL);
    free(sc.states.v);
    free(sc.name);
    return SCENARIO_NONE;
}

size_t scenarios_add_state(struct scenarios *s, size_t sc, const char *name)
{
    return names_add(&s->v[sc].states, name);
}

void scenarios_set_initial(struct scenarios *s, size_t sc, size_t state)
{
    s->v[sc].initial = state;
    s->v[sc].state = state;
    s->v[sc].calls = 0;
}

size_t scenarios_count(const struct scenarios *s)
{
    return s->n;
}

const char *scenarios_name(const struct scenarios *s, size_t i)
{
    return s->v[i].name;
}

size_t scenarios_states(const struct scenarios *s, size_t i)
{
    return s->v[i].states.n;
}

const char *scenarios_state_name(const struct scenarios *s, size_t i, size_t j)
{
    return s->v[i].states.v[j];
}

size_t scenarios_initial(const struct scenarios *s, size_t i)
{
    return s->v[i].initial;
}

bool scenarios_step(struct scenarios *s, const struct scenario_guard *g,
                    uint64_t *call)
{
    struct scenario *sc;
    bool stepped = false;

    *call = 0;
    if (g->scenario == SCENARIO_NONE)
        return true;
    sc = &s->v[g->scenario];
    pthread_mutex_lock(&s->lock);
    if ((g->state == SCENARIO_NONE || sc->state == g->state) &&
        (g->call == 0 || sc->calls + 1 == g->call)) {
        *call = ++sc->calls;
        if (g->then != SCENARIO_NONE) {
            sc->state = g->then;
            sc->calls = 0;
        }
        stepped = true;
    }
    pthread_mutex_unlock(&s->lock);
    return stepped;
}

int scenarios_reset(struct scenarios *s, const char *name)
{
    size_t i, one = name != NULL ? scenarios_find(s, name) : SCENARIO_NONE;
    int rc = name != NULL && one == SCENARIO_NONE ? -1 : 0;

    pthread_mutex_lock(&s->lock);
    for (i = 0; rc == 0 && i < s->n; i++) {
        if (name != NULL && i != one)
            continue;
        s->v[i].state = s->v[i].initial;
        s->v[i].calls = 0;
    }
    pthread_mutex_unlock(&s->lock);
    return rc;
}

void scenarios_current(struct scenarios *s, size_t i, size_t *state,
                       uint64_t *calls)
{
    pthread_mutex_lock(&s->lock);
    *state = s->v[i].state;
    *calls = s->v[i].calls;
    pthread_mutex_unlock(&s->lock);
}
