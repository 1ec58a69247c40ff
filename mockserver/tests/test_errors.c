/* test_errors: error texts stay valid UTF-8 whatever client text they
 * quote. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "errors.h"

/* A message cut at the buffer's end is cut between characters, and
 * nothing of the client's text is replaced. */
static void test_error_text_cut_at_a_character(void **state)
{
    struct api_error e;
    char name[700];
    size_t i, len;

    (void)state;
    for (i = 0; i + 3 < sizeof(name); i += 3)
        memcpy(name + i, "\xe6\xa8\xa1", 3);
    name[i] = '\0';
    api_error_set(&e, API_ERR_MODEL_NOT_FOUND, name, NULL,
                  "The model '%s' does not exist.", name);
    len = strlen(e.message);
    /* Cut between characters, with no replacement marks. */
    assert_int_equal(len % 3, 2); /* "The model '" is 11 bytes */
    assert_null(strchr(e.message, '?'));
    assert_null(strchr(e.param, '?'));
    assert_int_equal(strlen(e.param) % 3, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_error_text_cut_at_a_character),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
