/* fuzz_fixtures: the fixture loader (libyaml, then the fixture language's
 * checks) on arbitrary bytes: it loads them or says where they are wrong. */
#include <stdlib.h>
#include <string.h>

#include "billing.h"
#include "fixtures.h"
#include "fuzz.h"

/* A loaded fixture keeps the promises the server relies on. */
static void check_loaded(const struct fixtures *fx)
{
    struct billing *b;
    size_t i;

    for (i = 0; i < fx->nmodels; i++)
        fuzz_require(fixtures_find_model(fx, fx->models[i].id) != NULL,
                     "every model is found by its id");
    for (i = 0; i < fx->nkeys; i++) {
        fuzz_require(fx->keys[i].plan < fx->nplans, "a key's plan exists");
        fuzz_require(fx->keys[i].balance >= 0 &&
                         fx->keys[i].balance <= FX_MONEY_MAX,
                     "a balance is within 0..FX_MONEY_MAX");
        fuzz_require(fixtures_find_key(fx, fx->keys[i].key) != NULL,
                     "every key is found");
    }
    b = billing_new(fx, 0);
    fuzz_require(b != NULL, "billing opens the fixture's accounts");
    billing_free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* An exact-size copy, not NUL-terminated, so that reading past the
     * length is caught by ASan. */
    char *copy = malloc(size ? size : 1);
    struct fixtures *fx = NULL;
    struct fixture_error err;

    fuzz_require(copy != NULL, "malloc");
    memcpy(copy, data, size);
    if (fixtures_load_buffer(copy, size, "fuzz.yaml", &fx, &err) == 0) {
        fuzz_require(fx != NULL, "a loaded fixture is returned");
        check_loaded(fx);
    } else {
        fuzz_require(fx == NULL, "a failed load returns nothing");
        fuzz_require(memchr(err.message, '\0', sizeof(err.message)) != NULL &&
                         err.message[0] != '\0',
                     "a failed load says why");
        fuzz_require(err.line >= 0 && err.column >= 0,
                     "an error position is not negative");
    }
    fixtures_free(fx);
    free(copy);
    return 0;
}
