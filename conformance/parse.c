/* parse: strict readers for the numbers, durations and dates that servers
 * put in headers and bodies (no atoi: every byte must be accounted for). */
#include "parse.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Reads a whole decimal integer (optional leading '-') into *out. */
int parse_int64(const char *s, int64_t *out)
{
    int err = -1;
    char *end = NULL;
    long long v;

    if (s == NULL || s[0] == '\0' || isspace((unsigned char)s[0]) ||
        s[0] == '+')
        goto out;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0')
        goto out;
    *out = (int64_t)v;
    err = 0;
out:
    return err;
}

/* Reads a whole finite decimal number into *out. */
int parse_double(const char *s, double *out)
{
    int err = -1;
    char *end = NULL;
    double v;
    size_t i;

    if (s == NULL || s[0] == '\0')
        goto out;
    /* strtod also takes hex, "inf" and "nan", which no server means. */
    for (i = 0; s[i] != '\0'; i++)
        if (!isdigit((unsigned char)s[i]) && s[i] != '.' && s[i] != '-' &&
            s[i] != '+' && s[i] != 'e' && s[i] != 'E')
            goto out;
    errno = 0;
    v = strtod(s, &end);
    if (errno != 0 || end == s || *end != '\0' || !isfinite(v))
        goto out;
    *out = v;
    err = 0;
out:
    return err;
}

/* Reads the unsigned decimal number at *p (digits, optional fraction) and
 * advances *p. Returns 0 or -1 when there is none. */
static int read_number(const char **p, double *out)
{
    int ret;
    const char *s = *p;
    double v = 0, scale = 0.1;
    bool digits = false;

    while (isdigit((unsigned char)*s)) {
        v = v * 10 + (*s++ - '0');
        digits = true;
    }
    if (*s == '.') {
        s++;
        while (isdigit((unsigned char)*s)) {
            v += (*s++ - '0') * scale;
            scale /= 10;
            digits = true;
        }
    }
    if (!digits || v > 1e15) {
        ret = -1;
        goto out;
    }
    *p = s;
    *out = v;
    ret = 0;
out:
    return ret;
}

/* Reads a duration the way OpenAI writes x-ratelimit-reset-*: a sequence of
 * numbers with units h, m, s, ms, us or ns ("1s", "6m0s", "59.5s", "20ms"). */
int parse_duration_ms(const char *s, double *out_ms)
{
    static const struct {
        const char *unit;
        double ms;
    } units[] = {
        /* Longer units first, so "ms" is not read as "m" then "s". */
        {"ms", 1.0},   {"us", 1e-3}, {"\xc2\xb5s", 1e-3}, {"ns", 1e-6},
        {"h", 3600e3}, {"m", 60e3},  {"s", 1e3},
    };
    int err = -1;
    double total = 0, v;
    size_t i, len;
    bool matched;

    if (s == NULL || s[0] == '\0')
        goto out;
    if (parse_double(s, &v) == 0) {
        if (v < 0)
            goto out;
        *out_ms = v * 1000.0;
        err = 0;
        goto out;
    }
    while (*s != '\0') {
        if (read_number(&s, &v) != 0)
            goto out;
        matched = false;
        for (i = 0; i < sizeof(units) / sizeof(units[0]) && !matched; i++) {
            len = strlen(units[i].unit);
            if (strncmp(s, units[i].unit, len) == 0) {
                total += v * units[i].ms;
                s += len;
                matched = true;
            }
        }
        if (!matched)
            goto out;
    }
    *out_ms = total;
    err = 0;
out:
    return err;
}

/* Reads exactly n digits at s into *out. Returns 0 or -1. */
static int read_digits(const char *s, int n, int *out)
{
    int ret;
    int v = 0, i;

    for (i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i])) {
            ret = -1;
            goto out;
        }
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    ret = 0;
out:
    return ret;
}

/* Checks the calendar fields and turns them into seconds since the epoch;
 * timegm would quietly normalise 31 February instead. */
