/* clock: the mock's notion of time, real but shiftable, so that tests (and
 * users, through the admin API) can move rate-limit windows without waiting. */
#ifndef NEXUS_CLOCK_H
#define NEXUS_CLOCK_H

#include <stdint.h>

struct clock;

/* Returns a new clock reading the system clocks, or NULL on OOM. */
struct clock *clock_new(void);
/* Frees c; NULL is a no-op. */
void clock_free(struct clock *c);
/* Milliseconds on a monotonic scale, shifted by every clock_advance. */
uint64_t clock_now_ms(struct clock *c);
/* Unix time in milliseconds, shifted by every clock_advance. */
uint64_t clock_wall_ms(struct clock *c);
/* Moves the clock forward by ms; thread-safe. */
void clock_advance(struct clock *c, uint64_t ms);
/* How far the clock has been moved in total. */
uint64_t clock_offset_ms(struct clock *c);
/* Unshifted monotonic milliseconds, for pacing real output. */
uint64_t clock_real_ms(void);
/* The same, rounded up: a wait timed from it (until clock_real_ms() reaches
 * it plus the wait) never ends before the wait has passed, while one timed
 * from clock_real_ms() may end up to a millisecond early. */
uint64_t clock_real_ms_up(void);

#endif
