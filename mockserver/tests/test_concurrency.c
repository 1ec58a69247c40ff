/* test_concurrency: billing and rate limits from 64 threads at once. The
 * ledger must be exact afterwards (balance + spent unchanged, the drop in
 * balance equal to the sum of settled charges, nothing left reserved) and
 * no window may admit more than its budget, although the threads' clock
 * readings arrive out of order. Bounded: a fixed number of operations. Run
 * under ThreadSanitizer as well (see scripts/test). */
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "billing.h"
#include "fixtures.h"
#include "ratelimit.h"

#define THREADS 64
#define KEYS 4
#define BILLING_OPS 2000
#define RL_OPS 400
#define RL_STEP_MS 10   /* the shared clock moves this much per operation */
#define RL_JITTER_MS 64 /* a reading is up to this much older than now */

static const struct rl_limits limits = {40, 5000, 0};

/* A per-thread generator, so no thread shares rand()'s state. */
static uint64_t next_rand(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

struct billing_worker {
    pthread_t thread;
    struct billing *b;
    uint64_t seed;
    int64_t charged[KEYS]; /* what billing_settle said it charged */
    unsigned refused;
};

/* Reserves, then settles whole, settles in part (a cut stream) or
 * releases, at random; sometimes yields while holding. */
static void *billing_work(void *arg)
{
    struct billing_worker *w = arg;
    struct billing_hold h;
    int i;

    for (i = 0; i < BILLING_OPS; i++) {
        size_t key = next_rand(&w->seed) % KEYS;
        int64_t cost = (int64_t)(next_rand(&w->seed) % 5000);
        uint64_t what = next_rand(&w->seed) % 3;

        if (billing_reserve(w->b, key, cost, &h) != 0) {
            w->refused++;
            continue;
        }
        if (next_rand(&w->seed) % 4 == 0)
            sched_yield();
        if (what == 0)
            w->charged[key] += billing_settle(w->b, &h, cost, (uint64_t)i);
        else if (what == 1)
            w->charged[key] += billing_settle(w->b, &h, cost / 2, (uint64_t)i);
        else
            billing_release(w->b, &h);
    }
    return NULL;
}

static void test_billing_ledger_exact(void **state)
{
    static struct fx_key keys[KEYS];
    static struct billing_worker workers[THREADS];
    struct fixtures fx;
    struct billing *b;
    unsigned refused = 0;
    size_t k;
    int t;

    (void)state;
    memset(keys, 0, sizeof(keys));
    memset(&fx, 0, sizeof(fx));
    /* Key 0 runs dry and refuses; the others never do. */
    keys[0].balance = 3000000;
    keys[0].spent = 5;
    for (k = 1; k < KEYS; k++) {
        keys[k].balance = INT64_C(42500000000000) * (int64_t)k;
        keys[k].spent = INT64_C(157300000000000);
    }
    fx.keys = keys;
    fx.nkeys = KEYS;
    b = billing_new(&fx, 0);
    assert_non_null(b);
    for (t = 0; t < THREADS; t++) {
        memset(&workers[t], 0, sizeof(workers[t]));
        workers[t].b = b;
        workers[t].seed = 0x9E3779B97F4A7C15u * (uint64_t)(t + 1);
        assert_int_equal(
            pthread_create(&workers[t].thread, NULL, billing_work, &workers[t]),
            0);
    }
    for (t = 0; t < THREADS; t++) {
        assert_int_equal(pthread_join(workers[t].thread, NULL), 0);
        refused += workers[t].refused;
    }
    for (k = 0; k < KEYS; k++) {
        struct billing_account a;
        int64_t charged = 0;

        for (t = 0; t < THREADS; t++)
            charged += workers[t].charged[k];
        assert_int_equal(billing_get(b, k, &a), 0);
        assert_int_equal(a.reserved, 0);
        assert_true(a.balance >= 0);
        assert_int_equal(a.balance + a.spent, keys[k].balance + keys[k].spent);
        assert_int_equal(keys[k].balance - a.balance, charged);
        assert_int_equal(a.spent - keys[k].spent, charged);
        assert_true(charged > 0);
    }
    /* Key 0 held far less than was asked of it. */
    assert_true(refused > 0);
    print_message("billing: %d threads x %d reservations, %u refused\n",
                  THREADS, BILLING_OPS, refused);
    billing_free(b);
}

/* One admission, as the thread saw it. */
struct admission {
    uint8_t key;
    uint64_t start_ms; /* the window it was counted in */
    uint64_t tokens;   /* what it settled */
};

struct rl_worker {
    pthread_t thread;
    struct ratelimit *rl;
    atomic_uint_fast64_t *clock;
    uint64_t seed;
    struct admission admitted[RL_OPS];
    size_t nadmitted;
    unsigned clamped; /* admissions whose reading predated their window */
};

/* Reads the shared clock, lets the reading age (a clock read before the
 * lock), then reserves and settles tokens. */
static void *rl_work(void *arg)
{
    struct rl_worker *w = arg;
    int i;

    for (i = 0; i < RL_OPS; i++) {
        uint64_t now = atomic_fetch_add(w->clock, RL_STEP_MS) + 1000000;
        uint64_t seen = now - next_rand(&w->seed) % RL_JITTER_MS;
        size_t key = next_rand(&w->seed) % KEYS;
        uint64_t tokens = 100 + next_rand(&w->seed) % 500;
        struct rl_state st;
        struct rl_hold h;
        struct admission *a;

        if (next_rand(&w->seed) % 2 == 0)
            sched_yield();
        if (ratelimit_reserve(w->rl, key, &limits, tokens, seen, &h, &st) !=
            RL_ADMIT)
            continue;
        a = &w->admitted[w->nadmitted++];
        a->key = (uint8_t)key;
        a->start_ms = h.start_ms;
        a->tokens = tokens / 2;
        if (h.at_ms != seen)
            w->clamped++;
        ratelimit_settle(w->rl, &limits, &h, a->tokens, h.at_ms, &st);
    }
    return NULL;
}

/* Orders admissions by key, then window. */
static int admission_cmp(const void *x, const void *y)
{
    const struct admission *a = x, *b = y;

    if (a->key != b->key)
        return a->key < b->key ? -1 : 1;
    if (a->start_ms != b->start_ms)
        return a->start_ms < b->start_ms ? -1 : 1;
    return 0;
}

static void test_windows_never_over_admit(void **state)
{
    static struct rl_worker workers[THREADS];
    static struct admission all[THREADS * RL_OPS];
    atomic_uint_fast64_t clock = 0;
    struct ratelimit *rl = ratelimit_new(KEYS);
    size_t n = 0, i, j, windows = 0;
    unsigned clamped = 0;
    int t;

    (void)state;
    assert_non_null(rl);
    for (t = 0; t < THREADS; t++) {
        memset(&workers[t], 0, sizeof(workers[t]));
        workers[t].rl = rl;
        workers[t].clock = &clock;
        workers[t].seed = 0xD1B54A32D192ED03u * (uint64_t)(t + 1);
        assert_int_equal(
            pthread_create(&workers[t].thread, NULL, rl_work, &workers[t]), 0);
    }
    for (t = 0; t < THREADS; t++) {
        assert_int_equal(pthread_join(workers[t].thread, NULL), 0);
        memcpy(all + n, workers[t].admitted,
               workers[t].nadmitted * sizeof(*all));
        n += workers[t].nadmitted;
        clamped += workers[t].clamped;
    }
    qsort(all, n, sizeof(*all), admission_cmp);
    for (i = 0; i < n; i = j) {
        uint64_t requests = 0, tokens = 0;
        struct rl_state st;

        for (j = i; j < n && admission_cmp(&all[i], &all[j]) == 0; j++) {
            requests++;
            tokens += all[j].tokens;
        }
        windows++;
        /* A key's windows never overlap: one opens a minute or more after
         * the one before (a reopened window would grant a second budget
         * within the minute)... */
        if (i > 0 && all[i - 1].key == all[i].key)
            assert_true(all[i].start_ms - all[i - 1].start_ms >=
                        RATELIMIT_WINDOW_MS);
        /* ...no window admits more than its budget... */
        assert_true(requests <= limits.requests_per_minute);
        assert_true(tokens <= limits.tokens_per_minute);
        /* ...and the window still open counts exactly what it admitted. */
        ratelimit_peek(rl, all[i].key, &limits, all[i].start_ms, &st);
        if (j == n || all[j].key != all[i].key) {
            assert_int_equal(st.used_req, requests);
            assert_int_equal(st.used_tok, tokens);
        }
    }
    /* The run spans several windows per key, with readings that arrived
     * after a younger one had opened their window. */
    assert_true(windows >= 3 * KEYS);
    assert_true(clamped > 0);
    print_message("ratelimit: %zu admitted in %zu windows, %u clamped\n", n,
                  windows, clamped);
    ratelimit_free(rl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_billing_ledger_exact),
        cmocka_unit_test(test_windows_never_over_admit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
