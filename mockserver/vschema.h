/* vschema: the schema toolkit request validation is built from, so that a
 * new endpoint is a route file plus a table. An object is a table of
 * fields, each with flags and a check; a union is a list of variants told
 * apart by a tag property. The walk stops at the first error and reports it
 * as a 400 whose param is the path to the value ("messages[1].role"), with
 * OpenAI's code and wording. validate.c is the chat completions table.
 *
 * A check is a function (const json_t *v, struct vschema *c) returning 0,
 * or -1 with c->err filled; checks built from the helpers below keep the
 * path right by pushing a key or index before descending and popping after.
 * Fields are checked in table order, so the first error is deterministic. */
#ifndef NEXUS_VSCHEMA_H
#define NEXUS_VSCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "errors.h"

/* The path is reported as the error's param, so it never needs more room. */
#define VSCHEMA_PATH_SIZE sizeof(((struct api_error *)0)->param)

/* Field flags: the field must be present; null counts as absent (the
 * OpenAPI "nullable: true" or "anyOf [..., {type: null}]"). */
#define VSCHEMA_REQUIRED 0x1u
#define VSCHEMA_NULLABLE 0x2u

/* The state of one walk: where the first error goes, the path to the value
 * being checked, and the endpoint's own state that its checks fill. */
struct vschema {
    struct api_error *err;
    char path[VSCHEMA_PATH_SIZE];
    size_t len;
    void *user; /* borrowed; whatever the table's checks need */
};

typedef int (*vschema_check_fn)(const json_t *v, struct vschema *c);

/* One property of an object: its name, flags and the check for its value. */
struct vschema_field {
    const char *name;
    unsigned flags;
    vschema_check_fn check;
};

/* One member of a union chosen by a tag property ("role", "type"). */
struct vschema_variant {
    const char *tag;
    const struct vschema_field *fields; /* the tag's own field included */
    size_t nfields;
};

#define VSCHEMA_COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* Defines fn as a check that hands its value to helper with args. */
#define VSCHEMA_CHECKER_OF(fn, helper, ...)                                    \
    static int fn(const json_t *v, struct vschema *c)                          \
    {                                                                          \
        return helper(v, c, __VA_ARGS__);                                      \
    }

/* Defines fn as a check of objects described by the field table. */
#define VSCHEMA_OBJECT_CHECKER(fn, table)                                      \
    VSCHEMA_CHECKER_OF(fn, vschema_object, table, VSCHEMA_COUNT(table))

/* ---- The walk ---- */

/* Validates body as a request: a JSON object (else invalid_type with no
 * param) whose keys are all among the n fields and whose fields pass their
 * checks. user reaches every check as c->user. Returns 0, or -1 with err
 * filled (API_ERR_INVALID_REQUEST, or whatever a check set). */
int vschema_validate(const json_t *body, const struct vschema_field *fields,
                     size_t n, struct api_error *err, void *user);
/* Starts a walk at the root (empty path); vschema_validate does this. */
void vschema_init(struct vschema *c, struct api_error *err, void *user);

/* Accepts an object whose keys are all among the n fields (an unknown key
 * fails with unknown_parameter; OpenAI refuses them rather than ignoring
 * them), then checks each field in table order: absent fails only when
 * required (missing_required_parameter), null passes when nullable. */
int vschema_object(const json_t *v, struct vschema *c,
                   const struct vschema_field *fields, size_t n);
/* Accepts an object that is one of the n variants, chosen by its string
 * property tagkey (missing: missing_required_parameter; unknown:
 * invalid_value listing the tags), then checked as that variant's object.
 * Stores the variant in *chosen when chosen is not NULL. */
int vschema_union(const json_t *v, struct vschema *c, const char *tagkey,
                  const struct vschema_variant *vars, size_t n,
                  const struct vschema_variant **chosen);
/* Accepts an array of min..max items (empty_array, array_below_min_length,
 * array_above_max_length), each passing item at path[i]. */
int vschema_array(const json_t *v, struct vschema *c, size_t min, size_t max,
                  vschema_check_fn item);

/* ---- Checks of one value ---- */

/* Accepts any value: for a union's tag, which vschema_union checked. */
int vschema_any(const json_t *v, struct vschema *c);
/* Accepts a string. */
int vschema_string(const json_t *v, struct vschema *c);
/* Accepts a boolean. */
int vschema_bool(const json_t *v, struct vschema *c);
/* Accepts any object: for free-form documents such as a JSON Schema. */
int vschema_any_object(const json_t *v, struct vschema *c);
/* Accepts a string of at most max characters (string_above_max_length). */
int vschema_string_max(const json_t *v, struct vschema *c, size_t max);
/* Accepts a string among the NULL-terminated values (invalid_value listing
 * them). */
int vschema_enum(const json_t *v, struct vschema *c, const char *const *values);
/* Accepts a number, integer or decimal, in [min, max]
 * (decimal_below_min_value, decimal_above_max_value); stores it in *out
 * when out is not NULL. */
int vschema_number(const json_t *v, struct vschema *c, double min, double max,
                   double *out);
/* Accepts a JSON integer (5.0 is a decimal, not an integer) in [min, max]
 * (integer_below_min_value, integer_above_max_value); stores it in *out
 * when out is not NULL. */
int vschema_integer(const json_t *v, struct vschema *c, int64_t min,
                    int64_t max, int64_t *out);

/* ---- Building blocks for checks of one's own ---- */

/* Descends into property key or array element i; returns the old length
 * for vschema_pop. */
size_t vschema_push_key(struct vschema *c, const char *key);
size_t vschema_push_index(struct vschema *c, size_t i);
/* Climbs back to a length vschema_push_* returned. */
void vschema_pop(struct vschema *c, size_t old);
/* Checks v with check at property key or array element i of the path, and
 * climbs back: the push, check, pop of descending into a value. Returns
 * what check returned. */
int vschema_check_key(const json_t *v, struct vschema *c, const char *key,
                      vschema_check_fn check);
int vschema_check_index(const json_t *v, struct vschema *c, size_t i,
                        vschema_check_fn check);
/* Records an invalid-request error with the given code for the current
 * path; returns -1, so that a check can end with return vschema_fail(...). */
int vschema_fail(struct vschema *c, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Fails with invalid_type; expected is a phrase such as "a number". */
int vschema_fail_type(struct vschema *c, const json_t *v, const char *expected);
/* Fails because property key is absent from the object at the path. */
int vschema_fail_missing(struct vschema *c, const char *key);
/* Fails with invalid_value, listing the n supported values as "'a', 'b',
 * and 'c'" so the client sees what would have worked. */
int vschema_fail_value(struct vschema *c, const char *got,
                       const char *const *names, size_t n);
/* Names a JSON value's type the way OpenAI's messages do ("a string"); NULL
 * is "null". Static text. */
const char *vschema_type_name(const json_t *v);
/* Counts the characters (UTF-8 code points) in n bytes of s: OpenAI's
 * length limits are in characters, not bytes. */
size_t vschema_chars(const char *s, size_t n);

#endif
