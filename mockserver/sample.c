/* sample: a small JSON Schema instance generator. */
#include "sample.h"

#include <string.h>

#include "buf.h"
#include "lexicon.h"

/* Deep schemas (or reference cycles) stop here with a null. */
#define SAMPLE_MAX_DEPTH 12

static json_t *sample(const json_t *schema, const json_t *root, uint64_t *state,
                      int depth);

/* Follows "#/a/b" inside root; NULL if it does not resolve. */
static const json_t *resolve_ref(const json_t *root, const char *ref)
{
    const json_t *at = root;
    const char *p;

    if (strncmp(ref, "#", 1) != 0)
        return NULL;
    p = ref + 1;
    while (*p == '/' && at != NULL) {
        char name[128];
        size_t n = strcspn(p + 1, "/");

        if (n >= sizeof(name))
            return NULL;
        memcpy(name, p + 1, n);
        name[n] = '\0';
        at = json_object_get(at, name);
        p += 1 + n;
    }
    return *p == '\0' ? at : NULL;
}

/* The first type a schema names, skipping "null" when it has others. */
static const char *schema_type(const json_t *schema)
{
    const json_t *t = json_object_get(schema, "type");
    size_t i;
    const json_t *item;

    if (json_is_string(t))
        return json_string_value(t);
    json_array_foreach(t, i, item)
    {
        if (json_is_string(item) &&
            strcmp(json_string_value(item), "null") != 0)
            return json_string_value(item);
    }
    if (json_array_size(t) > 0)
        return "null";
    if (json_object_get(schema, "properties") != NULL)
        return "object";
    if (json_object_get(schema, "items") != NULL)
        return "array";
    return "string";
}

/* A short run of lexicon words, or a fixed value for known formats. */
static json_t *sample_string(const json_t *schema, uint64_t *state)
{
    const char *format = json_string_value(json_object_get(schema, "format"));
    struct buf b;
    json_t *s;
    unsigned i, n = 1 + (unsigned)(lexicon_rand(state) % 3);

    if (format != NULL && strcmp(format, "date-time") == 0)
        return json_string("2025-06-17T12:00:00Z");
    if (format != NULL && strcmp(format, "date") == 0)
        return json_string("2025-06-17");
    if (format != NULL && strcmp(format, "email") == 0)
        return json_string("mock@example.com");
    if (format != NULL &&
        (strcmp(format, "uri") == 0 || strcmp(format, "url") == 0))
        return json_string("https://example.com/mock");
    buf_init(&b, 4096);
    for (i = 0; i < n; i++)
        if ((i > 0 && buf_append(&b, " ", 1) != 0) ||
            buf_appends(&b, lexicon_word(state)) != 0)
            break;
    s = json_string(b.data ? b.data : "mock");
    buf_cleanup(&b);
    return s;
}

/* A number between the schema's bounds (defaults 0..100). */
static json_t *sample_number(const json_t *schema, uint64_t *state, int integer)
{
    const json_t *lo = json_object_get(schema, "minimum");
    const json_t *hi = json_object_get(schema, "maximum");
    double min = json_is_number(lo) ? json_number_value(lo) : 0;
    double max = json_is_number(hi) ? json_number_value(hi) : min + 100;
    double span = max > min ? max - min : 0;
    uint64_t r = lexicon_rand(state);

    if (integer) {
        json_int_t base = (json_int_t)min;

        if ((double)base < min)
            base++;
        return json_integer(
            span >= 1 ? base + (json_int_t)(r % (uint64_t)(span + 1)) : base);
    }
    return json_real(min + span * (double)(r % 1000) / 1000.0);
}

/* An object with every listed property (required ones first in order). */
static json_t *sample_object(const json_t *schema, const json_t *root,
                             uint64_t *state, int depth)
{
    const json_t *props = json_object_get(schema, "properties");
    const char *key;
    const json_t *sub;
    json_t *o = json_object();

    json_object_foreach((json_t *)props, key, sub)
    {
        if (o == NULL ||
            json_object_set_new(o, key, sample(sub, root, state, depth + 1)) !=
                0) {
            json_decref(o);
            return NULL;
        }
    }
    return o;
}

/* An array of minItems..maxItems (default 1..3) sampled items. */
static json_t *sample_array(const json_t *schema, const json_t *root,
                            uint64_t *state, int depth)
{
    const json_t *items = json_object_get(schema, "items");
    const json_t *lo = json_object_get(schema, "minItems");
    const json_t *hi = json_object_get(schema, "maxItems");
    json_int_t min = json_is_integer(lo) ? json_integer_value(lo) : 1;
    json_int_t max = json_is_integer(hi) ? json_integer_value(hi) : min + 2;
    json_int_t n, i;
    json_t *a = json_array();

    if (min < 0)
        min = 0;
    if (max < min)
        max = min;
    if (max > min + 4)
        max = min + 4;
    n = min + (json_int_t)(lexicon_rand(state) % (uint64_t)(max - min + 1));
    for (i = 0; a != NULL && i < n; i++)
        if (json_array_append_new(a, sample(items, root, state, depth + 1)) !=
            0) {
            json_decref(a);
            return NULL;
        }
    return a;
}

/* Merges the properties of every allOf member into one object. */
static json_t *sample_all_of(const json_t *all, const json_t *root,
                             uint64_t *state, int depth)
{
    json_t *o = json_object();
    size_t i;
    const json_t *part;

    json_array_foreach(all, i, part)
    {
        json_t *v = sample(part, root, state, depth + 1);

        if (json_is_object(v))
            json_object_update(o, v);
        json_decref(v);
    }
    return o;
}

static json_t *sample(const json_t *schema, const json_t *root, uint64_t *state,
                      int depth)
{
    const json_t *v;
    const char *type;

    if (depth > SAMPLE_MAX_DEPTH || !json_is_object(schema))
        return json_is_true(schema) || schema == NULL ? json_string("mock")
                                                      : json_null();
    if ((v = json_object_get(schema, "$ref")) != NULL)
        return sample(
            resolve_ref(root, json_string_value(v) ? json_string_value(v) : ""),
            root, state, depth + 1);
    if ((v = json_object_get(schema, "const")) != NULL)
        return json_deep_copy(v);
    if (json_array_size(v = json_object_get(schema, "enum")) > 0)
        return json_deep_copy(
            json_array_get(v, lexicon_rand(state) % json_array_size(v)));
    if (json_array_size(v = json_object_get(schema, "anyOf")) > 0 ||
        json_array_size(v = json_object_get(schema, "oneOf")) > 0)
        return sample(json_array_get(v, 0), root, state, depth + 1);
    if (json_array_size(v = json_object_get(schema, "allOf")) > 0)
        return sample_all_of(v, root, state, depth);
    type = schema_type(schema);
    if (strcmp(type, "object") == 0)
        return sample_object(schema, root, state, depth);
    if (strcmp(type, "array") == 0)
        return sample_array(schema, root, state, depth);
    if (strcmp(type, "integer") == 0)
        return sample_number(schema, state, 1);
    if (strcmp(type, "number") == 0)
        return sample_number(schema, state, 0);
    if (strcmp(type, "boolean") == 0)
        return json_boolean(lexicon_rand(state) & 1);
    if (strcmp(type, "null") == 0)
        return json_null();
    return sample_string(schema, state);
}

json_t *sample_from_schema(const json_t *schema, const json_t *root,
                           uint64_t *state)
{
    return sample(schema, root ? root : schema, state, 0);
}
