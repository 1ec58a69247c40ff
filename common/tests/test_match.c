/* test_match: each kind of condition, rules as conjunctions, the first
 * matching rule of a table winning, and turns counted exactly under
 * concurrent requests. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>

#include "match.h"

/* Threads and requests per thread of the concurrency test. */
#define THREADS 8
#define PER_THREAD 2000

/* A rule of one condition. */
static struct match_rule *rule1(enum match_field f, enum match_op op,
                                const char *operand)
{
    struct match_rule *r = match_rule_new();

    assert_non_null(r);
    assert_int_equal(match_rule_add(r, f, op, operand), 0);
    return r;
}

/* One condition and whether it should hold. */
struct want {
    enum match_field field;
    enum match_op op;
    const char *operand;
    bool holds;
};

/* Checks each one-condition rule of w against v. */
static void check(const struct match_view *v, const struct want *w, size_t n)
{
    struct match_rule *r;
    size_t i;

    for (i = 0; i < n; i++) {
        r = rule1(w[i].field, w[i].op, w[i].operand);
        if (match_request(r, v) != w[i].holds)
            fail_msg("case %zu ('%s') should %shold", i,
                     w[i].operand != NULL ? w[i].operand : "(none)",
                     w[i].holds ? "" : "not ");
        match_rule_free(r);
    }
}

/* Method and path compare whole, byte for byte. */
static void test_equals(void **state)
{
    static const struct want w[] = {
        {MATCH_METHOD, MATCH_EQUALS, "POST", true},
        {MATCH_METHOD, MATCH_EQUALS, "post", false},
        {MATCH_METHOD, MATCH_EQUALS, "POS", false},
        {MATCH_PATH, MATCH_EQUALS, "/v1/chat/completions", true},
        {MATCH_PATH, MATCH_EQUALS, "/v1/chat/completions/", false},
        {MATCH_PATH, MATCH_CONTAINS, "/chat/", true},
    };
    struct match_view v = {.method = "POST", .path = "/v1/chat/completions"};

    (void)state;
    check(&v, w, sizeof(w) / sizeof(w[0]));
}

/* Authorization: a value, or absent; an absent header equals nothing. */
static void test_authorization(void **state)
{
    static const struct want with_w[] = {
        {MATCH_AUTHORIZATION, MATCH_EQUALS, "Bearer k", true},
        {MATCH_AUTHORIZATION, MATCH_EQUALS, "Bearer", false},
        {MATCH_AUTHORIZATION, MATCH_ABSENT, NULL, false},
    };
    static const struct want without_w[] = {
        {MATCH_AUTHORIZATION, MATCH_EQUALS, "Bearer k", false},
        {MATCH_AUTHORIZATION, MATCH_EQUALS, "", false},
        {MATCH_AUTHORIZATION, MATCH_ABSENT, NULL, true},
    };
    static const struct want empty_w[] = {
        {MATCH_AUTHORIZATION, MATCH_EQUALS, "", true},
        {MATCH_AUTHORIZATION, MATCH_ABSENT, NULL, false},
    };
    struct match_view with = {.method = "GET", .authorization = "Bearer k"};
    struct match_view without = {.method = "GET"};
    struct match_view empty = {.method = "GET", .authorization = ""};

    (void)state;
    check(&with, with_w, sizeof(with_w) / sizeof(with_w[0]));
    check(&without, without_w, sizeof(without_w) / sizeof(without_w[0]));
    check(&empty, empty_w, sizeof(empty_w) / sizeof(empty_w[0]));
}

/* The body is searched as bytes (NULs included); no body is an empty
 * one. */
