/* match: conditions on an HTTP request compiled into rules, and an ordered
 * table of rules where the first that matches wins and counts its turn.
 * The matcher of the fixture language's rules (mockserver/rules.c) and of
 * the runner's test scripts (conformance/tests/script.c).
 *
 * A condition looks at one field of the request. Some fields are the
 * request's own (method, path, a header, the body's bytes); others are
 * read from the body parsed as a chat completion request (the model, the
 * last user message, each message, the tools' names, any value by JSON
 * pointer). A field may have no value (absent), one, or several (each
 * message): a condition holds when any value satisfies it, and its
 * negation (MATCH_LACKS, MATCH_DIFFERS) when none does. */
#ifndef NEXUS_MATCH_H
#define NEXUS_MATCH_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

/* The parts of a request that conditions look at. A plain data carrier;
 * every pointer is borrowed from the caller. Fields left zero are absent
 * (a view that sets only the first five is the one the runner builds). */
struct match_view {
    const char *method;
    const char *path;          /* without the query string */
    const char *authorization; /* the header's value; NULL when absent */
    const char *body;          /* NULL reads as an empty body */
    size_t body_len;
    const json_t *json; /* the body parsed, when it is JSON; read only */
    const char *key;    /* the API key the request was made with, if known */
    const char *plan;   /* that key's plan */
    /* Returns the value of the request header name (any case), or NULL;
     * NULL: the request has no headers but authorization. */
    const char *(*header)(const void *ctx, const char *name);
    const void *header_ctx;
};

/* What a condition looks at. */
enum match_field {
    MATCH_METHOD,
    MATCH_PATH,
    MATCH_AUTHORIZATION,
    MATCH_BODY,
    MATCH_HEADER,       /* the header the spec names */
    MATCH_KEY,          /* the API key */
    MATCH_PLAN,         /* the API key's plan */
    MATCH_MODEL,        /* the body's "model", when a string */
    MATCH_LAST_USER,    /* the text of the last message with role user */
    MATCH_ANY_MESSAGE,  /* the text of each message, whatever its role */
    MATCH_TURN,         /* how many user messages there are, in decimal */
    MATCH_LAST_ROLE,    /* the role of the last message */
    MATCH_TOOL_CALL_ID, /* the last message's tool_call_id, if a tool's */
    MATCH_TOOL_RESULT,  /* the last message's text, if a tool's */
    MATCH_STREAM,       /* "true" when the body says "stream": true, else
                           "false" (absent only without a JSON object) */
    MATCH_TOOL_NAME,    /* each tools[].function.name */
    MATCH_POINTER,      /* the body's value at the spec's JSON pointer
                           (RFC 6901): a string's text, else compact JSON */
};

/* How a condition compares the field with its operand. */
enum match_op {
    MATCH_EQUALS,      /* present, and the same bytes */
    MATCH_ABSENT,      /* not present (takes no operand) */
    MATCH_CONTAINS,    /* present, and the operand occurs in it */
    MATCH_LACKS,       /* absent, or the operand does not occur in it */
    MATCH_REGEX,       /* present, and the POSIX extended regular expression
                          finds a match in it (bytes, C locale) */
    MATCH_DIFFERS,     /* absent, or not the same bytes */
    MATCH_PRESENT,     /* present (takes no operand) */
    MATCH_JSON_EQUALS, /* MATCH_POINTER only: the value there equals the
                          spec's JSON value (numbers by value: 1 == 1.0) */
};

/* One condition, as match_rule_add_spec takes it. */
struct match_spec {
    enum match_field field;
    enum match_op op;
    const char *name;    /* MATCH_HEADER: the header's name; MATCH_POINTER:
                            the JSON pointer ("" is the whole body) */
    const char *operand; /* text; NULL for MATCH_ABSENT, MATCH_PRESENT and
                            MATCH_JSON_EQUALS */
    const json_t *value; /* MATCH_JSON_EQUALS: copied; else NULL */
    bool ignore_case;    /* MATCH_REGEX: ignore ASCII case */
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
/* Adds a condition on a field that needs no name (operand copied).
 * operand is NULL exactly when op is MATCH_ABSENT or MATCH_PRESENT.
 * Returns 0, or -1 on OOM or a bad operand (r unchanged). */
int match_rule_add(struct match_rule *r, enum match_field field,
                   enum match_op op, const char *operand);
/* Adds the condition s (everything copied; a regular expression, PCRE2
 * syntax over UTF-8, compiled once, here). Returns 0, or -1 with r
 * unchanged and, when why is not NULL, one line saying why in why (whylen
 * bytes): a bad regular expression (with the byte offset in the pattern
 * where PCRE2 found the problem, and its words), a bad JSON pointer, an
 * operand missing or out of place, or out of memory. */
int match_rule_add_spec(struct match_rule *r, const struct match_spec *s,
                        char *why, size_t whylen);
/* The backtracking steps (PCRE2's match and depth limits) one regular
 * expression may take on one text before it counts as not matching, and
 * the heap it may use, in KiB. */
#define MATCH_REGEX_LIMIT_DEFAULT 1000000u
#define MATCH_REGEX_HEAP_KIB 8192u
/* Sets that step limit (0 is taken as 1) for the regular expressions of
 * the conditions added from now on: each keeps the limits in force when it
 * was compiled. Call it at start-up, before the rules are built;
 * thread-safe. */
void match_set_regex_limit(unsigned limit);
/* How many conditions r holds. */
size_t match_rule_size(const struct match_rule *r);
/* True when every condition of r holds for v. Pure: thread-safe. */
bool match_request(const struct match_rule *r, const struct match_view *v);

/* Returns the text of a chat message's content as a new string (free()):
 * a string as it is, an array of parts as its text parts' texts joined by
 * "\n". NULL when the content has no text (null, absent, parts without
 * text) or on OOM. */
char *match_message_text(const json_t *message);
/* Returns the last message of body's "messages" whose role is user, or
 * NULL. Borrowed from body. */
const json_t *match_last_user(const json_t *body);

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
