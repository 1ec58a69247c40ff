/* test_utf8: the validator against a decoder written from the definition,
 * the streamed check across every split, scrubbing and cutting at a
 * character. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "utf8.h"

/* The length of the sequence at s as RFC 3629 defines it: decode the code
 * point, then refuse overlong forms, surrogates and values past U+10FFFF. */
static size_t reference_len(const unsigned char *s, size_t avail)
{
    size_t n, i;
    unsigned long cp;

    if (avail == 0)
        return 0;
    if (s[0] < 0x80)
        return 1;
    if ((s[0] & 0xE0) == 0xC0)
        n = 2;
    else if ((s[0] & 0xF0) == 0xE0)
        n = 3;
    else if ((s[0] & 0xF8) == 0xF0)
        n = 4;
    else
        return 0;
    if (n > avail)
        return 0;
    cp = s[0] & (0x7F >> n);
    for (i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) ||
        (n == 4 && cp < 0x10000) || (cp >= 0xD800 && cp <= 0xDFFF) ||
        cp > 0x10FFFF)
        return 0;
    return n;
}

/* The pinned cases: each kind of sequence and each kind of fault. */
static void test_seq_len(void **state)
{
    (void)state;
    assert_int_equal(utf8_seq_len((const unsigned char *)"a", 1), 1);
    assert_int_equal(utf8_seq_len((const unsigned char *)"\xc3\xa9", 2), 2);
    assert_int_equal(utf8_seq_len((const unsigned char *)"\xe6\xa8\xa1", 3), 3);
    assert_int_equal(utf8_seq_len((const unsigned char *)"\xf0\x9f\x98\x80", 4),
                     4);
    /* Nothing, cut off, stray, overlong, surrogate, beyond U+10FFFF. */
    assert_int_equal(utf8_seq_len((const unsigned char *)"a", 0), 0);
    assert_int_equal(utf8_seq_len((const unsigned char *)"\xe6\xa8", 2), 0);
    assert_int_equal(utf8_seq_len((const unsigned char *)"\xe6\xa8\xa1", 2), 0);
    assert_int_equal(utf8_seq_len((const unsigned char *)"\x80", 1), 0);
    assert_int_equal(utf8_seq_len((const unsigned char *)"\xc0\xaf", 2), 0);
    assert_int_equal(utf8_seq_len((const unsigned char *)"\xe0\x9f\xbf", 3), 0);
    assert_int_equal(utf8_seq_len((const unsigned char *)"\xed\xa0\x80", 3), 0);
    assert_int_equal(utf8_seq_len((const unsigned char *)"\xf0\x8f\xbf\xbf", 4),
                     0);
    assert_int_equal(utf8_seq_len((const unsigned char *)"\xf4\x90\x80\x80", 4),
                     0);
    assert_int_equal(utf8_seq_len((const unsigned char *)"\xf5\x80\x80\x80", 4),
                     0);
    /* A broken sequence is refused even when its bad byte is ASCII. */
    assert_int_equal(utf8_seq_len((const unsigned char *)"\xe6\x41\xa1", 3), 0);
}

/* Every one-, two- and three-byte input, and every four-byte lead with
 * every second byte, agrees with the decoder. */
static void test_seq_len_exhaustive(void **state)
{
    static const unsigned char tails[] = {0x00, 0x41, 0x7F, 0x80,
                                          0x8F, 0x90, 0xBF, 0xC0};
    unsigned char s[4];
    unsigned long v;
    size_t a, b;

    (void)state;
    for (v = 0; v < (1UL << 24); v++) {
        s[0] = (unsigned char)(v >> 16);
        s[1] = (unsigned char)(v >> 8);
        s[2] = (unsigned char)v;
        if (utf8_seq_len(s, 3) != reference_len(s, 3))
            fail_msg("%02x %02x %02x", s[0], s[1], s[2]);
        if (s[2] == 0 && utf8_seq_len(s, 2) != reference_len(s, 2))
            fail_msg("%02x %02x", s[0], s[1]);
    }
    for (v = 0xF0; v <= 0xFF; v++)
        for (a = 0; a < 256; a++)
            for (b = 0; b < sizeof(tails) * sizeof(tails); b++) {
                s[0] = (unsigned char)v;
                s[1] = (unsigned char)a;
                s[2] = tails[b / sizeof(tails)];
                s[3] = tails[b % sizeof(tails)];
                if (utf8_seq_len(s, 4) != reference_len(s, 4))
                    fail_msg("%02x %02x %02x %02x", s[0], s[1], s[2], s[3]);
            }
}

/* The offset of the first bad byte, or the whole length. */
static void test_valid_prefix(void **state)
{
    (void)state;
    assert_int_equal(utf8_valid_prefix("ok \xc3\xa9", 5), 5);
    assert_int_equal(utf8_valid_prefix("ok \xff", 4), 3);
    assert_int_equal(utf8_valid_prefix("ok \xe2\x82", 5), 3);
    assert_int_equal(utf8_valid_prefix("", 0), 0);
    assert_true(utf8_valid("a\0b", 3));
    assert_true(utf8_valid("\xf0\x9f\x98\x80", 4));
    assert_false(utf8_valid("\xf0\x9f\x98", 3));
}

/* Feeds the n bytes at s in pieces of piece bytes; true when the stream
 * check found no fault. */
