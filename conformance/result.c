/* result: the list of check outcomes, kept in valid UTF-8 for every report. */
#include "result.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "utf8.h"

/* A run has a few hundred checks; this only stops a runaway loop. */
#define RESULTS_MAX 100000
/* A message is one sentence; server bytes quoted in it are cut here. */
#define RESULTS_MESSAGE_MAX 4096
/* Evidence nested deeper than this is hostile or cyclic; it is replaced. */
#define RESULTS_EVIDENCE_DEPTH 64

/* Copies a cleaned string for public use. */
char *results_utf8_clean(const char *s, size_t len)
{
    return utf8_scrub_dup(s != NULL ? s : "", s != NULL ? len : 0, NULL);
}

/* Copies a C string (NULL reads as "") as valid UTF-8. */
static char *text_dup(const char *s)
{
    return results_utf8_clean(s, s != NULL ? strlen(s) : 0);
}

/* Formats the message, cut to RESULTS_MESSAGE_MAX bytes, as valid UTF-8. */
__attribute__((format(printf, 1, 0))) static char *
message_format(const char *fmt, va_list ap)
{
    char *msg;
    struct buf raw;

    buf_init(&raw, RESULTS_MESSAGE_MAX + 3);
    if (fmt == NULL)
        msg = text_dup("");
    else if (buf_vappendf_cut(&raw, RESULTS_MESSAGE_MAX, fmt, ap) != 0)
        msg = text_dup("(the message could not be formatted)");
    else
        msg = results_utf8_clean(buf_str(&raw), raw.len);
    buf_cleanup(&raw);
    return msg;
}

/* True if every string and key in v is valid UTF-8 and v is not nested
 * deeper than the cap. */
static bool evidence_is_clean(json_t *v, int depth)
{
    bool ok = false;
    const char *key;
    size_t key_len, i;
    json_t *child;

    if (depth > RESULTS_EVIDENCE_DEPTH)
        goto out;
    if (json_is_string(v)) {
        ok = utf8_valid(json_string_value(v), json_string_length(v));
        goto out;
    }
    if (json_is_object(v)) {
        json_object_keylen_foreach(v, key, key_len, child)
        {
            if (!utf8_valid(key, key_len) ||
                !evidence_is_clean(child, depth + 1))
                goto out;
        }
    } else if (json_is_array(v)) {
        json_array_foreach(v, i, child)
        {
            if (!evidence_is_clean(child, depth + 1))
                goto out;
        }
    }
    ok = true;
out:
    return ok;
}

/* Returns a new reference to a copy of v whose strings and keys are valid
 * UTF-8 and whose too-deep parts are replaced by a note; NULL on OOM. */
static json_t *evidence_copy(json_t *v, int depth)
{
    json_t *copy = NULL, *out = NULL, *child;
    const char *key;
    size_t key_len, i, n;
    char *text = NULL;

    if (depth > RESULTS_EVIDENCE_DEPTH) {
        out = json_string("(evidence nested too deeply)");
        goto out;
    }
    if (json_is_string(v)) {
        text = utf8_scrub_dup(json_string_value(v), json_string_length(v), &n);
        if (text != NULL)
            out = json_stringn(text, n);
    } else if (json_is_object(v)) {
        copy = json_object();
        if (copy == NULL)
            goto out;
        json_object_keylen_foreach(v, key, key_len, child)
        {
            free(text);
            text = utf8_scrub_dup(key, key_len, &n);
            if (text == NULL ||
                json_object_setn_new(copy, text, n,
                                     evidence_copy(child, depth + 1)) != 0)
                goto out;
        }
        out = copy;
        copy = NULL;
    } else if (json_is_array(v)) {
        copy = json_array();
        if (copy == NULL)
            goto out;
        json_array_foreach(v, i, child)
        {
            if (json_array_append_new(copy, evidence_copy(child, depth + 1)) !=
                0)
                goto out;
        }
        out = copy;
        copy = NULL;
    } else {
        out = json_incref(v); /* numbers, booleans and null */
    }
out:
    free(text);
    json_decref(copy);
    return out;
}

/* Takes the evidence reference and returns one that is safe to render:
 * itself when already clean, else a cleaned copy. NULL on OOM. */
static json_t *evidence_take(json_t *ev)
{
    json_t *out = NULL;

    if (ev == NULL || evidence_is_clean(ev, 0)) {
        out = ev;
        ev = NULL;
    } else {
        out = evidence_copy(ev, 0);
    }
    json_decref(ev);
    return out;
}

/* Frees what one result owns. */
static void result_free(struct check_result *c)
{
    free(c->id);
    free(c->group);
    free(c->message);
    free(c->rule);
    free(c->source);
    free(c->level);
    free(c->basis);
    free(c->impact);
    free(c->fix);
    json_decref(c->evidence);
    json_decref(c->impacts);
    memset(c, 0, sizeof(*c));
}

/* Makes room for one more result, doubling up to RESULTS_MAX. */
static int results_grow(struct results *r)
{
    int err = -1;
    size_t ncap;
    struct check_result *items;

    if (r->n < r->cap) {
        err = 0;
        goto out;
    }
    if (r->cap >= RESULTS_MAX)
        goto out;
    ncap = r->cap ? r->cap * 2 : 32;
    if (ncap > RESULTS_MAX)
        ncap = RESULTS_MAX;
    items = realloc(r->items, ncap * sizeof(*items));
    if (items == NULL)
        goto out;
    r->items = items;
    r->cap = ncap;
    err = 0;
out:
    return err;
}

