/* test_impact: the verdicts the break corpus draws agree with the
 * client-impact matrix that real clients measured (docs/client-impact.json,
 * written by tests/clients/matrix.mjs): a failure names only clients that
 * break, every client that breaks is named, a MUST check that rests on
 * clients has a break case where one breaks, every measured claim of the
 * impact catalogue is shown true by a case, and every legal dialect works
 * in every client. Each case is served by a real nexus-mock from its
 * fixture (fixtures/faults/servers/), judged by the real nexus-conform. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "conform.h"
#include "impact.h"
#include "testutil.h"

/* The matrix's client columns. */
static const char *const columns[] = {"openai", "ai-sdk", "langchain"};
#define N_COLUMNS 3

/* What the matrix says one client did with one case. */
enum seen {
    SEEN_UNKNOWN, /* not measurable: n/a, or the good server does the same */
    SEEN_WORKS,
    SEEN_BREAKS
};

/* Loads docs/client-impact.json. New reference. */
static json_t *load_matrix(void)
{
    char path[1024];

    snprintf(path, sizeof(path), "%s/docs/client-impact.json",
             tu_env("NEXUS_SOURCE_DIR"));
    return tu_load(path);
}

/* The matrix row of the case called name (file name without .json), or
 * NULL. Borrowed. */
static json_t *row_of(const json_t *matrix, const char *list, const char *name)
{
    json_t *c, *ret = NULL;
    size_t i, n = strlen(name);

    json_array_foreach(json_object_get(matrix, list), i, c)
    {
        const char *id = json_string_value(json_object_get(c, "case"));
        if (id != NULL && strncmp(id, name, n) == 0 && id[n] == '\0')
            ret = c;
    }
    return ret;
}

/* The case name of a file name ("a.json" -> "a") in buf. */
static const char *case_name(const char *file, char *buf, size_t n)
{
    snprintf(buf, n, "%.*s", (int)(strlen(file) - 5), file);
    return buf;
}

/* True when two outcomes are the same as the matrix counts it for "(as on
 * the good server)": outcome, error class, retries, hang, and the delay a
 * client was told to wait, unless both waits passed the bound (a client
 * that hangs in its backoff for 20 s or for 19.7 s hangs the same). */
static bool same_outcome(const json_t *a, const json_t *b)
{
    static const char *const keys[] = {"outcome", "retries", "hang",
                                       "retry_after"};
    const char *hang = json_string_value(json_object_get(a, "hang"));
    size_t i, n = sizeof(keys) / sizeof(keys[0]);

    if (hang != NULL && strcmp(hang, "backoff") == 0)
        n--; /* retry_after, last */
    for (i = 0; i < n; i++)
        if (!json_equal(json_object_get(a, keys[i]),
                        json_object_get(b, keys[i])) &&
            !(json_object_get(a, keys[i]) == NULL &&
              json_object_get(b, keys[i]) == NULL))
            return false;
    return json_equal(json_object_get(json_object_get(a, "error"), "class"),
                      json_object_get(json_object_get(b, "error"), "class")) ||
           (json_object_get(json_object_get(a, "error"), "class") == NULL &&
            json_object_get(json_object_get(b, "error"), "class") == NULL);
}

/* What client did in the case's row, against the good server's row. */
static enum seen client_seen(const json_t *matrix, const json_t *row,
                             const char *client)
{
    const json_t *s = json_object_get(json_object_get(row, "clients"), client);
    const char *outcome = json_string_value(json_object_get(s, "outcome"));
    const json_t *base = json_object_get(
        json_object_get(json_object_get(matrix, "baseline"),
                        json_string_value(json_object_get(row, "probe_key"))),
        client);

    if (outcome == NULL || strcmp(outcome, "n/a") == 0)
        return SEEN_UNKNOWN;
    if (strcmp(outcome, "works") == 0)
        return SEEN_WORKS;
    if (base != NULL && same_outcome(s, base))
        return SEEN_UNKNOWN;
    return SEEN_BREAKS;
}

/* The column index of client, or -1 for a client read from source. */
static int column_of(const char *client)
{
    int k;

    for (k = 0; k < N_COLUMNS; k++)
        if (strcmp(columns[k], client) == 0)
            return k;
    return -1;
}

/* What the whole corpus showed about each check and impact entry. */
struct tally {
    char grounded[256][64]; /* MUST client checks a case grounds */
    size_t n_grounded;
    bool proven[IMPACT_COUNT]; /* entries shown true by some case */
};

/* Finds the catalogue entry called id; IMPACT_NONE when none. */
static enum impact_id entry_called(const char *id)
{
    int k;

    for (k = IMPACT_NONE + 1; k < IMPACT_COUNT; k++)
        if (strcmp(impact_get((enum impact_id)k)->id, id) == 0)
            return (enum impact_id)k;
    return IMPACT_NONE;
}

