/* test_vschema: the schema toolkit on a table of its own, as a new endpoint
 * would write one: an object with required, optional and nullable fields,
 * a union by tag, an enum, bounded arrays, and a check that fills the
 * endpoint's state through c->user. Each case pins the param, code and
 * message of the first error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "vschema.h"

/* What the table's checks fill: the endpoint's parsed request. */
struct pet {
    int64_t age;
    bool has_age;
    size_t ntags;
};

static const char *const kinds[] = {"cat", "dog", NULL};

/* Accepts kind: cat or dog. */
VSCHEMA_CHECKER_OF(check_kind, vschema_enum, kinds)

/* Accepts age in 0..30 and keeps it. */
static int check_age(const json_t *v, struct vschema *c)
{
    struct pet *p = c->user;
    int rc = vschema_integer(v, c, 0, 30, &p->age);

    p->has_age = rc == 0;
    return rc;
}

/* Accepts one tag: a string of at most 8 characters. */
static int check_tag(const json_t *v, struct vschema *c)
{
    return vschema_string_max(v, c, 8);
}

/* Accepts tags: 1..3 tags, counted. */
static int check_tags(const json_t *v, struct vschema *c)
{
    struct pet *p = c->user;
    int rc = vschema_array(v, c, 1, 3, check_tag);

    p->ntags = rc == 0 ? json_array_size(v) : 0;
    return rc;
}

/* Accepts a rope's length in 0..2.5. */
static int check_length(const json_t *v, struct vschema *c)
{
    return vschema_number(v, c, 0, 2.5, NULL);
}

static const struct vschema_field ball_fields[] = {
    {"type", VSCHEMA_REQUIRED, vschema_any},
    {"color", 0, vschema_string},
};

static const struct vschema_field rope_fields[] = {
    {"type", VSCHEMA_REQUIRED, vschema_any},
    {"length", VSCHEMA_REQUIRED, check_length},
};

static const struct vschema_variant toys[] = {
    {"ball", ball_fields, VSCHEMA_COUNT(ball_fields)},
    {"rope", rope_fields, VSCHEMA_COUNT(rope_fields)},
};

/* Accepts a toy: a ball or a rope, told apart by type. */
static int check_toy(const json_t *v, struct vschema *c)
{
    return vschema_union(v, c, "type", toys, VSCHEMA_COUNT(toys), NULL);
}

/* Accepts 0..2 toys. */
static int check_toys(const json_t *v, struct vschema *c)
{
    return vschema_array(v, c, 0, 2, check_toy);
}

static const struct vschema_field vet_fields[] = {
    {"name", VSCHEMA_REQUIRED, vschema_string},
};

/* Accepts the vet: {name}. */
VSCHEMA_OBJECT_CHECKER(check_vet, vet_fields)

static const struct vschema_field pet_fields[] = {
    {"name", VSCHEMA_REQUIRED, vschema_string},
    {"kind", VSCHEMA_REQUIRED, check_kind},
    {"age", VSCHEMA_NULLABLE, check_age},
    {"tags", 0, check_tags},
    {"toys", 0, check_toys},
    {"vet", VSCHEMA_NULLABLE, check_vet},
};

/* Validates JSON text (single quotes for double) against the pet table. */
static int validate(const char *text, struct pet *p, struct api_error *e)
{
    char *json = strdup(text);
    json_t *body;
    char *q;
    int rc;

    assert_non_null(json);
    for (q = json; *q != '\0'; q++)
        if (*q == '\'')
            *q = '"';
    body = json_loads(json, JSON_DECODE_ANY, NULL);
    assert_non_null(body);
    memset(p, 0, sizeof(*p));
    memset(e, 0, sizeof(*e));
    rc = vschema_validate(body, pet_fields, VSCHEMA_COUNT(pet_fields), e, p);
    json_decref(body);
    free(json);
    return rc;
}

/* Asserts that text fails with exactly this param, code and message. */
static void assert_fails(const char *text, const char *param, const char *code,
                         const char *message)
{
    struct pet p;
    struct api_error e;

    assert_int_equal(validate(text, &p, &e), -1);
    assert_int_equal(e.kind, API_ERR_INVALID_REQUEST);
    assert_string_equal(e.param, param);
    assert_string_equal(e.code, code);
    assert_string_equal(e.message, message);
}

