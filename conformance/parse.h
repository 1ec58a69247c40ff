/* parse: strict readers for the numbers, durations and dates that servers
 * put in headers and bodies (no atoi: every byte must be accounted for). */
#ifndef CONFORM_PARSE_H
#define CONFORM_PARSE_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

/* Reads a whole decimal integer (optional leading '-') into *out.
 * Returns 0, or -1 on an empty string, stray bytes or overflow. */
int parse_int64(const char *s, int64_t *out);
/* Reads a whole finite decimal number into *out. Returns 0 or -1. */
int parse_double(const char *s, double *out);
/* Reads a duration the way OpenAI writes x-ratelimit-reset-*: a sequence
 * of numbers with units h, m, s, ms, us or ns ("1s", "6m0s", "59.5s",
 * "20ms"). A bare number counts as seconds. Returns 0 or -1. */
int parse_duration_ms(const char *s, double *out_ms);
/* Reads a Retry-After value: delay-seconds, or an IMF-fixdate taken
 * relative to now. Returns 0 with the delay in seconds (negative when the
 * date is past), or -1. */
int parse_retry_after(const char *s, time_t now, double *out_s);
/* Reads an ISO-8601 date-time in UTC ("2025-06-17T12:00:00Z", optional
 * fraction, "Z" or "+00:00"). Returns 0 with seconds since the epoch, or
 * -1 when it is malformed or not UTC. */
int parse_iso8601_utc(const char *s, double *out_s);

#endif
