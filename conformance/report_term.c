/* report_term: prints each result as a terminal line, then the totals. */
#include "jsonio.h"
#include "result.h"

#include <stdlib.h>
#include <string.h>

#include "utf8.h"

/* With --verbose, evidence is a hint, not the record (the JSON report is):
 * this many lines of it, each cut at this many bytes. */
#define TERM_EVIDENCE_LINES 24
#define TERM_LINE_MAX 160

#define TERM_JSON_FLAGS                                                        \
    (JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15))

#define TERM_GREEN "\033[32m"
#define TERM_RED "\033[31m"
#define TERM_YELLOW "\033[33m"
#define TERM_GREY "\033[90m"
#define TERM_RESET "\033[0m"

/* The ANSI colour for a status. */
static const char *status_color(enum check_status st)
{
    const char *color = TERM_GREY;

    if (st == CHECK_PASS)
        color = TERM_GREEN;
    else if (st == CHECK_FAIL)
        color = TERM_RED;
    else if (st == CHECK_WARN)
        color = TERM_YELLOW;
    return color;
}

/* Writes n bytes of s on the current line. Messages may quote a hostile
 * server, whose escape sequences must not reach the terminal, so C0, DEL
 * and C1 controls print as backslash escapes and bad UTF-8 as U+FFFD. */
static void term_putn(FILE *out, const char *s, size_t n)
{
    char *clean = results_utf8_clean(s, n);
    const unsigned char *u = (const unsigned char *)clean;
    size_t i = 0, len;

    if (clean == NULL) {
        fputs("(out of memory)", out);
        goto out;
    }
    len = strlen(clean);
    while (i < len) {
        if (u[i] == '\n') {
            fputs("\\n", out);
        } else if (u[i] == '\r') {
            fputs("\\r", out);
        } else if (u[i] == '\t') {
            fputs("\\t", out);
        } else if (u[i] < 0x20 || u[i] == 0x7F) {
            fprintf(out, "\\x%02x", u[i]);
        } else if (u[i] == 0xC2 && i + 1 < len && u[i + 1] >= 0x80 &&
                   u[i + 1] <= 0x9F) {
            fprintf(out, "\\u%04x", u[i + 1]);
            i++;
        } else {
            fputc(u[i], out);
        }
        i++;
    }
out:
    free(clean);
}

/* Writes a C string (NULL as empty) on the current line. */
static void term_put(FILE *out, const char *s)
{
    term_putn(out, s != NULL ? s : "", s != NULL ? strlen(s) : 0);
}

/* Writes the evidence pretty-printed under "evidence:", indented, with
 * long lines and long documents cut. */
static void evidence_write(FILE *out, const json_t *ev)
{
    char *dump = jsonio_dumps(ev, TERM_JSON_FLAGS);
    const char *line, *nl;
    size_t len, shown = 0, more = 0;

    fputs("        evidence:\n", out);
    if (dump == NULL) {
        fputs("          (the evidence could not be rendered as JSON)\n", out);
        goto out;
    }
    for (line = dump; *line != '\0'; line = nl ? nl + 1 : line + len) {
        nl = strchr(line, '\n');
        len = nl ? (size_t)(nl - line) : strlen(line);
        if (shown == TERM_EVIDENCE_LINES) {
            more++;
            continue;
        }
        fputs("          ", out);
        if (len > TERM_LINE_MAX) {
            /* Not inside a UTF-8 sequence. */
            term_putn(out, line, utf8_trim_partial(line, TERM_LINE_MAX));
            fputs("...", out);
        } else {
            term_putn(out, line, len);
        }
        fputc('\n', out);
        shown++;
    }
    if (more > 0)
        fprintf(out, "          ... (%zu more lines; see the JSON report)\n",
                more);
out:
    free(dump);
}

/* Prints "  LABEL  id  message" and, when verbose, what a failure or a
 * warning needs to be understood: its rule, source and evidence. */
void report_term_line(const struct check_result *c, bool color, bool verbose,
                      FILE *out)
{
    if (c == NULL)
        goto out;
    fputs("  ", out);
    if (color)
        fprintf(out, "%s%s%s", status_color(c->status),
                check_status_label(c->status), TERM_RESET);
    else
        fputs(check_status_label(c->status), out);
    fputs("  ", out);
    term_put(out, c->id);
    fputs("  ", out);
    term_put(out, c->message);
    fputc('\n', out);
    if (!verbose || (c->status != CHECK_FAIL && c->status != CHECK_WARN))
        goto out;
    if (c->rule != NULL && c->rule[0] != '\0') {
        fputs("        rule: ", out);
        term_put(out, c->rule);
        fputc('\n', out);
    }
    if (c->source != NULL && c->source[0] != '\0') {
        fputs("        source: ", out);
        term_put(out, c->source);
        fputc('\n', out);
    }
    if (c->evidence != NULL)
        evidence_write(out, c->evidence);
out:
    return;
}

/* Writes a count, coloured when asked and not zero. */
static void count_write(FILE *out, size_t n, const char *color)
{
    if (color != NULL && n > 0)
        fprintf(out, "%s%zu%s", color, n, TERM_RESET);
    else
        fprintf(out, "%zu", n);
}

/* Prints which mode ran and what fails in it. */
void report_term_mode(const char *mode, FILE *out)
{
    if (mode != NULL && strcmp(mode, "strict") == 0)
        fputs("mode: strict (every deviation from the spec's text fails)\n",
              out);
    else
        fputs("mode: default (a broken contract or a client that breaks "
              "fails; the spec's text alone warns; --strict fails it)\n",
              out);
}

/* Prints "N passed, M failed, W warned, S skipped"; only the numbers are
 * ever coloured, so the words read the same for scripts and people. */
void report_term_summary(const struct results *r, bool color, FILE *out)
{
    struct results_summary s = results_summarize(r);

    count_write(out, s.passed, color ? TERM_GREEN : NULL);
    fputs(" passed, ", out);
    count_write(out, s.failed, color ? TERM_RED : NULL);
    fputs(" failed, ", out);
    count_write(out, s.warned, color ? TERM_YELLOW : NULL);
    fputs(" warned, ", out);
    count_write(out, s.skipped, color ? TERM_GREY : NULL);
    fputs(" skipped\n", out);
}
