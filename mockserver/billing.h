/* billing: per-key balances kept in integer pico-USD, charged for every
 * answered chat completion at the model's prices: the cost is reserved
 * when the request is admitted and settled when its answer ends (or
 * released when no answer goes out). */
#ifndef NEXUS_BILLING_H
#define NEXUS_BILLING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fixtures.h"

struct billing;

/* "Every key" for billing_reset. */
#define BILLING_ALL_KEYS ((size_t)-1)

/* A key's account as it stands. balance and spent move only when an
 * answer is settled, so balance + spent never changes; reserved is the part
 * of balance set aside for answers in flight, which no other request can
 * reserve. */
struct billing_account {
    int64_t balance;  /* pico-USD, reservations included */
    int64_t spent;    /* pico-USD */
    int64_t reserved; /* pico-USD held for answers in flight */
    uint64_t
        last_updated_ms; /* unix ms of the last settled charge (or start) */
};

/* Money set aside for one answer by billing_reserve, until billing_settle
 * or billing_release. Plain data its holder keeps (a stream carries it to
 * its end); zeroed, or once settled or released, it holds nothing and
 * settling or releasing it again is a no-op. */
struct billing_hold {
    bool active;
    size_t key;
    int64_t amount; /* pico-USD */
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
/* Sets cost aside from the key's balance for one answer. Returns 0 with
 * *hold filled, or -1 with *hold empty when the key is unknown, cost is
 * negative, or what is available (balance less reservations) is zero or
 * less than cost: that is the 402, decided before any answer goes out.
 * Thread-safe. */
int billing_reserve(struct billing *b, size_t key, int64_t cost,
                    struct billing_hold *hold);
/* Ends the hold because its answer went out: charges cost (at most what is
 * held; a negative cost charges nothing) to the key's balance and spend at
 * now_ms, gives the rest back, and returns what was charged. A stream cut
 * short settles for less than it reserved. Empties *hold. Thread-safe. */
int64_t billing_settle(struct billing *b, struct billing_hold *hold,
                       int64_t cost, uint64_t now_ms);
/* Ends the hold because no answer went out: gives it all back, charging
 * nothing and leaving last_updated as it was. Empties *hold. Thread-safe. */
void billing_release(struct billing *b, struct billing_hold *hold);
/* Puts the balance and spend of key (BILLING_ALL_KEYS: of every key) back
 * to what the fixture fx (the one b was opened from) gives, with
 * last_updated at now_ms. Money held for answers in flight stays held,
 * and is charged to the restored balance when they end. Returns how many
 * keys it reset. Thread-safe. */
size_t billing_reset(struct billing *b, const struct fixtures *fx, size_t key,
                     uint64_t now_ms);
/* Copies the key's account into *out. Returns 0, or -1 for an unknown key. */
int billing_get(struct billing *b, size_t key, struct billing_account *out);
/* Writes the decimal USD text of a pico-USD amount ("42.5", "0.000001",
 * "157.3") into out; at most 12 fraction digits, trailing zeros dropped. */
void billing_format_usd(int64_t pico, char *out, size_t outlen);

#endif
