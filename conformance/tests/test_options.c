/* test_options: the command line and its environment fallbacks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "conform.h"
#include "options.h"

/* A fake environment: OPENAI_BASE_URL and OPENAI_API_KEY are set. */
static const char *env_set(const char *name)
{
    const char *ret;
    if (strcmp(name, "OPENAI_BASE_URL") == 0) {
        ret = "https://env.example/v1";
        goto out;
    }
    if (strcmp(name, "OPENAI_API_KEY") == 0) {
        ret = "sk-env";
        goto out;
    }
    ret = NULL;
out:
    return ret;
}

/* A fake environment with nothing set. */
static const char *env_empty(const char *name)
{
    (void)name;
    return NULL;
}

/* Parses a NULL-terminated argument list (argv[0] added). */
static enum options_action
parse(struct options *o, const char *(*env)(const char *), char **cause, ...)
{
    const char *argv[64] = {"nexus-conform"};
    enum options_action act;
    int argc = 1;
    va_list ap;

    va_start(ap, cause);
    while (argc < 63 && (argv[argc] = va_arg(ap, const char *)) != NULL)
        argc++;
    va_end(ap);
    act = options_parse(o, argc, (char *const *)argv, env, cause);
    return act;
}

/* The environment fills in what the command line leaves out. */
static void test_env_fallbacks(void **state)
{
    struct options o;
    char *cause = NULL;
    size_t n;

    (void)state;
    assert_int_equal(parse(&o, env_set, &cause, NULL), OPTIONS_RUN);
    assert_string_equal(o.base_url, "https://env.example/v1");
    assert_string_equal(o.api_key, "sk-env");
    assert_null(o.model);
    assert_int_equal(o.profile, PROFILE_OPENAI);
    conform_groups(&n);
    assert_int_equal(o.groups, (1UL << n) - 1);
    assert_true(o.timeout_s > 0 && o.stream_timeout_s > 0);
    assert_true(o.done_grace_s == 1.0);
    assert_int_equal(o.max_bytes, (size_t)8 << 20);
    assert_int_equal(parse(&o, env_set, &cause, "--base-url",
                           "http://cli.example/v1", "--api-key=sk-cli", NULL),
                     OPTIONS_RUN);
    assert_string_equal(o.base_url, "http://cli.example/v1");
    assert_string_equal(o.api_key, "sk-cli");
}

/* Every flag lands in its field, in both spellings. */
static void test_every_flag(void **state)
{
    struct options o;
    char *cause = NULL;

    (void)state;
    assert_int_equal(
        parse(&o, env_empty, &cause, "--base-url", "http://h/v1", "--api-key",
              "k", "--model", "m", "--profile", "ai-nexus", "--empty-key", "e",
              "--rpm", "10", "--ratelimit-key", "r", "--timeout", "2.5",
              "--stream-timeout=9", "--done-grace", "0.25", "--max-bytes",
              "4096", "--json", "a.json", "--junit", "a.xml", "--html",
              "a.html", "--color", "always", "--verbose", NULL),
        OPTIONS_RUN);
    assert_string_equal(o.model, "m");
    assert_int_equal(o.profile, PROFILE_AI_NEXUS);
    assert_string_equal(o.empty_key, "e");
    assert_int_equal(o.rpm, 10);
    assert_string_equal(o.ratelimit_key, "r");
    assert_true(o.timeout_s == 2.5);
    assert_true(o.stream_timeout_s == 9.0);
    assert_true(o.done_grace_s == 0.25);
    assert_int_equal(o.max_bytes, 4096);
    assert_string_equal(o.json_path, "a.json");
    assert_string_equal(o.junit_path, "a.xml");
    assert_string_equal(o.html_path, "a.html");
    assert_int_equal(o.color, COLOR_ALWAYS);
    assert_true(o.verbose);
    assert_int_equal(parse(&o, env_set, &cause, "--no-color", NULL),
                     OPTIONS_RUN);
    assert_int_equal(o.color, COLOR_NEVER);
}

/* --only and --skip select groups by name. */
static void test_groups(void **state)
{
    struct options o;
    char *cause = NULL;

    (void)state;
    assert_int_equal(parse(&o, env_set, &cause, "--only", "chat,stream", NULL),
                     OPTIONS_RUN);
    assert_int_equal(o.groups, (1UL << conform_group_index("chat")) |
                                   (1UL << conform_group_index("stream")));
    assert_int_equal(parse(&o, env_set, &cause, "--only", "chat,stream",
                           "--skip", "stream", NULL),
                     OPTIONS_RUN);
    assert_int_equal(o.groups, 1UL << conform_group_index("chat"));
    assert_int_equal(parse(&o, env_set, &cause, "--skip", "ratelimit", NULL),
                     OPTIONS_RUN);
    assert_int_equal(o.groups & (1UL << conform_group_index("ratelimit")), 0);
    assert_true(o.groups & (1UL << conform_group_index("models")));
}