static void test_body(void **state)
{
    static const struct want body_w[] = {
        {MATCH_BODY, MATCH_CONTAINS, "\"a\":1", true},
        {MATCH_BODY, MATCH_CONTAINS, "tail", true},
        {MATCH_BODY, MATCH_CONTAINS, "\"b\"", false},
        {MATCH_BODY, MATCH_LACKS, "\"b\"", true},
        {MATCH_BODY, MATCH_LACKS, "tail", false},
        {MATCH_BODY, MATCH_CONTAINS, "", true},
    };
    static const struct want none_w[] = {
        {MATCH_BODY, MATCH_CONTAINS, "", true},
        {MATCH_BODY, MATCH_CONTAINS, "x", false},
        {MATCH_BODY, MATCH_LACKS, "x", true},
        {MATCH_BODY, MATCH_EQUALS, "", true},
    };
    /* A needle longer than the body is not in it. */
    static const struct want short_w[] = {
        {MATCH_BODY, MATCH_CONTAINS, "{\"a\":", false},
    };
    struct match_view v = {
        .method = "POST", .body = "{\"a\":1}\0tail", .body_len = 12};
    struct match_view none = {.method = "POST"};

    (void)state;
    check(&v, body_w, sizeof(body_w) / sizeof(body_w[0]));
    check(&none, none_w, sizeof(none_w) / sizeof(none_w[0]));
    v.body_len = 3;
    check(&v, short_w, 1);
}

/* Every condition must hold; a rule with none matches everything; an
 * operand goes with every operator but MATCH_ABSENT. */
static void test_rule(void **state)
{
    struct match_rule *r = match_rule_new();
    struct match_view v = {.method = "POST",
                           .path = "/v1/x",
                           .authorization = NULL,
                           .body = "hello world",
                           .body_len = 11};

    (void)state;
    assert_non_null(r);
    assert_true(match_request(r, &v));
    assert_int_equal(match_rule_add(r, MATCH_METHOD, MATCH_EQUALS, "POST"), 0);
    assert_int_equal(match_rule_add(r, MATCH_PATH, MATCH_EQUALS, "/v1/x"), 0);
    assert_int_equal(match_rule_add(r, MATCH_AUTHORIZATION, MATCH_ABSENT, NULL),
                     0);
    assert_int_equal(match_rule_add(r, MATCH_BODY, MATCH_CONTAINS, "hello"), 0);
    assert_int_equal(match_rule_add(r, MATCH_BODY, MATCH_LACKS, "bye"), 0);
    assert_true(match_request(r, &v));
    v.body = "hello, bye";
    v.body_len = 10;
    assert_false(match_request(r, &v));
    v.body = "hello world";
    v.body_len = 11;
    v.authorization = "Bearer k";
    assert_false(match_request(r, &v));
    /* Malformed conditions are refused and change nothing. */
    assert_int_equal(match_rule_add(r, MATCH_METHOD, MATCH_EQUALS, NULL), -1);
    assert_int_equal(match_rule_add(r, MATCH_METHOD, MATCH_ABSENT, "GET"), -1);
    v.authorization = NULL;
    assert_true(match_request(r, &v));
    match_rule_free(r);
    match_rule_free(NULL);
}

/* The first matching rule wins and counts its own turns; a request that
 * matches none is counted apart. */
static void test_table(void **state)
{
    struct match_table *t = match_table_new();
    struct match_rule *both = match_rule_new();
    struct match_view get_a = {.method = "GET", .path = "/a"};
    struct match_view get_b = {.method = "GET", .path = "/b"};
    struct match_view post_a = {.method = "POST", .path = "/a"};
    unsigned long turn = 99;

    (void)state;
    assert_non_null(t);
    assert_int_equal(match_rule_add(both, MATCH_METHOD, MATCH_EQUALS, "GET"),
                     0);
    assert_int_equal(match_rule_add(both, MATCH_PATH, MATCH_EQUALS, "/a"), 0);
    assert_int_equal(match_table_add(t, both), 0);
    assert_int_equal(
        match_table_add(t, rule1(MATCH_METHOD, MATCH_EQUALS, "GET")), 0);
    assert_int_equal(match_table_add(t, NULL), -1);
    assert_int_equal(match_table_size(t), 2);
    assert_int_equal(match_table_find(t, &get_a, &turn), 0);
    assert_int_equal(turn, 0);
    assert_int_equal(match_table_find(t, &get_a, &turn), 0);
    assert_int_equal(turn, 1);
    assert_int_equal(match_table_find(t, &get_b, &turn), 1);
    assert_int_equal(turn, 0);
    assert_int_equal(match_table_find(t, &get_a, &turn), 0);
    assert_int_equal(turn, 2);
    turn = 99;
    assert_int_equal(match_table_find(t, &post_a, &turn), -1);
    assert_int_equal(turn, 99);
    assert_int_equal(match_table_unmatched(t), 1);
    match_table_free(t);
    match_table_free(NULL);
}

