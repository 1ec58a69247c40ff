/* test_lexicon: the word source replies are written with: the same state
 * gives the same words, and lexicon_word_len's length is the word's. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lexicon.h"

/* lexicon_word_len draws what lexicon_word draws from the same state, and
 * says its length; the words are lower-case ASCII. */
static void test_word_len_matches_word(void **state)
{
    uint64_t a = 42, b = 42;
    size_t len, i, k;

    (void)state;
    for (i = 0; i < 2000; i++) {
        const char *w = lexicon_word(&a);
        const char *v = lexicon_word_len(&b, &len);

        assert_ptr_equal(w, v);
        assert_int_equal(len, strlen(w));
        assert_true(len > 0);
        for (k = 0; k < len; k++)
            assert_true(w[k] >= 'a' && w[k] <= 'z');
        assert_int_equal(a, b);
    }
}

/* The first words of a pinned seed, as lexicon_word drew them before
 * lexicon_word_len existed: replies are made of them. */
static void test_pinned_words(void **state)
{
    uint64_t s = UINT64_C(0x9e3779b97f4a7c15);
    size_t len;

    (void)state;
    assert_string_equal(lexicon_word(&s), "ready");
    assert_string_equal(lexicon_word_len(&s, &len), "deterministic");
    assert_int_equal(len, 13);
    assert_string_equal(lexicon_word(&s), "check");
    assert_string_equal(lexicon_word_len(&s, &len), "when");
    assert_int_equal(len, 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_word_len_matches_word),
        cmocka_unit_test(test_pinned_words),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
