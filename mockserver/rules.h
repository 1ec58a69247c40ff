/* rules: the fixture's scripted answers, compiled. A rule is conditions on
 * the request (common/match), an optional scenario guard (scenario.h) and
 * an answer; a rule set tries its rules in order and the first that
 * matches answers. A set is immutable once built and reference counted:
 * a request takes a reference for as long as it reads the set, so that a
 * reload or the control API can swap in another set atomically while
 * requests in flight finish on the old one (struct rules_slot). */
#ifndef NEXUS_RULES_H
#define NEXUS_RULES_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "fault.h"
#include "fixtures.h"
#include "match.h"
#include "reply.h"
#include "scenario.h"

struct template;

/* What kind of answer a rule gives. */
enum rule_kind {
    RULE_COMPLETION, /* a chat completion (chat.c answers it, through
                        validation, usage, billing and rate limits) */
    RULE_STATUS,     /* a status with an OpenAI error body, or a raw body
                        (the router answers it, before any handler) */
};

/* One scripted tool call. */
struct rule_call {
    char *id;        /* owned; NULL: derived from the completion's id */
    char *name;      /* owned */
    char *arguments; /* owned; the JSON text the client gets */
};

/* One extra response header, or one the server would add left out. */
struct rule_header {
    char *name;  /* owned */
    char *value; /* owned; NULL: the header is not sent */
};

/* A rule's answer: plain data, read-only once the rule is in a set. */
struct rule_answer {
    enum rule_kind kind;
    /* RULE_COMPLETION. */
    char *content;           /* owned; NULL: no literal content */
    struct template *tmpl;   /* owned; the content rendered per request */
    char *reasoning;         /* owned; reasoning_content, or NULL */
    struct rule_call *calls; /* owned, ncalls of them */
    size_t ncalls;
    json_t *deltas; /* owned array of delta objects sent as they are; never
                       handed out (jansson's refcount is not atomic):
                       requests deep-copy it */
    const char *finish_reason; /* static; NULL: "tool_calls" with calls,
                                  else "stop" */
    bool has_usage;
    struct reply_usage usage; /* reported and billed instead of counted */
    struct fx_pacing pacing;  /* set fields win over the plan's and model's */
    /* RULE_STATUS. */
    int status;
    char *error_message; /* owned; NULL: the status's default */
    char *error_type;    /* owned; NULL: the status's default */
    char *error_code;    /* owned; NULL: the status's default */
    char *error_param;   /* owned; NULL: null */
    bool has_body;       /* a raw body instead of the error body */
    char *body;          /* owned; body_len bytes */
    size_t body_len;
    struct template *body_tmpl; /* owned; the raw body rendered per
                                   request instead of body; NULL: none */
    char *content_type;         /* owned; NULL: application/json */
    bool has_retry_after;
    uint32_t retry_after_ms; /* Retry-After (seconds, rounded up) and
                                retry-after-ms */
    /* Both kinds. */
    struct rule_header *headers; /* owned, nheaders of them */
    size_t nheaders;
    uint32_t latency_ms; /* a non-streamed answer waits this long */
    bool rate_limited;   /* counts against the key's rate limits */
    bool billed;         /* RULE_COMPLETION: charged to the key */
    struct fault fault;  /* a defect the answer carries (fault.h); zeroed:
                            none */
};

/* One rule. Read-only once in a set, but for its atomic counter. */
struct rule {
    char *name;               /* owned; unique within a set */
    struct match_rule *match; /* owned; the conditions */
    struct scenario_guard guard;
    struct rule_answer answer; /* the reply, or the first of its replies */
    struct rule_answer *more;  /* owned: the replies after the first, in
                                  turn, the last repeating; nmore of them */
    size_t nmore;
    bool early;         /* tried before the server's own checks (authentication,
                           rate limits): a status answer as a plain HTTP server
                           gives it, never billed, limited or given x-ratelimit-* */
    atomic_ulong count; /* requests it answered */
};

/* A rule that answered a request. */
struct rule_hit {
    const struct rule *rule; /* borrowed from the set the caller holds */
    const struct rule_answer *answer; /* the rule's reply for this request
                                         (its count-th, or its last) */
    uint64_t count;                   /* requests the rule answered, this
                                         one too */
    uint64_t call;                    /* the call of its scenario's state; 0 */
};

struct rules;
struct rules_slot;

/* Returns a rule named name (copied) with no condition, no guard and an
 * empty completion answer that counts against rate limits and is billed,
 * or NULL on OOM. */
struct rule *rule_new(const char *name);
/* Sets *a to an empty completion answer that counts against rate limits
 * and is billed: the defaults of every reply. */
void rule_answer_init(struct rule_answer *a);
/* Appends an answer in rule_answer_init's state to r's later replies and
 * returns it, or NULL on OOM. */
struct rule_answer *rule_add_reply(struct rule *r);
/* Frees r and what its answer owns; NULL is a no-op. */
void rule_free(struct rule *r);

/* Returns an empty set that owns sc (NULL: a set without scenarios), or
 * NULL on OOM (sc is freed). Its one reference is the caller's. */
struct rules *rules_new(struct scenarios *sc);
/* Appends r, which the set takes (and frees, even on failure). For
 * building the set, before it is shared. Returns 0, or -1 on OOM. */
int rules_add(struct rules *set, struct rule *r);
/* How many rules set holds; rule i. Borrowed. */
size_t rules_count(const struct rules *set);
const struct rule *rules_get(const struct rules *set, size_t i);
/* The set's scenarios (never NULL). Borrowed; thread-safe to step and
 * reset (scenario.h). */
struct scenarios *rules_scenarios(const struct rules *set);
/* Takes one more reference to set and returns it; NULL-safe. */
struct rules *rules_ref(struct rules *set);
/* Drops a reference; the last one frees the set. NULL is a no-op. */
void rules_unref(struct rules *set);
/* Finds the first rule whose conditions hold for v and whose scenario
 * guard lets it step (stepping it), counts the answer and fills *hit.
 * Returns false when no rule answers. Thread-safe. */
bool rules_find(struct rules *set, const struct match_view *v,
                struct rule_hit *hit);
/* True when some rule of set is early. */
bool rules_any_early(const struct rules *set);
/* rules_find among the rules marked early only (the others are not
 * tried, nor stepped). */
bool rules_find_early(struct rules *set, const struct match_view *v,
                      struct rule_hit *hit);

/* Returns a slot holding set (taking the caller's reference), or NULL on
 * OOM (the reference is dropped). */
struct rules_slot *rules_slot_new(struct rules *set);
/* Frees the slot and drops its reference; NULL is a no-op. */
void rules_slot_free(struct rules_slot *slot);
/* Returns a new reference to the set the slot holds now. Thread-safe. */
struct rules *rules_slot_get(struct rules_slot *slot);
/* Puts set in the slot (taking the caller's reference) and drops the
 * slot's reference to the old one, which requests holding it keep until
 * they are done. Thread-safe. */
void rules_slot_set(struct rules_slot *slot, struct rules *set);

#endif
