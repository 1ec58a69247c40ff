/* fixtures: the YAML fixture language (models, plans, keys), loaded with
 * libyaml into read-only data that every request thread shares. */
#ifndef NEXUS_FIXTURES_H
#define NEXUS_FIXTURES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Money is kept in pico-USD (1e-12 USD) so that prices per million tokens
 * with up to six decimals charge an exact integer per token. */
#define FX_PICO_PER_USD INT64_C(1000000000000)
/* Largest balance or spend a fixture may state: 9,000,000 USD. */
#define FX_MONEY_MAX (INT64_C(9000000) * FX_PICO_PER_USD)

/* Stream pacing; has_* says whether the fixture set the value. */
struct fx_pacing {
    bool has_ttft;
    bool has_tps;
    uint32_t ttft_ms;        /* delay before the first chunk */
    uint32_t tokens_per_sec; /* 0: no delay between tokens */
};

struct fx_model {
    char *id;
    int64_t created;
    char *owned_by;
    int64_t price_in;  /* pico-USD per input token (= micro-USD per 1M) */
    int64_t price_out; /* pico-USD per output token */
    struct fx_pacing pacing;
};

struct fx_plan {
    char *name;
    uint32_t requests_per_minute; /* 0: unlimited */
    uint32_t tokens_per_minute;   /* 0: no token limit */
    struct fx_pacing pacing;      /* overrides the model's where set */
};

struct fx_key {
    char *key;
    size_t plan;     /* index into fixtures.plans */
    int64_t balance; /* pico-USD */
    int64_t spent;   /* pico-USD */
};

struct fixtures {
    char *name;
    struct fx_model *models;
    size_t nmodels;
    struct fx_plan *plans;
    size_t nplans;
    struct fx_key *keys;
    size_t nkeys;
};

/* Where a fixture is wrong: file, 1-based line and column, and why. */
struct fixture_error {
    char file[256];
    int line;
    int column;
    char message[256];
};

/* Loads the fixture in the file at path. Returns 0 and a new fixtures in *out
 * (free with fixtures_free), or -1 with err filled. */
int fixtures_load_file(const char *path, struct fixtures **out,
                       struct fixture_error *err);
/* As fixtures_load_file, from len bytes named name in errors. */
int fixtures_load_buffer(const char *data, size_t len, const char *name,
                         struct fixtures **out, struct fixture_error *err);
/* Loads the default fixture compiled into the binary (fixtures/ai-nexus.yaml).
 */
int fixtures_load_default(struct fixtures **out, struct fixture_error *err);
/* Frees fx and all it holds; NULL is a no-op. */
void fixtures_free(struct fixtures *fx);
/* Returns the model with that id or NULL. Borrowed: valid until
 * fixtures_free(). */
const struct fx_model *fixtures_find_model(const struct fixtures *fx,
                                           const char *id);
/* Returns the key entry for that API key or NULL. Borrowed, as above. */
const struct fx_key *fixtures_find_key(const struct fixtures *fx,
                                       const char *key);
/* Parses a decimal USD amount ("42.50", "0.000001") exactly into pico-USD.
 * Returns 0, or -1 if s is not a non-negative decimal with at most 12
 * fractional digits or exceeds FX_MONEY_MAX. */
int fixtures_parse_money(const char *s, int64_t *out);

#endif
