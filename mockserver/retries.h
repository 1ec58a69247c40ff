/* retries: how each client retried, read from the journal (journal.h):
 * its requests grouped into logical calls, and for each call the attempts,
 * the wait before each retry against the wait the previous answer asked
 * for (retry-after-ms, else Retry-After), whether the backoff grew, the
 * X-Stainless-Retry-Count and Idempotency-Key headers it sent, and whether
 * it stopped at its retry limit. GET /_nexus/clients (route in routes.h)
 * answers with retries_report. */
#ifndef NEXUS_RETRIES_H
#define NEXUS_RETRIES_H

#include <stdint.h>

#include <jansson.h>

/* The defaults of GET /_nexus/clients' max_retries and window_ms. */
#define RETRIES_DEFAULT_MAX_RETRIES 2u
#define RETRIES_DEFAULT_WINDOW_MS 120000u
/* How much shorter than asked a wait may measure and still count as
 * honoured: the mock reads its clock in whole milliseconds at both ends,
 * and a client's timer may fire up to a millisecond early. */
#define RETRIES_TOLERANCE_MS 2

/* How calls are judged. Plain data. */
struct retries_opts {
    /* The client's retry limit: a call that ends on a retryable failure
     * after max_retries + 1 attempts stopped at its limit. The openai
     * SDKs' default is 2. */
    unsigned max_retries;
    /* A request without an Idempotency-Key continues a call with the same
     * key, method, path and body whose last attempt failed at most this
     * long before. */
    uint64_t window_ms;
};

/* Returns a new reference to the report over entries, a JSON array of
 * journal entries (journal_query's, brief or not; any order), or NULL on
 * OOM. entries is only read. */
json_t *retries_report(const json_t *entries, const struct retries_opts *o);

#endif
