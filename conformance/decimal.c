/* decimal: amounts written as people read them: the shortest decimal that
 * reads back as the double, and exact differences of those decimals. */
#include "decimal.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Digits of a decimal number: value = (-1)^neg * digits * 10^exp, digits
 * most significant first, each 0..9. */
struct dec {
    bool neg;
    int exp;
    size_t n;
    unsigned char d[DECIMAL_MAX];
};

/* Writes v with the fewest significant digits that read back as v. */
static void shortest_g(double v, char *out, size_t n)
{
    int prec;

    for (prec = 1; prec <= 17; prec++) {
        snprintf(out, n, "%.*g", prec, v);
        if (strtod(out, NULL) == v)
            break;
    }
}

/* Reads the %g text s into d. Returns 0, or -1 past DECIMAL_MAX digits. */
static int dec_parse(const char *s, struct dec *d)
{
    int err = -1, point = 0;
    bool after = false;
    char *end;
    long e;

    memset(d, 0, sizeof(*d));
    if (*s == '-') {
        d->neg = true;
        s++;
    }
    for (; *s != '\0' && *s != 'e' && *s != 'E'; s++) {
        if (*s == '.') {
            after = true;
            continue;
        }
        if (d->n == 0 && *s == '0') {
            point -= after; /* leading zeros carry no digit */
            continue;
        }
        if (d->n == DECIMAL_MAX)
            goto out;
        d->d[d->n++] = (unsigned char)(*s - '0');
        point -= after;
    }
    e = *s != '\0' ? strtol(s + 1, &end, 10) : 0;
    if (e < -400 || e > 400)
        goto out;
    d->exp = point + (int)e;
    err = 0;
out:
    return err;
}

/* Appends zeros to d until its exponent is exp (<= d->exp). Returns 0 or
 * -1 past DECIMAL_MAX digits. */
static int dec_align(struct dec *d, int exp)
{
    int err = -1;

    while (d->exp > exp) {
        if (d->n == DECIMAL_MAX)
            goto out;
        d->d[d->n++] = 0;
        d->exp--;
    }
    err = 0;
out:
    return err;
}

/* Compares the magnitudes of a and b, aligned to one exponent. */
static int dec_cmp(const struct dec *a, const struct dec *b)
{
    size_t ia = 0, ib = 0;
    int ret = 0;

    while (ia < a->n && a->d[ia] == 0)
        ia++;
    while (ib < b->n && b->d[ib] == 0)
        ib++;
    if (a->n - ia != b->n - ib) {
        ret = a->n - ia > b->n - ib ? 1 : -1;
        goto out;
    }
    for (; ia < a->n; ia++, ib++)
        if (a->d[ia] != b->d[ib]) {
            ret = a->d[ia] > b->d[ib] ? 1 : -1;
            break;
        }
out:
    return ret;
}

/* Sets r = big - small in magnitude (aligned, |big| >= |small|), digits
 * right-aligned as in big. */
static void dec_sub_mag(const struct dec *big, const struct dec *small,
                        struct dec *r)
{
    size_t i, j;
    int borrow = 0, v;

    *r = *big;
    for (i = big->n, j = small->n; i > 0; i--) {
        v = big->d[i - 1] - borrow - (j > 0 ? small->d[--j] : 0);
        borrow = v < 0;
        r->d[i - 1] = (unsigned char)(v < 0 ? v + 10 : v);
    }
}

/* Sets r = big + small in magnitude (aligned), one carry digit in front
 * when needed. Returns 0, or -1 past DECIMAL_MAX digits. */
static int dec_add_mag(const struct dec *big, const struct dec *small,
                       struct dec *r)
{
    const struct dec *l = big->n >= small->n ? big : small;
    const struct dec *s = big->n >= small->n ? small : big;
    size_t i, j;
    int carry = 0, v, err = -1;

