/* test_buf: the buffer's one contract: the cap is exact, a refusal sets
 * toobig and leaves the bytes as they were, NUL-terminated and usable. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"

/* Asserts that b holds exactly the len bytes want, NUL-terminated. */
static void holds(const struct buf *b, const char *want, size_t len)
{
    assert_int_equal(b->len, len);
    assert_memory_equal(buf_str(b), want, len);
    assert_int_equal(buf_str(b)[len], '\0');
}

/* A fresh buffer reads as "" without allocating. */
static void test_empty(void **state)
{
    struct buf b;

    (void)state;
    buf_init(&b, 10);
    assert_null(b.data);
    assert_string_equal(buf_str(&b), "");
    assert_false(b.toobig);
    buf_cleanup(&b);
    buf_cleanup(&b); /* twice is harmless */
}

/* Up to max bytes fit; one more is refused, toobig is set and the content
 * stays as it was. */
static void test_cap_is_exact(void **state)
{
    struct buf b;

    (void)state;
    buf_init(&b, 5);
    assert_int_equal(buf_append(&b, "abc", 3), 0);
    assert_int_equal(buf_appends(&b, "de"), 0);
    holds(&b, "abcde", 5);
    assert_false(b.toobig);
    assert_int_equal(buf_append(&b, "f", 1), -1);
    assert_true(b.toobig);
    holds(&b, "abcde", 5);
    /* Nothing of a refused append goes in, not even what would fit. */
    buf_reset(&b);
    assert_false(b.toobig);
    assert_int_equal(buf_appends(&b, "xy"), 0);
    assert_int_equal(buf_appends(&b, "1234"), -1);
    holds(&b, "xy", 2);
    /* An empty append fits even a full buffer. */
    assert_int_equal(buf_appends(&b, "123"), 0);
    assert_int_equal(buf_append(&b, "", 0), 0);
    holds(&b, "xy123", 5);
    /* It never allocates past max + 1. */
    assert_true(b.alloc <= 6);
    buf_cleanup(&b);
}

/* A buffer of max 0 holds the empty string only. */
static void test_zero_max(void **state)
{
    struct buf b;

    (void)state;
    buf_init(&b, 0);
    assert_int_equal(buf_append(&b, "", 0), 0);
    holds(&b, "", 0);
    assert_int_equal(buf_appends(&b, "a"), -1);
    assert_true(b.toobig);
    holds(&b, "", 0);
    buf_cleanup(&b);
}

/* Sizes near SIZE_MAX are refused without wrapping around. */
static void test_no_overflow(void **state)
{
    struct buf b;
    char one = 'x';

    (void)state;
    buf_init(&b, SIZE_MAX);
    assert_int_equal(buf_append(&b, &one, 1), 0);
    assert_int_equal(buf_append(&b, &one, SIZE_MAX), -1);
    assert_true(b.toobig);
    /* Fits the cap but leaves no room for the NUL: refused as OOM. */
    b.toobig = false;
    assert_int_equal(buf_append(&b, &one, SIZE_MAX - 1), -1);
    assert_false(b.toobig);
    holds(&b, "x", 1);
    buf_cleanup(&b);
}

/* Bytes may hold NULs; len counts them. */
static void test_binary(void **state)
{
    struct buf b;

    (void)state;
    buf_init(&b, 100);
    assert_int_equal(buf_append(&b, "a\0b", 3), 0);
    holds(&b, "a\0b", 3);
    buf_cleanup(&b);
}

/* Growing many times keeps every byte. */
static void test_growth(void **state)
{
    static const char digits[] = "0123456789";
    struct buf b;
    size_t i;

    (void)state;
    buf_init(&b, 100000);
    for (i = 0; i < 10000; i++)
        assert_int_equal(buf_append(&b, &digits[i % 10], 1), 0);
    assert_int_equal(b.len, 10000);
    for (i = 0; i < 10000; i++)
        assert_int_equal(b.data[i], '0' + (int)(i % 10));
    assert_int_equal(b.data[10000], '\0');
    buf_cleanup(&b);
}

