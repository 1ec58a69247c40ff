/* report_junit: writes the run as JUnit XML for CI test reporters. */
#include "jsonio.h"
#include "result.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "markup.h"

/* Evidence past this many bytes is cut in the XML (the JSON report keeps
 * it whole): CI pages show failure text inline. */
#define JUNIT_EVIDENCE_MAX (256 * 1024)

#define JUNIT_JSON_FLAGS                                                       \
    (JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15))

/* Formats seconds with three decimals by integer arithmetic, so a locale
 * with a decimal comma cannot break the schema's decimal type. */
static void seconds_fmt(char *buf, size_t n, double s)
{
    unsigned long long ms = 0;

    if (isfinite(s) && s > 0)
        ms = s < 1e12 ? (unsigned long long)(s * 1000 + 0.5)
                      : 1000000000000000ULL;
    snprintf(buf, n, "%llu.%03llu", ms / 1000, ms % 1000);
}

/* True if s is an xs:dateTime as CI readers parse it: YYYY-MM-DDTHH:MM:SS,
 * an optional fraction, then optionally Z or +HH:MM / -HH:MM. */
static bool timestamp_ok(const char *s)
{
    static const char shape[] = "0000-00-00T00:00:00";
    bool ok = false;
    size_t i;

    if (s == NULL || strlen(s) < sizeof(shape) - 1)
        goto out;
    for (i = 0; i < sizeof(shape) - 1; i++) {
        if (shape[i] == '0' ? s[i] < '0' || s[i] > '9' : s[i] != shape[i])
            goto out;
    }
    s += i;
    if (*s == '.') {
        if (s[1] < '0' || s[1] > '9')
            goto out;
        for (s++; *s >= '0' && *s <= '9'; s++)
            ;
    }
    if (*s == 'Z') {
        s++;
    } else if (*s == '+' || *s == '-') {
        for (i = 1; i <= 5; i++) {
            if (i == 3 ? s[i] != ':' : s[i] < '0' || s[i] > '9')
                goto out;
        }
        s += 6;
    }
    ok = *s == '\0';
out:
    return ok;
}

/* Writes the rule, the source, the impact and the fix where known, and
 * the evidence, pretty-printed, as the text under a failure or a warning. */
static void detail_write(FILE *out, const struct check_result *c)
{
    char *ev = NULL;
    size_t len;

    fputs("Rule: ", out);
    markup_put(out, c->rule, MARKUP_XML_TEXT);
    fputs("\nSource: ", out);
    markup_put(out, c->source, MARKUP_XML_TEXT);
    if (c->impact != NULL) {
        fputs("\nImpact: ", out);
        markup_put(out, c->impact, MARKUP_XML_TEXT);
    }
    if (c->fix != NULL) {
        fputs("\nFix: ", out);
        markup_put(out, c->fix, MARKUP_XML_TEXT);
    }
    if (c->evidence == NULL) {
        fputs("\nEvidence: none\n", out);
        goto out;
    }
    fputs("\nEvidence:\n", out);
    ev = jsonio_dumps(c->evidence, JUNIT_JSON_FLAGS);
    if (ev == NULL) {
        fputs("(the evidence could not be rendered as JSON)\n", out);
        goto out;
    }
    len = strlen(ev);
    if (len > JUNIT_EVIDENCE_MAX) {
        markup_putn(out, ev, JUNIT_EVIDENCE_MAX, MARKUP_XML_TEXT);
        fprintf(out, "\n... (evidence cut: %zu bytes in all)\n", len);
    } else {
        markup_putn(out, ev, len, MARKUP_XML_TEXT);
        fputc('\n', out);
    }
out:
    free(ev);
}

/* Writes one testcase: a failure for FAIL, skipped for SKIP, and for WARN a
 * pass whose system-out says why it is only a warning. */