static bool stream_ok(const char *s, size_t n, size_t piece)
{
    struct utf8_stream u;
    bool ok = true;
    size_t i, k;

    utf8_stream_init(&u);
    for (i = 0; i < n; i += piece)
        for (k = i; k < i + piece && k < n; k++)
            ok = utf8_stream_step(&u, (unsigned char)s[k]) && ok;
    return utf8_stream_end(&u) && ok;
}

/* The streamed check agrees with the whole-string one however the bytes
 * are split, and a stream that ends mid-character is not valid. */
static void test_stream(void **state)
{
    static const struct {
        const char *s;
        size_t n;
    } cases[] = {
        {"plain", 5},
        {"\xc3\xa9t\xc3\xa9", 6},
        {"\xe6\xa8\xa1\xf0\x9f\x98\x80", 7},
        {"a\xff"
         "b",
         3},
        {"\xe6\xa8", 2}, /* cut at the end */
        {"\xe6\xa8"
         "a",
         3},                     /* broken by ASCII */
        {"\xe6\xe6\xa8\xa1", 4}, /* broken by a good lead */
        {"\xed\xa0\x80", 3},     /* surrogate */
        {"\xf4\x90\x80\x80", 4}, /* past U+10FFFF */
        {"\xe0\x80\x80", 3},     /* overlong */
    };
    struct utf8_stream u;
    size_t i, piece;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        for (piece = 1; piece <= cases[i].n; piece++)
            if (stream_ok(cases[i].s, cases[i].n, piece) !=
                utf8_valid(cases[i].s, cases[i].n))
                fail_msg("case %zu in pieces of %zu", i, piece);
    /* A good lead after a broken sequence starts a good one. */
    utf8_stream_init(&u);
    assert_true(utf8_stream_step(&u, 0xE6));
    assert_false(utf8_stream_step(&u, 0xC3));
    assert_true(utf8_stream_step(&u, 0xA9));
    assert_true(utf8_stream_end(&u));
    /* end resets: the next stream starts clean. */
    assert_true(utf8_stream_step(&u, 0xE6));
    assert_false(utf8_stream_end(&u));
    assert_true(utf8_stream_step(&u, 'a'));
    assert_true(utf8_stream_end(&u));
}

/* A cut inside a character drops it whole; whole characters stay. */
static void test_trim_partial(void **state)
{
    (void)state;
    assert_int_equal(utf8_trim_partial("ab\xe6\xa8", 4), 2);
    assert_int_equal(utf8_trim_partial("ab\xe6", 3), 2);
    assert_int_equal(utf8_trim_partial("ab\xe6\xa8\xa1", 5), 5);
    assert_int_equal(utf8_trim_partial("ab\xf0\x9f\x98", 5), 2);
    assert_int_equal(utf8_trim_partial("ab\xf0\x9f\x98\x80", 6), 6);
    assert_int_equal(utf8_trim_partial("ab", 2), 2);
    assert_int_equal(utf8_trim_partial("", 0), 0);
    /* Stray continuation bytes are not a cut character: left for the
     * scrubber. */
    assert_int_equal(utf8_trim_partial("ab\x80\x80\x80\x80", 6), 6);
    /* A cut at a byte length inside a longer string. */
    assert_int_equal(utf8_trim_partial("\xc3\xa9\xc3\xa9", 3), 2);
}

/* Bad bytes become '?' in place, or U+FFFD in a copy. */
static void test_scrub(void **state)
{
    char c[] = "x\xff"
               "y\xc3\xa9z\xe6\xa8";
    size_t len = 0;
    char *s;

    (void)state;
    utf8_scrub(c);
    assert_string_equal(c, "x?y\xc3\xa9z??");
    s = utf8_scrub_dup("x\xff"
                       "y\xc3\xa9\0z",
                       7, &len);
    assert_int_equal(len, 9);
    assert_memory_equal(s, "x\xef\xbf\xbdy\xc3\xa9\0z", 10);
    free(s);
    s = utf8_scrub_dup("", 0, NULL);
    assert_string_equal(s, "");
    free(s);
}

/* Runs the tests of this file. */
/* utf8_json_plain stops at the first byte a JSON string does not hold as
 * it is (control, '"', '\\', 0x80 and up), wherever it falls in the 8-byte
 * steps or the tail; DEL and the other printable ASCII are plain. */
static void test_json_plain(void **state)
{
    char text[19];
    size_t c, at;

    (void)state;
    assert_int_equal(utf8_json_plain("", 0), 0);
    for (c = 0; c < 256; c++) {
        bool plain = c >= 0x20 && c < 0x80 && c != '"' && c != '\\';

        for (at = 0; at < sizeof(text); at++) {
            memset(text, 'a', sizeof(text));
            text[at] = (char)c;
            assert_int_equal(utf8_json_plain(text, sizeof(text)),
                             plain ? sizeof(text) : at);
            /* A shorter view never reads past its end. */
            assert_int_equal(utf8_json_plain(text, at), at);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seq_len),
        cmocka_unit_test(test_seq_len_exhaustive),
        cmocka_unit_test(test_valid_prefix),
        cmocka_unit_test(test_stream),
        cmocka_unit_test(test_trim_partial),
        cmocka_unit_test(test_scrub),
        cmocka_unit_test(test_json_plain),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
