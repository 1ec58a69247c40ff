/* ratelimit: per-key request and token budgets over fixed windows (a
 * minute unless the fixture says otherwise), with the numbers the
 * x-ratelimit-* headers report. */
#ifndef NEXUS_RATELIMIT_H
#define NEXUS_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RATELIMIT_WINDOW_MS 60000u

/* "Every key" for ratelimit_reset. */
#define RATELIMIT_ALL_KEYS ((size_t)-1)

struct ratelimit;

/* A plan's limits; 0 means no limit of that kind. Each is per window. */
struct rl_limits {
    uint32_t requests_per_minute;
    uint32_t tokens_per_minute;
    uint32_t window_ms; /* 0: RATELIMIT_WINDOW_MS */
};

/* A key's standing after an admit or peek. */
struct rl_state {
    bool limit_requests; /* a request limit applies */
    uint32_t limit_req, remaining_req;
    uint64_t reset_req_ms; /* until the request budget is whole again */
    bool limit_tokens;     /* a token limit applies */
    uint32_t limit_tok, remaining_tok;
    uint64_t reset_tok_ms;
    uint64_t used_req, used_tok; /* counted in the window so far */
    uint64_t retry_after_ms;     /* set when refused */
};

enum rl_verdict { RL_ADMIT, RL_REFUSE_REQUESTS, RL_REFUSE_TOKENS };

/* What an admitted request holds in its key's window between
 * ratelimit_reserve and ratelimit_settle: tokens counted before the exact
 * number is known. Plain data the caller keeps. */
struct rl_hold {
    bool active;
    size_t key;
    uint64_t start_ms; /* the window it was counted in */
    uint64_t at_ms;    /* when it was counted (clamped into that window) */
    uint64_t tokens;   /* counted so far */
    uint64_t gen;      /* which opening of the key's window */
};

/* Returns a limiter for nkeys keys (identified by index), or NULL on OOM. */
struct ratelimit *ratelimit_new(size_t nkeys);
/* Frees rl; NULL is a no-op. */
void ratelimit_free(struct ratelimit *rl);
/* Counts one request of `tokens` tokens for key at now_ms if the budgets
 * allow it, and reports the key's standing in *st either way. A window opens
 * with a key's first request and lasts lim->window_ms. A now_ms older
 * than the key's open window (a clock read before another thread opened
 * it) counts as that window's start. Thread-safe. */
enum rl_verdict ratelimit_admit(struct ratelimit *rl, size_t key,
                                const struct rl_limits *lim, uint64_t tokens,
                                uint64_t now_ms, struct rl_state *st);
/* Like ratelimit_admit, but the tokens are a reservation (the most the
 * request can use): when admitted, *hold records it for ratelimit_settle;
 * refused, *hold is empty. */
enum rl_verdict ratelimit_reserve(struct ratelimit *rl, size_t key,
                                  const struct rl_limits *lim, uint64_t tokens,
                                  uint64_t now_ms, struct rl_hold *hold,
                                  struct rl_state *st);
/* Replaces the hold's reservation by the tokens the request used, if its
 * window is still open (a window that has ended took the reservation with
 * it), and reports the key's standing at now_ms in *st. Empties *hold; an
 * empty hold counts nothing. Thread-safe. */
void ratelimit_settle(struct ratelimit *rl, const struct rl_limits *lim,
                      struct rl_hold *hold, uint64_t tokens, uint64_t now_ms,
                      struct rl_state *st);
/* Closes the window of key (RATELIMIT_ALL_KEYS: of every key), as if no
 * request had been counted: the next request opens a new one. A request
 * admitted before then settles into nothing (its window is gone). Returns
 * how many keys it reset. Thread-safe. */
size_t ratelimit_reset(struct ratelimit *rl, size_t key);
/* Reports the key's standing without counting anything. Thread-safe. */
void ratelimit_peek(struct ratelimit *rl, size_t key,
                    const struct rl_limits *lim, uint64_t now_ms,
                    struct rl_state *st);

#endif
