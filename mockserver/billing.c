/* billing: exact integer accounting of balances and spend. */
#include "billing.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct billing {
    pthread_mutex_t lock;
    size_t n;
    struct billing_account *accounts;
};

struct billing *billing_new(const struct fixtures *fx, uint64_t now_ms)
{
    struct billing *b = calloc(1, sizeof(*b));
    size_t i;

    if (b == NULL)
        return NULL;
    b->accounts = calloc(fx->nkeys ? fx->nkeys : 1, sizeof(*b->accounts));
    if (b->accounts == NULL) {
        free(b);
        return NULL;
    }
    b->n = fx->nkeys;
    for (i = 0; i < fx->nkeys; i++) {
        b->accounts[i].balance = fx->keys[i].balance;
        b->accounts[i].spent = fx->keys[i].spent;
        b->accounts[i].last_updated_ms = now_ms;
    }
    pthread_mutex_init(&b->lock, NULL);
    return b;
}

void billing_free(struct billing *b)
{
    if (b == NULL)
        return;
    pthread_mutex_destroy(&b->lock);
    free(b->accounts);
    free(b);
}

/* tokens * price, or -1 when that passes FX_MONEY_MAX. */
static int64_t mul_capped(uint64_t tokens, int64_t price)
{
    if (price <= 0 || tokens == 0)
        return 0;
    if (tokens > (uint64_t)(FX_MONEY_MAX / price))
        return -1;
    return (int64_t)tokens * price;
}

int64_t billing_cost(const struct fx_model *m, uint64_t prompt_tokens,
                     uint64_t completion_tokens)
{
    int64_t in = mul_capped(prompt_tokens, m->price_in);
    int64_t out = mul_capped(completion_tokens, m->price_out);

    if (in < 0 || out < 0 || in > FX_MONEY_MAX - out)
        return -1;
    return in + out;
}

int billing_reserve(struct billing *b, size_t key, int64_t cost,
                    struct billing_hold *hold)
{
    int err = -1;
    struct billing_account *a;
    int64_t available;

    memset(hold, 0, sizeof(*hold));
    if (key >= b->n || cost < 0)
        return -1;
    pthread_mutex_lock(&b->lock);
    a = &b->accounts[key];
    available = a->balance - a->reserved;
    /* spent can take every reservation: settling never overflows. */
    if (available <= 0 || available < cost ||
        a->spent > INT64_MAX - a->reserved - cost)
        goto out;
    a->reserved += cost;
    hold->active = true;
    hold->key = key;
    hold->amount = cost;
    err = 0;
out:
    pthread_mutex_unlock(&b->lock);
    return err;
}

/* Ends a hold, charging charge (0..amount) of it at now_ms if it is
 * settled. Returns what was charged. */
static int64_t hold_end(struct billing *b, struct billing_hold *hold,
                        int64_t charge, bool settled, uint64_t now_ms)
{
    struct billing_account *a;

    if (!hold->active)
        return 0;
    if (charge < 0)
        charge = 0;
    if (charge > hold->amount)
        charge = hold->amount;
    pthread_mutex_lock(&b->lock);
    a = &b->accounts[hold->key];
    a->reserved -= hold->amount;
    if (settled) {
        a->balance -= charge;
        a->spent += charge;
        if (now_ms > a->last_updated_ms)
            a->last_updated_ms = now_ms;
    }
    pthread_mutex_unlock(&b->lock);
    memset(hold, 0, sizeof(*hold));
    return charge;
}

int64_t billing_settle(struct billing *b, struct billing_hold *hold,
                       int64_t cost, uint64_t now_ms)
{
    return hold_end(b, hold, cost, true, now_ms);
}

void billing_release(struct billing *b, struct billing_hold *hold)
{
    hold_end(b, hold, 0, false, 0);
}

size_t billing_reset(struct billing *b, const struct fixtures *fx, size_t key,
                     uint64_t now_ms)
{
    size_t i, n = 0;

    pthread_mutex_lock(&b->lock);
    for (i = 0; i < b->n && i < fx->nkeys; i++) {
        struct billing_account *a = &b->accounts[i];

        if (key != BILLING_ALL_KEYS && key != i)
            continue;
        a->balance = fx->keys[i].balance;
        a->spent = fx->keys[i].spent;
        a->last_updated_ms = now_ms;
        n++;
    }
    pthread_mutex_unlock(&b->lock);
    return n;
}

int billing_get(struct billing *b, size_t key, struct billing_account *out)
{
    if (key >= b->n)
        return -1;
    pthread_mutex_lock(&b->lock);
    *out = b->accounts[key];
    pthread_mutex_unlock(&b->lock);
    return 0;
}

void billing_format_usd(int64_t pico, char *out, size_t outlen)
{
    char frac[16];
    int64_t whole;
    int len;
    const char *sign = "";

    if (pico < 0) {
        sign = "-";
        pico = -pico;
    }
    whole = pico / FX_PICO_PER_USD;
    snprintf(frac, sizeof(frac), "%012" PRId64, pico % FX_PICO_PER_USD);
    len = (int)strlen(frac);
    while (len > 0 && frac[len - 1] == '0')
        frac[--len] = '\0';
    if (len == 0)
        snprintf(out, outlen, "%s%" PRId64, sign, whole);
    else
        snprintf(out, outlen, "%s%" PRId64 ".%s", sign, whole, frac);
}
