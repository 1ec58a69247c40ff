/* live: fixture files plus runtime rules, rebuilt under one lock. */
#include "live.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonio.h"
#include "rules.h"

/* One rule added at runtime, kept as JSON text so that every rebuild
 * reads it through the loader again. */
struct live_rule {
    uint64_t id;
    char doc[32]; /* "runtime-ID": names it in errors and default names */
    char *name;   /* owned; its "name", or NULL */
    char *text;   /* owned; the rule as JSON */
};

struct live {
    pthread_mutex_t lock; /* over everything below and every rebuild */
    const char *const *paths;
    size_t npaths;
    const struct fixtures *fx; /* the running world */
    struct rules_slot *slot;
    struct live_rule *rules; /* owned, nrules of them, in order */
    size_t nrules;
    uint64_t next_id;
};

struct live *live_new(const char *const *paths, size_t n,
                      const struct fixtures *fx, struct rules_slot *slot)
{
    struct live *l = calloc(1, sizeof(*l));

    if (l == NULL)
        return NULL;
    pthread_mutex_init(&l->lock, NULL);
    l->paths = paths;
    l->npaths = n;
    l->fx = fx;
    l->slot = slot;
    l->next_id = 1;
    return l;
}

/* Frees what one runtime rule owns. */
static void rule_cleanup(struct live_rule *r)
{
    free(r->name);
    free(r->text);
}

void live_free(struct live *l)
{
    size_t i;

    if (l == NULL)
        return;
    for (i = 0; i < l->nrules; i++)
        rule_cleanup(&l->rules[i]);
    free(l->rules);
    pthread_mutex_destroy(&l->lock);
    free(l);
}

/* Loads the files, the n runtime rules and extra (NULL: none) into *out,
 * checking that the world did not change. Returns 0, -1 with *err filled,
 * or -3 on OOM. Called with the lock held. */
static int rebuild(struct live *l, const struct live_rule *rules, size_t n,
                   const struct fx_doc *extra, struct fixtures **out,
                   struct live_error *err)
{
    struct fx_doc *docs = calloc(n + 1, sizeof(*docs));
    struct fixtures *fx = NULL;
    size_t i;
    int rc = -3;

    *out = NULL;
    memset(err, 0, sizeof(*err));
    if (docs == NULL)
        goto out;
    for (i = 0; i < n; i++) {
        docs[i].name = rules[i].doc;
        docs[i].data = rules[i].text;
        docs[i].len = strlen(rules[i].text);
    }
    if (extra != NULL)
        docs[n++] = *extra;
    rc = -1;
    if (fixtures_load_runtime(l->paths, l->npaths, docs, n, &fx, &err->load) !=
        0)
        goto out;
    if (!fixtures_same_world(l->fx, fx, &err->changed))
        goto out;
    *out = fx;
    fx = NULL;
    rc = 0;
out:
    fixtures_free(fx);
    free(docs);
    return rc;
}

/* Puts fx's rules in the slot and frees the rest of fx. */
static void install(struct live *l, struct fixtures *fx)
{
    rules_slot_set(l->slot, rules_ref(fx->rules));
    fixtures_free(fx);
}

int live_reload(struct live *l, size_t *nrules, struct live_error *err)
{
    struct fixtures *fx;
    int rc;

    pthread_mutex_lock(&l->lock);
    rc = rebuild(l, l->rules, l->nrules, NULL, &fx, err);
    if (rc == 0) {
        *nrules = rules_count(fx->rules);
        install(l, fx);
    }
    pthread_mutex_unlock(&l->lock);
    return rc;
}

/* Appends elem as a new runtime rule (not yet counted in l->nrules: the
 * caller commits). Returns 0, or -3 on OOM. */
static int stage(struct live *l, size_t at, const json_t *elem)
{
    struct live_rule *r = &l->rules[at];
    const char *name = json_string_value(json_object_get(elem, "name"));

    memset(r, 0, sizeof(*r));
    r->id = l->next_id + (at - l->nrules);
    snprintf(r->doc, sizeof(r->doc), "runtime-%" PRIu64, r->id);
    r->text = jsonio_dumps(elem, JSON_ENCODE_ANY);
    r->name = name != NULL ? strdup(name) : NULL;
    if (r->text == NULL || (name != NULL && r->name == NULL)) {
        rule_cleanup(r);
        return -3;
    }
    return 0;
}

/* The {"id", "name"} of runtime rule r. */
static json_t *rule_ref_json(const struct live_rule *r)
{
    return json_pack("{s:I, s:s?}", "id", (json_int_t)r->id, "name", r->name);
}

