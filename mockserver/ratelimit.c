/* ratelimit: fixed-window request and token counting per key. */
#include "ratelimit.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct rl_window {
    bool open;
    uint64_t start_ms;
    uint64_t requests;
    uint64_t tokens;
    /* Counts the openings of the key's window, and is kept when it closes,
     * so a hold can tell its own window from a later one that opened in
     * the same millisecond (after a reset). */
    uint64_t gen;
};

struct ratelimit {
    pthread_mutex_t lock;
    size_t nkeys;
    struct rl_window *windows;
};

struct ratelimit *ratelimit_new(size_t nkeys)
{
    struct ratelimit *rl = calloc(1, sizeof(*rl));

    if (rl == NULL)
        return NULL;
    rl->windows = calloc(nkeys ? nkeys : 1, sizeof(*rl->windows));
    if (rl->windows == NULL) {
        free(rl);
        return NULL;
    }
    rl->nkeys = nkeys;
    pthread_mutex_init(&rl->lock, NULL);
    return rl;
}

void ratelimit_free(struct ratelimit *rl)
{
    if (rl == NULL)
        return;
    pthread_mutex_destroy(&rl->lock);
    free(rl->windows);
    free(rl);
}

/* How long a window of lim lasts. */
static uint64_t window_len(const struct rl_limits *lim)
{
    return lim->window_ms > 0 ? lim->window_ms : RATELIMIT_WINDOW_MS;
}

/* Closes w: nothing counted, its generation kept. */
static void window_close(struct rl_window *w)
{
    uint64_t gen = w->gen;

    memset(w, 0, sizeof(*w));
    w->gen = gen;
}

/* Brings the window to now_ms and returns the time to count at. Callers
 * read the clock before taking the lock, so now_ms may be older than a
 * window another thread has just opened: such a request belongs to that
 * window and is counted at its start (unclamped, the subtraction below
 * would wrap and reopen the window, admitting a second budget). A window
 * whose minute has passed is closed. */
static uint64_t window_roll(struct rl_window *w, const struct rl_limits *lim,
                            uint64_t now_ms)
{
    if (w->open && now_ms < w->start_ms)
        return w->start_ms;
    if (w->open && now_ms - w->start_ms >= window_len(lim))
        window_close(w);
    return now_ms;
}

/* What is left of limit after used, never below zero. */
static uint32_t left(uint32_t limit, uint64_t used)
{
    return used >= limit ? 0 : (uint32_t)(limit - used);
}

/* Fills st from the window as it stands at now_ms. */
static void window_state(const struct rl_window *w, const struct rl_limits *lim,
                         uint64_t now_ms, struct rl_state *st)
{
    uint64_t reset = w->open ? w->start_ms + window_len(lim) - now_ms : 0;

    memset(st, 0, sizeof(*st));
    st->limit_requests = lim->requests_per_minute > 0;
    st->limit_req = lim->requests_per_minute;
    st->remaining_req = left(lim->requests_per_minute, w->requests);
    st->reset_req_ms = w->requests > 0 ? reset : 0;
    st->limit_tokens = lim->tokens_per_minute > 0;
    st->limit_tok = lim->tokens_per_minute;
    st->remaining_tok = left(lim->tokens_per_minute, w->tokens);
    st->reset_tok_ms = w->tokens > 0 ? reset : 0;
    st->used_req = w->requests;
    st->used_tok = w->tokens;
}

enum rl_verdict ratelimit_reserve(struct ratelimit *rl, size_t key,
                                  const struct rl_limits *lim, uint64_t tokens,
                                  uint64_t now_ms, struct rl_hold *hold,
                                  struct rl_state *st)
{
    enum rl_verdict v = RL_ADMIT;
    struct rl_window *w;

    if (hold != NULL)
        memset(hold, 0, sizeof(*hold));
    if (key >= rl->nkeys) {
        memset(st, 0, sizeof(*st));
        return RL_ADMIT;
    }
    pthread_mutex_lock(&rl->lock);
    w = &rl->windows[key];
    now_ms = window_roll(w, lim, now_ms);
    if (lim->requests_per_minute > 0 && w->requests >= lim->requests_per_minute)
        v = RL_REFUSE_REQUESTS;
    else if (lim->tokens_per_minute > 0 && w->tokens > 0 &&
             (w->tokens > lim->tokens_per_minute ||
              tokens > lim->tokens_per_minute - w->tokens))
        v = RL_REFUSE_TOKENS; /* w->tokens + tokens > limit, unwrapped */
    if (v == RL_ADMIT) {
        if (!w->open) {
            w->open = true;
            w->start_ms = now_ms;
            w->gen++;
        }
        w->requests++;
        w->tokens += tokens;
        if (hold != NULL) {
            hold->active = true;
            hold->key = key;
            hold->start_ms = w->start_ms;
            hold->at_ms = now_ms;
            hold->tokens = tokens;
            hold->gen = w->gen;
        }
    }
    window_state(w, lim, now_ms, st);
    if (v != RL_ADMIT)
        st->retry_after_ms = w->start_ms + window_len(lim) - now_ms;
    pthread_mutex_unlock(&rl->lock);
    return v;
}

enum rl_verdict ratelimit_admit(struct ratelimit *rl, size_t key,
                                const struct rl_limits *lim, uint64_t tokens,
                                uint64_t now_ms, struct rl_state *st)
{
    return ratelimit_reserve(rl, key, lim, tokens, now_ms, NULL, st);
}

void ratelimit_settle(struct ratelimit *rl, const struct rl_limits *lim,
                      struct rl_hold *hold, uint64_t tokens, uint64_t now_ms,
                      struct rl_state *st)
{
    struct rl_window *w;

    if (!hold->active || hold->key >= rl->nkeys) {
        memset(st, 0, sizeof(*st));
        memset(hold, 0, sizeof(*hold));
        return;
    }
    pthread_mutex_lock(&rl->lock);
    w = &rl->windows[hold->key];
    now_ms = window_roll(w, lim, now_ms);
    /* Only this hold's reservation is taken back, so the window holds at
     * least that much. */
    if (w->open && w->start_ms == hold->start_ms && w->gen == hold->gen)
        w->tokens = w->tokens - hold->tokens + tokens;
    window_state(w, lim, now_ms, st);
    pthread_mutex_unlock(&rl->lock);
    memset(hold, 0, sizeof(*hold));
}

size_t ratelimit_reset(struct ratelimit *rl, size_t key)
{
    size_t i, n = 0;

    pthread_mutex_lock(&rl->lock);
    for (i = 0; i < rl->nkeys; i++)
        if (key == RATELIMIT_ALL_KEYS || key == i) {
            window_close(&rl->windows[i]);
            n++;
        }
    pthread_mutex_unlock(&rl->lock);
    return n;
}

void ratelimit_peek(struct ratelimit *rl, size_t key,
                    const struct rl_limits *lim, uint64_t now_ms,
                    struct rl_state *st)
{
    struct rl_window *w;

    if (key >= rl->nkeys) {
        memset(st, 0, sizeof(*st));
        return;
    }
    pthread_mutex_lock(&rl->lock);
    w = &rl->windows[key];
    now_ms = window_roll(w, lim, now_ms);
    window_state(w, lim, now_ms, st);
    pthread_mutex_unlock(&rl->lock);
}
