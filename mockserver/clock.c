/* clock: monotonic and wall time with an adjustable offset. */
#include "clock.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

struct clock {
    _Atomic uint64_t offset_ms;
};

/* Reads a POSIX clock in milliseconds. */
static uint64_t read_ms(clockid_t id)
{
    struct timespec ts;

    clock_gettime(id, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

struct clock *clock_new(void)
{
    struct clock *c = calloc(1, sizeof(*c));

    if (c != NULL)
        atomic_init(&c->offset_ms, 0);
    return c;
}

void clock_free(struct clock *c)
{
    free(c);
}

uint64_t clock_real_ms(void)
{
    return read_ms(CLOCK_MONOTONIC);
}

uint64_t clock_real_ms_up(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u +
           ((uint64_t)ts.tv_nsec + 999999u) / 1000000u;
}

uint64_t clock_now_ms(struct clock *c)
{
    return read_ms(CLOCK_MONOTONIC) + atomic_load(&c->offset_ms);
}

uint64_t clock_wall_ms(struct clock *c)
{
    return read_ms(CLOCK_REALTIME) + atomic_load(&c->offset_ms);
}

void clock_advance(struct clock *c, uint64_t ms)
{
    atomic_fetch_add(&c->offset_ms, ms);
}

uint64_t clock_offset_ms(struct clock *c)
{
    return atomic_load(&c->offset_ms);
}
