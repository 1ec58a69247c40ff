/* test_utf8: the validator, the scrubber and cutting at a character. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "errors.h"
#include "utf8.h"

static void test_seq_len(void **state)
{
    (void)state;
    assert_int_equal(utf8_seq_len((const unsigned char *)"a", 1), 1);
    assert_int_equal(utf8_seq_len((const unsigned char *)"\xc3\xa9", 2), 2);
    assert_int_equal(utf8_seq_len((const unsigned char *)"\xe6\xa8\xa1", 3), 3);
    assert_int_equal(utf8_seq_len((const unsigned char *)"\xf0\x9f\x98\x80", 4),
                     4);
    /* Cut off, stray, overlong, surrogate, beyond U+10FFFF. */
    assert_int_equal(utf8_seq_len((const unsigned char *)"\xe6\xa8", 2), 0);
    assert_int_equal(utf8_seq_len((const unsigned char *)"\x80", 1), 0);
    assert_int_equal(utf8_seq_len((const unsigned char *)"\xc0\xaf", 2), 0);
    assert_int_equal(utf8_seq_len((const unsigned char *)"\xed\xa0\x80", 3), 0);
    assert_int_equal(utf8_seq_len((const unsigned char *)"\xf4\x90\x80\x80", 4),
                     0);
}

static void test_trim_and_scrub(void **state)
{
    char a[] = "ab\xe6\xa8";     /* a cut inside a 3-byte character */
    char b[] = "ab\xe6\xa8\xa1"; /* whole: kept */
    char c[] = "x\xff"
               "y\xc3\xa9z"; /* a stray byte in the middle */

    (void)state;
    utf8_trim_partial(a);
    assert_string_equal(a, "ab");
    utf8_trim_partial(b);
    assert_string_equal(b, "ab\xe6\xa8\xa1");
    utf8_scrub(c);
    assert_string_equal(c, "x?y\xc3\xa9z");
}

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
        cmocka_unit_test(test_seq_len),
        cmocka_unit_test(test_trim_and_scrub),
        cmocka_unit_test(test_error_text_cut_at_a_character),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
