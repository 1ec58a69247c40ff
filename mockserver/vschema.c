/* vschema: the schema toolkit request validation is built from. A body is
 * walked against tables: an object is a table of fields, a union a list of
 * variants told apart by a tag; the first error found is reported with its
 * path as the param, OpenAI's code and OpenAI's wording. */
#include "vschema.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

/* Appends n bytes of s to the path, truncating at the param size. A push
 * happens for every value the walk visits, valid or not (the path is read
 * only when a problem is reported): a profile of the chat path showed the
 * vsnprintf this used to be at 2% of the mock's CPU. */
static void path_append(struct vschema *c, const char *s, size_t n)
{
    size_t room = sizeof(c->path) - 1 - c->len;

    if (n > room)
        n = room;
    memcpy(c->path + c->len, s, n);
    c->len += n;
    c->path[c->len] = '\0';
}

size_t vschema_push_key(struct vschema *c, const char *key)
{
    size_t old = c->len;

    if (old != 0)
        path_append(c, ".", 1);
    path_append(c, key, strlen(key));
    return old;
}

size_t vschema_push_index(struct vschema *c, size_t i)
{
    char text[24], *p = text + sizeof(text);
    size_t old = c->len;

    *--p = ']';
    do {
        *--p = (char)('0' + i % 10);
        i /= 10;
    } while (i > 0);
    *--p = '[';
    path_append(c, p, (size_t)(text + sizeof(text) - p));
    return old;
}

void vschema_pop(struct vschema *c, size_t old)
{
    c->len = old;
    c->path[old] = '\0';
}

int vschema_check_key(const json_t *v, struct vschema *c, const char *key,
                      vschema_check_fn check)
{
    size_t old = vschema_push_key(c, key);
    int rc = check(v, c);

    vschema_pop(c, old);
    return rc;
}

int vschema_check_index(const json_t *v, struct vschema *c, size_t i,
                        vschema_check_fn check)
{
    size_t old = vschema_push_index(c, i);
    int rc = check(v, c);

    vschema_pop(c, old);
    return rc;
}

int vschema_fail(struct vschema *c, const char *code, const char *fmt, ...)
{
    char msg[sizeof(c->err->message)];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    api_error_set(c->err, API_ERR_INVALID_REQUEST, c->path, code, "%s", msg);
    return -1;
}

const char *vschema_type_name(const json_t *v)
{
    const char *name = "null";

    if (v == NULL)
        goto out;
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        name = "an object";
        break;
    case JSON_ARRAY:
        name = "an array";
        break;
    case JSON_STRING:
        name = "a string";
        break;
    case JSON_INTEGER:
        name = "an integer";
        break;
    case JSON_REAL:
        name = "a decimal";
        break;
    case JSON_TRUE:
    case JSON_FALSE:
        name = "a boolean";
        break;
    case JSON_NULL:
        break;
    }
out:
    return name;
}

int vschema_fail_type(struct vschema *c, const json_t *v, const char *expected)
{
    return vschema_fail(
        c, "invalid_type",
        "Invalid type for '%s': expected %s, but got %s instead.", c->path,
        expected, vschema_type_name(v));
}

int vschema_fail_missing(struct vschema *c, const char *key)
{
    size_t old = vschema_push_key(c, key);
    int rc = vschema_fail(c, "missing_required_parameter",
                          "Missing required parameter: '%s'.", c->path);

    vschema_pop(c, old);
    return rc;
}

/* Fails because property key is not in the schema; top-level keys get the
 * wording OpenAI uses for request arguments. */
static int fail_unknown(struct vschema *c, const char *key)
{
    bool top = c->len == 0;
    size_t old = vschema_push_key(c, key);
    int rc;

    if (top)
        rc =
            vschema_fail(c, "unknown_parameter",
                         "Unrecognized request argument supplied: %s", c->path);
    else
        rc = vschema_fail(c, "unknown_parameter", "Unknown parameter: '%s'.",
                          c->path);
    vschema_pop(c, old);
    return rc;
}

