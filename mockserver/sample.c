/* sample: a small JSON Schema instance generator that spends a budget. */
#include "sample.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "lexicon.h"

/* Below this many levels a rich value turns smallest, so that optional
 * recursion (trees, linked lists) ends early and well inside the budget. */
#define SAMPLE_RICH_DEPTH 8u
/* Every integer up to 2^53 is a double; past it no step is representable. */
#define SAMPLE_EXACT 9007199254740992.0
/* The largest double below 2^63: integers up to it convert to int64. */
#define SAMPLE_INT64_MAX 9223372036854774784.0
/* The most bytes a real takes in compact JSON ("-1.2345678901234567e-308"
 * is 24). */
#define SAMPLE_REAL_BYTES 24u
/* Spans wider than this are not drawn from whole: values stay near 0. */
#define SAMPLE_WIDE_SPAN 1e6

/* One step down a schema: how it was reached from the step above, so that
 * a fault can name its keyword by path. */
struct trail {
    const struct trail *up;
    const char *key; /* member of the schema above ("items"), or NULL */
    const char *sub; /* member of that member ("x" of properties.x) */
    size_t index;    /* element of key's array, when has_index */
    bool has_index;
    const char *ref;      /* reached through "$ref": its text; the path
                           * restarts from the pointer */
    const json_t *schema; /* the schema at this step */
    bool minimal;         /* generated as the smallest value */
};

/* One generation: the document, its randomness and what it may spend. */
struct gen {
    const json_t *root;
    uint64_t *state; /* NULL: the smallest value */
    struct budget *b;
    struct sample_fault *fault;
};

static json_t *gen_value(const json_t *schema, struct gen *g,
                         const struct trail *t, unsigned depth);