/* Formats through a va_list, as a caller's own printf-like function. */
static int appendv(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Passes its arguments to buf_vappendf. */
static int appendv(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    int err;

    va_start(ap, fmt);
    err = buf_vappendf(b, fmt, ap);
    va_end(ap);
    return err;
}

/* printf-style appends are bounded by the cap: all of the text or
 * nothing. */
static void test_appendf(void **state)
{
    struct buf b;

    (void)state;
    buf_init(&b, 12);
    assert_int_equal(buf_appendf(&b, "%d-%s", 42, "ab"), 0);
    holds(&b, "42-ab", 5);
    assert_int_equal(appendv(&b, "%c%c", 'x', 'y'), 0);
    holds(&b, "42-abxy", 7);
    assert_int_equal(buf_appendf(&b, "%s", "123456"), -1);
    assert_true(b.toobig);
    holds(&b, "42-abxy", 7);
    assert_int_equal(appendv(&b, "%s", "12345"), 0);
    holds(&b, "42-abxy12345", 12);
    /* An empty format allocates a terminator on a fresh buffer. */
    buf_cleanup(&b);
    assert_int_equal(buf_appendf(&b, "%s", ""), 0);
    assert_non_null(b.data);
    holds(&b, "", 0);
    buf_cleanup(&b);
}

/* A cut append keeps at most most bytes, cut between characters and marked
 * "..."; a text that fits goes in whole; the cap still holds. */
static void test_appendf_cut(void **state)
{
    struct buf b;

    (void)state;
    buf_init(&b, 100);
    assert_int_equal(buf_appendf_cut(&b, 5, "%s", "abcde"), 0);
    holds(&b, "abcde", 5);
    buf_reset(&b);
    assert_int_equal(buf_appendf_cut(&b, 5, "%s", "abcdef"), 0);
    holds(&b, "abcde...", 8);
    /* "ab" then a cut inside the second é: it goes whole. */
    buf_reset(&b);
    assert_int_equal(buf_appendf_cut(&b, 5, "ab%s", "\xc3\xa9\xc3\xa9"), 0);
    holds(&b, "ab\xc3\xa9...", 7);
    /* Appended after what is there. */
    assert_int_equal(buf_appendf_cut(&b, 2, "%d", 12345), 0);
    holds(&b, "ab\xc3\xa9...12...", 12);
    /* The cap counts the "...": refused whole, the buffer unchanged. */
    buf_cleanup(&b);
    buf_init(&b, 6);
    assert_int_equal(buf_appendf_cut(&b, 4, "%s", "abcdefgh"), -1);
    assert_true(b.toobig);
    holds(&b, "", 0);
    assert_int_equal(buf_appendf_cut(&b, 3, "%s", "abcdefgh"), 0);
    holds(&b, "abc...", 6);
    buf_cleanup(&b);
}

/* Truncation keeps a prefix, NUL-terminated; a longer length is a no-op. */
static void test_truncate(void **state)
{
    struct buf b;

    (void)state;
    buf_init(&b, 10);
    buf_truncate(&b, 3); /* nothing to cut on a fresh buffer */
    assert_int_equal(buf_appends(&b, "hello"), 0);
    buf_truncate(&b, 9);
    holds(&b, "hello", 5);
    buf_truncate(&b, 2);
    holds(&b, "he", 2);
    buf_cleanup(&b);
}

/* take hands over the bytes and leaves the buffer empty and reusable. */
static void test_take(void **state)
{
    struct buf b;
    size_t len = 99;
    char *s;

    (void)state;
    buf_init(&b, 10);
    s = buf_take(&b, &len);
    assert_string_equal(s, "");
    assert_int_equal(len, 0);
    free(s);
    assert_int_equal(buf_appends(&b, "abc"), 0);
    assert_int_equal(buf_appends(&b, "too long!!"), -1);
    s = buf_take(&b, &len);
    assert_string_equal(s, "abc");
    assert_int_equal(len, 3);
    free(s);
    assert_null(b.data);
    assert_false(b.toobig);
    holds(&b, "", 0);
    assert_int_equal(buf_appends(&b, "0123456789"), 0);
    s = buf_take(&b, NULL);
    assert_string_equal(s, "0123456789");
    free(s);
    buf_cleanup(&b);
}

/* grow makes room without changing the content, and refuses past max as
 * an append would; extend appends bytes the caller writes, terminated,
 * and refuses past max with the buffer as it was. */
static void test_grow_and_extend(void **state)
{
    struct buf b;
    char *at;

    (void)state;
    buf_init(&b, 10);
    assert_int_equal(buf_grow(&b, 8), 0);
    assert_true(b.alloc >= 9);
    holds(&b, "", 0);
    assert_int_equal(buf_appends(&b, "ab"), 0);
    assert_int_equal(buf_grow(&b, 9), -1);
    assert_true(b.toobig);
    holds(&b, "ab", 2);
    at = buf_extend(&b, 3);
    assert_non_null(at);
    assert_ptr_equal(at, b.data + 2);
    assert_int_equal(at[3], '\0');
    memcpy(at, "cde", 3);
    holds(&b, "abcde", 5);
    assert_null(buf_extend(&b, 6));
    holds(&b, "abcde", 5);
    at = buf_extend(&b, 5);
    assert_non_null(at);
    memcpy(at, "fghij", 5);
    holds(&b, "abcdefghij", 10);
    at = buf_extend(&b, 0); /* nothing more fits, and nothing is asked */
    assert_ptr_equal(at, b.data + 10);
    holds(&b, "abcdefghij", 10);
    buf_cleanup(&b);
}

/* Runs the tests of this file. */
int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_cap_is_exact),
        cmocka_unit_test(test_zero_max),
        cmocka_unit_test(test_no_overflow),
        cmocka_unit_test(test_binary),
        cmocka_unit_test(test_growth),
        cmocka_unit_test(test_appendf),
        cmocka_unit_test(test_truncate),
        cmocka_unit_test(test_take),
        cmocka_unit_test(test_appendf_cut),
        cmocka_unit_test(test_grow_and_extend),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
