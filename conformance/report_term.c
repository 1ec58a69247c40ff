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
#define TERM_BOLD "\033[1m"
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

/* Writes the coloured label of a status. */
static void label_write(FILE *out, enum check_status st, bool color)
{
    if (color)
        fprintf(out, "%s%s%s", status_color(st), check_status_label(st),
                TERM_RESET);
    else
        fputs(check_status_label(st), out);
}

/* Writes id padded with spaces to width bytes (at least two follow it). */
static void id_write(FILE *out, const char *id, int width)
{
    size_t len = id != NULL ? strlen(id) : 0;

    term_put(out, id);
    for (; (int)len < width; len++)
        fputc(' ', out);
    fputs("  ", out);
}

/* Writes "        name: text" on its own line, when there is text. */
static void field_write(FILE *out, const char *name, const char *text)
{
    if (text == NULL || text[0] == '\0')
        return;
    fprintf(out, "        %s: ", name);
    term_put(out, text);
    fputc('\n', out);
}

/* Prints the group's name, in bold on a terminal, and what it tests. */
void report_term_group(const char *name, const char *about,
                       const struct term_style *st, FILE *out)
{
    fputs(st->color ? TERM_BOLD : "", out);
    term_put(out, name);
    fputs(st->color ? TERM_RESET : "", out);
    if (about != NULL && about[0] != '\0') {
        fputs(st->color ? TERM_GREY ": " : ": ", out);
        term_put(out, about);
        fputs(st->color ? TERM_RESET : "", out);
    }
    fputc('\n', out);
}

/* Prints "  LABEL  id  message. Impact: ..." and, when verbose, what a
 * failure or a warning needs to be understood: its rule, source and
 * evidence. */
void report_term_line(const struct check_result *c, const struct term_style *st,
                      FILE *out)
{
    if (c == NULL)
        goto out;
    fputs("  ", out);
    label_write(out, c->status, st->color);
    fputs("  ", out);
    id_write(out, c->id, st->id_width);
    term_put(out, c->message);
    if (c->impact != NULL) {
        fputs(". Impact: ", out);
        term_put(out, c->impact);
    }
    fputc('\n', out);
    if (!st->verbose || (c->status != CHECK_FAIL && c->status != CHECK_WARN))
        goto out;
    field_write(out, "rule", c->rule);
    field_write(out, "source", c->source);
    if (c->evidence != NULL)
        evidence_write(out, c->evidence);
out:
    return;
}

/* Prints every result with status st: its line, then its fix. Returns how
 * many there were. */
static size_t recap_status(const struct results *r, enum check_status st,
                           const struct term_style *style, FILE *out)
{
    const struct check_result *c;
    size_t i, n = 0;

    for (i = 0; i < r->n; i++) {
        c = &r->items[i];
        if (c->status != st)
            continue;
        if (n++ == 0)
            fprintf(out, "\n%s%s to act on:%s\n", style->color ? TERM_BOLD : "",
                    st == CHECK_FAIL ? "Failures" : "Warnings",
                    style->color ? TERM_RESET : "");
        fputs("  ", out);
        label_write(out, c->status, style->color);
        fputs("  ", out);
        id_write(out, c->id, style->id_width);
        term_put(out, c->message);
        fputc('\n', out);
        field_write(out, "impact", c->impact);
        field_write(out, "fix", c->fix);
    }
    return n;
}

/* Prints the failures, then the warnings, each with its impact and fix. */
void report_term_recap(const struct results *r, const struct term_style *st,
                       FILE *out)
{
    if (recap_status(r, CHECK_FAIL, st, out) +
            recap_status(r, CHECK_WARN, st, out) >
        0)
        fputc('\n', out);
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
