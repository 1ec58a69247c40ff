/* match: a rule is a list of conditions; a table is a list of rules, each
 * with an atomic turn counter, read-only once built. */
#include "match.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "jsonio.h"

/* A message's text is joined from its parts in a buffer of at most this
 * many bytes; the request body is capped far below it. */
#define MATCH_TEXT_MAX ((size_t)1 << 30)

struct match_cond {
    enum match_field field;
    enum match_op op;
    char *name;    /* owned; the header or JSON pointer, else NULL */
    char *operand; /* owned; NULL for ops without a text operand */
    size_t operand_len;
    json_t *value;           /* owned; MATCH_JSON_EQUALS only */
    pcre2_code *re;          /* owned; MATCH_REGEX only; compiled once */
    pcre2_match_context *mc; /* owned; with re: its limits, read-only */
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

/* Frees what one condition owns. */
static void cond_cleanup(struct match_cond *c)
{
    free(c->name);
    free(c->operand);
    json_decref(c->value);
    pcre2_code_free(c->re);
    pcre2_match_context_free(c->mc);
}

/* Frees the rule and its conditions. */
void match_rule_free(struct match_rule *r)
{
    size_t i;

    if (r == NULL)
        return;
    for (i = 0; i < r->n; i++)
        cond_cleanup(&r->conds[i]);
    free(r->conds);
    free(r);
}

/* Adds one condition on a field without a name. */
int match_rule_add(struct match_rule *r, enum match_field field,
                   enum match_op op, const char *operand)
{
    struct match_spec s = {field, op, NULL, operand, NULL, false};

