/* match: conditions on an HTTP request compiled into rules, and an ordered
 * table of rules where the first that matches wins and counts its turn.
 * The seed of the fixture language's matcher; the runner's test scripts
 * (conformance/tests/script.c) choose their canned answers with it. */
#ifndef NEXUS_MATCH_H
#define NEXUS_MATCH_H

#include <stdbool.h>
#include <stddef.h>

/* The parts of a request that conditions look at. A plain data carrier;
 * every pointer is borrowed from the caller. */
struct match_view {
    const char *method;
    const char *path;          /* without the query string */
    const char *authorization; /* the header's value; NULL when absent */
    const char *body;          /* NULL reads as an empty body */
    size_t body_len;
};

/* What a condition looks at. */
enum match_field {
    MATCH_METHOD,
    MATCH_PATH,
    MATCH_AUTHORIZATION,
    MATCH_BODY,
};

/* How a condition compares the field with its operand. */
enum match_op {
    MATCH_EQUALS,   /* present, and the same bytes */
    MATCH_ABSENT,   /* not present (takes no operand) */
    MATCH_CONTAINS, /* present, and the operand occurs in it */
    MATCH_LACKS,    /* absent, or the operand does not occur in it */
};

/* A set of conditions that must all hold; opaque. */
struct match_rule;
/* An ordered list of rules with a turn counter each; opaque. */
struct match_table;

/* Returns a rule with no condition (it matches every request), or NULL on
 * OOM. Free it with match_rule_free, unless a table took it. */
struct match_rule *match_rule_new(void);
/* Frees r; NULL is a no-op. */
void match_rule_free(struct match_rule *r);
/* Adds a condition (operand copied). operand is NULL exactly when op is
 * MATCH_ABSENT. Returns 0, or -1 on OOM or a bad operand (r unchanged). */
int match_rule_add(struct match_rule *r, enum match_field field,
                   enum match_op op, const char *operand);
/* True when every condition of r holds for v. Pure: thread-safe. */
bool match_request(const struct match_rule *r, const struct match_view *v);

/* Returns an empty table, or NULL on OOM. */
struct match_table *match_table_new(void);
/* Frees t and its rules; NULL is a no-op. */
void match_table_free(struct match_table *t);
/* Appends r, which the table takes (and frees, even on failure). Add every
 * rule before the first match_table_find. Returns 0, or -1 on OOM. */
int match_table_add(struct match_table *t, struct match_rule *r);
/* How many rules t holds. */
size_t match_table_size(const struct match_table *t);
/* Finds the first rule that v matches and returns its index (the order of
 * match_table_add), storing in *turn how many requests matched that rule
 * before this one (0 the first time). Returns -1 when none matches (the
 * request is counted as unmatched). Thread-safe: the rules are read-only
 * and the counters atomic. */
long match_table_find(struct match_table *t, const struct match_view *v,
                      unsigned long *turn);
/* How many requests matched no rule so far. */
unsigned long match_table_unmatched(const struct match_table *t);

#endif