    *r = *l;
    for (i = l->n, j = s->n; i > 0; i--) {
        v = l->d[i - 1] + carry + (j > 0 ? s->d[--j] : 0);
        carry = v >= 10;
        r->d[i - 1] = (unsigned char)(carry ? v - 10 : v);
    }
    if (carry) {
        if (r->n == DECIMAL_MAX)
            goto out;
        memmove(r->d + 1, r->d, r->n);
        r->d[0] = 1;
        r->n++;
    }
    err = 0;
out:
    return err;
}

/* Writes d in plain notation, without needless zeros. Returns 0, or -1
 * when out is too small or the text would pass DECIMAL_MAX digits. */
static int dec_write(const struct dec *d, char *out, size_t n)
{
    char text[DECIMAL_MAX * 2 + 8];
    size_t first = 0, last = d->n, k = 0, count;
    long i, top, low;
    int exp = d->exp, err = -1;

    while (first < last && d->d[first] == 0)
        first++;
    while (last > first && d->d[last - 1] == 0) {
        last--;
        exp++;
    }
    count = last - first;
    if (count == 0) {
        err = snprintf(out, n, "0") < (int)n ? 0 : -1;
        goto out;
    }
    /* The digit of power i is d[last - 1 - (i - exp)] where it exists. */
    top = exp + (long)count - 1;
    low = exp < 0 ? exp : 0;
    if ((top > 0 ? top : 0) - low + 4 >= (long)sizeof(text))
        goto out;
    if (d->neg)
        text[k++] = '-';
    for (i = top > 0 ? top : 0; i >= low; i--) {
        if (i == -1)
            text[k++] = '.';
        text[k++] = i - exp >= 0 && i - exp < (long)count
                        ? (char)('0' + d->d[last - 1 - (size_t)(i - exp)])
                        : '0';
    }
    text[k] = '\0';
    err = snprintf(out, n, "%s", text) < (int)n ? 0 : -1;
out:
    return err;
}

/* The shortest decimal of v, in plain notation when it fits. */
int decimal_shortest(double v, char *out, size_t n)
{
    char g[40];
    struct dec d;
    int err = -1;

    if (!isfinite(v)) {
        snprintf(out, n, "?");
        goto out;
    }
    shortest_g(v, g, sizeof(g));
    if (dec_parse(g, &d) != 0 || dec_write(&d, out, n) != 0) {
        if (snprintf(out, n, "%s", g) >= (int)n)
            goto out;
    }
    err = 0;
out:
    return err;
}

/* a - b on the shortest decimals of a and b. */
int decimal_sub(double a, double b, char *out, size_t n)
{
    char ga[40], gb[40];
    struct dec x, y, r;
    int exp, err = -1;

    if (!isfinite(a) || !isfinite(b)) {
        snprintf(out, n, "?");
        goto out;
    }
    shortest_g(a, ga, sizeof(ga));
    shortest_g(b, gb, sizeof(gb));
    if (dec_parse(ga, &x) != 0 || dec_parse(gb, &y) != 0)
        goto fallback;
    y.neg = !y.neg; /* a - b = a + (-b) */
    exp = x.exp < y.exp ? x.exp : y.exp;
    if (dec_align(&x, exp) != 0 || dec_align(&y, exp) != 0)
        goto fallback;
    /* Right-align the shorter one with leading zeros. */
    while (x.n < y.n) {
        memmove(x.d + 1, x.d, x.n++);
        x.d[0] = 0;
    }
    while (y.n < x.n) {
        memmove(y.d + 1, y.d, y.n++);
        y.d[0] = 0;
    }
    if (x.neg == y.neg) {
        if (dec_add_mag(&x, &y, &r) != 0)
            goto fallback;
        r.neg = x.neg;
    } else if (dec_cmp(&x, &y) >= 0) {
        dec_sub_mag(&x, &y, &r);
        r.neg = x.neg;
    } else {
        dec_sub_mag(&y, &x, &r);
        r.neg = y.neg;
    }
    memset(&y, 0, sizeof(y)); /* zero, to compare with */
    if (dec_cmp(&r, &y) == 0)
        r.neg = false;
    if (dec_write(&r, out, n) == 0) {
        err = 0;
        goto out;
    }
fallback:
    decimal_shortest(a - b, out, n);
out:
    return err;
}
