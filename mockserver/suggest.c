/* suggest: optimal-string-alignment distance over short names. */
#include "suggest.h"

#include <string.h>

/* Names longer than this are never typos of one another worth naming. */
#define SUGGEST_MAX 64

/* The edit distance between a and b, with swaps of neighbours; a and b
 * are at most SUGGEST_MAX bytes. */
static size_t distance(const char *a, size_t la, const char *b, size_t lb)
{
    size_t d[SUGGEST_MAX + 1][SUGGEST_MAX + 1];
    size_t i, j, best;

    for (i = 0; i <= la; i++)
        d[i][0] = i;
    for (j = 0; j <= lb; j++)
        d[0][j] = j;
    for (i = 1; i <= la; i++) {
        for (j = 1; j <= lb; j++) {
            best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            if (d[i - 1][j] + 1 < best)
                best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best)
                best = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
                a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    }
    return d[la][lb];
}

const char *suggest_closest(const char *word, const char *const *names,
                            size_t n)
{
    size_t lw = strlen(word), limit = lw / 3 > 0 ? lw / 3 : 1;
    size_t best = limit + 1, i, ln, dist;
    const char *found = NULL;

    for (i = 0; lw <= SUGGEST_MAX && i < n; i++) {
        ln = strlen(names[i]);
        if (ln > SUGGEST_MAX || strcmp(word, names[i]) == 0)
            continue;
        dist = distance(word, lw, names[i], ln);
        if (dist < best) {
            best = dist;
            found = names[i];
        }
    }
    return found;
}
