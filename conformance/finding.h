/* finding: how grave one thing a check found is (docs/conformance.md, "The
 * policy"), and the gravest of several, kept with its words and impact
 * while a check walks a response. */
#ifndef CONFORM_FINDING_H
#define CONFORM_FINDING_H

#include <stdbool.h>
#include <stddef.h>

#include "impact.h"

/* How grave one finding is, least first. */
enum finding {
    FINDING_NONE,     /* nothing wrong: a pass */
    FINDING_OPTIONAL, /* null or absent where the spec's text names a type
                         and the SDKs type the member optional: a pass, a
                         failure with --strict */
    FINDING_ADVICE,   /* legal, but some client read from source stumbles:
                         a warning in either mode */
    FINDING_SPEC,     /* the spec's text broken, the clients measured cope:
                         a warning, a failure with --strict */
    FINDING_BREAK     /* the check's rule broken: its contract, or a real
                         client (a failure for MUST, a warning for SHOULD) */
};

/* The words a finding keeps; longer ones are cut. */
#define FINDING_WHY_MAX 640
/* The most impacts one record names. */
#define FINDING_MAX_IMPACTS 6

/* The gravest finding so far. Plain data, in the caller's storage. */
struct finding_worst {
    enum finding kind;
    enum impact_id impacts[FINDING_MAX_IMPACTS]; /* what it does to
                                                    clients */
    size_t n_impacts;
    size_t focus; /* the offending byte, for the evidence */
    char why[FINDING_WHY_MAX];
};

/* Prepares an empty record (FINDING_NONE, focus at no byte). */
void finding_init(struct finding_worst *w, size_t no_focus);
/* Keeps this finding when it is graver than the one w holds (of equal
 * gravity the first stays): its kind, impact, focus and words (printf
 * style). Returns true when it was kept. */
bool finding_note(struct finding_worst *w, enum finding kind,
                  enum impact_id impact, size_t focus, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* Adds a finding to those w holds, for a check that reports all it found
 * (stream.sdk-hazards): the kind becomes the graver of the two, the words
 * follow the others after "; ", the impact joins the others, and the
 * focus stays on the first finding. */
void finding_also(struct finding_worst *w, enum finding kind,
                  enum impact_id impact, size_t focus, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

#endif
