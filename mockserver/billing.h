/* billing: per-key balances kept in integer pico-USD, charged for every
 * successful chat completion at the model's prices. */
#ifndef NEXUS_BILLING_H
#define NEXUS_BILLING_H

#include <stddef.h>
#include <stdint.h>

#include "fixtures.h"

struct billing;

/* A key's account as it stands. */
struct billing_account {
    int64_t balance;          /* pico-USD */
    int64_t spent;            /* pico-USD */
    uint64_t last_updated_ms; /* unix ms of the last charge (or start) */
};

/* Returns accounts opened from the fixture's keys at now_ms (unix ms), or
 * NULL on OOM. The fixture is only read here. */
struct billing *billing_new(const struct fixtures *fx, uint64_t now_ms);
/* Frees b; NULL is a no-op. */
void billing_free(struct billing *b);
/* Cost in pico-USD of a completion: prompt tokens at the model's input price
 * plus completion tokens at its output price. Returns -1 if it would pass
 * FX_MONEY_MAX (no fixture balance could pay it). */
int64_t billing_cost(const struct fx_model *m, uint64_t prompt_tokens,
                     uint64_t completion_tokens);
/* Takes cost from the key's balance and adds it to its spend at now_ms.
 * Returns 0, or -1 (nothing charged) when the balance is zero or less than
 * cost. Thread-safe. */
int billing_charge(struct billing *b, size_t key, int64_t cost,
                   uint64_t now_ms);
/* Copies the key's account into *out. Returns 0, or -1 for an unknown key. */
int billing_get(struct billing *b, size_t key, struct billing_account *out);
/* Writes the decimal USD text of a pico-USD amount ("42.5", "0.000001",
 * "157.3") into out; at most 12 fraction digits, trailing zeros dropped. */
void billing_format_usd(int64_t pico, char *out, size_t outlen);

#endif