struct race {
    struct match_table *t;
    bool *seen; /* seen[turn]: each turn taken by exactly one request */
};

/* Takes PER_THREAD turns of rule 0. */
static void *take_turns(void *arg)
{
    struct race *r = arg;
    struct match_view v = {.method = "GET", .path = "/"};
    unsigned long turn;
    int i;

    for (i = 0; i < PER_THREAD; i++)
        if (match_table_find(r->t, &v, &turn) == 0 &&
            turn < THREADS * PER_THREAD)
            r->seen[turn] = true;
    return NULL;
}

/* Concurrent requests each get their own turn: none lost, none twice. */
static void test_turns_concurrent(void **state)
{
    struct race r = {.t = match_table_new(),
                     .seen = calloc(THREADS * PER_THREAD, sizeof(bool))};
    struct match_view v = {.method = "GET", .path = "/"};
    pthread_t th[THREADS];
    unsigned long turn;
    int i;

    (void)state;
    assert_non_null(r.t);
    assert_non_null(r.seen);
    assert_int_equal(
        match_table_add(r.t, rule1(MATCH_METHOD, MATCH_EQUALS, "GET")), 0);
    for (i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, take_turns, &r), 0);
    for (i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    for (i = 0; i < THREADS * PER_THREAD; i++)
        if (!r.seen[i])
            fail_msg("turn %d was never given", i);
    assert_int_equal(match_table_find(r.t, &v, &turn), 0);
    assert_int_equal(turn, THREADS * PER_THREAD);
    free(r.seen);
    match_table_free(r.t);
}

/* A rule of one condition given as a spec. */
static struct match_rule *rule_spec(const struct match_spec *s)
{
    struct match_rule *r = match_rule_new();
    char why[128];

    assert_non_null(r);
    if (match_rule_add_spec(r, s, why, sizeof(why)) != 0)
        fail_msg("spec refused: %s", why);
    return r;
}

/* Whether the spec holds for the view. */
static bool holds(const struct match_spec *s, const struct match_view *v)
{
    struct match_rule *r = rule_spec(s);
    bool h = match_request(r, v);

    match_rule_free(r);
    return h;
}

/* The chat body the chat-field tests read. */
static const char chat_body[] =
    "{\"model\":\"qwen-max\",\"stream\":true,\"temperature\":1,"
    "\"messages\":[{\"role\":\"system\",\"content\":\"Be brief.\"},"
    "{\"role\":\"user\",\"content\":\"What is the weather?\"},"
    "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[]},"
    "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"In "
    "Paris\"},{\"type\":\"image_url\"},{\"type\":\"text\",\"text\":\"now\"}]},"
    "{\"role\":\"tool\",\"tool_call_id\":\"call_7\",\"content\":\"sunny\"}],"
    "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"get_weather\"}}"
    ","
    "{\"type\":\"function\",\"function\":{\"name\":\"get_time\"}}],"
    "\"metadata\":{\"a/b\":\"x\",\"m~n\":[10,{\"deep\":false}]}}";

/* Each chat field reads the body as a chat request: the model, the last
 * user message (parts joined by a newline), any message, the turn, the
 * last message as a tool result, stream, tool names. */