static void test_valid_fills_user_state(void **state)
{
    struct pet p;
    struct api_error e;

    (void)state;
    assert_int_equal(
        validate("{'name':'Rex','kind':'dog','age':3,'tags':['a','b'],"
                 "'toys':[{'type':'ball','color':'red'},"
                 "{'type':'rope','length':1.5}],'vet':null}",
                 &p, &e),
        0);
    assert_true(p.has_age);
    assert_int_equal(p.age, 3);
    assert_int_equal(p.ntags, 2);
    /* Optional fields may be absent; nullable ones may be null. */
    assert_int_equal(validate("{'name':'Tom','kind':'cat','age':null}", &p, &e),
                     0);
    assert_false(p.has_age);
}

static void test_object_errors(void **state)
{
    (void)state;
    assert_fails("[1]", "", "invalid_type",
                 "The request body must be a JSON object, but got an array "
                 "instead.");
    assert_fails("{'kind':'cat'}", "name", "missing_required_parameter",
                 "Missing required parameter: 'name'.");
    /* Unknown keys come before every field check, at any depth. */
    assert_fails("{'color':'red'}", "color", "unknown_parameter",
                 "Unrecognized request argument supplied: color");
    assert_fails("{'name':'Rex','kind':'dog','vet':{'name':'V','x':1}}",
                 "vet.x", "unknown_parameter", "Unknown parameter: 'vet.x'.");
    assert_fails("{'name':'Rex','kind':'dog','vet':{}}", "vet.name",
                 "missing_required_parameter",
                 "Missing required parameter: 'vet.name'.");
    /* Fields go in table order: name fails before kind. */
    assert_fails("{'name':1,'kind':'fish'}", "name", "invalid_type",
                 "Invalid type for 'name': expected a string, but got an "
                 "integer instead.");
    /* Table order, whatever the body's order: kind comes first here. */
    assert_fails("{'kind':'fish','name':1}", "name", "invalid_type",
                 "Invalid type for 'name': expected a string, but got an "
                 "integer instead.");
    /* ... and a nested object's unknown key waits for its field's turn. */
    assert_fails("{'vet':{'x':1,'name':'V'},'kind':'dog','age':31,"
                 "'name':'Rex'}",
                 "age", "integer_above_max_value",
                 "Invalid 'age': integer above maximum value. Expected a value "
                 "<= 30, but got 31 instead.");
    assert_fails("{'vet':{'x':1,'name':'V'},'kind':'dog','name':'Rex'}",
                 "vet.x", "unknown_parameter", "Unknown parameter: 'vet.x'.");
    /* Null is absent only where the field says so. */
    assert_fails("{'name':null,'kind':'cat'}", "name", "invalid_type",
                 "Invalid type for 'name': expected a string, but got null "
                 "instead.");
}

static void test_enum_and_numbers(void **state)
{
    (void)state;
    assert_fails("{'name':'Rex','kind':'fish'}", "kind", "invalid_value",
                 "Invalid value: 'fish'. Supported values are: 'cat' and "
                 "'dog'.");
    assert_fails("{'name':'Rex','kind':'dog','age':31}", "age",
                 "integer_above_max_value",
                 "Invalid 'age': integer above maximum value. Expected a value "
                 "<= 30, but got 31 instead.");
    assert_fails("{'name':'Rex','kind':'dog','age':-1}", "age",
                 "integer_below_min_value",
                 "Invalid 'age': integer below minimum value. Expected a value "
                 ">= 0, but got -1 instead.");
    assert_fails("{'name':'Rex','kind':'dog','age':1.0}", "age", "invalid_type",
                 "Invalid type for 'age': expected an integer, but got a "
                 "decimal instead.");
}

static void test_array_bounds(void **state)
{
    (void)state;
    assert_fails("{'name':'Rex','kind':'dog','tags':[]}", "tags", "empty_array",
                 "Invalid 'tags': empty array. Expected an array with minimum "
                 "length 1, but got an empty array instead.");
    assert_fails("{'name':'Rex','kind':'dog','tags':['a','b','c','d']}", "tags",
                 "array_above_max_length",
                 "Invalid 'tags': array too long. Expected an array with "
                 "maximum length 3, but got an array with length 4 instead.");
    assert_fails("{'name':'Rex','kind':'dog','tags':['a',2]}", "tags[1]",
                 "invalid_type",
                 "Invalid type for 'tags[1]': expected a string, but got an "
                 "integer instead.");
    /* Eight characters, not bytes: "ééééééééé" is nine. */
    assert_fails("{'name':'Rex','kind':'dog','tags':['\u00e9\u00e9\u00e9"
                 "\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9']}",
                 "tags[0]", "string_above_max_length",
                 "Invalid 'tags[0]': string too long. Expected a string with "
                 "maximum length 8, but got a string with length 9 instead.");
    assert_fails("{'name':'Rex','kind':'dog','tags':'a'}", "tags",
                 "invalid_type",
                 "Invalid type for 'tags': expected an array, but got a string "
                 "instead.");
}

