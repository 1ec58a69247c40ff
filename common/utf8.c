/* utf8: one byte-at-a-time state machine (RFC 3629, table 3-7 of the
 * Unicode standard) under every check, whole-string or streamed. */
#include "utf8.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* What a byte that starts no valid sequence shows as in utf8_scrub_dup. */
static const char replacement[] = "\xEF\xBF\xBD";

/* Reads c as the first byte of a sequence: sets how many continuation
 * bytes are owed and the range the next one must fall in. Returns false
 * when c cannot start a sequence (80-C1 and F5-FF never do). */
static bool utf8_lead(struct utf8_stream *u, unsigned char c)
{
    bool ok = true;

    u->need = 0;
    u->lo = 0x80;
    u->hi = 0xBF;
    if (c < 0x80) {
        /* ASCII stands alone. */
    } else if (c >= 0xC2 && c <= 0xDF) {
        u->need = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
        u->need = 2;
        if (c == 0xE0)
            u->lo = 0xA0; /* shorter forms are overlong */
        else if (c == 0xED)
            u->hi = 0x9F; /* D800-DFFF are surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        u->need = 3;
        if (c == 0xF0)
            u->lo = 0x90; /* overlong */
        else if (c == 0xF4)
            u->hi = 0x8F; /* past U+10FFFF */
    } else {
        ok = false;
    }
    return ok;
}

/* Starts a check with no sequence open. */
void utf8_stream_init(struct utf8_stream *u)
{
    u->need = 0;
    u->lo = 0x80;
    u->hi = 0xBF;
}

/* Advances the check by one byte. */
bool utf8_stream_step(struct utf8_stream *u, unsigned char c)
{
    bool ok = true;

    if (u->need > 0) {
        if (c >= u->lo && c <= u->hi) {
            u->need--;
            u->lo = 0x80;
            u->hi = 0xBF;
            goto out;
        }
        ok = false; /* the sequence broke off; c may still start one */
    }
    if (!utf8_lead(u, c))
        ok = false;
out:
    return ok;
}

/* Ends the stream: an open sequence was cut off. */
bool utf8_stream_end(struct utf8_stream *u)
{
    bool ok = u->need == 0;

    utf8_stream_init(u);
    return ok;
}

/* Length of the valid sequence at s, or 0. */
size_t utf8_seq_len(const unsigned char *s, size_t avail)
{
    struct utf8_stream u;
    bool ok = avail > 0 && utf8_lead(&u, s[0]);
    size_t i;

    for (i = 1; ok && u.need > 0; i++)
        ok = i < avail && utf8_stream_step(&u, s[i]);
    return ok ? i : 0;
}

/* How many bytes from the start are whole valid sequences. */
size_t utf8_valid_prefix(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, k = 1;

    while (i < n && k > 0) {
        if (u[i] < 0x80) { /* ASCII, most text: a sequence of one */
            i++;
            continue;
        }
        k = utf8_seq_len(u + i, n - i);
        i += k;
    }
    return i;
}

/* Bytes of 8 alike, for utf8_json_plain's tests of 8 bytes at a time. */
#define UTF8_ONES UINT64_C(0x0101010101010101)
#define UTF8_HIGHS UINT64_C(0x8080808080808080)

/* Has x a byte below n (n <= 128)? The high bit of a byte of x - n borrows
 * in where that byte was below n, or (masked out by ~x) where it was 128
 * and up; the answer is exact for the word, not for which byte. */
static uint64_t any_below(uint64_t x, unsigned n)
{
    return (x - UTF8_ONES * n) & ~x & UTF8_HIGHS;
}

/* How many bytes from the start a JSON string holds as they are. A profile
 * of the chat answer showed a byte loop for this at most of the JSON
 * writer's time: whole words are checked until one holds a byte that is
 * not plain, which the byte loop then finds. */
size_t utf8_json_plain(const char *s, size_t n)
{
    size_t i = 0;
    uint64_t x;

    for (; i + 8 <= n; i += 8) {
        memcpy(&x, s + i, 8);
        if (((x & UTF8_HIGHS) | any_below(x, 0x20) |
             any_below(x ^ (UTF8_ONES * '"'), 1) |
             any_below(x ^ (UTF8_ONES * '\\'), 1)) != 0)
            break;
    }
    for (; i < n; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c < 0x20 || c >= 0x80 || c == '"' || c == '\\')
            break;
    }
    return i;
}

/* True when all n bytes are valid UTF-8. */
bool utf8_valid(const char *s, size_t n)
{
    return utf8_valid_prefix(s, n) == n;
}

/* How many bytes to keep so that no character is left incomplete at the
 * end. */
size_t utf8_trim_partial(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t j = n, keep = n, want;

    /* Walk back over continuation bytes to the lead byte: an incomplete
     * character has at most three of them. */
    while (j > 0 && n - j < 3 && (u[j - 1] & 0xC0) == 0x80)
        j--;
    if (j > 0 && u[j - 1] >= 0xC0) {
        want = u[j - 1] >= 0xF0 ? 4 : u[j - 1] >= 0xE0 ? 3 : 2;
        if (n - (j - 1) < want)
            keep = j - 1; /* the character was cut short: drop it whole */
    }
    return keep;
}

/* Replaces, in place, each byte that starts no valid sequence by '?'. */
void utf8_scrub(char *s)
{
    unsigned char *p = (unsigned char *)s;
    size_t left = strlen(s), k;

    while (left > 0) {
        k = utf8_seq_len(p, left);
        if (k == 0) {
            *p = '?';
            k = 1;
        }
        p += k;
        left -= k;
    }
}

/* Copies the n bytes at s with each bad byte made U+FFFD. */
char *utf8_scrub_dup(const char *s, size_t n, size_t *len)
{
    const unsigned char *u = (const unsigned char *)s;
    char *out = NULL;
    size_t i = 0, o = 0, k;

    /* Each bad byte grows to the three bytes of U+FFFD. */
    if (n > (SIZE_MAX - 1) / 3)
        goto out;
    out = malloc(n * 3 + 1);
    if (out == NULL)
        goto out;
    while (i < n) {
        k = utf8_seq_len(u + i, n - i);
        if (k == 0) {
            memcpy(out + o, replacement, 3);
            o += 3;
            i++;
        } else {
            memcpy(out + o, s + i, k);
            o += k;
            i += k;
        }
    }
    out[o] = '\0';
    if (len != NULL)
        *len = o;
out:
    return out;
}