static void test_chat_fields(void **state)
{
    struct want_spec {
        enum match_field field;
        enum match_op op;
        const char *operand;
        bool holds;
    };
    static const struct want_spec w[] = {
        {MATCH_MODEL, MATCH_EQUALS, "qwen-max", true},
        {MATCH_MODEL, MATCH_EQUALS, "qwen", false},
        {MATCH_MODEL, MATCH_REGEX, "^qwen-", true},
        {MATCH_MODEL, MATCH_REGEX, "^max", false},
        {MATCH_LAST_USER, MATCH_EQUALS, "In Paris\nnow", true},
        {MATCH_LAST_USER, MATCH_CONTAINS, "weather", false},
        {MATCH_LAST_USER, MATCH_REGEX, "Paris.now", true},
        {MATCH_ANY_MESSAGE, MATCH_CONTAINS, "weather", true},
        {MATCH_ANY_MESSAGE, MATCH_EQUALS, "Be brief.", true},
        {MATCH_ANY_MESSAGE, MATCH_LACKS, "brief", false},
        {MATCH_ANY_MESSAGE, MATCH_LACKS, "snow", true},
        {MATCH_TURN, MATCH_EQUALS, "2", true},
        {MATCH_TURN, MATCH_EQUALS, "5", false},
        {MATCH_LAST_ROLE, MATCH_EQUALS, "tool", true},
        {MATCH_TOOL_CALL_ID, MATCH_EQUALS, "call_7", true},
        {MATCH_TOOL_RESULT, MATCH_CONTAINS, "sun", true},
        {MATCH_STREAM, MATCH_EQUALS, "true", true},
        {MATCH_STREAM, MATCH_EQUALS, "false", false},
        {MATCH_TOOL_NAME, MATCH_EQUALS, "get_time", true},
        {MATCH_TOOL_NAME, MATCH_EQUALS, "get", false},
        {MATCH_TOOL_NAME, MATCH_PRESENT, NULL, true},
        {MATCH_TOOL_NAME, MATCH_DIFFERS, "get_time", false},
        {MATCH_TOOL_NAME, MATCH_DIFFERS, "get_news", true},
    };
    json_t *body = json_loads(chat_body, 0, NULL);
    json_t *plain = json_loads("{\"model\":\"m\",\"messages\":[{\"role\":"
                               "\"user\",\"content\":\"hi\"}]}",
                               0, NULL);
    struct match_view v = {.method = "POST", .json = body};
    struct match_view p = {.method = "POST", .json = plain};
    struct match_view none = {.method = "GET"};
    struct match_spec s;
    size_t i;

    (void)state;
    assert_non_null(body);
    assert_non_null(plain);
    for (i = 0; i < sizeof(w) / sizeof(w[0]); i++) {
        memset(&s, 0, sizeof(s));
        s.field = w[i].field;
        s.op = w[i].op;
        s.operand = w[i].operand;
        if (holds(&s, &v) != w[i].holds)
            fail_msg("case %zu should %shold", i, w[i].holds ? "" : "not ");
    }
    /* Without tools, a tool result or stream, those fields read so. */
    s = (struct match_spec){.field = MATCH_TOOL_NAME, .op = MATCH_ABSENT};
    assert_true(holds(&s, &p));
    s = (struct match_spec){MATCH_STREAM, MATCH_EQUALS, NULL,
                            "false",      NULL,         false};
    assert_true(holds(&s, &p));
    s = (struct match_spec){
        MATCH_TOOL_RESULT, MATCH_ABSENT, NULL, NULL, NULL, false};
    assert_true(holds(&s, &p));
    s = (struct match_spec){MATCH_TURN, MATCH_EQUALS, NULL, "1", NULL, false};
    assert_true(holds(&s, &p));
    /* Without a parsed body every chat field is absent. */
    s = (struct match_spec){MATCH_MODEL, MATCH_ABSENT, NULL, NULL, NULL, false};
    assert_true(holds(&s, &none));
    s = (struct match_spec){MATCH_STREAM, MATCH_EQUALS, NULL,
                            "false",      NULL,         false};
    assert_false(holds(&s, &none));
    json_decref(body);
    json_decref(plain);
}

