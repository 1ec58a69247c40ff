/* test_docs: docs/conformance.md states every check (id, level, rule,
 * source) as the code does, and documents every flag of the usage text. */
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "conform.h"
#include "buf.h"
#include "options.h"
#include "testutil.h"

/* Reads the whole page into out. */
static void read_docs(struct buf *out)
{
    char path[1024], buf[4096];
    size_t n;
    FILE *f;

    snprintf(path, sizeof(path), "%s/docs/conformance.md",
             tu_env("NEXUS_SOURCE_DIR"));
    f = fopen(path, "r");
    if (f == NULL)
        fail_msg("cannot read %s", path);
    while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
        assert_int_equal(buf_append(out, buf, n), 0);
    fclose(f);
}

/* Every check has its table row: id, level, rule and source. */
static void test_every_check_documented(void **state)
{
    const struct group_def *const *g;
    struct buf docs, row;
    size_t n, i, k;
    int missing = 0;

    (void)state;
    buf_init(&docs, 1 << 20);
    buf_init(&row, 8192);
    read_docs(&docs);
    g = conform_groups(&n);
    for (i = 0; i < n; i++) {
        for (k = 0; k < g[i]->n_checks; k++) {
            const struct check_def *d = &g[i]->checks[k];
            buf_reset(&row);
            assert_int_equal(
                buf_appendf(&row, "| `%s` | %s | %s | %s |", d->id,
                            d->level == LEVEL_MUST ? "MUST" : "SHOULD", d->rule,
                            d->source),
                0);
            if (strstr(buf_str(&docs), buf_str(&row)) == NULL) {
                print_error("docs/conformance.md lacks the row %s\n",
                            buf_str(&row));
                missing++;
            }
        }
    }
    buf_cleanup(&row);
    buf_cleanup(&docs);
    assert_int_equal(missing, 0);
}

/* Every flag the usage text shows is in the page's flag table. */
static void test_every_flag_documented(void **state)
{
    struct buf docs, flag;
    char *usage = NULL;
    size_t len = 0, i, n;
    const char *p;
    FILE *f = open_memstream(&usage, &len);
    int missing = 0, seen = 0;

    (void)state;
    options_usage(f);
    fclose(f);
    buf_init(&docs, 1 << 20);
    buf_init(&flag, 256);
    read_docs(&docs);
    for (p = usage; (p = strstr(p, "--")) != NULL; p += n) {
        n = 2;
        while (isalnum((unsigned char)p[n]) || p[n] == '-')
            n++;
        buf_reset(&flag);
        assert_int_equal(buf_appendf(&flag, "`%.*s", (int)n, p), 0);
        seen++;
        if (strstr(buf_str(&docs), buf_str(&flag)) == NULL) {
            print_error("docs/conformance.md lacks %s\n", buf_str(&flag));
            missing++;
        }
    }
    for (i = 0; i < 3; i++) {
        static const char *const codes[] = {"| 0 |", "| 1 |", "| 2 |"};
        assert_non_null(strstr(buf_str(&docs), codes[i]));
    }
    free(usage);
    buf_cleanup(&flag);
    buf_cleanup(&docs);
    assert_true(seen > 15);
    assert_int_equal(missing, 0);
}

/* Runs the tests of this file. */
int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_check_documented),
        cmocka_unit_test(test_every_flag_documented),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
