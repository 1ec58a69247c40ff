/* test_docs: docs/conformance.md states every check (id, level, basis,
 * rule, source) as the code does, and documents every flag of the usage
 * text. */
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "conform.h"
#include "impact.h"
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

/* Every check has its table row: id, level, basis, rule and source. */
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
            assert_int_equal(buf_appendf(&row, "| `%s` | %s | %s | %s | %s |",
                                         d->id, check_level_name(d->level),
                                         check_basis_name(d->basis), d->rule,
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

/* Reads NEXUS_SOURCE_DIR/rel into out; false when it cannot be read. */
static bool read_file(const char *rel, struct buf *out)
{
    char path[1024], chunk[4096];
    size_t n;
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", tu_env("NEXUS_SOURCE_DIR"), rel);
    f = fopen(path, "r");
    if (f == NULL)
        return false;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        assert_int_equal(buf_append(out, chunk, n), 0);
    fclose(f);
    return true;
}

/* Appends the anchor GitHub gives a heading: lower case, letters, digits,
 * '-' and '_' kept, each space made '-', anything else dropped. */
static void slug(const char *heading, size_t len, struct buf *out)
{
    size_t i;
    char ch;

    for (i = 0; i < len; i++) {
        ch = heading[i];
        if (isalnum((unsigned char)ch) || ch == '-' || ch == '_')
            ch = (char)tolower((unsigned char)ch);
        else if (ch == ' ')
            ch = '-';
        else
            continue;
        assert_int_equal(buf_append(out, &ch, 1), 0);
    }
}

/* True when the markdown file rel (repository-relative) exists and, when
 * anchor is not empty, has a heading whose anchor it is. */
static bool anchor_exists(const char *rel, const char *anchor)
{
    struct buf text, a;
    const char *p, *eol, *h;
    bool found = false;

    buf_init(&text, 1 << 22);
    buf_init(&a, 1024);
    if (!read_file(rel, &text))
        goto out;
    found = anchor[0] == '\0';
    for (p = buf_str(&text); !found && *p != '\0'; p = eol + (*eol != '\0')) {
        eol = strchr(p, '\n');
        if (eol == NULL)
            eol = p + strlen(p);
        if (*p != '#')
            continue;
        for (h = p; *h == '#'; h++)
            ;
        while (*h == ' ')
            h++;
        buf_reset(&a);
        slug(h, (size_t)(eol - h), &a);
        found = strcmp(buf_str(&a), anchor) == 0;
    }
out:
    buf_cleanup(&a);
    buf_cleanup(&text);
    return found;
}

/* The public standards a rule may cite by URL. */
static const char *const standards[] = {
    "https://html.spec.whatwg.org/multipage/server-sent-events.html#",
    "https://www.rfc-editor.org/rfc/rfc9110#section-",
};

/* Checks one citation ("docs/FILE.md#anchor", maybe followed by words, or
 * a standard's URL). Returns 0, or 1 after saying why it does not open. */
static int check_citation(const char *who, const char *cite, size_t len)
{
    char ref[512], file[256];
    const char *hash;
    size_t i, n = 0;

    while (n < len && cite[n] != ' ' && n + 1 < sizeof(ref))
        n++;
    snprintf(ref, sizeof(ref), "%.*s", (int)n, cite);
    for (i = 0; i < sizeof(standards) / sizeof(standards[0]); i++)
        if (strncmp(ref, standards[i], strlen(standards[i])) == 0 &&
            ref[strlen(standards[i])] != '\0')
            return 0;
    hash = strchr(ref, '#');
    if (strncmp(ref, "docs/", 5) == 0 && hash != NULL) {
        snprintf(file, sizeof(file), "%.*s", (int)(hash - ref), ref);
        if (anchor_exists(file, hash + 1))
            return 0;
    }
    print_error("%s cites '%.*s', which opens no section of the repository "
                "nor a public standard\n",
                who, (int)len, cite);
    return 1;
}

/* Every citation of every rule opens: a heading of a file of this
 * repository (docs/FILE.md#anchor), or a public standard's URL. */
static void test_every_citation_opens(void **state)
{
    const struct group_def *const *g;
    const char *src, *semi;
    size_t n, i, k;
    int bad = 0;

    (void)state;
    g = conform_groups(&n);
    for (i = 0; i < n; i++) {
        for (k = 0; k < g[i]->n_checks; k++) {
            src = g[i]->checks[k].source;
            do {
                semi = strstr(src, "; ");
                bad += check_citation(g[i]->checks[k].id, src,
                                      semi != NULL ? (size_t)(semi - src)
                                                   : strlen(src));
                src = semi != NULL ? semi + 2 : NULL;
            } while (src != NULL);
        }
    }
    assert_int_equal(bad, 0);
}

/* Every outcome read from source names an SDK, its version and a file
 * that docs/client-behaviour.md names too, so a reader can open it. */
static void test_every_source_file_named(void **state)
{
    struct buf page, sdk;
    const char *from, *path;
    int id, bad = 0;
    size_t k;

    (void)state;
    buf_init(&page, 1 << 22);
    buf_init(&sdk, 256);
    assert_true(read_file("docs/client-behaviour.md", &page));
    for (id = IMPACT_NONE + 1; id < IMPACT_COUNT; id++) {
        const struct impact *im = impact_get((enum impact_id)id);
        for (k = 0; k < IMPACT_MAX_EFFECTS && im->effects[k].client != NULL;
             k++) {
            from = im->effects[k].from;
            if (from == NULL)
                continue;
            /* "openai-python 3.3.1 src/openai/_streaming.py" */
            path = strchr(from, ' ') != NULL
                       ? strchr(strchr(from, ' ') + 1, ' ')
                       : NULL;
            buf_reset(&sdk);
            assert_int_equal(buf_appendf(&sdk, "%.*s",
                                         path != NULL ? (int)(path - from) : 0,
                                         from),
                             0);
            if (path == NULL || strstr(buf_str(&page), path + 1) == NULL ||
                strstr(buf_str(&page), buf_str(&sdk)) == NULL ||
                strncmp(from, im->effects[k].client,
                        strlen(im->effects[k].client)) != 0) {
                print_error("impact %s cites '%s', which "
                            "docs/client-behaviour.md does not name\n",
                            im->id, from);
                bad++;
            }
        }
    }
    buf_cleanup(&sdk);
    buf_cleanup(&page);
    assert_int_equal(bad, 0);
}

/* The pages a user reads link only to what exists: every relative link
 * of docs/ opens a file and, with '#', one of its headings; and none
 * cites the study or the excerpt that live outside the repository. */
static void test_docs_links_open(void **state)
{
    static const char *const pages[] = {"docs/conformance.md", "docs/api.md",
                                        "docs/client-behaviour.md"};
    static const char *const outside[] = {
        "official-sdk-client-behaviour", "openai-chat-models-excerpt",
        "section 5 scenario", "Official SDK client behaviour"};
    struct buf text;
    char file[512], anchor[256];
    const char *p, *end, *hash;
    size_t i, k;
    int bad = 0;

    (void)state;
    buf_init(&text, 1 << 22);
    for (i = 0; i < sizeof(pages) / sizeof(pages[0]); i++) {
        buf_reset(&text);
        assert_true(read_file(pages[i], &text));
        for (k = 0; k < sizeof(outside) / sizeof(outside[0]); k++)
            if (strstr(buf_str(&text), outside[k]) != NULL) {
                print_error("%s cites %s, which is not in the repository\n",
                            pages[i], outside[k]);
                bad++;
            }
        for (p = buf_str(&text); (p = strstr(p, "](")) != NULL; p = end) {
            p += 2;
            end = strchr(p, ')');
            if (end == NULL || strncmp(p, "http", 4) == 0)
                continue;
            hash = memchr(p, '#', (size_t)(end - p));
            snprintf(anchor, sizeof(anchor), "%.*s",
                     hash != NULL ? (int)(end - hash - 1) : 0,
                     hash != NULL ? hash + 1 : "");
            /* Links are relative to docs/ (or to the page itself). */
            snprintf(file, sizeof(file), "docs/%.*s",
                     (int)((hash != NULL ? hash : end) - p), p);
            if (file[5] == '\0')
                snprintf(file, sizeof(file), "%s", pages[i]);
            if (!anchor_exists(file, anchor)) {
                print_error("%s links to %s#%s, which does not open\n",
                            pages[i], file, anchor);
                bad++;
            }
        }
    }
    buf_cleanup(&text);
    assert_int_equal(bad, 0);
}

/* Runs the tests of this file. */
int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_check_documented),
        cmocka_unit_test(test_every_flag_documented),
        cmocka_unit_test(test_every_citation_opens),
        cmocka_unit_test(test_every_source_file_named),
        cmocka_unit_test(test_docs_links_open),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