/* JSON pointers reach any value, with ~1 and ~0 escapes and array
 * indices; a value compares as JSON, numbers by value, or as text. */
static void test_pointer(void **state)
{
    json_t *body = json_loads(chat_body, 0, NULL);
    json_t *one = json_real(1.0), *f = json_false(), *x = json_string("x");
    json_t *arr = json_pack("[i, {s:b}]", 10, "deep", 0);
    struct match_view v = {.method = "POST", .json = body};
    struct match_spec s = {
        MATCH_POINTER, MATCH_JSON_EQUALS, "/temperature", NULL, one, false};

    (void)state;
    assert_true(holds(&s, &v));
    s.name = "/metadata/a~1b";
    s.value = x;
    assert_true(holds(&s, &v));
    s.name = "/metadata/m~0n/1/deep";
    s.value = f;
    assert_true(holds(&s, &v));
    s.name = "/metadata/m~0n";
    s.value = arr;
    assert_true(holds(&s, &v));
    s.name = "/metadata/m~0n/01";
    assert_false(holds(&s, &v));
    s.name = "/messages/1/content";
    s.op = MATCH_CONTAINS;
    s.value = NULL;
    s.operand = "weather";
    assert_true(holds(&s, &v));
    s.name = "/metadata/m~0n";
    s.operand = "[10,{\"deep\":false}]";
    s.op = MATCH_EQUALS;
    assert_true(holds(&s, &v));
    s.name = "/nothing";
    s.op = MATCH_ABSENT;
    s.operand = NULL;
    assert_true(holds(&s, &v));
    json_decref(body);
    json_decref(one);
    json_decref(f);
    json_decref(x);
    json_decref(arr);
}

/* Header lookup for test_header: one header, any case. */
static const char *one_header(const void *ctx, const char *name)
{
    (void)ctx;
    return strcasecmp(name, "x-test") == 0 ? "abc" : NULL;
}

/* Headers by name in any case, keys and plans; regular expressions with
 * and without case; malformed specs are refused with a reason. */
static void test_header_key_regex(void **state)
{
    struct match_view v = {.method = "GET",
                           .authorization = "Bearer k1",
                           .key = "k1",
                           .plan = "free",
                           .header = one_header};
    struct match_spec s = {MATCH_HEADER, MATCH_EQUALS, "X-Test",
                           "abc",        NULL,         false};
    struct match_rule *r = match_rule_new();
    json_t *val = json_true();
    char why[128];

    (void)state;
    assert_true(holds(&s, &v));
    s.name = "X-Other";
    assert_false(holds(&s, &v));
    s.op = MATCH_ABSENT;
    s.operand = NULL;
    assert_true(holds(&s, &v));
    s = (struct match_spec){MATCH_HEADER, MATCH_EQUALS, "authorization",
                            "Bearer k1",  NULL,         false};
    assert_true(holds(&s, &v));
    s = (struct match_spec){MATCH_KEY, MATCH_EQUALS, NULL, "k1", NULL, false};
    assert_true(holds(&s, &v));
    s = (struct match_spec){MATCH_PLAN, MATCH_REGEX, NULL, "^FR", NULL, true};
    assert_true(holds(&s, &v));
    s.ignore_case = false;
    assert_false(holds(&s, &v));
    /* Refused specs leave the rule as it was. */
    assert_non_null(r);
    s = (struct match_spec){MATCH_PLAN, MATCH_REGEX, NULL, "(a", NULL, false};
    assert_int_equal(match_rule_add_spec(r, &s, why, sizeof(why)), -1);
    assert_string_equal(why, "bad regular expression at offset 2: missing "
                             "closing parenthesis");
    s = (struct match_spec){MATCH_HEADER, MATCH_EQUALS, NULL, "a", NULL, false};
    assert_int_equal(match_rule_add_spec(r, &s, why, sizeof(why)), -1);
    assert_string_equal(why,
                        "a header or JSON pointer condition needs its name");
    s = (struct match_spec){MATCH_POINTER, MATCH_EQUALS, "a", "x", NULL, false};
    assert_int_equal(match_rule_add_spec(r, &s, why, sizeof(why)), -1);
    s = (struct match_spec){MATCH_POINTER, MATCH_EQUALS, "/a~2",
                            "x",           NULL,         false};
    assert_int_equal(match_rule_add_spec(r, &s, why, sizeof(why)), -1);
    s = (struct match_spec){MATCH_MODEL, MATCH_JSON_EQUALS, NULL, NULL, val,
                            false};
    assert_int_equal(match_rule_add_spec(r, &s, why, sizeof(why)), -1);
    s = (struct match_spec){MATCH_MODEL, MATCH_PRESENT, NULL, "x", NULL, false};
    assert_int_equal(match_rule_add_spec(r, &s, why, sizeof(why)), -1);
    assert_int_equal(match_rule_size(r), 0);
    match_rule_free(r);
    json_decref(val);
}