/* Checks one check's impact (an entry of a JSON report's "checks")
 * against the row: every measured client it names breaks or cannot be
 * measured there. Marks in named the clients a failure names, and in t
 * what the check proves. Returns the errors. */
static int judge_result(const char *name, const json_t *matrix,
                        const json_t *row, const json_t *r,
                        bool named[N_COLUMNS], struct tally *t)
{
    const char *rid = json_string_value(json_object_get(r, "id"));
    const char *basis = json_string_value(json_object_get(r, "basis"));
    const char *status = json_string_value(json_object_get(r, "status"));
    bool failed = status != NULL && strcmp(status, "fail") == 0;
    json_t *entry, *effect;
    size_t i, k;
    int bad = 0, col, measured = 0, breaking = 0, measured_in;
    enum seen seen;
    enum impact_id id;

    json_array_foreach(json_object_get(r, "impacts"), i, entry)
    {
        measured_in = 0;
        json_array_foreach(json_object_get(entry, "effects"), k, effect)
        {
            const char *client =
                json_string_value(json_object_get(effect, "client"));
            col = column_of(client);
            if (col < 0)
                continue;
            measured++;
            measured_in++;
            seen = client_seen(matrix, row, client);
            if (seen == SEEN_WORKS) {
                print_error("%s: %s names %s, which works in the matrix\n",
                            name, rid, client);
                bad++;
            }
            if (seen == SEEN_BREAKS) {
                breaking++;
                measured_in--;
            }
            if (failed)
                named[col] = true;
        }
        id = entry_called(json_string_value(json_object_get(entry, "id")));
        /* Every measured client of the entry broke in this case. */
        if (id != IMPACT_NONE && measured_in == 0)
            t->proven[id] = true;
    }
    if (failed && basis != NULL && strcmp(basis, "client") == 0 &&
        measured == 0) {
        print_error("%s: %s fails on the clients' account and names none\n",
                    name, rid);
        bad++;
    }
    if (failed && breaking > 0 && basis != NULL &&
        strcmp(basis, "client") == 0 && t->n_grounded < 256)
        snprintf(t->grounded[t->n_grounded++], sizeof(t->grounded[0]), "%s",
                 rid);
    return bad;
}

/* Holds the verdicts of one break case (brk, run as job) to its matrix
 * row. Returns the errors. */
static int judge_case(const char *file, const json_t *brk,
                      const struct tu_job *job, const json_t *matrix,
                      struct tally *t)
{
    char name[256];
    bool named[N_COLUMNS] = {false, false, false};
    json_t *row, *unnamed, *report, *c;
    size_t i;
    int bad = 0, k;

    case_name(file, name, sizeof(name));
    row = row_of(matrix, "cases", name);
    if (row == NULL) {
        print_error("%s: no row in docs/client-impact.json; rerun node "
                    "tests/clients/matrix.mjs\n",
                    name);
        return 1;
    }
    report = tu_job_report(job);
    if (report == NULL)
        return 1;
    json_array_foreach(json_object_get(report, "checks"), i, c)
    {
        if (json_is_array(json_object_get(c, "impacts")))
            bad += judge_result(name, matrix, row, c, named, t);
    }
    unnamed = json_object_get(brk, "unnamed");
    for (k = 0; k < N_COLUMNS; k++) {
        if (client_seen(matrix, row, columns[k]) != SEEN_BREAKS || named[k] ||
            json_is_string(json_object_get(unnamed, columns[k])))
            continue;
        print_error("%s: %s breaks in the matrix, and no failure names it "
                    "(nor does the case say why in \"unnamed\")\n",
                    name, columns[k]);
        bad++;
    }
    json_decref(report);
    return bad;
}

/* True when the tally grounds the check called id. */
static bool grounded(const struct tally *t, const char *id)
{
    size_t i;

    for (i = 0; i < t->n_grounded; i++)
        if (strcmp(t->grounded[i], id) == 0)
            return true;
    return false;
}

/* True when entry im names a client of the matrix. */
static bool measured_entry(const struct impact *im)
{
    size_t k;

    for (k = 0; k < IMPACT_MAX_EFFECTS && im->effects[k].client != NULL; k++)
        if (impact_is_measured(im->effects[k].client))
            return true;
    return false;
}

/* The break corpus against the matrix, case by case; then each MUST check
 * resting on clients is grounded by a case, and each measured claim of the
 * catalogue is shown true. */