static int utc_seconds(struct tm *tm, double *out)
{
    int ret;
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int year = tm->tm_year + 1900;
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    time_t t;

    if (tm->tm_mon < 0 || tm->tm_mon > 11 || tm->tm_mday < 1 ||
        tm->tm_mday > mdays[tm->tm_mon] ||
        (tm->tm_mon == 1 && tm->tm_mday == 29 && !leap) || tm->tm_hour > 23 ||
        tm->tm_min > 59 || tm->tm_sec > 60) {
        ret = -1;
        goto out;
    }
    t = timegm(tm);
    if (t == (time_t)-1) {
        ret = -1;
        goto out;
    }
    *out = (double)t;
    ret = 0;
out:
    return ret;
}

/* Reads a Retry-After value: delay-seconds, or an IMF-fixdate taken relative
 * to now. */
int parse_retry_after(const char *s, time_t now, double *out_s)
{
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr",
                                         "May", "Jun", "Jul", "Aug",
                                         "Sep", "Oct", "Nov", "Dec"};
    int err = -1, i;
    int64_t secs;
    struct tm tm;
    double when;

    if (s == NULL)
        goto out;
    if (isdigit((unsigned char)s[0]) && parse_int64(s, &secs) == 0) {
        *out_s = (double)secs;
        err = 0;
        goto out;
    }
    /* IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT", exactly 29 bytes. */
    if (strlen(s) != 29 || s[3] != ',' || s[4] != ' ' || s[7] != ' ' ||
        s[11] != ' ' || s[16] != ' ' || s[19] != ':' || s[22] != ':' ||
        strcmp(s + 25, " GMT") != 0)
        goto out;
    memset(&tm, 0, sizeof(tm));
    tm.tm_mon = -1;
    for (i = 0; i < 12; i++)
        if (strncmp(s + 8, months[i], 3) == 0)
            tm.tm_mon = i;
    if (read_digits(s + 5, 2, &tm.tm_mday) != 0 ||
        read_digits(s + 12, 4, &tm.tm_year) != 0 ||
        read_digits(s + 17, 2, &tm.tm_hour) != 0 ||
        read_digits(s + 20, 2, &tm.tm_min) != 0 ||
        read_digits(s + 23, 2, &tm.tm_sec) != 0)
        goto out;
    tm.tm_year -= 1900;
    if (utc_seconds(&tm, &when) != 0)
        goto out;
    *out_s = when - (double)now;
    err = 0;
out:
    return err;
}

/* Reads an ISO-8601 date-time in UTC ("2025-06-17T12:00:00Z", optional
 * fraction, "Z" or "+00:00"). */
int parse_iso8601_utc(const char *s, double *out_s)
{
    int err = -1;
    struct tm tm;
    double when, frac = 0, scale = 0.1;
    const char *p;

    if (s == NULL || strlen(s) < 20 || s[4] != '-' || s[7] != '-' ||
        (s[10] != 'T' && s[10] != 't') || s[13] != ':' || s[16] != ':')
        goto out;
    memset(&tm, 0, sizeof(tm));
    if (read_digits(s, 4, &tm.tm_year) != 0 ||
        read_digits(s + 5, 2, &tm.tm_mon) != 0 ||
        read_digits(s + 8, 2, &tm.tm_mday) != 0 ||
        read_digits(s + 11, 2, &tm.tm_hour) != 0 ||
        read_digits(s + 14, 2, &tm.tm_min) != 0 ||
        read_digits(s + 17, 2, &tm.tm_sec) != 0)
        goto out;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    p = s + 19;
    if (*p == '.') {
        p++;
        if (!isdigit((unsigned char)*p))
            goto out;
        while (isdigit((unsigned char)*p)) {
            frac += (*p++ - '0') * scale;
            scale /= 10;
        }
    }
    if (strcmp(p, "Z") != 0 && strcmp(p, "z") != 0 && strcmp(p, "+00:00") != 0)
        goto out;
    if (utc_seconds(&tm, &when) != 0)
        goto out;
    *out_s = when + frac;
    err = 0;
out:
    return err;
}
