/* scenario: named state machines that scripted rules advance: "fail twice,
 * then succeed". Each scenario is in one of its states and counts the calls
 * it has answered in that state; a rule guarded by a scenario matches only
 * in its state (and, if it says so, on its nth call there), and may move
 * the scenario to another state. The only mutable part of a rule set:
 * locked inside, so that concurrent requests step it one at a time. */
#ifndef NEXUS_SCENARIO_H
#define NEXUS_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The default initial state of a scenario. */
#define SCENARIO_INITIAL "started"
/* Means "any state" or "no such scenario or state". */
#define SCENARIO_NONE SIZE_MAX

struct scenarios;

/* What a rule asks of its scenario. Plain data. */
struct scenario_guard {
    size_t scenario; /* index; SCENARIO_NONE: the rule has no scenario */
    size_t state;    /* the state it answers in; SCENARIO_NONE: any */
    uint64_t call;   /* the call of that state it answers (1 is the first
                        call since the scenario entered it); 0: any */
    size_t then;     /* the state it moves to; SCENARIO_NONE: it stays */
};

/* Returns an empty set, or NULL on OOM. */
struct scenarios *scenarios_new(void);
/* Frees s; NULL is a no-op. */
void scenarios_free(struct scenarios *s);
/* Returns the index of the scenario called name, adding it (starting in
 * SCENARIO_INITIAL) if it is new, or SCENARIO_NONE on OOM. Not
 * thread-safe: for building the set before it is used. */
size_t scenarios_add(struct scenarios *s, const char *name);
/* Returns the index of state name of scenario sc, adding it if new, or
 * SCENARIO_NONE on OOM. Not thread-safe, as above. */
size_t scenarios_add_state(struct scenarios *s, size_t sc, const char *name);
/* Makes state (an index from scenarios_add_state) the one scenario sc
 * starts in and returns to on reset. Not thread-safe, as above. */
void scenarios_set_initial(struct scenarios *s, size_t sc, size_t state);
/* How many scenarios s holds; the name of scenario i; how many states it
 * has; the name of its state j; its initial state. Borrowed names, valid
 * until scenarios_free. */
size_t scenarios_count(const struct scenarios *s);
const char *scenarios_name(const struct scenarios *s, size_t i);
size_t scenarios_states(const struct scenarios *s, size_t i);
const char *scenarios_state_name(const struct scenarios *s, size_t i, size_t j);
size_t scenarios_initial(const struct scenarios *s, size_t i);
/* Returns the index of the scenario called name, or SCENARIO_NONE. */
size_t scenarios_find(const struct scenarios *s, const char *name);

/* Takes one step if g allows it, atomically: when g's scenario is in g's
 * state (any, if none) and this is g's call of that state (any, if 0),
 * counts the call, moves the scenario to g->then (when set; a move starts
 * the count again) and returns true with the call's number (1-based, in
 * the state it was answered in) in *call. Otherwise changes nothing and
 * returns false. A guard without a scenario always steps, with *call 0.
 * Thread-safe. */
bool scenarios_step(struct scenarios *s, const struct scenario_guard *g,
                    uint64_t *call);
/* Puts scenario name (every scenario when name is NULL) back in its
 * initial state with no calls counted. Returns 0, or -1 when no scenario
 * has that name. Thread-safe. */
int scenarios_reset(struct scenarios *s, const char *name);
/* Reads scenario i's current state and the calls counted in it.
 * Thread-safe. */
void scenarios_current(struct scenarios *s, size_t i, size_t *state,
                       uint64_t *calls);

#endif
