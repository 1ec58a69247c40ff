/* test_suggest: typos find their word; unrelated words find nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "suggest.h"

static void test_closest(void **state)
{
    static const char *const names[] = {"content", "template", "status",
                                        "tool_calls", "stream"};
    static const struct {
        const char *word;
        const char *want; /* NULL: no suggestion */
    } cases[] = {
        {"contnet", "content"}, /* a swap of neighbours is one edit */
        {"conten", "content"},
        {"statu", "status"},
        {"stream", NULL}, /* the word itself is not a typo of it */
        {"steam", "stream"},
        {"toolcalls", "tool_calls"},
        {"x", NULL},
        {"colour", NULL},
        {"", NULL},
    };
    size_t i;
    const char *got;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        got = suggest_closest(cases[i].word, names, 5);
        if (cases[i].want == NULL
                ? got != NULL
                : got == NULL || strcmp(got, cases[i].want) != 0)
            fail_msg("'%s': got '%s'", cases[i].word, got ? got : "(none)");
    }
    assert_null(suggest_closest("content", names, 0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_closest),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