int vschema_fail_value(struct vschema *c, const char *got,
                       const char *const *names, size_t n)
{
    struct buf list;
    size_t i;
    int ok = 0;
    int rc;

    buf_init(&list, 256);
    for (i = 0; i < n && ok == 0; i++) {
        const char *sep = ", ";

        if (i == 0)
            sep = "";
        else if (n == 2)
            sep = " and ";
        else if (i + 1 == n)
            sep = ", and ";
        ok = buf_appendf(&list, "%s'%s'", sep, names[i]);
    }
    if (ok == 0 && list.data != NULL)
        rc = vschema_fail(c, "invalid_value",
                          "Invalid value: '%.100s'. Supported values are: %s.",
                          got, list.data);
    else
        rc = vschema_fail(c, "invalid_value", "Invalid value: '%.100s'.", got);
    buf_cleanup(&list);
    return rc;
}

/* Writes the shortest %g text that reads back as d, so 2.5 prints as "2.5"
 * and 2.0001 as "2.0001" rather than with seventeen digits. */
static void format_double(double d, char *out, size_t size)
{
    int prec;

    snprintf(out, size, "%.17g", d);
    for (prec = 1; prec < 17; prec++) {
        char text[40];

        snprintf(text, sizeof(text), "%.*g", prec, d);
        if (strtod(text, NULL) == d) {
            snprintf(out, size, "%s", text);
            break;
        }
    }
}