/* Appends printf-style text to out (of outlen, holding *len), truncating. */
static void appendf(char *out, size_t outlen, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void appendf(char *out, size_t outlen, size_t *len, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (*len + 1 >= outlen)
        return;
    va_start(ap, fmt);
    n = vsnprintf(out + *len, outlen - *len, fmt, ap);
    va_end(ap);
    if (n > 0)
        *len += (size_t)n < outlen - *len ? (size_t)n : outlen - *len - 1;
}

/* Writes the path of step t into out: from the pointer of the nearest
 * "$ref" above it (or the schema's top), one segment per step. */
static void trail_render(const struct trail *t, char *out, size_t outlen,
                         size_t *len)
{
    if (t == NULL)
        return;
    if (t->ref != NULL) {
        const char *p = t->ref + 1; /* past '#' */

        while (*p == '/') {
            size_t n = strcspn(p + 1, "/");

            appendf(out, outlen, len, ".%.*s", (int)n, p + 1);
            p += 1 + n;
        }
        return;
    }
    trail_render(t->up, out, outlen, len);
    if (t->key != NULL)
        appendf(out, outlen, len, ".%s", t->key);
    if (t->sub != NULL)
        appendf(out, outlen, len, ".%s", t->sub);
    if (t->has_index)
        appendf(out, outlen, len, "[%zu]", t->index);
}

/* Records a fault at keyword (NULL: the schema itself) of step t, unless
 * one is recorded already. kind SAMPLE_BUDGET with t NULL leaves the place
 * to the nearest container (place_budget). Returns NULL. */
static json_t *fault_at(struct sample_fault *f, enum sample_fault_kind kind,
                        const struct trail *t, const char *keyword,
                        const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static json_t *fault_at(struct sample_fault *f, enum sample_fault_kind kind,
                        const struct trail *t, const char *keyword,
                        const char *fmt, ...)
{
    va_list ap;
    size_t len = 0;

    if (f->kind != SAMPLE_OK)
        return NULL;
    f->kind = kind;
    f->where[0] = '\0';
    f->placed = t != NULL || kind != SAMPLE_BUDGET;
    trail_render(t, f->where, sizeof(f->where), &len);
    if (keyword != NULL)
        appendf(f->where, sizeof(f->where), &len, ".%s", keyword);
    va_start(ap, fmt);
    vsnprintf(f->why, sizeof(f->why), fmt, ap);
    va_end(ap);
    return NULL;
}

/* Gives an unplaced budget fault the place of the keyword that asked for
 * the value that did not fit (minItems of the array being filled; NULL:
 * the schema itself). */
static void place_budget(struct sample_fault *f, const struct trail *t,
                         const char *keyword)
{
    size_t len = 0;

    if (f->kind != SAMPLE_BUDGET || f->placed)
        return;
    f->where[0] = '\0';
    trail_render(t, f->where, sizeof(f->where), &len);
    if (keyword != NULL)
        appendf(f->where, sizeof(f->where), &len, ".%s", keyword);
    f->placed = true;
}

/* Spends from the budget; on failure records an unplaced budget fault. */
static bool spend(struct gen *g, uint64_t nodes, uint64_t bytes)
{
    if (budget_spend(g->b, nodes, bytes))
        return true;
    fault_at(g->fault, SAMPLE_BUDGET, NULL, NULL,
             "the value it asks for is larger than this request may "
             "generate");
    return false;
}

/* Returns v (NULL: OOM unless a fault is recorded already). */
static json_t *or_oom(json_t *v, struct gen *g)
{
    if (v == NULL && g->fault->kind == SAMPLE_OK)
        g->fault->kind = SAMPLE_OOM;
    return v;
}

/* A random number, or 0 for the smallest value. */
static uint64_t rnd(struct gen *g)
{
    return g->state != NULL ? lexicon_rand(g->state) : 0;
}

/* Follows "#/a/b" inside root; NULL if it does not resolve. */
static const json_t *resolve_ref(const json_t *root, const char *ref)
{
    const json_t *at = root;
    const char *p;

    if (ref == NULL || ref[0] != '#')
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

/* Does type name t (a JSON string, or not) admit values of type name? */
static bool type_admits(const json_t *t, const char *name)
{
    const char *tn = json_string_value(t);

    return tn != NULL &&
           (strcmp(tn, name) == 0 ||
            (strcmp(name, "integer") == 0 && strcmp(tn, "number") == 0));
}

/* Does the schema's "type" allow `name`? (No type allows everything.) */
static bool type_allows(const json_t *schema, const char *name)
{
    const json_t *t = json_object_get(schema, "type");
    const json_t *item;
    size_t i;

    if (json_is_string(t))
        return type_admits(t, name);
    if (!json_is_array(t))
        return true;
    json_array_foreach(t, i, item)
    {
        if (type_admits(item, name))
            return true;
    }
    return false;
}

/* The type to generate: the first the schema names, skipping "null" when
 * it has others (the smallest value takes "null" when it is allowed). */
static const char *schema_type(const json_t *schema, bool minimal)
{
    const json_t *t = json_object_get(schema, "type");
    size_t i;
    const json_t *item;

    if (json_is_string(t))
        return json_string_value(t);
    json_array_foreach(t, i, item)
    {
        if (json_is_string(item) &&
            (strcmp(json_string_value(item), "null") == 0) == minimal)
            return json_string_value(item);
    }
    json_array_foreach(t, i, item)
    {
        if (json_is_string(item))
            return json_string_value(item);
    }
    if (json_object_get(schema, "properties") != NULL)
        return "object";
    if (json_object_get(schema, "items") != NULL)
        return "array";
    return "string";
}

/* A keyword's value when it is a number (jansson's are always finite). */
static bool num_of(const json_t *schema, const char *key, double *out)
{
    const json_t *v = json_object_get(schema, key);

    if (!json_is_number(v))
        return false;
    *out = json_number_value(v);
    return true;
}

/* The values a number schema allows: [lo, hi] (inclusive, either possibly
 * infinite; integral for integers), multiples of step when step > 0. */
struct num_range {
    double lo, hi, step;
};

/* The least integer above x (open) or not below it, even where x + 1 is x. */
static double int_above(double x, bool open)
{
    double c = ceil(x);

    if (open && c == x)
        c = x + 1 == x ? nextafter(x, INFINITY) : x + 1;
    return c;
}

/* The greatest integer below x (open) or not above it. */
static double int_below(double x, bool open)
{
    double c = floor(x);

    if (open && c == x)
        c = x - 1 == x ? nextafter(x, -INFINITY) : x - 1;
    return c;
}

/* Works out the range of a number (integer) schema. Returns 0, or -1 with
 * an empty-range fault at the keyword that empties it. */
static int num_range(const json_t *s, bool integer, struct num_range *r,
                     struct sample_fault *f, const struct trail *t)
{
    const char *hi_key = "maximum";
    bool lo_open = false, hi_open = false;
    double v, lo_bound, hi_bound;

    r->lo = -INFINITY;
    r->hi = INFINITY;
    r->step = 0;
    if (num_of(s, "minimum", &v))
        r->lo = v;
    if (num_of(s, "maximum", &v))
        r->hi = v;
    if (json_is_true(json_object_get(s, "exclusiveMinimum")))
        lo_open = true; /* draft 4: qualifies minimum */
    else if (num_of(s, "exclusiveMinimum", &v) && v >= r->lo) {
        r->lo = v;
        lo_open = true;
    }
    if (json_is_true(json_object_get(s, "exclusiveMaximum")))
        hi_open = true;
    else if (num_of(s, "exclusiveMaximum", &v) && v <= r->hi) {
        r->hi = v;
        hi_open = true;
        hi_key = "exclusiveMaximum";
    }
    lo_bound = r->lo;
    hi_bound = r->hi;
    if (integer) {
        r->lo = int_above(r->lo, lo_open);
        r->hi = int_below(r->hi, hi_open);
    } else {
        if (lo_open)
            r->lo = nextafter(r->lo, INFINITY);
        if (hi_open)
            r->hi = nextafter(r->hi, -INFINITY);
    }
    if (r->lo > r->hi) {
        fault_at(f, SAMPLE_EMPTY, t, hi_key,
                 "no %s lies between the lower bound %.17g and the upper "
                 "bound %.17g",
                 integer ? "integer" : "number", lo_bound, hi_bound);
        return -1;
    }
    if (!num_of(s, "multipleOf", &v))
        return 0;
    if (!(v > 0)) {
        fault_at(f, SAMPLE_EMPTY, t, "multipleOf",
                 "multipleOf must be greater than 0, not %.17g", v);
        return -1;
    }
    r->step = v;
    if (integer && v != floor(v)) {
        /* An integer multiple of 0.3 is a multiple of 3. */
        unsigned q;

        for (q = 2; q <= 64 && fabs(q * v - round(q * v)) > 1e-9 * q * v; q++)
            ;
        if (q > 64) {
            fault_at(f, SAMPLE_EMPTY, t, "multipleOf",
                     "no integer is a multiple of %.17g", v);
            return -1;
        }
        r->step = round(q * v);
    }
    /* Where multiples are finer than doubles, every double is one. */
    if (fabs(r->lo / r->step) < SAMPLE_EXACT &&
        fabs(r->hi / r->step) < SAMPLE_EXACT &&
        ceil(r->lo / r->step) > floor(r->hi / r->step)) {
        fault_at(f, SAMPLE_EMPTY, t, "multipleOf",
                 "no multiple of %.17g lies between %.17g and %.17g", v,
                 lo_bound, hi_bound);
        return -1;
    }
    return 0;
}

/* The window values are drawn from: the whole range when it is moderate,
 * else 100 wide at 0, or at the bound nearer 0. */
static void num_window(const struct num_range *r, double *a, double *b)
{
    if (isfinite(r->lo) && isfinite(r->hi) &&
        r->hi - r->lo <= SAMPLE_WIDE_SPAN) {
        *a = r->lo;
        *b = r->hi;
    } else if (isfinite(r->lo) && !isfinite(r->hi)) {
        *a = r->lo; /* minimum alone: [minimum, minimum + 100] */
        *b = r->lo + 100;
    } else if (r->lo <= 100 && r->hi >= 0) {
        *a = fmax(r->lo, 0);
        *b = fmin(r->hi, 100);
    } else if (r->lo > 100) {
        *a = r->lo;
        *b = fmin(r->hi, r->lo + 100);
    } else {
        *a = fmax(r->lo, r->hi - 100);
        *b = r->hi;
    }
}

/* Picks a value of range r: random in its window, or for the smallest
 * value the one nearest 0. */
static double num_pick(const struct num_range *r, struct gen *g, bool integer)
{
    double a, b, v, ka, kb;
    uint64_t x = rnd(g);

    num_window(r, &a, &b);
    if (g->state == NULL) {
        a = r->lo > 0 ? r->lo : r->hi < 0 ? r->hi : 0;
        b = a;
    }
    if (r->step > 0 && fabs(a / r->step) < SAMPLE_EXACT &&
        fabs(b / r->step) < SAMPLE_EXACT) {
        ka = ceil(a / r->step);
        kb = floor(b / r->step);
        if (ka > kb) /* none in the window: the one nearest it in range */
            ka = kb = a > 0 ? ceil(a / r->step) : floor(b / r->step);
        v = (ka + (double)(x % (uint64_t)fmin(kb - ka + 1, 1000))) * r->step;
    } else if (integer) {
        v = a + (double)(x % ((uint64_t)(b - a) + 1));
    } else {
        v = a + (b - a) * (double)(x % 1000) / 1000.0;
    }
    return fmin(fmax(v, r->lo), r->hi);
}

/* Bytes a number takes in compact JSON: exact for integers, at most
 * SAMPLE_REAL_BYTES for reals. */
static uint64_t number_bytes(const json_t *v)
{
    json_int_t i = json_integer_value(v);
    uint64_t bytes = i < 0 ? 2 : 1;

    if (!json_is_integer(v))
        return SAMPLE_REAL_BYTES;
    for (; i <= -10 || i >= 10; i /= 10)
        bytes++;
    return bytes;
}

/* A number (integer) between the schema's bounds. */
static json_t *gen_number(const json_t *s, struct gen *g, const struct trail *t,
                          bool integer)
{
    struct num_range r;
    json_t *v;
    double x;

    if (num_range(s, integer, &r, g->fault, t) != 0)
        return NULL;
    x = num_pick(&r, g, integer);
    if (integer && fabs(x) <= SAMPLE_INT64_MAX)
        v = or_oom(json_integer((json_int_t)x), g);
    else
        v = or_oom(json_real(x), g);
    if (v != NULL && !spend(g, 1, number_bytes(v))) {
        json_decref(v);
        v = NULL;
    }
    return v;
}

/* A count a pair of size keywords allows (minItems/maxItems and the like):
 * [min, max], max UINT64_MAX when absent. */
struct size_range {
    uint64_t min, max;
    bool has_min, has_max;
};

/* Works out a size range; min above cap is a (placed) budget fault, an
 * empty range an empty fault. Returns 0 or -1. */
static int size_range(const json_t *s, const char *min_key, const char *max_key,
                      uint64_t cap, struct size_range *r,
                      struct sample_fault *f, const struct trail *t)
{
    double v;

    r->min = 0;
    r->max = UINT64_MAX;
    r->has_min = num_of(s, min_key, &v);
    if (r->has_min && ceil(v) > (double)cap) {
        fault_at(f, SAMPLE_BUDGET, t, min_key,
                 "%s %.17g is more than this request may generate (%llu)",
                 min_key, v, (unsigned long long)cap);
        return -1;
    }
    if (r->has_min && v > 0)
        r->min = (uint64_t)ceil(v);
    r->has_max = num_of(s, max_key, &v);
    if (r->has_max && v < 0) {
        fault_at(f, SAMPLE_EMPTY, t, max_key, "%s must not be negative",
                 max_key);
        return -1;
    }
    if (r->has_max && v < (double)UINT64_MAX / 2)
        r->max = (uint64_t)floor(v);
    if (r->min > r->max) {
        fault_at(f, SAMPLE_EMPTY, t, max_key, "%s %llu is below %s %llu",
                 max_key, (unsigned long long)r->max, min_key,
                 (unsigned long long)r->min);
        return -1;
    }
    return 0;
}

/* Bytes a string of n bytes takes in JSON: quotes and escapes. */
static uint64_t string_bytes(const char *s, size_t n)
{
    uint64_t bytes = n + 2;
    size_t i;

    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c == '"' || c == '\\')
            bytes += 1;
        else if (c < 0x20)
            bytes += 5;
    }
    return bytes;
}

/* Spends what a copy of v costs (one node per value, its compact size),
 * stopping at the first value the budget cannot pay. */
static bool spend_value(struct gen *g, const json_t *v)
{
    const char *key;
    const json_t *item;
    size_t i;

    if (json_is_string(v)) {
        size_t n = json_string_length(v);

        /* Too long before any escape is counted: no need to scan it. */
        if (n + 2 > g->b->bytes)
            return spend(g, 1, n + 2);
        return spend(g, 1, string_bytes(json_string_value(v), n));
    }
    if (json_is_object(v)) {
        if (!spend(g, 1, 2))
            return false;
        json_object_foreach((json_t *)v, key, item)
        {
            if (!spend(g, 0, string_bytes(key, strlen(key)) + 2) ||
                !spend_value(g, item))
                return false;
        }
        return true;
    }
    if (json_is_array(v)) {
        if (!spend(g, 1, 2))
            return false;
        json_array_foreach(v, i, item)
        {
            if (!spend(g, 0, 1) || !spend_value(g, item))
                return false;
        }
        return true;
    }
    return spend(g, 1, json_is_number(v) ? number_bytes(v) : 5);
}

/* A copy of v (a const or an enum member), paid for; a fault at keyword. */
static json_t *gen_copy(const json_t *v, struct gen *g, const struct trail *t,
                        const char *keyword)
{
    if (!spend_value(g, v)) {
        place_budget(g->fault, t, keyword);
        return NULL;
    }
    return or_oom(json_deep_copy(v), g);
}

/* A fixed string for a known format, or NULL. */
static const char *format_text(const char *format)
{
    if (format == NULL)
        return NULL;
    if (strcmp(format, "date-time") == 0)
        return "2025-06-17T12:00:00Z";
    if (strcmp(format, "date") == 0)
        return "2025-06-17";
    if (strcmp(format, "email") == 0)
        return "mock@example.com";
    if (strcmp(format, "uri") == 0 || strcmp(format, "url") == 0)
        return "https://example.com/mock";
    return NULL;
}

/* A run of lexicon words (or "mock" for the smallest value) lengthened to
 * minLength and cut to maxLength, or a fixed value for known formats. */
static json_t *gen_string(const json_t *s, struct gen *g, const struct trail *t)
{
    const char *fixed =
        format_text(json_string_value(json_object_get(s, "format")));
    struct size_range r;
    struct buf b;
    json_t *v = NULL;
    unsigned i, n = 1 + (unsigned)(rnd(g) % 3);
    uint64_t paid;

    if (size_range(s, "minLength", "maxLength", g->b->bytes, &r, g->fault, t) !=
        0)
        return NULL;
    if (fixed != NULL && strlen(fixed) >= r.min && strlen(fixed) <= r.max)
        return spend(g, 1, strlen(fixed) + 2) ? or_oom(json_string(fixed), g)
                                              : NULL;
    /* The smallest string is "mock", lengthened or cut to fit. */
    paid = r.min > 4 ? r.min : 4;
    if (!spend(g, 1, paid + 2)) {
        if (r.min > 4)
            place_budget(g->fault, t, "minLength");
        return NULL;
    }
    buf_init(&b, (size_t)r.min + 64);
    for (i = 0; i < n || b.len < r.min; i++) {
        const char *word = g->state ? lexicon_word(g->state) : "mock";

        if ((i > 0 && buf_append(&b, " ", 1) != 0) ||
            buf_appends(&b, word) != 0)
            goto out;
    }
    /* The words are ASCII: bytes are characters. */
    if (g->state == NULL && b.len > paid)
        b.len = (size_t)paid;
    if (b.len > r.max)
        b.len = (size_t)r.max;
    if (b.len > paid && !spend(g, 0, b.len - paid))
        goto out;
    v = json_stringn(b.data ? b.data : "", b.len);
out:
    buf_cleanup(&b);
    return or_oom(v, g);
}

/* Adds member name with a value of schema sub, reached from step t as
 * properties.name, or as additionalProperties (key NULL) for a name the
 * properties do not list. Returns 0 or -1. */
static int add_member(json_t *o, const char *name, const json_t *sub,
                      struct gen *g, const struct trail *t, const char *key,
                      unsigned depth)
{
    struct trail step = {t,
                         key ? key : "additionalProperties",
                         key ? name : NULL,
                         0,
                         false,
                         NULL,
                         sub,
                         g->state == NULL};
    json_t *v;

    if (!spend(g, 0, string_bytes(name, strlen(name)) + 2))
        return -1;
    v = gen_value(sub, g, &step, depth + 1);
    return v != NULL && json_object_set_new(o, name, v) == 0 ? 0 : -1;
}

/* The schema of a member the properties do not list. */
static const json_t *extra_schema(const json_t *s)
{
    const json_t *extra = json_object_get(s, "additionalProperties");

    return json_is_object(extra) ? extra : NULL;
}

/* Fills o up to minProperties: listed properties first, then made-up
 * names when additionalProperties allows them. */
static int fill_properties(json_t *o, const json_t *s, uint64_t min,
                           struct gen *g, const struct trail *t, unsigned depth)
{
    const json_t *props = json_object_get(s, "properties");
    const char *key;
    const json_t *sub;
    char name[32];
    uint64_t k = 0;

    json_object_foreach((json_t *)props, key, sub)
    {
        if (json_object_size(o) >= min)
            return 0;
        if (json_object_get(o, key) == NULL && !json_is_false(sub) &&
            add_member(o, key, sub, g, t, "properties", depth) != 0)
            return -1;
    }
    if (json_object_size(o) < min &&
        json_is_false(json_object_get(s, "additionalProperties"))) {
        fault_at(g->fault, SAMPLE_EMPTY, t, "minProperties",
                 "minProperties %llu asks for more properties than the "
                 "schema allows",
                 (unsigned long long)min);
        return -1;
    }
    while (json_object_size(o) < min) {
        snprintf(name, sizeof(name), "extra_%llu", (unsigned long long)++k);
        if (json_object_get(o, name) == NULL &&
            add_member(o, name, extra_schema(s), g, t, NULL, depth) != 0)
            return -1;
    }
    return 0;
}

/* An object: the smallest has the required properties only; a richer one
 * every listed property (in order), up to maxProperties. */
static json_t *gen_object(const json_t *s, struct gen *g, const struct trail *t,
                          unsigned depth)
{
    const json_t *props = json_object_get(s, "properties");
    const json_t *required = json_object_get(s, "required");
    const json_t *sub;
    const char *key;
    struct size_range r;
    json_t *o = NULL, *item;
    size_t i;

    if (size_range(s, "minProperties", "maxProperties", g->b->nodes, &r,
                   g->fault, t) != 0 ||
        !spend(g, 1, 2) || (o = or_oom(json_object(), g)) == NULL)
        goto fail;
    /* Richer: every listed property, in order (required ones first when
     * maxProperties limits how many fit). */
    json_object_foreach((json_t *)props, key, sub)
    {
        if (g->state == NULL || r.has_max)
            break;
        if (!json_is_false(sub) &&
            add_member(o, key, sub, g, t, "properties", depth) != 0)
            goto fail;
    }
    json_array_foreach(required, i, item)
    {
        const char *name = json_string_value(item);

        if (name == NULL || json_object_get(o, name) != NULL)
            continue;
        sub = json_object_get(props, name);
        if (add_member(o, name, sub ? sub : extra_schema(s), g, t,
                       sub ? "properties" : NULL, depth) != 0)
            goto fail;
    }
    json_object_foreach((json_t *)props, key, sub)
    {
        if (g->state == NULL || !r.has_max || json_object_size(o) >= r.max)
            break;
        if (json_object_get(o, key) == NULL && !json_is_false(sub) &&
            add_member(o, key, sub, g, t, "properties", depth) != 0)
            goto fail;
    }
    if (fill_properties(o, s, r.min, g, t, depth) != 0) {
        /* The budget ran out making properties minProperties asked for. */
        place_budget(g->fault, t, "minProperties");
        goto fail;
    }
    return o;
fail:
    json_decref(o);
    return NULL;
}

/* An array: minItems items (the smallest; none without minItems), or a
 * few more (1 to 3 by default, at most 4 above minItems). */
static json_t *gen_array(const json_t *s, struct gen *g, const struct trail *t,
                         unsigned depth)
{
    const json_t *items = json_object_get(s, "items");
    struct trail step = {t,     "items", NULL,  0,
                         false, NULL,    items, g->state == NULL};
    struct size_range r;
    uint64_t n, hi, i;
    json_t *a = NULL, *result = NULL;

    if (size_range(s, "minItems", "maxItems", g->b->nodes, &r, g->fault, t) !=
            0 ||
        !spend(g, 1, 2))
        goto out;
    if (g->state == NULL) {
        n = r.min;
    } else {
        if (!r.has_min)
            r.min = r.max > 0 ? 1 : 0;
        hi = r.has_max ? r.max : r.min + 2;
        if (hi > r.min + 4)
            hi = r.min + 4;
        n = r.min + lexicon_rand(g->state) % (hi - r.min + 1);
    }
    if ((a = or_oom(json_array(), g)) == NULL)
        goto out;
    for (i = 0; i < n; i++) {
        json_t *v =
            spend(g, 0, 1) ? gen_value(items, g, &step, depth + 1) : NULL;

        if (v == NULL || json_array_append_new(a, v) != 0) {
            place_budget(g->fault, t, "minItems");
            goto out;
        }
    }
    result = a; /* the caller owns it now */
    a = NULL;
out:
    json_decref(a);
    return result;
}

/* Merges the properties of every allOf member into one object. */
static json_t *gen_all_of(const json_t *all, struct gen *g,
                          const struct trail *t, unsigned depth)
{
    json_t *o = or_oom(json_object(), g), *v = NULL, *result = NULL;
    size_t i;
    const json_t *part;

    json_array_foreach(all, i, part)
    {
        struct trail step = {t,    "allOf", NULL, i,
                             true, NULL,    part, g->state == NULL};

        if (o == NULL || (v = gen_value(part, g, &step, depth + 1)) == NULL)
            goto out;
        if (json_is_object(v) && json_object_update(o, v) != 0)
            goto out;
        json_decref(v);
        v = NULL;
    }
    result = o; /* the caller owns it now */
    o = NULL;
out:
    json_decref(v);
    json_decref(o);
    return result;
}

/* Follows "$ref" (the smallest value refuses to re-enter a schema it is
 * already inside: that value would contain itself without end). */
static json_t *gen_ref(const char *ref, struct gen *g, const struct trail *t,
                       unsigned depth)
{
    const json_t *target = resolve_ref(g->root, ref);
    struct trail step = {t,     NULL, NULL,   0,
                         false, ref,  target, g->state == NULL};
    const struct trail *up;

    for (up = t; g->state == NULL && target != NULL && up != NULL; up = up->up)
        if (up->minimal && up->schema == target)
            return fault_at(g->fault, SAMPLE_CYCLE, t, "$ref",
                            "'%s' makes the value contain itself without "
                            "end: no finite value satisfies the schema",
                            ref);
    return gen_value(target, g, &step, depth + 1);
}

static json_t *gen_value(const json_t *schema, struct gen *g,
                         const struct trail *t, unsigned depth)
{
    const json_t *v;
    const char *type;

    if (depth > g->b->depth)
        return fault_at(g->fault, SAMPLE_DEPTH, t, NULL,
                        "the schema nests deeper than %u levels", g->b->depth);
    if (g->state != NULL && depth >= SAMPLE_RICH_DEPTH) {
        struct gen smallest = {g->root, NULL, g->b, g->fault};
        struct trail step = *t;

        step.minimal = true;
        return gen_value(schema, &smallest, &step, depth);
    }
    if (json_is_false(schema))
        return fault_at(g->fault, SAMPLE_EMPTY, t, NULL,
                        "the schema false admits no value");
    if (!json_is_object(schema))
        return spend(g, 1, 6) ? or_oom(json_string("mock"), g) : NULL;
    if ((v = json_object_get(schema, "$ref")) != NULL)
        return gen_ref(json_string_value(v), g, t, depth);
    if ((v = json_object_get(schema, "const")) != NULL)
        return gen_copy(v, g, t, "const");
    if (json_array_size(v = json_object_get(schema, "enum")) > 0)
        return gen_copy(json_array_get(v, rnd(g) % json_array_size(v)), g, t,
                        "enum");
    if (json_array_size(v = json_object_get(schema, "anyOf")) > 0 ||
        json_array_size(v = json_object_get(schema, "oneOf")) > 0) {
        struct trail step = {t,
                             json_object_get(schema, "anyOf") ? "anyOf"
                                                              : "oneOf",
                             NULL,
                             0,
                             true,
                             NULL,
                             json_array_get(v, 0),
                             g->state == NULL};

        return gen_value(json_array_get(v, 0), g, &step, depth + 1);
    }
    if (json_array_size(v = json_object_get(schema, "allOf")) > 0)
        return gen_all_of(v, g, t, depth);
    type = schema_type(schema, g->state == NULL);
    if (strcmp(type, "object") == 0)
        return gen_object(schema, g, t, depth);
    if (strcmp(type, "array") == 0)
        return gen_array(schema, g, t, depth);
    if (strcmp(type, "integer") == 0 || strcmp(type, "number") == 0)
        return gen_number(schema, g, t, strcmp(type, "integer") == 0);
    if (strcmp(type, "boolean") == 0)
        return spend(g, 1, 5) ? or_oom(json_boolean(rnd(g) & 1), g) : NULL;
    if (strcmp(type, "null") == 0)
        return spend(g, 1, 4) ? or_oom(json_null(), g) : NULL;
    return gen_string(schema, g, t);
}

json_t *sample_from_schema(const json_t *schema, uint64_t *state,
                           struct budget *b, struct sample_fault *fault)
{
    struct gen g = {schema, state, b, fault};
    struct trail top = {NULL,  NULL, NULL,   0,
                        false, NULL, schema, state == NULL};
    json_t *v;

    memset(fault, 0, sizeof(*fault));
    v = gen_value(schema, &g, &top, 0);
    place_budget(fault, &top, NULL);
    /* A NULL no fault explains (a failed insertion) is out of memory. */
    if (v == NULL && fault->kind == SAMPLE_OK)
        fault->kind = SAMPLE_OOM;
    return v;
}

/* Checks the keywords of one schema object (not the schemas inside it). */
static int check_keywords(const json_t *s, const struct budget *b,
                          struct sample_fault *f, const struct trail *t)
{
    const json_t *required = json_object_get(s, "required");
    const json_t *e = json_object_get(s, "enum");
    struct num_range nr;
    struct size_range sr;

    if (json_is_array(e) && json_array_size(e) == 0) {
        fault_at(f, SAMPLE_EMPTY, t, "enum", "an empty enum admits no value");
        return -1;
    }
    if (type_allows(s, "integer") &&
        num_range(s, !type_allows(s, "number"), &nr, f, t) != 0)
        return -1;
    if (type_allows(s, "array") &&
        size_range(s, "minItems", "maxItems", b->nodes, &sr, f, t) != 0)
        return -1;
    if (type_allows(s, "string") &&
        size_range(s, "minLength", "maxLength", b->bytes, &sr, f, t) != 0)
        return -1;
    if (type_allows(s, "object")) {
        if (size_range(s, "minProperties", "maxProperties", b->nodes, &sr, f,
                       t) != 0)
            return -1;
        if (json_array_size(required) > sr.max) {
            fault_at(f, SAMPLE_EMPTY, t, "maxProperties",
                     "maxProperties %llu is below the %zu required "
                     "properties",
                     (unsigned long long)sr.max, json_array_size(required));
            return -1;
        }
    }
    return 0;
}

/* Keywords whose values are data, not schemas. */
static bool is_data_keyword(const char *key)
{
    return strcmp(key, "enum") == 0 || strcmp(key, "const") == 0 ||
           strcmp(key, "default") == 0 || strcmp(key, "examples") == 0;
}

/* Keywords whose values map names to schemas. */
static bool is_map_keyword(const char *key)
{
    return strcmp(key, "properties") == 0 || strcmp(key, "$defs") == 0 ||
           strcmp(key, "definitions") == 0 ||
           strcmp(key, "patternProperties") == 0 ||
           strcmp(key, "dependentSchemas") == 0;
}

/* Checks v (reached as step t) and every schema inside it; a map's members
 * are schemas, and so is any object found elsewhere. */
static int check_tree(const json_t *v, bool map, const struct budget *b,
                      struct sample_fault *f, const struct trail *t)
{
    const char *key;
    const json_t *sub;
    size_t i;

    if (json_is_array(v)) {
        json_array_foreach(v, i, sub)
        {
            struct trail step = {t, NULL, NULL, i, true, NULL, sub, false};

            if (check_tree(sub, false, b, f, &step) != 0)
                return -1;
        }
        return 0;
    }
    if (!json_is_object(v))
        return 0;
    if (!map && check_keywords(v, b, f, t) != 0)
        return -1;
    json_object_foreach((json_t *)v, key, sub)
    {
        struct trail step = {t, key, NULL, 0, false, NULL, sub, false};

        if ((map || !is_data_keyword(key)) &&
            check_tree(sub, !map && is_map_keyword(key), b, f, &step) != 0)
            return -1;
    }
    return 0;
}

int sample_check(const json_t *schema, const struct budget *b,
                 struct sample_fault *fault)
{
    struct trail top = {NULL, NULL, NULL, 0, false, NULL, schema, false};

    memset(fault, 0, sizeof(*fault));
    return check_tree(schema, false, b, fault, &top);
}