static void test_verdicts_match_the_matrix(void **state)
{
    char dir[1024], path[2048], tmp[64], *names[512];
    static json_t *cases[512];
    const struct group_def *const *g;
    static struct tally t;
    struct tu_job *jobs;
    json_t *matrix;
    size_t n, i, k, ng;
    int bad = 0, id;

    (void)state;
    memset(&t, 0, sizeof(t));
    matrix = load_matrix();
    n = tu_break_cases(dir, sizeof(dir), names, 512);
    jobs = calloc(n + 1, sizeof(*jobs));
    assert_non_null(jobs);
    for (i = 0; i < n; i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        cases[i] = tu_load(path);
        assert_non_null(json_object_get(cases[i], "fixture"));
        tu_job_fixtures(&jobs[i],
                        json_string_value(json_object_get(cases[i], "fixture")),
                        "good.yaml");
        tu_case_args(cases[i], NULL, jobs[i].args, 64);
    }
    tu_tmpdir(tmp, sizeof(tmp));
    tu_jobs_run(jobs, n, tmp);
    for (i = 0; i < n; i++) {
        bad += judge_case(names[i], cases[i], &jobs[i], matrix, &t);
        free(names[i]);
        json_decref(cases[i]);
    }
    free(jobs);
    snprintf(path, sizeof(path), "rm -rf %s", tmp);
    if (system(path) != 0)
        print_error("could not remove %s\n", tmp);
    g = conform_groups(&ng);
    for (i = 0; i < ng; i++) {
        for (k = 0; k < g[i]->n_checks; k++) {
            const struct check_def *d = &g[i]->checks[k];
            if (d->level != LEVEL_MUST || d->basis != BASIS_CLIENT ||
                grounded(&t, d->id))
                continue;
            print_error("%s is a MUST on the clients' account, but no break "
                        "case fails it with a client the matrix shows "
                        "breaking\n",
                        d->id);
            bad++;
        }
    }
    for (id = IMPACT_NONE + 1; id < IMPACT_COUNT; id++) {
        const struct impact *im = impact_get((enum impact_id)id);
        if (!measured_entry(im) || t.proven[id])
            continue;
        print_error("impact %s names measured clients, but no break case "
                    "shows them all breaking with it\n",
                    im->id);
        bad++;
    }
    print_message("%zu break cases against the matrix\n", n);
    json_decref(matrix);
    assert_int_equal(bad, 0);
}

/* Every legal dialect has its rows in the matrix, and every client works
 * on every one of them. */
static void test_dialects_work_in_every_client(void **state)
{
    char dir[1024], name[256], *names[128];
    json_t *matrix, *d, *row, *s;
    const char *outcome;
    size_t n, i, r;
    int bad = 0, k;

    (void)state;
    matrix = load_matrix();
    n = tu_cases("dialects", dir, sizeof(dir), names, 128);
    for (i = 0; i < n; i++) {
        case_name(names[i], name, sizeof(name));
        d = row_of(matrix, "dialects", name);
        if (d == NULL || json_array_size(json_object_get(d, "rows")) < 4) {
            print_error("%s: no rows in docs/client-impact.json; rerun node "
                        "tests/clients/matrix.mjs\n",
                        name);
            bad++;
        }
        json_array_foreach(json_object_get(d, "rows"), r, row)
        {
            for (k = 0; k < N_COLUMNS; k++) {
                s = json_object_get(json_object_get(row, "clients"),
                                    columns[k]);
                outcome = json_string_value(json_object_get(s, "outcome"));
                if (outcome != NULL && (strcmp(outcome, "works") == 0 ||
                                        strcmp(outcome, "n/a") == 0))
                    continue;
                print_error("%s (%s): %s %s\n", name,
                            json_string_value(json_object_get(row, "scenario")),
                            columns[k], outcome != NULL ? outcome : "missing");
                bad++;
            }
        }
        free(names[i]);
    }
    json_decref(matrix);
    assert_int_equal(bad, 0);
}

/* The matrix measured exactly the cases there are: no case unmeasured, no
 * row for a case that is gone. */
static void test_matrix_is_current(void **state)
{
    char dir[1024], name[256], *names[512];
    json_t *matrix, *c;
    size_t n, i;
    int bad = 0;

    (void)state;
    matrix = load_matrix();
    n = tu_break_cases(dir, sizeof(dir), names, 512);
    json_array_foreach(json_object_get(matrix, "cases"), i, c)
    {
        const char *id = json_string_value(json_object_get(c, "case"));
        size_t k;
        bool found = false;
        for (k = 0; k < n && !found; k++)
            found = strcmp(case_name(names[k], name, sizeof(name)), id) == 0;
        if (!found) {
            print_error("docs/client-impact.json measures %s, which is no "
                        "break case; rerun node tests/clients/matrix.mjs\n",
                        id);
            bad++;
        }
    }
    assert_int_equal(json_array_size(json_object_get(matrix, "cases")), n);
    for (i = 0; i < n; i++)
        free(names[i]);
    json_decref(matrix);
    assert_int_equal(bad, 0);
}

/* Runs the tests of this file. */
int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matrix_is_current),
        cmocka_unit_test(test_verdicts_match_the_matrix),
        cmocka_unit_test(test_dialects_work_in_every_client),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