/* A message's text: a string, or its text parts joined; none without. */
static void test_message_text(void **state)
{
    json_t *a = json_loads("{\"content\":[{\"type\":\"text\",\"text\":\"a\"},"
                           "{\"type\":\"text\",\"text\":\"b\"}]}",
                           0, NULL);
    json_t *none = json_loads("{\"content\":null}", 0, NULL);
    char *t = match_message_text(a);

    (void)state;
    assert_string_equal(t, "a\nb");
    free(t);
    assert_null(match_message_text(none));
    json_decref(a);
    json_decref(none);
}

/* Runs the tests of this file. */
/* Regular expressions are PCRE2 over UTF-8: \\d and \\s work, `.` is one
 * character (a line break too), `$` is the end of the text only, bytes
 * that are not UTF-8 are matched rather than refused; a pattern whose
 * backtracking passes the step limit counts as no match, in bounded time. */
static void test_regex_flavour(void **state)
{
    static const struct want w[] = {
        {MATCH_BODY, MATCH_REGEX, "^caf.!\\s\\d{2}$", false},
        {MATCH_BODY, MATCH_REGEX, "^caf.! \\d{2}\\n", true},
        {MATCH_BODY, MATCH_REGEX, "\\d{2}$", false},
        {MATCH_BODY, MATCH_REGEX, "x.y", true},
        {MATCH_BODY, MATCH_REGEX, "\\xff", false},
    };
    static const struct want nasty_w[] = {
        {MATCH_BODY, MATCH_REGEX, "^(a+)+$", false},
        {MATCH_BODY, MATCH_REGEX, "^a+b", true},
    };
    char nasty[64];
    struct match_view v = {
        .method = "POST", .body = "caf\xc3\xa9! 42\nx\ny\xff", .body_len = 14};
    struct match_view nv = {.method = "POST", .body = nasty};

    (void)state;
    check(&v, w, sizeof(w) / sizeof(w[0]));
    /* 2^40 ways to split the a's: without the limit this never ends. */
    memset(nasty, 'a', 40);
    memcpy(nasty + 40, "b", 2);
    nv.body_len = 41;
    match_set_regex_limit(100000);
    check(&nv, nasty_w, sizeof(nasty_w) / sizeof(nasty_w[0]));
    match_set_regex_limit(MATCH_REGEX_LIMIT_DEFAULT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_equals),
        cmocka_unit_test(test_authorization),
        cmocka_unit_test(test_body),
        cmocka_unit_test(test_rule),
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_turns_concurrent),
        cmocka_unit_test(test_chat_fields),
        cmocka_unit_test(test_pointer),
        cmocka_unit_test(test_header_key_regex),
        cmocka_unit_test(test_message_text),
        cmocka_unit_test(test_regex_flavour),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