/* Starts an empty list. */
void results_init(struct results *r)
{
    r->items = NULL;
    r->n = 0;
    r->cap = 0;
}

/* Frees every result and the array. */
void results_cleanup(struct results *r)
{
    size_t i;

    for (i = 0; i < r->n; i++)
        result_free(&r->items[i]);
    free(r->items);
    results_init(r);
}

/* Builds the result in a local first, so a failure leaves the list as it
 * was and frees only what this call made. */
struct check_result *results_add(struct results *r, const char *id,
                                 const char *group, enum check_status status,
                                 const char *rule, const char *source,
                                 json_t *evidence, const char *fmt, ...)
{
    struct check_result *added = NULL;
    struct check_result c;
    va_list ap;

    memset(&c, 0, sizeof(c));
    c.status = status;
    if (evidence != NULL) {
        c.evidence = evidence_take(evidence);
        evidence = NULL; /* taken: freed with c on any failure below */
        if (c.evidence == NULL)
            goto out;
    }
    va_start(ap, fmt);
    c.message = message_format(fmt, ap);
    va_end(ap);
    c.id = text_dup(id);
    c.group = text_dup(group);
    c.rule = text_dup(rule);
    c.source = text_dup(source);
    if (c.message == NULL || c.id == NULL || c.group == NULL ||
        c.rule == NULL || c.source == NULL || results_grow(r) != 0)
        goto out;
    r->items[r->n] = c;
    added = &r->items[r->n];
    r->n++;
    memset(&c, 0, sizeof(c)); /* the list owns it all now */
out:
    result_free(&c);
    return added;
}

/* Copies s as clean UTF-8 into *to, NULL for NULL. Returns 0 or -1. */
static int text_set(char **to, const char *s)
{
    *to = s != NULL ? text_dup(s) : NULL;
    return s != NULL && *to == NULL ? -1 : 0;
}

/* Copies all three first, so that a failure changes nothing. */
int results_describe(struct check_result *c, const char *level,
                     const char *impact, const char *fix)
{
    int err = -1;
    char *l = NULL, *i = NULL, *f = NULL;

    if (text_set(&l, level) != 0 || text_set(&i, impact) != 0 ||
        text_set(&f, fix) != 0)
        goto out;
    free(c->level);
    free(c->impact);
    free(c->fix);
    c->level = l;
    c->impact = i;
    c->fix = f;
    l = i = f = NULL; /* c owns them now */
    err = 0;
out:
    free(l);
    free(i);
    free(f);
    return err;
}

/* Gives c its basis and its impacts. */
int results_classify(struct check_result *c, const char *basis, json_t *impacts)
{
    int err = -1;
    char *b = NULL;

    if (text_set(&b, basis) != 0)
        goto out;
    free(c->basis);
    json_decref(c->impacts);
    c->basis = b;
    c->impacts = impacts;
    b = NULL;
    impacts = NULL; /* c owns them now */
    err = 0;
out:
    free(b);
    json_decref(impacts);
    return err;
}

/* Counts each status once. */
struct results_summary results_summarize(const struct results *r)
{
    struct results_summary s = {0, 0, 0, 0};
    size_t i;

    for (i = 0; i < r->n; i++) {
        switch (r->items[i].status) {
        case CHECK_PASS:
            s.passed++;
            break;
        case CHECK_FAIL:
            s.failed++;
            break;
        case CHECK_WARN:
            s.warned++;
            break;
        case CHECK_SKIP:
            s.skipped++;
            break;
        }
    }
    return s;
}

/* How each status is written: its name in the JSON report and the label
 * the terminal and HTML reports show. */
static const struct {
    const char *name;
    const char *label;
} status_words[] = {
    [CHECK_PASS] = {"pass", "PASS"},
    [CHECK_FAIL] = {"fail", "FAIL"},
    [CHECK_WARN] = {"warn", "WARN"},
    [CHECK_SKIP] = {"skip", "SKIP"},
};

/* Names a status as the JSON report spells it. */
const char *check_status_name(enum check_status s)
{
    return (size_t)s < sizeof(status_words) / sizeof(status_words[0])
               ? status_words[s].name
               : "unknown";
}

/* Labels a status as the terminal and HTML reports print it. */
const char *check_status_label(enum check_status s)
{
    return (size_t)s < sizeof(status_words) / sizeof(status_words[0])
               ? status_words[s].label
               : "????";
}

/* Compares the groups of two results, reading NULL as "". */
bool results_same_group(const struct check_result *a,
                        const struct check_result *b)
{
    return strcmp(a->group != NULL ? a->group : "",
                  b->group != NULL ? b->group : "") == 0;
}

/* Finds each group's first result with one pass per result over the groups
 * seen so far: a run has a handful of groups. */
int results_groups(const struct results *r, size_t **firsts, size_t *ngroups)
{
    int err = -1;
    size_t *found = NULL;
    size_t n = 0, i, g;

    *firsts = NULL;
    *ngroups = 0;
    if (r->n > 0) {
        found = malloc(r->n * sizeof(*found));
        if (found == NULL)
            goto out;
    }
    for (i = 0; i < r->n; i++) {
        for (g = 0; g < n; g++) {
            if (results_same_group(&r->items[found[g]], &r->items[i]))
                break;
        }
        if (g == n)
            found[n++] = i;
    }
    *firsts = found; /* the caller owns it now */
    found = NULL;
    *ngroups = n;
    err = 0;
out:
    free(found);
    return err;
}
