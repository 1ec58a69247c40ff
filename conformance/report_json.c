/* report_json: writes the run as one JSON document, built with jansson. */
#include "result.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Enough digits to print evidence numbers as written (0.1, not 0.1000...1),
 * and keys kept in the order they were set, which is the order people read. */
#define REPORT_JSON_FLAGS                                                      \
    (JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15))

/* Returns a new JSON string for s (cleaned to UTF-8), or null for NULL. */
static json_t *text_or_null(const char *s)
{
    json_t *v = NULL;
    char *clean;

    if (s == NULL) {
        v = json_null();
        goto out;
    }
    clean = results_utf8_clean(s, strlen(s));
    if (clean != NULL)
        v = json_string(clean);
    free(clean);
out:
    return v;
}

/* Returns a new JSON string for s, "" for NULL. */
static json_t *text(const char *s)
{
    return text_or_null(s != NULL ? s : "");
}

/* Rounds a duration to milliseconds (no libm needed); nonsense reads 0. */
static double seconds_round(double d)
{
    double r = 0;

    if (isfinite(d) && d > 0)
        r = d < 1e9 ? (double)(long long)(d * 1000 + 0.5) / 1000 : d;
    return r;
}

/* Builds the "meta" object; every field is null when not known. */
static json_t *meta_build(const struct report_meta *m)
{
    json_t *meta = json_object(), *out = NULL;
    double d = seconds_round(m != NULL ? m->duration_s : 0);

    if (meta == NULL)
        goto out;
    if (json_object_set_new(meta, "tool", json_string("nexus-conform")) ||
        json_object_set_new(meta, "version",
                            text_or_null(m ? m->version : NULL)) ||
        json_object_set_new(meta, "base_url",
                            text_or_null(m ? m->base_url : NULL)) ||
        json_object_set_new(meta, "model", text_or_null(m ? m->model : NULL)) ||
        json_object_set_new(meta, "profile",
                            text_or_null(m ? m->profile : NULL)) ||
        json_object_set_new(meta, "started",
                            text_or_null(m ? m->started : NULL)) ||
        json_object_set_new(meta, "duration_s", json_real(d)) ||
        json_object_set_new(meta, "mode", text_or_null(m ? m->mode : NULL)))
        goto out;
    out = meta;
    meta = NULL;
out:
    json_decref(meta);
    return out;
}

/* Builds one entry of "checks". */
static json_t *check_build(const struct check_result *c)
{
    json_t *o = json_object(), *out = NULL;
    json_t *ev = c->evidence != NULL ? json_incref(c->evidence) : json_null();

    if (o == NULL || ev == NULL)
        goto out;
    if (json_object_set_new(o, "id", text(c->id)) ||
        json_object_set_new(o, "group", text(c->group)) ||
        json_object_set_new(o, "status",
                            json_string(check_status_name(c->status))) ||
        json_object_set_new(o, "level", text_or_null(c->level)) ||
        json_object_set_new(o, "basis", text_or_null(c->basis)) ||
        json_object_set_new(o, "message", text(c->message)) ||
        json_object_set_new(o, "impact", text_or_null(c->impact)) ||
        json_object_set_new(o, "impacts",
                            c->impacts != NULL ? json_incref(c->impacts)
                                               : json_null()) ||
        json_object_set_new(o, "fix", text_or_null(c->fix)) ||
        json_object_set_new(o, "rule", text(c->rule)) ||
        json_object_set_new(o, "source", text(c->source)))
        goto out;
    /* set_new steals ev even when it fails. */
    if (json_object_set_new(o, "evidence", ev) != 0) {
        ev = NULL;
        goto out;
    }
    ev = NULL;
    out = o;
    o = NULL;
out:
    json_decref(ev);
    json_decref(o);
    return out;
}

/* Builds the "summary" object. */
static json_t *summary_build(const struct results *r)
{
    struct results_summary s = results_summarize(r);

    return json_pack("{s:I, s:I, s:I, s:I}", "passed", (json_int_t)s.passed,
                     "failed", (json_int_t)s.failed, "warned",
                     (json_int_t)s.warned, "skipped", (json_int_t)s.skipped);
}

/* Builds the whole document: meta, checks in run order, summary. */
int report_json_write(const struct results *r, const struct report_meta *m,
                      FILE *out)
{
    int err = -1;
    json_t *root = json_object(), *checks = json_array();
    size_t i;

    if (root == NULL || checks == NULL)
        goto out;
    for (i = 0; i < r->n; i++) {
        if (json_array_append_new(checks, check_build(&r->items[i])) != 0)
            goto out;
    }
    if (json_object_set_new(root, "meta", meta_build(m)) != 0)
        goto out;
    if (json_object_set_new(root, "checks", checks) != 0) {
        checks = NULL; /* stolen even on failure */
        goto out;
    }
    checks = NULL;
    if (json_object_set_new(root, "summary", summary_build(r)) != 0)
        goto out;
    if (json_dumpf(root, out, REPORT_JSON_FLAGS) != 0 ||
        fputc('\n', out) == EOF || fflush(out) != 0 || ferror(out))
        goto out;
    err = 0;
out:
    json_decref(checks);
    json_decref(root);
    return err;
}