/* Writes a JSON number as the client wrote it: integers exactly. */
static void format_number(const json_t *v, char *out, size_t size)
{
    if (json_is_integer(v))
        snprintf(out, size, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    else
        format_double(json_number_value(v), out, size);
}

size_t vschema_chars(const char *s, size_t n)
{
    size_t count = 0;
    size_t i;

    for (i = 0; i < n; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80)
            count++;
    return count;
}

int vschema_any(const json_t *v, struct vschema *c)
{
    (void)v;
    (void)c;
    return 0;
}

int vschema_string(const json_t *v, struct vschema *c)
{
    return json_is_string(v) ? 0 : vschema_fail_type(c, v, "a string");
}

int vschema_bool(const json_t *v, struct vschema *c)
{
    return json_is_boolean(v) ? 0 : vschema_fail_type(c, v, "a boolean");
}

int vschema_any_object(const json_t *v, struct vschema *c)
{
    return json_is_object(v) ? 0 : vschema_fail_type(c, v, "an object");
}

int vschema_string_max(const json_t *v, struct vschema *c, size_t max)
{
    int rc = -1;
    size_t n;

    if (vschema_string(v, c) != 0)
        goto out;
    n = vschema_chars(json_string_value(v), json_string_length(v));
    if (n > max) {
        vschema_fail(
            c, "string_above_max_length",
            "Invalid '%s': string too long. Expected a string with maximum "
            "length %zu, but got a string with length %zu instead.",
            c->path, max, n);
        goto out;
    }
    rc = 0;
out:
    return rc;
}

int vschema_enum(const json_t *v, struct vschema *c, const char *const *values)
{
    const char *s;
    size_t i;
    int rc = -1;

    if (vschema_string(v, c) != 0)
        goto out;
    s = json_string_value(v);
    for (i = 0; values[i] != NULL; i++)
        if (strcmp(s, values[i]) == 0)
            break;
    if (values[i] == NULL) {
        vschema_fail_value(c, s, values, i);
        goto out;
    }
    rc = 0;
out:
    return rc;
}

/* Fails because the number got (kind "integer" or "decimal") is below
 * (or else above) the bound limit, with OpenAI's code and wording. The
 * error keeps code as a pointer: it is one of the static names. */
static int fail_range(struct vschema *c, const char *kind, bool below,
                      const char *limit, const char *got)
{
    bool integer = strcmp(kind, "integer") == 0;
    const char *code =
        below
            ? (integer ? "integer_below_min_value" : "decimal_below_min_value")
            : (integer ? "integer_above_max_value" : "decimal_above_max_value");

    return vschema_fail(c, code,
                        "Invalid '%s': %s %s value. Expected a value %s %s, "
                        "but got %s instead.",
                        c->path, kind,
                        below ? "below minimum" : "above maximum",
                        below ? ">=" : "<=", limit, got);
}

int vschema_number(const json_t *v, struct vschema *c, double min, double max,
                   double *out)
{
    char got[40], limit[40];
    double d;
    int rc = -1;

    if (!json_is_number(v)) {
        vschema_fail_type(c, v, "a number");
        goto out;
    }
    d = json_number_value(v);
    if (d < min || d > max) {
        format_number(v, got, sizeof(got));
        format_double(d < min ? min : max, limit, sizeof(limit));
        fail_range(c, "decimal", d < min, limit, got);
        goto out;
    }
    if (out != NULL)
        *out = d;
    rc = 0;
out:
    return rc;
}

int vschema_integer(const json_t *v, struct vschema *c, int64_t min,
                    int64_t max, int64_t *out)
{
    char got[24], limit[24];
    int64_t i;
    int rc = -1;

    if (!json_is_integer(v)) {
        vschema_fail_type(c, v, "an integer");
        goto out;
    }
    i = (int64_t)json_integer_value(v);
    if (i < min || i > max) {
        snprintf(got, sizeof(got), "%" PRId64, i);
        snprintf(limit, sizeof(limit), "%" PRId64, i < min ? min : max);
        fail_range(c, "integer", i < min, limit, got);
        goto out;
    }
    if (out != NULL)
        *out = (int64_t)i;
    rc = 0;
out:
    return rc;
}

int vschema_array(const json_t *v, struct vschema *c, size_t min, size_t max,
                  vschema_check_fn item)
{
    size_t i, n;
    int rc = -1;

    if (!json_is_array(v)) {
        vschema_fail_type(c, v, "an array");
        goto out;
    }
    n = json_array_size(v);
    if (n == 0 && min > 0) {
        vschema_fail(
            c, "empty_array",
            "Invalid '%s': empty array. Expected an array with minimum "
            "length %zu, but got an empty array instead.",
            c->path, min);
        goto out;
    }
    if (n < min) {
        vschema_fail(
            c, "array_below_min_length",
            "Invalid '%s': array too short. Expected an array with minimum "
            "length %zu, but got an array with length %zu instead.",
            c->path, min, n);
        goto out;
    }
    if (n > max) {
        vschema_fail(
            c, "array_above_max_length",
            "Invalid '%s': array too long. Expected an array with maximum "
            "length %zu, but got an array with length %zu instead.",
            c->path, max, n);
        goto out;
    }
    for (i = 0; i < n; i++)
        if (vschema_check_index(json_array_get(v, i), c, i, item) != 0)
            goto out;
    rc = 0;
out:
    return rc;
}

/* Finds key among the fields, or returns NULL. */
static const struct vschema_field *
field_find(const struct vschema_field *fields, size_t n, const char *key)
{
    const struct vschema_field *found = NULL;
    size_t i;

    /* The first byte first: most names differ there (a profile of a
     * four-key request showed strcmp at 1% of the mock's CPU here). */
    for (i = 0; i < n && found == NULL; i++)
        if (fields[i].name[0] == key[0] && strcmp(fields[i].name, key) == 0)
            found = &fields[i];
    return found;
}

/* Checks one field whose value v (NULL: absent) the object holds: absent
 * is fine unless required, null is fine when nullable, anything else goes
 * to the field's check. */
static int check_field(const json_t *v, const struct vschema_field *f,
                       struct vschema *c)
{
    int rc = 0;

    if (v == NULL) {
        if (f->flags & VSCHEMA_REQUIRED)
            rc = vschema_fail_missing(c, f->name);
        goto out;
    }
    if (json_is_null(v) && (f->flags & VSCHEMA_NULLABLE))
        goto out;
    rc = vschema_check_key(v, c, f->name, f->check);
out:
    return rc;
}

/* The most fields a table may have for vschema_object to note their values
 * while it looks for unknown keys; a larger table looks each one up. */
#define VSCHEMA_FIELDS_NOTED 64

int vschema_object(const json_t *v, struct vschema *c,
                   const struct vschema_field *fields, size_t n)
{
    /* The value of each field, found while every key is looked for in the
     * table: the chat table has 37 fields and a request a few of them, so
     * asking the object for each field cost 37 hash lookups a request. */
    const json_t *found[VSCHEMA_FIELDS_NOTED];
    bool noted = n <= VSCHEMA_FIELDS_NOTED;
    const struct vschema_field *f;
    const char *key;
    json_t *val;
    size_t i;
    int rc = -1;

    if (!json_is_object(v)) {
        vschema_fail_type(c, v, "an object");
        goto out;
    }
    if (noted)
        memset(found, 0, n * sizeof(found[0]));
    /* jansson's iteration wants a mutable object; it is only read here. */
    json_object_foreach((json_t *)v, key, val)
    {
        f = field_find(fields, n, key);
        if (f == NULL) {
            fail_unknown(c, key);
            goto out;
        }
        if (noted)
            found[f - fields] = val;
    }
    for (i = 0; i < n; i++)
        if (check_field(noted ? found[i] : json_object_get(v, fields[i].name),
                        &fields[i], c) != 0)
            goto out;
    rc = 0;
out:
    return rc;
}

/* Finds the variant whose tag the value tag names and stores its index;
 * reports the supported tags when there is none. */
static int variant_find(const json_t *tag, struct vschema *c,
                        const struct vschema_variant *vars, size_t n,
                        size_t *index)
{
    const char *names[8];
    const char *s;
    size_t i;
    int rc = -1;

    if (vschema_string(tag, c) != 0)
        goto out;
    s = json_string_value(tag);
    for (i = 0; i < n; i++)
        if (strcmp(s, vars[i].tag) == 0)
            break;
    if (i == n) {
        for (i = 0; i < n && i < VSCHEMA_COUNT(names); i++)
            names[i] = vars[i].tag;
        vschema_fail_value(c, s, names, i);
        goto out;
    }
    *index = i;
    rc = 0;
out:
    return rc;
}

int vschema_union(const json_t *v, struct vschema *c, const char *tagkey,
                  const struct vschema_variant *vars, size_t n,
                  const struct vschema_variant **chosen)
{
    const json_t *tag;
    size_t i = 0, old;
    int rc = -1;

    if (!json_is_object(v)) {
        vschema_fail_type(c, v, "an object");
        goto out;
    }
    tag = json_object_get(v, tagkey);
    if (tag == NULL) {
        vschema_fail_missing(c, tagkey);
        goto out;
    }
    old = vschema_push_key(c, tagkey);
    rc = variant_find(tag, c, vars, n, &i);
    vschema_pop(c, old);
    if (rc != 0)
        goto out;
    rc = vschema_object(v, c, vars[i].fields, vars[i].nfields);
    if (rc == 0 && chosen != NULL)
        *chosen = &vars[i];
out:
    return rc;
}

void vschema_init(struct vschema *c, struct api_error *err, void *user)
{
    memset(c, 0, sizeof(*c));
    c->err = err;
    c->user = user;
}

int vschema_validate(const json_t *body, const struct vschema_field *fields,
                     size_t n, struct api_error *err, void *user)
{
    struct vschema c;
    int rc = -1;

    vschema_init(&c, err, user);
    if (!json_is_object(body)) {
        api_error_set(err, API_ERR_INVALID_REQUEST, NULL, "invalid_type",
                      "The request body must be a JSON object, but got %s "
                      "instead.",
                      vschema_type_name(body));
        goto out;
    }
    rc = vschema_object(body, &c, fields, n);
out:
    return rc;
}