static void case_write(FILE *out, const struct check_result *c)
{
    char t[32];

    seconds_fmt(t, sizeof(t), c->duration_ms / 1000);
    fputs("    <testcase name=\"", out);
    markup_put(out, c->id, MARKUP_XML_ATTR);
    fputs("\" classname=\"nexus-conform.", out);
    markup_put(out, c->group, MARKUP_XML_ATTR);
    fprintf(out, "\" time=\"%s\"", t);
    switch (c->status) {
    case CHECK_FAIL:
        fputs(">\n      <failure message=\"", out);
        markup_put(out, c->message, MARKUP_XML_ATTR);
        fputs("\" type=\"MUST\">", out);
        detail_write(out, c);
        fputs("</failure>\n    </testcase>\n", out);
        break;
    case CHECK_SKIP:
        fputs(">\n      <skipped message=\"", out);
        markup_put(out, c->message, MARKUP_XML_ATTR);
        fputs("\"/>\n    </testcase>\n", out);
        break;
    case CHECK_WARN:
        fputs(">\n      <system-out>WARNING: ", out);
        markup_put(out, c->message, MARKUP_XML_TEXT);
        fputc('\n', out);
        detail_write(out, c);
        fputs("</system-out>\n    </testcase>\n", out);
        break;
    default:
        fputs("/>\n", out);
        break;
    }
}

/* Writes one property if its value is known. */
static void property_write(FILE *out, const char *name, const char *value)
{
    if (value != NULL) {
        fprintf(out, "      <property name=\"%s\" value=\"", name);
        markup_put(out, value, MARKUP_XML_ATTR);
        fputs("\"/>\n", out);
    }
}

/* Writes the testsuite of the group whose first result is r->items[first]:
 * its counts, the run's facts as properties, then its testcases. */
static void suite_write(FILE *out, const struct results *r,
                        const struct report_meta *m, size_t first)
{
    const struct check_result *lead = &r->items[first];
    size_t i, tests = 0, failures = 0, skipped = 0;
    double ms = 0;
    char t[32];

    for (i = first; i < r->n; i++) {
        if (!results_same_group(lead, &r->items[i]))
            continue;
        tests++;
        failures += r->items[i].status == CHECK_FAIL;
        skipped += r->items[i].status == CHECK_SKIP;
        if (isfinite(r->items[i].duration_ms) && r->items[i].duration_ms > 0)
            ms += r->items[i].duration_ms;
    }
    seconds_fmt(t, sizeof(t), ms / 1000);
    fputs("  <testsuite name=\"", out);
    markup_put(out, lead->group, MARKUP_XML_ATTR);
    fprintf(out,
            "\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" skipped=\"%zu\""
            " time=\"%s\"",
            tests, failures, skipped, t);
    /* A malformed timestamp would make the whole file invalid; drop it. */
    if (m != NULL && timestamp_ok(m->started))
        fprintf(out, " timestamp=\"%s\"", m->started);
    fputs(">\n", out);
    if (m != NULL &&
        (m->base_url || m->model || m->profile || m->version || m->mode)) {
        fputs("    <properties>\n", out);
        property_write(out, "base_url", m->base_url);
        property_write(out, "model", m->model);
        property_write(out, "profile", m->profile);
        property_write(out, "version", m->version);
        property_write(out, "mode", m->mode);
        fputs("    </properties>\n", out);
    }
    for (i = first; i < r->n; i++) {
        if (results_same_group(lead, &r->items[i]))
            case_write(out, &r->items[i]);
    }
    fputs("  </testsuite>\n", out);
}

/* Writes the document: one testsuite per group, in first-seen order. */
int report_junit_write(const struct results *r, const struct report_meta *m,
                       FILE *out)
{
    int err = -1;
    struct results_summary s = results_summarize(r);
    size_t *firsts = NULL;
    size_t ngroups = 0, g;
    char t[32];

    if (results_groups(r, &firsts, &ngroups) != 0)
        goto out;
    seconds_fmt(t, sizeof(t), m != NULL ? m->duration_s : 0);
    fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", out);
    /* The common schema (Jenkins xunit's junit-10.xsd) has no skipped on
     * testsuites, so the skips are counted on each testsuite only. */
    fprintf(out,
            "<testsuites name=\"nexus-conform\" tests=\"%zu\" failures=\"%zu\""
            " errors=\"0\" time=\"%s\">\n",
            r->n, s.failed, t);
    for (g = 0; g < ngroups; g++)
        suite_write(out, r, m, firsts[g]);
    fputs("</testsuites>\n", out);
    if (fflush(out) != 0 || ferror(out))
        goto out;
    err = 0;
out:
    free(firsts);
    return err;
}
