/* live: the rule set the mock serves, rebuilt from the fixture files as
 * they are now plus the rules added at runtime (POST /_nexus/rules), and
 * swapped into the app's rules slot. Reloads (SIGHUP, --watch) and the
 * control API all rebuild through here, under one lock, so they never
 * interleave. Models, plans, keys and settings never change: a rebuild
 * whose files changed them is refused (fixtures_same_world). */
#ifndef NEXUS_LIVE_H
#define NEXUS_LIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "fixtures.h"

struct rules_slot;
struct live;

/* What a rebuild that failed says: the loader's error, or (changed not
 * NULL) the part of the fixtures that changed. */
struct live_error {
    struct fixture_error load;
    const char *changed; /* static; NULL: the load failed */
};

/* Returns the live rules for the n paths (borrowed; n == 0: the embedded
 * default) serving fx (borrowed: the running world) into slot (borrowed),
 * or NULL on OOM. */
struct live *live_new(const char *const *paths, size_t n,
                      const struct fixtures *fx, struct rules_slot *slot);
/* Frees l and the runtime rules it keeps; NULL is a no-op. */
void live_free(struct live *l);
/* Re-reads the files, keeping the runtime rules, and swaps the set in.
 * Returns 0 and the number of rules in *nrules, or -1 with *err filled
 * and the running set untouched. */
int live_reload(struct live *l, size_t *nrules, struct live_error *err);
/* Adds the rules in the len bytes of body (a rule or a list of rules,
 * JSON), validated as the fixture loader validates them, named name in
 * errors. Returns 0 and, in *added, a new array of {"id", "name"} of the
 * rules added; -1 with *err filled (the body or the files are wrong,
 * nothing changes); -2 when the body loads but is not JSON; -3 on OOM. */
int live_add(struct live *l, const char *name, const char *body, size_t len,
             json_t **added, struct live_error *err);
/* Removes the runtime rules: all (id 0 and name NULL), the one of that
 * id, or those with that name. Returns how many were removed, or -1 with
 * *err filled when the rebuild failed (nothing changes), -3 on OOM. */
long live_remove(struct live *l, uint64_t id, const char *name,
                 struct live_error *err);
/* The runtime rules as a new array of {"id", "name", "rule"}, or NULL on
 * OOM. */
json_t *live_list(struct live *l);

#endif