/* Each usage error is refused with words that say what is wrong. */
static void test_usage_errors(void **state)
{
    static const struct {
        const char *a, *b, *says;
    } cases[] = {
        {"--only", "chat,nonsense", "unknown group 'nonsense'"},
        {"--only", "", "bad group list"},
        {"--only", "chat,,stream", "bad group list"},
        {"--skip",
         "models,chat,stream,usage,tools,format,params,auth,notfound,"
         "billing,ratelimit",
         "no group"},
        {"--profile", "azure", "--profile"},
        {"--rpm", "0", "--rpm"},
        {"--rpm", "10x", "--rpm"},
        {"--timeout", "-1", "--timeout"},
        {"--timeout", "nan", "--timeout"},
        {"--stream-timeout", "0", "--stream-timeout"},
        {"--done-grace", "0", "--done-grace"},
        {"--done-grace", "3601", "--done-grace"},
        {"--max-bytes", "12", "--max-bytes"},
        {"--color", "sometimes", "--color"},
        {"--model", "", "needs a value"},
        {"--frobnicate", NULL, "unknown argument"},
        {"--json", NULL, "needs a value"},
    };
    struct options o;
    char *cause = NULL;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(
            parse(&o, env_set, &cause, cases[i].a, cases[i].b, NULL),
            OPTIONS_ERROR);
        assert_non_null(cause);
        if (strstr(cause, cases[i].says) == NULL)
            fail_msg("%s %s: '%s' does not say '%s'", cases[i].a,
                     cases[i].b ? cases[i].b : "", cause, cases[i].says);
        free(cause);
        cause = NULL;
    }
    assert_int_equal(parse(&o, env_empty, &cause, NULL), OPTIONS_ERROR);
    assert_non_null(strstr(cause, "OPENAI_BASE_URL"));
    free(cause);
    assert_int_equal(
        parse(&o, env_empty, &cause, "--base-url", "http://h", NULL),
        OPTIONS_ERROR);
    assert_non_null(strstr(cause, "OPENAI_API_KEY"));
    free(cause);
    assert_int_equal(parse(&o, env_empty, &cause, "--base-url", "ftp://h",
                           "--api-key", "k", NULL),
                     OPTIONS_ERROR);
    assert_non_null(strstr(cause, "http://"));
    free(cause);
}

/* A usage error that quotes a long argument still says what is wrong: the
 * quote is cut (at a character boundary, marked "..."), not the message
 * lost. */
static void test_long_argument(void **state)
{
    char arg[4000];
    struct options o;
    char *cause = NULL;

    (void)state;
    memset(arg, 'x', sizeof(arg) - 1);
    arg[0] = '-';
    arg[1] = '-';
    arg[sizeof(arg) - 1] = '\0';
    assert_int_equal(parse(&o, env_set, &cause, arg, NULL), OPTIONS_ERROR);
    assert_non_null(cause);
    if (strncmp(cause, "unknown argument '--xxxx", 24) != 0)
        fail_msg("the message is '%.60s'", cause);
    assert_true(strlen(cause) <= 1024);
    assert_string_equal(cause + strlen(cause) - 3, "...");
    free(cause);
}

/* --help, --version and --list-checks win over everything else. */
static void test_actions(void **state)
{
    struct options o;
    char *cause = NULL;

    (void)state;
    assert_int_equal(parse(&o, env_empty, &cause, "--help", NULL),
                     OPTIONS_HELP);
    assert_int_equal(parse(&o, env_empty, &cause, "-h", NULL), OPTIONS_HELP);
    assert_int_equal(parse(&o, env_empty, &cause, "--version", NULL),
                     OPTIONS_VERSION);
    assert_int_equal(parse(&o, env_empty, &cause, "--list-checks", NULL),
                     OPTIONS_LIST);
    assert_int_equal(o.list_format, LIST_TEXT);
    assert_null(cause);
}

/* --format picks how --list-checks prints, in either order, and means
 * nothing without it; --strict is off unless given. */
static void test_format_and_strict(void **state)
{
    struct options o;
    char *cause = NULL;

    (void)state;
    assert_int_equal(
        parse(&o, env_empty, &cause, "--list-checks", "--format", "json", NULL),
        OPTIONS_LIST);
    assert_int_equal(o.list_format, LIST_JSON);
    assert_int_equal(
        parse(&o, env_empty, &cause, "--format=json", "--list-checks", NULL),
        OPTIONS_LIST);
    assert_int_equal(o.list_format, LIST_JSON);
    assert_int_equal(
        parse(&o, env_empty, &cause, "--list-checks", "--format", "yaml", NULL),
        OPTIONS_ERROR);
    assert_string_equal(cause, "--format must be text or json");
    free(cause);
    cause = NULL;
    assert_int_equal(parse(&o, env_set, &cause, "--format", "json", NULL),
                     OPTIONS_ERROR);
    assert_string_equal(cause, "--format goes with --list-checks");
    free(cause);
    cause = NULL;
    assert_int_equal(parse(&o, env_set, &cause, NULL), OPTIONS_RUN);
    assert_false(o.strict);
    assert_int_equal(parse(&o, env_set, &cause, "--strict", NULL), OPTIONS_RUN);
    assert_true(o.strict);
    assert_null(cause);
}

/* Runs the tests of this file. */
int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_env_fallbacks),
        cmocka_unit_test(test_every_flag),
        cmocka_unit_test(test_groups),
        cmocka_unit_test(test_usage_errors),
        cmocka_unit_test(test_long_argument),
        cmocka_unit_test(test_actions),
        cmocka_unit_test(test_format_and_strict),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
