/* fixtures: the YAML fixture language (models, plans, keys, and in
 * version 2 rules, scenarios and settings), loaded with libyaml from one
 * file or several into read-only data that every request thread shares. */
#ifndef NEXUS_FIXTURES_H
#define NEXUS_FIXTURES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct rules;

/* Money is kept in pico-USD (1e-12 USD) so that prices per million tokens
 * with up to six decimals charge an exact integer per token. */
#define FX_PICO_PER_USD INT64_C(1000000000000)
/* Largest balance or spend a fixture may state: 9,000,000 USD. */
#define FX_MONEY_MAX (INT64_C(9000000) * FX_PICO_PER_USD)

/* The rate-limit window unless the fixture sets another. */
#define FX_WINDOW_MS 60000u
/* The most files one load may read (a directory counts its files). */
#define FX_MAX_FILES 64

/* Stream pacing; has_* says whether the fixture set the value. */
struct fx_pacing {
    bool has_ttft;
    bool has_tps;
    bool has_jitter;
    bool has_seed;
    uint32_t ttft_ms;        /* delay before the first chunk */
    uint32_t tokens_per_sec; /* 0: no delay between tokens */
    uint32_t jitter_ms;      /* each token up to this much later */
    uint32_t seed;           /* picks the jitter, so two runs match */
};

/* What happens to a request parameter the API does not define. */
enum fx_unknown {
    FX_UNKNOWN_REJECT, /* 400 unknown_parameter, as OpenAI answers */
    FX_UNKNOWN_IGNORE, /* dropped before validation */
};

/* The JSON type an accepted extra parameter must have. */
enum fx_type {
    FX_TYPE_STRING,
    FX_TYPE_INTEGER,
    FX_TYPE_NUMBER, /* integer or decimal */
    FX_TYPE_BOOLEAN,
    FX_TYPE_OBJECT,
    FX_TYPE_ARRAY,
    FX_TYPE_ANY,
};

/* One extra request parameter the fixture accepts. */
struct fx_param {
    char *name;
    enum fx_type type;
};

/* The fixture's (or a model's) policy on parameters the API does not
 * define: the listed ones are accepted when of their type (and dropped
 * before validation); any other is rejected or ignored. */
struct fx_params {
    bool set; /* given in the fixture */
    enum fx_unknown unknown;
    struct fx_param *accept; /* owned, naccept of them */
    size_t naccept;
};

/* A route that counts against the rate limits: method and path, the path
 * a prefix when it ended in '*'. */
struct fx_route {
    char *method;
    char *path;
    bool prefix;
};

struct fx_model {
    char *id;
    int64_t created;
    char *owned_by;
    int64_t price_in;  /* pico-USD per input token (= micro-USD per 1M) */
    int64_t price_out; /* pico-USD per output token */
    struct fx_pacing pacing;
    bool reasoning;          /* streams reasoning_content before content */
    struct fx_params params; /* set: replaces the fixture's for this model */
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
    uint32_t window_ms; /* the rate-limit window */
    /* The routes that count against rate limits (default: chat only). */
    struct fx_route *rate_routes;
    size_t nrate_routes;
    struct fx_params params; /* for every model that sets none */
    struct rules *rules;     /* one reference, owned; never NULL */
};

/* Where a fixture is wrong: file, 1-based line and column, and why. */
struct fixture_error {
    char file[256];
    int line;
    int column;
    char message[512];
};

/* Loads the fixture in the file at path. Returns 0 and a new fixtures in *out
 * (free with fixtures_free), or -1 with err filled. */
int fixtures_load_file(const char *path, struct fixtures **out,
                       struct fixture_error *err);
/* Loads the n paths in order, each a file or a directory (whose *.yaml and
 * *.yml files load in name order): a later file extends the earlier ones.
 * Its models, plans and keys replace the earlier ones of the same id, plan
 * name or key and add the others; its rules replace earlier rules of the
 * same name and follow the others; its name, rate_limits and parameters
 * replace theirs. Returns 0 and the merged fixtures in *out, or -1 with err
 * filled (in the file at fault). */
