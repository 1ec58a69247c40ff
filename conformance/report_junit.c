/* report_junit: writes the run as JUnit XML for CI test reporters. */
#include "result.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Evidence past this many bytes is cut in the XML (the JSON report keeps
 * it whole): CI pages show failure text inline. */
#define JUNIT_EVIDENCE_MAX (256 * 1024)

#define JUNIT_JSON_FLAGS                                                       \
    (JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15))

/* Reads a NULL string as empty. */
static const char *str(const char *s)
{
    return s != NULL ? s : "";
}

/* Writes one byte of valid UTF-8 text escaped for XML. Control characters
 * have no place in XML 1.0, so they show as their Unicode control pictures.
 * In attributes, quotes are escaped, and tabs and line ends become
 * references, which attribute normalisation would otherwise turn into
 * spaces; in text, quotes stay as they are so the evidence reads as JSON. */
static void xml_byte(FILE *out, unsigned char c, bool attr)
{
    switch (c) {
    case '&':
        fputs("&amp;", out);
        break;
    case '<':
        fputs("&lt;", out);
        break;
    case '>':
        fputs("&gt;", out);
        break;
    case '"':
        fputs(attr ? "&quot;" : "\"", out);
        break;
    case '\'':
        fputs(attr ? "&apos;" : "'", out);
        break;
    case '\n':
        fputs(attr ? "&#10;" : "\n", out);
        break;
    case '\t':
        fputs(attr ? "&#9;" : "\t", out);
        break;
    case '\r':
        fputs("&#13;", out);
        break;
    default:
        if (c < 0x20) {
            fputc(0xE2, out);
            fputc(0x90, out);
            fputc(0x80 + c, out);
        } else if (c == 0x7F) {
            fputs("\xE2\x90\xA1", out);
        } else {
            fputc(c, out);
        }
        break;
    }
}

/* Writes n bytes of s as XML text. Bad UTF-8 becomes U+FFFD first, and the
 * noncharacters U+FFFE and U+FFFF, which XML forbids, become U+FFFD too. */
static void xml_putn(FILE *out, const char *s, size_t n, bool attr)
{
    char *clean = results_utf8_clean(s, n);
    const unsigned char *u = (const unsigned char *)clean;
    size_t i = 0, len;

    if (clean == NULL) {
        /* Out of memory: ASCII only is still well-formed. */
        for (i = 0; i < n; i++)
            xml_byte(out, (unsigned char)s[i] < 0x80 ? s[i] : '?', attr);
        goto out;
    }
    len = strlen(clean);
    while (i < len) {
        if (u[i] == 0xEF && i + 2 < len && u[i + 1] == 0xBF &&
            (u[i + 2] == 0xBE || u[i + 2] == 0xBF)) {
            fputs("\xEF\xBF\xBD", out);
            i += 3;
        } else {
            xml_byte(out, u[i], attr);
            i++;
        }
    }
out:
    free(clean);
}

/* Writes a C string as XML text (NULL as empty). */
static void xml_put(FILE *out, const char *s, bool attr)
{
    xml_putn(out, str(s), strlen(str(s)), attr);
}

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

/* True if results a and b belong to the same group. */
static bool same_group(const struct check_result *a,
                       const struct check_result *b)
{
    return strcmp(str(a->group), str(b->group)) == 0;
}

/* Writes the rule, the source and the evidence, pretty-printed, as the
 * text under a failure or a warning. */
static void detail_write(FILE *out, const struct check_result *c)
{
    char *ev = NULL;
    size_t len;

    fputs("Rule: ", out);
    xml_put(out, c->rule, false);
    fputs("\nSource: ", out);
    xml_put(out, c->source, false);
    if (c->evidence == NULL) {
        fputs("\nEvidence: none\n", out);
        goto out;
    }
    fputs("\nEvidence:\n", out);
    ev = json_dumps(c->evidence, JUNIT_JSON_FLAGS);
    if (ev == NULL) {
        fputs("(the evidence could not be rendered as JSON)\n", out);
        goto out;
    }
    len = strlen(ev);
    if (len > JUNIT_EVIDENCE_MAX) {
        xml_putn(out, ev, JUNIT_EVIDENCE_MAX, false);
        fprintf(out, "\n... (evidence cut: %zu bytes in all)\n", len);
    } else {
        xml_putn(out, ev, len, false);
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
    xml_put(out, c->id, true);
    fputs("\" classname=\"nexus-conform.", out);
    xml_put(out, c->group, true);
    fprintf(out, "\" time=\"%s\"", t);
    switch (c->status) {
    case CHECK_FAIL:
        fputs(">\n      <failure message=\"", out);
        xml_put(out, c->message, true);
        fputs("\" type=\"MUST\">", out);
        detail_write(out, c);
        fputs("</failure>\n    </testcase>\n", out);
        break;
    case CHECK_SKIP:
        fputs(">\n      <skipped message=\"", out);
        xml_put(out, c->message, true);
        fputs("\"/>\n    </testcase>\n", out);
        break;
    case CHECK_WARN:
        fputs(">\n      <system-out>WARNING: ", out);
        xml_put(out, c->message, false);
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
        xml_put(out, value, true);
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
        if (!same_group(lead, &r->items[i]))
            continue;
        tests++;
        failures += r->items[i].status == CHECK_FAIL;
        skipped += r->items[i].status == CHECK_SKIP;
        if (isfinite(r->items[i].duration_ms) && r->items[i].duration_ms > 0)
            ms += r->items[i].duration_ms;
    }
    seconds_fmt(t, sizeof(t), ms / 1000);
    fputs("  <testsuite name=\"", out);
    xml_put(out, lead->group, true);
    fprintf(out,
            "\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" skipped=\"%zu\""
            " time=\"%s\"",
            tests, failures, skipped, t);
    /* A malformed timestamp would make the whole file invalid; drop it. */
    if (m != NULL && timestamp_ok(m->started))
        fprintf(out, " timestamp=\"%s\"", m->started);
    fputs(">\n", out);
    if (m != NULL && (m->base_url || m->model || m->profile || m->version)) {
        fputs("    <properties>\n", out);
        property_write(out, "base_url", m->base_url);
        property_write(out, "model", m->model);
        property_write(out, "profile", m->profile);
        property_write(out, "version", m->version);
        fputs("    </properties>\n", out);
    }
    for (i = first; i < r->n; i++) {
        if (same_group(lead, &r->items[i]))
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
    size_t ngroups = 0, i, g;
    char t[32];

    if (r->n > 0) {
        firsts = malloc(r->n * sizeof(*firsts));
        if (firsts == NULL)
            goto out;
    }
    for (i = 0; i < r->n; i++) {
        for (g = 0; g < ngroups; g++) {
            if (same_group(&r->items[firsts[g]], &r->items[i]))
                break;
        }
        if (g == ngroups)
            firsts[ngroups++] = i;
    }
    seconds_fmt(t, sizeof(t), m != NULL ? m->duration_s : 0);
    fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", out);
    fprintf(out,
            "<testsuites name=\"nexus-conform\" tests=\"%zu\" failures=\"%zu\""
            " errors=\"0\" skipped=\"%zu\" time=\"%s\">\n",
            r->n, s.failed, s.skipped, t);
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