    return match_rule_add_spec(r, &s, NULL, 0);
}

/* Writes why a spec was refused, when the caller wants to know. */
static void say(char *why, size_t whylen, const char *text)
{
    if (why != NULL && whylen > 0)
        snprintf(why, whylen, "%s", text);
}

/* True when p is a JSON pointer: empty, or '/'-separated tokens whose
 * '~' is always followed by '0' or '1'. */
static bool pointer_valid(const char *p)
{
    bool ok = p[0] == '\0' || p[0] == '/';

    for (; ok && *p != '\0'; p++)
        if (*p == '~')
            ok = p[1] == '0' || p[1] == '1';
    return ok;
}

/* Checks that s's operand, name and value fit its field and op. Returns
 * NULL or the reason it does not. */
static const char *spec_problem(const struct match_spec *s)
{
    bool bare = s->op == MATCH_ABSENT || s->op == MATCH_PRESENT ||
                s->op == MATCH_JSON_EQUALS;
    bool named = s->field == MATCH_HEADER || s->field == MATCH_POINTER;

    if ((s->operand == NULL) != bare)
        return bare ? "this comparison takes no text"
                    : "this comparison needs a text to compare with";
    if ((s->value != NULL) != (s->op == MATCH_JSON_EQUALS))
        return "only a JSON value comparison takes a JSON value";
    if (s->op == MATCH_JSON_EQUALS && s->field != MATCH_POINTER)
        return "a JSON value compares only with a JSON pointer's value";
    if ((s->name != NULL) != named)
        return named ? "a header or JSON pointer condition needs its name"
                     : "only a header or JSON pointer condition has a name";
    if (s->field == MATCH_HEADER && s->name[0] == '\0')
        return "a header name must not be empty";
    if (s->field == MATCH_POINTER && !pointer_valid(s->name))
        return "a JSON pointer is empty or starts with '/', and every '~' "
               "in it is '~0' or '~1'";
    return NULL;
}

/* How far one regular-expression match may go; see match_set_regex_limit. */
static atomic_uint regex_limit = MATCH_REGEX_LIMIT_DEFAULT;

void match_set_regex_limit(unsigned limit)
{
    atomic_store(&regex_limit, limit > 0 ? limit : 1);
}

/* Returns a match context holding the step and heap limits in force now,
 * made once per pattern (a context is only read while matching, so the
 * threads share it), or NULL on OOM. */
static pcre2_match_context *regex_context(void)
{
    pcre2_match_context *mc = pcre2_match_context_create(NULL);
    unsigned limit = atomic_load(&regex_limit);

    if (mc != NULL) {
        pcre2_set_match_limit(mc, limit);
        pcre2_set_depth_limit(mc, limit);
        pcre2_set_heap_limit(mc, MATCH_REGEX_HEAP_KIB);
    }
    return mc;
}

/* True when re finds a match in the len bytes at s, within the limits of
 * mc: a match that would take more than its backtracking steps (or its
 * heap) counts as no match, so that no text makes a pattern run without
 * bound. The match data lives on this call only: thread-safe. */
static bool regex_finds(const pcre2_code *re, pcre2_match_context *mc,
                        const char *s, size_t len)
{
    pcre2_match_data *md = pcre2_match_data_create(1, NULL);
    bool found = false;

    if (md != NULL)
        found = pcre2_match(re, (PCRE2_SPTR)s, len, 0, 0, md, mc) >= 0;
    pcre2_match_data_free(md);
    return found;
}

/* Adds one condition, compiling its regular expression. */
int match_rule_add_spec(struct match_rule *r, const struct match_spec *s,
                        char *why, size_t whylen)
{
    int err = -1, rc;
    PCRE2_SIZE at;
    struct match_cond c, *grown;
    const char *problem = spec_problem(s);
    char msg[200];

    memset(&c, 0, sizeof(c));
    if (problem != NULL) {
        say(why, whylen, problem);
        goto out;
    }
    c.field = s->field;
    c.op = s->op;
    say(why, whylen, "out of memory");
    if ((s->name != NULL && (c.name = strdup(s->name)) == NULL) ||
        (s->operand != NULL && (c.operand = strdup(s->operand)) == NULL) ||
        (s->value != NULL && (c.value = json_deep_copy(s->value)) == NULL))
        goto out;
    c.operand_len = c.operand != NULL ? strlen(c.operand) : 0;
    if (s->op == MATCH_REGEX) {
        c.re =
            pcre2_compile((PCRE2_SPTR)s->operand, PCRE2_ZERO_TERMINATED,
                          PCRE2_UTF | PCRE2_MATCH_INVALID_UTF | PCRE2_DOTALL |
                              PCRE2_DOLLAR_ENDONLY | PCRE2_NO_AUTO_CAPTURE |
                              (s->ignore_case ? PCRE2_CASELESS : 0),
                          &rc, &at, NULL);
        if (c.re == NULL) {
            if (pcre2_get_error_message(rc, (PCRE2_UCHAR *)msg, sizeof(msg)) <
                0)
                snprintf(msg, sizeof(msg), "error %d", rc);
            if (why != NULL && whylen > 0)
                snprintf(why, whylen,
                         "bad regular expression at offset %zu: %s", (size_t)at,
                         msg);
            goto out;
        }
        c.mc = regex_context();
        if (c.mc == NULL)
            goto out; /* why says out of memory */
    }
    grown = realloc(r->conds, (r->n + 1) * sizeof(*grown));
    if (grown == NULL)
        goto out;
    r->conds = grown;
    r->conds[r->n++] = c; /* the rule owns what c holds now */
    memset(&c, 0, sizeof(c));
    err = 0;
out:
    cond_cleanup(&c);
    return err;
}

/* How many conditions the rule holds. */
size_t match_rule_size(const struct match_rule *r)
{
    return r->n;
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

/* True when two JSON values are equal, numbers compared by value so that
 * a fixture's 1 equals a request's 1.0. */
static bool json_same(const json_t *a, const json_t *b)
{
    if (json_is_number(a) && json_is_number(b))
        return json_number_value(a) == json_number_value(b) &&
               (!json_is_integer(a) || !json_is_integer(b) ||
                json_integer_value(a) == json_integer_value(b));
    return json_equal(a, b);
}

/* True when the positive comparison of c (the op, or the op it negates)
 * holds for one value: len bytes of text at s, and the JSON value it came
 * from (or NULL). */
static bool value_holds(const struct match_cond *c, const char *s, size_t len,
                        const json_t *json)
{
    switch (c->op) {
    case MATCH_EQUALS:
    case MATCH_DIFFERS:
        return len == c->operand_len && memcmp(s, c->operand, len) == 0;
    case MATCH_CONTAINS:
    case MATCH_LACKS:
        return contains(s, len, c->operand, c->operand_len);
    case MATCH_REGEX:
        return regex_finds(c->re, c->mc, s, len);
    case MATCH_JSON_EQUALS:
        return json != NULL && json_same(json, c->value);
    default:
        return true; /* ABSENT and PRESENT only ask whether a value exists */
    }
}

/* What the walk over a field's values found. */
struct seen {
    bool present; /* the field had a value */
    bool holds;   /* one value satisfied the positive comparison */
};

/* Records one value of the field. */
static void see(struct seen *st, const struct match_cond *c, const char *s,
                size_t len, const json_t *json)
{
    st->present = true;
    if (!st->holds && s != NULL)
        st->holds = value_holds(c, s, len, json);
}

/* Records a message's text, joined from its parts when it has several. */
static void see_message(struct seen *st, const struct match_cond *c,
                        const json_t *message)
{
    const json_t *content = json_object_get(message, "content");
    char *text;

    if (json_is_string(content)) {
        see(st, c, json_string_value(content), json_string_length(content),
            content);
        return;
    }
    text = match_message_text(message);
    if (text != NULL)
        see(st, c, text, strlen(text), NULL);
    free(text);
}

/* Records a JSON value: a string's text, anything else as compact JSON. */
static void see_json(struct seen *st, const struct match_cond *c,
                     const json_t *v)
{
    char *text;

    if (json_is_string(v)) {
        see(st, c, json_string_value(v), json_string_length(v), v);
        return;
    }
    text = jsonio_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    st->present = true;
    if (text != NULL)
        see(st, c, text, strlen(text), v);
    else if (c->op == MATCH_JSON_EQUALS)
        st->holds = st->holds || json_same(v, c->value);
    free(text);
}

/* Returns the value at JSON pointer p in doc, or NULL. Borrowed. */
static const json_t *pointer_get(const json_t *doc, const char *p)
{
    char token[256];
    size_t n;
    char *end;
    unsigned long long idx;

    while (doc != NULL && *p == '/') {
        p++;
        for (n = 0; *p != '\0' && *p != '/' && n + 1 < sizeof(token); p++)
            if (*p == '~')
                token[n++] = *++p == '0' ? '~' : '/';
            else
                token[n++] = *p;
        token[n] = '\0';
        if (*p != '\0' && *p != '/')
            return NULL; /* a token longer than any real key */
        if (json_is_object(doc)) {
            doc = json_object_get(doc, token);
        } else if (json_is_array(doc) && n > 0 && token[0] >= '0' &&
                   token[0] <= '9' && (n == 1 || token[0] != '0')) {
            idx = strtoull(token, &end, 10);
            doc = *end == '\0' ? json_array_get(doc, (size_t)idx) : NULL;
        } else {
            doc = NULL;
        }
    }
    return doc;
}

/* The last message of the body, or NULL. */
static const json_t *last_message(const json_t *body)
{
    const json_t *msgs = json_object_get(body, "messages");
    size_t n = json_array_size(msgs);

    return n > 0 ? json_array_get(msgs, n - 1) : NULL;
}

/* Is m a message with this role? */
static bool has_role(const json_t *m, const char *role)
{
    const char *r = json_string_value(json_object_get(m, "role"));

    return r != NULL && strcmp(r, role) == 0;
}

/* Walks the values of a field read from the parsed body. */
static void see_chat(struct seen *st, const struct match_cond *c,
                     const json_t *body)
{
    const json_t *msgs = json_object_get(body, "messages"), *m, *v;
    char num[24];
    size_t i, users = 0;

    switch (c->field) {
    case MATCH_MODEL:
        if (json_is_string(v = json_object_get(body, "model")))
            see_json(st, c, v);
        break;
    case MATCH_LAST_USER:
        if ((m = match_last_user(body)) != NULL)
            see_message(st, c, m);
        break;
    case MATCH_ANY_MESSAGE:
        json_array_foreach(msgs, i, m) see_message(st, c, m);
        break;
    case MATCH_TURN:
        if (!json_is_array(msgs))
            break;
        json_array_foreach(msgs, i, m) users += has_role(m, "user");
        snprintf(num, sizeof(num), "%zu", users);
        see(st, c, num, strlen(num), NULL);
        break;
    case MATCH_LAST_ROLE:
        v = json_object_get(last_message(body), "role");
        if (json_is_string(v))
            see_json(st, c, v);
        break;
    case MATCH_TOOL_CALL_ID:
        m = last_message(body);
        v = json_object_get(m, "tool_call_id");
        if (has_role(m, "tool") && json_is_string(v))
            see_json(st, c, v);
        break;
    case MATCH_TOOL_RESULT:
        if (has_role(m = last_message(body), "tool"))
            see_message(st, c, m);
        break;
    case MATCH_STREAM:
        v = json_object_get(body, "stream");
        see(st, c, json_is_true(v) ? "true" : "false", json_is_true(v) ? 4 : 5,
            NULL);
        break;
    case MATCH_TOOL_NAME:
        json_array_foreach(json_object_get(body, "tools"), i, m)
        {
            v = json_object_get(json_object_get(m, "function"), "name");
            if (json_is_string(v))
                see_json(st, c, v);
        }
        break;
    default: /* MATCH_POINTER */
        if ((v = pointer_get(body, c->name)) != NULL)
            see_json(st, c, v);
        break;
    }
}

/* Walks the values of the condition's field in v. */
static void see_field(struct seen *st, const struct match_cond *c,
                      const struct match_view *v)
{
    const char *s = NULL;

    switch (c->field) {
    case MATCH_METHOD:
        s = v->method;
        break;
    case MATCH_PATH:
        s = v->path;
        break;
    case MATCH_AUTHORIZATION:
        s = v->authorization;
        break;
    case MATCH_BODY:
        /* A request without a body has an empty one. */
        see(st, c, v->body != NULL ? v->body : "",
            v->body != NULL ? v->body_len : 0, NULL);
        return;
    case MATCH_HEADER:
        s = v->header != NULL ? v->header(v->header_ctx, c->name) : NULL;
        if (s == NULL && strcasecmp(c->name, "authorization") == 0)
            s = v->authorization;
        break;
    case MATCH_KEY:
        s = v->key;
        break;
    case MATCH_PLAN:
        s = v->plan;
        break;
    default:
        /* The chat fields need the body as a JSON object. */
        if (json_is_object(v->json) ||
            (c->field == MATCH_POINTER && v->json != NULL))
            see_chat(st, c, v->json);
        return;
    }
    if (s != NULL)
        see(st, c, s, strlen(s), NULL);
}

/* True when one condition holds. */
static bool cond_holds(const struct match_cond *c, const struct match_view *v)
{
    struct seen st = {false, false};

    see_field(&st, c, v);
    switch (c->op) {
    case MATCH_ABSENT:
        return !st.present;
    case MATCH_PRESENT:
        return st.present;
    case MATCH_LACKS:
    case MATCH_DIFFERS:
        return !st.holds;
    default:
        return st.holds;
    }
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

/* Joins the text of a message's content. */
char *match_message_text(const json_t *message)
{
    const json_t *content = json_object_get(message, "content"), *part, *t;
    struct buf b;
    bool any = false, ok = true;
    char *text = NULL;
    size_t i;

    if (json_is_string(content))
        return strdup(json_string_value(content));
    buf_init(&b, MATCH_TEXT_MAX);
    json_array_foreach(content, i, part)
    {
        t = json_object_get(part, "text");
        if (!json_is_string(t))
            continue;
        ok = ok && (!any || buf_append(&b, "\n", 1) == 0) &&
             buf_append(&b, json_string_value(t), json_string_length(t)) == 0;
        any = true;
    }
    if (any && ok)
        text = buf_take(&b, NULL);
    buf_cleanup(&b);
    return text;
}

/* Finds the last user message. */
const json_t *match_last_user(const json_t *body)
{
    const json_t *msgs = json_object_get(body, "messages"), *m = NULL;
    size_t n;

    for (n = json_array_size(msgs); n > 0; n--) {
        m = json_array_get(msgs, n - 1);
        if (has_role(m, "user"))
            return m;
    }
    return NULL;
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