int fixtures_load_paths(const char *const *paths, size_t n,
                        struct fixtures **out, struct fixture_error *err);
/* A document of rules added at runtime (POST /_nexus/rules): a list of
 * rules, or one rule, written as under 'rules' in a version 2 fixture
 * (JSON or YAML). Borrowed. */
struct fx_doc {
    const char *name; /* names it in errors, as a file is */
    const char *data;
    size_t len;
};

/* As fixtures_load_paths (n == 0: the embedded default), then the ndocs
 * documents of runtime rules in order, as later files: their rules are
 * tried before the files' rules (each group in its order), and one named
 * as an earlier rule replaces it. Returns 0 and *out, or -1 with err
 * filled (in the file or document at fault). */
int fixtures_load_runtime(const char *const *paths, size_t n,
                          const struct fx_doc *docs, size_t ndocs,
                          struct fixtures **out, struct fixture_error *err);
/* What --check asks of fixtures_check. Borrowed. */
struct fx_check {
    FILE *report; /* each problem goes here, one line */
    size_t max;   /* lines written at most; the rest are only counted */
    bool lint;    /* also the rules no request can reach */
};
/* --max-problems when not given: --check lists this many problems. */
#define FX_MAX_PROBLEMS 100
/* Loads the n paths (n == 0: the embedded default) as
 * fixtures_load_paths does, but goes on after a problem where it safely
 * can (the next key, entry, rule or file; a YAML syntax error ends its
 * file) and writes each on c->report as "file:line:column: reason" (at
 * most c->max of them): each file's own in file order, then the names
 * that do not resolve across files (plans, scenario states), then, with
 * c->lint, every rule no request can reach (after a rule without a
 * scenario guard that has no conditions or the same conditions). Returns
 * how many problems there were (written or not); *out is the fixtures
 * when there were none (free with fixtures_free), else NULL. */
size_t fixtures_check(const char *const *paths, size_t n,
                      const struct fx_check *c, struct fixtures **out);
/* As fixtures_check, for len bytes named name (the fuzz target's). */
size_t fixtures_check_buffer(const char *data, size_t len, const char *name,
                             const struct fx_check *c, struct fixtures **out);
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
/* The parameter policy for requests to model m (NULL: none known): the
 * model's own when it sets one, else the fixture's. Borrowed. */
const struct fx_params *fixtures_params_for(const struct fixtures *fx,
                                            const struct fx_model *m);
/* True when a request of method to path counts against rate limits. */
bool fixtures_rate_counted(const struct fixtures *fx, const char *method,
                           const char *path);
/* True when a and b agree on everything but their name, rules and
 * scenarios: models, plans, keys (balances as loaded), rate limits and the
 * parameter policy, so that a reload may swap the rules alone. Else
 * false, with *what (when not NULL) naming the first part that differs
 * ("models", "plans", "keys", "rate_limits", "parameters"). */
bool fixtures_same_world(const struct fixtures *a, const struct fixtures *b,
                         const char **what);
/* Writes into names (at most max of them) the keys the language (its
 * latest version) allows in the mapping called what, as errors name it
 * ("the fixture", "model", "reply", "text condition", ...), and returns how
 * many there are: 0 for an unknown what. Static strings. For the test
 * that holds fixtures/schema.json to the loader's tables. */
size_t fixtures_language_keys(const char *what, const char **names, size_t max);
/* Returns the name of the ith mapping of the language, as
 * fixtures_language_keys takes it, or NULL past the last. Static. For the
 * tests that hold the schema and the fuzz dictionary to the tables. */
const char *fixtures_language_mapping(size_t i);
/* Parses a decimal USD amount ("42.50", "0.000001") exactly into pico-USD.
 * Returns 0, or -1 if s is not a non-negative decimal with at most 12
 * fractional digits or exceeds FX_MONEY_MAX. */
int fixtures_parse_money(const char *s, int64_t *out);

#endif
