/* conform: the engine that plans a run (groups, skips), sends every
 * request through the transport and records each check's verdict. */
#ifndef CONFORM_CONFORM_H
#define CONFORM_CONFORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#include "finding.h"
#include "impact.h"
#include "options.h"
#include "result.h"
#include "transport.h"

/* The strongest verdict a check gives (docs/conformance.md, "The
 * policy"): a MUST check fails when its rule is broken; a SHOULD check
 * only warns. */
enum check_level { LEVEL_MUST, LEVEL_SHOULD };

/* What a check's verdict rests on. A MUST check rests on a contract (the
 * AI Nexus API as docs/api.md states it: endpoints, error statuses,
 * billing, rate limits, token accounting) or on real clients that break
 * (docs/client-impact.md); a SHOULD check on the spec's text (which
 * --strict enforces) or on clients read from source (advice). */
enum check_basis { BASIS_CONTRACT, BASIS_CLIENT, BASIS_SPEC };

/* One check, stated once: what it demands, why, and where that comes
 * from. */
struct check_def {
    const char *id; /* "group.name" */
    enum check_level level;
    enum check_basis basis;
    const char *rule;      /* one sentence, RFC 2119 words */
    const char *source;    /* citations: docs/FILE.md#anchor, or a public
                              standard's URL, joined by "; " */
    enum impact_id impact; /* what breaking the rule does, by default */
};

/* "MUST" or "SHOULD". Static. */
const char *check_level_name(enum check_level l);
/* "contract", "client" or "spec". Static. */
const char *check_basis_name(enum check_basis b);

struct conform;

/* One group: a table of checks and the function that evaluates them. */
struct group_def {
    const char *name;
    const char *about; /* one line for --list-checks and the docs */
    const struct check_def *checks;
    size_t n_checks;
    bool needs_model;
    /* Returns NULL when the group can run, else why it is skipped. */
    const char *(*missing)(const struct conform *c);
    /* Records a verdict for each of the group's checks. */
    void (*run)(struct conform *c);
};

/* The groups in the order they run. Borrowed, static. */
const struct group_def *const *conform_groups(size_t *n);
/* Returns the index of the group called name, or -1. */
int conform_group_index(const char *name);

/* Returns a new engine that sends through t and appends to results (both
 * borrowed: they must outlive the engine), or NULL on OOM. */
struct conform *conform_new(const struct options *o, struct transport *t,
                            struct results *results);
/* Frees c; NULL is a no-op. */
void conform_free(struct conform *c);
/* Calls fn with each result as soon as it is recorded (the terminal). */
void conform_observe(struct conform *c,
                     void (*fn)(const struct check_result *r, void *ud),
                     void *ud);
/* Logs each exchange to log (--verbose); NULL stops logging. */
void conform_log_to(struct conform *c, FILE *log);
/* Discovers the model, then runs every group. Returns 0, or -1 when the
 * server cannot be reached at all (*cause set, free() it). */
int conform_run(struct conform *c, char **cause);
/* The model under test, or NULL when none is known. Borrowed. */
const char *conform_model(const struct conform *c);

/* For the groups. */

/* The configuration. Borrowed. */
const struct options *conform_options(const struct conform *c);
/* The "Bearer KEY" value for key, valid until the next call. Borrowed. */
const char *conform_bearer(struct conform *c, const char *key);
/* Initialises resp and performs req (see struct transport). Once the
 * server has failed to answer several requests in a row, later ones are
 * not sent (resp->ts is TRANSPORT_SKIPPED), so a dead server costs a few
 * timeouts rather than one per check. */
void conform_request(struct conform *c, const struct http_request *req,
                     struct http_response *resp, const struct http_sink *sink);
/* The discovery GET /models, made once per run. Borrowed. */
const struct http_response *conform_models_response(const struct conform *c);
/* The request that produced conform_models_response(). Borrowed. */
const struct http_request *conform_models_request(const struct conform *c);

/* Records that d passed. evidence is stolen (may be NULL). */
void conform_pass(struct conform *c, const struct check_def *d,
                  json_t *evidence, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Records that d was violated: a failure for MUST, a warning for SHOULD
 * (a failure with --strict when d rests on the spec's text). The message
 * gains what d->impact says the violation breaks. */
void conform_violation(struct conform *c, const struct check_def *d,
                       json_t *evidence, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Records a finding of the given gravity on d, with the impacts named in
 * ids (n of them; IMPACT_NONE entries ignored; NULL for none), which the
 * message and the result gain. FINDING_BREAK is conform_violation's
 * verdict; FINDING_SPEC and FINDING_OPTIONAL say so in the message and
 * depend on --strict. evidence is stolen (may be NULL). */
void conform_finding(struct conform *c, const struct check_def *d,
                     enum finding kind, const enum impact_id *ids, size_t n,
                     json_t *evidence, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));
/* Records a warning on d whatever its level: an observation, not a
 * violation, for a check that could not see what it judges (and says why).
 * The message gains no impact. evidence is stolen (may be NULL). */
void conform_warn(struct conform *c, const struct check_def *d,
                  json_t *evidence, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Records a failure on d that is no violation of its rule: the server
 * refused a request the check needed (a 429, a 5xx), so it could not run.
 * The message gains no impact. evidence is stolen (may be NULL). */
void conform_fail(struct conform *c, const struct check_def *d,
                  json_t *evidence, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Records the gravest finding w holds on d: a pass saying ok (printf
 * style) when it holds none, else w's words, impact and verdict (see
 * conform_finding). evidence is stolen (may be NULL). */
void conform_judge(struct conform *c, const struct check_def *d,
                   const struct finding_worst *w, json_t *evidence,
                   const char *ok, ...) __attribute__((format(printf, 5, 6)));
/* Records that d could not be judged, and why. */
void conform_skip(struct conform *c, const struct check_def *d, const char *fmt,
                  ...) __attribute__((format(printf, 3, 4)));
/* Records a skip, with the same reason, for every check of the running
 * group that has no verdict yet. */
void conform_skip_rest(struct conform *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* True when d already has a verdict in this run. */
bool conform_done(const struct conform *c, const struct check_def *d);
/* The status of the check called id in this run so far, or -1 when it
 * has none (not run yet, or its group left out). */
int conform_status_of(const struct conform *c, const char *id);
/* True when d passed in this run (false before it has a verdict). */
bool conform_passed(const struct conform *c, const struct check_def *d);

/* Describes a failed exchange in words ("timeout: ...", "HTTP 500"), for
 * messages; valid until the next call. Borrowed. */
const char *conform_describe(struct conform *c,
                             const struct http_response *resp);

#endif