int live_add(struct live *l, const char *name, const char *body, size_t len,
             json_t **added, struct live_error *err)
{
    struct fx_doc doc = {name, body, len};
    struct fixtures *fx = NULL;
    json_t *parsed = NULL, *list = NULL;
    struct live_rule *grown;
    json_error_t jerr;
    bool oom = false;
    size_t n = 0, i, staged = 0;
    int rc;

    *added = NULL;
    pthread_mutex_lock(&l->lock);
    /* Validated as given, so the loader's messages point into the body. */
    rc = rebuild(l, l->rules, l->nrules, &doc, &fx, err);
    fixtures_free(fx);
    fx = NULL;
    if (rc != 0)
        goto out;
    rc = -2;
    parsed = jsonio_loadb(body, len, 0, &jerr, &oom);
    if (oom)
        rc = -3;
    if (parsed == NULL || !(json_is_object(parsed) || json_is_array(parsed)))
        goto out;
    n = json_is_array(parsed) ? json_array_size(parsed) : 1;
    rc = -3;
    grown = realloc(l->rules, (l->nrules + n + 1) * sizeof(*grown));
    if (grown == NULL)
        goto out;
    l->rules = grown;
    for (staged = 0; staged < n; staged++)
        if (stage(l, l->nrules + staged,
                  json_is_array(parsed) ? json_array_get(parsed, staged)
                                        : parsed) != 0)
            goto out;
    rc = rebuild(l, l->rules, l->nrules + n, NULL, &fx, err);
    if (rc != 0)
        goto out;
    list = json_array();
    for (i = 0; list != NULL && i < n; i++)
        if (json_array_append_new(list,
                                  rule_ref_json(&l->rules[l->nrules + i])) != 0)
            break;
    if (list == NULL || i < n) {
        rc = -3;
        goto out;
    }
    install(l, fx);
    fx = NULL;
    l->nrules += n;
    l->next_id += n;
    staged = 0;
    *added = list;
    list = NULL;
    rc = 0;
out:
    for (i = 0; i < staged; i++)
        rule_cleanup(&l->rules[l->nrules + i]);
    fixtures_free(fx);
    json_decref(list);
    json_decref(parsed);
    pthread_mutex_unlock(&l->lock);
    return rc;
}

/* True when runtime rule r is one live_remove(id, name) removes. */
static bool removes(const struct live_rule *r, uint64_t id, const char *name)
{
    if (id == 0 && name == NULL)
        return true;
    if (id != 0)
        return r->id == id;
    return r->name != NULL && strcmp(r->name, name) == 0;
}

long live_remove(struct live *l, uint64_t id, const char *name,
                 struct live_error *err)
{
    struct live_rule *kept = NULL;
    struct fixtures *fx = NULL;
    size_t i, n = 0;
    long rc = -3;

    pthread_mutex_lock(&l->lock);
    kept = malloc((l->nrules + 1) * sizeof(*kept));
    if (kept == NULL)
        goto out;
    for (i = 0; i < l->nrules; i++)
        if (!removes(&l->rules[i], id, name))
            kept[n++] = l->rules[i];
    rc = 0;
    if (n == l->nrules)
        goto out;
    rc = rebuild(l, kept, n, NULL, &fx, err);
    if (rc != 0)
        goto out;
    install(l, fx);
    rc = (long)(l->nrules - n);
    for (i = 0; i < l->nrules; i++)
        if (removes(&l->rules[i], id, name))
            rule_cleanup(&l->rules[i]);
    memcpy(l->rules, kept, n * sizeof(*kept));
    l->nrules = n;
out:
    free(kept);
    pthread_mutex_unlock(&l->lock);
    return rc;
}

json_t *live_list(struct live *l)
{
    json_t *list = json_array();
    json_error_t jerr;
    bool oom;
    size_t i;

    pthread_mutex_lock(&l->lock);
    for (i = 0; list != NULL && i < l->nrules; i++) {
        json_t *one = rule_ref_json(&l->rules[i]);

        /* set_new and append_new take their value even when they fail. */
        if (one == NULL ||
            json_object_set_new(one, "rule",
                                jsonio_loadb(l->rules[i].text,
                                             strlen(l->rules[i].text), 0, &jerr,
                                             &oom)) != 0) {
            json_decref(one);
            one = NULL;
        }
        if (one == NULL || json_array_append_new(list, one) != 0) {
            json_decref(list);
            list = NULL;
        }
    }
    pthread_mutex_unlock(&l->lock);
    return list;
}