static void test_union_by_tag(void **state)
{
    (void)state;
    assert_fails("{'name':'Rex','kind':'dog','toys':[{'color':'red'}]}",
                 "toys[0].type", "missing_required_parameter",
                 "Missing required parameter: 'toys[0].type'.");
    assert_fails("{'name':'Rex','kind':'dog','toys':[{'type':'stick'}]}",
                 "toys[0].type", "invalid_value",
                 "Invalid value: 'stick'. Supported values are: 'ball' and "
                 "'rope'.");
    assert_fails("{'name':'Rex','kind':'dog','toys':[{'type':7}]}",
                 "toys[0].type", "invalid_type",
                 "Invalid type for 'toys[0].type': expected a string, but got "
                 "an integer instead.");
    /* The variant's own table decides: a ball has no length. */
    assert_fails("{'name':'Rex','kind':'dog','toys':[{'type':'rope',"
                 "'length':1},{'type':'ball','length':1}]}",
                 "toys[1].length", "unknown_parameter",
                 "Unknown parameter: 'toys[1].length'.");
    assert_fails("{'name':'Rex','kind':'dog','toys':[{'type':'rope'}]}",
                 "toys[0].length", "missing_required_parameter",
                 "Missing required parameter: 'toys[0].length'.");
    assert_fails("{'name':'Rex','kind':'dog','toys':[{'type':'rope',"
                 "'length':2.75}]}",
                 "toys[0].length", "decimal_above_max_value",
                 "Invalid 'toys[0].length': decimal above maximum value. "
                 "Expected a value <= 2.5, but got 2.75 instead.");
    assert_fails("{'name':'Rex','kind':'dog','toys':['ball']}", "toys[0]",
                 "invalid_type",
                 "Invalid type for 'toys[0]': expected an object, but got a "
                 "string instead.");
}

/* A path longer than the param holds is cut, never overrun. */
static void test_long_path_is_bounded(void **state)
{
    struct vschema c;
    struct api_error e;
    char key[300];
    size_t old;

    (void)state;
    memset(key, 'k', sizeof(key) - 1);
    key[sizeof(key) - 1] = '\0';
    vschema_init(&c, &e, NULL);
    old = vschema_push_key(&c, "top");
    vschema_push_key(&c, key);
    assert_int_equal(c.len, sizeof(c.path) - 1);
    assert_int_equal(vschema_fail(&c, "x", "at %s", "end"), -1);
    assert_int_equal(strlen(e.param), sizeof(e.param) - 1);
    assert_true(strncmp(e.param, "top.kkk", 7) == 0);
    vschema_pop(&c, old);
    assert_string_equal(c.path, "");
    vschema_push_index(&c, 12);
    assert_string_equal(c.path, "[12]");
    vschema_push_index(&c, 0);
    vschema_push_key(&c, "a");
    vschema_push_index(&c, SIZE_MAX);
    assert_string_equal(c.path, "[12][0].a[18446744073709551615]");
    /* An index cut at the end of the room keeps what fits. */
    vschema_pop(&c, 0);
    memset(key, 'k', sizeof(c.path) - 3);
    key[sizeof(c.path) - 3] = '\0';
    vschema_push_key(&c, key);
    vschema_push_index(&c, 345);
    assert_int_equal(c.len, sizeof(c.path) - 1);
    assert_memory_equal(c.path + c.len - 2, "[3", 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_fills_user_state),
        cmocka_unit_test(test_object_errors),
        cmocka_unit_test(test_enum_and_numbers),
        cmocka_unit_test(test_array_bounds),
        cmocka_unit_test(test_union_by_tag),
        cmocka_unit_test(test_long_path_is_bounded),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
