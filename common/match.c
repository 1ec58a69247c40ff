/* match: a rule is a list of conditions; a table is a list of rules, each
 * with an atomic turn counter, read-only once built. */
#include "match.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

struct match_cond {
    enum match_field field;
    enum match_op op;
    char *operand; /* owned; NULL for MATCH_ABSENT */
    size_t operand_len;
};

struct match_rule {
    struct match_cond *conds; /* owned */
    size_t n;
};

/* A rule of a table with how many requests it matched. */
struct match_entry {
    struct match_rule *rule; /* owned */
    atomic_ulong turns;
};

struct match_table {
    struct match_entry *entries; /* owned */
    size_t n;
    atomic_ulong unmatched;
};

/* Returns a rule with no condition. */
struct match_rule *match_rule_new(void)
{
    return calloc(1, sizeof(struct match_rule));
}

/* Frees the rule and its conditions. */
void match_rule_free(struct match_rule *r)
{
    size_t i;

    if (r == NULL)
        return;
    for (i = 0; i < r->n; i++)
        free(r->conds[i].operand);
    free(r->conds);
    free(r);
}

/* Adds one condition. */
int match_rule_add(struct match_rule *r, enum match_field field,
                   enum match_op op, const char *operand)
{
    int err = -1;
    struct match_cond *grown;
    char *copy = NULL;

    if ((operand == NULL) != (op == MATCH_ABSENT))
        goto out;
    if (operand != NULL) {
        copy = strdup(operand);
        if (copy == NULL)
            goto out;
    }
    grown = realloc(r->conds, (r->n + 1) * sizeof(*grown));
    if (grown == NULL)
        goto out;
    r->conds = grown;
    r->conds[r->n].field = field;
    r->conds[r->n].op = op;
    r->conds[r->n].operand = copy; /* the rule owns it now */
    r->conds[r->n].operand_len = copy != NULL ? strlen(copy) : 0;
    r->n++;
    copy = NULL;
    err = 0;
out:
    free(copy);
    return err;
}

/* Points *s and *len at the field of v; false when it is absent. */
static bool field_of(const struct match_view *v, enum match_field f,
                     const char **s, size_t *len)
{
    bool present = true;

    switch (f) {
    case MATCH_METHOD:
        *s = v->method;
        break;
    case MATCH_PATH:
        *s = v->path;
        break;
    case MATCH_AUTHORIZATION:
        *s = v->authorization;
        break;
    case MATCH_BODY:
        /* A request without a body has an empty one. */
        *s = v->body != NULL ? v->body : "";
        *len = v->body != NULL ? v->body_len : 0;
        goto out;
    }
    present = *s != NULL;
    *len = present ? strlen(*s) : 0;
out:
    return present;
}

/* True when the n bytes of needle occur in the len bytes at hay. */
static bool contains(const char *hay, size_t len, const char *needle, size_t n)
{
    bool found = false;
    size_t i;

    for (i = 0; n <= len && i <= len - n && !found; i++)
        found = memcmp(hay + i, needle, n) == 0;
    return found;
}

/* True when one condition holds. */
static bool cond_holds(const struct match_cond *c, const struct match_view *v)
{
    const char *s = NULL;
    size_t len = 0;
    bool present = field_of(v, c->field, &s, &len), holds = false;

    switch (c->op) {
    case MATCH_EQUALS:
        holds =
            present && len == c->operand_len && memcmp(s, c->operand, len) == 0;
        break;
    case MATCH_ABSENT:
        holds = !present;
        break;
    case MATCH_CONTAINS:
        holds = present && contains(s, len, c->operand, c->operand_len);
        break;
    case MATCH_LACKS:
        holds = !present || !contains(s, len, c->operand, c->operand_len);
        break;
    }
    return holds;
}

/* True when every condition holds. */
bool match_request(const struct match_rule *r, const struct match_view *v)
{
    bool ok = true;
    size_t i;

    for (i = 0; i < r->n && ok; i++)
        ok = cond_holds(&r->conds[i], v);
    return ok;
}

/* Returns an empty table. */
struct match_table *match_table_new(void)
{
    struct match_table *t = calloc(1, sizeof(*t));

    if (t != NULL)
        atomic_init(&t->unmatched, 0);
    return t;
}

/* Frees the table and its rules. */
void match_table_free(struct match_table *t)
{
    size_t i;

    if (t == NULL)
        return;
    for (i = 0; i < t->n; i++)
        match_rule_free(t->entries[i].rule);
    free(t->entries);
    free(t);
}

/* Appends a rule, taking it. */
int match_table_add(struct match_table *t, struct match_rule *r)
{
    int err = -1;
    struct match_entry *grown;

    if (r == NULL)
        goto out;
    grown = realloc(t->entries, (t->n + 1) * sizeof(*grown));
    if (grown == NULL)
        goto out;
    t->entries = grown;
    t->entries[t->n].rule = r; /* the table owns it now */
    atomic_init(&t->entries[t->n].turns, 0);
    t->n++;
    r = NULL;
    err = 0;
out:
    match_rule_free(r);
    return err;
}

/* How many rules the table holds. */
size_t match_table_size(const struct match_table *t)
{
    return t->n;
}

/* Finds the first matching rule and takes its turn. */
long match_table_find(struct match_table *t, const struct match_view *v,
                      unsigned long *turn)
{
    long found = -1;
    size_t i;

    for (i = 0; i < t->n && found < 0; i++)
        if (match_request(t->entries[i].rule, v)) {
            *turn = atomic_fetch_add(&t->entries[i].turns, 1);
            found = (long)i;
        }
    if (found < 0)
        atomic_fetch_add(&t->unmatched, 1);
    return found;
}

/* How many requests matched no rule. */
unsigned long match_table_unmatched(const struct match_table *t)
{
    return atomic_load(&t->unmatched);
}
