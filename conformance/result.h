/* result: the list of check outcomes a run produces, which every report
 * (terminal, JSON, JUnit XML, HTML) renders. */
#ifndef CONFORM_RESULT_H
#define CONFORM_RESULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

enum check_status { CHECK_PASS, CHECK_FAIL, CHECK_WARN, CHECK_SKIP };

/* One check's outcome. All strings and evidence are owned by the list. */
struct check_result {
    char *id;    /* stable, e.g. "stream.done-last" */
    char *group; /* models, chat, stream, usage, params, auth, notfound,
                    billing, ratelimit */
    enum check_status status;
    char *message;    /* what was found, one sentence */
    char *rule;       /* the rule, e.g. "The last event MUST be data: [DONE]" */
    char *source;     /* where the rule comes from, e.g. "OpenAI spec:
                         CreateChatCompletionStreamResponse" */
    json_t *evidence; /* {"request":{...},"response":{...}} or NULL */
    double duration_ms;
    char *level;     /* "MUST" or "SHOULD", or NULL */
    char *basis;     /* what the verdict rests on: "contract", "client" or
                        "spec" (docs/conformance.md, "The policy"), or NULL */
    char *impact;    /* what a failure or warning breaks in clients, in
                        words, or NULL */
    json_t *impacts; /* the same as impact_json() writes it: the catalogue
                        entries with their clients, or NULL */
    char *fix;       /* what to change in the server to pass, or NULL */
};

struct results {
    struct check_result *items;
    size_t n;
    size_t cap;
};

struct results_summary {
    size_t passed, failed, warned, skipped;
};

/* Prepares an empty list. */
void results_init(struct results *r);
/* Frees every result; the list is empty afterwards. */
void results_cleanup(struct results *r);
/* Appends a result. evidence is stolen (may be NULL), even on failure.
 * Returns the stored result (borrowed, valid until the next add) or NULL
 * on OOM. */
struct check_result *results_add(struct results *r, const char *id,
                                 const char *group, enum check_status status,
                                 const char *rule, const char *source,
                                 json_t *evidence, const char *fmt, ...)
    __attribute__((format(printf, 8, 9)));
/* Gives c its level, impact and fix (each copied; NULL leaves it out).
 * Returns 0, or -1 on OOM (c then keeps what it had). */
int results_describe(struct check_result *c, const char *level,
                     const char *impact, const char *fix);
/* Gives c its basis (copied) and its impacts (stolen, even on failure;
 * NULL for none). Returns 0, or -1 on OOM (c then keeps what it had). */
int results_classify(struct check_result *c, const char *basis,
                     json_t *impacts);
/* Counts the results by status. */
struct results_summary results_summarize(const struct results *r);
/* "pass", "fail", "warn" or "skip". */
const char *check_status_name(enum check_status s);
/* "PASS", "FAIL", "WARN" or "SKIP": the label the terminal and HTML reports
 * show. Static storage. */
const char *check_status_label(enum check_status s);
/* True if a and b belong to the same group (a NULL group reads as ""). */
bool results_same_group(const struct check_result *a,
                        const struct check_result *b);
/* Lists the groups in the order they first appear, as the index of each
 * group's first result: *firsts gets a new array of *ngroups indexes (free
 * with free(); NULL when the list is empty). Returns 0, or -1 on OOM. */
int results_groups(const struct results *r, size_t **firsts, size_t *ngroups);
/* Returns a NUL-terminated copy of the len bytes at s in which every byte
 * that is not part of well-formed UTF-8 is replaced by U+FFFD, so server
 * bytes can go into jansson strings and reports. Free with free(); NULL on
 * OOM. (results_add already cleans what it stores this way.) */
char *results_utf8_clean(const char *s, size_t len);

/* What a report says about the run as a whole. */
struct report_meta {
    const char *base_url;
    const char *model;
    const char *profile;
    const char *version; /* nexus-conform's version */
    const char *started; /* ISO-8601 UTC */
    double duration_s;
    const char *mode; /* "default", or "strict" (--strict) */
};

/* Writes the JSON report {"checks":[...],"summary":{...}} (plus "meta").
 * Returns 0 or -1 on a write error. */
int report_json_write(const struct results *r, const struct report_meta *m,
                      FILE *out);
/* Writes JUnit XML: a testsuite per group, a testcase per check. */
int report_junit_write(const struct results *r, const struct report_meta *m,
                       FILE *out);
/* Writes one self-contained HTML page. */
int report_html_write(const struct results *r, const struct report_meta *m,
                      FILE *out);
/* How the terminal report is drawn. */
struct term_style {
    bool color;   /* ANSI colours */
    bool verbose; /* rule, source and evidence under failures and warnings */
    int id_width; /* ids are padded to this many bytes, so messages align */
};

/* Prints the heading of a group ("chat: what it tests"); about may be
 * NULL. */
void report_term_group(const char *name, const char *about,
                       const struct term_style *st, FILE *out);
/* Prints one terminal line for a result: "  LABEL  id  message", and its
 * impact; with verbose, under a failure or a warning, its rule, source
 * and evidence. */
void report_term_line(const struct check_result *c, const struct term_style *st,
                      FILE *out);
/* Prints which mode ran ("default" or "strict") and what fails in it. */
void report_term_mode(const char *mode, FILE *out);
/* Prints the failures, then the warnings, again, each with its impact and
 * what to change; nothing when every check passed or was skipped. */
void report_term_recap(const struct results *r, const struct term_style *st,
                       FILE *out);
/* Prints the closing line "N passed, M failed" (+ ", W warned, S skipped"). */
void report_term_summary(const struct results *r, bool color, FILE *out);

#endif
