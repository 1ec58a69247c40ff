/* utf8: sequence validation by the rules of RFC 3629. */
#include "utf8.h"

#include <string.h>

size_t utf8_seq_len(const unsigned char *s, size_t avail)
{
    unsigned char c = s[0];
    size_t n, i;

    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        n = 2;
    else if (c >= 0xe0 && c <= 0xef)
        n = 3;
    else if (c >= 0xf0 && c <= 0xf4)
        n = 4;
    else
        return 0;
    if (n > avail)
        return 0;
    for (i = 1; i < n; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    /* Overlong three- and four-byte forms, surrogates, and > U+10FFFF. */
    if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] > 0x9f) ||
        (c == 0xf0 && s[1] < 0x90) || (c == 0xf4 && s[1] > 0x8f))
        return 0;
    return n;
}

void utf8_trim_partial(char *s)
{
    size_t len = strlen(s), i = len, need;
    const unsigned char *p = (const unsigned char *)s;

    /* Find the start of the last character: at most 3 continuation bytes
     * back. */
    while (i > 0 && len - i < 4 && (p[i - 1] & 0xc0) == 0x80)
        i--;
    if (i == 0 || p[i - 1] < 0xc0)
        return;
    i--;
    need = p[i] >= 0xf0 ? 4 : p[i] >= 0xe0 ? 3 : 2;
    if (i + need > len)
        s[i] = '\0';
}

void utf8_scrub(char *s)
{
    unsigned char *p = (unsigned char *)s;
    size_t left = strlen(s);

    while (left > 0) {
        size_t n = utf8_seq_len(p, left);

        if (n == 0) {
            *p = '?';
            n = 1;
        }
        p += n;
        left -= n;
    }
}
